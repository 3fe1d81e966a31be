"""Editable and regular installs both work (issue 17.1): import names, plugins and catalogs.

Each mode installs the checkout, without dependencies, into a fresh virtual environment
that sees the interpreter's own site-packages (where the dependencies are), then imports
``rhbench`` and ``rhbench.plugins.dgvms.clm5`` from a folder outside the checkout, builds
the plugin registry from the installed entry points and reads a catalog entry. A regular
install must run from ``site-packages``, an editable one from the checkout.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json
import rhbench, rhbench.plugins.dgvms.clm5
from rhbench import catalog
from rhbench.registry import build_registry
registry = build_registry()
clm5 = registry.sources["CLM5.0"]
print(json.dumps({
    "rhbench": rhbench.__file__,
    "clm5": rhbench.plugins.dgvms.clm5.__file__,
    "catalogs": sorted(p.name for p in catalog.BUILTIN_CATALOG_DIR.glob("*.yaml")),
    "dgvms": len(registry.of_kind("dgvm")),
    "broken": [b.name for b in registry.broken],
    "clm5_rh": catalog.entry_for(clm5).files["rh"],
}))
"""


def _base_python() -> str:
    """The interpreter whose site-packages hold the dependencies (the base of a virtualenv)."""
    return str(Path(sys.base_prefix) / "bin" / "python3")


@pytest.mark.slow
@pytest.mark.parametrize("editable", [False, True], ids=["regular", "editable"])
def test_installed_package_imports_plugins_and_finds_catalogs(tmp_path, editable):
    env_dir = tmp_path / "venv"
    done = subprocess.run(
        [_base_python(), "-m", "venv", "--system-site-packages", str(env_dir)], capture_output=True, text=True
    )
    if done.returncode != 0:  # base interpreter without venv support: build the env with this one
        venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    target = ["-e", str(ROOT)] if editable else [str(ROOT)]
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", *target],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    probe = subprocess.run([str(python), "-c", PROBE], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr[-3000:]
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    home = ROOT if editable else env_dir
    assert Path(found["rhbench"]).is_relative_to(home) and Path(found["clm5"]).is_relative_to(home)
    if editable:
        assert Path(found["rhbench"]) == ROOT / "benchmark" / "__init__.py"
        assert Path(found["clm5"]) == ROOT / "plugins" / "dgvms" / "clm5.py"
    assert {"trendy_v9.yaml", "obs_datasets.yaml"} <= set(found["catalogs"])
    assert found["dgvms"] == 17 and found["broken"] == []
    assert found["clm5_rh"] == "trendy_v9/CLM5.0/CLM5.0_S2_rh.nc"
