"""Learning-rate schedules as arrays: ``lr[t]`` is the rate of update ``t = 0 .. steps-1``.

* ``constant``: ``lr``
* ``step``: ``lr * gamma ** (t // every)``
* ``cosine``: from ``lr`` down to ``final * lr`` over ``steps`` updates,
  ``lr (final + (1 - final) (1 + cos(pi t / steps)) / 2)``
"""

from __future__ import annotations

import numpy as np

SCHEDULES = ("constant", "step", "cosine")


def schedule(name: str, lr: float, steps: int, every: int = 1000, gamma: float = 0.1,
             final: float = 0.0) -> np.ndarray:
    """Learning rates ``(steps,)`` float64; one-line ``ValueError`` for bad values."""
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}")
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"optim.lr must be a finite number > 0, got {lr!r}")
    t = np.arange(steps, dtype=np.float64)
    if name == "constant":
        return np.full(steps, float(lr))
    if name == "step":
        if every < 1:
            raise ValueError(f"optim.every must be an integer >= 1, got {every!r}")
        if not 0 < gamma <= 1:
            raise ValueError(f"optim.gamma must lie in (0, 1], got {gamma!r}")
        return lr * gamma ** (t // every)
    if not 0 <= final <= 1:
        raise ValueError(f"optim.final must lie in [0, 1], got {final!r}")
    return lr * (final + (1.0 - final) * 0.5 * (1.0 + np.cos(np.pi * t / max(steps, 1))))
