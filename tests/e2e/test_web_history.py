"""The export history page in a browser: live status, Cancel, Retry and pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from footage.domain import TimeRange
from footage.tasks.model import ExportRequest, Origin, TaskFilter
from tests.helpers.servers import Site
from tests.helpers.web import ARCHIVE_START, login


def queue(site: Site, owner: str, minutes: float = 60) -> str:
    span = TimeRange(start=ARCHIVE_START, end=ARCHIVE_START + timedelta(minutes=minutes))
    request = ExportRequest(camera_id="cam1", range=span)
    return site.runtime.tasks.service.submit(request, owner=owner, origin=Origin.WEB).id


def test_cancel_a_queued_task_then_retry_it(page: Any, idle_site: Site) -> None:
    task_id = queue(idle_site, "dan")
    login(page, idle_site.url, "dan")
    page.click("text=Export history")
    row = page.locator(f"tr[data-task-id='{task_id}']")
    assert row.locator(".status").text_content() == "In Queue"
    row.locator("[data-action=cancel]").click()
    page.wait_for_selector(f"tr[data-task-id='{task_id}'][data-status='cancelled']")
    assert row.locator(".status").text_content() == "Cancelled"
    row.locator("[data-action=retry]").click()
    page.wait_for_function(
        "document.querySelectorAll('#history-rows tr[data-task-id]').length == 2"
    )
    rows = page.locator("#history-rows tr[data-task-id]")
    new_id = rows.nth(0).get_attribute("data-task-id")
    assert new_id != task_id
    assert rows.nth(0).get_attribute("data-status") == "queued"
    assert rows.nth(1).get_attribute("data-task-id") == task_id
    assert rows.nth(1).get_attribute("data-status") == "cancelled"
    assert idle_site.runtime.tasks.service.get(str(new_id)).retry_of == task_id


def test_a_task_started_elsewhere_appears_live(page: Any, idle_site: Site) -> None:
    login(page, idle_site.url, "root")
    page.goto(f"{idle_site.url}/history")
    page.wait_for_selector("#live-state.is-live")
    task_id = queue(idle_site, "root", minutes=5)
    page.wait_for_selector(f"tr[data-task-id='{task_id}'][data-status='queued']")
    idle_site.runtime.tasks.service.cancel(task_id)
    page.wait_for_selector(f"tr[data-task-id='{task_id}'][data-status='cancelled']")


def test_page_two_of_twenty_five_tasks(page: Any, idle_site: Site) -> None:
    for _ in range(25):
        queue(idle_site, "cat", minutes=1)
    newest_first = [
        t.id
        for t in idle_site.runtime.tasks.service.list_page(
            TaskFilter(owner="cat"), page_size=100
        ).tasks
    ]
    login(page, idle_site.url, "cat")
    page.goto(f"{idle_site.url}/history")
    page.wait_for_selector("#history-rows tr[data-task-id]")
    rows = page.locator("#history-rows tr[data-task-id]")
    assert rows.count() == 10
    assert page.text_content("#page-label") == "Page 1 of 3"
    assert page.locator("#prev-page").is_disabled()
    page.click("#next-page")
    page.wait_for_function("document.getElementById('page-label').textContent == 'Page 2 of 3'")
    ids = [rows.nth(i).get_attribute("data-task-id") for i in range(rows.count())]
    assert ids == newest_first[10:20]
    page.click("#next-page")
    page.wait_for_function("document.getElementById('page-label').textContent == 'Page 3 of 3'")
    assert rows.count() == 5 and page.locator("#next-page").is_disabled()
    page.click("#prev-page")
    page.wait_for_function("document.getElementById('page-label').textContent == 'Page 2 of 3'")
    assert rows.nth(0).get_attribute("data-task-id") == newest_first[10]
