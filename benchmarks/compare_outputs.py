"""Are two run output folders the same numbers? The check behind issue 18's "every output identical".

Usage::

    python -m benchmarks.compare_outputs OLD_OUT NEW_OUT

Each argument is a folder written by ``rhbench run --out`` (or a folder of such folders: the case
folders both hold are compared). Compared, per case: ``scorecard.json`` (its rows and every key
but ``meta``; ``meta``'s differing keys are listed, the output path and data root normally),
``scores.csv`` byte for byte, ``results.nc`` every group, variable, value (NaN equal to NaN, dtype
too) and attribute (but the ``history`` time stamp), ``cmec.json`` with the output path
normalised; ``index.html`` is reported (stamps, paths and seconds blanked) but does not decide.
Exit 0 when every case is equal, 1 otherwise. Review 9 moved it here from a helper's /tmp script
(``/tmp/speed9/compare.py``), which docs/performance-history.md cites for session 9-10's claims.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np


def _groups(path: Path) -> list[str | None]:
    import netCDF4

    out: list[str | None] = [None]
    with netCDF4.Dataset(path) as root:

        def walk(group: object, prefix: str) -> None:
            for name, sub in group.groups.items():
                out.append(f"{prefix}/{name}".lstrip("/"))
                walk(sub, f"{prefix}/{name}")

        walk(root, "")
    return out


def _attrs(attrs: dict) -> str:
    return json.dumps({k: v for k, v in attrs.items() if k != "history"}, default=repr, sort_keys=True)


def results_equal(a: Path, b: Path) -> tuple[bool, str]:
    """(equal, what differs or how much was compared) of two ``results.nc`` files."""
    import xarray as xr

    groups_a, groups_b = _groups(a), _groups(b)
    if groups_a != groups_b:
        return False, f"groups {groups_a} vs {groups_b}"
    count = 0
    for group in groups_a:
        with (
            xr.open_dataset(a, group=group, decode_times=False) as da,
            xr.open_dataset(b, group=group, decode_times=False) as db,
        ):
            if set(da.variables) != set(db.variables):
                return False, f"{group}: variables differ"
            if _attrs(da.attrs) != _attrs(db.attrs):
                return False, f"{group}: attributes differ"
            for name in da.variables:
                x, y = da[name].values, db[name].values
                same = x.dtype == y.dtype and np.array_equal(x, y, equal_nan=x.dtype.kind in "fc")
                if not same or _attrs(da[name].attrs) != _attrs(db[name].attrs):
                    return False, f"{group}/{name} differs"
                count += 1
    return True, f"{count} variables in {len(groups_a)} groups"


def _normalised(text: str, root: Path) -> str:
    text = text.replace(str(root), "OUT")
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?", "TIME", text)
    return re.sub(r'("?seconds"?\s*[:=]\s*|<dt>seconds</dt><dd>)[0-9.e-]+', r"\1N", text)


def compare_case(a: Path, b: Path) -> tuple[bool, str]:
    """(equal, a one-line report) of two run output folders."""
    cards = [json.loads((folder / "scorecard.json").read_text()) for folder in (a, b)]
    for card in cards:
        card["meta"]["config"]["out"] = "OUT"
        card.pop("sha256", None)
    rows_equal = cards[0]["rows"] == cards[1]["rows"]
    rest = [{k: v for k, v in card.items() if k != "meta"} for card in cards]
    rest_equal = rest[0] == rest[1]
    meta_diff = sorted(k for k in cards[0]["meta"] if cards[0]["meta"][k] != cards[1]["meta"].get(k))
    nc_equal, nc_note = results_equal(a / "results.nc", b / "results.nc")
    cmec = _normalised((a / "cmec.json").read_text(), a) == _normalised((b / "cmec.json").read_text(), b)
    html = _normalised((a / "index.html").read_text(), a) == _normalised((b / "index.html").read_text(), b)
    csv = (a / "scores.csv").read_bytes() == (b / "scores.csv").read_bytes()
    equal = rows_equal and rest_equal and nc_equal and cmec and csv
    report = (
        f"rows {len(cards[0]['rows'])} scorecard {'equal' if rows_equal and rest_equal else 'DIFF'} "
        f"(meta keys differing: {meta_diff}), scores.csv {'identical' if csv else 'DIFF'}, "
        f"results.nc {'equal' if nc_equal else 'DIFF'} ({nc_note}), cmec.json {'equal' if cmec else 'DIFF'}, "
        f"index.html {'identical (normalised)' if html else 'differs'}"
    )
    return equal, report


def main(argv: list[str] | None = None) -> int:
    """Compare the run folders (or the case folders inside them) named in ``argv``; 0 when all equal."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__.split("\n\n")[1].strip())
        return 2
    a, b = Path(args[0]), Path(args[1])
    if (a / "scorecard.json").is_file():
        pairs = [(a.name, a, b)]
    else:
        pairs = [(p.name, p, b / p.name) for p in sorted(a.iterdir()) if p.is_dir() and (b / p.name).is_dir()]
    bad = 0
    for name, left, right in pairs:
        equal, report = compare_case(left, right)
        bad += not equal
        print(f"{name}: {report}")
    return 1 if bad or not pairs else 0


if __name__ == "__main__":
    sys.exit(main())
