"""The fast 2-box kernel (rhbench.twobox.simulate) against a plain reference implementation:
the stepwise scheme of the module docstring, iterating the last axis. All data synthetic."""

from __future__ import annotations

import numpy as np
import pytest

from rhbench.twobox import simulate


def reference_simulate(npp, tau_veg, tau_soil):
    """The textbook loop (the kernel before issue 18): anomaly form, year last, one year at a time."""
    npp, tau_veg, tau_soil = (np.asarray(a, dtype=float) for a in (npp, tau_veg, tau_soil))
    n0 = npp[..., :1]
    veg_out = n0 * (tau_veg[..., :1] / tau_veg)
    soil_out = n0 * (tau_soil[..., :1] / tau_soil)
    dveg = np.zeros(np.broadcast_shapes(npp.shape, tau_veg.shape))
    dsoil = np.zeros(np.broadcast_shapes(dveg.shape, tau_soil.shape))
    for t in range(1, dsoil.shape[-1]):
        litter = veg_out[..., t] + dveg[..., t - 1] / tau_veg[..., t]
        dveg[..., t] = dveg[..., t - 1] + npp[..., t] - litter
        rh = soil_out[..., t] + dsoil[..., t - 1] / tau_soil[..., t]
        dsoil[..., t] = dsoil[..., t - 1] + litter - rh
    cveg = n0 * tau_veg[..., :1] + dveg
    return np.broadcast_to(cveg, dsoil.shape), n0 * tau_soil[..., :1] + dsoil


def _random_forcing(rng, npp_shape, veg_shape, soil_shape, years=60):
    trend = np.linspace(0.0, 1.0, years)
    npp = 40 + 20 * rng.random(npp_shape + (1,)) * (1 + trend) + rng.normal(0, 2, npp_shape + (years,))
    tau_veg = 1.0 + rng.gamma(2.0, 4.0, veg_shape + (years,))  # >= 1 yr, some close to 1 yr
    tau_soil = 1.0 + rng.gamma(2.0, 15.0, soil_shape + (years,))
    return npp, tau_veg, tau_soil


SHAPES = [
    ((), (), ()),  # one series
    ((5,), (5,), (5,)),  # independent series
    ((4, 1, 1), (4, 7, 1), (4, 1, 6)),  # crossed draws per model, as in the Monte Carlo
    ((), (3, 1), (1, 5)),  # one NPP, crossed turnover times
    ((2, 3), (1, 3), (2, 1)),  # every input broadcast in some dim
    ((4, 1, 1), (4, 7, 6), (4, 7, 6)),  # turnover times larger than NPP
]


@pytest.mark.parametrize(("npp_shape", "veg_shape", "soil_shape"), SHAPES)
def test_kernel_matches_reference_implementation(npp_shape, veg_shape, soil_shape):
    rng = np.random.default_rng(hash((npp_shape, veg_shape, soil_shape)) % 2**32)
    forcing = _random_forcing(rng, npp_shape, veg_shape, soil_shape)
    cveg, csoil = simulate(*forcing)
    ref_veg, ref_soil = reference_simulate(*forcing)
    assert cveg.shape == csoil.shape == ref_soil.shape
    np.testing.assert_allclose(cveg, ref_veg, rtol=1e-12, atol=0)
    np.testing.assert_allclose(csoil, ref_soil, rtol=1e-12, atol=0)


def test_kernel_reads_year_first_and_year_last_inputs_alike():
    rng = np.random.default_rng(4)
    npp, tau_veg, tau_soil = _random_forcing(rng, (30,), (200, 30), (200, 30), years=40)
    year_first = [np.moveaxis(np.ascontiguousarray(np.moveaxis(a, -1, 0)), 0, -1) for a in (tau_veg, tau_soil)]
    assert not year_first[0].flags.c_contiguous  # a (..., year) view of a (year, ...) array
    for got, want in zip(simulate(npp, *year_first), simulate(npp, tau_veg, tau_soil), strict=True):
        np.testing.assert_array_equal(got, want)


def test_kernel_output_is_year_first_in_memory_and_cveg_a_view_when_broadcast():
    rng = np.random.default_rng(5)
    cveg, csoil = simulate(*_random_forcing(rng, (3, 1, 1), (3, 4, 1), (3, 1, 5), years=20))
    assert csoil.shape == (3, 4, 5, 20)
    assert np.moveaxis(csoil, -1, 0).flags.c_contiguous  # each year one contiguous row
    assert not cveg.flags.writeable and cveg.strides[2] == 0  # not copied along the soil draws
    with pytest.raises(ValueError, match="read-only"):
        cveg[0, 0, 0, 0] = 1.0
