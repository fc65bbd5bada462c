"""The vectorised tanh against NumPy's (the C library's) tanh."""

import numpy as np

from bpexp import fastmath


def _ulps(x):
    got, ref = fastmath.tanh(x), np.tanh(x)
    fin = np.isfinite(ref)
    return np.abs(got[fin] - ref[fin]) / np.spacing(np.abs(ref[fin]))


def test_within_two_ulp_everywhere():
    x = np.concatenate([
        np.linspace(-25, 25, 400_001),
        np.geomspace(1e-310, 30, 100_000),
        -np.geomspace(1e-310, 30, 100_000),
        np.nextafter(0.625, [0, 1]), -np.nextafter(0.625, [0, 1]),
    ])
    assert _ulps(x).max() <= 2.0


def test_special_values():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e300, -1e300, 5e-324])
    got = fastmath.tanh(x)
    np.testing.assert_array_equal(got, np.tanh(x))
    assert np.signbit(got[1]) and not np.signbit(got[0])


def test_position_and_length_do_not_change_bits():
    x = np.random.default_rng(0).standard_normal(1001) * 4
    full = fastmath.tanh(x)
    for start, n in [(0, 1), (3, 2), (5, 7), (11, 100), (0, 1001)]:
        part = fastmath.tanh(x[start : start + n].copy())
        np.testing.assert_array_equal(part, full[start : start + n])
    y = x.copy()
    fastmath.tanh(y, out=y)  # in place
    np.testing.assert_array_equal(y, full)


def test_shapes_and_fallback():
    x = np.random.default_rng(1).standard_normal((3, 4, 5))
    np.testing.assert_allclose(fastmath.tanh(x), np.tanh(x), rtol=3e-16, atol=0)
    strided = x[:, ::2]
    np.testing.assert_allclose(fastmath.tanh(strided), np.tanh(strided), rtol=3e-16)
    f32 = x.astype(np.float32)
    assert fastmath.tanh(f32).dtype == np.float32
