"""Manifests and device tables from .xlsx (written here with openpyxl), .csv and TOML; bad rows
are reported each with its row and column."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]

from footage.batch import Columns, ManifestError, read_devices_table, read_manifest
from footage.batch.manifest import parse_tz, safe_name
from footage.domain import InvalidRequest

T = datetime(2024, 5, 1, 8, 0, 10, tzinfo=UTC)


def xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_csv_rows_with_naive_times_read_in_the_given_zone(tmp_path: Path) -> None:
    path = tmp_path / "May 1.csv"
    path.write_text(
        "Shipment,Scan Time,Dock\n"
        "A1,2024-05-01 16:00:10,D1\n"
        "A2,2024/05/01 16:00:11.5,D2\n"
        "\n"
        "A3,2024-05-01T08:00:12Z,D1\n",
        encoding="utf-8-sig",
    )
    manifest = read_manifest(path, tz=parse_tz("+08:00"))
    assert manifest.name == "May 1"
    assert [(r.id, r.at, r.camera, r.line) for r in manifest.rows] == [
        ("A1", T, "D1", 2),
        ("A2", T + timedelta(seconds=1.5), "D2", 3),
        ("A3", T + timedelta(seconds=2), "D1", 5),
    ]


def test_xlsx_with_datetime_cells_and_numeric_ids(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "m.xlsx",
        [
            ["运单号", "扫描时间", "月台"],
            [240501001, datetime(2024, 5, 1, 8, 0, 10), "D1"],
            ["B/2", "2024-05-01 08:00:11", 3],
        ],
    )
    rows = read_manifest(path).rows
    assert [(r.id, r.at, r.camera) for r in rows] == [
        ("240501001", T, "D1"),
        ("B/2", T + timedelta(seconds=1), "3"),
    ]
    assert rows[1].name == "B_2"


def test_configured_column_names(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("when;which;cam\n2024-05-01 08:00:10;X;C1\n")
    columns = Columns.named(id="which", time="when", camera="cam")
    assert read_manifest(path, columns=columns).rows[0].id == "X"
    with pytest.raises(InvalidRequest, match="no column for the id; looked for 'nope'"):
        read_manifest(path, columns=Columns.named(id="nope"))


def test_every_bad_row_is_named_with_its_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "id,time,dock\n"
        "A,2024-05-01 08:00:10,D1\n"
        "B,yesterday,D1\n"
        ",2024-05-01 08:00:10,D1\n"
        "A,2024-05-01 08:00:12,D1\n"
        "C,2024-05-01 08:00:12,\n"
        "a/b,2024-05-01 08:00:12,D1\n"
        "a:b,2024-05-01 08:00:12,D1\n"
    )
    with pytest.raises(ManifestError) as caught:
        read_manifest(path)
    problems = [(p.line, p.column) for p in caught.value.problems]
    assert problems == [(3, "time"), (4, "id"), (5, "id"), (6, "dock"), (8, "id")]
    message = caught.value.message
    assert "row 3, column 'time': cannot read 'yesterday' as a time" in message
    assert "row 5, column 'id': the id 'A' is already on row 2" in message
    assert "same file name as 'a/b' on row 7" in message


def test_empty_and_header_only_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("id,time,dock\n")
    with pytest.raises(InvalidRequest, match="empty"):
        read_manifest(tmp_path / "empty.csv")
    with pytest.raises(InvalidRequest, match="no data rows"):
        read_manifest(tmp_path / "header.csv")
    (tmp_path / "m.json").write_text("{}")
    with pytest.raises(InvalidRequest, match=r"\.xlsx or \.csv"):
        read_manifest(tmp_path / "m.json")


def test_zones_and_safe_names() -> None:
    assert parse_tz("UTC") is UTC
    assert parse_tz("-05:30") == timezone(-timedelta(hours=5, minutes=30))
    with pytest.raises(InvalidRequest):
        parse_tz("device")
    assert safe_name(' a\\b:c*d?"e<f>g|h ') == "a_b_c_d__e_f_g_h"
    assert safe_name("..") == "_"


def test_device_table_from_toml_groups_docks_by_address(tmp_path: Path) -> None:
    path = tmp_path / "devices.toml"
    path.write_text(
        """
[[dock]]
dock = "D1"
vendor = "hikvision"
address = "10.0.0.5"
password = "p"
channel = 1
timezone = "+08:00"

[[dock]]
dock = "D2"
vendor = "HIK"
address = "10.0.0.5"
password = "p"
channel = 2
timezone = "+08:00"

[[dock]]
dock = "D3"
vendor = "大华"
address = "10.0.0.6"
port = 8080
channel_base = 0
"""
    )
    table = read_devices_table(path)
    assert sorted(table.devices) == ["dahua@10.0.0.6:8080", "hikvision@10.0.0.5:80"]
    assert table.target("d2") == table.docks["D2"]
    assert table.docks["D2"].channel == 2 and table.docks["D1"].device == "hikvision@10.0.0.5:80"
    dahua = table.devices["dahua@10.0.0.6:8080"]
    assert (dahua.channel_base, dahua.timezone, dahua.user) == (0, "device", "admin")


@pytest.mark.parametrize(
    ("rows", "error"),
    [
        ([["D1", "sony", "h"]], "row 2: unknown vendor 'sony'"),
        ([["D1", "dahua", ""]], "row 2: the column 'address' is empty"),
        ([["D1", "dahua", "h", "http"]], "row 2: port 'http' is not a number"),
        ([["D1", "dahua", "h", 80], ["D1", "dahua", "h", 81]], "row 3: the dock 'D1' is listed"),
        (
            [["D1", "dahua", "h", 80, "x"], ["D2", "dahua", "h", 80, "y"]],
            "row 3: h:80 is already listed with another password",
        ),
        ([["D1", "dahua", "h", 80, "", "Mars/Base"]], "row 2: unknown device time zone"),
    ],
)
def test_device_table_errors_name_the_row(
    tmp_path: Path, rows: list[list[object]], error: str
) -> None:
    header = ["Dock", "Vendor", "Address", "Port", "Password", "Timezone"]
    path = xlsx(tmp_path / "devices.xlsx", [header, *rows])
    with pytest.raises(InvalidRequest, match=error):
        read_devices_table(path)


def test_device_table_from_csv_and_toml_errors(tmp_path: Path) -> None:
    path = tmp_path / "devices.csv"
    path.write_text("dock,vendor,ip,user,password,channel\nD1,dahua,10.0.0.9,op,1234,3\n")
    table = read_devices_table(path)
    config = table.devices["dahua@10.0.0.9:80"]
    assert (config.user, config.password, table.docks["D1"].channel) == ("op", "1234", 3)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[dock]]\ndock = "D1"\nvendor = "dahua"\naddress = "h"\nchanel = 2\n')
    with pytest.raises(InvalidRequest, match=r"dock #1: unknown key\(s\) \['chanel'\]"):
        read_devices_table(bad)
