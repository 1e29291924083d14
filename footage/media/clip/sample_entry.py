"""Facts read from (and small fixes made to) an ``stsd`` sample description box."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from footage.media.clip.mp4_boxes import Box, BoxError, iter_boxes

VIDEO_CODECS = {b"avc1": "h264", b"avc3": "h264", b"hvc1": "hevc", b"hev1": "hevc"}
AUDIO_CODECS = {b"mp4a": "aac", b"Opus": "opus", b"alaw": "pcm_alaw", b"ulaw": "pcm_mulaw"}
_HEVC_PARAMETER_SETS = {32, 33, 34}  # VPS, SPS, PPS


@dataclass(frozen=True, slots=True)
class SampleEntry:
    fourcc: bytes
    codec: str
    width: int
    height: int


def describe(stsd: bytes) -> SampleEntry:
    """Codec and picture size from the first entry of a whole ``stsd`` box."""
    entry = _first_entry(stsd)
    fourcc = stsd[entry.start + 4 : entry.start + 8]
    codec = VIDEO_CODECS.get(fourcc) or AUDIO_CODECS.get(fourcc) or fourcc.decode("latin-1")
    width = height = 0
    if fourcc in VIDEO_CODECS:
        width, height = struct.unpack_from(">HH", stsd, entry.start + 32)
    return SampleEntry(fourcc=fourcc, codec=codec, width=width, height=height)


def config_key(stsd: bytes) -> bytes:
    """What must match for two segments to share one track: the sample entry without its
    bitrate statistics (``btrt``, the bitrates inside ``esds``), which vary per file."""
    entry = _first_entry(stsd)
    fourcc = stsd[entry.start + 4 : entry.start + 8]
    fixed = 78 if fourcc in VIDEO_CODECS else 28
    parts = [stsd[entry.start + 4 : entry.start + 8 + fixed]]
    try:
        children = list(iter_boxes(stsd, entry.start + 8 + fixed, entry.end))
    except BoxError:
        return stsd
    for box in children:
        if box.type == b"btrt":
            continue
        body = stsd[box.body : box.end]
        parts.append(box.type + (_esds_config(body) if box.type == b"esds" else body))
    return b"".join(parts)


def _esds_config(body: bytes) -> bytes:
    """The object type and DecoderSpecificInfo of an ``esds`` (ISO/IEC 14496-1 descriptors)."""
    pos = 4  # version and flags
    out = b""
    while pos < len(body):
        tag = body[pos]
        length, pos = _descriptor_length(body, pos + 1)
        if tag == 0x03:  # ES_Descriptor: ES_ID, flags, optional fields, then children
            flags = body[pos + 2]
            pos += 3 + (2 if flags & 0x80 else 0) + (2 if flags & 0x20 else 0)
            if flags & 0x40:
                pos += 1 + body[pos]
            continue
        if tag == 0x04:  # DecoderConfigDescriptor: keep the object type, skip the bitrates
            out += body[pos : pos + 2]
            pos += 13
            continue
        if tag == 0x05:  # DecoderSpecificInfo (the AudioSpecificConfig for AAC)
            return out + body[pos : pos + length]
        pos += length
    return body


def _descriptor_length(body: bytes, pos: int) -> tuple[int, int]:
    length = 0
    for _ in range(4):
        byte = body[pos]
        pos += 1
        length = (length << 7) | (byte & 0x7F)
        if not byte & 0x80:
            break
    return length, pos


def tag_hvc1(stsd: bytes) -> bytes:
    """Re-tag an ``hev1`` entry as ``hvc1`` (what browsers play) when its ``hvcC`` carries
    every parameter set; ``hvc1`` promises they are all there, so mark the arrays complete."""
    entry = _first_entry(stsd)
    if stsd[entry.start + 4 : entry.start + 8] != b"hev1":
        return stsd
    out = bytearray(stsd)
    for box in iter_boxes(stsd, entry.start + 8 + 78, entry.end):
        if box.type == b"hvcC":
            found = _mark_complete(out, box)
            if found >= _HEVC_PARAMETER_SETS:
                out[entry.start + 4 : entry.start + 8] = b"hvc1"
                return bytes(out)
    return stsd


def _mark_complete(out: bytearray, box: Box) -> set[int]:
    pos = box.body + 22
    count = out[pos]
    pos += 1
    found: set[int] = set()
    for _ in range(count):
        nal_type = out[pos] & 0x3F
        nalus = struct.unpack_from(">H", out, pos + 1)[0]
        if nalus:
            found.add(nal_type)
        if nal_type in _HEVC_PARAMETER_SETS:
            out[pos] |= 0x80
        pos += 3
        for _ in range(nalus):
            pos += 2 + struct.unpack_from(">H", out, pos)[0]
        if pos > box.end:
            raise BoxError("hvcC arrays overrun the box")
    return found


def _first_entry(stsd: bytes) -> Box:
    # stsd: header(8) version/flags(4) entry_count(4) then entries
    for box in iter_boxes(stsd, 16, len(stsd)):
        return box
    raise BoxError("stsd has no sample entry")
