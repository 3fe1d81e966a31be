"""The observation-based Rh product: Random Forest upscaling of site Rh."""
