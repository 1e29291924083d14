"""Live sources over real sockets: the RTSP emulator as FFmpeg (ffprobe, PyAV) reads it, and
``record_clip``/``live_picture`` against it and against servers that fail.

Every emulated frame shows the wall-clock instant it was captured (``decode_stamp``), so the
recordings' times are checked against the clock, not against the code's own arithmetic.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from footage.domain import SourceTimeout, SourceUnavailable
from footage.live import LiveFile, RtspEmulator, live_picture, record_clip
from footage.media.clip.cancel import Cancelled, CancelToken
from footage.media.synth import decode_stamp
from tests.helpers.clips import check_clean
from tests.helpers.media import picture_ms

HIK = "/Streaming/Channels/101"
DAHUA = "/cam/realmonitor?channel=1&subtype=0"
FPS = 10
STEP = 1 / FPS
# Stream time is cut to the nearest frame and the server stamps RTP with capture times, so a
# 2 s clip lasts 2 s to within a frame interval plus scheduling jitter on a busy machine.
DURATION_TOLERANCE = STEP + 0.05
PASSWORD = "s3cret-pw"


@pytest.fixture(scope="module")
def emulator() -> Iterator[RtspEmulator]:
    with RtspEmulator({HIK: "hik-101", DAHUA: "dahua-1"}, password=PASSWORD, fps=FPS) as emu:
        yield emu


def stamps(path: Path) -> list[float]:
    """Seconds since the epoch shown by each frame of ``path``."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [decode_stamp(f.to_ndarray(format="rgb24")) / 1000 for f in container.decode(stream)]


def duration(path: Path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.duration is not None and stream.time_base is not None
        return float(stream.duration * stream.time_base)


def check_recording(clip: LiveFile, began: float, ended: float, seconds: float) -> None:
    assert clip.path.is_file() and clip.path.stat().st_size == clip.size
    assert (clip.video_codec, clip.width, clip.height) == ("h264", 320, 180)
    assert clip.mime_type == "video/mp4"
    assert not list(clip.path.parent.glob(".*.part"))
    check_clean(clip.path)
    assert abs(duration(clip.path) - seconds) <= DURATION_TOLERANCE
    shown = stamps(clip.path)
    first, last = shown[0], shown[-1]
    assert began <= first <= ended
    assert abs(first - clip.first_ts.timestamp()) < 0.5
    # last_ts is the end of the last frame; the last frame starts one interval before it
    assert abs(last - (first + seconds - STEP)) <= DURATION_TOLERANCE
    assert abs((clip.last_ts - clip.first_ts).total_seconds() - seconds) <= DURATION_TOLERANCE


@pytest.mark.ffmpeg
@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="needs Debian's ffprobe")
def test_ffprobe_reads_one_h264_stream_even_asking_for_udp_first(emulator: RtspEmulator) -> None:
    # no -rtsp_transport: ffprobe tries UDP, gets 461 and falls back to interleaved TCP
    run = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", emulator.url(DAHUA)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    streams = json.loads(run.stdout)["streams"]
    assert [(s["codec_name"], s["width"], s["height"]) for s in streams] == [("h264", 320, 180)]


def test_record_clip_is_valid_and_carries_the_wall_clock(
    emulator: RtspEmulator, tmp_path: Path
) -> None:
    seen: list[float] = []
    began = time.time()
    clip = record_clip(
        emulator.url(HIK), tmp_path, stem="clip", seconds=2, progress=seen.append, comment="x"
    )
    ended = time.time()
    assert clip.path == tmp_path / "clip.mp4"
    check_recording(clip, began, ended, 2.0)
    assert seen == sorted(seen) and seen[-1] == 100.0
    assert ended - began < 2 + 2  # connect + key frame (starts each session) + 2 s


def test_two_recordings_at_once(emulator: RtspEmulator, tmp_path: Path) -> None:
    before = dict(emulator.stats)
    results: dict[str, LiveFile] = {}
    errors: list[BaseException] = []

    def run(path: str, stem: str) -> None:
        try:
            results[stem] = record_clip(emulator.url(path), tmp_path, stem=stem, seconds=1.5)
        except BaseException as exc:
            errors.append(exc)

    began = time.time()
    threads = [
        threading.Thread(target=run, args=(HIK, "a")),
        threading.Thread(target=run, args=(DAHUA, "b")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    ended = time.time()
    assert not errors
    for stem in ("a", "b"):
        check_recording(results[stem], began, ended, 1.5)
    assert emulator.stats[HIK] == before.get(HIK, 0) + 1
    assert emulator.stats[DAHUA] == before.get(DAHUA, 0) + 1


def test_live_picture_shows_now(emulator: RtspEmulator, tmp_path: Path) -> None:
    began = time.time()
    picture = live_picture(emulator.url(HIK), tmp_path, stem="now", quality=85)
    ended = time.time()
    assert picture.path == tmp_path / "now.jpg" and picture.mime_type == "image/jpeg"
    assert (picture.width, picture.height) == (320, 180)
    shown = picture_ms(picture.path) / 1000
    assert began - 1 <= shown <= ended
    assert abs(shown - picture.first_ts.timestamp()) < 0.5
    assert ended - began < 2


def test_wrong_password_is_refused_without_showing_it(
    emulator: RtspEmulator, tmp_path: Path
) -> None:
    url = emulator.url(HIK).replace(PASSWORD, "not-the-pw")
    with pytest.raises(SourceUnavailable) as caught:
        record_clip(url, tmp_path, stem="x", seconds=1, connect_timeout=5)
    message = str(caught.value)
    assert "refused the user name and password" in message
    assert emulator.url(HIK, with_credentials=False) in message
    assert "not-the-pw" not in message and PASSWORD not in message
    with pytest.raises(SourceUnavailable, match="refused the user name and password"):
        live_picture(url, tmp_path, stem="x", connect_timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_unknown_path_says_so(emulator: RtspEmulator, tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match=r"/Streaming/Channels/999 does not exist") as e:
        record_clip(emulator.url("/Streaming/Channels/999"), tmp_path, stem="x", seconds=1)
    assert PASSWORD not in str(e.value)
    assert list(tmp_path.iterdir()) == []


def test_nothing_listening_fails_fast(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    began = time.monotonic()
    with pytest.raises(SourceUnavailable, match="cannot reach the live stream") as caught:
        record_clip(f"rtsp://admin:pw@127.0.0.1:{port}/x", tmp_path, stem="x", seconds=1)
    assert time.monotonic() - began < 2
    assert f"rtsp://127.0.0.1:{port}/x" in str(caught.value)
    assert ":pw@" not in str(caught.value)


def test_silent_server_times_out(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        accepted: list[socket.socket] = []
        threading.Thread(target=lambda: accepted.append(silent.accept()[0]), daemon=True).start()
        began = time.monotonic()
        with pytest.raises(SourceTimeout, match=r"sent nothing within 1\.5 s"):
            record_clip(
                f"rtsp://admin:pw@127.0.0.1:{port}/x",
                tmp_path,
                stem="x",
                seconds=1,
                connect_timeout=1.5,
            )
        assert time.monotonic() - began < 1.5 + 2
        for conn in accepted:
            conn.close()
    assert list(tmp_path.iterdir()) == []


def test_cancel_mid_recording_leaves_nothing(emulator: RtspEmulator, tmp_path: Path) -> None:
    token = CancelToken()
    cancelled_at: list[float] = []

    def progress(percent: float) -> None:
        if percent >= 10 and not cancelled_at:
            cancelled_at.append(time.monotonic())
            token.cancel()

    with pytest.raises(Cancelled):
        record_clip(
            emulator.url(HIK), tmp_path, stem="x", seconds=10, progress=progress, cancel=token
        )
    assert cancelled_at and time.monotonic() - cancelled_at[0] < 1
    assert list(tmp_path.iterdir()) == []
