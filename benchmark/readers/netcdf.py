"""netCDF-3/4 files, plain or gzipped (``.nc.gz``), opened lazily with times left undecoded."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import xarray as xr
from xarray.backends.file_manager import DummyFileManager

from rhbench import fileaxes, runscope
from rhbench.errors import DataError
from rhbench.fileaxes import LAT_NAMES, LON_NAMES
from rhbench.readers import gunzip
from rhbench.readers.base import Reader
from rhbench.timeaxis import TIME_NAMES

log = logging.getLogger(__name__)

#: Time steps per dask chunk, set when a file is opened (lat/lon are never split).
#: Why 24: a multiple of 12, so a chunk of monthly data holds whole years and annual means
#: never straddle chunks; a 0.5-degree float32 step is 1 MB, so a chunk is one ~25 MB
#: read (contiguous in TRENDY-like files), large enough that dask's per-task overhead
#: (~1 ms) is negligible next to the read, small enough that two threads with their
#: intermediates (one chunk plus one-step temporaries) stay well under 1 GB. Whole lat/lon
#: because every reduction (annual means, period means, totals) runs over time or over the
#: whole map. Files chunked on disk one step at a time are read 24 steps per task.
#: Measured (before the single-pass kernel of :func:`rhbench.kernels.year_means_values`;
#: one full-size synthetic model, 8.8 GB, cold page cache, 2 threads): 12 steps 13.6-15.3 s,
#: 24 steps 11.8-13.2 s, 72 steps 15.2 s, 120 steps 17.9 s; peak RSS 1.1, 1.1, 1.5, 1.7 GB.
TIME_CHUNK = 24
#: Dask chunks at open (see :data:`TIME_CHUNK`); names absent from a file are ignored.
_CHUNKS = {**dict.fromkeys(TIME_NAMES, TIME_CHUNK), **dict.fromkeys((*LAT_NAMES, *LON_NAMES), -1)}


def accepts(path: Path) -> bool:
    """Every file another reader did not take (netCDF is the default format)."""
    return True


#: The first bytes of a netCDF-3 (classic, 64-bit offset, CDF-5) and a netCDF-4 (HDF5) file.
NETCDF_MAGIC = (b"CDF\x01", b"CDF\x02", b"CDF\x05", b"\x89HDF")


def _plain_netcdf(path: Path) -> bool:
    """True (with a warning) when a ``.gz`` file is not gzipped but a plain netCDF file (eighth
    audit: a decompressed copy kept under the archive's name failed its model as 'not a gzipped file')."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError:
        return False
    plain = head in NETCDF_MAGIC
    if plain:
        log.warning("%s is named .gz but is a plain netCDF file: read as it is", path)
    return plain


def _readable(path: Path) -> Path:
    """The file to open for ``path``: its decompressed copy when it is a gzipped ``.gz``, else itself."""
    return gunzip.decompressed(path) if path.suffix == ".gz" and not _plain_netcdf(path) else path


def open_file(
    path: Path,
    *,
    variable: str | None = None,
    source: str | None = None,
    raw_values: bool = False,
    chunked: bool = True,
) -> xr.Dataset:
    """Open a netCDF (or gzipped netCDF) file lazily with times left undecoded.

    With ``raw_values``, ``variable``'s values are not masked or scaled by xarray
    (``_FillValue`` stays in its attributes): the loader masks them in its own single
    pass instead of in an extra one. ``chunked``: dask arrays of :data:`TIME_CHUNK` steps;
    False: xarray's lazily indexed arrays, read from the file when first used (no dask; for
    small files, :data:`rhbench.loader.IN_MEMORY_BYTES`). A time dimension of another name and a
    regular grid given as 2-D coordinates are put on rhbench's axes
    (:func:`rhbench.fileaxes.conventional`). Raises :class:`DataError` naming
    the file when it is not readable as netCDF.
    """
    readable = _readable(path)
    try:
        mask_and_scale = {variable: False} if raw_values and variable else True
        # within a run, a store whose handle the run's other readers of the file share; the engine
        # named: a guess would import every backend (rioxarray)
        opened, engine = (_run_store(readable, chunked), "store") if runscope.current() else (readable, "netcdf4")
        with warnings.catch_warnings():  # a performance hint about the file's own chunks, not the user's concern
            warnings.filterwarnings("ignore", message="The specified chunks separate the stored chunks")
            ds = xr.open_dataset(
                opened,
                decode_times=False,
                chunks=_CHUNKS if chunked else None,
                engine=engine,
                mask_and_scale=mask_and_scale,
            )
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise DataError(
            f"cannot read file as netCDF ({type(exc).__name__}: {exc})",
            source=source,
            file=str(path),
            expected="a netCDF-3/4 file",
        ) from exc
    return fileaxes.conventional(ds, time_chunk=TIME_CHUNK if chunked else None)


#: Attributes by which xarray's CF decoding changes a variable's values (masks or scales them).
DECODING_ATTRIBUTES = ("_FillValue", "missing_value", "scale_factor", "add_offset", "_Unsigned")


class NeedsDecoding(Exception):
    """A variable read with :func:`open_stored` has attributes that xarray would apply to its values."""


def _netcdf4(path: Path) -> Any:
    import netCDF4

    return netCDF4.Dataset(path)


def _run_store(readable: Path, chunked: bool) -> Any:
    """The xarray store of ``readable`` within a run (:mod:`rhbench.runscope`); what xarray decodes
    from it is what it decodes from the file's name (the same backend code).

    Read now (not ``chunked``): a store on the run's one netCDF4 handle of the file, which closing
    the dataset leaves open for the run's other readers; once the run closed that handle (it
    forgot it, or the run ended), the store reopens the file for itself (:class:`_RunHandle`).
    ``chunked`` (dask, perhaps a cluster's workers): xarray's own store, whose file manager dask can
    send to a worker and reopen there; its handle is offered to the run's later readers of the file
    (its header, its cell bounds)."""
    from xarray.backends.netCDF4_ import NETCDF4_PYTHON_LOCK, NetCDF4DataStore

    if chunked:
        store = NetCDF4DataStore.open(str(readable), mode="r")
        runscope.offer(readable, lambda: store.ds)
        return store
    handle, shared = runscope.handle(readable, _netcdf4)  # not shared: another thread's, closed with the dataset
    manager = _RunHandle(readable, handle, lock=NETCDF4_PYTHON_LOCK, own=not shared)
    return NetCDF4DataStore(manager, lock=NETCDF4_PYTHON_LOCK)


class _RunHandle(DummyFileManager):
    """The run's shared handle of ``path`` as xarray's file manager: closing the dataset leaves it
    open; once the run has closed it (forgotten, or the run ended), the file is reopened for this
    dataset alone (and closed with it), as xarray's own manager reopens (review 9: handles left
    open after the run stopped the user's process from rewriting the file, 'NetCDF: HDF error')."""

    def __init__(self, path: Path, handle: Any, *, lock: Any, own: bool = False) -> None:
        super().__init__(handle, close=self._close_own, lock=lock)
        self._path, self._own = path, own

    def acquire(self, needs_lock: bool = True) -> Any:
        if not self._value.isopen():
            self._value, self._own = _netcdf4(self._path), True
        return self._value

    @contextlib.contextmanager
    def acquire_context(self, needs_lock: bool = True) -> Iterator[Any]:
        yield self.acquire(needs_lock)

    def _close_own(self) -> None:
        if self._own and self._value.isopen():
            self._value.close()


@contextlib.contextmanager
def open_stored(path: Path, *, decompress: bool = True) -> Iterator[Any]:
    """``path`` (plain or gzipped netCDF; ``decompress`` False: a ``.gz`` file is opened as it is)
    opened with netCDF4 alone, for a few small variables read as stored (no masking, no scaling):
    ~2x faster to open than :func:`open_file`, whose values are those same numbers for every
    variable :func:`stored_values` accepts. Within a run (:mod:`rhbench.runscope`) the file's one
    handle, left open. Raises OSError when the file is not readable as netCDF."""
    ds, shared = runscope.handle(_readable(path) if decompress else Path(path), _netcdf4)
    try:
        ds.set_auto_maskandscale(False)
        yield ds
    finally:
        if not shared:
            ds.close()


def stored_values(variable: Any) -> Any:
    """The values of a variable of :func:`open_stored` (numpy array); raises :class:`NeedsDecoding`
    when it has :data:`DECODING_ATTRIBUTES` (xarray would mask or scale them: read it with
    :func:`open_file`)."""
    if any(name in variable.ncattrs() for name in DECODING_ATTRIBUTES):
        raise NeedsDecoding(variable.name)
    return variable[...]


#: This format's entry in :data:`rhbench.readers.READERS`.
READER = Reader("netCDF", accepts, open_file)
