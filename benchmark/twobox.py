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
#: First year of the 2-box emulation (He et al.: steady state in 1901, steps 1902-2018); a model's
#: earlier years (TRENDY files from 1700, CMIP6 ``historical`` from 1850) are not used, so every
#: model's changes start in the year the paper's do.
START_YEAR = 1901


def from_start_year(annual: xr.Dataset) -> tuple[xr.Dataset, str]:
    """``annual``'s years from :data:`START_YEAR` on, and the note its 2-box rows carry when earlier
    years were left out ("" when none were)."""
    years = annual["year"].values if "year" in annual.dims else np.array([])
    if years.size == 0 or years.min() >= START_YEAR:
        return annual, ""
    note = (
        f"its years {int(years.min())}-{START_YEAR - 1} left out: the 2-box model starts at steady state "
        f"in {START_YEAR} (He et al.)"
    )
    return annual.sel(year=annual["year"] >= START_YEAR), note


def fill_first_year(tau: np.ndarray) -> np.ndarray:
    """Copy of ``tau`` (yr; dims ..., year) whose first year takes the second year's value (paper: the
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
    (cVeg, cSoil) in Pg C, both of the broadcast shape (..., year). They are views of
    time-major arrays (year first in memory): each year is one contiguous row, written once.

    The vegetation pool is integrated only over the leading dims of ``npp`` and ``tau_veg``
    (it does not depend on ``tau_soil``), so crossed draws, e.g. ``tau_veg`` (model, veg, 1,
    year) with ``tau_soil`` (model, 1, soil, year), cost one soil-sized pass per year. Inputs
    whose year axis is already the slowest in memory are read in place, others one year at a
    time (:class:`_Years`).
    """
    npp, tau_veg, tau_soil = (np.asarray(a, dtype=float) for a in (npp, tau_veg, tau_soil))
    _check_forcing(npp, tau_veg, tau_soil)
    return _integrate(*(_Years(a) for a in (npp, tau_veg, tau_soil)))


def _check_forcing(npp: np.ndarray, tau_veg: np.ndarray, tau_soil: np.ndarray) -> None:
    """Raise unless the forcings share one year axis, are finite and turnover times >= 1 yr."""
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
        # min is NaN when a value is missing, so one comparison covers NaN, -inf and the floor
        if not (values.min() >= low and values.max() < np.inf):
            finite = np.isfinite(values)
            raise ValueRangeError(
                "2-box forcing must be finite, turnover times >= 1 yr",
                variable=name,
                found=values.min() if finite.all() else f"{(~finite).sum()} missing values",
                expected=f"finite, >= {low}",
            )


class _Years:
    """Year ``t`` of a (..., year) array as an array over its leading dims (``[t]``).

    When years are interleaved in memory (the usual C-ordered (..., year) array) and a year is
    large, each year is copied on request into one reused contiguous buffer: every operation
    then reads contiguous memory and no year-first copy of the whole array is ever made.
    Year-first inputs (views of (year, ...) arrays) and small arrays are read in place. The
    first year, used every year, is kept apart.
    """

    def __init__(self, values: np.ndarray) -> None:
        self.view = np.moveaxis(values, -1, 0)
        self.shape = self.view.shape
        self.first = self.view[0].copy()
        interleaved = not self.view.flags.c_contiguous and self.view[0].size >= 4096
        self.buffer = np.empty(self.shape[1:]) if interleaved else None

    def __getitem__(self, t: int) -> np.ndarray:
        if t == 0:
            return self.first
        if self.buffer is None:
            return self.view[t]
        np.copyto(self.buffer, self.view[t])
        return self.buffer


class _DirectSoil:
    """Soil step of the module docstring, for a soil pool with no dim beyond its forcing's:
    ``rh = n0 tau_soil[0] / tau_soil[t] + dsoil[t-1] / tau_soil[t]``, ``dsoil += litter - rh``."""

    def __init__(self, n0: np.ndarray, tau_soil: _Years, shape: tuple[int, ...]) -> None:
        self.n0, self.tau = n0, tau_soil
        self.steady = n0 * tau_soil[0]
        self.dsoil, self.rh, self.out = np.zeros(shape), np.empty(shape), np.empty(shape)

    def step(self, t: int, litter: np.ndarray, csoil: np.ndarray) -> None:
        tau = self.tau[t]
        np.divide(self.tau[0], tau, out=self.out)
        self.out *= self.n0
        np.divide(self.dsoil, tau, out=self.rh)
        self.rh += self.out
        self.dsoil += litter
        self.dsoil -= self.rh
        np.add(self.steady, self.dsoil, out=csoil)


class _SplitSoil:
    """Soil step for a soil pool larger than each of its drives (crossed draws).

    With ``k = 1 - 1/tau_soil`` the anomaly obeys ``dsoil[t] = k dsoil[t-1] + (litter - n0)
    - (n0 tau_soil[0] / tau_soil[t] - n0)``; being linear it is split into ``A - B``: ``A``
    driven by the litter (the vegetation dims), ``B`` by the outflux (only the soil forcing's
    dims). Each year makes two in-place passes over the full-size ``A`` plus the write of
    cSoil. Both drives are exactly zero at a constant forcing, so a steady state stays exact.
    """

    def __init__(self, n0: np.ndarray, tau_soil: _Years, shape: tuple[int, ...]) -> None:
        self.n0, self.tau = n0, tau_soil
        self.steady = n0 * tau_soil[0]
        small = np.shape(self.steady)
        self.big_a, self.small_b = np.zeros(shape), np.zeros(small)
        self.out, self.offset, self.keep = np.empty(small), np.empty(small), np.empty(tau_soil.shape[1:])
        self.drive = None

    def step(self, t: int, litter: np.ndarray, csoil: np.ndarray) -> None:
        tau = self.tau[t]
        np.divide(1.0, tau, out=self.keep)
        np.subtract(1.0, self.keep, out=self.keep)
        np.divide(self.tau[0], tau, out=self.out)
        self.out *= self.n0
        self.out -= self.n0
        self.small_b *= self.keep
        self.small_b += self.out
        np.subtract(self.steady, self.small_b, out=self.offset)
        self.drive = np.subtract(litter, self.n0, out=self.drive)
        self.big_a *= self.keep
        self.big_a += self.drive
        np.add(self.big_a, self.offset, out=csoil)


def _integrate(npp: _Years, tau_veg: _Years, tau_soil: _Years) -> tuple[np.ndarray, np.ndarray]:
    """The anomaly-form time loop, year by year; returns (..., year) views of (year, ...) arrays.

    Every year updates the anomalies in place, without temporaries; the vegetation step is
    the module docstring's, the soil step :class:`_DirectSoil` or, when the soil pool has dims
    its own forcing lacks, :class:`_SplitSoil`. cVeg is a read-only broadcast view when it
    does not vary along a dim.
    """
    n_years = npp.shape[0]
    veg_shape = np.broadcast_shapes(npp.shape[1:], tau_veg.shape[1:])
    soil_in = np.broadcast_shapes(npp.shape[1:], tau_soil.shape[1:])
    shape = np.broadcast_shapes(veg_shape, soil_in)
    n0 = npp[0]
    soil = (_DirectSoil if soil_in == shape else _SplitSoil)(n0, tau_soil, shape)
    veg_steady = n0 * tau_veg[0]
    cveg, csoil = np.empty((n_years, *veg_shape)), np.empty((n_years, *shape))
    cveg[0], csoil[0] = veg_steady, soil.steady
    dveg, litter, veg_tmp = np.zeros(veg_shape), np.empty(veg_shape), np.empty(veg_shape)
    for t in range(1, n_years):
        # litter = NPP[0] (tau_veg[0] / tau_veg[t]) + dveg[t-1] / tau_veg[t]
        tau = tau_veg[t]
        np.divide(tau_veg[0], tau, out=litter)
        litter *= n0
        np.divide(dveg, tau, out=veg_tmp)
        litter += veg_tmp
        dveg += npp[t]
        dveg -= litter
        np.add(veg_steady, dveg, out=cveg[t, ...])
        soil.step(t, litter, csoil[t, ...])
    cveg, csoil = np.moveaxis(cveg, 0, -1), np.moveaxis(csoil, 0, -1)
    return np.broadcast_to(cveg, csoil.shape) if cveg.shape != csoil.shape else cveg, csoil


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
        gaps = sorted(set(range(int(years.min()), int(years.max()) + 1)) - set(years.tolist())) if years.size else []
        raise ValueRangeError(
            "2-box turnover needs consecutive years",
            variable="year",
            found=f"{years.size} years" + (f", {years.min()}-{years.max()} without {_listed(gaps)}" if gaps else ""),
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


def _refuse_undefined_turnover(turnover: xr.Dataset) -> None:
    """Raise ValueRangeError naming the years whose turnover time is undefined (its flux not
    positive or missing); the first year is replaced by the second (:func:`fill_first_year`)."""
    years = turnover["year"].values
    litter = "litterfall (" + str(turnover.attrs.get("litterfall", "fVegLitter")) + ")"
    for tau, flux in (("tau_veg", litter), ("tau_soil", "rh")):
        undefined = ~np.isfinite(turnover[tau].values)
        undefined[0] = False if years.size < 2 else undefined[1]
        if undefined.any():
            raise ValueRangeError(
                f"{tau} is undefined in some years: the model's total {flux} is not positive there",
                variable=tau,
                found=f"{flux} <= 0 or missing in {_listed(years[undefined].tolist())}",
                expected=f"a positive total {flux} in every year",
            )


def _listed(years: list[int], most: int = 5) -> str:
    """``years`` as text, the first ``most`` of them."""
    return ", ".join(map(str, years[:most])) + (f" ... ({len(years)} years)" if len(years) > most else "")


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
    Turnover times below 1 yr are clipped (``attrs['tau_clipped']`` is 1; the caller reports it once).
    """
    _refuse_undefined_turnover(turnover)
    tv, low_v = constraint.floor_turnover(fill_first_year(turnover["tau_veg"].values))
    ts, low_s = constraint.floor_turnover(fill_first_year(turnover["tau_soil"].values))
    if low_v or low_s:
        logger.debug("2-box emulation: DGVM turnover times below 1 yr were clipped to 1 yr")
    cveg, csoil = simulate(turnover["npp"].values, tv, ts)
    out = xr.Dataset(coords={"year": turnover["year"]}, attrs={"tau_clipped": int(bool(low_v or low_s))})
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
