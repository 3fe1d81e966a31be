"""GeoTIFF observation products: read through the loader, nodata, CRS check, aggregation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rioxarray  # noqa: F401  (registers the .rio accessor; a declared dependency, never skipped)
import xarray as xr
import yaml

from rhbench import grid, harmonize, loader
from rhbench.errors import CoordinateError, DataError
from rhbench.readers.geotiff import open_geotiff
from rhbench.sources import Source, Var

HALF = grid.common_grid(0.5)
NODATA = -9999.0


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(loader.CACHE_ENV, str(tmp_path / "cache"))


def _fine_values() -> np.ndarray:
    """0.1 degree cells over 60-61 N, 10-11 E (south to north), in t C ha-1.

    Rows 0-1 of each 0.5 degree cell (60.0-60.2 N, 60.5-60.7 N) hold 150, rows 2-4 hold 50;
    the south-west cell (60.0-60.1 N, 10.0-10.1 E) is nodata.
    """
    rows = np.arange(10)
    values = np.where((rows % 5) < 2, 150.0, 50.0)[:, None] * np.ones((10, 10))
    values[0, 0] = NODATA
    return values


def _write_tif(
    path: Path, values: np.ndarray, *, crs: str = "EPSG:4326", res: float = 0.1, south: float = 60.0, west: float = 10.0
) -> Path:
    """A GeoTIFF written north-up (rows north to south) as products are published."""
    n_lat, n_lon = values.shape
    lat = south + res * (np.arange(n_lat) + 0.5)
    lon = west + res * (np.arange(n_lon) + 0.5)
    da = xr.DataArray(values[::-1], dims=("y", "x"), coords={"y": lat[::-1], "x": lon})
    da = da.rio.write_crs(crs).rio.write_nodata(NODATA)
    da.rio.to_raster(path)
    return path


def _source(tmp_path: Path, file: str = "obs/csoil/soc.tif") -> Source:
    entry = {
        "reader": "intake.readers.readers:XArrayDatasetReader",
        "output_instance": "xarray:Dataset",
        "kwargs": {"args": [f"{{data_root}}/{file}"], "open_local": True, "engine": "rasterio"},
        "metadata": {
            "kind": "csoil",
            "citation": "synthetic GeoTIFF test product",
            "license": "CC0",
            "period": None,
            "url": "https://example.org/soc.tif",
            "files": {"cSoil": file},
            "units": {"cSoil": "t C ha-1"},
            "quirks": [],
        },
        "user_parameters": {},
    }
    catalog = {
        "version": 2,
        "aliases": {},
        "metadata": {"description": "test"},
        "user_parameters": {},
        "data": {},
        "entries": {"SocTif": entry},
    }
    (tmp_path / "obs_tif.yaml").write_text(yaml.safe_dump(catalog), encoding="utf-8")
    return Source(
        name="SocTif",
        kind="csoil",
        catalog_entry="obs_tif.SocTif",
        variables={"cSoil": Var("SOC", "t C ha-1")},
        citation="synthetic",
        catalog_dir=tmp_path,
    )


def _band_area(south: float, north: float) -> float:
    """Relative area of a latitude band of fixed width in longitude: sin(north) - sin(south)."""
    return np.sin(np.deg2rad(north)) - np.sin(np.deg2rad(south))


def test_geotiff_opens_as_lat_lon_dataset_named_after_the_declared_variable(tmp_path: Path) -> None:
    path = _write_tif(tmp_path / "soc.tif", _fine_values())
    ds = loader.open_dataset(path, source="SocTif", variable="SOC")
    assert list(ds.data_vars) == ["SOC"]
    assert ds["SOC"].dims == ("lat", "lon")
    assert "units" not in ds["SOC"].attrs
    np.testing.assert_allclose(ds["lat"].values, 60.95 - 0.1 * np.arange(10), atol=1e-9)
    np.testing.assert_allclose(ds["lon"].values, 10.05 + 0.1 * np.arange(10), atol=1e-9)
    values = ds["SOC"].sortby("lat").values
    assert np.isnan(values[0, 0])  # nodata -9999 -> NaN
    assert np.isnan(values).sum() == 1
    assert values[1, 0] == 150.0 and values[2, 0] == 50.0 and values[9, 9] == 50.0


def test_geotiff_keeps_several_bands_as_a_band_dim(tmp_path: Path) -> None:
    da = xr.DataArray(
        np.stack([np.full((4, 4), 1.0), np.full((4, 4), 2.0)]),
        dims=("band", "y", "x"),
        coords={"band": [1, 2], "y": 0.35 - 0.1 * np.arange(4), "x": 0.05 + 0.1 * np.arange(4)},
    )
    da.rio.write_crs("EPSG:4326").rio.to_raster(tmp_path / "two.tif")
    ds = open_geotiff(tmp_path / "two.tif", "SOC")
    assert ds["SOC"].dims == ("band", "lat", "lon")
    assert ds["SOC"].sum(["lat", "lon"]).values.tolist() == [16.0, 32.0]


def test_geotiff_on_fine_grid_is_aggregated_to_half_degree_and_converted(tmp_path: Path) -> None:
    (tmp_path / "obs" / "csoil").mkdir(parents=True)
    _write_tif(tmp_path / "obs" / "csoil" / "soc.tif", _fine_values())
    ds = harmonize.load_source(_source(tmp_path), tmp_path, HALF)
    csoil = ds["cSoil"]
    assert csoil.attrs["units"] == "kgC m-2"
    cells = csoil.sel(lat=[60.25, 60.75], lon=[10.25, 10.75]).values
    # 1 t C ha-1 = 1000 kg / 10^4 m2 = 0.1 kg C m-2: 150 -> 15, 50 -> 5 kg C m-2.
    # Cell weights are sin(north) - sin(south) per 0.1 degree row (equal in longitude).
    for i, edge in enumerate((60.0, 60.5)):
        w = [_band_area(edge + 0.1 * k, edge + 0.1 * (k + 1)) for k in range(5)]
        full = (15.0 * (w[0] + w[1]) + 5.0 * (w[2] + w[3] + w[4])) / sum(w)
        assert cells[i, 1] == pytest.approx(full, rel=1e-9)  # east cell: all 25 fine cells valid
        if i == 0:  # west cell: the nodata cell is row 0, one of five columns, left out
            missing = (15.0 * (4 * w[0] + 5 * w[1]) + 5.0 * 5 * (w[2] + w[3] + w[4])) / (
                4 * w[0] + 5 * (w[1] + w[2] + w[3] + w[4])
            )
            assert cells[0, 0] == pytest.approx(missing, rel=1e-9)
        else:
            assert cells[i, 0] == pytest.approx(full, rel=1e-9)
    assert cells[0, 1] == pytest.approx(9.01832, abs=1e-5)  # 2/5 of rows at 15, 3/5 at 5, area-weighted
    assert cells[0, 0] == pytest.approx(8.76750, abs=1e-5)
    assert csoil.sizes == {"lat": 360, "lon": 720}


def test_geotiff_in_a_projected_crs_is_refused_naming_file_and_crs(tmp_path: Path) -> None:
    path = _write_tif(tmp_path / "mercator.tif", np.ones((4, 4)), crs="EPSG:3857", res=1000.0, south=0.0, west=0.0)
    with pytest.raises(CoordinateError) as info:
        loader.open_dataset(path, source="SocTif", variable="SOC")
    message = str(info.value)
    assert "mercator.tif" in message and "found: EPSG:3857" in message and "expected: EPSG:4326" in message


def test_geotiff_without_crs_is_refused(tmp_path: Path) -> None:
    da = xr.DataArray(np.ones((2, 2)), dims=("y", "x"), coords={"y": [0.75, 0.25], "x": [0.25, 0.75]})
    da.rio.to_raster(tmp_path / "nocrs.tif")
    with pytest.raises(CoordinateError, match="found: no CRS"):
        open_geotiff(tmp_path / "nocrs.tif", "SOC")


def test_corrupt_geotiff_is_a_data_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.tif"
    path.write_bytes(b"II*\x00not really a tiff")
    with pytest.raises(DataError, match="broken.tif"):
        loader.open_dataset(path, variable="SOC")


def test_geotiff_errors_name_the_variable_as_well_as_file_found_and_expected(tmp_path: Path) -> None:
    """Not a TIFF, no CRS, projected CRS: each error names the variable being read."""
    text = tmp_path / "text.tif"
    text.write_text("hello, not a tiff\n")
    nocrs = tmp_path / "nocrs.tif"
    xr.DataArray(np.ones((2, 2)), dims=("y", "x"), coords={"y": [0.75, 0.25], "x": [0.25, 0.75]}).rio.to_raster(nocrs)
    projected = _write_tif(tmp_path / "merc.tif", np.ones((4, 4)), crs="EPSG:3857", res=1000.0, south=0.0, west=0.0)
    for path, error in ((text, DataError), (nocrs, CoordinateError), (projected, CoordinateError)):
        with pytest.raises(error) as info:
            open_geotiff(path, "SOCS", source="Sanderman2017")
        message = str(info.value)
        assert "source: Sanderman2017" in message and path.name in message, message
        assert "variable: SOCS" in message and "expected:" in message, message
