"""Every random stream of bpexp, derived from an explicit seed through ``SeedSequence``.

A stream is named by ``(seed, purpose, *index)``: the generator is
``default_rng(SeedSequence(seed, spawn_key=(purpose, *index)))``. Network ``k`` of seed ``s``
therefore draws the same numbers however the networks are batched, chunked or launched,
and data (which has its own seed) never shares a stream with networks.
"""

from __future__ import annotations

import numpy as np

#: Purposes (the first spawn-key entry). Append new ones; never renumber.
INIT = 0  #: initial parameters of network k: ``(INIT, k)``
BATCH_SHARED = 1  #: minibatch order shared by all networks: ``(BATCH_SHARED,)``
BATCH_NETWORK = 2  #: minibatch order of network k: ``(BATCH_NETWORK, k)``
DATA = 3  #: dataset generation: ``(DATA, part)`` with part 0 = train, 1 = held-out
TEACHER = 4  #: teacher network parameters: ``(TEACHER,)``


def check_seed(seed: object, name: str = "seed") -> int:
    """Return ``seed`` as an int, or raise ``ValueError`` naming it if it is not an int >= 0."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {seed!r}")
    return int(seed)


def rng(seed: int, purpose: int, *index: int) -> np.random.Generator:
    """The generator of stream ``(seed, purpose, *index)``."""
    key = (int(purpose), *(int(i) for i in index))
    return np.random.default_rng(np.random.SeedSequence(check_seed(seed), spawn_key=key))
