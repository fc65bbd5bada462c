"""Outcome tables of a sweep: fraction solved and outcome counts per configuration.

``python -m bpexp.summary SWEEP_DIR [--by model.hidden ...]`` prints the table; in Python,
:func:`outcomes` returns it as a DataFrame.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import pandas as pd

from .results import ResultsError, load_sweep
from .train import STATUSES


def varying(df: pd.DataFrame) -> list[str]:
    """Config columns (dotted names or ``seed``) that take more than one value."""
    cols = [c for c in df.columns if "." in c or c == "seed"]
    return [c for c in cols if df[c].nunique(dropna=False) > 1]


def outcomes(df: pd.DataFrame, by: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per group of ``by`` (default: the varying config columns).

    Columns: ``networks``, ``solved`` (fraction), one count per status in
    :data:`bpexp.train.STATUSES`, ``median_steps`` and ``median_final_loss``.
    """
    by = list(by) if by else varying(df)
    if not by:
        df = df.assign(all="all")
        by = ["all"]
    g = df.groupby(by, observed=True, sort=True)
    counts = g["status"].value_counts().unstack(fill_value=0)
    counts = counts.reindex(columns=list(STATUSES), fill_value=0)
    table = pd.DataFrame({
        "networks": g.size(),
        "solved": g["solved"].mean(),
    }).join(counts)
    table["median_steps"] = g["steps"].median()
    table["median_final_loss"] = g["final_loss"].median()
    return table


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bpexp.summary", description=__doc__)
    p.add_argument("path", help="a multirun directory or one job directory")
    p.add_argument("--by", nargs="*", default=None, help="config columns to group by")
    args = p.parse_args(argv)
    try:
        df = load_sweep(args.path)
        table = outcomes(df, args.by)
    except (ResultsError, KeyError) as err:
        print(f"bpexp.summary: error: {err}", file=sys.stderr)
        return 2
    with pd.option_context("display.width", 160, "display.max_columns", 20,
                           "display.float_format", "{:.4g}".format):
        print(table.to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
