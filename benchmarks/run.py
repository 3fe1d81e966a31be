"""Speed and memory of rhbench against its targets, on a full-size SYNTHETIC ensemble.

Usage::

    python -m benchmarks [--models N] [--out DIR] [--quick] [--scheduler NAME] [--repeats R]

Generates (once; reused while ``DIR/data/demo.json`` matches) the synthetic ensemble
``rhbench demo --resolution 0.5 --monthly --models N`` (N default 4: 0.5 deg, monthly,
1901-2018, ~8.8 GB per model) under ``DIR/data`` and measures, each stage in a child
process (see :mod:`benchmarks.stream_bench`):

- for the last 2 and all N models: input bytes, a raw sequential netCDF4 read of the same
  files, the harmonise + reduce stage (wall time, throughput, ratio to the raw read, peak
  RSS, and the peak RSS after each model), always cold: it calls the harmonise and reduce
  functions directly, never the products cache (:mod:`rhbench.cache`);
- the end-to-end default demo (``rhbench run``): with generation (cold cache), with the
  demo data cached but the models read again (``--no-cache``), and from the products cache;
- the 2-box Monte Carlo and the 2-box kernel ``twobox.simulate`` over every run
  (``benchmarks/twobox_bench.py``) and the RF tuning grid + real map (``benchmarks/upscale_bench.py``);
- the side by side with ilamb3 (:mod:`benchmarks.ilamb3_bench`: 1/2/4 models, annual and
  monthly; skipped with a message when ilamb3's environment is not installed).

Writes ``DIR/rhbench.json`` and prints a table. Exit 1 when a target is not met.
``--quick`` is a smoke test: a 2-degree ensemble and the ilamb3 case with one annual model
only; it reports every measurement and verdict but always exits 0, since the targets hold
at full size only. All data are SYNTHETIC.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.stream_bench import evict, measure, model_files
from benchmarks.workdir import claim_workdir

#: The targets of issues 8 and 18 (this 2-core machine); the ilamb3 side by side has its own
#: (:data:`benchmarks.ilamb3_table.TARGETS`).
TARGETS = {
    "throughput_ratio_min": 0.5,
    "peak_rss_bytes_max": 4 * 2**30,
    "rss_growth_max": 1.25,
    "demo_seconds_max": 60.0,
    "twobox_seconds_max": 0.1,
    "rf_seconds_max": 60.0,
}
DEFAULT_OUT = Path("/tmp/rhbench-bench")


def generate(root: Path, n_models: int, resolution: float) -> float | None:
    """Write the synthetic ensemble unless ``root`` already holds it; seconds taken or None."""
    marker = root / "demo.json"
    truth = root / "truth.json"
    if marker.is_file() and truth.is_file():
        meta, dgvms = json.loads(marker.read_text()), json.loads(truth.read_text())["dgvm"]
        if meta.get("resolution") == resolution and meta.get("monthly") and len(dgvms) == n_models:
            return None
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rhbench.cli",
            "--quiet",
            "demo",
            "--resolution",
            str(resolution),
            "--monthly",
            "--models",
            str(n_models),
            "--out",
            str(root),
            "--force",
        ],
        check=True,
    )
    return time.perf_counter() - started


def dgvm_names(n_models: int) -> list[str]:
    """The first ``n_models`` DGVMs, as ``rhbench demo --models`` picks them."""
    from rhbench.registry import build_registry

    return [s.name for s in build_registry().of_kind("dgvm")[:n_models]]


def stream(root: Path, names: list[str], resolution: float, scheduler: str, repeats: int) -> dict:
    """Raw read versus harmonise + reduce of the files of ``names``, both from a cold cache.

    The two alternate ``repeats`` times; the best (shortest) time of each is reported, the
    largest peak RSS of the pipeline, and every time in ``*_all``.
    """
    files = model_files(root, names)
    size = sum(p.stat().st_size for p in files)
    raws, pipes = [], []
    for _ in range(repeats):
        evict(files)
        raws.append(measure("raw", {"paths": [str(p) for p in files]}))
        evict(files)
        pipes.append(
            measure("pipeline", {"root": str(root), "models": names, "resolution": resolution, "scheduler": scheduler})
        )
    raw = min(raws, key=lambda r: r["seconds"])
    pipe = min(pipes, key=lambda r: r["seconds"])
    raw_rate, pipe_rate = size / raw["seconds"], size / pipe["seconds"]
    return {
        "models": names,
        "input_bytes": size,
        "raw_read_seconds": round(raw["seconds"], 2),
        "raw_read_mb_s": round(raw_rate / 1e6, 1),
        "raw_read_seconds_all": [round(r["seconds"], 2) for r in raws],
        "raw_read_peak_rss_bytes": max(r["peak_rss_bytes"] for r in raws),
        "seconds": round(pipe["seconds"], 2),
        "mb_s": round(pipe_rate / 1e6, 1),
        "seconds_all": [round(r["seconds"], 2) for r in pipes],
        "throughput_ratio": round(pipe_rate / raw_rate, 3),
        "peak_rss_bytes": max(r["peak_rss_bytes"] for r in pipes),
        "per_model": pipe["models"],
    }


def demo(out: Path) -> dict:
    """End-to-end default demo: fresh demo cache (generation, then reading the models); then
    with the demo data cached, reading the models again (``--no-cache``) and from the
    products cache (:mod:`rhbench.cache`)."""
    cache = out / "demo-cache"
    shutil.rmtree(cache, ignore_errors=True)
    runs = {}
    for label, use_cache in (("with_generation", True), ("data_cached_no_cache", False), ("products_cached", True)):
        result = measure(
            "demo", {"out": str(out / f"demo-run-{label}"), "use_cache": use_cache}, env={"RHBENCH_CACHE": str(cache)}
        )
        runs[label] = {
            "seconds": round(result["seconds"], 2),
            "exit_code": result["exit_code"],
            "peak_rss_bytes": result["peak_rss_bytes"],
        }
    return runs


def _optional(module: str) -> object | None:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def twobox() -> dict | None:
    """``bench_twobox()`` of benchmarks/twobox_bench.py, if present."""
    bench = _optional("benchmarks.twobox_bench")
    return None if bench is None else bench.bench_twobox()


def simulate() -> dict | None:
    """``bench_simulate()`` (the 2-box kernel over 10,000 crossed runs) of benchmarks/twobox_bench.py."""
    bench = _optional("benchmarks.twobox_bench")
    return None if bench is None else bench.bench_simulate()


def ilamb3(out: Path, quick: bool) -> dict | None:
    """The side by side with ilamb3 (:func:`benchmarks.ilamb3_bench.run_all`)."""
    from benchmarks import ilamb3_bench

    python = ilamb3_bench.ilamb3_python()
    if python is None:
        print("ilamb3 not installed: the side by side is rhbench-only (see benchmarks/ilamb3_bench.py).")
    counts, freqs = ([1], ["annual"]) if quick else ([1, 2, 4], ["annual", "monthly"])
    return ilamb3_bench.run_all(out / "ilamb3", counts, freqs, python)


def upscale() -> dict | None:
    """``bench_upscale()`` of benchmarks/upscale_bench.py (child process), if it can run."""
    bench = _optional("benchmarks.upscale_bench")
    if bench is None or not Path(bench.DEFAULT_SRDB).is_file():
        return None
    return measure("upscale", {})


def verdicts(report: dict) -> dict[str, bool]:
    """Each target of issue 8: met or not (absent measurements are left out)."""
    streams = report["stream"]
    largest = streams[-1]
    met = {
        "throughput >= 50 % of raw read": all(
            s["throughput_ratio"] >= TARGETS["throughput_ratio_min"] for s in streams
        ),
        "peak RSS < 4 GB": all(s["peak_rss_bytes"] < TARGETS["peak_rss_bytes_max"] for s in streams),
    }
    if len(streams) > 1:
        growth = largest["peak_rss_bytes"] / streams[0]["peak_rss_bytes"]
        report["rss_growth"] = round(growth, 3)
        met["peak RSS not growing with models"] = growth < TARGETS["rss_growth_max"]
    if report.get("demo"):
        met["demo < 60 s"] = all(r["seconds"] < TARGETS["demo_seconds_max"] for r in report["demo"].values())
    if report.get("twobox"):
        met["2-box Monte Carlo < 0.1 s"] = report["twobox"]["seconds"] < TARGETS["twobox_seconds_max"]
    if report.get("simulate"):
        seconds = report["simulate"]["seconds"]
        met["2-box simulate 10,000 x 17 x 118 <= 0.1 s"] = seconds <= TARGETS["twobox_seconds_max"]
    if report.get("ilamb3"):
        met.update({k: v for k, v in report["ilamb3"]["targets_met"].items() if v is not None})
    if report.get("upscale"):
        met["RF tuning grid + real map < 60 s"] = report["upscale"]["seconds"] < TARGETS["rf_seconds_max"]
    return met


def table(report: dict) -> str:
    """The report as a Markdown table (for the README's Performance section)."""
    gib = 2**30
    lines = ["| measurement | value | target |", "|---|---|---|"]
    for s in report["stream"]:
        n = len(s["models"])
        lines += [
            f"| input, {n} models | {s['input_bytes'] / 1e9:.1f} GB | |",
            f"| raw netCDF4 read, {n} models | {s['raw_read_seconds']:.1f} s ({s['raw_read_mb_s']:.0f} MB/s) | |",
            f"| harmonise + reduce, {n} models | {s['seconds']:.1f} s ({s['mb_s']:.0f} MB/s) | |",
            f"| throughput / raw read, {n} models | {100 * s['throughput_ratio']:.0f} % | >= 50 % |",
            f"| peak RSS, {n} models | {s['peak_rss_bytes'] / gib:.2f} GB | < 4 GB |",
        ]
    for label, run in (report.get("demo") or {}).items():
        lines.append(f"| demo end to end, {label.replace('_', ' ')} | {run['seconds']:.1f} s | < 60 s |")
    if report.get("twobox"):
        lines.append(
            f"| 2-box Monte Carlo ({report['twobox']['n_runs']} runs x "
            f"{report['twobox']['n_models']} models) | {report['twobox']['seconds']:.3f} s | < 0.1 s |"
        )
    if report.get("simulate"):
        lines.append(
            f"| 2-box simulate ({report['simulate']['n_runs']} runs x "
            f"{report['simulate']['n_models']} models) | {report['simulate']['seconds']:.3f} s | <= 0.1 s |"
        )
    if report.get("upscale"):
        lines.append(f"| RF tuning grid + real map | {report['upscale']['seconds']:.1f} s | < 60 s |")
    if report.get("ilamb3"):
        from benchmarks.ilamb3_table import table as ilamb3_table

        lines += ["", "Side by side with ilamb3 (seconds; SYNTHETIC 0.5 degree Rh files):", ""]
        lines.append(ilamb3_table(report["ilamb3"]["cases"]))
    lines.append("")
    lines += [f"- {'met' if ok else 'NOT MET'}: {name}" for name, ok in report["targets_met"].items()]
    if report.get("quick"):
        lines.append("- (--quick: a smoke test on a 2-degree grid; the targets hold at full size only)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark; exit 0 when every target is met (always with ``--quick``), 1 otherwise."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=4, help="DGVMs in the ensemble (default 4)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"work folder ({DEFAULT_OUT})")
    parser.add_argument("--quick", action="store_true", help="2-degree grid: a smoke test, not the targets")
    parser.add_argument("--scheduler", default="threads", help="dask scheduler of the stream stage")
    parser.add_argument(
        "--repeats", type=int, default=2, help="alternating raw/pipeline measurements per model set; best kept (2)"
    )
    args = parser.parse_args(argv)
    resolution = 2.0 if args.quick else 0.5
    claim_workdir(args.out)  # never a user's folder: demo() clears out/demo-cache
    root = args.out / ("data-quick" if args.quick else "data")
    names = dgvm_names(args.models)
    report: dict = {
        "synthetic": True,
        "machine": {"python": platform.python_version(), "cpus": _cpus(), "platform": platform.platform()},
        "resolution": resolution,
        "monthly": True,
        "scheduler": args.scheduler,
        "quick": args.quick,
    }
    report["generation_seconds"] = generate(root, args.models, resolution)
    report["load_average_before"] = os.getloadavg()
    # the smaller set is the *last* two models, so both sets hold the same largest model
    # and a difference in peak RSS would come from the number of models alone
    counts = sorted({min(2, args.models), args.models})
    report["stream"] = [stream(root, names[-n:], resolution, args.scheduler, args.repeats) for n in counts]
    report["demo"] = demo(args.out)
    report["twobox"] = twobox()
    report["simulate"] = simulate()
    report["upscale"] = upscale()
    report["ilamb3"] = ilamb3(args.out, args.quick)
    report["load_average_after"] = os.getloadavg()  # other processes share the 2 cores
    report["targets"] = TARGETS
    report["targets_met"] = verdicts(report)
    (args.out / "rhbench.json").write_text(json.dumps(report, indent=2))
    print(table(report))
    print(f"\n(SYNTHETIC data; JSON in {args.out / 'rhbench.json'})")
    return 0 if args.quick or all(report["targets_met"].values()) else 1


def _cpus() -> int | None:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
