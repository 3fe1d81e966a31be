"""End-to-end Rh upscaling on a synthetic SRDB table and grid with a known signal."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rhbench.commands import upscale
from rhbench.grid import cell_area
from rhbench.upscaling.product import OUTPUT_FILES, run_upscaling
from rhbench.vegclass import CLASS_NAMES


def synthetic_grids(res: float = 2.0) -> xr.Dataset:
    """Global grid: tas (degC) falls with |lat|, pr (mm yr-1) peaks at the equator;
    classes EBF (|lat| < 20), DBF (< 45), ENF; an ocean strip 30W-10W is NaN."""
    lat = np.arange(-90 + res / 2, 90, res)
    lon = np.arange(-180 + res / 2, 180, res)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    tas = 28.0 - 0.45 * np.abs(la) + 2.0 * np.sin(np.deg2rad(lo))
    pr = 300.0 + 1500.0 * np.exp(-((la / 25.0) ** 2)) + 200.0 * np.cos(np.deg2rad(lo))
    veg = np.where(np.abs(la) < 20, 2, np.where(np.abs(la) < 45, 4, 1)).astype(float)
    ocean = (lo > -30) & (lo < -10)
    for field in (tas, pr, veg):
        field[ocean] = np.nan
    return xr.Dataset(
        {
            "tas": (("lat", "lon"), tas, {"units": "degC"}),
            "pr": (("lat", "lon"), pr, {"units": "mm yr-1"}),
            "vegclass": (
                ("lat", "lon"),
                veg,
                {"flag_values": np.arange(11), "flag_meanings": "none " + " ".join(CLASS_NAMES)},
            ),
        },
        coords={"lat": lat, "lon": lon},
        attrs={"synthetic": 1},
    )


def rh_truth(mat: np.ndarray, map_mm: np.ndarray) -> np.ndarray:
    """Known signal, g C m-2 yr-1."""
    return 150.0 + 20.0 * mat + 0.1 * map_mm


def synthetic_srdb(grids: xr.Dataset, n: int = 300, seed: int = 1) -> pd.DataFrame:
    """SRDB-format rows at random land cells, Rh = truth + N(0, 20); MAT missing on
    every 10th row (filled from the grid), 3 manipulated rows, 2 alkali-absorption rows."""
    rng = np.random.default_rng(seed)
    land = grids["tas"].stack(cell=("lat", "lon")).dropna("cell")
    land = land.where(np.abs(land["lat"]) < 70, drop=True)
    pick = rng.choice(land.sizes["cell"], n, replace=False)
    lat = land["lat"].values[pick]
    lon = land["lon"].values[pick]
    points = grids.sel(lat=xr.DataArray(lat, dims="s"), lon=xr.DataArray(lon, dims="s"))
    mat, map_mm = points["tas"].values, points["pr"].values
    biome = np.where(np.abs(lat) < 20, "Tropical", np.where(np.abs(lat) < 45, "Temperate", "Boreal"))
    table = pd.DataFrame(
        {
            "Record_number": np.arange(1, n + 1),
            "Study_number": np.arange(1, n + 1) // 3,
            "Latitude": lat,
            "Longitude": lon,
            "Study_midyear": 2005.5,
            "YearsOfData": 1,
            "Rh_annual": rh_truth(mat, map_mm) + rng.normal(0, 20, n),
            "MAT": mat,
            "MAP": map_mm,
            "Ecosystem_type": "Forest",
            "Leaf_habit": np.where(
                np.abs(lat) >= 45, "Evergreen", np.where(np.abs(lat) < 20, "Evergreen", "Deciduous")
            ),
            "Biome": biome,
            "Species": np.where(np.abs(lat) >= 45, "Picea mariana", "Quercus sp."),
            "Meas_method": "IRGA",
            "Manipulation": "None",
        }
    )
    table.loc[::10, "MAT"] = np.nan
    table.loc[[0, 1, 2], "Manipulation"] = "Warmed"
    table.loc[[3, 4], "Meas_method"] = "Alkali absorption"
    return table


@pytest.fixture(scope="module")
def grids() -> xr.Dataset:
    return synthetic_grids()


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, grids):
    folder = tmp_path_factory.mktemp("upscale")
    csv = folder / "srdb-synthetic.csv"
    synthetic_srdb(grids).to_csv(csv, index=False)
    out = folder / "out"
    return run_upscaling(csv, out, grids=grids, quick=True, seed=0), out


def test_run_upscaling_writes_every_output_file(quick_run):
    metrics, out = quick_run
    for name in OUTPUT_FILES + ("rh_rf.nc",):
        assert (out / name).is_file(), name
    assert json.loads((out / "cv_metrics.json").read_text())["n_obs"] == metrics["n_obs"]
    assert not list(out.glob(".*tmp*"))


def test_filter_log_counts_manipulated_alkali_and_grid_filled_rows(quick_run):
    _, out = quick_run
    log = pd.read_csv(out / "filter_log.csv").set_index("step")
    assert log.loc["no manipulation (Manipulation == 'None')", "removed"] == 3
    assert log.loc["not alkali absorption or soda lime", "removed"] == 2
    # every site sits in a valid land cell: all take their own cell; a missing site MAT
    # does not matter since every predictor comes from the grid
    assert log.loc["site's own predictor cell valid", "filled"] == 295
    assert log.loc["dropped: no valid predictor cell within 55 km", "removed"] == 0
    assert quick_run[0]["n_obs"] == 295
    assert quick_run[0]["sampling"]["moved"] == 0


def test_known_signal_gives_high_cv_scores_and_mat_first(quick_run):
    metrics, out = quick_run
    assert metrics["r2"] > 0.9 and metrics["nse"] > 0.9
    assert metrics["rmse"] < 80.0  # noise SD is 20 g C m-2 yr-1
    assert metrics["best"] == {"n_estimators": 50, "max_features": 3}
    assert metrics["synthetic"] is True
    assert pd.read_csv(out / "importance.csv")["predictor"].iloc[0] == "MAT"
    assert sum(metrics["n_by_zone"].values()) == 295


def test_map_recovers_known_signal_and_keeps_nan_cells(quick_run, grids):
    _, out = quick_run
    with xr.open_dataset(out / "rh_rf.nc") as product:
        rh = product["rh"].load()
        assert product["rh"].attrs["units"] == "g m-2 yr-1"
        assert product.attrs["synthetic"] == 1 and product.attrs["data_label"] == "SYNTHETIC"
        assert product.attrs["Conventions"] == "CF-1.10"
        total = product.attrs["global_total_PgC_per_yr"]
        total_sd = product.attrs["global_total_sd_PgC_per_yr"]
        members = product["rh_global_member"].values
        rh_sd = product["rh_sd"].load()
        assert float(rh_sd.min()) >= 0.0
    truth = rh_truth(grids["tas"], grids["pr"])
    sampled = np.abs(grids["lat"]) < 65  # the sites' latitude range
    valid = truth.notnull() & sampled
    r = np.corrcoef(rh.where(valid).values[valid.values], truth.values[valid.values])[0, 1]
    assert r > 0.95
    assert rh.isnull().equals(truth.isnull() | (grids["vegclass"] == 0))
    area = cell_area(rh["lat"], rh["lon"])
    by_hand = float((rh.fillna(0) * area).sum()) / 1e15
    assert total == pytest.approx(by_hand, rel=1e-6)  # rh is stored as float32
    # the SD of the total is the SD of the members' totals, not the total of the SD map
    assert total_sd == pytest.approx(np.std(members, ddof=1), rel=1e-12)
    assert total == pytest.approx(members.mean(), rel=1e-6)
    summed_sd = float((rh_sd.fillna(0) * area).sum()) / 1e15
    assert total_sd < summed_sd


def test_same_seed_reproduces_cv_metrics(tmp_path, grids, quick_run):
    csv = tmp_path / "srdb.csv"
    synthetic_srdb(grids).to_csv(csv, index=False)
    again = run_upscaling(csv, tmp_path / "again", grids=grids, quick=True, seed=0)
    for key in ("r2", "nse", "rmse", "n_obs"):
        assert again[key] == quick_run[0][key]


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    upscale.add_parser(parser.add_subparsers())
    return parser.parse_args(argv)


def test_cli_refuses_non_empty_output_without_force(tmp_path, grids):
    csv = tmp_path / "srdb.csv"
    synthetic_srdb(grids, n=120).to_csv(csv, index=False)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    assert upscale.run(_args(["upscale", "--srdb", str(csv), "--out", str(out), "--quick"])) == 2
    assert not (out / "cv_metrics.json").exists()
    code = upscale.run(_args(["upscale", "--srdb", str(csv), "--out", str(out), "--quick", "--force"]))
    assert code == 0 and (out / "cv_metrics.json").is_file()


def test_cli_writes_map_from_predictors_file(tmp_path, grids):
    csv, nc = tmp_path / "srdb.csv", tmp_path / "predictors.nc"
    synthetic_srdb(grids, n=120).to_csv(csv, index=False)
    grids.to_netcdf(nc)
    args = _args(
        [
            "upscale",
            "--srdb",
            str(csv),
            "--out",
            str(tmp_path / "o"),
            "--quick",
            "--predictors",
            str(nc),
            "--seed",
            "3",
        ]
    )
    assert args.func is upscale.run
    assert upscale.run(args) == 0
    assert json.loads((tmp_path / "o" / "cv_metrics.json").read_text())["seed"] == 3
    assert (tmp_path / "o" / "rh_rf.nc").is_file()


def test_cli_returns_2_for_missing_srdb_file(tmp_path):
    args = _args(["upscale", "--srdb", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")])
    assert upscale.run(args) == 2


def test_cli_returns_2_for_unreadable_predictors_file(tmp_path, grids):
    csv, nc = tmp_path / "srdb.csv", tmp_path / "predictors.nc"
    synthetic_srdb(grids, n=60).to_csv(csv, index=False)
    nc.write_text("not netcdf")
    args = _args(["upscale", "--srdb", str(csv), "--out", str(tmp_path / "o"), "--predictors", str(nc)])
    assert upscale.run(args) == 2
    assert not (tmp_path / "o").exists()


def test_product_netcdf_passes_the_cf_checker(quick_run, tmp_path):
    from compliance_checker.runner import CheckSuite, ComplianceChecker

    _, out = quick_run
    CheckSuite.load_all_available_checkers()
    report = tmp_path / "cf.json"
    ComplianceChecker.run_checker(
        str(out / "rh_rf.nc"),
        ["cf:1.8"],
        verbose=0,
        criteria="lenient",
        output_filename=str(report),
        output_format="json",
    )
    results = json.loads(report.read_text())["cf:1.8"]
    problems = [
        f"{check['name']}: {msg}"
        for priority in ("high_priorities", "medium_priorities", "low_priorities")
        for check in results.get(priority, [])
        for msg in check.get("msgs", [])
    ]
    assert problems == []


def _data_root_with_srdb(tmp_path, grids, shared=None):
    """A data root holding srdb/srdb-data.csv (the folder itself, or a link to ``shared``)."""
    root = tmp_path / "root"
    root.mkdir()
    folder = root / "srdb"
    if shared is not None:
        shared.mkdir()
        folder.symlink_to(shared)
    else:
        folder.mkdir()
    synthetic_srdb(grids, n=120).to_csv(folder / "srdb-data.csv", index=False)
    return root


@pytest.mark.parametrize("where", ["srdb", "new"])
def test_cli_refuses_an_out_inside_the_data_root_even_with_force(tmp_path, grids, where):
    """``rhbench upscale --force`` wrote its files into the data root's srdb folder."""
    root = _data_root_with_srdb(tmp_path, grids)
    argv = ["upscale", "--data-root", str(root), "--out", str(root / where), "--quick", "--force"]
    assert upscale.run(_args(argv)) == 2
    assert sorted(p.name for p in root.rglob("*")) == ["srdb", "srdb-data.csv"]


def test_cli_refuses_an_out_inside_a_folder_the_data_root_links_to(tmp_path, grids):
    shared = tmp_path / "shared-srdb"
    root = _data_root_with_srdb(tmp_path, grids, shared=shared)
    argv = ["upscale", "--data-root", str(root), "--out", str(shared / "out"), "--quick"]
    assert upscale.run(_args(argv)) == 2
    assert [p.name for p in shared.iterdir()] == ["srdb-data.csv"]


def test_cli_labels_an_upscaling_from_its_inputs_not_from_the_demo_marker(tmp_path, grids):
    """A demo root's site table says it is synthetic (its ``synthetic`` column, as the demo
    writes it): SYNTHETIC. The same table unmarked is real-looking and unpinned: UNVERIFIED."""
    root = _data_root_with_srdb(tmp_path, grids)
    (root / "demo.json").write_text('{"synthetic": true}')
    table = root / "srdb" / "srdb-data.csv"
    assert upscale.run(_args(["upscale", "--data-root", str(root), "--out", str(tmp_path / "o"), "--quick"])) == 0
    assert json.loads((tmp_path / "o" / "cv_metrics.json").read_text())["data_label"] == "UNVERIFIED"
    pd.read_csv(table, dtype=str, keep_default_na=False).assign(synthetic=1).to_csv(table, index=False)
    assert upscale.run(_args(["upscale", "--data-root", str(root), "--out", str(tmp_path / "m"), "--quick"])) == 0
    assert json.loads((tmp_path / "m" / "cv_metrics.json").read_text())["data_label"] == "SYNTHETIC"


def test_cli_reports_scores_and_the_global_total_once(tmp_path, grids, caplog):
    """The command's summary repeated the product's own lines (R2/NSE/RMSE and the global
    total, each printed twice): one line each, plus where the product was written."""
    csv, nc = tmp_path / "srdb.csv", tmp_path / "predictors.nc"
    synthetic_srdb(grids, n=120).to_csv(csv, index=False)
    grids.to_netcdf(nc)
    argv = ["upscale", "--srdb", str(csv), "--out", str(tmp_path / "o"), "--quick", "--predictors", str(nc)]
    with caplog.at_level("INFO"):
        assert upscale.run(_args(argv)) == 0
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("rhbench")]
    assert sum("R2" in line for line in lines) == 1, lines
    assert sum("Pg C yr-1" in line and "global" in line for line in lines) == 1, lines
    assert any(str(tmp_path / "o") in line for line in lines), lines
    assert len(lines) == len(set(lines)), lines
