"""Eleventh audit (session 9), part A: the known-open items of Review 7 and session 8, each with a
test that fails on the code before its fix (docs/trust-cases.md, "Eleventh audit (session 9)")."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import h5py
import numpy as np
import pytest
import xarray as xr

from rhbench import grid, loader, pipeline
from rhbench.errors import DataError
from rhbench.results import Failures
from rhbench.sources import Source, Var
from tests.test_session8_gunzip import _packed, inflations  # noqa: F401  (a fixture, used by name)

# --- A11-1: the dask path's damaged-data error names the damaged file -------------------


def _monthly_series(folder: Path, years: int = 2) -> list[Path]:
    """rh of 2000.. in ``years`` monthly files of a year each (noleap, zlib-compressed, one chunk per step)."""
    rng = np.random.default_rng(0)
    paths = []
    for first in range(2000, 2000 + years):
        time = 15.0 + 365.0 * (first - 2000) + np.arange(12) * (365.0 / 12)
        values = rng.uniform(1e-8, 5e-8, (12, 18, 36)).astype("float32")
        ds = xr.Dataset(
            {"rh": (("time", "lat", "lon"), values, {"units": "kg m-2 s-1"})},
            coords={"time": time, "lat": np.arange(-85, 90, 10.0), "lon": np.arange(-175, 180, 10.0)},
        )
        ds["time"].attrs.update(units="days since 2000-01-01", calendar="noleap")
        paths.append(folder / f"rh_{first}.nc")
        ds.to_netcdf(paths[-1], encoding={"rh": {"zlib": True, "chunksizes": (1, 18, 36)}})
    return paths


def _damage_step(path: Path, step: int) -> None:
    """Overwrite the compressed bytes of one time step of ``rh`` in ``path`` (a disk error, a bad copy):
    the file still opens, reading that step fails with an HDF error."""
    with h5py.File(path, "r") as f:
        info = f["rh"].id.get_chunk_info_by_coord((step, 0, 0))
    with open(path, "r+b") as f:
        f.seek(info.byte_offset)
        f.write(b"\xab" * info.size)


@pytest.mark.parametrize("damaged", [2, 1], ids=["a file the value check samples", "a file only dask reads"])
def test_a_damaged_file_of_a_series_read_through_dask_is_named(tmp_path, damaged):
    """Known-open (Review 7): a model variable above ``loader.IN_MEMORY_BYTES`` is read through dask;
    when one file of its series is damaged the error named the whole series ('A .. B (4 files)') or
    the source's first file, never the damaged one. Of four yearly files in 24-step dask chunks, the
    value check samples steps 0, 24 and 47 (files 1, 3, 4: the loader's error); file 2 is read only when
    dask computes the reduction (the pipeline's error)."""
    paths = _monthly_series(tmp_path, years=4)
    _damage_step(paths[damaged], 5)
    source = Source("M", "dgvm", "test.M", {"rh": Var("rh", "kg m-2 s-1")}, "test", files={"rh": paths})
    failures = Failures()
    native = SimpleNamespace(land_mask=None, vegclass=None, domain=None, twobox=False)
    assert pipeline._reduced(source, Path("."), grid.common_grid(10.0), native, None, (2000, 2003), failures) is None
    reason = failures.get("M")
    assert reason.startswith("cannot read data values"), reason
    others = [p for i, p in enumerate(paths) if i != damaged]
    assert f"file: {paths[damaged]};" in reason and not any(str(p) in reason for p in others), reason
    assert "variable: rh" in reason and "copy or download it again" in reason


def test_an_intact_series_whose_chunked_read_fails_elsewhere_still_names_the_sources_files(tmp_path, monkeypatch):
    """When every file reads again (the failure was not in a file), the error names the source's files
    as before, not a file that is fine."""
    paths = _monthly_series(tmp_path)
    source = Source("M", "dgvm", "test.M", {"rh": Var("rh", "kg m-2 s-1")}, "test", files={"rh": paths})
    error = pipeline._damaged_values(source, Path("."), RuntimeError("NetCDF: HDF error"))
    assert isinstance(error, DataError) and error.file == str(paths[0]) and error.found is None, str(error)


def test_the_in_memory_path_still_reads_an_intact_series(tmp_path):
    """The locator runs on errors only: an intact series reads the same in memory and through dask."""
    paths = _monthly_series(tmp_path)
    source = Source("M", "dgvm", "test.M", {"rh": Var("rh", "kg m-2 s-1")}, "test")
    eager = loader.open_variable(source, "rh", paths, annual=True, in_memory=True)
    lazy = loader.open_variable(source, "rh", paths, annual=True)
    np.testing.assert_array_equal(eager.values, lazy.values)


# --- A11-2: decompressed .nc.gz copies are named by content: a moved workspace reuses them ------


def test_a_ci_workspace_that_moves_between_jobs_reuses_the_decompressed_copy(
    tmp_path,
    monkeypatch,
    inflations,  # noqa: F811  (the fixture)
):
    """Known-open (Review 7): copies were named by the source's resolved path, so a CI whose workspace
    path changes each job (/builds/job-101/data/rh.nc.gz, then job-102) decompressed again each job and
    left one more full-size copy in the cache each time."""
    import shutil

    from rhbench.readers import gunzip

    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    first = tmp_path / "job-101" / "data" / "rh.nc.gz"
    first.parent.mkdir(parents=True)
    plain = _packed(first, np.arange(6.0))
    copy = gunzip.decompressed(first)
    for job in (102, 103):  # the next jobs: the workspace checked out afresh under a new path
        moved = tmp_path / f"job-{job}" / "data" / "rh.nc.gz"
        shutil.copytree(first.parent, moved.parent)
        assert gunzip.decompressed(moved) == copy and copy.read_bytes() == plain
        shutil.rmtree(first.parent.parent)
        first = moved
    folder = tmp_path / "cache" / gunzip.FOLDER
    assert len(inflations) == 1, inflations
    assert sorted(p.name for p in folder.glob("*.nc")) == [copy.name]  # one copy, not one per path
    with xr.open_dataset(gunzip.decompressed(first)) as ds:
        np.testing.assert_array_equal(ds["rh"].values, np.arange(6.0))


def test_different_bytes_under_the_moved_path_are_decompressed_not_served_stale(
    tmp_path,
    monkeypatch,
    inflations,  # noqa: F811  (the fixture)
):
    """Content names: two files of the same name with different values never share a copy."""
    from rhbench.readers import gunzip

    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    a, b = tmp_path / "a" / "rh.nc.gz", tmp_path / "b" / "rh.nc.gz"
    for path, start in ((a, 0.0), (b, 10.0)):
        path.parent.mkdir()
        _packed(path, np.arange(start, start + 3))
    with xr.open_dataset(gunzip.decompressed(a)) as ds_a, xr.open_dataset(gunzip.decompressed(b)) as ds_b:
        np.testing.assert_array_equal(ds_a["rh"].values, [0.0, 1.0, 2.0])
        np.testing.assert_array_equal(ds_b["rh"].values, [10.0, 11.0, 12.0])
    assert len(inflations) == 2


def test_the_path_named_copy_of_the_previous_format_is_removed_and_a_users_file_kept(tmp_path, monkeypatch):
    """The format-2 copy (named by the source's path) of the same file would only take disk space."""
    import hashlib
    import json

    from rhbench.readers import gunzip

    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    packed = tmp_path / "rh.nc.gz"
    plain = _packed(packed, np.arange(4.0))
    folder = tmp_path / "cache" / gunzip.FOLDER
    folder.mkdir(parents=True)
    old = folder / f"v2-{hashlib.sha256(str(packed.resolve()).encode()).hexdigest()[:20]}.nc"
    old.write_bytes(plain)
    (folder / f"{old.name}.json").write_text(json.dumps({"format": 2}))
    mine = folder / "v2-mine.nc"
    mine.write_text("kept")
    copy = gunzip.decompressed(packed)
    assert copy.read_bytes() == plain and copy != old
    assert not old.exists() and not (folder / f"{old.name}.json").exists() and mine.read_text() == "kept"


# --- A11-3: the reference's csoil_years when no observed cSoil product has values --------------


def test_the_references_csoil_years_say_none_when_no_observed_csoil_has_values():
    """Known-open (Review 7): the reference's csoil map (all missing) was labelled 'no time axis
    (static)', a map of a static product; its tau_soil map took the Rh's years."""
    from types import SimpleNamespace

    from rhbench.metrics.fields import MapInputs
    from rhbench.metrics.map_years import NO_OBSERVED_CSOIL, STATIC

    empty = xr.DataArray(np.full((2, 3), np.nan), dims=("lat", "lon"))
    ref = SimpleNamespace(name="observations", rh_land=empty + 1, csoil=empty, rh_years="1982-2018", has_csoil=False)
    years = MapInputs.of_reference(ref, (1982, 2018)).years["observations"]
    assert years == {"rh": "1982-2018", "csoil": NO_OBSERVED_CSOIL, "tau_soil": NO_OBSERVED_CSOIL, "tau_veg": ""}
    assert STATIC not in years.values()


@pytest.mark.slow
def test_a_run_without_any_csoil_product_labels_the_references_csoil_map_truthfully(demo_root, tmp_path, monkeypatch):
    """The same through a real run (the reliability demo root without its cSoil products, SYNTHETIC)."""
    import os
    import shutil

    from conftest import RELIABILITY_MODELS

    from rhbench import catalog
    from rhbench.cli import main
    from rhbench.metrics.map_years import NO_OBSERVED_CSOIL
    from rhbench.registry import build_registry

    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "data"
    shutil.copytree(demo_root, root, copy_function=os.link)
    for source in build_registry().of_kind("csoil"):
        for relative in catalog.entry_for(source).files.values():
            (root / relative).unlink(missing_ok=True)
    config = tmp_path / "run.toml"
    lines = [f'data_root = "{root}"', "resolution = 4", "quick_upscaling = true", "n_draws = 10"]
    config.write_text("\n".join([*lines, f'models = ["{RELIABILITY_MODELS[0]}"]']) + "\n")
    assert main(["-q", "run", "--config", str(config), "--out", str(tmp_path / "out")]) == 0
    with xr.open_dataset(tmp_path / "out" / "results.nc", group="maps") as maps:
        ref = list(map(str, maps["source"].values)).index("observations")
        assert str(maps["tau_soil_years"].values[ref]) == NO_OBSERVED_CSOIL
        assert bool(maps["tau_soil"].isel(source=ref).isnull().all())
    with xr.open_dataset(tmp_path / "out" / "results.nc", group="zonal") as zonal:
        ref = list(map(str, zonal["source"].values)).index("observations")
        assert str(zonal["csoil_years"].values[ref]) == NO_OBSERVED_CSOIL
        assert bool(zonal["csoil"].isel(source=ref).isnull().all())


# --- A11-4: the stamps error tells ignored bounds from no bounds ------------------------------


def _year_end_stamped(path: Path, years: list[int], *, bounds_shift: float | None) -> Path:
    """Yearly rh stamped at the END of each year (1 January of the next, 'days since 1999-01-01',
    noleap), with CF bounds moved by ``bounds_shift`` days (-365: a year early, not containing their
    stamps), or without bounds (None). The file name states no years: no evidence but the bounds."""
    import cftime

    def day(y):
        return cftime.date2num(cftime.DatetimeNoLeap(y, 1, 1), "days since 1999-01-01", "noleap")

    stamps = np.array([day(y + 1) for y in years])
    values = np.full((len(years), 2, 2), 1e-9, "float32")
    time_attrs = {"units": "days since 1999-01-01", "calendar": "noleap"}
    data = {"rh": (("time", "lat", "lon"), values, {"units": "kg m-2 s-1"})}
    if bounds_shift is not None:
        time_attrs["bounds"] = "time_bnds"
        data["time_bnds"] = (("time", "nv"), np.array([[day(y), day(y + 1)] for y in years]) + bounds_shift)
    ds = xr.Dataset(data, coords={"time": ("time", stamps, time_attrs), "lat": [-45.0, 45.0], "lon": [-90.0, 90.0]})
    ds.to_netcdf(path)
    return path


@pytest.mark.parametrize("files", [1, 2], ids=["one file", "a series of two"])
def test_ambiguous_year_stamps_with_ignored_bounds_do_not_say_no_time_bounds(tmp_path, files):
    """Known-open (Review 7): such a file (or series) failed with 'yearly time stamps ... and no time
    bounds' and the fix 'time bounds (a CF bounds variable such as time_bnds)' though it has time_bnds."""
    from rhbench.errors import TimeAxisError

    years = [[2000, 2001, 2002, 2003]] if files == 1 else [[2000, 2001], [2002, 2003]]
    paths = [_year_end_stamped(tmp_path / f"rh_part{i}.nc", y, bounds_shift=-365.0) for i, y in enumerate(years)]
    source = Source("M", "dgvm", "test.M", {"rh": Var("rh", "kg m-2 s-1")}, "test")
    with pytest.raises(TimeAxisError, match="cannot tell whether each stamp starts its year") as info:
        loader.open_variable(source, "rh", paths if files > 1 else paths[0], annual=True)
    text = str(info.value)
    assert "no time bounds" not in text, text
    assert "time bounds time_bnds that do not contain them (ignored)" in text, text
    assert "time bounds that contain their stamps (time_bnds do not: correct or remove them)" in text, text


def test_ambiguous_year_stamps_without_bounds_still_say_no_time_bounds(tmp_path):
    """The wording for a file that has no bounds is unchanged (true of it)."""
    from rhbench.errors import TimeAxisError

    path = _year_end_stamped(tmp_path / "rh.nc", [2000, 2001, 2002], bounds_shift=None)
    source = Source("M", "dgvm", "test.M", {"rh": Var("rh", "kg m-2 s-1")}, "test")
    with pytest.raises(TimeAxisError, match="and no time bounds: cannot tell") as info:
        loader.open_variable(source, "rh", path, annual=True)
    assert "time bounds (a CF 'bounds' variable such as time_bnds)" in str(info.value)


# --- A11-5: the CMIP6 did-you-mean knows sub-experiment members (DCPP) ---------------------------


def _dcpp_folder(tmp_path: Path, starts: tuple[int, ...], experiments: tuple[str, ...] = ("dcppA-hindcast",)) -> Path:
    """CMOR-named rh files of CanESM5 hindcasts: member ``sYYYY-r1i1p1f1`` for each start year."""
    from tests.test_cmip6 import _write_cmor

    folder = tmp_path / "dcpp"
    folder.mkdir()
    lat, lon = np.array([-10.0, 10.0]), np.array([0.0, 180.0])
    for start in starts:
        for experiment in experiments:
            written = _write_cmor(folder, "rh", np.full((2, 2), 1e-8), lat, lon, years=(start + 1, start + 2))
            name = written.name.replace("TOY", "CanESM5").replace("historical", experiment)
            written.rename(folder / name.replace("r1i1p1f1", f"s{start}-r1i1p1f1"))
    return folder


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("CanESM5.r1i1p1f1", ["CanESM5.s1960-r1i1p1f1", "CanESM5.s1961-r1i1p1f1"]),  # the variant without its start
        ("canesm5.s1961-r1i1p1f1.dcppA-hindcast", ["CanESM5.s1961-r1i1p1f1"]),  # one experiment: named without it
        ("CanESM5.s1960", ["CanESM5.s1960-r1i1p1f1"]),  # the member cut at the sub-experiment
    ],
    ids=["variant", "with-experiment", "sub-experiment-only"],
)
def test_a_dcpp_member_is_suggested_for_the_names_a_user_types(tmp_path, typed, meant):
    """Known-open (session 8): before, 'CanESM5.r1i1p1f1' suggested ONE of the start years (difflib's
    closest, here s1961 for s1960 too), the name with its experiment suggested another model's member
    when one was close, and a member cut at its start year suggested nothing."""
    from rhbench import cmip6
    from rhbench.config import RunConfig
    from rhbench.errors import ConfigError
    from rhbench.registry import build_registry
    from rhbench.selection import check_models

    registry = build_registry()
    folder = _dcpp_folder(tmp_path, (1960, 1961))
    found = cmip6.register(registry, [folder])
    assert sorted(s.name for s in found) == ["CanESM5.s1960-r1i1p1f1", "CanESM5.s1961-r1i1p1f1"]
    with pytest.raises(ConfigError) as caught:
        check_models(RunConfig(models=(typed,), cmip6=(folder,)), registry, found)
    suggestion = " or ".join(repr(m) for m in meant)
    assert f"did you mean {suggestion} for {typed!r}?" in str(caught.value), str(caught.value)
    assert "sub_experiment-variant" in str(caught.value)


def test_a_dcpp_name_without_cmip6_folders_says_where_cmip6_models_come_from():
    """The CMIP6 pattern now knows sub-experiment members: 'CanESM5.s1960-r1i1p1f1' given without
    --cmip6 gets the advice a 'CanESM5.r1i1p1f1' gets (before: only the plugin advice)."""
    from rhbench.config import RunConfig
    from rhbench.errors import ConfigError
    from rhbench.registry import build_registry
    from rhbench.selection import check_models

    with pytest.raises(ConfigError) as caught:
        check_models(RunConfig(models=("CanESM5.s1960-r1i1p1f1",)), build_registry())
    assert "A CMIP6 model is found only through --cmip6 PATH" in str(caught.value)


def test_the_cmip6_suggestion_never_names_another_models_member():
    """With the experiment typed, a close spelling of ANOTHER source_id's member was suggested."""
    from rhbench.registry import close_names

    known = ["CanESM5.s1960-r1i1p1f1", "MIROC6.s1960-r1i1p1f1.dcppA-hindcast", "MIROC6.s1960-r1i1p1f1.dcppB-forecast"]
    assert close_names("CanESM5.s1960-r1i1p1f1.dcppA-hindcast", known) == ["CanESM5.s1960-r1i1p1f1"]
    assert close_names("MIROC6.r1i1p1f1", known) == known[1:]
