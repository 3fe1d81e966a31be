"""More controlled experiments on the REAL Random Forest Rh CV score (issue 12, session 6).

Each variant changes ONE thing from the product (``product`` rows: every SRDB filter; fully
grown trees, ``min_samples_split=2``; the 22 grid predictors) and is scored exactly like it
(:func:`rf_experiments.run_table`: ntree {100, 150, 200} x mtry {2, 3, 4, 5}, zone-stratified
10-fold CV, best by NSE of the pooled out-of-fold predictions, R2 = squared Pearson r, seeds
0-4). Every variant is honest for the map: a predictor is defined the same way at a site as
at a grid cell, so the map predicts every cell from the same definition the CV used:

- *interpolated* layers: a continuous layer bilinearly interpolated to the site's own
  coordinates from the four surrounding cell centres (weights of invalid cells dropped and
  the rest renormalised; a site with no valid corner keeps its sampled cell's value). At a
  cell centre the interpolation IS the cell value, so the map's inputs are unchanged.
  Categorical layers (Koppen) stay the sampled cell's class;
- *derived* predictors: functions of the grid layers, computed alike at cells;
- moved coastal sites: an inverse-distance mean of the valid cells within the search radius
  instead of the nearest valid cell (the map's cells are valid: their own value);
- training weights / a sqrt target / a smaller bootstrap sample change only the fitting.

Rows of one location (634 rows at 285 locations) share their predictors. The product's
folds are stratified on rows, so a held-out row's siblings (other years or plots of the same
location) may be in training, as in the paper; the ``grouped`` rows are a diagnostic that
keeps every location in one fold (``StratifiedGroupKFold`` on the zone), i.e. scores the
prediction at locations the forest never saw.

Usage: ``python benchmarks/rf_experiments_more.py [--seeds 0 1 2 3 4] [--only NAME ...]``;
``--recall-baseline`` prints the forest-free recall baseline instead (:func:`recall_baseline`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rf_experiments import CONTEXT, Variant, run_table

from rhbench.upscaling.grouped import location_key

#: design-matrix columns of the continuous layers (interpolated at the sites).
CONTINUOUS = ("MAT", "MAP", "AM", "EcM", "ErM", "NM", "BMa", "BMb", "Ndep", "BD", "Clay", "SOC", "EVI")
CLIMATE = ("MAT", "MAP", "Ndep")
#: offset (deg C) of the aridity index MAP / (MAT + 25): positive on every valid cell
#: (the stack's coldest vegetated cell has MAT -22.3 deg C).
ARIDITY_OFFSET_C = 25.0


def _layer_of(column: str) -> str:
    from rhbench.upscaling.stack import PREDICTOR_INFO

    return next(name for name, info in PREDICTOR_INFO.items() if info[0] == column)


def bilinear_weights(stack, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Corner (lat, lon) indices, shape (n, 4), and bilinear weights, renormalised over the
    valid corners (rows of zeros where no corner is valid), for points in degrees."""
    glat, glon, valid = stack.lat, stack.lon, stack.valid()
    step_lat, step_lon = glat[1] - glat[0], glon[1] - glon[0]
    fi = (np.asarray(lat, float) - glat[0]) / step_lat
    fj = (((np.asarray(lon, float) + 180.0) % 360.0) - 180.0 - glon[0]) / step_lon
    i0 = np.clip(np.floor(fi).astype(int), 0, glat.size - 2)
    dy = np.clip(fi - i0, 0.0, 1.0)
    j0 = np.floor(fj).astype(int)
    dx = fj - j0
    ilat = np.column_stack([i0, i0, i0 + 1, i0 + 1])
    ilon = np.column_stack([j0, j0 + 1, j0, j0 + 1]) % glon.size
    w = np.column_stack([(1 - dy) * (1 - dx), (1 - dy) * dx, dy * (1 - dx), dy * dx])
    w = np.where(valid[ilat, ilon], w, 0.0)
    total = w.sum(axis=1, keepdims=True)
    return ilat, ilon, np.divide(w, total, out=np.zeros_like(w), where=total > 0)


def interpolated(X: pd.DataFrame, s: pd.DataFrame, columns=CONTINUOUS) -> pd.DataFrame:
    """``columns`` bilinearly interpolated to the sites' own coordinates (see module doc)."""
    stack = CONTEXT["stack"]
    ilat, ilon, w = bilinear_weights(stack, s["Latitude"].to_numpy(), s["Longitude"].to_numpy())
    some = w.sum(axis=1) > 0
    out = X.copy()
    for col in columns:
        grid = stack.layers[_layer_of(col)].values.astype(float)
        corners = np.where(w > 0, grid[ilat, ilon], 0.0)
        out[col] = np.where(some, (w * corners).sum(axis=1), X[col].to_numpy())
    return out


def moved_idw(X: pd.DataFrame, s: pd.DataFrame, radius_km: float = 55.0) -> pd.DataFrame:
    """Moved sites: inverse-distance (1/d) mean of the valid cells within ``radius_km`` for
    the continuous layers (the nearest valid cell's class stays)."""
    from rhbench.upscaling.sampling import great_circle_km

    stack = CONTEXT["stack"]
    valid = stack.valid()
    vlat, vlon = np.nonzero(valid)
    out = X.copy()
    for row in np.nonzero((s["cell_status"] == "moved").to_numpy())[0]:
        lat, lon = s["Latitude"].iloc[row], s["Longitude"].iloc[row]
        near = (np.abs(stack.lat[vlat] - lat) < 1.0) & (np.abs(((stack.lon[vlon] - lon + 180) % 360) - 180) < 2.0)
        km = great_circle_km(
            np.full(near.sum(), lat), np.full(near.sum(), lon), stack.lat[vlat[near]], stack.lon[vlon[near]]
        )
        inside = km <= radius_km
        w = 1.0 / np.maximum(km[inside], 1e-6)
        for col in CONTINUOUS:
            grid = stack.layers[_layer_of(col)].values.astype(float)
            out.loc[row, col] = float(np.sum(w * grid[vlat[near][inside], vlon[near][inside]]) / w.sum())
    return out


def derived(X: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    """Add derived predictors (functions of grid layers, computed alike at every cell):
    ``BMtot`` = BMa + BMb (kg C m-2), ``root_share`` = BMb / (BMa + BMb) (0 where no biomass),
    ``SOCxBD`` = SOC x BD, ``aridity`` = MAP / (MAT + 25) (mm yr-1 per deg C),
    ``MATxMAP`` = MAT x MAP."""
    total = X["BMa"] + X["BMb"]
    table = {
        "BMtot": total,
        "root_share": (X["BMb"] / total.where(total > 0)).fillna(0.0),
        "SOCxBD": X["SOC"] * X["BD"],
        "aridity": X["MAP"] / (X["MAT"] + ARIDITY_OFFSET_C),
        "MATxMAP": X["MAT"] * X["MAP"],
    }
    return X.assign(**{name: table[name] for name in names})


ALL_DERIVED = ("BMtot", "root_share", "SOCxBD", "aridity", "MATxMAP")


def _per_location(s: pd.DataFrame) -> np.ndarray:
    """Weight 1 / (rows at the location): every location counts once in training."""
    key = location_key(s)
    return (1.0 / key.map(key.value_counts())).to_numpy(float)


def _node_size_grouped() -> list[Variant]:
    """Node sizes under grouped folds (diagnostics), alone and with interpolated layers."""
    out = []
    for by in ("cell", "location"):
        out += [
            Variant(f"product rows, split 6, {by}-grouped folds (diagnostic)", base="product", grouped=by),
            Variant(
                f"product rows, leaf 5 (split 10), {by}-grouped folds (diagnostic)",
                base="product",
                split=10,
                leaf=5,
                grouped=by,
            ),
            Variant(
                f"product rows, leaf 5 + interpolated layers, {by}-grouped folds (diagnostic)",
                base="product",
                columns=interpolated,
                split=10,
                leaf=5,
                grouped=by,
            ),
        ]
    return out


def more_variants() -> list[Variant]:
    """This module's variants, in the order of docs/rf-experiments.md's table (all on the product rows, split 2)."""

    def product(name: str, **kw) -> Variant:
        return Variant(name, base="product", split=2, **kw)

    return [
        product("product (control, this harness)"),
        product("product + continuous layers interpolated to the site coordinates", columns=interpolated),
        product(
            "product + climate layers (MAT, MAP, Ndep) interpolated to the site coordinates",
            columns=lambda X, s: interpolated(X, s, CLIMATE),
        ),
        product(
            "product + 5 derived predictors (BMtot, root share, SOCxBD, aridity, MATxMAP)",
            columns=lambda X, s: derived(X, ALL_DERIVED),
        ),
        product("product + total biomass (BMa + BMb)", columns=lambda X, s: derived(X, ("BMtot",))),
        product("product + aridity MAP/(MAT+25)", columns=lambda X, s: derived(X, ("aridity",))),
        product("product + SOC x BD", columns=lambda X, s: derived(X, ("SOCxBD",))),
        product("product + moved sites: inverse-distance mean of valid cells within 55 km", columns=moved_idw),
        product("product + training weights YearsOfData", weight=lambda s: s["YearsOfData"].to_numpy(float)),
        product("product + training weights 1/(rows at the location)", weight=_per_location),
        product("product + sqrt(Rh) target, squared back", sqrt=True),
        product("product + bootstrap samples of 50 % of the rows", max_samples=0.5),
        product(
            "product + signed latitude (site / cell centre)",
            columns=lambda X, s: X.assign(lat=s["Latitude"].to_numpy()),
        ),
        Variant("product rows, leaf 5 (split 10)", base="product", split=10, leaf=5),
        product("product, location-grouped folds (diagnostic)", grouped="location"),
        product(
            "product + interpolated layers, location-grouped folds (diagnostic)",
            columns=interpolated,
            grouped="location",
        ),
        product("product, cell-grouped folds (diagnostic)", grouped="cell"),
        product("product + interpolated layers, cell-grouped folds (diagnostic)", columns=interpolated, grouped="cell"),
        product("product + moved-site IDW, location-grouped folds (diagnostic)", columns=moved_idw, grouped="location"),
        product("product + moved-site IDW, cell-grouped folds (diagnostic)", columns=moved_idw, grouped="cell"),
        product(
            "product + weights 1/(rows at the location), location-grouped folds (diagnostic)",
            weight=_per_location,
            grouped="location",
        ),
        *_node_size_grouped(),
        product(
            "product + 5 derived predictors, location-grouped folds (diagnostic)",
            columns=lambda X, s: derived(X, ALL_DERIVED),
            grouped="location",
        ),
    ]


def recall_baseline(seeds: tuple[int, ...] = (0, 1, 2, 3, 4)) -> None:
    """Print the scores of a forest-free baseline on the product's folds: a held-out row is
    predicted by the mean Rh of its location's rows in training, or by its zone's training
    mean when its location has none (how much of the CV score pure recall of a location gives)."""
    from rf_experiments import _folds, _site_table

    from rhbench.upscaling.forest import cv_scores

    _, sites = _site_table("product")
    y, key, zone = sites["Rh_annual"].to_numpy(float), location_key(sites).to_numpy(), sites["zone"].to_numpy()
    for seed in seeds:
        folds, pred = _folds(sites, "", seed), np.empty(len(y))
        for k in range(10):
            train = pd.DataFrame({"y": y, "key": key, "zone": zone})[folds != k]
            by_key, by_zone = train.groupby("key")["y"].mean(), train.groupby("zone")["y"].mean()
            test = folds == k
            pred[test] = pd.Series(key[test]).map(by_key).fillna(pd.Series(zone[test]).map(by_zone)).to_numpy()
        s = cv_scores(y, pred)
        print(f"seed {seed}: R2 {s['r2']:.3f} NSE {s['nse']:.3f} RMSE {s['rmse']:.1f}", flush=True)


if __name__ == "__main__":
    import sys

    if "--recall-baseline" in sys.argv:
        recall_baseline()
    else:
        run_table(more_variants(), __doc__.splitlines()[0])
