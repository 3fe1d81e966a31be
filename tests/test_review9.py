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
