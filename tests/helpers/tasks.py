"""Export tasks as the task store holds them, made directly (no service, no database)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from footage.tasks.model import ExportRequest, ExportTask, Origin


def new_task(request: ExportRequest, created: datetime, **fields: Any) -> ExportTask:
    """A task of ``request`` created at ``created``: id ``t`` of owner ``a``, from the web page,
    on a local camera without a name, files named ``x``, unless ``fields`` (any other
    ``ExportTask`` fields) say otherwise."""
    identity: dict[str, Any] = {
        "id": "t",
        "owner": "a",
        "origin": Origin.WEB,
        "camera_name": "",
        "source": "local",
        "file_stem": "x",
    }
    return ExportTask(request=request, created=created, **(identity | fields))
