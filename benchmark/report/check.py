"""The CI gate: compare a scorecard with a baseline scorecard, row by row.

Rows are matched on the key (source, metric, region). Rules:

* **Gated rows.** A row is gated when its metric name ends in ``_score`` (a skill score,
  higher is better, 0..1) or when its metric is listed in ``metrics`` (``--metric``).
  Other rows are ignored by the gate.
* **Scores** (``*_score``) regress when ``current < baseline - tolerance``
  (``tolerance`` is absolute, default 0.02). With ``fail_under`` set, any current score
  below it fails, whether or not the row is in the baseline.
* **Listed metrics** (``--metric NAME``, any units, no direction) regress when the
  relative change ``|current - baseline| / |baseline|`` exceeds ``metric_tolerance``
  (default 0.05; a zero baseline regresses on any change). ``fail_under`` does not apply.
* **Status.** A row that was ``ok`` (with a finite value) in the baseline and is
  ``failed`` or ``skipped`` (or has no value) now is a regression. A row that was not
  usable in the baseline and is now is reported as fixed; unusable in both is reported.
* **New and missing.** Rows only in the current scorecard are ``new`` (only the floor
  applies); rows only in the baseline are ``missing``. Both are reported and do not fail
  the gate; sources that appear or disappear as a whole are listed separately.

The gate fails (exit code 1) when any gated row regressed or fell below the floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from rhbench.report.tables import is_available

KEY = ("source", "metric", "region")
DEFAULT_TOLERANCE = 0.02
DEFAULT_METRIC_TOLERANCE = 0.05

#: Outcomes of one compared row; the first two fail the gate.
FAILING = ("regressed", "below_floor")
OUTCOMES = FAILING + ("unchanged", "improved", "changed", "fixed", "unavailable", "new", "missing")


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
        """``current - baseline`` (NaN when either is absent)."""
        return self.current - self.baseline


@dataclass
class CheckReport:
    """Everything the gate found, ready for the console table, JUnit and Markdown."""

    rows: list[RowComparison]
    tolerance: float
    metric_tolerance: float
    fail_under: float | None
    metrics: tuple[str, ...]
    new_sources: list[str] = field(default_factory=list)
    missing_sources: list[str] = field(default_factory=list)
    synthetic: bool = False

    @property
    def failures(self) -> list[RowComparison]:
        """Rows that fail the gate."""
        return [row for row in self.rows if row.failed]

    @property
    def passed(self) -> bool:
        """True when nothing regressed and no score fell below the floor."""
        return not self.failures

    def count(self, outcome: str) -> int:
        """Number of rows with ``outcome``."""
        return sum(row.outcome == outcome for row in self.rows)


def is_gated(metric: str, metrics: tuple[str, ...] = ()) -> bool:
    """True when ``metric`` is a ``*_score`` or listed in ``metrics``."""
    return metric.endswith("_score") or metric in metrics


def compare_scorecards(
    current: pd.DataFrame,
    baseline: pd.DataFrame,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    fail_under: float | None = None,
    metrics: tuple[str, ...] = (),
    metric_tolerance: float = DEFAULT_METRIC_TOLERANCE,
) -> CheckReport:
    """Compare two scorecards (as read by :func:`~rhbench.report.tables.read_scorecard`).

    Parameters
    ----------
    current, baseline: score tables with the columns source, metric, region, units,
        value, status.
    tolerance: allowed absolute drop of a ``*_score`` (dimensionless, >= 0).
    fail_under: floor for every current ``*_score``; None for no floor.
    metrics: extra metric names to gate on relative change.
    metric_tolerance: allowed relative change of a listed metric (fraction, >= 0).

    Returns
    -------
    CheckReport with one :class:`RowComparison` per gated key, sorted by key.
    """
    metrics = tuple(metrics)
    cur = _gated_by_key(current, metrics)
    base = _gated_by_key(baseline, metrics)
    rows = []
    for key in sorted(set(cur) | set(base)):
        rows.append(_compare_row(key, cur.get(key), base.get(key), tolerance, fail_under, metric_tolerance))
    cur_sources, base_sources = set(current["source"]), set(baseline["source"])
    synthetic = bool(current.attrs.get("synthetic")) or bool(baseline.attrs.get("synthetic"))
    return CheckReport(
        rows=rows,
        tolerance=tolerance,
        metric_tolerance=metric_tolerance,
        fail_under=fail_under,
        metrics=metrics,
        new_sources=sorted(cur_sources - base_sources),
        missing_sources=sorted(base_sources - cur_sources),
        synthetic=synthetic,
    )


def _gated_by_key(frame: pd.DataFrame, metrics: tuple[str, ...]) -> dict[tuple, dict]:
    gated = frame[[is_gated(metric, metrics) for metric in frame["metric"]]]
    return {tuple(row[k] for k in KEY): row for row in gated.to_dict("records")}


def _compare_row(key, cur, base, tolerance, fail_under, metric_tolerance) -> RowComparison:
    source, metric, region = key
    any_row = cur if cur is not None else base
    cur_value = cur["value"] if cur is not None else math.nan
    base_value = base["value"] if base is not None else math.nan
    cur_ok = cur is not None and is_available(cur["status"], cur_value)
    base_ok = base is not None and is_available(base["status"], base_value)
    is_score = metric.endswith("_score")
    below = is_score and fail_under is not None and cur_ok and cur_value < fail_under
    floor_msg = f"{cur_value:.4g} is below the floor {fail_under:g}" if below else ""

    if cur is None:
        outcome, message = "missing", "row absent from the current scorecard"
    elif base is None:
        outcome, message = ("below_floor", floor_msg) if below else ("new", "row not in baseline")
    elif base_ok and not cur_ok:
        reason = cur["reason"] or "no value"
        outcome, message = "regressed", f"was ok, now {cur['status']}: {reason}"
    elif not base_ok and cur_ok:
        outcome, message = ("below_floor", floor_msg) if below else ("fixed", "usable again")
    elif not cur_ok:
        outcome, message = "unavailable", f"{cur['status']} in both: {cur['reason']}".rstrip(": ")
    elif is_score:
        outcome, message = _score_outcome(cur_value, base_value, tolerance)
        if below and outcome != "regressed":
            outcome, message = "below_floor", floor_msg
        elif below:
            message = f"{message}; {floor_msg}"
    else:
        outcome, message = _relative_outcome(cur_value, base_value, metric_tolerance)
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


def _score_outcome(current: float, baseline: float, tolerance: float) -> tuple[str, str]:
    drop = baseline - current
    if drop > tolerance:
        return "regressed", f"fell by {drop:.4g} (tolerance {tolerance:g})"
    if current > baseline:
        return "improved", f"rose by {-drop:.4g}"
    if current < baseline:
        return "unchanged", f"fell by {drop:.4g}, within tolerance {tolerance:g}"
    return "unchanged", ""


def _relative_outcome(current: float, baseline: float, tolerance: float) -> tuple[str, str]:
    if current == baseline:
        return "unchanged", ""
    change = math.inf if baseline == 0 else abs(current - baseline) / abs(baseline)
    text = f"changed by {change:.2%}" if math.isfinite(change) else "changed from zero"
    if change > tolerance:
        return "regressed", f"{text} (tolerance {tolerance:.2%})"
    return "changed", f"{text}, within tolerance {tolerance:.2%}"


# --- renderings ---------------------------------------------------------------------

_TABLE_HEADER = ("source", "metric", "region", "baseline", "current", "change", "outcome", "note")


def changed_rows(report: CheckReport) -> list[RowComparison]:
    """Rows worth showing: failures first, then anything that is not exactly unchanged."""
    shown = [row for row in report.rows if row.outcome != "unchanged" or row.message]
    return sorted(shown, key=lambda row: (not row.failed, row.source, row.metric, row.region))


def _fmt(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.4g}"


def _cells(row: RowComparison) -> tuple[str, ...]:
    delta = "" if math.isnan(row.delta) else f"{row.delta:+.4g}"
    return (
        row.source,
        row.metric,
        row.region,
        _fmt(row.baseline),
        _fmt(row.current),
        delta,
        row.outcome.upper() if row.failed else row.outcome,
        row.message,
    )


def summary_line(report: CheckReport) -> str:
    """One line: verdict and counts."""
    verdict = "PASSED" if report.passed else "FAILED"
    counts = ", ".join(f"{report.count(outcome)} {outcome}" for outcome in OUTCOMES if report.count(outcome))
    label = " (synthetic data)" if report.synthetic else ""
    return f"rhbench check {verdict}{label}: {len(report.rows)} gated rows; {counts or 'none'}"


def format_text(report: CheckReport) -> str:
    """A plain-text table of changed rows, the source lists and the verdict line."""
    lines = [summary_line(report)]
    rows = [_TABLE_HEADER] + [_cells(row) for row in changed_rows(report)]
    if len(rows) > 1:
        widths = [max(len(r[i]) for r in rows) for i in range(len(_TABLE_HEADER))]
        for cells in rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
    else:
        lines.append("no changes in gated rows")
    lines.extend(source_lines(report))
    return "\n".join(lines)


def source_lines(report: CheckReport) -> list[str]:
    """Lines naming new and missing sources (empty when none)."""
    lines = []
    if report.new_sources:
        lines.append("new sources: " + ", ".join(report.new_sources))
    if report.missing_sources:
        lines.append("missing sources: " + ", ".join(report.missing_sources))
    return lines


def rich_table(report: CheckReport):
    """The changed rows as a :class:`rich.table.Table` (failures in red)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(summary_line(report)), title_justify="left")
    for name in _TABLE_HEADER:
        table.add_column(name, justify="right" if name in ("baseline", "current", "change") else "left")
    for row in changed_rows(report):
        style = "bold red" if row.failed else ("green" if row.outcome in ("improved", "fixed") else None)
        table.add_row(*(Text(cell) for cell in _cells(row)), style=style)
    return table


def junit_xml(report: CheckReport) -> str:
    """JUnit XML: one test case per gated (source, metric[, region]); failures as failures.

    ``classname`` is the source, ``name`` the metric (``metric[region]`` when the region is
    not ``global``). Missing and unavailable rows are skipped test cases.
    """
    import xml.etree.ElementTree as ET

    suite = ET.Element(
        "testsuite",
        name="rhbench check",
        tests=str(len(report.rows)),
        failures=str(len(report.failures)),
        errors="0",
        skipped=str(report.count("missing") + report.count("unavailable")),
    )
    for row in report.rows:
        name = row.metric if row.region == "global" else f"{row.metric}[{row.region}]"
        case = ET.SubElement(suite, "testcase", classname=row.source, name=name)
        detail = f"baseline={_fmt(row.baseline)} current={_fmt(row.current)} {row.units}; {row.outcome}: {row.message}"
        if row.failed:
            ET.SubElement(case, "failure", message=row.message, type=row.outcome).text = detail
        elif row.outcome in ("missing", "unavailable"):
            ET.SubElement(case, "skipped", message=row.message)
        else:
            ET.SubElement(case, "system-out").text = detail
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_summary(report: CheckReport) -> str:
    """A Markdown summary for a merge-request comment: verdict, changes, source lists."""
    icon = "✅" if report.passed else "❌"
    lines = [f"### {icon} {_md_escape(summary_line(report))}", ""]
    if report.synthetic:
        lines += ["> **Synthetic demo data — not a scientific result.**", ""]
    floor = "none" if report.fail_under is None else f"{report.fail_under:g}"
    lines += [
        f"Score tolerance {report.tolerance:g} (absolute), floor {floor}; "
        f"listed metrics: {', '.join(report.metrics) or 'none'} "
        f"(relative tolerance {report.metric_tolerance:.2%}).",
        "",
    ]
    rows = changed_rows(report)
    if rows:
        lines.append("| " + " | ".join(_TABLE_HEADER) + " |")
        lines.append("|" + "---|" * len(_TABLE_HEADER))
        for row in rows:
            cells = list(_cells(row))
            if row.failed:
                cells[6] = f"**{cells[6]}**"
            lines.append("| " + " | ".join(_md_escape(c) for c in cells) + " |")
    else:
        lines.append("No changes in gated rows.")
    listed = source_lines(report)
    if listed:
        lines += [""] + [f"- {line}" for line in listed]
    return "\n".join(lines) + "\n"
