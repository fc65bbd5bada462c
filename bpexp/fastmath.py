"""A vectorised float64 ``tanh``, about 4x faster than ``np.tanh`` on CPUs without AVX-512.

NumPy evaluates float64 ``tanh`` with the scalar C library where it has no SIMD kernel for
the CPU (any x86 without AVX-512), and the hidden layer's ``tanh`` then dominates training.
This is the Cephes algorithm (S. Moshier) written so that LLVM vectorises it (numba):

* ``|x| < 0.625``: ``x + x^3 P(x^2) / Q(x^2)``, a (2, 3) rational approximation;
* otherwise ``(1 - e) / (1 + e)`` with ``e = exp(-2|x|)``, the exponential by Cody-Waite
  reduction ``2^k exp(r)``, ``exp(r)`` by Cephes' Pade form and ``2^k`` from its bits.

Both branches are computed and selected, with no data-dependent control flow, so every
element gets the same operations whatever its position or the array's length (batching
invariance) and the result is within 2 ulp of the correctly rounded value (tested against
``np.tanh``). NaN, +-0 and +-inf are returned as ``tanh`` returns them.
"""

from __future__ import annotations

import threading

import numba
import numpy as np

_P = (-9.64399179425052238628e-1, -9.92877231001918586564e1, -1.61468768441708447952e3)
_Q = (1.12811678491632931402e2, 2.23548839060100448583e3, 4.84406305325125486048e3)
_EP = (1.26177193074810590878e-4, 3.02994407707441961300e-2, 9.99999999999999999910e-1)
_EQ = (3.00198505138664455042e-6, 2.52448340349684104192e-3, 2.27265548208155028766e-1,
       2.00000000000000000009e0)
_LN2_HI = 6.93145751953125e-1
_LN2_LO = 1.42860682030941723212e-6
_INV_LN2 = 1.4426950408889634
_ROUND = 6755399441055744.0  # 1.5 * 2^52: adding and subtracting it rounds to an integer


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def _tanh_flat(a, out, ex, scale):  # pragma: no cover - compiled
    p0, p1, p2 = _P
    q0, q1, q2 = _Q
    e0, e1, e2 = _EP
    f0, f1, f2, f3 = _EQ
    bits = scale.view(np.int64)
    n = a.size
    for i in range(n):  # exp(-2|x|) = exp(r) * 2^k, |x| clamped at 22 where tanh = +-1
        ax = abs(a[i])
        u = -2.0 * ax if ax < 22.0 else -44.0
        kf = (u * _INV_LN2 + _ROUND) - _ROUND
        r = (u - kf * _LN2_HI) - kf * _LN2_LO
        rr = r * r
        px = r * ((e0 * rr + e1) * rr + e2)
        qx = ((f0 * rr + f1) * rr + f2) * rr + f3
        ex[i] = 1.0 + 2.0 * (px / (qx - px))
        bits[i] = (np.int64(kf) + 1023) << 52
    for i in range(n):
        x = a[i]
        z = x * x
        e = ex[i] * scale[i]
        small = abs(x) < 0.625
        num = x * z * ((p0 * z + p1) * z + p2) if small else 1.0 - e
        den = (((z + q0) * z + q1) * z + q2) if small else 1.0 + e
        q = num / den
        y = x + q if small else (q if x >= 0.0 else -q)
        out[i] = y if (x == x and x != 0.0) else x


_local = threading.local()


def _scratch(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two float64 buffers of length ``n``, reused per thread (the hot loop calls often)."""
    bufs = getattr(_local, "bufs", None)
    if bufs is None or bufs[0].size != n:
        bufs = _local.bufs = (np.empty(n), np.empty(n))
    return bufs


def tanh(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Elementwise ``tanh`` of an array of any shape; ``out`` may be ``a`` itself.

    Non-float64 or non-contiguous input falls back to ``np.tanh``."""
    a = np.asarray(a)
    if out is None:
        out = np.empty_like(a)
    if a.dtype != np.float64 or not (a.flags.c_contiguous and out.flags.c_contiguous):
        return np.tanh(a, out=out)
    ex, scale = _scratch(a.size)
    _tanh_flat(a.reshape(-1), out.reshape(-1), ex, scale)
    return out
