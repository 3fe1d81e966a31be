"""Import-cost guards: optional imports that third-party libraries make but a run never uses.

Two libraries import large optional dependencies on every run although rhbench never calls
what those imports serve (a third below):

- ``dask.array`` imports ``scipy.sparse`` (to register sparse matrices as chunk types) and
  ``scipy.fftpack`` (to wrap its FFTs): ~0.09 s, and rhbench's chunks are numpy arrays and
  it takes no FFT. :func:`dask_array` imports dask.array with those two hidden when scipy
  are not loaded yet, so dask records them as absent (dask's own ``ImportError`` fallbacks);
  scipy stays importable for whoever needs it later (the upscaling's KD tree, scikit-learn).
- xarray's ``to_netcdf`` imports ``dask.distributed`` (~0.1-0.6 s) to ask whether the active
  dask scheduler is a distributed client. When ``dask.distributed`` was never imported no
  client can exist, so :func:`no_distributed_probe` answers that question by hiding the
  module for the duration of the write (xarray's ``ImportError`` fallback: not distributed).

A third cost is the garbage collector's: importing xarray, pandas, dask and the pipeline
allocates some hundred thousand long-lived objects (modules, classes, functions), and the
collector scans them again and again while they are created (~400 young and 3 full
collections, 0.15-0.19 s of an annual one-model run). :func:`collector_paused` pauses it
while a command imports what it needs, then moves everything alive into the collector's
permanent generation (:func:`gc.freeze`, the standard library's tool for long-lived startup
objects), so later collections scan only what the run itself allocates. Only the CLI uses
it, around its imports (a library must not freeze its caller's objects); objects freed by
their reference count are freed as always, and import-time reference cycles (a few, small)
are kept until exit.

And xarray imports pint (~0.05 s) on the first DataArray it builds, only to ask whether an
array is a pint Quantity (its duck-array check); rhbench never hands xarray one (its units
are pint's answers applied as plain factors, :mod:`rhbench.units`). :func:`xarray_without_pint`
has xarray record pint as absent, with pint hidden for that one check. Unlike the guards
above it lasts for the process (xarray caches the answer; a Python caller may use
pint-xarray), so only the ``rhbench`` command calls it, before its page workers fork; pint
stays importable for :mod:`rhbench.units`, which imports it when its memo lacks an answer.

The first two hide a module by setting ``sys.modules[name] = None`` (Python then raises
``ImportError`` for it) and restore the previous state afterwards; neither does anything
when the module is already imported. The hiding is process-wide for the block's duration:
another thread importing a hidden module meanwhile gets ImportError, so rhbench hides only
while importing its kernels (single-threaded, at import time) and while writing netCDF
files (where nothing imports dask.distributed unless a client is already running, which
turns the hiding off).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from types import ModuleType

#: scipy modules dask.array imports for features rhbench does not use.
DASK_ARRAY_SCIPY = ("scipy.sparse", "scipy.fftpack")


@contextmanager
def hidden(*names: str) -> Iterator[None]:
    """Make ``import name`` raise ImportError inside the block for each name not yet imported."""
    hide = [name for name in names if name not in sys.modules]
    for name in hide:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in hide:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def dask_array() -> ModuleType:
    """``dask.array``, imported without scipy's sparse matrices and FFTs unless they are loaded."""
    with hidden(*DASK_ARRAY_SCIPY):
        import dask.array

    return dask.array


def no_distributed_probe() -> AbstractContextManager[None]:
    """Context in which xarray's writers see no ``dask.distributed`` unless it is already imported."""
    return hidden("dask.distributed")


def xarray_without_pint() -> bool:
    """Have xarray's duck-array checks treat pint as absent (see the module doc); True when
    done, False when pint is imported already or xarray's private check is not where it was."""
    if "pint" in sys.modules:
        return False
    try:
        from xarray.namedarray import pycompat

        with hidden("pint"):
            pycompat.array_type("pint")
        return pycompat.array_type("pint") == ()
    except (ImportError, AttributeError, TypeError):
        return False


@contextmanager
def collector_paused(*, freeze: bool) -> Iterator[None]:
    """Run the block (a command's imports) without garbage collection; then, if ``freeze``,
    freeze what is alive.

    :func:`gc.freeze` moves every object alive into the permanent generation, which later
    collections do not scan: right only in a process that ends with the command (the
    console script, :func:`rhbench.cli.process_ends_after_command`), since a Python caller's
    not-yet-collected garbage would be frozen with it and never freed. The collector is
    switched back on if it was on.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()
