"""An RTSP/1.0 server (RFC 2326) with live H.264 cameras, for tests and the demo.

Each path is a camera whose frames are drawn in real time by the synthetic-footage renderer:
every frame shows (as text and as the machine-readable stamp ``decode_stamp`` reads) the UTC
wall-clock instant at which it was captured. Frames are encoded with libx264 (no B-frames, a
key frame every ``gop`` frames, SPS/PPS repeated before each key frame) and sent as RTP
(RFC 3550, H.264 payload RFC 6184: single NAL units and FU-A fragments) interleaved in the
RTSP connection (``$`` + channel + length). Only TCP transport is offered: a UDP ``SETUP`` gets
``461 Unsupported Transport``, after which FFmpeg retries over TCP by itself.

Authentication is HTTP Digest (MD5, qop=auth) as the NVRs use it, with Basic accepted too;
``OPTIONS`` needs none. Each ``PLAY`` gets an encoder thread of its own, starting with a key
frame; RTP timestamps are 90 kHz ticks of the capture time. One thread serves each
connection; ``stop()`` closes every socket and joins every thread.

A camera may also have a sound track (``audio``), a second SDP media section set up on
interleaved channels 2-3: ``"aac"`` is AAC-LC (16 kHz mono, PyAV's ``aac`` encoder) sent as
``mpeg4-generic`` (RFC 3640, AAC-hbr: AU-headers-length and one 16-bit AU header per frame);
``"pcmu"`` is G.711 μ-law (static payload type 0, 8 kHz), 20 ms per packet. The sound is the
camera's tone of ``footage.media.synth.audio``, whose phase follows the absolute sample clock;
its RTP timestamps count samples of the same capture clock as the video's (both tracks' RTP-Info
``rtptime`` name the instant the session started), and it is paced in real time with the video
by the same sender thread.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import secrets
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import av
import numpy as np

from footage.devices.digest_server import Authenticator
from footage.media.synth.audio import tone_samples
from footage.media.synth.draw import FrameRenderer

log = logging.getLogger(__name__)

MAX_PAYLOAD = 1400  # bytes of RTP payload per packet (fits a 1500-byte MTU)
SESSION_TIMEOUT = 60  # seconds without any data from a client before its session ends
_PAYLOAD_TYPE = 96
_CLOCK = 90_000
_METHODS = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, GET_PARAMETER, SET_PARAMETER, TEARDOWN"
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    459: "Aggregate Operation Not Allowed",
    461: "Unsupported Transport",
    500: "Internal Server Error",
    501: "Not Implemented",
}
_TRACK = "trackID=0"
_AUDIO_TRACK = "trackID=1"
AudioKind = Literal["none", "aac", "pcmu"]
_AAC_PAYLOAD_TYPE = 97
_AAC_RATE = 16_000
_PCMU_RATE = 8_000
_PCMU_PACKET = 160  # samples: 20 ms


class _Closed(Exception):
    """The client went away."""


def _annexb_nals(data: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream (start codes removed)."""
    nals: list[bytes] = []
    i, n = 0, len(data)
    start = -1
    while i + 2 < n:
        if data[i] == 0 and data[i + 1] == 0 and data[i + 2] == 1:
            if start >= 0:
                end = i - 1 if i > 0 and data[i - 1] == 0 else i
                nals.append(data[start:end])
            i += 3
            start = i
        else:
            i += 1
    if start >= 0 and start < n:
        nals.append(data[start:])
    return [nal for nal in nals if nal]


def _new_audio_encoder(kind: str) -> Any:
    """The sound encoder of ``kind`` ("aac" or "pcmu"), opened."""
    if kind == "aac":
        ctx = av.CodecContext.create("aac", "w")
        ctx.sample_rate, ctx.format, ctx.bit_rate = _AAC_RATE, "fltp", 32_000
    else:
        ctx = av.CodecContext.create("pcm_mulaw", "w")
        ctx.sample_rate, ctx.format = _PCMU_RATE, "s16"
    ctx.layout = "mono"
    ctx.time_base = Fraction(1, ctx.sample_rate)
    ctx.open()
    return ctx


class _Sound:
    """One session's sound track: tone samples, encoded and packetized for RTP as they
    become due (a chunk of samples is sent once its last sample has been captured)."""

    def __init__(self, kind: str, camera_index: int, start_wall_us: int) -> None:
        self.kind = kind
        self.encoder = _new_audio_encoder(kind)
        self.rate: int = int(self.encoder.sample_rate)
        self.chunk: int = int(self.encoder.frame_size) if kind == "aac" else _PCMU_PACKET
        self.camera_index = camera_index
        # absolute sample number (since the epoch) of the session's start: RTP time zero
        self.origin = (start_wall_us * self.rate + 500_000) // 1_000_000
        self.next = self.origin  # first sample of the next chunk to encode

    def due_wall(self) -> float:
        """When (seconds since the epoch) the next chunk's last sample is captured."""
        return (self.next + self.chunk) / self.rate

    def skip_to(self, wall_us: int) -> None:
        self.next = max(self.next, (wall_us * self.rate) // 1_000_000 - self.chunk)

    def encode(self) -> list[tuple[int, bytes]]:
        """Encode the next chunk: (sample offset from the origin, payload) per RTP packet."""
        samples = tone_samples(self.next, self.chunk, self.camera_index, self.rate)
        if self.kind == "aac":
            frame = av.AudioFrame.from_ndarray(samples[None, :], format="fltp", layout="mono")
        else:
            pcm = np.round(samples * 32767).astype(np.int16)[None, :]
            frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = self.rate
        frame.pts = self.next
        frame.time_base = Fraction(1, self.rate)
        self.next += self.chunk
        out: list[tuple[int, bytes]] = []
        for packet in self.encoder.encode(frame):
            data = bytes(packet)
            pts = packet.pts if packet.pts is not None else frame.pts
            if self.kind == "aac":  # RFC 3640 AAC-hbr: AU-headers-length, AU header, AU
                data = struct.pack(">HH", 16, (len(data) << 3) & 0xFFFF) + data
            out.append((pts - self.origin, data))
        return out


def _new_encoder(width: int, height: int, fps: int, gop: int) -> Any:
    ctx = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height = width, height
    ctx.pix_fmt = "yuv420p"
    ctx.time_base = Fraction(1, fps)
    ctx.framerate = Fraction(fps, 1)
    ctx.gop_size = gop
    ctx.max_b_frames = 0
    ctx.options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0:repeat-headers=1",
    }
    return ctx


@dataclass
class _Session:
    id: str
    path: str
    label: str
    index: int
    setup_url: str
    ssrc: int = field(default_factory=lambda: secrets.randbits(32))
    seq: int = field(default_factory=lambda: secrets.randbits(16))
    rtp_base: int = field(default_factory=lambda: secrets.randbits(32))
    channel: int = 0
    video: bool = True  # the video track is set up
    audio_url: str = ""  # the sound track's SETUP URL, "" when it is not set up
    audio_channel: int = 2
    audio_ssrc: int = field(default_factory=lambda: secrets.randbits(32))
    audio_seq: int = field(default_factory=lambda: secrets.randbits(16))
    audio_rtp_base: int = field(default_factory=lambda: secrets.randbits(32))
    sender: threading.Thread | None = None
    stop: threading.Event = field(default_factory=threading.Event)


class _Connection:
    """One client's RTSP connection: reads requests (and interleaved RTCP), answers them,
    and runs the sender of the session it plays."""

    def __init__(self, server: RtspEmulator, sock: socket.socket, peer: str) -> None:
        self.server = server
        self.sock = sock
        self.peer = peer
        self.write_lock = threading.Lock()
        self.session: _Session | None = None
        self.authenticated = False
        self.last_seen = time.monotonic()
        self.closed = threading.Event()

    # -- reading --------------------------------------------------------------------------

    def serve(self) -> None:
        buffer = b""
        try:
            while not self.server._stopping.is_set():
                request, buffer = self._next_request(buffer)
                if request is None:
                    continue
                self._answer(*request)
        except (_Closed, OSError):
            pass
        except Exception:  # a bug here must not kill the server, only this client
            log.exception("RTSP emulator: client %s failed", self.peer)
        finally:
            self.close()

    def _recv(self) -> bytes:
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            if time.monotonic() - self.last_seen > SESSION_TIMEOUT:
                raise _Closed from None
            return b""
        if not data:
            raise _Closed
        self.last_seen = time.monotonic()
        return data

    def _next_request(
        self, buffer: bytes
    ) -> tuple[tuple[str, str, dict[str, str], bytes] | None, bytes]:
        while True:
            if buffer.startswith(b"$"):  # interleaved RTCP receiver reports: read and drop
                if len(buffer) >= 4:
                    (length,) = struct.unpack(">H", buffer[2:4])
                    if len(buffer) >= 4 + length:
                        buffer = buffer[4 + length :]
                        continue
            else:
                head_end = buffer.find(b"\r\n\r\n")
                if head_end >= 0:
                    lines = buffer[:head_end].decode("utf-8", "replace").split("\r\n")
                    headers: dict[str, str] = {}
                    for line in lines[1:]:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                    length = int(headers.get("content-length", "0") or 0)
                    if len(buffer) >= head_end + 4 + length:
                        body = buffer[head_end + 4 : head_end + 4 + length]
                        rest = buffer[head_end + 4 + length :]
                        parts = lines[0].split(" ")
                        if len(parts) != 3:
                            raise _Closed
                        return (parts[0].upper(), parts[1], headers, body), rest
                elif len(buffer) > 65536:
                    raise _Closed
            buffer += self._recv()
            if self.server._stopping.is_set():
                raise _Closed

    # -- writing --------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        with self.write_lock:
            self.sock.sendall(data)

    def _reply(
        self,
        status: int,
        cseq: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> None:
        lines = [f"RTSP/1.0 {status} {_REASONS.get(status, 'Error')}", f"CSeq: {cseq}"]
        lines.append("Server: footage RTSP emulator")
        lines.append(time.strftime("Date: %a, %d %b %Y %H:%M:%S GMT", time.gmtime()))
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body:
            lines.append(f"Content-Length: {len(body)}")
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    # -- requests -------------------------------------------------------------------------

    def _answer(self, method: str, uri: str, headers: dict[str, str], body: bytes) -> None:
        cseq = headers.get("cseq", "0")
        if method == "OPTIONS":
            self._reply(200, cseq, {"Public": _METHODS})
            return
        if method not in _METHODS.replace(",", "").split():
            self._reply(501, cseq)
            return
        session_id = headers.get("session", "").split(";")[0].strip()
        known = self.session is not None and session_id == self.session.id
        if not (self.authenticated and known) and not self._authorized(method, uri, headers, cseq):
            return
        if method == "DESCRIBE":
            self._describe(uri, cseq)
        elif method == "SETUP":
            self._setup(uri, headers, cseq)
        elif method in ("PLAY", "PAUSE", "GET_PARAMETER", "SET_PARAMETER", "TEARDOWN"):
            if session_id and not known:
                self._reply(454, cseq)
            elif method == "PLAY":
                self._play(cseq)
            elif method == "TEARDOWN":
                self._reply(200, cseq)
                raise _Closed
            elif method == "PAUSE":
                self._reply(455, cseq)
            else:
                self._reply(200, cseq, self._session_header())

    def _authorized(self, method: str, uri: str, headers: dict[str, str], cseq: str) -> bool:
        server = self.server
        header = headers.get("authorization")
        checker = server._digest
        if header and header.split(" ", 1)[0].lower() == "basic":
            checker = server._basic
        verdict = checker.check(self.peer, method, uri, header)
        if verdict.ok:
            self.authenticated = True
            return True
        challenge = server._digest.challenge(stale=verdict.stale)
        basic = server._basic.challenge()
        self.send(
            (
                f"RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\n"
                f"WWW-Authenticate: {challenge}\r\nWWW-Authenticate: {basic}\r\n\r\n"
            ).encode()
        )
        return False

    def _stream_of(self, uri: str) -> str | None:
        parts = urlsplit(uri)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        candidates = [target, target.removesuffix("/" + _TRACK)]
        if self.server.audio != "none":
            candidates.append(target.removesuffix("/" + _AUDIO_TRACK))
        for candidate in candidates:
            if candidate in self.server.streams:
                return candidate
        return None

    def _describe(self, uri: str, cseq: str) -> None:
        path = self._stream_of(uri)
        if path is None:
            self._reply(404, cseq)
            return
        sdp = self.server._sdp(path)
        base = uri if uri.endswith("/") else uri + "/"
        self._reply(
            200, cseq, {"Content-Type": "application/sdp", "Content-Base": base}, sdp.encode()
        )

    def _setup(self, uri: str, headers: dict[str, str], cseq: str) -> None:
        path = self._stream_of(uri)
        if path is None:
            self._reply(404, cseq)
            return
        transport = headers.get("transport", "")
        choice = next(
            (t for t in transport.split(",") if t.strip().upper().startswith("RTP/AVP/TCP")), None
        )
        if choice is None:
            self._reply(461, cseq)
            return
        is_audio = self.server.audio != "none" and urlsplit(uri).path.endswith("/" + _AUDIO_TRACK)
        s = self.session
        if s is not None and not (
            is_audio and not s.audio_url and s.path == path and s.sender is None
        ):
            # one session per connection, each track set up once, before PLAY
            self._reply(459, cseq)
            return
        channel = 2 if is_audio else 0
        for param in choice.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "interleaved":
                with contextlib.suppress(ValueError):
                    channel = int(value.split("-")[0])
        if s is None:
            labels = self.server.streams
            s = self.session = _Session(
                id=secrets.token_hex(8),
                path=path,
                label=labels[path],
                index=list(labels).index(path) + 1,
                setup_url=uri,
                channel=channel,
                video=not is_audio,
            )
        if is_audio:
            s.audio_url, s.audio_channel = uri, channel
        ssrc = s.audio_ssrc if is_audio else s.ssrc
        self._reply(
            200,
            cseq,
            {
                "Transport": (
                    f"RTP/AVP/TCP;unicast;interleaved={channel}-{channel + 1};ssrc={ssrc:08X}"
                ),
                **self._session_header(),
            },
        )

    def _session_header(self) -> dict[str, str]:
        if self.session is None:
            return {}
        return {"Session": f"{self.session.id};timeout={SESSION_TIMEOUT}"}

    def _play(self, cseq: str) -> None:
        s = self.session
        if s is None:
            self._reply(455, cseq)
            return
        if s.sender is not None:  # already playing: nothing to pause or seek
            self._reply(200, cseq, {"Range": "npt=now-", **self._session_header()})
            return
        infos = []
        if s.video:
            infos.append(f"url={s.setup_url};seq={s.seq};rtptime={s.rtp_base}")
        if s.audio_url:
            infos.append(f"url={s.audio_url};seq={s.audio_seq};rtptime={s.audio_rtp_base}")
        self._reply(
            200,
            cseq,
            {
                "Range": "npt=0.000-",
                "RTP-Info": ",".join(infos),
                **self._session_header(),
            },
        )
        with self.server._lock:
            self.server.stats[s.path] += 1
        s.sender = threading.Thread(
            target=self._send_media, args=(s,), name=f"rtsp-send-{s.id}", daemon=True
        )
        s.sender.start()

    # -- media ----------------------------------------------------------------------------

    def _send_media(self, s: _Session) -> None:
        server = self.server
        width, height = server.size
        try:
            renderer = FrameRenderer(
                camera_id=s.label, camera_index=s.index, width=width, height=height, loop=False
            )
            encoder = _new_encoder(width, height, server.fps, server.gop)
            start_mono = time.monotonic()
            start_wall_us = time.time_ns() // 1000
            sound = None
            if s.audio_url:
                sound = _Sound(server.audio, s.index, start_wall_us)
            frame_no = 0
            while not (s.stop.is_set() or self.closed.is_set() or server._stopping.is_set()):
                due = start_mono + frame_no / server.fps if s.video else float("inf")
                if sound is not None:
                    now = time.monotonic()
                    sound_due = start_mono + sound.due_wall() - start_wall_us / 1e6
                    if sound_due <= min(due, now):
                        if sound_due < now - 1.0:  # fell far behind: skip, don't burst
                            sound.skip_to(time.time_ns() // 1000)
                            continue
                        for offset, payload in sound.encode():
                            self._send_sound(s, payload, offset)
                        continue
                    if due > now:
                        s.stop.wait(min(due, sound_due) - now)
                        continue
                delay = due - time.monotonic()
                if delay > 0:
                    s.stop.wait(delay)
                    continue
                if delay < -1.0:  # fell far behind (a busy machine): skip, don't burst
                    frame_no = int((time.monotonic() - start_mono) * server.fps)
                    continue
                # the camera's own clock: frames on a regular grid, as an encoder makes them,
                # even when this thread runs late (a late send, not an irregular timestamp)
                captured_us = start_wall_us + frame_no * 1_000_000 // server.fps
                frame = renderer.render(captured_us // 1000, captured_us)
                frame.pts = frame_no
                frame.time_base = Fraction(1, server.fps)
                if frame_no == 0:
                    frame.pict_type = av.video.frame.PictureType.I
                rtp_ts = (s.rtp_base + (captured_us - start_wall_us) * _CLOCK // 1_000_000) & (
                    0xFFFFFFFF
                )
                for packet in encoder.encode(frame):
                    self._send_access_unit(s, bytes(packet), rtp_ts)
                frame_no += 1
                if time.monotonic() - self.last_seen > SESSION_TIMEOUT:
                    break
        except (OSError, _Closed):
            pass
        except Exception:
            log.exception("RTSP emulator: the stream of %s failed", s.path)
        finally:
            self.close()

    def _send_sound(self, s: _Session, payload: bytes, offset: int) -> None:
        """One RTP packet of the sound track; ``offset`` counts samples from RTP time zero."""
        aac = self.server.audio == "aac"
        kind = _AAC_PAYLOAD_TYPE if aac else 0
        # AAC: the packet ends an access unit; G.711: the first packet of the talk spurt
        marker = 0x80 if aac or offset == 0 else 0
        rtp_ts = (s.audio_rtp_base + offset) & 0xFFFFFFFF
        rtp = struct.pack(">BBHII", 0x80, marker | kind, s.audio_seq, rtp_ts, s.audio_ssrc)
        s.audio_seq = (s.audio_seq + 1) & 0xFFFF
        self.send(
            struct.pack(">cBH", b"$", s.audio_channel, len(rtp) + len(payload)) + rtp + payload
        )

    def _send_access_unit(self, s: _Session, data: bytes, rtp_ts: int) -> None:
        payloads: list[bytes] = []
        for nal in _annexb_nals(data):
            if len(nal) <= MAX_PAYLOAD:
                payloads.append(nal)
                continue
            indicator = (nal[0] & 0xE0) | 28
            kind = nal[0] & 0x1F
            rest = nal[1:]
            step = MAX_PAYLOAD - 2
            for offset in range(0, len(rest), step):
                start = 0x80 if offset == 0 else 0
                end = 0x40 if offset + step >= len(rest) else 0
                header = bytes([indicator, start | end | kind])
                payloads.append(header + rest[offset : offset + step])
        chunks: list[bytes] = []
        for i, payload in enumerate(payloads):
            marker = 0x80 if i == len(payloads) - 1 else 0
            rtp = (
                struct.pack(">BBHII", 0x80, marker | _PAYLOAD_TYPE, s.seq, rtp_ts, s.ssrc) + payload
            )
            s.seq = (s.seq + 1) & 0xFFFF
            chunks.append(struct.pack(">cBH", b"$", s.channel, len(rtp)) + rtp)
        self.send(b"".join(chunks))

    def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        if self.session is not None:
            self.session.stop.set()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.sock.close()


class RtspEmulator:
    """Live cameras over RTSP: ``streams`` maps a request path (with its query) to the
    camera label drawn on its frames. ``stats`` counts the PLAY sessions served per path.
    ``audio`` adds a sound track to every camera: ``"aac"`` (mpeg4-generic, 16 kHz mono) or
    ``"pcmu"`` (G.711 μ-law, 8 kHz); ``"none"`` (the default) serves video alone."""

    def __init__(
        self,
        streams: dict[str, str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        user: str = "admin",
        password: str = "pw",
        fps: int = 10,
        size: tuple[int, int] = (320, 180),
        gop: int = 10,
        audio: AudioKind = "none",
    ) -> None:
        if not streams:
            raise ValueError("an RTSP emulator needs at least one stream")
        if audio not in ("none", "aac", "pcmu"):
            raise ValueError(f"the sound track is 'none', 'aac' or 'pcmu', not {audio!r}")
        if size[0] % 2 or size[1] % 2:
            raise ValueError(f"the picture size {size[0]}x{size[1]} must be even")
        self.streams = {
            (p if p.startswith("/") else "/" + p): label for p, label in streams.items()
        }
        self.host, self.port = host, port
        self.user, self.password = user, password
        self.fps, self.size, self.gop = fps, size, gop
        self.audio: AudioKind = audio
        self.stats: Counter[str] = Counter()
        realm = "footage RTSP emulator"
        self._digest = Authenticator(user, password, realm, "digest", lock_after=1_000_000)
        self._basic = Authenticator(user, password, realm, "basic", lock_after=1_000_000)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._connections: dict[_Connection, threading.Thread] = {}
        self._parameter_sets: tuple[bytes, bytes] | None = None
        self._audio_config = b""  # the AAC AudioSpecificConfig

    # -- life -----------------------------------------------------------------------------

    def start(self) -> RtspEmulator:
        self._parameter_sets = self._probe_parameter_sets()
        if self.audio == "aac":
            self._audio_config = bytes(_new_audio_encoder("aac").extradata or b"")
        listener = socket.create_server((self.host, self.port), reuse_port=False)
        listener.settimeout(0.2)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._stopping.clear()
        self._acceptor = threading.Thread(target=self._accept, name="rtsp-accept", daemon=True)
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._acceptor is not None:
            self._acceptor.join()
            self._acceptor = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            connections = dict(self._connections)
        for conn in connections:
            conn.close()
        for conn, thread in connections.items():
            thread.join(timeout=5)
            s = conn.session
            if s is not None and s.sender is not None:
                s.sender.join(timeout=5)

    def __enter__(self) -> RtspEmulator:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def url(self, path: str, *, with_credentials: bool = True) -> str:
        path = path if path.startswith("/") else "/" + path
        auth = ""
        if with_credentials:
            auth = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}@"
        return f"rtsp://{auth}{self.host}:{self.port}{path}"

    def _accept(self) -> None:
        assert self._listener is not None
        listener = self._listener
        while not self._stopping.is_set():
            try:
                sock, address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(1.0)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Connection(self, sock, address[0])
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            with self._lock:
                self._connections[conn] = thread
            thread.start()

    def _serve(self, conn: _Connection) -> None:
        try:
            conn.serve()
        finally:
            s = conn.session
            if s is not None and s.sender is not None:
                s.sender.join(timeout=5)
            with self._lock:
                self._connections.pop(conn, None)

    # -- media description ----------------------------------------------------------------

    def _probe_parameter_sets(self) -> tuple[bytes, bytes]:
        """The SPS and PPS every session's encoder will use (same settings, same sets)."""
        width, height = self.size
        encoder = _new_encoder(width, height, self.fps, self.gop)
        renderer = FrameRenderer(
            camera_id="probe", camera_index=1, width=width, height=height, loop=False
        )
        frame = renderer.render(0, 0)
        frame.pts = 0
        data = b"".join(bytes(p) for p in encoder.encode(frame))
        data += b"".join(bytes(p) for p in encoder.encode(None))
        nals = _annexb_nals(data)
        sps = next(n for n in nals if n[0] & 0x1F == 7)
        pps = next(n for n in nals if n[0] & 0x1F == 8)
        return sps, pps

    def _sdp(self, path: str) -> str:
        assert self._parameter_sets is not None
        sps, pps = self._parameter_sets
        sprop = ",".join(base64.b64encode(n).decode() for n in (sps, pps))
        session_id = secrets.randbelow(10**9)
        lines = [
            "v=0",
            f"o=- {session_id} 1 IN IP4 {self.host}",
            f"s={self.streams[path]}",
            f"c=IN IP4 {self.host}",
            "t=0 0",
            "a=control:*",
            "a=range:npt=now-",
            f"m=video 0 RTP/AVP {_PAYLOAD_TYPE}",
            f"a=rtpmap:{_PAYLOAD_TYPE} H264/{_CLOCK}",
            f"a=fmtp:{_PAYLOAD_TYPE} packetization-mode=1;profile-level-id={sps[1:4].hex()};"
            f"sprop-parameter-sets={sprop}",
            f"a=framerate:{self.fps}",
            f"a=control:{_TRACK}",
        ]
        if self.audio == "aac":
            pt = _AAC_PAYLOAD_TYPE
            lines += [
                f"m=audio 0 RTP/AVP {pt}",
                f"a=rtpmap:{pt} mpeg4-generic/{_AAC_RATE}/1",
                f"a=fmtp:{pt} streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;"
                f"indexlength=3;indexdeltalength=3;config={self._audio_config.hex()}",
                f"a=control:{_AUDIO_TRACK}",
            ]
        elif self.audio == "pcmu":
            lines += [
                "m=audio 0 RTP/AVP 0",
                f"a=rtpmap:0 PCMU/{_PCMU_RATE}",
                f"a=control:{_AUDIO_TRACK}",
            ]
        return "\r\n".join(lines) + "\r\n"
