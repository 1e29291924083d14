"""Reading MP4 sample tables (progressive and fragmented) and sample descriptions."""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from footage.media.clip.mp4_boxes import BoxError, iter_boxes
from footage.media.clip.mp4_fragments import FragmentReader, TrackDefaults
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


def _trun(version: int, fields: int, rows: list[tuple[int, ...]], *, rel=None, first=None):
    flags = fields | (0x1 if rel is not None else 0) | (0x4 if first is not None else 0)
    body = struct.pack(">I", len(rows))
    body += struct.pack(">i", rel) if rel is not None else b""
    body += struct.pack(">I", first) if first is not None else b""
    fmt = ">" + "".join(
        "i" if bit == 0x800 and version else "I"
        for bit in (0x100, 0x200, 0x400, 0x800)
        if fields & bit
    )
    body += b"".join(struct.pack(fmt, *row) for row in rows)
    return full_box(b"trun", version, flags, body)


def _traf(track: int, tfhd_flags: int, tfhd_fields: bytes, *boxes: bytes) -> bytes:
    tfhd = full_box(b"tfhd", 0, tfhd_flags, struct.pack(">I", track), tfhd_fields)
    return box(b"traf", tfhd, *boxes)


def test_fragment_runs_resolve_bases_times_defaults_and_layouts() -> None:
    """Hand-made fragments covering what FFmpeg never writes: runs without data offsets,
    trafs without tfdt or base, tfhd and trex defaults, several entry layouts per track."""
    moof1 = box(
        b"moof",
        full_box(b"mfhd", 0, 0, struct.pack(">I", 1)),
        _traf(
            1,
            0x20000 | 0x8,  # base is the moof; default duration 10
            struct.pack(">I", 10),
            full_box(b"tfdt", 1, 0, struct.pack(">Q", 1000)),
            _trun(1, 0x200 | 0x800, [(100, -2), (200, 4), (300, 0)], rel=1000, first=0),
        ),
        _traf(2, 0x8, struct.pack(">I", 20), _trun(0, 0, [(), (), (), ()])),  # after track 1
    )
    moof2 = box(
        b"moof",
        full_box(b"mfhd", 0, 0, struct.pack(">I", 2)),
        _traf(
            1,
            0x1 | 0x8,  # explicit base 5000; default duration 10; no tfdt: time continues
            struct.pack(">QI", 5000, 10),
            _trun(0, 0x200, [(10,), (20,)], rel=8),
            _trun(0, 0x100 | 0x200, [(7, 1), (9, 2)]),  # no offset: follows the last run
        ),
        _traf(2, 0, b"", full_box(b"tfdt", 0, 0, struct.pack(">I", 500)), _trun(0, 0, [()])),
    )
    buf = moof1 + moof2
    moofs = [(b.start, buf[b.start : b.end]) for b in iter_boxes(buf) if b.type == b"moof"]
    trex = {1: TrackDefaults(flags=0x10000), 2: TrackDefaults(duration=3, size=5)}
    reader = FragmentReader(moofs, trex)
    video, audio = reader.samples(1), reader.samples(2)
    assert video.offset.tolist() == [1000, 1100, 1300, 5008, 5018, 5038, 5039]
    assert video.size.tolist() == [100, 200, 300, 10, 20, 1, 2]
    assert video.dts.tolist() == [1000, 1010, 1020, 1030, 1040, 1050, 1057]
    assert video.dur.tolist() == [10, 10, 10, 10, 10, 7, 9]
    assert video.cts.tolist() == [-2, 4, 0, 0, 0, 0, 0]
    assert video.sync.tolist() == [True, False, False, False, False, False, False]
    assert audio.offset.tolist() == [1600, 1605, 1610, 1615, 5041]
    assert audio.dts.tolist() == [0, 20, 40, 60, 500]
    assert audio.dur.tolist() == [20, 20, 20, 20, 3]
    assert audio.sync.all()
    assert len(reader.samples(3).dts) == 0
