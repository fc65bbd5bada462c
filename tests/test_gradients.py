"""Backprop gradients against central finite differences and a per-sample oracle."""

import itertools

import numpy as np
import pytest
from reference import loss_and_grad

from bpexp import Objective, TwoLayerNet
from bpexp.activations import ACTIVATIONS

VARIANTS = [{}, {"hidden_bias": False}, {"output_bias": False}, {"frozen_output": True}]
LOSSES = [("squared", 1), ("squared", 3), ("logistic", 1), ("softmax", 3)]


def _problem(act, loss, O, variant, seed=0, B=7, D=3, H=4, N=5):
    rng = np.random.default_rng(seed)
    net = TwoLayerNet(D, H, O, act, **variant)
    X = rng.standard_normal((B, D))
    if loss == "softmax":
        Y = rng.integers(0, O, B)
    elif loss == "logistic":
        Y = rng.integers(0, 2, (B, O)).astype(float)
    else:
        Y = rng.standard_normal((B, O))
    while True:  # for relu, keep pre-activations away from the kink, where FD is meaningless
        theta = rng.standard_normal((N, net.num_params))
        W, b, U, c = net.unflatten(theta)
        a = np.einsum("nhd,bd->nbh", W, X) + (0 if b is None else b[:, None, :])
        if act != "relu" or np.abs(a).min() > 1e-4:
            break
    return net, Objective(net, X, Y, loss), X, Y, theta


CASES = [
    (a, loss, O, v)
    for a, (loss, O), v in itertools.product(ACTIVATIONS, LOSSES, VARIANTS)
    if not (v.get("frozen_output") and O > 1)
]


@pytest.mark.parametrize("act,loss,O,variant", CASES)
def test_grad_matches_central_differences(act, loss, O, variant):
    net, obj, _, _, theta = _problem(act, loss, O, variant)
    value, grad = obj.value_and_grad(theta)
    h = 1e-6
    fd = np.empty_like(theta)
    for p in range(net.num_params):
        e = np.zeros(net.num_params)
        e[p] = h
        fd[:, p] = (obj.value(theta + e) - obj.value(theta - e)) / (2 * h)
    rel = np.abs(grad - fd).max() / np.abs(fd).max()
    assert rel < 1e-6, rel
    assert value.shape == (theta.shape[0],) and grad.shape == theta.shape


@pytest.mark.parametrize("act,loss,O,variant", CASES)
def test_matches_single_network_reference(act, loss, O, variant):
    net, obj, X, Y, theta = _problem(act, loss, O, variant, seed=1)
    value, grad = obj.value_and_grad(theta)
    kw = {"hidden": net.hidden, **variant}
    if loss == "softmax":
        kw["classes"] = O
    for k in range(theta.shape[0]):
        ref_v, ref_g = loss_and_grad(theta[k], X, Y, act, loss, **kw)
        np.testing.assert_allclose(value[k], ref_v, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(grad[k], ref_g, rtol=1e-10, atol=1e-13)


def test_single_vector_and_batch_agree():
    net, obj, _, _, theta = _problem("tanh", "squared", 1, {})
    v, g = obj.value_and_grad(theta)
    v0, g0 = obj.value_and_grad(theta[2])
    assert np.ndim(v0) == 0 and g0.shape == (net.num_params,)
    np.testing.assert_allclose(v0, v[2], rtol=1e-14)
    np.testing.assert_allclose(g0, g[2], rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(obj.value(theta), v, rtol=1e-14)
    np.testing.assert_allclose(obj.grad(theta), g, rtol=1e-14)


def test_seed_equations_on_xor_by_hand():
    """The lecture's 2-2-1 tanh network on one XOR point, computed symbol by symbol."""
    net = TwoLayerNet(2, 2)
    W, b = np.array([[0.3, -0.2], [0.5, 0.7]]), np.array([0.1, -0.4])
    U, c = np.array([[1.5, -0.5]]), np.array([0.2])
    theta = net.flatten(W, b, U, c)
    x, y = np.array([1.0, -1.0]), 1.0
    z = np.tanh(W @ x + b)
    yhat = U[0] @ z + c[0]
    dy = yhat - y
    dj = (1 - z**2) * U[0] * dy
    expected = net.flatten(np.outer(dj, x), dj, (dy * z)[None, :], np.array([dy]))
    obj = Objective(net, x[None, :], np.array([[y]]))
    np.testing.assert_allclose(obj.grad(theta), expected, rtol=1e-14)
    np.testing.assert_allclose(obj.value(theta), 0.5 * dy**2, rtol=1e-14)


def test_logistic_is_stable_for_huge_logits():
    net = TwoLayerNet(1, 1, 1, "linear", hidden_bias=False, output_bias=False)
    obj = Objective(net, np.array([[1.0], [1.0]]), np.array([[1.0], [0.0]]), "logistic")
    theta = np.array([[800.0, 1.0]])  # logits +800 for both samples
    v, g = obj.value_and_grad(theta)
    assert np.isfinite(v).all() and np.isfinite(g).all()
    np.testing.assert_allclose(v, 400.0)  # (0 + 800) / 2
