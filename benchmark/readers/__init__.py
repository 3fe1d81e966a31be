"""File-format readers, one module each, registered in one list: :data:`READERS`.

A new format is one module here that defines ``READER = Reader(name, accepts, open)``
(see :class:`rhbench.readers.base.Reader`) plus one line in :data:`READERS`. The loader
(:func:`rhbench.loader.open_variable`) calls :func:`open_file` and never knows formats.
"""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from rhbench import fileops
from rhbench.errors import DataError
from rhbench.readers import geotiff, netcdf
from rhbench.readers.base import Reader

#: Every format, tried in order; the first whose ``accepts(path)`` is True reads the file.
#: netCDF (plain or gzipped) comes last: it is the default for any other suffix.
READERS: tuple[Reader, ...] = (
    geotiff.READER,
    netcdf.READER,
)


def reader_for(path: Path) -> Reader:
    """The first reader of :data:`READERS` that accepts ``path``."""
    for reader in READERS:
        if reader.accepts(Path(path)):
            return reader
    raise DataError("no reader accepts this file", file=str(path), expected=[r.name for r in READERS])


def open_file(
    path: Path,
    *,
    variable: str | None = None,
    source: str | None = None,
    raw_values: bool = False,
    chunked: bool = True,
) -> xr.Dataset:
    """Open ``path`` lazily with its format's reader, after checking it is a readable file
    (``chunked``: as dask arrays; False: without dask, read when first used).

    Raises :class:`DataError` naming the file when it is missing, a broken or looping
    symbolic link, a folder, or empty.
    """
    path = Path(path)
    fileops.refuse_broken_link(path, DataError, source=source, expected="a link to a readable data file")
    if not path.exists():
        raise DataError(
            "data file not found",
            source=source,
            file=str(path),
            variable=variable,
            hint="check the data root and the path under `files` in the source's catalog entry (`rhbench data` "
            "lists every expected file); a variable the model does not write: remove it from the plugin's "
            "variables and the catalog's files",
        )
    if path.is_dir():
        raise DataError("path is a folder, not a data file", source=source, file=str(path), expected="a file")
    if path.stat().st_size == 0:
        raise DataError("data file is empty", source=source, file=str(path), found="0 bytes")
    return reader_for(path).open(path, variable=variable, source=source, raw_values=raw_values, chunked=chunked)


__all__ = ["READERS", "Reader", "open_file", "reader_for"]
