"""Report figures as PNG bytes: Taylor diagram, global bars, maps, zonal means, 2-box
series and Random Forest diagnostics.

Every function takes plain pandas / xarray inputs and returns the PNG as ``bytes``
(:func:`write_png` saves it). Figures are drawn on :class:`matplotlib.figure.Figure`
objects with the Agg canvas, without pyplot's global state, cartopy or network access;
coastlines are Natural Earth's 1:110m land outlines, bundled (:mod:`rhbench.geography`).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

#: Resolution of saved figures (dots per inch).
DPI = 85
#: zlib level of the PNG encoder: 3 encodes the page's figures in about half the time of
#: Pillow's default 6 and, on these flat-coloured figures, into no larger files (lossless).
PNG_COMPRESS_LEVEL = 3
#: Largest number of latitude rows drawn per map panel (finer grids are subsampled).
MAX_MAP_ROWS = 180
#: Latitudes shown on maps (degrees north): Antarctica and the Arctic Ocean are left out.
MAP_LATS = (-60.0, 85.0)
_MAP_WIDTH, _MAP_HEIGHT = 360.0, MAP_LATS[1] - MAP_LATS[0]
#: Gaps between map panels as fractions of a panel's width and height (title in the latter).
_MAP_WSPACE, _MAP_HSPACE = 0.04, 0.22
#: Colours by source kind (DGVMs vs observation-based products vs the reference).
KIND_COLOURS = {"dgvm": "#4c72b0", "reference": "#222222"}
OTHER_KIND_COLOUR = "#dd8452"
#: Colours of the 2-box series before and after the turnover-time constraint.
UNCONSTRAINED, CONSTRAINED = "#4c72b0", "#dd8452"


def _new_figure(width: float, height: float, *, layout: str | None = "constrained") -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    return buffer.getvalue()


def write_png(data: bytes, path: Path | str) -> Path:
    """Write PNG ``data`` to ``path`` (folders created) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _message_figure(text: str, width: float = 5.0, height: float = 1.2) -> bytes:
    fig = _new_figure(width, height)
    fig.text(0.5, 0.5, text, ha="center", va="center", fontsize=10, color="#555555")
    return _png(fig)


# --- Taylor diagram -----------------------------------------------------------------


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
    reference standard deviation; sources are numbered, with the key beside the plot.
    """
    stats = stats.dropna(subset=["r", "sd_norm"]).reset_index(drop=True)
    negative = bool((stats["r"] < 0).any())
    rmax = max(1.5, 1.1 * float(stats["sd_norm"].max())) if len(stats) else 1.5
    fig = _new_figure(7.0, 4.6)
    ax = fig.add_subplot(projection="polar")
    ax.set_thetamin(0)
    ax.set_thetamax(180 if negative else 90)
    ax.set_ylim(0, rmax)
    ticks = [1.0, 0.99, 0.95, 0.9, 0.8, 0.6, 0.4, 0.2, 0.0]
    if negative:
        ticks += [-0.2, -0.4, -0.6, -0.8, -1.0]
    ax.set_xticks(np.arccos(ticks), [f"{t:g}" for t in ticks], fontsize=8)
    ax.text(np.radians(45 if not negative else 90), rmax * 1.12, "correlation", ha="center")
    ax.set_ylabel("normalised standard deviation", labelpad=18)
    theta, radius = np.meshgrid(np.linspace(0, np.pi, 181), np.linspace(0, rmax, 100))
    crmse = np.sqrt(radius**2 + 1 - 2 * radius * np.cos(theta))
    contours = ax.contour(
        theta,
        radius,
        crmse,
        levels=[0.25, 0.5, 0.75, 1.0, 1.25, 1.5],
        colors="0.6",
        linestyles="--",
        linewidths=0.8,
    )
    ax.clabel(contours, fontsize=7, fmt="%.2g")
    arc = np.linspace(0, np.pi if negative else np.pi / 2, 100)
    ax.plot(arc, np.ones_like(arc), color="0.3", linewidth=0.8, linestyle=":")
    ax.plot([0], [1], marker="*", markersize=14, color="black", label=ref_label, linestyle="")
    colours = _palette(len(stats))
    for i, row in stats.iterrows():
        angle = math.acos(float(np.clip(row["r"], -1, 1)))
        ax.plot(
            [angle],
            [row["sd_norm"]],
            "o",
            color=colours[i],
            markersize=7,
            linestyle="",
            label=f"{i + 1} {row['source']}",
        )
        ax.annotate(
            str(i + 1),
            (angle, row["sd_norm"]),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=8,
        )
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.05, 1.0),
        fontsize=7,
        frameon=False,
        ncols=1 if len(stats) < 18 else 2,
    )
    if title:
        ax.set_title(title)
    return _png(fig)


def _palette(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    return [cmap(i % 20) for i in range(n)]


# --- global bars --------------------------------------------------------------------


def global_bars(
    values: pd.Series,
    *,
    units: str,
    title: str = "",
    kinds: pd.Series | None = None,
    obs: float | None = None,
    obs_sd: float | None = None,
    obs_label: str = "Observation",
) -> bytes:
    """Bar chart of a global metric per source, with the observation and its band.

    Parameters
    ----------
    values: metric value per source (index = source name), in ``units``.
    units: units label of the values (e.g. ``Pg C yr-1``).
    title: figure title.
    kinds: source kind per source (same index), used for bar colours.
    obs, obs_sd: the observation-based value and its 1-SD uncertainty, same units;
        drawn as a horizontal line and shaded band when given.
    obs_label: legend label of the observation.
    """
    values = values.dropna()
    fig = _new_figure(max(5.0, 0.32 * len(values) + 2.5), 3.4)
    ax = fig.add_subplot()
    x = np.arange(len(values))
    kinds = kinds.reindex(values.index) if kinds is not None else None
    colours = [
        KIND_COLOURS.get(str(kinds.iloc[i]), OTHER_KIND_COLOUR) if kinds is not None else KIND_COLOURS["dgvm"]
        for i in range(len(values))
    ]
    ax.bar(x, values.to_numpy(dtype=float), color=colours, width=0.7)
    if obs is not None and math.isfinite(obs):
        ax.axhline(obs, color="black", linewidth=1.2, label=f"{obs_label} {obs:.3g}")
        if obs_sd is not None and math.isfinite(obs_sd):
            ax.axhspan(obs - obs_sd, obs + obs_sd, color="0.5", alpha=0.25, label=f"± 1 SD ({obs_sd:.2g})")
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.set_xticks(x, [str(s) for s in values.index], rotation=60, ha="right", fontsize=8)
    ax.set_ylabel(units)
    ax.set_xlim(-0.6, len(values) - 0.4)
    if title:
        ax.set_title(title)
    return _png(fig)


# --- maps ---------------------------------------------------------------------------


def coastline_segments() -> tuple[np.ndarray, ...]:
    """Coastlines as (lon, lat) polylines in degrees (:func:`rhbench.geography.coastlines`)."""
    from rhbench.geography import coastlines

    return coastlines()


def _display_grid(da: xr.DataArray) -> xr.DataArray:
    da = da.sortby("lat")
    if float(da["lon"].max()) > 180:
        da = da.assign_coords(lon=((da["lon"] + 180) % 360) - 180).sortby("lon")
    step = max(1, math.ceil(da.sizes["lat"] / MAX_MAP_ROWS))
    return da.isel(lat=slice(None, None, step), lon=slice(None, None, step))


def _colour_limits(arrays: list[np.ndarray], diverging: bool) -> tuple[float, float]:
    finite = np.concatenate([a[np.isfinite(a)].ravel() for a in arrays] or [np.zeros(1)])
    if finite.size == 0:
        return (-1.0, 1.0) if diverging else (0.0, 1.0)
    if diverging:
        bound = float(np.percentile(np.abs(finite), 98)) or 1.0
        return -bound, bound
    low, high = np.percentile(finite, [2, 98])
    return float(low), float(high if high > low else low + 1.0)


def map_panels(
    panels: dict[str, xr.DataArray],
    *,
    units: str,
    title: str = "",
    cmap: str | None = None,
    diverging: bool = False,
    coastlines: bool = True,
    ncols: int = 4,
) -> bytes:
    """Small-multiple maps on one shared colour scale.

    Parameters
    ----------
    panels: panel title -> 2-D DataArray with ``lat``/``lon`` coordinates in degrees
        (any lon convention, any lat order), values in ``units``.
    units: colour-bar label.
    title: figure title.
    cmap: matplotlib colour map; default ``viridis`` (``RdBu_r`` when ``diverging``).
    diverging: centre the colour scale on zero (for differences / biases).
    coastlines: draw coastlines from the land mask.
    ncols: panels per row.
    """
    if not panels:
        return _message_figure("no maps")
    grids = {name: _display_grid(da) for name, da in panels.items()}
    vmin, vmax = _colour_limits([g.to_numpy() for g in grids.values()], diverging)
    cmap = cmap or ("RdBu_r" if diverging else "viridis")
    ncols = min(ncols, len(grids))
    nrows = math.ceil(len(grids) / ncols)
    fig = _new_figure(2.4 * ncols + 0.8, 1.35 * nrows + 0.5, layout=None)
    top = 1 - 0.3 / fig.get_figheight()  # room for the figure title; panel titles are inside
    # one axes holds every panel, each shifted to its slot (data units: degrees): a
    # matplotlib Axes per panel costs more than drawing the panel itself
    ax = fig.add_axes((0.01, 0.02, 0.87, top - 0.02))
    ax.set_axis_off()
    pitch_x, pitch_y = _MAP_WIDTH * (1 + _MAP_WSPACE), _MAP_HEIGHT * (1 + _MAP_HSPACE)
    south, north = MAP_LATS
    coast = _clip_lines(coastline_segments(), south, north) if coastlines else ()
    image = None
    frames, lines = [], []
    for i, (name, grid) in enumerate(grids.items()):
        x0 = (i % ncols) * pitch_x
        y0 = -(i // ncols) * pitch_y
        grid = grid.sel(lat=slice(south, north))
        lat = grid["lat"].to_numpy()
        half = float(np.median(np.diff(lat))) / 2 if lat.size > 1 else 0.0
        image = ax.imshow(
            grid.to_numpy(),
            origin="lower",
            cmap=cmap,
            vmin=vmin,
            vmax=vmax,
            aspect="auto",
            extent=(x0, x0 + _MAP_WIDTH, y0 + lat.min() - half - south, y0 + lat.max() + half - south),
            interpolation="nearest",
        )
        frames.append(
            np.array(
                [[x0, y0], [x0 + _MAP_WIDTH, y0], [x0 + _MAP_WIDTH, y0 + _MAP_HEIGHT], [x0, y0 + _MAP_HEIGHT], [x0, y0]]
            )
        )
        lines.extend(line + (x0 + 180, y0 - south) for line in coast)
        ax.text(x0 + _MAP_WIDTH / 2, y0 + _MAP_HEIGHT * 1.02, name, ha="center", va="bottom", fontsize=8)
    ax.add_collection(LineCollection(lines, colors="0.15", linewidths=0.35))
    ax.add_collection(LineCollection(frames, colors="black", linewidths=0.8, clip_on=False))
    ax.set_xlim(-2, (ncols - 1) * pitch_x + _MAP_WIDTH + 2)
    ax.set_ylim(-(nrows - 1) * pitch_y - 2, _MAP_HEIGHT * (1 + _MAP_HSPACE))
    cax = fig.add_axes((0.9, 0.15, 0.015, 0.7))
    fig.colorbar(image, cax=cax, label=units)
    if title:
        fig.suptitle(title, fontsize=10, y=1 - 0.1 / fig.get_figheight(), va="top")
    return _png(fig)


def _clip_lines(lines: tuple[np.ndarray, ...], south: float, north: float) -> list[np.ndarray]:
    """The runs of each (lon, lat) polyline that lie within ``south``..``north`` degrees."""
    clipped = []
    for line in lines:
        inside = (line[:, 1] >= south) & (line[:, 1] <= north)
        breaks = np.flatnonzero(np.diff(inside.astype(int))) + 1
        for run in np.split(np.arange(len(line)), breaks):
            if inside[run[0]] and run.size > 1:
                clipped.append(line[run])
    return clipped


# --- zonal means --------------------------------------------------------------------


def zonal_means(zonal: xr.DataArray, *, units: str, title: str = "", reference: str | None = None) -> bytes:
    """Zonal-mean profiles, one line per source, latitude on the vertical axis.

    Parameters
    ----------
    zonal: DataArray with dims (source, lat), values in ``units``, lat in degrees.
    units: x-axis label.
    title: figure title.
    reference: a source drawn as a thick black line (e.g. the observation product).
    """
    fig = _new_figure(4.8, 3.8)
    ax = fig.add_subplot()
    sources = [str(s) for s in zonal["source"].to_numpy()]
    colours = _palette(len(sources))
    for i, source in enumerate(sources):
        line = zonal.isel(source=i).sortby("lat")
        style = {"color": "black", "linewidth": 2.2} if source == reference else {"color": colours[i], "linewidth": 1.0}
        ax.plot(line.to_numpy(), line["lat"].to_numpy(), label=source, **style)
    ax.set_ylabel("latitude (°N)")
    ax.set_xlabel(units)
    ax.set_ylim(-60, 85)
    ax.legend(
        fontsize=6,
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        frameon=False,
        ncols=1 if len(sources) <= 16 else 2,
    )
    if title:
        ax.set_title(title)
    return _png(fig)


# --- 2-box series -------------------------------------------------------------------


def twobox_series(ds: xr.Dataset, *, var: str = "dcTotal", units: str = "Pg C", title: str = "") -> bytes:
    """Cumulative carbon change before and after the turnover-time constraint (Fig. 4).

    Parameters
    ----------
    ds: Dataset with dims (source, year) and variables ``{var}_unconstrained``,
        ``{var}_constrained`` and, optionally, ``{var}_constrained_sd`` and
        ``{var}_unconstrained_sd`` (Monte Carlo SD), all in ``units``.
    var: the quantity (``dcTotal``, ``cTotal``, ...).
    units: y-axis label.
    title: figure title.

    Returns
    -------
    PNG bytes: the mean over sources (band: ±1 SD across sources) in the first panel,
    then small multiples, one per source (band: the Monte Carlo SD of the constrained
    run) on shared axes so that sources compare at a glance. Sources whose name starts
    with ``ensemble`` (e.g. ``ensemble_mean``) are left out.
    """
    ensemble = [str(s) for s in ds["source"].to_numpy() if str(s).startswith("ensemble")]
    members = ds.drop_sel(source=ensemble)
    unc = members[f"{var}_unconstrained"].transpose("source", "year").to_numpy()
    con = members[f"{var}_constrained"].transpose("source", "year").to_numpy()
    sd = members.get(f"{var}_constrained_sd")
    band = sd.transpose("source", "year").to_numpy() if sd is not None else None
    sources = [str(s) for s in members["source"].to_numpy()]
    years = members["year"].to_numpy()
    ncols = 4
    nrows = 1 + math.ceil(len(sources) / ncols)
    fig = _new_figure(2.4 * ncols, 1.7 * nrows + 0.3, layout=None)
    grid = fig.add_gridspec(nrows, ncols, left=0.07, right=0.98, bottom=0.04, top=0.93, hspace=0.25, wspace=0.12)
    ens = fig.add_subplot(grid[0, :2])
    for data, colour, label in ((unc, UNCONSTRAINED, "unconstrained"), (con, CONSTRAINED, "constrained")):
        mean, spread = np.nanmean(data, axis=0), np.nanstd(data, axis=0)
        ens.plot(years, mean, color=colour, label=label)
        ens.fill_between(years, mean - spread, mean + spread, color=colour, alpha=0.2, linewidth=0)
    ens.set_title(f"mean of {len(sources)} sources (±1 SD across sources)", fontsize=8)
    ens.set_ylabel(units)
    ens.legend(fontsize=7)
    first = None
    for i, source in enumerate(sources):
        row, col = 1 + i // ncols, i % ncols
        ax = fig.add_subplot(grid[row, col], sharex=first, sharey=first)
        first = first or ax
        ax.plot(years, unc[i], color=UNCONSTRAINED, linewidth=1)
        ax.plot(years, con[i], color=CONSTRAINED, linewidth=1)
        if band is not None:
            ax.fill_between(years, con[i] - band[i], con[i] + band[i], color=CONSTRAINED, alpha=0.25, linewidth=0)
        ax.text(0.03, 0.95, source, transform=ax.transAxes, fontsize=7, va="top")
        ax.locator_params(nbins=4)
        ax.tick_params(labelsize=6, labelleft=col == 0, labelbottom=i + ncols >= len(sources))
    if title:
        fig.suptitle(title, fontsize=10)
    return _png(fig)


# --- Random Forest diagnostics ------------------------------------------------------


def rf_scatter(oof: pd.DataFrame, *, metrics: dict | None = None, units: str = "g C m-2 yr-1") -> bytes:
    """Observed vs out-of-fold predicted Rh, coloured by climate zone, with a 1:1 line.

    Parameters
    ----------
    oof: columns ``observed``, ``predicted`` (``units``) and optionally ``zone``.
    metrics: cross-validation scores shown in the corner (e.g. ``{"r2": 0.62}``).
    units: axis units.
    """
    fig = _new_figure(4.2, 3.9)
    ax = fig.add_subplot()
    groups = oof.groupby("zone") if "zone" in oof else [("sites", oof)]
    for (zone, part), colour in zip(groups, _palette(20), strict=False):
        ax.scatter(
            part["observed"],
            part["predicted"],
            s=8,
            alpha=0.6,
            color=colour,
            label=f"{zone} (n={len(part)})",
        )
    both = pd.concat([oof["observed"], oof["predicted"]]).dropna()
    low, high = (float(both.min()), float(both.max())) if len(both) else (0.0, 1.0)
    ax.plot([low, high], [low, high], color="black", linewidth=0.8)
    ax.set_xlabel(f"observed ({units})")
    ax.set_ylabel(f"predicted ({units})")
    if metrics:
        text = "\n".join(f"{k} = {v:.3g}" for k, v in metrics.items() if isinstance(v, int | float))
        ax.text(0.03, 0.97, text, transform=ax.transAxes, va="top", fontsize=8)
    ax.legend(fontsize=7, loc="lower right")
    return _png(fig)


def rf_importance(importance: pd.DataFrame) -> bytes:
    """Horizontal bars of predictor importance (``predictor``, ``importance_pct`` in %)."""
    ordered = importance.sort_values("importance_pct")
    fig = _new_figure(4.2, 0.18 * len(ordered) + 1.0)
    ax = fig.add_subplot()
    ax.barh(ordered["predictor"].astype(str), ordered["importance_pct"], color="#55a868")
    ax.set_xlabel("importance (% of total node-purity increase)")
    ax.tick_params(axis="y", labelsize=7)
    return _png(fig)


def rf_partial_dependence(pdp: pd.DataFrame, *, units: str = "g C m-2 yr-1", ncols: int = 4) -> bytes:
    """Partial-dependence lines, one panel per predictor.

    Parameters
    ----------
    pdp: long table with columns ``predictor``, ``value`` (predictor value, its own
        units) and ``rh`` (partial dependence of Rh, ``units``).
    units: y-axis units.
    ncols: panels per row.
    """
    predictors = list(dict.fromkeys(pdp["predictor"].astype(str)))
    if not predictors:
        return _message_figure("no partial dependence")
    ncols = min(ncols, len(predictors))
    nrows = math.ceil(len(predictors) / ncols)
    fig = _new_figure(2.3 * ncols, 1.8 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    for ax, name in zip(axes.flat, predictors, strict=False):
        part = pdp[pdp["predictor"].astype(str) == name].sort_values("value")
        ax.plot(part["value"], part["rh"], color="#c44e52")
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(predictors) :]:
        ax.set_visible(False)
    axes[0, 0].set_ylabel(f"Rh ({units})", fontsize=7)
    return _png(fig)
