"""Twelfth audit (session 10), part A: the eleventh audit's and review 8's known-open items
(docs/trust-cases.md, "Twelfth audit (session 10)"). Totals are checked against the hand calculation
of test_audit11_trendy (mean over years of the sum over cells of the day-weighted annual mean rate x
spherical cell area x 365.25 d, Pg C yr-1).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
import xarray as xr

from rhbench.errors import CoordinateError
from tests.test_audit11_trendy import LAT, LON, _hand, _rates, _time_axis, _total
from tests.test_report_check import CURRENT, _run

TIME_ATTRS = {"units": "days since 2000-01-01", "calendar": "noleap"}


def _save(ds: xr.Dataset, path):
    ds.to_netcdf(path, encoding={name: {"_FillValue": None} for name in ds.variables})
    return path


# --- A12-3: a time dimension of another name -------------------------------------------------------


@pytest.mark.parametrize(
    "dim, attrs",
    [
        ("tstep", TIME_ATTRS),
        ("month", TIME_ATTRS),
        ("time_step", {"axis": "T", **TIME_ATTRS}),
        ("record", {"standard_name": "time", **TIME_ATTRS}),
        ("time_counter", TIME_ATTRS),
        ("t", TIME_ATTRS),
    ],
)
def test_a_time_dimension_of_another_name_with_time_units_is_read_as_time(tmp_path, dim, attrs):
    """Before: `tstep`, `month` (and any other name but time/Time/TIME/t/time_counter) were refused as
    an 'unexpected extra dimension' though the coordinate's units said time; now read (hand total)."""
    rates = _rates()
    stamps, bounds = _time_axis("noleap")
    ds = xr.Dataset(
        {"rh": ((dim, "lat", "lon"), rates.astype("float32"), {"units": "kg m-2 s-1"}),
         "time_bnds": ((dim, "nv"), bounds)},
        coords={dim: (dim, stamps, {**attrs, "bounds": "time_bnds"}), "lat": LAT, "lon": LON},
    )  # fmt: skip
    path = _save(ds, tmp_path / "rh.nc")
    assert _total({"rh": [path]}) == pytest.approx(_hand(rates, "noleap"), rel=1e-6)


def test_a_dimension_without_time_evidence_stays_an_error_naming_it(tmp_path):
    """A `month` axis 1..12 with no time units (a climatology), beside no time: still refused, named."""
    rates = _rates()[:12]
    ds = xr.Dataset(
        {"rh": (("month", "lat", "lon"), rates.astype("float32"), {"units": "kg m-2 s-1"})},
        coords={"month": ("month", np.arange(1, 13), {"long_name": "month of the year"}), "lat": LAT, "lon": LON},
    )
    path = _save(ds, tmp_path / "rh.nc")
    with pytest.raises(CoordinateError, match="unexpected extra dimension") as info:
        _total({"rh": [path]})
    assert "'month'" in str(info.value) and f"file: {path}" in str(info.value)


# --- A12-2: a regular grid given only as 2-D latitude/longitude -------------------------------------


def _two_d_file(path, lat2, lon2, rates, dims=("y", "x")):
    stamps, _ = _time_axis("noleap")
    ds = xr.Dataset(
        {"rh": (("time", *dims), rates.astype("float32"), {"units": "kg m-2 s-1", "coordinates": "lat lon"}),
         "lat": (dims, lat2, {"units": "degrees_north", "standard_name": "latitude"}),
         "lon": (dims, lon2, {"units": "degrees_east", "standard_name": "longitude"}),
         "y": (dims[0], np.arange(lat2.shape[0])), "x": (dims[1], np.arange(lat2.shape[1]))},
        coords={"time": ("time", stamps, TIME_ATTRS)},
    )  # fmt: skip
    return _save(ds, path)


@pytest.mark.parametrize("layout", ["y-x", "x-y (transposed)", "descending, 0..360", "float32"])
def test_a_regular_grid_given_only_as_2d_coordinates_is_read_as_that_grid(tmp_path, layout):
    """Before: refused 'curvilinear grid not supported' (the model lost); now the 1-D grid it is (hand total)."""
    rates = _rates()
    lat, lon = LAT, LON
    rates_on_file = rates
    if layout == "descending, 0..360":  # column j holds LON[j] written in 0..360 (185..355, 5..175)
        lat, lon, rates_on_file = LAT[::-1], (LON + 360.0) % 360.0, rates[:, ::-1, :]
    lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
    if layout == "float32":
        lat2, lon2 = lat2.astype("float32"), lon2.astype("float32")
    if layout.startswith("x-y"):
        path = _two_d_file(tmp_path / "rh.nc", lat2.T, lon2.T, rates_on_file.transpose(0, 2, 1), dims=("x", "y"))
    else:
        path = _two_d_file(tmp_path / "rh.nc", lat2, lon2, rates_on_file)
    assert _total({"rh": [path]}) == pytest.approx(_hand(rates, "noleap"), rel=1e-6)


def test_a_truly_curvilinear_grid_stays_refused(tmp_path):
    """2-D latitudes that vary along x (a rotated grid) by more than 1e-6 degree: refused as before."""
    lat2, lon2 = np.meshgrid(LAT, LON, indexing="ij")
    lat2 = lat2 + 1e-3 * np.arange(LON.size)[None, :]
    path = _two_d_file(tmp_path / "rh.nc", lat2, lon2, _rates())
    with pytest.raises(CoordinateError, match="curvilinear grid not supported") as info:
        _total({"rh": [path]})
    assert f"file: {path}" in str(info.value)


# --- A12-4: latitude/longitude row and column indices -----------------------------------------------


def _indexed(path, lat, lon, rates, lat_attrs=None, lon_attrs=None):
    stamps, _ = _time_axis("noleap")
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), rates.astype("float32"), {"units": "kg m-2 s-1"})},
        coords={"time": ("time", stamps, TIME_ATTRS), "lat": ("lat", lat, lat_attrs or {}),
                "lon": ("lon", lon, lon_attrs or {})},
    )  # fmt: skip
    return _save(ds, path)


@pytest.mark.parametrize("start", [0, 1])
def test_row_and_column_indices_without_units_are_refused_naming_the_file(tmp_path, start):
    """Before: lat 0..17, lon 0..35 (a 10-degree model's indices) read as degrees: a 17 x 35 degree patch,
    2.92 instead of 212.34 Pg C yr-1, silently (the run failed it only as implausible)."""
    path = _indexed(tmp_path / "rh.nc", np.arange(18.0) + start, np.arange(36.0) + start, _rates())
    with pytest.raises(CoordinateError, match="lat and lon look like row or column indices") as info:
        _total({"rh": [path]})
    message = str(info.value)
    assert f"file: {path}" in message and f"lat {start} .. {17 + start}" in message and "degrees_north" in message


@pytest.mark.parametrize("index", ["lon", "lat"])
def test_one_index_axis_beside_global_degrees_is_refused_naming_it(tmp_path, index):
    """Before: a column index 0..35 beside real latitudes -85..85 read as a 36-degree strip, 21.23 instead
    of 212.34 Pg C yr-1; a row index 0..17 beside real longitudes 29.22; silently."""
    lat, lon = (LAT, np.arange(36.0)) if index == "lon" else (np.arange(18.0), LON)
    path = _indexed(tmp_path / "rh.nc", lat, lon, _rates())
    with pytest.raises(CoordinateError, match=f"^{index} looks like row or column indices") as info:
        _total({"rh": [path]})
    assert f"file: {path}" in str(info.value) and f"variable: {index};" in str(info.value)


def test_a_real_one_degree_grid_and_indices_with_degree_units_are_still_read(tmp_path):
    """Cell centres -89.5..89.5 with integer longitudes 0..359 (no units): a real 1-degree grid, read; and
    indices the file says are degrees (units degrees_north/east) are read as it says."""
    lat, lon = np.arange(-89.5, 90.0, 1.0), np.arange(0.0, 360.0, 1.0)
    flat = np.full((48, lat.size, lon.size), 500.0 / 1000.0 / (365.25 * 86400.0))
    path = _indexed(tmp_path / "rh1.nc", lat, lon, flat)
    hand = 500.0 * 4 * np.pi * 6371007.181**2 / 1e15  # a flat 500 g m-2 yr-1 over the sphere, Pg C yr-1
    assert _total({"rh": [path]}) == pytest.approx(hand, rel=1e-6)
    rates = _rates()
    stated = _indexed(
        tmp_path / "rh2.nc", np.arange(18.0), np.arange(36.0), rates,
        {"units": "degrees_north"}, {"units": "degrees_east"},
    )  # fmt: skip
    assert _total({"rh": [stated]}) > 0  # read as the 1-degree regional grid the file says it is
    north = np.arange(0.0, 90.0, 1.0)  # a northern 1-degree grid, integer latitudes from 0, no units: degrees
    path = _indexed(tmp_path / "rh3.nc", north, np.arange(0.5, 360.0, 1.0), flat[:, :90, :])
    band = 2 * np.pi * 6371007.181**2 * (np.sin(np.deg2rad(89.5)) - np.sin(np.deg2rad(-0.5)))
    assert _total({"rh": [path]}) == pytest.approx(500.0 * band / 1e15, rel=1e-6)


# --- A12-5: `rhbench check` on a run that wrote nothing ---------------------------------------------


@pytest.mark.parametrize("written", ["nothing", "a log only"])
def test_check_of_a_run_that_wrote_no_scorecard_writes_a_failing_junit_report(tmp_path, capsys, written):
    """Before: exit 2 and no JUnit file (CI showed nothing). Now the JUnit (and Markdown) report holds one
    failed case saying why; the exit code stays 2."""
    run = tmp_path / "run"
    run.mkdir()
    if written == "a log only":
        (run / "rhbench.log").write_text("Traceback ...\n")
    junit, markdown = tmp_path / "ci" / "rhbench.xml", tmp_path / "rhbench.md"
    assert _run(tmp_path, run, "--junit", str(junit), "--markdown", str(markdown)) == 2
    suite = ET.parse(junit).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("1", "1")
    failure = suite.find("testcase/failure")
    reason = "wrote nothing" if written == "nothing" else "stopped before writing its scorecard"
    assert "scorecard file not found" in failure.get("message") and reason in failure.get("message")
    assert str(run / "scorecard.json") in failure.text
    assert "could not compare" in markdown.read_text() and reason in markdown.read_text()
    assert "scorecard file not found" in capsys.readouterr().err


def test_check_of_a_truncated_scorecard_writes_a_failing_junit_report(tmp_path):
    """A run killed while writing its scorecard: the JSON is cut short; the reason is the parse error."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "scorecard.json").write_text('{"synthetic": false, "rows": [{"source": "A", ')
    junit = tmp_path / "rhbench.xml"
    assert _run(tmp_path, run, "--junit", str(junit)) == 2
    failure = ET.parse(junit).getroot().find("testsuite/testcase/failure")
    assert str(run / "scorecard.json") in failure.get("message")


def test_check_that_compares_still_writes_the_usual_report(tmp_path):
    """The usual JUnit report (one case per gated row) is unchanged when both scorecards are read."""
    junit = tmp_path / "rhbench.xml"
    assert _run(tmp_path, CURRENT, "--allow-missing", "--junit", str(junit)) == 0
    suite = ET.parse(junit).getroot().find("testsuite")
    assert int(suite.get("tests")) > 1 and suite.find("testcase").get("name") != "check could not compare"


def test_a_runs_shared_in_memory_read_puts_the_axes_on_rhbenchs_too(tmp_path):
    """Within a run (issue 18's one netCDF handle per file, the in-memory read), a `tstep` time and a
    regular grid as 2-D coordinates are read as in the lazy path (hand total)."""
    from rhbench import grid, harmonize, reduce, runscope
    from rhbench.sources import Source, Var

    rates = _rates()
    stamps, _ = _time_axis("noleap")
    lat2, lon2 = np.meshgrid(LAT, LON, indexing="ij")
    ds = xr.Dataset(
        {"rh": (("tstep", "y", "x"), rates.astype("float32"), {"units": "kg m-2 s-1"}),
         "lat": (("y", "x"), lat2, {"units": "degrees_north"}), "lon": (("y", "x"), lon2, {"units": "degrees_east"})},
        coords={"tstep": ("tstep", stamps, TIME_ATTRS)},
    )  # fmt: skip
    path = _save(ds, tmp_path / "rh.nc")
    source = Source("T", "dgvm", "x.T", {"rh": Var("rh", "kg m-2 s-1")}, "-", period=(2000, 2003), files={"rh": [path]})
    with runscope.scope():
        annual, cells = harmonize.load_native(source, None, in_memory=True)
        products = reduce.reduce_native(annual, cells, grid.common_grid(10.0), (2000, 2003))
    total = float(products.regions["rh_total"].sel(region="global"))
    assert total == pytest.approx(_hand(rates, "noleap"), rel=1e-6)
