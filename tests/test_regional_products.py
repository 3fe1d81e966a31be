"""A regional cSoil product (issue 15) changes the observed cSoil only as its catalog entry
says, end to end on the SYNTHETIC demo."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
import yaml

from rhbench.config import RunConfig
from rhbench.demo.writer import write_field
from rhbench.pipeline import run
from rhbench.registry import Registry, build_registry
from rhbench.sources import Source, Var
from tests.conftest import RELIABILITY_MODELS, SMALL_DEMO_RESOLUTION

FILE = "obs/csoil/Permafrost_cSoil.nc"
GLOBAL_PRODUCTS = {"Bloom2016", "HWSD", "Sanderman2017", "SoilGrids", "WISE30sec"}


def _catalog(folder, combine: str | None) -> None:
    metadata = {"kind": "csoil", "citation": "test", "files": {"cSoil": FILE}}  # units: the plugin's Var
    metadata |= {"domain": "regional", **({"combine": combine} if combine else {})}
    entry = {
        "reader": "intake.readers.readers:XArrayDatasetReader",
        "output_instance": "xarray:Dataset",
        "kwargs": {"args": ["{data_root}/" + FILE], "open_local": True, "engine": "netcdf4"},
        "metadata": metadata,
        "user_parameters": {},
    }
    document = {"version": 2, "aliases": {}, "metadata": {}, "user_parameters": {}, "data": {}}
    document["entries"] = {"Permafrost": entry}
    (folder / "regional.yaml").write_text(yaml.safe_dump(document))


def _run(demo_root, tmp_path, combine: str | None, name: str):
    keep = {n: s for n, s in build_registry().sources.items() if s.kind != "dgvm" or n == RELIABILITY_MODELS[0]}
    if combine != "absent":
        folder = tmp_path / f"catalog-{name}"
        folder.mkdir()
        _catalog(folder, combine)
        keep["Permafrost"] = Source(
            name="Permafrost",
            kind="csoil",
            catalog_entry="regional.Permafrost",
            variables={"cSoil": Var("cSoil", "kg C m-2")},
            citation="test",
            catalog_dir=folder,
        )
    config = RunConfig(
        data_root=demo_root, out=tmp_path / name, resolution=SMALL_DEMO_RESOLUTION, quick_upscaling=True, n_draws=3
    )
    outcome = run(config, registry=Registry(sources=keep))
    assert "Permafrost" not in outcome.failures, outcome.failures
    rows = {(r.source, r.metric): r.value for r in outcome.results.rows if r.region == "global" and r.status == "ok"}
    return outcome, rows


@pytest.mark.slow
def test_a_regional_product_is_used_only_as_its_catalog_entry_says(demo_root, tmp_path):
    grid = xr.open_dataset(demo_root / "obs/csoil/WISE30sec_cSoil.nc")
    lat = next(c for c in ("lat", "latitude") if c in grid.coords)
    lon = next(c for c in ("lon", "longitude") if c in grid.coords)
    lats, lons = np.sort(grid[lat].values), np.sort(grid[lon].values)
    lons = np.where(lons > 180, lons - 360, lons)
    lons.sort()
    north = xr.DataArray(
        np.where(lats[:, None] >= 60, 100.0, np.nan) * np.ones(lons.size),
        dims=("lat", "lon"),
        coords={"lat": lats, "lon": lons},
    )
    write_field(demo_root / FILE, "cSoil", north, "kg C m-2")
    _, baseline = _run(demo_root, tmp_path, "absent", "base")
    outcome, unused = _run(demo_root, tmp_path, None, "none")
    # without 'combine' the regional product is not part of the observation: same numbers
    for metric in ("csoil_global", "csoil_global_sd", "tau_soil_global", "tau_soil_global_sd"):
        assert unused[("observations", metric)] == pytest.approx(baseline[("observations", metric)], rel=1e-12)
    assert set(outcome.results.datasets["observations"]["product"].values) == GLOBAL_PRODUCTS
    outcome, replaced = _run(demo_root, tmp_path, "replace", "replace")
    csoil = outcome.results.datasets["observations"]["csoil"]
    inside = csoil["lat"] >= 60
    spread = csoil.std("product")
    # inside the footprint every product holds the regional value (plus the same litter): no spread
    assert float(spread.where(inside).max()) == pytest.approx(0.0, abs=1e-4)
    assert float(spread.where(~inside).max()) > 1.0
    assert replaced[("observations", "csoil_global")] > baseline[("observations", "csoil_global")]
    assert replaced[("observations", "csoil_global_sd")] < baseline[("observations", "csoil_global_sd")]
