"""Browser tests: Debian's chromium driven by Playwright against real footage servers.

Without /usr/bin/chromium or the playwright package the browser tests are skipped, with the
reason, except on CI (``CI=true``), where that is a failure. A failed test leaves a
screenshot, ``failure.png``, in its tmp_path."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.media import tiny_archive
from tests.helpers.servers import Site, serve
from tests.helpers.web import ARCHIVE_LENGTH, ARCHIVE_START, PASSWORD, ZONE

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
USERS = {
    "ann": ("export", None),
    "cat": ("export", None),
    "dan": ("export", None),
    "vic": ("view", ["cam1"]),
    "root": ("admin", None),
}


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install playwright)"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    missing = _missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run on CI: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    context = browser.new_context(
        viewport={"width": 1360, "height": 900},
        timezone_id=ZONE,
        locale="en-GB",
        accept_downloads=True,
    )
    context.set_default_timeout(20_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        opened.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
    context.close()
    assert not errors, f"script errors on the page: {errors}"


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("archive")
    return tiny_archive(
        root, ARCHIVE_START, ARCHIVE_LENGTH, cameras=3, audio=True, stamps="loop", workers=1
    )


def _site(root: Path, archive: Path, workers: int) -> Iterator[Site]:
    with serve(
        root,
        archive=archive,
        users=USERS,
        password=PASSWORD,
        workers=workers,
        tokens=False,
        heartbeat=5,
    ) as site:
        yield site


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, archive: Path) -> Iterator[Site]:
    """A server whose worker runs exports."""
    yield from _site(tmp_path_factory.mktemp("site"), archive, workers=1)


@pytest.fixture(scope="session")
def idle_site(tmp_path_factory: pytest.TempPathFactory, archive: Path) -> Iterator[Site]:
    """A server without workers: its exports stay In Queue."""
    yield from _site(tmp_path_factory.mktemp("idle"), archive, workers=0)
