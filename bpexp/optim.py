"""Batched optimisers in the optax style: small ``init`` / ``update`` pieces.

Parameters and gradients are packed arrays ``(P, C)`` (parameters x networks). ``init``
returns the state, an array ``(S, P, C)`` with the network axis last (so a trainer can
gather and scatter networks; ``S`` is 0, 1 or 2), and ``update(theta, grad, state, lr, t)``
applies step ``t`` (0-based) in place; ``lr`` is a per-network learning rate ``(C,)``
(0 freezes a network). The rules are one compiled function (:func:`apply_update`), which
the trainer's compiled step loop calls too.

==============  ==========================================================================
``gd``          theta -= lr g
``momentum``    v = beta v + g; theta -= lr v  (heavy ball), or with ``nesterov=True``
                theta -= lr (g + beta v)
``rmsprop``     s = rho s + (1 - rho) g^2; theta -= lr g / (sqrt(s) + eps)
``adam``        m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
                theta -= lr mhat / (sqrt(vhat) + eps), mhat = m / (1 - b1^(t+1)),
                vhat = v / (1 - b2^(t+1))  (Kingma & Ba 2015)
==============  ==========================================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

Array = np.ndarray
OPTIMIZERS = ("gd", "momentum", "rmsprop", "adam")
_STATE = {"gd": 0, "momentum": 1, "rmsprop": 1, "adam": 2}


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def apply_update(code, hyper, theta, grad, state, lr, t):  # pragma: no cover - compiled
    """Update ``theta (P, C)`` in place by rule ``code`` (index in :data:`OPTIMIZERS`).

    ``hyper`` holds ``(beta, nesterov)``, ``(rho, eps)`` or ``(b1, b2, eps)``."""
    P, C = theta.shape
    if code == 0:
        for p in range(P):
            for k in range(C):
                theta[p, k] -= lr[k] * grad[p, k]
    elif code == 1:
        beta, nesterov = hyper[0], hyper[1] != 0.0
        for p in range(P):
            for k in range(C):
                v = beta * state[0, p, k] + grad[p, k]
                state[0, p, k] = v
                theta[p, k] -= lr[k] * (grad[p, k] + beta * v if nesterov else v)
    elif code == 2:
        rho, eps = hyper[0], hyper[1]
        for p in range(P):
            for k in range(C):
                g = grad[p, k]
                s = rho * state[0, p, k] + (1.0 - rho) * g * g
                state[0, p, k] = s
                theta[p, k] -= lr[k] * g / (math.sqrt(s) + eps)
    else:
        b1, b2, eps = hyper[0], hyper[1], hyper[2]
        c1, c2 = 1.0 - b1 ** (t + 1), 1.0 - b2 ** (t + 1)
        for p in range(P):
            for k in range(C):
                g = grad[p, k]
                m = b1 * state[0, p, k] + (1.0 - b1) * g
                v = b2 * state[1, p, k] + (1.0 - b2) * g * g
                state[0, p, k] = m
                state[1, p, k] = v
                theta[p, k] -= lr[k] * (m / c1) / (math.sqrt(v / c2) + eps)


@dataclass(frozen=True)
class Optimizer:
    """An update rule and its hyper-parameters; inert, the logic is :func:`apply_update`."""

    name: str
    hyper: tuple[float, ...] = ()

    @property
    def code(self) -> int:
        return OPTIMIZERS.index(self.name)

    @property
    def hyper_array(self) -> Array:
        return np.array([*self.hyper, 0.0, 0.0, 0.0][:3], dtype=np.float64)

    def init(self, theta: Array) -> Array:
        """Zero state ``(S, P, C)`` for packed ``theta (P, C)``."""
        return np.zeros((_STATE[self.name], *theta.shape), dtype=theta.dtype)

    def update(self, theta: Array, grad: Array, state: Array, lr: Array, t: int) -> None:
        """Apply update ``t`` in place (``grad`` is left unchanged)."""
        apply_update(self.code, self.hyper_array, theta, grad, state,
                     np.asarray(lr, dtype=theta.dtype), t)


def gd() -> Optimizer:
    return Optimizer("gd")


def momentum(beta: float = 0.9, nesterov: bool = False) -> Optimizer:
    return Optimizer("momentum", (float(beta), float(nesterov)))


def rmsprop(rho: float = 0.9, eps: float = 1e-8) -> Optimizer:
    return Optimizer("rmsprop", (float(rho), float(eps)))


def adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    return Optimizer("adam", (float(b1), float(b2), float(eps)))


def _check_unit(name: str, value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"optim.{name} must lie in [0, 1), got {value!r}")


def make(name: str, beta: float = 0.9, nesterov: bool = False, rho: float = 0.9,
         b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    """The optimiser ``name`` with its hyper-parameters (those it does not use are ignored)."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    if not eps > 0:
        raise ValueError(f"optim.eps must be > 0, got {eps!r}")
    if name == "gd":
        return gd()
    if name == "momentum":
        _check_unit("beta", beta)
        return momentum(beta, nesterov)
    if name == "rmsprop":
        _check_unit("rho", rho)
        return rmsprop(rho, eps)
    _check_unit("b1", b1)
    _check_unit("b2", b2)
    return adam(b1, b2, eps)
