"""The years each map is a mean over: the years of the rows it illustrates (session 8).

A source's rows are computed from period means over the years their variables have
(:mod:`rhbench.metrics.coverage`, :mod:`rhbench.metrics.ratio_years`): Rh rows over rh's years,
cSoil rows over cSoil's, turnover rows over the years both of their variables have. The maps
and zonal profiles of ``results.nc`` and the page use the same means, and state their years
as (source)-coordinates: ``rh_years`` (``rh``, ``rh_bias``), ``csoil_years`` (zonal ``csoil``),
``tau_soil_years`` (``tau_soil``, ``tau_bias``, ``attribution``) and ``tau_veg_years``
(``tau_veg``), each a text such as ``1982-2018`` or ``1986-2018``, or ``1982-1990, 1995-2018``
for years with a gap, and "" for a map the source has not (an Rh product's tau_veg). A source
whose rows fail on too few years (a model of 1982-2000 under
1982-2018) is still mapped, over the years it has, and its coordinate says which. The
ensemble-mean maps average each member's fields over that member's years: their text names
them when they differ (``A: 1982-2018; B: 1986-2018``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import xarray as xr

from rhbench.metrics.coverage import BY_VARIABLE, common_years, year_spans
from rhbench.metrics.definitions import METRICS
from rhbench.metrics.turnover import aligned_name
from rhbench.results import ScoreRow

#: Text of a map over a source without a time axis (a static product).
STATIC = "no time axis (static)"
#: Text of the reference's cSoil and tau_soil maps when no observed cSoil product has values on land.
NO_OBSERVED_CSOIL = "none: no observed cSoil product has values on land"
#: Each labelled map field and the fields of the metric table its means are over the years of.
FIELDS = {"rh": ("rh",), "csoil": ("csoil",), "tau_soil": ("rh", "csoil"), "tau_veg": ("cveg", "litterfall")}
#: Each map variable of ``results.nc`` and the field whose years it is over.
MAP_FIELD = {"rh": "rh", "rh_bias": "rh", "csoil": "csoil", "tau_soil": "tau_soil", "tau_bias": "tau_soil"}
MAP_FIELD |= {"attribution": "tau_soil", "tau_veg": "tau_veg"}


def coordinate(field: str) -> str:
    """Name of the (source) coordinate holding the years of ``field``'s maps (``tau_soil_years``)."""
    return f"{field}_years"


def period_text(period: tuple[int, int]) -> str:
    """``"1982-2018"`` for ``period``."""
    return f"{period[0]}-{period[1]}"


def source_years(record: Mapping, period: tuple[int, int]) -> dict[str, str]:
    """Field -> the text of the years its period mean is over, for a source whose years record
    (:func:`rhbench.metrics.coverage.years_record`) is ``record``: the years of ``period`` all the
    field's variables have; a source that records no years per variable: its ``period_years``, or
    :data:`STATIC` without them."""
    out = {}
    for field, needs in FIELDS.items():
        if BY_VARIABLE in record:
            names, years = common_years(record, needs, period)
            out[field] = (year_spans(years) or "none") if names else STATIC
        else:
            out[field] = str(record.get("period_years") or STATIC)
    return out


def drawn_only(years: Mapping[str, str], fields: Mapping[str, xr.DataArray]) -> dict[str, str]:
    """``years`` (field -> text) with "" for each field of :data:`FIELDS` whose maps are not drawn (a
    variable of it not among the source's period-mean ``fields``: an Rh product's tau_veg)."""
    return {f: text if all(k in fields for k in FIELDS.get(f, ())) else "" for f, text in years.items()}


def file_years(data: xr.DataArray, period: tuple[int, int]) -> str:
    """The text of the years of ``period`` on ``data``'s ``year`` axis (:data:`STATIC` without one): the
    reference's, whose period mean is over the years its file has (a year written all missing would
    be named though it adds nothing: the axis is read, not the values, to keep the run one pass)."""
    if "year" not in data.dims:
        return STATIC
    return year_spans([int(y) for y in data["year"].values if period[0] <= y <= period[1]]) or "none"


def members_text(years: Mapping[str, str]) -> str:
    """The years of an ensemble mean of members ``years`` (member -> text): the one text when they share it
    (``1982-2018``), else each member's (``A: 1982-2018; B: 1986-2018``)."""
    texts = set(years.values())
    if len(texts) == 1:
        return texts.pop()
    return "; ".join(f"{name}: {text}" for name, text in years.items())


#: Each turnover time's fields (keys of the period-mean fields) and the variables of their means over
#: the years both have (:func:`rhbench.metrics.ratio_years.ratio_means`).
_RATIO_FIELDS = {"tau_soil": {"csoil": "cSoil", "rh": "rh"}, "tau_veg": {"cveg": "cVeg", "litterfall": "fVegLitter"}}


def turnover_fields(found: dict[str, xr.DataArray], aligned: Mapping[str, xr.DataArray]) -> dict[str, xr.DataArray]:
    """``found`` (period-mean fields) with, for each turnover time whose two variables cover different
    years, its stock and flux over the years both have (``aligned``:
    :func:`rhbench.metrics.ratio_years.aligned_fields`): the fields a source's tau_soil (``rh``,
    ``csoil``) and tau_veg (``cveg``, ``litterfall``) rows, and so its turnover maps, are computed from.
    ``found`` itself when no turnover time needs other years."""
    out = dict(found)
    for ratio, keys in _RATIO_FIELDS.items():
        names = {key: aligned_name(variable, ratio) for key, variable in keys.items()}
        if all(name in aligned for name in names.values()):
            out |= {key: aligned[name] for key, name in names.items()}
    return found if all(out[k] is found.get(k) for k in out) else out


def labelled(ds: xr.Dataset, years: Mapping[str, Mapping[str, str]], period: tuple[int, int]) -> xr.Dataset:
    """``ds`` (dim ``source``) with a ``<field>_years`` coordinate for each field of :data:`FIELDS` whose
    maps it holds (``years``: source -> field -> text), each variable's ``years`` attribute naming its
    coordinate, and the run's ``period`` as an attribute."""
    sources = [str(s) for s in ds["source"].values]
    drawn = {MAP_FIELD.get(str(name), str(name)) for name in ds.data_vars}
    texts = {field: [years.get(s, {}).get(field, "") for s in sources] for field in FIELDS if field in drawn}
    ds = ds.assign_coords(  # in FIELDS' order: results.nc the same from run to run; one call, not one per field
        {coordinate(field): ("source", np.array(text, dtype=object).astype(str)) for field, text in texts.items()}
    )
    for name in ds.data_vars:
        field = MAP_FIELD.get(str(name), str(name))
        if field in FIELDS:
            ds[name].attrs["years"] = coordinate(field)
    return ds.assign_attrs(period=period_text(period))


def stated(rows: list[ScoreRow], record: Mapping, period: tuple[int, int]) -> list[ScoreRow]:
    """``rows`` of one source (``record``: its years record) with each ok row whose variables' common years
    are not the whole ``period`` saying so in its reason (``period means over 1982-2012: the years of
    1982-2018 rh has``), unless its reason already names those years (a turnover time's note)."""
    if BY_VARIABLE not in record:
        return rows
    out, notes = [], {}
    for row in rows:
        spec = METRICS.get(row.metric)
        if row.status != "ok" or spec is None or not spec.needs:
            out.append(row)
            continue
        if spec.needs not in notes:
            notes[spec.needs] = _years_note(record, spec.needs, period)
        spans, note = notes[spec.needs]
        if note and spans not in row.reason:
            row = replace(row, reason="; ".join(filter(None, [row.reason, note])))
        out.append(row)
    return out


def _years_note(record: Mapping, needs: tuple[str, ...], period: tuple[int, int]) -> tuple[str, str]:
    """(the years text, the note) of fields ``needs``; the note is "" when they cover the whole ``period``."""
    names, years = common_years(record, needs, period)
    spans = year_spans(years) or "none"
    if not names or spans == period_text(period):
        return spans, ""
    verb = "has" if len(names) == 1 else "all have"
    return spans, f"period means over {spans}: the years of {period_text(period)} {', '.join(names)} {verb}"
