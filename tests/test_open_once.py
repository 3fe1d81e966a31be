"""Session 10's cuts of per-file and fixed costs (issue 18): each test fails when its cut is undone.

Within a run (:mod:`rhbench.runscope`) each netCDF file read in memory is opened once (discovery's
header read, the loader's read, the cell bounds and the reference's header share one handle) and
each catalog path is resolved once. Timings are reported by the benchmark scripts
(``python -m benchmarks.alternate``), never asserted here.
"""

from __future__ import annotations

import errno
from collections import Counter
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr

from benchmarks import ilamb3_bench
from benchmarks.ilamb3_data import write_files
from rhbench import catalog, harmonize, landfrac, runscope
from rhbench.errors import DataError
from rhbench.readers import netcdf
from rhbench.sources import Source, Var


def _case(tmp_path: Path, n_models: int = 2) -> tuple[dict, Path, list[str]]:
    """The side by side's SYNTHETIC annual files (6 degree) and a run configuration on them."""
    files = write_files(tmp_path / "data", n_models, monthly=False, resolution=6.0)
    models = list(files["models"])
    return files, ilamb3_bench.write_config(tmp_path / "case.toml", tmp_path / "data", models), models


_OPENED: Counter = Counter()
_DATASET = netCDF4.Dataset


class _Counting(_DATASET):
    """Counts each ``netCDF4.Dataset`` constructed and returns a real one (an instance of a subclass
    upsets netCDF4). At module level: dask's tokenize pickles it by reference (a class pickled by
    value, as one defined in a function is, stopped being called after the first chunked open)."""

    def __new__(cls, filename, *args, **kwargs):
        _OPENED[str(filename)] += 1
        return _DATASET(filename, *args, **kwargs)


def _count_opens(monkeypatch) -> Counter:
    """Every ``netCDF4.Dataset`` constructed from now on (xarray's netCDF4 backend included), by file."""
    _OPENED.clear()
    monkeypatch.setattr(netCDF4, "Dataset", _Counting)
    return _OPENED


def test_a_run_opens_each_data_file_once(tmp_path, monkeypatch):
    """Before session 10 each model file was opened three times (its CMIP6 ``version`` attribute at
    discovery, the loader, its cell bounds) and the reference three times (the loader, its header,
    its cell bounds)."""
    files, config, models = _case(tmp_path)
    opened = _count_opens(monkeypatch)
    result = ilamb3_bench.confront({"config": str(config), "out": str(tmp_path / "out"), "models": models})
    assert "error" not in result, result
    data = [str(files["reference"]), *map(str, files["models"].values())]
    assert {path: opened[path] for path in data} == dict.fromkeys(data, 1), opened


def test_the_shared_handle_reads_what_a_fresh_open_reads(tmp_path):
    """The loader's in-memory read on the run's handle gives the dataset (values, attributes,
    encodings but the source name) that ``xarray.open_dataset`` of the file gives."""
    files, _, _ = _case(tmp_path, 1)
    path = Path(files["reference"])
    fresh = netcdf.open_file(path, variable="rh", raw_values=True, chunked=False).load()
    with runscope.scope() as scope:
        shared = netcdf.open_file(path, variable="rh", raw_values=True, chunked=False).load()
        shared.close()  # leaves the handle open for the run's other readers
        with netcdf.open_stored(path) as ds:
            assert ds.isopen() and "rh" in ds.variables
        assert scope.opened == {str(path): 1}
    xr.testing.assert_identical(fresh, shared)
    for name in fresh.variables:
        expected = {k: v for k, v in fresh[name].encoding.items() if k != "source"}
        assert {k: v for k, v in shared[name].encoding.items() if k != "source"} == expected, name


def test_a_file_rewritten_in_a_run_is_opened_afresh(tmp_path):
    """The handle is kept per file identity: a file replaced in the run is read as it is now."""
    path = tmp_path / "f.nc"
    xr.Dataset({"v": ("x", np.arange(3.0))}).to_netcdf(path)
    with runscope.scope() as scope:
        with netcdf.open_stored(path) as ds:
            assert ds["v"][:].tolist() == [0.0, 1.0, 2.0]
        xr.Dataset({"v": ("x", np.arange(4.0))}).to_netcdf(tmp_path / "g.nc")
        (tmp_path / "g.nc").replace(path)
        with netcdf.open_stored(path) as ds:
            assert ds["v"][:].tolist() == [0.0, 1.0, 2.0, 3.0]
        assert scope.opened == {str(path): 2}


def test_outside_a_run_every_open_is_closed(tmp_path, monkeypatch):
    """A listing, a test or a notebook opening a file outside a run keeps nothing open."""
    files, _, _ = _case(tmp_path, 1)
    handles = []
    real = netcdf._netcdf4
    monkeypatch.setattr(netcdf, "_netcdf4", lambda path: handles.append(real(path)) or handles[-1])
    with netcdf.open_stored(Path(files["reference"])):
        pass
    assert len(handles) == 1 and not handles[0].isopen()
    assert runscope.current() is None


def test_a_file_read_through_dask_is_opened_once_for_its_bounds_too(tmp_path, monkeypatch):
    """An observation product (read through dask, xarray's own file manager) offers its handle to the
    cell bounds' read: one open, where there were two before (as the demo's products had)."""
    files, _, _ = _case(tmp_path, 1)
    path = Path(files["reference"])
    opened = _count_opens(monkeypatch)
    source = Source("R", "rh", "t.none", {"rh": Var("rh", "g m-2 d-1")}, "test", files={"rh": (str(path),)})
    with runscope.scope():
        variables, cells = harmonize.load_native(source, None)
        assert variables["rh"].chunks is not None  # read through dask
        assert float(variables["rh"].sum()) > 0
    assert cells.origin and opened == {str(path): 1}, opened


def test_cell_bounds_from_the_shared_handle_equal_a_fresh_read(tmp_path):
    files, _, _ = _case(tmp_path, 1)
    path = Path(next(iter(files["models"].values())))
    like = xr.open_dataset(path, decode_times=False)["rh"]
    alone = landfrac.file_bounds(path, like)
    with runscope.scope():
        netcdf.open_file(path, variable="rh", raw_values=True, chunked=False).close()
        shared = landfrac.file_bounds(path, like)
    assert alone is not None and shared is not None
    for a, b in zip(alone, shared, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_run_resolves_each_catalog_path_once(tmp_path, monkeypatch):
    """The provenance resolves every source's files at the run's start (130 paths); the loaders
    used to resolve theirs again (the reference, the land fraction, the land cover: 7 more)."""
    _, config, models = _case(tmp_path, 1)
    resolved: Counter = Counter()
    real = catalog._resolved

    def counting(data_root, relative, *args):
        resolved[(str(data_root), relative)] += 1
        return real(data_root, relative, *args)

    monkeypatch.setattr(catalog, "_resolved", counting)
    result = ilamb3_bench.confront({"config": str(config), "out": str(tmp_path / "out"), "models": models})
    assert "error" not in result, result
    assert len(resolved) > 100 and set(resolved.values()) == {1}, [k for k, v in resolved.items() if v > 1]


def test_a_path_that_fails_to_resolve_fails_again_and_names_the_source(tmp_path):
    """Errors are not kept: each caller gets its own error naming its own source."""
    loop = tmp_path / "loop.nc"
    loop.symlink_to(loop)
    with runscope.scope():
        for name in ("A", "B"):
            with pytest.raises(Exception, match="looping symbolic link") as info:
                catalog.resolve_file(tmp_path, "loop.nc", source=name)
            assert info.value.source == name


def test_a_cmip6_file_without_a_drs_version_is_cited_with_its_attribute(tmp_path):
    """The ``version`` attribute read through the run's handle: the citation is as before."""
    from rhbench import cmip6

    path = tmp_path / "rh_Lmon_M_historical_r1i1p1f1_gn_198201-198212.nc"
    xr.Dataset({"rh": ("time", np.ones(2))}, attrs={"version": "v20200101"}).to_netcdf(path)
    with runscope.scope() as scope:
        (source,) = cmip6.discover(tmp_path)
        assert scope.opened == {str(path): 1}
    assert "version v20200101" in source.citation
    ref = Source("R", "rh", "t.none", {"rh": Var("rh", "1")}, "test", files={"rh": (str(path),)})
    assert harmonize.source_files(ref, None) == {"rh": [path]}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("periodic", [True, False])
def test_bounds_of_a_file_on_the_wanted_grid_are_taken_without_a_search(dtype, periodic, monkeypatch):
    """The usual case (the file's centres are the wanted ones, in order) skips the nearest-centre search,
    with the answer of the one-by-one search; the cases it must not take are searched as before."""
    from tests.test_speed_cuts import _aligned_one_by_one

    step = 0.5
    centres = np.arange(-180 + step / 2, 180, step).astype(dtype)
    if not periodic:
        centres = centres[: centres.size // 2] / 2
    bounds = np.stack([centres - step / 2, centres + step / 2], axis=1).astype(dtype)
    wanted = centres.astype(float)
    assert landfrac._in_wanted_order(centres, wanted, periodic)
    monkeypatch.setattr(landfrac, "_ALIGN_BLOCK", None)  # the search would fail: not reached
    got = landfrac._aligned(centres, bounds, wanted, periodic)
    np.testing.assert_array_equal(got, _aligned_one_by_one(centres, bounds, wanted, periodic))
    assert got.dtype == np.float64 and got is not bounds
    twice = np.array([1.0, 1.0, 2.0])  # two rows alike: the first is nearest to both
    wrapped = np.array([-180.0, 0.0, 180.0])  # -180 and 180 are one longitude
    for odd in (twice, wrapped, np.array([]), centres[::-1].astype(float)):
        assert not landfrac._in_wanted_order(odd, odd, True)


def test_a_builtin_catalog_is_parsed_by_one_process_and_read_back_by_the_next(tmp_path, monkeypatch):
    """The first process to read a built-in catalog keeps its parse (marshal) under the catalog's
    SHA-256; the next reads it back (no YAML parse), equal to ``yaml.safe_load`` of the file. A kept
    file that is damaged, or a catalog whose bytes changed, is parsed again."""
    import yaml

    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path))
    parses = []
    real = catalog._safe_yaml
    monkeypatch.setattr(catalog, "_safe_yaml", lambda stream, kind: parses.append(stream.name) or real(stream, kind))
    path = catalog.BUILTIN_CATALOG_DIR / "obs_datasets.yaml"
    expected = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries = {name: (entry or {}).get("metadata") for name, entry in expected["entries"].items()}
    for round_, parsed in ((1, 1), (2, 1)):  # a new process each round: the in-process cache cleared
        catalog._load_catalog.cache_clear()
        assert catalog._load_catalog(path) == entries, round_
        assert len(parses) == parsed, round_
    (kept,) = (tmp_path / "catalogs").iterdir()
    assert kept.name.startswith(catalog.hashlib.sha256(path.read_bytes()).hexdigest())
    kept.write_bytes(b"\x00damaged")
    catalog._load_catalog.cache_clear()
    assert catalog._load_catalog(path) == entries and len(parses) == 2
    catalog._load_catalog.cache_clear()
    assert catalog._load_catalog(path) == entries and len(parses) == 2  # written again when damaged
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "file"))
    (tmp_path / "file").write_text("not a folder")
    catalog._load_catalog.cache_clear()
    assert catalog._load_catalog(path) == entries and len(parses) == 3  # no cache folder: parsed
    catalog._load_catalog.cache_clear()


@pytest.mark.parametrize("case", ["final", "inner", "dangling", "missing", "file", "linked"])
def test_a_link_loop_is_found_by_one_stat_as_path_resolve_finds_it(tmp_path, case):
    """The catalog's loop check (one ``os.stat``) refuses what ``Path.resolve`` refused, and only that."""
    (tmp_path / "real.nc").write_bytes(b"x")
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    (tmp_path / "self.nc").symlink_to(tmp_path / "self.nc")
    (tmp_path / "dangling.nc").symlink_to(tmp_path / "nowhere.nc")
    (tmp_path / "linked.nc").symlink_to(tmp_path / "real.nc")
    relative = {"final": "self.nc", "inner": "a/x.nc", "dangling": "dangling.nc", "missing": "none.nc"}.get(
        case, f"{'linked' if case == 'linked' else 'real'}.nc"
    )
    try:
        (tmp_path / relative).resolve()
        loops = False
    except RuntimeError:  # how Python 3.11's resolve says it
        loops = True
    except OSError as exc:  # newer Pythons
        loops = exc.errno == errno.ELOOP
    assert loops == (case in ("final", "inner"))
    if loops:
        with pytest.raises(DataError, match="looping symbolic link"):
            catalog.resolve_file(tmp_path, relative, source="S")
    else:
        assert catalog.resolve_file(tmp_path, relative, source="S") == tmp_path.resolve() / relative


def test_a_run_resolves_its_data_root_once_and_no_file_path(tmp_path, monkeypatch):
    """Within a run the data root is resolved once and each file's loop check is one ``os.stat``
    (it was a ``Path.resolve`` of the root and one of the file for each of ~130 paths)."""
    calls = []
    real = Path.resolve
    monkeypatch.setattr(Path, "resolve", lambda self, strict=False: calls.append(self) or real(self, strict))
    with runscope.scope():
        paths = [catalog.resolve_file(tmp_path, f"obs/f{i}.nc", source="S") for i in range(20)]
    assert calls == [tmp_path] and paths[3] == real(tmp_path) / "obs" / "f3.nc"


def test_a_run_locates_and_reads_each_catalog_file_once(tmp_path, monkeypatch):
    """Within a run each catalog file is located (resolved) and read for its SHA-256 once, however
    many entries are looked up (a registry, the provenance and the loaders look up ~80)."""
    from rhbench.registry import build_registry

    reads = Counter()
    real = catalog._digest
    monkeypatch.setattr(catalog, "_digest", lambda path: reads.update([path.name]) or real(path))
    with runscope.scope():
        built = build_registry()
        for _ in range(2):
            for source in built.sources.values():
                catalog.entry_for(source)
    assert len(reads) >= 2 and set(reads.values()) == {1}, reads


@pytest.mark.parametrize("sign", [1.0, -1.0, 0.0])
def test_the_value_check_sorts_positive_values_once(sign, monkeypatch, caplog):
    """All-positive samples (the usual flux or stock): their median is the magnitudes' median, taken
    once (it was sorted twice); with negatives both medians are taken, as before."""
    from rhbench import valuecheck

    rng = np.random.default_rng(3)
    sample = rng.random(5000) * 1e3 + 1.0
    sample[::7] = np.nan
    if sign < 0:
        sample[:50] = -sample[:50]  # 1 %: tolerated
    if sign == 0:
        sample[60:70] = 0.0
    calls = []
    real = np.median
    monkeypatch.setattr(valuecheck.np, "median", lambda a, *args, **kw: calls.append(1) or real(a, *args, **kw))
    with caplog.at_level("WARNING"):
        valuecheck.check_values(sample * 1e6, "rh", source="S", file="f.nc")  # a median of ~5e8: warned
    assert len(calls) == (2 if sign < 0 else 1)
    finite = sample[np.isfinite(sample)] * 1e6
    assert f"median {real(finite[finite != 0]):.4g}" in caplog.text
