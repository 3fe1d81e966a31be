"""Soil carbon per layer given as a density (``kg m-3``): each layer's value x its thickness.

Some models write cSoil (or cLitter) per soil layer as a concentration per m3 of soil, with the
layers' depth bounds (``depth_bnds``, the CF ``bounds`` of the layer coordinate). The column's carbon
per m2 of ground is the sum over the layers of density x thickness (twelfth audit, B12-7; before, such
a file was refused as 'units of the wrong dimension'). :func:`per_area` does the multiplication
before the units check, so the loader then sums the layers as for any per-area layered variable.

Only with a bounds variable on the layer dimension in units of length (``m``, ``cm``, ``mm``);
without one the file is refused saying so (the thickness of a layer is not guessed from its centres).
"""

from __future__ import annotations

import logging

import numpy as np
import xarray as xr

from rhbench import layout, units
from rhbench.errors import RhbenchError, UnitsError
from rhbench.kernels import FILL_MAGNITUDE, FILL_VALUES
from rhbench.valuecheck import FILE_AXES

log = logging.getLogger(__name__)


def per_area(
    ds: xr.Dataset, name: str, variable: str, fills: tuple[float, ...], *, file: str
) -> tuple[xr.Dataset, tuple[float, ...]]:
    """``ds`` with ``name`` (canonical ``variable``) multiplied by its layers' thickness (m) and its units
    made per area (``kg m-3`` -> ``(kg m-3) m``), when it is a :data:`rhbench.layout.LAYERED_SUMS`
    variable given per volume on a layer dimension with length bounds; else ``ds`` unchanged. The
    ``fills`` (values meaning missing, :func:`rhbench.layout.fill_values`) are masked first, since
    scaled they would no longer be recognised; the fill values left to mask are returned."""
    data = ds[name]
    text = str(data.attrs.get("units", ""))
    if variable not in layout.LAYERED_SUMS or not _per_volume(text):
        return ds, fills
    layers = layout.summed_layers(data, variable, axes=FILE_AXES)
    thickness = _thickness(ds, layers[0]) if len(layers) == 1 else None
    if thickness is None:
        raise UnitsError(
            f"{variable} per volume without the thickness of its layers",
            file=file,
            variable=name,
            found=f"units {text!r}, dims {tuple(map(str, data.dims))}, no depth bounds in a unit of length",
            expected=f"{variable} per area ('kg m-2'), or per volume on a layer dimension whose coordinate names "
            "its CF bounds (e.g. depth_bnds in m)",
            hint="add the layers' depth bounds (a 'bounds' attribute on the layer coordinate naming an (n, 2) "
            "variable in m or cm), or write each layer's carbon per m2 (density x thickness)",
        )
    log.info("%s: %s per layer in %s: multiplied by each layer's thickness from its depth bounds", file, name, text)
    known = data.isin([*fills, *FILL_VALUES]) | (abs(data) >= FILL_MAGNITUDE)  # what the loader's pass masks
    masked = data.where(~known)
    scaled = masked * xr.DataArray(thickness, dims=(layers[0],))
    scaled.attrs = {**data.attrs, "units": f"({text}) m", "per_volume_times_thickness": layers[0]}
    scaled.encoding = data.encoding
    return ds.assign({name: scaled}), ()


def declared_units(declared: str, data: xr.DataArray) -> str:
    """The plugin's ``declared`` units of ``data`` once :func:`per_area` scaled it: per volume declared
    units made per area too (``kg m-3`` -> ``(kg m-3) m``); others as declared."""
    scaled = "per_volume_times_thickness" in data.attrs
    return f"({declared}) m" if scaled and _per_volume(declared) else declared


def _per_volume(text: str) -> bool:
    """True for units of mass per volume (``kg m-3``, ``g cm-3``, ``kgC m-3``)."""
    try:
        return bool(text) and units.same_dimension(text, "kg m-3")
    except RhbenchError:
        return False


def _thickness(ds: xr.Dataset, dim: str) -> np.ndarray | None:
    """Each layer's thickness in m from the CF bounds of coordinate ``dim`` (None without usable ones)."""
    if dim not in ds.variables:
        return None
    bounds = ds[dim].attrs.get("bounds")
    if not isinstance(bounds, str) or bounds not in ds.variables or ds[bounds].shape != (ds.sizes[dim], 2):
        return None
    length = str(ds[bounds].attrs.get("units") or ds[dim].attrs.get("units") or "")
    try:
        factor = units.conversion_factor(length, "m")
    except RhbenchError:
        return None
    edges = np.asarray(ds[bounds].values, dtype="float64")
    thickness = np.abs(edges[:, 1] - edges[:, 0]) * factor
    return thickness if np.all(np.isfinite(thickness)) and np.all(thickness > 0) else None
