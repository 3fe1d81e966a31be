"""Controlled experiments on the REAL Random Forest Rh CV score (issue 12: what separates the
product's CV R2 from the data README's "about 0.57" quick check, and what raises it honestly).

Base rows: ``paper`` = SRDB after the paper's filters only (the session-2 product: 686 records,
677 with a predictor cell); ``product`` = after every filter of
:mod:`rhbench.upscaling.srdb` (adds the quality-flag, known-duplicate and exact-repeat steps).
Every ``paper``-base variant changes one thing (or the named combination) from the session-2
set-up (rows, predictor columns, forest settings, mtry candidates or target transform) and is
scored exactly like the product: the
ntree {100, 150, 200} x mtry grid, zone-stratified 10-fold CV, the best configuration by NSE
of the pooled out-of-fold predictions, R2 = squared Pearson r. Scores are means (and ranges)
over seeds 0-4 (the fold split moves R2 by about +-0.02). Predictors are always grid layers
sampled at the sites (never RC / SD_RC / CV_RC); held-out rows are never seen in training.

Usage: ``python benchmarks/rf_experiments.py [--seeds 0 1 2 3 4] [--only NAME ...]``; prints a
Markdown table (variant, n obs, predictors, R2 mean and range, NSE mean, RMSE mean).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor

from rhbench.upscaling.grouped import grouped_folds, location_key

SHARED = Path(__file__).resolve().parents[1].parent / "shared/data"
SRDB = SHARED / "srdb/srdb-data.csv"
STACK = SHARED / "jian2020/global_Rt_contribution_to_Rs2.nc"
NTREE = (100, 150, 200)
PAPER_MTRY = (2, 3, 4, 5)


@dataclass
class Variant:
    name: str
    rows: Callable[[pd.DataFrame], np.ndarray] = lambda s: np.ones(len(s), bool)
    columns: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame] = lambda X, s: X
    mtry: Callable[[int], tuple[int, ...]] = lambda p: PAPER_MTRY
    split: int = 6
    leaf: int = 1
    log: bool = False
    prep: Callable | None = None
    grid_test: bool = False  # held-out rows predicted from their cell's values only (as on the map)
    base: str = "paper"
    ntree: tuple[int, ...] = NTREE
    sqrt: bool = False  # sqrt(Rh) target, predictions squared back
    weight: Callable[[pd.DataFrame], np.ndarray] | None = None  # training-row weights (scores stay unweighted)
    max_samples: float | None = None  # bootstrap sample size as a share of the training rows
    grouped: str = ""  # "location" / "cell": folds keep its rows together (diagnostic: not the paper's CV)


def _cv(X: pd.DataFrame, y: np.ndarray, sites: pd.DataFrame, v: Variant, seed: int, X_grid=None) -> dict:
    from rhbench.upscaling.forest import cv_scores

    values = X.to_numpy(dtype=np.float32)
    test_values = X_grid.to_numpy(dtype=np.float32) if v.grid_test else values
    target = np.log(y) if v.log else np.sqrt(y) if v.sqrt else y
    back = np.exp if v.log else np.square if v.sqrt else (lambda a: a)
    weights = v.weight(sites) if v.weight else None
    folds = _folds(sites, v.grouped, seed)
    best = None
    for mtry in sorted({min(m, X.shape[1]) for m in v.mtry(X.shape[1])}):
        oof = {k: np.empty(len(y)) for k in v.ntree}
        for k in range(10):
            test = folds == k
            rf = RandomForestRegressor(
                n_estimators=max(v.ntree),
                max_features=mtry,
                min_samples_split=v.split,
                min_samples_leaf=v.leaf,
                max_samples=v.max_samples,
                random_state=seed + k,
                n_jobs=2,
            ).fit(values[~test], target[~test], sample_weight=None if weights is None else weights[~test])
            cum = np.cumsum(np.stack([t.predict(test_values[test]) for t in rf.estimators_]), axis=0)
            for n in v.ntree:
                oof[n][test] = back(cum[n - 1] / n)
        for n in v.ntree:
            s = cv_scores(y, oof[n])
            if best is None or s["nse"] > best["nse"]:
                best = {**s, "ntree": n, "mtry": mtry}
    return best


def _folds(sites: pd.DataFrame, grouped: str, seed: int, n_splits: int = 10) -> np.ndarray:
    """The product's zone-stratified folds, or (``grouped`` "location" / "cell") zone-stratified
    folds that keep every row of one location / cell in one fold (``StratifiedGroupKFold``;
    the product's definitions, :mod:`rhbench.upscaling.grouped`)."""
    from rhbench.upscaling.forest import zone_folds

    zones = sites["zone"].to_numpy()
    if not grouped:
        return zone_folds(zones, n_splits, seed)
    return grouped_folds(zones, location_key(sites, grouped).to_numpy(), n_splits, seed)


CONTEXT: dict = {}


#: rhbench's data-quality steps of the SRDB filter (not in the paper's filters).
QUALITY_STEPS = ("Quality_flag readable", "no SRDB problem flag", "not a known duplicate", "not an exact repeat")


def _site_table(base: str = "product") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Predictors at the sites and the site rows, after the ``base``'s SRDB filters."""
    from rhbench.registry import build_registry
    from rhbench.upscaling import srdb
    from rhbench.upscaling.inputs import open_predictors
    from rhbench.upscaling.predictors import build_site_predictors

    if "stack" not in CONTEXT:
        CONTEXT["stack"] = open_predictors(build_registry(), STACK)
    rows = srdb.read_srdb(SRDB)
    for name, rule in srdb.FILTER_STEPS:
        if base == "product" or not name.startswith(QUALITY_STEPS):
            rows = rows.loc[rule(rows).to_numpy(dtype=bool)]
    rows = rows.reset_index(drop=True)
    rows["zone"] = srdb.assign_climate_zone(rows)
    site = build_site_predictors(rows, CONTEXT["stack"])
    return site.X, site.sites


def _problem_flag(s: pd.DataFrame) -> np.ndarray:
    from rhbench.upscaling.srdb import PROBLEM_FLAGS, quality_flags

    return quality_flags(s).map(lambda c: bool(c & PROBLEM_FLAGS.keys())).to_numpy(dtype=bool)


def _duplicate(s: pd.DataFrame) -> np.ndarray:
    from rhbench.upscaling.srdb import REPEAT_KEY

    return s.duplicated(list(REPEAT_KEY)).to_numpy()


def _neighbourhood(X: pd.DataFrame, s: pd.DataFrame, replace: bool, size: int = 3) -> pd.DataFrame:
    from scipy.ndimage import uniform_filter

    stack = CONTEXT["stack"]
    valid = stack.valid()
    ilat = np.searchsorted(stack.lat, s["cell_lat"].to_numpy())
    ilon = np.searchsorted(stack.lon, s["cell_lon"].to_numpy())
    out = X.copy()
    from rhbench.upscaling.stack import PREDICTOR_INFO

    for name in stack.layers.data_vars:
        if name in stack.categories:
            continue
        col = PREDICTOR_INFO[str(name)][0]
        data = np.where(valid, stack.layers[name].values.astype(float), 0.0)
        total = uniform_filter(data, size, mode=("nearest", "wrap"))
        count = uniform_filter(valid.astype(float), size, mode=("nearest", "wrap"))
        with np.errstate(invalid="ignore", divide="ignore"):  # cells with no valid neighbour: never sampled
            mean = (total / count)[ilat, ilon]
        if replace:
            out[col] = mean
        else:
            out[f"{col}_n{size}"] = mean
    return out


def _site_climate(X: pd.DataFrame, s: pd.DataFrame) -> pd.DataFrame:
    """SRDB's site MAT (deg C) / MAP (mm yr-1) where reported, the cell's value otherwise."""
    return X.assign(
        MAT=s["MAT"].fillna(X["MAT"]).to_numpy(),
        MAP=s["MAP"].fillna(X["MAP"]).to_numpy(),
    )


def _site_soil(X: pd.DataFrame, s: pd.DataFrame) -> pd.DataFrame:
    """SRDB's site Soil_BD (g cm-3) / Soil_clay (%) where reported, the cell's value otherwise."""
    return X.assign(BD=s["Soil_BD"].fillna(X["BD"]).to_numpy(), Clay=s["Soil_clay"].fillna(X["Clay"]).to_numpy())


def _site_vegetation(X: pd.DataFrame, s: pd.DataFrame) -> pd.DataFrame:
    """SRDB's site C_AG / C_BG (g C m-2 -> kg C m-2) and Ndep (g N m-2 yr-1) where reported."""
    return X.assign(
        BMa=(s["C_AG"] / 1000.0).fillna(X["BMa"]).to_numpy(),
        BMb=(s["C_BG"] / 1000.0).fillna(X["BMb"]).to_numpy(),
        Ndep=s["Ndep"].fillna(X["Ndep"]).to_numpy(),
    )


def _site_means(X: pd.DataFrame, s: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    key = s["Study_number"].astype(str) + "|" + s["Site_ID"].astype(str) + "|" + s["cell_lat"].astype(str)
    first = ~key.duplicated().to_numpy()
    rh = s.groupby(key)["Rh_annual"].transform("mean")
    s = s.assign(Rh_annual=rh)
    return X.loc[first].reset_index(drop=True), s.loc[first].reset_index(drop=True)


def _no_koppen(X: pd.DataFrame, s: pd.DataFrame | None = None) -> pd.DataFrame:
    return X.drop(columns=[c for c in X if c.startswith("koppen_")])


def _every_site_column(X: pd.DataFrame, s: pd.DataFrame) -> pd.DataFrame:
    return _site_vegetation(_site_soil(_site_climate(X, s), s), s)


def _koppen_code(X: pd.DataFrame) -> pd.DataFrame:
    onehot = [c for c in X.columns if c.startswith("koppen_")]
    code = (X[onehot].to_numpy() * np.arange(1, len(onehot) + 1)).sum(axis=1)
    return X.drop(columns=onehot).assign(koppen=code)


def variants() -> list[Variant]:
    """Every variant, in the order of the table in docs/rf-experiments.md: set-up, quality filters, site columns."""
    return _setup_variants() + _quality_variants() + _site_column_variants()


def _setup_variants() -> list[Variant]:
    """Forest settings, predictor encodings and row subsets on the paper's filters."""
    own = lambda s: (s["cell_status"] == "own cell").to_numpy()  # noqa: E731
    third = lambda p: tuple(sorted({max(1, round(p * f)) for f in (2 / 19, 3 / 19, 4 / 19, 5 / 19)}))  # noqa: E731
    wide = lambda p: tuple(sorted({max(1, round(p * f)) for f in (1 / 3, 1 / 2, 2 / 3, 1.0)}))  # noqa: E731
    return [
        Variant("session-2 product (paper filters, R-like split 6, Koppen one-hot, mtry 2-5)"),
        Variant("sklearn defaults (split 2, leaf 1)", split=2),
        Variant("leaf 5 (split 10)", split=10, leaf=5),
        Variant("Koppen as numeric code", columns=lambda X, s: _koppen_code(X)),
        Variant("Koppen left out", columns=lambda X, s: X.drop(columns=[c for c in X if c.startswith("koppen_")])),
        Variant("mtry as paper's share of p (2/19..5/19)", mtry=third),
        Variant("mtry p/3, p/2, 2p/3, p", mtry=wide),
        Variant("own-cell sites only (617)", rows=own),
        Variant(
            "quick-check-like: own cell, Koppen code, longitude, split 2",
            rows=own,
            columns=lambda X, s: _koppen_code(X).assign(lon=s["cell_lon"].to_numpy()),
            split=2,
        ),
        Variant("split 2 + own-cell sites only", rows=own, split=2),
        Variant(
            "split 2 + Koppen left out",
            columns=lambda X, s: X.drop(columns=[c for c in X if c.startswith("koppen_")]),
            split=2,
        ),
        Variant("+ longitude (cell centre)", columns=lambda X, s: X.assign(lon=s["cell_lon"].to_numpy())),
        Variant("log(Rh) target, back-transformed", log=True),
        Variant("YearsOfData == 1 rows only", rows=lambda s: (s["YearsOfData"] <= 1).to_numpy()),
        Variant("Rh_annual <= 3 SD (stricter outliers)", rows=lambda s: _within(s, 3.0)),
    ]


def _quality_variants() -> list[Variant]:
    """SRDB data-quality filters, the product's rows, pruning, site means and neighbourhoods."""
    return [
        Variant("split 4", split=4),
        Variant("SRDB Quality_flag Q10-Q14 dropped", rows=lambda s: ~_problem_flag(s)),
        Variant("exact duplicates (lat, lon, year, Rh) dropped", rows=lambda s: ~_duplicate(s)),
        Variant("product rows (all filters), split 6", base="product"),
        Variant("product rows (all filters), split 2 (= product)", base="product", split=2),
        Variant("product + Koppen left out", base="product", columns=_no_koppen, split=2),
        Variant(
            "product + mycorrhizal shares left out",
            base="product",
            columns=lambda X, s: X.drop(columns=["AM", "EcM", "ErM", "NM"]),
            split=2,
        ),
        Variant("product + ntree up to 500 (R's default)", base="product", split=2, ntree=(100, 150, 200, 500)),
        Variant(
            "product + measurement year (Study_midyear; a map would be made for one stated year)",
            base="product",
            columns=lambda X, s: X.assign(year=s["Study_midyear"].to_numpy(float)),
            split=2,
        ),
        Variant("split 2 + quality flags", rows=lambda s: ~_problem_flag(s), split=2),
        Variant(
            "split 2 + quality + Koppen as code",
            rows=lambda s: ~_problem_flag(s),
            columns=lambda X, s: _koppen_code(X),
            split=2,
        ),
        Variant("split 2 + quality + Koppen left out", rows=lambda s: ~_problem_flag(s), columns=_no_koppen, split=2),
        Variant(
            "Rh_annual <= Rs_annual (partition consistent)",
            rows=lambda s: ~(s["Rh_annual"] > s["Rs_annual"]).to_numpy(),
        ),
        Variant("site means over years (Study_number, Site_ID)", prep=_site_means),
        Variant("split 2 + quality + site means", rows=lambda s: ~_problem_flag(s), prep=_site_means, split=2),
        Variant("+ 3x3-cell means of every continuous layer (added)", columns=lambda X, s: _neighbourhood(X, s, False)),
        Variant("3x3-cell means (replacing cell values)", columns=lambda X, s: _neighbourhood(X, s, True)),
        Variant("5x5-cell means (replacing cell values)", columns=lambda X, s: _neighbourhood(X, s, True, 5)),
        Variant("split 2 + 3x3 means replacing", columns=lambda X, s: _neighbourhood(X, s, True), split=2),
    ]


def _site_column_variants() -> list[Variant]:
    """SRDB's own site columns in place of the cell values (CV only: the map has cell values)."""
    return [
        Variant("site MAT/MAP where reported", columns=_site_climate),
        Variant("split 2 + site MAT/MAP", columns=_site_climate, split=2),
        Variant("split 2 + quality + site MAT/MAP", rows=lambda s: ~_problem_flag(s), columns=_site_climate, split=2),
        Variant(
            "split 2 + quality + site MAT/MAP + Koppen left out",
            rows=lambda s: ~_problem_flag(s),
            columns=lambda X, s: _no_koppen(_site_climate(X, s), s),
            split=2,
        ),
        Variant(
            "split 2 + quality + site MAT/MAP + site soil BD/clay",
            rows=lambda s: ~_problem_flag(s),
            columns=lambda X, s: _site_soil(_site_climate(X, s), s),
            split=2,
        ),
        Variant(
            "split 2 + quality + every site column the grid also has (+ C_AG, C_BG, Ndep)",
            rows=lambda s: ~_problem_flag(s),
            columns=_every_site_column,
            split=2,
        ),
        Variant(
            "split 2 + quality + site MAT/MAP, held-out sites predicted from cell values",
            rows=lambda s: ~_problem_flag(s),
            columns=_site_climate,
            split=2,
            grid_test=True,
        ),
        Variant(
            "split 2 + quality + every site column, held-out sites predicted from cell values",
            rows=lambda s: ~_problem_flag(s),
            columns=_every_site_column,
            split=2,
            grid_test=True,
        ),
    ]


def _within(s: pd.DataFrame, k: float) -> np.ndarray:
    rh = s["Rh_annual"]
    return ((rh - rh.mean()).abs() <= k * rh.std()).to_numpy()


def run_table(all_variants: list[Variant], description: str) -> None:
    """Parse ``--seeds``/``--only`` and print the Markdown table of ``all_variants``; each row's
    per-seed R2 and NSE go to stderr (for paired comparisons with the product)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--only", nargs="*", help="substrings of variant names to run")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*sklearn.utils.parallel.delayed.*")
    tables = {base: _site_table(base) for base in ("paper", "product")}
    print("| variant | n obs | p | R2 mean (range) | NSE mean | RMSE mean | best mtry |")
    print("|---|---|---|---|---|---|---|")
    for v in all_variants:
        if args.only and not any(o in v.name for o in args.only):
            continue
        X0, sites0 = tables[v.base]
        keep = v.rows(sites0)
        sites = sites0.loc[keep].reset_index(drop=True)
        X_cells = X0.loc[keep].reset_index(drop=True)
        X = v.columns(X_cells, sites)
        if v.prep:
            X, sites = v.prep(X, sites)
        y = sites["Rh_annual"].to_numpy(float)
        res = [_cv(X, y, sites, v, s, X_cells[X.columns] if v.grid_test else None) for s in args.seeds]
        r2 = [r["r2"] for r in res]
        nse = [round(r["nse"], 4) for r in res]
        print(f"{v.name}: R2 by seed {[round(x, 4) for x in r2]}, NSE {nse}", file=sys.stderr, flush=True)
        print(
            f"| {v.name} | {len(y)} | {X.shape[1]} | {np.mean(r2):.3f} ({min(r2):.3f}-{max(r2):.3f}) | "
            f"{np.mean([r['nse'] for r in res]):.3f} | {np.mean([r['rmse'] for r in res]):.1f} | "
            f"{sorted({r['mtry'] for r in res})} |",
            flush=True,
        )


def main() -> None:
    run_table(variants(), __doc__.splitlines()[0])


if __name__ == "__main__":
    main()
