"""Optimisers against plain one-vector implementations of their published update rules,
and schedules against their formulas."""

import numpy as np
import pytest

from bpexp import optim
from bpexp.schedules import schedule


def _run(opt, theta0, grad_fn, lrs):
    theta = theta0.copy()
    state = opt.init(theta)
    for t, lr in enumerate(lrs):
        opt.update(theta, grad_fn(theta), state, np.full(theta.shape[1], lr), t)
    return theta


def _reference(name, x, grad_fn, lrs, **h):
    m = v = np.zeros_like(x)
    x = x.copy()
    for t, lr in enumerate(lrs):
        g = grad_fn(x)
        if name == "gd":
            x = x - lr * g
        elif name == "momentum":
            m = h["beta"] * m + g
            x = x - lr * (g + h["beta"] * m if h.get("nesterov") else m)
        elif name == "rmsprop":
            v = h["rho"] * v + (1 - h["rho"]) * g**2
            x = x - lr * g / (np.sqrt(v) + h["eps"])
        else:  # Kingma & Ba 2015, Algorithm 1
            m = h["b1"] * m + (1 - h["b1"]) * g
            v = h["b2"] * v + (1 - h["b2"]) * g**2
            mhat, vhat = m / (1 - h["b1"] ** (t + 1)), v / (1 - h["b2"] ** (t + 1))
            x = x - lr * mhat / (np.sqrt(vhat) + h["eps"])
    return x


A = np.array([[1.0], [3.0], [10.0]])  # curvatures of a separable quadratic, per parameter


def _grad(theta):
    return A * theta + np.sin(theta)  # non-linear, so the rules are really exercised


@pytest.mark.parametrize("name,h", [
    ("gd", {}),
    ("momentum", {"beta": 0.9}),
    ("momentum", {"beta": 0.8, "nesterov": True}),
    ("rmsprop", {"rho": 0.9, "eps": 1e-8}),
    ("adam", {"b1": 0.9, "b2": 0.999, "eps": 1e-8}),
])
def test_matches_reference_rules(name, h):
    theta0 = np.random.default_rng(0).standard_normal((3, 6))
    lrs = schedule("cosine", 0.05, 50, final=0.1)
    got = _run(optim.make(name, **h), theta0, _grad, lrs)
    np.testing.assert_allclose(got, _reference(name, theta0, _grad, lrs, **h), rtol=1e-12)


def test_gd_on_a_quadratic_is_the_closed_form():
    theta0 = np.ones((3, 2))
    got = _run(optim.make("gd"), theta0, lambda th: A * th, np.full(20, 0.1))
    np.testing.assert_allclose(got, (1 - 0.1 * A) ** 20 * theta0, rtol=1e-13)


def test_first_adam_step_has_size_lr():
    """With bias correction, Adam's first step is lr * sign(g) (eps -> 0)."""
    theta0 = np.random.default_rng(1).standard_normal((4, 5))
    got = _run(optim.make("adam", eps=1e-300), theta0, lambda th: 7.0 * th, [0.01])
    np.testing.assert_allclose(theta0 - got, 0.01 * np.sign(theta0), rtol=1e-12)


def test_zero_learning_rate_freezes_a_network():
    theta0 = np.random.default_rng(2).standard_normal((3, 4))
    opt = optim.make("adam")
    theta, state = theta0.copy(), opt.init(theta0)
    lr = np.array([0.1, 0.0, 0.1, 0.0])
    for t in range(5):
        opt.update(theta, _grad(theta), state, lr, t)
    np.testing.assert_array_equal(theta[:, 1], theta0[:, 1])
    assert not np.array_equal(theta[:, 0], theta0[:, 0])


def test_schedules():
    np.testing.assert_array_equal(schedule("constant", 0.3, 4), [0.3] * 4)
    np.testing.assert_allclose(schedule("step", 1.0, 7, every=3, gamma=0.5),
                               [1, 1, 1, 0.5, 0.5, 0.5, 0.25])
    cos = schedule("cosine", 2.0, 5, final=0.25)
    t = np.arange(5)
    np.testing.assert_allclose(cos, 2.0 * (0.25 + 0.75 * 0.5 * (1 + np.cos(np.pi * t / 5))))
    assert cos[0] == 2.0


@pytest.mark.parametrize("call,match", [
    (lambda: optim.make("lbfgs"), "unknown optimizer 'lbfgs'"),
    (lambda: optim.make("momentum", beta=1.0), r"optim.beta must lie in \[0, 1\)"),
    (lambda: optim.make("adam", eps=0.0), "optim.eps must be > 0"),
    (lambda: schedule("constant", 0.0, 3), "optim.lr must be a finite number > 0, got 0.0"),
    (lambda: schedule("warmup", 0.1, 3), "unknown schedule 'warmup'"),
    (lambda: schedule("step", 0.1, 3, every=0), "optim.every must be an integer >= 1"),
])
def test_bad_values(call, match):
    with pytest.raises(ValueError, match=match):
        call()
