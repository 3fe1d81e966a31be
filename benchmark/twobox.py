"""The 2-box carbon model of He et al. (Eq. 3), DGVM turnover times (Eqs. 1-2) and the
pipeline entry point :func:`twobox_results` of the observation-based constraint.

Discretisation (annual explicit forward step, pools at the end of year ``t``)::

    cVeg[t]  = cVeg[t-1]  + NPP[t]                  - cVeg[t-1] / tau_veg[t]
    cSoil[t] = cSoil[t-1] + cVeg[t-1] / tau_veg[t]  - cSoil[t-1] / tau_soil[t]

from the steady state ``cVeg[0] = NPP[0] tau_veg[0]``, ``cSoil[0] = NPP[0] tau_soil[0]``.
It is evaluated in anomaly form (pool minus its first-year value), which is algebraically the
same, keeps a constant forcing at its steady state bit for bit and gives changes since the
first year without cancellation. Carbon is conserved: the change of cVeg + cSoil over a year
is NPP[t] minus the soil outflux cSoil[t-1] / tau_soil[t].
"""

from __future__ import annotations

import logging
import operator
from functools import reduce

import numpy as np
import xarray as xr
from rhbench import constraint
from rhbench.errors import DataError, MissingVariableError, ValueRangeError
from rhbench.metrics.totals import GRAMS_PER_KILOGRAM, regional_totals
from rhbench.metrics.turnover import litterfall

logger = logging.getLogger(__name__)

REQUIRED = ("npp", "rh", "cVeg", "cSoil")


def fill_first_year(tau: np.ndarray) -> np.ndarray:
    """Copy of ``tau`` (..., year) whose first year takes the second year's value (paper: the
    1901 turnover time, undefined without dc/dt, takes the 1902 value). :func:`simulate` does
    not do this itself; callers apply it to DGVM turnover times."""
    tau = np.array(tau, dtype=float)
    if tau.shape[-1] < 2:
        raise ValueRangeError("need at least two years", found=tau.shape[-1], expected=">= 2")
    tau[..., 0] = tau[..., 1]
    return tau


def simulate(npp: np.ndarray, tau_veg: np.ndarray, tau_soil: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integrate the 2-box model (module docstring) from its first-year steady state.

    Parameters
    ----------
    npp: net primary production in Pg C yr-1, shape (..., year).
    tau_veg, tau_soil: turnover times in yr (>= 1 yr, see :data:`constraint.TAU_FLOOR`),
        shapes (..., year); leading dims broadcast against each other and ``npp``.

    Returns
    -------
    (cVeg, cSoil) in Pg C, both of the broadcast shape (..., year).
    """
    npp, tau_veg, tau_soil = (np.asarray(a, dtype=float) for a in (npp, tau_veg, tau_soil))
    lengths = {a.shape[-1] if a.ndim else 0 for a in (npp, tau_veg, tau_soil)}
    if len(lengths) != 1:
        raise DataError(
            "npp and turnover times differ in length",
            found=sorted(lengths),
            expected="one length of the year axis",
        )
    for name, values, low in (
        ("npp", npp, -np.inf),
        ("tau_veg", tau_veg, constraint.TAU_FLOOR),
        ("tau_soil", tau_soil, constraint.TAU_FLOOR),
    ):
        finite = np.isfinite(values)
        if not finite.all() or values.min() < low:
            raise ValueRangeError(
                "2-box forcing must be finite, turnover times >= 1 yr",
                variable=name,
                found=values.min() if finite.all() else f"{(~finite).sum()} missing values",
                expected=f"finite, >= {low}",
            )
    n0 = npp[..., :1]
    veg_out = n0 * (tau_veg[..., :1] / tau_veg)
    soil_out = n0 * (tau_soil[..., :1] / tau_soil)
    dveg = np.zeros(np.broadcast_shapes(npp.shape, tau_veg.shape))
    dsoil = np.zeros(np.broadcast_shapes(dveg.shape, tau_soil.shape))
    for t in range(1, dsoil.shape[-1]):
        litter = veg_out[..., t] + dveg[..., t - 1] / tau_veg[..., t]
        dveg[..., t] = dveg[..., t - 1] + npp[..., t] - litter
        rh = soil_out[..., t] + dsoil[..., t - 1] / tau_soil[..., t]
        dsoil[..., t] = dsoil[..., t - 1] + litter - rh
    cveg = n0 * tau_veg[..., :1] + dveg
    return np.broadcast_to(cveg, dsoil.shape).copy(), n0 * tau_soil[..., :1] + dsoil


def global_turnover(annual: xr.Dataset, area: xr.DataArray, regions: xr.DataArray | None = None) -> xr.Dataset:
    """Yearly global totals and turnover times of a DGVM (Eqs. 1-2, ratios of global totals).

    Parameters
    ----------
    annual: dims (year, lat, lon); ``npp``, ``rh`` and optional ``fVegLitter`` in
        g C m-2 yr-1, ``cVeg`` and ``cSoil`` (litter included) in kg C m-2. Consecutive years.
    area: cell areas in m2, dims (lat, lon). Only cells where every variable is present in
        every year count.
    regions: optional boolean masks (region, lat, lon) (see
        :func:`rhbench.metrics.totals.stack_masks`); the totals and turnover times then have
        a ``region`` dim, all computed in one pass over the data.

    Returns
    -------
    Dataset over ``year``: npp, rh, litterfall (Pg C yr-1), cVeg, cSoil (Pg C), tau_veg,
    tau_soil (yr; NaN where the flux is not positive). litterfall is fVegLitter if present,
    else NPP - dcVeg/dt (:func:`rhbench.metrics.turnover.litterfall`: centred differences,
    one-sided at the ends); the 2-box model replaces the first year anyway
    (:func:`fill_first_year`).
    """
    missing = [v for v in REQUIRED if v not in annual]
    if missing:
        raise MissingVariableError(
            "2-box turnover needs more variables",
            variable=",".join(missing),
            found=sorted(map(str, annual.data_vars)),
            expected=list(REQUIRED),
        )
    years = annual["year"].values
    if years.size < 2 or np.any(np.diff(years) != 1):
        raise ValueRangeError(
            "2-box turnover needs consecutive years",
            variable="year",
            found=f"{years.size} years",
            expected="consecutive annual steps",
        )
    fields = {v: annual[v] for v in REQUIRED}
    fields["litterfall"] = litterfall(annual)
    valid = reduce(operator.and_, (f.notnull().all("year") for f in fields.values()))
    weights = area.where(valid, 0.0)
    out = xr.Dataset(
        {
            v: regional_totals(f, weights, regions, grams_per_unit=GRAMS_PER_KILOGRAM if v[0] == "c" else 1.0)
            for v, f in fields.items()
        }
    )
    out["tau_veg"] = out["cVeg"] / out["litterfall"].where(out["litterfall"] > 0)
    out["tau_soil"] = out["cSoil"] / out["rh"].where(out["rh"] > 0)
    for v in out.data_vars:
        out[v].attrs["units"] = "yr" if v.startswith("tau") else "Pg C" if v[0] == "c" else "Pg C yr-1"
    out.attrs["litterfall"] = "fVegLitter" if "fVegLitter" in annual else "npp - dcVeg/dt"
    return out.compute()


def r2_score(model: np.ndarray, reference: np.ndarray) -> float:
    """Coefficient of determination ``1 - SSE/SST`` of ``model`` against ``reference`` (1);
    NaN when ``reference`` is constant."""
    model, reference = np.asarray(model, dtype=float), np.asarray(reference, dtype=float)
    sst = np.sum((reference - reference.mean()) ** 2)
    return float(1.0 - np.sum((model - reference) ** 2) / sst) if sst > 0 else float("nan")


def rmse(model: np.ndarray, reference: np.ndarray) -> float:
    """Root-mean-square difference of two series, in their units."""
    diff = np.asarray(model, dtype=float) - np.asarray(reference, dtype=float)
    return float(np.sqrt(np.mean(diff**2)))


def emulation_skill(turnover: xr.Dataset) -> xr.Dataset:
    """The 2-box model driven by a DGVM's own NPP and turnover times versus the DGVM.

    Parameters
    ----------
    turnover: output of :func:`global_turnover`.

    Returns
    -------
    Dataset over ``year`` of changes since the first year (Pg C): ``dc{Veg,Soil,Total}_emulated``
    and ``_dgvm``, ``cTotal_emulated``, and the scalars ``emulation_r2`` (1) and
    ``emulation_rmse`` (Pg C) of the emulated against the DGVM's dcTotal series (Fig. 4a).
    Turnover times below 1 yr are clipped (logged).
    """
    tv, low_v = constraint.floor_turnover(fill_first_year(turnover["tau_veg"].values))
    ts, low_s = constraint.floor_turnover(fill_first_year(turnover["tau_soil"].values))
    if low_v or low_s:
        logger.warning("2-box emulation: DGVM turnover times below 1 yr were clipped to 1 yr")
    cveg, csoil = simulate(turnover["npp"].values, tv, ts)
    out = xr.Dataset(coords={"year": turnover["year"]})
    for pool, emu in (("dcVeg", cveg), ("dcSoil", csoil), ("dcTotal", cveg + csoil)):
        out[f"{pool}_emulated"] = ("year", emu - emu[0], {"units": "Pg C"})
    out["cTotal_emulated"] = ("year", cveg + csoil, {"units": "Pg C"})
    dgvm = turnover["cVeg"] + turnover["cSoil"]
    for pool, series in (
        ("dcVeg", turnover["cVeg"]),
        ("dcSoil", turnover["cSoil"]),
        ("dcTotal", dgvm),
    ):
        out[f"{pool}_dgvm"] = (series - series[0]).assign_attrs(units="Pg C")
    emulated, own = out["dcTotal_emulated"].values, out["dcTotal_dgvm"].values
    out["emulation_r2"] = xr.DataArray(r2_score(emulated, own), attrs={"units": "1"})
    out["emulation_rmse"] = xr.DataArray(rmse(emulated, own), attrs={"units": "Pg C"})
    return out
