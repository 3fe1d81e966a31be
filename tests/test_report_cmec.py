"""cmec.json: a CMEC metric bundle, validated by the CMIP REF's implementation of the standard."""

from __future__ import annotations

import json

import pytest
from climate_ref_core.pycmec.metric import CMECMetric

from rhbench.errors import ConfigError
from rhbench.report.cmec import CMEC_JSON, cmec_bundle, write_cmec

ROWS = [
    {
        "source": "observations",
        "kind": "reference",
        "metric": "rh_global",
        "region": "global",
        "units": "Pg C yr-1",
        "value": 50.5,
        "status": "ok",
        "reason": "",
    },
    {
        "source": "CLM5.0",
        "kind": "dgvm",
        "metric": "rh_global",
        "region": "global",
        "units": "Pg C yr-1",
        "value": 48.0,
        "status": "ok",
        "reason": "",
    },
    {
        "source": "CLM5.0",
        "kind": "dgvm",
        "metric": "rh_total",
        "region": "tropical",
        "units": "Pg C yr-1",
        "value": 20.0,
        "status": "ok",
        "reason": "",
    },
    {
        "source": "OCN",
        "kind": "dgvm",
        "metric": "rh_global",
        "region": "global",
        "units": "Pg C yr-1",
        "value": None,
        "status": "skipped",
        "reason": "no rh variable",
    },
]
DEFINITIONS = {"rh_global": "area-weighted total of period-mean Rh", "rh_total": "regional total of Rh"}


def test_bundle_validates_against_the_cmip_ref_cmec_model(tmp_path):
    path = write_cmec(tmp_path, ROWS, DEFINITIONS, synthetic=True)
    assert path.name == CMEC_JSON
    bundle = json.loads(path.read_text())
    CMECMetric.model_validate(bundle)
    assert bundle["DIMENSIONS"]["json_structure"] == ["source", "region", "metric"]
    assert bundle["RESULTS"]["CLM5.0"]["global"]["rh_global"] == 48.0
    assert bundle["RESULTS"]["observations"]["tropical"] == {}
    assert bundle["PROVENANCE"]["synthetic"] is True and "SYNTHETIC" in bundle["DISCLAIMER"]["synthetic"]


def test_every_metric_carries_its_units_and_definition_and_skips_keep_their_reason():
    bundle = cmec_bundle(ROWS, DEFINITIONS, synthetic=False)
    metric = bundle["DIMENSIONS"]["metric"]
    assert metric["rh_global"] == {"Name": "rh_global", "units": "Pg C yr-1", "definition": DEFINITIONS["rh_global"]}
    leaf = bundle["RESULTS"]["OCN"]["global"]
    assert leaf["rh_global"] is None
    assert leaf["attributes"]["rh_global"] == {"status": "skipped", "reason": "no rh variable"}
    assert "DISCLAIMER" not in bundle


def test_the_validator_rejects_a_bundle_whose_results_miss_a_declared_region():
    bundle = cmec_bundle(ROWS, DEFINITIONS, synthetic=False)
    del bundle["RESULTS"]["CLM5.0"]["tropical"]
    with pytest.raises(ValueError, match="mismatch"):
        CMECMetric.model_validate(bundle)


def test_a_metric_without_definition_or_with_two_units_is_refused():
    with pytest.raises(ConfigError, match="no definition"):
        cmec_bundle(ROWS, {"rh_global": "x"}, synthetic=False)
    mixed = [dict(ROWS[0]), dict(ROWS[1], units="g C m-2 yr-1")]
    with pytest.raises(ConfigError, match="several units"):
        cmec_bundle(mixed, DEFINITIONS, synthetic=False)


def test_the_demo_run_writes_a_valid_cmec_bundle_matching_its_scorecard(small_demo_run):
    outcome, _ = small_demo_run
    bundle = json.loads((outcome.out_dir / CMEC_JSON).read_text())
    CMECMetric.model_validate(bundle)
    scorecard = json.loads((outcome.out_dir / "scorecard.json").read_text())
    row = next(r for r in scorecard["rows"] if r["metric"] == "rh_global" and r["status"] == "ok")
    assert bundle["RESULTS"][row["source"]][row["region"]]["rh_global"] == pytest.approx(row["value"])
    assert bundle["PROVENANCE"]["synthetic"] is scorecard["synthetic"]
    assert {r["metric"] for r in scorecard["rows"]} == set(bundle["DIMENSIONS"]["metric"])
    undocumented = [m for m, meta in bundle["DIMENSIONS"]["metric"].items() if "no definition" in meta["definition"]]
    assert undocumented == [], "add these metrics to rhbench.metrics.definitions.METRIC_TABLE"


def test_load_status_rows_have_a_definition_and_log_no_warning(caplog):
    from rhbench.metrics.definitions import definitions

    failed = {**ROWS[0], "metric": "load", "units": "", "value": None, "status": "failed", "reason": "broken file"}
    with caplog.at_level("WARNING"):
        bundle = cmec_bundle([*ROWS, failed], definitions(), synthetic=False, undocumented="none yet")
    assert "no definition" not in caplog.text
    assert "status of the source" in bundle["DIMENSIONS"]["metric"]["load"]["definition"]
    assert bundle["RESULTS"][failed["source"]]["global"]["attributes"]["load"]["reason"] == "broken file"
