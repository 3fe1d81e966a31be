"""Which file of a source holds the damaged values a chunked (dask) read failed on.

A variable above :data:`rhbench.loader.IN_MEMORY_BYTES` is read through dask after its files are
joined; when a chunk cannot be read (a truncated or corrupted netCDF/HDF5 file) the error dask
raises does not say which file the chunk came from. After such a failure the run reads each file of
the source again, one variable and a few time steps at a time, to name the one that fails
(:func:`locate`): only on that error path, so a healthy run pays nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from rhbench import readers
from rhbench.errors import DataError, RhbenchError
from rhbench.sources import Source

log = logging.getLogger(__name__)

#: time steps read per call while looking for the damaged file (bounded memory: a 0.5 degree
#: float32 step is 1 MB)
STEPS_PER_READ = 12


#: the start of the message of every failed read of a file's values
UNREADABLE = "cannot read data values"


def named(exc: RhbenchError, source: Source, files: dict[str, list[Path]]) -> RhbenchError:
    """``exc`` naming the damaged file when it is a failed read of values (:data:`UNREADABLE`) in a
    series or a source of several files and reading each file again finds the one that fails
    (:func:`locate`); else ``exc`` unchanged."""
    if not isinstance(exc, DataError) or not exc.message.startswith(UNREADABLE):
        return exc
    if sum(len(paths) for paths in files.values()) < 2 and exc.file is not None:
        return exc  # one file, already named
    found = locate(source, files)
    if found is None:
        return exc
    path, variable, why = found
    log.debug("%s: the damaged values are in %s (%s)", source.name, path, variable)
    located = DataError(
        exc.message,
        source=source.name,
        file=str(path),
        variable=variable,
        found=f"this file's values cannot be read ({why})",
        expected="a complete, readable netCDF file (copy or download it again)",
    )
    located.__cause__ = exc
    return located


def locate(source: Source, files: dict[str, list[Path]]) -> tuple[Path, str, str] | None:
    """The first ``(file, variable, error)`` of ``files`` (variable -> its files) whose values cannot
    be read, or None when every file reads (the failure was elsewhere). Never raises."""
    for variable, paths in files.items():
        spec = source.variables.get(variable)
        name = spec.file_name if spec is not None else variable
        for path in paths:
            why = _unreadable(path, name, source.name)
            if why is not None:
                return Path(path), variable, why
    return None


def _unreadable(path: Path, name: str, source: str) -> str | None:
    """Why ``name``'s values in ``path`` cannot be read (``"TypeName: message"``), or None."""
    try:
        ds = readers.open_file(Path(path), variable=name, source=source, raw_values=True, chunked=False)
    except Exception as exc:  # (an unreadable file is what is looked for; a missing one is not it)
        return f"{type(exc).__name__}: {exc}"
    try:
        if name not in ds.variables:
            return None
        data = ds[name].variable
        first = data.dims[0] if data.ndim else None
        for start in _starts(data.shape[0] if first else 1):
            (data[start : start + STEPS_PER_READ] if first else data).values  # noqa: B018 (the read is the test)
    except Exception as exc:  # netCDF/HDF5 raise assorted errors on damaged data
        return f"{type(exc).__name__}: {exc}"
    finally:
        ds.close()
    return None


def _starts(length: int) -> Iterable[int]:
    """The first index of each block of :data:`STEPS_PER_READ` steps along a dimension of ``length``."""
    return range(0, max(length, 1), STEPS_PER_READ)
