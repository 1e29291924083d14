"""The download monitor is live by its run's event stream: the page updates while a run
progresses without asking the run's REST endpoint again and again, and it polls only when
the stream keeps failing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from footage.devices.emulator_server import EmulatorBase
from tests.helpers.devices import hik_and_dahua
from tests.helpers.media import tiny_archive
from tests.helpers.servers import Site
from tests.helpers.web import login

START = datetime(2024, 5, 1, 8, 0, 0, tzinfo=UTC)
ROWS = 10

# every change of the success count while the run is shown as running, as the page shows it
WATCH = """() => {
  window.seenWhileRunning = [];
  const node = document.querySelector("#total-success");
  if (!node) return;  // not the monitor
  new MutationObserver(() => {
    if (document.querySelector("#run-state").dataset.state === "running") {
      window.seenWhileRunning.push(Number(node.textContent));
    }
  }).observe(node, { childList: true, characterData: true, subtree: true });
}"""


@pytest.fixture(scope="module")
def nvrs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, EmulatorBase]]:
    root = tmp_path_factory.mktemp("live-monitor-footage")
    tiny_archive(root, START, timedelta(seconds=60), cameras=2, segment_seconds=10.0, workers=1)
    work = tmp_path_factory.mktemp("live-monitor-emulators")
    # slow bodies: the run takes a few seconds, row after row
    with hik_and_dahua(root, work, password="pw", faults="slow:1/download") as started:
        started["hik"].faults.slow_delay = 0.03
        yield started


def run_files(folder: Path, name: str, nvrs: dict[str, EmulatorBase]) -> tuple[Path, Path]:
    """A manifest of ROWS rows on two docks of the Hikvision, and its device table."""
    hik = nvrs["hik"]
    devices = folder / "devices.csv"
    devices.write_text(
        "dock,vendor,address,port,user,password,channel,timezone\n"
        f"D1,hikvision,{hik.host},{hik.port},admin,pw,1,UTC\n"
        f"D2,hikvision,{hik.host},{hik.port},admin,pw,2,UTC\n"
    )
    lines = ["shipment,scan time,dock"]
    for n in range(ROWS):
        at = START + timedelta(seconds=3 + n * 5)
        lines.append(f"LV{n:02d},{at:%Y-%m-%d %H:%M:%S}Z,D{n % 2 + 1}")
    manifest = folder / f"{name}.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest, devices


class Requests:
    """The page's requests to the run's REST endpoint and to its event stream."""

    def __init__(self, page: Any, name: str) -> None:
        self.run_path = f"/api/v1/batch/runs/{name}"
        self.reads: list[str] = []
        self.streams: list[str] = []
        page.on("request", self._seen)

    def _seen(self, request: Any) -> None:
        path = urlsplit(request.url).path
        if request.method == "GET" and path == self.run_path:
            self.reads.append(request.url)
        elif path == f"{self.run_path}/events":
            self.streams.append(request.url)


def start_run(page: Any, site: Site, manifest: Path, devices: Path) -> None:
    login(page, site.url, "dan")
    page.goto(f"{site.url}/monitor")
    page.set_input_files("#manifest-file", str(manifest))
    page.set_input_files("#devices-file", str(devices))
    page.check("#want-clip")
    page.click("#start-run")
    page.wait_for_selector("#run-panel:not([hidden])")


def test_the_page_is_live_without_polling(
    page: Any, site: Site, nvrs: dict[str, EmulatorBase], tmp_path: Path
) -> None:
    manifest, devices = run_files(tmp_path, "livepush", nvrs)
    requests = Requests(page, "livepush")
    page.add_init_script(f"window.addEventListener('DOMContentLoaded', {WATCH})")
    start_run(page, site, manifest, devices)

    page.wait_for_selector("#run-live.is-live")
    page.wait_for_selector("#run-state[data-state='finished']", timeout=90_000)
    assert page.text_content("#total-success") == str(ROWS)
    page.wait_for_function(f"document.querySelector('#count-jpg').textContent === '{ROWS}'")
    assert page.text_content("#count-mp4") == str(ROWS)
    assert page.locator("#row-rows tr[data-status='success']").count() == ROWS
    # the page changed while the run went on: the success count rose row after row
    seen = page.evaluate("window.seenWhileRunning")
    assert seen == sorted(seen) and len(set(seen)) >= 3, seen

    # idle, longer than the old poll interval; then a file deleted by hand still shows
    page.wait_for_timeout(4000)
    folder = site.runtime.settings.batch_dir / "livepush"
    (folder / "LV00.jpg").unlink()
    page.wait_for_function(f"document.querySelector('#count-jpg').textContent === '{ROWS - 1}'")

    # all of it came over one stream: the run's REST endpoint was not polled
    assert len(requests.streams) == 1, requests.streams
    assert requests.reads == [], requests.reads

    # another page of rows (a filter) is another stream, still no polling
    page.select_option("#row-filter", "problems")
    page.wait_for_function("document.querySelectorAll('#row-rows tr[data-row-id]').length === 0")
    assert len(requests.streams) == 2 and requests.reads == []


def test_the_page_polls_when_the_stream_keeps_failing(
    page: Any, site: Site, nvrs: dict[str, EmulatorBase], tmp_path: Path
) -> None:
    manifest, devices = run_files(tmp_path, "livefallback", nvrs)
    requests = Requests(page, "livefallback")
    page.route(
        "**/api/v1/batch/runs/livefallback/events*",
        lambda route: route.fulfill(status=503, body="unavailable"),
    )
    start_run(page, site, manifest, devices)

    # three refused streams (one every 2 s), then the run is read every few seconds
    for _ in range(100):
        if len(requests.streams) >= 3:
            break
        page.wait_for_timeout(100)
    page.wait_for_selector("#run-state[data-state='finished']", timeout=90_000)
    assert page.text_content("#total-success") == str(ROWS)
    assert "is-live" not in (page.get_attribute("#run-live", "class") or "")
    before = len(requests.reads)
    page.wait_for_timeout(3500)
    assert len(requests.reads) > before, requests.reads
    assert len(requests.streams) == 3, requests.streams  # the next try is 30 s later
