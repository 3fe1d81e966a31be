"""The command line's fixed cost: light commands import no heavy stage (issue 18.2).

``rhbench --help``, ``plugins``, ``check`` and ``fetch`` must import neither scikit-learn,
matplotlib, dask.distributed nor rioxarray: each command is run in a fresh interpreter and
the modules loaded at its end are inspected. (The wall time of ``rhbench --help`` is
measured by ``benchmarks/cli_startup.py``, not asserted here: timing tests are flaky.)
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rhbench.cli import COMMANDS, build_parser

HEAVY = ("sklearn", "matplotlib", "dask.distributed", "rioxarray", "rasterio")
_PROBE = """
import json, sys
from rhbench.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:  # --help exits through argparse
    code = exc.code
print(json.dumps({"code": code, "heavy": [m for m in %r if m in sys.modules]}))
"""


def _imports_of(*argv: str, cwd: Path, modules: tuple[str, ...] = HEAVY) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE % (modules,), *argv], capture_output=True, text=True, cwd=cwd, timeout=300
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _scorecard(path: Path) -> Path:
    row = {"source": "A", "kind": "dgvm", "metric": "rh_global", "region": "global", "units": "Pg C yr-1"}
    document = {
        "synthetic": True,
        "rhbench_version": "0.1.0",
        "meta": {"config": {"resolution": 2.0, "period": [1982, 2018], "reference": "RF-Rh", "demo": True}},
        "rows": [{**row, "value": 50.0, "status": "ok", "reason": ""}],
    }
    path.write_text(json.dumps(document))
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (("--help",), 0),
        (("plugins", "--json"), 0),
        (("check", "{cur}", "--baseline", "{base}"), 0),
        (("fetch", "no-such-source", "--dest", "{tmp}"), 2),
    ],
)
def test_light_commands_import_no_heavy_stage(tmp_path, argv, code):
    cur, base = _scorecard(tmp_path / "cur.json"), _scorecard(tmp_path / "base.json")
    argv = tuple(a.format(cur=cur, base=base, tmp=tmp_path) for a in argv)
    result = _imports_of(*argv, cwd=tmp_path)
    assert result["code"] == code
    assert result["heavy"] == []


def test_the_help_table_says_what_each_command_module_says():
    parser = build_parser()  # every command module loaded
    actions = next(a for a in parser._actions if a.dest == "command")
    helps = {choice.dest: choice.help for choice in actions._choices_actions}
    assert helps == {name: text for name, (_, text) in COMMANDS.items()}
    for module, _ in COMMANDS.values():
        assert callable(importlib.import_module(module).run)


@pytest.mark.slow
def test_a_run_on_netcdf_files_imports_no_raster_library(tmp_path):
    """Every netCDF open names its engine: without one xarray loads every installed backend to
    guess, and rioxarray's imports rasterio and boto3 (0.3-0.8 s of a run; the cell bounds'
    open did so until issue 18)."""
    from benchmarks.ilamb3_bench import write_config
    from benchmarks.ilamb3_data import write_files

    files = write_files(tmp_path / "data", 1, monthly=False, resolution=10.0)
    config = write_config(tmp_path / "case.toml", tmp_path / "data", list(files["models"]))
    config.write_text(config.read_text().replace("resolution = 0.5", "resolution = 10.0"))
    unused = ("cf_xarray", "intake", "scipy.sparse", "scipy.fftpack")  # issue 18: see rhbench.importcost
    argv = ("-q", "run", "--config", str(config), "--out", str(tmp_path / "out"))
    result = _imports_of(*argv, cwd=tmp_path, modules=HEAVY + unused)
    assert result["code"] == 0
    # the page draws with matplotlib; results.nc is written without dask.distributed's probe
    assert [m for m in result["heavy"] if m != "matplotlib"] == []
    assert (tmp_path / "out" / "index.html").is_file()
