"""The trainer: stopping rules, recorded outcomes, batching invariance, reproducibility."""

import numpy as np
import pytest

from bpexp import Objective, TwoLayerNet
from bpexp.batches import BatchPlan
from bpexp.optim import make
from bpexp.schedules import schedule
from bpexp.train import STATUSES, TrainSpec, record_steps, train

XOR_X = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
XOR_Y = np.array([[-1.0], [1.0], [1.0], [-1.0]])
CODE = {name: i for i, name in enumerate(STATUSES)}


def _xor(hidden=2):
    net = TwoLayerNet(2, hidden)
    return net, Objective(net, XOR_X, XOR_Y)


def _train(obj, theta0, steps=400, lr=0.2, opt="gd", plan=None, test=None, **spec):
    spec = TrainSpec(max_steps=steps, progress=False, **spec)
    return train(obj, theta0, make(opt), schedule("constant", lr, steps), spec, plan, test)


def _teacher(samples=64, inputs=5, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((samples, inputs))
    return X, np.tanh(X @ rng.standard_normal((inputs, 1)))


def test_xor_networks_converge_and_are_recorded():
    net, obj = _xor(2)
    r = _train(obj, net.init(64, 0), steps=3000, loss_tol=1e-4)
    conv = r.status == CODE["converged"]
    assert conv.mean() > 0.5
    assert (r.loss[conv] < 1e-4).all() and (r.steps[conv] < 3000).all()
    np.testing.assert_allclose(r.loss, obj.value(r.theta), rtol=1e-12)  # final state recorded
    np.testing.assert_allclose(r.grad_norm, np.linalg.norm(obj.grad(r.theta), axis=1), rtol=1e-10)
    np.testing.assert_allclose(r.param_norm, np.linalg.norm(r.theta, axis=1))
    assert set(np.unique(r.status)) <= set(CODE.values())
    mx = r.status == CODE["max_steps"]
    assert (r.steps[mx] == 3000).all()


def test_zero_init_is_a_stationary_point():
    """With W = U = 0 every gradient vanishes on XOR (balanced targets): stalled at step 0."""
    net, obj = _xor(3)
    r = _train(obj, net.init(5, 0, "zeros"))
    assert (r.status == CODE["stalled"]).all() and (r.steps == 0).all()
    assert (r.grad_norm == 0).all()


def test_identical_units_stay_identical():
    """The symmetric-init trap: gradient descent cannot break the symmetry of equal units."""
    net, obj = _xor(4)
    r = _train(obj, net.init(8, 0, "identical"), steps=300, loss_tol=0, grad_tol=0)
    W, b, U, c = net.unflatten(r.theta)
    np.testing.assert_allclose(W, np.repeat(W[:, :1], 4, axis=1), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(U, np.repeat(U[:, :, :1], 4, axis=2), rtol=1e-12, atol=1e-15)


def test_divergence_is_recorded_not_raised():
    net, obj = _xor(8)
    theta0 = net.init(20, 0, "normal", scale=3.0)
    r = _train(obj, theta0, steps=200, lr=50.0)
    assert (r.status == CODE["diverged"]).all()
    assert (r.steps < 200).all()
    ok = _train(obj, theta0[:3], steps=50, lr=0.01, loss_tol=0, grad_tol=0)
    assert (ok.status == CODE["max_steps"]).all()


def test_diverged_network_does_not_disturb_the_others():
    net, obj = _xor(2)
    theta0 = net.init(6, 1)
    alone = _train(obj, theta0, steps=300)
    mixed = theta0.copy()
    mixed[2] *= 1e7  # weights beyond diverge_norm at step 0
    r = _train(obj, mixed, steps=300)
    assert r.status[2] == CODE["diverged"] and r.steps[2] == 0
    keep = [0, 1, 3, 4, 5]
    np.testing.assert_array_equal(r.theta[keep], alone.theta[keep])


@pytest.mark.parametrize("opt,lr,plan_args", [
    ("gd", 0.2, None),
    ("adam", 0.02, None),
    ("momentum", 0.05, (2, "shared")),
    ("gd", 0.1, (2, "network")),
])
def test_network_k_is_identical_however_batched(opt, lr, plan_args):
    net, obj = _xor(3)
    N = 1000
    theta0 = net.init(N, 11)

    def run(idx, **kw):
        plan = BatchPlan.make(4, plan_args[0], plan_args[1], 5) if plan_args else None
        return _train(obj, theta0[idx], steps=300, lr=lr, opt=opt, plan=plan, **kw)

    ref = run(slice(None), threads=2)
    for idx, kw in [(slice(0, 1), {}), (slice(0, 7), {"threads": 1}), (slice(0, 7), {"chunk": 8}),
                    (slice(0, 40), {"chunk": 16, "threads": 2})]:
        r = run(idx, **kw)
        for field in ("theta", "loss", "grad_norm", "steps", "status"):
            np.testing.assert_array_equal(getattr(r, field), getattr(ref, field)[idx])
        np.testing.assert_array_equal(r.curve_loss, ref.curve_loss[idx])


def test_medium_networks_identical_across_batches_threads_and_parts():
    X, Y = _teacher(samples=256, inputs=10)
    net = TwoLayerNet(10, 16)
    obj = Objective(net, X, Y)
    theta0 = net.init(40, 2)
    ref = _train(obj, theta0, steps=60, lr=0.05, threads=2)
    part = _train(obj, net.init(13, 2, first=27), steps=60, lr=0.05, threads=1)
    np.testing.assert_array_equal(part.theta, ref.theta[27:])
    one = _train(obj, theta0[5:6], steps=60, lr=0.05)
    np.testing.assert_array_equal(one.theta, ref.theta[5:6])


def test_reproducible_bit_for_bit():
    X, Y = _teacher()
    net = TwoLayerNet(5, 6)
    obj = Objective(net, X, Y)
    plan = BatchPlan.make(64, 16, "network", 9)
    a = _train(obj, net.init(30, 4), steps=100, lr=0.05, opt="adam", plan=plan, threads=2)
    plan = BatchPlan.make(64, 16, "network", 9)
    b = _train(obj, net.init(30, 4), steps=100, lr=0.05, opt="adam", plan=plan, threads=1)
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(a.curve_loss, b.curve_loss)


def test_minibatch_orders():
    X, Y = _teacher(samples=32)
    net = TwoLayerNet(5, 4)
    obj = Objective(net, X, Y)
    theta0 = net.init(10, 0)
    full = _train(obj, theta0, steps=200, lr=0.1, loss_tol=0, grad_tol=0)
    shared = _train(obj, theta0, steps=200, lr=0.1, loss_tol=0, grad_tol=0,
                    plan=BatchPlan.make(32, 8, "shared", 1), batch_size=8)
    per = _train(obj, theta0, steps=200, lr=0.1, loss_tol=0, grad_tol=0,
                 plan=BatchPlan.make(32, 8, "network", 1), batch_size=8)
    for r in (full, shared, per):
        assert (r.loss < obj.value(theta0)).all()
    assert not np.array_equal(shared.theta, full.theta)
    assert not np.array_equal(per.theta, shared.theta)
    # checks (and record steps) fall on epoch boundaries: multiples of 32 / 8 = 4
    assert (per.curve_step % 4 == 0).all()


def test_shared_minibatch_equals_manual_sgd():
    """The shared order replayed by hand with the plain gradient of each batch."""
    X, Y = _teacher(samples=12, inputs=3)
    net = TwoLayerNet(3, 2)
    theta = net.init(2, 0)
    plan = BatchPlan.make(12, 4, "shared", 3)
    r = _train(Objective(net, X, Y), theta, steps=9, lr=0.1, plan=plan, loss_tol=0, grad_tol=0)
    gen = np.random.default_rng(np.random.SeedSequence(3, spawn_key=(1,)))
    for t in range(9):
        if t % 3 == 0:
            perm = gen.permutation(12)
        rows = perm[(t % 3) * 4 : (t % 3 + 1) * 4]
        theta = theta - 0.1 * Objective(net, X[rows], Y[rows]).grad(theta)
    np.testing.assert_allclose(r.theta, theta, rtol=1e-12)


def test_curves_and_test_loss():
    X, Y = _teacher()
    Xt, Yt = _teacher(seed=4)
    net = TwoLayerNet(5, 4)
    obj, test = Objective(net, X, Y), Objective(net, Xt, Yt)
    r = _train(obj, net.init(6, 0), steps=500, lr=0.1, test=test, curve_points=20)
    steps = r.curve_step
    np.testing.assert_array_equal(steps, record_steps(500, 20))
    assert steps[0] == 0 and steps[-1] == 500
    assert r.curve_loss.shape == (6, steps.size)
    np.testing.assert_allclose(r.curve_loss[:, 0], obj.value(net.init(6, 0)), rtol=1e-12)
    for k in range(6):  # recorded while running, NaN after the stop
        running = steps <= r.steps[k]
        assert np.isfinite(r.curve_loss[k, running]).all()
        assert np.isnan(r.curve_loss[k, ~running]).all()
    np.testing.assert_allclose(r.test_loss, test.value(r.theta), rtol=1e-12)
    assert np.isfinite(r.curve_test_loss[:, 0]).all()
    assert (np.diff(np.sort(r.wall_time)) >= 0).all() and (r.wall_time > 0).all()


def test_float32_training_tracks_float64():
    net, obj = _xor(4)
    theta0 = net.init(50, 0)
    r64 = _train(obj, theta0, steps=200, lr=0.1, loss_tol=0, grad_tol=0)
    r32 = _train(obj, theta0, steps=200, lr=0.1, loss_tol=0, grad_tol=0, dtype="float32")
    assert not np.array_equal(r32.theta, r64.theta)
    np.testing.assert_allclose(r32.theta, r64.theta, rtol=1e-3, atol=1e-4)
    np.testing.assert_array_equal(r32.theta, r32.theta.astype(np.float32))  # f32 values
    with pytest.raises(ValueError, match="train.dtype must be"):
        _train(obj, theta0, steps=2, dtype="float16")


def test_parts_of_a_job_equal_the_whole(tmp_path):
    """A memory budget splits a job into parts; the networks are the same as in one part."""
    from bpexp.job import defaults, run, run_parts

    cfg = defaults()
    cfg["data"] = {**cfg["data"]}
    cfg["train"] = {**cfg["train"], "networks": 300, "max_steps": 200, "progress": False,
                    "batch_size": 2, "batch_order": "network"}
    whole = run(cfg).result
    cfg["train"]["max_memory_mb"] = 65  # about 1 MiB above the fixed allowance: small parts
    parts = list(run_parts(cfg))
    assert len(parts) > 1
    theta = np.concatenate([out.result.theta for _, out in parts])
    assert [first for first, _ in parts] == sorted(first for first, _ in parts)
    np.testing.assert_array_equal(theta, whole.theta)


def test_available_cores_honours_launcher_limits(monkeypatch):
    from bpexp.job import available_cores

    monkeypatch.delenv("SLURM_CPUS_PER_TASK", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    n = available_cores()
    assert n >= 1
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert available_cores() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "junk")
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", str(n + 5))
    assert available_cores() == n


def test_full_batch_engine_equals_manual_gradient_descent():
    """The compiled step loop replayed in plain Python with Objective.grad."""
    X, Y = _teacher(samples=20, inputs=3)
    net = TwoLayerNet(3, 5)
    obj = Objective(net, X, Y)
    theta = net.init(4, 1)
    r = _train(obj, theta, steps=60, lr=0.05, opt="momentum", loss_tol=0, grad_tol=0)
    v = np.zeros_like(theta)
    for _ in range(60):
        v = 0.9 * v + obj.grad(theta)
        theta = theta - 0.05 * v
    np.testing.assert_allclose(r.theta, theta, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(r.loss, obj.value(theta), rtol=1e-11)
