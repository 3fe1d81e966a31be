"""Reliability of reading files (issue 13 "no tracebacks", issue 17 item 8).

Each case is a file a user may hold; each test failed on the code before issue 13/14
(a traceback, a silently dropped column, or a message that did not name the file).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from rhbench import fileaxes, loader, readers, reduce
from rhbench.errors import CatalogError, CoordinateError, DataError
from rhbench.readers.base import Reader
from rhbench.sources import Source, Var

SECONDS_PER_YEAR = 365.25 * 86400.0
RH_GRAMS = 400.0  # g C m-2 yr-1
RH_KG_S = RH_GRAMS / 1000.0 / SECONDS_PER_YEAR
LAT = np.arange(-75.0, 90.0, 30.0)  # 6 rows
LON = np.arange(-165.0, 180.0, 30.0)  # 12 columns
TIME = np.array([182.5, 547.5, 912.5])  # mid-year days since 1901-01-01 (noleap): 1901-1903
TIME_ATTRS = {"units": "days since 1901-01-01", "calendar": "noleap"}


def _source(**variables: Var) -> Source:
    return Source(
        name="Model",
        kind="dgvm",
        catalog_entry="x.Model",
        variables=variables or {"rh": Var("rh", "kg m-2 s-1")},
        citation="test",
    )


def _dataset(values: np.ndarray, dims: tuple[str, ...], coords: dict, name: str = "rh", **attrs) -> xr.Dataset:
    data = xr.DataArray(values, dims=dims, name=name, attrs={"units": "kg m-2 s-1", **attrs})
    return data.to_dataset().assign_coords(coords)


def _standard(values: np.ndarray | None = None, **changes) -> dict:
    coords = {"time": ("time", TIME, TIME_ATTRS), "lat": ("lat", LAT), "lon": ("lon", LON)}
    coords.update(changes)
    return coords


def _assert_names(message: str, *parts: str) -> None:
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"


# --- paths -------------------------------------------------------------------------------


def test_symlink_loop_is_a_data_error_naming_the_link(tmp_path: Path) -> None:
    os.symlink(tmp_path / "b.nc", tmp_path / "a.nc")
    os.symlink(tmp_path / "a.nc", tmp_path / "b.nc")
    with pytest.raises(DataError) as exc:
        loader.open_variable(_source(), "rh", tmp_path / "a.nc")
    _assert_names(str(exc.value), "symbolic link", "a.nc", "source: Model")


def test_catalog_path_through_a_symlink_loop_is_a_data_error(tmp_path: Path) -> None:
    from rhbench import catalog

    os.symlink(tmp_path / "b", tmp_path / "a")
    os.symlink(tmp_path / "a", tmp_path / "b")
    with pytest.raises(DataError) as exc:
        catalog.resolve_file(tmp_path, "a/rh.nc", source="Model")
    _assert_names(str(exc.value), "symbolic link", "a/rh.nc", "source: Model")


def test_symlinked_folders_inside_the_data_root_are_followed(tmp_path: Path) -> None:
    """A user's data root often links to shared storage (obs -> /mnt/...): the file is found there."""
    from rhbench import catalog

    shared = tmp_path / "shared" / "obs"
    shared.mkdir(parents=True)
    (shared / "rh.nc").write_bytes(b"x")
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(shared, root / "obs")
    path = catalog.resolve_file(root, "obs/rh.nc", source="Model")
    assert path == root.resolve() / "obs" / "rh.nc"
    assert path.read_bytes() == b"x"
    with pytest.raises(CatalogError, match="escapes"):
        catalog.resolve_file(root, "obs/../../shared/obs/rh.nc", source="Model")


def test_symlinked_ilamb_data_is_followed(tmp_path: Path) -> None:
    from rhbench import catalog

    real = tmp_path / "ilamb-store" / "cSoil" / "HWSD"
    real.mkdir(parents=True)
    (real / "soilc_0.5x0.5.nc").write_bytes(b"y")
    ilamb_root = tmp_path / "ILAMB_ROOT"
    (ilamb_root / "DATA").mkdir(parents=True)
    os.symlink(tmp_path / "ilamb-store" / "cSoil", ilamb_root / "DATA" / "cSoil")
    path = catalog.resolve_file(tmp_path, "ILAMB/DATA/cSoil/HWSD/soilc_0.5x0.5.nc", ilamb_root=ilamb_root)
    assert path.read_bytes() == b"y"


def test_a_folder_given_as_data_file_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "rh.nc").mkdir()
    with pytest.raises(DataError, match="folder"):
        loader.open_variable(_source(), "rh", tmp_path / "rh.nc")


# --- coordinates -------------------------------------------------------------------------


def test_nan_in_latitudes_is_a_coordinate_error_naming_the_file(tmp_path: Path) -> None:
    lat = LAT.copy()
    lat[2] = np.nan
    _dataset(np.full((3, 6, 12), RH_KG_S), ("time", "lat", "lon"), _standard(lat=("lat", lat))).to_netcdf(
        tmp_path / "rh.nc"
    )
    with pytest.raises(CoordinateError) as exc:
        loader.open_variable(_source(), "rh", tmp_path / "rh.nc")
    _assert_names(str(exc.value), "lat coordinate has missing (NaN) values", "rh.nc", "found: 1 of 6")


def test_orca_curvilinear_grid_is_refused_with_the_regrid_advice(tmp_path: Path) -> None:
    nav_lat, nav_lon = np.meshgrid(LAT, LON, indexing="ij")
    nav_lat = nav_lat + 0.5 * np.sin(np.deg2rad(nav_lon))  # ORCA's rows bend: a regular grid's would not (A12-2)
    ds = _dataset(
        np.full((3, 6, 12), RH_KG_S),
        ("time_counter", "y", "x"),
        {
            "time_counter": ("time_counter", TIME, TIME_ATTRS),
            "nav_lat": (("y", "x"), nav_lat),
            "nav_lon": (("y", "x"), nav_lon),
        },
    )
    ds.to_netcdf(tmp_path / "orca.nc")
    with pytest.raises(CoordinateError) as exc:
        loader.open_variable(_source(), "rh", tmp_path / "orca.nc")
    _assert_names(str(exc.value), fileaxes.CURVILINEAR, "orca.nc", "nav_lat with dims ('y', 'x')")


def test_duplicated_longitude_mid_grid_is_refused_not_dropped(tmp_path: Path) -> None:
    lon = LON.copy()
    lon[5] = lon[4]
    _dataset(np.full((3, 6, 12), RH_KG_S), ("time", "lat", "lon"), _standard(lon=("lon", lon))).to_netcdf(
        tmp_path / "rh.nc"
    )
    with pytest.raises(CoordinateError) as exc:
        loader.open_variable(_source(), "rh", tmp_path / "rh.nc")
    _assert_names(str(exc.value), "duplicated lon values", "rh.nc", "-45.0")


def test_shuffled_latitudes_are_refused_not_sorted(tmp_path: Path) -> None:
    lat = LAT[[0, 2, 1, 3, 4, 5]]
    _dataset(np.full((3, 6, 12), RH_KG_S), ("time", "lat", "lon"), _standard(lat=("lat", lat))).to_netcdf(
        tmp_path / "rh.nc"
    )
    with pytest.raises(CoordinateError) as exc:
        loader.open_variable(_source(), "rh", tmp_path / "rh.nc")
    _assert_names(str(exc.value), "lat values are not monotonic", "rh.nc", "lat[1] = -15 then lat[2] = -45")


def test_descending_latitudes_and_0_360_longitudes_still_read(tmp_path: Path) -> None:
    lon = (LON + 360.0) % 360.0
    values = np.broadcast_to(LAT[::-1, None] + 1000.0, (3, 6, 12)) / 1000.0 / SECONDS_PER_YEAR
    coords = _standard(lat=("lat", LAT[::-1]), lon=("lon", lon))
    _dataset(values, ("time", "lat", "lon"), coords).to_netcdf(tmp_path / "rh.nc")
    rh = loader.open_variable(_source(), "rh", tmp_path / "rh.nc")
    np.testing.assert_array_equal(rh.lat, LAT)
    np.testing.assert_array_equal(rh.lon, LON)
    np.testing.assert_allclose(rh.isel(time=0, lon=0), LAT + 1000.0, rtol=1e-6)


# --- dimensions and time -----------------------------------------------------------------


def test_dims_in_another_order_are_transposed(tmp_path: Path) -> None:
    values = np.broadcast_to(LON[:, None, None] + 1000.0, (12, 6, 3)) / 1000.0 / SECONDS_PER_YEAR
    _dataset(values, ("lon", "lat", "time"), _standard()).to_netcdf(tmp_path / "rh.nc")
    rh = loader.open_variable(_source(), "rh", tmp_path / "rh.nc", annual=True)
    assert rh.dims == ("year", "lat", "lon")
    np.testing.assert_allclose(rh.isel(year=0, lat=0), LON + 1000.0, rtol=1e-6)


def test_extra_length_one_dimension_is_dropped(tmp_path: Path) -> None:
    coords = {**_standard(), "height": ("height", [2.0])}
    _dataset(np.full((3, 1, 6, 12), RH_KG_S), ("time", "height", "lat", "lon"), coords).to_netcdf(tmp_path / "rh.nc")
    rh = loader.open_variable(_source(), "rh", tmp_path / "rh.nc")
    assert rh.dims == ("time", "lat", "lon")
    np.testing.assert_allclose(rh.values, RH_GRAMS, rtol=1e-9)


def test_soil_layers_of_a_carbon_stock_are_summed_into_the_column(tmp_path: Path) -> None:
    layers = np.array([5.0, 2.0, 1.0])[None, :, None, None] * np.ones((3, 3, 6, 12))
    layers[:, 2, 0, 0] = 1e20  # a missing deepest layer in one cell: the others still count
    data = xr.DataArray(layers, dims=("time", "depth", "lat", "lon"), name="cSoil", attrs={"units": "kg m-2"})
    data.to_dataset().assign_coords(_standard()).to_netcdf(tmp_path / "cSoil.nc")
    soil = loader.open_variable(_source(cSoil=Var("cSoil", "kg m-2")), "cSoil", tmp_path / "cSoil.nc", annual=True)
    assert soil.dims == ("year", "lat", "lon")
    assert soil.attrs["summed_layers"] == "depth"
    np.testing.assert_allclose(soil.isel(year=0, lat=1, lon=1), 8.0)
    np.testing.assert_allclose(soil.isel(year=0, lat=0, lon=0), 7.0)


def test_an_unknown_extra_dimension_is_refused_naming_found_and_expected(tmp_path: Path) -> None:
    values = np.full((3, 4, 6, 12), RH_KG_S)
    _dataset(values, ("time", "pft", "lat", "lon"), _standard(), name="npp").to_netcdf(tmp_path / "npp.nc")
    with pytest.raises(CoordinateError) as exc:
        loader.open_variable(_source(npp=Var("npp", "kg m-2 s-1")), "npp", tmp_path / "npp.nc")
    _assert_names(str(exc.value), "unexpected extra dimension", "npp.nc", "variable: npp", "'pft'", "expected:")


def test_time_counter_is_read_as_the_time_axis(tmp_path: Path) -> None:
    coords = {"time_counter": ("time_counter", TIME, TIME_ATTRS), "lat": ("lat", LAT), "lon": ("lon", LON)}
    _dataset(np.full((3, 6, 12), RH_KG_S), ("time_counter", "lat", "lon"), coords).to_netcdf(tmp_path / "rh.nc")
    rh = loader.open_variable(_source(), "rh", tmp_path / "rh.nc", annual=True)
    np.testing.assert_array_equal(rh["year"], [1901, 1902, 1903])


@pytest.mark.parametrize("calendar", ["noleap   ", " 365_day", "noleap\x00\x00"])
def test_padded_calendar_strings_are_understood(tmp_path: Path, calendar: str) -> None:
    coords = _standard(time=("time", TIME, {**TIME_ATTRS, "calendar": calendar}))
    _dataset(np.full((3, 6, 12), RH_KG_S), ("time", "lat", "lon"), coords).to_netcdf(tmp_path / "rh.nc")
    rh = loader.open_variable(_source(), "rh", tmp_path / "rh.nc")
    assert rh.attrs["calendar"] in ("noleap", "365_day")


def test_missing_value_stored_as_a_string_is_parsed_and_masked(tmp_path: Path) -> None:
    values = np.full((3, 6, 12), RH_KG_S)
    values[:, 0, 0] = -1.0
    _dataset(values, ("time", "lat", "lon"), _standard(), missing_value="-1.0").to_netcdf(tmp_path / "rh.nc")
    rh = loader.open_variable(_source(), "rh", tmp_path / "rh.nc")
    assert np.isnan(rh.values[:, 0, 0]).all()
    assert np.isfinite(rh.values[:, 1:, :]).all()


def test_missing_value_that_is_not_a_number_names_file_variable_and_value(tmp_path: Path) -> None:
    _dataset(np.full((3, 6, 12), RH_KG_S), ("time", "lat", "lon"), _standard(), missing_value="none").to_netcdf(
        tmp_path / "rh.nc"
    )
    with pytest.raises(DataError) as exc:
        loader.open_variable(_source(), "rh", tmp_path / "rh.nc")
    _assert_names(str(exc.value), "missing_value is not a number", "rh.nc", "variable: rh", "'none'")


# --- partial plugins ---------------------------------------------------------------------


def test_period_means_of_a_model_with_only_rh_have_rh_and_no_key_error() -> None:
    years = np.arange(1990, 1995)
    annual = xr.Dataset(
        {"rh": (("year", "lat", "lon"), np.full((5, 6, 12), RH_GRAMS))},
        coords={"year": years, "lat": LAT, "lon": LON},
    )
    means = reduce.period_means(annual, (1990, 1994))
    assert set(means.data_vars) == {"rh"}
    np.testing.assert_allclose(means["rh"], RH_GRAMS)


# --- the reader registry -----------------------------------------------------------------


def test_every_format_is_registered_in_one_list() -> None:
    assert [r.name for r in readers.READERS] == ["GeoTIFF", "netCDF"]
    assert readers.reader_for(Path("a.tif")).name == "GeoTIFF"
    assert readers.reader_for(Path("a.nc.gz")).name == "netCDF"


def test_a_new_format_is_one_reader_in_the_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = _dataset(np.full((3, 6, 12), RH_KG_S), ("time", "lat", "lon"), _standard())
    path = tmp_path / "rh.zarrish"
    path.write_text("stands for a file in a new format")
    new = Reader("toy", lambda p: p.suffix == ".zarrish", lambda p, **_: ds)
    monkeypatch.setattr(readers, "READERS", (new, *readers.READERS))
    rh = loader.open_variable(_source(), "rh", path, annual=True)
    np.testing.assert_allclose(rh.values, RH_GRAMS, rtol=1e-9)


# --- one period mean (issue 17.6) ----------------------------------------------------------


def test_the_period_mean_never_falls_back_to_other_years() -> None:
    from rhbench.harmonize import period_mean

    years = np.arange(1990, 1995)
    data = xr.DataArray(years.astype(float), dims="year", coords={"year": years}, name="cSoil")
    assert float(period_mean(data, (1992, 2018))) == pytest.approx(1993.0)
    with pytest.raises(DataError) as exc:
        period_mean(data, (2000, 2018), source="Product")
    _assert_names(str(exc.value), "no years in the benchmark period", "source: Product", "1990-1994", "2000-2018")
    static = xr.DataArray([1.0, 2.0], dims="lat")
    assert period_mean(static, (2000, 2018)) is static


def test_an_observation_product_outside_the_period_fails_instead_of_using_all_years(monkeypatch) -> None:
    from rhbench import observations
    from rhbench.config import RunConfig
    from rhbench.results import Failures

    years = np.arange(1990, 1995)
    old = xr.Dataset({"cSoil": ("year", years.astype(float))}, coords={"year": years})
    monkeypatch.setattr(observations, "load", lambda *args, **kwargs: old)
    failures = Failures({})
    product = _source(cSoil=Var("cSoil", "kg m-2"))
    config = RunConfig(period=(2000, 2018))  # _period_mean_of takes the run config (its period and products)
    assert observations._period_mean_of(product, "cSoil", Path("."), None, config, failures) is None
    _assert_names(failures.reasons["Model"], "no years in the benchmark period", "1990-1994")
    config = RunConfig(period=(1992, 2018))
    assert observations._period_mean_of(product, "cSoil", Path("."), None, config, failures) == 1993.0
