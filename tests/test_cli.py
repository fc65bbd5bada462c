"""The Hydra app end to end, as a user runs it: real `bpexp` processes in temp directories."""

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bpexp

BPEXP = [sys.executable, "-m", "bpexp"]
SMALL = ["train.networks=20", "train.max_steps=150", "train.progress=false"]


def run(args, cwd, check=True):
    p = subprocess.run(BPEXP + list(args), cwd=cwd, capture_output=True, text=True, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"bpexp failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


def test_single_run_writes_a_complete_job(tmp_path):
    run(["data=xor", "model.hidden=2", *SMALL, "seed=3", "hydra.run.dir=job"], tmp_path)
    job = tmp_path / "job"
    for name in ("results.parquet", "curves.parquet", "params.npz", "provenance.json",
                 "done.json", ".hydra/config.yaml"):
        assert (job / name).exists(), name
    df = bpexp.load_sweep(job)
    assert len(df) == 20 and (df["seed"] == 3).all() and (df["model.hidden"] == 2).all()
    assert list(df["network"]) == list(range(20))
    assert df["status"].dtype == "category" and df["solved"].dtype == bool
    p = bpexp.load_params(job)
    assert p.theta.shape == (20, p.net.num_params) == p.theta0.shape
    np.testing.assert_allclose(p.theta0, p.net.init(20, 3))  # init recorded exactly


def test_a_job_writes_only_inside_its_directory(tmp_path):
    run(["data=teacher", "data.samples=32", *SMALL, "hydra.run.dir=out/job"], tmp_path)
    written = {p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()}
    assert written and all(p.parts[:2] == ("out", "job") for p in written), written


def test_multirun_sweep_is_read_back(tmp_path):
    run(["-m", "model.hidden=1,3", "model.activation=tanh,sigmoid", *SMALL,
         "hydra.sweep.dir=sweep"], tmp_path)
    df = bpexp.load_sweep(tmp_path / "sweep")
    assert len(df) == 80 and df["job"].nunique() == 4
    combos = set(zip(df["model.hidden"], df["model.activation"], strict=True))
    assert combos == {(1, "tanh"), (3, "tanh"), (1, "sigmoid"), (3, "sigmoid")}
    curves = bpexp.load_curves(tmp_path / "sweep")
    assert {"network", "step", "loss", "grad_norm", "model.hidden", "job"} <= set(curves.columns)
    last = curves.sort_values("step").groupby(["job", "network"]).tail(1)
    merged = last.merge(df, on=["job", "network"])
    np.testing.assert_allclose(merged["loss"], merged["final_loss"])


def test_same_config_same_results(tmp_path):
    for d in ("a", "b"):
        run(["data=teacher", "data.samples=64", "model.hidden=3", "optim=adam", *SMALL,
             "train.threads=2", f"hydra.run.dir={d}"], tmp_path)
    a, b = (bpexp.load_sweep(tmp_path / d).drop(columns=["wall_time", "job"]) for d in "ab")
    pd.testing.assert_frame_equal(a, b)


def test_every_dataset_and_optimizer_runs(tmp_path):
    run(["-m", "data=xor,parity,sine,teacher,circles,spirals", "optim=gd,nesterov,rmsprop,adam",
         "train.networks=3", "train.max_steps=20", "train.progress=false",
         "hydra.sweep.dir=sweep"], tmp_path)
    assert len(bpexp.load_sweep(tmp_path / "sweep")) == 6 * 4 * 3


BAD = [
    (["model.hiden=3"], "hiden"),
    (["model.hidden=abc"], "hidden"),
    (["model.hidden=0"], "model.hidden=0"),
    (["optim.lr=0"], "optim.lr=0"),
    (["optim.lr=-1"], "optim.lr=-1"),
    (["train.networks=0"], "train.networks=0"),
    (["model.activation=gelu"], "model.activation='gelu'"),
    (["data=sine", "train.loss=logistic"], "logistic"),
    (["data=nosuch"], "nosuch"),
    (["data=parity", "data.bits=0"], "data.bits"),
    (["data=csv", "data.path=/nonexistent.csv", "data.inputs=[a]", "data.targets=[b]"],
     "/nonexistent.csv"),
    (["seed=-1"], "seed=-1"),
]


@pytest.mark.parametrize("args,needle", BAD)
def test_bad_input_is_one_clear_line(tmp_path, args, needle):
    p = run([*SMALL, *args, "hydra.run.dir=job"], tmp_path, check=False)
    assert p.returncode != 0
    assert "Traceback" not in p.stderr
    errors = [ln for ln in p.stderr.splitlines() if needle in ln]
    assert errors, p.stderr
    assert not (tmp_path / "job" / "results.parquet").exists()


def test_a_bad_job_fails_alone_in_a_multirun(tmp_path):
    p = run(["-m", "model.hidden=2,0,3", *SMALL, "hydra.sweep.dir=sweep"], tmp_path, check=False)
    assert p.returncode == 1
    assert "Traceback" not in p.stderr and "model.hidden=0" in p.stderr
    with pytest.warns(UserWarning, match="1"):
        df = bpexp.load_sweep(tmp_path / "sweep")
    assert sorted(df["model.hidden"].unique()) == [2, 3]


def test_wheel_ships_the_configs_and_runs_from_elsewhere(tmp_path):
    repo = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path / "dist"), str(repo)], check=True, timeout=300)
    wheel = next((tmp_path / "dist").glob("bpexp-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "bpexp/conf/config.yaml" in names and "bpexp/conf/data/xor.yaml" in names
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    p = subprocess.run([sys.executable, "-c", "import bpexp.app, sys; print(bpexp.app.CONF_DIR); "
                        "sys.argv=['bpexp', *sys.argv[1:]]; bpexp.app.main()",
                        "train.networks=5", "train.max_steps=10", "hydra.run.dir=out"],
                       cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert str(target) in p.stdout.splitlines()[0]
    assert len(bpexp.load_sweep(elsewhere / "out")) == 5
