"""The trainer: many networks in lock-step, each stopping on its own.

Networks are split into chunks of a fixed width ``C`` (padded with inert columns), and
each chunk runs on a thread pool in rounds of ``ROUND`` steps. Between rounds, finished
networks are dropped and the rest repacked into fewer chunks, so finished networks stop
costing compute. Because every array a network touches has the same shape whatever ``N``
is, and no reduction runs over the network axis, network ``k`` gives the same numbers bit
for bit for any ``N``, thread count or position in its chunk.

A network stops at the first check step ``t`` (after ``t`` updates) at which

* ``diverged``: loss or gradient non-finite, loss > ``diverge_loss`` or
  ``||theta|| > diverge_norm`` (it is frozen and recorded, never a crash);
* ``converged``: loss < ``loss_tol``;
* ``stalled``: ``||grad|| < grad_tol``;
* ``max_steps``: ``t == max_steps``.

Full-batch training checks every step, in compiled stretches of steps between events
(:mod:`bpexp.engine`). With minibatches (``batch_size``), checks use the full-batch loss and
gradient at every epoch boundary (``t`` a multiple of ``B // batch_size``).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from . import backprop, engine, fused
from .batches import BatchPlan
from .objective import Objective
from .optim import Optimizer

Array = np.ndarray
STATUSES = ("converged", "stalled", "diverged", "max_steps")
RUNNING = -1
ROUND = 64  # steps between repacking (a constant: results must not depend on it)


@dataclass(frozen=True)
class TrainSpec:
    """Plain training settings (see the module docstring for the stopping rules)."""

    max_steps: int = 5000
    loss_tol: float = 1e-4
    grad_tol: float = 1e-8
    diverge_loss: float = 1e6
    diverge_norm: float = 1e6
    batch_size: int = 0  # 0: full batch
    batch_order: str = "shared"  # "shared" by all networks, or per "network"
    curve_points: int = 40
    threads: int = 1
    chunk: int = 0  # networks per chunk; 0: chosen from the problem size
    progress: bool = True
    dtype: str = "float64"  # of the parameters and every buffer while training


@dataclass
class TrainResult:
    """Per-network outcomes of :func:`train`; arrays have a leading network axis ``N``."""

    theta: Array  # (N, P) final parameters
    loss: Array  # (N,) final training loss (full batch)
    grad_norm: Array  # (N,)
    param_norm: Array  # (N,)
    steps: Array  # (N,) int64, updates performed
    status: Array  # (N,) int8 index into STATUSES
    wall_time: Array  # (N,) seconds from the start of training to the network's stop
    curve_step: Array  # (R,) record steps
    curve_loss: Array  # (N, R), NaN once stopped
    curve_grad_norm: Array  # (N, R)
    test_loss: Array | None = None  # (N,)
    curve_test_loss: Array | None = None  # (N, R)
    chunk: int = 0

    @property
    def status_names(self) -> Array:
        return np.asarray(STATUSES, dtype=object)[self.status]


def auto_chunk(samples: int, hidden: int, outputs: int) -> int:
    """Networks per chunk: the largest power of two in [8, 256] whose hidden-layer arrays
    ``(B, H, O, C)`` stay within 2^18 elements (2 MiB: the measured best on W2)."""
    per_net = samples * hidden * outputs
    c = 8
    while c < 256 and 2 * c * per_net <= 2**18:
        c *= 2
    return c


def record_steps(max_steps: int, points: int, every: int = 1) -> Array:
    """About ``points`` log-spaced check steps in ``[0, max_steps]``, multiples of ``every``."""
    raw = np.unique(np.round(np.geomspace(1, max_steps + 1, max(points, 2)) - 1))
    return np.unique(np.minimum(np.round(raw / every) * every, max_steps).astype(np.int64))


@dataclass
class _Chunk:
    ids: Array  # (C,) network index, -1 for padding
    theta: Array  # (P, C) packed
    state: Array  # (S, P, C) optimiser state
    alive: Array = field(init=False)

    def __post_init__(self) -> None:
        self.alive = self.ids >= 0


class _Run:
    """State shared by the chunks of one :func:`train` call."""

    def __init__(self, obj, theta0, opt, lrs, spec, plan, test, first=0):
        self.obj, self.opt, self.lrs, self.spec, self.plan, self.test = (
            obj, opt, lrs, spec, plan, test)
        self.first = first
        N, P = theta0.shape
        self.net = obj.net
        self.C = spec.chunk or auto_chunk(obj.samples, self.net.hidden, self.net.outputs)
        self.rec = record_steps(spec.max_steps, spec.curve_points, plan.every)
        self.is_record = np.zeros(spec.max_steps + 1, bool)
        self.is_record[self.rec] = True
        R = self.rec.size
        self.out_theta = theta0.copy()
        self.loss, self.gnorm = np.full(N, np.nan), np.full(N, np.nan)
        self.steps = np.zeros(N, np.int64)
        self.status = np.full(N, RUNNING, np.int8)
        self.wall = np.zeros(N)
        self.c_loss, self.c_gn = np.full((N, R), np.nan), np.full((N, R), np.nan)
        self.c_test = np.full((N, R), np.nan) if test is not None else None
        self.local = threading.local()
        self.t_start = time.perf_counter()
        self.dtype = np.dtype(spec.dtype)
        packed = backprop.pack(self.net, theta0, self.dtype)
        self.chunks = self._make_chunks(np.arange(N), packed, None)

    # -------------------------------------------------------------- chunks
    def _make_chunks(self, ids: Array, packed: Array, state: Array | None) -> list[_Chunk]:
        C, P = self.C, packed.shape[0]
        chunks = []
        for s in range(0, ids.size, C):
            n = min(C, ids.size - s)
            th = np.zeros((P, C), self.dtype)
            th[:, :n] = packed[:, s : s + n]
            cid = np.full(C, -1, np.int64)
            cid[:n] = ids[s : s + n]
            st = self.opt.init(th)
            if state is not None:
                st[:, :, :n] = state[:, :, s : s + n]
            chunks.append(_Chunk(cid, th, st))
        return chunks

    def repack(self) -> None:
        """Drop finished networks; rebuild chunks when that frees at least one."""
        alive = sum(int(c.alive.sum()) for c in self.chunks)
        if -(-alive // self.C) >= len(self.chunks):
            return
        keep = [c.alive for c in self.chunks]
        ids = np.concatenate([c.ids[k] for c, k in zip(self.chunks, keep, strict=True)])
        packed = np.concatenate(
            [c.theta[:, k] for c, k in zip(self.chunks, keep, strict=True)], axis=1)
        state = np.concatenate(
            [c.state[:, :, k] for c, k in zip(self.chunks, keep, strict=True)], axis=2)
        self.chunks = self._make_chunks(ids, packed, state) if ids.size else []

    # ------------------------------------------------------------ kernels
    def kernels(self):
        """This thread's kernels (buffers are per thread): full batch, minibatch, test."""
        k = getattr(self.local, "k", None)
        if k is None:
            obj, C = self.obj, self.C
            f = self.dtype
            full = obj.kernel(C, f)
            mini = self.plan.kernel(obj, C, f)
            test = self.test.kernel(C, f) if self.test is not None else None
            k = self.local.k = (full, mini, test, np.empty((obj.net.num_params, C), f))
        return k

    # --------------------------------------------------------------- steps
    def run_round(self, chunk: _Chunk, t0: int, t1: int) -> None:
        """Advance ``chunk`` through steps ``t0..t1``; full batch runs in compiled stretches
        between events (:mod:`bpexp.engine`), minibatches step by step here."""
        full, mini, test, grad = self.kernels()
        spec, plan, opt, lrs = self.spec, self.plan, self.opt, self.lrs
        theta, alive, C = chunk.theta, chunk.alive, self.C
        lr, gn2 = np.empty(C, self.dtype), np.empty(C)
        bad, stop = np.empty(C, bool), np.empty(C, bool)
        limits = (spec.loss_tol, spec.grad_tol**2, spec.diverge_loss, spec.diverge_norm**2)
        t = t0
        while t <= t1:
            check = True
            if not plan.minibatch:
                t = engine.run_steps(
                    *full.codes, full.X1, full.X1T, full.T, full.uniform, full.small, theta,
                    grad, self.net.hidden, self.net.outputs, self.net.frozen_output,
                    self.net.sizes["c"] > 0, *full.buffers(), full.value, opt.code,
                    opt.hyper_array, chunk.state, lrs, alive, lr, t, t1, spec.max_steps,
                    self.is_record, *limits, gn2, bad, stop)
                if t > t1:
                    return
                loss = full.value
            elif t % plan.every == 0:
                loss = full.loss_grad(theta, grad)
                fused.check(loss, grad, theta, alive, *limits, gn2, bad, stop)
            else:
                check = False  # a minibatch update between checks
            if check:  # record, stop networks
                if t == spec.max_steps:
                    stop[:] = alive
                if self.is_record[t]:
                    self._record(chunk, int(np.searchsorted(self.rec, t)), loss, gn2, test)
                if stop.any():
                    self._finish(chunk, stop, t, loss, gn2, bad)
                if t == spec.max_steps or not alive.any():
                    return
            if plan.minibatch:
                plan.loss_grad(mini, theta, grad, chunk, t)
            np.multiply(lrs[t], alive, out=lr)
            opt.update(theta, grad, chunk.state, lr, t)
            t += 1

    def _record(self, chunk, j, loss, gn2, test) -> None:
        a = chunk.alive
        ids = chunk.ids[a]
        self.c_loss[ids, j] = loss[a]
        self.c_gn[ids, j] = np.sqrt(gn2[a])
        if test is not None:
            self.c_test[ids, j] = test.loss_grad(chunk.theta, None)[a]

    def _finish(self, chunk, stop, t, loss, gn2, bad) -> None:
        ids = chunk.ids[stop]
        self.loss[ids] = loss[stop]
        self.gnorm[ids] = np.sqrt(gn2[stop])
        self.steps[ids] = t
        code = np.where(bad[stop], STATUSES.index("diverged"),
                        np.where(loss[stop] < self.spec.loss_tol, STATUSES.index("converged"),
                                 np.where(gn2[stop] < self.spec.grad_tol**2,
                                          STATUSES.index("stalled"),
                                          STATUSES.index("max_steps"))))
        self.status[ids] = code
        self.wall[ids] = time.perf_counter() - self.t_start
        cols = backprop.unpack(self.net, chunk.theta[:, stop])
        self.out_theta[ids] = cols
        self.plan.forget(ids + self.first)
        chunk.alive &= ~stop
        chunk.theta[:, stop] = 0.0  # inert from now on (lr is 0 for it)


def train(obj: Objective, theta0: Array, opt: Optimizer, lrs: Array, spec: TrainSpec,
          plan: BatchPlan | None = None, test: Objective | None = None,
          first: int = 0) -> TrainResult:
    """Train networks ``theta0 (N, P)`` on ``obj`` and return their per-network outcomes.

    Parameters
    ----------
    obj : Objective
        Training data and loss.
    theta0 : array (N, P)
        Initial parameters in the public flat order.
    opt : Optimizer
    lrs : array (max_steps,)
        Learning rate of each update (see :mod:`bpexp.schedules`).
    spec : TrainSpec
    plan : BatchPlan, optional
        Minibatch order (see :mod:`bpexp.batches`); full batch when omitted.
    test : Objective, optional
        Held-out data whose loss is recorded on the curves and at the end.
    first : int
        Global index of network 0 (a part of a larger job): per-network minibatch streams
        are those of networks ``first, first + 1, ...``.
    """
    theta0 = np.atleast_2d(obj.net.check_theta(theta0)).astype(np.float64)
    if spec.dtype not in ("float64", "float32"):
        raise ValueError(f"train.dtype must be 'float64' or 'float32', got {spec.dtype!r}")
    if lrs.shape != (spec.max_steps,):
        raise ValueError(f"lrs must have shape ({spec.max_steps},), got {lrs.shape}")
    plan = plan or BatchPlan.full(obj.samples)
    run = _Run(obj, theta0, opt, lrs, spec, plan, test, first)
    bar = tqdm(total=spec.max_steps, unit="step", disable=not spec.progress, leave=False,
               desc=f"{theta0.shape[0]} networks")
    with (threadpool_limits(1, user_api="blas"), np.errstate(all="ignore"),
          ThreadPoolExecutor(max(spec.threads, 1)) as ex):
        for t0 in range(0, spec.max_steps + 1, ROUND):
            t1 = min(t0 + ROUND - 1, spec.max_steps)
            plan.prepare(run.chunks, t0, t1, first)
            list(ex.map(lambda c, a=t0, b=t1: run.run_round(c, a, b), run.chunks))
            run.repack()
            bar.update(min(t1 + 1, spec.max_steps) - bar.n)
            if not run.chunks:
                break
    bar.close()
    theta = run.out_theta
    with np.errstate(all="ignore"):  # diverged networks may hold huge values
        test_loss = test.value(theta) if test is not None else None
    return TrainResult(
        theta=theta, loss=run.loss, grad_norm=run.gnorm,
        param_norm=np.linalg.norm(theta, axis=1), steps=run.steps, status=run.status,
        wall_time=run.wall, curve_step=run.rec, curve_loss=run.c_loss,
        curve_grad_norm=run.c_gn, test_loss=test_loss, curve_test_loss=run.c_test,
        chunk=run.C,
    )
