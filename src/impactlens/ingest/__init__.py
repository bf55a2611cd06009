"""The import pipeline: staged, validated, pseudonymised, atomic and idempotent loads."""

from impactlens.ingest.base import KINDS, ImportSummary
from impactlens.ingest.pipeline import import_files

__all__ = ["KINDS", "ImportSummary", "import_files"]
