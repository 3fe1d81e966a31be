"""The file's units attribute wins over the plugin's declared units when they are convertible,
and the log names file, variable and both units (README "Add a model", step 3)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from rhbench import loader, units
from rhbench.errors import UnitsError
from rhbench.sources import Source, Var


def _source(declared: str) -> Source:
    return Source(name="M", kind="dgvm", catalog_entry="x.y", variables={"cSoil": Var("cSoil", declared)}, citation="-")


def _csoil(path: Path, file_units: str, value: float) -> Path:
    """One year of cSoil on 2 x 4 cells, all ``value`` in ``file_units``."""
    time = ("time", [182.0], {"units": "days since 2000-01-01", "calendar": "noleap"})
    coords = {"time": time, "lat": np.array([-45.0, 45.0]), "lon": np.array([-135.0, -45.0, 45.0, 135.0])}
    data = np.full((1, 2, 4), value, "f4")
    xr.Dataset({"cSoil": (("time", "lat", "lon"), data, {"units": file_units})}, coords=coords).to_netcdf(path)
    return path


def test_convertible_file_units_win_over_the_declared_ones_and_the_log_names_both(tmp_path, caplog):
    path = _csoil(tmp_path / "csoil.nc", "g m-2", 12_000.0)  # 12 kg m-2 stored in g m-2
    with caplog.at_level(logging.WARNING, logger="rhbench.loader"):
        data = loader.open_variable(_source("kg m-2"), "cSoil", path).compute()
    expected = 12_000.0 * units.conversion_factor("g m-2", units.canonical_units("cSoil"))
    np.testing.assert_allclose(data.values, expected, rtol=1e-6)
    (record,) = [r for r in caplog.records if "declares" in r.getMessage()]
    message = record.getMessage()
    assert "csoil.nc" in message and "cSoil" in message and "'g m-2'" in message and "'kg m-2'" in message


def test_file_units_equal_to_the_declared_ones_log_nothing(tmp_path, caplog):
    path = _csoil(tmp_path / "csoil.nc", "kg m-2", 12.0)
    with caplog.at_level(logging.WARNING, logger="rhbench.loader"):
        loader.open_variable(_source("kg m-2"), "cSoil", path).compute()
    assert not [r for r in caplog.records if "declares" in r.getMessage()]


def test_file_units_of_another_dimension_are_refused_naming_both(tmp_path):
    path = _csoil(tmp_path / "csoil.nc", "kg m-2 s-1", 1e-8)
    with pytest.raises(UnitsError, match="declared") as info:
        loader.open_variable(_source("kg m-2"), "cSoil", path)
    assert "csoil.nc" in str(info.value) and "kg m-2 s-1" in str(info.value)
