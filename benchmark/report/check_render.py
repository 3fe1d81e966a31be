"""Renderings of a :class:`~rhbench.report.check.CheckReport`: text, rich table, JUnit XML, Markdown.

Every rendering carries the verdict, the gate-level problems (nothing to compare), a loud
warning when the runs' settings differ or could not be verified, and the rows that changed.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING

from rhbench import datalabel
from rhbench.report.check import OUTCOMES, CheckReport, RowComparison

if TYPE_CHECKING:
    from rich.table import Table

_TABLE_HEADER = ("source", "metric", "region", "baseline", "current", "change", "outcome", "note")


def changed_rows(report: CheckReport) -> list[RowComparison]:
    """Rows worth showing: failures first, then anything that is not exactly unchanged."""
    shown = [row for row in report.rows if row.outcome != "unchanged" or row.message]
    return sorted(shown, key=lambda row: (not row.failed, row.source, row.metric, row.region))


def listed_rows(report: CheckReport) -> list[RowComparison]:
    """:func:`changed_rows` less the unavailable rows that share their note with another: those are
    one line each note (:func:`unavailable_lines`), not a row each (59 rows of one 200-character note
    buried the verdict of two identical demo runs)."""
    shared = _shared_notes(report)
    return [row for row in changed_rows(report) if not (row.outcome == "unavailable" and row.message in shared)]


def unavailable_lines(report: CheckReport) -> list[str]:
    """One line per note shared by several unavailable rows: how many and the note; every row stays in
    the JUnit report (``--junit FILE``: one skipped case each) and the scorecards."""
    return [
        printable(f"{count} rows unavailable, each: {note} (every row: the JUnit report, --junit FILE)")
        for note, count in _shared_notes(report).items()
    ]


def _shared_notes(report: CheckReport) -> dict[str, int]:
    """Note -> number of unavailable rows giving it, for notes given by two rows or more (first seen first)."""
    counts = Counter(row.message for row in changed_rows(report) if row.outcome == "unavailable")
    return {note: count for note, count in counts.items() if count > 1}


def printable(text: str) -> str:
    """``text`` with every character that is not printable (control characters: ANSI escapes, carriage
    returns and line breaks; bidirectional overrides, zero-width marks) written as an escape (``\\x1b``,
    ``\\n``, ``\\u202e``). Names and reasons come from scorecards, plugins and model files: a raw
    ``\\x1b[2K\\r`` could overwrite the FAILED line of a CI log, a line break forge a verdict line,
    a control character make the JUnit XML unreadable (its failures then shown nowhere)."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in str(text))


def _fmt(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.4g}"


def _cells(row: RowComparison) -> tuple[str, ...]:
    delta = "" if math.isnan(row.delta) else f"{row.delta:+.4g}"
    cells = (
        row.source,
        row.metric,
        row.region,
        _fmt(row.baseline),
        _fmt(row.current),
        delta,
        row.outcome.upper() if row.failed else row.outcome,
        row.message,
    )
    return tuple(printable(cell) for cell in cells)


def summary_line(report: CheckReport) -> str:
    """One line: verdict and counts."""
    verdict = "PASSED" if report.passed else "FAILED"
    counts = ", ".join(f"{report.count(outcome)} {outcome}" for outcome in OUTCOMES if report.count(outcome))
    described = report.data or datalabel.of(None, report.synthetic)
    label = "" if described.get("data_label") == datalabel.REAL else f" ({datalabel.short(described)})"
    problems = f"; {len(report.problems)} problem(s)" if report.problems else ""
    verified = f"; {report.verification}" if report.verification else ""
    verified += f"; {report.baseline_note}" if report.baseline_note else ""
    line = f"rhbench check {verdict}{label}: {len(report.rows)} gated rows; {counts or 'none'}{problems}{verified}"
    return printable(line)


def warning_lines(report: CheckReport) -> list[str]:
    """Gate-level problems and setup warnings, loudest first (empty when none)."""
    lines = [f"FAILED: {problem}" for problem in report.problems]
    if report.setup_changes:
        lines.append("WARNING: the runs' settings differ, numbers may not be comparable:")
        lines += [f"  {change}" for change in report.setup_changes]
    if not report.setup_known:
        lines.append(
            "WARNING: a scorecard records no run settings (a CSV?): resolution, period and reference "
            "could not be checked; compare scorecard.json files"
        )
    lines += [f"WARNING: {text}" for text in report.integrity_warnings]
    if report.new_sources and report.missing_sources:
        lines.append(
            f"WARNING: sources absent now ({', '.join(report.missing_sources)}) and new sources "
            f"({', '.join(report.new_sources)}): a renamed model? Their rows were not compared with the baseline"
        )
    lines += [f"integrity: {text}" for text in report.integrity]
    if report.data:  # what the numbers were made of, REAL ones with their versions (as under the run's table)
        lines.append(f"data: {datalabel.summary(dict(report.data))}")
    if report.version_change:
        lines.append(
            f"WARNING: the scorecards were written by different rhbench versions ({report.version_change}): "
            "metric definitions may differ; regenerate the baseline with the current version"
        )
    return [printable(line) for line in lines]


def source_lines(report: CheckReport) -> list[str]:
    """Lines naming new and missing sources (empty when none)."""
    lines = []
    if report.new_sources:
        lines.append("new sources: " + ", ".join(report.new_sources))
    if report.missing_sources:
        allowed = " (allowed by --allow-missing)" if report.allow_missing else ""
        lines.append("missing sources: " + ", ".join(report.missing_sources) + allowed)
    return [printable(line) for line in lines]


def format_text(report: CheckReport) -> str:
    """A plain-text table of changed rows, the warnings, the source lists and the verdict line."""
    lines = [summary_line(report), *warning_lines(report)]
    rows = [_TABLE_HEADER] + [_cells(row) for row in listed_rows(report)]
    if len(rows) > 1:
        widths = [max(len(r[i]) for r in rows) for i in range(len(_TABLE_HEADER))]
        for cells in rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
    collapsed = unavailable_lines(report)
    lines.extend(collapsed if collapsed or len(rows) > 1 else ["no changes in gated rows"])
    lines.extend(source_lines(report))
    return "\n".join(lines)


def rich_table(report: CheckReport) -> Table:
    """The changed rows as a :class:`rich.table.Table` (failures in red; unavailable rows sharing a
    note: :func:`unavailable_lines`, printed after it)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(summary_line(report)), title_justify="left")
    for name in _TABLE_HEADER:
        table.add_column(name, justify="right" if name in ("baseline", "current", "change") else "left")
    for row in listed_rows(report):
        style = "bold red" if row.failed else ("green" if row.outcome in ("improved", "fixed") else None)
        table.add_row(*(Text(cell) for cell in _cells(row)), style=style)
    return table


def junit_xml(report: CheckReport) -> str:
    """JUnit XML: one test case per gated (source, metric[, region]); failures as failures.

    ``classname`` is the source, ``name`` the metric (``metric[region]`` when the region is
    not ``global``). A missing row is a failed case (a skipped one with ``--allow-missing``),
    an unavailable row a skipped case; each gate-level problem is a failed case of class
    ``rhbench``; setup warnings go to the suite's ``system-err``.
    """
    import xml.etree.ElementTree as ET

    skipped = report.count("missing_allowed") + report.count("unavailable")
    suite = ET.Element(
        "testsuite",
        name="rhbench check",
        tests=str(len(report.rows) + len(report.problems)),
        failures=str(len(report.failures) + len(report.problems)),
        errors="0",
        skipped=str(skipped),
    )
    for problem in map(printable, report.problems):
        case = ET.SubElement(suite, "testcase", classname="rhbench", name="scorecard")
        ET.SubElement(case, "failure", message=problem, type="problem").text = problem
    for row in report.rows:
        name = printable(row.metric if row.region == "global" else f"{row.metric}[{row.region}]")
        case = ET.SubElement(suite, "testcase", classname=printable(row.source), name=name)
        message = printable(row.message)
        detail = printable(f"baseline={_fmt(row.baseline)} current={_fmt(row.current)} {row.units}; ") + (
            f"{row.outcome}: {message}"
        )
        if row.failed:
            ET.SubElement(case, "failure", message=message, type=row.outcome).text = detail
        elif row.outcome in ("missing_allowed", "unavailable"):
            ET.SubElement(case, "skipped", message=message)
        else:
            ET.SubElement(case, "system-out").text = detail
    warnings = warning_lines(report)
    if warnings:
        ET.SubElement(suite, "system-err").text = "\n".join(warnings)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def junit_unusable(reason: str) -> str:
    """JUnit XML for a check that could not compare (no scorecard in the run folder, a corrupt one, runs
    with different settings ...): one failed case of class ``rhbench`` saying ``reason``, so a CI
    showing test reports shows why the gate failed instead of nothing (twelfth audit, A12-5)."""
    import xml.etree.ElementTree as ET

    suite = ET.Element("testsuite", name="rhbench check", tests="1", failures="1", errors="0", skipped="0")
    case = ET.SubElement(suite, "testcase", classname="rhbench", name="check could not compare")
    text = printable(reason)
    ET.SubElement(case, "failure", message=text, type="unusable input").text = text
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def markdown_unusable(reason: str) -> str:
    """A Markdown summary of a check that could not compare (see :func:`junit_unusable`)."""
    return f"### ❌ rhbench check could not compare\n\n{_md_escape(reason)}\n"


def _md_escape(text: str) -> str:
    """Text for a Markdown table cell or line: printable, ``|`` escaped, and no HTML (a ``<!--`` in
    a reason would hide the rest of the merge-request comment, failing rows included)."""
    return printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def markdown_summary(report: CheckReport) -> str:
    """A Markdown summary for a merge-request comment: verdict, warnings, changes, source lists."""
    icon = "✅" if report.passed else "❌"
    lines = [f"### {icon} {_md_escape(summary_line(report))}", ""]
    described = report.data or datalabel.of(None, report.synthetic)
    if described.get("data_label") != datalabel.REAL:  # e.g. SYNTHETIC demo data: not a scientific result
        lines += [f"> **{_md_escape(datalabel.headline(described))}.**", ""]
    warnings = warning_lines(report)
    if warnings:
        lines += [f"> **{_md_escape(line.strip())}**" for line in warnings] + [""]
    floor = "none" if report.fail_under is None else f"{report.fail_under:g}"
    gated = ", ".join(f"{name} {rule.describe()}" for name, rule in sorted(report.tolerances.items()))
    lines += [
        f"Scores: tolerance {report.tolerance:g} (absolute drop), floor {floor}. "
        f"Other gated metrics (tolerance = absolute + relative × |baseline|; beyond it, CHANGED fails): "
        f"{gated or 'none'}.",
        "",
    ]
    rows = listed_rows(report)
    collapsed = unavailable_lines(report)
    if rows:
        lines.append("| " + " | ".join(_TABLE_HEADER) + " |")
        lines.append("|" + "---|" * len(_TABLE_HEADER))
        for row in rows:
            cells = list(_cells(row))
            if row.failed:
                cells[6] = f"**{cells[6]}**"
            lines.append("| " + " | ".join(_md_escape(c) for c in cells) + " |")
    elif not collapsed:
        lines.append("No changes in gated rows.")
    if collapsed:
        lines += ([""] if rows else []) + [f"- {_md_escape(line)}" for line in collapsed]
    listed = source_lines(report)
    if listed:
        lines += [""] + [f"- {line}" for line in listed]
    return "\n".join(lines) + "\n"
