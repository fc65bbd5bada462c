"""The losses, their target encodings and their output errors ``delta_y``.

The computation itself is compiled (:func:`bpexp.fused.middle`); per sample:

* ``squared``: ``l = 1/2 ||yhat - y||^2``, ``delta_y = yhat - y`` (the backprop equations).
* ``logistic``: binary targets in {0, 1}, ``yhat`` a logit: ``l = log(1 + e^yhat) - y yhat``
  (evaluated stably), ``delta_y = sigmoid(yhat) - y``.
* ``softmax``: ``yhat`` the K class logits, targets one-hot:
  ``l = logsumexp(yhat) - yhat_y``, ``delta_y = softmax(yhat) - onehot``.

The objective is the (weighted) mean of ``l`` over samples.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray
LOSSES = ("squared", "logistic", "softmax")


def check_loss(name: str) -> str:
    """Return ``name`` if it is a known loss, else raise a one-line ``ValueError``."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    return name


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
