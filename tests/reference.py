"""An independent single-network oracle: the seed backprop equations, one sample at a time.

Written for clarity, not speed, and sharing no code with bpexp: plain Python loops over
samples, with the public flat parameter order unpacked by hand.
"""

from __future__ import annotations

import math

import numpy as np

ACT = {
    "tanh": (math.tanh, lambda a: 1.0 - math.tanh(a) ** 2),
    "sigmoid": (lambda a: 1.0 / (1.0 + math.exp(-a)),
                lambda a: math.exp(-a) / (1.0 + math.exp(-a)) ** 2),
    "relu": (lambda a: max(a, 0.0), lambda a: 1.0 if a > 0 else 0.0),
    "linear": (lambda a: a, lambda a: 1.0),
    "softplus": (lambda a: math.log1p(math.exp(a)), lambda a: 1.0 / (1.0 + math.exp(-a))),
    "erf": (math.erf, lambda a: 2.0 / math.sqrt(math.pi) * math.exp(-a * a)),
}


def unpack(theta, D, H, O, hidden_bias=True, output_bias=True, frozen_output=False):
    i = 0
    W = np.array(theta[i : i + H * D]).reshape(H, D)
    i += H * D
    b = np.zeros(H)
    if hidden_bias:
        b = np.array(theta[i : i + H])
        i += H
    U, c = np.ones((O, H)), np.zeros(O)
    if not frozen_output:
        U = np.array(theta[i : i + O * H]).reshape(O, H)
        i += O * H
        if output_bias:
            c = np.array(theta[i : i + O])
            i += O
    assert i == len(theta)
    return W, b, U, c


def loss_and_grad(theta, X, Y, act="tanh", loss="squared", **variant):
    """Mean loss and gradient (in the flat order) of one network, sample by sample."""
    B, D = X.shape
    O = Y.shape[1] if loss != "softmax" else int(variant.pop("classes"))
    H = variant.pop("hidden")
    W, b, U, c = unpack(theta, D, H, O, **variant)
    s, ds = ACT[act]
    gW, gb, gU, gc = np.zeros_like(W), np.zeros_like(b), np.zeros_like(U), np.zeros_like(c)
    total = 0.0
    for n in range(B):
        x = X[n]
        a = [sum(W[j, i] * x[i] for i in range(D)) + b[j] for j in range(H)]
        z = [s(aj) for aj in a]
        yhat = [sum(U[o, j] * z[j] for j in range(H)) + c[o] for o in range(O)]
        if loss == "squared":
            y = Y[n]
            dy = [yhat[o] - y[o] for o in range(O)]  # delta_y = yhat - y
            total += 0.5 * sum(d * d for d in dy)
        elif loss == "logistic":
            y, q = Y[n, 0], yhat[0]
            total += math.log1p(math.exp(-abs(q))) + max(q, 0.0) - y * q
            dy = [1.0 / (1.0 + math.exp(-q)) - y]
        else:
            label = int(Y[n])
            m = max(yhat)
            ex = [math.exp(q - m) for q in yhat]
            tot = sum(ex)
            total += m + math.log(tot) - yhat[label]
            dy = [ex[o] / tot - (1.0 if o == label else 0.0) for o in range(O)]
        for j in range(H):  # delta_j = s'(a_j) sum_o u_oj delta_y,o
            dj = ds(a[j]) * sum(U[o, j] * dy[o] for o in range(O))
            for i in range(D):
                gW[j, i] += dj * x[i]  # dE/dw_ji = delta_j x_i
            gb[j] += dj
            for o in range(O):
                gU[o, j] += dy[o] * z[j]  # dE/du_j = delta_y z_j
        for o in range(O):
            gc[o] += dy[o]
    parts = [gW.ravel()]
    if variant.get("hidden_bias", True):
        parts.append(gb)
    if not variant.get("frozen_output", False):
        parts.append(gU.ravel())
        if variant.get("output_bias", True):
            parts.append(gc)
    return total / B, np.concatenate(parts) / B
