"""Location-grouped CV of the Rh forest: folds never split a location, scores come from
held-out predictions only, and the product, page and figures report it beside the
paper-style CV (issue 12: skill at unseen locations)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rhbench.report.html import write_index_html
from rhbench.upscaling import forest
from rhbench.upscaling.grouped import grouped_folds, location_grouped_cv, location_key
from tests.test_report_html import _sections, synthetic_scorecard, write_upscaling
from tests.test_upscaling_product import grids, quick_run  # noqa: F401 (module fixtures)


def _copies_table(n_locations: int = 60, copies: int = 4, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sites where every location's rows are identical copies (same predictors, same Rh)
    and Rh is pure noise unrelated to the predictors (g C m-2 yr-1): only recall of a
    location's own copies can score."""
    rng = np.random.default_rng(seed)
    loc = pd.DataFrame(
        {
            "Latitude": rng.uniform(-60, 70, n_locations).round(3),
            "Longitude": rng.uniform(-180, 180, n_locations).round(3),
            "zone": rng.choice(["tropical", "temperate", "boreal"], n_locations),
            "Rh_annual": rng.uniform(100, 1000, n_locations),
        }
    )
    X = pd.DataFrame(rng.normal(size=(n_locations, 4)), columns=["a", "b", "c", "d"])
    index = np.repeat(np.arange(n_locations), copies)
    return X.iloc[index].reset_index(drop=True), loc.iloc[index].reset_index(drop=True)


def test_grouped_folds_never_put_one_locations_rows_in_two_folds():
    rng = np.random.default_rng(4)
    rows = rng.integers(1, 6, size=40)  # 1-5 rows at each of 40 locations
    sites = pd.DataFrame(
        {
            "Latitude": np.repeat(np.linspace(-50, 60, 40), rows),
            "Longitude": np.repeat(np.linspace(-170, 170, 40), rows),
            "zone": np.repeat(rng.choice(["tropical", "temperate", "boreal"], 40), rows),
        }
    )
    # 1e-5 deg apart is the same location (coordinates to 1e-4 deg); 1e-3 apart is not
    sites.loc[0, "Latitude"] += 1e-5
    key = location_key(sites)
    assert key.nunique() == 40
    assert location_key(sites.assign(Latitude=sites["Latitude"] + np.arange(len(sites)) * 1e-3)).nunique() == len(sites)
    folds = grouped_folds(sites["zone"].to_numpy(), key.to_numpy(), n_splits=5, seed=0)
    per_location = pd.Series(folds).groupby(key.to_numpy()).nunique()
    assert (per_location == 1).all()
    assert sorted(set(folds)) == [0, 1, 2, 3, 4]
    assert np.array_equal(folds, grouped_folds(sites["zone"].to_numpy(), key.to_numpy(), 5, seed=0))


def test_location_key_by_cell_and_a_wrong_key_is_refused():
    sites = pd.DataFrame({"cell_lat": [10.25, 10.25], "cell_lon": [5.75, 5.75], "Latitude": [10.1, 10.3]})
    assert location_key(sites, by="cell").nunique() == 1
    with pytest.raises(ValueError, match="by must be one of"):
        location_key(sites, by="site")


def test_identical_copies_score_near_one_row_wise_but_not_at_unseen_locations():
    """Rh is noise, each location's rows are copies: the paper-style CV recalls a held-out
    row's copies in training (R2 near 1); the grouped CV's held-out rows have none."""
    X, sites = _copies_table()
    y = sites["Rh_annual"].to_numpy()
    tuning = forest.tune_forest(X, y, sites["zone"].to_numpy(), n_estimators=(50,), max_features=(2,), n_splits=5)
    assert tuning.scores["r2"] > 0.9 and tuning.scores["nse"] > 0.85
    unseen = location_grouped_cv(X, y, sites, tuning.best, n_splits=5, seed=0)
    assert unseen.n_locations == 60 and unseen.scores["r2"] < 0.3 and unseen.scores["nse"] < 0.1
    assert unseen.scores["rmse"] > 3 * tuning.scores["rmse"]
    assert (pd.Series(unseen.fold).groupby(unseen.location).nunique() == 1).all()
    # every held-out prediction is the mean of forests that never saw the location's rows
    k = 0
    test = unseen.fold == k
    model = forest.make_forest(50, 2, 0 + k).fit(X[~test].to_numpy(np.float32), y[~test])
    expected = forest.ensemble_predictions([model], X[test])[0]
    np.testing.assert_array_equal(unseen.oof[test], expected)
    assert forest.cv_scores(y, unseen.oof) == unseen.scores


def test_fewer_locations_than_folds_reports_why_not_a_crash(caplog):
    X, sites = _copies_table(n_locations=3, copies=4)
    with caplog.at_level("WARNING"):
        unseen = location_grouped_cv(
            X, sites["Rh_annual"].to_numpy(), sites, {"n_estimators": 10, "max_features": 2}, 5, 0
        )
    assert unseen.scores == {"r2": None, "nse": None, "rmse": None}
    assert "3 locations, fewer than the 5 folds" in unseen.note and "fewer than the 5 folds" in caplog.text
    assert (unseen.fold == -1).all() and np.isnan(unseen.oof).all()


def test_product_reports_the_location_grouped_cv_in_metrics_netcdf_and_oof(quick_run):  # noqa: F811
    metrics, out = quick_run
    saved = json.loads((out / "cv_metrics.json").read_text())
    oof = pd.read_csv(out / "oof_predictions.csv")
    assert saved["location_grouped_n_locations"] == oof[["Latitude", "Longitude"]].round(4).drop_duplicates().shape[0]
    assert saved["location_grouped_n_splits"] == saved["n_splits"] == 5
    assert (oof.groupby("location")["location_fold"].nunique() == 1).all()
    rescored = forest.cv_scores(oof["observed"], oof["predicted_location_grouped"])
    for key in ("r2", "nse", "rmse"):
        assert saved[f"location_grouped_{key}"] == pytest.approx(rescored[key], rel=1e-12)
    # the known signal is a function of the predictors: it carries to unseen locations
    assert saved["location_grouped_r2"] > 0.8
    assert forest.cv_scores(oof["observed"], oof["predicted"])["r2"] == pytest.approx(saved["r2"], rel=1e-12)
    with xr.open_dataset(out / "rh_rf.nc") as product:
        assert product.attrs["location_grouped_cv_r2"] == pytest.approx(saved["location_grouped_r2"], rel=1e-12)
        assert product.attrs["location_grouped_cv_nse"] == pytest.approx(saved["location_grouped_nse"], rel=1e-12)
        assert product.attrs["location_grouped_cv_n_locations"] == saved["location_grouped_n_locations"]
        assert "one location" in product.attrs["location_grouped_cv"]
        assert product.attrs["cv_r2"] == pytest.approx(saved["r2"], rel=1e-12)


def test_page_shows_the_skill_at_unseen_locations_beside_the_paper_style_cv(tmp_path):
    folder = write_upscaling(tmp_path / "up")
    metrics = json.loads((folder / "cv_metrics.json").read_text())
    metrics |= {"location_grouped_r2": 0.248, "location_grouped_nse": 0.226, "location_grouped_rmse": 228.3}
    (folder / "cv_metrics.json").write_text(json.dumps(metrics | {"n_obs": 634, "location_grouped_n_locations": 285}))
    path = write_index_html(tmp_path, synthetic_scorecard(2), {}, synthetic=False, provenance={}, upscaling_dir=folder)
    rf = _sections(path.read_text())["rf"]
    assert "skill at unseen locations (location-grouped CV)</strong>: R² 0.248 · NSE 0.226" in rf
    assert "locations 285" in rf and "Paper-style CV" in rf and "R² 0.62 · NSE 0.63" in rf
    assert "The 634 rows come from 285 locations" in rf
    # one row per location (e.g. the demo's sites): no claim that rows share a location
    (folder / "cv_metrics.json").write_text(json.dumps(metrics | {"n_obs": 285, "location_grouped_n_locations": 285}))
    path = write_index_html(tmp_path, synthetic_scorecard(2), {}, synthetic=False, provenance={}, upscaling_dir=folder)
    rf = _sections(path.read_text())["rf"]
    assert "R² 0.248" in rf and "rows come from" not in rf


def test_page_says_when_a_product_has_no_location_grouped_cv(tmp_path):
    folder = write_upscaling(tmp_path / "old")  # an older product: paper-style scores only
    path = write_index_html(tmp_path, synthetic_scorecard(2), {}, synthetic=False, provenance={}, upscaling_dir=folder)
    rf = _sections(path.read_text())["rf"]
    assert "skill at unseen locations (location-grouped CV): not in this product" in rf
