"""An existing ILAMB data folder serves as rhbench's observation root, as it is (tiny constructed trees)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from rhbench import catalog, loader
from rhbench.errors import CatalogError
from rhbench.registry import build_registry

HWSD_KEY = "cSoil/HWSD/soilc_0.5x0.5.nc"


def _ilamb_file(path: Path, name: str = "cSoil", units: str = "kg m-2") -> Path:
    """A small CF file as ILAMB publishes soil carbon: (lat, lon), -180..180, ascending latitudes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lat, lon = np.array([-0.25, 0.25]), np.array([-0.25, 0.25, 0.75])
    values = np.array([[10.0, 12.0, np.nan], [8.0, 9.0, 11.0]])
    xr.Dataset(
        {name: (("lat", "lon"), values, {"units": units, "long_name": "soil carbon"})},
        coords={"lat": ("lat", lat, {"units": "degrees_north"}), "lon": ("lon", lon, {"units": "degrees_east"})},
    ).to_netcdf(path)
    return path


@pytest.fixture(scope="module")
def hwsd():
    return build_registry().sources["HWSD"]


def test_a_classic_ilamb_root_is_used_without_copying(tmp_path: Path, hwsd) -> None:
    ilamb_root = tmp_path / "ILAMB_ROOT"
    placed = _ilamb_file(ilamb_root / "DATA" / HWSD_KEY)
    relative = catalog.entry_for(hwsd).files["cSoil"]
    found = catalog.resolve_file(tmp_path / "rhbench-data", relative, source="HWSD", ilamb_root=ilamb_root)
    assert found == placed.resolve()
    data = loader.open_variable(hwsd, "cSoil", found)
    assert float(data.sel(lat=0.25, lon=0.75)) == pytest.approx(11.0)


def test_an_ilamb3_style_root_without_data_folder_is_found_too(tmp_path: Path, hwsd) -> None:
    ilamb_root = tmp_path / "ilamb3-cache"
    placed = _ilamb_file(ilamb_root / HWSD_KEY, name="soilc")  # the alternate name older copies use
    relative = catalog.entry_for(hwsd).files["cSoil"]
    found = catalog.resolve_file(tmp_path, relative, source="HWSD", ilamb_root=ilamb_root)
    assert found == placed.resolve()
    data = loader.open_variable(hwsd, "cSoil", found)
    assert float(data.sel(lat=-0.25, lon=-0.25)) == pytest.approx(10.0)


def test_without_an_ilamb_root_ilamb_files_live_under_the_data_root(tmp_path: Path) -> None:
    found = catalog.resolve_file(tmp_path, f"ILAMB/DATA/{HWSD_KEY}", source="HWSD")
    assert found == (tmp_path / "ILAMB" / "DATA" / HWSD_KEY).resolve()


def test_an_ilamb_path_cannot_escape_the_ilamb_folder(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="escapes"):
        catalog.resolve_file(tmp_path, "ILAMB/DATA/../../../etc/passwd", source="X", ilamb_root=tmp_path / "i")


def test_a_runs_ilamb_root_setting_applies_inside_its_block_only(tmp_path: Path) -> None:
    ilamb_root = tmp_path / "ILAMB_ROOT"
    placed = _ilamb_file(ilamb_root / "DATA" / HWSD_KEY)
    with catalog.using_ilamb_root(ilamb_root):
        assert catalog.resolve_file(tmp_path / "data", f"ILAMB/DATA/{HWSD_KEY}") == placed.resolve()
    outside = catalog.resolve_file(tmp_path / "data", f"ILAMB/DATA/{HWSD_KEY}")
    assert outside == (tmp_path / "data" / "ILAMB" / "DATA" / HWSD_KEY).resolve()


def test_config_key_and_flag_set_the_ilamb_root_but_never_for_the_demo(tmp_path: Path) -> None:
    from rhbench.cli import build_parser
    from rhbench.config import load_config, resolve

    toml = tmp_path / "run.toml"
    toml.write_text('data_root = "data"\nilamb_root = "ilamb"\n')
    assert load_config(toml).ilamb_root == (tmp_path / "ilamb").resolve()
    args = build_parser().parse_args(["run", "--data-root", str(tmp_path), "--ilamb-root", str(tmp_path / "i2")])
    assert resolve(args).ilamb_root == (tmp_path / "i2").resolve()
    demo = build_parser().parse_args(["run", "--ilamb-root", str(tmp_path / "i2")])
    assert resolve(demo).demo and resolve(demo).ilamb_root is None
