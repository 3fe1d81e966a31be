"""results.nc passes the IOOS compliance-checker's CF-1.8 suite: root group and every group.

CF checkers read only the root group of a netCDF-4 file, so each group is also copied
byte for byte (dimensions, variables, every attribute) into a flat file and checked.
"""

from __future__ import annotations

import json
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr
from compliance_checker.runner import CheckSuite, ComplianceChecker

from rhbench.report.cfnetcdf import VARIABLES, global_attributes, udunits, write_results_nc


def _cf_problems(path: Path, tmp_path: Path) -> list[str]:
    """Every error and warning message of compliance-checker's cf:1.8 test for ``path``."""
    CheckSuite.load_all_available_checkers()
    report = tmp_path / f"{path.stem}-cf.json"
    ComplianceChecker.run_checker(
        str(path), ["cf:1.8"], verbose=0, criteria="lenient", output_filename=str(report), output_format="json"
    )
    results = json.loads(report.read_text())["cf:1.8"]
    problems = []
    for priority in ("high_priorities", "medium_priorities", "low_priorities"):
        for check in results.get(priority, []):
            problems += [f"{check['name']}: {msg}" for msg in check.get("msgs", [])]
    return problems


def _flatten_group(source: Path, group: str, target: Path) -> Path:
    """Copy one group, with the root's global attributes, into a flat netCDF-4 file."""
    with netCDF4.Dataset(source) as src, netCDF4.Dataset(target, "w") as dst:
        dst.setncatts({name: src.getncattr(name) for name in src.ncattrs()})
        grp = src.groups[group]
        for name, dim in grp.dimensions.items():
            dst.createDimension(name, None if dim.isunlimited() else len(dim))
        for name, var in grp.variables.items():
            fill = var.getncattr("_FillValue") if "_FillValue" in var.ncattrs() else None
            out = dst.createVariable(name, var.datatype, var.dimensions, fill_value=fill)
            out.setncatts({a: var.getncattr(a) for a in var.ncattrs() if a != "_FillValue"})
            out[...] = var[...]
    return target


def _datasets() -> dict[str, xr.Dataset]:
    lat, lon, source = [-1.0, 1.0], [10.0, 12.0, 14.0], ["observations", "CLM5.0"]
    field = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    # long_names as the metric code leaves them today: copied from the reference Rh
    wrong = {"long_name": "soil heterotrophic respiration (RF ensemble mean)"}
    maps = xr.Dataset(
        {n: (("source", "lat", "lon"), field, wrong) for n in ("rh", "tau_soil", "rh_bias", "tau_bias", "attribution")},
        coords={"source": source, "lat": lat, "lon": lon, "kind": ("source", ["reference", "dgvm"])},
    )
    zonal = xr.Dataset(
        {
            n: (("source", "lat"), field[:, :, 0].astype(float), {"long_name": "grid cell area"})
            for n in ("rh", "csoil")
        },
        coords={"source": source, "lat": lat, "kind": ("source", ["reference", "dgvm"])},
    )
    years = np.arange(1901, 1904)
    twobox = xr.Dataset(
        {"dcTotal_constrained": (("region", "source", "year"), np.ones((1, 1, 3)), {"units": "Pg C"})},
        coords={"region": ["global"], "source": ["CLM5.0"], "year": years},
    )
    return {"maps": maps, "zonal": zonal, "twobox": twobox}


@pytest.fixture(scope="module")
def results_nc(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cf") / "results.nc"
    write_results_nc(path, _datasets(), synthetic=True)
    return path


def test_root_group_has_the_global_attributes_and_passes_the_cf_checker(results_nc, tmp_path):
    with netCDF4.Dataset(results_nc) as nc:
        attrs = {name: nc.getncattr(name) for name in nc.ncattrs()}
    assert attrs["Conventions"] == "CF-1.8" and attrs["synthetic"] == "true"
    assert {"title", "source", "history", "rhbench_version"} <= set(attrs)
    assert "SYNTHETIC" in attrs["title"]
    assert _cf_problems(results_nc, tmp_path) == []


@pytest.mark.parametrize("group", ["maps", "zonal", "twobox"])
def test_every_group_passes_the_cf_checker(results_nc, tmp_path, group):
    flat = _flatten_group(results_nc, group, tmp_path / f"{group}.nc")
    assert _cf_problems(flat, tmp_path) == []


def test_each_variable_gets_its_own_long_name_and_udunits_units(results_nc):
    maps = xr.open_dataset(results_nc, group="maps")
    long_names = {n: maps[n].attrs["long_name"] for n in maps.data_vars if not str(n).endswith("_bnds")}
    assert len(set(long_names.values())) == len(long_names), long_names
    assert maps["rh"].attrs["units"] == "g m-2 yr-1"
    assert maps["tau_soil"].attrs["units"] == "yr"
    assert list(maps["attribution"].attrs["flag_meanings"].split()) == ["rh_dominated", "csoil_dominated"]
    assert maps["lat"].attrs["units"] == "degrees_north" and maps["lon"].attrs["bounds"] == "lon_bnds"
    np.testing.assert_allclose(maps["lon_bnds"].values[0], [9.0, 11.0])
    zonal = xr.open_dataset(results_nc, group="zonal")
    assert "grid cell area" not in {zonal[n].attrs.get("long_name") for n in ("rh", "csoil")}
    assert zonal["csoil"].attrs["units"] == "kg m-2"


def test_the_checker_would_catch_a_coulomb_unit(tmp_path):
    """Guard: the checker in use really checks units, so a pass above means something."""
    bad = tmp_path / "bad.nc"
    xr.Dataset(
        {"rh": (("x",), [1.0], {"units": "bogus-unit", "long_name": "x"})}, attrs=global_attributes(synthetic=False)
    ).to_netcdf(bad)
    assert any("bogus-unit" in p for p in _cf_problems(bad, tmp_path))


def test_every_table_entry_has_a_long_name():
    assert all(attrs.get("long_name") for attrs in VARIABLES.values())


def test_the_demo_runs_results_nc_passes_the_cf_checker_in_every_group(small_demo_run, tmp_path):
    outcome, _ = small_demo_run
    path = outcome.out_dir / "results.nc"
    with netCDF4.Dataset(path) as nc:
        groups = {name: list(group.variables) for name, group in nc.groups.items()}
    assert {"maps", "zonal", "twobox"} <= set(groups)
    for group, names in groups.items():
        undocumented = [n for n in names if (group, n) not in VARIABLES and ("*", n) not in VARIABLES]
        assert set(undocumented) <= {"lat", "lon", "lat_bnds", "lon_bnds"}, f"{group}: add {undocumented} to VARIABLES"
    assert _cf_problems(path, tmp_path) == []
    for group in groups:
        assert _cf_problems(_flatten_group(path, group, tmp_path / f"{group}.nc"), tmp_path) == [], group


def test_rhbench_carbon_units_become_udunits():
    assert udunits("g C m-2 yr-1") == "g m-2 yr-1"
    assert udunits("kg C m-2") == "kg m-2" and udunits("Pg C") == "Pg" and udunits("degC") == "degC"
