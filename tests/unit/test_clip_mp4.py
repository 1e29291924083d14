"""Reading MP4 sample tables (progressive and fragmented) and sample descriptions."""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from footage.media.clip.mp4_boxes import BoxError, iter_boxes
from footage.media.clip.mp4_moov import box, full_box
from footage.media.clip.mp4_samples import read_mp4
from footage.media.clip.sample_entry import config_key, describe, tag_hvc1

MOVFLAGS = {
    "mp4": "+faststart",
    "fmp4": "frag_keyframe+empty_moov+default_base_moof",
    "fmp4-implicit": "frag_keyframe+empty_moov",
}


def encode(path: Path, movflags: str, *, bframes: int = 2) -> None:
    with av.open(str(path), "w", format="mp4", options={"movflags": movflags}) as out:
        v = out.add_stream("libx264", rate=10)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        v.options = {"g": "10", "bf": str(bframes)}
        a = out.add_stream("aac", rate=48000)
        a.layout = "mono"
        rng = np.random.default_rng(1)
        for i in range(25):
            img = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 10)
            out.mux(v.encode(frame))
        out.mux(v.encode())
        for t in range(0, 48000 * 2 + 1, 1024):
            samples = (np.sin(np.arange(t, t + 1024) / 20.0) * 0.2).astype(np.float32)[None]
            aframe = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            aframe.sample_rate, aframe.pts = 48000, t
            out.mux(a.encode(aframe))
        out.mux(a.encode())


@pytest.mark.parametrize("kind", sorted(MOVFLAGS))
def test_sample_tables_match_what_ffmpeg_reads(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "a.mp4"
    encode(path, MOVFLAGS[kind])
    media = read_mp4(path)
    assert media.audio is not None
    with av.open(str(path)) as c:
        packets = [p for p in c.demux() if p.size]
        for track, stream_type in ((media.video, "video"), (media.audio, "audio")):
            mine = [p for p in packets if p.stream.type == stream_type]
            assert track.offset.tolist() == [p.pos for p in mine]
            assert track.size.tolist() == [p.size for p in mine]
            assert track.pts.tolist() == [p.pts for p in mine]
            assert track.dts.tolist() == [p.dts - mine[0].dts for p in mine]
            if stream_type == "video":
                assert track.sync.tolist() == [p.is_keyframe for p in mine]
    assert media.video.codec == "h264" and (media.video.width, media.video.height) == (64, 48)
    assert media.audio.codec == "aac"
    assert bool((media.video.cts != 0).any())  # B-frames have composition offsets


def test_a_file_without_moov_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.mp4"
    path.write_bytes(box(b"ftyp", b"isom", bytes(4)) + box(b"mdat", bytes(100)))
    with pytest.raises(BoxError, match="moov"):
        read_mp4(path)


def test_boxes_that_overrun_their_parent_are_refused() -> None:
    data = struct.pack(">I4s", 50, b"free") + bytes(10)
    with pytest.raises(BoxError, match="overruns"):
        list(iter_boxes(data))


def _entry(fourcc: bytes, extra: bytes) -> bytes:
    visual = bytes(6) + struct.pack(">H", 1) + bytes(16) + struct.pack(">HH", 640, 360)
    visual += bytes(78 - len(visual) + 8)
    return box(b"stsd", struct.pack(">II", 0, 1), box(fourcc, visual[: 78 + 0], extra))


def _hvcc(arrays: list[tuple[int, bytes]]) -> bytes:
    body = bytes(22) + bytes([len(arrays)])
    for nal_type, nal in arrays:
        body += bytes([nal_type]) + struct.pack(">HH", 1, len(nal)) + nal
    return box(b"hvcC", body)


def test_sample_entry_facts_and_keys() -> None:
    stsd = _entry(b"avc1", box(b"avcC", b"\x01\x64\x00\x1f"))
    entry = describe(stsd)
    assert (entry.codec, entry.width, entry.height) == ("h264", 640, 360)
    with_rate = _entry(b"avc1", box(b"avcC", b"\x01\x64\x00\x1f") + box(b"btrt", bytes(12)))
    assert config_key(with_rate) == config_key(stsd)  # bitrate statistics do not matter
    other = _entry(b"avc1", box(b"avcC", b"\x01\x4d\x00\x1f"))
    assert config_key(other) != config_key(stsd)


def test_hev1_becomes_hvc1_only_with_every_parameter_set() -> None:
    complete = _entry(b"hev1", _hvcc([(32, b"v"), (33, b"s"), (34, b"p")]))
    tagged = tag_hvc1(complete)
    assert describe(tagged).codec == "hevc" and b"hvc1" in tagged and b"hev1" not in tagged
    assert tagged.count(bytes([0x80 | 33])) == 1  # array_completeness set
    partial = _entry(b"hev1", _hvcc([(32, b"v"), (33, b"s")]))
    assert tag_hvc1(partial) == partial


def test_full_box_layout() -> None:
    data = full_box(b"test", 1, 0x000203, b"ab")
    assert data == struct.pack(">I4sI", 14, b"test", 0x01000203) + b"ab"
