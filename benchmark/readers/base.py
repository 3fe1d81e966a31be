"""The file-format reader contract (see :mod:`rhbench.readers`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import xarray as xr


@dataclass(frozen=True)
class Reader:
    """One file format rhbench can read.

    Attributes
    ----------
    name: the format's name, shown in messages (e.g. ``"netCDF"``).
    accepts: ``accepts(path) -> bool``; True when this reader handles ``path`` (by its
        suffix or first bytes; must not open the whole file).
    open: ``open(path, *, variable, source, raw_values, chunked) -> xarray.Dataset``: the
        file, lazily (dask), with ``variable`` among its data variables and lat/lon coordinates
        in degrees; times left undecoded (raw numbers with a ``units`` attribute). With
        ``raw_values`` the reader leaves ``variable``'s fill values in its attributes for
        the loader to mask (readers that mask themselves may ignore it); with ``chunked``
        False, lazily without dask (read when first used; a reader may ignore it). Errors are
        :class:`rhbench.errors.DataError` naming the file.
    """

    name: str
    accepts: Callable[[Path], bool]
    open: Callable[..., xr.Dataset]
