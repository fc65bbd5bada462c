"""Tests for bpexp.results: the job directory contract and the sweep loaders."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

import bpexp.optim
import bpexp.schedules
from bpexp import Objective, TwoLayerNet, results
from bpexp.results import IncompleteJobWarning, ResultsError
from bpexp.train import STATUSES, TrainResult, TrainSpec, train

FILES = {"results.parquet", "curves.parquet", "params.npz", "provenance.json", "done.json"}
CFG = {"seed": 3, "data": {"name": "xor", "noise": None}, "model": {"hidden": 3},
       "optim": {"name": "gd", "lr": 0.5}, "train": {"networks": 6, "test": True},
       "grid": [1, 2]}


@pytest.fixture(scope="module")
def xor():
    """A tiny trained XOR problem: (net, result, theta0, init_loss)."""
    net = TwoLayerNet(2, 3)
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    obj = Objective(net, X, np.array([[0], [1], [1], [0]], float))
    theta0 = net.init(6, 0)
    steps = 200
    res = train(obj, theta0, bpexp.optim.make("gd"),
                bpexp.schedules.schedule("constant", 0.5, steps),
                TrainSpec(max_steps=steps, curve_points=12, progress=False), test=obj)
    return net, res, theta0, obj.value(theta0)


def write(job: Path, xor, cfg: dict | None = None, first: int = 0, hydra: bool = True) -> None:
    net, res, theta0, init_loss = xor
    if hydra:
        (job / ".hydra").mkdir(parents=True, exist_ok=True)
        (job / ".hydra" / "config.yaml").write_text("seed: 0\n")
    results.write_job(job, cfg or CFG, res, res.loss < 1e-3, theta0, init_loss, net,
                      {"who": "test"}, first_network=first)


def hand_result() -> tuple[TrainResult, TwoLayerNet]:
    """Three networks stopping at 10 (a record step), 4 and 0; record steps 0,1,3,6,10."""
    net = TwoLayerNet(1, 1)
    rec = np.array([0, 1, 3, 6, 10])
    loss = np.array([[5.0, 4.0, np.nan, 2.0, 1.0],  # NaN: not recorded
                     [6.0, 5.0, 4.0, 99.0, np.nan],  # 99 after its stop: ignored
                     [7.0, np.nan, np.nan, np.nan, np.nan]])
    n, P = 3, net.num_params
    res = TrainResult(theta=np.ones((n, P)), loss=np.array([0.5, 3.5, 7.5]),
                      grad_norm=np.array([0.1, 0.2, 0.3]), param_norm=np.ones(n),
                      steps=np.array([10, 4, 0]), status=np.array([0, 3, 1], np.int8),
                      wall_time=np.zeros(n), curve_step=rec, curve_loss=loss,
                      curve_grad_norm=loss / 10)
    return res, net


def test_round_trip_every_column(tmp_path, xor):
    net, res, theta0, init_loss = xor
    write(tmp_path, xor, first=12)
    assert {p.name for p in tmp_path.iterdir()} == FILES | {".hydra"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = results.load_sweep(tmp_path)
    n = len(res.loss)
    assert len(df) == n and (df["job"] == ".").all()
    assert list(df.columns) == [*results.flatten_config(CFG), *results.RESULT_TYPES, "job"]
    dtypes = {"seed": "int64", "model.hidden": "int64", "optim.lr": "float64", "network": "int64",
              "steps": "int64", "solved": "bool", "final_loss": "float64", "grad_norm": "float64",
              "param_norm": "float64", "wall_time": "float64", "test_loss": "float64",
              "init_loss": "float64", "train.test": "bool"}
    assert {k: str(df[k].dtype) for k in dtypes} == dtypes
    assert isinstance(df["status"].dtype, pd.CategoricalDtype)
    assert list(df["status"].cat.categories) == list(STATUSES)
    assert df["data.noise"].isna().all()
    assert df["grid"].iloc[0] == "[1, 2]" and df["data.name"].iloc[0] == "xor"
    np.testing.assert_array_equal(df["network"], 12 + np.arange(n))
    np.testing.assert_array_equal(df["final_loss"], res.loss)
    np.testing.assert_array_equal(df["grad_norm"], res.grad_norm)
    np.testing.assert_array_equal(df["param_norm"], res.param_norm)
    np.testing.assert_array_equal(df["steps"], res.steps)
    np.testing.assert_array_equal(df["status"].astype(str), res.status_names)
    np.testing.assert_array_equal(df["solved"], res.loss < 1e-3)
    np.testing.assert_array_equal(df["wall_time"], res.wall_time)
    np.testing.assert_array_equal(df["test_loss"], res.test_loss)
    np.testing.assert_array_equal(df["init_loss"], init_loss)
    done = json.loads((tmp_path / "done.json").read_text())
    assert done["complete"] is True and done["networks"] == n
    assert done["config_hash"] == results.config_hash(CFG)
    assert set(done["files"]) == FILES - {"done.json"}
    assert json.loads((tmp_path / "provenance.json").read_text()) == {"who": "test"}


def test_flatten_and_hash_accept_dictconfig():
    cfg = OmegaConf.create({"a": {"b": 1, "c": "${a.b}"}, "l": [1, {"x": 2}], "s": None})
    flat = results.flatten_config(cfg)
    assert flat == {"a.b": 1, "a.c": 1, "l": '[1, {"x": 2}]', "s": None}
    plain = {"s": None, "l": [1, {"x": 2}], "a": {"c": 1, "b": 1}}
    assert results.config_hash(cfg) == results.config_hash(plain)
    assert results.config_hash(plain) != results.config_hash({**plain, "s": 0})
    assert len(results.config_hash(plain)) == 64


def test_config_clash_with_result_columns(tmp_path, xor):
    with pytest.raises(ResultsError, match="clash"):
        write(tmp_path, xor, cfg={"steps": 5})


def test_curves_long_format(tmp_path):
    res, net = hand_result()
    results.write_job(tmp_path, OmegaConf.create({"seed": 1}), res, np.zeros(3, bool), res.theta,
                      np.ones(3), net, {}, first_network=100)
    c = results.load_curves(tmp_path)
    assert list(c.columns) == ["seed", "network", "step", "loss", "grad_norm", "test_loss", "job"]
    assert c["network"].dtype == np.int64 and c["step"].dtype == np.int64
    rows = list(zip(c["network"], c["step"], c["loss"], strict=True))
    assert rows == [(100, 0, 5.0), (100, 1, 4.0), (100, 6, 2.0), (100, 10, 0.5),
                    (101, 0, 6.0), (101, 1, 5.0), (101, 3, 4.0), (101, 4, 3.5),
                    (102, 0, 7.5)]
    np.testing.assert_allclose(c["grad_norm"], [0.5, 0.4, 0.2, 0.1, 0.6, 0.5, 0.4, 0.2, 0.3])
    assert c["test_loss"].isna().all() and (c["seed"] == 1).all()
    assert not c.duplicated(["network", "step"]).any()


def test_curves_of_trained_networks(tmp_path, xor):
    net, res, _, _ = xor
    write(tmp_path, xor)
    c = results.load_curves(tmp_path)
    last = c.groupby("network").tail(1)
    np.testing.assert_array_equal(last["step"], res.steps)
    np.testing.assert_array_equal(last["loss"], res.loss)
    np.testing.assert_array_equal(last["test_loss"], res.test_loss)
    assert c["loss"].notna().all() and c["test_loss"].notna().all()
    assert (c.groupby("network")["step"].diff().dropna() > 0).all()


def make_sweep(root: Path, xor) -> None:
    (root / "multirun.yaml").write_text("hydra: {}\n")
    for i, (hidden, lr) in enumerate([(3, 1), (4, 0.5), (5, 0.25)]):
        cfg = {"seed": i, "model": {"hidden": hidden}, "optim": {"lr": lr}}
        if i == 2:
            cfg["data"] = {"name": "csv", "path": "a.csv", "size": 4}
        write(root / str(i), xor, cfg, first=6 * i)


def test_load_sweep_multirun(tmp_path, xor):
    make_sweep(tmp_path, xor)
    df = results.load_sweep(tmp_path)
    n = len(xor[1].loss)
    assert len(df) == 3 * n
    assert df["job"].tolist() == ["0"] * n + ["1"] * n + ["2"] * n
    per_job = df.groupby("job")[["seed", "model.hidden", "optim.lr"]].first()
    assert per_job.to_dict("list") == {"seed": [0, 1, 2], "model.hidden": [3, 4, 5],
                                       "optim.lr": [1.0, 0.5, 0.25]}
    assert df["optim.lr"].dtype == np.float64 and df["model.hidden"].dtype == np.int64
    assert df["data.name"].isna().sum() == 2 * n and (df["data.name"][-n:] == "csv").all()
    assert str(df["data.size"].dtype) == "Int64" and df["data.size"].isna().sum() == 2 * n
    np.testing.assert_array_equal(df["network"], np.arange(3 * n))
    assert list(df["status"].cat.categories) == list(STATUSES)
    c = results.load_curves(tmp_path)
    assert set(c["job"]) == {"0", "1", "2"}
    assert (c.groupby("job")["model.hidden"].first() == [3, 4, 5]).all()
    assert len(c) == 3 * len(results.load_curves(tmp_path / "0"))


def test_conflicting_config_types_are_unified(tmp_path, xor):
    write(tmp_path / "0", xor, {"x": 1, "y": 1, "z": True})
    write(tmp_path / "1", xor, {"x": "auto", "y": 2.5, "z": None})
    df = results.load_sweep(tmp_path).groupby("job").first()
    assert df["x"].tolist() == ["1", "auto"] and df["y"].tolist() == [1.0, 2.5]
    assert str(df["z"].dtype) == "boolean" and df["z"].iloc[0] and pd.isna(df["z"].iloc[1])


def test_find_jobs_natural_order_and_nesting(tmp_path, xor):
    for name in ["10", "2", "1", "a/0", "a/b/3"]:
        (tmp_path / name / ".hydra").mkdir(parents=True)
        (tmp_path / name / ".hydra" / "config.yaml").write_text("x: 1\n")
    (tmp_path / "notes").mkdir()
    rel = [p.relative_to(tmp_path).as_posix() for p in results.find_jobs(tmp_path)]
    assert rel == ["1", "2", "10", "a/0", "a/b/3"]
    assert results.find_jobs(tmp_path / "2") == [tmp_path / "2"]


def test_bad_jobs_skipped_with_one_warning(tmp_path, xor):
    make_sweep(tmp_path, xor)
    for i in (3, 4, 5, 6):
        write(tmp_path / str(i), xor, {"seed": i}, first=6 * i)
    (tmp_path / "3" / "done.json").unlink()  # crashed before finishing
    (tmp_path / "4" / "results.parquet").write_bytes(b"garbage" * 100)  # corrupt
    (tmp_path / "5" / "done.json").unlink()  # half written: one file truncated, no marker
    data = (tmp_path / "5" / "curves.parquet").read_bytes()
    (tmp_path / "5" / "curves.parquet").write_bytes(data[: len(data) // 2])
    (tmp_path / "6" / "done.json").write_text('{"complete": tr')  # marker cut short
    (tmp_path / "7" / ".hydra").mkdir(parents=True)  # just started
    (tmp_path / "7" / ".hydra" / "config.yaml").write_text("seed: 7\n")
    good = results.load_sweep(tmp_path / "0")
    frames = []
    for load in (results.load_sweep, results.load_curves):
        with pytest.warns(IncompleteJobWarning) as rec:
            frames.append(df := load(tmp_path))
        assert len(rec) == 1
        msg = str(rec[0].message)
        for bad in ("3 (", "4 (", "5 (", "6 (", "7 ("):
            assert bad in msg
        assert "0 (" not in msg and "sha256" in msg
        assert set(df["job"]) == {"0", "1", "2"}
    cols, df = list(results.RESULT_TYPES), frames[0]
    pd.testing.assert_frame_equal(df[df["job"] == "0"][cols], good[cols])
    complete = [results.is_complete(tmp_path / str(i)) for i in range(8)]
    assert complete == [True, True, True, False, True, False, False, False]  # 4: sha not checked


def test_missing_listed_file_and_corrupt_curves(tmp_path, xor):
    write(tmp_path / "0", xor)
    write(tmp_path / "1", xor)
    write(tmp_path / "2", xor)
    (tmp_path / "1" / "params.npz").unlink()
    (tmp_path / "2" / "curves.parquet").write_bytes(b"\0" * 64)
    assert not results.is_complete(tmp_path / "1")
    with pytest.warns(IncompleteJobWarning, match="params.npz missing"):
        assert set(results.load_sweep(tmp_path)["job"]) == {"0", "2"}
    with pytest.warns(IncompleteJobWarning, match="curves.parquet corrupt"):
        assert set(results.load_curves(tmp_path)["job"]) == {"0"}


def test_all_jobs_incomplete_gives_empty_frame(tmp_path, xor):
    write(tmp_path / "0", xor)
    (tmp_path / "0" / "done.json").unlink()
    with pytest.warns(IncompleteJobWarning):
        df = results.load_sweep(tmp_path)
    assert len(df) == 0 and "network" in df and df["network"].dtype == np.int64


@pytest.mark.parametrize("load", [results.load_sweep, results.load_curves, results.load_params])
@pytest.mark.parametrize("kind", ["missing", "file", "empty", "foreign"])
def test_bad_paths_raise_one_line(tmp_path, load, kind):
    path = tmp_path / "x"
    if kind == "file":
        path.write_text("hello")
    elif kind in ("empty", "foreign"):
        path.mkdir()
    if kind == "foreign":
        (path / "data.csv").write_text("a,b\n1,2\n")
        (path / "sub").mkdir()
        (path / "sub" / "notes.txt").write_text("hi")
    with pytest.raises(ResultsError) as err:
        load(path)
    assert isinstance(err.value, ValueError)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_atomic_writes_leave_no_temp_files(tmp_path, xor, monkeypatch):
    write(tmp_path, xor)
    write(tmp_path, xor)  # rewriting is fine
    assert {p.name for p in tmp_path.iterdir()} == FILES | {".hydra"}
    real = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("disk full")
        real(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OSError, match="disk full"):
        write(tmp_path, xor)
    assert {p.name for p in tmp_path.iterdir()} == FILES - {"done.json"} | {".hydra"}
    assert not results.is_complete(tmp_path)


def test_params_round_trip(tmp_path, xor):
    net, res, theta0, _ = xor
    write(tmp_path, xor, first=4)
    with np.load(tmp_path / "params.npz", allow_pickle=False) as z:
        assert set(z.files) == {"theta0", "theta", "network", "net"}
        assert z["theta"].dtype == np.float64 and z["network"].dtype == np.int64
        assert json.loads(z["net"].item())["hidden"] == 3
    p = results.load_params(tmp_path)
    assert p.net == net and isinstance(p, results.Params)
    np.testing.assert_array_equal(p.theta0, theta0)
    np.testing.assert_array_equal(p.theta, res.theta)
    np.testing.assert_array_equal(p.network, 4 + np.arange(len(theta0)))
    X = np.array([[0.0, 1.0]])
    np.testing.assert_array_equal(p.net.predict(p.theta, X), net.predict(res.theta, X))


def test_params_of_a_variant_and_corrupt_params(tmp_path):
    variant = TwoLayerNet(2, 2, activation="relu", hidden_bias=False, frozen_output=True)
    res, _ = hand_result()
    res.theta = np.arange(12.0).reshape(3, 4)
    results.write_job(tmp_path, {}, res, np.zeros(3, bool), -res.theta, np.zeros(3), variant, {})
    p = results.load_params(tmp_path)
    assert p.net == variant and p.net.frozen_output and p.net.activation == "relu"
    np.testing.assert_array_equal(p.theta0, -res.theta)
    (tmp_path / "params.npz").write_bytes(b"PK")
    with pytest.raises(ResultsError, match="params.npz corrupt"):
        results.load_params(tmp_path)
    (tmp_path / "done.json").unlink()
    with pytest.raises(ResultsError, match="no done.json"):
        results.load_params(tmp_path)
