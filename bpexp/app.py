"""The Hydra app: ``bpexp [overrides]`` runs one job, ``bpexp -m ...`` a sweep of jobs.

Each job trains ``train.networks`` networks of one configuration and writes its results
into its Hydra output directory (see :mod:`bpexp.results`). It returns the fraction of
networks that solved the task, so Hydra sweepers can optimise it.

A bad value is one line on stderr (``bpexp: error: data.bits=0: ...``) and no traceback.
In a multirun the bad job fails alone: it leaves ``failed.json`` in its directory, the
other jobs run, and the sweep ends with a summary of the failed jobs and exit status 1.
"""

from __future__ import annotations

import json
import logging
import math
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from . import config, job, provenance, results

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
    prov = provenance.collect()
    try:
        out = job.run(plain, progress=plain["train"]["progress"] and sys.stderr.isatty())
    except config.ConfigError as err:
        return _fail(job_dir, str(err), multirun)
    r = out.result
    results.write_job(job_dir, plain, r, out.solved, out.theta0, out.init_loss, out.net,
                      provenance.finish(prov))
    counts = {name: int((r.status == i).sum()) for i, name in enumerate(results.STATUSES)}
    log.info("%d networks: solved %.3f; %s", out.solved.size, out.fraction_solved,
             ", ".join(f"{k} {v}" for k, v in counts.items()))
    return out.fraction_solved


class SweepReport(Callback):
    """At the end of a multirun, name the jobs that failed and exit with status 1."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        failed = sorted(sweep_dir.rglob(FAILED))
        if not failed:
            return
        lines = []
        for f in failed:
            try:
                why = json.loads(f.read_text())["error"]
            except (OSError, ValueError, KeyError):
                why = "unknown error"
            lines.append(f"  {f.parent.relative_to(sweep_dir)}: {why}")
        print(f"bpexp: {len(failed)} job(s) of the sweep in {sweep_dir} failed:\n"
              + "\n".join(lines), file=sys.stderr, flush=True)
        raise SystemExit(1)


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")
def _hydra_main(cfg: DictConfig) -> float:
    return task(cfg)


def main() -> None:
    """Console entry point ``bpexp``."""
    _hydra_main()
