"""Baselines for the bpexp benchmark: the same full-batch gradient descent written three
other ways.

Every baseline trains ``f(x) = U tanh(W x + b) + c`` (one output) on the squared loss
``mean_b 1/2 (yhat_b - y_b)^2`` with plain gradient descent ``theta -= lr grad`` for a fixed
number of steps, from given initial parameters ``W (N, H, D)``, ``b (N, H)``, ``U (N, 1, H)``,
``c (N, 1)`` (the parts of ``TwoLayerNet.init``), and returns the final training loss
``(N,)`` (after the last update) and the final parameters.

* :func:`numpy_loop`: one network at a time in a Python loop, hand-written backprop in
  numpy, float64: what most people write first.
* :func:`jax_trainer`: ``jit(vmap(scan(step)))`` over all networks at once, float64.
* :func:`torch_loop`: one network at a time, ``nn.Module`` with ``nn.Linear`` layers and
  ``torch.optim.SGD``, float32: the typical PyTorch user code.

JAX and PyTorch are optional: :func:`jax_trainer` and :func:`torch_loop` raise
``ImportError`` when they are missing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Array = np.ndarray
Parts = tuple[Array, Array, Array, Array]


def reference_loss(X: Array, Y: Array, W: Array, b: Array, U: Array, c: Array) -> Array:
    """Plain float64 loss ``(N,)`` of networks ``W (N, H, D)`` ... on ``X (B, D)``, ``Y (B,)``."""
    A = np.einsum("bd,nhd->nbh", X, W) + b[:, None, :]
    yhat = np.einsum("nbh,nh->nb", np.tanh(A), U[:, 0, :]) + c
    return 0.5 * np.mean((yhat - Y[None, :]) ** 2, axis=1)


# ------------------------------------------------------------------------ numpy loop
def numpy_train_one(X: Array, Y: Array, W: Array, b: Array, U: Array, c: Array, lr: float,
                    steps: int) -> tuple[float, Parts]:
    """Train one network ``W (H, D), b (H,), U (1, H), c (1,)`` with hand-written backprop."""
    W, b, U, c = W.copy(), b.copy(), U.copy(), c.copy()
    B = X.shape[0]
    y = Y.reshape(B, 1)
    for _ in range(steps):
        z = np.tanh(X @ W.T + b)  # (B, H)
        err = z @ U.T + c - y  # (B, 1): dloss/dyhat per sample
        dz = (err @ U) * (1.0 - z * z)  # (B, H)
        gW = dz.T @ X / B
        gb = dz.sum(axis=0) / B
        gU = err.T @ z / B
        gc = err.sum(axis=0) / B
        W -= lr * gW
        b -= lr * gb
        U -= lr * gU
        c -= lr * gc
    err = np.tanh(X @ W.T + b) @ U.T + c - y
    return 0.5 * float(np.mean(err**2)), (W, b, U, c)


def numpy_loop(X: Array, Y: Array, parts: Parts, lr: float, steps: int) -> tuple[Array, Parts]:
    """Train the networks of ``parts`` one after the other; losses ``(N,)`` and parameters."""
    N = parts[0].shape[0]
    loss = np.empty(N)
    out = tuple(np.empty_like(p) for p in parts)
    for k in range(N):
        loss[k], final = numpy_train_one(X, Y, *(p[k] for p in parts), lr, steps)
        for dst, src in zip(out, final, strict=True):
            dst[k] = src
    return loss, out


# ------------------------------------------------------------------------------ JAX
def jax_trainer(X: Array, Y: Array, parts: Parts, lr: float, steps: int
                ) -> tuple[Callable[[], tuple[Array, Parts]], float]:
    """A compiled float64 JAX trainer of all networks of ``parts`` at once.

    Returns ``(run, compile_seconds)``; ``run()`` trains (blocking until done) and returns
    the final losses ``(N,)`` and parameters as numpy arrays.
    """
    import time

    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)

    def loss_fn(p, X, Y):
        W, b, U, c = p
        yhat = jnp.tanh(X @ W.T + b) @ U.T + c  # (B, 1)
        return 0.5 * jnp.mean((yhat[:, 0] - Y) ** 2)

    grad_fn = jax.grad(loss_fn)

    def train_one(p, X, Y):
        def step(p, _):
            g = grad_fn(p, X, Y)
            return jax.tree_util.tree_map(lambda a, ga: a - lr * ga, p, g), None

        p, _ = jax.lax.scan(step, p, None, length=steps)
        return loss_fn(p, X, Y), p

    batched = jax.jit(jax.vmap(train_one, in_axes=(0, None, None)))
    args = (tuple(jnp.asarray(a, dtype=jnp.float64) for a in parts),
            jnp.asarray(X, dtype=jnp.float64), jnp.asarray(Y, dtype=jnp.float64))
    t = time.perf_counter()
    compiled = batched.lower(*args).compile()
    compile_seconds = time.perf_counter() - t

    def run() -> tuple[Array, Parts]:
        loss, p = jax.block_until_ready(compiled(*args))
        return np.asarray(loss), tuple(np.asarray(a) for a in p)

    return run, compile_seconds


# -------------------------------------------------------------------------- PyTorch
def torch_loop(X: Array, Y: Array, parts: Parts, lr: float, steps: int) -> tuple[Array, Parts]:
    """Train the networks of ``parts`` one after the other, the usual float32 PyTorch way."""
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self, inputs: int, hidden: int):
            super().__init__()
            self.hidden = nn.Linear(inputs, hidden)
            self.out = nn.Linear(hidden, 1)

        def forward(self, x):
            return self.out(torch.tanh(self.hidden(x)))

    Xt = torch.tensor(X, dtype=torch.float32)
    Yt = torch.tensor(Y, dtype=torch.float32).reshape(-1, 1)
    N, H, D = parts[0].shape
    loss = np.empty(N)
    out = tuple(np.empty_like(p) for p in parts)
    for k in range(N):
        model = Net(D, H)
        W, b, U, c = (torch.tensor(p[k], dtype=torch.float32) for p in parts)
        with torch.no_grad():
            model.hidden.weight.copy_(W)
            model.hidden.bias.copy_(b)
            model.out.weight.copy_(U)
            model.out.bias.copy_(c)
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        for _ in range(steps):
            opt.zero_grad()
            batch_loss = 0.5 * nn.functional.mse_loss(model(Xt), Yt)
            batch_loss.backward()
            opt.step()
        with torch.no_grad():
            loss[k] = 0.5 * nn.functional.mse_loss(model(Xt), Yt).item()
            final = (model.hidden.weight, model.hidden.bias, model.out.weight, model.out.bias)
            for dst, src in zip(out, final, strict=True):
                dst[k] = src.numpy()
    return loss, out
