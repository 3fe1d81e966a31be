"""``rhbench new-plugin``: the scaffolded package, and (slow) a pip-installed one benchmarked end to end."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from rhbench import catalog
from rhbench.commands import new_plugin
from rhbench.errors import ConfigError, OutputExistsError
from rhbench.registry import load_module_plugin
from rhbench.scaffold import PluginNames, scaffold_plugin
from rhbench.sources import TRENDY_UNITS


def _import_plugin(root: Path, module: str):
    """Import a scaffolded plugin module from its source tree (no install)."""
    init = root / "src" / module / "__init__.py"
    spec = importlib.util.spec_from_file_location(module, init, submodule_search_locations=[str(init.parent)])
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    return plugin


def test_names_are_derived_from_the_source_name() -> None:
    assert PluginNames.of("MyModel-2.0") == PluginNames(
        "MyModel-2.0", "mymodel_2_0", "rhbench_mymodel_2_0", "rhbench-mymodel-2-0"
    )
    for bad in ("", "-lead", "has space", "a/b"):
        with pytest.raises(ConfigError, match="plugin name"):
            PluginNames.of(bad)


def test_dgvm_package_declares_entry_point_package_data_and_a_valid_source(tmp_path: Path) -> None:
    root = scaffold_plugin("dgvm", "MyModel-2.0", tmp_path)
    assert root == tmp_path / "rhbench-mymodel-2-0"
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    assert pyproject["project"]["entry-points"]["rhbench"] == {"mymodel_2_0": "rhbench_mymodel_2_0"}
    assert pyproject["tool"]["setuptools"]["package-data"] == {"rhbench_mymodel_2_0": ["catalogs/*.yaml"]}
    registry = load_module_plugin(_import_plugin(root, "rhbench_mymodel_2_0"))
    assert registry.broken == []
    source = registry.sources["MyModel-2.0"]
    assert (source.kind, source.catalog_entry) == ("dgvm", "rhbench_mymodel_2_0.MyModel-2.0")
    entry = catalog.entry_for(source)
    assert entry.catalog_file == root / "src" / "rhbench_mymodel_2_0" / "catalogs" / "rhbench_mymodel_2_0.yaml"
    assert entry.files["cSoil"] == "trendy_v9/MyModel-2.0/MyModel-2.0_S2_cSoil.nc"
    assert {k: v.units for k, v in source.variables.items()} == TRENDY_UNITS  # units: in the plugin, once
    assert "units" not in entry.metadata
    assert {p.name for p in root.rglob("*") if p.is_file()} == {
        "pyproject.toml",
        "README.md",
        "__init__.py",
        "rhbench_mymodel_2_0.yaml",
        "conftest.py",
        "test_plugin.py",
    }


@pytest.mark.parametrize(
    ("kind", "variable", "units"),
    [("csoil", "cSoil", "kg C m-2"), ("clitter", "cLitter", "kg C m-2"), ("rh", "rh", "g C m-2 yr-1")],
)
def test_dataset_package_declares_one_product_variable(tmp_path: Path, kind, variable, units) -> None:
    root = scaffold_plugin("dataset", "MySoilMap", tmp_path, kind=kind)
    source = load_module_plugin(_import_plugin(root, "rhbench_mysoilmap")).sources["MySoilMap"]
    assert source.kind == kind
    assert {k: (v.file_name, v.units) for k, v in source.variables.items()} == {variable: (variable, units)}
    assert catalog.entry_for(source).files == {variable: f"obs/{kind}/MySoilMap_{variable}.nc"}


def test_refuses_existing_folder_unknown_type_and_kind(tmp_path: Path) -> None:
    scaffold_plugin("dgvm", "Twice", tmp_path)
    with pytest.raises(OutputExistsError):
        scaffold_plugin("dgvm", "Twice", tmp_path)
    with pytest.raises(ConfigError, match="plugin type"):
        scaffold_plugin("model", "X", tmp_path)
    with pytest.raises(ConfigError, match="dataset kind"):
        scaffold_plugin("dataset", "X", tmp_path, kind="npp")


def test_new_plugin_command_writes_into_dir(tmp_path: Path) -> None:
    args = argparse.Namespace(type="dgvm", name="CmdModel", dir=tmp_path, kind="csoil")
    assert new_plugin.run(args) == 0
    assert (tmp_path / "rhbench-cmdmodel" / "src" / "rhbench_cmdmodel" / "__init__.py").is_file()


# --- slow: a pip-installed scaffold is discovered and benchmarked, with no change to rhbench ----

NAME = "ScaffoldTestModel"


def _rhbench(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rhbench.cli", "-q", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.mark.slow
def test_installed_scaffold_is_listed_and_benchmarked(tmp_path: Path) -> None:
    package = scaffold_plugin("dgvm", NAME, tmp_path)
    site = tmp_path / "site"  # a private install target: the shared interpreter is left untouched
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site), str(package)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert install.returncode == 0, install.stderr
    assert (site / "rhbench_scaffoldtestmodel" / "catalogs" / "rhbench_scaffoldtestmodel.yaml").is_file()
    env = {k: v for k, v in os.environ.items() if k != "RHBENCH_DATA"}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")])),
        RHBENCH_CACHE=str(tmp_path / "cache"),
    )

    listed = _rhbench(env, "plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    sources = {s["name"]: s for s in json.loads(listed.stdout)["sources"]}
    assert sources[NAME]["package"] == "rhbench-scaffoldtestmodel 0.1.0"
    assert sources[NAME]["kind"] == "dgvm"

    own_tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package / "tests")],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    assert own_tests.returncode == 0, own_tests.stdout[-2000:]
    assert "2 passed, 1 skipped" in own_tests.stdout

    demo = _rhbench(env, "demo", "--out", str(tmp_path / "data"), "--resolution", "4")
    assert demo.returncode == 0, demo.stderr
    config = tmp_path / "run.toml"
    config.write_text(
        f'data_root = "data"\nresolution = 4\nquick_upscaling = true\nn_draws = 10\nmodels = ["{NAME}", "CLM5.0"]\n'
    )
    run = _rhbench(env, "run", "--config", str(config), "--out", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr[-3000:]
    rows = json.loads((tmp_path / "out" / "scorecard.json").read_text())["rows"]
    ours = {r["metric"]: r for r in rows if r["source"] == NAME and r["region"] == "global"}
    assert {r["source"] for r in rows if r["kind"] == "dgvm"} >= {NAME, "CLM5.0"}
    # ilamb3's RMSE score needs time series in the reference too: skipped, with that reason
    assert all(r["status"] == "ok" for r in ours.values() if r["metric"] != "load" and "rmse_score" not in r["metric"])
    assert all("24 steps" in r["reason"] for r in ours.values() if "rmse_score" in r["metric"])
    truth = json.loads((tmp_path / "data" / "truth.json").read_text())["dgvm"][NAME]  # SYNTHETIC
    assert ours["rh_global"]["value"] == pytest.approx(truth["rh_global"], rel=1e-5)
    assert ours["tau_soil_global"]["value"] == pytest.approx(truth["tau_soil_global"], rel=1e-5)

    # the package's own check of real files (RHBENCH_DATA): passes on the demo's files, and
    # fails (not skips) when a declared variable's file is absent, naming it
    def own(data_root: Path) -> subprocess.CompletedProcess:
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package / "tests"), "-k", "real"]
        own_env = {**env, "RHBENCH_DATA": str(data_root)}
        return subprocess.run(argv, env=own_env, capture_output=True, text=True, timeout=240, cwd=tmp_path)

    assert "1 passed" in own(tmp_path / "data").stdout
    litter = next((tmp_path / "data").rglob(f"{NAME}_S2_cLitter.nc"))
    litter.unlink()
    missing = own(tmp_path / "data")
    assert missing.returncode == 1 and "1 failed" in missing.stdout
    assert "files not under" in missing.stdout and f"{NAME}_S2_cLitter.nc" in missing.stdout
