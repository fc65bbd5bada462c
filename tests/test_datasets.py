"""Tests of bpexp.datasets: encodings, generators, held-out parts, validation and ``solved``."""

from __future__ import annotations

import numpy as np
import pytest

from bpexp.datasets import LOSSES, DataError, Dataset, make_dataset, teacher_params

SMALL = {  # every dataset with small sizes; csv is added by the ``csvfile`` fixture
    "xor": {}, "parity": {"bits": 3}, "sine": {"samples": 20},
    "teacher": {"samples": 30, "inputs": 5}, "circles": {"samples": 30},
    "spirals": {"samples": 30}, "spirals3": {"samples": 30, "classes": 3},
}
ALLOWED = {"regression": ("squared",), "binary": LOSSES, "multiclass": ("squared", "softmax")}


def build(key: str, **kw) -> Dataset:
    return make_dataset(key.rstrip("3"), **{**SMALL[key], **kw})


def one_line_error(fn, *args, exc=ValueError, **kw) -> str:
    with pytest.raises(exc) as info:
        fn(*args, **kw)
    msg = str(info.value)
    assert "\n" not in msg and msg, msg
    return msg


@pytest.fixture
def csvfile(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((12, 2))
    lines = ["x1,x2,r,b,k,b2"] + [f"{a!r},{c!r},{a - c!r},{5 if a > 0 else 2},{[3, 7, 9][i % 3]},"
                                 f"{5 if c > 0 else 2}"
                               for i, (a, c) in enumerate(X.tolist())]
    path = tmp_path / "table.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, X


def check_shapes(ds: Dataset, loss: str) -> None:
    assert ds.X.dtype == np.float64 and ds.X.flags.c_contiguous and ds.X.ndim == 2
    assert ds.loss == loss and ds.samples == len(ds.X) == len(ds.Y)
    if loss == "softmax":
        assert ds.Y.dtype == np.int64 and ds.Y.shape == (ds.samples,)
        assert ds.outputs == ds.classes and set(ds.Y.tolist()) == set(range(ds.classes))
    else:
        assert ds.Y.dtype == np.float64 and ds.Y.ndim == 2 and ds.outputs == ds.Y.shape[1]
    if loss == "logistic":
        assert ds.outputs == 1 and set(ds.Y.ravel().tolist()) == {0.0, 1.0}
    if ds.task != "regression" and loss == "squared":
        assert set(ds.Y.ravel().tolist()) == set(ds.levels)


@pytest.mark.parametrize("key", SMALL)
@pytest.mark.parametrize("loss", LOSSES)
def test_shapes_and_incompatible_losses(key, loss):
    task = build(key).task
    if loss in ALLOWED[task]:
        check_shapes(build(key, loss=loss), loss)
    else:
        msg = one_line_error(build, key, loss=loss)
        assert f"dataset '{key.rstrip('3')}'" in msg and f"loss '{loss}'" in msg


def test_tasks_and_sizes():
    tasks = ["binary"] * 2 + ["regression"] * 2 + ["binary"] * 2 + ["multiclass"]
    assert [build(k).task for k in SMALL] == tasks
    assert build("spirals3").Y.shape == (30, 3)  # squared multiclass: one-hot levels
    assert build("teacher").X.shape == (30, 5) and build("sine").X.shape == (20, 1)
    assert make_dataset("teacher", outputs=3, samples=4).Y.shape == (4, 3)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("encoding", ["auto", "pm1", "01"])
def test_xor_is_parity_of_two_bits(loss, activation, encoding):
    a = make_dataset("xor", loss=loss, activation=activation, encoding=encoding)
    b = make_dataset("parity", bits=2, loss=loss, activation=activation, encoding=encoding)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.Y, b.Y)
    assert a.levels == b.levels and a.samples == 4


@pytest.mark.parametrize("bits", [1, 2, 3, 5])
def test_parity_against_popcount(bits):
    ds = make_dataset("parity", bits=bits, loss="logistic", encoding="01")
    expect = [bin(i).count("1") % 2 for i in range(2**bits)]
    assert ds.Y[:, 0].tolist() == expect
    assert [int("".join(str(int(v)) for v in row), 2) for row in ds.X] == list(range(2**bits))


@pytest.mark.parametrize(
    ("activation", "pm1"),
    [("tanh", True), ("erf", True), ("linear", True), ("sigmoid", False), ("relu", False),
     ("softplus", False)],
)
def test_auto_encoding_follows_activation(activation, pm1):
    ds = make_dataset("xor", activation=activation)
    lo = -1.0 if pm1 else 0.0
    assert ds.levels == (lo, 1.0) and set(ds.X.ravel().tolist()) == {lo, 1.0}
    assert ds.Y[:, 0].tolist() == [lo, 1.0, 1.0, lo]
    forced = make_dataset("xor", activation=activation, encoding="01")
    assert forced.levels == (0.0, 1.0) and forced.X.min() == 0.0


@pytest.mark.parametrize(
    "opts",
    [{}, {"teacher_activation": "relu", "outputs": 3, "teacher_bias": True},
     {"orthonormal": True, "teacher_hidden": 5}, {"committee": True, "teacher_hidden": 3}],
)
def test_teacher_targets_recomputed(opts):
    ds = make_dataset("teacher", seed=3, inputs=6, samples=40, test_samples=9, **opts)
    keys = ("teacher_hidden", "outputs", "teacher_bias", "orthonormal", "committee")
    W, b, U, c = teacher_params(3, inputs=6, **{k: v for k, v in opts.items() if k in keys})
    for got, want in zip(ds.teacher, (W, b, U, c), strict=True):
        np.testing.assert_array_equal(got, want)
    act = {"relu": lambda a: np.maximum(a, 0)}.get(opts.get("teacher_activation"), np.tanh)
    for X, Y in ((ds.X, ds.Y), (ds.X_test, ds.Y_test)):
        np.testing.assert_allclose(Y, act(X @ W.T + b) @ U.T + c, rtol=1e-12, atol=1e-12)
    if opts.get("committee"):
        assert np.all(U == 1) and np.all(b == 0)
        np.testing.assert_allclose(ds.Y[:, 0], np.tanh(ds.X @ W.T).sum(axis=1))
    assert (np.any(b != 0)) == bool(opts.get("teacher_bias"))


def test_teacher_params_structure():
    W, b, U, c = teacher_params(0, inputs=8, teacher_hidden=5, orthonormal=True)
    np.testing.assert_allclose(W @ W.T, np.eye(5), atol=1e-12)
    W0, b0, U0, c0 = teacher_params(0, inputs=400, teacher_hidden=200)
    assert W0.shape == (200, 400) and U0.shape == (1, 200) and c0.shape == (1,)
    assert abs(W0.var() * 400 - 1) < 0.05 and abs(U0.var() * 200 - 1) < 0.3
    np.testing.assert_array_equal(teacher_params(1, committee=True)[0], teacher_params(1)[0])
    assert not np.array_equal(teacher_params(1)[0], teacher_params(2)[0])
    msg = one_line_error(teacher_params, 0, inputs=3, teacher_hidden=4, orthonormal=True)
    assert "data.orthonormal" in msg and "4 > 3" in msg
    one_line_error(make_dataset, "teacher", committee=True, teacher_bias=True)


def test_teacher_noise_and_sine_values():
    clean = make_dataset("teacher", samples=2000)
    noisy = make_dataset("teacher", samples=2000, noise=0.3)
    np.testing.assert_array_equal(clean.X, noisy.X)
    assert abs(np.std(noisy.Y - clean.Y) - 0.3) < 0.02
    ds = make_dataset("sine", samples=500, freq=2.0)
    assert np.all(np.abs(ds.X) <= np.pi) and ds.X.min() < -3 and ds.X.max() > 3
    np.testing.assert_allclose(ds.Y, np.sin(2.0 * ds.X))


def test_circles_and_spirals_geometry():
    ds = make_dataset("circles", samples=101, noise=0.0, factor=0.3, loss="softmax")
    r = np.hypot(*ds.X.T)
    assert np.bincount(ds.Y).tolist() == [50, 51]
    np.testing.assert_allclose(r, np.where(ds.Y == 1, 0.3, 1.0))
    sp = make_dataset("spirals", classes=4, samples=102, noise=0.0, loss="softmax")
    assert np.bincount(sp.Y).tolist() == [26, 26, 25, 25]
    r = np.hypot(*sp.X.T)
    assert r.min() >= 0.1 - 1e-12 and r.max() <= 1.0 + 1e-12


@pytest.mark.parametrize("key", ["sine", "teacher", "circles", "spirals3"])
def test_determinism_per_seed(key):
    a = build(key, seed=5, test_samples=4)
    b, c = build(key, seed=5, test_samples=4), build(key, seed=6, test_samples=4)
    for attr in ("X", "Y", "X_test", "Y_test"):
        np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))
    assert not np.array_equal(a.X, c.X) and not np.array_equal(a.X_test, c.X_test)
    assert a.options["seed"] == 5


def rows(X: np.ndarray) -> list[tuple]:
    return sorted(map(tuple, X.tolist()))


@pytest.mark.parametrize(("key", "fraction"), [("xor", 0.25), ("parity", 0.5),
                                               ("sine", 0.3), ("spirals3", 0.1)])
def test_test_fraction_split(key, fraction):
    full = build(key, loss="softmax" if key != "sine" else "squared")
    ds = build(key, loss=full.loss, test_fraction=fraction)
    k = round(fraction * full.samples)
    assert ds.X_test.shape == (k, full.inputs) and ds.samples == full.samples - k
    assert len(ds.Y_test) == k and ds.Y_test.dtype == full.Y.dtype
    assert rows(np.r_[ds.X, ds.X_test]) == rows(full.X)  # union is everything, no overlap
    pairs = {tuple(x): y for x, y in zip(full.X.tolist(), full.Y.tolist(), strict=True)}
    for X, Y in ((ds.X, ds.Y), (ds.X_test, ds.Y_test)):
        assert all(pairs[tuple(x)] == y for x, y in zip(X.tolist(), Y.tolist(), strict=True))
    again = build(key, loss=full.loss, test_fraction=fraction)
    np.testing.assert_array_equal(again.X_test, ds.X_test)


def test_test_samples_are_fresh():
    base = make_dataset("sine", samples=30)
    ds = make_dataset("sine", samples=30, test_samples=10)
    np.testing.assert_array_equal(base.X, ds.X)  # the training stream is untouched
    assert ds.X_test.shape == (10, 1) and not np.isin(ds.X_test, ds.X).any()
    np.testing.assert_allclose(ds.Y_test, np.sin(ds.X_test))
    assert base.X_test is None and base.Y_test is None


@pytest.mark.parametrize(
    ("name", "kw", "fragment"),
    [("xor", {"test_samples": 3}, "data.test_samples"),
     ("parity", {"test_samples": 3}, "data.test_samples"),
     ("sine", {"test_samples": 3, "test_fraction": 0.5}, "exclude each other"),
     ("xor", {"test_fraction": 0.05}, "at least one row"),
     ("xor", {"test_fraction": 0.9}, "at least one row"),
     ("sine", {"test_fraction": 1.0}, "data.test_fraction"),
     ("sine", {"test_fraction": -0.1}, "data.test_fraction")],
)
def test_held_out_errors(name, kw, fragment):
    assert fragment in one_line_error(make_dataset, name, **kw)


@pytest.mark.parametrize(
    ("name", "kw", "option", "value"),
    [("parity", {"bits": 0}, "data.bits", "0"), ("parity", {"bits": 2.0}, "data.bits", "2.0"),
     ("xor", {"encoding": 1}, "data.encoding", "1"),
     ("sine", {"samples": 0}, "data.samples", "0"), ("sine", {"noise": -1}, "data.noise", "-1"),
     ("sine", {"freq": float("nan")}, "data.freq", "nan"),
     ("teacher", {"inputs": 0}, "data.inputs", "0"),
     ("teacher", {"teacher_hidden": True}, "data.teacher_hidden", "True"),
     ("teacher", {"orthonormal": "yes"}, "data.orthonormal", "'yes'"),
     ("teacher", {"teacher_activation": "cos"}, "data.teacher_activation", "'cos'"),
     ("teacher", {"outputs": -2}, "data.outputs", "-2"),
     ("circles", {"factor": 1.0}, "data.factor", "1.0"),
     ("circles", {"factor": 0}, "data.factor", "0"),
     ("circles", {"samples": 1}, "data.samples", "1"),
     ("spirals", {"classes": 1}, "data.classes", "1"),
     ("spirals", {"turns": 0.0}, "data.turns", "0.0"),
     ("spirals", {"classes": 5, "samples": 4}, "data.samples", "4"),
     ("csv", {"path": None}, "data.path", "None"),
     ("csv", {"path": "x.csv", "task": "ranking"}, "data.task", "'ranking'"),
     ("sine", {"seed": -1}, "data.seed", "-1"),
     ("sine", {"activation": "cos"}, "data.activation", "'cos'"),
     ("sine", {"loss": "hinge"}, "data.loss", "'hinge'"),
     ("sine", {"test_samples": -1}, "data.test_samples", "-1"),
     ("sine", {"solve_tol": 0}, "data.solve_tol", "0")],
)
def test_option_validation(name, kw, option, value):
    msg = one_line_error(make_dataset, name, **kw)
    assert option in msg and value in msg, msg


def test_unknown_option_and_dataset():
    msg = one_line_error(make_dataset, "sine", smaples=3)
    assert "data.smaples" in msg and "data.samples, data.freq, data.noise" in msg
    msg = one_line_error(make_dataset, "mnist")
    assert "'mnist'" in msg and "xor, parity, sine, teacher, circles, spirals, csv" in msg


def test_csv_dataset(csvfile):
    path, X = csvfile
    reg = make_dataset("csv", path=path, inputs=["x1", "x2"], targets=["r"], test_fraction=0.25)
    assert reg.task == "regression" and reg.samples == 9 and len(reg.X_test) == 3
    assert rows(np.r_[reg.X, reg.X_test]) == rows(X)
    opts = {"path": str(path), "inputs": ["x1", "x2"], "task": "binary", "targets": ["b"]}
    sq = make_dataset("csv", **opts)
    assert sq.levels == (2.0, 5.0) and sq.Y[:, 0].tolist() == np.where(X[:, 0] > 0, 5, 2).tolist()
    assert sq.solved(sq.Y) and not sq.solved(np.full_like(sq.Y, 3.4))
    two = make_dataset("csv", **{**opts, "targets": ["b", "b2"]})
    assert two.Y.shape == (12, 2) and two.outputs == 2 and two.solved(two.Y)
    lg = make_dataset("csv", loss="logistic", **opts)
    np.testing.assert_array_equal(lg.Y[:, 0], X[:, 0] > 0)
    sm = make_dataset("csv", loss="softmax", **opts)
    assert sm.Y.tolist() == (X[:, 0] > 0).astype(int).tolist() and sm.outputs == 2
    mc = make_dataset("csv", loss="softmax", **{**opts, "task": "multiclass", "targets": ["k"]})
    assert mc.Y.tolist() == [i % 3 for i in range(12)] and mc.outputs == 3
    assert make_dataset("csv", **{**opts, "task": "multiclass", "targets": ["k"]}).outputs == 3


@pytest.mark.parametrize(
    ("kw", "exc", "fragment"),
    [({"task": "binary", "targets": ["r"]}, DataError, "exactly 2 distinct values"),
     ({"task": "multiclass", "targets": ["r"]}, DataError, "integer class codes"),
     ({"task": "multiclass", "targets": ["b"]}, DataError, "use data.task=binary"),
     ({"task": "binary", "targets": ["b", "zz"]}, DataError, "no column"),
     ({"task": "binary", "targets": ["b", "k"], "loss": "softmax"}, DataError, "one target"),
     ({"targets": ["r"], "loss": "logistic"}, ValueError, "regression task: loss 'logistic'"),
     ({"task": "multiclass", "targets": ["k"], "loss": "logistic"}, ValueError, "multiclass"),
     ({"targets": ["r"], "test_samples": 2}, ValueError, "data.test_samples")],
)
def test_csv_dataset_errors(csvfile, kw, exc, fragment):
    path, _ = csvfile
    msg = one_line_error(make_dataset, "csv", path=path, inputs=["x1"], exc=exc, **kw)
    assert fragment in msg, msg


def test_solved_binary_squared_and_logistic():
    ds = make_dataset("xor")  # targets -1, 1, 1, -1
    wrong, nan = ds.Y.copy(), ds.Y.copy()
    wrong[2] = -0.1
    nan[0] = np.nan
    assert ds.solved(0.2 * ds.Y).tolist() == np.array(True).tolist() and ds.solved(ds.Y).shape == ()
    assert ds.solved(np.stack([ds.Y, wrong, nan, np.zeros_like(ds.Y)])).tolist() == [
        True, False, False, False]
    lg = make_dataset("xor", loss="logistic")
    logits = 3.0 * (2 * lg.Y - 1)
    flipped = logits.copy()
    flipped[1] *= -1
    assert lg.solved(np.stack([logits, 1e-3 * logits, flipped])).tolist() == [True, True, False]
    assert not lg.solved(np.full_like(logits, np.inf))


def test_solved_softmax_and_multiclass_squared():
    ds = make_dataset("spirals", classes=3, samples=9, loss="softmax")
    good = 2.0 * np.eye(3)[ds.Y]
    tie, wrong = good.copy(), good.copy()
    tie[4] = 1.0
    wrong[0] = np.roll(wrong[0], 1)
    assert ds.solved(np.stack([good, tie, wrong, good * np.nan])).tolist() == [
        True, False, False, False]
    sq = make_dataset("spirals", classes=3, samples=9)
    assert sq.solved(sq.Y) and not sq.solved(np.roll(sq.Y, 1, axis=1))


def test_solved_regression_and_test_part():
    ds = make_dataset("teacher", samples=50, outputs=2, test_samples=20)
    tol = np.sqrt(0.01 * ds.Y.var(axis=0).mean())
    close = ds.Y + 0.9 * tol * np.sign(np.random.default_rng(0).standard_normal(ds.Y.shape))
    far = ds.Y + 1.1 * tol
    assert ds.solved(np.stack([ds.Y, close, far, ds.Y * np.nan])).tolist() == [
        True, True, False, False]
    assert not ds.solved(np.broadcast_to(ds.Y.mean(axis=0), ds.Y.shape))
    assert ds.solved(ds.Y_test, X_part="test") and not ds.solved(ds.Y_test[::-1], "test")
    one_line_error(ds.solved, ds.Y[:10])  # wrong shape
    one_line_error(make_dataset("sine").solved, ds.Y[:, :1], X_part="test")  # no test part


def test_dataset_validates_and_converts():
    ds = Dataset("toy", [[0, 1], [1, 0]], [1, 0], "binary", "softmax")
    assert ds.X.dtype == np.float64 and ds.Y.dtype == np.int64 and ds.outputs == 2
    one_line_error(Dataset, "toy", np.zeros((2, 2)), np.zeros((3, 1)), "regression", "squared")
    one_line_error(Dataset, "toy", np.zeros((2, 2)), np.zeros((2, 1)), "regression", "softmax")
