"""The maps and zonal profiles behind the scorecard (``results.nc`` groups ``maps`` and ``zonal``).

Each map is over the years of the rows it illustrates (:mod:`rhbench.metrics.map_years`): Rh maps
from the period-mean fields of the Rh rows, turnover maps (and the biases and attribution drawn
from them) from the fields of the tau_soil rows (``tau_fields``: rh and cSoil over the years both have).
Computed on numpy arrays, or by xarray for maps that are not plain maps on the reference's grid: when
each runs is said once, in :mod:`rhbench.metrics.totals` ("Numpy paths and their xarray twins").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from xarray.structure.merge import merge_attrs

from rhbench.metrics import map_years
from rhbench.metrics.definitions import FLUX as _FLUX
from rhbench.metrics.reference import Reference
from rhbench.metrics.totals import GRAMS_PER_KILOGRAM, grid_values, plain_on_grid, zonal_profile
from rhbench.metrics.turnover import TauBiasAttribution, tau_map, tau_values


@dataclass
class MapInputs:
    """What the maps of a run are drawn from, per source: its period-mean ``fields`` (those of its
    Rh and cSoil rows), its ``tau_fields`` (those of its tau_soil rows), its kind and the text of
    each field's years (:func:`rhbench.metrics.map_years.source_years`)."""

    period: tuple[int, int]
    fields: dict[str, dict[str, xr.DataArray]] = field(default_factory=dict)
    tau_fields: dict[str, dict[str, xr.DataArray]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    years: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def of_reference(cls, ref: Reference, period: tuple[int, int]) -> MapInputs:
        """The inputs with the reference's fields (its Rh over ``ref.rh_years``, else the period)."""
        out = cls(period)
        both = {"rh": ref.rh_land, "csoil": ref.csoil}
        out.fields[ref.name], out.tau_fields[ref.name], out.kinds[ref.name] = both, both, "reference"
        rh_years = ref.rh_years or map_years.period_text(period)
        years = dict.fromkeys(map_years.FIELDS, rh_years) | {"csoil": map_years.file_years(ref.csoil, period)}
        if not ref.has_csoil:  # an all-missing map over no years, not a static one
            years |= dict.fromkeys(("csoil", "tau_soil"), map_years.NO_OBSERVED_CSOIL)
        out.years[ref.name] = map_years.drawn_only(years, both)
        return out

    def add(
        self, name: str, kind: str, found: dict[str, xr.DataArray], tau: dict[str, xr.DataArray], record: Mapping
    ) -> dict[str, xr.DataArray]:
        """Add source ``name`` (``record``: its years record); return ``tau``."""
        self.fields[name], self.tau_fields[name], self.kinds[name] = found, tau, kind
        self.years[name] = map_years.drawn_only(map_years.source_years(record, self.period), found | tau)
        return tau

    def of_kind(self, kind: str) -> dict[str, dict[str, xr.DataArray]]:
        """The tau fields of the sources of ``kind``."""
        return {name: tau for name, tau in self.tau_fields.items() if self.kinds[name] == kind}

    def datasets(self, attributions: dict[str, TauBiasAttribution], ref: Reference) -> dict[str, xr.Dataset]:
        """``maps`` (:func:`source_maps`) and ``zonal`` (:func:`zonal_profiles`), labelled with their years."""
        maps = source_maps(self.fields, self.tau_fields, self.kinds, attributions, ref)
        zonal = zonal_profiles(self.fields, self.tau_fields, self.kinds, ref)
        label = map_years.labelled
        return {"maps": label(maps, self.years, self.period), "zonal": label(zonal, self.years, self.period)}


#: The (source, lat, lon) maps of :func:`source_maps`, in order, and their units.
MAP_UNITS = {"rh": _FLUX, "tau_soil": "yr", "rh_bias": _FLUX, "tau_bias": "yr", "attribution": "1", "tau_veg": "yr"}


def source_maps(
    fields: dict[str, dict[str, xr.DataArray]],
    tau_fields: dict[str, dict[str, xr.DataArray]],
    kinds: dict[str, str],
    attributions: dict[str, TauBiasAttribution],
    ref: Reference,
) -> xr.Dataset:
    """(source, lat, lon) maps: rh, tau_soil, rh_bias, tau_bias, attribution, tau_veg (float32; units
    :data:`MAP_UNITS`: g C m-2 yr-1, yr and 1); ``rh`` and ``rh_bias`` from ``fields``, the others from
    ``tau_fields`` (see the module doc). Fields in canonical units: rh and litterfall g C m-2 yr-1,
    csoil and cveg kg C m-2.

    Maps given as plain (lat, lon) DataArrays on the reference's grid (the suite's) are computed on
    their numpy arrays and stacked once (:func:`_stacked_maps`); anything else through xarray
    (:func:`_concatenated_maps`): the same values, attributes and coordinates."""
    per_source = {name: _source_fields(name, found, tau_fields, attributions, ref) for name, found in fields.items()}
    stacked = _stacked_maps(per_source, ref)
    maps = stacked if stacked is not None else _concatenated_maps(per_source, ref)
    maps = maps.assign_coords(source=list(fields), kind=("source", [kinds[n] for n in fields]))
    return _with_units(maps, MAP_UNITS)


def _source_fields(
    name: str,
    found: dict[str, xr.DataArray],
    tau_fields: dict[str, dict[str, xr.DataArray]],
    attributions: dict[str, TauBiasAttribution],
    ref: Reference,
) -> dict[str, tuple[xr.DataArray, ...] | xr.DataArray | None]:
    """What each map of one source is drawn from: ``rh``, a (stock, flux) pair for ``tau_soil`` and
    ``tau_veg``, the ``attribution`` map; None where the source has none (an all-NaN map)."""
    both = tau_fields.get(name, found)
    return {
        "rh": found.get("rh"),
        "tau_soil": (both["csoil"], both["rh"]) if "csoil" in both and "rh" in both else None,
        "tau_veg": (both["cveg"], both["litterfall"]) if "cveg" in both and "litterfall" in both else None,
        "attribution": attributions[name].maps["attribution"] if name in attributions else None,
    }


def _concatenated_maps(per_source: dict[str, dict], ref: Reference) -> xr.Dataset:
    """The maps of :func:`source_maps` by xarray's arithmetic, one Dataset per source, concatenated."""
    nan = xr.full_like(ref.rh_land, np.nan)
    out = []
    for drawn in per_source.values():
        rh = drawn["rh"] if drawn["rh"] is not None else nan
        tau = tau_map(*drawn["tau_soil"]) if drawn["tau_soil"] is not None else nan
        tau_veg = tau_map(*drawn["tau_veg"]) if drawn["tau_veg"] is not None else nan
        attribution = drawn["attribution"] if drawn["attribution"] is not None else nan
        maps = {"rh": rh, "tau_soil": tau, "rh_bias": rh - ref.rh_land, "tau_bias": tau - ref.tau_soil}
        out.append(xr.Dataset(maps | {"attribution": attribution, "tau_veg": tau_veg}).astype(np.float32))
    return xr.concat(out, dim="source", coords="minimal", compat="override")


def _stacked_maps(per_source: dict[str, dict], ref: Reference) -> xr.Dataset | None:
    """The maps of :func:`source_maps` on numpy arrays, when every input is a (lat, lon) DataArray on the
    reference's grid with no other coordinate (else None): each map as :func:`_concatenated_maps`
    computes it (:func:`~rhbench.metrics.turnover.tau_values` is :func:`tau_map` on arrays), cast to
    float32, with the attributes xarray's arithmetic gives it (:func:`_attrs_of`)."""
    like, ref_tau = ref.rh_land, ref.tau_soil
    drawn_from = [a for drawn in per_source.values() for v in drawn.values() if v is not None for a in _arrays(v)]
    if not plain_on_grid(like, like, ref_tau, *drawn_from):  # every input on the reference's grid
        return None
    nan = xr.full_like(like, np.nan)
    maps = {name: np.empty((len(per_source), *like.shape), dtype=np.float32) for name in MAP_UNITS}
    attrs: dict[str, dict] = {}
    for i, drawn in enumerate(per_source.values()):
        given = _source_columns(drawn, like, ref_tau, nan, {name: out[i] for name, out in maps.items()})
        for name in MAP_UNITS:
            attrs.setdefault(name, dict(given[name]))  # the first source's, as concat's default
    data = {name: (("source", "lat", "lon"), maps[name], attrs[name]) for name in MAP_UNITS}
    first = next(iter(per_source.values()), {}).get("rh")
    grid = (first if first is not None else like).coords  # the first source's first map's, as concat's
    return xr.Dataset(data, coords={"lat": grid["lat"], "lon": grid["lon"]})


def _source_columns(
    drawn: dict, like: xr.DataArray, ref_tau: xr.DataArray, nan: xr.DataArray, out: dict[str, np.ndarray]
) -> dict[str, dict]:
    """One source's maps written into the float32 arrays ``out`` (each computed in its own dtype, then
    cast, as ``astype``) and their attributes (see :func:`_stacked_maps`)."""
    rh = drawn["rh"] if drawn["rh"] is not None else nan
    tau, tau_attrs = _ratio(drawn["tau_soil"], nan)
    tau_veg, veg_attrs = _ratio(drawn["tau_veg"], nan)
    attribution = drawn["attribution"] if drawn["attribution"] is not None else nan
    np.subtract(rh.values, like.values, out=out["rh_bias"], casting="unsafe")
    np.subtract(tau, ref_tau.values, out=out["tau_bias"], casting="unsafe")
    copied = {"rh": rh.values, "tau_soil": tau, "attribution": attribution.values, "tau_veg": tau_veg}
    for name, values in copied.items():
        np.copyto(out[name], values, casting="unsafe")
    attrs = {"rh": rh.attrs, "rh_bias": _attrs_of(rh.attrs, like.attrs), "tau_soil": tau_attrs, "tau_veg": veg_attrs}
    return attrs | {"tau_bias": _attrs_of(tau_attrs, ref_tau.attrs), "attribution": attribution.attrs}


def _arrays(value: xr.DataArray | tuple[xr.DataArray, ...]) -> tuple[xr.DataArray, ...]:
    return value if isinstance(value, tuple) else (value,)


def _attrs_of(*operands: dict) -> dict:
    """The attributes of a binary operation's result in xarray's arithmetic: its operands' attributes,
    those that conflict dropped (``combine_attrs="drop_conflicts"``)."""
    return merge_attrs(list(operands), combine_attrs="drop_conflicts") or {}


def _ratio(pair: tuple[xr.DataArray, xr.DataArray] | None, nan: xr.DataArray) -> tuple[np.ndarray, dict]:
    """(values, attributes) of :func:`tau_map` of a (stock, flux) ``pair``; ``nan``'s without a pair."""
    if pair is None:
        return nan.values, nan.attrs
    stock, flux = pair
    return tau_values(stock.values, flux.values), {**_attrs_of(stock.attrs, flux.attrs), "units": "yr"}


#: The (source, lat) profiles of :func:`zonal_profiles`, in order, and their units.
ZONAL_UNITS = {"rh": _FLUX, "csoil": "kg C m-2", "tau_soil": "yr", "tau_veg": "yr"}
#: Each zonal turnover time: its stock and flux (keys of a source's fields).
_ZONAL_RATIOS = (("tau_soil", "csoil", "rh"), ("tau_veg", "cveg", "litterfall"))


def zonal_profiles(
    fields: dict[str, dict[str, xr.DataArray]],
    tau_fields: dict[str, dict[str, xr.DataArray]],
    kinds: dict[str, str],
    ref: Reference,
) -> xr.Dataset:
    """(source, lat) area-weighted zonal means of rh (g C m-2 yr-1) and cSoil (kg C m-2) (from ``fields``),
    and zonal tau_soil and tau_veg (yr; from ``tau_fields``: ratios of the zonal means of their stock and
    flux where both are present); units :data:`ZONAL_UNITS`.

    On numpy arrays when every field is a plain (lat, lon) map on the reference's grid
    (:func:`_stacked_zonal`), else through xarray (:func:`_concatenated_zonal`): the same values,
    attributes and coordinates."""
    out = _stacked_zonal(fields, tau_fields, ref)
    out = out if out is not None else _concatenated_zonal(fields, tau_fields, ref)
    out = out.assign_coords(source=list(fields), kind=("source", [kinds[n] for n in fields]))
    return _with_units(out, ZONAL_UNITS)


def _concatenated_zonal(
    fields: dict[str, dict[str, xr.DataArray]], tau_fields: dict[str, dict[str, xr.DataArray]], ref: Reference
) -> xr.Dataset:
    """The profiles of :func:`zonal_profiles` by xarray (:func:`~rhbench.metrics.totals.zonal_profile`,
    :func:`_zonal_ratio`), one Dataset per source, concatenated."""
    per_source = []
    nan = xr.full_like(ref.rh["lat"], np.nan, dtype=float)
    for name, found in fields.items():
        zonal = {k: nan if found.get(k) is None else zonal_profile(found[k], ref.area) for k in ("rh", "csoil")}
        both = tau_fields.get(name, found)
        for tau, stock, flux in _ZONAL_RATIOS:
            zonal[tau] = _zonal_ratio(both.get(stock), both.get(flux), ref.area) if stock in both else nan
        per_source.append(xr.Dataset(zonal))
    return xr.concat(per_source, dim="source", coords="minimal", compat="override")


def _stacked_zonal(
    fields: dict[str, dict[str, xr.DataArray]], tau_fields: dict[str, dict[str, xr.DataArray]], ref: Reference
) -> xr.Dataset | None:
    """The profiles of :func:`zonal_profiles` computed on (lat, lon) numpy arrays as
    :func:`~rhbench.metrics.totals.zonal_profile` and :func:`_zonal_ratio` compute them; None unless
    every field and the area are plain (lat, lon) DataArrays on the reference's grid."""
    like, lat = ref.rh_land, ref.rh["lat"]
    given = [like, ref.area, *(a for f in (*fields.values(), *tau_fields.values()) for a in f.values())]
    if not plain_on_grid(like, *given):
        return None
    (cells,) = grid_values(like, ref.area)
    nan = np.full(lat.shape, np.nan)
    out = {name: np.empty((len(fields), lat.size)) for name in ZONAL_UNITS}
    for i, (name, found) in enumerate(fields.items()):
        for key in ("rh", "csoil"):
            out[key][i] = _profile(found[key].values, cells) if found.get(key) is not None else nan
        both = tau_fields.get(name, found)
        for tau, stock, flux in _ZONAL_RATIOS:
            out[tau][i] = _profile_ratio(both[stock].values, both.get(flux), cells) if stock in both else nan
    attrs = _zonal_attrs(fields, tau_fields, ref)
    data = {name: (("source", "lat"), out[name], attrs[name]) for name in ZONAL_UNITS}
    has_rh = next(iter(fields.values()), {}).get("rh") is not None  # the first source's first profile's, as concat's
    return xr.Dataset(data, coords={"lat": (ref.area if has_rh else ref.rh).coords["lat"]})


def _zonal_attrs(
    fields: dict[str, dict[str, xr.DataArray]], tau_fields: dict[str, dict[str, xr.DataArray]], ref: Reference
) -> dict[str, dict]:
    """The attributes of each profile of :func:`zonal_profiles` (the first source's, as concat's default):
    none for a computed profile; an all-NaN one has those of the latitude it was made like."""
    first = next(iter(fields), None)
    found = fields.get(first, {})
    attrs = {key: {} if found.get(key) is not None else dict(ref.rh["lat"].attrs) for key in ("rh", "csoil")}
    both = tau_fields.get(first, found)
    for tau, stock, flux in _ZONAL_RATIOS:
        missing = dict(ref.rh["lat"].attrs) if stock not in both else dict(ref.area["lat"].attrs)
        attrs[tau] = {} if stock in both and both.get(flux) is not None else missing
    return attrs


def _profile(values: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """:func:`~rhbench.metrics.totals.zonal_profile` of (lat, lon) ``values`` with cell areas ``cells``."""
    missing = np.isnan(values)
    missing |= np.isnan(cells)  # a missing area is a zero weight, as the sums take it
    total_weight = np.where(missing, 0.0, cells).sum(axis=1)  # the values sums_missing_as_zero adds
    with np.errstate(invalid="ignore", divide="ignore"):
        weighted = np.multiply(values, cells, dtype="float64")
        np.copyto(weighted, 0.0, where=np.isnan(weighted))
        return np.where(total_weight > 0, weighted.sum(axis=1) / total_weight, np.nan)


def _profile_ratio(stock: np.ndarray, flux: xr.DataArray | None, cells: np.ndarray) -> np.ndarray:
    """:func:`_zonal_ratio` on (lat, lon) arrays (all NaN without ``flux``)."""
    if flux is None:
        return np.full(stock.shape[0], np.nan)
    flux = flux.values
    both = ~np.isnan(stock) & ~np.isnan(flux)
    with np.errstate(invalid="ignore", divide="ignore"):
        stock_profile = _profile(np.where(both, stock, np.nan), cells) * GRAMS_PER_KILOGRAM
        return stock_profile / _profile(np.where(both, flux, np.nan), cells)


def _zonal_ratio(stock: xr.DataArray, flux: xr.DataArray | None, area: xr.DataArray) -> xr.DataArray:
    """Zonal turnover time (yr): the zonal mean of ``stock`` (kg C m-2) x 1000 over that of ``flux``
    (g C m-2 yr-1), both over the cells where both are present (NaN without ``flux``)."""
    if flux is None:
        return xr.full_like(area["lat"], np.nan, dtype=float)
    both = stock.notnull() & flux.notnull()
    return zonal_profile(stock.where(both), area) * GRAMS_PER_KILOGRAM / zonal_profile(flux.where(both), area)


def _with_units(ds: xr.Dataset, units: dict[str, str]) -> xr.Dataset:
    for name, unit in units.items():
        ds[name].attrs.update(units=unit)
    return ds
