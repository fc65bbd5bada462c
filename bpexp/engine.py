"""The compiled step loop of full-batch training (numba): no Python between steps.

:func:`run_steps` advances one chunk of networks from step ``t0``: at each step it computes
the loss and gradient (:func:`bpexp.fused.loss_grad`), checks the stopping rules
(:func:`bpexp.fused.check`) and applies the optimiser's update
(:func:`bpexp.optim.apply_update`) with the learning rate masked by ``alive``. It returns
the first step at which something must be recorded in Python (a record step, a network
stopping, or ``max_steps``), *before* that step's update, or ``t1 + 1`` if none came. The
per-step work is exactly that of the Python loop in :mod:`bpexp.train` (which minibatch
plans use), so both give the same numbers.
"""

from __future__ import annotations

import numba

from .fused import check, loss_grad
from .optim import apply_update


@numba.njit(nogil=True, cache=True, error_model="numpy", boundscheck=False)
def run_steps(act, loss, X1, X1T, T, w, small, Theta, grad, H, O, frozen, has_c,
              A, Z, S, scratch, ones_U, zero_c, spare_gU, spare_gc, spare_gWb, value,
              opt_code, hyper, state, lrs, alive, lr, t0, t1, max_steps, is_record,
              loss_tol, grad_tol2, diverge_loss, diverge_norm2, gn2, bad, stop
              ):  # pragma: no cover - compiled
    """Run steps ``t0..t1`` of one chunk; return the step of the first event (see above)."""
    C = Theta.shape[1]
    for t in range(t0, t1 + 1):
        loss_grad(act, loss, X1, X1T, T, w, small, Theta, grad, True, H, O, frozen, has_c,
                  A, Z, S, scratch, ones_U, zero_c, spare_gU, spare_gc, spare_gWb, value)
        anyone = check(value, grad, Theta, alive, loss_tol, grad_tol2, diverge_loss,
                       diverge_norm2, gn2, bad, stop)
        if anyone or t == max_steps or is_record[t]:
            return t
        for k in range(C):
            lr[k] = lrs[t] if alive[k] else 0.0
        apply_update(opt_code, hyper, Theta, grad, state, lr, t)
    return t1 + 1
