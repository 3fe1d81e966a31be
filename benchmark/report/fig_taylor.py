"""The Taylor diagram (Taylor 2001): normalised standard deviation against correlation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from rhbench.report.figure import fixed_margins, legend_outside, legend_width, new_figure, png, styles

_R_TICKS = (1.0, 0.99, 0.95, 0.9, 0.8, 0.6, 0.4, 0.2, 0.0)
_CRMSE_LEVELS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5)


def taylor_diagram(stats: pd.DataFrame, *, title: str = "", ref_label: str = "Reference") -> bytes:
    """Taylor diagram (Taylor 2001) of normalised standard deviation vs correlation.

    Parameters
    ----------
    stats: one row per source with columns ``source``, ``r`` (Pearson correlation with
        the reference, -1..1) and ``sd_norm`` (standard deviation / the reference's,
        dimensionless). Rows with NaN are left out.
    title: figure title.
    ref_label: label of the reference point (r = 1, sd_norm = 1).

    Returns
    -------
    PNG bytes. Grey dashed contours are centred RMS differences, normalised by the
    reference standard deviation; each source has its own colour and marker pair (unique
    up to 100 sources), named in full in a legend beside the diagram.
    """
    stats = stats.dropna(subset=["r", "sd_norm"]).reset_index(drop=True)
    negative = bool((stats["r"] < 0).any())
    rmax = max(1.5, 1.1 * float(stats["sd_norm"].max())) if len(stats) else 1.5
    longest = max([len(str(s)) for s in stats["source"]] + [len(ref_label)])
    fig = new_figure(4.6 + legend_width(len(stats) + 1, longest), 4.6, layout=None)
    ax = fig.add_subplot(projection="polar")
    _axes(ax, rmax, negative)
    _contours(ax, rmax, negative)
    ax.plot([0], [1], marker="*", markersize=14, color="black", label=ref_label, linestyle="", clip_on=False)
    for style, (_, row) in zip(styles(len(stats)), stats.iterrows(), strict=True):
        angle = math.acos(float(np.clip(row["r"], -1, 1)))
        ax.plot([angle], [row["sd_norm"]], linestyle="", markersize=7, label=str(row["source"]), **style)
    legend_outside(ax, len(stats) + 1)
    if title:
        ax.set_title(title, fontsize=10)
    # margins for the fixed labels (left one only with positive r), as constrained layout set them
    fixed_margins(fig, ax, left=0.73 if negative else 0.87, bottom=0.54, top=0.48 if title else 0.29, square=True)
    return png(fig)


def _axes(ax: Axes, rmax: float, negative: bool) -> None:
    """Quarter (or half, with negative r) polar axes with correlation ticks and axis labels."""
    ax.set_thetamin(0)
    ax.set_thetamax(180 if negative else 90)
    ax.set_ylim(0, rmax)
    ticks = list(_R_TICKS) + ([-0.2, -0.4, -0.6, -0.8, -1.0] if negative else [])
    ax.set_xticks(np.arccos(ticks), [f"{t:g}" for t in ticks], fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    ax.text(np.radians(90 if negative else 45), rmax * 1.13, "correlation", ha="center", va="center", fontsize=9)
    label = "normalised standard deviation (1)"
    ax.text(0.5 if negative else 0.5, -0.1, label, transform=ax.transAxes, ha="center", va="top", fontsize=9)
    if not negative:
        ax.text(-0.12, 0.5, label, transform=ax.transAxes, ha="right", va="center", rotation=90, fontsize=9)


def _contours(ax: Axes, rmax: float, negative: bool) -> None:
    """Centred-RMS-difference contours and the reference SD arc."""
    theta, radius = np.meshgrid(np.linspace(0, np.pi, 181), np.linspace(0, rmax, 100))
    crmse = np.sqrt(radius**2 + 1 - 2 * radius * np.cos(theta))
    contours = ax.contour(theta, radius, crmse, levels=_CRMSE_LEVELS, colors="0.6", linestyles="--", linewidths=0.8)
    ax.clabel(contours, fontsize=7, fmt="%.2g")
    arc = np.linspace(0, np.pi if negative else np.pi / 2, 100)
    ax.plot(arc, np.ones_like(arc), color="0.3", linewidth=0.8, linestyle=":")
