"""Line and scatter figures: zonal means, 2-box series, the emulation check (Fig. 4a) and
the Rh-vs-tau deviation scatter (Fig. S12)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import xarray as xr

from rhbench.report.figure import (
    CONSTRAINED,
    OBS_COLOUR,
    UNCONSTRAINED,
    fixed_margins,
    legend_outside,
    legend_width,
    line_styles,
    message_figure,
    new_figure,
    png,
    styles,
)


def zonal_means(
    zonal: xr.DataArray,
    *,
    units: str,
    title: str = "",
    reference: str | None = None,
    band: tuple[xr.DataArray, xr.DataArray] | None = None,
    log: bool = False,
) -> bytes:
    """Zonal-mean profiles, one line per source, latitude on the vertical axis.

    Parameters
    ----------
    zonal: DataArray with dims (source, lat), values in ``units``, lat in degrees.
    units: x-axis label (quantity and units).
    title: figure title.
    reference: a source drawn last, as a thick black line on top of all others.
    band: (low, high) profiles (lat) of the observation's uncertainty, shaded grey.
    log: logarithmic x axis (turnover times).
    """
    sources = [str(s) for s in zonal["source"].to_numpy()]
    others = [s for s in sources if s != reference]
    longest = max([len(s) for s in sources] + [10])
    fig = new_figure(3.8 + legend_width(len(sources) + 1, longest), 3.8, layout=None)
    ax = fig.add_subplot()
    for source, style in zip(others, line_styles(len(others)), strict=True):
        line = zonal.sel(source=source).sortby("lat")
        ax.plot(line.to_numpy(), line["lat"].to_numpy(), label=source, linewidth=1.0, **style)
    if band is not None:
        low, high = (b.sortby("lat") for b in band)
        ax.fill_betweenx(
            low["lat"].to_numpy(),
            low.to_numpy(),
            high.to_numpy(),
            color="0.6",
            alpha=0.35,
            label="observation ± 1 SD",
            zorder=5,
        )
    if reference in sources:
        line = zonal.sel(source=reference).sortby("lat")
        ax.plot(
            line.to_numpy(),
            line["lat"].to_numpy(),
            label=reference if "observ" in reference else f"{reference} (observation)",
            color=OBS_COLOUR,
            linewidth=2.4,
            zorder=10,
        )
    if log:
        ax.set_xscale("log")
    ax.set_ylabel("latitude (°N)")
    ax.set_xlabel(units)
    ax.set_ylim(-60, 85)
    legend_outside(ax, len(sources) + (band is not None), fontsize=6)
    if title:
        ax.set_title(title, fontsize=10)
    # the axis labels and latitude ticks are fixed; a log axis' powers of ten stand taller
    fixed_margins(fig, ax, left=0.65, bottom=0.53 if log else 0.49, top=0.25 if title else 0.05)
    return png(fig)


def twobox_series(ds: xr.Dataset, *, var: str = "dcTotal", units: str = "Pg C", title: str = "") -> bytes:
    """Carbon change since each model's first year before and after the turnover-time
    constraint (Fig. 4b): the mean over sources (band: ±1 SD across sources), then one
    small panel per source (band: the Monte Carlo SD of the constrained run), shared axes.

    ``ds`` has dims (source, year) and ``{var}_unconstrained``, ``{var}_constrained`` and
    optionally ``{var}_constrained_sd``, in ``units``. Sources named ``ensemble*`` are left out.
    """
    ensemble = [str(s) for s in ds["source"].to_numpy() if str(s).startswith("ensemble")]
    members = ds.drop_sel(source=ensemble)
    unc = members[f"{var}_unconstrained"].transpose("source", "year").to_numpy()
    con = members[f"{var}_constrained"].transpose("source", "year").to_numpy()
    sd = members.get(f"{var}_constrained_sd")
    band = sd.transpose("source", "year").to_numpy() if sd is not None else None
    sources, years = [str(s) for s in members["source"].to_numpy()], members["year"].to_numpy()
    ncols, nrows = 4, 1 + math.ceil(len(sources) / 4)
    fig = new_figure(2.4 * ncols, 1.7 * nrows + 0.3, layout=None)
    grid = fig.add_gridspec(nrows, ncols, left=0.07, right=0.98, bottom=0.04, top=0.93, hspace=0.25, wspace=0.12)
    ens = fig.add_subplot(grid[0, :2])
    for data, colour, label in ((unc, UNCONSTRAINED, "unconstrained"), (con, CONSTRAINED, "constrained")):
        mean, spread = np.nanmean(data, axis=0), np.nanstd(data, axis=0)
        ens.plot(years, mean, color=colour, label=label)
        ens.fill_between(years, mean - spread, mean + spread, color=colour, alpha=0.2, linewidth=0)
    ens.set_title(f"mean of {len(sources)} sources (±1 SD across sources)", fontsize=8)
    ens.set_ylabel(f"{var} ({units})")
    ens.legend(fontsize=7, loc="upper left")
    first = None
    for i, source in enumerate(sources):
        ax = fig.add_subplot(grid[1 + i // ncols, i % ncols], sharex=first, sharey=first)
        first = first or ax
        ax.plot(years, unc[i], color=UNCONSTRAINED, linewidth=1)
        ax.plot(years, con[i], color=CONSTRAINED, linewidth=1)
        if band is not None:
            ax.fill_between(years, con[i] - band[i], con[i] + band[i], color=CONSTRAINED, alpha=0.25, linewidth=0)
        ax.text(0.03, 0.95, source, transform=ax.transAxes, fontsize=7, va="top")
        ax.locator_params(nbins=4)
        ax.tick_params(labelsize=6, labelleft=i % ncols == 0, labelbottom=i + ncols >= len(sources))
    if title:
        fig.suptitle(title, fontsize=10)
    return png(fig)


def emulation_scatter(ds: xr.Dataset, *, r2: dict[str, float] | None = None, title: str = "") -> bytes:
    """Each DGVM's own dcTotal against its 2-box emulation, every year (Fig. 4a).

    ``ds``: dims (source, year), ``dcTotal_dgvm`` and ``dcTotal_unconstrained`` (the
    emulation) in Pg C; sources named ``ensemble*`` are left out. ``r2``: source -> R2 shown
    in the legend.
    """
    sources = [str(s) for s in ds["source"].to_numpy() if not str(s).startswith("ensemble")]
    if not sources:
        return message_figure("no 2-box emulation series")
    longest = max(len(s) for s in sources) + 12
    fig = new_figure(4.4 + legend_width(len(sources), longest), 4.2)
    ax = fig.add_subplot()
    for style, source in zip(styles(len(sources)), sources, strict=True):
        own = ds["dcTotal_dgvm"].sel(source=source).to_numpy()
        emulated = ds["dcTotal_unconstrained"].sel(source=source).to_numpy()
        label = f"{source} (r² {r2[source]:.3f})" if r2 and source in r2 else source
        ax.plot(own, emulated, linestyle="", markersize=2.5, alpha=0.7, label=label, **style)
    both = np.concatenate([ds["dcTotal_dgvm"].to_numpy().ravel(), ds["dcTotal_unconstrained"].to_numpy().ravel()])
    both = both[np.isfinite(both)]
    low, high = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
    ax.plot([low, high], [low, high], color="black", linewidth=0.8, label="1:1")
    ax.set_xlabel("DGVM dcTotal since first year (Pg C)")
    ax.set_ylabel("2-box emulated dcTotal (Pg C)")
    legend_outside(ax, len(sources) + 1)
    if title:
        ax.set_title(title, fontsize=10)
    return png(fig)


def deviation_scatter(points: pd.DataFrame, *, title: str = "") -> bytes:
    """Relative deviation of global Rh against that of tau_soil, one point per source
    (Fig. S12). ``points``: columns ``source``, ``rh_dev_pct``, ``tau_dev_pct`` (%)."""
    points = points.dropna(subset=["rh_dev_pct", "tau_dev_pct"]).reset_index(drop=True)
    if points.empty:
        return message_figure("no deviations to draw")
    longest = max(len(str(s)) for s in points["source"])
    fig = new_figure(4.4 + legend_width(len(points), longest), 4.0)
    ax = fig.add_subplot()
    for style, (_, row) in zip(styles(len(points)), points.iterrows(), strict=True):
        ax.plot(
            [row["rh_dev_pct"]], [row["tau_dev_pct"]], linestyle="", markersize=7, label=str(row["source"]), **style
        )
    ax.axhline(0, color="0.5", linewidth=0.6)
    ax.axvline(0, color="0.5", linewidth=0.6)
    ax.margins(0.1)
    if len(points) > 2:
        r = float(np.corrcoef(points["rh_dev_pct"], points["tau_dev_pct"])[0, 1])
        ax.text(0.03, 0.03, f"r = {r:.2f} (n = {len(points)})", transform=ax.transAxes, fontsize=8)
    ax.set_xlabel("Rh deviation from observation (%)")
    ax.set_ylabel("τ_soil deviation from observation (%)")
    legend_outside(ax, len(points))
    if title:
        ax.set_title(title, fontsize=10)
    return png(fig)
