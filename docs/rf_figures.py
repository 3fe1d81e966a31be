"""Draw the README figures of the REAL Random Forest Rh product from an ``rhbench upscale`` folder.

Usage: ``python docs/rf_figures.py UPSCALE_DIR [--dest docs]`` writes ``rf_real_map.png``
(ensemble-mean Rh, g C m-2 yr-1) and ``rf_real_cv_scatter.png`` (observed vs out-of-fold
predicted site Rh), each labelled with the product's data label (REAL / SYNTHETIC). A --dest
other than this folder that already holds a file of either name is refused (nothing overwritten).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import xarray as xr

from rhbench.errors import OutputExistsError
from rhbench.report import plots

#: This folder: its committed figures are redrawn in place; any other --dest keeps its files.
DOCS = Path(__file__).resolve().parent


def _map(rh: xr.DataArray, title: str, path: Path) -> None:
    """Full-resolution map with coastlines, viridis, colour scale 2-98th percentile."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(8.0, 4.0), layout="constrained")
    low, high = np.nanpercentile(rh.values, [2, 98])
    mesh = ax.pcolormesh(rh["lon"], rh["lat"], rh, cmap="viridis", vmin=low, vmax=high, shading="nearest")
    for line in plots.coastline_segments():
        ax.plot(line[:, 0], line[:, 1], color="0.35", linewidth=0.3)
    ax.set(xlim=(-180, 180), ylim=(-60, 85), xlabel="longitude (deg)", ylabel="latitude (deg)")
    ax.set_title(title, fontsize=9)
    fig.colorbar(mesh, ax=ax, label="Rh (g C m-2 yr-1)", shrink=0.8)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _refuse_users_files(dest: Path, written: list[Path]) -> None:
    """Refuse to draw over a file in a ``--dest`` other than this docs folder (a user's file)."""
    if dest.resolve() == DOCS:
        return  # the committed figures, redrawn
    for path in written:
        if path.exists() or path.is_symlink():
            raise OutputExistsError(
                "--dest already holds a file of this name: not overwritten",
                file=str(path),
                expected="a --dest without rf_real_map.png / rf_real_cv_scatter.png (or the docs folder)",
            )


def main(argv: list[str] | None = None) -> list[Path]:
    """Draw both figures; print and return the paths written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="output folder of rhbench upscale (with rh_rf.nc)")
    parser.add_argument("--dest", type=Path, default=DOCS)
    args = parser.parse_args(argv)
    written = [args.dest / "rf_real_map.png", args.dest / "rf_real_cv_scatter.png"]
    _refuse_users_files(args.dest, written)
    metrics = json.loads((args.folder / "cv_metrics.json").read_text())
    label = metrics["data_label"]
    with xr.open_dataset(args.folder / "rh_rf.nc") as product:
        rh = product["rh"].load()
    total = f"{metrics['global_total_PgC_per_yr']:.1f} +- {metrics['global_total_sd_PgC_per_yr']:.1f} Pg C/yr"
    title = f"{label}: Random Forest Rh (SRDB v5 + Jian et al. 2020 predictors), global {total}"
    _map(rh, title, written[0])
    oof = pd.read_csv(args.folder / "oof_predictions.csv")
    scores = {k: metrics[k] for k in ("n_obs", "r2", "nse", "rmse")}
    unseen = {k: v for k, v in metrics.items() if k.startswith("location_grouped_")}  # absent: older product
    plots.write_png(plots.rf_scatter(oof, metrics={**scores, **unseen}), written[1])
    print(f"{label} figures of {args.folder} written:")  # a script: the user is told what it wrote
    print(f"  {written[0]}  (Rh map, g C m-2 yr-1; global {total})")
    print(f"  {written[1]}  (CV scatter: R2 {scores['r2']:.3f}, NSE {scores['nse']:.3f}, n {scores['n_obs']})")
    if unseen.get("location_grouped_r2") is not None:
        r2, nse = unseen["location_grouped_r2"], unseen["location_grouped_nse"]
        print(f"  at unseen locations (location-grouped CV): R2 {r2:.3f}, NSE {nse:.3f}")
    return written


if __name__ == "__main__":
    main()
