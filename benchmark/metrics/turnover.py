"""Turnover times of soil and vegetation carbon and the attribution of tau_soil biases.

First-order, non-steady-state turnover times (SCIENCE.md section 3)::

    tau_soil = (cSoil + cLitter) / Rh        tau_veg = cVeg / litterfall

in yr, from stocks in kg C m-2 and fluxes in g C m-2 yr-1 (factor 1000). A per-cell
turnover time (:func:`tau_map`) is undefined where the flux is below ``RH_FLOOR_FOR_TAU``
(1 g C m-2 yr-1); global and regional ones stay ratios of totals over every cell. Litterfall is
``fVegLitter`` when a model reports it, else ``NPP - dcVeg/dt``. A global (or regional)
turnover time is the ratio of the area-weighted totals, over the cells where both the
stock and the flux are present.

Bias attribution, per cell, against the observed ``tau_obs = cSoil_obs / Rh_obs``::

    bias from Rh alone    = (cSoil_obs / Rh_mod) / tau_obs - 1 = Rh_obs / Rh_mod - 1
    bias from cSoil alone = (cSoil_mod / Rh_obs) / tau_obs - 1 = cSoil_mod / cSoil_obs - 1

(in %). A cell is Rh-dominated when |bias from Rh| > |bias from cSoil| (ties count as
cSoil-dominated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from rhbench.errors import MissingVariableError
from rhbench.metrics.taylor import taylor_statistics
from rhbench.metrics.totals import GRAMS_PER_KILOGRAM, lat_lon_values, region_sums, sums_missing_as_zero

#: Codes of the attribution class map.
RH_DOMINATED = 1
CSOIL_DOMINATED = 2
#: Flux below which a per-cell turnover time is undefined, g C m-2 yr-1 (Rh for tau_soil; the
#: same floor would hold for litterfall). Below it ``stock / flux`` is a ratio of two near-zero
#: quantities dominated by rounding and by cells a model treats as bare: one vegetated cell with
#: Rh 1e-3 gives tau 1e7 yr and alone sets a map's Taylor SD and ILAMB scores. The global mean Rh
#: is ~380 g C m-2 yr-1 and observed vegetated cells have tens or more, so the floor removes no
#: real signal. Global and regional turnover times (:func:`ratio_of_totals`) use every cell.
RH_FLOOR_FOR_TAU = 1.0

#: Each turnover time (a ratio of period means): its name, and the variables (of a model's period
#: means) of its stock and flux. Where a model's stock and flux cover different years, their
#: means over the years both have are kept as :func:`aligned_name` (:mod:`rhbench.metrics.ratio_years`).
TURNOVER_RATIOS = (("tau_soil", "cSoil", "rh"), ("tau_veg", "cVeg", "fVegLitter"))


def aligned_name(variable: str, ratio: str) -> str:
    """Name of ``variable``'s period mean over the years ``ratio``'s variables all have (``rh__tau_soil``)."""
    return f"{variable}__{ratio}"


def tau_map(stock: xr.DataArray, flux: xr.DataArray) -> xr.DataArray:
    """Per-cell turnover time ``stock / flux`` in yr.

    Parameters
    ----------
    stock: kg C m-2.
    flux: g C m-2 yr-1; cells with flux below ``RH_FLOOR_FOR_TAU`` (1 g C m-2 yr-1) or
        missing give NaN.
    """
    tau = stock * GRAMS_PER_KILOGRAM / flux.where(flux >= RH_FLOOR_FOR_TAU)
    return tau.rename("tau").assign_attrs(units="yr")


def tau_floor_note(compared: xr.DataArray, area: xr.DataArray, *fluxes: xr.DataArray, flux_name: str = "rh") -> str:
    """Words for a row's reason: the cells of ``compared`` the floor of :func:`tau_map` left out.

    ``compared`` (boolean, lat, lon) are the cells the statistic would compare without the
    floor; a cell is left out when any of ``fluxes`` (g C m-2 yr-1) is below
    ``RH_FLOOR_FOR_TAU`` there. ``area`` in m2. Returns "" when no cell is left out.
    """
    below = xr.zeros_like(compared, dtype=bool)
    for flux in fluxes:
        below = below | (flux < RH_FLOOR_FOR_TAU)
    left_out = compared.astype(bool) & below
    cells = int(left_out.sum())
    if cells == 0:
        return ""
    share = 100.0 * float(area.where(left_out, 0.0).sum()) / float(area.where(compared.astype(bool), 0.0).sum())
    return _floor_words(cells, share, flux_name)


def tau_floor_note_values(compared: np.ndarray, area: np.ndarray, *fluxes: np.ndarray, flux_name: str = "rh") -> str:
    """:func:`tau_floor_note` on (lat, lon) numpy arrays of one grid (boolean ``compared``, ``area`` m2,
    ``fluxes`` g C m-2 yr-1): the same cells and share (sums with missing values as zero, as xarray's)."""
    below = np.zeros(compared.shape, dtype=bool)
    for flux in fluxes:
        below |= flux < RH_FLOOR_FOR_TAU
    left_out = compared & below
    cells = int(np.count_nonzero(left_out))
    if cells == 0:
        return ""
    left_area = sums_missing_as_zero(np.where(left_out, area, 0.0))
    share = 100.0 * float(left_area) / float(sums_missing_as_zero(np.where(compared, area, 0.0)))
    return _floor_words(cells, share, flux_name)


def _floor_words(cells: int, share: float, flux_name: str) -> str:
    """The note of :func:`tau_floor_note`: ``cells`` cells, ``share`` % of the compared area."""
    return (
        f"tau undefined where {flux_name} < {RH_FLOOR_FOR_TAU:g} g C m-2 yr-1: "
        f"{cells} cell{'s' if cells != 1 else ''} ({share:.2g} % of the area) left out"
    )


def ratio_of_totals(
    stock: xr.DataArray,
    flux: xr.DataArray,
    area: xr.DataArray,
    regions: xr.DataArray | None = None,
) -> xr.DataArray:
    """Turnover time as total stock over total flux, in yr.

    Parameters
    ----------
    stock: kg C m-2; flux: g C m-2 yr-1; area: m2. Only cells where both are present count.
    regions: optional boolean (region, lat, lon) masks; the result then has a ``region``
        dimension. Without it, the totals are over all cells.
    """
    weight = area.where(stock.notnull() & flux.notnull(), 0.0)
    stock_total = region_sums(stock * weight, regions) * GRAMS_PER_KILOGRAM
    flux_total = region_sums(flux * weight, regions)
    return (stock_total / flux_total.where(flux_total > 0)).rename("tau").assign_attrs(units="yr")


def litterfall(ds: xr.Dataset) -> xr.DataArray:
    """Litterfall in g C m-2 yr-1: ``fVegLitter`` if present, else ``npp - dcVeg/dt``.

    ``ds`` has dims (year, lat, lon); ``cVeg`` in kg C m-2, fluxes in g C m-2 yr-1; the
    derivative is :func:`time_derivative`.

    Raises
    ------
    MissingVariableError
        Without ``fVegLitter`` and without both ``npp`` and ``cVeg``.
    """
    if "fVegLitter" in ds:
        return ds["fVegLitter"].rename("litterfall")
    missing = [name for name in ("npp", "cVeg") if name not in ds]
    if missing or "year" not in ds.dims or ds.sizes["year"] < 2:
        raise MissingVariableError(
            "litterfall needs fVegLitter, or npp and cVeg over at least two years",
            variable="fVegLitter",
            found=sorted(map(str, ds.data_vars)),
            expected="fVegLitter, or npp + cVeg (year, lat, lon)",
        )
    dcveg_dt = time_derivative(ds["cVeg"]) * GRAMS_PER_KILOGRAM
    return (ds["npp"] - dcveg_dt).rename("litterfall").assign_attrs(units="gC m-2 yr-1")


def time_derivative(series: xr.DataArray) -> xr.DataArray:
    """d(series)/d(year) per year (units of ``series`` per yr, e.g. kg C m-2 yr-1 of cVeg in kg C m-2):
    centred differences, one-sided at the first and last year.

    ``(x[t+1] - x[t-1]) / (year[t+1] - year[t-1])`` inside, ``(x[1] - x[0]) / (year[1] -
    year[0])`` and its mirror at the ends. Works lazily on dask arrays of any chunking.
    """
    year = series["year"].astype(float)
    nxt, prv = series.shift(year=-1), series.shift(year=1)
    year_nxt, year_prv = year.shift(year=-1), year.shift(year=1)
    central = (nxt - prv) / (year_nxt - year_prv)
    forward = (nxt - series) / (year_nxt - year)
    backward = (series - prv) / (year - year_prv)
    position = xr.DataArray(np.arange(series.sizes["year"]), dims="year", coords={"year": series["year"]})
    last = series.sizes["year"] - 1
    return xr.where(position == 0, forward, xr.where(position == last, backward, central))


@dataclass(frozen=True)
class ObservedTau:
    """Observed tau_soil from several cSoil products over one Rh map.

    ``map`` (lat, lon, yr) and ``global_value`` (yr) use the product mean; ``global_sd``
    (yr) is the sample SD (ddof=1) of the products' individual global values
    ``per_product`` (product,).
    """

    map: xr.DataArray
    global_value: float
    global_sd: float
    per_product: xr.DataArray


def observed_tau_soil(
    csoil_products: xr.DataArray,
    rh: xr.DataArray,
    area: xr.DataArray,
    *,
    product_dim: str = "product",
) -> ObservedTau:
    """Observed tau_soil: mean of the cSoil products over the Rh reference.

    Parameters
    ----------
    csoil_products: (product, lat, lon) cSoil + cLitter, kg C m-2.
    rh: reference Rh (lat, lon), g C m-2 yr-1.
    area: m2.
    """
    csoil = csoil_products.mean(product_dim)
    per_product = ratio_of_totals(csoil_products, rh, area)
    sd = float(per_product.std(ddof=1)) if per_product.sizes[product_dim] > 1 else float("nan")
    return ObservedTau(
        map=tau_map(csoil, rh).rename("tau_soil"),
        global_value=float(ratio_of_totals(csoil, rh, area)),
        global_sd=sd,
        per_product=per_product,
    )


@dataclass(frozen=True)
class TauBiasAttribution:
    """Per-cell attribution of the tau_soil bias (maps) and its area summary.

    ``maps`` has ``tau_bias_pct``, ``bias_from_rh_pct``, ``bias_from_csoil_pct``,
    ``rh_bias_pct`` (%) and ``attribution`` (1 Rh-dominated, 2 cSoil-dominated, NaN
    outside the cells used). ``summary`` keys: ``rh_dominated_area_pct`` (% of the area
    of the cells used), ``tau_bias_pct``, ``bias_from_rh_pct``, ``bias_from_csoil_pct``
    (% from ratios of totals over the cells used), ``corr_rh_dev_tau_dev`` (1), ``area_m2``.
    """

    maps: xr.Dataset
    summary: dict[str, float]


def attribute_tau_bias(
    csoil_mod: xr.DataArray,
    rh_mod: xr.DataArray,
    csoil_obs: xr.DataArray,
    rh_obs: xr.DataArray,
    area: xr.DataArray,
    mask: xr.DataArray | None = None,
) -> TauBiasAttribution:
    """Split a model's tau_soil bias into its Rh and its cSoil parts, cell by cell.

    Parameters
    ----------
    csoil_mod, csoil_obs: cSoil + cLitter, kg C m-2 (lat, lon).
    rh_mod, rh_obs: Rh, g C m-2 yr-1 (lat, lon).
    area: m2.
    mask: cells to consider (e.g. the vegetated area); cells also need all four inputs
        present, both Rh >= ``RH_FLOOR_FOR_TAU`` (where :func:`tau_map` is defined) and
        cSoil_obs > 0.

    Notes
    -----
    The global figures are ratios of totals over the cells used:
    ``bias_from_rh_pct = 100 (sum Rh_obs A / sum Rh_mod A - 1)``, likewise for cSoil and
    the total. ``corr_rh_dev_tau_dev`` is the area-weighted Pearson correlation across the
    cells used between the relative deviations ``100 (Rh_mod / Rh_obs - 1)`` and
    ``100 (tau_mod / tau_obs - 1)``.

    The maps are computed with numpy on the inputs' (lat, lon) arrays, aligned once (inner
    join, as xarray's arithmetic), each expression as written above; the totals are sums
    with missing values as zero, as xarray's ``sum``.
    """
    given = (csoil_mod, rh_mod, csoil_obs, rh_obs, area, *([] if mask is None else [mask]))
    arrays = xr.align(*given, join="inner", copy=False)
    c_mod, r_mod, c_obs, r_obs, weights = (lat_lon_values(a) for a in arrays[:5])
    used = (r_obs >= RH_FLOOR_FOR_TAU) & (r_mod >= RH_FLOOR_FOR_TAU) & (c_obs > 0) & ~np.isnan(c_mod)
    if mask is not None:
        used &= lat_lon_values(arrays[5]).astype(bool)
    maps = _attribution_maps(c_mod, r_mod, c_obs, r_obs, used)
    coords = {n: c for a in arrays[:4] for n, c in a.coords.items() if set(c.dims) <= {"lat", "lon"}}
    attrs = dict.fromkeys(maps, {"units": "%"}) | {"attribution": {}}
    dataset = xr.Dataset({name: (("lat", "lon"), values, attrs[name]) for name, values in maps.items()}, coords=coords)
    inputs = (c_mod, r_mod, c_obs, r_obs)
    return TauBiasAttribution(maps=dataset, summary=_summary(dataset, used, weights, inputs, arrays[4]))


#: The maps of :func:`attribute_tau_bias`, in the order it returns them.
ATTRIBUTION_MAPS = ("tau_bias_pct", "bias_from_rh_pct", "bias_from_csoil_pct", "rh_bias_pct", "attribution")


def _attribution_maps(
    c_mod: np.ndarray, r_mod: np.ndarray, c_obs: np.ndarray, r_obs: np.ndarray, used: np.ndarray
) -> dict[str, np.ndarray]:
    """The (lat, lon) maps of :func:`attribute_tau_bias` over the ``used`` cells, NaN elsewhere. Without any
    cell used (e.g. no observed cSoil) every map is NaN: the expressions are then evaluated on no cell
    (numpy's result types do not depend on values), for the maps' dtypes only, and each map is one NaN
    broadcast to the grid, read-only (a write raises: five 2 MB arrays written and faulted in at 0.5
    degree for no information; every reader copies them into its own arrays)."""
    if not used.any() and used.size:
        empty = _attribution_maps(*(np.ravel(a)[:0] for a in (c_mod, r_mod, c_obs, r_obs, used)))
        return {name: np.broadcast_to(np.array(np.nan, values.dtype), used.shape) for name, values in empty.items()}
    with np.errstate(invalid="ignore", divide="ignore"):
        tau_obs = np.where(used, tau_values(c_obs, r_obs), np.nan)
        from_rh = 100.0 * (r_obs / r_mod - 1.0)
        from_csoil = 100.0 * (c_mod / c_obs - 1.0)
        tau_bias = 100.0 * (tau_values(c_mod, r_mod) / tau_obs - 1.0)
        rh_bias = 100.0 * (r_mod / r_obs - 1.0)
        dominated = np.abs(from_rh) > np.abs(from_csoil)
    attribution = np.where(dominated, float(RH_DOMINATED), float(CSOIL_DOMINATED))
    maps = dict(zip(ATTRIBUTION_MAPS, (tau_bias, from_rh, from_csoil, rh_bias, attribution), strict=True))
    return {name: np.where(used, values, np.nan) for name, values in maps.items()}


def tau_values(stock: np.ndarray, flux: np.ndarray) -> np.ndarray:
    """:func:`tau_map` on arrays: ``stock`` (kg C m-2) x 1000 / ``flux`` (g C m-2 yr-1), yr;
    NaN where the flux is below ``RH_FLOOR_FOR_TAU`` or missing."""
    return stock * GRAMS_PER_KILOGRAM / np.where(flux >= RH_FLOOR_FOR_TAU, flux, np.nan)


def _summary(
    maps: xr.Dataset, used: np.ndarray, area: np.ndarray, inputs: tuple[np.ndarray, ...], like: xr.DataArray
) -> dict[str, float]:
    """Area summary of :func:`attribute_tau_bias` (see :class:`TauBiasAttribution`); ``inputs``
    are cSoil_mod, Rh_mod, cSoil_obs, Rh_obs as (lat, lon) arrays, ``area`` (m2) the same
    shape and ``like`` the area as a DataArray (the weights of the correlation)."""
    csoil_mod, rh_mod, csoil_obs, rh_obs = inputs
    weight = np.where(used, area, 0.0)
    used_area = float(sums_missing_as_zero(weight))

    def total(field: np.ndarray) -> float:
        return float(sums_missing_as_zero(np.where(used, field, 0.0) * weight))

    if used_area == 0:
        return dict.fromkeys(
            (
                "rh_dominated_area_pct",
                "tau_bias_pct",
                "bias_from_rh_pct",
                "bias_from_csoil_pct",
                "corr_rh_dev_tau_dev",
            ),
            float("nan"),
        ) | {"area_m2": 0.0}
    dominated_area = float(sums_missing_as_zero(np.where(maps["attribution"].values == RH_DOMINATED, weight, 0.0)))
    rh_ratio = total(rh_obs) / total(rh_mod)
    csoil_ratio = total(csoil_mod) / total(csoil_obs)
    corr = taylor_statistics(maps["rh_bias_pct"], maps["tau_bias_pct"], weights=like)["r"]
    return {
        "rh_dominated_area_pct": 100.0 * dominated_area / used_area,
        "tau_bias_pct": 100.0 * (csoil_ratio * rh_ratio - 1.0),
        "bias_from_rh_pct": 100.0 * (rh_ratio - 1.0),
        "bias_from_csoil_pct": 100.0 * (csoil_ratio - 1.0),
        "corr_rh_dev_tau_dev": corr,
        "area_m2": used_area,
    }
