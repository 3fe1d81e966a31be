"""Fourth adversarial audit (docs/trust-cases.md): hostile site tables and predictor files
given to the Rh upscaling. Each test failed before its fix."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from rhbench.errors import SiteDataError
from rhbench.upscaling.forest import zone_folds
from rhbench.upscaling.product import run_upscaling
from tests.test_upscaling_product import synthetic_grids, synthetic_srdb


@pytest.fixture(scope="module")
def grids():
    return synthetic_grids(res=4.0)


def test_a_table_emptied_by_the_filters_is_a_site_data_error_naming_the_step(tmp_path, grids):
    table = synthetic_srdb(grids, n=60).assign(Manipulation="Warmed")
    csv = tmp_path / "srdb.csv"
    table.to_csv(csv, index=False)
    with pytest.raises(SiteDataError) as err:
        run_upscaling(csv, tmp_path / "out", grids=grids, quick=True)
    text = str(err.value)
    assert str(csv) in text and "Rh_annual" in text
    assert "0 site(s) of 60 rows read" in text
    assert "no manipulation (Manipulation == 'None'): -60 -> 0" in text
    assert "at least 5 sites" in text


def test_fewer_sites_than_folds_is_a_site_data_error_not_a_sklearn_crash(tmp_path, grids):
    table = synthetic_srdb(grids, n=12)  # rows 0-4 are filtered out: 7 sites left, 10 folds
    csv = tmp_path / "srdb.csv"
    table.to_csv(csv, index=False)
    with pytest.raises(SiteDataError, match=r"7 site\(s\) of 12 rows read.*at least 10 sites"):
        run_upscaling(csv, tmp_path / "out", grids=grids, quick=False)


def test_a_zone_smaller_than_the_folds_is_named_in_a_warning(caplog):
    zones = np.array(["temperate"] * 20 + ["tropical"] * 3)
    with caplog.at_level(logging.WARNING, logger="rhbench.upscaling.forest"):
        folds = zone_folds(zones, 10, seed=0)
    assert sorted(set(folds)) == list(range(10))
    assert "{'tropical': 3}" in caplog.text


@pytest.mark.shared_data
def test_an_edited_copy_of_the_real_stack_or_land_fraction_is_never_labelled_real(tmp_path):
    import xarray as xr

    from rhbench.registry import build_registry
    from rhbench.upscaling import inputs
    from tests.conftest import shared_data_path

    registry = build_registry()
    srdb = shared_data_path("srdb", "srdb-data.csv")
    stack_file = shared_data_path("jian2020", "global_Rt_contribution_to_Rs2.nc")
    land = shared_data_path("srdb", "fractional_land.0.5-deg.nc")
    assert inputs.provenance(registry, srdb, None, [stack_file, land])["data_label"] == "REAL"
    # an unmarked grid that is not the pinned file (a regridded / flipped / edited copy): UNVERIFIED
    edited = tmp_path / "global_Rt_contribution_to_Rs2.nc"
    xr.Dataset({"MAT": (("lat", "lon"), np.ones((2, 2)))}).to_netcdf(edited)
    for files in ([edited, land], [stack_file, edited]):
        info = inputs.provenance(registry, srdb, None, files)
        assert info["data_label"] == "UNVERIFIED" and info["synthetic"] is False
        assert "global_Rt_contribution_to_Rs2.nc not a pinned release" in info["data_label_reason"]


def test_huge_rh_values_are_dropped_counted_and_cannot_blow_up_the_map(tmp_path, grids, caplog):
    # 40 of 200 rows at 1e6 g C m-2 yr-1 (a units slip): they inflate the SD so much that the
    # 6-SD step alone keeps them, and the map then totals thousands of Pg C yr-1
    table = synthetic_srdb(grids, n=200)
    table.loc[10:49, "Rh_annual"] = 1e6
    csv = tmp_path / "srdb.csv"
    table.to_csv(csv, index=False)
    with caplog.at_level(logging.WARNING, logger="rhbench.upscaling.srdb"):
        metrics = run_upscaling(csv, tmp_path / "out", grids=grids, quick=True)
    log = pd.read_csv(tmp_path / "out" / "filter_log.csv").set_index("step")
    assert log.loc["Rh_annual <= 10000 g C m-2 yr-1 (physical ceiling)", "removed"] == 40
    assert "40 row(s) with Rh_annual above 10000" in caplog.text and "data row 11: 1e+06" in caplog.text
    oof = pd.read_csv(tmp_path / "out" / "oof_predictions.csv")
    assert oof["observed"].max() < 2000.0
    assert metrics["rmse"] < 200.0


def test_a_land_fraction_covering_half_the_globe_is_refused_not_counted_as_sea():
    import xarray as xr

    from rhbench.errors import CoordinateError
    from rhbench.grid import cell_area
    from rhbench.upscaling.rhmap import land_area

    lat, lon = np.arange(-87.5, 90, 5.0), np.arange(-177.5, 180, 5.0)
    full = xr.DataArray(np.full((lat.size, lon.size), 0.5), dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    np.testing.assert_allclose(land_area(lat, lon, full).values, 0.5 * cell_area(lat, lon).values, rtol=1e-12)
    # before: the southern cells got fraction 0 and the global total halved, silently
    north = full.where(full.lat > 0, drop=True)
    with pytest.raises(CoordinateError, match=r"does not cover the predictor grid.*lat 0\.\.90.*18 grid centres"):
        land_area(lat, lon, north, source="my.nc")


def test_a_land_fraction_on_a_coarser_grid_is_matched_by_nearest_neighbour_with_a_warning(caplog):
    import xarray as xr

    from rhbench.grid import cell_area
    from rhbench.upscaling.rhmap import land_area

    lat, lon = np.arange(-88.75, 90, 2.5), np.arange(-178.75, 180, 2.5)
    coarse_lat, coarse_lon = np.arange(-87.5, 90, 5.0), np.arange(-177.5, 180, 5.0)
    frac = np.where(coarse_lat[:, None] > 0, 1.0, 0.25) * np.ones(coarse_lon.size)
    coarse = xr.DataArray(frac, dims=("lat", "lon"), coords={"lat": coarse_lat, "lon": coarse_lon})
    with caplog.at_level(logging.WARNING, logger="rhbench.upscaling.rhmap"):
        area = land_area(lat, lon, coarse, source="coarse.nc")
    expected = np.where(lat[:, None] > 0, 1.0, 0.25) * cell_area(lat, lon).values
    np.testing.assert_allclose(area.values, expected, rtol=1e-12)
    assert "coarse.nc is on another grid" in caplog.text


def test_force_never_replaces_a_users_file_of_an_output_name(tmp_path, grids):
    import argparse

    from rhbench.commands import upscale

    def run(out):
        parser = argparse.ArgumentParser()
        upscale.add_parser(parser.add_subparsers())
        argv = ["upscale", "--srdb", str(csv), "--out", str(out), "--quick", "--force"]
        return upscale.run(parser.parse_args(argv))

    csv = tmp_path / "srdb.csv"
    synthetic_srdb(grids, n=60).to_csv(csv, index=False)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "importance.csv").write_text("my own table\n")
    (mine / "notes.txt").write_text("mine\n")
    assert run(mine) == 2  # before: exit 0 and the user's importance.csv overwritten
    assert (mine / "importance.csv").read_text() == "my own table\n"
    assert sorted(p.name for p in mine.iterdir()) == ["importance.csv", "notes.txt"]
    (mine / "importance.csv").unlink()
    assert run(mine) == 0 and (mine / "notes.txt").read_text() == "mine\n"
    assert run(mine) == 0  # the folder of an earlier upscale: replaced with --force


def test_a_jian_stack_resaved_with_lat_lon_coordinates_reads_the_same(tmp_path):
    import xarray as xr

    from rhbench.registry import build_registry
    from rhbench.upscaling.inputs import open_predictors
    from tests.test_upscaling_stack import tiny_file

    quirky, proper = tmp_path / "quirky.nc", tmp_path / "proper.nc"
    tiny_file(quirky)
    with xr.open_dataset(quirky) as ds:  # helper variables made coordinates (e.g. re-saved by CDO)
        resaved = ds.load().set_coords(["latitude", "longitude"])
    resaved = resaved.assign_coords(lat=resaved["latitude"].values, lon=resaved["longitude"].values)
    resaved.drop_vars(["latitude", "longitude"]).to_netcdf(proper)
    registry = build_registry()
    a, b = open_predictors(registry, quirky), open_predictors(registry, proper)
    xr.testing.assert_identical(a.layers, b.layers)  # before: "No variable named 'latitude'"


def test_an_uncovering_land_fraction_fails_before_any_output_is_written(tmp_path, grids):
    from rhbench.errors import CoordinateError

    csv = tmp_path / "srdb.csv"
    synthetic_srdb(grids, n=60).to_csv(csv, index=False)
    north = xr_fraction(grids).where(grids.lat > 0, drop=True)
    with pytest.raises(CoordinateError):
        run_upscaling(csv, tmp_path / "out", grids=grids, land_fraction=north, land_fraction_note="north.nc")
    assert not any((tmp_path / "out").glob("*.csv"))  # before: the CV tables were written, then it failed


def xr_fraction(grids):
    """A land fraction of 1 on ``grids``' cells."""
    return grids["tas"].notnull().astype(float).rename("sftlf")


def test_sites_with_swapped_coordinates_are_counted_and_warned(tmp_path, grids, caplog):
    # longitudes within +-90 swapped with latitudes: most sites land in the ocean strip or
    # off their cell; the drops are counted in filter_log.csv and a warning names the suspicion
    table = synthetic_srdb(grids, n=200)
    table = table.loc[table["Longitude"].abs() <= 90].copy()
    table["Latitude"], table["Longitude"] = table["Longitude"].to_numpy(), table["Latitude"].to_numpy()
    ocean = synthetic_grids(res=4.0)
    ocean["tas"] = ocean["tas"].where(np.abs(ocean.lat) < 60)  # no land poleward of 60 degrees
    csv = tmp_path / "srdb.csv"
    table.to_csv(csv, index=False)
    with caplog.at_level(logging.WARNING, logger="rhbench.upscaling.predictors"):
        try:
            run_upscaling(csv, tmp_path / "out", grids=ocean, quick=True)
        except SiteDataError:
            pass  # too few sites left is also a clear outcome; the warning must come first
    assert "Latitude and Longitude swapped" in caplog.text


def test_sites_from_one_zone_only_are_mapped_with_a_warning_naming_the_missing_zones(tmp_path, grids, caplog):
    table = synthetic_srdb(grids, n=300)
    table = table.loc[table["Biome"] == "Boreal"]
    csv = tmp_path / "srdb.csv"
    table.to_csv(csv, index=False)
    with caplog.at_level(logging.WARNING, logger="rhbench.upscaling.product"):
        metrics = run_upscaling(csv, tmp_path / "out", grids=grids, quick=True)
    assert metrics["n_by_zone"]["tropical"] == 0
    assert "no tropical or temperate sites" in caplog.text


@pytest.mark.parametrize(("layer", "factor", "variable"), [("EVI", 1e4, "evi"), ("MAT", 30.0, "tas")])
def test_a_stack_layer_outside_its_physical_range_is_a_value_range_error(tmp_path, layer, factor, variable):
    # EVI stored unscaled (a newer release) is multiplied by 1e4 again: EVI 4800; before, the
    # map was unchanged (same splits) but importance and partial dependence reported EVI 4800
    import xarray as xr

    from rhbench.errors import ValueRangeError
    from rhbench.registry import build_registry
    from rhbench.upscaling.inputs import open_predictors
    from tests.test_upscaling_stack import tiny_file

    path, edited = tmp_path / "tiny.nc", tmp_path / "edited.nc"
    tiny_file(path)
    with xr.open_dataset(path, mask_and_scale=False) as ds:
        ds = ds.load()
    ds[layer] = ds[layer].where(ds[layer] == -9999.0, ds[layer] * factor)
    ds.to_netcdf(edited)
    with pytest.raises(ValueRangeError, match=rf"edited.nc; variable: {variable}; found: .*expected"):
        open_predictors(build_registry(), edited)


def test_the_land_fraction_is_read_with_the_declaration_of_the_source_whose_file_it_is(tmp_path, monkeypatch):
    """Two landfrac plugins, only the second with a file: its own variable name and units
    are used (the first one's were)."""
    import numpy as np
    import xarray as xr

    from rhbench.registry import Registry
    from rhbench.sources import Source, Var
    from rhbench.upscaling import inputs

    values = np.array([[0.25, 0.5], [0.75, 1.0]])
    coords = {"lat": [-45.0, 45.0], "lon": [-90.0, 90.0]}
    xr.Dataset({"landmask": (("lat", "lon"), values, {"units": "1"})}, coords=coords).to_netcdf(tmp_path / "b.nc")
    first = Source(name="A", kind="landfrac", catalog_entry="x.a", variables={"sftlf": Var("sftlf", "%")}, citation="-")
    second = Source(
        name="B", kind="landfrac", catalog_entry="x.b", variables={"sftlf": Var("landmask", "1")}, citation="-"
    )
    registry = Registry(sources={"A": first, "B": second})
    monkeypatch.setattr(inputs, "_first_file", lambda source, root: tmp_path / "b.nc" if source.name == "B" else None)
    data, note = inputs.land_fraction(registry, tmp_path)
    np.testing.assert_allclose(data.transpose("lat", "lon").values, values)
    assert note.startswith("B (b.nc, sha256 ")
