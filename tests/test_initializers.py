"""Initialisers: seeded per network, batch-invariant, with the documented scales."""

import numpy as np
import pytest

from bpexp import TwoLayerNet


@pytest.mark.parametrize("scheme", ["normal", "uniform", "xavier", "he", "identical"])
def test_network_k_is_the_same_whatever_the_batch(scheme):
    net = TwoLayerNet(3, 4)
    big = net.init(1000, seed=7, scheme=scheme)
    np.testing.assert_array_equal(net.init(1, seed=7, scheme=scheme), big[:1])
    np.testing.assert_array_equal(net.init(7, seed=7, scheme=scheme), big[:7])
    np.testing.assert_array_equal(net.init(5, seed=7, scheme=scheme, first=500), big[500:505])
    assert not np.array_equal(net.init(7, seed=8, scheme=scheme), big[:7])


def test_scales_match_the_formulas():
    D, H, O, N = 20, 30, 2, 4000
    net = TwoLayerNet(D, H, O)
    for scheme, sw, su in [("xavier", np.sqrt(2 / (D + H)), np.sqrt(2 / (H + O))),
                           ("he", np.sqrt(2 / D), np.sqrt(1 / H))]:
        W, b, U, c = net.unflatten(net.init(N, 0, scheme, scale=2.0))
        np.testing.assert_allclose(W.std(), 2 * sw, rtol=0.01)
        np.testing.assert_allclose(U.std(), 2 * su, rtol=0.02)
        assert not b.any() and not c.any()
    theta = net.init(N, 0, "uniform", scale=0.5)
    assert np.abs(theta).max() <= 0.5 and np.abs(theta).max() > 0.49
    np.testing.assert_allclose(net.init(N, 0, "normal", scale=3.0).std(), 3.0, rtol=0.01)
    assert not net.init(3, 0, "zeros").any()


def test_identical_units_are_copies():
    net = TwoLayerNet(3, 5, 2)
    W, b, U, c = net.unflatten(net.init(10, 0, "identical"))
    np.testing.assert_array_equal(W, np.repeat(W[:, :1], 5, axis=1))
    np.testing.assert_array_equal(U, np.repeat(U[:, :, :1], 5, axis=2))
    assert np.abs(W).min() > 0


@pytest.mark.parametrize("kwargs,match", [
    ({"scheme": "glorot"}, "unknown init scheme 'glorot'"),
    ({"scale": -1.0}, "scale must be finite and >= 0"),
    ({"scale": float("nan")}, "scale must be finite"),
    ({"networks": 0}, "networks must be an integer >= 1, got 0"),
    ({"seed": -3}, "seed must be an integer >= 0, got -3"),
])
def test_bad_values(kwargs, match):
    args = {"networks": 2, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=match):
        TwoLayerNet(2, 2).init(**args)
