"""Cameras the caller may see, flat and as a tree grouped by group (or source)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from footage.api.http.deps import RuntimeDep, Viewer
from footage.api.http.responses import errors
from footage.api.http.schemas import CameraGroupOut, CameraListOut, CameraOut
from footage.archive.local.index import SegmentIndex
from footage.runtime import Runtime

router = APIRouter(prefix="/api/v1", tags=["cameras"])


def _recorded(runtime: Runtime) -> dict[str, tuple[datetime, datetime]]:
    summaries = SegmentIndex(runtime.engine).summaries()
    return {s.camera.id: (s.first, s.last) for s in summaries}


def camera_list(runtime: Runtime, caller: Viewer) -> CameraListOut:
    recorded = _recorded(runtime)
    cameras = [
        CameraOut.of(camera, *recorded.get(camera.id, (None, None)))
        for camera in runtime.archive.cameras()
        if caller.user.can_see_camera(camera.id)
    ]
    groups: dict[str, list[CameraOut]] = {}
    for camera in cameras:
        groups.setdefault(camera.group or camera.source, []).append(camera)
    return CameraListOut(
        cameras=cameras,
        groups=[
            CameraGroupOut(id=key, name=key, cameras=members)
            for key, members in sorted(groups.items())
        ],
    )


@router.get("/cameras", response_model=CameraListOut, responses=errors(403))
async def list_cameras(runtime: RuntimeDep, caller: Viewer) -> CameraListOut:
    """Every camera the caller may see, with its recorded extent, and the camera tree."""
    return await run_in_threadpool(camera_list, runtime, caller)


@router.get("/cameras/{camera_id}", response_model=CameraOut, responses=errors(403, 404))
def get_camera(camera_id: str, runtime: RuntimeDep, caller: Viewer) -> CameraOut:
    """One camera."""
    caller.require_camera(camera_id)
    camera = runtime.archive.camera(camera_id)
    first, last = _recorded(runtime).get(camera.id, (None, None))
    return CameraOut.of(camera, first, last)
