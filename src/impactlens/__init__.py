"""ImpactLens: what corporate learning changes in the business."""

__version__ = "0.1.0"
