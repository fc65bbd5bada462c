"""Hidden-unit activations with their first and second derivatives.

Each activation knows ``s(a)``, ``s'(a)`` and ``s''(a)``. The derivatives take both the
pre-activation ``a`` and the output ``z = s(a)``, because for tanh and the logistic sigmoid
they are cheapest from ``z`` (``1 - z**2``, ``z (1 - z)``). Every function is elementwise on
arrays of any shape and writes into ``out`` when it is given (the hot loop reuses buffers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

from . import fastmath

Array = np.ndarray
_SQRT_PI_2 = 2.0 / np.sqrt(np.pi)


def _out(a: Array, out: Array | None) -> Array:
    return np.empty_like(a) if out is None else out


def _tanh_d1(a: Array, z: Array, out: Array | None = None) -> Array:
    out = np.multiply(z, z, out=out)
    return np.subtract(1.0, out, out=out)


def _tanh_d2(a: Array, z: Array, out: Array | None = None) -> Array:
    out = _tanh_d1(a, z, out)  # 1 - z^2
    out *= z
    out *= -2.0
    return out


def _sig_d1(a: Array, z: Array, out: Array | None = None) -> Array:
    out = np.subtract(1.0, z, out=out)
    return np.multiply(out, z, out=out)


def _sig_d2(a: Array, z: Array, out: Array | None = None) -> Array:
    out = _sig_d1(a, z, out)  # z (1 - z)
    return np.multiply(out, 1.0 - 2.0 * z, out=out)


def _relu(a: Array, out: Array | None = None) -> Array:
    return np.maximum(a, 0.0, out=out)


def _relu_d1(a: Array, z: Array, out: Array | None = None) -> Array:
    out = _out(a, out)
    np.greater(a, 0.0, out=out, casting="unsafe")
    return out


def _zero(a: Array, z: Array, out: Array | None = None) -> Array:
    out = _out(a, out)
    out[...] = 0.0
    return out


def _one(a: Array, z: Array, out: Array | None = None) -> Array:
    out = _out(a, out)
    out[...] = 1.0
    return out


def _identity(a: Array, out: Array | None = None) -> Array:
    if out is None:
        return a.copy()
    out[...] = a
    return out


def _softplus(a: Array, out: Array | None = None) -> Array:
    return np.logaddexp(0.0, a, out=out)


def _softplus_d1(a: Array, z: Array, out: Array | None = None) -> Array:
    return special.expit(a, out=out)


def _softplus_d2(a: Array, z: Array, out: Array | None = None) -> Array:
    out = special.expit(a, out=out)
    return np.multiply(out, special.expit(-a), out=out)


def _erf(a: Array, out: Array | None = None) -> Array:
    return special.erf(a, out=out)


def _erf_d1(a: Array, z: Array, out: Array | None = None) -> Array:
    out = np.multiply(a, a, out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)
    out *= _SQRT_PI_2
    return out


def _erf_d2(a: Array, z: Array, out: Array | None = None) -> Array:
    out = _erf_d1(a, z, out)
    out *= a
    out *= -2.0
    return out


@dataclass(frozen=True)
class Activation:
    """An elementwise activation ``s`` with ``s'`` and ``s''``.

    Attributes
    ----------
    name : str
        Registry name (``tanh``, ``sigmoid``, ``relu``, ``linear``, ``softplus``, ``erf``).
    fn : callable ``(a, out=None) -> z``
    d1 : callable ``(a, z, out=None) -> s'(a)``
    d2 : callable ``(a, z, out=None) -> s''(a)``
    range : tuple of float
        Bounds of the outputs (``(-1, 1)`` for tanh).
    odd : bool
        ``s(-a) = -s(a)``: flipping a unit's signs is then a symmetry of the network.
    from_output : bool
        ``d1`` and ``d2`` need only ``z``, so ``a`` may be overwritten by ``z``.
    """

    name: str
    fn: Callable[..., Array]
    d1: Callable[..., Array]
    d2: Callable[..., Array]
    range: tuple[float, float]
    odd: bool
    from_output: bool


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("tanh", fastmath.tanh, _tanh_d1, _tanh_d2, (-1.0, 1.0), True, True),
        Activation("sigmoid", special.expit, _sig_d1, _sig_d2, (0.0, 1.0), False, True),
        Activation("relu", _relu, _relu_d1, _zero, (0.0, np.inf), False, False),
        Activation("linear", _identity, _one, _zero, (-np.inf, np.inf), True, False),
        Activation("softplus", _softplus, _softplus_d1, _softplus_d2, (0.0, np.inf), False, False),
        Activation("erf", _erf, _erf_d1, _erf_d2, (-1.0, 1.0), True, False),
    )
}


def get_activation(name: str) -> Activation:
    """Look up an activation by name; an unknown name raises ``ValueError`` listing the choices."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}"
        ) from None
