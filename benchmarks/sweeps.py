"""Sweep-level costs: per-job overhead of a multirun, and one job of 1,000,000 networks.

    python benchmarks/sweeps.py [--jobs 200] [--networks 1000000] [--skip-million]

* Per-job overhead: a multirun of ``--jobs`` tiny jobs (1 network, 1 step) under the basic
  launcher and, when hydra-joblib-launcher is installed, under joblib (2 processes). The
  overhead is the wall time per job beyond the training itself (the sum of the jobs'
  training times, from their results).
* The million: one job of ``--networks`` XOR networks (H = 2, gd, lr 0.1, 2000 steps at
  most, default stopping) within ``train.max_memory_mb=1024``: network-steps per second
  (the steps the networks actually took, over the job's wall time) and the peak resident
  memory of the process.
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bpexp


def _bpexp(args: list[str], cwd: Path) -> float:
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "bpexp", *args], cwd=cwd, capture_output=True,
                       text=True)
    if p.returncode:
        raise SystemExit(f"bpexp failed:\n{p.stderr[-2000:]}")
    return time.perf_counter() - t


def per_job_overhead(jobs: int, workdir: Path) -> None:
    seeds = f"seed=range(0,{jobs})"
    tiny = ["train.networks=1", "train.max_steps=1", "train.threads=1", "train.progress=false"]
    launchers = [("basic", [])]
    if importlib.util.find_spec("hydra_plugins.hydra_joblib_launcher"):
        launchers.append(("joblib (2 processes)",
                          ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]))
    print(f"\nPer-job overhead, {jobs}-job multirun of 1-network, 1-step jobs")
    for name, extra in launchers:
        sweep = workdir / f"sweep-{len(extra)}"
        wall = _bpexp(["-m", seeds, *tiny, *extra, f"hydra.sweep.dir={sweep}"], workdir)
        df = bpexp.load_sweep(sweep)
        training = df.groupby("job")["wall_time"].max().sum()
        print(f"  {name:22s} {wall:7.1f} s wall, {wall / jobs:.3f} s per job, "
              f"{(wall - training) / jobs:.3f} s per job beyond training "
              f"(training {training:.2f} s in all)")


def million(networks: int, workdir: Path) -> None:
    args = ["data=xor", "model.hidden=2", f"train.networks={networks}", "train.max_steps=2000",
            "train.max_memory_mb=1024", "train.progress=false", "hydra.run.dir=million"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    wall = _bpexp(args, workdir)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    df = bpexp.load_sweep(workdir / "million")
    steps = int(df["steps"].sum())
    print(f"\nOne job of {networks:,} XOR networks (H=2, gd, <= 2000 steps, 1024 MB budget)")
    print(f"  {wall:.1f} s wall, {steps:,} network-steps: {steps / wall / 1e6:.2f}M "
          f"network-steps/s overall; peak RSS {max(peak, before) / 1024:.0f} MB")
    print(f"  outcomes: {df['status'].value_counts().to_dict()}, solved {df['solved'].mean():.3f}")
    size = sum(f.stat().st_size for f in (workdir / "million").iterdir() if f.is_file())
    print(f"  job directory: {size / 1e6:.0f} MB")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--jobs", type=int, default=200)
    p.add_argument("--networks", type=int, default=1_000_000)
    p.add_argument("--skip-million", action="store_true")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        per_job_overhead(args.jobs, Path(d))
        if not args.skip_million:
            million(args.networks, Path(d))


if __name__ == "__main__":
    main()
