"""The scorecard on disk: ``scorecard.json`` and ``scores.csv``, written and read back.

``scorecard.json`` is ``{"synthetic": bool, "rhbench_version": str, "meta": {...},
"sha256": str, "rows": [row, ...]}`` where each row is :meth:`rhbench.results.ScoreRow.to_dict`
(``value`` is null when the row is not ``ok``) and ``sha256`` the digest of everything else in
the file (:func:`scorecard_digest`), so that ``rhbench check`` can tell a scorecard edited by hand.
``scores.csv`` holds the same rows with the columns of :data:`SCORE_COLUMNS`, in that order,
then ``data_label`` (REAL, UNVERIFIED or SYNTHETIC, :mod:`rhbench.datalabel`, the same on every
row: a CSV read with plain ``pandas.read_csv`` keeps the label with the numbers).
Both files are written atomically (a temporary file in the same folder, then :func:`os.replace`).
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd

import rhbench
from rhbench import datalabel
from rhbench.errors import ConfigError
from rhbench.fileops import write_text_atomic
from rhbench.results import STATUSES, Results, RunRecord

#: Columns of a scorecard table, in file order.
SCORE_COLUMNS = ("source", "kind", "metric", "region", "units", "value", "status", "reason")
log = logging.getLogger(__name__)
#: Reason of a row computed as ok whose value is not a finite number (never written as ok).
UNDEFINED_VALUE = "undefined: the value is not a finite number"
SCORECARD_JSON = "scorecard.json"
SCORES_CSV = "scores.csv"
#: The column of ``scores.csv`` after :data:`SCORE_COLUMNS`: the run's data label.
LABEL_COLUMN = "data_label"
#: Key of the digest in ``scorecard.json`` (:func:`scorecard_digest`).
DIGEST_KEY = "sha256"
#: What :func:`read_scorecard` says of a scorecard's digest (``frame.attrs["digest"]``).
DIGEST_OK, DIGEST_EDITED, DIGEST_ABSENT = "ok", "edited", "absent"
#: How far a ``*_score`` may stray outside 0..1 by rounding before it is refused.
SCORE_SLACK = 1e-9
#: Largest scorecard file read (bytes): a 0.5-degree run of 17 models writes about 2 MB.
MAX_SCORECARD_BYTES = 256 * 2**20


def scorecard_digest(document: dict, *, exact_numbers: bool = False) -> str:
    """SHA-256 (hex) of a scorecard document without its own digest: ``synthetic``,
    ``rhbench_version``, ``meta`` (the run settings the gate compares) and the rows, each as
    canonical JSON (sorted keys, no spaces, every number as a float), the rows in sorted order.

    The document as written and as read back gives the same digest (JSON numbers round-trip
    exactly), whatever the formatting and the order of the rows (the gate matches rows by
    key), and whether a number is written ``48.0`` or ``48`` (``jq`` writes the latter); any
    edit of a value, status, unit, name, reason or setting, or a row added or removed,
    changes it. It tells a hand edit, it is not a signature: whoever edits the file can
    recompute it. ``exact_numbers``: the digest of the first scorecards that carried one
    (integers and floats kept apart), still accepted by :func:`read_scorecard`.
    """
    import hashlib

    def canonical(value: object) -> str:
        value = value if exact_numbers else _floats(value)
        return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=True)

    rest = {key: value for key, value in document.items() if key not in (DIGEST_KEY, "rows")}
    lines = [canonical(rest), *sorted(canonical(row) for row in document.get("rows", []))]
    return hashlib.sha256("\n".join(lines).encode("ascii")).hexdigest()


def _floats(value: object) -> object:
    """``value`` with every JSON number (not a bool) as a float, in nested dicts and lists."""
    if isinstance(value, bool) or not isinstance(value, int | float | dict | list | tuple):
        return value
    if isinstance(value, dict):
        return {key: _floats(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_floats(item) for item in value]
    return float(value)


def write_scorecard(results: Results, out_dir: Path, *, synthetic: bool, meta: dict) -> None:
    """Write ``scorecard.json`` and ``scores.csv`` for ``results`` into ``out_dir``.

    Parameters
    ----------
    results: the run's results; one file row per :class:`~rhbench.results.ScoreRow`,
        values in each row's own ``units``.
    out_dir: output folder (created if needed).
    synthetic: True when the numbers come from synthetic data.
    meta: extra JSON-serialisable provenance (``data``: the run's data description, whose
        ``data_label`` fills the CSV's ``data_label`` column); ``rhbench_version`` (default: the
        installed version) goes to the top level, everything else under ``"meta"``.
    """
    out_dir = Path(out_dir)
    extra = dict(meta)
    version = str(extra.pop("rhbench_version", rhbench.__version__))
    rows = [row.to_dict() for row in results.rows]
    for row in rows:
        if row["value"] is not None and not math.isfinite(row["value"]):
            row["value"] = None
        elif row["value"] is not None:
            row["value"] = float(row["value"])
        if row["status"] == "ok" and row["value"] is None:  # "ok" always carries a number
            log.warning(
                "scorecard row %s / %s / %s is ok without a finite value: written as skipped",
                row["source"],
                row["metric"],
                row["region"],
            )
            row.update(status="skipped", reason="; ".join(filter(None, [UNDEFINED_VALUE, row.get("reason")])))
    document = {"synthetic": bool(synthetic), "rhbench_version": version, "meta": extra, "rows": rows}
    document = {
        **{k: v for k, v in document.items() if k != "rows"},
        DIGEST_KEY: scorecard_digest(document),
        "rows": rows,
    }
    write_text_atomic(out_dir / SCORECARD_JSON, json.dumps(document, indent=2, allow_nan=False))
    frame = pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
    frame[LABEL_COLUMN] = datalabel.of(extra.get("data"), synthetic)["data_label"]
    write_text_atomic(out_dir / SCORES_CSV, frame.to_csv(index=False, lineterminator="\n"))


def _no_scorecard_hint(folder: Path | None) -> str | None:
    """Why a run folder has no scorecard: empty (the run wrote nothing), or files but no scorecard (the
    run stopped before writing it); None for a path that is not a folder."""
    if folder is None:
        return None
    try:
        written = sorted(p.name for p in folder.iterdir())
    except OSError:
        return None
    if not written:
        return "the run folder is empty: the run wrote nothing (it crashed or was stopped before writing); see its log"
    shown = ", ".join(written[:5]) + (" ..." if len(written) > 5 else "")
    return f"the run stopped before writing its scorecard (the folder holds {shown}); see the run's log"


def read_scorecard(path: Path | str) -> pd.DataFrame:
    """Read a ``scorecard.json`` or ``scores.csv`` into a table of score rows.

    Parameters
    ----------
    path: the JSON or CSV file (a folder is read as its ``scorecard.json``).

    Returns
    -------
    DataFrame with the columns of :data:`SCORE_COLUMNS`; ``value`` is float (NaN when
    missing). ``frame.attrs`` holds ``synthetic`` (bool; for a CSV from its ``data_label`` column, None without one),
    ``rhbench_version``, ``meta`` (the run settings; empty for a CSV), ``path`` and
    ``digest`` (:data:`DIGEST_OK`, :data:`DIGEST_EDITED` or :data:`DIGEST_ABSENT`, see
    :func:`scorecard_digest`).

    Raises
    ------
    ConfigError: the file is missing, unparseable, lacks columns, has an unknown status,
        a non-numeric value (``true``, ``"0.8"``, ``NaN``/``Infinity`` literals, inf),
        a non-text field, or a duplicated (source, metric, region) key.
    """
    path = Path(path)
    folder = path if path.is_dir() else None
    if folder is not None:
        path = path / SCORECARD_JSON
    if not path.is_file():
        raise ConfigError("scorecard file not found", file=str(path), hint=_no_scorecard_hint(folder))
    if path.suffix.lower() == ".json":
        frame, attrs = _read_json(path)
    else:
        frame = _read_csv(path)
        attrs = {"synthetic": None, "rhbench_version": None, **_csv_label(frame, path)}
    frame = _validate(frame, path)
    attrs.setdefault("digest", DIGEST_ABSENT)
    frame.attrs.update(attrs, path=str(path))
    return frame


def _read_json(path: Path) -> tuple[pd.DataFrame, dict]:
    """The scorecard document: refused when larger than :data:`MAX_SCORECARD_BYTES`, nested
    beyond Python's recursion limit, or holding a key twice in one object (JSON readers keep
    the first or the last: a reviewer and the gate could read different values)."""
    try:
        if path.stat().st_size > MAX_SCORECARD_BYTES:
            raise ValueError(f"{path.stat().st_size} bytes, more than the {MAX_SCORECARD_BYTES} a scorecard may have")
        text = path.read_text(encoding="utf-8")
        document = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_refuse_duplicate_keys)
    except RecursionError:
        raise ConfigError("unreadable scorecard JSON (nested too deeply)", file=str(path)) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"unreadable scorecard JSON ({exc})", file=str(path)) from exc
    if not isinstance(document, dict) or not isinstance(document.get("rows"), list):
        raise ConfigError(
            "scorecard JSON is not an object with a 'rows' list",
            file=str(path),
            found=type(document).__name__,
            expected='{"synthetic": ..., "rhbench_version": ..., "rows": [...]}',
        )
    for index, row in enumerate(document["rows"]):
        _check_json_row(row, index, path)
    frame = pd.DataFrame(document["rows"])
    synthetic = document.get("synthetic")
    meta = document.get("meta")
    attrs = {
        "synthetic": bool(synthetic) if synthetic is not None else None,
        "rhbench_version": document.get("rhbench_version"),
        "meta": meta if isinstance(meta, dict) else {},
        "digest": _digest_state(document),
    }
    return frame, attrs


def _digest_state(document: dict) -> str:
    """:data:`DIGEST_OK` when the document matches its recorded digest, :data:`DIGEST_EDITED` when
    it does not, :data:`DIGEST_ABSENT` when it records none (written before rhbench kept one)."""
    recorded = document.get(DIGEST_KEY)
    if recorded is None:
        return DIGEST_ABSENT
    try:
        digests = (scorecard_digest(document), scorecard_digest(document, exact_numbers=True))
    except (TypeError, ValueError, OverflowError):  # a value JSON cannot write back: not what rhbench wrote
        return DIGEST_EDITED
    return DIGEST_OK if recorded in digests else DIGEST_EDITED


def _refuse_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise ValueError(f"the key {key!r} appears twice in one object")
        seen.add(key)
    return dict(pairs)


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a valid score value (the scorecard writes null)")


def _check_json_row(row: object, index: int, path: Path) -> None:
    """Refuse a row that is not an object, has a non-numeric value (``true``, ``"0.8"``) or non-text fields."""
    if not isinstance(row, dict):
        raise ConfigError("scorecard rows must be JSON objects", file=str(path), found=f"row {index}: {row!r:.60}")
    value = row.get("value")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ConfigError(
            "non-numeric score value", file=str(path), found=f"row {index}: {value!r:.60}", expected="a number or null"
        )
    for column in ("source", "kind", "metric", "region", "units", "status", "reason"):
        text = row.get(column)
        if text is not None and not isinstance(text, str):
            raise ConfigError(
                f"scorecard field {column!r} is not text", file=str(path), found=f"row {index}: {text!r:.60}"
            )


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype={"reason": str, "value": str}, keep_default_na=True)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ConfigError(f"unreadable scores CSV ({exc})", file=str(path)) from exc


def _csv_label(frame: pd.DataFrame, path: Path) -> dict:
    """``synthetic`` and ``meta.data`` (its ``data_label``) of a ``scores.csv`` from its
    :data:`LABEL_COLUMN` (the same label on every row), so that the gate words the label and
    refuses to compare a SYNTHETIC run with a REAL one; {} for a CSV without the column."""
    if LABEL_COLUMN not in frame.columns or not len(frame):
        return {}
    labels = sorted(set(frame[LABEL_COLUMN].fillna("").astype(str).str.strip()))
    if len(labels) != 1 or labels[0] not in datalabel.MEANING:
        raise ConfigError(
            f"unreadable {LABEL_COLUMN} column",
            file=str(path),
            found=labels[:5],
            expected=f"one of {', '.join(datalabel.MEANING)} on every row",
        )
    return {"synthetic": labels[0] == datalabel.SYNTHETIC, "meta": {"data": {"data_label": labels[0]}}}


def _validate(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    missing = [column for column in SCORE_COLUMNS if column not in frame.columns]
    if missing and len(frame):
        raise ConfigError(
            "scorecard lacks columns",
            file=str(path),
            found=sorted(frame.columns),
            expected=list(SCORE_COLUMNS),
        )
    frame = frame.reindex(columns=list(SCORE_COLUMNS))
    try:
        frame["value"] = pd.to_numeric(frame["value"], errors="raise").astype(float)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ConfigError(f"non-numeric score value ({exc})", file=str(path)) from exc
    infinite = frame[np.isinf(frame["value"])]
    if len(infinite):
        first = infinite.iloc[0]
        raise ConfigError(
            "infinite score value",
            file=str(path),
            found=(first["source"], first["metric"], first["region"], first["value"]),
            expected="a finite number or empty",
        )
    for column in ("source", "kind", "metric", "region", "units", "status"):
        frame[column] = frame[column].fillna("").astype(str)
    frame["reason"] = frame["reason"].fillna("").astype(str)
    bad = sorted(set(frame["status"]) - set(STATUSES))
    if bad:
        raise ConfigError("unknown row status", file=str(path), found=bad, expected=STATUSES)
    _refuse_scores_outside_unit_interval(frame, path)
    duplicated = frame.duplicated(["source", "metric", "region"])
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise ConfigError(
            "duplicated scorecard key (source, metric, region)",
            file=str(path),
            found=(first["source"], first["metric"], first["region"]),
        )
    return frame.reset_index(drop=True)


def _refuse_scores_outside_unit_interval(frame: pd.DataFrame, path: Path) -> None:
    """A ``*_score`` row is 0..1 (higher is better): 7.0 would pass the gate as an improvement."""
    scores = frame[frame["metric"].str.endswith("_score") & frame["value"].notna()]
    outside = scores[(scores["value"] < -SCORE_SLACK) | (scores["value"] > 1 + SCORE_SLACK)]
    if len(outside):
        first = outside.iloc[0]
        raise ConfigError(
            "a score outside 0..1",
            file=str(path),
            found=(first["source"], first["metric"], first["region"], float(first["value"])),
            expected="every *_score between 0 and 1",
        )


def is_available(status: str, value: float) -> bool:
    """True when a row holds a usable number: status ``ok`` and a finite value."""
    return status == "ok" and value is not None and math.isfinite(value)


def write_run(run: RunRecord) -> None:
    """Writer of ``scorecard.json`` and ``scores.csv`` (:data:`rhbench.outputs.WRITERS`)."""
    write_scorecard(run.results, run.staging, synthetic=run.synthetic, meta={"config": run.config, "data": run.data})
