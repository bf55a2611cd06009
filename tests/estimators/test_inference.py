"""Cluster-robust variance, intervals and the Wald test; doctests of the layer."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest
import statsmodels.api as sm

from impactlens.estimators.inference import cluster_covariance, normal_interval, wald_p_value

MODULES = [
    "base",
    "before_after",
    "comparison_path",
    "event_study",
    "evidence",
    "grid",
    "inference",
    "matched_did",
    "naive",
    "power",
    "propensity",
    "randomised",
    "registry",
]


def test_cluster_variance_of_a_mean_matches_statsmodels() -> None:
    rng = np.random.default_rng(0)
    cluster = rng.integers(0, 30, size=300)
    y = rng.normal(size=300) + rng.normal(size=30)[cluster]
    psi = (y - y.mean()) / len(y)
    cov = cluster_covariance(psi, cluster)
    assert cov is not None
    res = sm.OLS(y, np.ones(300)).fit(
        cov_type="cluster", cov_kwds={"groups": cluster, "use_correction": False}
    )
    g = len(np.unique(cluster))
    assert np.sqrt(cov[0, 0]) == pytest.approx(res.bse[0] * np.sqrt(g / (g - 1)), rel=1e-9)
    assert cluster_covariance(psi, np.zeros(300)) is None


def test_intervals_and_wald() -> None:
    assert normal_interval(2.0, None).ci_low is None
    zero = normal_interval(2.0, 0.0)
    assert (zero.ci_low, zero.ci_high, zero.p_value) == (2.0, 2.0, None)
    # Hotelling: with many clusters the F reference approaches chi-square.
    theta, cov = np.array([0.5, -0.2]), np.diag([0.04, 0.02])
    assert wald_p_value(theta, cov, 100_000) == pytest.approx(wald_p_value(theta, cov), rel=1e-3)
    assert wald_p_value(theta, cov, 20) > wald_p_value(theta, cov)  # type: ignore[operator]
    assert wald_p_value(theta, np.zeros((2, 2))) is None


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(f"impactlens.estimators.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
