"""The demo's learning programs: their assets, skills, survey profile and dates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CARE = "customer-care-excellence"
MASTERCLASS = "presentation-masterclass"
PILOT = "packaging-pilot"


@dataclass(frozen=True)
class AssetSpec:
    """One asset of a learning cluster and how learners use it."""

    id: str
    kind: str  # microlearning, elearning, workshop, coaching, quiz
    minutes: float  # typical time spent


@dataclass(frozen=True)
class ProgramSpec:
    """What learners of one program experience and say about it."""

    id: str
    title: str
    department: str
    starts: tuple[str, ...]  # cohort start dates (Mondays)
    cohort_prefix: str
    weeks: int  # length of the program from start to completion
    assets: tuple[AssetSpec, ...]
    skills: tuple[tuple[str, float, float], ...]  # (skill, mean pre score, mean gain)
    satisfaction: tuple[float, ...]  # probabilities of answering 1..5
    relevance: tuple[float, ...]
    applied_share: float
    contribution_pct: float  # mean among those who applied
    comments: tuple[str, ...]

    def start_dates(self) -> np.ndarray:
        """Cohort start dates as ``datetime64[D]``."""
        return np.array(self.starts, dtype="datetime64[D]")


PROGRAMS: dict[str, ProgramSpec] = {
    CARE: ProgramSpec(
        id=CARE,
        title="Customer Care Excellence learning cluster",
        department="Customer Care",
        # six weekly waves from late February 2026 (month 11 of the 18-month window)
        starts=tuple(str(np.datetime64("2026-02-23") + 7 * w) for w in range(6)),
        cohort_prefix="CCE wave",
        weeks=5,
        assets=(
            AssetSpec("cce-empathy-basics", "microlearning", 18),
            AssetSpec("cce-deescalation-workshop", "workshop", 180),
            AssetSpec("cce-call-shadowing", "coaching", 60),
            AssetSpec("cce-knowledge-check", "quiz", 15),
        ),
        skills=(("empathy", 58.0, 11.0), ("de-escalation", 52.0, 14.0)),
        satisfaction=(0.01, 0.03, 0.12, 0.45, 0.39),
        relevance=(0.01, 0.03, 0.10, 0.44, 0.42),
        applied_share=0.78,
        contribution_pct=45.0,
        comments=(
            "The de-escalation role plays were the most useful part.",
            "Shadowing a senior colleague helped a lot.",
            "Too much theory in the first module; the workshop made up for it.",
            "I use the empathy phrases on every call now.",
        ),
    ),
    MASTERCLASS: ProgramSpec(
        id=MASTERCLASS,
        title="Presentation Masterclass",
        department="Sales",
        starts=("2026-01-19", "2026-02-16", "2026-03-16"),
        cohort_prefix="PM cohort",
        weeks=3,
        assets=(
            AssetSpec("pm-storytelling", "elearning", 40),
            AssetSpec("pm-live-masterclass", "workshop", 360),
            AssetSpec("pm-pitch-practice", "coaching", 45),
            AssetSpec("pm-final-pitch", "quiz", 20),
        ),
        skills=(("storytelling", 55.0, 18.0), ("slide design", 60.0, 16.0)),
        satisfaction=(0.0, 0.01, 0.04, 0.28, 0.67),
        relevance=(0.02, 0.06, 0.25, 0.42, 0.25),
        applied_share=0.55,
        contribution_pct=35.0,
        comments=(
            "Best training I have had in years, the trainer was brilliant!",
            "Loved it. My slides look so much better now.",
            "Great energy, great venue, great lunch.",
            "Fun and inspiring, although my customers mostly want prices over email.",
        ),
    ),
    PILOT: ProgramSpec(
        id=PILOT,
        title="Packaging checklist pilot",
        department="Field Ops",
        starts=("2026-04-13",),  # the assignment date for both arms
        cohort_prefix="Pilot",
        weeks=4,
        assets=(
            AssetSpec("pp-packaging-basics", "microlearning", 12),
            AssetSpec("pp-ride-along", "coaching", 90),
            AssetSpec("pp-checklist-quiz", "quiz", 10),
        ),
        skills=(("packaging standards", 61.0, 10.0),),
        satisfaction=(0.02, 0.05, 0.20, 0.45, 0.28),
        relevance=(0.01, 0.04, 0.15, 0.45, 0.35),
        applied_share=0.70,
        contribution_pct=40.0,
        comments=(
            "The ride-along showed me what I was doing wrong with fragile parcels.",
            "The checklist takes two minutes, fine.",
            "Quiz was too easy.",
        ),
    ),
}

#: Activity verbs by asset kind, in the order a learner produces them.
VERBS: dict[str, tuple[str, ...]] = {
    "microlearning": ("launched", "completed"),
    "elearning": ("launched", "completed"),
    "workshop": ("attended",),
    "coaching": ("completed",),
    "quiz": ("attempted",),  # followed by passed/failed
}
