"""Eleventh audit (session 9), part B: TRENDY-style model files the way modelling centres write them
(docs/trust-cases.md, "Eleventh audit (session 9)"). Each test writes a small file and checks the
global total against a hand calculation: mean over years of the sum over cells of the day-weighted
annual mean rate x cell area on the sphere (R^2 dlon (sin lat2 - sin lat1)); Pg C yr-1 with
rhbench's year of 365.25 days (kg m-2 s-1 x 365.25 x 86400 s x m2 / 1e12), or the exact error.
"""

from __future__ import annotations

import calendar as pycalendar
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from rhbench import grid, harmonize, reduce
from rhbench.sources import Source, Var

SECONDS_PER_YEAR = 365.25 * 86400.0
DAY_SECONDS = 86400.0
LAT = np.arange(-85.0, 90.0, 10.0)
LON = np.arange(-175.0, 180.0, 10.0)
YEARS = range(2000, 2004)
NOLEAP = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], float)
NOLEAP_TIME = {"units": "days since 2000-01-01", "calendar": "noleap"}


def _days(calendar: str) -> np.ndarray:
    """Days of each month of :data:`YEARS` in ``calendar`` (48 values)."""
    if calendar == "noleap":
        return np.tile(NOLEAP, len(YEARS))
    return np.array([pycalendar.monthrange(y, m)[1] for y in YEARS for m in range(1, 13)], float)


def _rates(seed: int = 0, seasonal: bool = False) -> np.ndarray:
    """Monthly rh in kg m-2 s-1 (48, lat, lon), ocean rows and a strip missing; ``seasonal``: the flux
    mostly in the northern summer (June to August, 200 times the other months), as a boreal model's."""
    rng = np.random.default_rng(seed)
    grams = rng.uniform(200.0, 800.0, (48, LAT.size, LON.size))
    if seasonal:
        grams *= np.where(np.isin(np.arange(48) % 12, [5, 6, 7]), 4.0, 0.02)[:, None, None]
    grams[:, :3, :] = np.nan
    grams[:, :, 5:9] = np.nan
    return grams / 1000.0 / SECONDS_PER_YEAR


def _hand(rates: np.ndarray, calendar: str, lat: np.ndarray = LAT, lon: np.ndarray = LON) -> float:
    """Pg C yr-1: mean over years of sum(day-weighted annual mean rate x sphere area) x 365.25 d."""
    area = grid.cell_area(lat, lon).values
    days = _days(calendar)
    totals = []
    for i in range(len(YEARS)):
        d = days[12 * i : 12 * i + 12]
        annual = np.tensordot(d / d.sum(), np.nan_to_num(rates[12 * i : 12 * i + 12]), axes=1)
        totals.append(float(np.sum(annual * area)) * SECONDS_PER_YEAR / 1e12)
    return float(np.mean(totals))


def _time_axis(calendar: str) -> tuple[np.ndarray, np.ndarray]:
    """Mid-month stamps and month bounds in days since 2000-01-01 for ``calendar``."""
    edges = np.concatenate([[0.0], np.cumsum(_days(calendar))])
    return (edges[:-1] + edges[1:]) / 2, np.stack([edges[:-1], edges[1:]], axis=1)


def _write(path: Path, values: np.ndarray, units: str, *, calendar: str = "noleap", **extra_vars) -> Path:
    """A TRENDY-style monthly rh file (no _FillValue: NaN where missing) with time_bnds."""
    stamps, bounds = _time_axis(calendar)
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), values.astype("float32"), {"units": units}), **extra_vars},
        coords={
            "time": ("time", stamps, {"units": "days since 2000-01-01", "calendar": calendar, "bounds": "time_bnds"}),
            "lat": ("lat", LAT, {"units": "degrees_north"}),
            "lon": ("lon", LON, {"units": "degrees_east"}),
        },
    )
    ds["time_bnds"] = (("time", "nv"), bounds)
    ds.to_netcdf(path, encoding={name: {"_FillValue": None} for name in ds.variables})
    return path


def _total(files: dict[str, list[Path]], variables: dict[str, Var] | None = None) -> float:
    """rhbench's global rh total (Pg C yr-1) of a TRENDY-like model made of ``files``."""
    variables = variables or {"rh": Var("rh", "kg m-2 s-1")}
    source = Source("TRENDYLIKE", "dgvm", "x.TRENDYLIKE", variables, "-", period=(2000, 2003), files=files)
    annual, cells = harmonize.load_native(source, None)
    products = reduce.reduce_native(annual, cells, grid.common_grid(10.0), (2000, 2003))
    return float(products.regions["rh_total"].sel(region="global"))


# --- B11-9: a flux given as an amount per month ---------------------------------------------------


@pytest.mark.parametrize("calendar", ["noleap", "standard"])
@pytest.mark.parametrize("units", ["g C m-2 month-1", "gC/m2/month", "kg C m-2 month-1"])
def test_an_amount_per_month_is_divided_by_each_months_own_days(tmp_path, units, calendar):
    """Each step of a per-month flux is the amount of ITS month (28 days for a noleap February, 31 for
    July). Before: divided by pint's mean month (30.4375 days) whatever the month, so a boreal model
    whose flux falls in June-August read +1.2 % (noleap) high, silently (+1.3e-4 on a flat year)."""
    rates = _rates(seasonal=True)
    grams = 1000.0 if units.startswith("g") else 1.0
    amounts = rates * grams * DAY_SECONDS * _days(calendar)[:, None, None]  # each month's own total
    path = _write(tmp_path / "rh.nc", amounts, units, calendar=calendar)
    assert _total({"rh": [path]}) == pytest.approx(_hand(rates, calendar), rel=1e-6)


def test_a_yearly_mean_monthly_amount_stays_a_rate_per_mean_month(tmp_path):
    """Yearly steps in mm month-1 / g m-2 month-1 (a year's mean monthly amount): x 12 a year, as before."""
    rates = _rates()
    days = _days("noleap")
    annual = np.stack(
        [np.tensordot(days[12 * i : 12 * i + 12] / 365.0, rates[12 * i : 12 * i + 12], 1) for i in range(4)]
    )
    monthly_amount = annual * 1000.0 * SECONDS_PER_YEAR / 12.0  # g m-2 per mean month
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), monthly_amount.astype("float32"), {"units": "g m-2 month-1"})},
        coords={"time": ("time", np.arange(4) * 365.0 + 182.5, NOLEAP_TIME), "lat": LAT, "lon": LON},
    )
    path = tmp_path / "rh_yearly.nc"
    ds.to_netcdf(path, encoding={name: {"_FillValue": None} for name in ds.variables})
    assert _total({"rh": [path]}) == pytest.approx(_hand(rates, "noleap"), rel=1e-6)


# --- B11-10: TRENDY landArea (and cell areas) in km2 vs m2 -------------------------------------


def _land_area_file(path: Path, values: np.ndarray, units: str | None) -> Path:
    attrs = {} if units is None else {"units": units}
    xr.Dataset({"landArea": (("lat", "lon"), values, attrs)}, coords={"lat": LAT, "lon": LON}).to_netcdf(path)
    return path


def _half_land() -> np.ndarray:
    """A land fraction: 1, but two columns of coastal cells half land."""
    land = np.ones((LAT.size, LON.size))
    land[:, 10:12] = 0.5
    return land


@pytest.mark.parametrize(
    ("scale", "units", "declared"),
    [(1.0, "m2", "m2"), (1e-6, "km2", "m2"), (1e-6, "km^2", "m2"), (1e-6, None, "km2")],
    ids=["m2", "km2", "km^2", "km2-by-the-plugin"],
)
def test_land_areas_in_m2_or_km2_weigh_the_same(tmp_path, scale, units, declared):
    """landArea is the land area of each cell: total = sum(rate x landArea) by hand, in either unit."""
    rates = _rates()
    land = _half_land()
    rh = _write(tmp_path / "rh.nc", rates, "kg m-2 s-1")
    area = grid.cell_area(LAT, LON).values
    land_file = _land_area_file(tmp_path / "landArea.nc", area * land * scale, units)
    variables = {"rh": Var("rh", "kg m-2 s-1"), "landArea": Var("landArea", declared)}
    total = _total({"rh": [rh], "landArea": [land_file]}, variables)
    assert total == pytest.approx(_hand(rates * land[None], "noleap"), rel=1e-6)


@pytest.mark.parametrize(
    ("scale", "units", "message", "ratio"),
    [
        (1e-6, "m2", "land areas never above 1 % of their cells", "1e-06"),
        (1e-6, None, "land areas never above 1 % of their cells", "1e-06"),
        (1.0, "km2", "land areas larger than their cells", "1e+06"),
    ],
    ids=["km2-labelled-m2", "km2-unlabelled-plugin-m2", "m2-labelled-km2"],
)
def test_land_areas_off_by_a_million_are_refused_naming_the_file(tmp_path, scale, units, message, ratio):
    """Before: km2 values read as m2 gave every land cell 1e-6 of its weight (a global total 1e-6 of the
    truth, 2.05e-4 instead of 205.2 Pg C yr-1 here) and m2 labelled km2 1e6 times it, with no word of the
    landArea file; a run failed the model only as 'implausible', naming none of it."""
    from rhbench.errors import ValueRangeError

    rh = _write(tmp_path / "rh.nc", _rates(), "kg m-2 s-1")
    area = grid.cell_area(LAT, LON).values
    land_file = _land_area_file(tmp_path / "landArea.nc", area * _half_land() * scale, units)
    variables = {"rh": Var("rh", "kg m-2 s-1"), "landArea": Var("landArea", "m2")}
    with pytest.raises(ValueRangeError, match=message) as info:
        _total({"rh": [rh], "landArea": [land_file]}, variables)
    text = str(info.value)
    assert f"file: {land_file}" in text and "variable: landArea" in text and f"= {ratio} (landArea read in m2)" in text


# --- B11-7/8: soil layers summed, per-PFT values refused (never averaged or summed) ---------------


def _with_extra_dim(path: Path, name: str, values: np.ndarray, dim: str, units: str) -> Path:
    """``name`` (time, ``dim``, lat, lon) with yearly mid-year stamps 2000-2003 (noleap)."""
    time = ("time", np.arange(4) * 365.0 + 182.5, NOLEAP_TIME)
    ds = xr.Dataset(
        {name: (("time", dim, "lat", "lon"), values.astype("float32"), {"units": units})},
        coords={"time": time, "lat": LAT, "lon": LON},
    )
    ds.to_netcdf(path, encoding={v: {"_FillValue": None} for v in ds.variables})
    return path


@pytest.mark.parametrize("dim", ["depth", "soil_layer", "solay", "nsoil", "levsoi"])
def test_csoil_per_layer_is_summed_over_depth_against_a_hand_total(tmp_path, dim):
    """The column's carbon is the sum of its layers (kg m-2 each): total = sum(layers) x area by hand."""
    rng = np.random.default_rng(3)
    layers = rng.uniform(2.0, 9.0, (4, 3, LAT.size, LON.size))
    layers[:, :, :3, :] = np.nan
    soil = _with_extra_dim(tmp_path / "cSoil.nc", "cSoil", layers, dim, "kg m-2")
    rh = _write(tmp_path / "rh.nc", _rates(), "kg m-2 s-1")
    source = Source(
        "TRENDYLIKE", "dgvm", "x.T", {"rh": Var("rh", "kg m-2 s-1"), "cSoil": Var("cSoil", "kg m-2")}, "-",
        period=(2000, 2003), files={"rh": [rh], "cSoil": [soil]},
    )  # fmt: skip
    annual, cells = harmonize.load_native(source, None)
    products = reduce.reduce_native(annual, cells, grid.common_grid(10.0), (2000, 2003))
    area = grid.cell_area(LAT, LON).values
    hand = np.mean([np.nansum(layers[i].sum(axis=0) * area) for i in range(4)]) / 1e12  # kg -> Pg
    assert float(products.regions["csoil_total"].sel(region="global")) == pytest.approx(hand, rel=1e-6)


@pytest.mark.parametrize("dim", ["lev_pft", "vegetation_layer", "soil_pft", "nlevveg", "canopy_layer", "pft", "veget"])
def test_rh_per_pft_is_refused_even_when_its_dimension_name_looks_like_a_layer(tmp_path, dim):
    """Before: a PFT dimension whose name also matched the soil-layer words (lev, layer, soil) was summed
    as soil layers: rh of three PFTs at 0.5, 1 and 2 x the cell's rate read 3.5 x the total (740.9
    instead of 211.7 Pg C yr-1 here), silently. Per-PFT values must be weighted by landCoverFrac."""
    from rhbench.errors import CoordinateError

    per_pft = np.stack([_rates()[:4] * f for f in (0.5, 1.0, 2.0)], axis=1)
    path = _with_extra_dim(tmp_path / "rh.nc", "rh", per_pft, dim, "kg m-2 s-1")
    with pytest.raises(CoordinateError, match=f"vegetation types or tiles: {dim}") as info:
        _total({"rh": [path]})
    assert f"file: {path}" in str(info.value) and "landCoverFrac" in str(info.value)


# --- B11-3: time axes as TRENDY files write them -------------------------------------------------


def _yearly_means(rates: np.ndarray) -> np.ndarray:
    """Noleap day-weighted annual means of monthly ``rates`` (4, lat, lon)."""
    return np.stack([np.tensordot(NOLEAP / 365.0, rates[12 * i : 12 * i + 12], axes=1) for i in range(4)])


def _yearly_file(path: Path, values: np.ndarray, time: np.ndarray, time_attrs: dict) -> Path:
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), values.astype("float32"), {"units": "kg m-2 s-1"})},
        coords={"time": ("time", time, time_attrs), "lat": LAT, "lon": LON},
    )
    ds.to_netcdf(path, encoding={v: {"_FillValue": None} for v in ds.variables})
    return path


@pytest.mark.parametrize(
    ("time", "attrs"),
    [
        (np.arange(2000, 2004), {"units": "year"}),
        (np.arange(2000, 2004, dtype="int32"), {"units": "years", "calendar": "noleap"}),
        (np.arange(2000.0, 2004.0), {"units": "YYYY"}),
    ],
    ids=["year", "years-int32", "YYYY"],
)
def test_integer_years_with_units_year_are_those_years(tmp_path, time, attrs):
    """Before: 'undecodable time units' (a TimeAxisError) for a yearly file whose time values are the
    calendar years themselves, as some TRENDY models write them."""
    rates = _rates()
    path = _yearly_file(tmp_path / "rh.nc", _yearly_means(rates), time, attrs)
    assert _total({"rh": [path]}) == pytest.approx(_hand(rates, "noleap"), rel=1e-6)


def test_year_units_whose_values_are_not_years_are_refused_naming_the_file(tmp_path):
    """'years' with values 0..3 (a count whose reference date is missing) is not read as years 0..3."""
    from rhbench.errors import TimeAxisError

    path = _yearly_file(tmp_path / "rh.nc", _yearly_means(_rates()), np.arange(0.0, 4.0), {"units": "years"})
    with pytest.raises(TimeAxisError, match="the values are not calendar years") as info:
        _total({"rh": [path]})
    assert f"file: {path}" in str(info.value) and "values 0 .. 3" in str(info.value)


@pytest.mark.parametrize(
    ("time", "units"),
    [
        (np.arange(48.0) + 300 * 12, "months since 1700-01-15"),
        (np.arange(48.0) + 300 * 12 + 0.5, "months since 1700-01-01"),
    ],
    ids=["months-since-1700-01-15", "mid-month-since-1700-01-01"],
)
def test_months_since_1700_read_the_right_months(tmp_path, time, units):
    """(pins) TRENDY's 'months since 1700-01-15' (no bounds): each value its month, noleap weights."""
    rates = _rates()
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), rates.astype("float32"), {"units": "kg m-2 s-1"})},
        coords={"time": ("time", time, {"units": units, "calendar": "noleap"}), "lat": LAT, "lon": LON},
    )
    path = tmp_path / "rh.nc"
    ds.to_netcdf(path, encoding={v: {"_FillValue": None} for v in ds.variables})
    assert _total({"rh": [path]}) == pytest.approx(_hand(rates, "noleap"), rel=1e-6)


@pytest.mark.parametrize("calendar", ["365_day", "julian", "proleptic_gregorian"])
def test_calendars_weigh_their_own_month_lengths(tmp_path, calendar):
    """(pins) 365_day is noleap; julian and proleptic_gregorian count 29 days in February 2000."""
    rates = _rates()
    days = "noleap" if calendar == "365_day" else "standard"
    edges = np.concatenate([[0.0], np.cumsum(_days(days))])
    stamps, bounds = (edges[:-1] + edges[1:]) / 2, np.stack([edges[:-1], edges[1:]], axis=1)
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), rates.astype("float32"), {"units": "kg m-2 s-1"}),
         "time_bnds": (("time", "nv"), bounds)},
        coords={"time": ("time", stamps, {"units": "days since 2000-01-01", "calendar": calendar,
                                          "bounds": "time_bnds"}), "lat": LAT, "lon": LON},
    )  # fmt: skip
    path = tmp_path / "rh.nc"
    ds.to_netcdf(path, encoding={v: {"_FillValue": None} for v in ds.variables})
    assert _total({"rh": [path]}) == pytest.approx(_hand(rates, days), rel=1e-6)


def test_cdos_absolute_time_axis_reads_each_date(tmp_path):
    """A file through `cdo -a` (time 'day as %Y%m%d.%f', proleptic_gregorian: 20000115.5 ..). Before:
    'undecodable time units'. The months weigh their proleptic-Gregorian days (29 in February 2000)."""
    import cftime

    rates = _rates()
    edges = np.concatenate([[0.0], np.cumsum(_days("standard"))])
    dates = cftime.num2date((edges[:-1] + edges[1:]) / 2, "days since 2000-01-01", "proleptic_gregorian")
    absolute = np.array([d.year * 10000 + d.month * 100 + d.day + d.hour / 24 for d in dates], float)
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), rates.astype("float32"), {"units": "kg m-2 s-1"})},
        coords={"time": ("time", absolute, {"units": "day as %Y%m%d.%f", "calendar": "proleptic_gregorian"}),
                "lat": LAT, "lon": LON},
    )  # fmt: skip
    path = tmp_path / "rh.nc"
    ds.to_netcdf(path, encoding={v: {"_FillValue": None} for v in ds.variables})
    assert _total({"rh": [path]}) == pytest.approx(_hand(rates, "standard"), rel=1e-6)


# --- B11-12: leap days in a file labelled noleap (and the reverse) ------------------------------


@pytest.mark.parametrize(("written", "stated"), [("standard", "noleap"), ("noleap", "standard")])
def test_stamps_counted_in_another_calendar_are_refused_naming_the_calendar_that_fits(tmp_path, written, stated):
    """1901-2018 mid-month stamps counted with leap days but labelled noleap (a frequent mislabel):
    the drift of a day per leap year makes two stamps fall in one month by 1957. The error said only
    'duplicated time at step 674'; it now names the calendar the values fit and the fix."""
    import cftime

    from rhbench.errors import TimeAxisError

    dates = [cftime.datetime(y, m, 15, calendar=written) for y in range(1901, 2019) for m in range(1, 13)]
    time = cftime.date2num(dates, "days since 1901-01-01", written)
    values = np.full((time.size, 2, 2), 1e-8, "float32")
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), values, {"units": "kg m-2 s-1"})},
        coords={"time": ("time", time, {"units": "days since 1901-01-01", "calendar": stated}),
                "lat": [-45.0, 45.0], "lon": [-90.0, 90.0]},
    )  # fmt: skip
    path = tmp_path / "rh.nc"
    ds.to_netcdf(path)
    with pytest.raises(TimeAxisError, match="time steps are not increasing") as info:
        _total({"rh": [path]})
    text = str(info.value)
    assert f"file: {path}" in text and f"the time values fit the {written!r} calendar, not the {stated!r}" in text


# --- B11-9b: a total (Pg C yr-1, kg s-1 per cell) is refused as not a density ---------------------


@pytest.mark.parametrize("units", ["Pg C yr-1", "PgC/yr", "kg C s-1"])
def test_a_total_per_cell_is_refused_saying_it_is_not_a_density(tmp_path, units):
    """Refused before too (a UnitsError of dimensions), but the fix offered was the generic 'write UDUNITS
    units'; a total over the cell cannot be relabelled, it must be divided by the cell area."""
    from rhbench.errors import UnitsError

    area = grid.cell_area(LAT, LON).values
    path = _write(tmp_path / "rh.nc", _rates() * area * SECONDS_PER_YEAR / 1e12, units)
    with pytest.raises(UnitsError) as info:
        _total({"rh": [path]})
    text = str(info.value)
    assert f"file: {path}" in text and "variable: rh" in text and f"found: {units!r}" in text
    assert "not values per unit area" in text and "units such as 'kg m-2 s-1'" in text


# --- B11-13: coordinates that are not degrees north / east ---------------------------------------


def _with_coordinates(path: Path, lat: np.ndarray, lon: np.ndarray, lat_units: str, lon_units: str) -> Path:
    rates = _rates()
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), rates[:, : lat.size, : lon.size].astype("float32"), {"units": "kg m-2 s-1"})},
        coords={"time": ("time", _time_axis("noleap")[0], NOLEAP_TIME),
                "lat": ("lat", lat, {"units": lat_units}), "lon": ("lon", lon, {"units": lon_units})},
    )  # fmt: skip
    ds.to_netcdf(path, encoding={v: {"_FillValue": None} for v in ds.variables})
    return path


@pytest.mark.parametrize(
    ("lat", "lon", "lat_units", "lon_units", "message"),
    [
        (np.deg2rad(LAT), np.deg2rad(LON), "radians", "radians", "lat coordinate not in degrees north"),
        (-LAT, LON, "degrees_south", "degrees_east", "lat coordinate not in degrees north"),
        (LAT, -LON, "degrees_north", "degrees_west", "lon coordinate not in degrees east"),
        (LAT, np.arange(36.0), "degrees_north", "1", "lon coordinate not in degrees east"),
        (np.arange(0.0, 180.0, 10.0), LON, "degrees_north", "degrees_east", "latitudes outside -90..90"),
    ],
    ids=["radians", "degrees_south", "degrees_west", "lon-index", "lat-0-170"],
)
def test_coordinates_not_in_degrees_north_east_are_refused_naming_the_file(
    tmp_path, lat, lon, lat_units, lon_units, message
):
    """Before, each was read as degrees north/east without a word: radians gave 0.09 instead of 211.7 Pg C
    yr-1; degrees_south / degrees_west mirrored the maps (the same total, every cell on the wrong side);
    a longitude index 0..35 labelled '1' 21.2; latitudes 0..170 (a row index) 65.4."""
    from rhbench.errors import CoordinateError

    path = _with_coordinates(tmp_path / "rh.nc", lat, lon, lat_units, lon_units)
    with pytest.raises(CoordinateError, match=message) as info:
        _total({"rh": [path]})
    assert f"file: {path}" in str(info.value)


@pytest.mark.parametrize(
    "units", [("degrees_north", "degrees_east"), ("degree_N", "degree_E"), ("degrees", "deg"), ("", "")]
)
def test_degree_spellings_are_read_as_degrees(tmp_path, units):
    path = _with_coordinates(tmp_path / "rh.nc", LAT, LON, *units)
    assert _total({"rh": [path]}) == pytest.approx(_hand(_rates(), "noleap"), rel=1e-6)


@pytest.mark.parametrize(("per_day", "label"), [(1, "daily"), (8, "3-hourly"), (1 / 8, "8-day")])
def test_steps_shorter_than_a_month_are_refused_saying_so(tmp_path, per_day, label):
    """Before: 'duplicated time at step 1 (2000-01)', as for a broken file; daily (leap days and all),
    3-hourly or 8-day files are refused as what they are, with the monthly-mean fix."""
    from rhbench.errors import TimeAxisError

    time = np.arange(0.0, 730.0, 1.0 / per_day) + 0.5 / per_day
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), np.full((time.size, 2, 2), 1e-8, "float32"), {"units": "kg m-2 s-1"})},
        coords={"time": ("time", time, NOLEAP_TIME), "lat": [-45.0, 45.0], "lon": [-90.0, 90.0]},
    )
    path = tmp_path / f"rh_{label}.nc"
    ds.to_netcdf(path)
    with pytest.raises(TimeAxisError, match="time steps shorter than a month") as info:
        _total({"rh": [path]})
    assert f"file: {path}" in str(info.value) and "cdo monmean" in str(info.value)


def test_an_amount_per_month_read_monthly_is_each_months_rate_and_keeps_its_calendar(tmp_path):
    """The monthly (not annual) read: each step in g m-2 yr-1 is its month's amount / its days x 365.25;
    the scaling keeps the labels' attributes (the calendar the annual means weigh months by)."""
    from rhbench import loader

    rates = _rates()
    amounts = rates * 1000.0 * DAY_SECONDS * _days("noleap")[:, None, None]
    path = _write(tmp_path / "rh.nc", amounts, "g C m-2 month-1")
    source = Source("T", "dgvm", "x.T", {"rh": Var("rh", "kg m-2 s-1")}, "-", period=(2000, 2003))
    monthly = loader.open_variable(source, "rh", path)
    np.testing.assert_allclose(monthly.values, rates * 1000.0 * SECONDS_PER_YEAR, rtol=1e-6)
    assert monthly.attrs["calendar"] == "noleap" and monthly.attrs["units"] == "gC m-2 yr-1"


def test_an_rh_negative_everywhere_is_refused_with_the_sign_convention_fix(tmp_path):
    """Refused before too ('100.0% of values negative'), without saying the likely cause: a flux written
    with the atmosphere's sign (land losses negative). A few negatives keep the old message alone."""
    from rhbench.errors import ValueRangeError

    path = _write(tmp_path / "rh.nc", -_rates(), "kg m-2 s-1")
    with pytest.raises(ValueRangeError, match="100.0% of values negative") as info:
        _total({"rh": [path]})
    assert "sign convention" in str(info.value) and "ncap2 -s 'rh=-rh'" in str(info.value)
    mixed = _rates()
    mixed[:, 3:8, :] *= -1.0  # a fifth of the land negative: a broken field, not a sign convention
    with pytest.raises(ValueRangeError) as info:
        _total({"rh": [_write(tmp_path / "mixed.nc", mixed, "kg m-2 s-1")]})
    assert "sign convention" not in str(info.value)


# --- B11-18: ORCHIDEE-style 2-D nav_lat/nav_lon beside 1-D lat/lon -------------------------------


@pytest.mark.parametrize("agree", [True, False], ids=["repeating-the-1-D", "another-grid"])
def test_2d_latitudes_beside_1d_coordinates_are_read_as_the_regular_grid_they_repeat(tmp_path, agree):
    """A regular-grid file carrying 2-D nav_lat/nav_lon (ORCHIDEE writes them) beside its 1-D lat/lon was
    refused as 'curvilinear grid not supported'. Now read when the 2-D ones repeat the 1-D (hand total);
    2-D coordinates that differ (a real curvilinear grid with index dims named lat/lon) stay refused."""
    from rhbench.errors import CoordinateError

    lat2, lon2 = np.meshgrid(LAT if agree else LAT * 0.9, LON, indexing="ij")
    extra = {"nav_lat": (("lat", "lon"), lat2, {"units": "degrees_north"}),
             "nav_lon": (("lat", "lon"), lon2, {"units": "degrees_east"})}  # fmt: skip
    rates = _rates()
    path = _write(tmp_path / "rh.nc", rates, "kg m-2 s-1", **extra)
    if agree:
        assert _total({"rh": [path]}) == pytest.approx(_hand(rates, "noleap"), rel=1e-6)
    else:
        with pytest.raises(CoordinateError, match="curvilinear grid not supported"):
            _total({"rh": [path]})


def test_yearly_sums_labelled_without_their_time_are_refused_with_the_per_step_fix(tmp_path):
    """rh as yearly sums labelled 'kg m-2' (an amount, no time): refused before too (units of another
    dimension) with the generic fix; it now says how to label a per-step amount."""
    from rhbench.errors import UnitsError

    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), (_rates()[:4] * SECONDS_PER_YEAR).astype("float32"), {"units": "kg m-2"})},
        coords={"time": ("time", np.arange(4) * 365.0 + 182.5, NOLEAP_TIME), "lat": LAT, "lon": LON},
    )
    path = tmp_path / "rh.nc"
    ds.to_netcdf(path)
    with pytest.raises(UnitsError) as info:
        _total({"rh": [path]})
    assert f"file: {path}" in str(info.value) and "'kg m-2 yr-1' for yearly sums" in str(info.value)
