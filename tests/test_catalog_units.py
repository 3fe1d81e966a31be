"""A source's units are declared once, by its plugin: a catalog that says otherwise is refused (issue 13)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rhbench import catalog, loader
from rhbench.errors import CatalogError
from rhbench.registry import build_registry
from rhbench.sources import Source, Var

CATALOG = """version: 2
aliases: {{}}
metadata: {{}}
user_parameters: {{}}
data: {{}}
entries:
  Tiny:
    reader: intake.readers.readers:XArrayDatasetReader
    output_instance: xarray:Dataset
    kwargs: {{args: ['{{data_root}}/tiny.nc']}}
    user_parameters: {{}}
    metadata:
      kind: rh
      files: {{rh: tiny.nc}}
{units}"""


def _source(tmp_path, units_block: str) -> Source:
    folder = tmp_path / "catalogs"
    folder.mkdir(exist_ok=True)
    (folder / "tiny.yaml").write_text(CATALOG.format(units=units_block))
    catalog._load_catalog.cache_clear()
    return Source("Tiny", "rh", "tiny.Tiny", {"rh": Var("rh", "g C m-2 d-1")}, "test", catalog_dir=folder)


def test_no_builtin_catalog_repeats_the_units_of_its_plugin():
    for source in build_registry().sources.values():
        assert "units" not in catalog.entry_for(source).metadata, source.name


def test_catalog_units_contradicting_the_plugin_are_refused(tmp_path):
    source = _source(tmp_path, "      units: {rh: kg m-2 s-1}\n")
    with pytest.raises(CatalogError, match="catalog units contradict the plugin") as info:
        catalog.entry_for(source)
    assert (info.value.found, info.value.expected, info.value.variable) == ("kg m-2 s-1", "g C m-2 d-1", "rh")


def test_catalog_units_equal_to_the_plugin_and_no_units_are_accepted(tmp_path):
    assert catalog.entry_for(_source(tmp_path, "      units: {rh: g C m-2 d-1}\n")).files == {"rh": "tiny.nc"}
    assert catalog.entry_for(_source(tmp_path, "")).files == {"rh": "tiny.nc"}


def test_a_file_without_units_is_read_in_the_plugins_declared_units(tmp_path):
    source = _source(tmp_path, "")
    lat, lon = np.arange(-88.0, 90.0, 4.0), np.arange(-178.0, 180.0, 4.0)
    values = np.full((lat.size, lon.size), 1.5, dtype="float32")  # g C m-2 d-1, no units attribute
    xr.Dataset({"rh": (("lat", "lon"), values)}, coords={"lat": lat, "lon": lon}).to_netcdf(tmp_path / "tiny.nc")
    rh = loader.open_variable(source, "rh", tmp_path / "tiny.nc").compute()
    assert float(rh.mean()) == pytest.approx(1.5 * 365.25, rel=1e-6)  # canonical g C m-2 yr-1
