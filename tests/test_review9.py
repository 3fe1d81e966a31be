"""Review 9 (session 10): adversarial review of the session's changes (docs/trust-cases.md, "Review 9
(session 10)"). Each test failed before its fix (or pins a behaviour the review checked)."""

from __future__ import annotations

import numpy as np
import pytest

from rhbench.errors import TimeAxisError
from tests.test_audit11_trendy import _hand, _rates, _time_axis, _yearly_means
from tests.test_audit12_models import _rh_part, _rh_total

# --- R9-1: a series of one-step files with a uniform gap --------------------------------------------


def test_yearly_files_of_every_other_year_are_refused_as_a_gap(tmp_path):
    """Before: files of 2000 and 2002 (one yearly step each) were read as a series of 2-year steps: the
    gap unseen, 212.31 Pg C yr-1 from half the years of 2000-2003 (the old loader refused it as a gap)."""
    yearly = _yearly_means(_rates())
    stamps = np.arange(4) * 365.0 + 182.5
    files = [_rh_part(tmp_path / f"rh_{2000 + i}.nc", yearly[i : i + 1], stamps[i : i + 1]) for i in (0, 2)]
    with pytest.raises(TimeAxisError, match="gap between consecutive files") as info:
        _rh_total(files)
    assert "rh_2000.nc" in str(info.value) and "rh_2002.nc" in str(info.value)


def test_monthly_files_of_every_other_month_are_refused_as_a_gap(tmp_path):
    rates = _rates()
    stamps, bounds = _time_axis("noleap")
    files = [
        _rh_part(tmp_path / f"rh_{i:02d}.nc", rates[i : i + 1], stamps[i : i + 1], bounds[i : i + 1])
        for i in range(0, 48, 2)
    ]
    with pytest.raises(TimeAxisError, match="gap between consecutive files"):
        _rh_total(files)


def test_one_file_per_year_with_none_missing_still_gives_the_hand_total(tmp_path):
    rates = _rates()
    yearly = _yearly_means(rates)
    stamps = np.arange(4) * 365.0 + 182.5
    files = [_rh_part(tmp_path / f"rh_{2000 + i}.nc", yearly[i : i + 1], stamps[i : i + 1]) for i in range(4)]
    assert _rh_total(files[::-1]) == pytest.approx(_hand(rates, "noleap"), rel=1e-6)


# --- R9-2: the run's shared netCDF handles and the process's file descriptors -----------------------


def _small_files(folder, count: int) -> list:
    import xarray as xr

    paths = []
    for i in range(count):
        path = folder / f"f{i:03d}.nc"
        xr.Dataset({"rh": (("lat", "lon"), np.full((2, 3), float(i), dtype="float32"))}).to_netcdf(path)
        paths.append(path)
    return paths


def _open_descriptors() -> int:
    import os

    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not __import__("os").path.isdir("/proc/self/fd"), reason="needs /proc/self/fd (Linux)")
def test_a_run_reading_many_files_keeps_a_bounded_number_open(tmp_path):
    """Before: every file a run opened (a CMIP6 folder's headers at discovery: 360 files) stayed open for
    the whole run, one descriptor each: under a soft limit of 200 (macOS's default is 256) the run
    stopped "cannot write the output: Too many open files" (exit 2; the code before session 10: exit 0).
    Now at most MAX_KEPT_HANDLES are kept, the others closed when forgotten."""
    from rhbench import runscope
    from rhbench.readers import netcdf

    paths = _small_files(tmp_path, runscope.MAX_KEPT_HANDLES * 3)
    before = _open_descriptors()
    with runscope.scope() as scope:
        for path in paths:
            with netcdf.open_stored(path) as ds:
                assert float(ds["rh"][0, 0]) == float(paths.index(path))
        assert len(scope.handles) == runscope.MAX_KEPT_HANDLES
        assert _open_descriptors() - before <= runscope.MAX_KEPT_HANDLES + 2


def test_a_forgotten_handle_an_xarray_dataset_reads_from_is_not_closed_under_it(tmp_path):
    """The in-memory read's dataset (lazily indexed, on the run's handle) stays readable after its
    handle is forgotten (pins: closing it would fail the read, 'NetCDF: Not a valid ID')."""
    from rhbench import runscope
    from rhbench.readers import netcdf

    first, *others = _small_files(tmp_path, runscope.MAX_KEPT_HANDLES + 5)
    with runscope.scope() as scope:
        ds = netcdf.open_file(first, variable="rh", chunked=False)
        for path in others:
            with netcdf.open_stored(path):
                pass
        assert len(scope.handles) == runscope.MAX_KEPT_HANDLES
        assert float(ds["rh"].values[1, 2]) == 0.0


def test_a_handle_read_again_after_it_was_forgotten_is_opened_again(tmp_path):
    from rhbench import runscope
    from rhbench.readers import netcdf

    paths = _small_files(tmp_path, runscope.MAX_KEPT_HANDLES + 1)
    with runscope.scope() as scope:
        for path in [*paths, paths[0]]:
            with netcdf.open_stored(path) as ds:
                assert float(ds["rh"][0, 0]) == float(paths.index(path))
        assert scope.opened[str(paths[0])] == 2 and scope.opened[str(paths[-1])] == 1


# --- R9-3 (pins): issue 18's native totals on arrays against a hand calculation ----------------------


def test_native_totals_with_nans_an_all_nan_region_and_a_one_cell_region_are_the_hand_sums():
    """Per region, the hand sums (math.fsum) of rh x land area over the cells with a value, cSoil likewise,
    rh_mean over the area with rh, coverage; an all-NaN region gives totals 0 and rh_mean NaN, a
    one-cell region that cell's numbers; a cell with land area 0 adds nothing."""
    import math

    import xarray as xr

    from rhbench.metrics.native import native_totals

    rng = np.random.default_rng(9)
    lat, lon = np.array([-45.0, -15.0, 15.0, 45.0]), np.array([0.0, 90.0, 180.0, 270.0])
    rh = rng.uniform(100.0, 900.0, (4, 4))  # g C m-2 yr-1
    csoil = rng.uniform(2.0, 30.0, (4, 4))  # kg C m-2
    rh[1, :] = np.nan  # the band -15 all NaN
    rh[3, 2] = np.nan
    csoil[3, 3] = np.nan
    area = rng.uniform(1e11, 3e11, (4, 4))
    area[0, 1] = 0.0  # no land
    masks = np.zeros((4, 4, 4), dtype=bool)
    masks[0] = True  # global
    masks[1, 1, :] = True  # all-NaN rh
    masks[2, 2, 3] = True  # one cell
    masks[3, 0, :] = True  # holding the no-land cell
    regions = xr.DataArray(
        masks, dims=("region", "lat", "lon"), coords={"region": list("GNOZ"), "lat": lat, "lon": lon}
    )
    coords = {"lat": lat, "lon": lon}
    period = xr.Dataset({"rh": (("lat", "lon"), rh), "cSoil": (("lat", "lon"), csoil)}, coords=coords)
    out = native_totals(period, xr.DataArray(area, dims=("lat", "lon"), coords=coords), regions)
    for k, region in enumerate("GNOZ"):
        cells = [(i, j) for i in range(4) for j in range(4) if masks[k, i, j] and area[i, j] > 0]
        with_rh = [(i, j) for i, j in cells if not np.isnan(rh[i, j])]
        rh_sum = math.fsum(rh[c] * area[c] for c in with_rh)
        soil = math.fsum(csoil[c] * area[c] for c in cells if not np.isnan(csoil[c]))
        covered = math.fsum(area[c] for c in with_rh)
        land = math.fsum(area[c] for c in cells)
        got = out.sel(region=region)
        assert float(got["land_area"]) == pytest.approx(land, rel=1e-12)
        assert float(got["rh_total"]) == pytest.approx(rh_sum / 1e15, rel=1e-12, abs=0.0)
        assert float(got["csoil_total"]) == pytest.approx(soil * 1e3 / 1e15, rel=1e-12)
        if covered:
            assert float(got["rh_mean"]) == pytest.approx(rh_sum / covered, rel=1e-12)
        else:
            assert np.isnan(float(got["rh_mean"]))
        assert float(got["coverage"]) == pytest.approx(covered / land, rel=1e-12)


def test_zonal_profiles_on_arrays_with_an_all_nan_row_and_a_one_cell_row_are_the_hand_means():
    """Issue 18's zonal profile on arrays (``fields._profile``, ``_profile_ratio``) against hand area-weighted
    means: a row without values is NaN, a row of one value that value; tau = (mean cSoil x 1000) / mean rh
    over the cells holding both."""
    import math

    import xarray as xr

    from rhbench.metrics.fields import _profile, _profile_ratio

    rng = np.random.default_rng(4)
    rh, soil, cells = rng.uniform(100, 900, (3, 5)), rng.uniform(2, 30, (3, 5)), rng.uniform(1e10, 5e10, (3, 5))
    rh[0, :] = np.nan  # all NaN
    rh[1, [0, 1, 3, 4]] = np.nan  # one cell
    soil[2, 4] = np.nan
    got = _profile(rh, cells)
    assert np.isnan(got[0]) and got[1] == pytest.approx(rh[1, 2], rel=1e-14)
    assert got[2] == pytest.approx(math.fsum(rh[2] * cells[2]) / math.fsum(cells[2]), rel=1e-13)
    tau = _profile_ratio(soil, xr.DataArray(rh), cells)
    both = slice(0, 4)
    hand = math.fsum(soil[2, both] * cells[2, both]) * 1000 / math.fsum(rh[2, both] * cells[2, both])
    assert np.isnan(tau[0]) and tau[1] == pytest.approx(soil[1, 2] * 1000 / rh[1, 2], rel=1e-13)
    assert tau[2] == pytest.approx(hand, rel=1e-13)


# --- R9-4: the run's handles after the run -----------------------------------------------------------


def test_after_a_run_its_files_are_closed_and_a_dataset_read_in_it_still_reads(tmp_path):
    """Before: the handles a run opened were forgotten, not closed, at its end (closed only by Python's
    cyclic GC), so a notebook that ran rhbench and then rewrote its model file got 'NetCDF: HDF error'
    (the code before session 10: the file rewritten, the next run read the new numbers). Now the scope
    closes them; a dataset read in the run still reads (it reopens the file for itself)."""
    import netCDF4

    from rhbench import runscope
    from rhbench.readers import netcdf

    (path,) = _small_files(tmp_path, 1)
    before = _open_descriptors()
    with runscope.scope():
        ds = netcdf.open_file(path, variable="rh", chunked=False)
        with netcdf.open_stored(path) as header:
            assert "rh" in header.variables
    assert _open_descriptors() == before  # nothing left open by the run
    with netCDF4.Dataset(path, "r+") as writable:  # was: OSError NetCDF: HDF error
        writable["rh"][:] = 7.0
    assert float(ds["rh"].values[0, 0]) == 7.0  # read after the run: the file reopened, the new value
    ds.close()
    assert _open_descriptors() == before


# --- R9-5 (pins): rhbench.fileaxes reads a time dim of another name only when one dim claims it --------


def test_two_dimensions_claiming_to_be_time_are_not_guessed_between(tmp_path):
    """A file whose two dims both carry CF time units (``tstep`` and a second ``step2``): neither is taken
    for time (a guess could read the wrong axis as the years); the variable is refused naming the file.
    Mutating the rule to rename the first claimant turns this red."""
    import xarray as xr

    from rhbench.errors import RhbenchError
    from tests.test_audit11_trendy import LAT, LON, _total

    rates = _rates()
    stamps, _ = _time_axis("noleap")
    time_attrs = {"units": "days since 2000-01-01", "calendar": "noleap"}
    ds = xr.Dataset(
        {"rh": (("tstep", "lat", "lon"), rates.astype("float32"), {"units": "kg m-2 s-1"}),
         "other": (("step2",), np.arange(3.0))},
        coords={"tstep": ("tstep", stamps, time_attrs), "step2": ("step2", np.arange(3.0), time_attrs),
                "lat": LAT, "lon": LON},
    )  # fmt: skip
    path = tmp_path / "rh.nc"
    ds.to_netcdf(path)
    with pytest.raises(RhbenchError) as info:
        _total({"rh": [path]})
    assert str(path) in str(info.value)


# --- R9-7: issue 18's array path given a map without coordinates -------------------------------------


def test_a_map_without_coordinates_takes_the_xarray_path_instead_of_a_key_error():
    """Before: ``totals.grid_values`` (the check that lets a metric run on numpy arrays) raised KeyError
    'lat' for a (lat, lon) map without coordinates, which no caller catches (they fall back to xarray on
    ValueError): the row failed. Now ValueError, and ``covered_areas`` gives xarray's sums."""
    import xarray as xr

    from rhbench.metrics.totals import covered_areas, grid_values

    lat, lon = np.array([-45.0, -15.0, 15.0, 45.0]), np.array([0.0, 90.0, 180.0, 270.0])
    area = xr.DataArray(np.arange(1.0, 17.0).reshape(4, 4), dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    values = np.ones((4, 4))
    values[0, 0] = np.nan
    bare = xr.DataArray(values, dims=("lat", "lon"))
    with pytest.raises(ValueError, match="no lat coordinate"):
        grid_values(area, bare)
    assert covered_areas(bare, area > 0, area) == (136.0, 135.0)


# --- R9-8: the output comparison behind issue 18's "every output identical", in the repository --------


def _run_folder(folder, value: float):
    import json

    import xarray as xr

    folder.mkdir()
    card = {"rows": [{"metric": "rh_global", "value": 1.5}], "meta": {"config": {"out": str(folder)}}}
    (folder / "scorecard.json").write_text(json.dumps(card))
    (folder / "scores.csv").write_text("metric,value\nrh_global,1.5\n")
    (folder / "cmec.json").write_text(json.dumps({"out": str(folder)}))
    (folder / "index.html").write_text(f"<p>{folder}</p>")
    xr.Dataset({"rh": ("x", np.array([value, np.nan]))}).to_netcdf(folder / "results.nc")
    xr.Dataset({"maps": ("y", np.array([2.0]))}).to_netcdf(folder / "results.nc", mode="a", group="maps")
    return folder


def test_the_output_comparison_finds_one_changed_value_and_takes_nan_as_equal(tmp_path, capsys):
    from benchmarks.compare_outputs import main

    old, same, other = (_run_folder(tmp_path / n, v) for n, v in (("old", 1.0), ("same", 1.0), ("other", 1.0 + 1e-15)))
    assert main([str(old), str(same)]) == 0
    assert "results.nc equal (2 variables in 2 groups)" in capsys.readouterr().out
    assert main([str(old), str(other)]) == 1
    assert "results.nc DIFF (None/rh differs)" in capsys.readouterr().out


# --- R9-9: the scope seen from dask's worker threads ---------------------------------------------------


def test_dask_worker_threads_see_the_scope_but_open_their_own_handles(tmp_path):
    """runscope's doc said dask's workers do not inherit the run's scope; dask's threaded scheduler copies
    context variables into its threads, so a task reading a file shared the run's netCDF4 handle across
    threads (not safe to read from two threads; and the scope closes handles it forgets, R9-2). Now a
    handle is shared on the scope's own thread only: a task opens, reads and closes its own."""
    import dask

    from rhbench import runscope
    from rhbench.readers import netcdf

    paths = _small_files(tmp_path, 4)

    def read(path):
        seen = runscope.current() is not None
        with netcdf.open_stored(path) as ds:
            value = float(ds["rh"][0, 0])
        return seen, value, ds.isopen()

    with runscope.scope() as scope:
        # one worker thread (not this one): netCDF4 opens from two threads at once crash (HDF5 is not
        # thread-safe; this test segfaulted with the default pool), which is why nothing shares across threads
        results = dask.compute(*[dask.delayed(read)(p) for p in paths], scheduler="threads", num_workers=1)
        assert not scope.handles and not scope.opened  # nothing shared from the workers
        array_read = netcdf.open_file(paths[1], variable="rh", chunked=False)
    assert [value for _, value, _ in results] == [0.0, 1.0, 2.0, 3.0]
    assert all(seen for seen, _, _ in results)  # dask copied the context: the scope is visible there
    assert not any(still_open for _, _, still_open in results)  # each task's handle closed
    assert float(array_read["rh"].values[0, 0]) == 1.0
