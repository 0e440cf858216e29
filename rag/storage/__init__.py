"""Storage of a collection: one interface (interface.py), two backends (embedded files, PostgreSQL)."""

from rag.storage.interface import CheckReport, Collection, Counts, Reader, RepairReport
from rag.storage.manifest import Manifest

__all__ = ["CheckReport", "Collection", "Counts", "Manifest", "Reader", "RepairReport"]
