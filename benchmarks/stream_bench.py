"""Streaming benchmark: harmonise + reduce DGVM files versus a raw sequential read of them.

Every measurement runs in a fresh child process (``python -m benchmarks.stream_bench TASK
JSON``) that prints one JSON object with its result and its own peak RSS
(``resource.getrusage``), so each figure is that stage's alone. Before each read the
files' pages are dropped from the OS page cache (``posix_fadvise(DONTNEED)``, only for
these files), so the raw read and the pipeline both read from disk.

Tasks
-----
raw: read every data variable of the files fully, in sequence, with netCDF4 (in slabs of
    :data:`rhbench.loader.TIME_CHUNK` steps, the pipeline's chunk, so memory stays bounded;
    gzipped files are streamed through gzip). No masking, no scaling: bytes off the disk.
pipeline: for each model in turn, :func:`rhbench.harmonize.load_source` then
    :func:`rhbench.reduce.reduce_model` (one ``dask.compute`` of its annual means, then
    period means and yearly totals over the climate zones), then drop it.
demo: ``rhbench run`` end to end on the default synthetic demo (``RHBENCH_CACHE`` given),
    with or without the products cache (``--no-cache``).
upscale: the RF tuning grid of ``benchmarks/upscale_bench.py``.
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import netCDF4
import numpy as np

#: Bytes per gzip read when streaming a ``.nc.gz`` file.
GZIP_BLOCK = 1 << 22


def model_files(root: Path, names: list[str]) -> list[Path]:
    """The data files of the DGVMs ``names`` under the data root ``root``."""
    from rhbench import catalog
    from rhbench.registry import build_registry

    registry = build_registry()
    files = []
    for name in names:
        source = registry.sources[name]
        entry = catalog.entry_for(source)
        files += [catalog.resolve_file(root, entry.files[v], source=name) for v in source.variables]
    return files


def evict(paths: list[Path]) -> None:
    """Drop the files' pages from the OS page cache (a no-op where unsupported)."""
    if not hasattr(os, "posix_fadvise"):
        return
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def _read_netcdf(path: Path, steps: int) -> int:
    """Read every variable with a time-like leading dimension; return the bytes read."""
    total = 0
    with netCDF4.Dataset(path) as ds:
        for var in ds.variables.values():
            var.set_auto_maskandscale(False)
            if var.ndim < 3:
                total += np.asarray(var[...]).nbytes
                continue
            for start in range(0, var.shape[0], steps):
                total += np.asarray(var[start : start + steps]).nbytes
    return total


def raw_read(paths: list[Path]) -> dict:
    """Wall time (s) and bytes of reading every file's variables, sequentially."""
    from rhbench.loader import TIME_CHUNK

    started = time.perf_counter()
    array_bytes = 0
    for path in paths:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                while block := handle.read(GZIP_BLOCK):
                    array_bytes += len(block)
        else:
            array_bytes += _read_netcdf(path, TIME_CHUNK)
    return {"seconds": time.perf_counter() - started, "array_bytes": array_bytes}


def harmonise_reduce(root: Path, names: list[str], resolution: float = 0.5, scheduler: str = "threads") -> dict:
    """Wall time (s) of loading and reducing each model in turn, with dask ``scheduler``."""
    import dask

    from rhbench import grid, harmonize, reduce
    from rhbench.metrics.totals import climate_zone_masks
    from rhbench.registry import build_registry

    registry = build_registry()
    target = grid.common_grid(resolution)
    area = grid.cell_area(target["lat"], target["lon"])
    parts = reduce.partition(climate_zone_masks(area["lat"], area["lon"]), area)
    per_model = {}
    started = time.perf_counter()
    with dask.config.set(scheduler=scheduler):
        for name in names:
            begun = time.perf_counter()
            annual = harmonize.load_source(registry.sources[name], root, target)
            products = reduce.reduce_model(annual, area, parts, (1982, 2018))
            rh = products.totals["rh"].sum("lat").isel(lon=0).sel(year=slice(1982, 2018))
            per_model[name] = {
                "seconds": round(time.perf_counter() - begun, 2),
                "rh_global_pg_c_yr": round(float(rh.mean()) / 1e15, 2),
                "peak_rss_bytes_so_far": peak_rss_bytes(),
            }
            del annual, products
    return {"seconds": time.perf_counter() - started, "models": per_model}


def demo_run(out: Path, use_cache: bool = True) -> dict:
    """Wall time (s) of ``rhbench run --out OUT [--no-cache]`` (the default synthetic demo), in-process."""
    from rhbench.cli import main

    started = time.perf_counter()
    code = main(["run", "--out", str(out), "--force", *([] if use_cache else ["--no-cache"])])
    return {"seconds": time.perf_counter() - started, "exit_code": code}


def upscale() -> dict:
    """The RF tuning grid benchmark of ``benchmarks/upscale_bench.py``."""
    from benchmarks.upscale_bench import bench_upscale

    return bench_upscale()


TASKS = {
    "raw": lambda a: raw_read([Path(p) for p in a["paths"]]),
    "pipeline": lambda a: harmonise_reduce(
        Path(a["root"]), a["models"], a["resolution"], a.get("scheduler", "threads")
    ),
    "demo": lambda a: demo_run(Path(a["out"]), a.get("use_cache", True)),
    "upscale": lambda a: upscale(),
}


def peak_rss_bytes() -> int:
    """Peak resident set size of this process, bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(task: str, args: dict, env: dict | None = None) -> dict:
    """Run one task in a child process; its JSON result plus ``peak_rss_bytes``."""
    command = [sys.executable, "-m", "benchmarks.stream_bench", task, json.dumps(args)]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=Path(__file__).resolve().parents[1],
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmark task {task} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    """Child entry point: ``TASK JSON`` -> one JSON line on stdout."""
    task, args = argv[0], json.loads(argv[1])
    result = TASKS[task](args)
    result["peak_rss_bytes"] = peak_rss_bytes()
    sys.stdout.flush()
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
