"""Files of one series that decode differently, decoded each by its own attributes before the join.

The loader joins the period files of a variable raw (:func:`rhbench.loader.concat_files`) and then
decodes the joined values once (:func:`rhbench.layout.fill_values`), with the attributes the join
kept: the first file's. That is right while every file packs and marks its values alike. Files
packed each with their own ``scale_factor``/``add_offset`` (tools pack each period's range), or
carrying their own ``_FillValue``, ``missing_value`` or valid range, would have every later file
decoded by the first file's numbers: a silent wrong total (thirteenth audit, B13-20: -23 %). Such a
series is decoded here file by file (packed values unpacked, each file's fill values and values
outside its valid range missing), so the join holds values and the single pass has nothing left to
decode.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from rhbench import layout, units
from rhbench.errors import UnitsError

#: The attributes that say how a file's stored values decode.
DECODING = (
    "scale_factor",
    "add_offset",
    "_Unsigned",
    "_FillValue",
    "missing_value",
    "valid_range",
    "valid_min",
    "valid_max",
)


def _decoding(ds: xr.Dataset, name: str) -> tuple:
    """How ``name``'s stored values decode in ``ds``: the decoding attributes (as lists) and the stored type."""
    attrs = ds[name].attrs
    return tuple((key, repr(np.ravel(attrs[key]).tolist()) if key in attrs else None) for key in DECODING) + (
        ds[name].dtype.str,
    )


def decoded_apart(
    datasets: Sequence[xr.Dataset], name: str, paths: Sequence[Path], declared: str | None = None
) -> tuple[list[xr.Dataset], float | None]:
    """``datasets`` as they are and None when every file decodes alike; else each decoded by its own
    attributes (float64, missing values NaN) and the largest packing step of the files (in the files'
    units, :func:`rhbench.layout.packing_step`, for the value check's tolerance; None when none is packed)."""
    _refuse_other_units(datasets, name, paths, declared)
    if len({_decoding(ds, name) for ds in datasets}) < 2:
        return list(datasets), None
    out, steps = [], []
    for ds, path in zip(datasets, paths, strict=True):
        step = layout.packing_step(ds[name])
        steps += [] if step is None else [step]
        decoded, fills = layout.fill_values(ds, name, file=str(path))
        var = decoded[name]
        values = var.astype("float64") if var.dtype.kind in "iu" else var
        if fills:  # the file's own fill values: missing before the join
            values = values.where(~values.isin(list(fills)))
        values.attrs, values.encoding = var.attrs, {}
        out.append(decoded.assign({name: values}))
    return out, max(steps) if steps else None


def _refuse_other_units(
    datasets: Sequence[xr.Dataset], name: str, paths: Sequence[Path], declared: str | None = None
) -> None:
    """Raise :class:`UnitsError` naming the files when they state units that are not one another's
    (``kg m-2 s-1`` then ``g m-2 d-1``): the join keeps the first file's, which would read the others'
    values in it (B13-21; a factor of 12 or 10 passes the plausibility check). A file without units is
    in the ``declared`` units (the plugin's), so beside a file stating others it is refused too (Review
    10, R10-4: the join read it in the first file's). Spellings of one unit (``kg m-2 s-1``,
    ``kg/m2/s``), and units that cannot be parsed (refused later, by name), pass."""
    stated = [str(ds[name].attrs.get("units", "")).strip() for ds in datasets]
    meant = [text or (declared or "").strip() for text in stated]
    first = meant[0]
    for other, own, path in zip(meant[1:], stated[1:], paths[1:], strict=True):
        if other == first or not (first and other):  # no units stated nor declared: nothing to compare
            continue
        try:
            same = abs(units.conversion_factor(other, first) - 1.0) < 1e-12
        except UnitsError:
            continue
        if not same:
            said = [repr(text) if text else f"no units (the declared {declared!r})" for text in (stated[0], own)]
            raise UnitsError(
                "files of a series state different units",
                file=f"{paths[0]}, {path}",
                variable=name,
                found=f"{said[0]} then {said[1]}",
                expected="one units attribute for every file of the series",
                hint="convert the files to one unit first (e.g. cdo mulc, then ncatted on units)",
            )
