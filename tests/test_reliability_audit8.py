"""Eighth audit: hostile MODEL files (docs/trust-cases.md, "Eighth audit").

Variants of the REAL CMIP6 sample (ACCESS-ESM1-5, rh = gpp x 0.5) and tiny files built here.
Each test failed before its fix: a year written all missing counted as a year used; 365-day
steps in a file labelled ``360_day`` were read with a year skipped every 72 years (silently
shifted numbers); a longitude grid with cartopy's cyclic column (2 .. 358, 362) was refused.
"""

from __future__ import annotations

import cftime
import numpy as np
import pytest
import xarray as xr

from rhbench import loader
from rhbench.errors import TimeAxisError
from rhbench.metrics.coverage import coverage_rows, years_record
from rhbench.sources import Source, Var
from tests.test_reliability_cmip6_hostile import _folder, _hand_total, _rh, _rh_global


def _with_nan_year(index: int) -> xr.Dataset:
    rh = _rh()
    values = rh["rh"].values.copy()
    values[12 * index : 12 * index + 12] = np.nan
    rh["rh"] = (rh["rh"].dims, values, rh["rh"].attrs)
    return rh


@pytest.mark.shared_data
@pytest.mark.parametrize(("index", "first"), [(5, 2000), (0, 2001)])
def test_a_year_written_all_missing_is_not_counted_as_a_year_used(tmp_path, index, first):
    """rh all NaN in 2005 (or 2000): the total is the mean of the 14 other years (hand), and the
    record says 14 years (before: 15, 'years used: 2000-2014 (15 years)', first_year 2000)."""
    from rhbench import cmip6, grid, harmonize, reduce

    rh = _with_nan_year(index)
    (source,) = cmip6.discover(_folder(tmp_path, rh))
    annual, cells = harmonize.load_native(source, None)
    products = reduce.reduce_native(annual, cells, grid.common_grid(4.0), (2000, 2014))
    years = [y for y in range(2000, 2015) if y != 2000 + index]
    values = rh["rh"].values
    kept = np.concatenate([values[12 * i : 12 * i + 12] for i in range(15) if i != index])
    hand = _hand_total(kept, years)
    assert float(products.regions["rh_total"].sel(region="global")) == pytest.approx(hand, rel=1e-6)
    attrs = products.period.attrs
    assert attrs["period_years_used"] == 14 and attrs["first_year"] == first
    assert attrs["years_without_data"] == f"rh in {2000 + index}"
    assert _rh_global(tmp_path / "cmip6")[1] == f"{first}-2014"


def test_a_year_one_variable_lacks_is_stated_in_the_period_coverage_row():
    """rh missing in 2001 while cSoil has it: stated, and (session 7) not a year used: only the years
    every variable has count (before: 3 years used, coverage 1.0)."""
    grid = {"lat": [0.0], "lon": [0.0]}
    rh = xr.DataArray(
        [[[1.0]], [[np.nan]], [[3.0]]], dims=("year", "lat", "lon"), coords={"year": [2000, 2001, 2002], **grid}
    )
    data = xr.Dataset({"rh": rh, "cSoil": rh.fillna(2.0)})
    record = years_record(data, (2000, 2002))
    assert record["period_years_used"] == 2 and record["years_without_data"] == "rh in 2001"
    assert record["period_years"] == "2000-2002" and record["period_coverage"] == pytest.approx(2 / 3)
    land = xr.DataArray([[True]], dims=("lat", "lon"), coords=grid)
    (row, *_) = coverage_rows("M", "dgvm", xr.Dataset(attrs=record), None, land, land.astype(float))
    assert row.metric == "period_coverage" and "without any value: rh in 2001 (not counted as used" in row.reason
    assert years_record(data.where(data["year"] != 2001), (2000, 2002))["period_years_used"] == 2


def _yearly_file(path, calendar: str, step: float):
    time = xr.DataArray(
        181.0 + step * np.arange(100), dims="time", attrs={"units": "days since 1901-01-01", "calendar": calendar}
    )
    field = xr.DataArray(np.ones((100, 2, 2)) * 1e-8, dims=("time", "lat", "lon"), attrs={"units": "kg m-2 s-1"})
    xr.Dataset({"rh": field}, coords={"time": time, "lat": [-45.0, 45.0], "lon": [-90.0, 90.0]}).to_netcdf(path)
    return Source("M", "dgvm", "test.M", {"rh": Var("rh", "kg m-2 s-1")}, "test", period=(1901, 2000))


def test_evenly_spaced_steps_that_do_not_fit_the_calendar_are_refused(tmp_path):
    """365-day steps labelled 360_day: years 1901..2000 were read as 1901..2002 with 1937 and 1973
    missing (exit 0, numbers shifted). Now a TimeAxisError naming the file and the calendar."""
    source = _yearly_file(tmp_path / "rh.nc", "360_day", 365.0)
    with pytest.raises(TimeAxisError) as info:
        loader.open_variable(source, "rh", tmp_path / "rh.nc", annual=True)
    text = str(info.value)
    assert "do not fit the calendar" in text and "rh.nc" in text and "360_day" in text and "expected:" in text
    ok = _yearly_file(tmp_path / "ok.nc", "360_day", 360.0)  # the same steps in their own calendar are fine
    years = loader.open_variable(ok, "rh", tmp_path / "ok.nc", annual=True)["year"].values
    assert years.tolist() == list(range(1901, 2001))


def test_a_longitude_grid_with_a_repeated_cyclic_column_reads_as_without_it(tmp_path):
    """Longitudes 45 .. 315 plus 405 (cartopy's cyclic point: the first column again, 360 on): before,
    'longitudes outside -180..360' failed the model; the repeat is dropped, as 0 and 360 were."""
    lon = np.array([45.0, 135.0, 225.0, 315.0])
    values = np.arange(24.0).reshape(3, 2, 4) * 1e-9
    source = Source("M", "dgvm", "test.M", {"rh": Var("rh", "kg m-2 s-1")}, "test", period=(2000, 2002))
    reads = []
    for name, lons, data in (
        ("plain.nc", lon, values),
        ("cyclic.nc", np.append(lon, 405.0), np.concatenate([values, values[..., :1]], axis=-1)),
    ):
        time = xr.DataArray(
            [182.0, 547.0, 912.0], dims="time", attrs={"units": "days since 2000-01-01", "calendar": "noleap"}
        )
        field = xr.DataArray(data, dims=("time", "lat", "lon"), attrs={"units": "kg m-2 s-1"})
        xr.Dataset({"rh": field}, coords={"time": time, "lat": [-45.0, 45.0], "lon": lons}).to_netcdf(tmp_path / name)
        reads.append(loader.open_variable(source, "rh", tmp_path / name, annual=True).load())
    plain, cyclic = reads
    assert cyclic["lon"].values.tolist() == [-135.0, -45.0, 45.0, 135.0]
    xr.testing.assert_identical(plain, cyclic)


@pytest.mark.parametrize(
    "attrs",
    [
        {"valid_min": 0.0},
        {"valid_range": np.array([0.0, 1e-6])},
        {"valid_max": 1e-6},
        {"valid_min": 0.0, "valid_max": 1e-6},
    ],
)
def test_values_outside_the_cf_valid_range_are_missing(tmp_path, attrs):
    """An ocean of -1 (or 9e9) declared invalid by valid_min / valid_range / valid_max: before, read as
    values (64 % negative Rh, a failed model; or 9e9 kg m-2 s-1 summed into the total)."""
    ocean = -1.0 if "valid_min" in attrs or "valid_range" in attrs else 9e9
    values = np.array([[[2e-8, ocean], [4e-8, 6e-8]]] * 3)
    time = xr.DataArray(
        [182.0, 547.0, 912.0], dims="time", attrs={"units": "days since 2000-01-01", "calendar": "noleap"}
    )
    field = xr.DataArray(values, dims=("time", "lat", "lon"), attrs={"units": "kg m-2 s-1", **attrs})
    xr.Dataset({"rh": field}, coords={"time": time, "lat": [-45.0, 45.0], "lon": [-90.0, 90.0]}).to_netcdf(
        tmp_path / "rh.nc"
    )
    source = Source("M", "dgvm", "test.M", {"rh": Var("rh", "kg m-2 s-1")}, "test", period=(2000, 2002))
    read = loader.open_variable(source, "rh", tmp_path / "rh.nc", annual=True).load()
    per_year = 1e3 * 365.25 * 86400  # kg m-2 s-1 -> g m-2 yr-1
    expected = np.where(values == ocean, np.nan, values) * per_year
    np.testing.assert_allclose(read.values, expected, rtol=1e-12)


def test_a_valid_range_that_is_not_a_number_names_the_file(tmp_path):
    from rhbench.errors import DataError

    field = xr.DataArray(
        np.ones((2, 2)) * 1e-8, dims=("lat", "lon"), attrs={"units": "kg m-2 s-1", "valid_min": "zero"}
    )
    xr.Dataset({"rh": field}, coords={"lat": [-45.0, 45.0], "lon": [-90.0, 90.0]}).to_netcdf(tmp_path / "rh.nc")
    source = Source("M", "dgvm", "test.M", {"rh": Var("rh", "kg m-2 s-1")}, "test")
    with pytest.raises(DataError, match="valid range attribute is not a number") as info:
        loader.open_variable(source, "rh", tmp_path / "rh.nc")
    assert "rh.nc" in str(info.value) and "'zero'" in str(info.value)


def test_files_of_a_series_in_different_calendars_are_refused_naming_them(tmp_path):
    """2000-2001 in noleap, 2002-2003 in standard (each stamped right in its own): the second file's
    values were decoded in the first's calendar, 'incomplete years ... 2002 has 11' without the cause."""
    source = Source("M", "dgvm", "test.M", {"rh": Var("rh", "kg m-2 s-1")}, "test", period=(2000, 2003))
    paths = []
    for first, cal in ((2000, "noleap"), (2002, "standard")):
        dates = [cftime.datetime(first + i // 12, i % 12 + 1, 15, calendar=cal) for i in range(24)]
        time = xr.DataArray(
            cftime.date2num(dates, "days since 1850-01-01", cal),
            dims="time",
            attrs={"units": "days since 1850-01-01", "calendar": cal},
        )
        field = xr.DataArray(np.ones((24, 2, 2)) * 1e-8, dims=("time", "lat", "lon"), attrs={"units": "kg m-2 s-1"})
        paths.append(tmp_path / f"rh_{first}.nc")
        xr.Dataset({"rh": field}, coords={"time": time, "lat": [-45.0, 45.0], "lon": [-90.0, 90.0]}).to_netcdf(
            paths[-1]
        )
    with pytest.raises(TimeAxisError, match="different time calendars") as info:
        loader.open_variable(source, "rh", paths, annual=True)
    assert "rh_2000.nc" in str(info.value) and "'noleap', 'standard'" in str(info.value)
    # names that count the same days are one calendar
    assert timeaxis_same("365_day") == timeaxis_same("noleap") and timeaxis_same("GREGORIAN") == "standard"


def timeaxis_same(name: str) -> str:
    from rhbench.timeaxis import same_calendar

    return same_calendar({"calendar": name})


def _model(tmp_path, static: str, variables: tuple[str, ...]):
    """A TRENDY-style model of 2x2 cells, 1901-1905 yearly, whose ``static`` variable is one map."""
    from dataclasses import replace as with_files

    from rhbench.sources import trendy_dgvm

    coords = {"lat": [-45.0, 45.0], "lon": [-90.0, 90.0]}
    time = xr.DataArray(
        181.0 + 365.0 * np.arange(5), dims="time", attrs={"units": "days since 1901-01-01", "calendar": "noleap"}
    )
    files = {}
    for name in variables:
        units = "kg m-2 s-1" if name in ("rh", "npp") else "kg m-2"
        series = xr.DataArray(np.full((5, 2, 2), 1e-8 if units.endswith("s-1") else 2.0), dims=("time", "lat", "lon"))
        data = series.isel(time=0, drop=True) if name == static else series.assign_coords(time=time)
        path = tmp_path / f"M_{name}.nc"
        data.assign_attrs(units=units).to_dataset(name=name).assign_coords(coords).to_netcdf(path)
        files[name] = (str(path),)
    return with_files(trendy_dgvm("M", "test", variables=variables), files=files)


def test_a_static_csoil_beside_a_yearly_clitter_is_refused_naming_its_file(tmp_path):
    """A cSoil map without time plus a yearly cLitter was summed into a 'series' whose soil part
    never changes (dims (lat, lon, year): the 2-box totals read it scrambled and failed blaming the
    litterfall). Now a TimeAxisError naming cSoil and its file."""
    from rhbench import harmonize

    source = _model(tmp_path, "cSoil", ("rh", "npp", "cVeg", "cSoil", "cLitter"))
    with pytest.raises(TimeAxisError, match="cSoil and cLitter are not both series") as info:
        harmonize.load_native(source, None)
    assert "M_cSoil.nc" in str(info.value) and "variable: cSoil" in str(info.value)


def test_a_static_variable_beside_series_is_a_typed_error_not_a_traceback(tmp_path):
    """rh as one map beside yearly pools: before, "ValueError: 'year' not found in array dimensions"
    from deep in the reduction (a run said only 'cannot read data values')."""
    from rhbench import grid, harmonize, reduce

    annual, cells = harmonize.load_native(_model(tmp_path, "rh", ("rh", "npp", "cVeg", "cSoil")), None)
    with pytest.raises(TimeAxisError, match="a model variable without a time axis") as info:
        reduce.reduce_native(annual, cells, grid.common_grid(4.0), (1901, 1905))
    assert "variable: rh" in str(info.value) and "expected: yearly or monthly steps" in str(info.value)
    assert cells.resolved(annual).land is not None  # the land fraction from a map beside series


@pytest.mark.parametrize("calendar", ["noleap", "standard"])
def test_common_years_are_365_days(calendar):
    """UDUNITS' common_year is exactly 365 days: 'common_years since 1850-01-01' was refused as
    undecodable units (the underscore), and listed as calendar years."""
    from rhbench.timeaxis import decode_time

    values = 150 + (np.arange(24) + 0.5) / 12
    labels = decode_time(
        xr.DataArray(values, dims="time", attrs={"units": "common_years since 1850-01-01", "calendar": calendar})
    )
    dates = cftime.num2date(values * 365.0, "days since 1850-01-01", calendar)
    assert labels.year.tolist() == [d.year for d in dates] and labels.month.tolist() == [d.month for d in dates]
    if calendar == "noleap":
        assert labels.year.tolist() == [2000] * 12 + [2001] * 12 and labels.month.tolist() == list(range(1, 13)) * 2


def test_a_plain_netcdf_file_named_gz_is_read_as_it_is(tmp_path, caplog):
    """A decompressed LPJ-GUESS file kept under its archive's name (``rh.nc.gz``): before, the model
    failed 'cannot decompress gzipped file: Not a gzipped file'. A file that is neither stays an error."""
    from rhbench.errors import DataError

    field = xr.DataArray(np.ones((2, 2)) * 1e-8, dims=("lat", "lon"), attrs={"units": "kg m-2 s-1"})
    xr.Dataset({"rh": field}, coords={"lat": [-45.0, 45.0], "lon": [-90.0, 90.0]}).to_netcdf(tmp_path / "rh.nc.gz")
    source = Source("M", "dgvm", "test.M", {"rh": Var("rh", "kg m-2 s-1")}, "test")
    with caplog.at_level("WARNING"):
        read = loader.open_variable(source, "rh", tmp_path / "rh.nc.gz").load()
    assert float(read.mean()) == pytest.approx(1e-8 * 1e3 * 365.25 * 86400) and "plain netCDF" in caplog.text
    (tmp_path / "bad.nc.gz").write_bytes(b"neither gzip nor netCDF" * 10)
    with pytest.raises(DataError, match="cannot decompress gzipped file") as info:
        loader.open_variable(source, "rh", tmp_path / "bad.nc.gz")
    assert "bad.nc.gz" in str(info.value)
