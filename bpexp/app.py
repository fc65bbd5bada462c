"""The Hydra app: ``bpexp [overrides]`` runs one job, ``bpexp -m ...`` a sweep of jobs.

Each job trains ``train.networks`` networks of one configuration and writes its results
into its Hydra output directory (see :mod:`bpexp.results`). It returns the fraction of
networks that solved the task, so Hydra sweepers can optimise it.

A bad value is one line on stderr (``bpexp: error: data.bits=0: ...``) and no traceback.
In a multirun a job that fails (bad value, or any exception) fails alone: it leaves
``failed.json`` in its directory (the traceback goes to the job's log), the other jobs run,
and the sweep ends with a summary naming the failed jobs and exit status 1. Nothing relies
on Hydra's ``on_multirun_end`` being reached by a failing job, because no job raises.

Sweeps resume: a job whose directory already holds a complete result of the same config
(``done.json``, same :func:`bpexp.results.config_hash`) is skipped, so re-running an
interrupted multirun into the same sweep directory reruns only what did not finish.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import hydra
import numpy as np
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from . import config, job, provenance, results
from .jobwriter import JobWriter
from .train import STATUSES

log = logging.getLogger("bpexp")
FAILED = "failed.json"
CONF_DIR = str(resources.files("bpexp.conf"))

config.register()


def _fail(job_dir: Path, message: str, multirun: bool) -> float:
    print(f"bpexp: error: {message}", file=sys.stderr, flush=True)
    if not multirun:
        raise SystemExit(2)
    results.write_json_atomic(job_dir / FAILED, {"error": message})
    return math.nan


def task(cfg: DictConfig) -> float:
    """Run one job and write its results; returns the fraction of networks solved."""
    hc = HydraConfig.get()
    job_dir = Path(hc.runtime.output_dir)
    multirun = hc.mode == RunMode.MULTIRUN
    plain: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
    if results.completed_hash(job_dir) == results.config_hash(plain):
        log.info("complete already (same config): skipped")
        return results.fraction_solved(job_dir)
    (job_dir / FAILED).unlink(missing_ok=True)
    prov = provenance.collect()
    counts = np.zeros(len(STATUSES), np.int64)
    solved = total = 0
    try:
        with contextlib.ExitStack() as stack:
            progress = plain["train"]["progress"] and sys.stderr.isatty()
            for first, out in job.run_parts(plain, progress=progress):
                if first == 0:
                    writer = stack.enter_context(JobWriter(job_dir, plain, out.net))
                r = out.result
                writer.append(r, out.solved, out.theta0, out.init_loss, first)
                counts += np.bincount(r.status, minlength=len(STATUSES))
                solved += int(out.solved.sum())
                total += out.solved.size
            writer.commit(provenance.finish(prov))
    except config.ConfigError as err:
        return _fail(job_dir, str(err), multirun)
    except Exception as err:
        if not multirun:
            raise
        log.exception("job failed")
        return _fail(job_dir, f"{type(err).__name__}: {err}", multirun)
    log.info("%d networks: solved %.3f; %s", total, solved / total,
             ", ".join(f"{k} {v}" for k, v in zip(STATUSES, counts, strict=True)))
    return solved / total


def _sweep_state(sweep_dir: Path) -> dict[str, tuple[str, int] | None]:
    """Per job directory: ``(config hash, done.json mtime)`` when complete, else ``None``."""
    state: dict[str, tuple[str, int] | None] = {}
    for d in results.find_jobs(sweep_dir) if sweep_dir.is_dir() else []:
        h = results.completed_hash(d)
        key = str(d.relative_to(sweep_dir))
        state[key] = (h, (d / results.DONE).stat().st_mtime_ns) if h else None
    return state


class SweepReport(Callback):
    """Summarise a multirun: jobs skipped (complete already), run, failed or unfinished;
    exit with status 1 when any failed."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            self.before = _sweep_state(Path(config.hydra.sweep.dir))
        except (ValueError, OSError):
            self.before = {}

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            after = _sweep_state(sweep_dir)
        except (ValueError, OSError):
            after = {}
        before = getattr(self, "before", {})
        skipped = sum(1 for k, v in after.items() if v is not None and before.get(k) == v)
        done = sum(1 for v in after.values() if v is not None) - skipped
        failed = []
        for f in sorted(sweep_dir.rglob(FAILED)):
            try:
                why = json.loads(f.read_text())["error"]
            except (OSError, ValueError, KeyError):
                why = "unknown error"
            failed.append(f"  {f.parent.relative_to(sweep_dir)}: {why}")
        unfinished = len(after) - skipped - done - len(failed)
        print(f"bpexp: sweep {sweep_dir}: {len(after)} jobs: {done} run, {skipped} complete "
              f"already (skipped), {len(failed)} failed, {unfinished} unfinished",
              file=sys.stderr, flush=True)
        if failed:
            print("bpexp: failed jobs:\n" + "\n".join(failed), file=sys.stderr, flush=True)
            raise SystemExit(1)


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")
def _hydra_main(cfg: DictConfig) -> float:
    return task(cfg)


def _config_dirs(argv: list[str]) -> list[Path]:
    """Directories named by ``--config-dir``/``-cd``/``--config-path``/``-cp`` in ``argv``."""
    dirs = []
    for i, arg in enumerate(argv):
        for flag in ("--config-dir", "-cd", "--config-path", "-cp"):
            if arg == flag and i + 1 < len(argv):
                dirs.append(Path(argv[i + 1]))
            elif arg.startswith(flag + "="):
                dirs.append(Path(arg.split("=", 1)[1]))
    return dirs


def check_yaml(dirs: list[Path]) -> str | None:
    """The first YAML syntax error in the ``*.yaml`` files below ``dirs``, as one line."""
    import yaml

    for d in dirs:
        for f in sorted(d.rglob("*.yaml")) if d.is_dir() else []:
            try:
                yaml.safe_load(f.read_text())
            except (OSError, UnicodeDecodeError) as err:
                return f"{f}: cannot read: {err}"
            except yaml.YAMLError as err:
                mark = getattr(err, "problem_mark", None)
                where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
                problem = getattr(err, "problem", None) or str(err).splitlines()[0]
                return f"{f}{where}: invalid YAML: {problem}"
    return None


def main() -> None:
    """Console entry point ``bpexp``."""
    error = check_yaml(_config_dirs(sys.argv[1:]))
    if error:
        print(f"bpexp: error: {error}", file=sys.stderr)
        raise SystemExit(2)
    _hydra_main()
