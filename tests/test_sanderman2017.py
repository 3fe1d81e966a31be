"""Sanderman et al. 2017 cSoil: the published GeoTIFF, pinned, fetched and read through its plugin.

The test files are tiny GeoTIFFs written here with the structure of the published
``SOCS_0_100cm_year_2010AD_10km.tif`` (github whrc/Soil-Carbon-Debt at commit 14919ed):
EPSG:4326, north-up, 1/12 degree cells stored as 0.0833333 degrees, one int16 band in
Mg C ha-1, nodata -32767, no units tag. No test needs the network.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr
from rasterio.transform import Affine

from rhbench import catalog, grid, loader
from rhbench.demo.writer import GEOTIFF_NODATA, write_geotiff
from rhbench.errors import ChecksumError
from rhbench.fetch import download_specs, fetch, find_source
from rhbench.inventory import inventory
from rhbench.metrics.observed import source_totals
from rhbench.readers.geotiff import open_geotiff
from rhbench.registry import build_registry

COMMIT = "14919ed435886cccbe473c79b2d39063f84c532e"
PUBLISHED_SHA256 = "54dc2c3e10d931aa015ac57f1ec67ff9497eed3119196944a7b43b1d4ddf6a37"
NODATA = -32767
STEP = 0.0833333  # the published file's pixel size (1/12 degree, rounded as it is stored)
#: The test patch: 12 x 12 cells from 50 N (south edge) and 10 E (west edge).
SOUTH, WEST, N = 50.0, 10.0, 12


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(loader.CACHE_ENV, str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def source():
    return find_source(build_registry(), "Sanderman2017")


def _stock() -> np.ndarray:
    """Mg C ha-1 in rows south to north: 100 + row (so 100..111), the south-west cell nodata."""
    values = (100 + np.arange(N))[:, None] * np.ones((N, N), dtype=np.int16)
    values = values.astype(np.int16)
    values[0, 0] = NODATA
    return values


def _write_like_published(path: Path) -> Path:
    """A GeoTIFF laid out as the published one (int16, nodata -32767, deflate, north-up)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    transform = Affine(STEP, 0.0, WEST, 0.0, -STEP, SOUTH + N * STEP)
    profile = {"driver": "GTiff", "dtype": "int16", "nodata": float(NODATA), "width": N, "height": N, "count": 1}
    with rasterio.open(path, "w", crs="EPSG:4326", transform=transform, compress="deflate", **profile) as dst:
        dst.write(_stock()[::-1], 1)  # rows north to south
        dst.update_tags(AREA_OR_POINT="Area")
    return path


def test_catalog_pins_the_published_geotiff_at_a_commit_with_its_sha256(source) -> None:
    (spec,) = download_specs(source)
    assert spec.url == (
        f"https://raw.githubusercontent.com/whrc/Soil-Carbon-Debt/{COMMIT}/SOCS/SOCS_0_100cm_year_2010AD_10km.tif"
    )
    assert spec.known_hash == f"sha256:{PUBLISHED_SHA256}"
    entry = catalog.entry_for(source)
    assert spec.relative_path == entry.files["cSoil"] == "obs/csoil/SOCS_0_100cm_year_2010AD_10km.tif"
    assert entry.metadata["license"] == "MIT"  # the repository's licence
    assert "fetch_note" not in entry.metadata
    assert source.variables["cSoil"].units == "Mg C ha-1"
    assert source.quirks == frozenset()


def test_published_layout_loads_through_the_plugin_in_kg_per_m2_with_nodata_masked(source, tmp_path: Path) -> None:
    path = _write_like_published(catalog.entry_for(source).path("cSoil", tmp_path))
    soc = loader.open_variable(source, "cSoil", path).compute()
    assert soc.dims == ("lat", "lon") and soc.shape == (N, N)
    assert soc.attrs["units"] == "kgC m-2"  # canonical cSoil units
    np.testing.assert_allclose(soc["lat"].values, SOUTH + STEP * (np.arange(N) + 0.5), atol=1e-6)
    np.testing.assert_allclose(soc["lon"].values, WEST + STEP * (np.arange(N) + 0.5), atol=1e-6)
    values = soc.values
    assert np.isnan(values[0, 0]) and np.isnan(values).sum() == 1  # nodata -32767 -> NaN, nothing else
    # 1 Mg C ha-1 = 1000 kg / 10^4 m2 = 0.1 kg C m-2: row r holds (100 + r) / 10
    np.testing.assert_allclose(values[1:, 0], (100 + np.arange(1, N)) / 10.0)
    np.testing.assert_allclose(values[0, 1:], 10.0)


def test_native_total_is_stock_times_spherical_cell_area(source, tmp_path: Path) -> None:
    _write_like_published(catalog.entry_for(source).path("cSoil", tmp_path))
    totals, note = source_totals(source, "cSoil", tmp_path, (2001, 2010), land_mask=None, vegclass=None)
    # hand calculation: sum over cells of Mg C ha-1 x area in ha; Mg -> Pg is 1e-9
    south = SOUTH + STEP * np.arange(N)
    band = np.sin(np.deg2rad(south + STEP)) - np.sin(np.deg2rad(south))
    area_ha = grid.EARTH_RADIUS_M**2 * np.deg2rad(STEP) * band / 1e4  # one cell per row, ha
    stock = _stock().astype(float)
    stock[stock == NODATA] = 0.0
    expected_pg = float(np.sum(stock * area_ha[:, None])) / 1e9
    assert float(totals["csoil_total"].sel(region="global")) == pytest.approx(expected_pg, rel=1e-7)
    # rough check of the closed form: ~1 degree^2 at 50.5 N is (pi R / 180)^2 cos(50.5) = 7.87e5 ha,
    # times the mean stock (15'092 Mg C ha-1 summed over 144 cells) -> ~0.0824 Pg C
    assert expected_pg == pytest.approx(0.0824, rel=2e-3)
    assert note.startswith(f"{N} x {N} cells, 0.0833 x 0.0833 deg")


def test_fetch_from_file_url_checks_the_hash_and_places_the_file_where_the_plugin_reads(source, tmp_path: Path) -> None:
    mirror = _write_like_published(tmp_path / "mirror" / "SOCS_0_100cm_year_2010AD_10km.tif")
    (pinned,) = download_specs(source)
    root = tmp_path / "data"
    with pytest.raises(ChecksumError, match="does not match"):
        fetch(pinned, root, url=mirror.as_uri())  # the catalog's sha256 is the published file's, not this one's
    target = catalog.entry_for(source).path("cSoil", root)
    assert not target.exists()
    tiny = dataclasses.replace(pinned, known_hash="sha256:" + hashlib.sha256(mirror.read_bytes()).hexdigest())
    assert fetch(tiny, root, url=mirror.as_uri()) == target
    assert target.read_bytes() == mirror.read_bytes()
    assert float(loader.open_variable(source, "cSoil", target).max()) == pytest.approx(11.1)


def test_rhbench_data_lists_the_geotiff_band_and_the_fetch_command(source, tmp_path: Path) -> None:
    rows = {(r.source, r.variable): r for r in inventory(build_registry(), tmp_path)}
    row = rows[("Sanderman2017", "cSoil")]
    assert row.path == str(tmp_path.resolve() / "obs" / "csoil" / "SOCS_0_100cm_year_2010AD_10km.tif")
    assert (row.file_variable, row.units) == ("band 1 (GeoTIFF; read as SOCS)", "Mg C ha-1")
    assert (row.present, row.fetchable) == (False, True)
    assert row.get == f"rhbench fetch Sanderman2017 --dest {tmp_path}"
    _write_like_published(Path(row.path))
    row = {(r.source, r.variable): r for r in inventory(build_registry(), tmp_path)}[("Sanderman2017", "cSoil")]
    assert (row.present, row.verified) == (True, False)  # present, but not the published bytes


def test_demo_geotiff_writer_round_trips_values_and_nan(tmp_path: Path) -> None:
    lat, lon = np.array([-1.0, 1.0]), np.array([10.0, 12.0, 14.0])
    field = np.array([[1.5, np.nan, 3.0], [4.0, 5.25, 6.0]])
    data = xr.DataArray(field, dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    path = write_geotiff(tmp_path / "demo.tif", data)
    with rasterio.open(path) as src:
        assert (src.crs.to_epsg(), src.nodata, src.dtypes[0]) == (4326, GEOTIFF_NODATA, "float32")
        assert src.read(1)[0, 0] == 4.0  # north-up: the first row is the northern one
    back = open_geotiff(path, "SOC").sortby("lat")["SOC"].values
    np.testing.assert_array_equal(np.isnan(back), np.isnan(field))
    np.testing.assert_allclose(back[~np.isnan(back)], field[~np.isnan(field)])
