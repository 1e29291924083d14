"""What the browser tests (tests/e2e) share besides their fixtures: the archive the servers
show, the users' password and time zone, and logging in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

ARCHIVE_START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ARCHIVE_LENGTH = timedelta(minutes=30)
PASSWORD = "password-1"  # every user's
ZONE = "Asia/Shanghai"  # the browser's


def login(page: Any, url: str, user: str, *, lang: str = "") -> None:
    page.goto(f"{url}/login" + (f"?lang={lang}" if lang else ""))
    page.fill("#name", user)
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_url("**/export")
