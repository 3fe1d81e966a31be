"""Nested cross-validation of the REAL Random Forest Rh set-up choices (issue 12).

The product tunes ntree x mtry on the same zone-stratified 10-fold CV that reports its score
(as the paper does), and ``rf_experiments.py`` compares set-ups on that same CV. Choosing a
set-up (node size, predictor set) by that comparison would be one more knob tuned on the
scoring CV. This script scores the whole choice honestly: in each OUTER fold (zone-stratified
10-fold), an INNER zone-stratified 5-fold CV on the outer training rows only picks the set-up
and its ntree x mtry by NSE; that pick is refitted on the outer training rows and predicts the
held-out outer fold. The pooled outer predictions give R2 (squared Pearson r), NSE and RMSE
(g C m-2 yr-1); the table also counts which set-up the inner CVs picked.

Usage: ``python benchmarks/rf_nested_cv.py [--seeds 0 1 2 3 4] [--setups split6 split2 ...]
[--grouped location|cell]``
(seeds 0-4 on the shared 2-core machine: about 6 min for the default two set-ups, 12 min for
all four). Measured on SRDB v5 (634 rows): split6 vs split2 -> nested R2 0.499 (0.465-0.523),
fully grown trees picked in 45 of 50 outer folds; all four -> 0.502 (0.466-0.518). Session 6:
split2 alone -> 0.502 (0.471-0.523); split2 vs split2-interp (continuous layers interpolated to
the site coordinates, rf_experiments_more.py) -> 0.528 (0.501-0.547), interp picked 50 of 50;
split2 vs split2-movedIDW -> 0.508 (0.478-0.525), picked 44 of 50. The inner CVs are row-level
like the product's, so they share its recall of a location's other rows (docs/rf-experiments.md). With
``--grouped cell --setups split2 split6 leaf5`` (folds keep a predictor cell's rows together,
outer and inner): leaf5 picked in 50 of 50, nested R2 0.166 (0.140-0.185); ``--grouped
location``: leaf5 36, split6 14, split2 0 of 50, nested R2 0.249 (0.233-0.267).
"""

from __future__ import annotations

import argparse
import warnings
from collections import Counter

import numpy as np
from rf_experiments import NTREE, PAPER_MTRY, _folds, _no_koppen, _site_table
from rf_experiments_more import interpolated, moved_idw
from sklearn.ensemble import RandomForestRegressor

#: set-up name -> (min_samples_split, predictor columns from the product's table and sites)
SETUPS = {
    "split6": (6, lambda X, s: X),
    "split2": (2, lambda X, s: X),
    "split6-noKoppen": (6, _no_koppen),
    "split2-noKoppen": (2, _no_koppen),
    "split2-interp": (2, interpolated),
    "split6-interp": (6, interpolated),
    "split2-movedIDW": (2, moved_idw),
    "leaf5": (10, lambda X, s: X),
}
#: set-up name -> min_samples_leaf where not 1
LEAF = {"leaf5": 5}
INNER_SPLITS = 5


def _oof_by_config(values, y, sites, setup, seed, n_splits, grouped=""):
    """Out-of-fold predictions of every (ntree, mtry) for one set-up."""
    folds = _folds(sites, grouped, seed, n_splits)
    out = {}
    for mtry in sorted({min(m, values.shape[1]) for m in PAPER_MTRY}):
        oof = {n: np.empty(len(y)) for n in NTREE}
        for k in range(n_splits):
            test = folds == k
            rf = _forest(setup, mtry, seed + k).fit(values[~test], y[~test])
            cum = np.cumsum(np.stack([t.predict(values[test]) for t in rf.estimators_]), axis=0)
            for n in NTREE:
                oof[n][test] = cum[n - 1] / n
        out.update({(n, mtry): oof[n] for n in NTREE})
    return out


def _forest(setup: str, mtry: int, seed: int) -> RandomForestRegressor:
    return RandomForestRegressor(
        n_estimators=max(NTREE),
        max_features=mtry,
        min_samples_split=SETUPS[setup][0],
        min_samples_leaf=LEAF.get(setup, 1),
        random_state=seed,
        n_jobs=2,
    )


def nested(tables: dict[str, np.ndarray], y: np.ndarray, sites, seed: int, grouped: str = "") -> tuple[dict, Counter]:
    """Pooled outer-fold scores of the nested choice among the set-ups' predictor ``tables``
    (name -> values), and how often each set-up was picked. ``grouped`` ("location" / "cell")
    keeps the rows of one location / cell in one fold, outer and inner (a diagnostic)."""
    from rhbench.upscaling.forest import cv_scores

    outer = _folds(sites, grouped, seed)
    pred = np.empty(len(y))
    picks: Counter = Counter()
    for k in range(10):
        test = outer == k
        best = None
        for name, values in tables.items():
            train = sites.loc[~test].reset_index(drop=True)
            inner = _oof_by_config(values[~test], y[~test], train, name, seed + 100 + k, INNER_SPLITS, grouped)
            for (ntree, mtry), oof in inner.items():
                nse = cv_scores(y[~test], oof)["nse"]
                if best is None or nse > best[0]:
                    best = (nse, name, ntree, mtry)
        _, name, ntree, mtry = best
        picks[name] += 1
        values = tables[name]
        rf = _forest(name, min(mtry, values.shape[1]), seed + k).fit(values[~test], y[~test])
        pred[test] = np.mean([t.predict(values[test]) for t in rf.estimators_[:ntree]], axis=0)
    return cv_scores(y, pred), picks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--setups", nargs="+", default=["split6", "split2"], choices=sorted(SETUPS))
    parser.add_argument("--grouped", choices=["location", "cell"], default="", help="diagnostic grouped folds")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*sklearn.utils.parallel.delayed.*")
    X, sites = _site_table()
    y = sites["Rh_annual"].to_numpy(float)
    tables = {name: SETUPS[name][1](X, sites).to_numpy(dtype=np.float32) for name in args.setups}
    scores, picks = [], Counter()
    for seed in args.seeds:
        s, p = nested(tables, y, sites, seed, args.grouped)
        scores.append(s)
        picks += p
        print(f"seed {seed}: R2 {s['r2']:.3f} NSE {s['nse']:.3f} RMSE {s['rmse']:.1f} picks {dict(p)}", flush=True)
    r2 = [s["r2"] for s in scores]
    label = f" ({args.grouped}-grouped folds)" if args.grouped else ""
    print("| candidate set-ups | n obs | nested R2 mean (range) | NSE mean | RMSE mean | inner picks (outer folds) |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {', '.join(args.setups)}{label} | {len(y)} | {np.mean(r2):.3f} ({min(r2):.3f}-{max(r2):.3f}) | "
        f"{np.mean([s['nse'] for s in scores]):.3f} | {np.mean([s['rmse'] for s in scores]):.1f} | {dict(picks)} |"
    )


if __name__ == "__main__":
    main()
