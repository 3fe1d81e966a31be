"""A run's fixed cost (issue 18): modules third-party libraries import for features rhbench
never uses stay unimported, the built-in catalogs read without intake as intake reads them,
and the CF unit spellings of the own pint registry (cf_xarray's registry until issue 18)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from rhbench import catalog, importcost, units


def test_hidden_modules_raise_import_error_and_come_back():
    name = "rhbench_no_such_module_for_hidden"
    with importcost.hidden(name, "json"):
        with pytest.raises(ImportError):
            __import__(name)
        import json as again  # already imported: never hidden

        assert again is json
    assert name not in sys.modules
    assert sys.modules["json"] is json


def _fresh(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_kernels_import_dask_array_without_scipy_sparse_or_fft():
    result = _fresh(
        "import json, sys\n"
        "import rhbench.kernels\n"
        "before = [m for m in ('scipy.sparse', 'scipy.fftpack', 'cf_xarray', 'intake') if m in sys.modules]\n"
        "import scipy.sparse, scipy.fftpack\n"  # still importable by whoever needs them
        "print(json.dumps({'before': before, 'after': 'scipy.sparse' in sys.modules}))\n"
    )
    assert result == {"before": [], "after": True}


@pytest.mark.slow
def test_results_nc_written_without_importing_dask_distributed(tmp_path):
    result = _fresh(
        "import json, sys\n"
        "import xarray as xr\n"
        "from rhbench.report.cfnetcdf import write_results_nc\n"
        f"write_results_nc(__import__('pathlib').Path({str(tmp_path / 'r.nc')!r}),"
        " {'maps': xr.Dataset({'x': ('lat', [1.0, 2.0])}, coords={'lat': [0.0, 1.0]})}, synthetic=True)\n"
        "print(json.dumps({'distributed': 'dask.distributed' in sys.modules}))\n"
    )
    assert result == {"distributed": False}
    assert (tmp_path / "r.nc").is_file()


def test_no_distributed_probe_leaves_an_imported_distributed_alone():
    pytest.importorskip("dask.distributed", reason="dask.distributed not installed")
    module = sys.modules["dask.distributed"]
    with importcost.no_distributed_probe():
        assert sys.modules["dask.distributed"] is module


@pytest.mark.parametrize("path", sorted(catalog.BUILTIN_CATALOG_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_builtin_catalogs_read_alike(path):
    """The direct read of rhbench's own catalogs gives the metadata intake gives."""
    catalog._load_catalog.cache_clear()
    direct = catalog._load_catalog(path.resolve())
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert direct == catalog._intake_entries(document, path)
    assert len(direct) >= 1 and all(isinstance(m, dict) for m in direct.values())


@pytest.mark.parametrize(
    ("found", "target", "factor"),
    [
        ("kg m-2 s-1", "gC m-2 yr-1", 1000.0 * 365.25 * 86400.0),  # UDUNITS exponents, yr = 365.25 d
        ("g m-2 d-1", "gC m-2 yr-1", 365.25),  # d is a day
        ("%", "1", 0.01),
        ("percent", "1", 0.01),
        ("mm h-1", "mm yr-1", 24 * 365.25),  # h is an hour, not Planck's constant
        ("t C ha-1", "kgC m-2", 0.1),
        ("m2", "km2", 1e-6),
        ("degrees_north", "degrees", 1.0),
        ("degrees_east", "degree", 1.0),
        ("psu", "1", 1.0),
        ("gpm", "m", 1.0),
    ],
)
def test_cf_spellings_by_hand(found, target, factor):
    assert units.conversion_factor(found, target) == pytest.approx(factor, rel=1e-12)


@pytest.mark.parametrize("spelling", ["C", "deg_C", "Celsius", "degrees_Celsius", "degC"])
def test_celsius_spellings_are_offset_units(spelling):
    assert str(units.parse_units(spelling)) == "degree_Celsius"


def _collector_state(code: str) -> dict:
    """``code`` run in a fresh interpreter (the freeze must not reach this test process)."""
    return _fresh("import gc, json\nfrom rhbench.importcost import collector_paused\n" + code)


def test_collector_paused_while_importing_then_frozen_and_back_on():
    state = _collector_state(
        "frozen_before = gc.get_freeze_count()\n"
        "with collector_paused(freeze=True):\n"
        "    inside = gc.isenabled()\n"
        "    import xarray\n"
        "print(json.dumps({'inside': inside, 'after': gc.isenabled(), 'frozen_before': frozen_before,\n"
        "                  'frozen': gc.get_freeze_count()}))\n"
    )
    assert state["inside"] is False and state["after"] is True
    assert state["frozen_before"] == 0 and state["frozen"] > 50_000  # xarray's objects are in the permanent generation


def test_collector_paused_leaves_a_disabled_collector_disabled_even_on_error():
    state = _collector_state(
        "gc.disable()\n"
        "try:\n"
        "    with collector_paused(freeze=True):\n"
        "        raise ImportError('no such module')\n"
        "except ImportError:\n"
        "    pass\n"
        "print(json.dumps({'after': gc.isenabled(), 'frozen': gc.get_freeze_count()}))\n"
    )
    assert state["after"] is False and state["frozen"] > 0


@pytest.mark.slow
def test_rhbench_run_imports_with_the_collector_paused(tmp_path):
    """The run command's imports trigger no full collection (0.1-0.15 s of an annual run)."""
    code = (
        "import gc, json, sys\n"
        "full = []\n"
        "def count(phase, info):\n"
        "    full.extend([1] if phase == 'stop' and info['generation'] == 2 else [])\n"
        "gc.callbacks.append(count)\n"
        "from rhbench import cli\n"
        "from rhbench.commands import run\n"
        "from rhbench.report import workers\n"
        "cli._PROCESS_ENDS_AFTER_COMMAND = True\n"  # as rhbench.cli:console sets it
        "try:\n"
        "    run._run(None, workers)\n"  # fails at resolve(None) after the imports
        "except AttributeError:\n"
        "    pass\n"
        "print(json.dumps({'full': len(full), 'enabled': gc.isenabled(), 'frozen': gc.get_freeze_count(),\n"
        "                  'pipeline': 'rhbench.pipeline' in sys.modules}))\n"
    )
    state = _fresh(code)
    assert state["pipeline"] and state["enabled"] and state["frozen"] > 50_000
    assert state["full"] == 0


def test_without_freeze_the_collector_is_paused_only():
    state = _collector_state(
        "with collector_paused(freeze=False):\n"
        "    inside = gc.isenabled()\n"
        "    import xarray\n"
        "print(json.dumps({'inside': inside, 'after': gc.isenabled(), 'frozen': gc.get_freeze_count()}))\n"
    )
    assert state == {"inside": False, "after": True, "frozen": 0}


def test_main_called_from_python_never_freezes_the_callers_objects(tmp_path):
    """A library caller's garbage must stay collectable: ``main(["run", ...])`` pauses the
    collector around its imports but freezes nothing (only the console script does)."""
    state = _fresh(
        "import gc, json, weakref\n"
        "from rhbench.cli import main\n"
        "class Big:\n"
        "    pass\n"
        "garbage = Big(); garbage.me = garbage\n"
        "gone = weakref.ref(garbage)\n"
        "gc.collect()\n"  # alive: moved to the oldest generation
        "del garbage\n"  # now cyclic garbage a later collection must free
        f"code = main(['-q', 'run', '--config', {str(tmp_path / 'missing.toml')!r}])\n"
        "gc.collect()\n"
        "print(json.dumps({'code': code, 'frozen': gc.get_freeze_count(), 'freed': gone() is None}))\n"
    )
    assert state == {"code": 2, "frozen": 0, "freed": True}


def test_xarray_without_pint_builds_arrays_without_importing_pint_and_pint_stays_importable():
    state = _fresh(
        "import json, sys\n"
        "import numpy as np, xarray as xr\n"
        "from rhbench import importcost\n"
        "done = importcost.xarray_without_pint()\n"
        "ds = xr.Dataset({'a': (('x',), np.arange(3.0))}, coords={'x': [1, 2, 3]})\n"
        "total = float((ds['a'] * 2).sum())\n"
        "before = 'pint' in sys.modules\n"
        "import pint\n"  # rhbench.units imports it when its memo lacks an answer
        "again = importcost.xarray_without_pint()\n"
        "print(json.dumps({'done': done, 'total': total, 'pint_before': before, 'again': again,\n"
        "                  'quantity': pint.UnitRegistry().Quantity(2.0, 'm').to('cm').magnitude}))\n"
    )
    assert state == {"done": True, "total": 6.0, "pint_before": False, "again": False, "quantity": 200.0}


@pytest.mark.slow
def test_the_rhbench_command_runs_without_importing_pint_and_gives_the_same_scorecard(tmp_path):
    """With the unit memo warm (a first run wrote it), ``rhbench run`` (the console script)
    never imports pint; a run through ``main`` (which keeps xarray's pint check) writes the
    same score rows."""
    from benchmarks import ilamb3_bench
    from benchmarks.ilamb3_data import write_files

    files = write_files(tmp_path / "data", 1, monthly=False, resolution=6.0)
    config = ilamb3_bench.write_config(tmp_path / "annual-1.toml", tmp_path / "data", list(files["models"]))
    run = ["-q", "run", "--config", str(config), "--force"]
    library = _fresh(
        "import json, sys\n"
        "from rhbench.cli import main\n"
        f"code = main({[*run, '--out', str(tmp_path / 'library')]!r})\n"
        "print(json.dumps({'code': code, 'pint': 'pint' in sys.modules}))\n"
    )
    command = _fresh(
        "import atexit, json, sys\n"
        "atexit.register(lambda: print(json.dumps({'pint': 'pint' in sys.modules})))\n"  # runs last
        "from rhbench.cli import console\n"
        f"sys.argv = ['rhbench', *{[*run, '--out', str(tmp_path / 'command')]!r}]\n"
        "console()\n"
    )
    assert library == {"code": 0, "pint": True} and command == {"pint": False}
    rows = [json.loads((tmp_path / out / "scorecard.json").read_text())["rows"] for out in ("library", "command")]
    assert len(rows[0]) > 100
    assert json.dumps(rows[0], sort_keys=True) == json.dumps(rows[1], sort_keys=True)
