"""The tidy result of a benchmark run: score rows plus the datasets behind them."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import xarray as xr

log = logging.getLogger(__name__)

#: Row statuses: a number was computed; the source failed to load or compute; the
#: metric needs a variable the source does not provide; the observation product is not used
#: by this run (not selected, or its files are not in the data root): not a failure.
STATUSES = ("ok", "failed", "skipped", "absent")
#: The observations a row's number can rest on (:attr:`ScoreRow.needs`): the reference Rh (its
#: map, land mask and regions: every comparison, every value on its land) and the observed cSoil
#: (the products' mean and the observed turnover times).
REFERENCE_RH, OBSERVED_CSOIL = "reference_rh", "observed_csoil"
#: Sources of the multi-model mean and spread (SD, ddof=1) across DGVMs.
ENSEMBLE_MEAN, ENSEMBLE_SD = "ensemble_mean", "ensemble_sd"
#: Sources of the mean and SD across the prior Rh products (kind ``ensemble``; paper: 50.5 +- 4.9 Pg C yr-1).
PRODUCTS_MEAN, PRODUCTS_SD = "products_mean", "products_sd"
#: File ``rhbench demo`` leaves in every data root it writes (``{"synthetic": true, ...}``): a
#: run on such a root is SYNTHETIC and labelled so in every output.
SYNTHETIC_MARKER = "demo.json"


def is_synthetic(root: Path | None) -> bool:
    """True when ``root`` was written by ``rhbench demo`` (its marker file says so): SYNTHETIC data."""
    marker = Path(root) / SYNTHETIC_MARKER if root is not None else None
    if marker is None or not marker.is_file():
        return False
    try:
        return bool(json.loads(marker.read_text(encoding="utf-8")).get("synthetic", True))
    except (OSError, ValueError, AttributeError):  # an unreadable marker still marks a demo root
        return True


#: Sub-folder of a run's output folder holding the Random Forest upscaling's products and figures.
UPSCALING_DIR = "upscaling"


@dataclass(frozen=True)
class ScoreRow:
    """One number of the scorecard: ``source`` x ``metric`` x ``region``.

    ``value`` is in ``units``; NaN when ``status`` is not ``ok`` (``reason`` says why).
    ``needs``: the observations the number is computed from (:data:`REFERENCE_RH`,
    :data:`OBSERVED_CSOIL`), set where the row is built (:func:`needing`); empty for a number a
    source computes from its own files alone. A failed reference fails the rows that need it
    (:func:`rhbench.failed_reference.fail_rows_needing_it`). Not written to the scorecard.
    """

    source: str
    kind: str
    metric: str
    region: str
    units: str
    value: float
    status: str = "ok"
    reason: str = ""
    needs: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def to_dict(self) -> dict:
        """A JSON-ready mapping (NaN becomes None); ``needs`` is the run's business, not written."""
        row = asdict(self)
        row.pop("needs")
        if isinstance(row["value"], float) and math.isnan(row["value"]):
            row["value"] = None
        return row


def needing(rows: list[ScoreRow], *observations: str) -> list[ScoreRow]:
    """``rows`` marked as computed from ``observations`` (:attr:`ScoreRow.needs`, added to any already set)."""
    extra = frozenset(observations)
    return [r if extra <= r.needs else replace(r, needs=r.needs | extra) for r in rows]


@dataclass
class Results:
    """Everything a run computed: score rows and named datasets (maps, series)."""

    rows: list[ScoreRow] = field(default_factory=list)
    datasets: dict[str, xr.Dataset] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    #: Each DGVM's period-mean ``rh`` and ``csoil`` (lat, lon) its tau_soil rows and maps are computed
    #: from (over the years both have: :mod:`rhbench.metrics.map_years`): the ensemble-mean maps
    #: average them. Kept in memory, not written.
    tau_fields: dict[str, dict[str, xr.DataArray]] = field(default_factory=dict)

    def extend(self, other: Results) -> None:
        """Append another result's rows, datasets, failures and tau fields to this one."""
        self.rows.extend(other.rows)
        self.datasets.update(other.datasets)
        self.failures.update(other.failures)
        self.tau_fields.update(other.tau_fields)


class Failures:
    """The sources that failed during a run, with their reasons: one collector passed to every stage.

    ``record`` logs the failure once; a source keeps its first reason (the root cause).
    """

    def __init__(self, reasons: dict[str, str] | None = None) -> None:
        self.reasons: dict[str, str] = dict(reasons or {})
        #: Observation products the run does not use (not selected or not present), and why.
        self.absent: dict[str, str] = {}
        #: Observation products and models the run read (or tried to), with the labels their files stated
        #: of themselves at each read (:func:`rhbench.datalabel.stated_by`; None: not known, e.g. it failed).
        self.read: dict[str, list[str | None]] = {}

    def record_read(self, name: str, stated: str | None) -> None:
        """Record that the run read observation product (or model) ``name`` whose files state ``stated``."""
        self.read.setdefault(name, []).append(stated)

    def record_absent(self, name: str, reason: str, *, logged: bool = True) -> None:
        """Record that observation product ``name`` (or a DGVM without files, :func:`rhbench.selection.model_absence`)
        is not used by this run (not a failure); ``logged``: say so in the log (else the caller sums them up)."""
        if logged:
            log.info("product %s not used: %s", name, reason)
        self.absent.setdefault(name, reason)

    def say_absent(self, names: list[str]) -> None:
        """One INFO line per reason for the observation products ``names`` not used (recorded with
        ``logged=False``): "4 observation product(s) not used (not in the data root): ..."."""
        groups: dict[str, list[str]] = {}
        for name in names:
            groups.setdefault(self.absent[name].split(": ")[0], []).append(name)
        for why, group in groups.items():
            log.info(
                "%d observation product(s) not used (%s): %s; `rhbench data` lists the files each expects",
                len(group),
                why,
                ", ".join(sorted(group)),
            )

    def record(self, name: str, reason: object) -> None:
        """Record that source ``name`` failed because of ``reason`` (an exception or a text)."""
        text = str(reason)
        log.error("source %s failed: %s", name, text)
        self.reasons.setdefault(name, text)

    def __contains__(self, name: object) -> bool:
        return name in self.reasons

    def __bool__(self) -> bool:
        return bool(self.reasons)

    def get(self, name: str) -> str | None:
        """The reason ``name`` failed, or None."""
        return self.reasons.get(name)

    def rows(self, kinds: dict[str, str]) -> list[ScoreRow]:
        """One ``load`` row per failed (``failed``) or unused (``absent``) source; ``kinds``: source -> kind."""
        failed = [(name, "failed", reason) for name, reason in self.reasons.items()]
        absent = [(name, "absent", reason) for name, reason in self.absent.items() if name not in self.reasons]
        return [
            ScoreRow(name, kinds.get(name, "plugin"), "load", "global", "", float("nan"), status=status, reason=reason)
            for name, status, reason in sorted(failed + absent)
        ]


@dataclass
class RunRecord:
    """What every output writer (:data:`rhbench.outputs.WRITERS`) receives.

    ``staging`` is the folder to write into; ``provenance`` the run record of ``run.json``
    (versions, config, plugins, input checksums, failures); ``synthetic`` says the inputs
    are SYNTHETIC; every writer labels data that are not REAL (:attr:`data`: SYNTHETIC or
    UNVERIFIED, :func:`rhbench.datalabel.headline`).
    """

    staging: Path
    results: Results
    provenance: dict
    synthetic: bool

    @property
    def config(self) -> dict:
        """The run configuration as recorded (JSON-ready)."""
        return self.provenance.get("config", {})

    @property
    def data(self) -> dict:
        """What data the run was made of (:func:`rhbench.datalabel.describe`): label, reason, versions."""
        from rhbench import datalabel

        return datalabel.of(self.provenance.get("data"), self.synthetic)
