"""Batched optimisers in the optax style: small ``init`` / ``update`` pieces.

Parameters and gradients are packed arrays ``(P, C)`` (parameters x networks). ``init``
returns a tuple of state arrays with the network axis last (so a trainer can gather and
scatter networks), and ``update(theta, grad, state, lr, t)`` applies step ``t`` (0-based) in
place; ``lr`` is a per-network learning rate ``(C,)`` (0 freezes a network). ``grad`` may
be overwritten.

==============  ==========================================================================
``gd``          theta -= lr g
``momentum``    v = beta v + g; theta -= lr v  (heavy ball), or with ``nesterov=True``
                theta -= lr (g + beta v)
``rmsprop``     s = rho s + (1 - rho) g^2; theta -= lr g / (sqrt(s) + eps)
``adam``        m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
                theta -= lr mhat / (sqrt(vhat) + eps) with bias-corrected mhat, vhat
==============  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray
OPTIMIZERS = ("gd", "momentum", "rmsprop", "adam")


@dataclass(frozen=True)
class Optimizer:
    """A pair of pure pieces: ``init(theta) -> state`` and an in-place ``update``."""

    name: str
    init: Callable[[Array], tuple[Array, ...]]
    update: Callable[[Array, Array, tuple[Array, ...], Array, int], None]


def gd() -> Optimizer:
    def update(theta, grad, state, lr, t):
        grad *= lr
        theta -= grad

    return Optimizer("gd", lambda theta: (), update)


def momentum(beta: float = 0.9, nesterov: bool = False) -> Optimizer:
    def update(theta, grad, state, lr, t):
        (v,) = state
        v *= beta
        v += grad
        if nesterov:
            grad += beta * v
        else:
            grad[...] = v
        grad *= lr
        theta -= grad

    return Optimizer("momentum", lambda theta: (np.zeros_like(theta),), update)


def rmsprop(rho: float = 0.9, eps: float = 1e-8) -> Optimizer:
    def update(theta, grad, state, lr, t):
        (s,) = state
        s *= rho
        s += (1.0 - rho) * grad * grad
        grad *= lr
        grad /= np.sqrt(s) + eps
        theta -= grad

    return Optimizer("rmsprop", lambda theta: (np.zeros_like(theta),), update)


def adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    def update(theta, grad, state, lr, t):
        m, v = state
        m *= b1
        m += (1.0 - b1) * grad
        v *= b2
        v += (1.0 - b2) * grad * grad
        c1 = 1.0 - b1 ** (t + 1)
        c2 = 1.0 - b2 ** (t + 1)
        denom = np.sqrt(v / c2)
        denom += eps
        np.divide(m, denom, out=grad)
        grad *= lr / c1
        theta -= grad

    return Optimizer("adam", lambda theta: (np.zeros_like(theta), np.zeros_like(theta)), update)


def _check_unit(name: str, value: float, low_open: bool = False) -> None:
    ok = 0.0 < value < 1.0 if low_open else 0.0 <= value < 1.0
    if not ok:
        interval = "(0, 1)" if low_open else "[0, 1)"
        raise ValueError(f"optim.{name} must lie in {interval}, got {value!r}")


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
