"""Thirteenth audit (session 11), part B: model files as centres write them (docs/trust-cases.md,
"Thirteenth audit (session 11)"). Totals against hand calculations on test_audit11_trendy's grid."""

from __future__ import annotations

import cftime
import numpy as np
import pytest
import xarray as xr

from rhbench import loader, timeaxis
from rhbench.sources import Source, Var
from tests.test_audit11_trendy import _hand, _rates, _total, _yearly_file, _yearly_means
from tests.test_audit13_known_open import _file

NOON = "days since 1850-01-01 12:00:00"


@pytest.mark.parametrize("units", [NOON, "hours since 1850-01-01 06:00", "days since 1850-1-1T12:00:00Z"])
def test_yearly_stamps_at_new_year_counted_from_a_reference_at_noon_keep_their_years(tmp_path, units):
    """Yearly means stamped at 1 January 00:00 of their year, in units whose reference date has a time
    of day. Before: the time of day was dropped, so each stamp read as 31 December 12:00 (or 18:00) of
    the year before: **every year labelled a year early, silently** (2000-2003 read as 1999-2002: the
    period 2000-2003 averaged over the wrong years: 212.67 instead of 212.34 Pg C yr-1 here).
    Now the stamps are 1 January 00:00 again (the stamp rules decide, here by the period): the hand total."""
    rates = _rates()
    starts = [cftime.datetime(y, 1, 1, calendar="noleap") for y in range(2000, 2004)]
    plain = units.replace("Z", "")
    path = _yearly_file(
        tmp_path / "rh.nc",
        _yearly_means(rates),
        cftime.date2num(starts, plain, "noleap"),
        {"units": units, "calendar": "noleap"},
    )
    assert _total({"rh": [path]}) == pytest.approx(_hand(rates, "noleap"), rel=1e-6)
    source = Source("T", "dgvm", "x.T", {"rh": Var("rh", "kg m-2 s-1")}, "-", period=(2000, 2003))
    assert loader.open_variable(source, "rh", [path], annual=True)["year"].values.tolist() == [2000, 2001, 2002, 2003]


def test_monthly_stamps_at_month_starts_counted_from_noon_are_read_as_their_months(tmp_path):
    """Before: "incomplete years" (the first month read as December of the year before); now the hand total."""
    rates = _rates()
    path = _file(tmp_path / "rh.nc", rates, (2000, 2001, 2002, 2003), NOON, "noleap", bounds=False)
    with xr.open_dataset(path, decode_times=False) as ds:  # mid-month stamps: move them to each month's start
        starts = [cftime.datetime(y, m, 1, calendar="noleap") for y in range(2000, 2004) for m in range(1, 13)]
        moved = ds.load().assign_coords(time=("time", cftime.date2num(starts, NOON, "noleap"), ds["time"].attrs))
    moved.to_netcdf(tmp_path / "starts.nc", encoding={n: {"_FillValue": None} for n in moved.variables})
    assert _total({"rh": [tmp_path / "starts.nc"]}) == pytest.approx(_hand(rates, "noleap"), rel=1e-6)


def test_the_reference_time_of_day_is_a_fraction_of_a_day():
    assert timeaxis._time_of_day("days since 1850-01-01 12:00:00") == 0.5
    assert timeaxis._time_of_day("hours since 1850-01-01 06:30") == pytest.approx(6.5 / 24)
    assert timeaxis._time_of_day("days since 1850-01-01") == timeaxis._time_of_day("years since AD 1700-Jan-1st") == 0.0


def _packed_pair(folder, rates, encodings):
    """rh of 2000-2001 and 2002-2003 (noleap, mid-month) as two files written with ``encodings``."""
    from tests.test_audit11_trendy import LAT, LON
    from tests.test_audit13_known_open import _month_edges

    paths = []
    for k, encoding in enumerate(encodings):
        years = (2000 + 2 * k, 2001 + 2 * k)
        edges = _month_edges(years, "days since 2000-01-01", "noleap")
        ds = xr.Dataset(
            {"rh": (("time", "lat", "lon"), rates[24 * k : 24 * k + 24], {"units": "kg m-2 s-1"})},
            coords={
                "time": ("time", edges.mean(axis=1), {"units": "days since 2000-01-01", "calendar": "noleap"}),
                "lat": LAT,
                "lon": LON,
            },
        )
        plain = {name: {"_FillValue": None} for name in ("time", "lat", "lon")}
        ds.to_netcdf(folder / f"rh_{years[0]}-{years[1]}.nc", encoding={"rh": encoding, **plain})
        paths.append(folder / f"rh_{years[0]}-{years[1]}.nc")
    return paths


def test_files_packed_each_with_their_own_scale_factor_are_decoded_each_by_its_own(tmp_path):
    """Two int16 files, scale_factor/add_offset 1e-12/1e-8 and 3e-12/2e-8 (a tool packs each period's
    range). Before: the series was joined raw and decoded with the first file's numbers: **163.74 instead
    of 212.34 Pg C yr-1 (-23 %), exit 0**. Now each file is decoded by its own: the hand total of the
    values xarray decodes file by file."""
    rates = _rates()
    paths = _packed_pair(
        tmp_path,
        rates,
        [
            {"dtype": "int16", "scale_factor": 1e-12, "add_offset": 1e-8, "_FillValue": -32768},
            {"dtype": "int16", "scale_factor": 3e-12, "add_offset": 2e-8, "_FillValue": -32768},
        ],
    )
    decoded = np.concatenate([xr.open_dataset(p, decode_times=False)["rh"].values for p in paths])
    assert _total({"rh": paths}) == pytest.approx(_hand(decoded, "noleap"), rel=1e-6)
    assert _hand(decoded, "noleap") == pytest.approx(_hand(rates, "noleap"), rel=1e-5)


def test_files_with_their_own_fill_value_mask_each_its_own(tmp_path):
    """File 1 marks the ocean 1e20 (`_FillValue`), file 2 -1 (its `_FillValue`): before, file 2's -1 was
    kept as a value (the join kept the first file's fill), so the run failed "negative values"; now masked."""
    rates = _rates()
    paths = _packed_pair(
        tmp_path, rates, [{"dtype": "float32", "_FillValue": 1e20}, {"dtype": "float32", "_FillValue": -1.0}]
    )
    with xr.open_dataset(paths[1], decode_times=False, mask_and_scale=False) as ds:
        assert float(ds["rh"].min()) == -1.0  # the ocean, stored as the file's own fill
    assert _total({"rh": paths}) == pytest.approx(_hand(rates, "noleap"), rel=1e-6)


def test_files_packed_alike_are_joined_raw_as_before():
    """Pins: a series whose files decode alike is left to the single pass (the same objects back)."""
    from rhbench import seriesdecode

    ds = xr.Dataset({"rh": (("time",), np.arange(3, dtype="int16"), {"scale_factor": 0.5, "_FillValue": -1})})
    same, step = seriesdecode.decoded_apart([ds, ds.copy()], "rh", ["a.nc", "b.nc"])
    assert step is None and same[0] is ds
