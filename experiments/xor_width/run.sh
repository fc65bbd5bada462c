#!/usr/bin/env bash
# XOR width sweep: hidden 1..8 x {tanh, sigmoid} x {xavier, normal}, 1000 networks per job.
set -euo pipefail
cd "$(dirname "$0")/../.."
BPEXP=${BPEXP:-.venv/bin/bpexp}
"$BPEXP" -m data=xor 'model.hidden=range(1,9)' model.activation=tanh,sigmoid \
  init=xavier,normal train.networks=1000 train.max_steps=5000 seed=0 \
  hydra.sweep.dir=multirun/xor_width "$@"
.venv/bin/python -m bpexp.summary multirun/xor_width --by model.activation init.scheme model.hidden
