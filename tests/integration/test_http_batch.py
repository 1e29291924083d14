"""The batch REST API (``/api/v1/batch``) over a real socket against emulated NVRs: upload a
manifest and a device table, follow device stages and row statuses to the end, counts of
.jpg/.mp4, the missing rows, retry, MP4 → JPG, downloads (one file, ZIP), per-user
isolation, 400s naming the bad row and column, durable runs after a restart, delete."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from footage.batch.service import BatchService
from footage.devices.emulator_server import EmulatorBase
from tests.helpers import servers
from tests.helpers.devices import hik_and_dahua
from tests.helpers.media import tiny_archive
from tests.helpers.servers import error_body, serve

START = datetime(2024, 1, 1, 10, 0, 0, tzinfo=UTC)
PASSWORD = "password-1"
USERS = {
    "ann": ("export", None),
    "bob": ("export", None),
    "vic": ("view", None),
    "root": ("admin", None),
}


@dataclass
class Site(servers.Site):
    devices: Path
    nvrs: dict[str, EmulatorBase]

    def client(
        self, user: str | None = None, *, path: str = "/api/v1/batch", timeout: float = 60
    ) -> httpx.Client:
        return super().client(user, path=path, timeout=timeout)


@pytest.fixture(scope="module")
def nvrs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, EmulatorBase]]:
    root = tmp_path_factory.mktemp("batch-footage")
    duration = timedelta(seconds=40)
    tiny_archive(root, START, duration, cameras=2, segment_seconds=10.0, workers=1)
    with hik_and_dahua(root, tmp_path_factory.mktemp("batch-emulators")) as started:
        yield started


def device_table(path: Path, nvrs: dict[str, EmulatorBase]) -> Path:
    """D1, D2 on the Hikvision; D3 on the Dahua, with a wrong password (login refused)."""
    hik, dah = nvrs["hik"], nvrs["dah"]
    path.write_text(
        "dock,vendor,address,port,user,password,channel,timezone,name\n"
        f"D1,hikvision,{hik.host},{hik.port},admin,pw,1,UTC,gate\n"
        f"D2,hikvision,{hik.host},{hik.port},admin,pw,2,UTC,gate\n"
        f"D3,dahua,{dah.host},{dah.port},admin,wrong,1,UTC,yard\n"
    )
    return path


MANIFEST = (
    "Shipment,Scan Time,Dock\n"
    "SH1,2024-01-01 10:00:05,D1\n"
    "SH2,2024-01-01 10:00:12.5,D2\n"
    "SH3,2024-01-01 10:00:20,D1\n"
    "SH4,2024-01-01 10:00:27,D2\n"
    "SH5,2024-01-01 10:00:09,D3\n"
    "SH6,2024-01-01 10:00:15,D9\n"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, nvrs: dict[str, EmulatorBase]) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("batch-site")
    devices = device_table(root / "server-devices.csv", nvrs)
    with serve(
        root, users=USERS, password=PASSWORD, workers=0, nvr={"devices": str(devices)}
    ) as server:
        yield Site(server.url, server.runtime, server.tokens, devices, nvrs)


def start(
    client: httpx.Client,
    name: str,
    manifest: str,
    devices: Path | None,
    **form: str,
) -> httpx.Response:
    files: dict[str, Any] = {"manifest": (name, manifest.encode(), "text/csv")}
    if devices is not None:
        files["devices"] = (devices.name, devices.read_bytes(), "text/csv")
    return client.post("/runs", files=files, data={"clip": "true", **form})


def finished(client: httpx.Client, name: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        view: dict[str, Any] = client.get(f"/runs/{name}", params={"limit": 1000}).json()
        if not view["running"]:
            return view
        assert time.monotonic() < deadline, view["totals"]
        time.sleep(0.2)


def test_a_run_from_upload_to_delete(site: Site, tmp_path: Path) -> None:
    folder = site.runtime.settings.batch_dir / "shipments"
    with site.client("ann") as ann, site.client("bob") as bob, site.client("root") as root:
        answer = start(ann, "shipments.csv", MANIFEST, device_table(tmp_path / "d.csv", site.nvrs))
        assert answer.status_code == 201, answer.text
        assert answer.json()["name"] == "shipments" and answer.json()["owner"] == "ann"
        view = finished(ann, "shipments")

        rows = {row["id"]: row for row in view["rows"]}
        assert {i: r["status"] for i, r in rows.items()} == {
            "SH1": "success",
            "SH2": "success",
            "SH3": "success",
            "SH4": "success",
            "SH5": "failed",
            "SH6": "failed",
        }
        assert rows["SH5"]["reason"] == "auth_failed" and rows["SH5"]["message"]
        assert rows["SH6"]["reason"] == "unknown_dock" and "D9" in rows["SH6"]["message"]
        assert rows["SH1"]["files"] == ["SH1.jpg", "SH1.mp4"]
        assert view["totals"] == {
            "total": 6,
            "pending": 0,
            "running": 0,
            "success": 4,
            "skipped": 0,
            "timeout": 0,
            "failed": 2,
        }
        assert view["counters"] == {"jpg": 4, "mp4": 4}
        devices = {d["name"]: d for d in view["devices"]}
        assert devices["gate"]["stages"]["login"] == "ok"
        assert devices["gate"]["stages"]["download"] == "ok"
        assert devices["gate"]["rows_done"] == 4 and devices["gate"]["rows_failed"] == 0
        assert devices["yard"]["stages"]["login"] == "failed"
        assert devices["yard"]["reason"] == "auth_failed"
        problems = ann.get("/runs/shipments", params={"rows": "problems"}).json()
        assert [r["id"] for r in problems["rows"]] == ["SH5", "SH6"]
        assert problems["rows_matching"] == 2
        missing = ann.get("/runs/shipments/missing").json()
        assert [m["row"]["id"] for m in missing["missing"]] == ["SH5", "SH6"]

        # other users: bob sees nothing of it, the administrator sees it
        assert "shipments" not in [r["name"] for r in bob.get("/runs").json()["runs"]]
        error_body(bob.get("/runs/shipments"), 404)
        error_body(bob.delete("/runs/shipments"), 404)
        assert "shipments" in [r["name"] for r in root.get("/runs").json()["runs"]]
        # bob cannot take the name over
        error_body(start(bob, "shipments.csv", MANIFEST, None), 409)

        # downloads: one file, and every file as a ZIP
        picture = ann.get("/runs/shipments/files/SH1.jpg")
        assert picture.status_code == 200 and picture.content[:2] == b"\xff\xd8"
        error_body(ann.get("/runs/shipments/files/.footage-batch.sqlite"), 404)
        packed = ann.get("/runs/shipments/files.zip")
        assert packed.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(packed.content)) as archive:
            names = sorted(archive.namelist())
            assert archive.testzip() is None
        assert names == sorted(f"SH{n}.{s}" for n in range(1, 5) for s in ("jpg", "mp4"))

        # missing files: SH2's picture and clip are gone, SH3's picture only
        (folder / "SH2.jpg").unlink()
        (folder / "SH2.mp4").unlink()
        (folder / "SH3.jpg").unlink()
        assert ann.get("/runs/shipments").json()["counters"] == {"jpg": 2, "mp4": 3}
        converted = ann.post("/runs/shipments/convert")
        assert converted.status_code == 200, converted.text
        assert converted.json() == {"converted": ["SH3"], "failed": []}
        retried = ann.post("/runs/shipments/retry")
        assert retried.status_code == 200, retried.text
        view = finished(ann, "shipments")
        rows = {row["id"]: row for row in view["rows"]}
        assert rows["SH2"]["status"] == "success" and not rows["SH2"]["skipped"]
        assert rows["SH1"]["skipped"] and rows["SH3"]["skipped"]
        assert rows["SH5"]["status"] == "failed" and rows["SH5"]["reason"] == "auth_failed"
        assert view["counters"] == {"jpg": 4, "mp4": 4}

        # after a restart, the run is listed again from its folder
        again = BatchService(site.runtime.settings.batch_dir)
        (listed,) = [r for r in again.runs(None) if r.name == "shipments"]
        assert listed.name == "shipments" and listed.owner == "ann" and not listed.running
        assert listed.totals.success == 4 and listed.counters.jpg == 4
        assert [r.status.value for r in again.view("shipments", "ann").rows][:2] == [
            "success",
            "success",
        ]

        deleted = ann.delete("/runs/shipments")
        assert deleted.status_code == 200, deleted.text
        assert deleted.json()["removed"] >= 8 and deleted.json()["folder_removed"]
        assert not folder.exists()
        assert not (site.runtime.settings.batch_dir / ".inputs" / "shipments").exists()
        error_body(ann.get("/runs/shipments"), 404)


def test_the_server_device_table(site: Site) -> None:
    with site.client("bob") as bob:
        table = bob.get("/devices").json()
        assert table["configured"] and table["name"] == "server-devices.csv"
        assert [d["dock"] for d in table["docks"]] == ["D1", "D2", "D3"]
        answer = start(bob, "server-table.csv", MANIFEST.split("SH5")[0], None, clip="false")
        assert answer.status_code == 201, answer.text
        view = finished(bob, "server-table")
        assert view["totals"]["success"] == 4
        assert view["counters"] == {"jpg": 4, "mp4": 0}
        assert view["options"]["clip"] is False and view["options"]["picture"] is True
        assert bob.delete("/runs/server-table").status_code == 200


def test_bad_input_is_a_400_naming_the_row_and_column(site: Site) -> None:
    with site.client("ann") as ann, site.client("vic") as vic:
        bad_time = MANIFEST.replace("2024-01-01 10:00:12.5", "yesterday")
        error = error_body(start(ann, "bad.csv", bad_time, site.devices), 400)
        assert "row 3" in error["message"] and "Scan Time" in error["message"], error
        error = error_body(start(ann, "bad.xls", MANIFEST, site.devices), 400)
        assert ".csv, .xlsx" in error["message"]
        error = error_body(start(ann, "x.csv", "Shipment,Dock\nSH1,D1\n", site.devices), 400)
        assert "time" in error["message"]
        error = error_body(start(ann, "x.csv", MANIFEST, site.devices, per_device="99"), 400)
        assert "per-device" in error["message"]
        error = error_body(start(ann, "x.csv", MANIFEST, site.devices, tz="Mars/Olympus"), 400)
        assert error["code"] == "invalid_request"
        started = [r["name"] for r in ann.get("/runs").json()["runs"]]
        assert "bad" not in started and "x" not in started  # nothing was started
        assert not (site.runtime.settings.batch_dir / ".inputs" / "bad").exists()
        error_body(vic.get("/runs"), 403)
        error_body(ann.get("/runs/nope"), 404)
        error_body(ann.get("/runs/..%2F..%2Fetc"), 404)
