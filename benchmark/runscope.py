"""What one run resolves and opens once: its catalog paths and its netCDF files.

Within ``with runscope.scope():`` (entered by :func:`rhbench.pipeline.run` for the whole run):

- :func:`rhbench.catalog.resolve_file` resolves each (data root, catalog path) once; the run's
  provenance (which resolves every source's files at its start) and the loaders share the
  answers. Errors are never kept: a path that fails is resolved (and fails) again. Each catalog
  file is located and read (its SHA-256, the key of its parse) once: the run sees one version.
- a netCDF file is opened once (:func:`handle`): discovery's header read (a CMIP6 file's
  ``version``), the loader's in-memory read, the cell bounds and the reference's header all use
  the one ``netCDF4.Dataset``, kept per file identity (device, inode, size, modification time:
  a file replaced or rewritten during the run is opened afresh), at most :data:`MAX_KEPT_HANDLES`
  at a time (the least recently used forgotten first). A file read through dask (too
  large to read at once, or an observation product) is opened by xarray's own file manager,
  which a cluster's workers can reopen; its handle is offered (:func:`offer`) to the readers that
  come after (the cell bounds, the header); a file discovery opened before stays opened twice.

- a model's land cover and own land fraction are read once for all its per-PFT variables
  (:func:`latest`, :func:`rhbench.pftcover.open_cell_values`), not once per variable.

Outside a scope nothing is kept (a listing, a test, a notebook calling the loader): every call
resolves and opens as it always did. The scope lives in a context variable, which dask's threaded
scheduler copies into its worker threads: netCDF handles are shared on the thread that entered the
scope only (review 9: a netCDF4 dataset is not safe to read from two threads, and the scope closes
the handles it forgets); another thread opens its own, the caller closing it. Leaving the scope closes the
handles it opened (review 9: left to Python's cyclic GC they kept the files open after the run); an
xarray dataset built on one reopens the file for itself when it reads again.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class Scope:
    """One run's memos: resolved catalog paths and open netCDF handles."""

    #: Resolved catalog paths (and each catalog file's digest) by what they were resolved from.
    paths: dict[tuple, Any] = field(default_factory=dict)
    #: File identity -> a function giving its open netCDF4 dataset (least recently used first).
    handles: OrderedDict[tuple, Callable[[], Any]] = field(default_factory=OrderedDict)
    #: How many times each file (by identity) was opened in this scope: for tests and benchmarks.
    opened: dict[str, int] = field(default_factory=dict)
    #: The identities whose handle :func:`handle` opened: closed when forgotten and when the scope ends.
    owned: set[tuple] = field(default_factory=set)
    #: The thread that entered the scope: the only one its handles are shared on.
    thread: int = field(default_factory=threading.get_ident)
    #: Kind -> (key, value): the one value of each kind kept by :func:`latest`.
    latest: dict[str, tuple[tuple, Any]] = field(default_factory=dict)


#: The most netCDF handles a run keeps open for its later readers. Each holds a file descriptor: a
#: CMIP6 folder of 360 files (their ``version`` read at discovery) kept 360 open for the whole run, and
#: under a soft limit of 200 descriptors (macOS's default is 256) the run stopped with "Too many open
#: files" (review 9). A handle forgotten is closed then (unless xarray's file manager owns it); a file
#: read again is opened again, and an xarray dataset reading from it reopens the file for itself.
MAX_KEPT_HANDLES = 64

_SCOPE: ContextVar[Scope | None] = ContextVar("rhbench_run_scope", default=None)


@contextlib.contextmanager
def scope() -> Iterator[Scope]:
    """A run's scope (nested scopes share the outer one)."""
    outer = _SCOPE.get()
    if outer is not None:
        yield outer
        return
    token = _SCOPE.set(Scope())
    try:
        yield _SCOPE.get()
    finally:
        _close_owned(_SCOPE.get())
        _SCOPE.get().latest.clear()
        _SCOPE.reset(token)


def _close_owned(memo: Scope) -> None:
    """Close the handles ``memo`` opened (review 9: left to Python's cyclic GC, they kept the run's files
    open after it, and the user's process could not rewrite a model file: 'NetCDF: HDF error'). An
    xarray dataset still reading from one reopens the file for itself (rhbench.readers.netcdf)."""
    for key, provider in list(memo.handles.items()):
        if key in memo.owned:
            _close(provider)
    memo.handles.clear()
    memo.owned.clear()


def current() -> Scope | None:
    """The enclosing run's scope, or None."""
    return _SCOPE.get()


def resolved(key: tuple, resolve: Callable[[], T]) -> T:
    """``resolve()``'s answer (a path, a catalog file's digest), kept under ``key`` within a scope (an
    exception is raised, not kept)."""
    memo = _SCOPE.get()
    if memo is None:
        return resolve()
    if key not in memo.paths:
        memo.paths[key] = resolve()
    return memo.paths[key]


def latest(kind: str, key: tuple, compute: Callable[[], T], *, files: Iterable[Path] = ()) -> T:
    """``compute()``'s answer, kept within a scope while ``key`` and the identities of ``files`` (what it
    reads: a file rewritten during the run is read afresh) are the last asked of ``kind`` (one value a
    kind: a model's land cover serves each of its per-PFT variables and is let go when the next model's
    is read, so a run holds one at a time); outside a scope, ``compute()``. An exception is raised, not
    kept. ``key`` must name everything else the answer depends on (grid, options). Kept on the thread
    that entered the scope only, as the handles are (another thread computes its own)."""
    memo = _SCOPE.get()
    if memo is None or memo.thread != threading.get_ident():
        return compute()
    try:
        key = (*key, *(_identity(Path(path)) for path in files))
    except OSError:  # a missing file: compute() says so, naming it
        return compute()
    kept = memo.latest.get(kind)
    if kept is not None and kept[0] == key:
        return kept[1]
    memo.latest.pop(kind, None)  # the last one let go before the next is read
    value = compute()
    memo.latest[kind] = (key, value)
    return value


def handle(path: Path, open_file: Callable[[Path], Any]) -> tuple[Any, bool]:
    """(the netCDF4 dataset of ``path``, shared) within a scope, ``open_file(path)`` once per file
    identity (while kept: :data:`MAX_KEPT_HANDLES`); outside a scope ``(open_file(path), False)``: the
    caller closes an unshared handle; the scope closes a shared one when it forgets it or ends.
    Raises what ``open_file`` raises (``OSError`` when the file is not readable as netCDF)."""
    memo = _SCOPE.get()
    if memo is None or memo.thread != threading.get_ident():  # no run, or another thread (dask's)
        return open_file(path), False
    key = _identity(path)
    provider = memo.handles.get(key)
    kept = provider() if provider is not None else None
    if kept is None or not kept.isopen():
        kept = open_file(path)
        _keep(memo, key, lambda: kept)
        memo.owned.add(key)
        memo.opened[str(path)] = memo.opened.get(str(path), 0) + 1
    else:
        memo.handles.move_to_end(key)
    return kept, True


def offer(path: Path, provider: Callable[[], Any]) -> None:
    """Within a scope, let :func:`handle` answer with ``provider()`` (an open netCDF4 dataset of
    ``path``, e.g. the one xarray's file manager keeps for a dask-read file), unless the file has
    a handle already; outside a scope nothing happens."""
    memo = _SCOPE.get()
    if memo is not None and memo.thread == threading.get_ident():
        key = _identity(path)
        if key not in memo.handles:
            _keep(memo, key, provider)
            memo.opened[str(path)] = memo.opened.get(str(path), 0) + 1


def _keep(memo: Scope, key: tuple, provider: Callable[[], Any]) -> None:
    """Keep ``provider`` under ``key``, forgetting the least recently used beyond :data:`MAX_KEPT_HANDLES`
    (closing a forgotten handle the scope opened)."""
    memo.handles[key] = provider
    memo.handles.move_to_end(key)
    while len(memo.handles) > MAX_KEPT_HANDLES:
        old, forgotten = memo.handles.popitem(last=False)
        if old in memo.owned:
            _close(forgotten)
        memo.owned.discard(old)


def _close(provider: Callable[[], Any]) -> None:
    """Close the netCDF4 dataset ``provider`` gives, unless it is closed already."""
    dataset = provider()
    if dataset.isopen():
        dataset.close()


def _identity(path: Path) -> tuple:
    """``path`` and its file's identity: device, inode, size, modification time (a file replaced or
    rewritten during the run is another)."""
    stat = os.stat(path)
    return (str(path), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
