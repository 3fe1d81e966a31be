"""Units: a pint registry with CF and carbon units; checking and converting variables.

The registry is pint's default one with the CF / UDUNITS spellings (exponent strings such
as ``kg m-2 s-1``, ``%``, ``yr``, ``degrees_north``) that cf_xarray defines, built here so a run
imports neither cf_xarray nor (through it) matplotlib.
Carbon mass is plain mass (``gC = gram``): TRENDY files write ``kg m-2 s-1`` for a
carbon flux and observation products write ``g C m-2 yr-1`` or ``t C ha-1``, and both
must convert into each other. A bare ``C`` after a mass unit is folded into the mass
unit (``g C`` -> ``gC``) before parsing, because UDUNITS reads a bare ``C`` as
degrees Celsius. Nitrogen mass (``g N``, N deposition) is folded the same way into ``gN``
(plain mass; a bare ``N`` would be a newton). ``yr`` is the Julian year of 365.25 days.

The registry is built (and pint imported) only when a question is not in the unit memo
(:mod:`rhbench.unitmemo`): the dimensions of a unit string, whether it is an offset unit
and the factor between two unit strings are pint's answers, computed once and kept in the
cache folder. :func:`parse_units`, :func:`registry` and ``units.ureg`` give pint's objects.
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from rhbench.errors import UnitsError
from rhbench.unitmemo import UnitFacts, UnitMemo, memo_key

if TYPE_CHECKING:
    import pint

#: UDUNITS spellings pint does not read itself: integer exponents written after a unit
#: (``m-2`` -> ``m**-2``, ``m2`` -> ``m**2``; not the exponent of a number such as ``1e-3``).
_UDUNITS_POWER = re.compile(r"(?<=[A-Za-z])(?![A-Za-z])(?<![0-9\-][eE])(?<![0-9\-])(?=[0-9\-])")

#: CF / UDUNITS names pint's default definitions lack or spell otherwise (the aliases
#: MetPy, xclim and cf_xarray define; ``yr`` the Julian year of 365.25 days, ``C`` degrees
#: Celsius as in UDUNITS: carbon is folded into its mass unit by :func:`normalize_units`).
_CF_DEFINITIONS = (
    "percent = 0.01 = %",
    "@alias meter = gpm",
    "year = 365.25 * day = yr",
    "@alias degC = C = deg_C = Celsius = degrees_Celsius",
    "@alias degK = deg_K",
    "@alias day = d",
    "@alias hour = h",
    "@alias month = mon",  # CMIP's frequency spelling (``gC m-2 mon-1``); per-month amounts: rhbench.conversion
    "degrees_north = degree = degrees_north = degrees_N = degreesN = degree_north = degree_N = degreeN",
    "degrees_east = degree = degrees_east = degrees_E = degreesE = degree_east = degree_E = degreeE",
    "degrees = degree = degrees",
    "[speed] = [length] / [time]",
    "practical_salinity_unit = [] = psu = PSU",
    # carbon and nitrogen mass are plain mass
    "gC = gram",
    "tC = tonne",
    "gN = gram",
)


@functools.cache
def registry() -> pint.UnitRegistry:
    """rhbench's unit registry (built on first use; not pint's application registry: other
    libraries keep theirs): pint's default one reading CF / UDUNITS unit strings
    (``kg m-2 s-1``, ``%``)."""
    import pint

    built = pint.UnitRegistry(
        autoconvert_offset_to_baseunit=True,
        preprocessors=[str, functools.partial(_UDUNITS_POWER.sub, "**"), lambda text: text.replace("%", "percent")],
        force_ndarray_like=True,
    )
    _pint_log = logging.getLogger("pint.util")
    level = _pint_log.level
    _pint_log.setLevel(logging.ERROR)  # pint logs "Redefining ..." for each redefinition above
    try:
        for definition in _CF_DEFINITIONS:
            built.define(definition)
    finally:
        _pint_log.setLevel(level)
    return built


def __getattr__(name: str) -> pint.UnitRegistry:
    """``units.ureg``: rhbench's unit registry (:func:`registry`), built when first asked for."""
    if name == "ureg":
        return registry()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: pint's answers about unit strings, kept in the cache folder (:mod:`rhbench.unitmemo`),
#: keyed by pint's version and the source of this module and of the memo's.
_MEMO = UnitMemo(lambda: memo_key(Path(__file__), Path(__file__).with_name("unitmemo.py")))

#: Canonical units of every variable inside rhbench.
CANONICAL_UNITS: dict[str, str] = {
    "rh": "gC m-2 yr-1",
    "npp": "gC m-2 yr-1",
    "gpp": "gC m-2 yr-1",
    "fVegLitter": "gC m-2 yr-1",
    "cSoil": "kgC m-2",
    "cLitter": "kgC m-2",
    "cVeg": "kgC m-2",
    "landCoverFrac": "1",
    "sftlf": "1",
    "oceanCoverFrac": "1",
    "areacella": "m2",
    "landArea": "m2",
    "ndvi": "1",
    "tas": "degC",
    "pr": "mm yr-1",
    # gridded predictors of the Random Forest Rh upscaling (kind ``predictors``)
    "koppen": "1",
    "am_share": "percent",
    "ecm_share": "percent",
    "erm_share": "percent",
    "nm_share": "percent",
    "agb_carbon": "kgC m-2",
    "bgb_carbon": "kgC m-2",
    "ndep": "gN m-2 yr-1",
    "bulk_density": "g cm-3",
    "clay": "percent",
    "soc_stock": "kgC m-2",
    "evi": "1",
}


#: A mass unit followed by a bare carbon (nitrogen) ``C`` (``N``): any SI prefix of the gram
#: (``mg C``, ``kg C``, ``Pg C``), the tonne with its prefixes (``t C``, ``Mt C``, ``Gt C``) and its
#: spelt names (``tonnes C``): folded so the ``C`` is not read as degrees Celsius.
_MASS_CARBON = re.compile(r"\b((?:da|[yzafpnumcdhkMGTPEZY])?g|[kMGTP]?t|tonnes?|metric_tons?)\s*([CN])\b")
#: ``ton`` / ``tons``: the US short ton (907.18474 kg) in UDUNITS and pint, but carbon products
#: that write it mean the metric tonne (1000 kg): 9.3 % apart, so never read by a guess.
_AMBIGUOUS_TON = re.compile(r"(?<![A-Za-z_])[Tt]ons?(?![A-Za-z_])")
_UNITLESS = {"", "1", "-", "none", "fraction", "unitless", "dimensionless", "0-1"}


def normalize_units(text: str) -> str:
    """Rewrite a units string so the registry parses it as intended.

    ``g C m-2 yr-1`` -> ``gC m-2 yr-1``; ``Pg C yr-1`` -> ``PgC yr-1``; unitless
    spellings (``1``, ``-``, ``fraction``) -> ``1``; ``m-2.s-1`` dots become spaces.
    """
    text = str(text).strip()
    if text.lower() in _UNITLESS or text == "%":
        return "1" if text != "%" else "percent"
    text = _MASS_CARBON.sub(_fold_carbon, text)
    text = re.sub(r"(?<=[a-zA-Z0-9])\.(?=[a-zA-Z])", " ", text)
    return text


def _fold_carbon(match: re.Match) -> str:
    """``g C`` -> ``gC`` (a defined unit, prefixes too: ``mgC``, ``GtC``); a spelt mass name
    (``tonnes C``) keeps the name alone (carbon mass is plain mass)."""
    mass = match.group(1)
    return f"{mass}{match.group(2)}" if mass.endswith(("g", "t")) and len(mass) <= 3 else mass


def refuse_ambiguous(text: str) -> None:
    """Raise :class:`UnitsError` when units ``text`` name a mass by ``ton``/``tons``
    (:data:`_AMBIGUOUS_TON`): the short ton of UDUNITS or the metric tonne a product meant."""
    if _AMBIGUOUS_TON.search(str(text)):
        raise UnitsError(
            "ambiguous units: 'ton' is the US short ton (907.18474 kg) in UDUNITS, but carbon products "
            "writing it usually mean the metric tonne (1000 kg)",
            found=repr(text),
            expected="'t' or 'Mg' (metric tonne, e.g. 't C ha-1'), or 'short_ton' if the file means the US ton",
            hint="state the tonne the values are in, e.g. ncatted -a units,VARIABLE,o,c,'t ha-1' FILE",
        )


def parse_units(text: str) -> pint.Unit:
    """Parse a units string (CF or carbon spelling) into a pint unit.

    Raises
    ------
    UnitsError
        When the string cannot be parsed.
    """
    import pint

    refuse_ambiguous(text)
    try:
        return registry().Unit(normalize_units(text))
    except (pint.errors.PintError, ValueError, AttributeError, TypeError) as exc:
        raise UnitsError("unparseable units", found=repr(text)) from exc


def unit_facts(text: str) -> UnitFacts:
    """The dimensions of a units string and whether it is multiplicative, as pint reads it
    (memoised, :mod:`rhbench.unitmemo`). Raises :class:`UnitsError` when it cannot be parsed."""
    refuse_ambiguous(text)  # before the memo: never an answer kept for a guess
    return _MEMO.facts(normalize_units(text), lambda _: _pint_facts(text))


def _pint_facts(text: str) -> UnitFacts:
    unit = parse_units(text)
    dimensions = tuple(sorted((str(name), float(power)) for name, power in unit.dimensionality.items()))
    return UnitFacts(dimensions, str(unit.dimensionality), bool(registry().Quantity(1.0, unit)._is_multiplicative))


def _factor(from_units: str, to_units: str) -> float:
    """pint's factor converting ``from_units`` into ``to_units`` (memoised; same dimension checked first)."""
    pair = normalize_units(from_units), normalize_units(to_units)
    return _MEMO.factor(*pair, lambda *_: _pint_factor(from_units, to_units))


def _pint_factor(from_units: str, to_units: str) -> float:
    return float(registry().Quantity(1.0, parse_units(from_units)).to(parse_units(to_units)).magnitude)


def conversion_factor(from_units: str, to_units: str) -> float:
    """Multiplicative factor converting values in ``from_units`` into ``to_units``.

    Raises
    ------
    UnitsError
        When the two are not of the same dimension (or are offset units such as degC).
    """
    source, target = unit_facts(from_units), unit_facts(to_units)
    if source.dimensions != target.dimensions:
        raise UnitsError(
            "units of the wrong dimension",
            found=f"{from_units!r} ({source.text})",
            expected=f"{to_units!r} ({target.text})",
        )
    return _factor(from_units, to_units)


def same_dimension(a: str, b: str) -> bool:
    """True when two unit strings have the same physical dimension."""
    return unit_facts(a).dimensions == unit_facts(b).dimensions


def convert(
    data: xr.DataArray,
    to_units: str,
    *,
    declared: str | None = None,
    source: str | None = None,
    file: str | None = None,
) -> xr.DataArray:
    """Check ``data``'s units and convert it to ``to_units``.

    The units of the data are its ``units`` attribute; when the attribute is absent the
    plugin's ``declared`` units are used. When both exist they must be of the same
    dimension (declared units say what the plugin author expects the file to hold).
    Offset units (degC <-> K) are converted through pint, not by a factor.

    Returns a new DataArray whose ``units`` attribute is ``to_units``.

    Raises
    ------
    UnitsError
        Naming source, file, variable, found and expected units.
    """
    context = {"source": source, "file": file, "variable": str(data.name)}
    found, found_unit, target_unit = check_units(data.attrs.get("units"), to_units, declared=declared, **context)
    if found_unit.multiplicative and target_unit.multiplicative:
        factor = _factor(found, to_units)
        converted = data * factor if factor != 1.0 else data.copy()
    else:
        converted = xr.apply_ufunc(  # a partial of a module function: picklable for dask.distributed
            functools.partial(_convert_values, found=str(found), target=to_units),
            data,
            dask="parallelized",
            output_dtypes=[data.dtype],
        )
    converted.attrs = {**data.attrs, "units": to_units}
    converted.name = data.name
    return converted


_UNITS_HINT = (
    "write UDUNITS units in the file's units attribute (e.g. 'kg m-2 s-1', 'g m-2 d-1'; carbon goes in the "
    "variable, not the unit), or declare the units the files hold in the plugin: Var(name, units)"
)


def _hint_for(found: UnitFacts, wanted: UnitFacts, example: str) -> str:
    """:data:`_UNITS_HINT`, led by what the mismatch means when ``found`` is ``wanted`` x an area
    (``Pg C yr-1`` or ``kg s-1`` for a flux per m2: a total over a cell or a region, not a density)."""
    have, want = dict(found.dimensions), dict(wanted.dimensions)
    times_area = {**want, "[length]": want.get("[length]", 0.0) + 2.0}
    if {k: v for k, v in times_area.items() if v} == {k: v for k, v in have.items() if v}:
        return (
            "these are totals (per cell or over a region), not values per unit area: rhbench reads densities "
            f"(per m2); write the per-area variable (each cell divided by its area in m2) in units such as {example!r}"
        )
    per_time = {**have, "[time]": have.get("[time]", 0.0) - 1.0}
    if {k: v for k, v in per_time.items() if v} == {k: v for k, v in want.items() if v}:
        return (
            "an amount per time step (a yearly or monthly sum) labelled without its time: label it per step, "
            "e.g. 'kg m-2 yr-1' for yearly sums or 'kg m-2 month-1' for monthly sums (each month's own); otherwise "
            + _UNITS_HINT
        )
    return _UNITS_HINT


def check_units(
    found: str | None,
    to_units: str,
    *,
    declared: str | None = None,
    source: str | None = None,
    file: str | None = None,
    variable: str | None = None,
) -> tuple[str, UnitFacts, UnitFacts]:
    """Check a variable's units before converting them to ``to_units``; returns (units, their facts,
    the facts of ``to_units``) (:func:`unit_facts`).

    ``found`` is the file's ``units`` attribute; when absent or empty the ``declared`` units
    apply. Both, when present, must have the same dimension, and that of ``to_units``.

    Raises
    ------
    UnitsError
        Naming source, file, variable, found and expected units.
    """
    context = {"source": source, "file": file, "variable": variable}
    if found is None or str(found).strip() == "":
        if declared is None:
            raise UnitsError("no units attribute and none declared", expected=to_units, **context)
        found = declared
    try:
        found_unit = unit_facts(found)
        target_unit = unit_facts(to_units)
        if declared is not None and unit_facts(declared).dimensions != found_unit.dimensions:
            raise UnitsError(
                "file units do not match the plugin's declared units",
                found=f"{found!r} ({found_unit.text})",
                expected=f"{declared!r} ({unit_facts(declared).text})",
                hint=_hint_for(found_unit, unit_facts(declared), declared),
                **context,
            )
        if found_unit.dimensions != target_unit.dimensions:
            raise UnitsError(
                "units of the wrong dimension",
                found=f"{found!r} ({found_unit.text})",
                expected=f"{to_units!r} ({target_unit.text})",
                hint=_hint_for(found_unit, target_unit, to_units),
                **context,
            )
    except UnitsError as exc:
        if exc.message.startswith("ambiguous"):
            exc.add_context(**context)
            raise
        if exc.variable is None:
            raise UnitsError(
                "unparseable units", found=exc.found, expected=declared or to_units, hint=_UNITS_HINT, **context
            ) from exc
        raise
    return str(found), found_unit, target_unit


def _convert_values(values: np.ndarray, *, found: str, target: str) -> np.ndarray:
    """``values`` in ``found`` units converted to ``target`` units through pint (offset units)."""
    return registry().Quantity(np.asarray(values), parse_units(found)).to(parse_units(target)).magnitude


def canonical_units(variable: str) -> str:
    """The canonical units of a canonical variable name (see :data:`CANONICAL_UNITS`)."""
    try:
        return CANONICAL_UNITS[variable]
    except KeyError as exc:
        raise UnitsError("not a canonical variable", variable=variable, expected=sorted(CANONICAL_UNITS)) from exc
