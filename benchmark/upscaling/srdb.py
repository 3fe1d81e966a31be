"""Read SRDB v5 site records and apply the paper's selection filters.

The Global Soil Respiration Database (SRDB v5, Jian et al. 2021) ships as ``srdb-data.csv``.
:func:`load_srdb` reads it, checks the columns rhbench needs and keeps the records the paper
kept (He et al., section "Site data"), in this order:

1. annual heterotrophic respiration ``Rh_annual`` present and > 0 (g C m-2 yr-1);
2. ``Latitude``, ``Longitude`` and ``Study_midyear`` present;
3. no experimental manipulation (``Manipulation`` is the string ``"None"``);
4. not measured by alkali absorption or soda lime (``Meas_method``);
5. at least one year of data (``YearsOfData >= 1``); multi-year records stay separate rows;
6. ``Rh_annual`` within 6 standard deviations of the mean (one pass, sample SD; a
   single row is kept).

Every row also gets a climate ``zone`` (tropical / temperate / boreal), see
:func:`assign_climate_zone`.
"""

from __future__ import annotations

import logging
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

OUTLIER_SD = 6.0
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


def read_srdb(path: Path) -> pd.DataFrame:
    """Read ``srdb-data.csv`` and check its required columns and numeric values.

    ``Manipulation`` keeps the string ``"None"`` (only empty cells are missing).

    Raises
    ------
    SiteDataError
        When the file is missing, not UTF-8, not parseable as CSV, lacks a required column,
        or holds text in a numeric column (the message names file, column and row).
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
    return table


def _to_numeric(column: pd.Series, path: Path) -> pd.Series:
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


def filter_srdb(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the paper's filters in order; return ``(rows, filter_log)``.

    ``filter_log`` has one row per step: ``step``, ``rows_left``, ``removed``, ``filled``
    (always 0 here; later steps that fill values use it).
    """
    method = text_column(table, "Meas_method")
    excluded = np.zeros(len(table), dtype=bool)
    for word in EXCLUDED_METHODS:
        excluded |= method.str.contains(word, regex=False).to_numpy()
    steps = [
        ("Rh_annual present and > 0", table["Rh_annual"].gt(0).to_numpy()),
        (
            "Latitude, Longitude and Study_midyear present",
            table[["Latitude", "Longitude", "Study_midyear"]].notna().all(axis=1).to_numpy(),
        ),
        ("no manipulation (Manipulation == 'None')", (table["Manipulation"] == "None").to_numpy()),
        ("not alkali absorption or soda lime", ~excluded),
        ("YearsOfData >= 1", table["YearsOfData"].ge(1).to_numpy()),
    ]
    log = [("read", len(table), 0, 0)]
    keep = np.ones(len(table), dtype=bool)
    for name, mask in steps:
        before = int(keep.sum())
        keep &= mask
        log.append((name, int(keep.sum()), before - int(keep.sum()), 0))
    rows = table.loc[keep].copy()
    rh = rows["Rh_annual"]
    spread = rh.std() if len(rh) > 1 else 0.0
    inside = (rh - rh.mean()).abs() <= OUTLIER_SD * spread
    log.append(
        (
            f"Rh_annual within {OUTLIER_SD:g} SD of the mean",
            int(inside.sum()),
            int((~inside).sum()),
            0,
        )
    )
    rows = rows.loc[inside].reset_index(drop=True)
    return rows, pd.DataFrame(log, columns=FILTER_LOG_COLUMNS)


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
