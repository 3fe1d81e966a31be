"""The Jian et al. 2020 predictor stack: (lon, lat) storage, north-to-south helper latitudes,
-9999 fills, scaled layers, product outputs never read; catalog units and pinned fetch."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import xarray as xr

from rhbench import catalog
from rhbench.fetch import download_spec
from rhbench.registry import build_registry
from rhbench.upscaling.inputs import open_predictors, stack_sources
from rhbench.upscaling.stack import grid_table, load_stack

NAME = "Jian2020-predictors"
LAYERS = ("MAT", "MAP", "Climate_type", "Percentage_AM", "Percentage_EcM", "Percentage_ErM", "Percentage_NM")
LAYERS += ("BMa", "BMb", "N_deposition", "BD", "Clay", "SOC", "EVI", "RC", "SD_RC", "CV_RC")


@pytest.fixture(scope="module")
def source():
    return build_registry().sources[NAME]


def tiny_file(path) -> None:
    """3 lon x 4 lat cells of 0.5 deg stored (lon, lat) like the real file, latitudes north
    to south in the helper variable ``latitude``; MAT = 10 * lon index + lat index (file
    order), so the orientation is checkable; cell (lon 2, lat 3) is -9999 everywhere."""
    lat = np.array([0.75, 0.25, -0.25, -0.75], dtype=np.float32)
    lon = np.array([-179.75, -179.25, -178.75], dtype=np.float32)
    i, j = np.meshgrid(np.arange(3), np.arange(4), indexing="ij")  # (lon, lat)
    values = {name: np.full((3, 4), 1.0, dtype=np.float32) for name in LAYERS}
    values["MAT"] = (10.0 * i + j).astype(np.float32)
    values["MAP"] = np.full((3, 4), 1200.0, np.float32)
    values["Climate_type"] = np.where(j < 2, 1.0, 6.0).astype(np.float32)
    values["BMa"][:] = 1180.0  # stored x10: 118 MgC ha-1 = 11.8 kg C m-2
    values["SOC"][:] = 28.0  # t ha-1 = 2.8 kg C m-2
    values["EVI"][:] = 4.8e-5  # stored x1e-4: EVI 0.48
    values["RC"][:] = 0.4
    for name in LAYERS:
        values[name][2, 3] = -9999.0
    ds = xr.Dataset(
        {name: (("lon", "lat"), data, {"Unit": "unitless"}) for name, data in values.items()},
    )
    ds["latitude"] = ("lat", lat)
    ds["longitude"] = ("lon", lon)
    ds.to_netcdf(path)


def test_stack_is_read_lat_ascending_with_fills_and_scales_repaired(tmp_path, source):
    path = tmp_path / "tiny.nc"
    tiny_file(path)
    stack = load_stack(source, path)
    assert stack.lat.tolist() == [-0.75, -0.25, 0.25, 0.75]
    assert stack.lon.tolist() == [-179.75, -179.25, -178.75]
    tas = stack.layers["tas"]
    # file lat index 0 is 0.75 N: MAT = 10 * lon index + 0 there
    assert float(tas.sel(lat=0.75, lon=-179.25)) == 10.0
    assert float(tas.sel(lat=-0.25, lon=-178.75)) == 22.0
    assert np.isnan(float(tas.sel(lat=-0.75, lon=-178.75)))  # the -9999 cell
    assert float(stack.layers["agb_carbon"].sel(lat=0.25, lon=-179.75)) == pytest.approx(11.8, rel=1e-6)
    assert float(stack.layers["soc_stock"].sel(lat=0.25, lon=-179.75)) == pytest.approx(2.8, rel=1e-6)
    assert float(stack.layers["evi"].sel(lat=0.25, lon=-179.75)) == pytest.approx(0.48, rel=1e-5)
    assert "RC" not in stack.layers and not any("RC" in c for c in stack.columns())
    assert stack.valid().sum() == 11
    assert stack.provenance["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert stack.categories["koppen"][1].startswith("A")
    table, ilat, ilon = grid_table(stack)
    assert len(table) == 11
    assert {"koppen_A", "koppen_Df", "abs_lat", "MAT", "BMa"} <= set(table.columns)
    row = np.nonzero((stack.lat[ilat] == 0.75) & (stack.lon[ilon] == -179.75))[0][0]
    assert table.loc[row, "koppen_A"] == 1.0 and table.loc[row, "abs_lat"] == 0.75


def test_a_predictors_file_is_recognised_by_its_variables(tmp_path):
    path = tmp_path / "tiny.nc"
    tiny_file(path)
    stack = open_predictors(build_registry(), path)
    assert stack.provenance["source"] == NAME


def test_the_plugin_declares_every_layer_units_once_and_never_rc(source):
    entry = catalog.entry_for(source)
    declared = {name: spec.units for name, spec in source.variables.items()}
    assert set(declared) == set(entry.files) and all(declared.values())
    assert "units" not in entry.metadata  # units are the plugin's fact alone
    names = {spec.file_name for spec in source.variables.values()}
    assert not names & {"RC", "SD_RC", "CV_RC"}
    assert set(entry.metadata["never_predictors"]) == {"RC", "SD_RC", "CV_RC"}
    assert source in stack_sources(build_registry())


def test_fetch_is_pinned_to_a_commit_with_the_published_checksum(source):
    spec = download_spec(source)
    assert spec.url == (
        "https://raw.githubusercontent.com/jinshijian/SoilRespirationPartitioning/"
        "c0072c04dea03dd5e2ad78d3896e4a41c1893e08/outputs/global_Rt_contribution_to_Rs2.nc"
    )
    assert spec.known_hash == "sha256:c67dafc42e6f77bd5574f058d84842698930bfe509228442bcec954bea18267c"
    assert spec.relative_path == "jian2020/global_Rt_contribution_to_Rs2.nc"
