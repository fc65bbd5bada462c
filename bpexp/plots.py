"""Figures of a sweep's outcomes, for notebooks and reports (matplotlib via seaborn).

Every figure has labelled axes (with units), a legend where there is more than one series,
and a title saying what was counted.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg", force=False)  # no display needed; notebooks switch to inline

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .train import STATUSES  # noqa: E402

STATUS_COLORS = dict(zip(STATUSES, ("#2a9d8f", "#e9c46a", "#e76f51", "#8d99ae"), strict=True))


def outcome_fractions(df: pd.DataFrame, x: str, hue: str | None = None) -> plt.Figure:
    """Stacked bars: the fraction of networks ending in each status, per value of ``x``
    (one panel per value of ``hue``), with the fraction solved marked on top."""
    panels = [None] if hue is None else list(pd.unique(df[hue]))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.6), sharey=True,
                             squeeze=False)
    for ax, value in zip(axes[0], panels, strict=True):
        part = df if value is None else df[df[hue] == value]
        frac = pd.crosstab(part[x], part["status"], normalize="index")
        frac = frac.reindex(columns=list(STATUSES), fill_value=0.0)
        frac.plot.bar(stacked=True, ax=ax, color=[STATUS_COLORS[s] for s in STATUSES],
                      width=0.8, legend=False, rot=0)
        solved = part.groupby(x)["solved"].mean()
        ax.plot(range(len(solved)), solved.to_numpy(), "k.-", label="solved")
        ax.set_xlabel(x)
        ax.set_ylabel("fraction of networks")
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{hue} = {value}" if hue else f"{len(part):,} networks")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), frameon=False,
               bbox_to_anchor=(0.5, 1.08))
    fig.tight_layout()
    return fig


def loss_curves(curves: pd.DataFrame, hue: str, quantiles: Sequence[float] = (0.1, 0.5, 0.9)
                ) -> plt.Figure:
    """Quantiles over networks of the training loss against step (log-log), per ``hue``.

    Networks that stopped are carried at their final loss, so late quantiles are not
    biased towards the networks that are still training."""
    fig, ax = plt.subplots(figsize=(6, 4))
    palette = sns.color_palette(n_colors=curves[hue].nunique())
    for color, (value, part) in zip(palette, curves.groupby(hue, sort=True), strict=True):
        wide = part.pivot_table(index="step", columns=["job", "network"], values="loss")
        wide = wide.ffill()
        q = wide.quantile(list(quantiles), axis=1).T
        mid = quantiles[len(quantiles) // 2]
        ax.plot(q.index + 1, q[mid], color=color, label=f"{hue} = {value}")
        ax.fill_between(q.index + 1, q[quantiles[0]], q[quantiles[-1]], color=color,
                        alpha=0.2, linewidth=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("step + 1 (updates)")
    ax.set_ylabel("training loss (mean 1/2 squared error)")
    lo, hi = int(100 * quantiles[0]), int(100 * quantiles[-1])
    ax.set_title(f"median loss, band {lo}-{hi}% of networks")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig
