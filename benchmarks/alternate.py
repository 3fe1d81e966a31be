"""Old code against new code on a shared, noisy machine: alternated runs, medians of wall and CPU time.

Usage::

    python -m benchmarks.alternate --old COMMIT --config CASE.toml [--rounds 9] [--what confront,run]

``COMMIT`` (any git revision of this repository) is exported once into a folder laid out as
the installed package (``rhbench``, ``rhbench.plugins``, ``rhbench.catalogs``) and put first
on ``PYTHONPATH`` for the old side; the new side is the installed rhbench. Both trees are
byte-compiled first. Each round runs every measurement once per side, the side that goes
first swapped every round, each in a fresh process:

- ``confront``: the side by side's confrontation stage (:func:`benchmarks.ilamb3_bench.confront`:
  the pipeline without its writers, after imports and xarray's lazy imports), wall and
  CPU seconds (user + system of the process and its threads);
- ``run``: ``rhbench -q run --config CASE.toml --out DIR --force`` end to end (the console
  script's entry point, ``rhbench.cli:console``: revisions from session 4 on have it), wall
  and CPU seconds of the child.

CPU time moves less than wall time when other work shares the cores. Prints one line per
measurement and side (median, min, max) with the load average and the UTC time, and writes
the samples as JSON (``--json``). The case configurations are those of
:mod:`benchmarks.ilamb3_bench` (``DIR/annual-1.toml`` ...); the files are SYNTHETIC.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.workdir import claim_report_file

_REPO = Path(__file__).resolve().parent.parent
#: The package folders of the repository and where the installed package has them.
_LAYOUT = {"benchmark": "rhbench", "plugins": "rhbench/plugins", "catalogs": "rhbench/catalogs"}
#: Key marking a --json file as samples this script wrote (it may replace only such a file).
REPORT_MARKER = "rhbench_alternate"
_CONSOLE = "import sys; from rhbench.cli import console; sys.argv[0] = 'rhbench'; console()"


def export_tree(revision: str, dest: Path) -> Path:
    """``revision`` of this repository as an importable ``rhbench`` under ``dest`` (byte-compiled);
    returns the folder to put on ``PYTHONPATH``."""
    source = dest / "src"
    source.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(_REPO), "archive", revision], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
    path = dest / "path"
    for folder, target in _LAYOUT.items():
        shutil.copytree(source / folder, path / target, dirs_exist_ok=True)
    compileall.compile_dir(str(path), quiet=2)
    return path


def confront_task(config: str, out: str) -> dict:
    """In this process: the confrontation stage's wall and CPU seconds (imports and backend discovery first)."""
    from benchmarks import ilamb3_bench
    from rhbench.config import load_config

    ilamb3_bench.warm_xarray()  # xarray's lazy imports first, as in ilamb3_bench
    models = list(load_config(Path(config)).models or [])
    cpu = time.process_time()
    result = ilamb3_bench.confront({"config": config, "out": out, "models": models})
    if result["seconds"] is None:
        raise RuntimeError(f"the confrontation failed: {result.get('error')}")
    return {"wall": result["seconds"], "cpu": time.process_time() - cpu}


def _child(command: list[str], env: dict, *, reports: bool) -> dict:
    """Run ``command``: its own report (its last stdout line, JSON) when it ``reports``, else its
    wall and CPU seconds (``os.wait4``). Exit 3 (optional products absent) is a run."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, cwd=_REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    output = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if child.returncode not in (0, 3):
        raise RuntimeError(f"{' '.join(command[:4])} ... exited {child.returncode}")
    if reports:
        return json.loads(output.strip().splitlines()[-1])
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime}


def measure(side: str, what: str, config: str, out: Path, old_path: Path | None) -> dict:
    """One measurement ``what`` (confront or run) of ``side`` (old or new) in a fresh process."""
    env = dict(os.environ)
    if side == "old" and old_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(old_path), env.get("PYTHONPATH")]))
    folder = str(out / f"{what}-{side}")
    if what == "confront":
        return _child([sys.executable, "-m", "benchmarks.alternate", "--task", config, folder], env, reports=True)
    command = [sys.executable, "-c", _CONSOLE, "-q", "run", "--config", config, "--out", folder, "--force"]
    return _child(command, env, reports=False)


def alternate(config: str, rounds: int, what: list[str], out: Path, old_path: Path | None) -> dict:
    """``rounds`` rounds of every measurement on both sides, the first side swapped each round."""
    samples: dict[str, dict[str, list[dict]]] = {w: {"old": [], "new": []} for w in what}
    for index in range(rounds):
        order = ("old", "new") if index % 2 == 0 else ("new", "old")
        for name in what:
            for side in order:
                samples[name][side].append(measure(side, name, config, out, old_path))
    return samples


def summary(samples: dict, config: str) -> list[str]:
    """One line per measurement and side: medians (and ranges) of wall and CPU seconds."""
    lines = []
    for name, sides in samples.items():
        for side, runs in sides.items():
            wall, cpu = [r["wall"] for r in runs], [r["cpu"] for r in runs]
            lines.append(
                f"{Path(config).stem} {name:8s} {side}: wall median {statistics.median(wall):.3f} s "
                f"({min(wall):.3f}-{max(wall):.3f}), CPU median {statistics.median(cpu):.3f} s "
                f"({min(cpu):.3f}-{max(cpu):.3f}), n={len(runs)}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.alternate", description=__doc__.splitlines()[0])
    parser.add_argument("--old", help="git revision of the old code (default: both sides run the installed code)")
    parser.add_argument("--config", help="a case configuration (e.g. /tmp/rhbench-bench/ilamb3/annual-1.toml)")
    parser.add_argument("--rounds", type=int, default=9, help="rounds (default 9)")
    parser.add_argument("--what", default="confront,run", help="measurements (default confront,run)")
    parser.add_argument("--json", type=Path, help="write the samples here")
    parser.add_argument("--task", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.task:
        print(json.dumps(confront_task(*args.task)))
        return 0
    if args.json:  # checked before the rounds: a user's file is never replaced
        claim_report_file(args.json, REPORT_MARKER)
    with tempfile.TemporaryDirectory(prefix="rhbench-alternate-") as tmp:
        old_path = export_tree(args.old, Path(tmp) / "old") if args.old else None
        compileall.compile_dir(str(_REPO / "benchmark"), quiet=2)
        print(f"start {dt.datetime.now(dt.UTC):%H:%M:%S} UTC, load {os.getloadavg()[0]:.2f}")
        samples = alternate(args.config, args.rounds, args.what.split(","), Path(tmp), old_path)
        print(f"end {dt.datetime.now(dt.UTC):%H:%M:%S} UTC, load {os.getloadavg()[0]:.2f} (SYNTHETIC files)")
    print("\n".join(summary(samples, args.config)))
    if args.json:
        args.json.write_text(json.dumps({REPORT_MARKER: True, **samples}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
