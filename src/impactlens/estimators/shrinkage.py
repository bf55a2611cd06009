"""A winner's-curse correction for planning the scale-up of a pilot.

Pilots that "work" are selected for luck: conditional on passing a significance
filter, an unbiased estimate overstates the true effect, badly so when power is low
(Gelman & Carlin 2014, Perspectives on Psychological Science 9:641, "Type M error";
van Zwet & Cator 2021, Statistica Neerlandica 75:437). The normal-normal shrinkage
used here puts a prior N(0, tau^2) on the true effect with tau the pre-registered
minimum detectable effect (the effect size the pilot was designed around), so the
posterior mean is estimate x tau^2 / (tau^2 + se^2) and its SD
se x tau / sqrt(tau^2 + se^2) (Gelman et al. 2013, Bayesian Data Analysis, 3rd ed.,
section 2.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special


@dataclass(frozen=True)
class Shrunken:
    """The shrunken estimate, its 95% interval and the factor applied."""

    effect: float
    ci_low: float
    ci_high: float
    factor: float
    prior_scale: float

    def as_dict(self) -> dict[str, float]:
        """Rounded plain numbers for the JSON document."""
        return {k: round(v, 6) for k, v in self.__dict__.items()}


def shrink(effect: float, se: float, prior_scale: float, level: float = 0.95) -> Shrunken:
    """Posterior mean and interval of the effect under a N(0, prior_scale^2) prior.

    Examples:
        >>> s = shrink(0.6, 0.2, prior_scale=0.2)
        >>> round(s.effect, 3), round(s.factor, 2)
        (0.3, 0.5)
    """
    if not se > 0 or not prior_scale > 0:
        raise ValueError(f"se and prior_scale must be positive, got {se} and {prior_scale}")
    factor = prior_scale**2 / (prior_scale**2 + se**2)
    sd = se * prior_scale / math.sqrt(prior_scale**2 + se**2)
    z = float(special.ndtri(0.5 + level / 2))
    mean = effect * factor
    return Shrunken(mean, mean - z * sd, mean + z * sd, factor, prior_scale)


def exaggeration_ratio(true_effect: float, se: float, alpha: float = 0.05) -> float:
    """Expected |estimate| / |true effect| among significant results (Type M error).

    Closed form of Gelman & Carlin's (2014) retrodesign for a normal estimate:
    E(|Z| ; |Z| > z) / P(|Z| > z) with Z ~ N(d, 1), d = |true_effect| / se.

    Examples:
        >>> round(exaggeration_ratio(1.0, 0.357), 2)  # 80% power: mild
        1.13
    """
    if true_effect == 0 or not se > 0:
        raise ValueError("the true effect must be non-zero and se positive")
    d, z = abs(true_effect) / se, float(special.ndtri(1 - alpha / 2))

    def phi(x: float) -> float:
        return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)

    upper = d * special.ndtr(d - z) + phi(z - d)  # E(Z; Z > z)
    lower = -d * special.ndtr(-z - d) + phi(z + d)  # E(-Z; Z < -z)
    prob = special.ndtr(d - z) + special.ndtr(-z - d)
    return float((upper + lower) / prob / d)
