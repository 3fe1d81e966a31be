"""``rhbench check``: the CI gate comparing a scorecard with a baseline.

Exit codes: 0 nothing regressed; 1 a gated row regressed or a score fell below the
floor; 2 unusable input (missing or corrupt scorecard, bad option, unwritable output).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from rhbench.errors import ConfigError
from rhbench.report import check as gate
from rhbench.report.tables import read_scorecard

log = logging.getLogger(__name__)

EXIT_OK, EXIT_REGRESSED, EXIT_UNUSABLE = 0, 1, 2

_EPILOG = f"""\
rules:
  Rows are matched on (source, metric, region).
  Gated rows: metrics whose name ends in "_score" (higher is better, 0..1) and every
  metric given with --metric.
  A score regresses when it drops by more than --tolerance (absolute, default
  {gate.DEFAULT_TOLERANCE}); --fail-under X fails any current score below X.
  A --metric regresses when |current - baseline| / |baseline| exceeds
  --metric-tolerance (relative, default {gate.DEFAULT_METRIC_TOLERANCE}).
  A row that was ok in the baseline and is failed/skipped now is a regression.
  New and missing rows and sources are reported and do not fail the gate.

exit codes: 0 passed, 1 regression or score below the floor, 2 unusable input.
"""


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``check`` on an ``argparse`` sub-parsers object and return its parser."""
    parser = subparsers.add_parser(
        "check",
        help="compare a scorecard with a baseline (CI gate; exit 1 on regressions)",
        description="Compare SCORECARD with a baseline scorecard and fail on regressions.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("scorecard", type=Path, help="scorecard.json or scores.csv to check")
    parser.add_argument("--baseline", type=Path, required=True, help="baseline scorecard.json or scores.csv")
    parser.add_argument(
        "--tolerance",
        type=_non_negative,
        default=gate.DEFAULT_TOLERANCE,
        help="allowed absolute drop of a *_score (default %(default)s)",
    )
    parser.add_argument(
        "--fail-under",
        type=float,
        default=None,
        metavar="X",
        help="fail when any current *_score is below X",
    )
    parser.add_argument(
        "--metric",
        action="append",
        default=[],
        metavar="NAME",
        help="also gate metric NAME on relative change (repeatable)",
    )
    parser.add_argument(
        "--metric-tolerance",
        type=_non_negative,
        default=gate.DEFAULT_METRIC_TOLERANCE,
        metavar="X",
        help="allowed relative change of a --metric (default %(default)s)",
    )
    parser.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML here")
    parser.add_argument(
        "--markdown",
        type=Path,
        metavar="FILE",
        help="write a Markdown summary (merge-request comment) here",
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the gate; print the table of changes; return the exit code."""
    try:
        current = read_scorecard(args.scorecard)
        baseline = read_scorecard(args.baseline)
    except ConfigError as exc:
        print(f"rhbench check: error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    report = gate.compare_scorecards(
        current,
        baseline,
        tolerance=args.tolerance,
        fail_under=args.fail_under,
        metrics=tuple(args.metric),
        metric_tolerance=args.metric_tolerance,
    )
    try:
        _write(args.junit, gate.junit_xml(report))
        _write(args.markdown, gate.markdown_summary(report))
    except OSError as exc:
        print(f"rhbench check: error: cannot write output ({exc})", file=sys.stderr)
        return EXIT_UNUSABLE
    _print_report(report)
    return EXIT_OK if report.passed else EXIT_REGRESSED


def _write(path: Path | None, text: str) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _print_report(report: gate.CheckReport) -> None:
    if sys.stdout.isatty():
        from rich.console import Console

        console = Console()
        console.print(gate.rich_table(report))
        for line in gate.source_lines(report):
            console.print(line)
    else:
        print(gate.format_text(report))
