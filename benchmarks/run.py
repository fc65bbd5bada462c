"""Benchmark of ``bpexp.train.train`` against the usual ways of training many small networks.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/run.py``); see benchmarks/README.md.

Workloads (float64, full-batch plain gradient descent, squared loss
``mean_b 1/2 (yhat_b - y_b)^2``, a fixed number of steps with early stopping disabled):

* W1: XOR (4 samples, 2 inputs), 1000 networks, 2000 steps, lr 0.1, H = 2 and H = 8;
* W2: 10 inputs, 512 Gaussian samples, targets of a random 4-unit tanh teacher, H = 32,
  256 networks, 500 steps, lr 0.05.

Every method starts from the same ``TwoLayerNet.init(N, seed=0)``; the score is
network-steps per second (networks * steps / seconds, best of a few runs in this process).
Speed targets are informational: the exit status is non-zero only when a correctness
check fails.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import baselines
import numpy as np
import threadpoolctl

import bpexp
from bpexp import optim, schedules
from bpexp.objective import Objective
from bpexp.train import STATUSES, TrainResult, TrainSpec, train

HAVE_JAX = importlib.util.find_spec("jax") is not None
HAVE_TORCH = importlib.util.find_spec("torch") is not None
# Relative loss differences use max(|a|, |b|, LOSS_FLOOR) as the scale: a loss L is
# 1/2 mean(e^2) of residuals e ~ sqrt(2 L), whose rounding (~1e-16 |yhat|) limits the
# agreement of tiny losses to about 1e-16 sqrt(L) absolutely, so losses below 1e-8
# are compared absolutely (to 1e-8 * LOSS_FLOOR).
LOSS_FLOOR = 1e-8
F64_TOL = 1e-8  # float64 methods must agree with bpexp to this relative loss difference
SELF_TOL = 1e-10  # bpexp's reported loss vs a plain numpy loss at the same parameters


@dataclass(frozen=True)
class Workload:
    name: str
    X: np.ndarray  # (B, D)
    Y: np.ndarray  # (B,)
    hidden: int
    networks: int
    steps: int
    lr: float
    numpy_subset: int  # networks timed for the one-network-at-a-time baselines
    torch_subset: int
    speedup_vs_torch: float  # target: bpexp >= this many times the PyTorch loop


def workloads() -> list[Workload]:
    X1 = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    Y1 = np.array([-1.0, 1.0, 1.0, -1.0])
    rng = np.random.default_rng(20261203)
    X2 = rng.standard_normal((512, 10))
    teacher_W = rng.standard_normal((4, 10)) / np.sqrt(10)
    teacher_b = 0.1 * rng.standard_normal(4)
    teacher_u = rng.standard_normal(4)
    Y2 = np.tanh(X2 @ teacher_W.T + teacher_b) @ teacher_u
    return [
        Workload("W1 H=2", X1, Y1, 2, 1000, 2000, 0.1, 20, 8, 1000.0),
        Workload("W1 H=8", X1, Y1, 8, 1000, 2000, 0.1, 20, 8, 1000.0),
        Workload("W2", X2, Y2, 32, 256, 500, 0.05, 4, 4, 5.0),
    ]


# ----------------------------------------------------------------------------- timing
def best_of(fn: Callable[[], object], repeats: int, budget: float) -> tuple[float, int, object]:
    """Best wall time of up to ``repeats`` calls of ``fn``, stopping early once the calls
    took ``budget`` seconds in total; returns ``(seconds, calls, last result)``."""
    times, result = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
        if sum(times) >= budget:
            break
    return min(times), len(times), result


@dataclass
class Row:
    workload: str
    method: str
    rate: float  # network-steps per second
    runs: int
    note: str = ""


def fmt_rate(r: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if r >= scale:
            return f"{r / scale:.3g}{unit}"
    return f"{r:.3g}"


def loss_diff(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Max relative (scale ``max(|a|, |b|, LOSS_FLOOR)``) and max absolute difference."""
    d = np.abs(a - b)
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), LOSS_FLOOR)
    return float(np.max(d / scale)), float(np.max(d))


class Checks:
    def __init__(self) -> None:
        self.failed: list[str] = []

    def report(self, label: str, ok: bool, detail: str, informational: bool = False) -> None:
        tag = "info" if informational else ("OK" if ok else "FAIL")
        print(f"    check [{tag}] {label}: {detail}")
        if not ok and not informational:
            self.failed.append(label)


# ---------------------------------------------------------------------- machine facts
def machine_facts() -> None:
    info: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    flags = set(info.get("flags", "").split())
    simd = [f for f in ("avx", "avx2", "fma", "avx512f", "avx512_bf16") if f in flags]
    print("Machine")
    print(f"  CPU: {info.get('model name', platform.processor() or '?')} "
          f"(family {info.get('cpu family', '?')}, model {info.get('model', '?')}, "
          f"{info.get('cpu MHz', '?')} MHz, flags: {' '.join(simd) or '?'})")
    print(f"  logical CPUs: {os.cpu_count()}, usable: {len(os.sched_getaffinity(0))}, "
          f"load average {load_average()}")
    if hasattr(os, "getloadavg") and os.getloadavg()[0] > 1.0:
        print("  WARNING: other processes are using the CPUs; timings will be low and noisy")
    print(f"  Python {platform.python_version()}, numpy {np.__version__}, "
          f"bpexp {bpexp.__version__}, numba {_version('numba')}")
    try:
        cfg = np.show_config(mode="dicts")["SIMD Extensions"]
        print(f"  numpy SIMD: baseline {cfg.get('baseline')}, found {cfg.get('found')}, "
              f"not found {cfg.get('not found')}")
    except Exception as exc:  # older numpy: no dict mode
        print(f"  numpy SIMD: unavailable ({exc})")
    for lib in threadpoolctl.threadpool_info():
        print(f"  {lib.get('internal_api')} {lib.get('version')} "
              f"({lib.get('architecture', '?')}), {lib.get('num_threads')} threads")
    print(f"  jax {_version('jax')}, jaxlib {_version('jaxlib')}" if HAVE_JAX
          else "  jax: not importable, JAX baseline skipped")
    print(f"  torch {_version('torch')} (default intra-op threads, not changed)" if HAVE_TORCH
          else "  torch: not importable, PyTorch baseline skipped")
    print("  bpexp timed with TrainSpec(threads=1) and (threads=2); train() limits BLAS to "
          "1 thread; the numpy loop uses BLAS defaults")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (other processes on the machine skew timings)."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return "?"


# ------------------------------------------------------------------------- bpexp runs
def bpexp_runner(w: Workload, theta0: np.ndarray, threads: int) -> Callable[[], TrainResult]:
    net = bpexp.TwoLayerNet(w.X.shape[1], w.hidden)
    obj = Objective(net, w.X, w.Y[:, None])
    lrs = schedules.schedule("constant", w.lr, w.steps)
    spec = TrainSpec(loss_tol=0.0, grad_tol=0.0, max_steps=w.steps, progress=False,
                     threads=threads)
    return lambda: train(obj, theta0, optim.make("gd"), lrs, spec)


def warm_up(w: Workload) -> float:
    """One tiny train call (loads or compiles bpexp's numba kernels); not timed."""
    net = bpexp.TwoLayerNet(w.X.shape[1], w.hidden)
    small = Workload(w.name, w.X, w.Y, w.hidden, 2, 3, w.lr, 0, 0, 0.0)
    t = time.perf_counter()
    bpexp_runner(small, net.init(2, seed=0), 1)()
    return time.perf_counter() - t


def _time_loop(w: Workload, parts: tuple, k: int, loop: Callable, name: str, dtype: str,
               extra: str, rows: list[Row], repeats: int, budget: float) -> np.ndarray:
    """Time a one-network-at-a-time baseline on the first ``k`` networks (rate
    extrapolated), add its row, and return its final losses."""
    sub = tuple(p[:k] for p in parts)
    sec, runs, (loss, _) = best_of(lambda: loop(w.X, w.Y, sub, w.lr, w.steps), repeats,
                                   budget / 2)
    rows.append(Row(w.name, f"{name}, one network at a time, {dtype}", k * w.steps / sec,
                    runs, f"{k} networks timed, rate extrapolated"))
    print(f"  {name} ({k} of {w.networks} networks timed, rate extrapolated{extra}): "
          f"{sec:.3f} s -> {fmt_rate(k * w.steps / sec)} net-steps/s")
    return loss


def bench(w: Workload, repeats: int, budget: float, checks: Checks) -> list[Row]:
    net = bpexp.TwoLayerNet(w.X.shape[1], w.hidden)
    theta0 = net.init(w.networks, seed=0)
    parts = tuple(np.ascontiguousarray(p) for p in net.unflatten(theta0))
    work = w.networks * w.steps
    rows: list[Row] = []
    print(f"\n{w.name}: {w.networks} networks x {w.steps} steps, D={w.X.shape[1]}, "
          f"B={w.X.shape[0]}, H={w.hidden}, P={net.num_params}, lr={w.lr}")
    print(f"  bpexp warm-up call (not timed): {warm_up(w):.2f} s")

    # bpexp, 1 and 2 threads
    results = {}
    for threads in (1, 2):
        sec, runs, res = best_of(bpexp_runner(w, theta0, threads), repeats, budget)
        results[threads] = res
        rows.append(Row(w.name, f"bpexp, {threads} thread{'s' * (threads > 1)}", work / sec,
                        runs, f"chunk {res.chunk}"))
        print(f"  bpexp threads={threads}: best {sec:.3f} s of {runs} -> "
              f"{fmt_rate(work / sec)} net-steps/s (chunk {res.chunk})")
    r1, r2 = results[1], results[2]
    same = np.array_equal(r1.theta, r2.theta) and np.array_equal(r1.loss, r2.loss)
    checks.report("bpexp 1 vs 2 threads", same, "bit-identical" if same else
                  f"differ: max |dtheta| {np.max(np.abs(r1.theta - r2.theta)):.3g}")
    finished = bool(np.all(r1.steps == w.steps)) and bool(
        np.all(r1.status == STATUSES.index("max_steps")))
    checks.report("bpexp ran every network for all steps", finished,
                  f"steps {r1.steps.min()}..{r1.steps.max()}, "
                  f"statuses {sorted(set(r1.status_names))}")
    ref = baselines.reference_loss(w.X, w.Y, *net.unflatten(r1.theta))
    rel, _ = loss_diff(ref, r1.loss)
    checks.report("bpexp loss vs plain numpy loss at its final theta", rel < SELF_TOL,
                  f"max rel diff {rel:.2e}")
    print(f"    final losses: min {r1.loss.min():.3g}, median {np.median(r1.loss):.3g}, "
          f"max {r1.loss.max():.3g}; initial median "
          f"{np.median(baselines.reference_loss(w.X, w.Y, *parts)):.3g}")

    # numpy, one network at a time
    k = w.numpy_subset
    loss = _time_loop(w, parts, k, baselines.numpy_loop, "numpy loop", "f64", "", rows,
                      repeats, budget)
    rel, ab = loss_diff(loss, r1.loss[:k])
    checks.report("numpy loop vs bpexp final loss", rel < F64_TOL,
                  f"max rel diff {rel:.2e}, max abs {ab:.2e} ({k} networks)")

    # JAX
    if HAVE_JAX:
        run, compile_sec = baselines.jax_trainer(w.X, w.Y, parts, w.lr, w.steps)
        sec, runs, (loss, p) = best_of(run, repeats, budget)
        rows.append(Row(w.name, "JAX vmap+jit+scan, f64", work / sec, runs,
                        f"compile {compile_sec:.1f} s excluded"))
        import jax

        print(f"  JAX on {jax.devices()}: compile {compile_sec:.2f} s (excluded), "
              f"best {sec:.3f} s of {runs} -> {fmt_rate(work / sec)} net-steps/s")
        rel, ab = loss_diff(loss, r1.loss)
        dth = float(np.max(np.abs(net.flatten(*p) - r1.theta)))
        checks.report("JAX vs bpexp final loss", rel < F64_TOL,
                      f"max rel diff {rel:.2e}, max abs {ab:.2e}, max |dtheta| {dth:.2e} "
                      f"({w.networks} networks)")

    # PyTorch, one network at a time
    if HAVE_TORCH:
        import torch

        k = w.torch_subset
        loss = _time_loop(w, parts, k, baselines.torch_loop, "PyTorch loop", "f32",
                          f", {torch.get_num_threads()} intra-op threads", rows, repeats,
                          budget)
        rel, ab = loss_diff(loss, r1.loss[:k])
        checks.report("PyTorch f32 vs bpexp final loss", True,
                      f"max rel diff {rel:.2e}, max abs {ab:.2e} ({k} networks; float32, "
                      "only rough agreement expected)", informational=True)

    return rows


# ----------------------------------------------------------------------------- report
def report(rows: list[Row], wls: list[Workload]) -> list[str]:
    lines = ["| workload | method | network-steps/s | bpexp best / method | runs | note |",
             "|---|---|---:|---:|---:|---|"]
    targets = []
    for w in wls:
        mine = [r for r in rows if r.workload == w.name]
        if not mine:
            continue
        best = max(r.rate for r in mine if r.method.startswith("bpexp"))
        for r in mine:
            lines.append(f"| {r.workload} | {r.method} | {fmt_rate(r.rate)} | "
                         f"{best / r.rate:.3g}x | {r.runs} | {r.note} |")
        jax_row = [r for r in mine if r.method.startswith("JAX")]
        torch_row = [r for r in mine if r.method.startswith("PyTorch")]
        if jax_row:
            ratio = best / jax_row[0].rate
            targets.append(f"{w.name}: bpexp >= JAX: {'PASS' if ratio >= 1 else 'MISS'} "
                           f"({ratio:.3g}x)")
        else:
            targets.append(f"{w.name}: bpexp >= JAX: skipped (no JAX)")
        if torch_row:
            ratio = best / torch_row[0].rate
            ok = ratio >= w.speedup_vs_torch
            targets.append(f"{w.name}: bpexp >= {w.speedup_vs_torch:g}x PyTorch loop: "
                           f"{'PASS' if ok else 'MISS'} ({ratio:.3g}x)")
        else:
            targets.append(f"{w.name}: bpexp >= {w.speedup_vs_torch:g}x PyTorch loop: "
                           "skipped (no PyTorch)")
    return lines + ["", "Targets (informational):"] + [f"- {t}" for t in targets]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", default="W1 H=2,W1 H=8,W2",
                    help="comma-separated workload names (default: all)")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per method (best kept)")
    ap.add_argument("--budget", type=float, default=20.0,
                    help="stop repeating a measurement once its runs took this many seconds")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    machine_facts()
    wanted = [s.strip() for s in args.workloads.split(",")]
    wls = [w for w in workloads() if w.name in wanted]
    checks = Checks()
    rows: list[Row] = []
    for w in wls:
        rows += bench(w, args.repeats, args.budget, checks)
    print("\nResults (network-steps per second = networks * steps / seconds; best of 'runs')")
    print("\n".join(report(rows, wls)))
    print(f"\nTotal benchmark time: {time.perf_counter() - t0:.0f} s; load average now "
          f"{load_average()} (anything well above 1 means other processes shared the CPUs)")
    if checks.failed:
        print(f"Correctness checks FAILED: {', '.join(checks.failed)}")
        return 1
    print("All correctness checks passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
