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
import numpy as np
import pytest

from footage.domain import SourceTimeout, SourceUnavailable
from footage.live import LiveFile, RtspEmulator, live_picture, record_clip
from footage.media.clip.cancel import Cancelled, CancelToken
from footage.media.synth import decode_stamp
from footage.media.synth.audio import tone_hz
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


# -- sound ----------------------------------------------------------------------------------

AAC_FRAME = 1024 / 16_000  # the emulator's AAC: 16 kHz mono, 1024 samples a frame
G711_PACKET = 0.020


@pytest.fixture(scope="module")
def aac_emulator() -> Iterator[RtspEmulator]:
    with RtspEmulator({HIK: "hik-101"}, password=PASSWORD, fps=FPS, audio="aac") as emu:
        yield emu


@pytest.fixture(scope="module")
def pcmu_emulator() -> Iterator[RtspEmulator]:
    with RtspEmulator({HIK: "hik-101"}, password=PASSWORD, fps=FPS, audio="pcmu") as emu:
        yield emu


def video_span(path: Path) -> tuple[float, float]:
    """Start and end (seconds) of the video track, from its packets."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.time_base is not None
        ends = [
            (p.pts * stream.time_base, (p.pts + p.duration) * stream.time_base)
            for p in container.demux(stream)
            if p.size and p.pts is not None
        ]
    return float(min(a for a, _ in ends)), float(max(b for _, b in ends))


def audio_track(path: Path) -> tuple[str, float, float, int, np.ndarray]:
    """Codec, start and end (seconds, as a player plays it: decoded, edit list honoured),
    sample rate and the samples of the first sound track of ``path``."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        codec = stream.codec_context.name
        frames = list(container.decode(stream))
    rate = frames[0].sample_rate
    first, last = frames[0], frames[-1]
    assert first.time is not None and last.time is not None
    arrays = [f.to_ndarray().reshape(-1) for f in frames]
    scale = 32768 if arrays[0].dtype == np.int16 else 1
    samples = np.concatenate(arrays).astype(np.float64) / scale
    return codec, first.time, last.time + last.samples / rate, rate, samples


def mp4_durations(path: Path) -> tuple[float, float, int]:
    """The durations the MP4 gives its video and sound tracks, and the sound's rate."""
    with av.open(str(path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.duration is not None and video.time_base is not None
        assert audio.duration is not None and audio.time_base is not None
        assert audio.codec_context.name == "aac"
        return (
            float(video.duration * video.time_base),
            float(audio.duration * audio.time_base),
            audio.sample_rate,
        )


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples - samples.mean()))
    return float(np.argmax(spectrum) * rate / len(samples))


def check_sound(path: Path, codec: str, frame: float, *, mp4: bool = True) -> None:
    """The sound track is ``codec``, starts with the first key frame and ends with the last
    frame (each within one audio ``frame``), and plays the camera's tone. In an MP4 (whose
    edit list trims the audio frame that straddles the first key frame) it also lasts as
    long as the video to within one frame; an MKV's sound starts with the first whole frame."""
    video_start, video_end = video_span(path)
    got, start, end, rate, samples = audio_track(path)
    assert got == codec
    assert video_start == 0
    assert abs(start - video_start) <= frame, (start, video_start)
    assert abs(end - video_end) <= frame, (end, video_end)
    if mp4:
        assert abs((end - start) - (video_end - video_start)) <= frame
    assert np.abs(samples).max() > 0.1  # not silence
    assert abs(dominant_hz(samples, rate) - tone_hz(1)) < 5  # HIK is camera 1: 300 Hz


@pytest.mark.ffmpeg
@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="needs Debian's ffprobe")
@pytest.mark.parametrize(
    ("kind", "expected"),
    [("aac", ("aac", "16000", 1)), ("pcmu", ("pcm_mulaw", "8000", 1))],
)
def test_ffprobe_lists_the_sound_track(
    request: pytest.FixtureRequest, kind: str, expected: tuple[str, str, int]
) -> None:
    emulator: RtspEmulator = request.getfixturevalue(f"{kind}_emulator")
    run = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", emulator.url(HIK)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    streams = json.loads(run.stdout)["streams"]
    assert [s["codec_type"] for s in streams] == ["video", "audio"]
    assert (streams[0]["codec_name"], streams[0]["width"]) == ("h264", 320)
    audio = streams[1]
    assert (audio["codec_name"], audio["sample_rate"], audio["channels"]) == expected


def test_aac_sound_is_copied_into_the_mp4_in_step_with_the_video(
    aac_emulator: RtspEmulator, tmp_path: Path
) -> None:
    began = time.time()
    clip = record_clip(aac_emulator.url(HIK), tmp_path, stem="clip", seconds=2)
    ended = time.time()
    check_recording(clip, began, ended, 2.0)  # also: ffmpeg decodes it without a word
    assert (clip.audio_codec, clip.audio_note) == ("aac", "")
    video_seconds, audio_seconds, _ = mp4_durations(clip.path)
    assert abs(audio_seconds - video_seconds) <= AAC_FRAME, (audio_seconds, video_seconds)
    check_sound(clip.path, "aac", AAC_FRAME)
    assert ended - began < 2 + 2.5  # connect, key frame, 2 s, the sound of the last frame


def test_aac_sound_is_copied_into_the_mkv(aac_emulator: RtspEmulator, tmp_path: Path) -> None:
    clip = record_clip(aac_emulator.url(HIK), tmp_path, stem="clip", seconds=2, fmt="mkv")
    assert clip.mime_type == "video/x-matroska"
    assert (clip.audio_codec, clip.audio_note) == ("aac", "")
    check_clean(clip.path)
    check_sound(clip.path, "aac", AAC_FRAME, mp4=False)


def test_audio_false_records_no_sound(aac_emulator: RtspEmulator, tmp_path: Path) -> None:
    began = time.time()
    clip = record_clip(aac_emulator.url(HIK), tmp_path, stem="clip", seconds=2, audio=False)
    check_recording(clip, began, time.time(), 2.0)
    assert (clip.audio_codec, clip.audio_note) == (None, "")
    with av.open(str(clip.path)) as container:
        assert [s.type for s in container.streams] == ["video"]


def test_video_only_camera_gives_a_clip_without_sound(
    emulator: RtspEmulator, tmp_path: Path
) -> None:
    clip = record_clip(emulator.url(HIK), tmp_path, stem="clip", seconds=1)
    assert (clip.audio_codec, clip.audio_note) == (None, "")


def test_g711_sound_is_transcoded_to_aac_for_an_mp4(
    pcmu_emulator: RtspEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # MP4 cannot hold G.711 as sent: the clip gets AAC (8 kHz mono), and says so
    began = time.time()
    with caplog.at_level("INFO", logger="footage.live.record"):
        clip = record_clip(pcmu_emulator.url(HIK), tmp_path, stem="clip", seconds=2)
    check_recording(clip, began, time.time(), 2.0)
    assert clip.audio_codec == "aac"
    assert "PCMU" in clip.audio_note and "transcoded to AAC" in clip.audio_note
    assert clip.audio_note in caplog.text
    # the cut follows the 20 ms G.711 packets, and the MP4 gives the exact length...
    video_seconds, audio_seconds, rate = mp4_durations(clip.path)
    assert rate == 8000
    assert abs(audio_seconds - video_seconds) <= G711_PACKET, (audio_seconds, video_seconds)
    # ...but a decoder plays out the padding of the last AAC frame (1024 samples: 128 ms)
    check_sound(clip.path, "aac", 1024 / 8000)


def test_g711_sound_is_kept_as_pcm_in_an_mkv(pcmu_emulator: RtspEmulator, tmp_path: Path) -> None:
    # FFmpeg takes G.711 into MKV only as a Windows ACM codec (and PyAV not at all): the
    # decoded samples go in as 16-bit PCM, the same sound, and the result says so
    clip = record_clip(pcmu_emulator.url(HIK), tmp_path, stem="clip", seconds=2, fmt="mkv")
    assert clip.audio_codec == "pcm_s16le"
    assert "PCMU" in clip.audio_note and "16-bit PCM" in clip.audio_note
    check_clean(clip.path)
    check_sound(clip.path, "pcm_s16le", G711_PACKET, mp4=False)
