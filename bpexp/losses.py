"""Per-sample losses and output errors ``delta_y`` in the packed (network-last) layout.

Predictions are ``yhat (B, O, C)`` (samples, outputs, networks) and encoded targets
``T (B, O, 1)``, broadcast over networks. ``apply(yhat, T, losses)`` overwrites ``yhat``
with ``delta_y = dl/dyhat`` and writes the per-sample losses ``l (B, C)``:

* ``squared``: ``l = 1/2 ||yhat - y||^2``, ``delta_y = yhat - y`` (the backprop equations).
* ``logistic``: binary targets in {0, 1}, ``yhat`` a logit: ``l = log(1 + e^yhat) - y yhat``
  (stable via ``logaddexp``), ``delta_y = sigmoid(yhat) - y``.
* ``softmax``: ``yhat`` the K class logits, ``T`` one-hot: ``l = logsumexp(yhat) - yhat_y``,
  ``delta_y = softmax(yhat) - onehot``.

The objective is the (weighted) mean of ``l`` over samples.
"""

from __future__ import annotations

import numpy as np
from scipy import special

Array = np.ndarray
LOSSES = ("squared", "logistic", "softmax")


def _squared(yhat: Array, T: Array, losses: Array) -> None:
    np.subtract(yhat, T, out=yhat)
    if yhat.shape[1] == 1:
        np.multiply(yhat[:, 0], yhat[:, 0], out=losses)
    else:
        np.einsum("boc,boc->bc", yhat, yhat, out=losses)
    losses *= 0.5


def _logistic(yhat: Array, T: Array, losses: Array) -> None:
    z = yhat[:, 0]
    np.logaddexp(0.0, z, out=losses)
    losses -= T[:, 0] * z
    special.expit(z, out=z)
    np.subtract(yhat, T, out=yhat)


def _softmax(yhat: Array, T: Array, losses: Array) -> None:
    m = yhat.max(axis=1, keepdims=True)
    picked = np.einsum("boc,boc->bc", yhat, np.broadcast_to(T, yhat.shape))
    np.subtract(yhat, m, out=yhat)
    np.exp(yhat, out=yhat)
    s = yhat.sum(axis=1, keepdims=True)
    np.log(s[:, 0], out=losses)
    losses += m[:, 0]
    losses -= picked
    yhat /= s
    yhat -= T


_APPLY = {"squared": _squared, "logistic": _logistic, "softmax": _softmax}


def check_loss(name: str) -> str:
    """Return ``name`` if it is a known loss, else raise a one-line ``ValueError``."""
    if name not in _APPLY:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    return name


def apply(name: str, yhat: Array, T: Array, losses: Array) -> None:
    """Overwrite ``yhat (B, O, C)`` with ``delta_y`` and write per-sample losses ``(B, C)``."""
    _APPLY[name](yhat, T, losses)


def encode_targets(name: str, Y: Array, outputs: int) -> Array:
    """Targets as ``T (B, O, 1)`` float64: one-hot for ``softmax`` (``Y`` integer labels
    ``(B,)``), else ``Y (B, O)`` as given (logistic targets must be in {0, 1})."""
    Y = np.asarray(Y)
    if name == "softmax":
        labels = Y.reshape(-1)
        if Y.ndim not in (1, 2) or (Y.ndim == 2 and Y.shape[1] != 1):
            raise ValueError(f"softmax targets must be integer labels of shape (B,), got {Y.shape}")
        if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
            raise ValueError("softmax targets must be integer class labels")
        labels = labels.astype(np.int64)
        if labels.min() < 0 or labels.max() >= outputs:
            raise ValueError(
                f"softmax labels must lie in 0..{outputs - 1} for {outputs} outputs, "
                f"got {labels.min()}..{labels.max()}"
            )
        T = np.zeros((labels.size, outputs, 1))
        T[np.arange(labels.size), labels, 0] = 1.0
        return T
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2 or Y.shape[1] != outputs:
        raise ValueError(f"targets must have shape (B, {outputs}), got {Y.shape}")
    if not np.all(np.isfinite(Y)):
        raise ValueError("targets contain NaN or infinite values")
    if name == "logistic" and not np.all((Y == 0) | (Y == 1)):
        raise ValueError("logistic loss needs binary targets in {0, 1}")
    return Y[:, :, None].copy()
