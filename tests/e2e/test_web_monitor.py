"""The download monitor in the browser: upload a manifest and a device table, start, watch
devices and rows reach success or failure with their reasons and the file counts rise,
reload and find the run again, download the missing again, and delete all files."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from footage.devices.emulator_server import EmulatorBase
from tests.helpers.devices import hik_and_dahua
from tests.helpers.media import tiny_archive
from tests.helpers.servers import Site
from tests.helpers.web import login

START = datetime(2024, 5, 1, 8, 0, 0, tzinfo=UTC)  # 16:00 in +08:00, as the sample
SHOTS = os.environ.get("FOOTAGE_TEST_SHOTS")  # a folder for screenshots of the page


@pytest.fixture(scope="module")
def nvrs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, EmulatorBase]]:
    root = tmp_path_factory.mktemp("monitor-footage")
    duration = timedelta(seconds=90)
    tiny_archive(root, START, duration, cameras=2, segment_seconds=10.0, workers=1)
    work = tmp_path_factory.mktemp("monitor-emulators")
    # slow bodies, so the page is seen mid-run
    with hik_and_dahua(root, work, password="demo-pass", faults="slow:1/download") as started:
        started["hik"].faults.slow_delay = 0.01
        yield started


def sample_files(folder: Path, nvrs: dict[str, EmulatorBase]) -> tuple[Path, Path]:
    """A manifest like footage/batch/sample/shipments.csv, naive times in +08:00, and its
    device table: D1/D2 on the Hikvision, D3 on the Dahua (a wrong password), D4 nowhere."""
    hik, dah = nvrs["hik"], nvrs["dah"]
    devices = folder / "devices.toml"
    docks = [
        ("D1", "hikvision", hik.port, "demo-pass", 1),
        ("D2", "hikvision", hik.port, "demo-pass", 2),
        ("D3", "dahua", dah.port, "not-it", 1),
    ]
    devices.write_text(
        "".join(
            f'[[dock]]\ndock = "{d}"\nvendor = "{v}"\naddress = "127.0.0.1"\nport = {p}\n'
            f'user = "admin"\npassword = "{pw}"\nchannel = {c}\ntimezone = "UTC"\n\n'
            for d, v, p, pw, c in docks
        )
    )
    lines = ["shipment,scan time,dock"]
    for n in range(16):
        at = START + timedelta(hours=8, seconds=3 + n * 5)
        dock = ("D1", "D2", "D1", "D2", "D3", "D1", "D2", "D4")[n % 8]
        lines.append(f"SH2405010{n:02d},{at:%Y-%m-%d %H:%M:%S},{dock}")
    manifest = folder / "shipments.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest, devices


def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"monitor-{name}.png"), full_page=True)


def count(page: Any, node: str) -> int:
    return int(page.text_content(f"#{node}") or "0")


def test_a_run_in_the_download_monitor(
    page: Any, site: Site, nvrs: dict[str, EmulatorBase], tmp_path: Path
) -> None:
    manifest, devices = sample_files(tmp_path, nvrs)
    login(page, site.url, "ann")
    page.click("a[href='/monitor']")
    page.wait_for_url("**/monitor")
    assert page.text_content("h1#monitor-title") == "Download monitor"
    page.set_input_files("#manifest-file", str(manifest))
    page.set_input_files("#devices-file", str(devices))
    page.fill("#tz", "+08:00")
    page.check("#want-clip")
    page.click("#start-run")

    page.wait_for_selector("#run-panel:not([hidden])")
    assert page.text_content("#run-name") == "shipments"
    page.wait_for_selector("tr[data-row-id='SH240501000'][data-status='success']", timeout=60_000)
    shot(page, "mid-run")
    page.wait_for_selector("#run-state[data-state='finished']", timeout=60_000)
    page.wait_for_function("document.querySelector('#count-jpg').textContent === '12'")
    shot(page, "after")

    # devices: the Hikvision went through every stage; the Dahua refused the login
    gate = page.locator("tr[data-device^='hikvision@']")
    assert gate.locator("td[data-stage='login']").get_attribute("data-status") == "ok"
    assert gate.locator("td[data-stage='download']").get_attribute("data-status") == "ok"
    yard = page.locator("tr[data-device^='dahua@']")
    assert yard.locator("td[data-stage='login']").get_attribute("data-status") == "failed"
    assert "login refused" in (yard.text_content() or "")
    # rows: success, and failures with the reason
    assert count(page, "total-success") == 12 and count(page, "total-failed") == 4
    assert (count(page, "count-jpg"), count(page, "count-mp4")) == (12, 12)
    failed = page.locator("tr[data-row-id='SH240501004']")
    assert failed.get_attribute("data-status") == "failed"
    assert "login refused" in (failed.text_content() or "")
    unknown = page.locator("tr[data-row-id='SH240501007']")
    assert "dock not in the device table" in (unknown.text_content() or "")
    page.select_option("#row-filter", "problems")
    page.wait_for_function("document.querySelectorAll('#row-rows tr').length === 4")
    page.select_option("#row-filter", "all")

    # a reload finds the run again
    page.reload()
    page.wait_for_function("document.querySelector('#run-name').textContent === 'shipments'")
    page.wait_for_function("document.querySelector('#count-mp4').textContent === '12'")

    # a picture goes missing: "download the missing again" brings it back
    folder = site.runtime.settings.batch_dir / "shipments"
    (folder / "SH240501000.jpg").unlink()
    (folder / "SH240501000.mp4").unlink()
    page.wait_for_function("document.querySelector('#count-jpg').textContent === '11'")
    page.click("#retry-missing")
    page.wait_for_function("document.querySelector('#count-jpg').textContent === '12'")
    page.wait_for_selector("#run-state[data-state='finished']")
    assert page.locator("tr[data-row-id='SH240501002']").get_attribute("data-status") == "success"
    assert count(page, "total-success") == 12

    zip_link = page.get_attribute("#download-zip", "href")
    assert zip_link == "/api/v1/batch/runs/shipments/files.zip"

    # delete all files: a dialog asks first; cancelling keeps everything
    page.click("#delete-all")
    assert page.is_visible("#confirm-delete")
    assert re.search(r"12 \.jpg, 12 \.mp4", page.text_content("#confirm-text") or "")
    page.click("#confirm-cancel")
    assert folder.exists()
    page.click("#delete-all")
    page.click("#confirm-ok")
    page.wait_for_selector("#run-panel", state="hidden")
    page.wait_for_function("document.querySelector('#run-select').textContent === 'No runs yet'")
    assert "Deleted" in (page.text_content("#action-result") or "")
    assert not folder.exists()


def test_the_monitor_in_chinese_and_without_export_permission(page: Any, site: Site) -> None:
    login(page, site.url, "ann", lang="zh-CN")
    page.goto(f"{site.url}/monitor")
    assert page.text_content("a[href='/monitor']") == "下载监控"
    assert page.text_content("#delete-all") == "删除所有文件"
    assert page.text_content("#retry-missing") == "重新下载缺失文件"
    page.goto(f"{site.url}/monitor?lang=en")
    page.click("form.logout button")
    login(page, site.url, "vic")
    assert page.locator("a[href='/monitor']").count() == 0
    page.goto(f"{site.url}/monitor")
    assert "no permission" in (page.text_content(".notice") or "")
