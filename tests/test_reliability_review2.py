"""Second review of the trust changes: each test failed before its fix (docs/trust-cases.md, R2 rows)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from rhbench import layout, loader, valuecheck
from rhbench.errors import CoordinateError, ValueRangeError
from rhbench.sources import Source, Var
from tests.conftest import shared_data_path


def _source(name: str = "M", variable: str = "rh", units: str = "kg m-2 s-1") -> Source:
    return Source(name=name, kind="dgvm", catalog_entry="x.y", variables={variable: Var(variable, units)}, citation="-")


def _float_rh_with_packing_attrs(path: Path) -> Path:
    """A float32 rh file carrying scale_factor=1, add_offset=0 (as every variable of the real
    Jian stack does), half its cells at -5e-8 kg m-2 s-1 (-1578 g C m-2 yr-1)."""
    import netCDF4

    with netCDF4.Dataset(path, "w") as nc:
        for dim, size in (("time", 3), ("lat", 18), ("lon", 36)):
            nc.createDimension(dim, size)
        time = nc.createVariable("time", "f8", ("time",))
        time[:], time.units, time.calendar = [15.0, 45.0, 74.0], "days since 2000-01-01", "noleap"
        nc.createVariable("lat", "f8", ("lat",))[:] = np.arange(18) * 10 - 85.0
        nc.createVariable("lon", "f8", ("lon",))[:] = np.arange(36) * 10 - 175.0
        var = nc.createVariable("rh", "f4", ("time", "lat", "lon"))
        var.scale_factor, var.add_offset, var.units = np.float32(1.0), np.float32(0.0), "kg m-2 s-1"
        values = np.full((3, 18, 36), 1e-8, "f4")
        values[:, :9, :] = -5e-8
        var[:] = values
    return path


def test_float_data_with_unit_scale_factor_attributes_is_not_treated_as_packed(tmp_path):
    """Review 2 item 1: any scale_factor/add_offset counted as integer packing with a step of 1,
    which switched off the negative check for float data: half the cells negative was accepted."""
    path = _float_rh_with_packing_attrs(tmp_path / "rh.nc")
    with pytest.raises(ValueRangeError) as info:
        loader.open_variable(_source("M"), "rh", path)
    assert "negative" in str(info.value) and "50.0%" in str(info.value) and "rh.nc" in str(info.value)
    with xr.open_dataset(path) as ds:
        assert layout.packing_step(ds["rh"]) is None
    with xr.open_dataset(path, mask_and_scale=False) as ds:
        assert layout.packing_step(ds["rh"]) is None


def _rh_year(path: Path, year: int, lat: np.ndarray, by_lat: np.ndarray) -> Path:
    """One year (360_day, 12 months) of rh (kg m-2 s-1) on 2 x 4 cells, valued by latitude row."""
    time = ("time", np.arange(12) * 30.0 + 15 + 360 * year, {"units": "days since 2000-01-01", "calendar": "360_day"})
    values = np.broadcast_to(by_lat[None, :, None], (12, lat.size, 4)).astype("f4")
    coords = {"time": time, "lat": lat, "lon": np.array([-135.0, -45.0, 45.0, 135.0])}
    xr.Dataset({"rh": (("time", "lat", "lon"), values, {"units": "kg m-2 s-1"})}, coords=coords).to_netcdf(path)
    return path


def test_a_period_file_stored_north_to_south_is_reordered_not_mirrored(tmp_path):
    """Review 2 item 2: the files of a series were joined with join="override": a second file
    stored north-to-south took the first file's labels, so its year was mirrored."""
    lat = np.array([-45.0, 45.0])
    first = _rh_year(tmp_path / "rh_2000.nc", 0, lat, np.array([1e-8, 5e-8]))  # south 1e-8, north 5e-8
    second = _rh_year(tmp_path / "rh_2001.nc", 1, lat[::-1], np.array([5e-8, 1e-8]))  # same field, north first
    data = loader.open_variable(_source(), "rh", [first, second], annual=True).load()
    per_year = 1e-8 * 1000 * 86400 * 365.25  # kg m-2 s-1 -> g C m-2 yr-1 for 1e-8
    south, north = data.sel(lat=-45.0).values, data.sel(lat=45.0).values
    np.testing.assert_allclose(south, per_year, rtol=1e-5)
    np.testing.assert_allclose(north, 5 * per_year, rtol=1e-5)


def test_a_period_file_on_a_half_cell_shifted_grid_is_refused_naming_both_files(tmp_path):
    """Review 2 item 2: a second file shifted by half a cell silently took the first's labels."""
    first = _rh_year(tmp_path / "rh_2000.nc", 0, np.array([-45.0, 45.0]), np.array([1e-8, 5e-8]))
    second = _rh_year(tmp_path / "rh_2001.nc", 1, np.array([0.0, 90.0]), np.array([1e-8, 5e-8]))
    with pytest.raises(CoordinateError) as info:
        loader.open_variable(_source(), "rh", [first, second], annual=True)
    message = str(info.value)
    assert "different grids" in message and "rh_2000.nc" in message and "rh_2001.nc" in message
    assert "lat differs by up to 45" in message


def test_int16_tas_packed_in_kelvin_is_read_in_degc(tmp_path):
    """Review 2 item 3: the packing step of offset units (K -> degC) is None, and ``None * 1``
    failed: int16 tas (scale 0.01, offset 273.15, K) was "cannot interpret file (TypeError ...)"."""
    import netCDF4

    path = tmp_path / "tas.nc"
    with netCDF4.Dataset(path, "w") as nc:
        for dim, size in (("time", 12), ("lat", 18), ("lon", 36)):
            nc.createDimension(dim, size)
        time = nc.createVariable("time", "f8", ("time",))
        time[:], time.units, time.calendar = np.arange(12) * 30 + 15.0, "days since 2000-01-01", "360_day"
        nc.createVariable("lat", "f8", ("lat",))[:] = np.arange(18) * 10 - 85.0
        nc.createVariable("lon", "f8", ("lon",))[:] = np.arange(36) * 10 - 175.0
        var = nc.createVariable("tas", "i2", ("time", "lat", "lon"))
        var.scale_factor, var.add_offset, var.units = 0.01, 273.15, "K"
        var[:] = 288.0
    data = loader.open_variable(_source("CLIM", "tas", "K"), "tas", path).load()
    assert data.attrs["units"] == "degC"
    np.testing.assert_allclose(data.values, 288.0 - 273.15, atol=0.006)  # half a packing step


def test_a_land_fraction_that_is_zero_everywhere_is_refused_naming_the_file():
    """Review 2 item 4: the all-zero exemption meant for a land-only grid's ocean fraction also
    covered sftlf: an all-zero sftlf gave zero land weights and failed later without naming it."""
    with pytest.raises(ValueRangeError) as info:
        valuecheck.check_values(np.zeros(50), "sftlf", source="M", file="sftlf_fx.nc")
    message = str(info.value)
    assert "sftlf_fx.nc" in message and "variable: sftlf" in message and "found: max 0 " in message
    assert "expected: some cells fully land" in message
    valuecheck.check_values(np.zeros(50), "oceanCoverFrac", source="M", file="ocean.nc")  # land-only grid
    valuecheck.check_values(np.array([0.0, 0.3, 1.0]), "sftlf", source="M", file="sftlf_fx.nc")


def _large_negative_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "a few large negative values" in r.getMessage()]


def test_a_few_large_real_negatives_are_warned_about_naming_share_and_minimum(caplog):
    """Review 2 item 6: 0.9 % of cells at -1000 g C m-2 yr-1 passed with no message (under the
    1 % refusal share). Now a warning naming file, variable, share and minimum; still accepted."""
    values = np.concatenate([np.full(9, -1000.0), np.linspace(300.0, 900.0, 991)])
    with caplog.at_level(logging.WARNING, logger="rhbench.valuecheck"):
        valuecheck.check_values(values, "rh", source="M", file="rh.nc")
    (message,) = _large_negative_warnings(caplog)
    assert "rh.nc" in message and "variable: rh" in message and "0.90% of values negative" in message
    assert "min -1000" in message
    caplog.clear()
    noise = np.concatenate([np.full(9, -5e-3), np.linspace(300.0, 900.0, 991)])  # solver noise
    with caplog.at_level(logging.WARNING, logger="rhbench.valuecheck"):
        valuecheck.check_values(noise, "rh", source="M", file="rh.nc")
    assert _large_negative_warnings(caplog) == []


@pytest.mark.shared_data
def test_real_access_gpp_noise_negatives_raise_no_warning(caplog):
    """Review 2 item 6: the real ACCESS-ESM1-5 gpp has -1.7e-13 kg m-2 s-1 on ~0.9 % of its
    cells: noise, neither refused nor warned about (checked on every time step, not a sample)."""
    path = shared_data_path("cmip6-sample", "gpp_Lmon_ACCESS-ESM1-5_historical_r1i1p1f1_gn_200001-201412.nc")
    source = _source("ACCESS-ESM1-5", "gpp", "kg m-2 s-1")
    with caplog.at_level(logging.WARNING, logger="rhbench.valuecheck"):
        data = loader.open_variable(source, "gpp", path).load()
        values = data.values.ravel()
        assert 0.005 < float(np.mean(values[np.isfinite(values)] < 0)) <= 0.01  # the noise is there
        valuecheck.check_values(values, "gpp", source="ACCESS-ESM1-5", file=str(path))
    assert _large_negative_warnings(caplog) == []


def test_an_ambiguous_variable_is_reported_as_a_problem_not_as_units(tmp_path):
    """Review 2 item 7: "ambiguous variable: RH, Rh ..." was put in ``found_units``, so
    ``rhbench data`` showed it as "file says <units>". It is now the row's ``problem``."""
    from rich.console import Console

    from rhbench.commands import data as data_command
    from rhbench.inventory import inventory
    from rhbench.registry import Registry

    path = tmp_path / "rh.nc"
    variables = {name: (("lat",), np.ones(2), {"units": "kg m-2 s-1"}) for name in ("RH", "Rh")}
    xr.Dataset(variables, coords={"lat": [0.0, 1.0]}).to_netcdf(path)
    source = Source(
        name="CASE",
        kind="esm",
        catalog_entry="x.y",
        variables={"rh": Var("rh", "kg m-2 s-1")},
        citation="-",
        files={"rh": [path]},
    )
    (row,) = inventory(Registry(sources={"CASE": source}), tmp_path, verify=False)
    assert row.problem == "ambiguous variable: RH, Rh differ only in case" and row.found_units is None
    assert row.to_dict()["problem"] == row.problem
    console = Console(width=300, record=True)
    console.print(data_command._table([row]))
    text = console.export_text()
    assert "PROBLEM: ambiguous variable: RH, Rh" in text and "file says" not in text
