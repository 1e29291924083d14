"""ISAPI parsing against hand-written device responses: namespaces, single match, paging,
error bodies, clock documents; and the request documents the driver writes."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from footage.devices.errors import DeviceBusy, DeviceError, NoRecording
from footage.devices.hikvision import emulator_xml
from footage.devices.hikvision.clock import parse_time_status, posix_offset
from footage.devices.hikvision.download import download_body, playback_uri, uri_span
from footage.devices.hikvision.search import (
    NAMESPACE_ISAPI,
    build_search,
    parse_search,
    parse_time,
)
from footage.devices.hikvision.status import status_error

DATA = Path(__file__).parent.parent / "data" / "devices"


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_single_match_is_a_list_in_the_isapi_namespace() -> None:
    page = parse_search(read("hikvision_search_single_isapi.xml"))
    assert page.status == "OK" and not page.more
    assert len(page.matches) == 1
    match = page.matches[0]
    assert match.track_id == 101
    assert match.start == datetime(2021, 8, 18, 15, 18, 15)  # Z kept as device wall clock
    assert match.start.tzinfo is None
    assert match.end == datetime(2021, 8, 18, 15, 28, 15)
    assert match.size == 268435456
    assert match.name == "ch01_08000000000000000"
    assert "&endtime=20210818T152815Z" in match.playback_uri


def test_more_page_in_the_hikvision_namespace() -> None:
    page = parse_search(read("hikvision_search_more.xml"))
    assert page.more
    assert [m.track_id for m in page.matches] == [201, 201]
    assert page.matches[1].start == datetime(2021, 8, 18, 0, 59, 59)
    assert page.num_matches == 2


def test_no_matches() -> None:
    page = parse_search(read("hikvision_search_no_matches.xml"))
    assert page.status == "NO MATCHES"
    assert page.matches == []


def test_a_search_answered_with_a_response_status_raises_its_error() -> None:
    with pytest.raises(DeviceError) as caught:
        parse_search(read("hikvision_status_bad_search_id.xml"))
    assert caught.value.reason == "device_error"
    assert caught.value.vendor_code == "6/badParameters/1610637344"
    assert "Invalid XML Content" in (caught.value.vendor_text or "")


def test_busy_status_maps_to_device_busy() -> None:
    error = status_error(read("hikvision_status_busy.xml"), device="nvr")
    assert isinstance(error, DeviceBusy)
    assert error.reason == "device_busy" and error.transient


def test_not_found_status_maps_to_no_recording() -> None:
    body = emulator_xml.response_status(NAMESPACE_ISAPI, "/x", 4, "notFound", "none")
    assert isinstance(status_error(body.encode()), NoRecording)


def test_media_and_garbage_are_not_status_errors() -> None:
    assert status_error(b"IMKH\x01\x00") is None
    assert status_error(b"<notxml") is None
    assert status_error(read("hikvision_search_more.xml")) is None


def test_unreadable_search_body() -> None:
    with pytest.raises(DeviceError, match="not readable XML"):
        parse_search(b"<CMSearchResult><broken>")


def test_offsets_are_kept_when_the_device_writes_them() -> None:
    assert parse_time("2021-08-18T15:18:15+08:00").utcoffset() == timedelta(hours=8)


def test_clock_with_offset() -> None:
    wall, offset = parse_time_status(read("hikvision_time_offset.xml"))
    assert wall == datetime(2021, 8, 18, 15, 18, 15)
    assert offset == timedelta(hours=8)


def test_clock_with_posix_zone_only() -> None:
    wall, offset = parse_time_status(read("hikvision_time_posix_zone.xml"))
    assert wall == datetime(2021, 8, 18, 3, 18, 15)
    assert offset == timedelta(hours=-5)


@pytest.mark.parametrize(
    ("zone", "hours"), [("CST-8:00:00", 8), ("EST5EDT", -5), ("UTC0", 0), ("IST-5:30", 5.5)]
)
def test_posix_offsets_invert_the_sign(zone: str, hours: float) -> None:
    assert posix_offset(zone) == timedelta(hours=hours)


def test_search_document_round_trips_through_the_emulator_parser() -> None:
    body = build_search(
        search_id="0b5e0a34-8a47-4d0a-9a57-3a8f8a9c3e21",
        track_id=201,
        start=datetime(2021, 8, 18, 15, 0, 0),
        end=datetime(2021, 8, 18, 16, 0, 0),
        position=64,
        max_results=500,
        namespace=NAMESPACE_ISAPI,
    )
    assert b"<searchResultPostion>64</searchResultPostion>" in body
    parsed = emulator_xml.parse_search_request(body, cap=64)
    assert parsed.tracks == [201]
    assert parsed.position == 64 and parsed.max_results == 64  # capped like the devices
    assert parsed.start == datetime(2021, 8, 18, 15, 0, 0)


def test_emulator_refuses_a_search_id_that_is_not_a_uuid() -> None:
    body = build_search(
        search_id="search-1",
        track_id=101,
        start=datetime(2021, 8, 18),
        end=datetime(2021, 8, 19),
        position=0,
        max_results=10,
    )
    with pytest.raises(emulator_xml.BadRequest) as caught:
        emulator_xml.parse_search_request(body, cap=64)
    assert caught.value.sub == "badParameters"


def test_emulator_accepts_track_id_list() -> None:
    body = (
        b"<CMSearchDescription><searchID>0b5e0a34-8a47-4d0a-9a57-3a8f8a9c3e21</searchID>"
        b"<trackIDList><trackID>102</trackID></trackIDList><timeSpanList><timeSpan>"
        b"<startTime>2021-08-18T00:00:00Z</startTime><endTime>2021-08-18T01:00:00Z</endTime>"
        b"</timeSpan></timeSpanList><maxResults>40</maxResults></CMSearchDescription>"
    )
    parsed = emulator_xml.parse_search_request(body, cap=64)
    assert parsed.tracks == [102] and parsed.max_results == 40 and parsed.position == 0


def test_playback_uri_and_download_body_escape_ampersands() -> None:
    uri = playback_uri(
        "192.0.2.10", 101, datetime(2021, 8, 18, 15, 18, 15), datetime(2021, 8, 18, 15, 28, 15)
    )
    assert uri == (
        "rtsp://192.0.2.10/Streaming/tracks/101/"
        "?starttime=20210818T151815Z&endtime=20210818T152815Z"
    )
    body = download_body(uri)
    assert b"&amp;endtime=" in body and b"&endtime" not in body
    assert emulator_xml.playback_uri_of(body) == uri
    assert uri_span(uri) == (datetime(2021, 8, 18, 15, 18, 15), datetime(2021, 8, 18, 15, 28, 15))
