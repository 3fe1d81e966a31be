"""ilamb3's side of the side-by-side benchmark (:mod:`benchmarks.ilamb3_bench`).

Runs in ilamb3's own environment (it imports neither rhbench nor this repository's
packages): ``/tmp/ilamb3-venv/bin/python benchmarks/ilamb3_worker.py JSON`` where JSON holds
``reference`` (a netCDF file), ``models`` (name -> file) and ``variable``. For each model it
opens the reference and the model with xarray, as ilamb3's ``run_single_block`` does, and
runs ilamb3's Bias, RMSE and Spatial distribution analyses through ``ilamb3.run.run_analyses``
(no figures, no page), then ``add_overall_score``. Prints one JSON line: the seconds after
imports, the number of score rows, the mean Overall score and the peak RSS of this process.
"""

from __future__ import annotations

import json
import resource
import sys
import time


def main(argv: list[str]) -> None:
    """``JSON`` -> one JSON line on stdout."""
    args = json.loads(argv[0])
    imported = time.perf_counter()
    import pandas as pd
    import xarray as xr
    from ilamb3.analysis.base import add_overall_score
    from ilamb3.analysis.bias import bias_analysis
    from ilamb3.analysis.rmse import rmse_analysis
    from ilamb3.analysis.spatial_distribution import spatial_distribution_analysis
    from ilamb3.run import run_analyses

    variable = args["variable"]
    analyses = {
        "Bias": bias_analysis(variable),
        "RMSE": rmse_analysis(variable),
        "Spatial Distribution": spatial_distribution_analysis(variable),
    }
    import_seconds = time.perf_counter() - imported
    started = time.perf_counter()
    frames = []
    for name, path in args["models"].items():
        ref = xr.open_dataset(args["reference"])
        com = xr.open_dataset(path)
        scores, _, _ = run_analyses(ref, com, analyses)
        scores["source"] = scores["source"].str.replace("Comparison", name)
        frames.append(scores)
    table = add_overall_score(pd.concat(frames).drop_duplicates(subset=["source", "region", "analysis", "name"]))
    overall = table[(table["name"].str.startswith("Overall")) & (table["source"] != "Reference")]
    result = {
        "seconds": time.perf_counter() - started,
        "import_seconds": import_seconds,
        "rows": len(table),
        "overall_score_mean": float(overall["value"].mean()) if len(overall) else None,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    sys.stdout.flush()
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
