"""``CompositeArchive``: several archive sources (the local folder, NVRs) seen as one.

Cameras are merged; each camera id belongs to exactly one source, and every call about a
camera goes to that source. ``Camera.source`` keeps saying which one ("local",
"nvr:<host>:<port>"), so the task layer's per-source limits apply per device.

Two sources claiming one camera id is a configuration error, reported when the composite is
built (at startup). A clash that appears later (a rescan of the local folder finds a camera
an NVR also has) is logged, and the earlier source keeps the id.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from footage.archive.source import ArchiveSource
from footage.domain import Camera, InvalidRequest, NotFound, Segment, Timeline, TimeRange

log = logging.getLogger(__name__)


class CompositeArchive:
    """An ``ArchiveSource`` over ``sources``; earlier sources win a later id clash."""

    def __init__(self, sources: Sequence[ArchiveSource]) -> None:
        if not sources:
            raise InvalidRequest("a composite archive needs at least one source")
        self.sources = list(sources)
        clashes = self._clashes()
        if clashes:
            listed = "; ".join(
                f"{camera_id!r} is in {' and '.join(owners)}"
                for camera_id, owners in sorted(clashes.items())
            )
            raise InvalidRequest(
                f"camera ids must be unique across archive sources: {listed}; rename the "
                "dock in the device table (nvr.devices) or the camera's folder"
            )
        self._warned: set[str] = set()

    # --- ArchiveSource ------------------------------------------------------------------

    def cameras(self) -> list[Camera]:
        merged: dict[str, Camera] = {}
        for source in self.sources:
            for camera in source.cameras():
                first = merged.get(camera.id)
                if first is None:
                    merged[camera.id] = camera
                elif camera.id not in self._warned:
                    self._warned.add(camera.id)
                    log.warning(
                        "camera %r is in %s and %s; %s keeps it",
                        camera.id,
                        first.source,
                        camera.source,
                        first.source,
                    )
        return sorted(merged.values(), key=lambda c: c.id)

    def camera(self, camera_id: str) -> Camera:
        return self._owner(camera_id)[1]

    def timeline(self, camera_id: str, span: TimeRange) -> Timeline:
        return self._owner(camera_id)[0].timeline(camera_id, span)

    def segments(self, camera_id: str, span: TimeRange) -> list[Segment]:
        return self._owner(camera_id)[0].segments(camera_id, span)

    # --- routing ------------------------------------------------------------------------

    def _owner(self, camera_id: str) -> tuple[ArchiveSource, Camera]:
        for source in self.sources:
            try:
                return source, source.camera(camera_id)
            except NotFound:
                continue
        known = ", ".join(c.id for c in self.cameras()[:20]) or "none"
        raise NotFound(f"no camera {camera_id!r}; known: {known}")

    def _clashes(self) -> dict[str, list[str]]:
        owners: dict[str, list[str]] = {}
        for source in self.sources:
            for camera in source.cameras():
                owners.setdefault(camera.id, []).append(camera.source)
        return {key: names for key, names in owners.items() if len(names) > 1}
