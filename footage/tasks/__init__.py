"""Durable export tasks: the store, workers, cancellation, keepalive, retention and recovery."""

from footage.tasks.model import (
    ExportRequest,
    ExportTask,
    Failure,
    Keepalive,
    Origin,
    TaskFile,
    TaskKind,
    TaskStatus,
)

__all__ = [
    "ExportRequest",
    "ExportTask",
    "Failure",
    "Keepalive",
    "Origin",
    "TaskFile",
    "TaskKind",
    "TaskStatus",
]
