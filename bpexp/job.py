"""One job: build data, networks and optimiser from a resolved config, train, return results.

Configuration enters here as a plain nested dict (the Hydra app resolves it); everything
below receives plain values. :func:`run` is usable without Hydra::

    from bpexp.job import run
    out = run({"seed": 0, "data": {"name": "xor"}, "model": {"hidden": 2}, ...})
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from . import config, optim, schedules
from .batches import BatchPlan
from .datasets import Dataset, make_dataset
from .model import TwoLayerNet
from .objective import Objective
from .train import STATUSES, TrainResult, TrainSpec, train

_COMMON = ("name", "seed", "test_fraction", "test_samples", "solve_tol")


@dataclass
class JobOutput:
    """What a job produced: the data and network it used and the per-network outcomes."""

    dataset: Dataset
    net: TwoLayerNet
    theta0: np.ndarray  # (N, P)
    init_loss: np.ndarray  # (N,)
    result: TrainResult
    solved: np.ndarray  # (N,) bool

    @property
    def fraction_solved(self) -> float:
        return float(self.solved.mean())


def defaults() -> dict[str, Any]:
    """The default config as a plain dict (xor, tanh, xavier, gd), for use without Hydra."""
    return {
        "seed": 0,
        "data": asdict(config.XorData()),
        "model": asdict(config.ModelConfig()),
        "init": asdict(config.InitConfig()),
        "optim": asdict(config.GdConfig()),
        "train": asdict(config.TrainConfig()),
    }


def available_cores() -> int:
    """Cores this job may use: the CPU affinity, lowered by ``SLURM_CPUS_PER_TASK`` or
    ``OMP_NUM_THREADS`` when a launcher set them (loky, Ray and SLURM workers)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    for var in ("SLURM_CPUS_PER_TASK", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            n = min(n, int(value))
    return n


def build_dataset(cfg: dict) -> Dataset:
    """The dataset of ``cfg['data']``, encoded for ``cfg['train']['loss']``."""
    d = dict(cfg["data"])
    common = {k: d.pop(k) for k in _COMMON if k in d}
    name = common.pop("name")
    try:
        return make_dataset(name, activation=cfg["model"]["activation"],
                            loss=cfg["train"]["loss"], **common, **d)
    except ValueError as err:
        raise config.ConfigError(str(err)) from None


def build_spec(cfg: dict) -> TrainSpec:
    t = cfg["train"]
    return TrainSpec(
        max_steps=t["max_steps"], loss_tol=t["loss_tol"], grad_tol=t["grad_tol"],
        diverge_loss=t["diverge_loss"], diverge_norm=t["diverge_norm"],
        batch_size=t["batch_size"], batch_order=t["batch_order"],
        curve_points=t["curve_points"], threads=t["threads"] or available_cores(),
        chunk=t["chunk"], progress=t["progress"], dtype=t["dtype"],
    )


def build_optimizer(cfg: dict) -> tuple[optim.Optimizer, np.ndarray]:
    o = cfg["optim"]
    hyper = {k: o[k] for k in ("beta", "nesterov", "rho", "b1", "b2", "eps") if k in o}
    opt = optim.make(o["name"], **hyper)
    lrs = schedules.schedule(o["schedule"], o["lr"], cfg["train"]["max_steps"],
                             every=o["every"], gamma=o["gamma"], final=o["final"])
    return opt, lrs


def build_net(cfg: dict, ds: Dataset) -> TwoLayerNet:
    """The network of ``cfg['model']``, its inputs and outputs those of the data."""
    m = cfg["model"]
    try:
        return TwoLayerNet(ds.inputs, m["hidden"], ds.outputs, m["activation"],
                           hidden_bias=m["hidden_bias"], output_bias=m["output_bias"],
                           frozen_output=m["frozen_output"])
    except ValueError as err:
        raise config.ConfigError(f"model: {err}") from None


def part_size(net: TwoLayerNet, samples: int, spec: TrainSpec, budget_mb: int) -> int:
    """Networks per part so that one part's arrays stay within ``budget_mb``.

    A conservative count of the float64 values a network costs while it is trained and
    written: its parameter copies and optimiser state, its curves and result rows, and its
    columns of the evaluation buffers ``(B, H, O)``.
    """
    P, R, B = net.num_params, spec.curve_points + 2, samples
    # measured: 1,000,000 XOR networks peaked at 1.1 GB with half this estimate
    per_net = 8 * (8 * P + 16 * R + 128 + 6 * B * net.hidden * net.outputs + 2 * B * net.outputs)
    fixed = 64 << 20  # interpreter, libraries, per-thread chunk buffers
    return max(1, (budget_mb * (1 << 20) - fixed) // per_net)


def run_parts(cfg: dict, progress: bool | None = None) -> Iterator[tuple[int, JobOutput]]:
    """Run the job described by the resolved config ``cfg``, part by part.

    Yields ``(first, output)`` for consecutive parts of the ``train.networks`` networks,
    each small enough for ``train.max_memory_mb``; network ``k`` is the same whatever the
    parts are. Every value is checked before any work: a bad one raises
    :class:`config.ConfigError` with one line naming the key. ``progress`` overrides
    ``train.progress``.
    """
    config.check(cfg)
    ds = build_dataset(cfg)
    net = build_net(cfg, ds)
    opt, lrs = build_optimizer(cfg)
    spec = build_spec(cfg)
    if progress is not None:
        spec = TrainSpec(**{**asdict(spec), "progress": progress})
    loss = cfg["train"]["loss"]
    obj = Objective(net, ds.X, ds.Y, loss)
    test = Objective(net, ds.X_test, ds.Y_test, loss) if ds.X_test is not None else None
    networks = cfg["train"]["networks"]
    samples = max(ds.samples, 0 if ds.X_test is None else len(ds.X_test))
    size = min(networks, part_size(net, samples, spec, cfg["train"]["max_memory_mb"]))
    for first in range(0, networks, size):
        n = min(size, networks - first)
        theta0 = net.init(n, cfg["seed"], cfg["init"]["scheme"], cfg["init"]["scale"], first)
        plan = BatchPlan.make(ds.samples, cfg["train"]["batch_size"],
                              cfg["train"]["batch_order"], cfg["seed"])
        with np.errstate(all="ignore"):  # diverging networks are recorded, not warned about
            init_loss = obj.value(theta0)
            result = train(obj, theta0, opt, lrs, spec, plan, test, first)
            solved = ds.solved(net.predict(result.theta, ds.X))
        solved &= result.status != STATUSES.index("diverged")
        yield first, JobOutput(ds, net, theta0, init_loss, result, solved)


def run(cfg: dict, progress: bool | None = None) -> JobOutput:
    """Run a whole job in one part (see :func:`run_parts`), e.g. from a notebook."""
    cfg = {**cfg, "train": {**cfg["train"], "max_memory_mb": 1 << 40}}
    return next(run_parts(cfg, progress))[1]
