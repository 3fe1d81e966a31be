"""Wall-clock timeline of one ``rhbench run`` in a fresh process: where its seconds go.

Usage::

    python -m benchmarks.timeline --config CASE.toml --out DIR [--repeats 3] [--workers N]

The run is the console script's (:func:`rhbench.cli.console`) in a child process, as a user
types ``rhbench run --config CASE.toml --out DIR --force``. The child stamps, with
``time.time()`` against the parent's clock just before it started the child:

- the interpreter start (the child's first line) and the import of heavy libraries (each
  module's own import, inclusive of what it imports first);
- each stage of :func:`rhbench.pipeline.run` and of the command (``workers.start``,
  configuration, plugin registry, the observations, each model read and reduced, the
  metrics, the ensemble, each output writer and the page's sections and figures);
- the exit: the ``atexit`` handlers and the end of the process as the parent sees it.

Functions are wrapped when their module is imported (an import hook), so nothing is
imported earlier than in a plain run; the wrappers cost microseconds. Stamps of the page
workers' processes (``RHBENCH_PAGE_WORKERS``) carry their process id. Prints one line per
stamp (start, end, seconds, process) ordered by start; with ``--repeats R`` the run with the
shortest wall time is printed. SYNTHETIC or real data alike; nothing of the run is changed.
"""

from __future__ import annotations

import argparse
import functools
import importlib.abc
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

#: Module -> attributes to time (``Class.method`` allowed), wrapped when the module is imported.
TIMED: dict[str, tuple[str, ...]] = {
    "rhbench.cli": ("_configure_logging", "build_parser"),
    "rhbench.commands.run": ("resolve", "_summary", "_failure_summary"),
    "rhbench.report.workers": ("start", "stop", "_warm", "_serve", "_draw", "Pool.render"),
    "rhbench.registry": ("build_registry",),
    "rhbench.pipeline": (
        "_claim_output",
        "_land_mask",
        "_reduce_models",
        "_reduced",
        "evaluate",
        "_fail_implausible",
        "_constrain",
        "_record_failures",
    ),
    "rhbench.cmip6": ("register",),
    "rhbench.provenance": ("prefetch_input_checksums", "record", "write_run"),
    "rhbench.observations": ("assemble",),
    "rhbench.reduce": ("partition", "reduce_native"),
    "rhbench.harmonize": ("load_native",),
    "rhbench.metrics.ensemble": ("summarize",),
    "rhbench.datalabel": ("describe",),
    "rhbench.outputs": ("write_all",),
    "rhbench.report.tables": ("write_run",),
    "rhbench.report.html": ("write_run", "write_index_html", "_write_page"),
    "rhbench.report.cfnetcdf": ("write_run",),
    "rhbench.report.cmec": ("write_run",),
    "rhbench.report.page_sections": ("build",),
    "rhbench.report.figure": ("png",),
    "rhbench.outdir": ("staging_dir",),
}
#: Heavy libraries whose import is stamped (inclusive of the modules they import first).
IMPORTS = (
    "numpy",
    "pandas",
    "xarray",
    "dask",
    "dask.array",
    "pint",
    "netCDF4",
    "scipy",
    "matplotlib",
    "matplotlib.pyplot",
    "matplotlib.figure",
    "rich",
    "rhbench.pipeline",
    "rhbench.report.sections",
    "rhbench.report.sections_paper",
    "rhbench.report.cfnetcdf",
)
_ENV_T0 = "RHBENCH_TIMELINE_T0"
_ENV_FILE = "RHBENCH_TIMELINE_FILE"
_STAMPS: list[tuple[str, float, float, int]] = []
_T0 = 0.0


def _stamp(name: str, begun: float) -> None:
    _STAMPS.append((name, begun - _T0, time.time() - _T0, os.getpid()))


def _label(name: str, args: tuple) -> str:
    """``name`` with what a call is about (a section's anchor, a source's name)."""
    if name.endswith(".build") and len(args) > 1:
        return f"page section {args[1]}"
    if name.endswith("._reduced") and args:
        return f"_reduced {getattr(args[0], 'name', '')}"
    return name


def _timed(function, name: str):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        begun = time.time()
        try:
            result = function(*args, **kwargs)
        finally:
            _stamp(_label(name, args), begun)
        if callable(result) and name.endswith("write_run"):  # the page's finish function
            return _timed(result, f"{name} (finish)")
        if name.endswith("._serve"):  # a page worker ends after this: its stamps now
            _dump(f".{os.getpid()}")
        return result

    return wrapper


def _patch(module) -> None:
    for path in TIMED.get(module.__name__, ()):
        owner, _, attr = path.rpartition(".")
        target = getattr(module, owner) if owner else module
        if hasattr(target, attr):
            setattr(target, attr, _timed(getattr(target, attr), f"{module.__name__.rpartition('.')[2]}.{path}"))


class _Hook(importlib.abc.MetaPathFinder):
    """Stamps the imports of :data:`IMPORTS` and wraps :data:`TIMED` after their module runs."""

    def find_spec(self, name, path=None, target=None):
        if name not in TIMED and name not in IMPORTS:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module):
            begun = time.time()
            execute(module)
            if name in IMPORTS:
                _stamp(f"import {name}", begun)
            _patch(module)

        spec.loader.exec_module = exec_module
        return spec


def _dump(suffix: str = "") -> None:
    """Write this process's stamps (a page worker's to the file name + ``.PID``)."""
    if not suffix:
        _stamp("atexit (last handler)", time.time())
    mine = [s for s in _STAMPS if s[3] == os.getpid()]
    Path(os.environ[_ENV_FILE] + suffix).write_text(json.dumps(mine))


def child(argv: list[str]) -> None:
    """In the child: install the hook, then ``rhbench`` as the console script runs it."""
    global _T0
    _T0 = float(os.environ[_ENV_T0])
    _stamp("interpreter start (first line)", time.time())
    sys.meta_path.insert(0, _Hook())
    import atexit

    atexit.register(_dump)  # registered first: runs last
    sys.argv = ["rhbench", *argv]
    from rhbench.cli import console

    console()


def timeline(config: str, out: str, workers: int | None) -> dict:
    """One run's stamps and its wall time as the parent sees it (seconds from the child's start)."""
    import tempfile

    env = dict(os.environ)
    if workers is not None:
        env["RHBENCH_PAGE_WORKERS"] = str(workers)
    with tempfile.NamedTemporaryFile(suffix=".json") as stamps:
        env[_ENV_FILE] = stamps.name
        command = [sys.executable, "-c", "import sys; from benchmarks import timeline; timeline.child(sys.argv[1:])"]
        command += ["-q", "run", "--config", config, "--out", out, "--force"]
        env[_ENV_T0] = repr(time.time())
        started = time.time()
        done = subprocess.run(command, env=env, cwd=Path(__file__).resolve().parent.parent, check=False)
        wall = time.time() - float(env[_ENV_T0])
        if done.returncode not in (0, 3):
            raise RuntimeError(f"rhbench run exited {done.returncode}")
        rows = json.loads(Path(stamps.name).read_text() or "[]")
        for worker in Path(stamps.name).parent.glob(Path(stamps.name).name + ".*"):
            rows += json.loads(worker.read_text())
            worker.unlink()
    return {"wall": wall, "spawn": started - float(env[_ENV_T0]), "stamps": rows}


def show(run: dict) -> str:
    """The stamps, one line each, by start time; the process id when not the run's own."""
    main_pid = run["stamps"][0][3] if run["stamps"] else 0
    lines = [f"{'start':>7} {'end':>7} {'s':>6}  stage"]
    for name, begun, ended, pid in sorted(run["stamps"], key=lambda s: (s[1], -s[2])):
        where = "" if pid == main_pid else f"  [worker {pid}]"
        lines.append(f"{begun:7.3f} {ended:7.3f} {ended - begun:6.3f}  {name}{where}")
    lines.append(f"{run['wall']:7.3f}         end of the process (parent's wait returned)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.timeline", description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="run configuration (TOML)")
    parser.add_argument("--out", required=True, help="the run's output folder (replaced: --force)")
    parser.add_argument("--repeats", type=int, default=1, help="runs; the fastest is shown (default 1)")
    parser.add_argument("--workers", type=int, default=None, help="RHBENCH_PAGE_WORKERS for the run")
    args = parser.parse_args(argv)
    runs = [timeline(args.config, args.out, args.workers) for _ in range(max(1, args.repeats))]
    walls = ", ".join(f"{r['wall']:.3f}" for r in runs)
    print(f"load average {os.getloadavg()[0]:.2f}; wall of each run: {walls}")
    print(show(min(runs, key=lambda r: r["wall"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
