"""Batched forward pass and backprop in the packed, network-last layout.

The public ``theta (N, P)`` is repacked once into ``Theta (P, N)`` whose rows are ordered
for the hot loop (``pack`` / ``unpack`` convert)::

    [ W^T with b appended as a last row : (D + hb, H) row-major | U^T : (H, O) | c : (O) ]

so that, with the network axis innermost and ``X1 = [X, 1]``, the first layer of all
networks is one matrix product ``A = X1 @ Wb`` of shape ``(B, H*N)`` and its gradient
``X1^T @ Delta`` another. The backprop equations, per sample and network::

    a = W x + b,  z = s(a),  yhat = U z + c,  delta_y = dl/dyhat
    delta_j = s'(a_j) sum_o u_oj delta_y,o
    dE/dW = delta x^T,  dE/db = delta,  dE/dU = delta_y z^T,  dE/dc = delta_y

averaged over samples (or weighted, for per-network minibatches), computed by the compiled
:func:`bpexp.fused.loss_grad` (for tiny inputs, ``B (D + 1) <= SMALL_INPUTS``, the two
products too, since a BLAS call then costs more than its arithmetic). Every reduction runs
over an axis that is not the network axis, in a fixed order, so a network's numbers do
not depend on its neighbours when the width ``C`` of the arrays is fixed.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from . import fused, losses

if TYPE_CHECKING:
    from .model import TwoLayerNet

Array = np.ndarray
SMALL_INPUTS = 64  # B * (D + 1) up to which the first layer skips BLAS


@lru_cache(maxsize=64)
def packed_index(net: TwoLayerNet) -> Array:
    """Indices ``idx`` with ``Theta = theta[:, idx].T``: public column of each packed row."""
    D, H, O = net.inputs, net.hidden, net.outputs
    W, b, U, c = net.unflatten(np.arange(net.num_params, dtype=float))
    rows = [W.T.reshape(-1)]  # (D, H) row-major
    if b is not None:
        rows.append(b)
    if not net.frozen_output:
        rows.append(U.T.reshape(-1))  # (H, O)
        if c is not None:
            rows.append(c)
    idx = np.concatenate(rows).astype(np.intp)
    assert idx.size == net.num_params and D * H <= idx.size and O >= 1
    return idx


def pack(net: TwoLayerNet, theta: Array, dtype: np.dtype = np.float64) -> Array:
    """``theta (N, P)`` -> packed ``Theta (P, N)``, C-contiguous (float64 by default)."""
    return np.ascontiguousarray(theta[:, packed_index(net)].T, dtype=dtype)


def unpack(net: TwoLayerNet, packed: Array) -> Array:
    """Packed ``Theta (P, N)`` -> ``theta (N, P)`` in the public order."""
    theta = np.empty((packed.shape[1], packed.shape[0]), dtype=packed.dtype)
    theta[:, packed_index(net)] = packed.T
    return theta


def augment(net: TwoLayerNet, X: Array) -> Array:
    """``X (B, D)`` -> ``X1 (B, D + 1)`` with a ones column when the net has hidden biases."""
    X = np.asarray(X, dtype=np.float64)
    if net.hidden_bias:
        X = np.hstack([X, np.ones((X.shape[0], 1))])
    return np.ascontiguousarray(X)


def views(net: TwoLayerNet, Theta: Array) -> tuple[Array, Array, Array | None]:
    """Views of packed ``Theta (P, C)``: ``Wb (D + hb, H*C)``, ``U (H, O, C)`` (ones when
    frozen), ``c (O, C)`` or ``None``."""
    D, H, O = net.inputs, net.hidden, net.outputs
    C = Theta.shape[1]
    din = D + net.hidden_bias
    nw = din * H
    Wb = Theta[:nw].reshape(din, H * C)
    if net.frozen_output:
        return Wb, np.ones((H, O, 1)), None
    U = Theta[nw : nw + H * O].reshape(H, O, C)
    c = Theta[nw + H * O :].reshape(O, C) if net.output_bias else None
    return Wb, U, c


def forward(net: TwoLayerNet, X1: Array, Theta: Array) -> Array:
    """Outputs ``yhat (B, O, C)`` of packed ``Theta (P, C)`` on augmented inputs ``X1``."""
    H = net.hidden
    Wb, U, c = views(net, Theta)
    Z = net.act.fn(X1 @ Wb).reshape(X1.shape[0], H, -1)
    yhat = np.einsum("bhc,hoc->boc", Z, np.broadcast_to(U, (H, net.outputs, Z.shape[2])))
    if c is not None:
        yhat += c
    return yhat


class Backprop:
    """Loss and gradient of ``C`` networks at once, with preallocated buffers.

    Parameters
    ----------
    net : TwoLayerNet
    X1 : array (B, D + hb)
        Augmented inputs (see :func:`augment`).
    T : array (B, O, 1)
        Targets encoded for ``loss`` (see :func:`bpexp.losses.encode_targets`).
    loss : str
    width : int
        Number ``C`` of networks per call: every call has the same shapes.
    dtype : numpy dtype
        Of the parameters and every buffer (float64, or float32 for speed).
    """

    def __init__(self, net: TwoLayerNet, X1: Array, T: Array, loss: str, width: int,
                 dtype: np.dtype = np.float64):
        self.net, self.loss, self.C = net, losses.check_loss(loss), int(width)
        f = self.dtype = np.dtype(dtype)
        self.X1 = np.array(X1, dtype=f, order="C")  # own copies: minibatches write
        self.X1T = np.ascontiguousarray(self.X1.T)
        self.T = np.array(T[:, :, 0], dtype=f, order="C")  # (B, O)
        B, H, O, C = self.X1.shape[0], net.hidden, net.outputs, self.C
        self.B = B
        self.codes = fused.ACT_CODES[net.activation], fused.LOSS_CODES[self.loss]
        self.A = np.empty((B, H * C), f)
        self.S = np.empty((B, H, C), f)
        self.Z = np.empty((B, H, C), f)
        self.value = np.empty(C, f)
        self.uniform = np.full((B, C), 1.0 / B, f)
        self.ones_U = np.ones((H, O, C), f)
        self.zero_c = np.zeros((O, C), f)
        self.spare_gU = np.empty((H, O, C), f)
        self.spare_gc = np.empty((O, C), f)
        self.scratch = np.empty((2, B * H * C))  # float64: tanh builds 2^k from its bits
        din = self.X1.shape[1]
        self.spare_gWb = np.empty((din, H * C), f)
        #: tiny inputs: the first layer in the fused loop, not in BLAS calls
        self.small = B * din <= SMALL_INPUTS

    def buffers(self) -> tuple[Array, ...]:
        """The work arrays of :func:`bpexp.fused.loss_grad`, in its argument order."""
        return (self.A, self.Z, self.S, self.scratch, self.ones_U, self.zero_c,
                self.spare_gU, self.spare_gc, self.spare_gWb)

    def loss_grad(self, Theta: Array, grad: Array | None, weights: Array | None = None) -> Array:
        """Mean loss ``(C,)`` of packed ``Theta (P, C)``; the gradient goes into ``grad (P, C)``.

        ``weights (B, C)``, when given, replaces the uniform ``1/B`` sample weights (each
        column summing to 1: a per-network minibatch). ``grad=None`` skips the backward pass.
        The returned array is a buffer reused by the next call.
        """
        net = self.net
        want = grad is not None
        fused.loss_grad(
            *self.codes, self.X1, self.X1T, self.T, self.uniform if weights is None else weights,
            self.small, Theta, Theta if grad is None else grad, want, net.hidden, net.outputs,
            net.frozen_output, net.sizes["c"] > 0, *self.buffers(), self.value)
        return self.value
