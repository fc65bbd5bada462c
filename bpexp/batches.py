"""Minibatch plans: which samples each update of each network sees.

* ``BatchPlan.full(B)``: every update uses all ``B`` samples (checks every step).
* ``BatchPlan.shared(B, m, seed)``: one order for all networks. Each epoch is a
  permutation of the samples from stream ``(BATCH_SHARED,)``, cut into ``B // m``
  batches of ``m`` (the remainder is dropped); update ``t`` uses batch ``t % (B // m)`` of
  epoch ``t // (B // m)``. Only the batch's rows are computed.
* ``BatchPlan.per_network(B, m, seed)``: the same, but network ``k`` draws its own
  permutations from stream ``(BATCH_NETWORK, k)``. All samples are computed and the loss is
  weighted (``1/m`` on the network's batch, 0 elsewhere), one matrix product for all.

Permutations depend only on the seed, the network index and the epoch, never on how
networks are chunked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import seeding
from .backprop import Backprop

Array = np.ndarray


@dataclass
class BatchPlan:
    samples: int
    size: int  # m; equal to samples for full batch
    order: str  # "full", "shared" or "network"
    seed: int = 0
    _shared: list[Array] = field(default_factory=list, repr=False)
    _gens: dict[int, list] = field(default_factory=dict, repr=False)
    _full: tuple[Array, Array] | None = field(default=None, repr=False)

    @classmethod
    def full(cls, samples: int) -> BatchPlan:
        return cls(samples, samples, "full")

    @classmethod
    def make(cls, samples: int, size: int, order: str, seed: int) -> BatchPlan:
        """The plan for ``train.batch_size`` / ``train.batch_order``; one-line errors."""
        if order not in ("shared", "network"):
            raise ValueError(f"train.batch_order must be 'shared' or 'network', got {order!r}")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"train.batch_size must be an integer >= 0, got {size!r}")
        if size == 0 or size >= samples:
            return cls.full(samples)
        return cls(samples, size, order, seeding.check_seed(seed))

    @property
    def minibatch(self) -> bool:
        return self.order != "full"

    @property
    def every(self) -> int:
        """Updates per epoch: stopping checks run at multiples of it."""
        return self.samples // self.size

    def kernel(self, obj, width: int, dtype: np.dtype = np.float64) -> Backprop | None:
        """The minibatch kernel for ``width`` networks (``None`` for full batch)."""
        if self.order == "shared":
            m = self.size
            self._full = (obj.X1, obj.T)
            return Backprop(obj.net, obj.X1[:m], obj.T[:m].copy(), obj.loss, width, dtype)
        if self.order == "network":
            k = obj.kernel(width, dtype)
            k.weights = np.zeros((self.samples, width), dtype)
            return k
        return None

    def _perm(self, gen: np.random.Generator) -> Array:
        return gen.permutation(self.samples)

    def shared_epoch(self, epoch: int) -> Array:
        """Permutation of epoch ``epoch`` of the shared order (drawn in epoch order)."""
        if not self._shared:
            self._gen0 = seeding.rng(self.seed, seeding.BATCH_SHARED)
        while len(self._shared) <= epoch:
            self._shared.append(self._perm(self._gen0))
        return self._shared[epoch]

    def prepare(self, chunks, t0: int, t1: int, first: int = 0) -> None:
        """Draw the permutations of the epochs in steps ``t0..t1`` (main thread only);
        chunk column ``k`` is network ``first + k``."""
        e0, e1 = t0 // self.every, t1 // self.every
        if self.order == "shared":
            self.shared_epoch(e1)
            return
        if self.order != "network":
            return
        for chunk in chunks:
            perms = np.empty((e1 - e0 + 1, self.samples, chunk.ids.size), np.intp)
            for col, k in enumerate(chunk.ids):
                if k < 0:
                    perms[:, :, col] = np.arange(self.samples)
                    continue
                entry = self._gens.get(int(first + k))
                if entry is None:  # [generator, next epoch to draw, last permutation]
                    gen = seeding.rng(self.seed, seeding.BATCH_NETWORK, first + k)
                    entry = self._gens[int(first + k)] = [gen, 0, None]
                for e in range(e0, e1 + 1):
                    if e >= entry[1]:
                        for _ in range(entry[1], e + 1):  # draw in epoch order
                            entry[2] = self._perm(entry[0])
                        entry[1] = e + 1
                    elif e != entry[1] - 1:
                        raise RuntimeError(f"epoch {e} of network {k} was released")
                    perms[e - e0, :, col] = entry[2]
            chunk.perm, chunk.perm_e0 = perms, e0

    def forget(self, ids: Array) -> None:
        """Release the generators of finished networks (global indices)."""
        for k in ids:
            self._gens.pop(int(k), None)

    def loss_grad(self, kernel: Backprop, theta: Array, grad: Array, chunk, t: int) -> Array:
        """Minibatch loss ``(C,)`` of update ``t``; its gradient into ``grad``."""
        m, e, j = self.size, t // self.every, t % self.every
        if self.order == "shared":
            rows = self.shared_epoch(e)[j * m : (j + 1) * m]
            full_X1, full_T = self._full
            kernel.X1[:] = full_X1[rows]
            kernel.X1T[:] = kernel.X1.T
            kernel.T[:] = full_T[rows, :, 0]
            return kernel.loss_grad(theta, grad)
        idx = chunk.perm[e - chunk.perm_e0, j * m : (j + 1) * m]  # (m, C)
        w = kernel.weights
        w[:] = 0.0
        w[idx, np.arange(idx.shape[1])] = 1.0 / m
        return kernel.loss_grad(theta, grad, w)
