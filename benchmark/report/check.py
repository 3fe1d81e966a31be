"""The CI gate: compare a scorecard with a baseline scorecard, row by row.

Rows are matched on the key (source, metric, region). The rules (tolerances in
:mod:`rhbench.report.gate_rules`):

* **Gated rows**: every ``*_score``, every metric of the default tolerance set (global
  totals, biases, turnover times; ``defaults=False`` drops them) and every metric given
  in ``metrics``. Other rows are ignored.
* **Scores** regress when they drop by more than ``tolerance`` (absolute). With
  ``fail_under``, any current score below it fails, in the baseline or not.
* **Other gated metrics** (two-sided: totals, biases, turnover times) are ``changed`` and
  fail when ``|current - baseline|`` exceeds their tolerance ``absolute + relative *
  |baseline|``, in either direction: a move of a two-sided metric is not called a regression
  (a bias from +101.6 to -45.9 may be an improvement), but it still fails the gate. A move
  within the tolerance is ``within_tolerance``. A metric gated on one direction only (a
  coverage) ``regressed`` when it fell beyond its tolerance.
* **Noise**: a change at or below 1e-9 of the larger magnitude is ``unchanged``.
* **Status**: a row ``ok`` in the baseline and ``failed``/``skipped`` now regresses; the
  reverse is ``fixed``.
* **Missing**: a gated row of the baseline absent now (its source or metric vanished)
  fails the gate; ``allow_missing`` accepts the rows of sources absent from the current
  scorecard as a whole (a CI job benchmarking a subset), never a source that failed or a
  metric that vanished from a source still present. Rows only in the current scorecard
  are ``new``.
* **Nothing to compare**: a current scorecard without any usable row, or a comparison
  without any gated row, fails.
* **Setup**: scorecards whose runs differ in resolution, period, reference, products,
  synthetic-ness or data versions (``meta.data``: SRDB release, predictor stack; a version
  recorded by one scorecard only is no difference) are refused (:class:`~rhbench.errors.ConfigError`) unless
  ``allow_setup_change``, in which case the report lists the differences loudly.

The gate fails (exit code 1) when any row fails or a problem is listed.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import pandas as pd

from rhbench import datalabel
from rhbench.errors import ConfigError
from rhbench.report.gate_rules import (
    DEFAULT_METRIC_TOLERANCE,
    DEFAULT_SCORE_TOLERANCE,
    NOISE_RELATIVE,
    ZERO_BASELINE_HINT,
    Tolerance,
    check_tolerances,
    comparable_setups,
    compare_values,
    default_tolerances,
    integrity,
    is_noise,
    is_score,
)
from rhbench.report.gate_rules import metric_tolerance as tolerance_of
from rhbench.report.tables import is_available
from rhbench.results import ENSEMBLE_MEAN, ENSEMBLE_SD

__all__ = [  # compare_values, is_noise and the hint live in gate_rules (the rules), re-exported for callers
    "FAILING",
    "KEY",
    "NOISE_RELATIVE",
    "OUTCOMES",
    "ZERO_BASELINE_HINT",
    "CheckReport",
    "RowComparison",
    "compare_scorecards",
    "compare_values",
    "gate_tolerances",
    "is_noise",
]
KEY = ("source", "metric", "region")
# Kept for callers of the previous API.
DEFAULT_TOLERANCE = DEFAULT_SCORE_TOLERANCE

#: Outcomes of one compared row; the first four fail the gate. ``regressed``: a one-directional
#: row (a score, a coverage) moved the bad way, or an ok row is no longer ok; ``changed``: a
#: two-sided row (a total, a bias) moved beyond its tolerance, in either direction.
FAILING = ("regressed", "changed", "below_floor", "missing")
OUTCOMES = FAILING + ("unchanged", "improved", "within_tolerance", "fixed", "unavailable", "new", "missing_allowed")


@dataclass(frozen=True)
class RowComparison:
    """The comparison of one gated key. Values are in ``units``; NaN when absent."""

    source: str
    metric: str
    region: str
    units: str
    baseline: float
    current: float
    baseline_status: str
    current_status: str
    outcome: str
    message: str

    @property
    def failed(self) -> bool:
        """True when this row fails the gate."""
        return self.outcome in FAILING

    @property
    def delta(self) -> float:
        """``current - baseline``, in the metric's units (NaN when either is absent)."""
        return self.current - self.baseline


@dataclass
class CheckReport:
    """Everything the gate found, ready for the console table, JUnit and Markdown."""

    rows: list[RowComparison]
    tolerance: float
    fail_under: float | None
    tolerances: dict[str, Tolerance]
    allow_missing: bool = False
    problems: list[str] = field(default_factory=list)
    setup_changes: list[str] = field(default_factory=list)
    setup_known: bool = True
    new_sources: list[str] = field(default_factory=list)
    missing_sources: list[str] = field(default_factory=list)
    synthetic: bool = False
    #: the least verified data description of the two scorecards (:func:`rhbench.datalabel.weakest`)
    data: dict = field(default_factory=dict)
    version_change: str = ""
    integrity_warnings: list[str] = field(default_factory=list)
    #: how far each scorecard's run folder was verified (:func:`rhbench.report.manifest.verify`),
    #: e.g. ``"current scorecard: digest only, not signed"``; empty when not checked (the API)
    integrity: list[str] = field(default_factory=list)
    #: how far the current scorecard's outputs were verified, in short: ``"signed"`` (every HMAC
    #: checked with the gate key), ``"digest only, not signed"``, ``"signature NOT verified"``,
    #: ``"unsigned"`` or ``"not verified"``; empty when not checked (the API)
    verification: str = ""
    #: said of the baseline on the first line when nothing verifies it (no manifest, no digest)
    baseline_note: str = ""

    @property
    def metrics(self) -> tuple[str, ...]:
        """Names of the gated non-score metrics."""
        return tuple(sorted(self.tolerances))

    @property
    def failures(self) -> list[RowComparison]:
        """Rows that fail the gate."""
        return [row for row in self.rows if row.failed]

    @property
    def passed(self) -> bool:
        """True when no row failed and no problem was found."""
        return not self.failures and not self.problems

    def count(self, outcome: str) -> int:
        """Number of rows with ``outcome``."""
        return sum(row.outcome == outcome for row in self.rows)


def gate_tolerances(
    metrics: Mapping[str, Tolerance] | Iterable[str] = (),
    *,
    metric_tolerance: float = DEFAULT_METRIC_TOLERANCE,
    defaults: bool = True,
) -> dict[str, Tolerance]:
    """The non-score gated metrics: the defaults (unless ``defaults=False``) updated by ``metrics``.

    ``metrics`` maps a name to its :class:`Tolerance`; a bare name gets a relative
    tolerance ``metric_tolerance`` by the one rule (:func:`~rhbench.report.gate_rules.metric_tolerance`:
    a coverage stays gated on its drop).
    """
    chosen = default_tolerances() if defaults else {}
    if isinstance(metrics, Mapping):
        chosen.update(metrics)
    else:
        chosen.update({name: tolerance_of(name, metric_tolerance) for name in metrics})
    return chosen


def compare_scorecards(
    current: pd.DataFrame,
    baseline: pd.DataFrame,
    *,
    tolerance: float = DEFAULT_SCORE_TOLERANCE,
    fail_under: float | None = None,
    metrics: Mapping[str, Tolerance] | Iterable[str] = (),
    metric_tolerance: float = DEFAULT_METRIC_TOLERANCE,
    defaults: bool = True,
    allow_missing: bool = False,
    allow_setup_change: bool = False,
    allow_edited: bool = False,
) -> CheckReport:
    """Compare two scorecards (as read by :func:`~rhbench.report.tables.read_scorecard`).

    Parameters
    ----------
    current, baseline: score tables with the columns source, metric, region, units,
        value, status, reason; ``attrs`` may hold ``synthetic`` and ``meta``.
    tolerance: allowed absolute drop of a ``*_score`` (dimensionless, >= 0).
    fail_under: floor for every current ``*_score``; None for no floor.
    metrics: extra gated metrics (name -> :class:`Tolerance`, or bare names).
    metric_tolerance: relative tolerance of a bare name in ``metrics`` (fraction).
    defaults: also gate the default set of :mod:`rhbench.report.gate_rules`.
    allow_missing: rows of sources absent from ``current`` are reported, not failures.
    allow_setup_change: compare runs with different settings, listing the differences.
    allow_edited: a scorecard whose rows were edited after rhbench wrote them (their
        ``sha256`` differs) is a warning, not a failure.

    Raises
    ------
    ConfigError: the runs' settings differ and ``allow_setup_change`` is False, or a tolerance
        cannot gate (:func:`~rhbench.report.gate_rules.check_tolerances`).
    """
    changes, known = comparable_setups(current.attrs, baseline.attrs, allow_change=allow_setup_change)
    _refuse_unknown_metrics(metrics, current, baseline)
    tolerances = gate_tolerances(metrics, metric_tolerance=metric_tolerance, defaults=defaults)
    check_tolerances(tolerance, fail_under, tolerances)
    rows = _compare_rows(current, baseline, tolerances, tolerance, fail_under, allow_missing)
    cur_sources, base_sources = set(current["source"]), set(baseline["source"])
    edited, unverified = integrity(current.attrs, baseline.attrs, allow_edited=allow_edited)
    return CheckReport(
        rows=rows,
        tolerance=tolerance,
        fail_under=fail_under,
        tolerances=tolerances,
        allow_missing=allow_missing,
        problems=_problems(current, rows) + edited,
        integrity_warnings=unverified,
        setup_changes=changes,
        setup_known=known,
        new_sources=sorted(cur_sources - base_sources),
        missing_sources=sorted(base_sources - cur_sources),
        **datalabel.of_scorecards(current.attrs, baseline.attrs),
        version_change=_version_change(current, baseline),
    )


def _version_change(current: pd.DataFrame, baseline: pd.DataFrame) -> str:
    """``"baseline X, current Y"`` when two scorecards were written by different rhbench versions."""
    was, now = (frame.attrs.get("rhbench_version") for frame in (baseline, current))
    if was is None or now is None or str(was) == str(now):
        return ""
    return f"baseline {was}, current {now}"


def _refuse_unknown_metrics(metrics: Iterable[str], current: pd.DataFrame, baseline: pd.DataFrame) -> None:
    """A ``--metric`` naming no row of either scorecard (a typo) would gate nothing: refuse it."""
    known = set(current["metric"]) | set(baseline["metric"])
    unknown = sorted(set(metrics) - known)
    if unknown:
        close = {name: difflib.get_close_matches(name, sorted(known), n=3) for name in unknown}
        raise ConfigError(
            "--metric names no metric of either scorecard",
            found=", ".join(unknown),
            expected="; ".join(f"{n}: did you mean {', '.join(c)}?" for n, c in close.items() if c) or "a metric name",
        )


def _compare_rows(current, baseline, tolerances, tolerance, fail_under, allow_missing) -> list[RowComparison]:
    """One comparison per gated key of either scorecard, sorted by key."""
    cur, base = _gated_by_key(current, tolerances), _gated_by_key(baseline, tolerances)
    source_failures = _source_failures(current)
    absent = set(baseline["source"]) - set(current["source"]) if allow_missing else set()
    rows = [
        _compare_row(key, cur.get(key), base.get(key), tolerance, fail_under, tolerances, key[0] in absent)
        for key in sorted(set(cur) | set(base))
    ]
    rows = [_with_spread_scale(row, base, tolerances) for row in rows]
    return [_explain_missing(row, source_failures) for row in rows]


def _problems(current: pd.DataFrame, rows: list[RowComparison]) -> list[str]:
    problems = []
    usable = [is_available(s, v) for s, v in zip(current["status"], current["value"], strict=True)]
    if not any(usable):
        problems.append(f"the current scorecard has no usable row ({len(current)} rows, none ok with a value)")
    if not rows:
        problems.append("no gated row in either scorecard: nothing was compared")
    elif not any(map(_compared, rows)):
        problems.append(
            f"no gated row has a value in both scorecards: nothing was compared ({len(rows)} gated rows, each new, "
            "missing, fixed or unavailable): a renamed model, the wrong baseline, or a baseline whose rows all failed?"
        )
    return problems


def _compared(row: RowComparison) -> bool:
    """True when the row has a usable value in both scorecards (its numbers were compared)."""
    return is_available(row.baseline_status, row.baseline) and is_available(row.current_status, row.current)


def _source_failures(frame: pd.DataFrame) -> dict[str, str]:
    """Source -> reason of its first failed row (e.g. its ``load`` row), for the sources that
    failed as a whole: no usable row at all. A source with usable rows and some failed ones
    (its 2-box rows) did not fail: a row it lost is ``missing``, not blamed on those."""
    columns = zip(frame["source"], frame["status"], frame["value"], strict=True)
    usable = {source for source, status, value in columns if is_available(status, value)}
    failed = frame[(frame["status"] == "failed") & ~frame["source"].isin(usable)]
    return {s: r for s, r in zip(failed["source"], failed["reason"], strict=True) if r}


def _explain_missing(row: RowComparison, source_failures: dict[str, str]) -> RowComparison:
    if row.outcome not in ("missing", "missing_allowed") or row.source not in source_failures:
        return row
    # A source that failed now is a regression even when absent sources are allowed.
    reason = source_failures[row.source]
    if is_available(row.baseline_status, row.baseline):
        outcome, message = "regressed", f"was ok, now absent: the source failed: {reason}"
    else:
        outcome, message = "unavailable", f"not ok in the baseline, source failed now: {reason}"
    return replace(row, outcome=outcome, message=message)


def _gated_by_key(frame: pd.DataFrame, tolerances: Mapping[str, Tolerance]) -> dict[tuple, dict]:
    gated = frame[[is_score(metric) or metric in tolerances for metric in frame["metric"]]]
    return {tuple(row[k] for k in KEY): row for row in gated.to_dict("records")}


def _compare_row(key, cur, base, tolerance, fail_under, tolerances, allow_missing) -> RowComparison:
    source, metric, region = key
    any_row = cur if cur is not None else base
    cur_value = cur["value"] if cur is not None else math.nan
    base_value = base["value"] if base is not None else math.nan
    cur_ok = cur is not None and is_available(cur["status"], cur_value)
    base_ok = base is not None and is_available(base["status"], base_value)
    score, spread = is_score(metric), source == ENSEMBLE_SD  # the spread of a score is no score: no floor, either way
    below = score and not spread and fail_under is not None and cur_ok and cur_value < fail_under
    floor_msg = f"{cur_value:.4g} is below the floor {fail_under:g}" if below else ""
    rule = Tolerance(absolute=tolerance, higher_is_better=not spread) if score else tolerances[metric]

    hollow = [name for name, row in (("baseline", base), ("current scorecard", cur)) if _hollow(row)]
    if cur is None:
        outcome = "missing_allowed" if allow_missing else "missing"
        message = "row absent from the current scorecard"
    elif hollow:  # rhbench writes such a row as skipped (tables.UNDEFINED_VALUE): nothing to call unchanged
        outcome = "regressed"
        message = f"status ok without a value in the {' and '.join(hollow)}: not a row rhbench writes"
    elif base is None:
        outcome, message = ("below_floor", floor_msg) if below else ("new", "row not in baseline")
    elif str(cur["units"]).strip() != str(base["units"]).strip():
        outcome = "changed"
        message = f"units changed: baseline {base['units']!r}, current {cur['units']!r}: the values cannot be compared"
    elif base_ok and not cur_ok:
        reason = cur["reason"] or "no value"
        outcome, message = "regressed", f"was ok, now {cur['status']}: {reason}"
    elif not base_ok and cur_ok:
        outcome, message = ("below_floor", floor_msg) if below else ("fixed", "usable again")
    elif not cur_ok:
        outcome, message = "unavailable", f"{cur['status']} in both: {cur['reason']}".rstrip(": ")
    else:
        outcome, message = compare_values(cur_value, base_value, rule)
        if below and outcome not in FAILING:
            outcome, message = "below_floor", floor_msg
        elif below:
            message = f"{message}; {floor_msg}"
    return RowComparison(
        source=source,
        metric=metric,
        region=region,
        units=str(any_row["units"]),
        baseline=float(base_value),
        current=float(cur_value),
        baseline_status=base["status"] if base is not None else "",
        current_status=cur["status"] if cur is not None else "",
        outcome=outcome,
        message=message,
    )


def _hollow(row: dict | None) -> bool:
    """A row claiming ``ok`` without a finite value (a CSV ``nan``, a JSON null)."""
    return row is not None and row["status"] == "ok" and not math.isfinite(row["value"])


def _with_spread_scale(row: RowComparison, base: dict[tuple, dict], tolerances) -> RowComparison:
    """An ``ensemble_sd`` row judged on the scale of its ensemble mean.

    A spread across models is 0 for identical models, and a relative tolerance of 0 allows no
    change at all; the relative part of such a row's tolerance is therefore taken of the
    baseline ``ensemble_mean`` of the same metric and region (the members' own rows are gated
    on their own values)."""
    mean = base.get((ENSEMBLE_MEAN, row.metric, row.region))
    if row.source != ENSEMBLE_SD or row.outcome not in ("changed", "within_tolerance") or mean is None:
        return row
    if not is_available(mean["status"], mean["value"]):
        return row
    rule = tolerances.get(row.metric)
    if rule is None:  # a score's spread: its absolute tolerance has no relative part to rescale
        return row
    outcome, message = compare_values(row.current, row.baseline, rule, scale=float(mean["value"]))
    return replace(row, outcome=outcome, message=f"{message} (relative part of the ensemble mean's baseline)")
