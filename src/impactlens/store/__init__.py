"""The store layer: one interface, one module per engine, opened by URL."""

from impactlens.store.base import Store
from impactlens.store.registry import open_store

__all__ = ["Store", "open_store"]
