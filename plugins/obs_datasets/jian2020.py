"""Jian2020-predictors (predictors): the real 0.5 deg predictor stack of Jian et al. 2020.

``global_Rt_contribution_to_Rs2.nc`` (github jinshijian/SoilRespirationPartitioning, MIT)
holds 14 predictor layers on 47,694 vegetated 0.5 deg cells, plus the product's own
outputs ``RC``/``SD_RC``/``CV_RC`` (root share of soil respiration), which are never read.

File quirks, repaired by :func:`preprocess` (the loader sees a CF-like dataset):

- variables are stored ``(lon, lat)``; ``lat``/``lon`` are dimensions without coordinates;
  the coordinates are the 1-D helper variables ``latitude`` (89.75 .. -89.75, north to
  south) and ``longitude`` (-179.75 .. 179.75);
- missing cells hold ``-9999`` without a ``_FillValue`` attribute;
- no CF ``units`` attributes (a non-CF ``Unit`` attribute exists; the units are declared
  here and in the catalog, see ``catalogs/obs_datasets.yaml``);
- EVI is stored as EVI x 1e-4 (the data README says x 1e-3; the file's range, max
  6.1e-5, and an Amazon median of 4.8e-5, i.e. EVI 0.48, fit 1e-4): multiplied by 1e4;
- above/below-ground biomass carbon is stored as MgC ha-1 x 10 (Spawn et al. 2020's
  integer scaling; Amazon median 1180 -> 118 MgC ha-1): multiplied by 0.1.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var

FILL_VALUE = -9999.0
#: Layers that are the product's own outputs: never predictors of Rh.
PRODUCT_OUTPUTS = ("RC", "SD_RC", "CV_RC")
#: Multiplicative rescaling of stored values to the declared units.
RESCALE = {"EVI": 1.0e4, "BMa": 0.1, "BMb": 0.1}

VARIABLES = {
    "tas": Var("MAT", "degC"),  # MAT, WorldClim 2 (Fick and Hijmans 2017); file Unit "°C"
    "pr": Var("MAP", "mm yr-1"),  # MAP, WorldClim 2 annual sum; file Unit "mm"
    "koppen": Var("Climate_type", "1"),  # code, see the catalog's categories
    "am_share": Var("Percentage_AM", "percent"),  # Soudzilovskaia et al. 2019: % of plant biomass with AM
    "ecm_share": Var("Percentage_EcM", "percent"),
    "erm_share": Var("Percentage_ErM", "percent"),
    "nm_share": Var("Percentage_NM", "percent"),
    "agb_carbon": Var("BMa", "MgC ha-1"),  # Spawn et al. 2020 (stored x10; rescaled by preprocess)
    "bgb_carbon": Var("BMb", "MgC ha-1"),
    "ndep": Var("N_deposition", "g N m-2 yr-1"),  # file Unit "gN m-2 yr-1" (N deposition 1993)
    "bulk_density": Var("BD", "g cm-3"),  # SoilGrids fine-earth bulk density; file Unit "gc/cm3"
    "clay": Var("Clay", "percent"),  # SoilGrids clay content; file Unit "%"
    "soc_stock": Var("SOC", "tC ha-1"),  # SoilGrids soil organic carbon; file Unit "t/ha"
    "evi": Var("EVI", "1"),  # MODIS EVI (stored x1e-4; rescaled by preprocess)
}


def preprocess(ds: xr.Dataset) -> xr.Dataset:
    """Coordinates from the helper variables, ``(lat, lon)`` order, fill and scale repaired.

    A copy whose ``lat``/``lon`` are already coordinate variables (no ``latitude`` /
    ``longitude`` helpers, e.g. re-saved by another tool) is read from those.
    """
    lat = np.asarray((ds["latitude"] if "latitude" in ds else ds["lat"]).values, dtype=float)
    lon = np.asarray((ds["longitude"] if "longitude" in ds else ds["lon"]).values, dtype=float)
    helpers = [v for v in ("latitude", "longitude", "lat", "lon", *PRODUCT_OUTPUTS) if v in ds.variables]
    ds = ds.drop_vars(helpers)
    ds = ds.assign_coords(
        lat=("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
        lon=("lon", lon, {"units": "degrees_east", "standard_name": "longitude"}),
    )
    out = {}
    for name, data in ds.data_vars.items():
        if set(data.dims) >= {"lat", "lon"}:
            data = data.transpose(..., "lat", "lon")
        data = data.where(data != FILL_VALUE)
        if name in RESCALE:
            data = data * RESCALE[name]
        out[name] = data.assign_attrs(ds[name].attrs)
    return xr.Dataset(out, attrs=ds.attrs)


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="Jian2020-predictors",
            kind="predictors",
            catalog_entry="obs_datasets.Jian2020-predictors",
            variables=VARIABLES,
            citation="Jian et al. 2020 (global root contribution to soil respiration, RF product; MIT); "
            "layers: SoilGrids (BD, clay, SOC), Spawn et al. 2020 (biomass), Soudzilovskaia et al. 2019 "
            "(mycorrhiza), WorldClim 2 (MAT, MAP), Koeppen-Geiger (climate type), MODIS (EVI)",
            quirks=frozenset({"lat_descending"}),
            preprocess=preprocess,
        )
    ]
