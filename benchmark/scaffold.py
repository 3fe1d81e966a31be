"""Scaffold an installable third-party plugin package (``rhbench new-plugin``).

The package registers its module in the ``rhbench`` entry-point group, ships its own
intake-2 catalog as package data (so a plain, non-editable ``pip install`` carries it),
and has a test that checks discovery and that files in the declared units load in
rhbench's canonical units. Nothing in rhbench changes when it is installed.

Layout for ``rhbench new-plugin dgvm MyModel``::

    rhbench-mymodel/
        pyproject.toml                          entry point: mymodel = "rhbench_mymodel"
        README.md                               the steps, from files to scorecard
        src/rhbench_mymodel/__init__.py         the plugin: declares the source
        src/rhbench_mymodel/catalogs/rhbench_mymodel.yaml   where the files are
        tests/conftest.py                       stops, saying why, if a folder named rhbench shadows rhbench
        tests/test_plugin.py
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

import yaml

from rhbench.errors import ConfigError, OutputExistsError
from rhbench.sources import KINDS, TRENDY_UNITS

#: Plugin types ``new-plugin`` makes, and the source kinds a dataset plugin may have.
PLUGIN_TYPES = ("dgvm", "dataset")
DATASET_KINDS = ("csoil", "clitter", "rh")
_DATASET_UNITS = {"cSoil": "kg C m-2", "cLitter": "kg C m-2", "rh": "g C m-2 yr-1"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


@dataclass(frozen=True)
class PluginNames:
    """The names derived from a source name (``MyModel-2.0``)."""

    source: str  # MyModel-2.0: the display name rhbench reports
    slug: str  # mymodel_2_0: the entry-point name
    module: str  # rhbench_mymodel_2_0: the import package, also the catalog's file stem
    distribution: str  # rhbench-mymodel-2-0: the pip distribution and folder name

    @classmethod
    def of(cls, name: str) -> PluginNames:
        """Derive the names; raise :class:`ConfigError` for an unusable source name."""
        if not _NAME.match(name or ""):
            raise ConfigError(
                "plugin name must start with a letter or digit and hold only letters, digits and . _ + -",
                found=repr(name),
                expected="e.g. MyModel",
            )
        slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
        return cls(name, slug, f"rhbench_{slug}", f"rhbench-{slug.replace('_', '-')}")


def _variables(plugin_type: str, kind: str) -> dict[str, str]:
    """Canonical variable -> declared units in the file."""
    if plugin_type == "dgvm":
        return dict(TRENDY_UNITS)
    (variable,) = KINDS[kind]
    return {variable: _DATASET_UNITS[variable]}


def _catalog(names: PluginNames, plugin_type: str, kind: str) -> str:
    """The intake-2 catalog YAML, in the format of rhbench's ``catalogs/trendy_v9.yaml``."""
    variables = _variables(plugin_type, kind)
    if plugin_type == "dgvm":
        files = {v: f"trendy_v9/{names.source}/{names.source}_S2_{v}.nc" for v in variables}
        extra = {"period": [1901, 2018], "experiment": "S2"}
    else:
        files = {v: f"obs/{kind}/{names.source}_{v}.nc" for v in variables}
        extra = {"period": None}
    first = next(iter(files.values()))
    entry = {
        "reader": "intake.readers.readers:XArrayDatasetReader",
        "output_instance": "xarray:Dataset",
        "kwargs": {"args": [f"{{data_root}}/{first}"], "open_local": True, "engine": "netcdf4"},
        "metadata": {
            "kind": "dgvm" if plugin_type == "dgvm" else kind,
            "citation": "EDIT: Author et al. YEAR, Journal volume, pages",
            "license": "EDIT: data licence",
            **extra,
            "url": "EDIT: https://doi.org/...",
            "files": files,
        },
        "user_parameters": {},
    }
    document = {
        "version": 2,
        "aliases": {},
        "metadata": {
            "description": f"rhbench catalog of {names.source}; paths are relative to the rhbench "
            "data root (--data-root / config data_root / RHBENCH_DATA)"
        },
        "user_parameters": {},
        "data": {},
        "entries": {names.source: entry},
    }
    header = (
        f"# intake 2 catalog of the {names.source} rhbench plugin. `files` are paths under the\n"
        "# data root, one per variable. Variable names and units are declared once, in the plugin.\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False, width=100)


_PLUGIN_DGVM = Template('''"""rhbench plugin: ${source} (a DGVM with TRENDY-style output).

Declares what ${source}'s files are; rhbench opens, checks, converts and benchmarks them.
Edit the citation, the variables the model provides, file-variable ``renames``, the
``units`` of the files where they are not TRENDY's (``kg m-2 s-1`` fluxes, ``kg m-2`` stocks)
and the file ``quirks`` (see ``rhbench.sources.QUIRKS``); file paths are in
``catalogs/${module}.yaml``.
"""

from dataclasses import replace
from pathlib import Path

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, trendy_dgvm

#: This package's catalog folder, shipped as package data.
CATALOG_DIR = Path(__file__).resolve().parent / "catalogs"


@hookimpl
def rhbench_sources() -> list[Source]:
    source = trendy_dgvm(
        "${source}",
        "EDIT: Author et al. YEAR, Journal volume, pages",
        variables=("rh", "npp", "cVeg", "cSoil", "cLitter", "fVegLitter"),
        quirks=(),  # documentation, detected in the files anyway; "litter_in_soil" (then drop cLitter) is read
        renames={},  # canonical name -> name in your files, e.g. {"cSoil": "SoilC"}
        units={},  # canonical name -> units in your files if not TRENDY's, e.g. {"rh": "g m-2 d-1"}
        catalog="${module}",
    )
    return [replace(source, catalog_dir=CATALOG_DIR)]
''')

_PLUGIN_DATASET = Template('''"""rhbench plugin: ${source} (an observation product of kind ${kind}).

Declares what ${source}'s file is; rhbench opens, checks, converts, and aggregates it to
the common grid. Edit the citation, the variable name and units as written in the file,
and the file ``quirks`` (see ``rhbench.sources.QUIRKS``); the file path is in
``catalogs/${module}.yaml``.
"""

from pathlib import Path

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var

#: This package's catalog folder, shipped as package data.
CATALOG_DIR = Path(__file__).resolve().parent / "catalogs"


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="${source}",
            kind="${kind}",
            catalog_entry="${module}.${source}",
            variables={"${variable}": Var("${variable}", "${units}")},
            citation="EDIT: Author et al. YEAR, Journal volume, pages",
            quirks=frozenset(),
            catalog_dir=CATALOG_DIR,
        )
    ]
''')

_PYPROJECT = Template("""[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "${distribution}"
version = "0.1.0"
description = "rhbench plugin: ${source}"
requires-python = ">=3.11"
dependencies = ["rhbench"]

[project.optional-dependencies]
test = ["pytest"]

# rhbench finds plugins through this entry-point group: nothing in rhbench changes.
[project.entry-points.rhbench]
${slug} = "${module}"

[tool.setuptools.packages.find]
where = ["src"]

# Ship the catalog YAML, so a plain (non-editable) pip install carries it.
[tool.setuptools.package-data]
${module} = ["catalogs/*.yaml"]

# The package is its own pytest root: `python -m pytest` here runs tests/, under no other project's settings.
[tool.pytest.ini_options]
testpaths = ["tests"]
""")

_CONFTEST = Template('''"""Stop at once, saying why, when `import rhbench` finds a folder, not the installed rhbench."""

import rhbench

if getattr(rhbench, "__file__", None) is None:  # a namespace package: a folder named rhbench on sys.path
    raise ImportError(
        f"'import rhbench' found the folder {', '.join(rhbench.__path__)}, not the installed rhbench: a folder "
        "named rhbench (a checkout of rhbench?) in the current folder shadows it, since `python -m pytest` puts "
        "the current folder first on sys.path; run the tests from inside the plugin folder: "
        "cd ${distribution} && python -m pytest"
    )
''')

_TEST = Template('''"""Checks of the ${source} rhbench plugin: discovery, catalog, and units of its files."""

import os
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from rhbench import catalog, grid, harmonize, units
from rhbench.demo.writer import write_field
from rhbench.registry import build_registry

NAME = "${source}"


def _source():
    registry = build_registry()
    assert NAME in registry.sources, [b.reason for b in registry.broken]
    return registry.sources[NAME]


def test_plugin_is_discovered_with_a_catalog_file_per_variable():
    source = _source()
    assert source.kind == "${kind}"
    assert set(catalog.entry_for(source).files) == set(source.variables)


def test_files_in_the_declared_conventions_load_in_canonical_units(tmp_path, monkeypatch):
    """A synthetic file per variable holding 1 (declared units) loads as the converted value."""
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    source = _source()
    files = catalog.entry_for(source).files
    target = grid.common_grid(30.0)
    years = np.arange(2000, 2002) if source.kind == "dgvm" else None
    for name, spec in source.variables.items():
        ones = xr.DataArray(np.ones((target.lat.size, target.lon.size)), dims=("lat", "lon"),
                            coords={"lat": target.lat, "lon": target.lon})
        data = ones.expand_dims(year=years) if years is not None else ones
        write_field(tmp_path / files[name], spec.file_name, data, spec.units,
                    quirks=source.quirks, years=years)
    loaded = harmonize.load_source(source, tmp_path, target).compute()
    for name, spec in source.variables.items():
        expected = units.conversion_factor(spec.units, units.canonical_units(name))
        if name == "cSoil" and "cLitter" in source.variables and not source.litter_in_soil:
            expected *= 2  # rhbench adds the separate litter pool to cSoil, once
        np.testing.assert_allclose(loaded[name].values, expected, rtol=1e-5)


REAL_ROOT = os.environ.get("RHBENCH_DATA")


@pytest.mark.skipif(not REAL_ROOT, reason="set RHBENCH_DATA to check the real files")
def test_real_files_load_with_plausible_values():
    source = _source()
    root = Path(REAL_ROOT)
    files = catalog.entry_for(source).files
    missing = [files[n] for n in source.variables if not catalog.resolve_file(root, files[n]).exists()]
    if missing:  # RHBENCH_DATA asks for the real files: one absent fails the model's CI, as it fails the run
        pytest.fail(f"files not under {root}: {missing}; put them there (a link works), fix their paths in "
                    "the catalog's files, or remove a variable the model does not write from the plugin")
    loaded = harmonize.load_source(source, root, grid.common_grid(0.5), period=(1982, 2018))
    for name in source.variables:
        assert bool(loaded[name].notnull().any()), f"{name} is all missing"
''')

_README = Template("""# ${distribution}: the ${source} plugin for rhbench

Adds ${source} to rhbench's benchmark without changing rhbench. rhbench finds it through
the `rhbench` entry point in `pyproject.toml`.

## Steps

1. Edit `src/${module}/__init__.py`: the citation, the variables ${source} provides,
   `renames` for variables named differently in your files, `units` where your files do not
   hold TRENDY's units, and the file quirks
   (`python -c "from rhbench.sources import QUIRKS; print(QUIRKS)"` lists them).
   A variable the model does not write (e.g. no `cLitter`): remove it from `variables` and
   from the catalog's `files`.
2. Edit `src/${module}/catalogs/${module}.yaml`: under `files`, the path of each
   variable's file relative to your data root (units are declared only in the plugin).
3. Install and check:

       pip install -e ./${distribution}   # editable: edits take effect without reinstalling
       rhbench plugins                 # lists ${source}
       RHBENCH_DATA=/path/to/data rhbench plugins   # "available" when the files are found
       cd ${distribution} && RHBENCH_DATA=/path/to/data python -m pytest   # its tests, run from here

   Run `python -m pytest` from inside this folder: from a folder holding a checkout named
   `rhbench`, `import rhbench` finds that folder instead (`tests/conftest.py` then says so).

4. Benchmark it: `rhbench run --data-root /path/to/data --models "${source}"`, or try it
   on the SYNTHETIC demo, which writes files for every installed DGVM plugin:

       rhbench demo --out demo-data --resolution 4
       cat > demo.toml <<EOF
       data_root = "demo-data"
       resolution = 4
       quick_upscaling = true
       models = ["${source}", "CLM5.0"]
       EOF
       rhbench run --config demo.toml --out demo-out

Results are in the output folder: `scorecard.json`, `scores.csv`, `index.html`.
""")


def scaffold_plugin(plugin_type: str, name: str, directory: Path, *, kind: str | None = None) -> Path:
    """Write a plugin package for source ``name`` into ``directory``; return its folder.

    Parameters
    ----------
    plugin_type: ``dgvm`` or ``dataset``.
    name: the source's display name (e.g. ``MyModel``).
    directory: parent folder; the package goes to ``directory / rhbench-<slug>``.
    kind: for a dataset: ``csoil`` (default), ``clitter`` or ``rh``.

    Raises
    ------
    ConfigError
        For an unknown plugin type or kind or an unusable name.
    OutputExistsError
        When the package folder already exists.
    """
    if plugin_type not in PLUGIN_TYPES:
        raise ConfigError("unknown plugin type", found=plugin_type, expected=list(PLUGIN_TYPES))
    kind = "dgvm" if plugin_type == "dgvm" else (kind or "csoil")
    if plugin_type == "dataset" and kind not in DATASET_KINDS:
        raise ConfigError("unknown dataset kind", found=kind, expected=list(DATASET_KINDS))
    names = PluginNames.of(name)
    root = Path(directory) / names.distribution
    if root.exists():
        raise OutputExistsError(
            "plugin folder already exists",
            file=str(root),
            hint="edit the package there, or give another parent folder with --dir (nothing is overwritten)",
        )
    values = {
        "source": names.source,
        "slug": names.slug,
        "module": names.module,
        "distribution": names.distribution,
        "kind": kind,
    }
    if plugin_type == "dataset":
        ((variable, declared),) = _variables(plugin_type, kind).items()
        values.update(variable=variable, units=declared)
    plugin = (_PLUGIN_DGVM if plugin_type == "dgvm" else _PLUGIN_DATASET).substitute(values)
    package = root / "src" / names.module
    contents = {
        root / "pyproject.toml": _PYPROJECT.substitute(values),
        root / "README.md": _README.substitute(values),
        package / "__init__.py": plugin,
        package / "catalogs" / f"{names.module}.yaml": _catalog(names, plugin_type, kind),
        root / "tests" / "conftest.py": _CONFTEST.substitute(values),
        root / "tests" / "test_plugin.py": _TEST.substitute(values),
    }
    for path, text in contents.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
