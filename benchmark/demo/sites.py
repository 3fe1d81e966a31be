"""A synthetic site table in SRDB v5 format, sampled from the demo's true Rh field.

Rows carry the columns rhbench's SRDB reader uses, and a few rows that its filters
must remove (manipulated plots, alkali absorption, missing coordinates), so the demo
exercises the same code path as the real SRDB. All values are SYNTHETIC.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rhbench.demo.world import BARREN, DBF, DNF, EBF, ENF, GRASS, MF, OPEN_SHRUB, SAVANNA, World

#: A typical genus per forest class, so the site table's vegetation round-trips to the classes.
_SPECIES = {
    ENF: "Pinus sylvestris",
    EBF: "Castanopsis eyrei",
    DNF: "Larix gmelinii",
    DBF: "Quercus robur",
    MF: "Quercus robur; Pinus sylvestris",
}
_ECOSYSTEM = {
    ENF: ("Forest", "Evergreen"),
    EBF: ("Forest", "Evergreen"),
    DNF: ("Forest", "Deciduous"),
    DBF: ("Forest", "Deciduous"),
    MF: ("Forest", "Mixed"),
    OPEN_SHRUB: ("Shrubland", ""),
    SAVANNA: ("Savanna", ""),
    8: ("Savanna", ""),
    GRASS: ("Grassland", ""),
    12: ("Agriculture", ""),
}


def _biome(lat: np.ndarray) -> np.ndarray:
    absolute = np.abs(lat)
    return np.where(
        absolute < 23.5, "Tropical", np.where(absolute < 50, "Temperate", np.where(absolute < 66, "Boreal", "Arctic"))
    )


def synthetic_srdb(world: World, n_sites: int = 720, seed: int = 0) -> pd.DataFrame:
    """SRDB-format rows: Rh_annual = true Rh at the site's cell times log-normal noise (SD 0.3)."""
    rng = np.random.default_rng(seed)
    vegetated = (
        world.land.values
        & (world.ndvi.fillna(0).values >= 0.1)
        & (world.igbp.values != BARREN)
        & np.isin(world.igbp.values, list(_ECOSYSTEM))
    )
    rows, cols = np.nonzero(vegetated)
    pick = rng.choice(rows.size, size=n_sites, replace=True)
    i, j = rows[pick], cols[pick]
    res = float(world.land.lat[1] - world.land.lat[0])
    lat = world.land.lat.values[i] + rng.uniform(-res / 2, res / 2, n_sites) * 0.9
    lon = world.land.lon.values[j] + rng.uniform(-res / 2, res / 2, n_sites) * 0.9
    codes = world.igbp.values[i, j]
    frame = pd.DataFrame(
        {
            "Record_number": np.arange(1, n_sites + 1),
            "Study_number": rng.integers(1, 300, n_sites),
            "Latitude": np.round(lat, 3),
            "Longitude": np.round(lon, 3),
            "Study_midyear": rng.integers(1985, 2016, n_sites) + 0.5,
            "YearsOfData": np.where(rng.random(n_sites) < 0.03, 0.5, 1.0),
            "Rh_annual": np.round(world.rh.values[i, j] * np.exp(rng.normal(0, 0.3, n_sites)), 1),
            "MAT": np.round(world.mat.values[i, j] + rng.normal(0, 0.7, n_sites), 1),
            "MAP": np.round(world.map.values[i, j] * np.exp(rng.normal(0, 0.08, n_sites))),
            "Ecosystem_type": [_ECOSYSTEM[int(c)][0] for c in codes],
            "Leaf_habit": [_ECOSYSTEM[int(c)][1] for c in codes],
            "Species": [_SPECIES.get(int(c), "") for c in codes],
            "Biome": _biome(lat),
            "Meas_method": np.where(rng.random(n_sites) < 0.03, "Alkali absorption", "IRGA"),
            "Manipulation": np.where(rng.random(n_sites) < 0.05, "N fertilization", "None"),
            "Partition_method": "Root exclusion",
            "Quality_flag": "",
            "Duplicate_record": "",
            "synthetic": 1,  # a CSV has no global attributes: the column says it (upscaling.inputs)
        }
    )
    missing = rng.random(n_sites) < 0.02
    frame.loc[missing, "Latitude"] = np.nan
    frame.loc[rng.random(n_sites) < 0.08, "MAT"] = np.nan
    return frame
