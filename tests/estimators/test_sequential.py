"""Lan-DeMets O'Brien-Fleming boundaries against published values (gsDesign sfLDOF)."""

from __future__ import annotations

import numpy as np
import pytest

from impactlens.estimators.sequential import obf_boundaries, obf_spending


def test_three_equal_looks_match_gsdesign() -> None:
    # gsDesign(k=3, test.type=2, alpha=0.025, sfu=sfLDOF)$upper$bound
    b = obf_boundaries([1 / 3, 2 / 3, 1.0])
    assert b.z == pytest.approx((3.7103, 2.5114, 1.9930), abs=2e-3)


def test_five_equal_looks_match_gsdesign() -> None:
    b = obf_boundaries([0.2, 0.4, 0.6, 0.8, 1.0])
    assert b.z == pytest.approx((4.8769, 3.3569, 2.6803, 2.2898, 2.0310), abs=2e-3)


def test_one_look_is_the_fixed_test_and_spending_ends_at_alpha() -> None:
    assert obf_boundaries([1.0]).z[0] == pytest.approx(1.959964, abs=1e-6)
    assert obf_spending(1.0, 0.1) == pytest.approx(0.1)
    assert obf_spending(0.25) < obf_spending(0.5) < obf_spending(1.0)


def test_boundaries_hold_the_type_one_error() -> None:
    """Brownian-motion simulation: crossing any of three boundaries happens ~5% of the time."""
    b = obf_boundaries([1 / 3, 2 / 3, 1.0])
    rng = np.random.default_rng(1)
    steps = rng.standard_normal((200_000, 3)) * np.sqrt(1 / 3)
    z = np.cumsum(steps, axis=1) / np.sqrt([1 / 3, 2 / 3, 1.0])
    crossed = (np.abs(z) >= np.array(b.z)).any(axis=1).mean()
    assert crossed == pytest.approx(0.05, abs=0.002)


def test_bad_fractions_are_refused() -> None:
    with pytest.raises(ValueError, match="must increase"):
        obf_boundaries([0.5, 0.4])
