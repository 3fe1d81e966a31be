"""Open a GeoTIFF observation product (e.g. SoilGrids, WISE30sec cSoil maps) as a Dataset.

Products published as GeoTIFF are read with rioxarray, lazily, and put in the shape the
loader expects of a netCDF file: one data variable, named as the plugin declares it
(:attr:`rhbench.sources.Var.file_name`), on dims ``lat``/``lon`` (pixel centres, in
degrees). A single band is squeezed; several bands are kept as a ``band`` dim. The
file's nodata value becomes NaN and packed values (scale/offset tags) are unpacked.

Only longitude-latitude grids on WGS 84 (EPSG:4326, or OGC:CRS84) are accepted: a
projected product must be reprojected to EPSG:4326 first (e.g. ``gdalwarp -t_srs
EPSG:4326``). A GeoTIFF has no CF ``units`` attribute, so the plugin's declared units
apply (:func:`rhbench.units.convert` falls back to them).
"""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from rhbench.errors import CoordinateError, DataError
from rhbench.readers.base import Reader

#: File suffixes read as GeoTIFF (compared in lower case).
SUFFIXES = (".tif", ".tiff")
#: Accepted coordinate reference systems: WGS 84 longitude-latitude.
ACCEPTED_CRS = ("EPSG:4326", "OGC:CRS84")
#: Attributes of the rasterio encoding that must not travel with the data.
_ENCODING_ATTRS = ("_FillValue", "scale_factor", "add_offset", "missing_value")


def is_geotiff(path: Path) -> bool:
    """True when ``path`` has a GeoTIFF suffix (``.tif``/``.tiff``, any case)."""
    return Path(path).suffix.lower() in SUFFIXES


def open_file(
    path: Path,
    *,
    variable: str | None = None,
    source: str | None = None,
    raw_values: bool = False,
    chunked: bool = True,
) -> xr.Dataset:
    """The :class:`rhbench.readers.Reader` entry point: the raster named ``variable`` (default: file stem).

    ``raw_values`` is ignored: nodata is always masked by rasterio (GeoTIFF has no
    ``_FillValue`` for the loader to mask); so is ``chunked`` (a raster is always chunked by band).
    """
    return open_geotiff(path, variable or Path(path).stem, source=source)


#: This format's entry in :data:`rhbench.readers.READERS`.
READER = Reader("GeoTIFF", is_geotiff, open_file)


def open_geotiff(path: Path, variable: str, *, source: str | None = None) -> xr.Dataset:
    """Open a GeoTIFF lazily as a Dataset with one variable ``variable`` on ``lat``/``lon``.

    Parameters
    ----------
    path: the GeoTIFF file.
    variable: name given to the raster (the plugin's declared file name of the variable).
    source: source name, for error messages.

    Returns
    -------
    A dask-backed Dataset: ``variable`` with dims ``(lat, lon)`` (or ``(band, lat, lon)``
    for several bands), float values in the file's (undeclared) units with nodata as NaN;
    ``lat``/``lon`` are pixel centres in degrees north/east, in the file's order.

    Raises
    ------
    DataError
        When the file cannot be read as a GeoTIFF.
    CoordinateError
        When the raster is not on a longitude-latitude WGS 84 grid (EPSG:4326); the
        message names the file, the CRS found and the one expected.
    """
    import rioxarray  # noqa: F401  (imported here: registers the .rio accessor, slow import)

    try:
        raster = rioxarray.open_rasterio(path, mask_and_scale=True, chunks={"band": 1, "y": -1, "x": -1})
    except Exception as exc:  # rasterio raises RasterioIOError and GDAL errors
        raise DataError(
            f"cannot read file as GeoTIFF ({type(exc).__name__}: {exc})",
            source=source,
            file=str(path),
            variable=variable,
            expected="a GeoTIFF (.tif/.tiff) readable by GDAL",
        ) from exc
    _check_crs(raster, source=source, file=str(path), variable=variable)
    raster = raster.drop_vars("spatial_ref", errors="ignore").rename(y="lat", x="lon")
    if raster.sizes["band"] == 1:
        raster = raster.squeeze("band", drop=True)
    raster.attrs = {k: v for k, v in raster.attrs.items() if k not in _ENCODING_ATTRS}
    raster.encoding = {}
    raster["lat"].attrs = {"units": "degrees_north", "standard_name": "latitude"}
    raster["lon"].attrs = {"units": "degrees_east", "standard_name": "longitude"}
    ds = raster.rename(variable).to_dataset()
    ds.attrs = {"source_format": "GeoTIFF", "crs": ACCEPTED_CRS[0]}
    return ds


def _check_crs(raster: xr.DataArray, *, source: str | None, file: str, variable: str) -> None:
    crs = raster.rio.crs
    found = "no CRS" if crs is None else crs.to_string()
    if crs is not None and (crs.to_epsg() == 4326 or found in ACCEPTED_CRS):
        return
    raise CoordinateError(
        "GeoTIFF is not on a longitude-latitude grid; reproject it to EPSG:4326 (gdalwarp -t_srs EPSG:4326)",
        source=source,
        file=file,
        variable=variable,
        found=found,
        expected="EPSG:4326",
    )
