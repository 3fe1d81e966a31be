"""Write synthetic fields as files in the conventions (and quirks) a source declares.

The quirks are those of :data:`rhbench.sources.QUIRKS`: coordinate names and
orders, longitude convention, fill values without ``_FillValue``, time units and
calendars (including VISIT's ``years since AD 1700-Jan-1st``), gzip, yearly pools
beside monthly fluxes; a catalog path ending ``.tif`` gets a GeoTIFF as such products are
published (north-up, EPSG:4326, nodata, no units). Writing is atomic: a temporary file is
renamed into place.
"""

from __future__ import annotations

import gzip
import os
import shutil
from datetime import datetime
from pathlib import Path

import cftime
import dask
import dask.array as da
import numpy as np
import xarray as xr

from rhbench.timeaxis import days_in_month

SYNTHETIC_NOTE = "SYNTHETIC rhbench demo data: not an observation or a model result"


def _calendar(quirks: frozenset[str]) -> str:
    if "calendar_360_day" in quirks:
        return "360_day"
    if "calendar_noleap" in quirks:
        return "noleap"
    return "standard"


def time_coordinate(years: np.ndarray, monthly: bool, quirks: frozenset[str]) -> tuple[np.ndarray, dict]:
    """Time values and attributes for yearly or monthly steps of calendar ``years``, encoded as the
    quirks say (the values are in the returned ``units``: days, hours, months or years since a date)."""
    calendar = _calendar(quirks)
    if monthly:
        year = np.repeat(years, 12)
        month = np.tile(np.arange(1, 13), years.size)
    else:
        year, month = years, np.full(years.size, 7)
    if "time_years_since_ad" in quirks:
        fraction = (month - 0.5) / 12.0 if monthly else np.full(year.size, 0.5)
        return year - 1700 + fraction, {"units": "years since AD 1700-Jan-1st", "calendar": calendar}
    if "time_months_since" in quirks:
        values = (year - 1901) * 12 + (month - 1) + (0.5 if monthly else 0.0)
        return values.astype(float), {"units": "months since 1901-1-1", "calendar": calendar}
    day = 15 if monthly else 1
    dates = [cftime.datetime(int(y), int(m), day, calendar=calendar) for y, m in zip(year, month, strict=True)]
    if "time_hours_since" in quirks:
        units = "hours since 1860-01-01 00:00:00"
    else:
        units = "days since 1901-01-01"
    return np.asarray(cftime.date2num(dates, units, calendar=calendar), dtype=float), {
        "units": units,
        "calendar": calendar,
    }


def monthly_from_annual(annual: np.ndarray, years: np.ndarray, calendar: str, amplitude: float) -> np.ndarray:
    """Monthly values with a seasonal cycle whose day-weighted annual mean equals ``annual``.

    ``annual`` has dims (year, ...); the result has dims (year*12, ...).
    """
    months = np.arange(1, 13)
    cycle = 1.0 + amplitude * np.cos(2 * np.pi * (months - 7) / 12.0)
    out = np.empty((years.size * 12, *annual.shape[1:]), dtype=annual.dtype)
    for i, year in enumerate(years):
        days = days_in_month(np.full(12, year), months, calendar)
        shape = cycle / (np.sum(days * cycle) / np.sum(days))
        out[i * 12 : (i + 1) * 12] = annual[i][None] * shape.reshape(12, *([1] * (annual.ndim - 1)))
    return out


def monthly_blocks(
    annual: np.ndarray, years: np.ndarray, calendar: str, amplitude: float, years_per_block: int = 10
) -> da.Array:
    """:func:`monthly_from_annual` as a dask array made ``years_per_block`` years at a time.

    The same values, but a full-size field (0.5 deg, 1416 months: 2.9 GB of float64) is
    never held in memory: :func:`write_field` streams it to the file block by block.
    """
    blocks = []
    for start in range(0, years.size, years_per_block):
        part = slice(start, start + years_per_block)
        n_years = years[part].size
        block = dask.delayed(monthly_from_annual, pure=False)(annual[part], years[part], calendar, amplitude)
        blocks.append(da.from_delayed(block, shape=(n_years * 12, *annual.shape[1:]), dtype=annual.dtype))
    return da.concatenate(blocks)


def _apply_grid_quirks(ds: xr.Dataset, quirks: frozenset[str]) -> xr.Dataset:
    if "lon_0_360" in quirks:
        ds = ds.assign_coords(lon=ds.lon % 360.0).sortby("lon")
    if "lat_descending" in quirks:
        ds = ds.sortby("lat", ascending=False)
    if "latitude_longitude_names" in quirks:
        ds = ds.rename({"lat": "latitude", "lon": "longitude"})
    return ds


def _fill_encoding(values: xr.DataArray, quirks: frozenset[str]) -> tuple[xr.DataArray, dict]:
    for quirk, fill in (("fill_1e20", 1.0e20), ("fill_-99999", -99999.0)):
        if quirk in quirks:
            return values.fillna(fill), {"_FillValue": None, "dtype": "float32"}
    return values, {"_FillValue": np.float32(1.0e20), "dtype": "float32"}


def write_field(
    path: Path,
    name: str,
    data: xr.DataArray,
    units: str,
    *,
    quirks: frozenset[str] = frozenset(),
    years: np.ndarray | None = None,
    monthly: bool = False,
    attrs: dict | None = None,
) -> Path:
    """Write one variable to ``path`` (``.nc``, ``.nc.gz`` or ``.tif``) as the quirks say.

    ``data`` has dims ``([time,] [type,] lat, lon)`` with lat ascending and lon in
    [-180, 180); ``years`` labels the time steps (one per year, or 12 per year when
    ``monthly``). A ``.tif`` path takes a static 2-D field only (:func:`write_geotiff`).
    """
    if path.suffix.lower() in (".tif", ".tiff"):
        return write_geotiff(path, data)
    if "year" in data.dims:
        data = data.drop_vars("year").rename(year="time")
    variable, encoding = _fill_encoding(data, quirks)
    ds = xr.Dataset({name: variable.assign_attrs(units=units, **(attrs or {}))})
    ds["lat"].attrs.update(units="degrees_north", standard_name="latitude")
    ds["lon"].attrs.update(units="degrees_east", standard_name="longitude")
    if years is not None:
        values, time_attrs = time_coordinate(years, monthly, quirks)
        ds = ds.assign_coords(time=("time", values, time_attrs))
    ds.attrs.update(
        title=f"{name}", comment=SYNTHETIC_NOTE, synthetic=1, history=f"{datetime.now():%Y-%m-%d} rhbench demo"
    )
    ds = _apply_grid_quirks(ds, quirks)
    path.parent.mkdir(parents=True, exist_ok=True)
    plain = path.with_suffix("") if path.suffix == ".gz" else path
    temp = plain.with_name(plain.name + ".part")
    ds.to_netcdf(temp, encoding={name: encoding}, engine="netcdf4", format="NETCDF4")
    if path.suffix == ".gz":
        with temp.open("rb") as src, gzip.open(str(path) + ".part", "wb", compresslevel=1) as dst:
            shutil.copyfileobj(src, dst)
        temp.unlink()
        os.replace(str(path) + ".part", path)
    else:
        os.replace(temp, path)
    return path


#: Nodata value of the demo's GeoTIFFs (that of the Sanderman et al. 2017 product).
GEOTIFF_NODATA = -32767.0


def write_geotiff(path: Path, data: xr.DataArray) -> Path:
    """Write a static ``(lat, lon)`` field as a north-up EPSG:4326 GeoTIFF with nodata for NaN.

    float32 (the demo's values keep their precision), nodata :data:`GEOTIFF_NODATA`, no
    units tag (a GeoTIFF has none: the plugin declares them), the SYNTHETIC note as a tag.
    """
    import rioxarray  # noqa: F401  (registers the .rio accessor; slow import)

    if set(data.dims) != {"lat", "lon"}:
        raise ValueError(f"a GeoTIFF holds one static (lat, lon) field, not dims {data.dims}")
    raster = data.transpose("lat", "lon").sortby("lat", ascending=False).rename(lat="y", lon="x")
    raster = raster.fillna(GEOTIFF_NODATA).astype("float32")
    raster.attrs = {"comment": SYNTHETIC_NOTE}
    raster = raster.rio.write_crs("EPSG:4326").rio.write_nodata(GEOTIFF_NODATA)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".part")
    raster.rio.to_raster(temp, driver="GTiff")
    os.replace(temp, path)
    return path
