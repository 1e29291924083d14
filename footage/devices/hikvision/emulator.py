"""A Hikvision NVR emulator speaking ISAPI over HTTP, serving a footage archive.

Search (``POST /ISAPI/ContentMgmt/search``) lists the archive's segments as matches, paged
by ``searchResultPostion``/``maxResults`` (capped at 64) with ``MORE``/``OK``/``NO MATCHES``,
and silently stops listing at ``max_matches`` like the devices do around 4000. Download
(``GET``/``POST /ISAPI/ContentMgmt/download``) answers MPEG-PS behind an ``IMKH`` header,
cut from the key frame at or before the start; at most ``max_sessions`` downloads run at
once (more get "Device Busy"). Times are the device's wall clock written with ``Z``
(``z_is_local``), shifted by ``utc_offset`` and a ``clock`` fault.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from footage.devices.emulator_media import cut_units, latest_picture
from footage.devices.emulator_server import EmulatorBase
from footage.devices.hikvision import emulator_xml as xml
from footage.devices.hikvision.download import parse_uri_time, uri_time
from footage.devices.hikvision.psmux import mux_ps
from footage.devices.hikvision.search import NAMESPACE_HIKVISION
from footage.domain import TimeRange

PAGE_CAP = 64
_XML = "application/xml"


class HikvisionEmulator(EmulatorBase):
    vendor = "hikvision"
    realm = "DS-EMULATOR"

    def __init__(
        self,
        archive: Any,
        *,
        namespace: str = NAMESPACE_HIKVISION,
        max_matches: int = 4000,
        z_is_local: bool = True,
        **options: Any,
    ) -> None:
        self.namespace = namespace
        self.max_matches = max_matches
        self.z_is_local = z_is_local
        super().__init__(archive, **options)
        self._sessions = 0

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/ISAPI/System/deviceInfo", self._info),
            Route("/ISAPI/System/time", self._time),
            Route("/ISAPI/ContentMgmt/search", self._search, methods=["POST"]),
            Route("/ISAPI/ContentMgmt/download", self._download, methods=["GET", "POST"]),
            Route("/ISAPI/Streaming/channels/{stream:int}/picture", self._picture),
        ]

    def scope_of(self, path: str) -> str:
        for word, scope in (("search", "search"), ("download", "download"), ("picture", "picture")):
            if word in path:
                return scope
        return "time" if path.endswith("/time") else "info"

    # --- answers ------------------------------------------------------------------------

    def status(self, request: Request, code: int, sub: str, message: str = "") -> Response:
        http = {2: 503, 3: 500, 4: 403 if sub == "unauthorized" else 400, 5: 400, 6: 400}
        if sub == "notFound":
            http[4] = 404
        body = xml.response_status(self.namespace, request.url.path, code, sub, message)
        return Response(body, status_code=http.get(code, 400), media_type=_XML)

    def fault_response(self, kind: str, request: Request) -> Response:
        if kind == "401":
            return self.unauthorized()
        if kind == "busy":
            return self.status(request, 2, "deviceBusy")
        if kind == "400":
            return self.status(request, 4, "invalidOperation", "back-to-back request")
        body = xml.response_status(self.namespace, request.url.path, 3, "deviceError", "fault")
        return Response(body, status_code=200, media_type=_XML)  # xmlerror: HTTP 200

    def label(self, moment: Any) -> Any:
        """How the device writes the UTC instant ``moment`` in search results and URIs."""
        return self.wall(moment) if self.z_is_local else self.wall(moment) - self.utc_offset

    def unlabel(self, label: Any) -> Any:
        return self.utc(label if self.z_is_local else label + self.utc_offset)

    async def _info(self, request: Request) -> Response:
        serial = hashlib.sha1(self.url.encode(), usedforsecurity=False).hexdigest()[:12]
        return Response(xml.device_info(self.namespace, serial.upper()), media_type=_XML)

    async def _time(self, request: Request) -> Response:
        body = xml.time_status(self.namespace, self.now_wall(), self.utc_offset)
        return Response(body, media_type=_XML)

    async def _search(self, request: Request) -> Response:
        try:
            query = xml.parse_search_request(await request.body(), PAGE_CAP)
        except xml.BadRequest as exc:
            return self.status(request, exc.status, exc.sub, str(exc))
        try:
            span = TimeRange(start=self.unlabel(query.start), end=self.unlabel(query.end))
        except Exception:
            return self.status(request, 6, "badXmlContent", "endTime is not after startTime")
        items = await run_in_threadpool(self._matches, query.tracks, span)
        items = items[: self.max_matches]  # devices silently stop listing
        page = items[query.position : query.position + query.max_results]
        if not page:
            status = "NO MATCHES"
        elif query.position + len(page) < len(items):
            status = "MORE"
        else:
            status = "OK"
        body = xml.search_result(self.namespace, query.search_id, status, len(items), page)
        return Response(body, media_type=_XML)

    def _matches(self, tracks: list[int], span: TimeRange) -> list[xml.MatchItem]:
        found: list[xml.MatchItem] = []
        for track in tracks:
            camera = self.camera(track // 100 - 1)
            if camera is None or track % 100 not in (1, 2):
                continue  # track 103 (pictures) and unknown channels hold nothing
            for segment in self.archive.segments(camera, span):
                start, end = self.label(segment.start), self.label(segment.end)
                uri = (
                    f"rtsp://{self.host}/Streaming/tracks/{track}/?starttime={uri_time(start)}"
                    f"&endtime={uri_time(end)}&name={Path(segment.path).stem}&size={segment.size}"
                )
                found.append(xml.MatchItem(track, start, end, uri))
        return found

    async def _download(self, request: Request) -> Response:
        try:
            uri = xml.playback_uri_of(await request.body())
            camera, span = self._uri_target(uri)
        except xml.BadRequest as exc:
            return self.status(request, exc.status, exc.sub, str(exc))
        if self._sessions >= self.max_sessions:
            return self.status(request, 2, "deviceBusy", "too many playback sessions")
        self._sessions += 1
        try:
            path = await run_in_threadpool(self._render, camera, span)
        except BaseException:
            self._sessions -= 1
            raise
        if path is None:
            self._sessions -= 1
            return self.status(request, 4, "notFound", "no recording in the requested time")
        return self.media_response(
            path, request, media_type="video/mp2p", on_finish=self._session_ended
        )

    def _session_ended(self) -> None:
        self._sessions -= 1

    def _uri_target(self, uri: str) -> tuple[str, TimeRange]:
        parts = urlsplit(uri)
        pieces = [p for p in parts.path.split("/") if p]
        track = int(pieces[-1]) if pieces and pieces[-1].isdigit() else 0
        camera = self.camera(track // 100 - 1)
        query = parse_qs(parts.query)
        if camera is None:
            raise xml.BadRequest(4, "invalidOperation", f"no track {track}")
        try:
            start = parse_uri_time(query["starttime"][0])
            end = parse_uri_time(query["endtime"][0])
            return camera, TimeRange(start=self.unlabel(start), end=self.unlabel(end))
        except (KeyError, IndexError, ValueError) as exc:
            raise xml.BadRequest(6, "badParameters", f"bad playbackURI times: {exc}") from None
        except Exception:
            raise xml.BadRequest(6, "badParameters", "endtime is not after starttime") from None

    def _render(self, camera: str, span: TimeRange) -> Path | None:
        target = self.cache_file(f"{camera}-{span.start_us}-{span.end_us}.ps")
        if target.exists():
            return target
        tmp = target.with_name(f"{target.name}.{uuid.uuid4().hex}.tmp")
        written = 0
        with tmp.open("wb") as handle:
            for chunk in mux_ps(cut_units(self.archive, camera, span)):
                handle.write(chunk)
                written += len(chunk)
        if written == 0:
            tmp.unlink()
            return None
        tmp.replace(target)
        return target

    async def _picture(self, request: Request) -> Response:
        stream = request.path_params["stream"]
        camera = self.camera(stream // 100 - 1)
        if camera is None:
            return self.status(request, 4, "invalidOperation", f"no channel {stream}")
        jpeg = await run_in_threadpool(latest_picture, self.archive, camera)
        return Response(jpeg, media_type="image/jpeg")
