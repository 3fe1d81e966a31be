"""The one table of metric definitions: it agrees with the README, the rows, the gate and the ensemble."""

from __future__ import annotations

import re
from pathlib import Path

from rhbench.metrics import definitions
from rhbench.metrics.definitions import METRIC_TABLE, METRICS, markdown_table
from rhbench.metrics.ensemble import ENSEMBLE_METRICS
from rhbench.report.gate_rules import DEFAULT_TOLERANCES
from rhbench.uptake import METRICS as TWOBOX_METRICS

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_metrics_table_is_the_metric_table():
    text = README.read_text(encoding="utf-8")
    start = text.index("| metric | units | sources |")
    table = text[start : text.index("\n\n", start)]
    assert table == markdown_table()
    names = re.findall(r"^\| `([^`]+)` \|", table, flags=re.M)
    assert names == [m.name for m in METRIC_TABLE]


def test_every_metric_is_defined_once_with_units_sources_and_regions():
    assert len(METRICS) == len(METRIC_TABLE) == len({m.name for m in METRIC_TABLE})
    for metric in METRIC_TABLE:
        assert metric.units and metric.definition, metric.name
        assert set(metric.sources) <= set(definitions.SOURCE_KINDS), metric.name
        assert set(metric.needs) <= set(definitions.FIELDS), metric.name
        assert metric.regions in ("global", "regions", "global+classes"), metric.name


def test_gate_defaults_twobox_units_and_ensemble_metrics_come_from_the_table():
    assert {name: (t.relative, t.absolute) for name, t in DEFAULT_TOLERANCES.items()} == definitions.default_gate()
    assert DEFAULT_TOLERANCES["rh_global"].relative == 0.10  # a 25 % Rh drop is caught
    assert TWOBOX_METRICS == {m.name: m.units for m in METRIC_TABLE if m.group == "twobox"}
    summarised = {m.name for m in METRIC_TABLE if "ensemble" in m.sources and m.group != "twobox"}
    assert set(ENSEMBLE_METRICS) == summarised
    assert all(METRICS[name].gated for name in ("rh_taylor_score", "tau_soil_taylor_score", "dcTotal_constrained"))
    assert not METRICS["rh_taylor_r"].gated


def test_rows_of_a_run_match_the_table(small_demo_run):
    outcome, _ = small_demo_run
    seen: dict[str, set[bool]] = {}
    for row in outcome.results.rows:
        if row.metric == "load":  # a failed source's single row, not a metric
            continue
        metric = METRICS[row.metric]
        assert row.units == metric.units, row
        assert row.kind in metric.sources, row
        seen.setdefault(row.metric, set()).add(row.region == "global")
    expected = {"global": {True}, "regions": {False}, "global+classes": {True, False}}
    for name, regions in seen.items():
        assert regions == expected[METRICS[name].regions], name
    # every metric of the table is reported by the demo run; rh_coverage only with native-grid totals
    assert set(METRICS) - set(seen) <= {"rh_coverage"}
