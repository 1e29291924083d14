"""Dahua key=value parsing against hand-written answers; query encoding; window splitting."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from footage.devices.dahua.clock import parse_current_time
from footage.devices.dahua.davmux import pack_date
from footage.devices.dahua.download import load_by_time, load_file, split_windows
from footage.devices.dahua.errors import body_error
from footage.devices.dahua.keyvalue import error_text, expect_ok, result_value
from footage.devices.dahua.search import find_file_path, parse_found
from footage.devices.errors import DeviceBusy, DeviceError

DATA = Path(__file__).parent.parent / "data" / "devices"


def read(name: str) -> str:
    return (DATA / name).read_text()


def test_find_next_file_items() -> None:
    found, files = parse_found(read("dahua_find_next_file.txt"))
    assert found == 2 and len(files) == 2
    first, second = files
    assert first.start == datetime(2021, 8, 18, 0, 0, 0)
    assert first.end == datetime(2021, 8, 18, 1, 0, 0)
    assert first.path.endswith("00.00.00-01.00.00[R][0@0][0].dav")
    assert first.length == 268435456 and first.duration == 3600
    assert first.flags == ("Timing",) and first.events == ()
    assert second.flags == ("Event", "Marker") and second.events == ("AlarmLocal",)


def test_found_zero_ends_the_listing() -> None:
    assert parse_found(read("dahua_find_next_file_end.txt")) == (0, [])


def test_an_answer_without_found_is_an_error() -> None:
    with pytest.raises(DeviceError, match="found="):
        parse_found(read("dahua_error_bad_request.txt"))


def test_error_bodies() -> None:
    assert error_text(read("dahua_error_bad_request.txt")) == "Bad Request!"
    error = body_error(read("dahua_error_bad_request.txt").encode(), status=400)
    assert error is not None and error.reason == "device_error"
    assert error.vendor_code == "400" and error.vendor_text == "Bad Request!"
    busy = body_error(b"Error\r\nToo many connections!\r\n", status=401)
    assert isinstance(busy, DeviceBusy)
    assert body_error(b"DHAV\xfd") is None
    with pytest.raises(DeviceError, match="Bad Request"):
        expect_ok(read("dahua_error_bad_request.txt"), "close")
    expect_ok("OK\r\n", "close")


def test_result_values() -> None:
    assert result_value(read("dahua_factory_create.txt"), "factory.create") == "08137"
    assert parse_current_time(read("dahua_current_time.txt")) == datetime(2021, 8, 18, 9, 5, 7)
    with pytest.raises(DeviceError):
        result_value(read("dahua_error_bad_request.txt"), "factory.create")


def test_find_file_query_uses_percent_20_and_no_microseconds() -> None:
    path = find_file_path(
        "08137", 0, datetime(2021, 8, 18, 0, 0, 0, 123456), datetime(2021, 8, 18, 1, 0, 0)
    )
    assert "condition.StartTime=2021-08-18%2000:00:00&" in path
    assert "condition.Channel=0" in path and "condition.Types[0]=dav" in path
    assert "+" not in path and ".123456" not in path


def test_long_windows_are_split_at_six_hours() -> None:
    start = datetime(2021, 8, 18, 0, 0, 0)
    pieces = split_windows(start, start + timedelta(hours=13))
    assert [b - a for a, b in pieces] == [timedelta(hours=6)] * 2 + [timedelta(hours=1)]
    assert pieces[0][1] == pieces[1][0]
    request = load_by_time(1, *pieces[0])
    assert "startTime=2021-08-18%2000:00:00" in request.path
    assert load_file("/mnt/dvr/a b[R].dav").path == "/cgi-bin/RPC_Loadfile/mnt/dvr/a%20b[R].dav"
    assert load_file("/x.dav").resumable


def test_dhav_date_word() -> None:
    word = pack_date(datetime(2021, 8, 18, 15, 18, 15))
    assert word & 0x3F == 15 and (word >> 6) & 0x3F == 18 and (word >> 12) & 0x1F == 15
    assert (word >> 17) & 0x1F == 18 and (word >> 22) & 0xF == 8 and (word >> 26) == 21
