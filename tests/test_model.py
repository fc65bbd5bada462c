"""The flat parameter order, flatten/unflatten and predict."""

import numpy as np
import pytest

from bpexp import TwoLayerNet, backprop


def test_flat_order_is_the_documented_contract():
    net = TwoLayerNet(3, 2, 2)
    theta = np.arange(net.num_params, dtype=float)
    W, b, U, c = net.unflatten(theta)
    assert net.num_params == 2 * 3 + 2 + 2 * 2 + 2
    np.testing.assert_array_equal(W, [[0, 1, 2], [3, 4, 5]])  # hidden x inputs, row-major
    np.testing.assert_array_equal(b, [6, 7])
    np.testing.assert_array_equal(U, [[8, 9], [10, 11]])  # outputs x hidden, row-major
    np.testing.assert_array_equal(c, [12, 13])
    np.testing.assert_array_equal(net.flatten(W, b, U, c), theta)


@pytest.mark.parametrize("variant,P", [
    ({"hidden_bias": False}, 2 * 3 + 2 + 1),
    ({"output_bias": False}, 2 * 3 + 2 + 2),
    ({"frozen_output": True}, 2 * 3 + 2),
    ({"frozen_output": True, "hidden_bias": False}, 2 * 3),
])
def test_variants_drop_their_parts(variant, P):
    net = TwoLayerNet(3, 2, 1, **variant)
    assert net.num_params == P
    theta = np.arange(P, dtype=float)
    W, b, U, c = net.unflatten(theta)
    np.testing.assert_array_equal(W.ravel(), np.arange(6))
    if variant.get("frozen_output"):
        np.testing.assert_array_equal(U, np.ones((1, 2)))
        assert c is None
    U = None if variant.get("frozen_output") else U
    np.testing.assert_array_equal(net.flatten(W, b, U, c), theta)


def test_batched_unflatten_and_pack_roundtrip():
    net = TwoLayerNet(4, 3, 2)
    theta = np.random.default_rng(0).standard_normal((5, net.num_params))
    W, b, U, c = net.unflatten(theta)
    assert W.shape == (5, 3, 4) and b.shape == (5, 3) and U.shape == (5, 2, 3) and c.shape == (5, 2)
    np.testing.assert_array_equal(net.flatten(W, b, U, c), theta)
    np.testing.assert_array_equal(backprop.unpack(net, backprop.pack(net, theta)), theta)


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "relu", "linear", "softplus", "erf"])
def test_predict_matches_the_formula(act):
    from reference import ACT

    net = TwoLayerNet(3, 4, 2, act)
    rng = np.random.default_rng(1)
    theta = rng.standard_normal((6, net.num_params))
    X = rng.standard_normal((5, 3))
    yhat = net.predict(theta, X)
    s = np.vectorize(ACT[act][0])
    for k in range(6):
        W, b, U, c = net.unflatten(theta[k])
        np.testing.assert_allclose(yhat[k], s(X @ W.T + b) @ U.T + c, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(net.predict(theta[3], X), yhat[3], rtol=1e-14)


def test_tanh_sign_flip_and_permutation_symmetry():
    """Chen, Lu & Hecht-Nielsen 1993: flips and permutations of tanh units keep f."""
    net = TwoLayerNet(2, 3)
    rng = np.random.default_rng(2)
    W, b, U, c = net.unflatten(rng.standard_normal(net.num_params))
    X = rng.standard_normal((10, 2))
    base = net.predict(net.flatten(W, b, U, c), X)
    perm, flip = np.array([2, 0, 1]), np.array([1.0, -1.0, -1.0])
    W2, b2, U2 = (W * flip[:, None])[perm], (b * flip)[perm], (U * flip)[:, perm]
    np.testing.assert_allclose(net.predict(net.flatten(W2, b2, U2, c), X), base, rtol=1e-13)


@pytest.mark.parametrize("bad,match", [
    (np.zeros((2, 5)), r"shape \(N, 9\)"),
    (np.zeros(10), r"shape \(N, 9\)"),
    (np.zeros((2, 2, 9)), r"shape \(N, 9\)"),
    (np.array([["a"] * 9]), "floating-point"),
])
def test_bad_theta_is_one_line(bad, match):
    net = TwoLayerNet(2, 2)
    with pytest.raises(ValueError, match=match) as err:
        net.predict(bad, np.zeros((4, 2)))
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("kwargs,match", [
    ({"inputs": 0, "hidden": 2}, "inputs must be an integer >= 1, got 0"),
    ({"inputs": 2, "hidden": -1}, "hidden must be an integer >= 1, got -1"),
    ({"inputs": 2, "hidden": 2, "activation": "gelu"}, "unknown activation 'gelu'"),
    ({"inputs": 2, "hidden": 2, "outputs": 2, "frozen_output": True}, "one output"),
])
def test_bad_architecture(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TwoLayerNet(**kwargs)


def test_predict_checks_inputs():
    net = TwoLayerNet(2, 2)
    with pytest.raises(ValueError, match=r"X must have shape \(B, 2\)"):
        net.predict(np.zeros(9), np.zeros((4, 3)))


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "relu", "linear", "softplus", "erf"])
def test_activation_derivatives(name):
    """s' and s'' (the Hessian's ingredients) against central differences of s and s'."""
    from bpexp.activations import get_activation

    act = get_activation(name)
    a = np.linspace(-3.1, 2.9, 41)  # avoids relu's kink at 0
    h = 1e-5
    z = act.fn(a)
    d1 = (act.fn(a + h) - act.fn(a - h)) / (2 * h)
    d2 = (act.d1(a + h, act.fn(a + h)) - act.d1(a - h, act.fn(a - h))) / (2 * h)
    np.testing.assert_allclose(act.d1(a, z), d1, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(act.d2(a, z), d2, rtol=1e-7, atol=1e-9)
    out = np.empty_like(a)
    assert act.d1(a, z, out=out) is out
