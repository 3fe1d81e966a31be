"""Review 7 (session 8): an adversarial read of the change since be415ad (docs/trust-cases.md,
"Review 7 (session 8)"). Each test fails on the code before its fix unless it says "pins"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rhbench.report import manifest

KEY = b"0123456789abcdef0123456789abcdef"


# --- R7-1: a run folder of an rhbench before index.html was a gated output ---------------


def _older_run_folder(folder: Path, monkeypatch, key: bytes | None) -> Path:
    """A run folder whose manifest.json an rhbench before a7048c6 wrote: every gated output but the
    page listed (and signed with ``key``), the page beside them."""
    folder.mkdir()
    for name in manifest.GATED_OUTPUTS:
        (folder / name).write_text(f"{name} of an older run\n", encoding="utf-8")
    older = tuple(n for n in manifest.GATED_OUTPUTS if n != manifest.INDEX_HTML)
    with monkeypatch.context() as patched:
        patched.setattr(manifest, "GATED_OUTPUTS", older)
        written = manifest.write_manifest(folder, key)
    assert manifest.INDEX_HTML not in written["files"]
    return folder / "scorecard.json"


@pytest.mark.parametrize("key", [None, KEY], ids=["digest", "signed"])
def test_an_older_run_folder_as_baseline_is_not_failed_for_its_unlisted_page(tmp_path, monkeypatch, key):
    """A baseline is read for its scorecard only: its page, which the older rhbench did not list, is
    said and not compared (was: 'holds index.html, which its manifest.json does not list (added after
    the run?)', a failure of every check against a baseline run folder of before this session)."""
    baseline = _older_run_folder(tmp_path / "older", monkeypatch, key)
    verdict = manifest.verify(baseline, key, role="baseline")
    assert verdict.problems == []
    assert "index.html not listed in its manifest.json" in verdict.note and "not compared" in verdict.note
    if key is not None:
        assert verdict.signed and verdict.note.startswith("signed: HMAC-SHA256 of 5 files verified")


@pytest.mark.parametrize("key", [None, KEY], ids=["digest", "signed"])
def test_an_older_run_folder_as_the_current_scorecard_still_fails_saying_why(tmp_path, monkeypatch, key):
    """The current run's page must be verified ('signed' only when every gated output was): still a
    problem, now naming the likely cause and the fix."""
    current = _older_run_folder(tmp_path / "older", monkeypatch, key)
    verdict = manifest.verify(current, key, role="current scorecard")
    assert len(verdict.problems) == 1 and not verdict.signed
    problem = verdict.problems[0]
    assert "holds index.html, which its manifest.json does not list" in problem
    assert "an rhbench before the page was a gated output" in problem and "run it again" in problem


def test_a_page_dropped_from_a_signed_manifest_still_fails(tmp_path, monkeypatch):
    """Pins: the leniency above cannot be used to slip an edited page past a signed current-rhbench
    baseline: its manifest lists the page, and dropping the entry breaks the signed file list."""
    folder = tmp_path / "run"
    folder.mkdir()
    for name in manifest.GATED_OUTPUTS:
        (folder / name).write_text(f"{name}\n", encoding="utf-8")
    manifest.write_manifest(folder, KEY)
    entry = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    del entry["files"]["index.html"], entry["signature"]["files"]["index.html"]
    (folder / "manifest.json").write_text(json.dumps(entry), encoding="utf-8")
    (folder / "index.html").write_text("edited\n", encoding="utf-8")
    verdict = manifest.verify(folder / "scorecard.json", KEY, role="baseline")
    assert any("file list or run context was edited after signing" in p for p in verdict.problems)


# --- R7-2: malloc_trim before the page workers draw, and a no-op without glibc -------------


def test_the_pool_gives_freed_memory_back_before_it_sends_the_page(monkeypatch):
    """Issue 18's claim (a2ba8df) that the run trims its heap before its page workers draw: removing
    the call from ``Pool.render`` left every test green."""
    from rhbench.report import workers

    order = []
    monkeypatch.setattr(workers, "release_freed_memory", lambda: order.append("trim") or True)
    monkeypatch.setattr(workers, "_send_bytes", lambda conn, job: order.append("send") or True)
    pool = workers.Pool(conns=["worker"], pid=0)
    monkeypatch.setattr(pool, "close", lambda: None)
    pool.render({"inputs": 1}, ["a"], lambda inputs, anchor: "")
    assert order == ["trim", "send"]
    for folder in pool.folders:
        folder.rmdir()


@pytest.mark.parametrize("where", ["darwin", "musl", "no malloc_trim"])
def test_release_freed_memory_is_a_no_op_without_glibc(monkeypatch, where):
    """Not Linux, no libc.so.6 (musl) or a libc without malloc_trim: False, no call, no crash."""
    import ctypes

    from rhbench.report import workers

    if where == "darwin":
        monkeypatch.setattr(workers.sys, "platform", "darwin")
        monkeypatch.setattr(ctypes, "CDLL", lambda name: pytest.fail("no C library is loaded off Linux"))
    else:
        monkeypatch.setattr(workers.sys, "platform", "linux")

        def cdll(name: str):
            if where == "musl":
                raise OSError(f"{name}: cannot open shared object file")
            return object()  # no malloc_trim attribute

        monkeypatch.setattr(ctypes, "CDLL", cdll)
    assert workers.release_freed_memory() is False


# --- R7-3: the years of a map that is not drawn ----------------------------------------


def _field(years: list[int] | None = None):
    import numpy as np
    import xarray as xr

    if years is None:
        return xr.DataArray(np.ones((2, 3)), dims=("lat", "lon"))
    return xr.DataArray(np.ones((len(years), 2, 3)), dims=("year", "lat", "lon"), coords={"year": years})


def test_a_source_without_a_maps_variables_states_no_years_for_that_map():
    """An Rh product has no cVeg (no tau_veg map) and a DGVM may lack cSoil: their years coordinates
    said 'no time axis (static)' for maps that are all missing, and the page's captions listed them
    ('observations: no time axis (static)' under the zonal tau_veg, which has no observed curve)."""
    from rhbench.metrics import coverage
    from rhbench.metrics.fields import MapInputs

    drawn = MapInputs((1982, 2018))
    product = {"rh": _field()}
    drawn.add("Tang2020", "rh", product, product, {coverage.BY_VARIABLE: "rh: 1982-2016"})
    assert drawn.years["Tang2020"]["rh"] == "1982-2016"
    assert drawn.years["Tang2020"]["tau_veg"] == "" and drawn.years["Tang2020"]["csoil"] == ""
    model = {"rh": _field(), "cveg": _field(), "litterfall": _field()}
    drawn.add("NoSoil", "dgvm", model, model, {coverage.BY_VARIABLE: "rh: 1982-2018; cVeg: 1982-2018"})
    assert drawn.years["NoSoil"]["tau_veg"] == "1982-2018"
    assert drawn.years["NoSoil"]["csoil"] == "" and drawn.years["NoSoil"]["tau_soil"] == ""


def test_the_references_maps_state_the_years_of_their_own_fields():
    """The reference's observed cSoil is static whatever the years of its Rh: its csoil map says so;
    it has no tau_veg map (was: every field labelled with the Rh's years)."""
    from types import SimpleNamespace

    from rhbench.metrics.fields import MapInputs
    from rhbench.metrics.map_years import STATIC

    ref = SimpleNamespace(name="observations", rh_land=_field(), csoil=_field(), rh_years="1982-2018", has_csoil=True)
    years = MapInputs.of_reference(ref, (1982, 2018)).years["observations"]
    assert years == {"rh": "1982-2018", "csoil": STATIC, "tau_soil": "1982-2018", "tau_veg": ""}


# --- R7-4: damaged values in one file of a series read in memory --------------------------


def test_damaged_values_in_one_file_of_a_series_name_that_file(tmp_path, monkeypatch):
    """Issue 18's in-memory read (8747dce) reads file by file, so it knows which file is damaged, but
    its DataError named the whole series ('A .. B (2 files)'), as the dask path must."""
    import numpy as np
    import xarray as xr

    from rhbench import loader
    from rhbench.errors import DataError
    from rhbench.sources import Source, Var

    paths = []
    for first in (2000, 2001):
        time = 15.0 + 365.0 * (first - 2000) + np.arange(12) * (365.0 / 12)
        rh = xr.DataArray(np.full((12, 3, 4), 3e-8, dtype="float32"), dims=("time", "lat", "lon"))
        ds = xr.Dataset({"rh": rh.assign_attrs(units="kg m-2 s-1")}, coords={"time": time})
        ds = ds.assign_coords(lat=[-30.0, 0.0, 30.0], lon=[-135.0, -45.0, 45.0, 135.0])
        ds["time"].attrs.update(units="days since 2000-01-01", calendar="noleap")
        paths.append(tmp_path / f"rh_{first}.nc")
        ds.to_netcdf(paths[-1])
    wrapper = xr.backends.netCDF4_.NetCDF4ArrayWrapper
    real = wrapper._getitem

    def damaged(self, key):
        second = str(paths[1]) in str(getattr(self.datastore, "_filename", ""))
        if second and self.variable_name == "rh" and isinstance(key, tuple) and key[0] == slice(None):
            raise RuntimeError("NetCDF: HDF error")
        return real(self, key)

    monkeypatch.setattr(wrapper, "_getitem", damaged)
    source = Source("M", "dgvm", "test.M", {"rh": Var("rh", "kg m-2 s-1")}, "test")
    with pytest.raises(DataError, match="cannot read data values") as info:
        loader.open_variable(source, "rh", paths, annual=True, in_memory=True)
    assert f"file: {paths[1]}" in str(info.value) and "(2 files)" not in str(info.value), str(info.value)


# --- R7-6: a series of files whose time bounds do not contain their stamps ---------------


def _stamped_file(path, years, *, monthly: bool, bounds_shift: float):
    """rh of ``years`` stamped at the END of each step (00:00 on the 1st of the next month or year,
    'days since 1999-01-01', noleap) with CF bounds moved by ``bounds_shift`` days (-365: bounds a year
    early, which do not contain their stamps: a broken writer); the value of each step is its index."""
    import cftime
    import numpy as np
    import xarray as xr

    def day(y, m):
        return cftime.date2num(cftime.DatetimeNoLeap(y, m, 1), "days since 1999-01-01", "noleap")

    months = range(1, 13) if monthly else (1,)
    starts = [(y, m) for y in years for m in months]
    ends = [(y, m + 1) if monthly and m < 12 else (y + 1, 1) for y, m in starts]
    stamps = np.array([day(*e) for e in ends])
    bounds = np.array([[day(*s), day(*e)] for s, e in zip(starts, ends, strict=True)]) + bounds_shift
    first = (years[0] - 2000) * len(months)
    values = (first + np.arange(len(starts), dtype="float32"))[:, None, None] * np.ones((1, 2, 2), "float32") * 1e-9
    time = ("time", stamps, {"units": "days since 1999-01-01", "calendar": "noleap", "bounds": "time_bnds"})
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), values, {"units": "kg m-2 s-1"}), "time_bnds": (("time", "nv"), bounds)},
        coords={"time": time, "lat": [-45.0, 45.0], "lon": [-90.0, 90.0]},
    )
    ds.to_netcdf(path)
    return path


def _rh_source():
    from rhbench.sources import Source, Var

    return Source("M", "dgvm", "test.M", {"rh": Var("rh", "kg m-2 s-1")}, "test")


def test_yearly_files_of_a_series_with_bounds_not_containing_their_stamps_are_not_read_a_year_late(tmp_path, caplog):
    """Year-end stamps (2001-01-01 for 2000) with bounds a year early, in two files: one such file is
    refused as ambiguous (its bounds ignored with a warning, S8-3b), but the series took every stamp
    as its year, silently: 2001-2004 for 2000-2003."""
    from rhbench import loader
    from rhbench.errors import TimeAxisError

    one = _stamped_file(tmp_path / "one.nc", [2000, 2001, 2002, 2003], monthly=False, bounds_shift=-365.0)
    with pytest.raises(TimeAxisError, match="cannot tell whether each stamp starts its year"):
        loader.open_variable(_rh_source(), "rh", one, annual=True)
    files = [
        _stamped_file(tmp_path / f"rh_{a}.nc", [a, a + 1], monthly=False, bounds_shift=-365.0) for a in (2000, 2002)
    ]
    with caplog.at_level("WARNING", logger="rhbench"), pytest.raises(TimeAxisError, match="cannot tell whether"):
        loader.open_variable(_rh_source(), "rh", files, annual=True)
    warned = [r.getMessage() for r in caplog.records if "do not contain their time stamps" in r.getMessage()]
    assert any(str(files[0]) in w for w in warned) and any(str(files[1]) in w for w in warned), warned


@pytest.mark.parametrize("broken", [(0, 1), (1,)], ids=["both files", "the second file"])
def test_monthly_files_with_unusable_bounds_are_read_as_one_file_without_bounds(tmp_path, caplog, broken):
    """Month-end stamps: without usable bounds the stamp rules read them as month ends (whole years,
    warned). One such file did; a series of them (or with the second file's bounds broken) took the
    stamps literally: 'incomplete years ... 2000 has 11, 2003 has 1 steps'."""
    import numpy as np

    from rhbench import loader

    single = _stamped_file(tmp_path / "one.nc", [2000, 2001, 2002], monthly=True, bounds_shift=-365.0)
    expected = loader.open_variable(_rh_source(), "rh", single, annual=True)
    files = [
        _stamped_file(tmp_path / f"rh_{y}.nc", ys, monthly=True, bounds_shift=-365.0 if i in broken else 0.0)
        for i, (y, ys) in enumerate([(2000, [2000]), (2001, [2001, 2002])])
    ]
    with caplog.at_level("WARNING", logger="rhbench"):
        found = loader.open_variable(_rh_source(), "rh", files, annual=True)
    assert found["year"].values.tolist() == [2000, 2001, 2002]
    np.testing.assert_allclose(found.values, expected.values, rtol=1e-6)
    by_hand = [
        np.average(np.arange(12) + 12 * k, weights=[31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]) for k in range(3)
    ]
    np.testing.assert_allclose(
        found.isel(lat=0, lon=0).values / found.isel(lat=0, lon=0).values[1], np.array(by_hand) / by_hand[1], rtol=1e-5
    )
    warned = " ".join(r.getMessage() for r in caplog.records if "do not contain their time stamps" in r.getMessage())
    assert all(str(files[i]) in warned for i in broken)


def test_an_edited_page_with_its_manifest_entry_rewritten_fails_only_under_the_key(tmp_path):
    """Pins the brief's question: whoever edits index.html AND its manifest.json entry (size and SHA-256
    recomputed) without the key passes a check without a key, which says "digest only, not signed",
    and fails one with the key (the signed file list and the page's HMAC no longer match)."""
    import hashlib

    folder = tmp_path / "run"
    folder.mkdir()
    for name in manifest.GATED_OUTPUTS:
        (folder / name).write_text(f"{name}\n", encoding="utf-8")
    manifest.write_manifest(folder, KEY)
    page = folder / "index.html"
    page.write_text("<title>a better score</title>\n", encoding="utf-8")
    entry = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    data = page.read_bytes()
    entry["files"]["index.html"] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (folder / "manifest.json").write_text(json.dumps(entry), encoding="utf-8")
    unkeyed = manifest.verify(folder / "scorecard.json", None)
    assert unkeyed.problems == [] and unkeyed.note.startswith("digest only, not signed")
    keyed = manifest.verify(folder / "scorecard.json", KEY)
    assert not keyed.signed and keyed.note.startswith("signature NOT verified")
    assert any("file list or run context was edited after signing" in p for p in keyed.problems)


# --- R7-7: the Monte Carlo statement of results.nc names the run's own seed and draws ------


def test_the_monte_carlo_statement_names_the_runs_seed_and_draws():
    """S8-4b's test runs the demo at seed 0, the default: a statement hard-coding 'seed 0' (or the
    default draws) passed it. Here seed 7 and 5 draws on a tiny model, the statement's numbers
    the constraint's."""
    import numpy as np
    import xarray as xr

    from rhbench import grid, uptake

    years = np.arange(1901, 2019)
    lat, lon = np.array([-30.0, 30.0]), np.array([-90.0, 90.0])
    shape = (years.size, lat.size, lon.size)
    growth = np.linspace(1.0, 1.2, years.size)[:, None, None] * np.ones(shape)
    model = xr.Dataset(
        {
            "npp": (("year", "lat", "lon"), 500.0 * growth),
            "rh": (("year", "lat", "lon"), 450.0 * growth),
            "cVeg": (("year", "lat", "lon"), 5.0 * growth),
            "cSoil": (("year", "lat", "lon"), 15.0 * growth),
            "fVegLitter": (("year", "lat", "lon"), 480.0 * growth),
        },
        coords={"year": years, "lat": lat, "lon": lon},
    )
    area = grid.cell_area(lat, lon)
    out = uptake.twobox_results({"M": model}, area, n_draws=5, seed=7)
    text = out.datasets["twobox"].attrs["monte_carlo"]
    assert "5 x 5 crossed draws (25 constrained runs per model and region, seed 7)" in text, text


# --- R7-10: the pipeline reads its models' small variables in memory -------------------------


@pytest.mark.slow
def test_the_pipeline_reads_each_models_variables_in_memory(demo_root, monkeypatch):
    """Issue 18's cut (8747dce) is that the pipeline's model reads take ``in_memory=True``: turning it
    off in pipeline.py left every test green (the numbers are the same either way)."""
    from rhbench import harmonize
    from rhbench.config import RunConfig
    from rhbench.pipeline import run

    real, seen = harmonize.load_native, []

    def recording(source, root, **kwargs):
        seen.append((source.name, source.kind, kwargs.get("in_memory", False)))
        return real(source, root, **kwargs)

    monkeypatch.setattr(harmonize, "load_native", recording)
    fast = {"reference": "Hashimoto2015", "products": ("Hashimoto2015",), "resolution": 4, "n_draws": 10}
    run(RunConfig(data_root=demo_root, models=("CLM5.0",), use_cache=False, **fast))
    models = [s for s in seen if s[1] == "dgvm"]
    assert models and all(flag for *_, flag in models), seen


def test_reduce_native_casts_a_float32_model_without_a_copy(monkeypatch):
    """4fe63a7's 'takes no copy' (its test checks only that the input is unchanged and the products
    equal, which a copy keeps too): the fields reduced share the float32 input's memory."""
    import numpy as np
    import xarray as xr

    from rhbench import grid, landfrac, reduce

    years, lat, lon = np.arange(2001, 2004), np.array([-45.0, 45.0]), np.array([-90.0, 90.0])
    rh = xr.DataArray(np.full((3, 2, 2), 500.0, np.float32), dims=("year", "lat", "lon"))
    annual = xr.Dataset({"rh": rh}, coords={"year": years, "lat": lat, "lon": lon})
    seen = {}
    real = reduce.period_means

    def capture(fields, period):
        seen["rh"] = fields["rh"].values
        return real(fields, period)

    monkeypatch.setattr(reduce, "period_means", capture)
    cells = landfrac.CellMeasures(grid.cell_area(lat, lon), xr.ones_like(rh.isel(year=0)), origin="test")
    reduce.reduce_native(annual, cells, grid.common_grid(90.0), (2001, 2003))
    assert np.shares_memory(seen["rh"], annual["rh"].values)
