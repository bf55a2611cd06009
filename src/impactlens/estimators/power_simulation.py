"""Power of a pilot design by simulation with the randomised ANCOVA the analysis runs.

Each draw builds a panel with the estimated sd, intra-team correlation and r2: person
i of team j has (in SD units)

    pre  = sqrt(icc) a_j + sqrt(1 - icc) e_ij
    post = sqrt(icc) (sqrt(r2) a_j + sqrt(1 - r2) b_j)
         + sqrt(1 - icc) (sqrt(r2) e_ij + sqrt(1 - r2) f_ij) + effect x T_j

with a, b, e, f independent standard normals, so post has variance 1, intra-team
correlation icc and corr(pre, post) = sqrt(r2) at both levels: the model behind the
closed form in ``power``. Teams (or people) are assigned by complete randomisation
with ``round(share x units)`` treated, the unit-level ANCOVA of ``randomised`` is fitted
(post on arm and pre; cluster-robust CR1 errors by team with a t(G - 1) reference,
exactly as statsmodels' ``cluster`` covariance that ``RandomisedAncova`` uses), and
the power is the share of draws whose two-sided p is below alpha. ``panel_of`` turns
a draw into a ``KpiPanel`` so tests can check the fast fit against the estimator itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from impactlens.estimators.base import KpiPanel

PRE, POST = pd.Timestamp("2026-01-04"), pd.Timestamp("2026-01-11")


@dataclass(frozen=True)
class SimulatedDesign:
    """A design to simulate: clusters of ``sizes`` people (all 1 for a people design)."""

    sizes: np.ndarray
    share: float
    sd: float
    icc: float
    r2: float

    @classmethod
    def build(
        cls, units: int, team_size: float, share: float, sd: float, icc: float, r2: float
    ) -> SimulatedDesign:
        """``units`` clusters holding ``round(units x team_size)`` people as evenly as possible.

        Examples:
            >>> SimulatedDesign.build(4, 2.5, 0.5, 1.0, 0.1, 0.3).sizes.tolist()
            [3, 3, 2, 2]
        """
        total = max(units, round(units * team_size))
        sizes = np.full(units, total // units)
        sizes[: total - sizes.sum()] += 1
        return cls(sizes, share, sd, icc, r2)


@dataclass(frozen=True)
class Draw:
    """One simulated pilot: per person pre and post values, their cluster and arm."""

    pre: np.ndarray
    post: np.ndarray
    cluster: np.ndarray
    treated: np.ndarray


def draw(design: SimulatedDesign, effect: float, rng: np.random.Generator) -> Draw:
    """One simulated pilot under ``design`` with a true effect of ``effect`` KPI units."""
    g = len(design.sizes)
    cluster = np.repeat(np.arange(g), design.sizes)
    n = len(cluster)
    icc, r2 = design.icc, design.r2
    a, b = rng.standard_normal(g), rng.standard_normal(g)
    e, f = rng.standard_normal(n), rng.standard_normal(n)
    pre = np.sqrt(icc) * a[cluster] + np.sqrt(1 - icc) * e
    post = np.sqrt(icc) * (np.sqrt(r2) * a + np.sqrt(1 - r2) * b)[cluster] + np.sqrt(1 - icc) * (
        np.sqrt(r2) * e + np.sqrt(1 - r2) * f
    )
    n_treated = min(g - 1, max(1, round(design.share * g)))
    arm = np.zeros(g, dtype=bool)
    arm[rng.choice(g, n_treated, replace=False)] = True
    treated = arm[cluster]
    return Draw(design.sd * pre, design.sd * post + effect * treated, cluster, treated)


def ancova_p(d: Draw) -> tuple[float, float, float]:
    """(effect, cluster-robust se, two-sided p) of the arm in post ~ 1 + arm + pre."""
    x = np.column_stack([np.ones(len(d.pre)), d.treated.astype(float), d.pre])
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ (x.T @ d.post)
    resid = d.post - x @ beta
    g = int(d.cluster.max()) + 1
    scores = np.zeros((g, x.shape[1]))
    np.add.at(scores, d.cluster, x * resid[:, None])
    n, k = x.shape
    # CR1 small-sample factor, as statsmodels applies for cov_type="cluster"
    scale = g / (g - 1) * (n - 1) / (n - k)
    cov = scale * xtx_inv @ (scores.T @ scores) @ xtx_inv
    se = float(np.sqrt(cov[1, 1]))
    t = beta[1] / se
    return float(beta[1]), se, float(2 * stats.t.sf(abs(t), g - 1))


def simulated_power(
    design: SimulatedDesign, effect: float, alpha: float, draws: int, seed: int
) -> float:
    """Share of ``draws`` simulated pilots whose ANCOVA rejects no effect at ``alpha``.

    Examples:
        >>> d = SimulatedDesign.build(60, 1, 0.5, sd=1.0, icc=1.0, r2=0.0)
        >>> simulated_power(d, 0.0, 0.05, 200, seed=1) < 0.1
        True
    """
    rng = np.random.default_rng(seed)
    hits = sum(ancova_p(draw(design, effect, rng))[2] < alpha for _ in range(draws))
    return hits / draws


def panel_of(d: Draw, kpi: str = "kpi") -> KpiPanel:
    """The draw as the analysis's ``KpiPanel``: one pre and one post period per person."""
    ids = np.array([f"u{i:06d}" for i in range(len(d.pre))])
    cells = pd.DataFrame(
        {
            "unit_id": np.repeat(ids, 2),
            "period": np.tile(np.array([PRE, POST], dtype="datetime64[ns]"), len(ids)),
            "value": np.column_stack([d.pre, d.post]).ravel(),
            "weight": 1.0,
        }
    )
    units = pd.DataFrame(
        {
            "unit_id": ids,
            "group": np.where(d.treated, "treated", "comparison"),
            "first_period": np.full(len(ids), POST, dtype="datetime64[ns]"),
            "cluster": [f"c{c:06d}" for c in d.cluster],
        }
    )
    return KpiPanel(kpi, "person", cells, units, randomised=True)
