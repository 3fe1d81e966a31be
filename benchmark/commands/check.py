"""``rhbench check``: the CI gate comparing a scorecard with a baseline.

Exit codes: 0 nothing failed; 1 a gated row regressed, changed beyond its tolerance, fell below the floor or is
missing, the current scorecard is empty, or a run folder's outputs do not match their manifest or
signature; 2 unusable input (missing or corrupt scorecard, bad option, runs with different settings,
unwritable output, an unusable gate key).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from dataclasses import replace
from pathlib import Path

from rhbench.errors import ConfigError, OutputExistsError
from rhbench.outdir import MANIFEST_JSON
from rhbench.report import check as gate
from rhbench.report import check_outputs, manifest
from rhbench.report import check_render as render
from rhbench.report import gate_rules as rules
from rhbench.report.tables import DIGEST_ABSENT, SCORECARD_JSON, read_scorecard

log = logging.getLogger(__name__)

EXIT_OK, EXIT_REGRESSED, EXIT_UNUSABLE = 0, 1, 2


def _epilog() -> str:
    defaults = "\n".join(f"    {name:22s} {rule.describe()}" for name, rule in sorted(rules.DEFAULT_TOLERANCES.items()))
    return f"""\
rules:
  Rows are matched on (source, metric, region).
  Scores (metrics ending in "_score", 0..1) fail when they drop by more than
  --tolerance (absolute, default {rules.DEFAULT_SCORE_TOLERANCE}); --fail-under X fails any score below X.
  An ensemble_sd score row (the models' spread) has no floor and fails a move either way.
  These metrics are gated by default (tolerance = ABS + REL x |baseline|, either way;
  --no-default-metrics turns them off); one that moves beyond its tolerance, either
  way, is CHANGED and fails (REGRESSED is for scores and coverages that fell):
{defaults}
  --metric NAME[=REL[,ABS]] gates another metric or overrides a tolerance (a bare
  NAME gets REL = --metric-tolerance, default {rules.DEFAULT_METRIC_TOLERANCE}).
  Changes up to {rules.NOISE_RELATIVE:g} relative are numerical noise ("unchanged").
  A row ok in the baseline and failed/skipped/absent now fails the gate
  (--allow-missing accepts rows of sources absent from the current scorecard).
  An empty current scorecard, or nothing gated to compare, fails.
  Scorecards of runs with different resolution, period, reference, products, seed,
  Monte Carlo draws or upscaling mode are refused (exit 2) unless --allow-setup-change.
  A scorecard that differs from the sha256 rhbench wrote in it (edited by hand: a value,
  status, unit, setting or row changed, added or removed) fails unless --allow-edited.
  A row whose units differ between the two scorecards fails.
  A scorecard in a run folder is checked against the folder's manifest.json (SHA-256 of
  scorecard.json, scores.csv, results.nc, cmec.json, run.json, index.html): "digest only, not signed".
  With RHBENCH_GATE_KEY (or RHBENCH_GATE_KEY_FILE, mode 0600) set, the current run's outputs
  must carry a valid HMAC-SHA256 signature made with the same key (README: Signing the outputs);
  with RHBENCH_GATE_CONTEXT (the CI run's id) set for run and check, outputs recorded for
  another run (an earlier run's outputs copied in) fail.
  A baseline with no manifest.json beside it and no sha256 in it (a CSV) is UNVERIFIED (said on
  the first line); with a gate key it fails unless --allow-unverified-baseline.
  --require-signed-baseline (needs a gate key, else exit 2) fails any baseline not signed with
  the key: a digest-only run folder, a copied scorecard.json or a CSV.

exit codes: 0 passed, 1 regression, change beyond tolerance, missing row or empty scorecard, 2 unusable input
  or option (e.g. --fail-under nan, a non-numeric score, different run settings).
"""


def _finite_non_negative(text: str) -> float:
    try:
        return rules.finite_non_negative(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _unit_interval(text: str) -> float:
    value = _finite_non_negative(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"scores are 0..1, a floor of {text!r} fails everything")
    return value


def _score_tolerance(text: str) -> float:
    value = _finite_non_negative(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"scores are 0..1, a tolerance of {text!r} lets every score drop")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``check`` on an ``argparse`` sub-parsers object and return its parser."""
    parser = subparsers.add_parser(
        "check",
        help="compare a scorecard with a baseline (CI gate; exit 1 on regressions)",
        description="Compare SCORECARD with a baseline scorecard and fail on regressions.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("scorecard", type=Path, help="scorecard.json or scores.csv to check")
    parser.add_argument("--baseline", type=Path, required=True, help="baseline scorecard.json or scores.csv")
    parser.add_argument(
        "--tolerance",
        type=_score_tolerance,
        default=rules.DEFAULT_SCORE_TOLERANCE,
        help="allowed absolute drop of a *_score (default %(default)s)",
    )
    parser.add_argument(
        "--fail-under", type=_unit_interval, default=None, metavar="X", help="fail when any current *_score is below X"
    )
    parser.add_argument(
        "--metric",
        action="append",
        default=[],
        metavar="NAME[=REL[,ABS]]",
        help="also gate metric NAME (repeatable); REL relative, ABS absolute tolerance",
    )
    parser.add_argument(
        "--metric-tolerance",
        type=_finite_non_negative,
        default=rules.DEFAULT_METRIC_TOLERANCE,
        metavar="X",
        help="relative tolerance of a --metric given without one (default %(default)s)",
    )
    parser.add_argument(
        "--no-default-metrics", dest="defaults", action="store_false", help="gate only scores and --metric"
    )
    parser.add_argument(
        "--allow-missing", action="store_true", help="rows of sources absent from the current scorecard do not fail"
    )
    parser.add_argument(
        "--allow-setup-change",
        action="store_true",
        help="compare runs with different resolution/period/reference/products (listed as a warning)",
    )
    parser.add_argument(
        "--allow-edited",
        action="store_true",
        help="accept a scorecard whose rows were edited after rhbench wrote them (listed as a warning)",
    )
    _add_baseline_trust_options(parser)
    reports = {"--junit": "JUnit XML", "--markdown": "a Markdown summary (merge-request comment)"}
    for option, what in reports.items():
        parser.add_argument(option, type=Path, metavar="FILE", help=f"write {what} here (new, or one check wrote)")
    parser.set_defaults(func=run)
    return parser


def _add_baseline_trust_options(parser: argparse.ArgumentParser) -> None:
    """How far an unsigned baseline is trusted with a gate key: the two options exclude each other."""
    trust = parser.add_mutually_exclusive_group()
    trust.add_argument(
        "--allow-unverified-baseline",
        action="store_true",
        help="with a gate key, accept a baseline with no manifest.json beside it and no sha256 in it (a CSV)",
    )
    trust.add_argument(
        "--require-signed-baseline",
        action="store_true",
        help="the baseline must be a run folder signed with the gate key (a baseline passed as a CI artifact)",
    )


def _metric_tolerances(options: list[str], default_relative: float) -> dict[str, rules.Tolerance]:
    return dict(rules.parse_metric_option(text, default_relative) for text in options)


def run(args: argparse.Namespace) -> int:
    """Run the gate; print the table of changes; return the exit code."""
    try:
        metrics = _metric_tolerances(args.metric, args.metric_tolerance)
    except ValueError as exc:
        print(f"rhbench check: error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    reports = {"junit": args.junit, "markdown": args.markdown}
    try:
        check_outputs.refuse_unsafe_report_paths(reports, {"scorecard": args.scorecard, "baseline": args.baseline})
    except OutputExistsError as exc:
        print(f"rhbench check: error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        key, context = manifest.gate_key(), manifest.gate_context()
        _refuse_require_signed_without_key(args.require_signed_baseline, key)
        _refuse_one_file(args.scorecard, args.baseline)
        current = read_scorecard(args.scorecard)
        baseline = read_scorecard(args.baseline)
        report = gate.compare_scorecards(
            current,
            baseline,
            tolerance=args.tolerance,
            fail_under=args.fail_under,
            metrics=metrics,
            defaults=args.defaults,
            allow_missing=args.allow_missing,
            allow_setup_change=args.allow_setup_change,
            allow_edited=args.allow_edited,
        )
        frames = {"current scorecard": current, "baseline": baseline}
        _verify_outputs(
            report,
            frames,
            key,
            context,
            allow_unverified=args.allow_unverified_baseline,
            require_signed=args.require_signed_baseline,
        )
    except ConfigError as exc:
        print(f"rhbench check: error: {exc}", file=sys.stderr)
        _write_unusable_reports(args, str(exc))
        return EXIT_UNUSABLE
    try:
        check_outputs.write_report(args.junit, render.junit_xml(report))
        check_outputs.write_report(args.markdown, render.markdown_summary(report))
    except OSError as exc:
        print(f"rhbench check: error: cannot write output ({exc})", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        _print_report(report)
    except BrokenPipeError:  # e.g. `rhbench check ... | head`: the verdict, not the pipe, sets the exit code
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_OK if report.passed else EXIT_REGRESSED


def _write_unusable_reports(args: argparse.Namespace, reason: str) -> None:
    """The --junit / --markdown reports of a check that could not compare: one failed case saying
    ``reason`` (a run that wrote nothing left CI with no test report at all: twelfth audit, A12-5).
    A report that cannot be written is said on stderr; the exit code stays the unusable input's."""
    try:
        check_outputs.write_report(args.junit, render.junit_unusable(reason))
        check_outputs.write_report(args.markdown, render.markdown_unusable(reason))
    except OSError as exc:
        print(f"rhbench check: error: cannot write output ({exc})", file=sys.stderr)


def _refuse_one_file(scorecard: Path, baseline: Path) -> None:
    """A baseline that is the scorecard itself (the same file, a folder holding it, a link or a hard
    link to it) compares a run with itself: the gate could never fail."""
    files = [path / SCORECARD_JSON if path.is_dir() else path for path in (scorecard, baseline)]
    if all(path.is_file() for path in files) and os.path.samefile(*files):
        raise ConfigError(
            "the baseline is the scorecard being checked: the gate would compare a run with itself",
            file=str(files[0]),
            found=f"--baseline {baseline}",
            expected="the committed baseline scorecard of an earlier run",
        )


def _refuse_require_signed_without_key(required: bool, key: bytes | None) -> None:
    """--require-signed-baseline with no gate key: no signature can be verified (a usage error)."""
    if required and key is None:
        raise ConfigError(
            "--require-signed-baseline needs a gate key: without one no signature can be verified",
            found=f"neither {manifest.KEY_ENV} nor {manifest.KEY_FILE_ENV} is set",
            expected=f"{manifest.KEY_ENV} (or {manifest.KEY_FILE_ENV}) set to the key the baseline's run signed with",
        )


def _verify_outputs(
    report: gate.CheckReport,
    frames: dict,
    key: bytes | None,
    context: str | None,
    *,
    allow_unverified: bool = False,
    require_signed: bool = False,
) -> None:
    """Check each scorecard's run folder against its manifest (and signature, with a gate key):
    a mismatch is a problem of the report (the gate fails); how far each was verified is said.
    A baseline nothing verifies (:func:`_unverified_baseline`) is said on the first line and, with a
    gate key, fails unless ``allow_unverified``; with ``require_signed`` any baseline not signed
    under ``key`` fails (:func:`_unsigned_baseline`)."""
    for role, frame in frames.items():
        path = Path(frame.attrs["path"])
        verdict = manifest.verify(path, key, role=role, context=context)
        nothing = verdict.outside and frame.attrs.get("digest") == DIGEST_ABSENT  # nothing verifies it
        if role == "baseline" and require_signed and key is not None:
            verdict = _unsigned_baseline(report, verdict, path, key, nothing)
        elif nothing:
            if role == "baseline":
                verdict = _unverified_baseline(report, verdict, path, key, allow_unverified)
            elif key is None:  # with a key: "unsigned", a problem (manifest.verify)
                verdict = replace(verdict, note=f"UNVERIFIED ({_nothing_verifies(path)}: edits cannot be detected)")
        report.problems.extend(verdict.problems)
        report.integrity.append(f"{role}: {verdict.note}")
        if role == "current scorecard":
            report.verification = re.split(r" \(|[:;]", verdict.note)[0]  # e.g. "signed", "unsigned"


def _nothing_verifies(path: Path) -> str:
    """Why a scorecard outside a run folder with no digest of its own (a CSV) is unverified."""
    return f"no {MANIFEST_JSON} beside {path} and no sha256 in it"


def _unverified_baseline(
    report: gate.CheckReport, verdict: manifest.Verdict, path: Path, key: bytes | None, allow: bool
) -> manifest.Verdict:
    """A baseline with no manifest.json beside it and no sha256 in it (a CSV, or a scorecard of an older
    rhbench): nothing tells whether it was edited. Said on the first line; with a gate key (the outputs
    are meant to be verified) a problem unless ``allow`` (--allow-unverified-baseline), then a warning."""
    where = _nothing_verifies(path)
    report.baseline_note = f"baseline UNVERIFIED (no {MANIFEST_JSON}, no digest)"
    if key is None:
        return replace(verdict, note=f"UNVERIFIED ({where}: edits cannot be detected)")
    text = (
        f"the baseline is unverified ({where}: a CSV or an older rhbench's scorecard) but a gate key is set "
        f"({manifest.KEY_ENV} or {manifest.KEY_FILE_ENV}): nothing tells whether its rows were edited"
    )
    if allow:
        report.integrity_warnings.append(f"{text} (accepted: --allow-unverified-baseline)")
        return replace(verdict, note=f"UNVERIFIED ({where}; accepted: --allow-unverified-baseline)")
    fix = (
        f"to fix: give the scorecard.json of a run folder (with its {MANIFEST_JSON}) or a scorecard.json "
        "rhbench wrote as --baseline, or pass --allow-unverified-baseline"
    )
    return replace(verdict, problems=[*verdict.problems, f"{text}; {fix}"], note=f"UNVERIFIED ({where})")


def _unsigned_baseline(
    report: gate.CheckReport, verdict: manifest.Verdict, path: Path, key: bytes, nothing: bool
) -> manifest.Verdict:
    """--require-signed-baseline: a baseline not signed under ``key`` is a problem naming its file and
    what was found. A signature that is recorded but does not verify is already a problem of the verdict."""
    if verdict.signed or verdict.note.startswith("signature NOT verified"):
        return verdict
    if nothing:
        found = f"{_nothing_verifies(path)} (a CSV or an older rhbench's scorecard)"
        report.baseline_note = f"baseline UNVERIFIED (no {MANIFEST_JSON}, no digest)"
    elif verdict.outside:
        found = f"no {MANIFEST_JSON} beside it (a scorecard copied out of its run folder): its own sha256 only"
    else:
        found = f"its {MANIFEST_JSON} records no signature (digest only)"
    report.baseline_note = report.baseline_note or "baseline NOT SIGNED"
    problem = (
        f"the baseline {path} is not signed with the gate key (key id {manifest.key_id(key)}) but "
        f"--require-signed-baseline is given: found {found}; whoever can write it can edit its rows and "
        f"recompute their digests. to fix: give as --baseline the scorecard.json of a run folder that "
        f"`rhbench run` wrote with the same {manifest.KEY_ENV} (its {MANIFEST_JSON} signed), or drop "
        "--require-signed-baseline for a baseline committed to the repository and reviewed"
    )
    return replace(verdict, problems=[*verdict.problems, problem], note=f"NOT SIGNED ({found})")


def _print_report(report: gate.CheckReport) -> None:
    if sys.stdout.isatty():
        from rich.console import Console

        console = Console()
        console.print(render.rich_table(report))
        for line in render.unavailable_lines(report) + render.warning_lines(report) + render.source_lines(report):
            console.print(line, markup=False)
    else:
        print(render.format_text(report))
