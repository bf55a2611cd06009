"""Interim looks at a pilot: Lan-DeMets alpha spending with O'Brien-Fleming-type boundaries.

A team that checks its pilot early and stops at the first p < 0.05 inflates its false
positive rate (three looks: about 0.11 instead of 0.05). Alpha spending fixes the
total: at information fraction t the test may have spent at most

    alpha(t) = 4 - 4 Phi(z(1 - alpha/4) / sqrt(t))    (two-sided, O'Brien-Fleming type)

(Lan & DeMets 1983, Biometrika 70:659; the two-sided form is DeMets & Lan 1994,
Statistics in Medicine 13:1341, eq. 3). The boundary of look k is the c_k with
P(no earlier crossing, |Z_k| >= c_k) = alpha(t_k) - alpha(t_{k-1}) under no effect.
Z_k = B(t_k) / sqrt(t_k) for a Brownian motion B, so the sub-density of B at each
look is propagated on a grid and the last step is a closed-form normal integral
(Armitage, McPherson & Rowe 1969, JRSS A 132:235; Jennison & Turnbull 2000, Group
Sequential Methods, ch. 19). gsDesign's ``sfLDOF`` gives the same boundaries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from scipy import optimize, special, stats


def obf_spending(t: float, alpha: float = 0.05) -> float:
    """Alpha spent by information fraction ``t`` (0 < t <= 1), two-sided.

    Examples:
        >>> round(obf_spending(1.0), 6), round(obf_spending(0.5), 4)
        (0.05, 0.0031)
    """
    if not 0 < t <= 1:
        raise ValueError(f"information fraction must be in (0, 1], got {t}")
    return float(4 - 4 * special.ndtr(special.ndtri(1 - alpha / 4) / np.sqrt(t)))


GRID = 801  # points of the sub-density grid: boundaries agree with gsDesign to 1e-4


@dataclass(frozen=True)
class Boundaries:
    """Critical |z| of each look and the alpha spent by it (cumulative)."""

    fractions: tuple[float, ...]
    z: tuple[float, ...]
    spent: tuple[float, ...]

    def as_dict(self) -> dict[str, list[float]]:
        """Plain lists for the JSON document."""
        return {
            "information_fraction": [round(t, 4) for t in self.fractions],
            "z_boundary": [round(z, 4) for z in self.z],
            "alpha_spent": [round(a, 6) for a in self.spent],
        }


def _stay(grid: np.ndarray, density: np.ndarray, dt: float, half_width: float) -> float:
    """P(no earlier crossing and |B(t_k)| < half_width) from the sub-density at t_(k-1)."""
    sd = np.sqrt(dt)
    inside = special.ndtr((half_width - grid) / sd) - special.ndtr((-half_width - grid) / sd)
    return float(np.trapezoid(density * inside, grid))


def obf_boundaries(fractions: Sequence[float], alpha: float = 0.05) -> Boundaries:
    """Two-sided boundaries of looks at increasing information ``fractions``.

    Examples:
        >>> b = obf_boundaries([1 / 3, 2 / 3, 1.0])
        >>> [round(z, 2) for z in b.z]
        [3.71, 2.51, 1.99]
    """
    t = [float(f) for f in fractions]
    if not t or any(b <= a for a, b in pairwise(t)) or not t[0] > 0 or t[-1] > 1:
        raise ValueError(f"information fractions must increase within (0, 1], got {t}")
    bounds: list[float] = []
    spent = [obf_spending(tk, alpha) for tk in t]
    grid = density = np.zeros(0)
    stay_before, previous_t = 1.0, 0.0
    for k, tk in enumerate(t):
        target = spent[k] - (spent[k - 1] if k else 0.0)
        if k == 0:
            c = float(special.ndtri(1 - target / 2))
            stay = 1 - target
        else:
            dt = tk - previous_t

            def excess(
                c: float,
                dt: float = dt,
                tk: float = tk,
                before: float = stay_before,
                grid: np.ndarray = grid,
                density: np.ndarray = density,
                target: float = target,
            ) -> float:
                return before - _stay(grid, density, dt, c * np.sqrt(tk)) - target

            c = float(optimize.brentq(excess, 0.1, 40.0, xtol=1e-9))
            stay = stay_before - target
        bounds.append(c)
        # the sub-density of B(t_k) on (-c sqrt(t_k), c sqrt(t_k)): where no look crossed
        edge = c * np.sqrt(tk)
        new_grid = np.linspace(-edge, edge, GRID)
        if k == 0:
            new_density = stats.norm.pdf(new_grid, scale=np.sqrt(tk))
        else:
            sd = np.sqrt(tk - previous_t)
            kernel = stats.norm.pdf((new_grid[:, None] - grid[None, :]) / sd) / sd
            new_density = np.trapezoid(kernel * density[None, :], grid, axis=1)
        grid, density = new_grid, new_density
        stay_before, previous_t = stay, tk
    return Boundaries(tuple(t), tuple(bounds), tuple(spent))
