"""Each on-disk layout maps (camera, start, extension) to a path and back, and rejects others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from footage.archive.local.layout import detect, get_layout, layouts
from footage.domain import InvalidRequest

T0 = datetime(2026, 11, 21, 8, 5, 7, tzinfo=UTC)
WHOLE_SECONDS = {"frigate"}

times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
)
camera_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,20}", fullmatch=True)


def test_the_three_layouts_are_registered() -> None:
    assert sorted(layouts()) == ["frigate", "mediamtx", "native"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("native", "cam1/2026-11-21/08/20261121T080507.000000Z.mp4"),
        ("frigate", "recordings/2026-11-21/08/cam1/05.07.mp4"),
        ("mediamtx", "recordings/cam1/2026-11-21_08-05-07-000000.mp4"),
    ],
)
def test_relpath_matches_the_recorders_naming(name: str, expected: str) -> None:
    assert str(get_layout(name).relpath("cam1", T0, "mp4")) == expected


@pytest.mark.parametrize("name", ["native", "frigate", "mediamtx"])
@pytest.mark.parametrize("ext", ["mp4", "ts"])
@given(camera=camera_ids, start=times)
def test_relpath_parse_round_trip(name: str, ext: str, camera: str, start: datetime) -> None:
    if name in WHOLE_SECONDS:
        start = start.replace(microsecond=0)
    layout = get_layout(name)
    rel = layout.relpath(camera, start, ext)
    parsed = layout.parse(rel)
    assert parsed is not None
    assert (parsed.layout, parsed.camera_id, parsed.start, parsed.ext) == (name, camera, start, ext)
    assert detect(rel) == parsed


def test_times_in_other_zones_are_written_as_utc() -> None:
    plus8 = T0.astimezone(timezone(timedelta(hours=8)))
    rel = get_layout("native").relpath("cam1", plus8, "mp4")
    assert rel.parts[2] == "08"
    parsed = detect(rel)
    assert parsed is not None and parsed.start == T0


def test_frigate_refuses_fractional_seconds() -> None:
    with pytest.raises(InvalidRequest, match="whole second"):
        get_layout("frigate").relpath("cam1", T0.replace(microsecond=500), "mp4")


@pytest.mark.parametrize("name", ["native", "frigate", "mediamtx"])
@pytest.mark.parametrize("camera", ["", "-cam", "cam/1", "cam 1", "x" * 65])
def test_bad_camera_ids_are_refused(name: str, camera: str) -> None:
    with pytest.raises(InvalidRequest, match="camera id"):
        get_layout(name).relpath(camera, T0, "mp4")


def test_naive_times_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="time zone"):
        get_layout("native").relpath("cam1", T0.replace(tzinfo=None), "mp4")


def test_unknown_layout_names_the_known_ones() -> None:
    with pytest.raises(InvalidRequest, match="frigate, mediamtx, native"):
        get_layout("zoneminder")


@pytest.mark.parametrize(
    "rel",
    [
        "cam1/2026-11-21/08/20261121T080507.000000Z.txt",  # not a media extension
        "cam1/2026-11-21/08/20261121T080507.000000Z",  # no extension
        "cam1/2026-11-21/09/20261121T080507.000000Z.mp4",  # hour folder disagrees
        "cam1/2026-11-22/08/20261121T080507.000000Z.mp4",  # day folder disagrees
        "cam1/2026-11-21/08/20261121T080507Z.mp4",  # no microseconds
        "cam1/2026-13-21/08/20261321T080507.000000Z.mp4",  # month 13
        "2026-11-21/08/20261121T080507.000000Z.mp4",  # too shallow
        "recordings/2026-11-21/08/cam1/5.07.mp4",  # frigate: one-digit minute
        "recordings/2026-11-21/24/cam1/05.07.mp4",  # frigate: hour 24
        "recordings/2026-11-21/08/cam1/05.61.mp4",  # frigate: second 61
        "recordings/2026-11-21/cam1/05.07.mp4",  # frigate: no hour folder
        "other/2026-11-21/08/cam1/05.07.mp4/x",  # too deep
        "recordings/cam1/2026-11-21_08-05-07.mp4",  # mediamtx: no %f
        "recordings/cam1/2026-11-21_08-05-07-000000.mkv.part",  # a temporary
        "recordings/a/cam1/2026-11-21_08-05-07-000000.mp4",  # mediamtx: nested path
        "recordings/cam1/2026-02-30_08-05-07-000000.mp4",  # 30 February
        "notes.mp4",
        "",
    ],
)
def test_detect_rejects_other_names(rel: str) -> None:
    assert detect(PurePosixPath(rel)) is None


@pytest.mark.parametrize(
    ("rel", "layout", "camera"),
    [
        ("cam1/2026-11-21/08/20261121T080507.000000Z.m4s", "native", "cam1"),
        ("2026-11-21/08/front/05.07.mp4", "frigate", "front"),  # root is recordings/ itself
        ("recordings/2026-11-21/08/front/05.07.MP4", "frigate", "front"),
        ("door/2026-11-21_08-05-07-000000.ts", "mediamtx", "door"),
    ],
)
def test_detect_accepts_variants(rel: str, layout: str, camera: str) -> None:
    parsed = detect(PurePosixPath(rel))
    assert parsed is not None
    assert (parsed.layout, parsed.camera_id, parsed.start) == (layout, camera, T0)
