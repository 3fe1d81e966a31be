"""What data a run was made of: the one description every output writes (``run.json["data"]``).

Three labels, decided by one rule (:func:`decide`), for a run and for an Rh upscaling alike:

- ``SYNTHETIC``: an input says it is synthetic: the data root is a demo root
  (:func:`rhbench.results.is_synthetic`), an observation or predictor file carries the global
  ``synthetic`` attribute every ``rhbench demo`` file carries, or a site table has a true
  ``synthetic`` column (the demo's does); for a run, also a SYNTHETIC upscaled reference.
- ``UNVERIFIED``: nothing says synthetic, but an input is not the pinned release (its SHA-256
  is not the catalog's: an edited SRDB, a regridded or re-downloaded stack): real-looking data
  that rhbench cannot vouch for; the reason names the files.
- ``REAL``: every input the label rests on is a pinned release.

The versions are gathered from what the run already computed (the input checksums of
``run.json``, the upscaling's ``cv_metrics.json``): nothing is hashed twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

from rhbench import catalog
from rhbench.errors import RhbenchError
from rhbench.registry import Registry
from rhbench.results import UPSCALING_DIR

log = logging.getLogger(__name__)

REAL = "REAL"
UNVERIFIED = "UNVERIFIED"
SYNTHETIC = "SYNTHETIC"
#: The words a ``synthetic`` flag (netCDF attribute, CSV column, provenance text) uses for true.
TRUE_WORDS = ("1", "true", "yes")


def says_true(flag: object) -> bool:
    """Whether a ``synthetic`` flag says true (:data:`TRUE_WORDS`, any case, spaces ignored)."""
    return str(flag).strip().lower() in TRUE_WORDS


#: The attribute the loader gives each variable it read from a file that states a label of itself.
STATED_ATTR = "stated_label"


def stated_by(attrs: Mapping) -> str:
    """The label a data file's global attributes ``attrs`` state of the file: ``SYNTHETIC`` when
    ``synthetic`` is true, else ``UNVERIFIED`` when ``data_label`` says so (an ``rh_rf.nc`` of
    ``rhbench upscale`` carries one), else "" (nothing stated)."""
    if says_true(attrs.get("synthetic", 0)):
        return SYNTHETIC
    return UNVERIFIED if str(attrs.get("data_label", "")).strip().upper() == UNVERIFIED else ""


def strongest(labels: Iterable[str | None]) -> str | None:
    """The least verified of the labels files stated: SYNTHETIC, then UNVERIFIED, then None (one
    read did not learn it), then "" (nothing stated); None when there is none."""
    found = list(labels)
    return next((label for label in (SYNTHETIC, UNVERIFIED, None, "") if label in found), None)


#: The reason a run on a ``rhbench demo`` root gives (and :func:`headline` recognises).
DEMO_REASON = "the data root is the SYNTHETIC demo (rhbench demo)"
#: What each label tells a reader, after the label itself (:func:`headline`).
MEANING = {
    REAL: "pinned releases of real data",
    UNVERIFIED: "real-looking inputs that are not the pinned releases; not a verified result",
    SYNTHETIC: "not a scientific result",
}


def decide(synthetic: list[str], unverified: list[str], real_reason: str) -> tuple[str, str]:
    """The one labelling rule: ``(label, reason)`` from the reasons found. Any ``synthetic``
    reason makes ``SYNTHETIC``; else any ``unverified`` reason ``UNVERIFIED``; else ``REAL``
    with ``real_reason``. The reason lists every reason found, synthetic ones first."""
    reasons = [*synthetic, *unverified]
    label = SYNTHETIC if synthetic else UNVERIFIED if unverified else REAL
    return label, "; ".join(reasons) or real_reason


def of(data: dict | None, synthetic: bool) -> dict:
    """``data`` (a run's description), or for a caller without one the label its ``synthetic``
    flag implies (SYNTHETIC or REAL)."""
    return dict(data) if data else {"data_label": SYNTHETIC if synthetic else REAL}


def weakest(descriptions: list[dict | None]) -> dict:
    """The least verified of several data descriptions (SYNTHETIC, then UNVERIFIED, then REAL),
    e.g. of a gate's baseline and current scorecards; {} when none has a label (CSV
    scorecards, older rhbench: the caller's ``synthetic`` flag then decides, :func:`of`)."""
    found = [d for d in descriptions if d and d.get("data_label") in MEANING]
    order = (SYNTHETIC, UNVERIFIED, REAL)
    return min(found, key=lambda d: order.index(d["data_label"])) if found else {}


def of_scorecards(*attrs: dict) -> dict:
    """``synthetic`` (any scorecard's flag) and ``data`` (:func:`weakest` of their ``meta.data``)
    of scorecards read by :func:`rhbench.report.tables.read_scorecard` (their ``attrs``)."""
    return {
        "synthetic": any(bool(a.get("synthetic")) for a in attrs),
        "data": weakest([(a.get("meta") or {}).get("data") for a in attrs]),
    }


def short(data: dict | None) -> str:
    """The label named by what the data is: ``SYNTHETIC demo data`` (a demo root),
    ``SYNTHETIC data`` (other synthetic inputs), ``UNVERIFIED data``, ``REAL data``."""
    label = str((data or {}).get("data_label", SYNTHETIC))
    label = label if label in MEANING else SYNTHETIC
    demo = " demo" if label == SYNTHETIC and DEMO_REASON in str((data or {}).get("data_label_reason", "")) else ""
    return f"{label}{demo} data"


def headline(data: dict | None) -> str:
    """:func:`short` and what it means, e.g. ``SYNTHETIC demo data: not a scientific result``
    (``REAL data`` alone)."""
    label = str((data or {}).get("data_label", SYNTHETIC))
    return short(data) if label == REAL else f"{short(data)}: {MEANING.get(label, MEANING[SYNTHETIC])}"


#: The upscaling provenance keys copied from ``upscaling/cv_metrics.json``.
UPSCALING_KEYS = (
    "srdb_version",
    "srdb_file",
    "srdb_sha256",
    "predictors_source",
    "predictors_version",
    "predictors_file",
    "predictors_sha256",
    "land_fraction",
)


def describe(
    provenance: dict,
    files: dict[str, dict],
    registry: Registry,
    staging: Path,
    *,
    demo_root: bool,
    read: Mapping[str, list[str | None]] | None = None,
) -> dict:
    """The data description of a run: ``data_label`` (:func:`decide`), ``data_label_reason``,
    the upscaling's data versions (SRDB, predictor stack, land fraction; when it ran) and
    ``observations``: each observation product read, with its catalog version and file SHA-256.

    ``provenance``: the run record (:func:`rhbench.provenance.record`, its ``inputs`` checksums
    reused); ``files``: the run's input files (:func:`rhbench.provenance.input_files`, the
    ones hashed there); ``staging``: the run's output folder
    (its ``upscaling/cv_metrics.json``);
    ``demo_root``: the data root is a SYNTHETIC demo root (or the run is the demo); ``read``:
    the observation products the run read, each with the label its files stated when read
    (:attr:`rhbench.results.Failures.read`; None: not known, the file is opened): only these count,
    so a damaged product the run never read leaves the label as it is. Without ``read`` every
    product present in the data root counts (the cautious rule).
    """
    upscaling = _upscaling(staging / UPSCALING_DIR / "cv_metrics.json")
    products = observation_products(provenance.get("inputs", {}), files, registry, read)
    synthetic, unverified = [DEMO_REASON] if demo_root else [], []
    made = upscaling.get("data_label", SYNTHETIC)
    if upscaling and made != REAL:
        why = f"the reference Rh upscaling is {made} ({upscaling.get('data_label_reason', 'unlabelled')})"
        (unverified if made == UNVERIFIED else synthetic).append(why)
    marked = [name for name, info in products.items() if info.get("stated") == SYNTHETIC]
    if marked and not demo_root:
        synthetic.append(f"observation file(s) marked synthetic: {', '.join(marked)}")
    stated = [name for name, info in products.items() if info.get("stated") == UNVERIFIED]
    if stated and not demo_root:
        unverified.append(f"observation file(s) labelled UNVERIFIED in their own attributes: {', '.join(stated)}")
    unpinned = [name for name, info in products.items() if info.get("pinned") is False]
    if unpinned and not demo_root:  # e.g. a corrupt or edited SRDB table whose reference failed
        unverified.append(
            f"observation file(s) not the pinned release (SHA-256 not the catalog's): {', '.join(unpinned)}"
        )
    if not demo_root:
        models = marked_models(files, registry, read)
        said = {SYNTHETIC: (synthetic, "marked synthetic"), UNVERIFIED: (unverified, "labelled UNVERIFIED")}
        for label_, (into, how) in said.items():
            if names := [name for name, stated in models.items() if stated == label_]:
                into.append(f"model file(s) {how} in their own attributes: {', '.join(names)}")
    label, reason = decide(synthetic, unverified, _real_reason(upscaling))
    data: dict = {"data_label": label, "data_label_reason": reason}
    data.update({k: upscaling[k] for k in UPSCALING_KEYS if k in upscaling})
    data["observations"] = {name: {k: v for k, v in info.items() if k != "stated"} for name, info in products.items()}
    return data


def _real_reason(upscaling: dict) -> str:
    if upscaling:
        return (
            f"not a demo root; reference Rh upscaled from real pinned data ({upscaling.get('data_label_reason', '')})"
        )
    return "not a demo root; no observation file is marked synthetic"


def _upscaling(path: Path) -> dict:
    """The upscaling's provenance from its ``cv_metrics.json``, or {} when the run built none."""
    if not path.is_file():
        return {}
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # written by this run: unreadable means no label, i.e. not REAL
        log.warning("cannot read the upscaling provenance %s: %s", path, exc)
        return {"data_label": SYNTHETIC, "data_label_reason": f"unreadable {path.name}"}
    return metrics if isinstance(metrics, dict) else {}


def observation_products(
    inputs: dict, files: dict, registry: Registry, read: Mapping[str, list[str | None]] | None = None
) -> dict[str, dict]:
    """Each observation product read (its files present; with ``read``, only those it names):
    catalog version, file SHA-256 (from ``inputs``, the run's checksums; ``files``:
    :func:`rhbench.provenance.input_files`), ``pinned`` (the SHA-256 is the catalog's) and
    ``stated``: the label its files state of themselves, as ``read`` recorded it, else
    :func:`rhbench.upscaling.inputs.stated_label` (one open; SYNTHETIC, UNVERIFIED or "")."""
    products: dict[str, dict] = {}
    for name, source in sorted(registry.sources.items()):
        sums = inputs.get(name, {})
        if source.kind == "dgvm" or not sums or (read is not None and name not in read):
            continue
        present = {v: s for v, s in sums.items() if isinstance(s, str) and s.startswith(("sha256:", "fingerprint:"))}
        if not present:
            continue
        sums_ = set(present.values())  # one file for every variable: one checksum
        info: dict = {"kind": source.kind, "sha256": sums_.pop() if len(sums_) == 1 else present}
        try:
            entry = catalog.entry_for(source)
        except RhbenchError:
            entry = None
        if entry is not None:
            if entry.metadata.get("version"):
                info["version"] = str(entry.metadata["version"])
            pinned = str(entry.metadata.get("sha256", "")).lower()
            if pinned and all(s.startswith("sha256:") for s in present.values()):  # a fingerprint cannot tell
                info["pinned"] = f"sha256:{pinned}" in set(present.values())
        known = None if read is None else strongest(read[name])
        info["stated"] = known if known is not None else _stated(name, present, files)
        products[name] = info
    return products


def marked_models(files: dict, registry: Registry, read: Mapping[str, list[str | None]] | None) -> dict[str, str]:
    """The models the run read (``read``; without it every model with files) whose files state a
    label of themselves (global attribute ``synthetic = 1``, or ``data_label = UNVERIFIED``): a model's
    numbers are no more REAL than its files say (each present file opened once)."""
    from rhbench.upscaling import inputs  # the one "file says what it is" rule

    marked = {}
    for name, source in sorted(registry.sources.items()):
        if source.kind != "dgvm" or (read is not None and name not in read):
            continue
        listed = [paths for paths in files.get(name, {}).values() if not isinstance(paths, str)]
        stated = strongest([inputs.stated_label(p) for paths in listed for p in paths if Path(p).is_file()])
        if stated:
            marked[name] = stated
    return marked


def _stated(name: str, present: dict, files: dict) -> str:
    """The label the files of product ``name`` state of themselves, each opened once
    (:func:`rhbench.upscaling.inputs.stated_label`): for a product the run did not learn it from."""
    from rhbench.upscaling import inputs  # the one "file says what it is" rule

    paths = [p for v in present for p in (files.get(name, {}).get(v) or []) if not isinstance(p, str)]
    return strongest([inputs.stated_label(p) for p in paths]) or ""


def summary(data: dict) -> str:
    """One line naming the label and the versions, e.g. ``REAL data: SRDB-V5 v20200511, Jian2020 c0072c0``."""
    if data.get("data_label", SYNTHETIC) != REAL:
        meaning = MEANING.get(str(data.get("data_label")), MEANING[SYNTHETIC])
        return f"{short(data)}, {meaning}: {data.get('data_label_reason', 'unlabelled')}"
    parts = [str(data["srdb_version"])] if data.get("srdb_version") else []
    if data.get("predictors_source"):
        parts.append(f"{data['predictors_source']} {str(data.get('predictors_version', ''))[:7]}".strip())
    others = [f"{n} {i['version']}" for n, i in data.get("observations", {}).items() if i.get("version")]
    parts += [o for o in others if o.split()[0] not in " ".join(parts)]
    return f"{headline(data)}: " + (", ".join(parts) if parts else "versions not recorded")


def attributes(data: dict) -> dict[str, str]:
    """The description as text attributes (netCDF global attributes; CF allows any text attribute)."""
    attrs = {
        "data_label": str(data.get("data_label", SYNTHETIC)),
        "data_label_reason": str(data.get("data_label_reason", "")),
    }
    attrs.update({k: str(data[k]) for k in UPSCALING_KEYS if k in data})
    attrs["data_versions"] = summary(data)
    return attrs
