"""Initial parameters for batches of networks, one seeded stream per network.

Schemes (``scale`` multiplies every standard deviation or half-width):

============  =================================================================
``normal``    every parameter ~ N(0, scale^2), biases included
``uniform``   every parameter ~ U(-scale, scale), biases included
``xavier``    W ~ N(0, 2 scale^2 / (D + H)), U ~ N(0, 2 scale^2 / (H + O)), biases 0
``he``        W ~ N(0, 2 scale^2 / D), U ~ N(0, scale^2 / H), biases 0
``zeros``     all parameters 0 (no gradient reaches W while U = 0)
``identical`` one xavier unit (w, b, u) copied to every hidden unit: the symmetric trap
============  =================================================================

Network ``k`` of ``seed`` draws ``P`` standard variates from stream ``(INIT, k)`` (see
:mod:`bpexp.seeding`), so it is bit-identical however networks are batched or launched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import seeding

if TYPE_CHECKING:
    from .model import TwoLayerNet

SCHEMES = ("normal", "uniform", "xavier", "he", "zeros", "identical")


def _standard(net: TwoLayerNet, networks: int, seed: int, first: int, uniform: bool) -> np.ndarray:
    """``(networks, P)`` standard normal (or U(-1, 1)) variates, one stream per network."""
    P = net.num_params
    out = np.empty((networks, P))
    for i in range(networks):  # one generator per network: the batching-invariance contract
        g = seeding.rng(seed, seeding.INIT, first + i)
        out[i] = g.uniform(-1.0, 1.0, P) if uniform else g.standard_normal(P)
    return out


def _layer_stds(net: TwoLayerNet, scheme: str) -> tuple[float, float]:
    D, H, O = net.inputs, net.hidden, net.outputs
    if scheme == "xavier":
        return np.sqrt(2.0 / (D + H)), np.sqrt(2.0 / (H + O))
    return np.sqrt(2.0 / D), np.sqrt(1.0 / H)  # he


def init_params(net: TwoLayerNet, networks: int, seed: int, scheme: str = "xavier",
                scale: float = 1.0, first: int = 0) -> np.ndarray:
    """Initial ``theta`` ``(networks, P)`` for networks ``first, ..., first + networks - 1``.

    Raises ``ValueError`` (one line) for an unknown scheme, a negative or non-finite
    ``scale``, ``networks < 1`` or a bad seed.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown init scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
    if not np.isfinite(scale) or scale < 0:
        raise ValueError(f"init scale must be finite and >= 0, got {scale!r}")
    if isinstance(networks, bool) or not isinstance(networks, int | np.integer) or networks < 1:
        raise ValueError(f"networks must be an integer >= 1, got {networks!r}")
    seeding.check_seed(seed)
    seeding.check_seed(first, "first")
    if scheme == "zeros":
        return np.zeros((networks, net.num_params))
    raw = _standard(net, networks, seed, first, uniform=scheme == "uniform")
    if scheme in ("normal", "uniform"):
        return scale * raw
    W, b, U, c = net.unflatten(raw)
    sw, su = _layer_stds(net, "xavier" if scheme == "identical" else scheme)
    W = scale * sw * W
    U = scale * su * U
    if scheme == "identical":  # every hidden unit a copy of unit 0
        W = np.repeat(W[:, :1, :], net.hidden, axis=1)
        U = np.repeat(U[:, :, :1], net.hidden, axis=2)
    zero = np.zeros_like
    return net.flatten(
        W,
        None if b is None else zero(b),
        None if net.frozen_output else U,
        None if c is None else zero(c),
    )
