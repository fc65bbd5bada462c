"""The analysis notebook and the plots run on a real (small) sweep."""

import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("xor")
    subprocess.run([sys.executable, "-m", "bpexp", "-m", "model.hidden=1,2",
                    "model.activation=tanh,sigmoid", "init=xavier", "train.networks=30",
                    "train.max_steps=200", "train.progress=false", "hydra.sweep.dir=sweep"],
                   cwd=cwd, check=True, capture_output=True, timeout=300)
    return cwd / "sweep"


def test_notebook_cells_run(sweep, monkeypatch):
    monkeypatch.setenv("BPEXP_SWEEP", str(sweep))
    nb = json.loads((REPO / "analysis" / "xor_width.ipynb").read_text())
    ns: dict = {}
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), "notebook", "exec"), ns)  # noqa: S102
    assert len(ns["df"]) == 120
    for fig in (ns["fig"], ns["fig2"]):
        for ax in fig.axes:
            assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert ns["fig2"].axes[0].get_legend() is not None
    plt.close("all")
    assert os.environ["BPEXP_SWEEP"] == str(sweep)
