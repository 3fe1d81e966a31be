"""``results.nc``: the run's maps and series as a CF-1.8 netCDF-4 file, one group per dataset.

Every data variable gets its ``long_name`` and CF/UDUNITS ``units`` (and a CF
``standard_name`` where one exists) from :data:`VARIABLES`; latitude and longitude get CF
axis attributes and cell ``bounds``; the root group carries the global attributes
(``Conventions``, ``title``, ``source``, ``history``, ``synthetic``, ``rhbench_version``).

Units are written the UDUNITS way: carbon is named by the variable, not the unit
(``g m-2 yr-1`` of carbon, as CF's ``*_carbon_flux`` standard names do), because UDUNITS
reads the ``C`` of rhbench's ``g C m-2 yr-1`` as coulomb.

CF checkers do not descend into netCDF-4 groups; the tests check the root group and each
group as a file of its own (see ``tests/test_report_cfnetcdf.py``).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import xarray as xr

import rhbench
from rhbench import datalabel
from rhbench.fileops import write_atomic
from rhbench.importcost import no_distributed_probe
from rhbench.report import manifest
from rhbench.results import RunRecord

#: The file name of the CF netCDF results in a run's output folder (one of the gated outputs).
RESULTS_NC = manifest.RESULTS_NC

log = logging.getLogger(__name__)

CONVENTIONS = "CF-1.8"
BOUNDS_DIM = "nv"
_FLUX = "g m-2 yr-1"
_RH = "heterotrophic_respiration_carbon_flux"
_CSOIL = "soil_mass_content_of_carbon"

#: (group, variable) -> attributes. A variable of any group may be listed under group "*".
VARIABLES: dict[tuple[str, str], dict[str, object]] = {
    ("maps", "rh"): {"long_name": "period-mean soil heterotrophic respiration", "units": _FLUX, "standard_name": _RH},
    ("maps", "tau_soil"): {"long_name": "soil carbon turnover time (cSoil + cLitter) / Rh", "units": "yr"},
    ("maps", "rh_bias"): {"long_name": "Rh of the source minus the reference Rh", "units": _FLUX},
    ("maps", "tau_bias"): {"long_name": "tau_soil of the source minus the observed tau_soil", "units": "yr"},
    ("maps", "attribution"): {
        "long_name": "tau_soil bias attribution class: whose bias alone explains more of the tau_soil bias",
        "flag_values": np.array([1, 2], dtype=np.float32),
        "flag_meanings": "rh_dominated csoil_dominated",
    },
    ("zonal", "rh"): {"long_name": "zonal area-weighted mean soil heterotrophic respiration", "units": _FLUX},
    ("zonal", "csoil"): {"long_name": "zonal area-weighted mean soil + litter carbon", "units": "kg m-2"},
    ("zonal", "tau_soil"): {"long_name": "zonal soil carbon turnover time (ratio of zonal means)", "units": "yr"},
    ("observations", "csoil"): {
        "long_name": "observed soil + litter carbon of each product",
        "units": "kg m-2",
        "standard_name": _CSOIL,
    },
    ("observations", "csoil_zonal"): {
        "long_name": "zonal area-weighted mean of each observed cSoil product",
        "units": "kg m-2",
    },
    ("observations", "rh_sd"): {"long_name": "SD of Rh across the Random Forest ensemble members", "units": _FLUX},
    ("observations", "product"): {"long_name": "observation product"},
    ("*", "rh_years"): {"long_name": "years of each source's rh maps: the years of its Rh rows' period mean"},
    ("*", "csoil_years"): {"long_name": "years of each source's csoil maps: the years of its cSoil rows' period mean"},
    ("*", "tau_soil_years"): {
        "long_name": "years of each source's tau_soil, tau_bias and attribution maps: the years its tau_soil "
        "rows' cSoil and Rh means are both over"
    },
    ("*", "tau_veg_years"): {
        "long_name": "years of each source's tau_veg maps: the years its tau_veg rows' cVeg and litterfall means "
        "are both over"
    },
    ("maps", "tau_veg"): {"long_name": "vegetation carbon turnover time cVeg / litterfall", "units": "yr"},
    ("zonal", "tau_veg"): {"long_name": "zonal vegetation carbon turnover time (ratio of zonal means)", "units": "yr"},
    ("*", "source"): {"long_name": "benchmarked source (model, product or reference)"},
    ("*", "kind"): {"long_name": "kind of source (dgvm, rh, reference, ensemble)"},
    ("*", "region"): {"long_name": "region of the 2-box constraint (global or vegetation class)"},
    ("*", "year"): {"long_name": "calendar year", "units": "1"},
}
_TWOBOX = {
    "cTotal": "total land carbon (vegetation + soil) of the 2-box model",
    "dcTotal": "change of total land carbon since the first year",
    "dcVeg": "change of vegetation carbon since the first year",
    "dcSoil": "change of soil carbon since the first year",
}
for _pool, _text in _TWOBOX.items():
    for _suffix, _how in (
        ("unconstrained", "2-box emulation with the model's own turnover times"),
        ("constrained", "2-box emulation with observation-constrained turnover times (Monte Carlo mean)"),
        ("constrained_sd", "SD across the Monte Carlo draws of the constrained emulation"),
    ):
        VARIABLES[("twobox", f"{_pool}_{_suffix}")] = {"long_name": f"{_text}: {_how}", "units": "Pg"}
VARIABLES[("twobox", "dcTotal_dgvm")] = {
    "long_name": "change of total land carbon simulated by the DGVM",
    "units": "Pg",
}

#: Attributes a variable keeps from the run besides those of :data:`VARIABLES`: ``years``, the
#: coordinate naming the years of each source's map (:mod:`rhbench.metrics.map_years`).
KEPT_ATTRIBUTES = ("years",)
#: Attributes a group keeps: ``period``, the benchmark period of its maps; ``monte_carlo``, the draws
#: behind the 2-box constrained series (:func:`rhbench.constraint.monte_carlo_text`).
GROUP_ATTRIBUTES = ("period", "monte_carlo")

_LAT = {"standard_name": "latitude", "long_name": "latitude", "units": "degrees_north", "axis": "Y"}
_LON = {"standard_name": "longitude", "long_name": "longitude", "units": "degrees_east", "axis": "X"}


def _attributes(group: str, name: str, current: Mapping) -> dict[str, object]:
    known = VARIABLES.get((group, name)) or VARIABLES.get(("*", name))
    if known is not None:
        return dict(known)
    log.warning("results.nc: %s/%s has no entry in rhbench.report.cfnetcdf.VARIABLES", group, name)
    units = {"units": udunits(str(current["units"]))} if current.get("units") else {}
    return {"long_name": str(current.get("long_name") or name), **units}


def udunits(units: str) -> str:
    """rhbench's carbon units in UDUNITS spelling: ``g C m-2 yr-1`` -> ``g m-2 yr-1`` (``C`` would be coulomb)."""
    return re.sub(r"\b([kMGTP]?g) ?C\b", r"\1", units)


def _bounds(values: np.ndarray) -> np.ndarray:
    """(n, 2) cell edges halfway between centres, the outer ones mirrored (degrees)."""
    if values.size < 2:
        return np.array([[values[0] - 0.5, values[0] + 0.5]]) if values.size else np.empty((0, 2))
    mids = (values[1:] + values[:-1]) / 2.0
    edges = np.concatenate([[2 * values[0] - mids[0]], mids, [2 * values[-1] - mids[-1]]])
    return np.stack([edges[:-1], edges[1:]], axis=1)


def cf_dataset(group: str, ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with CF attributes on every variable and coordinate, and lat/lon bounds."""
    out = ds.copy()
    for name, var in list(out.variables.items()):
        if var.dtype == np.int64 and np.abs(var.values).max(initial=0) < 2**31:  # CF 1.8 has no 64-bit int
            out[name] = var.astype(np.int32)
    for name in list(out.data_vars) + [c for c in out.coords if c not in ("lat", "lon")]:
        encoding, kept = out[name].encoding, {k: out[name].attrs[k] for k in KEPT_ATTRIBUTES if k in out[name].attrs}
        out[name].attrs = {**_attributes(group, str(name), out[name].attrs), **kept}
        out[name].encoding = encoding
    for axis, attrs in (("lat", _LAT), ("lon", _LON)):
        if axis in out.coords:
            values = np.asarray(out[axis].values, dtype=float)
            out[f"{axis}_bnds"] = ((axis, BOUNDS_DIM), _bounds(values))
            out[axis].attrs = {**attrs, "bounds": f"{axis}_bnds"}
    return out


def _encoding(ds: xr.Dataset) -> dict[str, dict]:
    """No _FillValue on coordinates and bounds (CF 2.5.1); NaN fill on float data."""
    encoding: dict[str, dict] = {}
    for name, var in ds.variables.items():
        is_coord = name in ds.coords or str(name).endswith("_bnds")
        if is_coord or var.dtype.kind not in "f":
            encoding[str(name)] = {"_FillValue": None}
    return encoding


def global_attributes(*, synthetic: bool, title: str | None = None, data: dict | None = None) -> dict[str, str]:
    """Root-group attributes of results.nc (CF 2.6); ``data``: the run's data description
    (:func:`rhbench.datalabel.describe`), written as text attributes (label, reason, versions)."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    data = datalabel.of(data, synthetic)
    label = datalabel.headline(data) if data["data_label"] != datalabel.REAL else "benchmark run"
    return {
        "Conventions": CONVENTIONS,
        "title": title or f"rhbench results: soil heterotrophic respiration, soil carbon and turnover ({label})",
        "source": f"rhbench {rhbench.__version__}",
        "history": f"{now}: written by rhbench {rhbench.__version__}",
        "synthetic": "true" if synthetic else "false",
        "rhbench_version": rhbench.__version__,
        "comment": "groups: maps (source, lat, lon), zonal (source, lat), twobox (region, source, year)",
        **datalabel.attributes(data),
    }


def write_results_nc(
    path: Path, datasets: Mapping[str, xr.Dataset], *, synthetic: bool, data: dict | None = None
) -> Path | None:
    """Write ``datasets`` as groups of a CF netCDF-4 file at ``path`` (atomically); None when empty."""
    if not datasets:
        return None

    def write(temp: Path) -> None:
        xr.Dataset(attrs=global_attributes(synthetic=synthetic, data=data)).to_netcdf(temp, mode="w", engine="netcdf4")
        for name, ds in datasets.items():
            cf = cf_dataset(name, ds)
            cf.attrs = {key: str(ds.attrs[key]) for key in GROUP_ATTRIBUTES if key in ds.attrs}
            cf.to_netcdf(temp, mode="a", group=name, engine="netcdf4", encoding=_encoding(cf))

    with no_distributed_probe():  # no client can exist unless dask.distributed was imported
        write_atomic(Path(path), write)
    return Path(path)


def write_run(run: RunRecord) -> None:
    """Writer of ``results.nc`` (:data:`rhbench.outputs.WRITERS`)."""
    write_results_nc(run.staging / RESULTS_NC, run.results.datasets, synthetic=run.synthetic, data=run.data)
