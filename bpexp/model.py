"""The two-layer network ``f(x) = U s(W x + b) + c`` and its flat parameter vector.

Flat order (the public contract)::

    theta = [W (hidden x inputs, row-major), b (hidden),
             U (outputs x hidden, row-major), c (outputs)]

Parts a variant removes are left out, the rest keeping this order: ``hidden_bias=False``
drops ``b``, ``output_bias=False`` drops ``c``, and ``frozen_output=True`` fixes ``U`` to ones
and drops both ``U`` and ``c`` (the committee machine ``x -> sum_j s(w_j . x)``).
Every function takes a batch ``theta`` of shape ``(N, P)`` or a single vector ``(P,)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import backprop
from .activations import Activation, get_activation
from .initializers import init_params

Array = np.ndarray


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class TwoLayerNet:
    """Architecture of a two-layer network; inert configuration, no parameters inside.

    Parameters
    ----------
    inputs, hidden, outputs : int
        Layer sizes ``D``, ``H``, ``O``.
    activation : str
        Hidden activation: ``tanh`` (default), ``sigmoid``, ``relu``, ``linear``,
        ``softplus``, ``erf``. The output is linear.
    hidden_bias, output_bias : bool
        Whether ``b`` and ``c`` exist.
    frozen_output : bool
        ``U`` fixed to ones and no ``c``: only ``W`` (and ``b``) are parameters.
    """

    inputs: int
    hidden: int
    outputs: int = 1
    activation: str = "tanh"
    hidden_bias: bool = True
    output_bias: bool = True
    frozen_output: bool = False
    act: Activation = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("inputs", "hidden", "outputs"):
            _positive_int(name, getattr(self, name))
        if self.frozen_output and self.outputs != 1:
            raise ValueError(
                f"frozen_output (the committee machine) has one output, got outputs={self.outputs}"
            )
        object.__setattr__(self, "act", get_activation(self.activation))

    # ----------------------------------------------------------------- sizes
    @property
    def sizes(self) -> dict[str, int]:
        """Number of parameters in each part (``W``, ``b``, ``U``, ``c``), 0 if absent."""
        D, H, O = self.inputs, self.hidden, self.outputs
        trained_out = not self.frozen_output
        return {
            "W": H * D,
            "b": H if self.hidden_bias else 0,
            "U": O * H if trained_out else 0,
            "c": O if (self.output_bias and trained_out) else 0,
        }

    @property
    def num_params(self) -> int:
        """Length ``P`` of the flat parameter vector."""
        return sum(self.sizes.values())

    # ------------------------------------------------------- flat <-> parts
    def check_theta(self, theta: object) -> Array:
        """``theta`` as a float array of shape ``(N, P)`` or ``(P,)``; one-line error otherwise."""
        arr = np.asarray(theta)
        if arr.dtype.kind not in "fiu" or arr.dtype.kind == "b":
            raise ValueError(f"theta must be a real floating-point array, got dtype {arr.dtype}")
        if arr.ndim not in (1, 2) or arr.shape[-1] != self.num_params:
            raise ValueError(
                f"theta must have shape (N, {self.num_params}) or ({self.num_params},) "
                f"for this network, got {arr.shape}"
            )
        return arr if arr.dtype.kind == "f" else arr.astype(np.float64)

    def unflatten(self, theta: Array) -> tuple[Array, Array | None, Array, Array | None]:
        """Split ``theta`` ``(..., P)`` into views ``W (..., H, D)``, ``b (..., H)``,
        ``U (..., O, H)``, ``c (..., O)``; absent biases are ``None``, a frozen ``U`` is ones."""
        theta = self.check_theta(theta)
        lead = theta.shape[:-1]
        D, H, O = self.inputs, self.hidden, self.outputs
        parts, start = {}, 0
        for name, n in self.sizes.items():
            parts[name] = theta[..., start : start + n]
            start += n
        W = parts["W"].reshape(*lead, H, D)
        b = parts["b"] if self.hidden_bias else None
        if self.frozen_output:
            U = np.ones((*lead, O, H), dtype=theta.dtype)
        else:
            U = parts["U"].reshape(*lead, O, H)
        c = parts["c"] if self.sizes["c"] else None
        return W, b, U, c

    def flatten(self, W: Array, b: Array | None = None, U: Array | None = None,
                c: Array | None = None) -> Array:
        """Inverse of :meth:`unflatten`: stack the parts into ``theta`` ``(..., P)``.

        Parts the variant does not have must be ``None`` (a frozen ``U`` may be passed and
        is ignored)."""
        W = np.asarray(W, dtype=float)
        lead = W.shape[:-2]
        D, H, O = self.inputs, self.hidden, self.outputs
        if W.shape[-2:] != (H, D):
            raise ValueError(f"W must have shape (..., {H}, {D}), got {W.shape}")
        pieces = [W.reshape(*lead, H * D)]
        expected = {"b": (b, (H,)), "U": (U, (O, H)), "c": (c, (O,))}
        for name, (value, shape) in expected.items():
            present = self.sizes[name] > 0
            if present and value is None:
                raise ValueError(f"this network has {name}; pass it to flatten")
            if not present:
                if value is not None and not (name == "U" and self.frozen_output):
                    raise ValueError(f"this network has no {name}; pass None")
                continue
            value = np.asarray(value, dtype=float)
            if value.shape != (*lead, *shape):
                raise ValueError(f"{name} must have shape {(*lead, *shape)}, got {value.shape}")
            pieces.append(value.reshape(*lead, -1))
        return np.concatenate(pieces, axis=-1)

    # ------------------------------------------------------------- use
    def predict(self, theta: Array, X: Array) -> Array:
        """Network outputs for inputs ``X (B, D)``: ``(N, B, O)``, or ``(B, O)`` for ``(P,)``."""
        theta = self.check_theta(theta)
        X = self.check_inputs(X)
        packed = backprop.pack(self, np.atleast_2d(theta))
        yhat = backprop.forward(self, backprop.augment(self, X), packed)  # (B, O, N)
        out = np.moveaxis(yhat, -1, 0)
        return out[0] if theta.ndim == 1 else out

    def check_inputs(self, X: object) -> Array:
        """``X`` as float64 ``(B, inputs)``; one-line error otherwise."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.inputs:
            raise ValueError(f"X must have shape (B, {self.inputs}), got {X.shape}")
        return X

    def init(self, networks: int, seed: int, scheme: str = "xavier", scale: float = 1.0,
             first: int = 0) -> Array:
        """Initial parameters ``(networks, P)`` for networks ``first .. first+networks-1``.

        Network ``k`` of ``seed`` draws from its own stream (``seeding.INIT, k``), so it is
        the same whatever ``networks`` and ``first`` are. See :mod:`bpexp.initializers`."""
        return init_params(self, networks, seed, scheme, scale, first)
