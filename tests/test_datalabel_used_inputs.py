"""The data label rests only on the inputs the run read, and uses what the run learnt while reading.

Before: a pinned product in the data root that is not its pinned release (an edited SRDB table)
made every run UNVERIFIED, even a run that never read it (a prebuilt reference); and the label
opened every observation file again at the run's end to read what it states of itself.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from rhbench import datalabel, loader
from rhbench.config import RunConfig
from rhbench.pipeline import run
from rhbench.registry import build_registry
from rhbench.results import Failures
from rhbench.sources import Source, Var
from tests.conftest import RELIABILITY_MODELS, SMALL_DEMO_RESOLUTION

UNPINNED = "sha256:" + "0" * 64


def _describe(tmp_path, read: dict | None) -> dict:
    """A run's description whose data root holds an SRDB table that is not the pinned release
    and a prebuilt reference ``rh_rf.nc`` (stating nothing)."""
    table, product = tmp_path / "srdb-data.csv", tmp_path / "rh_rf.nc"
    table.write_text("edited,table\n1,2\n")
    xr.Dataset({"rh": (("lat", "lon"), np.ones((2, 2)))}, coords={"lat": [0.0, 1.0], "lon": [0.0, 1.0]}).to_netcdf(
        product
    )
    inputs = {"SRDB-V5": {"rh": UNPINNED}, "RF-Rh": {"rh": UNPINNED}}
    files = {"SRDB-V5": {"rh": [table]}, "RF-Rh": {"rh": [product]}}
    return datalabel.describe({"inputs": inputs}, files, build_registry(), tmp_path, demo_root=False, read=read)


def test_an_unused_damaged_pinned_product_leaves_the_run_real(tmp_path):
    """The run read only the prebuilt reference: the edited SRDB beside it plays no part."""
    data = _describe(tmp_path, {"RF-Rh": [""]})
    assert data["data_label"] == "REAL", data["data_label_reason"]
    assert set(data["observations"]) == {"RF-Rh"}


def test_a_used_damaged_pinned_product_makes_the_run_unverified(tmp_path):
    data = _describe(tmp_path, {"RF-Rh": [""], "SRDB-V5": [""]})
    assert data["data_label"] == "UNVERIFIED"
    assert "SRDB-V5" in data["data_label_reason"] and "not the pinned release" in data["data_label_reason"]


def test_without_a_record_of_reads_every_present_product_counts(tmp_path):
    """A caller that does not say what it read (older callers, rhbench's own tests) keeps the cautious rule."""
    assert _describe(tmp_path, None)["data_label"] == "UNVERIFIED"


def test_the_label_a_file_stated_when_read_is_not_read_again(tmp_path, monkeypatch):
    from rhbench.upscaling import inputs

    opened = []
    monkeypatch.setattr(inputs, "stated_label", lambda path: opened.append(path) or "")
    data = _describe(tmp_path, {"RF-Rh": ["", "UNVERIFIED"]})
    assert data["data_label"] == "UNVERIFIED" and "RF-Rh" in data["data_label_reason"] and opened == []
    _describe(tmp_path, {"RF-Rh": ["", None]})  # read, but what it states is not known (e.g. it failed): opened once
    assert [p.name for p in opened] == ["rh_rf.nc"]


@pytest.mark.parametrize(
    ("attrs", "stated"), [({"synthetic": 1}, "SYNTHETIC"), ({"data_label": "UNVERIFIED"}, "UNVERIFIED"), ({}, None)]
)
def test_the_loader_keeps_what_a_file_states_of_itself(tmp_path, attrs, stated):
    path = tmp_path / "rh.nc"
    data = xr.DataArray(np.ones((2, 2)), dims=("lat", "lon"), coords={"lat": [0.0, 1.0], "lon": [0.0, 1.0]})
    data.assign_attrs(units="kg m-2 s-1").to_dataset(name="rh").assign_attrs(attrs).to_netcdf(path)
    source = Source("P", "rh", "test.P", {"rh": Var("rh", "kg m-2 s-1")}, "test")
    read = loader.open_variable(source, "rh", path)
    assert read.attrs.get(datalabel.STATED_ATTR) == stated
    assert datalabel.stated_by(attrs) == (stated or "")


def test_the_reads_of_a_product_give_its_least_verified_stated_label():
    failures = Failures()
    for stated in ("", "UNVERIFIED", ""):
        failures.record_read("A", stated)
    failures.record_read("B", "")
    failures.record_read("B", None)
    assert failures.read == {"A": ["", "UNVERIFIED", ""], "B": ["", None]}
    assert datalabel.strongest(failures.read["A"]) == "UNVERIFIED"
    assert datalabel.strongest(failures.read["B"]) is None  # one read did not learn it: the file is opened
    assert datalabel.strongest(["", "SYNTHETIC", None]) == "SYNTHETIC" and datalabel.strongest([""]) == ""


def test_a_run_lists_only_the_observation_products_it_read(demo_root, tmp_path):
    """A run limited to one cSoil product and no prior Rh product records only what it read."""
    config = RunConfig(
        data_root=demo_root,
        out=tmp_path / "out",
        resolution=SMALL_DEMO_RESOLUTION,
        quick_upscaling=True,
        demo=False,
        n_draws=30,
        models=RELIABILITY_MODELS[:1],
        products=("WISE30sec",),
        csoil_products=("WISE30sec",),
    )
    run(config)
    observations = json.loads((tmp_path / "out" / "run.json").read_text())["data"]["observations"]
    kinds = {name: info["kind"] for name, info in observations.items()}
    assert "WISE30sec" in kinds and not {"Hashimoto2015", "Konings2019", "Tang2020", "Warner2019"} & set(kinds)
    assert [n for n, k in kinds.items() if k == "csoil"] == ["WISE30sec"]
