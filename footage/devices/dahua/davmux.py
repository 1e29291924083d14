"""Write units as Dahua ``.dav``: a series of ``DHAV`` frames, as FFmpeg's dhav demuxer reads.

Each frame: the 24-byte header (``DHAV``, type 0xFD key frame / 0xFC other video / 0xF0
audio, channel, sub-number, frame number, frame length, packed wall-clock date, 16-bit
millisecond counter, extension length, checksum), extensions (0x81 codec and rate, 0x82
picture size, 0x83 audio format), the payload, and the trailer ``dhav`` + frame length.
Times are the device's wall clock. Used by the emulator only.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from footage.devices.emulator_media import ALAW_RATE, Unit

_VIDEO_CODECS = {"h264": 0x02, "hevc": 0x0C}
_AUDIO_ALAW = 0x0E
_RATE_INDEX = {8000: 0, 16000: 4, 32000: 7, 44100: 8, 48000: 9}


def pack_date(moment: datetime) -> int:
    """The DHAV date word: 6 bits year-2000, 4 month, 5 day, 5 hour, 6 minute, 6 second."""
    return (
        ((moment.year - 2000) & 0x3F) << 26
        | (moment.month & 0xF) << 22
        | (moment.day & 0x1F) << 17
        | (moment.hour & 0x1F) << 12
        | (moment.minute & 0x3F) << 6
        | (moment.second & 0x3F)
    )


def _extensions(unit: Unit) -> bytes:
    if unit.kind == "audio":
        return bytes([0x83, 1, _AUDIO_ALAW, _RATE_INDEX.get(ALAW_RATE, 0)])
    if not unit.key:
        return b""
    codec = _VIDEO_CODECS.get(unit.codec, 0x02)
    return bytes([0x81, 0, codec, unit.fps & 0xFF]) + struct.pack(
        "<BBBHH", 0x82, 0, 0, unit.width, unit.height
    )


def mux_dav(
    units: Iterable[Unit], *, channel: int, wall_offset: timedelta = timedelta(0)
) -> Iterator[bytes]:
    """DHAV frames of ``units``; ``wall_offset`` turns UTC into the device's wall clock."""
    numbers = {"video": 0, "audio": 0}
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for unit in units:
        wall = epoch + timedelta(microseconds=unit.time_us) + wall_offset
        kind = 0xF0 if unit.kind == "audio" else (0xFD if unit.key else 0xFC)
        ext = _extensions(unit)
        length = 24 + len(ext) + len(unit.data) + 8
        millis = (unit.time_us // 1000 + int(wall_offset.total_seconds() * 1000)) & 0xFFFF
        header = struct.pack(
            "<4sBBBBIIIHBB",
            b"DHAV",
            kind,
            0,
            channel & 0xFF,
            0,
            numbers[unit.kind],
            length,
            pack_date(wall),
            millis,
            len(ext),
            0,
        )
        header = header[:-1] + bytes([sum(header[:23]) & 0xFF])
        numbers[unit.kind] += 1
        yield header + ext + unit.data + b"dhav" + struct.pack("<I", length)
