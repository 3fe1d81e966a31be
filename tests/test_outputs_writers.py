"""The output writers: one list, one function per module; a new format is a module plus one line."""

from __future__ import annotations

import json
import sys

from rhbench import outputs
from rhbench.config import RunConfig
from rhbench.registry import Registry
from rhbench.results import Results, ScoreRow

PLUGIN_WRITER = """
import json
def write_run(run):
    rows = [r.metric for r in run.results.rows]
    (run.staging / "mine.json").write_text(json.dumps({"synthetic": run.synthetic, "rows": rows}))
"""


def _results() -> Results:
    return Results(rows=[ScoreRow("A", "dgvm", "rh_global", "global", "Pg C yr-1", 50.0)])


def test_every_builtin_writer_resolves_to_a_function():
    assert len(outputs.WRITERS) == len(set(outputs.WRITERS)) == 5
    for spec in outputs.WRITERS:
        assert callable(outputs.writer(spec)), spec


def test_a_new_writer_is_one_module_and_one_line(tmp_path, monkeypatch):
    (tmp_path / "my_writer.py").write_text(PLUGIN_WRITER)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(outputs, "WRITERS", (*outputs.WRITERS, "my_writer:write_run"))
    staging = tmp_path / "out"
    staging.mkdir()
    run = outputs.write_all(
        staging, _results(), registry=Registry(), config=RunConfig(), data_root=tmp_path, synthetic=True, seconds=1.0
    )
    assert json.loads((staging / "mine.json").read_text()) == {"synthetic": True, "rows": ["rh_global"]}
    written = {p.name for p in staging.iterdir()}
    assert {"scorecard.json", "scores.csv", "cmec.json", "run.json", "index.html", "mine.json"} <= written
    assert json.loads((staging / "run.json").read_text()) == json.loads(json.dumps(run.provenance, default=str))
    sys.modules.pop("my_writer", None)
