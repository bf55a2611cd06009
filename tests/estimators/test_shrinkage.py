"""Winner's-curse shrinkage and the exaggeration ratio."""

from __future__ import annotations

import numpy as np
import pytest

from impactlens.estimators.shrinkage import exaggeration_ratio, shrink


def test_shrink_is_the_normal_posterior() -> None:
    s = shrink(1.0, se=0.5, prior_scale=0.5)
    assert s.factor == pytest.approx(0.5)
    assert s.effect == pytest.approx(0.5)
    sd = 0.5 / np.sqrt(2)
    assert s.ci_high - s.ci_low == pytest.approx(2 * 1.959964 * sd, rel=1e-5)


def test_exaggeration_matches_simulation() -> None:
    """Gelman & Carlin's retrodesign by simulation: mean |estimate| among significant ones."""
    rng = np.random.default_rng(2)
    est = 0.2 + 0.2 * rng.standard_normal(400_000)  # power about 17%
    significant = np.abs(est / 0.2) > 1.959964
    expected = np.abs(est[significant]).mean() / 0.2
    assert exaggeration_ratio(0.2, 0.2) == pytest.approx(expected, rel=0.01)
    assert exaggeration_ratio(0.2, 0.2) > 2  # low power, big exaggeration


def test_shrink_refuses_non_positive_scales() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        shrink(1.0, 0.0, 1.0)
