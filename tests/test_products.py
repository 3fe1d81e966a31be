"""Observation products: fine grids aggregated by area-weighted means, packed values, product units."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr
import yaml

from rhbench import grid, harmonize, loader
from rhbench.products import is_finer, spacing, to_common_grid
from rhbench.sources import Source, Var

HALF = grid.common_grid(0.5)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(loader.CACHE_ENV, str(tmp_path / "cache"))


def _patch(res: float, lat0: float, lon0: float, n_lat: int, n_lon: int, values=None) -> xr.DataArray:
    """A regional grid with cell edges at (lat0, lon0) and cells of ``res`` degrees."""
    lat = lat0 + res * (np.arange(n_lat) + 0.5)
    lon = lon0 + res * (np.arange(n_lon) + 0.5)
    data = np.ones((n_lat, n_lon)) if values is None else values
    return xr.DataArray(data, dims=("lat", "lon"), coords={"lat": lat, "lon": lon}, name="cSoil")


def _band_area(south: float, north: float) -> float:
    """Relative area of a latitude band of fixed width in longitude: sin(north) - sin(south)."""
    return np.sin(np.deg2rad(north)) - np.sin(np.deg2rad(south))


def test_fine_grid_is_aggregated_by_area_weighted_means() -> None:
    # 0.05 degree cells over 60-61 N, 10-11 E; value 3 in the south half of every 0.5 cell, 1 north
    rows = np.arange(20)
    values = np.where((rows % 10) < 5, 3.0, 1.0)[:, None] * np.ones((20, 20))
    fine = _patch(0.05, 60.0, 10.0, 20, 20, values)
    coarse = to_common_grid(fine, HALF).sel(lat=[60.25, 60.75], lon=[10.25, 10.75])
    expected = []
    for edge in (60.0, 60.5):
        south, north = _band_area(edge, edge + 0.25), _band_area(edge + 0.25, edge + 0.5)
        expected.append((3.0 * south + 1.0 * north) / (south + north))
    # the southern half of a cell is the larger, more so further north
    assert expected == pytest.approx([2.003817, 2.003896], abs=1e-6)
    np.testing.assert_allclose(coarse.values, np.repeat(expected, 2).reshape(2, 2), rtol=1e-9)


def test_aggregation_ignores_missing_fine_cells() -> None:
    values = np.full((10, 10), 4.0)
    values[:, :5] = np.nan  # half of the 0.5 degree cell is ocean
    coarse = to_common_grid(_patch(0.05, 0.0, 0.0, 10, 10, values), HALF)
    assert float(coarse.sel(lat=0.25, lon=0.25)) == pytest.approx(4.0)
    empty = to_common_grid(_patch(0.05, 0.0, 0.0, 10, 10, np.full((10, 10), np.nan)), HALF)
    assert np.isnan(float(empty.sel(lat=0.25, lon=0.25)))


def test_equal_or_coarser_grid_is_sampled_by_nearest_neighbour() -> None:
    coarse = _patch(2.0, 0.0, 0.0, 2, 2, np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert not is_finer(coarse, HALF)
    out = to_common_grid(coarse, HALF)
    # the 0.5 degree cell at (2.75 N, 0.25 E) lies inside the 2 degree cell centred at (3, 1)
    assert float(out.sel(lat=2.75, lon=0.25)) == 3.0
    assert float(out.sel(lat=0.25, lon=3.75)) == 2.0
    same = to_common_grid(_patch(0.5, 0.0, 0.0, 2, 2, np.array([[1.0, 2.0], [3.0, 4.0]])), HALF)
    assert float(same.sel(lat=0.75, lon=0.75)) == 4.0


def test_misaligned_or_non_dividing_fine_grids_are_remapped_conservatively() -> None:
    assert spacing(_patch(0.1, 0.0, 0.0, 5, 5), "lat") == pytest.approx(0.1)
    shifted = to_common_grid(_patch(0.1, 0.05, 0.0, 10, 10, np.full((10, 10), 2.0)), HALF)  # edges at 0.05, ...
    assert float(shifted.sel(lat=0.25, lon=0.25)) == pytest.approx(2.0)
    odd = to_common_grid(_patch(0.3, 0.0, 0.0, 10, 10, np.full((10, 10), 5.0)), HALF)  # 0.3 does not divide 0.5
    assert float(odd.sel(lat=1.25, lon=1.25)) == pytest.approx(5.0)


# --- products through load_source: units and packing ----------------------------------------


def _product(tmp_path: Path, name: str, kind: str, variable: str, units: str) -> Source:
    relative = f"obs/{name}.nc"
    document = {
        "version": 2,
        "aliases": {},
        "metadata": {},
        "user_parameters": {},
        "data": {},
        "entries": {
            name: {
                "reader": "intake.readers.readers:XArrayDatasetReader",
                "output_instance": "xarray:Dataset",
                "kwargs": {"args": [f"{{data_root}}/{relative}"], "open_local": True},
                "metadata": {
                    "kind": kind,
                    "citation": "test",
                    "url": "https://example.org",
                    "files": {variable: relative},
                },
                "user_parameters": {},
            }
        },
    }
    (tmp_path / "products.yaml").write_text(yaml.safe_dump(document))
    return Source(
        name=name,
        kind=kind,
        catalog_entry=f"products.{name}",
        variables={variable: Var(variable, units)},
        citation="test",
        catalog_dir=tmp_path,
    )


def _write(tmp_path: Path, data: xr.DataArray, units: str) -> Path:
    path = tmp_path / "data" / "obs" / f"{data.name}_product.nc"
    path.parent.mkdir(parents=True, exist_ok=True)
    data.attrs["units"] = units
    data.to_dataset().to_netcdf(path)
    return path


def _write_packed(tmp_path: Path, name: str, packed: np.ndarray, units: str, **attrs) -> Path:
    """Write int16 values with packing attributes as a product ships them (netCDF4, no xarray)."""
    path = tmp_path / "data" / "obs" / f"{name}_product.nc"
    path.parent.mkdir(parents=True, exist_ok=True)
    with netCDF4.Dataset(path, "w") as ds:
        for dim in ("lat", "lon"):
            ds.createDimension(dim, 2)
            ds.createVariable(dim, "f8", (dim,))[:] = [0.25, 0.75]
        var = ds.createVariable(name, "i2", ("lat", "lon"), fill_value=attrs.pop("_FillValue"))
        var.set_auto_maskandscale(False)
        var.setncatts({"units": units, **attrs})
        var[:] = packed
    return path


def test_fine_product_in_t_c_per_ha_loads_as_kg_per_m2_on_the_common_grid(tmp_path) -> None:
    source = _product(tmp_path, "cSoil_product", "csoil", "cSoil", "t C ha-1")
    values = np.full((4, 4), 150.0)
    values[::2] = 50.0  # the southern 0.25 degree row of each 0.5 degree cell
    _write(tmp_path, _patch(0.25, 40.0, 5.0, 4, 4, values), "t C ha-1")
    soil = harmonize.load_source(source, tmp_path / "data", HALF)["cSoil"]
    assert soil.attrs["units"] == "kgC m-2"
    cell = float(soil.sel(lat=40.25, lon=5.25))
    south, north = _band_area(40.0, 40.25), _band_area(40.25, 40.5)
    # 1 t/ha = 1000 kg / 10^4 m2 = 0.1 kg m-2: 50 -> 5, 150 -> 15, then area-weighted
    assert cell == pytest.approx((5.0 * south + 15.0 * north) / (south + north), rel=1e-6)
    assert 9.99 < cell < 10.0  # the southern band is slightly larger


def test_int16_with_scale_factor_unpacks_kg_c_m2_in_tenths(tmp_path) -> None:
    source = _product(tmp_path, "cSoil_product", "csoil", "cSoil", "kg C m-2")
    packed = np.array([[123, 7], [-32768, 2500]], dtype=np.int16)  # 12.3, 0.7, missing, 250.0
    path = _write_packed(tmp_path, "cSoil", packed, "kg C m-2", scale_factor=0.1, _FillValue=-32768)
    raw = xr.open_dataset(path, mask_and_scale=False)
    assert raw["cSoil"].dtype == np.int16 and int(raw["cSoil"][0, 0]) == 123
    soil = harmonize.load_source(source, tmp_path / "data", HALF)["cSoil"]
    got = soil.sel(lat=[0.25, 0.75], lon=[0.25, 0.75]).values
    np.testing.assert_allclose(got, [[12.3, 0.7], [np.nan, 250.0]], rtol=1e-6)


def test_add_offset_is_applied_before_unit_conversion(tmp_path) -> None:
    source = _product(tmp_path, "rh_product", "rh", "rh", "g C m-2 yr-1")
    packed = np.array([[0, 100], [200, 300]], dtype=np.int16)
    _write_packed(tmp_path, "rh", packed, "g C m-2 yr-1", scale_factor=2.0, add_offset=50.0, _FillValue=-1)
    rh = harmonize.load_source(source, tmp_path / "data", HALF)["rh"]
    assert rh.attrs["units"] == "gC m-2 yr-1"
    # value = 2 * packed + 50 g C m-2 yr-1
    np.testing.assert_allclose(rh.sel(lat=[0.25, 0.75], lon=[0.25, 0.75]).values, [[50.0, 250.0], [450.0, 650.0]])
