"""Read SRDB v5 site records and apply the paper's selection filters.

The Global Soil Respiration Database (SRDB v5, Jian et al. 2021) ships as ``srdb-data.csv``.
:func:`load_srdb` reads it, checks the columns rhbench needs and keeps the records the paper
kept (He et al., section "Site data"), in this order:

1. annual heterotrophic respiration ``Rh_annual`` present and > 0 (g C m-2 yr-1);
2. ``Latitude``, ``Longitude`` and ``Study_midyear`` present;
3. no experimental manipulation (``Manipulation`` is the string ``"None"``, in any case and
   with any surrounding spaces: ``"none"``, ``"None "``);
4. not measured by alkali absorption or soda lime (``Meas_method``);
5. at least one year of data (``YearsOfData >= 1``); multi-year records stay separate rows;
6. a readable ``Quality_flag`` (``Q`` plus digits; an unreadable cell such as a typo
   ``"Q1O"`` may hide a problem flag, so its row is dropped, counted and named in a warning:
   one broken cell does not sink the product);
7. no SRDB quality flag of a problem (:data:`PROBLEM_FLAGS`, see :func:`quality_flags`);
8. not a known duplicate of another study's record (``Duplicate_record`` empty or blank);
9. not an exact repeat of an earlier record's ``Latitude``, ``Longitude``,
   ``Study_midyear`` and ``Rh_annual`` (the first is kept);
10. ``Rh_annual`` at most :data:`RH_MAX` (10,000 g C m-2 yr-1): a physical ceiling, more
   than twice SRDB v5's largest value (4,150) and well above the largest annual GPP of
   any ecosystem (~4,000); a larger value is a typo or a units slip (e.g. mg instead of g).
   Dropped rows are counted and named in a warning. Without this step a few 1e6 values
   inflate the SD of step 11 so much that they pass it and the map totals thousands of
   Pg C yr-1;
11. ``Rh_annual`` within 6 standard deviations of the mean (one pass, sample SD; a
   single row is kept).

Steps 6-10 are rhbench's data-quality additions, not in the paper: SRDB's maintainers ask
users to heed ``Quality_flag`` (README of github.com/bpbond/srdb, "How to use these data";
flag meanings in its ``expanded_field_notes.txt``). Q10-Q14 mark potential, suspected or
known problems, a suspected duplicate or an inconsistency; Q01-Q04 (value read from a
figure, from another study, otherwise estimated, useful future data) and Q15/Q16 (the
study's temperature model is seasonal / has a soil-water term: notes on SRDB's model
fields, not on ``Rh_annual``) are kept. An exact repeat (step 8) is one study-level value
copied onto several plot records (e.g. one Rh for 11 plots of one study): the same
predictors and the same Rh counted several times, which weights that value several fold in
the forest and lets the CV score a held-out copy against a trained one. A table without
``Quality_flag`` or ``Duplicate_record`` (an older or trimmed SRDB) is read with a warning
that those steps cannot apply.

Every row also gets a climate ``zone`` (tropical / temperate / boreal), see
:func:`assign_climate_zone`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from rhbench.errors import SiteDataError

logger = logging.getLogger(__name__)

SOURCE = "SRDB v5"

#: Columns that must exist in the CSV, with the kind of value expected.
REQUIRED_COLUMNS: dict[str, str] = {
    "Rh_annual": "number (g C m-2 yr-1)",
    "Latitude": "number (decimal degrees north)",
    "Longitude": "number (decimal degrees east)",
    "Study_midyear": "number (year)",
    "YearsOfData": "number (years)",
    "MAT": "number (deg C)",
    "MAP": "number (mm yr-1)",
    "Manipulation": "text ('None' when unmanipulated)",
    "Meas_method": "text",
    "Ecosystem_type": "text",
    "Leaf_habit": "text",
    "Biome": "text",
}

#: Optional columns used when present (``Species`` splits needle- from broadleaf forests;
#: ``Study_temp``/``Study_precip`` fill a missing MAT/MAP).
OPTIONAL_NUMERIC = ("Study_temp", "Study_precip")

#: Measurement methods the paper excludes (case-insensitive substrings of ``Meas_method``).
EXCLUDED_METHODS = ("alkali", "soda lime")

#: SRDB ``Quality_flag`` codes that drop a record (``expanded_field_notes.txt`` of SRDB).
PROBLEM_FLAGS: dict[int, str] = {
    10: "potential problem with data",
    11: "suspected problem with data",
    12: "known problem with data",
    13: "duplicate?",
    14: "inconsistency",
}
#: Columns that identify an exact repeat of a record (step 8).
REPEAT_KEY = ("Latitude", "Longitude", "Study_midyear", "Rh_annual")

OUTLIER_SD = 6.0
#: Physical ceiling of annual Rh, g C m-2 yr-1 (step 10).
RH_MAX = 10_000.0
TROPICAL_MAX_ABS_LAT = 23.5
BOREAL_MIN_ABS_LAT = 50.0
ZONES = ("tropical", "temperate", "boreal")

_BIOME_ZONE = {
    "tropical": "tropical",
    "boreal": "boreal",
    "arctic": "boreal",
    "temperate": "temperate",
    "subtropical": "temperate",
    "mediterranean": "temperate",
}

FILTER_LOG_COLUMNS = ["step", "rows_left", "removed", "filled"]
#: Spellings of a missing number besides an empty cell (R's ``write.csv`` writes ``NA``);
#: ambiguous marks such as ``-`` or ``n.d.`` stay errors.
MISSING_NUMBERS = ("NA", "NaN", "nan")


def read_srdb(path: Path) -> pd.DataFrame:
    """Read ``srdb-data.csv`` and check its required columns and numeric values.

    ``Manipulation`` keeps the string ``"None"`` (only empty cells are missing); in numeric
    columns ``NA``/``NaN`` are missing too (:data:`MISSING_NUMBERS`).

    Raises
    ------
    SiteDataError
        When the file is missing, not UTF-8, not parseable as CSV, lacks a required column,
        holds text in a numeric column (the message names file, column and row). An
        unreadable ``Quality_flag`` is not an error: it is logged as a warning naming the file,
        data rows and values, and :data:`FILTER_STEPS` drops those rows.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, keep_default_na=False, na_values=[""], encoding="utf-8", low_memory=False)
    except FileNotFoundError as err:
        raise SiteDataError("site table not found", source=SOURCE, file=str(path)) from err
    except UnicodeDecodeError as err:
        raise SiteDataError(
            "site table is not UTF-8 text",
            source=SOURCE,
            file=str(path),
            found=str(err),
            expected="a UTF-8 CSV file",
        ) from err
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise SiteDataError(
            "site table is not a readable CSV",
            source=SOURCE,
            file=str(path),
            found=str(err).strip(),
            expected="comma-separated rows with the SRDB header",
        ) from err
    missing = [name for name in REQUIRED_COLUMNS if name not in table.columns]
    if missing:
        raise SiteDataError(
            "site table lacks required columns",
            source=SOURCE,
            file=str(path),
            variable=", ".join(missing),
            expected=f"columns {list(REQUIRED_COLUMNS)}",
        )
    numeric = [name for name, kind in REQUIRED_COLUMNS.items() if kind.startswith("number")]
    for name in numeric + [c for c in OPTIONAL_NUMERIC if c in table.columns]:
        table[name] = _to_numeric(table[name], path)
    _warn_about_quality_columns(table, path)
    return table


def _warn_about_quality_columns(table: pd.DataFrame, path: Path) -> None:
    absent = [name for name in ("Quality_flag", "Duplicate_record") if name not in table.columns]
    if absent:
        logger.warning(
            "SRDB %s has no %s column: the data-quality steps on it remove nothing (older SRDB version?)",
            path,
            " or ".join(absent),
        )
    unreadable = ~readable_quality_flag(table)
    if unreadable.any():
        labels = table.index[unreadable][:5]
        shown = [f"data row {int(label) + 1}: {table.at[label, 'Quality_flag']!r}" for label in labels]
        logger.warning(
            "SRDB %s: %d row(s) with an unreadable Quality_flag dropped (%s%s; expected Q followed by digits)",
            path,
            int(unreadable.sum()),
            ", ".join(shown),
            ", ..." if unreadable.sum() > 5 else "",
        )


def _to_numeric(column: pd.Series, path: Path) -> pd.Series:
    """``column`` as floats; :data:`MISSING_NUMBERS` are missing, any other text an error."""
    text = column.astype("string").str.strip()
    column = column.mask(text.isin(MISSING_NUMBERS))
    values = pd.to_numeric(column, errors="coerce")
    bad = values.isna() & column.notna()
    if bad.any():
        first = bad.to_numpy().nonzero()[0][0]
        raise SiteDataError(
            f"non-numeric value in data row {first + 1}",
            source=SOURCE,
            file=str(path),
            variable=str(column.name),
            found=repr(column.iloc[first]),
            expected="a number",
        )
    return values.astype(float)


def text_column(table: pd.DataFrame, name: str) -> pd.Series:
    """A text column stripped and lower-cased, missing values (or a missing column) as ""."""
    if name not in table.columns:
        return pd.Series("", index=table.index, dtype=object)
    return table[name].astype("string").fillna("").str.strip().str.lower().astype(object)


def _flag_codes(text: str) -> frozenset[int] | None:
    """Codes of one lower-cased ``Quality_flag`` cell, ``None`` when it is unreadable."""
    tokens = [t for t in re.split(r"[,;\s]+", text) if t]
    if not all(re.fullmatch(r"q[0-9]+", t) for t in tokens):
        return None
    return frozenset(int(t[1:]) for t in tokens)


def readable_quality_flag(table: pd.DataFrame) -> pd.Series:
    """True where ``Quality_flag`` is empty, missing or ``Q`` plus digits (see :func:`quality_flags`)."""
    return text_column(table, "Quality_flag").map(lambda text: _flag_codes(text) is not None).astype(bool)


def quality_flags(table: pd.DataFrame, path: Path | None = None) -> pd.Series:
    """SRDB ``Quality_flag`` codes of each row as a set of integers (``"Q01, Q11"`` -> {1, 11}).

    Flags are ``Q`` plus digits, separated by commas, semicolons or spaces, any case; a
    missing cell (or a missing column) is the empty set. ``Q1`` and ``Q01`` are both code 1
    (SRDB v5 writes both).

    Raises
    ------
    SiteDataError
        When a flag is not ``Q`` followed by digits (names the data row, counted from 1 by
        the table's index, and the value).
    """
    column = text_column(table, "Quality_flag")
    codes = []
    for label, text in column.items():
        parsed = _flag_codes(text)
        if parsed is None:
            raise SiteDataError(
                f"unreadable quality flag in data row {int(label) + 1}",
                source=SOURCE,
                file=str(path) if path else None,
                variable="Quality_flag",
                found=repr(table.at[label, "Quality_flag"]),
                expected="flags like 'Q01' or 'Q01,Q10' (Q followed by digits)",
            )
        codes.append(parsed)
    return pd.Series(codes, index=table.index, dtype=object, name="quality_flags")


def _no_problem_flag(rows: pd.DataFrame) -> pd.Series:
    return ~quality_flags(rows).map(lambda codes: bool(codes & PROBLEM_FLAGS.keys())).astype(bool)


def _not_known_duplicate(rows: pd.DataFrame) -> pd.Series:
    return text_column(rows, "Duplicate_record") == ""


def _measured_method(rows: pd.DataFrame) -> pd.Series:
    method = text_column(rows, "Meas_method")
    return ~method.map(lambda text: any(word in text for word in EXCLUDED_METHODS)).astype(bool)


def _below_ceiling(rows: pd.DataFrame) -> pd.Series:
    """True where ``Rh_annual`` <= :data:`RH_MAX`; a warning names the rows above it."""
    keep = rows["Rh_annual"].le(RH_MAX)
    if not keep.all():
        above = rows.loc[~keep, "Rh_annual"]
        shown = ", ".join(f"data row {int(label) + 1}: {value:g}" for label, value in above.head(5).items())
        logger.warning(
            "SRDB: %d row(s) with Rh_annual above %g g C m-2 yr-1 dropped (%s%s; a typo or units slip?)",
            len(above),
            RH_MAX,
            shown,
            ", ..." if len(above) > 5 else "",
        )
    return keep


def _within_outlier_sd(rows: pd.DataFrame) -> pd.Series:
    rh = rows["Rh_annual"]
    spread = rh.std() if len(rh) > 1 else 0.0
    return (rh - rh.mean()).abs() <= OUTLIER_SD * spread


#: The filter steps in order: log name -> rule (kept rows -> bool Series, True = keep).
FILTER_STEPS: tuple[tuple[str, Callable[[pd.DataFrame], pd.Series]], ...] = (
    ("Rh_annual present and > 0", lambda rows: rows["Rh_annual"].gt(0)),
    (
        "Latitude, Longitude and Study_midyear present",
        lambda rows: rows[["Latitude", "Longitude", "Study_midyear"]].notna().all(axis=1),
    ),
    ("no manipulation (Manipulation == 'None')", lambda rows: text_column(rows, "Manipulation") == "none"),
    ("not alkali absorption or soda lime", _measured_method),
    ("YearsOfData >= 1", lambda rows: rows["YearsOfData"].ge(1)),
    ("Quality_flag readable (Q followed by digits)", readable_quality_flag),
    (f"no SRDB problem flag ({', '.join(f'Q{code}' for code in PROBLEM_FLAGS)})", _no_problem_flag),
    ("not a known duplicate (Duplicate_record empty)", _not_known_duplicate),
    (
        f"not an exact repeat of ({', '.join(REPEAT_KEY)})",
        lambda rows: ~rows.duplicated(list(REPEAT_KEY), keep="first"),
    ),
    (f"Rh_annual <= {RH_MAX:g} g C m-2 yr-1 (physical ceiling)", _below_ceiling),
    (f"Rh_annual within {OUTLIER_SD:g} SD of the mean", _within_outlier_sd),
)


def filter_srdb(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply :data:`FILTER_STEPS` in order, each to the rows the earlier steps kept.

    Returns ``(rows, filter_log)``; ``filter_log`` has one row per step: ``step``,
    ``rows_left``, ``removed``, ``filled`` (always 0 here; later steps that fill values
    use it).
    """
    log = [("read", len(table), 0, 0)]
    rows = table
    for name, rule in FILTER_STEPS:
        keep = rule(rows).to_numpy(dtype=bool)
        log.append((name, int(keep.sum()), int((~keep).sum()), 0))
        rows = rows.loc[keep]
    return rows.reset_index(drop=True).copy(), pd.DataFrame(log, columns=FILTER_LOG_COLUMNS)


def assign_climate_zone(table: pd.DataFrame) -> pd.Series:
    """Climate zone of each site: ``tropical``, ``temperate`` or ``boreal``.

    Rule: SRDB's ``Biome`` first (Tropical -> tropical; Boreal, Arctic -> boreal;
    Temperate, Subtropical, Mediterranean -> temperate). Other biomes (Alpine) and missing
    ones fall back to latitude: |lat| < 23.5 tropical, |lat| >= 50 boreal, else temperate.
    """
    biome = text_column(table, "Biome").map(_BIOME_ZONE)
    abs_lat = table["Latitude"].abs()
    by_latitude = pd.Series(
        np.select(
            [abs_lat < TROPICAL_MAX_ABS_LAT, abs_lat >= BOREAL_MIN_ABS_LAT],
            ["tropical", "boreal"],
            default="temperate",
        ),
        index=table.index,
    )
    return biome.fillna(by_latitude).astype(object).rename("zone")


def check_coordinates(table: pd.DataFrame, path: Path | None = None) -> None:
    """Raise :class:`SiteDataError` when a latitude or longitude is out of range."""
    for name, low, high in (("Latitude", -90.0, 90.0), ("Longitude", -180.0, 360.0)):
        values = table[name]
        bad = values.notna() & ~values.between(low, high)
        if bad.any():
            raise SiteDataError(
                "coordinate out of range",
                source=SOURCE,
                file=str(path) if path else None,
                variable=name,
                found=float(values[bad].iloc[0]),
                expected=f"{low}..{high}",
            )


def load_srdb(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read, filter and zone SRDB site records.

    Returns
    -------
    rows
        The kept records (all SRDB columns plus ``zone``); ``Rh_annual`` in g C m-2 yr-1.
    filter_log
        ``step``, ``rows_left``, ``removed``, ``filled`` for every filter, in order.
    """
    table = read_srdb(path)
    check_coordinates(table, path)
    rows, log = filter_srdb(table)
    rows["zone"] = assign_climate_zone(rows)
    logger.info(
        "SRDB %s: %d of %d rows kept (%s)",
        path,
        len(rows),
        len(table),
        rows["zone"].value_counts().to_dict(),
    )
    return rows, log
