"""Random Forest tuning, scores, importance, partial dependence and ensemble."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rhbench.upscaling import forest


def test_cv_scores_match_hand_formulas():
    obs = np.array([1.0, 2.0, 3.0, 4.0])
    pred = np.array([1.0, 2.0, 2.0, 5.0])
    scores = forest.cv_scores(obs, pred)
    # SSE = 0 + 0 + 1 + 1 = 2; SST = 2.25 + 0.25 + 0.25 + 2.25 = 5
    assert scores["nse"] == pytest.approx(1 - 2 / 5)
    assert scores["rmse"] == pytest.approx(np.sqrt(2 / 4))
    # Pearson r: obs dev (-1.5,-.5,.5,1.5), pred mean 2.5 dev (-1.5,-.5,-.5,2.5)
    # cov sum = 2.25 + .25 - .25 + 3.75 = 6; var sums 5 and 9 -> r = 6/sqrt(45)
    assert scores["r2"] == pytest.approx(36 / 45)


def test_r2_ignores_bias_but_nse_does_not():
    obs = np.array([1.0, 2.0, 3.0, 4.0])
    scores = forest.cv_scores(obs, obs + 10.0)
    assert scores["r2"] == pytest.approx(1.0)
    assert scores["nse"] == pytest.approx(1 - 4 * 100 / 5)
    assert scores["rmse"] == pytest.approx(10.0)


def test_zone_folds_put_each_zone_equally_in_every_fold():
    zones = np.array(["tropical"] * 20 + ["temperate"] * 50 + ["boreal"] * 30)
    folds = forest.zone_folds(zones, n_splits=10, seed=0)
    counts = pd.crosstab(folds, zones)
    assert (counts["tropical"] == 2).all()
    assert (counts["temperate"] == 5).all()
    assert (counts["boreal"] == 3).all()
    assert np.array_equal(folds, forest.zone_folds(zones, n_splits=10, seed=0))


def _signal(n: int = 240, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "MAT": rng.uniform(-5, 28, n),
            "MAP": rng.uniform(200, 3000, n),
            "noise1": rng.normal(size=n),
            "noise2": rng.normal(size=n),
        }
    )
    y = 100.0 + 25.0 * X["MAT"].to_numpy() + 0.05 * X["MAP"].to_numpy() + rng.normal(0, 15, n)
    zones = np.where(X["MAT"] > 18, "tropical", np.where(X["MAT"] > 3, "temperate", "boreal"))
    return X, y, zones


def test_first_trees_of_a_forest_equal_a_smaller_forest_with_the_same_seed():
    X, y, _ = _signal()
    big = forest.make_forest(40, 2, seed=5).fit(X.to_numpy(np.float32), y)
    small = forest.make_forest(20, 2, seed=5).fit(X.to_numpy(np.float32), y)
    sliced = forest.first_trees(big, 20)
    values = X.to_numpy(np.float32)
    np.testing.assert_allclose(sliced.predict(values), small.predict(values))
    assert len(big.estimators_) == 40


def test_tuning_recovers_signal_and_is_reproducible():
    X, y, zones = _signal()
    kwargs = dict(n_estimators=(20, 40), max_features=(1, 2), n_splits=5, seed=1)
    result = forest.tune_forest(X, y, zones, **kwargs)
    assert len(result.grid) == 4
    assert result.scores["r2"] > 0.95
    assert len(result.models) == 5
    assert all(len(m.estimators_) == result.best["n_estimators"] for m in result.models)
    best_row = result.grid.sort_values("nse").iloc[-1]
    assert result.scores["nse"] == pytest.approx(best_row["nse"])
    again = forest.tune_forest(X, y, zones, **kwargs)
    np.testing.assert_array_equal(result.oof, again.oof)
    assert result.grid.equals(again.grid)


def test_tuning_clips_max_features_to_the_number_of_predictors():
    X, y, zones = _signal(n=60)
    result = forest.tune_forest(
        X[["MAT", "MAP"]], y, zones, n_estimators=(10,), max_features=(2, 5), n_splits=3, seed=0
    )
    assert result.grid["max_features"].tolist() == [2]


def test_importance_ranks_mat_first_and_sums_to_100():
    X, y, _ = _signal()
    model = forest.fit_forest(X, y, {"n_estimators": 50, "max_features": 2}, seed=0)
    table = forest.impurity_importance(model, list(X.columns))
    assert table["predictor"].iloc[0] == "MAT"
    assert table["importance_percent"].sum() == pytest.approx(100.0)


def test_group_importance_gives_climate_the_largest_share():
    X, y, zones = _signal()
    folds = forest.zone_folds(zones, 5, 0)
    groups = {"climate": ["MAT", "MAP"], "noise": ["noise1", "noise2"]}
    table, r2 = forest.group_importance(X, y, groups, folds, {"n_estimators": 50, "max_features": 2}, seed=0)
    share = table.set_index("group")["share_percent"]
    assert share.sum() == pytest.approx(100.0)
    assert share["climate"] > 80.0
    assert table["n_components"].tolist() == [2, 2]
    assert r2 > 0.8


def test_partial_dependence_rises_with_mat():
    X, y, _ = _signal()
    model = forest.fit_forest(X, y, {"n_estimators": 50, "max_features": 2}, seed=0)
    table = forest.partial_dependence_table(model, X, ["MAT"], grid_resolution=10)
    assert len(table) == 10
    rh = table["rh"].to_numpy()
    # true slope 25 g C m-2 yr-1 per degC over the grid's span
    span = table["value"].iloc[-1] - table["value"].iloc[0]
    assert (rh[-1] - rh[0]) / span == pytest.approx(25.0, rel=0.25)


def test_ensemble_predictions_stack_one_row_per_member():
    X, y, zones = _signal()
    result = forest.tune_forest(X, y, zones, n_estimators=(10,), max_features=(2,), n_splits=4, seed=0)
    members = forest.ensemble_predictions(result.models, X.iloc[:7])
    assert members.shape == (4, 7)
    np.testing.assert_allclose(members[2], result.models[2].predict(X.iloc[:7].to_numpy(np.float32)))


def test_categorical_columns_enter_the_group_forest_unrotated_and_count_for_their_group():
    X, y, zones = _signal()
    X = X.assign(k_a=(X["MAT"] > X["MAT"].median()).astype(float))
    X = X.assign(k_b=1.0 - X["k_a"])
    folds = forest.zone_folds(zones, 5, 0)
    table, _ = forest.group_importance(
        X,
        y,
        {"climate": ["MAT", "MAP"], "noise": ["noise1", "noise2"]},
        folds,
        {"n_estimators": 30, "max_features": 2},
        seed=0,
        categorical={"climate": ["k_a", "k_b"]},
    )
    rows = table.set_index("group")
    assert rows.loc["climate", "n_components"] == 2 and rows.loc["climate", "n_categorical"] == 2
    assert rows.loc["noise", "n_categorical"] == 0
    assert rows["share_percent"].sum() == pytest.approx(100.0)


def test_fold_importance_is_the_mean_and_sd_of_the_fold_forests():
    X, y, zones = _signal()
    result = forest.tune_forest(X, y, zones, n_estimators=(20,), max_features=(2,), n_splits=4, seed=0)
    table = forest.fold_importance(result.models, list(X.columns)).set_index("predictor")
    shares = np.stack([m.feature_importances_ * 100 for m in result.models])
    assert table.loc["MAT", "importance_percent"] == pytest.approx(shares[:, 0].mean())
    assert table.loc["MAT", "importance_sd"] == pytest.approx(shares[:, 0].std(ddof=1))
    assert table["importance_percent"].sum() == pytest.approx(100.0)


def test_group_importance_cv_r2_is_the_same_bits_every_time():
    """The group forest's held-out predictions came from ``forest.predict``, which adds the
    trees as its threads finish (float sums in varying order): ``group_pca_r2`` in
    cv_metrics.json differed in its last digits between two same-seed runs."""
    X, y, zones = _signal()
    folds = forest.zone_folds(zones, 5, 0)
    groups = {"climate": ["MAT", "MAP"], "noise": ["noise1", "noise2"]}
    best = {"n_estimators": 100, "max_features": 2}
    scores = {forest.group_importance(X, y, groups, folds, best, seed=0)[1] for _ in range(6)}
    assert len(scores) == 1, scores
