"""A model's per-PFT variable (dims ``year, PFT, lat, lon``) made the grid cell's, by its own land cover.

TRENDY models may write rh (or another flux or stock) per plant functional type: the value per m2
of that type's area. ``landCoverFrac`` (TRENDY's and CMIP6's name: % or fraction of the grid cell,
on the same PFT axis) gives each type's share; by CMIP6's definition the shares of every land-cover
type (bare soil, glaciers, lakes included) add up to the land part of the cell. The cell's value per
m2 of LAND, as every other grid-level variable of a model (its totals multiply by cell area x land
fraction), is the cover-weighted sum divided by the covered share (twelfth audit A12-1; Review 9:
the undivided sum was a value per m2 of the whole cell, weighted by the land fraction a second time
in the totals, so a coastal cell of 60 % land counted 0.6 x 0.6). Never an average over the types:

    cell = sum_p value_p x f_p / D                  (f = landCoverFrac as a fraction, 0..1)
    D    = max(sum_p f_p, land)  when the model declares its land fraction (sftlf, landArea / cell
           area or 1 - oceanCoverFrac: the one its totals use, rhbench.harmonize._cell_measures)
    D    = sum_p f_p             without one

so that the totals (cell area x land x cell) are sum_p area x value_p x f_p for shares of the cell,
whether they list every type (sum = land) or leave out bare soil (sum < land: the bare land counts as
land without the flux; before, it was averaged as vegetation, 8 x too high in a 10 %-vegetated cell of
80 % land), and area x land x sum_p value_p x f_p for shares of the land (sum = 1 >= land).

A plugin declares the model's land cover as one more variable, ``landCoverFrac`` (canonical units
``1``; ``%`` converted): ``trendy_dgvm(..., variables=(..., "landCoverFrac"))`` or
``Var("landCoverFrac", "%")``. It is read only to weight per-PFT variables, never benchmarked.

- A type absent from a cell (fraction 0, or missing) adds nothing, whatever its value (NaN or 0);
  a type with no value anywhere (a bare-soil or glacier type the variable is not written for) adds
  nothing to the sum but its share counts in the covered share (its land has no such flux): said at
  WARNING when its share of some cell exceeds :data:`UNVALUED_WARN_SHARE` (a vegetated type the files
  leave out, e.g. crops not simulated, reads as land without the flux), else at INFO. A model without
  a land fraction whose types leave out part of its land has that part averaged as its types:
  declare its sftlf or landArea, or list every type, bare soil included.
- A cell whose shares add up to 0 is missing (no land).
- A type present (fraction > 0) without a value in a cell, but with values elsewhere, leaves the cell
  missing (never silently low).
- A cell where every fraction is missing (the ocean) is missing.
- Fractions per year (yearly or monthly files, made annual means) weight each year's values;
  a static map weights every year. Monthly fractions are averaged over each year first (exact when
  the cover changes once a year, as in TRENDY's yearly land-use maps).

Refused, naming both files: a PFT axis of another length, another grid, years the land cover does
not have; fractions adding up to more than 1 (a percentage labelled ``1``) or, in every cell, to
less than 0.02 (fractions labelled ``%``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from rhbench import grid, layout, loader, runscope
from rhbench.errors import CoordinateError, TimeAxisError, ValueRangeError
from rhbench.sources import Source

log = logging.getLogger(__name__)

#: The canonical name of a model's land cover per PFT (share of the grid cell).
COVER = "landCoverFrac"
#: How far the fractions of a cell may add up above 1 (float32 rounding of percentages).
SUM_TOLERANCE = 0.01
_AXES = ("year", "time", "lat", "lon")
#: The share of a cell above which a type with no value anywhere is warned of (else logged at INFO).
UNVALUED_WARN_SHARE = 0.05


def is_weight(source: Source, name: str) -> bool:
    """True for a model's :data:`COVER`: read only to weight its per-PFT variables, never benchmarked
    (an observation product's land cover, e.g. MODIS's, is its benchmark variable)."""
    return name == COVER and source.kind == "dgvm"


def open_cell_values(
    source: Source,
    name: str,
    files: Mapping[str, Sequence[Path]],
    *,
    in_memory: bool = False,
    land_of: Callable[[xr.DataArray], xr.DataArray | None] | None = None,
) -> xr.DataArray:
    """``name`` of ``source`` as annual means of the grid cell (:func:`rhbench.loader.open_variable`):
    a per-PFT variable weighted by the model's :data:`COVER` when the source declares it
    (:func:`weighted`, with ``land_of(values)``: the model's own land fraction 0..1 on the values'
    grid, or None); without it, a per-PFT variable is refused by the loader, naming its file."""
    paths = files[name]
    if COVER not in files or source.kind != "dgvm" or name == COVER:
        return loader.open_variable(source, name, paths, annual=True, in_memory=in_memory)
    data = loader.open_variable(source, name, paths, annual=True, in_memory=in_memory, pfts=True)
    if not _extra_dims(data):
        return data
    cover = runscope.latest(
        COVER,
        (source.name, in_memory),
        lambda: loader.open_variable(source, COVER, files[COVER], annual=True, in_memory=in_memory, pfts=True),
        files=files[COVER],
    )
    land = None if land_of is None else _land(source, files, data, land_of)
    return weighted(
        data, cover, source=source.name, data_file=str(paths[0]), cover_file=str(files[COVER][0]), land=land
    )


def _land(
    source: Source,
    files: Mapping[str, Sequence[Path]],
    data: xr.DataArray,
    land_of: Callable[[xr.DataArray], xr.DataArray | None],
) -> xr.DataArray | None:
    """``land_of(data)``, once for all the per-PFT variables of ``source`` on ``data``'s grid within a run
    (:func:`rhbench.runscope.latest`: it reads the model's cell measures, declared in ``files``)."""
    grid_key = tuple((str(data[c].dtype), data[c].values.tobytes()) for c in ("lat", "lon"))
    paths = [path for name in sorted(files) if name != COVER for path in files[name]]
    return runscope.latest("land fraction", (source.name, *grid_key), lambda: land_of(data), files=paths)


def _extra_dims(data: xr.DataArray) -> list[str]:
    return [str(d) for d in data.dims if d not in _AXES]


def weighted(
    data: xr.DataArray,
    cover: xr.DataArray,
    *,
    source: str,
    data_file: str,
    cover_file: str,
    land: xr.DataArray | None = None,
) -> xr.DataArray:
    """The grid cell's ``data`` per m2 of land (dims ``[year,] lat, lon``): the sum over ``data``'s one
    PFT dim of ``data`` x ``cover`` (fractions 0..1, same PFT axis) divided by the sum of ``cover``, or,
    given the model's own ``land`` fraction (0..1, ``lat, lon`` on ``data``'s grid; NaN as 0), by the
    larger of the two (see the module doc). Units of ``data``."""
    name = str(data.name)
    where = {"source": source, "file": f"{data_file} and {cover_file}", "variable": name}
    dim, frac = _on_pft_axis(data, cover, where)
    why = grid.grid_mismatch(frac, data)
    if why is not None:
        raise CoordinateError(f"{name} and {COVER} are on different grids", found=why, expected="one grid", **where)
    frac = _on_years(data, frac.assign_coords(lat=data["lat"], lon=data["lon"]), where)
    _check_sums(frac, dim, source=source, cover_file=cover_file)
    valued = data.notnull().any([d for d in data.dims if d != dim]).compute()  # types with no value anywhere
    shares = frac.fillna(0.0)
    if not bool(valued.all()):
        _say_unvalued(shares, valued, dim, source=source, name=name)
    present = (shares > 0.0) & valued
    terms = (data.astype("float64") * frac).where(present, 0.0)  # an absent type adds nothing
    covered = shares.astype("float64").sum(dim)  # the cell's land (every type's share, valued or not)
    if land is not None:  # the model's land fraction: land left out of the types counts, without the flux
        stated = land.fillna(0.0).astype("float64").assign_coords(lat=data["lat"], lon=data["lon"])
        covered = xr.where(stated > covered, stated, covered)
    per_land = terms.sum(dim, skipna=False) / covered.where(covered > 0.0)  # a present type without a value: missing
    cell = per_land.where(frac.notnull().any(dim))
    log.info("%s: %s per PFT (%s) weighted by %s (%s)", source, name, dim, COVER, cover_file)
    divisor = f"sum of {COVER}" if land is None else f"max(sum of {COVER}, the model's land fraction)"
    attrs = {**data.attrs, "pft_weighted": f"sum over {dim} of {name} x {COVER} / {divisor}"}
    return cell.astype(data.dtype).transpose(*[d for d in data.dims if d != dim]).assign_attrs(attrs).rename(name)


def _say_unvalued(shares: xr.DataArray, valued: xr.DataArray, dim: str, *, source: str, name: str) -> None:
    """Log the types of ``dim`` with no value of ``name`` anywhere (they add nothing: zero flux) and their
    largest share of a cell: a WARNING when one covers more than :data:`UNVALUED_WARN_SHARE` of some cell
    (a vegetated type not simulated, e.g. crops, would be read as land without the flux), else INFO
    (bare soil or glaciers without the variable, common and legitimate)."""
    idle = np.flatnonzero(~valued.values)
    largest = shares.isel({dim: idle}).max([d for d in shares.dims if d != dim]).values
    said = ", ".join(f"{i}: {100.0 * float(s):.3g} %" for i, s in zip(idle.tolist(), largest, strict=True))
    if float(np.max(largest, initial=0.0)) > UNVALUED_WARN_SHARE:
        log.warning(
            "%s: %s has no value anywhere for %s %s (largest share of a cell): their land counts as zero %s; "
            "right for bare soil, glaciers or lakes, wrong for a vegetated type the files leave out",
            source, name, dim, said, name,
        )  # fmt: skip
    else:
        log.info("%s: %s has no value for %s %s (largest share) anywhere: those types add nothing",
                 source, name, dim, said)  # fmt: skip


def _on_pft_axis(data: xr.DataArray, cover: xr.DataArray, where: dict) -> tuple[str, xr.DataArray]:
    """``data``'s PFT dim and ``cover`` on it; :class:`CoordinateError` when the axes differ."""
    extra, cover_extra = _extra_dims(data), _extra_dims(cover)
    found = f"{where['variable']} dims {tuple(map(str, data.dims))}; {COVER} dims {tuple(map(str, cover.dims))}"
    if len(extra) != 1 or len(cover_extra) != 1:
        raise CoordinateError(
            "per-PFT values and the land cover do not have one PFT axis each",
            found=found,
            expected="one PFT dimension in both",
            **where,
        )
    dim, cover_dim = extra[0], cover_extra[0]
    if not (layout.PFT_DIM.search(dim) or dim == cover_dim):
        raise CoordinateError("unexpected extra dimension", found=found, expected="([time,] lat, lon)", **where)
    if data.sizes[dim] != cover.sizes[cover_dim]:
        raise CoordinateError(
            f"the PFT axis of {where['variable']} and of {COVER} differ in length",
            found=f"{dim}: {data.sizes[dim]} types; {COVER} {cover_dim}: {cover.sizes[cover_dim]} types",
            expected="the same PFT axis (one fraction per type, in the same order)",
            **where,
        )
    mine, theirs = (np.asarray(a[d].values) if d in a.coords else None for a, d in ((data, dim), (cover, cover_dim)))
    if mine is not None and theirs is not None and not np.array_equal(mine, theirs):
        raise CoordinateError(
            f"the PFT axis of {where['variable']} and of {COVER} name other types",
            found=f"{dim} {mine.tolist()}; {cover_dim} {theirs.tolist()}",
            expected="the same types in the same order",
            **where,
        )
    frac = cover.rename({cover_dim: dim}) if cover_dim != dim else cover
    return dim, frac.drop_vars(dim, errors="ignore")


def _on_years(data: xr.DataArray, frac: xr.DataArray, where: dict) -> xr.DataArray:
    """``frac`` for each year of ``data`` (a static map: every year); :class:`TimeAxisError` when the
    land cover lacks a year of ``data`` or is yearly while ``data`` is one map."""
    if "year" not in frac.dims:
        return frac
    if "year" not in data.dims:
        raise TimeAxisError(
            f"{COVER} is yearly but {where['variable']} is one map", expected="a static land cover", **where
        )
    missing = sorted(set(data["year"].values.tolist()) - set(frac["year"].values.tolist()))
    if missing:
        years, wanted = frac["year"].values, data["year"].values
        raise TimeAxisError(
            f"{COVER} lacks years of {where['variable']}",
            found=f"{COVER} {years.min()}-{years.max()}; missing {missing[:5]}{' ...' if len(missing) > 5 else ''}",
            expected=f"a land cover for every year {wanted.min()}-{wanted.max()}, or a static map",
            **where,
        )
    return frac.sel(year=data["year"].values).assign_coords(year=data["year"])


def _check_sums(frac: xr.DataArray, dim: str, *, source: str, cover_file: str) -> None:
    """:class:`ValueRangeError` naming the land-cover file when a cell's fractions add up to more than 1."""
    sums = frac.sum(dim)
    worst = float(sums.max())
    if worst < 2 * SUM_TOLERANCE:  # no cell 2 % covered: fractions 0..1 labelled '%' read 100 x too small
        raise ValueRangeError(
            f"the {COVER} fractions of every cell add up to almost nothing",
            source=source,
            file=cover_file,
            variable=COVER,
            found=f"at most {worst:.4g} (after the units conversion)",
            expected="a vegetated cell's fractions adding up to a good part of 1",
            hint="fractions (0..1) labelled '%'? label them '1' or declare the units the file holds in the plugin",
        )
    if worst > 1.0 + SUM_TOLERANCE:
        raise ValueRangeError(
            f"the {COVER} fractions of a cell add up to more than 1",
            source=source,
            file=cover_file,
            variable=COVER,
            found=f"up to {worst:.4g} (after the units conversion)",
            expected="fractions of the grid cell adding up to at most 1",
            hint="percentages labelled '1'? label them '%' (e.g. ncatted -a "
            "units,landCoverFrac,o,c,% FILE) or declare the units the file holds in the plugin",
        )
