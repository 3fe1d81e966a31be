"""Stage timer of the confrontation: named functions timed inside it, fresh and warm.

Usage::

    python -m benchmarks.stages CASE.toml [--specs module:function,...]
    python -m benchmarks.stages CASE.toml --alternate OLD_TREE [--rounds 9] [--specs ...]

The confrontation is :func:`benchmarks.ilamb3_bench.confront`'s: ``rhbench.pipeline.run`` on the
configuration with the output writers replaced by a no-op, after imports and xarray's lazy imports
(:func:`benchmarks.ilamb3_bench.warm_xarray`). It runs twice in one process: ``fresh`` (first
calls, rhbench's lazy imports and all) and ``warm`` (a second run in the same process). Each
function named in ``--specs`` (default :data:`DEFAULT_SPECS`) is wrapped and its inclusive seconds
and calls are summed per run, so the lines of one run may overlap (a stage inside another).

``--alternate OLD_TREE`` runs the timer ``--rounds`` times in fresh child processes, alternating
the installed code ("new") with ``OLD_TREE`` put first on ``PYTHONPATH`` ("old": a folder laid out
as the package, e.g. ``git archive REV`` with ``benchmark`` renamed ``rhbench``), and prints the
medians and minima of each stage: machine load then falls on both sides alike. Seconds of wall
time; the machine is shared, so only alternated medians compare code.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

DEFAULT_SPECS = (
    "rhbench.pipeline:build_registry,rhbench.cmip6:register,rhbench.provenance:prefetch_input_checksums,"
    "rhbench.observations:assemble,rhbench.pipeline:_reduce_models,rhbench.pipeline:evaluate,"
    "rhbench.metrics.ensemble:summarize"
)


def _wrap(spec: str, seconds: dict, calls: dict) -> None:
    """Wrap ``module:function`` (or ``module:Class.method``) where it is defined and wherever an
    rhbench module imported the same object by name."""
    module_name, name = spec.split(":")
    module = importlib.import_module(module_name)
    owner, attr = (getattr(module, name.split(".")[0]), name.split(".")[1]) if "." in name else (module, name)
    original = getattr(owner, attr)

    @functools.wraps(original)
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            seconds[spec] += time.perf_counter() - started
            calls[spec] += 1

    setattr(owner, attr, timed)
    for other in list(sys.modules.values()):
        if getattr(other, "__name__", "").startswith("rhbench") and getattr(other, attr, None) is original:
            setattr(other, attr, timed)


def measure(config_path: str, specs: str = DEFAULT_SPECS, out: str | None = None) -> dict:
    """``{"fresh": {...}, "warm": {...}}``: each run's ``confrontation`` seconds and, per spec,
    ``[seconds, calls]``. ``out``: the output folder claimed (nothing is written in it)."""
    from types import SimpleNamespace
    from unittest import mock

    from benchmarks import ilamb3_bench
    from rhbench import outputs, pipeline
    from rhbench.config import load_config

    ilamb3_bench.warm_xarray()  # as in ilamb3_bench: not part of the work measured
    seconds: dict = defaultdict(float)
    calls: dict = defaultdict(int)
    for spec in specs.split(","):
        _wrap(spec, seconds, calls)
    written = SimpleNamespace(synthetic=True, provenance={"data": {}})
    folder = Path(out or Path(config_path).with_suffix(".stages-out"))
    result = {}
    for label in ("fresh", "warm"):
        seconds.clear()
        calls.clear()
        config = dataclasses.replace(load_config(Path(config_path)), out=folder, force=True)
        started = time.perf_counter()
        with mock.patch.object(outputs, "write_all", lambda *a, **k: written):
            pipeline.run(config)
        stages = {spec: [seconds[spec], calls[spec]] for spec in specs.split(",")}
        result[label] = {"confrontation": time.perf_counter() - started, "stages": stages}
    return result


def alternate(config_path: str, old_tree: str, rounds: int, specs: str = DEFAULT_SPECS) -> dict:
    """Per side ("old", "new"), run ("fresh", "warm") and stage: the list of seconds of ``rounds``
    fresh child processes, the two sides alternated."""
    samples: dict = defaultdict(list)
    for _ in range(rounds):
        for side in ("old", "new"):
            env = dict(os.environ)
            if side == "old":
                env["PYTHONPATH"] = os.pathsep.join(filter(None, [old_tree, env.get("PYTHONPATH")]))
            command = [sys.executable, "-m", "benchmarks.stages", config_path, "--specs", specs, "--json"]
            child = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            for label, run in json.loads(child.stdout.splitlines()[-1]).items():
                samples[(side, label, "confrontation")].append(run["confrontation"])
                for spec, (spent, _) in run["stages"].items():
                    samples[(side, label, spec)].append(spent)
    return samples


def show_alternation(samples: dict, specs: str = DEFAULT_SPECS) -> str:
    """One line per run and stage: old and new medians and minima in ms."""
    lines = []
    for label in ("fresh", "warm"):
        for stage in ["confrontation", *specs.split(",")]:
            old, new = samples.get(("old", label, stage)), samples.get(("new", label, stage))
            if old and new:
                lines.append(
                    f"{label:5s} {stage:45s} old {statistics.median(old) * 1e3:7.1f} ms (min {min(old) * 1e3:6.1f})"
                    f"  new {statistics.median(new) * 1e3:7.1f} ms (min {min(new) * 1e3:6.1f})  n={len(new)}"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stages", description=__doc__.split("\n")[0])
    parser.add_argument("config", help="a run configuration (TOML), e.g. one written by benchmarks.ilamb3_bench")
    parser.add_argument("--specs", default=DEFAULT_SPECS, help="module:function,... to time")
    parser.add_argument("--alternate", metavar="OLD_TREE", help="alternate with the code in OLD_TREE")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--json", action="store_true", help="print one JSON line (used by --alternate)")
    args = parser.parse_args(argv)
    if args.alternate:
        print(show_alternation(alternate(args.config, args.alternate, args.rounds, args.specs), args.specs))
        return
    result = measure(args.config, args.specs)
    if args.json:
        print(json.dumps(result))
        return
    for label, run in result.items():
        print(f"{label}: confrontation {run['confrontation']:.3f} s")
        for spec, (spent, count) in run["stages"].items():
            print(f"   {spent:.4f} s  {count:3d}x  {spec}")


if __name__ == "__main__":
    main()
