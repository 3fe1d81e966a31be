"""Harmonise opened variables: annual means, period selection, common grid, one Dataset per source."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import xarray as xr

from rhbench import catalog, datalabel, grid, kernels, landfrac, loader, pftcover, products
from rhbench.errors import CoordinateError, DataError, MissingVariableError, RhbenchError, TimeAxisError
from rhbench.sources import Source

log = logging.getLogger(__name__)


def annual_mean(data: xr.DataArray) -> xr.DataArray:
    """Calendar-year means of a variable labelled by :func:`rhbench.loader.open_variable`.

    Monthly steps are weighted by the number of days in each month of the file's
    calendar (``calendar`` attribute), so the annual mean of a flux rate times the year
    length is the annual total. Yearly steps pass through. Returns dims
    ``(year, ...)`` in the units of ``data``; data without a time axis is returned unchanged.
    """
    if "time" not in data.dims:
        return data
    share = kernels.month_shares(data)
    return kernels.yearly(data) if share is None else kernels.year_means(data, share)


def select_period(data: xr.DataArray | xr.Dataset, period: tuple[int, int] | None) -> xr.DataArray | xr.Dataset:
    """Years ``period[0]..period[1]`` inclusive; data without a ``year`` dim passes through."""
    if period is None or "year" not in data.dims:
        return data
    return data.sel(year=slice(period[0], period[1]))


def period_mean(
    data: xr.DataArray | xr.Dataset, period: tuple[int, int], *, source: str | None = None
) -> xr.DataArray | xr.Dataset:
    """Mean over the years ``period[0]..period[1]`` (inclusive): the one period mean of rhbench.

    Data without a ``year`` dim (a static map) is returned unchanged. When no year falls in
    the period this raises :class:`DataError` naming the source, the years found and the
    period: it never falls back to other years. Units are those of ``data``.
    """
    if "year" not in data.dims:
        return data
    return _period_window(data, period, source).mean("year")


def period_mean_float64(data: xr.DataArray, period: tuple[int, int], *, source: str | None = None) -> xr.DataArray:
    """:func:`period_mean` accumulated in float64, computed: each year's values added in year order into
    a float64 sum, divided by the count of values present (:func:`rhbench.kernels.nanmean_years`).

    Used for an observation product's native-grid period mean (the reference's map and totals,
    :func:`period_means_once`), as for every model's (:func:`rhbench.reduce.period_means`): the sum
    runs in year order whatever the chunks, and float32 values of like magnitude add in float64
    without rounding, so the mean is the exact one rounded once (a float32 mean taken by dask chunk
    by chunk, as before session 9, was off by up to ~3e-7 and depended on the chunking). A static
    map is returned as float64. Units and attributes of ``data``.
    """
    if "year" not in data.dims:
        return data.astype("float64").compute()
    return kernels.nanmean_years(_period_window(data, period, source)).assign_attrs(data.attrs)  # as xarray's mean


def _period_window(data: xr.DataArray | xr.Dataset, period: tuple[int, int], source: str | None):
    """``data``'s years in ``period``; :class:`DataError` naming the years found when there is none."""
    window = select_period(data, period)
    if window.sizes["year"] == 0:
        years = data["year"].values
        raise DataError(
            "no years in the benchmark period",
            source=source,
            variable=str(getattr(data, "name", None) or ", ".join(map(str, getattr(data, "data_vars", [])))),
            found=f"years {years.min()}-{years.max()}" if years.size else "no years",
            expected=f"years in {period[0]}-{period[1]}",
        )
    return window


def source_files(source: Source, data_root: Path | None) -> dict[str, list[Path]]:
    """Each declared variable's file(s): the source's own list (a source family), else its catalog entry."""
    if source.files is not None:
        return {name: [Path(p) for p in source.files[name]] for name in source.variables if name in source.files}
    entry = catalog.entry_for(source)
    return {name: [catalog.resolve_file(data_root, entry.files[name], source=source.name)] for name in source.variables}


def open_annual(source: Source, data_root: Path | None, *, in_memory: bool = False) -> dict[str, xr.DataArray]:
    """Every benchmark variable of ``source`` (not its cell measures) as annual means on its own grid, lazily.

    Each is opened, checked and converted once (:func:`rhbench.loader.open_variable`; ``in_memory``:
    small variables read now, for a caller that computes them whole); all
    are given the first's exact ``lat``/``lon``. Raises :class:`MissingVariableError` when
    the source declares no benchmark variable and :class:`CoordinateError` naming the file
    when the variables are not all on one grid.
    """
    files = source_files(source, data_root)
    variables = {
        name: pftcover.open_cell_values(source, name, files, in_memory=in_memory, land_of=_model_land(source, files))
        for name in files
        if name not in landfrac.CELL_MEASURES and not pftcover.is_weight(source, name)
    }
    if not variables:
        raise MissingVariableError("no benchmark variable", source=source.name, found=sorted(files))
    like = next(iter(variables.values()))
    for name, data in variables.items():
        why = grid.grid_mismatch(data, like)
        if why is not None:
            raise CoordinateError(
                "the variables of a source are on different grids",
                source=source.name,
                file=str(files[name][0]),
                variable=name,
                found=f"{data.sizes['lat']} x {data.sizes['lon']}: {why}",
                expected=f"{like.sizes['lat']} x {like.sizes['lon']} like {next(iter(variables))}",
            )
        variables[name] = data.assign_coords(lat=like["lat"].values, lon=like["lon"].values)
    return variables


def load_native(
    source: Source,
    data_root: Path | None,
    *,
    land_mask: xr.DataArray | None = None,
    opened: dict[str, xr.DataArray] | None = None,
    in_memory: bool = False,
) -> tuple[xr.Dataset, landfrac.CellMeasures]:
    """Every variable of ``source`` as annual means on its own grid, and that grid's cell measures.

    Cell measures (``areacella``, ``sftlf``, ``oceanCoverFrac``, ``landArea``) declared by the source are
    read as such, not as benchmark variables; ``land_mask`` (0-1, any regular grid) is the
    documented land mask used when the source has no land fraction
    (:func:`rhbench.landfrac.measures`). ``opened``: the variables already opened by
    :func:`open_annual` (not read again; the dict is not modified); else they are opened with
    ``in_memory`` (:func:`open_annual`: a caller that computes the variables whole, a model in
    :func:`rhbench.reduce.reduce_native` or a product's native totals). ``cSoil`` becomes
    cSoil + cLitter as in :func:`load_source`. Raises a :class:`~rhbench.errors.RhbenchError`
    naming the file when the fields are not all on one grid.
    """
    files = source_files(source, data_root)
    variables = dict(open_annual(source, data_root, in_memory=in_memory) if opened is None else opened)
    cells = _cell_measures(source, files, next(iter(variables.values())), land_mask)
    if source.kind == "dgvm" and "cSoil" in variables:
        variables["cSoil"] = _soil_with_litter(source, variables, files)
    ds = xr.Dataset(variables)
    ds.attrs.update(source=source.name, kind=source.kind, citation=source.citation, cell_measures=cells.origin)
    return ds, cells


def _cell_measures(
    source: Source, files: dict[str, list[Path]], like: xr.DataArray, land_mask: xr.DataArray | None = None
) -> landfrac.CellMeasures:
    """The :class:`~rhbench.landfrac.CellMeasures` of ``like``'s grid from the cell measures ``source``
    declares in ``files`` (:func:`rhbench.landfrac.measures`; bounds of its first benchmark variable's
    file); :class:`CoordinateError` naming the measures' files when they are not usable."""
    fixed = {
        name: loader.open_variable(source, name, paths)
        for name, paths in files.items()
        if name in landfrac.CELL_MEASURES
    }
    first = next(n for n in files if n not in landfrac.CELL_MEASURES and not pftcover.is_weight(source, n))
    try:
        return landfrac.measures(
            like,
            areacella=fixed.get("areacella"),
            sftlf=fixed.get("sftlf"),
            ocean=fixed.get("oceanCoverFrac"),
            land_area=fixed.get("landArea"),
            bounds=None if "areacella" in fixed else landfrac.file_bounds(files[first][0], like),
            land_mask=land_mask,
            source=source.name,
            area_file=str(files["areacella"][0]) if "areacella" in files else None,
            land_file=str(files["landArea"][0]) if "landArea" in files else None,
        )
    except ValueError as exc:
        measure_files = ", ".join(str(files[name][0]) for name in sorted(fixed) if name in files) or None
        raise CoordinateError(
            f"cell measures not usable: {exc}", source=source.name, file=measure_files, found=sorted(fixed)
        ) from exc


def _model_land(source: Source, files: dict[str, list[Path]]):
    """``like -> the land fraction`` ``source`` declares (sftlf, landArea or oceanCoverFrac), the one its
    totals use (:func:`_cell_measures`), for :func:`rhbench.pftcover.open_cell_values`; None without one."""
    if not any(name in files for name in ("sftlf", "landArea", "oceanCoverFrac")):
        return None
    return lambda like: _cell_measures(source, files, like).land


def land_mask(sources: list[Source], data_root: Path | None) -> xr.DataArray | None:
    """The documented land mask (the first ``landfrac`` source whose file is present), 0-1; else None.
    Its ``rhbench_source`` attribute names the source.

    Its absence is not an error: :func:`rhbench.landfrac.measures` then counts every cell
    with data as land, and says so.
    """
    for source in sources:
        try:
            files = source_files(source, data_root)
        except RhbenchError as exc:
            log.info("land mask %s not usable: %s", source.name, exc)
            continue
        paths = files.get("sftlf", [])
        if paths and all(p.is_file() for p in paths):
            return loader.open_variable(source, "sftlf", paths).load().assign_attrs(rhbench_source=source.name)
        log.info("land mask %s not present under %s (rhbench fetch %s)", source.name, data_root, source.name)
    return None


def load_source(
    source: Source,
    data_root: Path,
    target: xr.Dataset,
    *,
    period: tuple[int, int] | None = None,
) -> xr.Dataset:
    """Open every variable of ``source``, as annual means on ``target``'s grid, lazily.

    A grid finer than ``target`` is aggregated by area-weighted means, an equal or
    coarser one sampled by nearest neighbour (:func:`rhbench.products.to_common_grid`).

    For a DGVM whose litter is a separate pool, ``cSoil`` becomes cSoil + cLitter (once;
    ``cSoil.attrs['includes_litter']`` records it) and cLitter is kept as is. The Dataset's
    :data:`rhbench.datalabel.STATED_ATTR` attribute is the label its files stated of themselves (:func:`stated`).
    """
    variables, opened, files = {}, [], source_files(source, data_root)
    for name in files:
        if name in landfrac.CELL_MEASURES or pftcover.is_weight(source, name):
            continue
        opened.append(pftcover.open_cell_values(source, name, files, land_of=_model_land(source, files)))
        variables[name] = select_period(on_grid_of(opened[-1], target, source=source.name), period)
    if source.kind == "dgvm" and "cSoil" in variables:
        variables["cSoil"] = _soil_with_litter(source, variables, files)
    ds = xr.Dataset(variables)
    ds.attrs.update(source=source.name, kind=source.kind, citation=source.citation)
    ds.attrs[datalabel.STATED_ATTR] = stated(opened)
    return ds


def stated(opened: Iterable[xr.DataArray]) -> str:
    """The least verified label the files of variables ``opened`` (as the loader returned them,
    before any regridding) state of themselves (:func:`rhbench.datalabel.stated_by`), or ""."""
    return datalabel.strongest(data.attrs.get(datalabel.STATED_ATTR, "") for data in opened) or ""


def on_grid_of(data: xr.DataArray, target: xr.Dataset, *, source: str | None = None) -> xr.DataArray:
    """``data`` on ``target``'s grid: on the same grid, given ``target``'s coordinates (so xarray
    aligns them); else remapped by :func:`rhbench.products.to_common_grid`. Units unchanged."""
    if grid.same_grid(data, target):
        return data.assign_coords(lat=target["lat"].values, lon=target["lon"].values)
    return products.to_common_grid(data, target, source=source)


@dataclass(frozen=True)
class NativeMean:
    """A source read once for both its common-grid map and its native-grid totals.

    ``opened``: its variables from :func:`open_annual` (lazy annual means, checked once; pass
    to :func:`load_native`); ``variable``: the name averaged; ``mean``: that variable's period
    mean on the source's own grid, float64, computed (units of the variable).
    """

    opened: dict[str, xr.DataArray]
    variable: str
    mean: xr.DataArray


def period_means_once(
    source: Source, data_root: Path | None, target: xr.Dataset, variable: str, period: tuple[int, int]
) -> tuple[xr.DataArray, NativeMean]:
    """``variable``'s period mean on ``target``'s grid (computed), and the same read on its own grid.

    One open and one value check: a variable of at most :data:`rhbench.loader.IN_MEMORY_BYTES`
    (e.g. a 0.5 degree yearly product) is read into memory without dask, a larger one streams
    through dask's chunks to its annual means. The native mean (``mean``, float64) is accumulated
    in float64 (:func:`period_mean_float64`), so it does not depend on how the values were chunked;
    the native totals of :func:`rhbench.metrics.observed.source_totals` are taken from it. On
    ``target``'s grid the common map is that mean in the variable's dtype with ``target``'s
    coordinates (float32 values: the correctly rounded float32 mean); on another grid, the remapped
    annual means averaged the same way, in their dtype.
    """
    opened = open_annual(source, data_root, in_memory=True)
    annual = xr.Dataset(opened)[variable]  # aligned with the source's other variables
    mean = period_mean_float64(annual, period, source=source.name)
    if grid.same_grid(mean, target):
        common = on_grid_of(mean.astype(annual.dtype), target, source=source.name)
    else:
        remapped = xr.Dataset({name: on_grid_of(data, target, source=source.name) for name, data in opened.items()})
        common = period_mean_float64(remapped[variable], period, source=source.name)
        common = common.astype(remapped[variable].dtype)
    return common, NativeMean(opened, variable, mean)


def _soil_with_litter(
    source: Source, variables: dict[str, xr.DataArray], files: dict[str, list[Path]] | None = None
) -> xr.DataArray:
    """cSoil + cLitter (kg m-2), unless cSoil already includes the litter: the source's
    ``litter_in_soil`` quirk, or cSoil summed over pools labelled as litter or CWD
    (``litter_pools`` attribute, :func:`rhbench.loader.open_variable`), warned about when
    the source also gives a cLitter (it is then not added: counted once)."""
    soil = variables["cSoil"]
    pools = soil.attrs.get("litter_pools")
    if pools and "cLitter" in variables and not source.litter_in_soil:
        log.warning(
            "%s: cSoil is summed over pools that include litter (%s): cLitter is not added to it "
            "(it would be counted twice)",
            source.name,
            pools,
        )
    if "cLitter" not in variables and not (source.litter_in_soil or pools):
        log.info(
            "%s: no cLitter and cSoil not declared to include litter (quirk litter_in_soil): soil carbon and "
            "tau_soil are cSoil alone",
            source.name,
        )
    if source.litter_in_soil or pools or "cLitter" not in variables:
        return soil.assign_attrs(includes_litter=int(bool(source.litter_in_soil or pools)))
    litter = variables["cLitter"]
    if ("year" in soil.dims) != ("year" in litter.dims):  # a static map would be summed into a series
        static = "cSoil" if "year" not in soil.dims else "cLitter"
        raise TimeAxisError(
            "cSoil and cLitter are not both series: one is a single map without a time axis",
            source=source.name,
            file=str((files or {}).get(static, ["?"])[0]),
            variable=static,
            found=f"{static} dims {tuple(map(str, variables[static].dims))}",
            expected="yearly or monthly steps in both (the soil pool is cSoil + cLitter in every year)",
        )
    total = (soil + litter).transpose(*soil.dims)
    total.attrs = {**soil.attrs, "includes_litter": 1, "long_name": "soil + litter carbon"}
    return total.rename("cSoil")
