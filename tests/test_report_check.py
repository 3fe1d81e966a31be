"""The CI gate ``rhbench check``: exit codes, table, JUnit XML and Markdown."""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET

import pytest

from rhbench.commands import check as command
from rhbench.report.check import compare_scorecards
from rhbench.report.tables import read_scorecard

BASELINE = [
    ("A", "rh_taylor_score", 0.80, "ok"),
    ("B", "rh_taylor_score", 0.70, "ok"),
    ("A", "tau_soil_taylor_score", 0.50, "ok"),
    ("A", "rh_global", 60.0, "ok"),
    ("C", "rh_taylor_score", 0.90, "ok"),
]
CURRENT = [
    ("A", "rh_taylor_score", 0.79, "ok"),
    ("B", "rh_taylor_score", 0.70, "ok"),
    ("A", "tau_soil_taylor_score", 0.50, "ok"),
    ("A", "rh_global", 62.0, "ok"),
    ("D", "rh_taylor_score", 0.60, "ok"),
]
SETUP = {"resolution": 0.5, "period": [1982, 2018], "reference": "RF-Rh", "csoil_products": None, "demo": False}


def _write(path, rows, synthetic=False, setup=None):
    document = {
        "synthetic": synthetic,
        "rhbench_version": "0.1.0",
        "meta": {"config": {**SETUP, "demo": synthetic, **(setup or {})}},
        "rows": [
            {
                "source": s,
                "kind": "dgvm",
                "metric": m,
                "region": "global",
                "units": "1" if m.endswith("_score") else "Pg C yr-1",
                "value": v if status == "ok" else None,
                "status": status,
                "reason": "" if status == "ok" else "load error",
            }
            for s, m, v, status in rows
        ],
    }
    path.write_text(json.dumps(document))
    return path


def _replace(rows, source, metric, value, status="ok"):
    return [(s, m, value, status) if (s, m) == (source, metric) else (s, m, v, st) for s, m, v, st in rows]


def _run(tmp_path, current, *options, baseline=BASELINE):
    parser = argparse.ArgumentParser(prog="rhbench")
    command.add_parser(parser.add_subparsers(dest="command"))
    cur = current if not isinstance(current, list) else _write(tmp_path / "cur.json", current)
    base = _write(tmp_path / "base.json", baseline)
    args = parser.parse_args(["check", str(cur), "--baseline", str(base), *options])
    return args.func(args)


def test_small_drop_within_tolerance_passes_and_reports_new_and_missing(tmp_path, capsys):
    assert _run(tmp_path, CURRENT, "--allow-missing") == 0
    out = capsys.readouterr().out
    assert "PASSED" in out
    assert "new sources: D" in out and "missing sources: C (allowed by --allow-missing)" in out
    assert "-0.01" in out  # A's score fell by 0.80 - 0.79, within the default 0.02


def test_drop_beyond_tolerance_fails_with_exit_1(tmp_path, capsys):
    assert _run(tmp_path, _replace(CURRENT, "B", "rh_taylor_score", 0.65)) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "REGRESSED" in out and "fell by 0.05" in out


def test_larger_tolerance_accepts_the_same_drop(tmp_path):
    current = _replace(CURRENT, "B", "rh_taylor_score", 0.65)
    assert _run(tmp_path, current, "--tolerance", "0.06", "--allow-missing") == 0


def test_score_below_the_floor_fails(tmp_path, capsys):
    assert _run(tmp_path, CURRENT, "--fail-under", "0.55") == 1
    out = capsys.readouterr().out
    assert "0.5 is below the floor 0.55" in out  # A tau_soil score 0.50, unchanged
    assert _run(tmp_path, CURRENT, "--fail-under", "0.5", "--allow-missing") == 0  # D is 0.60, A is 0.50


def test_new_source_below_the_floor_fails(tmp_path):
    assert _run(tmp_path, CURRENT, "--fail-under", "0.65", "--allow-missing") == 1  # D = 0.60 is new


def test_listed_metric_gates_on_relative_change(tmp_path):
    # rh_global 60 -> 62 is a relative change of 1/30 = 3.3 %
    assert _run(tmp_path, CURRENT, "--allow-missing") == 0  # default tolerance of rh_global: 10 %
    assert _run(tmp_path, CURRENT, "--allow-missing", "--metric", "rh_global") == 0  # bare name: 5 %
    assert _run(tmp_path, CURRENT, "--allow-missing", "--metric", "rh_global", "--metric-tolerance", "0.03") == 1
    assert _run(tmp_path, CURRENT, "--allow-missing", "--metric", "rh_global=0.03") == 1
    assert _run(tmp_path, CURRENT, "--allow-missing", "--metric", "rh_global=0.03,1.5") == 0  # 1.5 + 1.8 > 2


def test_row_that_was_ok_and_now_failed_is_a_regression(tmp_path, capsys):
    current = _replace(CURRENT, "A", "rh_taylor_score", None, "failed")
    assert _run(tmp_path, current) == 1
    assert "was ok, now failed: load error" in capsys.readouterr().out


@pytest.mark.parametrize("content", [None, "{broken", '{"rows": "nope"}'])
def test_missing_or_corrupt_scorecard_exits_2(tmp_path, capsys, content):
    path = tmp_path / "cur.json"
    if content is not None:
        path.write_text(content)
    assert _run(tmp_path, path) == 2
    assert str(path) in capsys.readouterr().err


def test_negative_tolerance_is_refused_by_the_parser(tmp_path):
    with pytest.raises(SystemExit) as info:
        _run(tmp_path, CURRENT, "--tolerance", "-1")
    assert info.value.code == 2


def test_junit_has_one_case_per_gated_source_metric_and_the_failures(tmp_path):
    junit = tmp_path / "reports" / "junit.xml"
    current = _replace(CURRENT, "B", "rh_taylor_score", 0.65)
    assert _run(tmp_path, current, "--junit", str(junit), "--fail-under", "0.55") == 1
    suite = ET.parse(junit).getroot().find("testsuite")
    cases = suite.findall("testcase")
    # gated keys: A rh, A tau_soil, A rh_global, B rh, C rh (missing), D rh (new)
    assert len(cases) == 6 and suite.get("tests") == "6"
    failed = {(c.get("classname"), c.get("name")) for c in cases if c.find("failure") is not None}
    assert failed == {("B", "rh_taylor_score"), ("A", "tau_soil_taylor_score"), ("C", "rh_taylor_score")}
    assert suite.get("failures") == "3"
    assert [c.find("failure").get("type") for c in cases if c.get("classname") == "C"] == ["missing"]


def test_markdown_names_the_regressed_row(tmp_path):
    markdown = tmp_path / "summary.md"
    current = _replace(CURRENT, "B", "rh_taylor_score", 0.65)
    assert _run(tmp_path, current, "--markdown", str(markdown)) == 1
    text = markdown.read_text()
    assert text.startswith("### ❌ rhbench check FAILED")
    assert "| B | rh_taylor_score | global | 0.7 | 0.65 | -0.05 | **REGRESSED** |" in text
    assert "- new sources: D" in text and "- missing sources: C" in text
    assert "| C | rh_taylor_score | global | 0.9 | — |  | **MISSING** |" in text


def test_synthetic_scorecards_are_labelled_in_the_summary(tmp_path):
    base = read_scorecard(_write(tmp_path / "b.json", BASELINE, synthetic=True))
    cur = read_scorecard(_write(tmp_path / "c.json", CURRENT))
    report = compare_scorecards(cur, base, allow_missing=True, allow_setup_change=True)
    assert report.synthetic and report.passed
    assert report.setup_changes == ["demo: baseline True, current False", "synthetic: baseline True, current False"]
    assert [row.outcome for row in report.rows] == [
        "within_tolerance",
        "unchanged",
        "unchanged",
        "unchanged",
        "missing_allowed",
        "new",
    ]
    assert abs(report.rows[1].delta - (-0.01)) < 1e-12


def test_baseline_failed_and_now_ok_is_fixed_not_a_failure(tmp_path):
    base = read_scorecard(_write(tmp_path / "b.json", _replace(BASELINE, "B", "rh_taylor_score", None, "failed")))
    cur = read_scorecard(_write(tmp_path / "c.json", CURRENT))
    report = compare_scorecards(cur, base, allow_missing=True)
    fixed = [row for row in report.rows if row.source == "B"]
    assert fixed[0].outcome == "fixed" and report.passed


# --- issue 13: a gate that cannot be fooled -------------------------------------------------


def test_source_failed_now_fails_the_gate_even_with_allow_missing(tmp_path, capsys):
    current = [row for row in CURRENT if row[0] != "B"] + [("B", "load", None, "failed")]
    junit = tmp_path / "junit.xml"
    assert _run(tmp_path, current, "--allow-missing", "--junit", str(junit)) == 1
    assert "the source failed: load error" in capsys.readouterr().out
    cases = ET.parse(junit).getroot().find("testsuite").findall("testcase")
    failed = {(c.get("classname"), c.get("name")) for c in cases if c.find("failure") is not None}
    assert ("B", "rh_taylor_score") in failed


def test_source_absent_now_fails_by_default_and_junit_reports_it(tmp_path, capsys):
    junit = tmp_path / "junit.xml"
    assert _run(tmp_path, CURRENT, "--junit", str(junit)) == 1  # C is in the baseline only
    assert "MISSING" in capsys.readouterr().out
    suite = ET.parse(junit).getroot().find("testsuite")
    case = next(c for c in suite.findall("testcase") if c.get("classname") == "C")
    assert case.find("failure").get("type") == "missing"


def test_metric_absent_now_fails(tmp_path):
    current = [row for row in CURRENT if row[1] != "tau_soil_taylor_score"]
    assert _run(tmp_path, current, "--allow-missing") == 1  # source A is there, its metric is not


@pytest.mark.parametrize(
    "current",
    [[], [(s, m, None, "failed") for s, m, _, _ in CURRENT]],
    ids=["no-rows", "every-row-failed"],
)
def test_empty_current_scorecard_fails(tmp_path, capsys, current):
    junit = tmp_path / "junit.xml"
    assert _run(tmp_path, current, "--allow-missing", "--junit", str(junit)) == 1
    assert "no usable row" in capsys.readouterr().out
    cases = ET.parse(junit).getroot().find("testsuite").findall("testcase")
    assert any(c.get("classname") == "rhbench" and c.find("failure") is not None for c in cases)


def test_nothing_gated_fails(tmp_path):
    rows = [("A", "rh_taylor_r", 0.9, "ok")]  # not a score, not in the default set
    assert _run(tmp_path, rows, baseline=rows) == 1


def test_rh_drop_of_25_percent_fails_although_the_taylor_score_rises(tmp_path, capsys):
    baseline = [("A", "rh_global", 60.0, "ok"), ("A", "rh_taylor_score", 0.70, "ok"), ("A", "rh_taylor_bias", 20, "ok")]
    current = [
        ("A", "rh_global", 45.0, "ok"),
        ("A", "rh_taylor_score", 0.75, "ok"),
        ("A", "rh_taylor_bias", -110, "ok"),
    ]
    assert _run(tmp_path, current, baseline=baseline) == 1
    out = capsys.readouterr().out
    assert "A       rh_global" in out and "-25.00%" in out
    assert _run(tmp_path, current, "--no-default-metrics", baseline=baseline) == 0  # only scores: fooled


@pytest.mark.parametrize(
    ("metric", "change"),
    [("rh_global", 0.5), ("rh_global", -0.5), ("rh_taylor_bias", 30.0), ("tau_soil_global", 4.0)],
)
def test_default_tolerances_are_two_sided_and_per_metric(metric, change):
    from rhbench.report.check import compare_values
    from rhbench.report.gate_rules import DEFAULT_TOLERANCES

    rule = DEFAULT_TOLERANCES[metric]
    baseline = {"rh_global": 60.0, "rh_taylor_bias": 10.0, "tau_soil_global": 30.0}[metric]
    outcome, _ = compare_values(baseline * (1 + change) if metric == "rh_global" else baseline + change, baseline, rule)
    assert outcome == "changed"  # two-sided: a move beyond tolerance, not called a regression
    assert compare_values(baseline * 1.05, baseline, rule)[0] == "within_tolerance"  # 5 %: within every default


@pytest.mark.parametrize("metric", ["rh_taylor_score", "rh_global"])
def test_numeric_noise_is_unchanged(tmp_path, metric):
    value = 0.8 if metric.endswith("_score") else 60.0
    base = [("A", metric, value, "ok")]
    cur = [("A", metric, value * (1 + 5e-10), "ok")]
    report = compare_scorecards(
        read_scorecard(_write(tmp_path / "c.json", cur)), read_scorecard(_write(tmp_path / "b.json", base))
    )
    assert [(r.outcome, r.message) for r in report.rows] == [("unchanged", "")]
    cur = [("A", metric, value * (1 + 1e-6), "ok")]
    report = compare_scorecards(
        read_scorecard(_write(tmp_path / "c.json", cur)), read_scorecard(_write(tmp_path / "b.json", base))
    )
    assert report.rows[0].outcome in ("improved", "within_tolerance")


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("resolution", 2.0),
        ("period", [1990, 2018]),
        ("reference", "Hashimoto2015"),
        ("csoil_products", ["HWSD"]),
        ("seed", 5),
    ],
)
def test_runs_with_different_settings_are_refused_or_flagged_loudly(tmp_path, capsys, setting, value):
    current = _write(tmp_path / "cur.json", CURRENT, setup={setting: value})
    assert _run(tmp_path, current, "--allow-missing") == 2
    err = capsys.readouterr().err
    assert "different settings" in err and setting in err
    markdown = tmp_path / "summary.md"
    assert _run(tmp_path, current, "--allow-missing", "--allow-setup-change", "--markdown", str(markdown)) == 0
    assert "WARNING" in capsys.readouterr().out
    assert f"**{setting}: baseline" in markdown.read_text()


def test_scorecards_without_settings_are_flagged(tmp_path, capsys):
    csv = tmp_path / "scores.csv"
    read_scorecard(_write(tmp_path / "c.json", CURRENT)).to_csv(csv, index=False)
    assert _run(tmp_path, csv, "--allow-missing") == 0
    assert "records no run settings" in capsys.readouterr().out


@pytest.mark.parametrize(
    "option",
    [
        ("--fail-under", "nan"),
        ("--fail-under", "inf"),
        ("--fail-under", "true"),
        ("--fail-under", "1.5"),
        ("--fail-under", "-0.1"),
        ("--tolerance", "nan"),
        ("--tolerance", "inf"),
        ("--metric-tolerance", "nan"),
    ],
)
def test_garbage_options_are_usage_errors(tmp_path, option):
    with pytest.raises(SystemExit) as info:
        _run(tmp_path, CURRENT, *option)
    assert info.value.code == 2


@pytest.mark.parametrize("metric", ["rh_global=abc", "rh_global=nan", "rh_global=0.1,inf", "rh_global=1,2,3", "="])
def test_garbage_metric_tolerance_is_a_usage_error(tmp_path, capsys, metric):
    assert _run(tmp_path, CURRENT, "--metric", metric) == 2
    err = capsys.readouterr().err
    assert "--metric" in err or "tolerance" in err


@pytest.mark.parametrize(
    "value", ["true", "false", '"0.8"', "NaN", "Infinity", "-Infinity", "[0.8]", "{}", "1e400"], ids=str
)
def test_garbage_score_value_is_unusable_input(tmp_path, capsys, value):
    path = _write(tmp_path / "cur.json", CURRENT)
    text = path.read_text().replace('"value": 0.79', f'"value": {value}')
    assert text != path.read_text()
    path.write_text(text)
    assert _run(tmp_path, path, "--allow-missing") == 2
    assert str(path) in capsys.readouterr().err


@pytest.mark.parametrize("value", ["True", "inf", "0.8x"])
def test_garbage_score_value_in_csv_is_unusable_input(tmp_path, value):
    csv = tmp_path / "scores.csv"
    frame = read_scorecard(_write(tmp_path / "c.json", CURRENT))
    frame["value"] = frame["value"].astype(object)
    frame.loc[0, "value"] = value
    frame.to_csv(csv, index=False)
    assert _run(tmp_path, csv, "--allow-missing") == 2


def test_non_text_source_field_is_unusable_input(tmp_path):
    path = _write(tmp_path / "cur.json", CURRENT)
    path.write_text(path.read_text().replace('"source": "A"', '"source": 5', 1))
    assert _run(tmp_path, path, "--allow-missing") == 2


def test_a_metric_typo_is_a_usage_error_naming_close_matches(tmp_path, capsys):
    assert _run(tmp_path, CURRENT, "--allow-missing", "--metric", "rh_globl=0.1") == 2
    err = capsys.readouterr().err
    assert "rh_globl" in err and "did you mean rh_global" in err


@pytest.mark.parametrize("metric", ["period_coverage", "rh_coverage"])
def test_a_model_that_lost_a_year_or_a_region_fails_the_gate_though_its_totals_hold(tmp_path, capsys, metric):
    """Third audit: a CMIP6 file that silently lost 2012-2014 (coverage 1.0 -> 0.8; rh_global
    -0.25 %, within its 10 %) passed the gate. A coverage may rise, never drop."""
    baseline = [*BASELINE, ("A", metric, 1.0, "ok")]
    assert _run(tmp_path, [*baseline[:-1], ("A", metric, 0.8, "ok")], baseline=baseline) == 1
    out = capsys.readouterr().out
    assert "REGRESSED" in out and metric in out and "fell by 0.2" in out
    assert _run(tmp_path, [*baseline[:-1], ("A", metric, 1.0, "ok")], baseline=baseline) == 0
    grown = [*BASELINE, ("A", metric, 0.9, "ok")]
    assert _run(tmp_path, [*grown[:-1], ("A", metric, 1.0, "ok")], baseline=grown) == 0


def test_a_model_whose_time_axis_moved_a_year_fails_the_gate_on_its_first_and_last_year(tmp_path, capsys):
    """Third audit G6: a DGVM's whole 1901-2018 axis read one year late (a wrong reference
    date) moved its own rows by <= 0.3 % and kept period_coverage 1.0: a single-model gate
    passed. Its first and last years are now rows, gated on any change."""
    baseline = [*BASELINE, ("A", "first_year", 1901.0, "ok"), ("A", "last_year", 2018.0, "ok")]
    shifted = [*BASELINE, ("A", "first_year", 1902.0, "ok"), ("A", "last_year", 2019.0, "ok")]
    assert _run(tmp_path, shifted, baseline=baseline) == 1
    out = capsys.readouterr().out
    assert "first_year" in out and "last_year" in out and "CHANGED" in out
    assert _run(tmp_path, baseline, baseline=baseline) == 0


@pytest.mark.parametrize("override", ["rh_coverage", "rh_coverage=0,0.05"])
def test_a_metric_override_keeps_a_coverage_gated_on_its_drop_only(tmp_path, capsys, override):
    """Review: ``--metric rh_coverage=0,0.05`` built a two-sided tolerance, so a coverage that
    rose (more land read) failed the gate; a drop beyond the tolerance still fails."""
    baseline = [*BASELINE, ("A", "rh_coverage", 0.8, "ok")]
    risen = [*BASELINE, ("A", "rh_coverage", 1.0, "ok")]
    assert _run(tmp_path, risen, "--metric", override, baseline=baseline) == 0
    fallen = [*BASELINE, ("A", "rh_coverage", 0.6, "ok")]
    assert _run(tmp_path, fallen, "--metric", override, baseline=baseline) == 1
    assert "REGRESSED" in capsys.readouterr().out


def test_a_coverage_named_bare_in_the_api_is_gated_on_its_drop_only(tmp_path):
    """Review 2 item 5: ``compare_scorecards(metrics=["rh_coverage"])`` built a two-sided
    tolerance (not through the rule ``--metric`` uses), so a coverage rise failed the gate."""
    baseline = [*BASELINE, ("A", "rh_coverage", 0.8, "ok")]
    base = read_scorecard(_write(tmp_path / "b.json", baseline))
    risen = read_scorecard(_write(tmp_path / "r.json", [*BASELINE, ("A", "rh_coverage", 1.0, "ok")]))
    fallen = read_scorecard(_write(tmp_path / "f.json", [*BASELINE, ("A", "rh_coverage", 0.6, "ok")]))
    options = {"metrics": ["rh_coverage"], "metric_tolerance": 0.05, "defaults": False}
    assert compare_scorecards(risen, base, **options).passed
    report = compare_scorecards(fallen, base, **options)
    assert [(row.source, row.metric) for row in report.failures] == [("A", "rh_coverage")]


def test_a_two_sided_metric_beyond_tolerance_is_changed_and_a_falling_score_regressed(tmp_path):
    """A bias from +101.6 to -45.9 may have improved: it is CHANGED (still failing the gate);
    a score or a coverage that fell is REGRESSED. Console, Markdown and JUnit say the same."""
    base = [("A", "rh_taylor_bias", 101.6, "ok"), ("A", "rh_taylor_score", 0.8, "ok"), ("A", "rh_coverage", 1.0, "ok")]
    cur = [("A", "rh_taylor_bias", -45.9, "ok"), ("A", "rh_taylor_score", 0.7, "ok"), ("A", "rh_coverage", 0.9, "ok")]
    report = compare_scorecards(
        read_scorecard(_write(tmp_path / "c.json", cur)), read_scorecard(_write(tmp_path / "b.json", base))
    )
    outcomes = {row.metric: row.outcome for row in report.rows}
    assert outcomes == {"rh_taylor_bias": "changed", "rh_taylor_score": "regressed", "rh_coverage": "regressed"}
    assert not report.passed and len(report.failures) == 3
    from rhbench.report.check_render import format_text, junit_xml, markdown_summary

    assert "| A | rh_taylor_bias | global | 101.6 | -45.9 | -147.5 | **CHANGED** |" in markdown_summary(report)
    assert "| A | rh_taylor_score | global | 0.8 | 0.7 | -0.1 | **REGRESSED** |" in markdown_summary(report)
    cases = ET.fromstring(junit_xml(report)).iter("testcase")
    failures = {
        case.get("name"): case.find("failure").get("type") for case in cases if case.find("failure") is not None
    }
    assert failures == {"rh_taylor_bias": "changed", "rh_taylor_score": "regressed", "rh_coverage": "regressed"}
    assert "1 regressed" not in format_text(report) and "2 regressed, 1 changed" in format_text(report)
