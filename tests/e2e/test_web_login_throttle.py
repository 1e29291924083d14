"""The login page in a browser after too many wrong passwords: it says so, and for how long."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from footage.auth.throttle import LoginThrottle
from tests.helpers.servers import Site
from tests.helpers.web import PASSWORD


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(site: Site) -> Iterator[Clock]:
    """A throttle of its own on the shared site (the other tests' is put back after)."""
    manual = Clock()
    users = site.runtime.users
    kept = users.throttle
    users.throttle = LoginThrottle(clock=manual)
    yield manual
    users.throttle = kept


def attempt(page: Any, password: str) -> None:
    page.fill("#name", "cat")
    page.fill("#password", password)
    page.click("#login-button")
    page.wait_for_load_state()


def test_the_login_page_shows_the_lockout(page: Any, site: Site, clock: Clock) -> None:
    page.goto(f"{site.url}/login")
    for _ in range(5):
        attempt(page, "not-the-password")
        assert page.text_content("#login-error") == "Wrong user name or password."
    attempt(page, PASSWORD)  # the right one, but too late
    assert page.text_content("#login-error") == (
        "Too many failed logins for this user from your address. Try again in 60 s."
    )
    assert page.input_value("#name") == "cat"
    clock.now += 60
    attempt(page, PASSWORD)
    page.wait_for_url("**/export")
