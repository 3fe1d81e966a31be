"""CMIP6 files in CMOR conventions, native-grid totals with cell area x land fraction (issue 14).

Real files: ../shared/data/cmip6-sample (ACCESS-ESM1-5 historical, decimated to 10 deg;
it has gpp, not rh: the reader does not care which variable it reads). Constructed files:
a Gaussian grid, a 2.8 degree grid with coastal land fractions, period files with a gap.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rhbench import cmip6, grid, harmonize, landfrac, loader, reduce
from rhbench.errors import TimeAxisError
from rhbench.sources import Source, Var
from tests.conftest import shared_data_path

SAMPLE = "cmip6-sample"
GPP = "gpp_Lmon_ACCESS-ESM1-5_historical_r1i1p1f1_gn_200001-201412.nc"
FX = ("sftlf_fx_ACCESS-ESM1-5_historical_r1i1p1f1_gn.nc", "areacella_fx_ACCESS-ESM1-5_historical_r1i1p1f1_gn.nc")
SECONDS_PER_YEAR = 365.25 * 86400.0  # rhbench's yr (Julian year)
NAME = "ACCESS-ESM1-5.r1i1p1f1"


def _sample() -> Path:
    return shared_data_path(SAMPLE, GPP).parent


def _drs_tree(root: Path, sample: Path) -> Path:
    """The sample files linked into a CMIP6 DRS tree (with an older version of gpp too)."""
    base = root / "CMIP6" / "CMIP" / "CSIRO" / "ACCESS-ESM1-5" / "historical" / "r1i1p1f1"
    for table, variable, version, name in [
        ("Lmon", "gpp", "v20191115", GPP),
        ("Lmon", "gpp", "v20190101", GPP),
        ("fx", "sftlf", "v20191115", FX[0]),
        ("fx", "areacella", "v20191115", FX[1]),
    ]:
        folder = base / table / variable / "gn" / version
        folder.mkdir(parents=True)
        os.symlink(sample / name, folder / name)
    return root / "CMIP6"


# --- discovery ---------------------------------------------------------------------------


@pytest.mark.shared_data
def test_flat_folder_gives_one_source_per_model_and_member() -> None:
    (source,) = cmip6.discover(_sample(), variables=("gpp",))
    assert source.name == NAME
    assert set(source.variables) == {"gpp", "sftlf", "areacella"}
    assert source.files["gpp"] == (_sample() / GPP,)
    assert source.variables["sftlf"].units == "%"


@pytest.mark.shared_data
def test_drs_tree_gives_the_same_source_with_the_newest_version(tmp_path: Path) -> None:
    (source,) = cmip6.discover(_drs_tree(tmp_path, _sample()), variables=("gpp",))
    assert source.name == NAME
    (gpp,) = source.files["gpp"]
    assert "v20191115" in gpp.parts
    assert source.files["areacella"][0].name == FX[1]


@pytest.mark.shared_data
def test_an_intake_esm_catalog_lists_the_same_source(tmp_path: Path) -> None:
    drs = _drs_tree(tmp_path, _sample())
    rows = []
    for path in sorted(drs.rglob("*.nc")):
        facets = cmip6.parse(path)
        rows.append(
            {
                **{k: getattr(facets, k) for k in ("source_id", "experiment_id", "member_id")},
                "table_id": facets.table_id,
                "variable_id": facets.variable_id,
                "grid_label": facets.grid_label,
                "version": facets.version,
                "path": str(path.relative_to(tmp_path)),
            }
        )
    pd.DataFrame(rows).to_csv(tmp_path / "cmip6.csv", index=False)
    spec = {
        "esmcat_version": "0.1.0",
        "id": "test",
        "catalog_file": "cmip6.csv",
        "attributes": [{"column_name": c} for c in rows[0] if c != "path"],
        "assets": {"column_name": "path", "format": "netcdf"},
    }
    (tmp_path / "cmip6.json").write_text(json.dumps(spec))
    (source,) = cmip6.discover(tmp_path / "cmip6.json", variables=("gpp",))
    assert source.name == NAME
    assert "v20191115" in source.files["gpp"][0].parts


# --- reading -----------------------------------------------------------------------------


@pytest.mark.shared_data
def test_gpp_is_read_in_canonical_units_against_a_hand_calculation() -> None:
    (source,) = cmip6.discover(_sample(), variables=("gpp",))
    gpp = loader.open_variable(source, "gpp", source.files["gpp"], annual=True)
    raw = xr.open_dataset(_sample() / GPP, use_cftime=True)
    days = raw["time"].dt.days_in_month.values[:12].astype(float)  # proleptic_gregorian, year 2000
    kg_m2_s = raw["gpp"].isel(time=slice(0, 12)).sel(lat=20.0, lon=100.0).values.astype(float)
    expected = float((kg_m2_s * days).sum() / days.sum()) * 1000.0 * SECONDS_PER_YEAR
    assert gpp.attrs["units"] == "gC m-2 yr-1"
    assert float(gpp.sel(year=2000, lat=20.0, lon=100.0)) == pytest.approx(expected, rel=1e-5)
    np.testing.assert_array_equal(gpp["year"], np.arange(2000, 2015))


@pytest.mark.shared_data
def test_bounds_0_360_longitudes_and_scalar_height_are_handled() -> None:
    (source,) = cmip6.discover(_sample(), variables=("gpp",))
    gpp = loader.open_variable(source, "gpp", source.files["gpp"])
    np.testing.assert_array_equal(gpp.lon, np.arange(-180.0, 180.0, 10.0))
    assert gpp.dims == ("time", "lat", "lon")
    tas_source = Source("ACCESS tas", "predictors", "x.tas", {"tas": Var("tas", "K")}, "test")
    tas = loader.open_variable(tas_source, "tas", _sample() / GPP.replace("gpp_Lmon", "tas_Amon"), annual=True)
    assert tas.dims == ("year", "lat", "lon")
    assert -60.0 < float(tas.sel(year=2000).mean()) < 30.0  # K converted to degC


@pytest.mark.shared_data
def test_sftlf_in_percent_is_the_land_fraction_and_the_areacella_sum_is_reported(caplog) -> None:
    (source,) = cmip6.discover(_sample(), variables=("gpp",))
    with caplog.at_level(logging.WARNING, logger="rhbench.landfrac"):
        annual, cells = harmonize.load_native(source, None)
    raw = xr.open_dataset(_sample() / FX[0])
    np.testing.assert_allclose(
        cells.land.sel(lat=-30.0, lon=140.0), float(raw["sftlf"].sel(lat=-30.0, lon=140.0)) / 100
    )
    assert cells.origin == "areacella from the source; land fraction from the source"
    assert cells.area_sum_error == pytest.approx(-0.977, abs=0.002)
    assert any("2.3 % of the sphere" in r.message and FX[1] in r.message for r in caplog.records)


@pytest.mark.shared_data
@pytest.mark.parametrize("resolution", [0.5, 1.0, 2.0])
def test_global_total_is_the_native_sum_of_field_x_areacella_x_sftlf(resolution: float) -> None:
    (source,) = cmip6.discover(_sample(), variables=("gpp",))
    annual, cells = harmonize.load_native(source, None)
    products = reduce.reduce_native(annual, cells, grid.common_grid(resolution), (2000, 2014))
    files = {name: xr.open_dataset(_sample() / f) for name, f in zip(("sftlf", "areacella"), FX, strict=True)}
    gpp = annual["gpp"].sel(year=slice(2000, 2014)).astype("float64").mean("year").values
    lon = (files["areacella"]["lon"].values + 180.0) % 360.0 - 180.0
    order = np.argsort(lon)  # the loader rolls 0..360 longitudes into -180..180
    area = files["areacella"]["areacella"].values[:, order].astype("float64")
    land = files["sftlf"]["sftlf"].values[:, order].astype("float64") / 100.0
    expected = np.nansum(gpp * area * land) / 1e15  # Pg C yr-1 (about 2.5: decimated areas)
    assert float(products.regions["gpp_total"].sel(region="global")) == pytest.approx(expected, rel=1e-6)
    assert products.period.sizes["lat"] == round(180 / resolution)


# --- constructed grids -------------------------------------------------------------------


def _write_cmor(
    folder: Path,
    variable: str,
    values: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    *,
    years: tuple[int, int] = (2000, 2001),
    table: str = "Lmon",
    units: str = "kg m-2 s-1",
) -> Path:
    """A CMOR-named monthly (or fx) file with bounds, 0..360 longitudes and days since 1850."""
    coords = {"lat": ("lat", lat, {"bounds": "lat_bnds"}), "lon": ("lon", lon, {"bounds": "lon_bnds"})}
    if table == "fx":
        name = f"{variable}_fx_TOY_historical_r1i1p1f1_gn.nc"
        data = xr.DataArray(values, dims=("lat", "lon"), attrs={"units": units})
        ds = data.to_dataset(name=variable).assign_coords(coords)
    else:
        months = (years[1] - years[0] + 1) * 12
        time = np.array([(y - 1850) * 365 + 15 + 30.4 * m for y in range(years[0], years[1] + 1) for m in range(12)])
        data = xr.DataArray(
            np.broadcast_to(values, (months, *values.shape)), dims=("time", "lat", "lon"), attrs={"units": units}
        )
        ds = data.to_dataset(name=variable).assign_coords(
            time=("time", time, {"units": "days since 1850-01-01", "calendar": "noleap", "bounds": "time_bnds"}),
            **coords,
        )
        ds["time_bnds"] = (("time", "bnds"), np.stack([time - 15, time + 15], axis=1))
        name = f"{variable}_{table}_TOY_historical_r1i1p1f1_gn_{years[0]}01-{years[1]}12.nc"
    ds["lat_bnds"] = (("lat", "bnds"), np.stack([lat - 0.1, lat + 0.1], axis=1))
    ds.to_netcdf(folder / name)
    return folder / name


def _gaussian_lat(n: int) -> np.ndarray:
    nodes, _ = np.polynomial.legendre.leggauss(n)
    return np.rad2deg(np.arcsin(nodes))


def test_gaussian_grid_totals_are_native_and_invariant_to_the_common_grid(tmp_path: Path) -> None:
    lat, lon = _gaussian_lat(64), np.arange(0.0, 360.0, 2.8125)  # T42
    rng = np.random.default_rng(1)
    rh = rng.uniform(0.5, 1.5, (64, 128)) * 400.0 / 1000.0 / SECONDS_PER_YEAR  # about 400 g C m-2 yr-1
    land = np.clip(rng.uniform(-0.5, 1.5, (64, 128)), 0.0, 1.0) * 100.0
    _write_cmor(tmp_path, "rh", rh, lat, lon)
    _write_cmor(tmp_path, "sftlf", land, lat, lon, table="fx", units="%")
    (source,) = cmip6.discover(tmp_path)
    annual, cells = harmonize.load_native(source, None)
    assert cells.origin == "spherical cell areas; land fraction from the source"
    totals = [
        float(reduce.reduce_native(annual, cells, grid.common_grid(res), (2000, 2001)).regions["rh_total"][0])
        for res in (0.5, 1.0, 2.0)
    ]
    order = np.argsort((lon + 180.0) % 360.0 - 180.0)
    area = grid.cell_area(lat, np.sort((lon + 180.0) % 360.0 - 180.0)).values
    expected = float(np.sum(rh[:, order] * 1000.0 * SECONDS_PER_YEAR * area * land[:, order] / 100.0)) / 1e15
    np.testing.assert_allclose(totals, expected, rtol=1e-6)


def test_coastal_land_fractions_on_a_2p8_degree_grid_match_a_hand_calculation(tmp_path: Path) -> None:
    lat = np.array([-1.4, 1.4])  # two rows of 2.8 degree cells either side of the equator
    lon = np.array([0.0, 2.8, 5.6])
    grams = np.array([[300.0, 600.0, 900.0], [100.0, 200.0, 400.0]])
    fraction = np.array([[1.0, 0.3, 0.0], [0.5, 1.0, 0.25]])
    _write_cmor(tmp_path, "rh", grams / 1000.0 / SECONDS_PER_YEAR, lat, lon)
    _write_cmor(tmp_path, "sftlf", fraction * 100.0, lat, lon, table="fx", units="%")
    (source,) = cmip6.discover(tmp_path)
    annual, cells = harmonize.load_native(source, None)
    products = reduce.reduce_native(annual, cells, grid.common_grid(1.0), (2000, 2001))
    # by hand: each cell spans 2.8 degrees of longitude and 0..2.8 degrees of latitude (edges
    # half way between centres, the outer ones mirrored): A = R^2 dlon (sin 2.8 - sin 0)
    r = 6371007.181
    cell = r**2 * np.deg2rad(2.8) * np.sin(np.deg2rad(2.8))
    hand = cell * (300 * 1.0 + 600 * 0.3 + 900 * 0.0 + 100 * 0.5 + 200 * 1.0 + 400 * 0.25) / 1e15
    assert float(products.regions["rh_total"].sel(region="global")) == pytest.approx(hand, rel=1e-9)
    assert float(products.regions["coverage"].sel(region="global")) == pytest.approx(1.0)


def test_period_files_are_concatenated_and_a_gap_names_both_files(tmp_path: Path) -> None:
    lat, lon = np.array([-10.0, 10.0]), np.array([0.0, 180.0])
    value = np.full((2, 2), 400.0 / 1000.0 / SECONDS_PER_YEAR)
    first = _write_cmor(tmp_path, "rh", value, lat, lon, years=(2000, 2001))
    _write_cmor(tmp_path, "rh", value, lat, lon, years=(2002, 2003))
    (source,) = cmip6.discover(tmp_path)
    assert len(source.files["rh"]) == 2
    rh = loader.open_variable(source, "rh", source.files["rh"], annual=True)
    np.testing.assert_array_equal(rh["year"], [2000, 2001, 2002, 2003])
    np.testing.assert_allclose(rh.values, 400.0, rtol=1e-6)
    gap = tmp_path / "gap"
    gap.mkdir()
    os.symlink(first, gap / first.name)
    late = _write_cmor(gap, "rh", value, lat, lon, years=(2003, 2004))
    (broken,) = cmip6.discover(gap)
    with pytest.raises(TimeAxisError) as exc:
        loader.open_variable(broken, "rh", broken.files["rh"])
    message = str(exc.value)
    assert "gap between consecutive files" in message
    assert first.name in message and late.name in message
    assert "2001-12 then 2003-01" in message


def test_a_source_without_land_fraction_uses_the_documented_land_mask(tmp_path: Path) -> None:
    lat, lon = np.array([-45.0, 45.0]), np.array([-90.0, 90.0])
    _write_cmor(tmp_path, "rh", np.full((2, 2), 400.0 / 1000.0 / SECONDS_PER_YEAR), lat, lon)
    (source,) = cmip6.discover(tmp_path)
    mask_lat, mask_lon = np.arange(-89.75, 90, 0.5), np.arange(-179.75, 180, 0.5)
    mask = xr.DataArray(
        np.where(mask_lon[None, :] > 0, 1.0, 0.0) * np.ones((360, 1)),
        dims=("lat", "lon"),
        coords={"lat": mask_lat, "lon": mask_lon},
    )  # land only in the eastern hemisphere
    _, cells = harmonize.load_native(source, None, land_mask=mask)
    np.testing.assert_allclose(cells.land.values, [[0.0, 1.0], [0.0, 1.0]], atol=1e-12)
    assert "documented 0.5 degree land mask" in cells.origin
    assert landfrac.area_sum_error(cells.area) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.shared_data
def test_a_cmip6_folder_registers_its_models_as_sources_without_code() -> None:
    from rhbench.registry import build_registry

    registry = build_registry()
    before = set(registry.sources)
    added = cmip6.register(registry, [_sample()])
    assert [s.name for s in added] == []  # the sample has gpp only: no benchmark variable
    cmip6_sources = cmip6.discover(_sample(), variables=("gpp",))
    assert set(registry.sources) == before and cmip6_sources[0].kind == "dgvm"


def test_a_folder_with_rh_registers_source_id_dot_member(tmp_path: Path) -> None:
    from rhbench.registry import Registry

    lat, lon = np.array([-10.0, 10.0]), np.array([0.0, 180.0])
    _write_cmor(tmp_path, "rh", np.full((2, 2), 1e-8), lat, lon)
    registry = Registry()
    (source,) = cmip6.register(registry, [tmp_path])
    assert source.name == "TOY.r1i1p1f1" and registry.of_kind("dgvm") == [source]
    assert registry.packages["TOY.r1i1p1f1"].startswith("CMIP6 files")


@pytest.mark.shared_data
def test_the_documented_land_mask_is_the_real_0p5_degree_fractional_land() -> None:
    from rhbench.registry import build_registry

    root = shared_data_path("srdb", "fractional_land.0.5-deg.nc").parents[1]
    mask = harmonize.land_mask(build_registry().of_kind("landfrac"), root)
    assert mask.shape == (360, 720) and float(mask.min()) == 0.0 and float(mask.max()) == 1.0
    land_m2 = float((mask * grid.cell_area(mask.lat, mask.lon)).sum())
    assert land_m2 == pytest.approx(1.483e14, rel=1e-3)  # Earth's land area, about 149 million km2
    assert harmonize.land_mask(build_registry().of_kind("landfrac"), Path("/nonexistent")) is None


@pytest.mark.slow
def test_a_run_scores_a_cmip6_folder_with_only_rh_and_csoil_and_no_plugin(small_demo, tmp_path: Path) -> None:
    """Zero lines of code: a folder in the config; the model has rh and cSoil only (historical, to 2014)."""
    from rhbench.config import RunConfig
    from rhbench.pipeline import run
    from tests.conftest import SMALL_DEMO_RESOLUTION

    root, _ = small_demo
    folder = tmp_path / "cmip6"
    folder.mkdir()
    lat, lon = np.arange(-85.0, 90.0, 10.0), np.arange(0.0, 360.0, 10.0)
    rng = np.random.default_rng(3)
    grams = rng.uniform(200.0, 600.0, (lat.size, lon.size))
    land = np.clip(rng.uniform(-0.3, 1.3, (lat.size, lon.size)), 0.0, 1.0)
    _write_cmor(folder, "rh", grams / 1000.0 / SECONDS_PER_YEAR, lat, lon, years=(1982, 2014))
    _write_cmor(folder, "cSoil", np.full((lat.size, lon.size), 12.0), lat, lon, years=(1982, 2014), units="kg m-2")
    _write_cmor(folder, "sftlf", land * 100.0, lat, lon, table="fx", units="%")
    config = RunConfig(
        data_root=root,
        out=tmp_path / "out",
        resolution=SMALL_DEMO_RESOLUTION,
        quick_upscaling=True,
        n_draws=10,
        models=("TOY.r1i1p1f1",),
        cmip6=(folder,),
    )
    outcome = run(config)
    rows = {(r.metric, r.region): r for r in outcome.results.rows if r.source == "TOY.r1i1p1f1"}
    order = np.argsort((lon + 180.0) % 360.0 - 180.0)
    area = grid.cell_area(lat, np.sort((lon + 180.0) % 360.0 - 180.0)).values
    hand = float(np.sum(grams[:, order] * area * land[:, order])) / 1e15
    assert rows[("rh_global", "global")].status == "ok"
    assert rows[("rh_global", "global")].value == pytest.approx(hand, rel=1e-6)
    assert rows[("tau_soil_global", "global")].value == pytest.approx(
        12000.0 * float(np.sum(area * land)) / (hand * 1e15), rel=1e-6
    )
    assert rows[("period_coverage", "global")].reason == "years used: 1982-2014 (33 years)"
    assert rows[("cveg_global", "global")].status == "skipped"
    assert "no cVeg" in rows[("cveg_global", "global")].reason


def test_a_trendy_plugin_declares_its_ocean_fraction_and_totals_use_land_1_minus_ocean(tmp_path: Path) -> None:
    from dataclasses import replace

    from rhbench.sources import trendy_dgvm

    lat, lon = np.array([-45.0, 45.0]), np.array([-90.0, 90.0])
    rh = _write_cmor(tmp_path, "rh", np.full((2, 2), 400.0 / 1000.0 / SECONDS_PER_YEAR), lat, lon)
    ocean = np.array([[0.25, 1.0], [0.0, 0.5]])
    xr.Dataset({"oceanCoverFrac": (("lat", "lon"), ocean, {"units": "1"})}, coords={"lat": lat, "lon": lon}).to_netcdf(
        tmp_path / "ocean.nc"
    )
    source = trendy_dgvm("Toy", "test", variables=("rh", "oceanCoverFrac"))
    source = replace(source, files={"rh": (rh,), "oceanCoverFrac": (tmp_path / "ocean.nc",)})
    annual, cells = harmonize.load_native(source, None)
    assert cells.origin == "spherical cell areas; land fraction = 1 - ocean fraction from the source"
    np.testing.assert_allclose(cells.land.values, 1.0 - ocean)
    products = reduce.reduce_native(annual, cells, grid.common_grid(2.0), (2000, 2001))
    area = grid.cell_area(lat, lon).values
    expected = float(np.sum(400.0 * area * (1.0 - ocean))) / 1e15
    assert float(products.regions["rh_total"].sel(region="global")) == pytest.approx(expected, rel=1e-6)


def test_cmip6_sources_are_cached_keyed_on_every_period_file(tmp_path: Path) -> None:
    from rhbench import cache

    lat, lon = np.array([-10.0, 10.0]), np.array([0.0, 180.0])
    value = np.full((2, 2), 1e-8)
    _write_cmor(tmp_path, "rh", value, lat, lon, years=(2000, 2001))
    second = _write_cmor(tmp_path, "rh", value, lat, lon, years=(2002, 2003))
    (source,) = cmip6.discover(tmp_path)
    target = grid.common_grid(10.0)
    parts = reduce.partition({}, xr.DataArray(np.zeros((18, 36))))
    args = {"package": "cmip6", "target": target, "period": (2000, 2003), "parts": parts}
    key = cache.key_for(source, tmp_path, **args)
    assert key is not None and key == cache.key_for(source, tmp_path, **args)
    _write_cmor(tmp_path, "rh", value * 2, lat, lon, years=(2002, 2003))  # same name, new content
    assert second.exists() and cache.key_for(source, tmp_path, **args) != key


def test_run_json_records_the_checksum_of_every_cmip6_model_file(tmp_path: Path) -> None:
    """CMIP6 models have no catalog entry: run.json hashes their own files (one list per split variable)."""
    import hashlib

    from rhbench import provenance
    from rhbench.registry import Registry

    lat, lon = np.array([-10.0, 10.0]), np.array([0.0, 180.0])
    first = _write_cmor(tmp_path, "rh", np.full((2, 2), 1e-8), lat, lon, years=(2000, 2001))
    second = _write_cmor(tmp_path, "rh", np.full((2, 2), 1e-8), lat, lon, years=(2002, 2003))
    pools = _write_cmor(tmp_path, "cSoil", np.full((2, 2), 12.0), lat, lon, units="kg m-2")
    registry = Registry()
    cmip6.register(registry, [tmp_path])
    inputs = provenance.input_checksums(registry, tmp_path / "no-data-root")

    def sha(path: Path) -> str:
        return f"sha256:{hashlib.sha256(path.read_bytes()).hexdigest()}"

    assert inputs["TOY.r1i1p1f1"] == {"rh": [sha(first), sha(second)], "cSoil": sha(pools)}
