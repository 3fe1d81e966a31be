"""Reduce one DGVM, once, to the small products the benchmarks read; then drop its fields.

A full-size model (0.5 deg, monthly, 1901-2018) is ~9 GB of files. The benchmark suite
needs only period-mean maps (:func:`rhbench.metrics.suite.evaluate`) and the 2-box
constraint only yearly totals per vegetation class (:func:`rhbench.twobox.twobox_results`).
Handing both the lazy fields would read every file once per consumer and per region, so
instead :func:`reduce_model` computes the model's annual means in one ``dask.compute``
(one pass over its files, on whatever dask scheduler is active), derives both products
in memory, and returns only them. Peak memory is one model's annual fields in float32
(6 variables x 118 years x 360 x 720 x 4 B = 0.7 GB at 0.5 deg), whatever the number of
models.

The 2-box product is a *partition grid*: one pseudo-cell per vegetation class plus one
for the land outside every class, each of area 1 m2, holding the class's area-weighted
sum over the valid cells (every required variable present in every year). Class masks
are disjoint, so the sum over pseudo-cells is the global sum and a class's pseudo-cell
is its sum: :func:`rhbench.twobox.global_turnover` (sums of value x area over lat/lon,
then linear operations in time) gives the same totals as on the full grid.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import xarray as xr

from rhbench.errors import MissingVariableError, TimeAxisError
from rhbench.grid import regrid_nearest, same_grid
from rhbench.harmonize import period_mean
from rhbench.kernels import nanmean_years
from rhbench.landfrac import CellMeasures
from rhbench.metrics.coverage import years_record
from rhbench.metrics.native import native_regions, native_totals
from rhbench.metrics.ratio_years import ratio_means
from rhbench.metrics.turnover import litterfall
from rhbench.products import to_common_grid
from rhbench.twobox import REQUIRED
from rhbench.vegclass import CLASS_NAMES

log = logging.getLogger(__name__)

#: dtype of the in-memory annual fields (halves memory; sums are taken in float64).
STORE_DTYPE = "float32"
#: Name of the pseudo-cell holding the land outside every class.
REST = "other"
#: Name of the pseudo-cell holding the cells outside the observation's domain.
OUTSIDE = "outside_domain"


@dataclass(frozen=True)
class Partition:
    """Disjoint regions on the common grid and the partition grid that stands for them.

    Attributes
    ----------
    index: (lat, lon) int, the part of each cell (``len(names) - 1`` = :data:`REST`).
    names: part names, the classes then :data:`REST`.
    area: (lat=part, lon=1) pseudo-cell areas, all 1 m2.
    masks: class name -> boolean (lat=part, lon=1) mask of its pseudo-cell.
    domain: boolean (lat=part, lon=1): the pseudo-cells inside the observation's domain
        (the ``global`` region of the 2-box constraint).
    """

    index: np.ndarray
    names: tuple[str, ...]
    area: xr.DataArray
    masks: dict[str, xr.DataArray]
    domain: xr.DataArray | None = None


def partition(regions: dict[str, xr.DataArray], like: xr.DataArray, domain: xr.DataArray | None = None) -> Partition:
    """The partition grid of disjoint boolean (lat, lon) ``regions`` on ``like``'s grid.

    With ``domain`` (boolean (lat, lon): the cells where the observed turnover time is
    defined), cells outside it form their own part :data:`OUTSIDE`, left out of every
    region and of :attr:`Partition.domain`, so that the 2-box emulation sums the same cells
    as the observation it is constrained towards.

    Raises ValueError when two regions overlap (their totals could not be separated).
    """
    inside = np.ones(like.shape, dtype=bool) if domain is None else np.asarray(domain.values, dtype=bool)
    index = np.full(like.shape, len(regions), dtype=np.int32)
    for i, mask in enumerate(regions.values()):
        cells = np.asarray(mask.values, dtype=bool) & inside
        if np.any(cells & (index != len(regions))):
            raise ValueError(f"region {list(regions)[i]!r} overlaps another region")
        index[cells] = i
    names = (*regions, REST)
    if domain is not None:
        index[~inside] = len(names)
        names = (*names, OUTSIDE)
    coords = {"lat": np.arange(len(names), dtype=float), "lon": [0.0]}
    area = xr.DataArray(
        np.ones((len(names), 1)),
        dims=("lat", "lon"),
        coords=coords,
        name="cell_area",
        attrs={"units": "m2", "long_name": "partition cell"},
    )

    def part_mask(selected: np.ndarray, name: str) -> xr.DataArray:
        return xr.DataArray(selected[:, None], dims=("lat", "lon"), coords=coords, name=name)

    masks = {name: part_mask(np.arange(len(names)) == i, name) for i, name in enumerate(regions)}
    return Partition(index, names, area, masks, part_mask(np.array([n != OUTSIDE for n in names]), "domain"))


@dataclass(frozen=True)
class ModelProducts:
    """What the benchmarks read of one DGVM.

    Attributes
    ----------
    period: period means (lat, lon) of every variable, ``fVegLitter`` being litterfall
        (given or NPP - dcVeg/dt), input of :func:`~rhbench.metrics.suite.evaluate`;
        keeps an empty ``year`` dim when the model has no year in the period.
    totals: (year, lat=part, lon=1) area-weighted sums over the valid cells of each part,
        g C yr-1 (fluxes) or kg C (stocks) per 1 m2 pseudo-cell, input of
        :func:`~rhbench.twobox.twobox_results` with the partition's area and masks; an empty
        Dataset when reduced for a run without the 2-box constraint (``reduce_native(twobox=False)``).
    regions: totals per region on the model's native grid with cell area x land fraction
        (:func:`rhbench.metrics.native.native_totals`); None when reduced on the common grid.
    """

    period: xr.Dataset
    totals: xr.Dataset
    regions: xr.Dataset | None = None


def reduce_model(annual: xr.Dataset, area: xr.DataArray, parts: Partition, period: tuple[int, int]) -> ModelProducts:
    """Compute ``annual`` (year, lat, lon; may be dask-backed) once and reduce it.

    ``area`` is the common grid's cell area in m2; ``period`` the inclusive years of the
    means. Units are those of ``annual`` (canonical: g C m-2 yr-1, kg C m-2).
    """
    fields = _series(annual).astype(STORE_DTYPE, copy=False).compute()
    return ModelProducts(period_means(fields, period), partition_totals(fields, area, parts))


def _series(annual: xr.Dataset) -> xr.Dataset:
    """``annual`` with an empty ``year`` dim when no variable has one (a model without any year).

    Raises :class:`TimeAxisError` naming the variable when some variables are series and
    another is a single map without a time axis (eighth audit: a ValueError deep in the
    reduction, or a 2-box failure blaming the litterfall): a model's fluxes and pools are
    series, and its period means and 2-box totals need every variable in every year.
    """
    if "year" not in annual.dims:
        return annual.expand_dims(year=np.array([], dtype=int)).isel(year=slice(0, 0))
    static = [str(name) for name, data in annual.data_vars.items() if "year" not in data.dims]
    if static:
        raise TimeAxisError(
            "a model variable without a time axis beside variables with one",
            source=annual.attrs.get("source"),
            variable=", ".join(static),
            found=f"{', '.join(static)}: one map (dims {tuple(map(str, annual[static[0]].dims))})",
            expected="yearly or monthly steps in every variable of a model",
        )
    return annual


def reduce_native(
    annual: xr.Dataset,
    cells: CellMeasures,
    target: xr.Dataset,
    period: tuple[int, int],
    *,
    vegclass: xr.DataArray | None = None,
    band_width: float = 10.0,
    domain: xr.DataArray | None = None,
    twobox: bool = True,
) -> ModelProducts:
    """Compute ``annual`` (year, lat, lon on the model's native grid) once and reduce it.

    Totals (per region, and the 2-box partition's yearly sums) are taken on the native
    grid with ``cells``' land area; the period-mean maps are then put on ``target``'s grid
    (:func:`rhbench.products.to_common_grid`, a finer grid remapped conservatively per land
    area) for Taylor statistics and bias maps. ``vegclass`` is the reference's class map
    on ``target``'s grid and ``domain`` the 2-box domain there (boolean, see
    :func:`partition`); both are sampled at the native cell centres by nearest neighbour.
    ``twobox``: False for a run without the 2-box constraint (no observed cSoil): the 2-box
    partition's yearly totals, which only the constraint reads, are not computed (empty
    ``totals``); the maps and regional totals are the same either way.
    """
    fields = _series(annual).astype(STORE_DTYPE, copy=False).compute()
    derived = cells.land is None  # land = the cells with data (no land fraction): all-zero cells are not land
    cells = cells.resolved(fields)
    means = period_means(fields, period)
    if derived:  # an ocean written as 0 is not land in the maps either (twelfth audit, B12-5)
        means = means.where(
            xr.DataArray(cells.land.values > 0, dims=("lat", "lon"), coords=means[["lat", "lon"]].coords)
        )
    regions = native_regions(fields, vegclass=vegclass, band_width=band_width)
    land_area = cells.weights
    summary = native_totals(
        means.rename({"fVegLitter": "litterfall"}) if "fVegLitter" in means else means, land_area, regions
    )
    summary.attrs.update(means.attrs, cell_measures=cells.origin, area_sum_error=cells.area_sum_error)
    totals = _twobox_totals(fields, land_area, regions, domain) if twobox else xr.Dataset()
    if same_grid(means, target):
        common = means.assign_coords(lat=target["lat"].values, lon=target["lon"].values)
    else:
        common = to_common_grid(means, target, weights=cells.land)
    return ModelProducts(common.assign_attrs(means.attrs), totals, summary)


def _twobox_totals(
    fields: xr.Dataset, land_area: xr.DataArray, regions: xr.DataArray, domain: xr.DataArray | None
) -> xr.Dataset:
    """The 2-box partition's yearly totals of ``fields`` on their native grid (:func:`partition_totals`)."""
    classes = {str(r): regions.sel(region=r) for r in regions["region"].values if r in CLASS_NAMES}
    parts = partition(classes, land_area, domain=_sampled(domain, land_area))
    return partition_totals(fields, land_area, parts)


def period_means(annual: xr.Dataset, period: tuple[int, int]) -> xr.Dataset:
    """Period means (float64, each in its variable's canonical units) of every variable, with litterfall
    as ``fVegLitter``, and, for a turnover time whose variables cover different years, theirs over the
    years both have (:func:`rhbench.metrics.ratio_years.ratio_means`, e.g. ``rh__tau_soil``).

    The attributes record the years used, those with a value (:func:`rhbench.metrics.coverage.years_record`),
    and how the time stamps were read when that was decided.
    """
    window = annual.sel(year=slice(*period))
    coverage = years_record(annual, period)
    if window.sizes["year"] == 0:
        return window.assign_attrs(coverage)
    means = {name: nanmean_years(window[name]) for name in annual.data_vars}
    if "fVegLitter" not in annual and "npp" in annual and "cVeg" in annual:
        # centred differences need one year either side of the period, no more
        around = annual[["npp", "cVeg"]].sel(year=slice(period[0] - 1, period[1] + 1)).astype("float64")
        try:
            litter = period_mean(litterfall(around), period)
            means["fVegLitter"] = litter.assign_attrs(derived="npp - dcVeg/dt")
        except MissingVariableError:
            pass
    means.update(ratio_means(annual, period, coverage))  # turnover means over common years, where they differ
    return xr.Dataset(means, attrs={**annual.attrs, **coverage})


def _sampled(mask: xr.DataArray | None, like: xr.DataArray) -> xr.DataArray | None:
    """A boolean common-grid ``mask`` at ``like``'s cell centres (nearest neighbour; outside it: False)."""
    if mask is None:
        return None
    target = xr.Dataset(coords={"lat": like["lat"].values, "lon": like["lon"].values})
    return regrid_nearest(mask.astype("float64"), target).fillna(0.0) > 0.5


def partition_totals(annual: xr.Dataset, area: xr.DataArray, parts: Partition) -> xr.Dataset:
    """Sums of value x area over the valid cells of each part, per year (float64).

    Also, per part (no year): ``land_area``, the area of the cells where the model has some
    value (its land), and ``valid_land_area``, that of its valid cells (m2), so that the 2-box
    rows can say how much of its land they sum (:func:`rhbench.uptake.valid_share`).
    """
    names = [v for v in (*REQUIRED, "fVegLitter") if v in annual]
    valid, present = np.ones(area.shape, dtype=bool), np.zeros(area.shape, dtype=bool)
    for name in names:  # one isnan pass per variable serves both reductions over the years
        data = annual[name]
        values = np.asarray(data.values)
        missing = np.isnan(values) if values.dtype.kind in "fc" else np.zeros(values.shape, dtype=bool)
        axis = data.get_axis_num("year")
        valid &= ~missing.any(axis=axis)
        present |= ~missing.all(axis=axis)
    cells = np.flatnonzero(valid.ravel())
    weights = np.asarray(area.values, dtype="float64").ravel()[cells]
    onehot = np.zeros((cells.size, len(parts.names)))
    onehot[np.arange(cells.size), parts.index.ravel()[cells]] = 1.0
    onehot *= weights[:, None]
    years = annual["year"].values
    totals = {}
    for name in names:
        values = np.asarray(annual[name].values).reshape(years.size, -1)[:, cells]
        totals[name] = (
            ("year", "lat", "lon"),
            (values.astype("float64") @ onehot)[..., None],
            dict(annual[name].attrs),
        )
    # the model's land: cells where it has some value (a cell without any is not its land)
    its_land = np.where(present, np.nan_to_num(np.asarray(area.values, dtype="float64")), 0.0).ravel()
    shares = {
        "land_area": np.bincount(parts.index.ravel(), weights=its_land, minlength=len(parts.names)),
        "valid_land_area": onehot.sum(axis=0),
    }
    for name, values in shares.items():
        totals[name] = (("lat", "lon"), values[:, None], {"units": "m2"})
    coords = {"year": years, "lat": parts.area["lat"].values, "lon": parts.area["lon"].values}
    return xr.Dataset(totals, coords=coords, attrs=annual.attrs)
