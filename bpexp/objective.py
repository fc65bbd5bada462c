"""``Objective``: the training loss of a batch of networks on one dataset, and its gradient."""

from __future__ import annotations

import numpy as np

from . import backprop, losses
from .model import TwoLayerNet

Array = np.ndarray


class Objective:
    """Mean loss over samples of ``net`` on ``(X, Y)``, for batches of parameter vectors.

    Parameters
    ----------
    net : TwoLayerNet
    X : array (B, D)
    Y : array (B, O), or integer labels (B,) for ``loss="softmax"``
    loss : {"squared", "logistic", "softmax"}
        ``squared`` is ``mean_b 1/2 ||yhat_b - y_b||^2``, so ``delta_y = yhat - y`` per
        sample as in the backprop equations; see :mod:`bpexp.losses`.

    Every method takes ``theta`` of shape ``(N, P)`` or ``(P,)`` and returns arrays with the
    same leading shape: ``value -> (N,)``, ``grad -> (N, P)``.
    """

    def __init__(self, net: TwoLayerNet, X: Array, Y: Array, loss: str = "squared"):
        self.net = net
        self.loss = losses.check_loss(loss)
        self.X = net.check_inputs(X)
        if not np.all(np.isfinite(self.X)):
            raise ValueError("X contains NaN or infinite values")
        self.T = losses.encode_targets(self.loss, Y, net.outputs)
        if self.T.shape[0] != self.X.shape[0]:
            raise ValueError(
                f"X and Y must have the same number of samples, got {self.X.shape[0]} "
                f"and {self.T.shape[0]}"
            )
        self.X1 = backprop.augment(net, self.X)

    @property
    def samples(self) -> int:
        return self.X.shape[0]

    def kernel(self, width: int, dtype: np.dtype = np.float64) -> backprop.Backprop:
        """A :class:`~bpexp.backprop.Backprop` for ``width`` networks on this data."""
        return backprop.Backprop(self.net, self.X1, self.T, self.loss, width, dtype)

    def value_and_grad(self, theta: Array) -> tuple[Array, Array]:
        """Loss ``(N,)`` and gradient ``(N, P)`` (or ``()`` and ``(P,)`` for one vector)."""
        th = self.net.check_theta(theta)
        packed = backprop.pack(self.net, np.atleast_2d(th))
        grad = np.empty_like(packed)
        value = self.kernel(packed.shape[1]).loss_grad(packed, grad).copy()
        g = backprop.unpack(self.net, grad)
        return (value[0], g[0]) if th.ndim == 1 else (value, g)

    def value(self, theta: Array) -> Array:
        """Loss ``(N,)`` (or a scalar for one vector)."""
        th = self.net.check_theta(theta)
        packed = backprop.pack(self.net, np.atleast_2d(th))
        value = self.kernel(packed.shape[1]).loss_grad(packed, None).copy()
        return value[0] if th.ndim == 1 else value

    def grad(self, theta: Array) -> Array:
        """Gradient ``(N, P)`` (or ``(P,)``)."""
        return self.value_and_grad(theta)[1]
