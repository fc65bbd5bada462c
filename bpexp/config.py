"""Structured-config schemas for the Hydra app, and value checks at the edge.

Each option of a config group (``conf/data/xor.yaml``, ...) extends a dataclass stored in
Hydra's ConfigStore (``defaults: [schema_xor]``), so an unknown key or a wrong type fails
while the config is composed, before any work. Values (sizes >= 1, lr > 0, ...) are checked
by :func:`check`, which raises :class:`ConfigError` with one line naming the key and value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from .activations import ACTIVATIONS
from .initializers import SCHEMES
from .losses import LOSSES
from .schedules import SCHEDULES


class ConfigError(ValueError):
    """A bad configuration value; the message is one line naming the key."""


# ------------------------------------------------------------------ data
@dataclass
class DataBase:
    name: str = "xor"
    seed: int = 0
    test_fraction: float = 0.0
    test_samples: int = 0
    solve_tol: float = 0.01


@dataclass
class XorData(DataBase):
    name: str = "xor"
    encoding: str = "auto"


@dataclass
class ParityData(DataBase):
    name: str = "parity"
    bits: int = 3
    encoding: str = "auto"


@dataclass
class SineData(DataBase):
    name: str = "sine"
    samples: int = 64
    freq: float = 1.0
    noise: float = 0.0


@dataclass
class TeacherData(DataBase):
    name: str = "teacher"
    inputs: int = 10
    samples: int = 512
    teacher_hidden: int = 4
    teacher_activation: str = "tanh"
    outputs: int = 1
    noise: float = 0.0
    teacher_bias: bool = False
    orthonormal: bool = False
    committee: bool = False


@dataclass
class CirclesData(DataBase):
    name: str = "circles"
    samples: int = 200
    noise: float = 0.05
    factor: float = 0.5


@dataclass
class SpiralsData(DataBase):
    name: str = "spirals"
    classes: int = 2
    samples: int = 200
    turns: float = 1.0
    noise: float = 0.05


@dataclass
class CsvData(DataBase):
    name: str = "csv"
    path: str = "???"
    inputs: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    task: str = "regression"
    delimiter: str = ","


# ------------------------------------------------------ model, init, optim
@dataclass
class ModelConfig:
    hidden: int = 2
    activation: str = "tanh"
    hidden_bias: bool = True
    output_bias: bool = True
    frozen_output: bool = False


@dataclass
class InitConfig:
    scheme: str = "xavier"
    scale: float = 1.0


@dataclass
class OptimBase:
    name: str = "gd"
    lr: float = 0.1
    schedule: str = "constant"
    every: int = 1000  # step schedule: decay every this many updates
    gamma: float = 0.1  # step schedule: decay factor
    final: float = 0.0  # cosine schedule: final lr as a fraction of lr


@dataclass
class GdConfig(OptimBase):
    name: str = "gd"


@dataclass
class MomentumConfig(OptimBase):
    name: str = "momentum"
    beta: float = 0.9
    nesterov: bool = False


@dataclass
class RmspropConfig(OptimBase):
    name: str = "rmsprop"
    lr: float = 0.01
    rho: float = 0.9
    eps: float = 1e-8


@dataclass
class AdamConfig(OptimBase):
    name: str = "adam"
    lr: float = 0.01
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8


@dataclass
class TrainConfig:
    networks: int = 100
    loss: str = "squared"
    max_steps: int = 5000
    loss_tol: float = 1e-4
    grad_tol: float = 1e-8
    diverge_loss: float = 1e6
    diverge_norm: float = 1e6
    batch_size: int = 0
    batch_order: str = "shared"
    curve_points: int = 40
    threads: int = 0  # 0: one per available core
    chunk: int = 0  # networks per chunk; 0: chosen from the problem size
    max_memory_mb: int = 2048  # a job trains its networks in parts that fit in this budget
    dtype: str = "float64"  # or float32: faster, for exploration
    progress: bool = True


@dataclass
class BpexpConfig:
    """The primary config: one option of each group, and the networks' seed."""

    data: Any = MISSING
    model: Any = MISSING
    init: Any = MISSING
    optim: Any = MISSING
    train: Any = MISSING
    seed: int = 0


SCHEMAS: dict[str, dict[str, type]] = {
    "data": {"xor": XorData, "parity": ParityData, "sine": SineData, "teacher": TeacherData,
             "circles": CirclesData, "spirals": SpiralsData, "csv": CsvData},
    "model": {"default": ModelConfig},
    "init": {"default": InitConfig},
    "optim": {"gd": GdConfig, "momentum": MomentumConfig, "rmsprop": RmspropConfig,
              "adam": AdamConfig},
    "train": {"default": TrainConfig},
}


def register() -> None:
    """Store every schema as ``<group>/schema_<name>`` for the YAML files to extend."""
    cs = ConfigStore.instance()
    cs.store(name="schema_config", node=BpexpConfig)
    for group, schemas in SCHEMAS.items():
        for name, node in schemas.items():
            cs.store(group=group, name=f"schema_{name}", node=node)


# ------------------------------------------------------------ value checks
def _fail(key: str, value: Any, need: str) -> None:
    raise ConfigError(f"{key}={value!r}: {need}")


def _int_at_least(cfg: dict, key: str, low: int) -> None:
    group, name = key.split(".")
    v = cfg[group][name]
    if isinstance(v, bool) or not isinstance(v, int) or v < low:
        _fail(key, v, f"must be an integer >= {low}")


def _positive(cfg: dict, key: str, allow_zero: bool = False) -> None:
    group, name = key.split(".")
    v = cfg[group][name]
    ok = isinstance(v, int | float) and math.isfinite(v) and (v >= 0 if allow_zero else v > 0)
    if not ok:
        _fail(key, v, "must be a finite number " + (">= 0" if allow_zero else "> 0"))


def _choice(cfg: dict, key: str, choices) -> None:
    group, name = key.split(".")
    v = cfg[group][name]
    if v not in choices:
        _fail(key, v, f"choose one of {', '.join(choices)}")


def _check_keys(cfg: dict) -> None:
    """Keys added with ``+key=value`` (which Hydra lets past the schemas) are errors too."""
    from dataclasses import fields

    known = {f.name for f in fields(BpexpConfig)}
    for key in cfg:
        if key not in known:
            _fail(key, cfg[key], f"unknown key; valid top-level keys: {', '.join(sorted(known))}")
    for group, schemas in SCHEMAS.items():
        node = cfg.get(group)
        if not isinstance(node, dict):
            _fail(group, node, "must be a config group")
        name = node.get("name", "default") if group in ("data", "optim") else "default"
        schema = schemas.get(name)
        if schema is None:
            _fail(f"{group}.name", name, f"choose one of {', '.join(schemas)}")
        valid = [f.name for f in fields(schema)]
        for key in node:
            if key not in valid:
                _fail(f"{group}.{key}", node[key], f"unknown key for {group} {name!r}; valid: "
                      + ", ".join(valid))


def check(cfg: dict) -> None:
    """Check the keys and values of a resolved job config (a plain dict); one-line
    ``ConfigError``."""
    _check_keys(cfg)
    seed = cfg.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        _fail("seed", seed, "must be an integer >= 0")
    _int_at_least(cfg, "model.hidden", 1)
    _choice(cfg, "model.activation", tuple(ACTIVATIONS))
    _choice(cfg, "init.scheme", SCHEMES)
    _positive(cfg, "init.scale", allow_zero=True)
    _choice(cfg, "optim.name", tuple(SCHEMAS["optim"]))
    _positive(cfg, "optim.lr")
    _choice(cfg, "optim.schedule", SCHEDULES)
    _int_at_least(cfg, "optim.every", 1)
    for key in ("beta", "rho", "b1", "b2"):
        v = cfg["optim"].get(key)
        if v is not None and not (isinstance(v, int | float) and 0 <= v < 1):
            _fail(f"optim.{key}", v, "must lie in [0, 1)")
    if "eps" in cfg["optim"]:
        _positive(cfg, "optim.eps")
    t = "train."
    _int_at_least(cfg, t + "networks", 1)
    _choice(cfg, t + "loss", LOSSES)
    _int_at_least(cfg, t + "max_steps", 0)
    for key in ("loss_tol", "grad_tol"):
        _positive(cfg, t + key, allow_zero=True)
    for key in ("diverge_loss", "diverge_norm"):
        _positive(cfg, t + key)
    _int_at_least(cfg, t + "batch_size", 0)
    _choice(cfg, t + "batch_order", ("shared", "network"))
    _int_at_least(cfg, t + "curve_points", 2)
    _int_at_least(cfg, t + "threads", 0)
    _int_at_least(cfg, t + "chunk", 0)
    _int_at_least(cfg, t + "max_memory_mb", 16)
    _choice(cfg, t + "dtype", ("float64", "float32"))
    if cfg["model"]["frozen_output"] and cfg["train"]["loss"] == "softmax":
        _fail("model.frozen_output", True, "the committee machine has one output; "
              "it cannot be trained with train.loss=softmax")
