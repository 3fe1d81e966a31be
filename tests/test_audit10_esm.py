"""Tenth audit, item 4: real ESM file conventions through the CMIP6 source family
(docs/trust-cases.md, "Tenth audit (session 8)").

Each test writes tiny CMOR-named files the way a modelling centre's CMOR output looks (CESM:
0..360 longitudes with bounds, noleap, ``_FillValue`` 1e36 over the ocean; UKESM: 360_day,
period files; IPSL: latitudes north to south; CMOR time in days since 1850 with time_bnds) and
checks the global total against a hand calculation: sum over cells of the day-weighted annual
mean flux x cell area (from the file's bounds: R^2 dlon (sin lat2 - sin lat1)) x land fraction,
or checks the exact error. Pg C yr-1 = kg m-2 s-1 x 365.25 x 86400 s x m2 / 1e12.
"""

from __future__ import annotations

import calendar as pycalendar
import shutil
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr

from rhbench import cmip6, grid, harmonize, loader, reduce
from rhbench.errors import TimeAxisError, ValueRangeError
from tests.conftest import shared_data_path

SECONDS_PER_YEAR = 365.25 * 86400.0
R = grid.EARTH_RADIUS_M
NOLEAP_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], float)


def _month_axis(years: range, calendar: str) -> tuple[np.ndarray, np.ndarray]:
    """Mid-month stamps and month bounds (n, 2) in days since 1850-01-01 for ``calendar``."""
    bounds, day = [], 0.0
    for year in range(1850, years.stop):
        for length in _days(year, calendar):
            if year >= years.start:
                bounds.append((day, day + length))
            day += length
    bounds = np.asarray(bounds)
    return bounds.mean(axis=1), bounds


def _days(year: int, calendar: str) -> np.ndarray:
    """Days of each month of ``year`` in ``calendar``."""
    if calendar == "360_day":
        return np.full(12, 30.0)
    if calendar == "noleap":
        return NOLEAP_DAYS
    return np.array([pycalendar.monthrange(year, m)[1] for m in range(1, 13)], float)


def _edges(centres: np.ndarray, low: float, high: float) -> np.ndarray:
    """(n, 2) bounds half way between ``centres`` (any order), outer edges ``low``/``high``."""
    order = np.sort(centres)
    inner = (order[1:] + order[:-1]) / 2.0
    edges = np.concatenate([[low], inner, [high]])
    sorted_bounds = np.stack([edges[:-1], edges[1:]], axis=1)
    return sorted_bounds[np.argsort(np.argsort(centres))]


def _write(
    folder: Path,
    variable: str,
    values: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    *,
    model: str = "TOY",
    table: str = "Lmon",
    units: str = "kg m-2 s-1",
    calendar: str = "noleap",
    years: range = range(2000, 2002),
    fill: float | None = None,
    time: tuple[np.ndarray, np.ndarray] | None = None,
    period: str | None = None,
) -> Path:
    """A CMOR-named file as CMOR writes it: float32 data, lat/lon bounds, time_bnds in days since 1850."""
    coords = {
        "lat": ("lat", lat, {"bounds": "lat_bnds", "units": "degrees_north", "standard_name": "latitude"}),
        "lon": ("lon", lon, {"bounds": "lon_bnds", "units": "degrees_east", "standard_name": "longitude"}),
    }
    data_vars = {
        "lat_bnds": (("lat", "bnds"), _edges(lat, -90.0, 90.0)),
        "lon_bnds": (
            ("lon", "bnds"),
            _edges(lon, lon.min() - (lon[1] - lon[0]) / 2, lon.max() + (lon[1] - lon[0]) / 2),
        ),
    }
    if table == "fx":
        data_vars[variable] = (("lat", "lon"), values.astype("float32"), {"units": units})
        name = f"{variable}_fx_{model}_historical_r1i1p1f1_gn.nc"
    else:
        stamps, bounds = time if time is not None else _month_axis(years, calendar)
        tattrs = {"units": "days since 1850-01-01", "calendar": calendar, "bounds": "time_bnds"}
        coords["time"] = ("time", stamps, tattrs)
        data_vars["time_bnds"] = (("time", "bnds"), bounds)
        data_vars[variable] = (("time", "lat", "lon"), values.astype("float32"), {"units": units})
        span = period or f"{years.start}01-{years.stop - 1}12"
        name = f"{variable}_{table}_{model}_historical_r1i1p1f1_gn_{span}.nc"
    ds = xr.Dataset(data_vars, coords=coords)
    encoding = {name_: {"_FillValue": None} for name_ in ds.variables}
    encoding[variable] = {"_FillValue": np.float32(fill) if fill is not None else None, "dtype": "float32"}
    ds.to_netcdf(folder / name, encoding=encoding)
    return folder / name


def _total(folder: Path, years: tuple[int, int]) -> float:
    """The global rh total (Pg C yr-1) rhbench computes for the one model in ``folder``."""
    (source,) = cmip6.discover(folder)
    annual, cells = harmonize.load_native(source, None)
    products = reduce.reduce_native(annual, cells, grid.common_grid(2.0), years)
    return float(products.regions["rh_total"].sel(region="global"))


def _hand(monthly: np.ndarray, area: np.ndarray, land: np.ndarray, years: range, calendar: str) -> float:
    """Mean over ``years`` of sum(day-weighted annual mean x area x land) in Pg C yr-1 (NaN = no flux)."""
    totals = []
    for i, year in enumerate(years):
        days = _days(year, calendar)
        annual = np.tensordot(days / days.sum(), np.nan_to_num(monthly[12 * i : 12 * i + 12]), axes=1)
        totals.append(np.sum(annual * area * land) * SECONDS_PER_YEAR / 1e12)
    return float(np.mean(totals))


def _monthly(shape: tuple[int, int], years: range, seed: int) -> np.ndarray:
    """Monthly rh (kg m-2 s-1), about 300-600 g C m-2 yr-1, each month its own value."""
    rng = np.random.default_rng(seed)
    grams = rng.uniform(300.0, 600.0, (12 * len(years), *shape))
    return grams / 1000.0 / SECONDS_PER_YEAR


# --- (a) CESM-like ----------------------------------------------------------------------------


def test_a_cesm_like_model_0_360_noleap_fill_1e36_over_ocean_matches_a_hand_total(tmp_path):
    lat, lon = np.array([-60.0, -20.0, 20.0, 60.0]), np.arange(0.0, 360.0, 5.0)[::9]  # 0, 45, .. 315
    years = range(2000, 2002)
    land = np.zeros((lat.size, lon.size))
    land[1:3, 1:5] = 100.0
    land[0, 2], land[3, 6] = 40.0, 75.0  # coastal cells
    flux = _monthly(land.shape, years, 1)
    flux[:, land == 0.0] = np.nan  # the model writes _FillValue over the ocean
    _write(tmp_path, "rh", flux, lat, lon, fill=1e36, years=years)
    _write(tmp_path, "sftlf", land, lat, lon, table="fx", units="%")
    (source,) = cmip6.discover(tmp_path)
    raw = xr.open_dataset(source.files["rh"][0], mask_and_scale=False)
    assert float(raw["rh"].attrs["_FillValue"]) == pytest.approx(1e36, rel=1e-6)
    hand = _hand(flux, _edges_area(lat, lon), land / 100.0, years, "noleap")
    assert _total(tmp_path, (2000, 2001)) == pytest.approx(hand, rel=1e-5)
    annual, _ = harmonize.load_native(source, None)
    order = np.argsort((lon + 180.0) % 360.0 - 180.0)  # 0..360 read as -180..180
    missing = annual["rh"].isnull().all("year").transpose("lat", "lon").values
    np.testing.assert_array_equal(missing, (land == 0.0)[:, order])  # the fill over the ocean, never 1e36
    assert float(annual["rh"].max()) < 1000.0  # g C m-2 yr-1


def test_lon_bounds_kept_in_0_360_that_wrap_at_the_cell_at_0_give_the_cells_true_width(tmp_path):
    """A file keeping every bound in 0..360 writes the cell at 0 as [357.5, 2.5]: before, that cell
    was 355 degrees wide (its area 71 times too large) and the total silently wrong."""
    lat, lon = np.array([-30.0, 30.0]), np.arange(0.0, 360.0, 5.0)
    years = range(2000, 2001)
    flux = _monthly((2, lon.size), years, 9)
    path = _write(tmp_path, "rh", flux, lat, lon, years=years)
    with netCDF4.Dataset(path, "a") as ds:
        ds["lon_bnds"][:] = ds["lon_bnds"][:] % 360.0  # [[357.5, 2.5], [2.5, 7.5], ...]
        assert list(ds["lon_bnds"][0]) == [357.5, 2.5]
    hand = _hand(flux, _edges_area(lat, lon), np.ones((2, lon.size)), years, "noleap")
    assert _total(tmp_path, (2000, 2000)) == pytest.approx(hand, rel=1e-5)


def test_cell_areas_from_wrapped_lon_bounds_by_hand():
    lat_b, lon_b = np.array([[0.0, 30.0]]), np.array([[358.75, 1.25], [1.25, 3.75], [0.0, 360.0], [-1.25, 1.25]])
    area = grid.cell_area_from_bounds(np.array([15.0]), np.array([0.0, 2.5, 180.0, 0.0]), lat_b, lon_b).values[0]
    band = R**2 * np.sin(np.deg2rad(30.0))
    np.testing.assert_allclose(area, band * np.deg2rad([2.5, 2.5, 360.0, 2.5]), rtol=1e-12)


def _lon_edges(lon: np.ndarray) -> np.ndarray:
    """(n, 2) longitude bounds of a regular grid, half a step either side of each centre."""
    half = (lon[1] - lon[0]) / 2.0
    return _edges(lon, lon.min() - half, lon.max() + half)


def _edges_area(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """(lat, lon) cell areas by hand from the bounds :func:`_write` gives, m2, in the file's order."""
    lon_b = _lon_edges(lon)
    lat_b = _edges(lat, -90.0, 90.0)
    band = np.abs(np.sin(np.deg2rad(lat_b[:, 1])) - np.sin(np.deg2rad(lat_b[:, 0])))
    return R**2 * np.outer(band, np.deg2rad(np.abs(lon_b[:, 1] - lon_b[:, 0])))


# --- (b) UKESM-like: 360_day, period files -----------------------------------------------------


def _split(folder: Path, flux: np.ndarray, lat, lon, cuts: list[tuple[int, int]], years: range) -> list[Path]:
    """``flux`` (monthly over ``years``, 360_day) written as period files of months [a, b)."""
    stamps, bounds = _month_axis(years, "360_day")
    paths = []
    for a, b in cuts:
        first, last = years.start + a // 12, years.start + (b - 1) // 12
        span = f"{first}{a % 12 + 1:02d}-{last}{(b - 1) % 12 + 1:02d}"
        paths.append(
            _write(folder, "rh", flux[a:b], lat, lon, calendar="360_day", time=(stamps[a:b], bounds[a:b]), period=span)
        )
    return paths


def test_a_ukesm_like_360_day_series_in_two_period_files_matches_a_hand_total(tmp_path):
    lat, lon = np.array([-30.0, 30.0]), np.array([0.0, 120.0, 240.0])
    years = range(2000, 2004)
    flux = _monthly((2, 3), years, 2)
    _split(tmp_path, flux, lat, lon, [(0, 24), (24, 48)], years)
    land = np.ones((2, 3))
    hand = _hand(flux, _edges_area(lat, lon), land, years, "360_day")  # every month weighs 30 days
    assert _total(tmp_path, (2000, 2003)) == pytest.approx(hand, rel=1e-5)


def test_a_ukesm_like_overlapping_month_between_period_files_is_an_error_naming_both(tmp_path):
    """Decided: an error, not a de-duplication. Two files both holding 2001-12 are two versions or a
    mis-split; which value is right rhbench cannot know, and published CMIP6 series never overlap."""
    lat, lon = np.array([-30.0, 30.0]), np.array([0.0, 120.0, 240.0])
    years = range(2000, 2004)
    first, second = _split(tmp_path, _monthly((2, 3), years, 3), lat, lon, [(0, 24), (23, 48)], years)
    (source,) = cmip6.discover(tmp_path)
    with pytest.raises(TimeAxisError) as caught:
        loader.open_variable(source, "rh", source.files["rh"], annual=True)
    text = str(caught.value)
    assert text.startswith("overlap between consecutive files of a series")
    assert f"file: {first} and {second}" in text
    assert "found: 2001-12 then 2001-12" in text


# --- (c) IPSL-like: latitudes north to south ----------------------------------------------------


def test_an_ipsl_like_model_with_latitudes_north_to_south_matches_a_hand_total_and_keeps_rows(tmp_path):
    lat, lon = np.array([60.0, 20.0, -20.0, -60.0]), np.array([-180.0, -90.0, 0.0, 90.0])
    years = range(2000, 2002)
    land = np.array([[1.0, 0.5, 0.0, 0.0], [1.0, 1.0, 0.2, 0.0], [0.0, 0.0, 1.0, 1.0], [0.0, 0.3, 0.0, 0.0]])
    flux = _monthly(land.shape, years, 4)
    flux[:, 0, 0] = 900.0 / 1000.0 / SECONDS_PER_YEAR  # the northernmost west cell: 900 g C m-2 yr-1
    _write(tmp_path, "rh", flux, lat, lon, years=years)
    _write(tmp_path, "sftlf", land * 100.0, lat, lon, table="fx", units="%")
    hand = _hand(flux, _edges_area(lat, lon), land, years, "noleap")
    assert _total(tmp_path, (2000, 2001)) == pytest.approx(hand, rel=1e-5)
    (source,) = cmip6.discover(tmp_path)
    annual, cells = harmonize.load_native(source, None)
    assert np.all(np.diff(annual["lat"].values) > 0)  # ascending after the load
    north_west = annual["rh"].sel(lat=60.0, lon=-180.0).values
    np.testing.assert_allclose(north_west, 900.0, rtol=1e-5)  # the row moved with its latitude
    assert float(cells.land.sel(lat=-60.0, lon=-90.0)) == pytest.approx(0.3)


def test_ipsl_like_areacella_and_sftlf_stored_north_to_south_weigh_their_own_cells(tmp_path):
    lat, lon = np.array([60.0, 20.0, -20.0, -60.0]), np.array([-180.0, -90.0, 0.0, 90.0])
    years = range(2000, 2002)
    flux = _monthly((4, 4), years, 13)
    area = np.arange(1.0, 17.0).reshape(4, 4) * 1e12  # every cell its own area: a flipped row shows
    land = np.random.default_rng(14).uniform(0.0, 1.0, (4, 4))
    _write(tmp_path, "rh", flux, lat, lon, years=years)
    _write(tmp_path, "areacella", area, lat, lon, table="fx", units="m2")
    _write(tmp_path, "sftlf", land * 100.0, lat, lon, table="fx", units="%")
    assert _total(tmp_path, (2000, 2001)) == pytest.approx(_hand(flux, area, land, years, "noleap"), rel=1e-6)


# --- (d) sftlf as a fraction or in % -----------------------------------------------------------


@pytest.mark.parametrize(("scale", "units"), [(100.0, "%"), (1.0, "1")], ids=["percent", "fraction"])
def test_sftlf_in_percent_or_as_a_fraction_labelled_1_gives_the_same_total(tmp_path, scale, units):
    lat, lon = np.array([-30.0, 30.0]), np.array([0.0, 120.0, 240.0])
    years = range(2000, 2001)
    land = np.array([[1.0, 0.25, 0.0], [0.5, 1.0, 0.0]])
    flux = _monthly(land.shape, years, 5)
    _write(tmp_path, "rh", flux, lat, lon, years=years)
    _write(tmp_path, "sftlf", land * scale, lat, lon, table="fx", units=units)
    hand = _hand(flux, _edges_area(lat, lon), land, years, "noleap")
    assert _total(tmp_path, (2000, 2000)) == pytest.approx(hand, rel=1e-5)


@pytest.mark.parametrize(("scale", "units"), [(1.0, "%"), (100.0, "1")], ids=["fraction-labelled-%", "%-labelled-1"])
def test_sftlf_mislabelled_100x_is_an_error_naming_file_and_units(tmp_path, scale, units):
    lat, lon = np.array([-30.0, 30.0]), np.array([0.0, 120.0, 240.0])
    land = np.array([[1.0, 0.25, 0.0], [0.5, 1.0, 0.0]])
    _write(tmp_path, "rh", _monthly(land.shape, range(2000, 2001), 6), lat, lon, years=range(2000, 2001))
    sftlf = _write(tmp_path, "sftlf", land * scale, lat, lon, table="fx", units=units)
    (source,) = cmip6.discover(tmp_path)
    with pytest.raises(ValueRangeError) as caught:
        harmonize.load_native(source, None)
    text = str(caught.value)
    assert f"file: {sftlf}" in text and "variable: sftlf" in text
    right = "1" if units == "%" else "%"
    assert text.endswith(
        "to fix: label the file's units as its values are, '%' for 0..100 (CMIP6 sftlf) or '1' for 0..1: "
        f"here probably '{right}' (e.g. ncatted -a units,sftlf,o,c,'{right}' FILE)"
    )


# --- (e) CMOR's own axis: days since 1850-01-01 in the standard calendar ---------------------


def test_rh_in_kg_m2_s1_on_a_standard_calendar_with_time_bnds_weighs_february_29(tmp_path):
    lat, lon = np.array([-30.0, 30.0]), np.array([0.0, 120.0, 240.0])
    years = range(2000, 2002)  # 2000 is a leap year
    flux = _monthly((2, 3), years, 7)
    _write(tmp_path, "rh", flux, lat, lon, years=years, calendar="standard")
    hand = _hand(flux, _edges_area(lat, lon), np.ones((2, 3)), years, "standard")
    noleap = _hand(flux, _edges_area(lat, lon), np.ones((2, 3)), years, "noleap")
    assert hand != pytest.approx(noleap, rel=1e-7)  # the test can tell the calendars apart
    assert _total(tmp_path, (2000, 2001)) == pytest.approx(hand, rel=1e-6)


# --- (h) a duplicated time step in one file ------------------------------------------------------


def test_a_duplicated_time_step_in_one_file_is_an_error_naming_the_file_and_step(tmp_path):
    lat, lon = np.array([-30.0, 30.0]), np.array([0.0, 120.0, 240.0])
    stamps, bounds = _month_axis(range(2000, 2001), "noleap")
    stamps, bounds = np.insert(stamps, 5, stamps[5]), np.insert(bounds, 5, bounds[5], axis=0)  # June twice
    path = _write(
        tmp_path, "rh", _monthly((2, 3), range(2000, 2001), 8)[np.r_[0:6, 5:12]], lat, lon, time=(stamps, bounds)
    )
    (source,) = cmip6.discover(tmp_path)
    with pytest.raises(TimeAxisError) as caught:
        loader.open_variable(source, "rh", source.files["rh"], annual=True)
    text = str(caught.value)
    assert "duplicated" in text and f"file: {path}" in text and "variable: rh" in text


# --- (f) cSoilAbove1m without cSoil; (g) fVegLitter as litterfall -------------------------------


def test_csoil_above_1m_is_never_read_as_csoil_and_the_model_is_told_so(tmp_path, caplog):
    lat, lon = np.array([-30.0, 30.0]), np.array([0.0, 120.0, 240.0])
    years = range(2000, 2002)
    _write(tmp_path, "rh", _monthly((2, 3), years, 10), lat, lon, years=years)
    above = _write(
        tmp_path, "cSoilAbove1m", np.full((24, 2, 3), 10.0), lat, lon, years=years, units="kg m-2", table="Emon"
    )
    with caplog.at_level("WARNING"):
        (source,) = cmip6.discover(tmp_path)
    assert set(source.variables) == {"rh"}  # no cSoil, and nothing read in its place
    assert (
        f"CMIP6 TOY r1i1p1f1 historical: no cSoil file; cSoilAbove1m ({above.name}: soil carbon in the top 1 m "
        "only; cSoil is the whole soil column) is NOT read as cSoil: the rows needing cSoil are skipped"
    ) in caplog.text
    annual, _ = harmonize.load_native(source, None)
    assert "cSoil" not in annual


def test_fvegLitter_is_the_litterfall_of_tau_veg_against_a_hand_calculation(tmp_path):
    lat, lon = np.array([-30.0, 30.0]), np.array([0.0, 120.0, 240.0])
    years = range(2000, 2002)
    litter = _monthly((2, 3), years, 11)
    _write(tmp_path, "rh", _monthly((2, 3), years, 12), lat, lon, years=years)
    _write(tmp_path, "fVegLitter", litter, lat, lon, years=years)
    _write(tmp_path, "cVeg", np.full((24, 2, 3), 5.0), lat, lon, years=years, units="kg m-2")
    (source,) = cmip6.discover(tmp_path)
    annual, cells = harmonize.load_native(source, None)
    products = reduce.reduce_native(annual, cells, grid.common_grid(2.0), (2000, 2001))
    area = _edges_area(lat, lon)
    litterfall = _hand(litter, area, np.ones((2, 3)), years, "noleap")  # Pg C yr-1
    cveg = 5.0 * area.sum() / 1e12  # Pg C
    assert float(products.regions["tau_veg"].sel(region="global")) == pytest.approx(cveg / litterfall, rel=1e-5)


# --- the real ACCESS-ESM1-5 sample, modified ---------------------------------------------------


def _real_gpp_as_rh(folder: Path) -> Path:
    """The shared sample's gpp (ACCESS-ESM1-5, CMOR) copied as a model's rh file (no fx files)."""
    sample = shared_data_path("cmip6-sample", "gpp_Lmon_ACCESS-ESM1-5_historical_r1i1p1f1_gn_200001-201412.nc")
    path = folder / sample.name.replace("gpp_", "rh_")
    shutil.copyfile(sample, path)
    with netCDF4.Dataset(path, "a") as ds:
        ds.renameVariable("gpp", "rh")
    return path


@pytest.mark.shared_data
def test_the_real_samples_total_is_the_same_with_its_lon_bounds_wrapped_into_0_360(tmp_path):
    (tmp_path / "as-is").mkdir(), (tmp_path / "wrapped").mkdir()
    _real_gpp_as_rh(tmp_path / "as-is")
    path = _real_gpp_as_rh(tmp_path / "wrapped")
    with netCDF4.Dataset(path, "a") as ds:
        assert list(ds["lon_bnds"][0]) == [-5.0, 5.0]
        ds["lon_bnds"][:] = ds["lon_bnds"][:] % 360.0  # the cell at 0: [355, 5]
    as_is = _total(tmp_path / "as-is", (2000, 2014))
    assert as_is > 0 and _total(tmp_path / "wrapped", (2000, 2014)) == pytest.approx(as_is, rel=1e-9)


@pytest.mark.shared_data
def test_a_duplicated_month_in_the_real_sample_is_an_error_naming_the_file(tmp_path):
    path = _real_gpp_as_rh(tmp_path)
    with netCDF4.Dataset(path, "a") as ds:
        ds["time"][5] = ds["time"][4]  # 2000-05 twice, 2000-06 gone
        ds["time_bnds"][5] = ds["time_bnds"][4]
    (source,) = cmip6.discover(tmp_path)
    with pytest.raises(TimeAxisError) as caught:
        loader.open_variable(source, "rh", source.files["rh"], annual=True)
    text = str(caught.value)
    assert "duplicated" in text and f"file: {path}" in text and "variable: rh" in text
