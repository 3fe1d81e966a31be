"""Maps: small multiples on one colour scale (linear, log or categorical) and site maps.

Drawn with plain matplotlib (no cartopy, no network): coastlines are Natural Earth's
1:110m land outlines, bundled (:mod:`rhbench.geography`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.collections import LineCollection
from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm, Normalize
from matplotlib.patches import Patch

from rhbench.report.figure import legend_outside, message_figure, new_figure, png, styles

#: Largest number of latitude rows drawn per map panel (finer grids are subsampled).
MAX_MAP_ROWS = 180
#: Latitudes shown on maps (degrees north): Antarctica and the Arctic Ocean are left out.
MAP_LATS = (-60.0, 85.0)
_MAP_WIDTH, _MAP_HEIGHT = 360.0, MAP_LATS[1] - MAP_LATS[0]
#: Gaps between map panels as fractions of a panel's width and height (title in the latter).
_MAP_WSPACE, _MAP_HSPACE = 0.04, 0.22


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


def _colour_limits(arrays: list[np.ndarray], diverging: bool, log: bool = False) -> tuple[float, float]:
    finite = np.concatenate([a[np.isfinite(a)].ravel() for a in arrays] or [np.zeros(1)])
    if log:
        finite = finite[finite > 0]
    if finite.size == 0:
        return (-1.0, 1.0) if diverging else ((0.1, 1.0) if log else (0.0, 1.0))
    if diverging:
        bound = float(np.percentile(np.abs(finite), 98)) or 1.0
        return -bound, bound
    low, high = np.percentile(finite, [2, 98])
    return float(low), float(high if high > low else low * 10 if log else low + 1.0)


def _norm(grids: dict, diverging: bool, log: bool, categories: dict | None):
    """(colour map name or object, norm) of the panels."""
    if categories:
        codes = sorted(categories)
        cmap = ListedColormap([style["color"] for style in styles(len(codes))])
        bounds = [codes[0] - 0.5, *[c + 0.5 for c in codes]]
        return cmap, BoundaryNorm(bounds, len(codes))
    vmin, vmax = _colour_limits([g.to_numpy() for g in grids.values()], diverging, log)
    return None, LogNorm(vmin, vmax) if log else Normalize(vmin, vmax)


def map_panels(
    panels: dict[str, xr.DataArray],
    *,
    units: str,
    title: str = "",
    cmap: str | None = None,
    diverging: bool = False,
    log: bool = False,
    categories: dict[int, str] | None = None,
    coastlines: bool = True,
    ncols: int = 4,
) -> bytes:
    """Small-multiple maps on one shared colour scale.

    Parameters
    ----------
    panels: panel title -> 2-D DataArray with ``lat``/``lon`` coordinates in degrees
        (any lon convention, any lat order), values in ``units``.
    units: colour-bar label (with the quantity, e.g. ``tau_soil (yr)``).
    title: figure title.
    cmap: matplotlib colour map; default ``viridis`` (``RdBu_r`` when ``diverging``).
    diverging: centre the colour scale on zero (for differences / biases).
    log: logarithmic colour scale (turnover times spanning orders of magnitude).
    categories: integer code -> label for categorical maps (a legend instead of a colour bar).
    coastlines: draw the bundled coastlines.
    ncols: panels per row.
    """
    if not panels:
        return message_figure("no maps")
    grids = {name: _display_grid(da) for name, da in panels.items()}
    default_cmap, norm = _norm(grids, diverging, log, categories)
    cmap = default_cmap or cmap or ("RdBu_r" if diverging else "viridis")
    ncols = min(ncols, len(grids))
    nrows = math.ceil(len(grids) / ncols)
    scale = 2.2 if ncols == 1 else 1.0  # a lone map is drawn larger, so its titles fit
    fig = new_figure(2.4 * scale * ncols + 0.8 * scale, 1.35 * scale * nrows + 0.5, layout=None)
    top = 1 - 0.3 / fig.get_figheight()  # room for the figure title; panel titles are inside
    # one axes holds every panel, each shifted to its slot (data units: degrees): a
    # matplotlib Axes per panel costs more than drawing the panel itself
    ax = fig.add_axes((0.01, 0.02, 0.87, top - 0.02))
    ax.set_axis_off()
    image = _draw_panels(ax, grids, ncols, cmap, norm, coastlines)
    pitch_y = _MAP_HEIGHT * (1 + _MAP_HSPACE)
    ax.set_xlim(-2, (ncols - 1) * _MAP_WIDTH * (1 + _MAP_WSPACE) + _MAP_WIDTH + 2)
    ax.set_ylim(-(nrows - 1) * pitch_y - 2, _MAP_HEIGHT * (1 + _MAP_HSPACE))
    if categories:
        handles = [Patch(color=cmap(i), label=categories[c]) for i, c in enumerate(sorted(categories))]
        fig.legend(handles=handles, loc="center right", fontsize=7, frameon=False, title=units, title_fontsize=7)
    else:
        bar = fig.colorbar(image, cax=fig.add_axes((0.89, 0.15, 0.015, 0.7)))
        bar.set_label(units, fontsize=8)
        bar.ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title, fontsize=10, y=1 - 0.1 / fig.get_figheight(), va="top")
    return png(fig)


def _draw_panels(ax, grids: dict[str, xr.DataArray], ncols: int, cmap, norm, coastlines: bool):
    """Draw every panel into ``ax`` at its slot; return the last image (for the colour bar)."""
    pitch_x, pitch_y = _MAP_WIDTH * (1 + _MAP_WSPACE), _MAP_HEIGHT * (1 + _MAP_HSPACE)
    south, north = MAP_LATS
    coast = _clip_lines(coastline_segments(), south, north) if coastlines else ()
    image, frames, lines = None, [], []
    for i, (name, grid) in enumerate(grids.items()):
        x0, y0 = (i % ncols) * pitch_x, -(i // ncols) * pitch_y
        grid = grid.sel(lat=slice(south, north))
        lat = grid["lat"].to_numpy()
        half = float(np.median(np.diff(lat))) / 2 if lat.size > 1 else 0.0
        values = grid.to_numpy()
        if isinstance(norm, LogNorm):
            values = np.where(values > 0, values, np.nan)
        extent = (x0, x0 + _MAP_WIDTH, y0 + lat.min() - half - south, y0 + lat.max() + half - south)
        image = ax.imshow(values, origin="lower", cmap=cmap, norm=norm, aspect="auto", extent=extent)
        image.set_interpolation("nearest")
        corners = [[0, 0], [_MAP_WIDTH, 0], [_MAP_WIDTH, _MAP_HEIGHT], [0, _MAP_HEIGHT], [0, 0]]
        frames.append(np.array(corners) + (x0, y0))
        lines.extend(line + (x0 + 180, y0 - south) for line in coast)
        ax.text(x0 + _MAP_WIDTH / 2, y0 + _MAP_HEIGHT * 1.02, name, ha="center", va="bottom", fontsize=8)
    ax.add_collection(LineCollection(lines, colors="0.15", linewidths=0.35))
    ax.add_collection(LineCollection(frames, colors="black", linewidths=0.8, clip_on=False))
    return image


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


def site_map(sites: pd.DataFrame, *, title: str = "", group: str = "vegetation") -> bytes:
    """Measurement sites on a world map, one colour and marker per ``group`` (Fig. S2).

    Parameters
    ----------
    sites: columns ``Latitude``, ``Longitude`` (degrees) and ``group`` (e.g. vegetation class).
    """
    fig = new_figure(8.5, 4.0)
    ax = fig.add_subplot()
    coast = _clip_lines(coastline_segments(), -90.0, 90.0)
    ax.add_collection(LineCollection(coast, colors="0.4", linewidths=0.4))
    names = sorted(str(g) for g in sites[group].dropna().unique()) if group in sites else ["sites"]
    for style, name in zip(styles(len(names)), names, strict=True):
        part = sites[sites[group].astype(str) == name] if group in sites else sites
        ax.scatter(part["Longitude"], part["Latitude"], s=12, label=f"{name} (n={len(part)})", **style)
    ax.set_xlim(-180, 180)
    ax.set_ylim(-60, 85)
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    ax.set_aspect("equal")
    legend_outside(ax, len(names), title=group)
    if title:
        ax.set_title(title, fontsize=10)
    return png(fig)
