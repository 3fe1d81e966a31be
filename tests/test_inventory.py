"""``rhbench data``: per source the expected files, their variable and units, presence, hash, how to get them."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from rhbench import catalog
from rhbench.cli import build_parser, main
from rhbench.inventory import inventory
from rhbench.registry import build_registry

SHARED_SRDB = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "srdb" / "srdb-data.csv"


@pytest.fixture(scope="module")
def registry():
    return build_registry()


def _rows(registry, root: Path, **kwargs) -> dict[tuple[str, str], object]:
    return {(r.source, r.variable): r for r in inventory(registry, root, **kwargs)}


def test_every_variable_of_every_source_is_listed_with_its_full_path(registry, tmp_path: Path) -> None:
    rows = _rows(registry, tmp_path)
    expected = {(s.name, v) for s in registry.sources.values() for v in s.variables}
    assert set(rows) == expected
    hwsd = rows[("HWSD", "cSoil")]
    assert hwsd.path == str(tmp_path.resolve() / "ILAMB" / "DATA" / "cSoil" / "HWSD" / "soilc_0.5x0.5.nc")
    assert (hwsd.file_variable, hwsd.units, hwsd.present, hwsd.verified) == ("cSoil", "kg m-2", False, None)


def test_fetch_commands_are_exact_and_parse_and_unfetchable_sources_say_why(registry, tmp_path: Path) -> None:
    rows = _rows(registry, tmp_path, ilamb_root=tmp_path / "ilamb")
    hwsd = rows[("HWSD", "cSoil")]
    assert hwsd.fetchable
    argv = shlex.split(hwsd.get)
    assert argv[:3] == ["rhbench", "fetch", "HWSD"]
    args = build_parser().parse_args(argv[1:])
    assert (args.name, args.dest, args.ilamb_root) == ("HWSD", tmp_path, tmp_path / "ilamb")
    warner = rows[("Warner2019", "rh")]
    assert not warner.fetchable and "Earthdata login" in warner.get
    assert "TRENDY v9 data policy" in rows[("CLM5.0", "rh")].get


def test_unpinned_products_say_where_to_get_them_and_what_file_to_write(registry, tmp_path: Path) -> None:
    """Each unfetchable Rh/cSoil/cLitter product names its landing page, the file, variable and units to write."""
    rows = _rows(registry, tmp_path)
    products = [s for s in registry.sources.values() if s.kind in ("rh", "csoil", "clitter") and s.files is None]
    unpinned = [s for s in products if not rows[(s.name, next(iter(s.variables)))].fetchable]
    assert {s.name for s in unpinned} >= {"WISE30sec", "Bloom2016", "Hashimoto2015", "Tang2020", "Warner2019"}
    for source in unpinned:
        entry = catalog.entry_for(source)
        if entry.metadata.get("built_by"):
            continue
        for variable, spec in source.variables.items():
            get = rows[(source.name, variable)].get
            assert get.startswith("not fetchable: "), source.name
            assert entry.files[variable] in get, (source.name, "names the file to write")
            assert f"variable {spec.file_name}" in get or f"variable named {spec.file_name}" in get, source.name
            assert spec.units in get, (source.name, spec.units)
            assert "https://" in get or "doi:" in get, (source.name, "names the landing page")


def test_every_variable_of_a_pinned_multi_variable_file_is_fetchable(registry, tmp_path: Path) -> None:
    rows = [row for (source, _), row in _rows(registry, tmp_path).items() if source == "Jian2020-predictors"]
    assert len(rows) == 14 and len({row.path for row in rows}) == 1
    assert all(row.fetchable and row.get == f"rhbench fetch Jian2020-predictors --dest {tmp_path}" for row in rows)


def test_a_present_file_missing_its_variable_is_reported(registry, tmp_path: Path) -> None:
    path = tmp_path / "ILAMB" / "DATA" / "cSoil" / "HWSD" / "soilc_0.5x0.5.nc"
    path.parent.mkdir(parents=True)
    xr.Dataset({"SOC": (("lat",), np.ones(2), {"units": "t ha-1"})}, coords={"lat": [0.0, 1.0]}).to_netcdf(path)
    hwsd = _rows(registry, tmp_path)[("HWSD", "cSoil")]
    assert hwsd.present and hwsd.problem == "missing variable" and hwsd.found_units is None
    assert hwsd.verified is False  # not ILAMB's file: the sha1 pin does not match


@pytest.mark.shared_data
def test_the_real_srdb_file_is_verified_against_its_pin(registry, tmp_path: Path) -> None:
    if not SHARED_SRDB.is_file():
        pytest.skip(f"shared SRDB copy not found at {SHARED_SRDB}")
    target = tmp_path / "srdb" / "srdb-data.csv"
    target.parent.mkdir()
    shutil.copyfile(SHARED_SRDB, target)
    assert _rows(registry, tmp_path)[("SRDB-V5", "rh")].verified is True


def test_data_command_prints_json(tmp_path: Path, capsys) -> None:
    assert main(["-q", "data", "--data-root", str(tmp_path), "--json", "--no-verify"]) == 0
    listed = json.loads(capsys.readouterr().out)
    hwsd = next(r for r in listed if r["source"] == "HWSD")
    assert set(hwsd) >= {"path", "file_variable", "units", "present", "verified", "fetchable", "get"}


def test_data_command_without_a_root_is_a_usage_error(monkeypatch) -> None:
    monkeypatch.delenv("RHBENCH_DATA", raising=False)
    assert main(["-q", "data"]) == 2


def test_data_command_on_a_missing_root_says_it_does_not_exist(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nowhere"
    assert main(["data", "--data-root", str(missing), "--json", "--no-verify"]) == 0
    captured = capsys.readouterr()
    assert f"data root {missing} does not exist" in " ".join(captured.err.split())
    assert not any(row["present"] for row in json.loads(captured.out))


def test_a_link_loop_or_a_broken_link_is_one_row_not_the_end_of_the_listing(registry, tmp_path: Path) -> None:
    """A looping link for one source stopped ``rhbench data`` (exit 2, nothing listed); a link to
    a missing file said 'rhbench fetch ...', which refuses to replace the link."""
    csoil = tmp_path / "obs" / "csoil"
    csoil.mkdir(parents=True)
    (csoil / "SoilGrids_cSoil.nc").symlink_to("SoilGrids_cSoil.nc")  # loops onto itself
    (csoil / "SOCS_0_100cm_year_2010AD_10km.tif").symlink_to(tmp_path / "unmounted" / "socs.tif")
    rows = _rows(registry, tmp_path)
    assert set(rows) == {(s.name, v) for s in registry.sources.values() for v in s.variables}
    loop = rows[("SoilGrids", "cSoil")]
    assert not loop.present and "loop" in loop.get and "SoilGrids_cSoil.nc" in loop.path
    broken = rows[("Sanderman2017", "cSoil")]
    assert not broken.present and "unmounted" in broken.get and "rhbench fetch" not in broken.get
    assert main(["data", "--data-root", str(tmp_path), "--no-verify"]) == 0
