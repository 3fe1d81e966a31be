"""Time :func:`rhbench.kernels.nanmean_years` against its previous formulation (session 10, second round).

Usage::

    python -m benchmarks.period_mean [FILE.nc VARIABLE] [--repeats 9]

Without a file: three synthetic 37 x 360 x 720 float32 stacks (seed 0): ``coherent`` (the lower
quarter of the rows missing every year: an ocean), ``fragmented`` (70 % of the cells, scattered,
missing every year) and ``gappy`` (1 % of the values missing at random: ~31 % of the cells missing
in some year, the new kernel's worst case). With a file: its variable, cast to float32 when
it is another type, as the loader holds it. Prints the fastest of ``--repeats`` runs of each
formulation in ms and whether their results have the same bits.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import xarray as xr

from rhbench import kernels


def zero_filled(values: np.ndarray) -> np.ndarray:
    """The previous kernel: each year copied, its NaNs set to zero and added, in year order, in float64."""
    total = np.zeros(values.shape[1:], dtype="float64")
    absent = np.zeros(values.shape[1:], dtype=np.int32)
    missing, term = np.empty(values.shape[1:], bool), np.empty(values.shape[1:], values.dtype)
    for step in values:
        np.isnan(step, out=missing)
        np.copyto(term, step)
        np.copyto(term, 0, where=missing)
        total += term
        absent += missing
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / (values.shape[0] - absent)


def _fastest(function, repeats: int) -> tuple[float, np.ndarray]:
    result, best = function(), float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best * 1e3, result


def _cases(args: argparse.Namespace) -> dict[str, np.ndarray]:
    if args.file:
        with xr.open_dataset(args.file) as ds:
            values = ds[args.variable].values
        return {args.file: values if values.dtype == np.float64 else values.astype(np.float32)}
    rng = np.random.default_rng(0)
    shape = (37, 360, 720)
    coherent = rng.random(shape, dtype=np.float32)
    coherent[:, : shape[1] // 4] = np.nan
    fragmented = rng.random(shape, dtype=np.float32)
    fragmented[:, rng.random(shape[1:]) < 0.7] = np.nan
    gappy = rng.random(shape, dtype=np.float32)
    gappy[rng.random(shape) < 0.01] = np.nan
    return {"coherent": coherent, "fragmented": fragmented, "gappy": gappy}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?")
    parser.add_argument("variable", nargs="?", default="rh")
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    for name, values in _cases(args).items():
        data = xr.DataArray(values, dims=("year", "lat", "lon"))
        old_ms, old = _fastest(lambda v=values: zero_filled(v), args.repeats)
        new_ms, new = _fastest(lambda d=data: kernels.nanmean_years(d).values, args.repeats)
        same = np.array_equal(old.view(np.int64), new.view(np.int64))
        print(f"{name}: previous {old_ms:.1f} ms, nanmean_years {new_ms:.1f} ms, same bits: {same}")


if __name__ == "__main__":
    main()
