"""One plugin module per observation product (cSoil, cLitter, Rh, land cover, NDVI, sites)."""
