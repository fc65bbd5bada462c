"""Crash safety: kill a sweep (SIGKILL) in the middle, resume it, compare with a clean run."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import bpexp

SWEEP = ["-m", "model.hidden=1,2,3,4,5,6", "train.networks=3000", "train.max_steps=1500",
         "train.loss_tol=0", "train.grad_tol=0", "train.threads=1", "train.progress=false"]


def _bpexp(args, cwd, **kw):
    return subprocess.Popen([sys.executable, "-m", "bpexp", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _table(path: Path) -> pd.DataFrame:
    df = bpexp.load_sweep(path).drop(columns=["wall_time"])
    return df.sort_values(["job", "network"]).reset_index(drop=True)


def _wait_for(predicate, proc, timeout=120.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        if proc.poll() is not None:
            raise AssertionError(f"finished before the kill: {proc.communicate()}")
        time.sleep(0.02)
    raise AssertionError("timed out")


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("clean")
    p = _bpexp([*SWEEP, "hydra.sweep.dir=sweep"], cwd)
    out, err = p.communicate(timeout=600)
    assert p.returncode == 0, err
    return _table(cwd / "sweep")


def _resume_and_compare(cwd, clean, extra=()):
    sweep = cwd / "sweep"
    complete_before = sum(bpexp.results.is_complete(j) for j in bpexp.results.find_jobs(sweep))
    assert 0 < complete_before < 6
    p = _bpexp([*SWEEP, *extra, "hydra.sweep.dir=sweep"], cwd)
    out, err = p.communicate(timeout=600)
    assert p.returncode == 0, err
    assert f"{complete_before} complete already (skipped)" in err
    resumed = _table(sweep)
    assert not resumed.duplicated(["job", "network"]).any()
    pd.testing.assert_frame_equal(resumed, clean)
    assert not list(sweep.rglob(".writing-*"))  # no staging left behind


def test_sigkill_of_the_launcher_then_resume(tmp_path, clean):
    p = _bpexp([*SWEEP, "hydra.sweep.dir=sweep"], tmp_path)
    _wait_for(lambda: (tmp_path / "sweep/2/done.json").exists(), p)
    p.send_signal(signal.SIGKILL)  # mid-sweep: job 3 is training or being written
    p.communicate()
    _resume_and_compare(tmp_path, clean)


def test_sigkill_while_a_job_is_written(tmp_path, clean):
    p = _bpexp([*SWEEP, "hydra.sweep.dir=sweep"], tmp_path)
    _wait_for(lambda: any((tmp_path / "sweep/1").glob(".writing-*/results.parquet")), p)
    p.send_signal(signal.SIGKILL)  # while job 1 stages its files (or just after)
    p.communicate()
    _resume_and_compare(tmp_path, clean)


def test_sigkill_of_a_joblib_worker_then_resume(tmp_path, clean):
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher")
    extra = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]
    p = _bpexp([*SWEEP, *extra, "hydra.sweep.dir=sweep"], tmp_path, start_new_session=True)
    _wait_for(lambda: sum(1 for _ in (tmp_path / "sweep").glob("*/done.json")) >= 1, p)
    workers = [g for c in _children(p.pid) for g in _children(c)] or _children(p.pid)
    assert workers
    os.kill(workers[-1], signal.SIGKILL)  # a loky worker, in the middle of a job
    try:
        p.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
    if p.returncode == 0:  # joblib may have retried the lost job: nothing to resume
        pd.testing.assert_frame_equal(_table(tmp_path / "sweep"), clean)
        return
    _resume_and_compare(tmp_path, clean, extra)
