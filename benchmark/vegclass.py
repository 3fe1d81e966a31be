"""Vegetation classes of the paper from MODIS MCD12C1 IGBP land cover.

IGBP codes (MCD12C1 ``Majority_Land_Cover_Type_1``): 0 water, 1 ENF, 2 EBF, 3 DNF,
4 DBF, 5 mixed forest, 6 closed shrubland, 7 open shrubland, 8 woody savanna,
9 savanna, 10 grassland, 11 permanent wetland, 12 cropland, 13 urban, 14 cropland /
natural vegetation mosaic, 15 snow and ice, 16 barren, 17 water (other IGBP products).

They are reclassified to the paper's classes (SCIENCE.md section 2)::

    ENF <- 1, EBF <- 2, DNF <- 3, DBF <- 4, MF <- 5, Shrub <- 6, 7,
    Savanna <- 8, 9, Grassland <- 10, Crop <- 12, 14,
    Tundra <- Shrub, Savanna or Grassland with a cell-centre latitude > 55 N.

Every other IGBP code, and every pixel whose 1982-2018 mean NDVI is below 0.1, gets
:data:`NO_CLASS` (0). Class codes are ``1 + CLASS_NAMES.index(name)``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from rhbench.errors import CoordinateError, ValueRangeError

#: The paper's vegetation classes; the integer code of a class is its position + 1.
CLASS_NAMES: tuple[str, ...] = (
    "ENF",
    "EBF",
    "DNF",
    "DBF",
    "MF",
    "Shrub",
    "Savanna",
    "Grassland",
    "Crop",
    "Tundra",
)
#: Code of pixels without a class (water, wetland, urban, snow/ice, barren, NDVI < 0.1).
NO_CLASS = 0
#: IGBP code -> class name (codes absent here map to NO_CLASS).
IGBP_TO_CLASS: dict[int, str] = {
    1: "ENF",
    2: "EBF",
    3: "DNF",
    4: "DBF",
    5: "MF",
    6: "Shrub",
    7: "Shrub",
    8: "Savanna",
    9: "Savanna",
    10: "Grassland",
    12: "Crop",
    14: "Crop",
}
#: Classes that become Tundra north of :data:`TUNDRA_MIN_LAT`.
TUNDRA_FROM: tuple[str, ...] = ("Shrub", "Savanna", "Grassland")
#: Latitude (degrees N) north of which (strictly, by cell centre) TUNDRA_FROM becomes Tundra.
TUNDRA_MIN_LAT = 55.0
#: Pixels whose mean NDVI is below this are masked out (no class).
NDVI_MIN = 0.1


def class_code(name: str) -> int:
    """Integer code of a class name in :data:`CLASS_NAMES`."""
    return CLASS_NAMES.index(name) + 1


def dominant_igbp(land_cover_frac: xr.DataArray, *, type_dim: str = "type") -> xr.DataArray:
    """IGBP code of the largest fraction in each cell of a ``(type, lat, lon)`` array.

    Parameters
    ----------
    land_cover_frac: fractions (any unit: 0-1 or %) per IGBP type. The ``type_dim``
        coordinate holds the IGBP codes; without a coordinate, position i is code i
        (the MCD12C1 ``Land_Cover_Type_1_Percent`` layer order, 0 water .. 16 barren).
    type_dim: name of the type dimension.

    Returns
    -------
    Float DataArray (lat, lon) of IGBP codes; NaN where every fraction is missing.
    """
    if type_dim not in land_cover_frac.dims:
        raise CoordinateError(
            "land-cover fractions lack their type dimension",
            variable=land_cover_frac.name,
            found=list(land_cover_frac.dims),
            expected=f"a '{type_dim}' dimension",
        )
    if type_dim in land_cover_frac.coords and np.issubdtype(land_cover_frac[type_dim].dtype, np.number):
        codes = land_cover_frac[type_dim].values.astype(float)
    else:
        codes = np.arange(land_cover_frac.sizes[type_dim], dtype=float)
    has_data = land_cover_frac.notnull().any(type_dim)
    position = land_cover_frac.fillna(-np.inf).argmax(type_dim)
    dominant = xr.DataArray(codes[np.asarray(position)], dims=position.dims, coords=position.coords)
    return dominant.where(has_data).rename("igbp")


def reclassify_igbp(
    igbp: xr.DataArray,
    ndvi: xr.DataArray | None = None,
    *,
    ndvi_min: float = NDVI_MIN,
    tundra_min_lat: float = TUNDRA_MIN_LAT,
) -> xr.DataArray:
    """Paper vegetation classes from a dominant-IGBP-class map.

    Parameters
    ----------
    igbp: IGBP codes (lat, lon); NaN or codes outside 0-17 give NO_CLASS.
    ndvi: NDVI (1), either the 1982-2018 mean (lat, lon) or a series with a ``year`` or
        ``time`` dimension that is averaged here (select the period before calling).
        Pixels with mean NDVI < ``ndvi_min`` or missing NDVI get NO_CLASS.
    ndvi_min: NDVI threshold.
    tundra_min_lat: Shrub/Savanna/Grassland cells with centre latitude > this are Tundra.

    Returns
    -------
    int8 DataArray ``vegclass`` (lat, lon) with codes 1..10 (see :data:`CLASS_NAMES`) and
    0 for no class, carrying CF ``flag_values`` / ``flag_meanings``.
    """
    lookup = np.full(18, NO_CLASS, dtype=np.int8)
    for code, name in IGBP_TO_CLASS.items():
        lookup[code] = class_code(name)
    values = np.asarray(igbp.values, dtype=float)
    valid = np.isfinite(values) & (values >= 0) & (values <= 17)
    classes = np.where(valid, lookup[np.where(valid, values, 0).astype(int)], NO_CLASS)
    out = xr.DataArray(classes.astype(np.int8), dims=igbp.dims, coords=igbp.coords)
    northern = out["lat"] > tundra_min_lat
    to_tundra = out.isin([class_code(name) for name in TUNDRA_FROM]) & northern
    out = xr.where(to_tundra, np.int8(class_code("Tundra")), out)
    if ndvi is not None:
        out = xr.where(_mean_ndvi(ndvi) >= ndvi_min, out, np.int8(NO_CLASS))
    return _with_flag_attrs(out.astype(np.int8).transpose(*igbp.dims))


def vegetation_classes(
    land_cover: xr.DataArray, ndvi: xr.DataArray | None = None, *, type_dim: str = "type"
) -> xr.DataArray:
    """Paper vegetation classes from a dominant-IGBP map or from IGBP fractions.

    ``land_cover`` is either a (lat, lon) map of IGBP codes or (type, lat, lon) fractions,
    of which the dominant type is taken (:func:`dominant_igbp`). See :func:`reclassify_igbp`
    for ``ndvi`` and the output.
    """
    if type_dim in land_cover.dims:
        land_cover = dominant_igbp(land_cover, type_dim=type_dim)
    return reclassify_igbp(land_cover, ndvi)


def class_masks(vegclass: xr.DataArray) -> dict[str, xr.DataArray]:
    """One boolean (lat, lon) mask per class name, in :data:`CLASS_NAMES` order.

    ``vegclass`` holds class codes (int, or float with NaN for no class).
    """
    return {name: (vegclass == class_code(name)).rename(name) for name in CLASS_NAMES}


def vegetated(vegclass: xr.DataArray) -> xr.DataArray:
    """Boolean mask of cells that have one of the paper's classes (the vegetated area)."""
    return vegclass.isin(list(range(1, len(CLASS_NAMES) + 1))).rename("vegetated")


def _mean_ndvi(ndvi: xr.DataArray) -> xr.DataArray:
    time_dims = [dim for dim in ("year", "time") if dim in ndvi.dims]
    mean = ndvi.mean(time_dims) if time_dims else ndvi
    finite = mean.where(np.isfinite(mean))
    if finite.count() > 0 and float(finite.max()) > 1.0 + 1e-6:
        raise ValueRangeError(
            "NDVI outside its range",
            variable="ndvi",
            found=f"max {float(finite.max())}",
            expected="values in [-1, 1] (unscaled NDVI)",
        )
    return mean


def _with_flag_attrs(out: xr.DataArray) -> xr.DataArray:
    out.attrs = {
        "long_name": "vegetation class (He et al.; from MODIS MCD12C1 IGBP)",
        "flag_values": np.arange(len(CLASS_NAMES) + 1, dtype=np.int8),
        "flag_meanings": " ".join(("none",) + CLASS_NAMES),
        "units": "1",
    }
    return out.rename("vegclass")
