"""The compiled middle of backprop: everything between the two matrix products.

Given the pre-activations ``A = X1 @ Wb`` of ``C`` networks, one pass over samples computes
``z = s(a)``, the outputs, the per-sample losses, ``delta_y``, the output-layer gradients
and the hidden errors ``delta = s'(a) (U^T delta_y)``, which the caller turns into the
first-layer gradient with ``X1^T @ delta``. Fusing these (numba) replaces a dozen NumPy
passes and their per-call overhead, which dominate small networks.

Every reduction (over hidden units for the outputs, over outputs for the hidden errors,
over samples for the gradients) runs in a fixed sequential order for each network
separately, so a network's numbers do not depend on the others in the batch.
Scalar activations mirror :mod:`bpexp.activations` (same formulas; ``tanh`` is the
vectorisable Cephes form of :mod:`bpexp.fastmath`).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .fastmath import _EP, _EQ, _INV_LN2, _LN2_HI, _LN2_LO, _P, _Q, _ROUND, _tanh_flat

#: activation codes, in the order of :data:`bpexp.activations.ACTIVATIONS`
ACT_CODES = {"tanh": 0, "sigmoid": 1, "relu": 2, "linear": 3, "softplus": 4, "erf": 5}
LOSS_CODES = {"squared": 0, "logistic": 1, "softmax": 2}
_POW2 = 2.0 ** np.arange(-80, 1, dtype=np.float64)  # 2^k for k = -80..0
_SQRT_PI_2 = 2.0 / math.sqrt(math.pi)

_jit = numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
_inline = numba.njit(inline="always", error_model="numpy", boundscheck=False)


@_inline
def _tanh(x):  # pragma: no cover - compiled; see fastmath for the algorithm
    ax = abs(x)
    u = -2.0 * ax if ax < 22.0 else -44.0
    kf = (u * _INV_LN2 + _ROUND) - _ROUND
    r = (u - kf * _LN2_HI) - kf * _LN2_LO
    rr = r * r
    px = r * ((_EP[0] * rr + _EP[1]) * rr + _EP[2])
    qx = ((_EQ[0] * rr + _EQ[1]) * rr + _EQ[2]) * rr + _EQ[3]
    e = (1.0 + 2.0 * (px / (qx - px))) * _POW2[np.int64(kf) + 80]
    z = x * x
    small = ax < 0.625
    num = x * z * ((_P[0] * z + _P[1]) * z + _P[2]) if small else 1.0 - e
    den = (((z + _Q[0]) * z + _Q[1]) * z + _Q[2]) if small else 1.0 + e
    q = num / den
    y = x + q if small else (q if x >= 0.0 else -q)
    return y if (x == x and x != 0.0) else x


@_inline
def _sigmoid(a):  # pragma: no cover - compiled
    if a >= 0.0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


@_inline
def _act_row(code, a, z):  # pragma: no cover - compiled; z[k] = s(a[k]), switch hoisted
    n = a.size
    if code == 0:
        for k in range(n):
            z[k] = _tanh(a[k])
    elif code == 1:
        for k in range(n):
            z[k] = _sigmoid(a[k])
    elif code == 2:
        for k in range(n):
            z[k] = a[k] if a[k] > 0.0 else 0.0
    elif code == 3:
        for k in range(n):
            z[k] = a[k]
    elif code == 4:
        for k in range(n):
            z[k] = max(a[k], 0.0) + math.log1p(math.exp(-abs(a[k])))
    else:
        for k in range(n):
            z[k] = math.erf(a[k])


@_inline
def _d1_row(code, a, z, back, out):  # pragma: no cover - compiled; out = s'(a) * back
    n = a.size
    if code == 0:
        for k in range(n):
            out[k] = (1.0 - z[k] * z[k]) * back[k]
    elif code == 1:
        for k in range(n):
            out[k] = (z[k] * (1.0 - z[k])) * back[k]
    elif code == 2:
        for k in range(n):
            out[k] = back[k] if a[k] > 0.0 else 0.0
    elif code == 3:
        for k in range(n):
            out[k] = back[k]
    elif code == 4:
        for k in range(n):
            out[k] = _sigmoid(a[k]) * back[k]
    else:
        for k in range(n):
            out[k] = (_SQRT_PI_2 * math.exp(-a[k] * a[k])) * back[k]


@_inline
def _loss_row(code, y, t, w, value):  # pragma: no cover - compiled
    """Per-sample loss of one sample for all networks; ``y (O, C)`` becomes ``w delta_y``."""
    O, C = y.shape
    if code == 0 and O == 1:  # the common case, as one vectorisable loop
        y0, t0 = y[0], t[0]
        for k in range(C):
            d = y0[k] - t0
            value[k] += w[k] * (0.5 * (d * d))
            y0[k] = d * w[k]
    elif code == 0:
        for k in range(C):
            lk = 0.0
            for o in range(O):
                d = y[o, k] - t[o]
                lk += d * d
                y[o, k] = d * w[k]
            value[k] += w[k] * (0.5 * lk)
    elif code == 1:
        for k in range(C):
            s = y[0, k]
            lk = max(s, 0.0) + math.log1p(math.exp(-abs(s))) - t[0] * s
            y[0, k] = (_sigmoid(s) - t[0]) * w[k]
            value[k] += w[k] * lk
    else:
        for k in range(C):
            m = y[0, k]
            for o in range(1, O):
                m = max(m, y[o, k])
            tot = 0.0
            picked = 0.0
            for o in range(O):
                picked += t[o] * y[o, k]
                y[o, k] = math.exp(y[o, k] - m)
                tot += y[o, k]
            lk = m + math.log(tot) - picked
            for o in range(O):
                y[o, k] = (y[o, k] / tot - t[o]) * w[k]
            value[k] += w[k] * lk


@_jit
def middle(act, loss, X1, Wb, gWb, small, A, Z, U, c, T, w, value, gU, gc, S, scratch,
           want_grad):  # pragma: no cover - compiled
    """Fused forward tail and backward head for ``C`` networks.

    With ``small`` (tiny ``B x (D + 1)`` inputs, where a BLAS call costs more than its
    arithmetic) the two products ``A = X1 @ Wb`` and ``gWb = X1^T @ S`` are done here too,
    summing over inputs and samples in order; otherwise the caller does them with BLAS.

    Parameters
    ----------
    act, loss : int
        Codes from :data:`ACT_CODES` and :data:`LOSS_CODES`.
    X1 : (B, Din) augmented inputs; Wb, gWb : (Din, H, C) first layer and its gradient.
    small : bool
    A : (B, H, C) pre-activations (out when ``small``).
    Z : (B, H, C) out, activations ``s(A)``.
    U : (H, O, C) output weights (ones for a frozen layer).
    c : (O, C) output biases (zeros when absent).
    T : (B, O) encoded targets (one-hot for softmax).
    w : (B, C) sample weights (``1/B`` for the plain mean).
    value : (C,) out, the weighted mean loss.
    gU : (H, O, C) out, gc : (O, C) out (gradient of c, even when absent).
    S : (B, H, C) out, hidden errors ``delta``.
    scratch : (2, B*H*C) float64 work space (for tanh).
    """
    B, H, C = A.shape
    O = T.shape[1]
    Din = X1.shape[1]
    if small:
        for b in range(B):
            for h in range(H):
                ah = A[b, h]
                ah[:] = 0.0
                for d in range(Din):
                    x, wd = X1[b, d], Wb[d, h]
                    for k in range(C):
                        ah[k] += x * wd[k]
    y = np.empty((O, C))
    if act == 0:  # one vectorised pass (see fastmath); the others inline below
        flat = A.size
        _tanh_flat(A.reshape(flat), Z.reshape(flat), scratch[0], scratch[1])
    else:
        for b in range(B):
            for h in range(H):
                _act_row(act, A[b, h], Z[b, h])
    back = np.empty(C)
    value[:] = 0.0
    if want_grad:
        gU[:] = 0.0
        gc[:] = 0.0
    for b in range(B):
        y[:] = c
        z = Z[b]
        for h in range(H):
            zh = z[h]
            for o in range(O):
                yo, uo = y[o], U[h, o]
                for k in range(C):
                    yo[k] += uo[k] * zh[k]
        _loss_row(loss, y, T[b], w[b], value)
        if not want_grad:
            continue
        for o in range(O):
            yo, go = y[o], gc[o]
            for k in range(C):
                go[k] += yo[k]
        for h in range(H):
            zh = z[h]
            back[:] = 0.0
            for o in range(O):
                yo, uo, guo = y[o], U[h, o], gU[h, o]
                for k in range(C):
                    back[k] += uo[k] * yo[k]
                    guo[k] += zh[k] * yo[k]
            _d1_row(act, A[b, h], zh, back, S[b, h])
    if small and want_grad:
        for d in range(Din):
            for h in range(H):
                g = gWb[d, h]
                g[:] = 0.0
                for b in range(B):
                    x, sh = X1[b, d], S[b, h]
                    for k in range(C):
                        g[k] += x * sh[k]


@_jit
def check(value, grad, theta, alive, loss_tol, grad_tol2, diverge_loss, diverge_norm2,
          gn2, bad, stop):  # pragma: no cover - compiled
    """Stopping rules for ``C`` networks at one check step; returns whether any stops.

    Writes the squared gradient norms ``gn2 (C,)``, ``bad`` (diverged: non-finite or too
    large loss, gradient or weights) and ``stop`` (``alive`` and bad, converged or stalled).
    """
    P, C = grad.shape
    gn2[:] = 0.0
    pn2 = np.zeros(C)
    for p in range(P):
        for k in range(C):
            gn2[k] += grad[p, k] * grad[p, k]
            pn2[k] += theta[p, k] * theta[p, k]
    anyone = False
    for k in range(C):
        v = value[k]
        bad[k] = not (v <= diverge_loss and gn2[k] < np.inf and pn2[k] <= diverge_norm2)
        stop[k] = alive[k] and (bad[k] or v < loss_tol or gn2[k] < grad_tol2)
        anyone = anyone or stop[k]
    return anyone


@_jit
def loss_grad(act, loss, X1, X1T, T, w, small, Theta, grad, want_grad, H, O, frozen, has_c,
              A, Z, S, scratch, ones_U, zero_c, spare_gU, spare_gc, spare_gWb,
              value):  # pragma: no cover - compiled
    """Loss ``value (C,)`` and gradient ``grad (P, C)`` of packed ``Theta (P, C)``.

    The packed layout is that of :mod:`bpexp.backprop`: ``[Wb (Din, H) | U (H, O) | c (O)]``
    rows, networks last. Large inputs use BLAS (``np.dot``) for the first layer and its
    gradient, small ones the loops of :func:`middle`. Buffers are the caller's.
    """
    Din, C = X1.shape[1], Theta.shape[1]
    nw = Din * H
    Wb = Theta[:nw].reshape(Din, H * C)
    gWb = grad[:nw].reshape(Din, H * C) if want_grad else spare_gWb
    if frozen:
        U, gU = ones_U, spare_gU
    else:
        U = Theta[nw : nw + H * O].reshape(H, O, C)
        gU = grad[nw : nw + H * O].reshape(H, O, C) if want_grad else spare_gU
    if has_c:
        c = Theta[nw + H * O :].reshape(O, C)
        gc = grad[nw + H * O :].reshape(O, C) if want_grad else spare_gc
    else:
        c, gc = zero_c, spare_gc
    if not small:
        np.dot(X1, Wb, A)
    B = X1.shape[0]
    A3 = A.reshape(B, H, C)
    middle(act, loss, X1, Wb.reshape(Din, H, C), gWb.reshape(Din, H, C), small, A3, Z, U, c,
           T, w, value, gU, gc, S, scratch, want_grad)
    if want_grad and not small:
        np.dot(X1T, S.reshape(B, H * C), gWb)
    return value
