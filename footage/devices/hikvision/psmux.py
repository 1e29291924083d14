"""Write units as a Hikvision-style MPEG program stream behind a 40-byte ``IMKH`` header.

Like the devices: a pack header before every frame, a program stream map (stream types
0x1B H.264 / 0x24 HEVC / 0x90 G.711 A-law) before every key frame, one PES packet per frame
(split at 65 KB) with PTS and DTS on a 90 kHz clock. Used by the emulator only.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator

from footage.devices.emulator_media import Unit

IMKH_SIZE = 40
_VIDEO_ID, _AUDIO_ID = 0xE0, 0xC0
_STREAM_TYPES = {"h264": 0x1B, "hevc": 0x24, "pcm_alaw": 0x90}
_MAX_PES_PAYLOAD = 65_535 - 3 - 10
_MUX_RATE = 50_000  # in units of 50 bytes/s, as the pack header counts
_CLOCK_BASE = 90_000  # PTS of the first unit: one second, as devices rarely start at zero


def imkh_header(video_codec: str, *, audio: bool) -> bytes:
    """The 40-byte header Hikvision puts before the stream: magic, version, formats.

    Only the magic is read by anyone (players skip the rest); the fields follow the layout
    seen in public captures: version, system format (2 = PS), video and audio codec ids.
    """
    video = 0x0100 if video_codec == "h264" else 0x0005
    audio_id = 0x7110 if audio else 0
    body = struct.pack(
        "<4sHHHHBBII", b"IMKH", 0x0100, 0x0002, video, audio_id, 1 if audio else 0, 16, 8000, 0
    )
    return body.ljust(IMKH_SIZE, b"\x00")


def _pack_header(scr: int) -> bytes:
    bits = (
        (0b01 << 46)
        | (((scr >> 30) & 0x7) << 43)
        | (1 << 42)
        | (((scr >> 15) & 0x7FFF) << 27)
        | (1 << 26)
        | ((scr & 0x7FFF) << 11)
        | (1 << 10)
        | 1  # SCR extension 0, marker
    )
    rate = (_MUX_RATE << 2) | 0b11
    return b"\x00\x00\x01\xba" + bits.to_bytes(6, "big") + rate.to_bytes(3, "big") + b"\xf8"


def _crc32_mpeg(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _psm(entries: list[tuple[int, int]]) -> bytes:
    es_map = b"".join(struct.pack(">BBH", kind, sid, 0) for kind, sid in entries)
    body = bytes([0x80 | 0x60, 0xFF]) + struct.pack(">H", 0) + struct.pack(">H", len(es_map))
    body += es_map
    length = len(body) + 4
    head = b"\x00\x00\x01\xbc" + struct.pack(">H", length) + body
    return head + struct.pack(">I", _crc32_mpeg(head))


def _timestamp(prefix: int, value: int) -> bytes:
    bits = (
        (prefix << 36)
        | (((value >> 30) & 0x7) << 33)
        | (1 << 32)
        | (((value >> 15) & 0x7FFF) << 17)
        | (1 << 16)
        | ((value & 0x7FFF) << 1)
        | 1
    )
    return bits.to_bytes(5, "big")


def _pes(stream_id: int, payload: bytes, pts: int) -> Iterator[bytes]:
    for offset in range(0, max(len(payload), 1), _MAX_PES_PAYLOAD):
        chunk = payload[offset : offset + _MAX_PES_PAYLOAD]
        if offset == 0:
            header = bytes([0x84, 0xC0, 10]) + _timestamp(0b0011, pts) + _timestamp(0b0001, pts)
        else:
            header = bytes([0x80, 0x00, 0])
        length = len(header) + len(chunk)
        yield b"\x00\x00\x01" + bytes([stream_id]) + struct.pack(">H", length) + header + chunk


def mux_ps(units: Iterable[Unit], *, header: bool = True) -> Iterator[bytes]:
    """The program stream of ``units`` as a series of byte strings (one per frame)."""
    origin: int | None = None
    sent_header = not header
    streams: list[tuple[int, int]] = []
    for unit in units:
        if origin is None:
            origin = unit.time_us
        if not sent_header and unit.kind == "video":
            yield imkh_header(unit.codec, audio=True)
            sent_header = True
        stream_id = _VIDEO_ID if unit.kind == "video" else _AUDIO_ID
        entry = (_STREAM_TYPES.get(unit.codec, 0x1B), stream_id)
        if entry not in streams:
            streams.append(entry)
        pts = _CLOCK_BASE + (unit.time_us - origin) * 9 // 100
        parts = [_pack_header(max(pts - 3_600, 0))]
        if unit.kind == "video" and unit.key:
            parts.append(_psm(streams if len(streams) > 1 else [entry, (0x90, _AUDIO_ID)]))
        parts.extend(_pes(stream_id, unit.data, pts))
        yield b"".join(parts)
