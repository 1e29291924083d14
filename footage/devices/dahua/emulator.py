"""A Dahua NVR emulator speaking its HTTP API, serving a footage archive as ``.dav``.

``mediaFileFind.cgi`` (factory.create / findFile / findNextFile / close / destroy, key=value
answers, ``found=0`` at the end), ``RPC_Loadfile/<FilePath>`` (the file, Content-Length,
``Range`` honoured), ``loadfile.cgi?action=startLoad`` (refuses windows over 6 h),
``snapshot.cgi``, ``global.cgi?action=getCurrentTime`` and ``magicBox.cgi``. Media is real
DHAV framing (``davmux``), which FFmpeg's ``dhav`` demuxer reads. Channels count from
``channel_base`` (0 or 1) as on the device being imitated.
"""

from __future__ import annotations

import itertools
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from footage.devices.dahua.davmux import mux_dav
from footage.devices.emulator_media import cut_units, latest_picture
from footage.devices.emulator_server import EmulatorBase
from footage.domain import Segment, TimeRange

MAX_WINDOW = timedelta(hours=6)
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_RANGE = re.compile(r"^bytes=(\d+)-$")


def _text(body: str, status: int = 200) -> Response:
    return PlainTextResponse(body, status_code=status)


def _error(message: str, status: int = 400) -> Response:
    return _text(f"Error\r\n{message}\r\n", status)


@dataclass
class _Finder:
    files: list[tuple[int, Segment]] = field(default_factory=list)
    cursor: int = 0


class DahuaEmulator(EmulatorBase):
    vendor = "dahua"
    realm = "Login to EMULATOR0001"

    def __init__(self, archive: Any, *, channel_base: int = 1, **options: Any) -> None:
        self.channel_base = channel_base
        super().__init__(archive, **options)
        self._finders: dict[str, _Finder] = {}
        self._files: dict[str, tuple[int, Segment]] = {}
        self._ids = itertools.count(8137)
        self._lock = threading.Lock()

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/cgi-bin/magicBox.cgi", self._magic),
            Route("/cgi-bin/global.cgi", self._global),
            Route("/cgi-bin/mediaFileFind.cgi", self._find),
            Route("/cgi-bin/RPC_Loadfile/{file_path:path}", self._rpc_loadfile),
            Route("/cgi-bin/loadfile.cgi", self._loadfile),
            Route("/cgi-bin/snapshot.cgi", self._snapshot),
        ]

    def scope_of(self, path: str) -> str:
        if "mediaFileFind" in path:
            return "search"
        if "oadfile" in path:
            return "download"
        if "snapshot" in path:
            return "picture"
        return "time" if path.endswith("global.cgi") else "info"

    def fault_response(self, kind: str, request: Request) -> Response:
        if kind == "401":
            return self.unauthorized()
        if kind == "busy":  # Dahua says "too many connections" with a 401
            return _error("Too many connections!", 401)
        if kind == "400":
            return _error("Bad Request!")
        return _text("Error\r\nInternal Error!\r\n")  # xmlerror: an error page with HTTP 200

    def _camera(self, channel: str | None) -> tuple[int, str] | None:
        if channel is None or not channel.strip().lstrip("-").isdigit():
            return None
        number = int(channel)
        camera = self.camera(number - self.channel_base)
        return (number, camera) if camera is not None else None

    def _wall_time(self, value: str | None) -> datetime | None:
        try:
            return datetime.strptime(value or "", TIME_FORMAT)
        except ValueError:
            return None

    # --- simple endpoints ---------------------------------------------------------------

    async def _magic(self, request: Request) -> Response:
        action = request.query_params.get("action")
        if action == "getSystemInfo":
            return _text(
                "deviceType=DHI-NVR-EMULATOR\r\nprocessor=emulated\r\n"
                "serialNumber=EMULATOR0001\r\nupdateSerial=EMU\r\n"
            )
        if action == "getDeviceType":
            return _text("type=DHI-NVR-EMULATOR\r\n")
        return _error("Bad Request!")

    async def _global(self, request: Request) -> Response:
        if request.query_params.get("action") != "getCurrentTime":
            return _error("Bad Request!")
        return _text(f"result={self.now_wall().strftime(TIME_FORMAT)}\r\n")

    async def _snapshot(self, request: Request) -> Response:
        target = self._camera(request.query_params.get("channel", str(self.channel_base)))
        if target is None:
            return _error("Bad Request!")
        jpeg = await run_in_threadpool(latest_picture, self.archive, target[1])
        return Response(jpeg, media_type="image/jpeg")

    # --- mediaFileFind ------------------------------------------------------------------

    async def _find(self, request: Request) -> Response:
        params = request.query_params
        action = params.get("action")
        if action == "factory.create":
            object_id = str(next(self._ids))
            with self._lock:
                self._finders[object_id] = _Finder()
            return _text(f"result={object_id}\r\n")
        with self._lock:
            finder = self._finders.get(params.get("object", ""))
        if finder is None:
            return _error("Bad Request!")
        if action == "findFile":
            return await self._find_file(finder, params)
        if action == "findNextFile":
            count = params.get("count", "")
            if not count.isdigit():
                return _error("Bad Request!")
            return _text(self._next(finder, min(int(count), 100)))
        if action == "close":
            finder.files, finder.cursor = [], 0
            return _text("OK\r\n")
        if action == "destroy":
            with self._lock:
                self._finders.pop(params.get("object", ""), None)
            return _text("OK\r\n")
        return _error("Bad Request!")

    async def _find_file(self, finder: _Finder, params: Any) -> Response:
        target = self._camera(params.get("condition.Channel"))
        start = self._wall_time(params.get("condition.StartTime"))
        end = self._wall_time(params.get("condition.EndTime"))
        if target is None or start is None or end is None or end <= start:
            return _error("Bad Request!")
        span = TimeRange(start=self.utc(start), end=self.utc(end))
        segments = await run_in_threadpool(self.archive.segments, target[1], span)
        finder.files = [(target[0], segment) for segment in segments]
        finder.cursor = 0
        return _text("OK\r\n")

    def _next(self, finder: _Finder, count: int) -> str:
        page = finder.files[finder.cursor : finder.cursor + count]
        finder.cursor += len(page)
        lines = [f"found={len(page)}"]
        for index, (channel, segment) in enumerate(page):
            path = self._file_path(channel, segment)
            seconds = int((segment.end - segment.start).total_seconds())
            prefix = f"items[{index}]."
            lines += [
                f"{prefix}Channel={channel}",
                f"{prefix}StartTime={self.wall(segment.start).strftime(TIME_FORMAT)}",
                f"{prefix}EndTime={self.wall(segment.end).strftime(TIME_FORMAT)}",
                f"{prefix}FilePath={path}",
                f"{prefix}Length={segment.size}",
                f"{prefix}Duration={seconds}",
                f"{prefix}Type=dav",
                f"{prefix}Flags[0]=Timing",
                f"{prefix}Events[0]=",
                f"{prefix}VideoStream=Main",
            ]
        return "\r\n".join(lines) + "\r\n"

    def _file_path(self, channel: int, segment: Segment) -> str:
        start, end = self.wall(segment.start), self.wall(segment.end)
        path = (
            f"/mnt/dvr/{start:%Y-%m-%d}/{channel:03d}/dav/{start:%H}/"
            f"{start:%H.%M.%S}-{end:%H.%M.%S}[R][0@0][0].dav"
        )
        with self._lock:
            self._files[path] = (channel, segment)
        return path

    # --- downloads ----------------------------------------------------------------------

    async def _rpc_loadfile(self, request: Request) -> Response:
        path = "/" + request.path_params["file_path"].lstrip("/")
        with self._lock:
            known = self._files.get(path)
        if known is None:
            return _error("File not found!", 404)
        channel, segment = known
        span = TimeRange(start=segment.start, end=segment.end)
        media = await run_in_threadpool(self._render, channel, segment.camera_id, span)
        if media is None:
            return _error("File not found!", 404)
        offset = 0
        match = _RANGE.match(request.headers.get("range", ""))
        if match and int(match.group(1)) < media.stat().st_size:
            offset = int(match.group(1))
        return self.media_response(
            media, request, media_type="application/octet-stream", offset=offset
        )

    async def _loadfile(self, request: Request) -> Response:
        params = request.query_params
        target = self._camera(params.get("channel"))
        start = self._wall_time(params.get("startTime"))
        end = self._wall_time(params.get("endTime"))
        if params.get("action") != "startLoad" or target is None or start is None or end is None:
            return _error("Bad Request!")
        if end <= start or end - start > MAX_WINDOW:
            return _error("Bad Request!")  # devices refuse windows over about 6 hours
        span = TimeRange(start=self.utc(start), end=self.utc(end))
        media = await run_in_threadpool(self._render, target[0], target[1], span)
        if media is None:
            return _error("No record file!", 404)
        return self.media_response(media, request, media_type="application/octet-stream")

    def _render(self, channel: int, camera: str, span: TimeRange) -> Path | None:
        target = self.cache_file(f"{camera}-{span.start_us}-{span.end_us}.dav")
        if target.exists():
            return target
        tmp = target.with_name(f"{target.name}.{uuid.uuid4().hex}.tmp")
        written = 0
        frames = mux_dav(
            cut_units(self.archive, camera, span),
            channel=channel,
            wall_offset=self.utc_offset + self.skew,
        )
        with tmp.open("wb") as handle:
            for frame in frames:
                handle.write(frame)
                written += len(frame)
        if written == 0:
            tmp.unlink()
            return None
        tmp.replace(target)
        return target
