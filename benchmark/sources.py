"""Source descriptors: what a plugin declares about a model or observation product."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import xarray as xr

from rhbench.errors import PluginError, UnitsError
from rhbench.units import CANONICAL_UNITS, same_dimension

#: Kinds of source and the canonical variables each kind may provide.
KINDS: dict[str, tuple[str, ...]] = {
    "dgvm": (
        *("rh", "npp", "gpp", "cVeg", "cSoil", "cLitter", "fVegLitter"),
        *("areacella", "sftlf", "oceanCoverFrac", "landArea"),
        "landCoverFrac",  # only to weight per-PFT variables (rhbench.pftcover)
    ),
    "rh": ("rh",),
    "csoil": ("cSoil",),
    "clitter": ("cLitter",),
    "landcover": ("landCoverFrac",),
    "ndvi": ("ndvi",),
    "sites": ("rh",),
    "predictors": (
        "tas",
        "pr",
        "landCoverFrac",
        "koppen",
        "am_share",
        "ecm_share",
        "erm_share",
        "nm_share",
        "agb_carbon",
        "bgb_carbon",
        "ndep",
        "bulk_density",
        "clay",
        "soc_stock",
        "evi",
    ),
    "landfrac": ("sftlf",),
}

#: File quirks a plugin may declare. The loader detects and repairs most of them
#: whatever is declared; a declaration documents the source and lets the demo
#: generator reproduce the quirk so that the end-to-end run covers it.
QUIRKS: dict[str, str] = {
    "latitude_longitude_names": "coordinates named latitude/longitude instead of lat/lon",
    "lon_0_360": "longitudes run 0..360",
    "lat_descending": "latitudes run north to south",
    "fill_1e20": "missing values are 1e20 without a _FillValue attribute",
    "fill_-99999": "missing values are -99999 without a _FillValue attribute",
    "calendar_noleap": "365-day calendar",
    "calendar_360_day": "360-day calendar",
    "time_days_since": "time in days since a reference date",
    "time_hours_since": "time in hours since a reference date",
    "time_months_since": "time in months since a reference date (not decodable by cftime)",
    "time_years_since_ad": "time in 'years since AD 1700-Jan-1st' (VISIT; not decodable by cftime)",
    "gzip": "files are gzipped (.nc.gz)",
    "pools_yearly": "stocks are yearly while fluxes are monthly",
    "litter_in_soil": "cSoil already includes litter; no separate cLitter",
}


@dataclass(frozen=True)
class Var:
    """One variable of a source as it is in the file.

    Parameters
    ----------
    file_name:
        The variable's name in the file (e.g. ``rh``, ``SoilC``).
    units:
        The units the plugin author expects the file to hold (e.g. ``kg m-2 s-1``).
        Checked against the file's ``units`` attribute and used when it is missing.
    """

    file_name: str
    units: str


@dataclass(frozen=True)
class Source:
    """A model or observation product, as declared by a plugin.

    Parameters
    ----------
    name: display name, unique across plugins (e.g. ``CLM5.0``).
    kind: one of :data:`KINDS`.
    catalog_entry: ``<catalog>.<entry>``, e.g. ``trendy_v9.CLM5.0``; the catalog is the
        YAML file ``<catalog>.yaml`` in ``catalog_dir`` (default: rhbench's ``catalogs/``).
    variables: canonical variable name -> :class:`Var`.
    citation: reference to cite when using the source.
    period: (first year, last year) covered, inclusive.
    quirks: declared file quirks (keys of :data:`QUIRKS`).
    preprocess: optional function applied to each opened file's Dataset before checks.
    catalog_dir: folder of the catalog YAML (third-party plugins ship their own).
    plugin: set by the registry: the plugin (entry point) that declared the source.
    files: set by a source family (e.g. :mod:`rhbench.cmip6`) instead of a catalog entry:
        canonical variable -> its files (several period files are concatenated in time).
    year_stamps: where the source's yearly time stamps at 1 January 00:00 without time bounds sit:
        ``"start"`` (1 January 2000 is the year 2000) or ``"end"`` (it ends 1999); None: decided
        from the files (:mod:`rhbench.stamps`), which cannot always tell.
    """

    name: str
    kind: str
    catalog_entry: str
    variables: Mapping[str, Var]
    citation: str
    period: tuple[int, int] | None = None
    quirks: frozenset[str] = field(default_factory=frozenset)
    preprocess: Callable[[xr.Dataset], xr.Dataset] | None = None
    catalog_dir: Path | None = None
    plugin: str = ""
    files: Mapping[str, tuple[Path, ...]] | None = None
    year_stamps: str | None = None

    @property
    def litter_in_soil(self) -> bool:
        """True when the source's cSoil already includes litter."""
        return "litter_in_soil" in self.quirks

    def validate(self) -> None:
        """Check the descriptor; raise :class:`PluginError` naming what is wrong."""
        where = {"source": self.name or "<unnamed>"}
        if not isinstance(self.name, str) or not self.name.strip():
            raise PluginError("source name must be a non-empty string", found=repr(self.name), **where)
        if self.kind not in KINDS:
            raise PluginError("unknown source kind", found=self.kind, expected=sorted(KINDS), **where)
        if not isinstance(self.catalog_entry, str) or self.catalog_entry.count(".") < 1:
            raise PluginError("catalog_entry must be '<catalog>.<entry>'", found=repr(self.catalog_entry), **where)
        if not isinstance(self.variables, Mapping) or not self.variables:
            raise PluginError("a source needs at least one variable", found=self.variables, **where)
        unknown_quirks = set(self.quirks) - set(QUIRKS)
        if unknown_quirks:
            raise PluginError("unknown quirks", found=sorted(unknown_quirks), expected=sorted(QUIRKS), **where)
        for canonical, spec in self.variables.items():
            self._validate_variable(canonical, spec)
        if self.period is not None and (len(self.period) != 2 or self.period[0] > self.period[1]):
            raise PluginError("period must be (first_year, last_year)", found=self.period, **where)
        if self.year_stamps not in (None, "start", "end"):
            raise PluginError("year_stamps must be 'start', 'end' or None", found=repr(self.year_stamps), **where)

    def _validate_variable(self, canonical: str, spec: Var) -> None:
        where = {"source": self.name, "variable": canonical}
        if canonical not in KINDS[self.kind]:
            raise PluginError(f"variable not provided by kind {self.kind!r}", expected=list(KINDS[self.kind]), **where)
        if not isinstance(spec, Var):
            raise PluginError("variable spec must be a rhbench.sources.Var", found=type(spec).__name__, **where)
        try:
            ok = same_dimension(spec.units, CANONICAL_UNITS[canonical])
        except UnitsError as exc:
            raise PluginError("declared units are unparseable", found=spec.units, **where) from exc
        if not ok:
            raise PluginError(
                "declared units have the wrong dimension",
                found=spec.units,
                expected=f"units convertible to {CANONICAL_UNITS[canonical]}",
                **where,
            )

    @property
    def catalog_name(self) -> str:
        """The catalog file stem of :attr:`catalog_entry`."""
        return self.catalog_entry.split(".", 1)[0]

    @property
    def entry_name(self) -> str:
        """The entry name of :attr:`catalog_entry` inside its catalog."""
        return self.catalog_entry.split(".", 1)[1]


#: The TRENDY variable set in TRENDY conventions (fluxes kg m-2 s-1, pools kg m-2).
TRENDY_UNITS: dict[str, str] = {
    "rh": "kg m-2 s-1",
    "npp": "kg m-2 s-1",
    "fVegLitter": "kg m-2 s-1",
    "cVeg": "kg m-2",
    "cSoil": "kg m-2",
    "cLitter": "kg m-2",
}
#: Cell measures a TRENDY plugin may declare (:mod:`rhbench.landfrac`), with their usual units;
#: e.g. ``trendy_dgvm(..., variables=(..., "sftlf"), renames={"sftlf": "landfrac"})``.
CELL_MEASURE_UNITS: dict[str, str] = {"sftlf": "1", "oceanCoverFrac": "1", "areacella": "m2", "landArea": "m2"}


def trendy_variables(
    *canonical: str, renames: Mapping[str, str] | None = None, units: Mapping[str, str] | None = None
) -> dict[str, Var]:
    """Variables of a TRENDY DGVM with their TRENDY names and units.

    ``renames`` maps a canonical name to a model-specific file name where it differs;
    ``units`` a canonical name to the units its files hold where they are not TRENDY's
    (e.g. ``{"rh": "g m-2 d-1"}``; any units pint reads, converted at load time).
    """
    renames = dict(renames or {})
    declared = {**TRENDY_UNITS, **CELL_MEASURE_UNITS, "landCoverFrac": "%", **dict(units or {})}
    return {name: Var(renames.get(name, name), declared[name]) for name in canonical}


def _check_dgvm_variables(name: str, variables: tuple[str, ...]) -> None:
    """Refuse a variable a DGVM cannot provide (a typo such as ``Rh``, or ``ndvi``, an observation
    product's variable, never a model's), naming it and the close canonical name. ``landCoverFrac``
    (the model's own PFT shares) is declared to weight per-PFT variables (:mod:`rhbench.pftcover`)."""
    allowed = KINDS["dgvm"]
    for variable in variables:
        if variable in allowed:
            continue
        close = difflib.get_close_matches(variable, allowed, n=1, cutoff=0.6)
        folded = [a for a in allowed if a.casefold() == variable.casefold()]
        guess = (folded or close or [None])[0]
        products = [kind for kind, names in KINDS.items() if kind != "dgvm" and variable in names]
        if products:
            hint = f"{variable} is read from an observation product (kind {products[0]}), never from a model: "
            hint += "remove it from variables and from the catalog's files"
        else:
            hint = f"did you mean {guess!r}? " if guess else ""
            hint += "declare the canonical names (a file that names a variable otherwise: renames={...})"
        raise PluginError(
            "variable a DGVM plugin cannot declare",
            source=name,
            variable=variable,
            found=variable,
            expected=f"one of {', '.join(allowed)}",
            hint=hint,
        )


def trendy_dgvm(
    name: str,
    citation: str,
    *,
    variables: tuple[str, ...] = ("rh", "npp", "cVeg", "cSoil", "cLitter", "fVegLitter"),
    quirks: tuple[str, ...] = (),
    renames: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    catalog: str = "trendy_v9",
    year_stamps: str | None = None,
) -> Source:
    """Descriptor of a TRENDY v9 S2 DGVM (1901-2018); ``renames`` and ``units`` as in
    :func:`trendy_variables` (TRENDY's ``kg m-2 s-1`` fluxes and ``kg m-2`` stocks by default)."""
    _check_dgvm_variables(name, variables)
    unknown = sorted((set(renames or {}) | set(units or {})) - set(variables))
    if unknown:
        raise ValueError(f"renames/units name variables {unknown} that are not in variables={list(variables)}")
    return Source(
        name=name,
        kind="dgvm",
        catalog_entry=f"{catalog}.{name}",
        variables=trendy_variables(*variables, renames=renames, units=units),
        citation=citation,
        period=(1901, 2018),
        quirks=frozenset(quirks),
        year_stamps=year_stamps,
    )
