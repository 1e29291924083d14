"""The archive export page in a browser: choose cameras, drag the interval on the timeline,
start, watch the tasks and receive the files."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from footage.tasks.model import TaskFilter
from tests.helpers.servers import Site
from tests.helpers.web import ARCHIVE_LENGTH, ARCHIVE_START, ZONE, login


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(ZONE))


def drag(page: Any, from_fraction: float, to_fraction: float) -> None:
    box = page.locator("#timeline").bounding_box()
    y = box["y"] + 50  # on the recording track, above the time scale
    x1 = box["x"] + box["width"] * from_fraction
    x2 = box["x"] + box["width"] * to_fraction
    page.mouse.move(x1, y)
    page.mouse.down()
    page.mouse.move((x1 + x2) / 2, y, steps=4)
    page.mouse.move(x2, y, steps=4)
    page.mouse.up()


def test_export_two_cameras_by_dragging_and_get_both_files(
    page: Any, site: Site, tmp_path: Path
) -> None:
    login(page, site.url, "ann")
    start_button = page.locator("#start-export")
    page.wait_for_selector("[data-camera='cam1']")
    assert start_button.is_disabled()  # no camera selected yet
    page.check("[data-camera='cam1']")
    page.check("[data-camera='cam2']")
    assert page.text_content("#selected-count") == "2 selected"
    assert "Asia/Shanghai" in page.text_content("#zone-label")

    # the view shows the last hour of recording: drag from 45 % to 50 % of it
    drag(page, 0.45, 0.50)
    start = local(page.input_value("#start-input"))
    end = local(page.input_value("#end-input"))
    view_start = ARCHIVE_START + ARCHIVE_LENGTH - timedelta(minutes=55)
    assert abs(start - (view_start + timedelta(minutes=27))) < timedelta(seconds=20)
    assert abs(end - start - timedelta(minutes=3)) < timedelta(seconds=20)
    assert "3 min" in page.text_content("#duration-label")
    page.select_option("#format", "mp4")
    page.uncheck("#audio")
    assert start_button.is_enabled()

    downloads: list[Any] = []
    page.on("download", lambda download: downloads.append(download))
    with page.expect_download(timeout=60_000):
        start_button.click()
    items = page.locator("#task-list [data-task-id]")
    assert items.count() == 2
    deadline = time.monotonic() + 60
    while len(downloads) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert len(downloads) == 2
    page.wait_for_selector("#task-list [data-status='done'] >> nth=1")
    assert page.locator("#task-list [role=progressbar][aria-valuenow='100']").count() == 2

    tasks = site.runtime.tasks.service.list_page(TaskFilter(owner="ann")).tasks[:2]
    expected = {t.files[0].name: t.files[0].sha256 for t in tasks}
    for download in downloads:
        path = tmp_path / download.suggested_filename
        download.save_as(str(path))
        assert (
            expected[download.suggested_filename] == hashlib.sha256(path.read_bytes()).hexdigest()
        )
    assert {name.split("_")[0] for name in expected} == {"cam1", "cam2"}

    page.click("text=Export history")
    page.wait_for_url("**/history")
    for task in tasks:
        row = page.locator(f"tr[data-task-id='{task.id}']")
        assert row.get_attribute("data-status") == "done"
        assert row.locator(".status").text_content() == "Done"
        assert row.locator("[data-action=download]").count() == 1


def test_interval_typed_over_the_limit_is_refused(page: Any, site: Site) -> None:
    login(page, site.url, "ann")
    page.check("[data-camera='cam3']")
    page.fill("#start-input", "2026-03-01T16:00:00")
    page.fill("#end-input", "2026-03-01T17:30:00")
    page.locator("#end-input").dispatch_event("change")
    assert "longer than 1 h" in page.text_content("#interval-error")
    assert page.locator("#start-export").is_disabled()
    page.fill("#end-input", "2026-03-01T16:10:00")
    page.locator("#end-input").dispatch_event("change")
    assert page.text_content("#interval-error") == ""
    assert page.locator("#start-export").is_enabled()
    page.focus("#audio")  # keyboard: Space toggles, Tab goes on to Start export
    page.keyboard.press("Space")
    assert not page.is_checked("#audio")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "start-export"


def test_without_export_permission_there_is_no_start_button(page: Any, site: Site) -> None:
    login(page, site.url, "vic")
    page.wait_for_selector("[data-camera='cam1']")
    assert page.locator("#start-export").count() == 0
    assert page.locator("#no-export").is_visible()
    assert page.locator("[data-camera]").count() == 1  # only the camera vic may see
    page.goto(f"{site.url}/history")
    assert "no permission to export" in page.text_content("main")
