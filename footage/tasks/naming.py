"""File names of exports: a template with placeholders, made safe to use as a file name;
and the stop marker of a live recording."""

from __future__ import annotations

import re
import string
from pathlib import Path

from footage.domain import InvalidRequest
from footage.tasks.model import ExportRequest

DEFAULT_TEMPLATE = "{camera}_{start}"
PLACEHOLDERS = ("camera", "camera_name", "start", "end", "date", "comment", "task")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX = 120


def file_stem(request: ExportRequest, *, camera_name: str, task_id: str) -> str:
    """The output's stem for ``request``: its ``file_name`` template (or the default) filled in.

    Placeholders: ``{camera}``, ``{camera_name}``, ``{start}`` and ``{end}`` (UTC,
    ``20260301T080000Z``), ``{date}`` (``2026-03-01``), ``{comment}``, ``{task}``.
    """
    template = request.file_name or DEFAULT_TEMPLATE
    values = {
        "camera": request.camera_id,
        "camera_name": camera_name,
        "start": request.range.start.strftime("%Y%m%dT%H%M%SZ"),
        "end": request.range.end.strftime("%Y%m%dT%H%M%SZ"),
        "date": request.range.start.strftime("%Y-%m-%d"),
        "comment": request.comment,
        "task": task_id,
    }
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
        unknown = [name for name in fields if name not in values]
        if unknown:
            raise KeyError(unknown[0])
        text = template.format_map(values)
    except (KeyError, ValueError, IndexError) as exc:
        raise InvalidRequest(
            f"cannot use the file name template {template!r} ({exc}); "
            f"use the placeholders {', '.join('{' + p + '}' for p in PLACEHOLDERS)}"
        ) from exc
    safe = _UNSAFE.sub("_", text).strip("._-")[:_MAX]
    return safe or "export"


def stop_marker(output_root: Path, task_id: str) -> Path:
    """The file whose presence asks a live recording "until stopped" to end and keep what
    it has: any process that shares the output folder (a server, ``footage worker``) sees it."""
    return output_root / ".stop" / task_id
