"""Training sets for two-layer networks ``f(x) = U s(W x + b) + c``, encoded for their loss.

Inputs ``X`` are (B, D) float64. Targets ``Y``: ``squared`` -> (B, O) float64 (binary: one
column of ``levels``; multiclass: one-hot with ``levels`` as off/on values); ``logistic`` ->
(B, 1) floats in {0, 1}; ``softmax`` -> (B,) int64 labels. Squared-loss class levels are
+-1 for odd student activations, {0, 1} otherwise. Random data depend only on the data seed:
the training part (then the ``test_fraction`` permutation) comes from stream ``(DATA, 0)``,
fresh held-out points (``test_samples``) from ``(DATA, 1)``, teacher parameters from
``(TEACHER,)``.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from bpexp import csvdata
from bpexp.activations import Activation, get_activation
from bpexp.csvdata import DataError
from bpexp.seeding import DATA, TEACHER, check_seed, rng

__all__ = ["DATASETS", "LOSSES", "TASKS", "DataError", "Dataset", "dataset_options",
           "make_dataset", "teacher_output", "teacher_params"]

TASKS = ("regression", "binary", "multiclass")
LOSSES = ("squared", "logistic", "softmax")
_LOSSES_OF = {"regression": ("squared",), "binary": LOSSES, "multiclass": ("squared", "softmax")}


@dataclass(frozen=True, eq=False)
class Dataset:
    """A training set (and optional held-out part), encoded as in the module docstring.

    ``levels``: (negative, positive) squared-loss class targets; ``classes``: number of
    classes (None for regression); ``teacher``: ``(W (H, D), b (H,), U (O, H), c (O,))`` of
    the ``teacher`` dataset; ``options``: all resolved options (with defaults), for provenance.
    """

    name: str
    X: np.ndarray
    Y: np.ndarray
    task: str
    loss: str
    X_test: np.ndarray | None = None
    Y_test: np.ndarray | None = None
    levels: tuple[float, float] | None = None
    solve_tol: float = 0.01
    classes: int | None = None
    teacher: tuple[np.ndarray, ...] | None = None
    options: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.loss not in _LOSSES_OF.get(self.task, ()):
            raise ValueError(f"Dataset {self.name!r}: bad task/loss {self.task}/{self.loss}")
        soft = self.loss == "softmax"
        for x, y in (("X", "Y"), ("X_test", "Y_test")):
            xa, ya = getattr(self, x), getattr(self, y)
            if xa is not None and ya is not None:
                xa = np.ascontiguousarray(xa, dtype=np.float64)
                ya = np.ascontiguousarray(ya, dtype=np.int64 if soft else np.float64)
                object.__setattr__(self, x, xa)
                object.__setattr__(self, y, ya)
            if (xa is None) != (ya is None) or xa is not None and (
                xa.ndim != 2 or ya.ndim != 2 - soft or len(xa) != len(ya)
                or xa.shape[1] != self.X.shape[1]
            ):
                raise ValueError(f"Dataset {self.name!r}: inconsistent {x}/{y} shapes")
        if soft and self.classes is None:
            object.__setattr__(self, "classes", int(self.Y.max(initial=0)) + 1)

    @property
    def inputs(self) -> int:
        return self.X.shape[1]

    @property
    def outputs(self) -> int:
        """Network outputs: target columns, or the number of classes for softmax."""
        return int(self.classes) if self.loss == "softmax" else self.Y.shape[1]

    @property
    def samples(self) -> int:
        return self.X.shape[0]

    def solved(self, yhat: np.ndarray, X_part: str = "train") -> np.ndarray:
        """Whether each network fits every point of part ``X_part`` ("train" or "test").

        ``yhat``: predictions (N, B, outputs), or (B, outputs) for one network (0-d result).
        Binary: positive predicted iff ``yhat >`` the midpoint of ``levels`` (squared) or
        ``> 0`` (logits); multiclass and softmax: the label's output is strictly the largest
        (ties are wrong); regression: MSE <= solve_tol * (mean over outputs of Var(Y)).
        Predictions with NaN or inf are never solved. Returns bool (N,).
        """
        if X_part not in ("train", "test") or X_part == "test" and self.Y_test is None:
            raise ValueError(f"X_part must be 'train' or 'test' (if held out), got {X_part!r}")
        Y = self.Y if X_part == "train" else self.Y_test
        p = np.asarray(yhat, dtype=np.float64)
        p = p[None] if (single := p.ndim == 2) else p
        if p.ndim != 3 or p.shape[1:] != (len(Y), self.outputs):
            raise ValueError(f"yhat must be (N, {len(Y)}, {self.outputs}), got {np.shape(yhat)}")
        with np.errstate(invalid="ignore", over="ignore"):
            if self.task == "regression":
                ok = ((p - Y) ** 2).mean(axis=(1, 2)) <= self.solve_tol * Y.var(axis=0).mean()
            elif self.task == "binary" and self.loss != "softmax":
                mid = 0.5 * sum(self.levels or (0.0, 1.0))
                thr = mid if self.loss == "squared" else 0.0
                ok = ((p > thr) == (Y > mid)).all(axis=(1, 2))
            else:
                lab = Y if self.loss == "softmax" else Y.argmax(axis=1)
                mine = np.take_along_axis(p, lab[None, :, None], axis=2)[..., 0]
                rest = np.where(np.arange(p.shape[2]) == lab[:, None], -np.inf, p).max(axis=2)
                ok = (mine > rest).all(axis=1)
        ok &= np.isfinite(p).all(axis=(1, 2))
        return ok.reshape(()) if single else ok


# ---------------------------------------------------------------- option checking


def _int(name: str, v: object, lo: int, hi: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < lo:
        raise ValueError(f"data.{name} must be an integer >= {lo}, got {v!r}")
    if hi is not None and v > hi:
        raise ValueError(f"data.{name} must be an integer <= {hi}, got {v!r}")
    return int(v)


def _num(name: str, v: object, lo: float = -np.inf, hi: float = np.inf, *,
         open_lo: bool = False, open_hi: bool = False) -> float:
    """``v`` as a finite float in [lo, hi] (``open_lo``/``open_hi``: excluding that end)."""
    real = not isinstance(v, bool) and isinstance(v, int | float | np.integer | np.floating)
    if not (real and np.isfinite(v) and (lo < v if open_lo else lo <= v)
            and (v < hi if open_hi else v <= hi)):
        what = "" if lo == -np.inf else f" {'>' if open_lo else '>='} {lo:g}"
        if hi < np.inf:
            what = f" in {'(' if open_lo else '['}{lo:g}, {hi:g}{')' if open_hi else ']'}"
        raise ValueError(f"data.{name} must be a finite number{what}, got {v!r}")
    return float(v)


def _choice(name: str, v: object, choices: tuple[str, ...]) -> str:
    if not isinstance(v, str) or v not in choices:
        raise ValueError(f"data.{name} must be one of {', '.join(choices)}, got {v!r}")
    return v


def _flag(name: str, v: object) -> bool:
    if not isinstance(v, bool | np.bool_):
        raise ValueError(f"data.{name} must be true or false, got {v!r}")
    return bool(v)


def _activation(name: str, v: object) -> Activation:
    try:
        return get_activation(v)  # type: ignore[arg-type]
    except (ValueError, TypeError) as err:
        raise ValueError(f"data.{name}: {err}") from None


@dataclass(frozen=True)
class _Ctx:
    """What every builder gets: name, seed, student activation, loss, fresh-test count."""

    name: str
    seed: int
    act: Activation
    loss: str
    test_samples: int
    gen: np.random.Generator  # the training stream (DATA, 0)

    def check(self, task: str, classes: int | None = None) -> None:
        """Raise the one-line error if ``self.loss`` cannot encode targets of ``task``."""
        if self.loss in _LOSSES_OF[task]:
            return
        what = f"{task} task" + (f" ({classes} classes)" if classes else "")
        need = "binary targets" if self.loss == "logistic" else "class labels"
        use = " or ".join(f"loss={x}" for x in _LOSSES_OF[task] if x != self.loss)
        raise ValueError(
            f"dataset {self.name!r} is a {what}: loss {self.loss!r} needs {need}; use {use}"
        )

    def draw(self, fn: Callable[[np.random.Generator, int], tuple], n: int) -> tuple:
        """``fn(gen, n)`` on the training stream, then a fresh held-out draw (or Nones)."""
        train = fn(self.gen, n)
        test = fn(rng(self.seed, DATA, 1), self.test_samples) if self.test_samples else (None,) * 2
        return train + test


def _encode(labels: np.ndarray | None, classes: int, loss: str, levels: tuple[float, float]):
    """Integer labels (B,) -> targets for ``loss`` (see the module docstring)."""
    if labels is None or loss == "softmax":
        return labels
    if loss == "logistic":
        return labels[:, None].astype(np.float64)
    hot = labels[:, None] == (np.arange(classes) if classes > 2 else 1)
    return np.where(hot, levels[1], levels[0])


def _classify(ctx: _Ctx, X, labels, Xt, lt, classes: int, levels=None) -> Dataset:
    """A classification Dataset from labels; squared levels default to the activation's."""
    if levels is None:
        levels = (-1.0, 1.0) if ctx.act.odd else (0.0, 1.0)
    enc = lambda lab: _encode(lab, classes, ctx.loss, levels)  # noqa: E731
    task = "binary" if classes == 2 else "multiclass"
    return Dataset(ctx.name, X, enc(labels), task, ctx.loss, Xt, enc(lt),
                   levels if ctx.loss == "squared" else None, classes=classes)


# ---------------------------------------------------------------- datasets


def _parity(ctx: _Ctx, *, bits: int = 3, encoding: str = "auto") -> Dataset:
    """All 2**bits patterns (row i = binary digits of i, most significant first); odd parity.

    ``encoding``: "pm1" -> inputs and squared targets in {-1, 1}; "01" -> {0, 1};
    "auto" -> pm1 for odd activations, else 01.
    """
    bits = _int("bits", bits, 1, 20)
    enc = _choice("encoding", encoding, ("auto", "pm1", "01"))
    ctx.check("binary")
    pm1 = ctx.act.odd if enc == "auto" else enc == "pm1"
    B = (np.arange(2**bits)[:, None] >> np.arange(bits - 1, -1, -1)) & 1
    X = 2.0 * B - 1.0 if pm1 else B.astype(np.float64)
    return _classify(ctx, X, B.sum(axis=1) % 2, None, None, 2, (-1.0 if pm1 else 0.0, 1.0))


def _xor(ctx: _Ctx, *, encoding: str = "auto") -> Dataset:
    """The 4 XOR points: ``parity`` with 2 bits."""
    return _parity(ctx, bits=2, encoding=encoding)


def _sine(ctx: _Ctx, *, samples: int = 64, freq: float = 1.0, noise: float = 0.0) -> Dataset:
    """x ~ U[-pi, pi] (B, 1), y = sin(freq x) + noise N(0, 1)."""
    n, freq, noise = _int("samples", samples, 1), _num("freq", freq), _num("noise", noise, 0)
    ctx.check("regression")

    def fn(g: np.random.Generator, m: int) -> tuple:
        x = g.uniform(-np.pi, np.pi, size=(m, 1))
        return x, np.sin(freq * x) + noise * g.standard_normal((m, 1))

    X, Y, Xt, Yt = ctx.draw(fn, n)
    return Dataset(ctx.name, X, Y, "regression", ctx.loss, Xt, Yt)


def teacher_params(seed: int = 0, *, inputs: int = 10, teacher_hidden: int = 4,
                   outputs: int = 1, teacher_bias: bool = False, orthonormal: bool = False,
                   committee: bool = False) -> tuple[np.ndarray, ...]:
    """Teacher ``(W (H, D), b (H,), U (O, H), c (O,))`` from stream ``(TEACHER,)`` of ``seed``.

    W ~ N(0, 1/D) (``orthonormal``: Haar-random orthonormal rows, needs H <= D),
    b ~ N(0, 1) if ``teacher_bias`` else 0, U ~ N(0, 1/H), c = 0; ``committee``: U = 1, b = 0.
    The same numbers are drawn for every flag, so W is shared by the bias/committee variants.
    """
    D, H = _int("inputs", inputs, 1), _int("teacher_hidden", teacher_hidden, 1)
    n_out = _int("outputs", outputs, 1)
    bias, ortho = _flag("teacher_bias", teacher_bias), _flag("orthonormal", orthonormal)
    if _flag("committee", committee) and bias:
        raise ValueError("data.committee teachers have no biases: set data.teacher_bias=false")
    if ortho and H > D:
        raise ValueError(
            f"data.orthonormal needs data.teacher_hidden <= data.inputs, got {H} > {D}"
        )
    g = rng(check_seed(seed, "data.seed"), TEACHER)
    W, b, U = g.standard_normal((H, D)), g.standard_normal(H), g.standard_normal((n_out, H))
    if ortho:
        q, r = np.linalg.qr(W.T)
        W = (q * np.where(np.diag(r) < 0, -1.0, 1.0)).T
    else:
        W = W / np.sqrt(D)
    U = np.ones((n_out, H)) if committee else U / np.sqrt(H)
    return W, b if bias else np.zeros(H), U, np.zeros(n_out)


def teacher_output(X: np.ndarray, params: tuple[np.ndarray, ...],
                   activation: str = "tanh") -> np.ndarray:
    """``U s(W x + b) + c`` for the rows of X (B, D) -> (B, O)."""
    W, b, U, c = params
    return get_activation(activation).fn(X @ W.T + b) @ U.T + c


def _teacher(ctx: _Ctx, *, inputs: int = 10, samples: int = 512, teacher_hidden: int = 4,
             teacher_activation: str = "tanh", outputs: int = 1, noise: float = 0.0,
             teacher_bias: bool = False, orthonormal: bool = False,
             committee: bool = False) -> Dataset:
    """x ~ N(0, I_D), y = teacher(x) + noise N(0, 1); see :func:`teacher_params`."""
    n, noise = _int("samples", samples, 1), _num("noise", noise, 0)
    _activation("teacher_activation", teacher_activation)
    params = teacher_params(ctx.seed, inputs=inputs, teacher_hidden=teacher_hidden,
                            outputs=outputs, teacher_bias=teacher_bias,
                            orthonormal=orthonormal, committee=committee)
    ctx.check("regression")

    def fn(g: np.random.Generator, m: int) -> tuple:
        x = g.standard_normal((m, params[0].shape[1]))
        y = teacher_output(x, params, teacher_activation)
        return x, y + noise * g.standard_normal(y.shape)

    X, Y, Xt, Yt = ctx.draw(fn, n)
    return replace(Dataset(ctx.name, X, Y, "regression", ctx.loss, Xt, Yt), teacher=params)


def _circles(ctx: _Ctx, *, samples: int = 200, noise: float = 0.05,
             factor: float = 0.5) -> Dataset:
    """sklearn-style ``make_circles``: outer unit circle (label 0, B // 2 points), inner
    circle of radius ``factor`` (label 1), plus N(0, noise^2) on X; rows shuffled."""
    n, noise = _int("samples", samples, 2), _num("noise", noise, 0)
    factor = _num("factor", factor, 0, 1, open_lo=True, open_hi=True)
    ctx.check("binary")

    def fn(g: np.random.Generator, m: int) -> tuple:
        out = m // 2
        t = np.r_[np.linspace(0, 2 * np.pi, out, endpoint=False),
                  np.linspace(0, 2 * np.pi, m - out, endpoint=False)]
        r = np.r_[np.ones(out), np.full(m - out, factor)]
        X = np.c_[r * np.cos(t), r * np.sin(t)] + noise * g.standard_normal((m, 2))
        p = g.permutation(m)
        return X[p], (np.arange(m) >= out).astype(np.int64)[p]

    return _classify(ctx, *ctx.draw(fn, n), 2)


def _spirals(ctx: _Ctx, *, classes: int = 2, samples: int = 200, turns: float = 1.0,
             noise: float = 0.05) -> Dataset:
    """``classes`` interleaved arms: t ~ U[0, 1], radius 0.1 + 0.9 t, angle
    2 pi (turns t + k / classes) for arm k, plus N(0, noise^2); balanced, rows shuffled."""
    K = _int("classes", classes, 2)
    n, noise = _int("samples", samples, K), _num("noise", noise, 0)
    turns = _num("turns", turns, 0, open_lo=True)
    ctx.check("binary" if K == 2 else "multiclass", K)

    def fn(g: np.random.Generator, m: int) -> tuple:
        k, t = np.arange(m) % K, g.uniform(size=m)
        a, r = 2 * np.pi * (turns * t + k / K), 0.1 + 0.9 * t
        X = np.c_[r * np.cos(a), r * np.sin(a)] + noise * g.standard_normal((m, 2))
        p = g.permutation(m)
        return X[p], k[p]

    return _classify(ctx, *ctx.draw(fn, n), K)


def _csv(ctx: _Ctx, *, path: str | os.PathLike[str] | None = None, inputs=(), targets=(),
         task: str = "regression", delimiter: str = ",") -> Dataset:
    """Columns of a CSV file (see :func:`bpexp.csvdata.load_csv`). Binary targets take two
    values lo < hi (logistic/softmax: lo -> 0, hi -> 1; squared: kept, levels = (lo, hi));
    multiclass: one column of >= 3 integer codes, mapped to 0..K-1 in sorted order."""
    if not isinstance(path, str | os.PathLike) or not os.fspath(path):
        raise ValueError(f"data.path must name a CSV file, got {path!r}")
    ctx.check(_choice("task", task, TASKS))
    X, Y = csvdata.load_csv(path, inputs, targets, delimiter)
    if task == "regression":
        return Dataset(ctx.name, X, Y, task, ctx.loss)
    values, inverse = np.unique(Y, return_inverse=True)
    labels, f = inverse.reshape(Y.shape), os.fspath(path)
    if (task == "multiclass" or ctx.loss != "squared") and Y.shape[1] != 1:
        raise DataError(f"{f}: {task} targets with loss {ctx.loss} need one target column, "
                        f"got {Y.shape[1]}")
    if task == "binary" and len(values) != 2:
        raise DataError(f"{f}: binary targets must take exactly 2 distinct values, "
                        f"got {len(values)}: {values[:5].tolist()}")
    if task == "multiclass" and (len(values) < 3 or np.any(values != np.round(values))):
        raise DataError(f"{f}: multiclass targets must be >= 3 distinct integer class codes "
                        f"(2 classes: use data.task=binary), got {values[:5].tolist()}")
    if task == "binary" and ctx.loss != "softmax":
        lo, hi = float(values[0]), float(values[1])
        if ctx.loss == "squared":
            return Dataset(ctx.name, X, Y, task, ctx.loss, levels=(lo, hi), classes=2)
        return Dataset(ctx.name, X, labels.astype(np.float64), task, ctx.loss, classes=2)
    return _classify(ctx, X, labels[:, 0], None, None, len(values))


#: Dataset name -> builder ``f(ctx, **options) -> Dataset``; options are keyword-only.
DATASETS: dict[str, Callable[..., Dataset]] = {
    "xor": _xor, "parity": _parity, "sine": _sine, "teacher": _teacher,
    "circles": _circles, "spirals": _spirals, "csv": _csv,
}
_FIXED = ("xor", "parity", "csv")  # no generator: test_samples is impossible


def dataset_options(name: str) -> dict[str, object]:
    """The keyword options of dataset ``name`` with their defaults."""
    params = inspect.signature(DATASETS[name]).parameters.values()
    return {p.name: p.default for p in params if p.kind is p.KEYWORD_ONLY}


def _split(ds: Dataset, fraction: float, gen: np.random.Generator) -> Dataset:
    """Hold out round(fraction * B) rows chosen by ``gen.permutation``; both parts keep order."""
    B, k = ds.samples, round(fraction * ds.samples)
    if not 1 <= k <= B - 1:
        raise ValueError(f"data.test_fraction={fraction:g} of the {B} rows of dataset "
                         f"{ds.name!r} holds out {k}; each part needs at least one row")
    perm = gen.permutation(B)
    test, train = np.sort(perm[:k]), np.sort(perm[k:])
    return replace(ds, X=ds.X[train], Y=ds.Y[train], X_test=ds.X[test], Y_test=ds.Y[test])


def make_dataset(name: str, *, seed: int = 0, activation: str = "tanh", loss: str = "squared",
                 test_fraction: float = 0.0, test_samples: int = 0, solve_tol: float = 0.01,
                 **options: object) -> Dataset:
    """Build dataset ``name`` (one of :data:`DATASETS`) with targets encoded for ``loss``.

    ``activation`` is the student's hidden activation (picks +-1 or {0, 1} encodings).
    ``test_fraction`` in [0, 1) holds out that fraction of the rows (permutation drawn from the
    training stream after the data); ``test_samples`` > 0 draws that many fresh points from
    stream ``(DATA, 1)`` (generated datasets only). ``options`` go to the dataset's builder
    (see :func:`dataset_options`). Every bad value raises a one-line ``ValueError``.
    """
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    seed = check_seed(seed, "data.seed")
    act = _activation("activation", activation)
    loss = _choice("loss", loss, LOSSES)
    frac = _num("test_fraction", test_fraction, 0, 1, open_hi=True)
    n_test = _int("test_samples", test_samples, 0)
    solve_tol = _num("solve_tol", solve_tol, 0, open_lo=True)
    valid = dataset_options(name)
    unknown = [k for k in options if k not in valid]
    if unknown:
        raise ValueError(f"unknown option(s) for dataset {name!r}: "
                         f"{', '.join('data.' + k for k in unknown)}; valid: "
                         f"{', '.join('data.' + k for k in valid)}")
    if frac and n_test:
        raise ValueError(f"data.test_fraction={frac:g} and data.test_samples={n_test} "
                         "exclude each other; set one of them to 0")
    if n_test and name in _FIXED:
        raise ValueError(f"data.test_samples={n_test}: dataset {name!r} has no generator "
                         "for fresh samples; use data.test_fraction")
    ctx = _Ctx(name, seed, act, loss, n_test, rng(seed, DATA, 0))
    ds = DATASETS[name](ctx, **options)
    common = {"seed": seed, "activation": act.name, "loss": loss, "test_fraction": frac,
              "test_samples": n_test, "solve_tol": solve_tol}
    ds = replace(ds, solve_tol=solve_tol, options={**common, **valid, **options})
    return _split(ds, frac, ctx.gen) if frac else ds
