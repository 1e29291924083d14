"""Login throttling over real HTTP: refused logins cost no password check, the wait is
announced (429 + Retry-After), and locks stay with the user name and address they belong to."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from footage.auth import User
from footage.auth.throttle import LoginThrottle
from footage.config.settings import ServerSettings
from tests.helpers.servers import Site, error_body, serve

PASSWORD = "correct-horse"
USERS = {"ann": ("export", None), "bob": ("export", None)}
LOGIN = "/api/v1/auth/login"


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


class Checks:
    """Counts the password checks a site's user store makes."""

    def __init__(self, site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        users = site.runtime.users
        real: Callable[[str, str], User] = users.authenticate

        def counted(name: str, password: str) -> User:
            self.count += 1
            return real(name, password)

        monkeypatch.setattr(users, "authenticate", counted)


def _serve(root: Path, **settings: object) -> Iterator[Site]:
    with serve(root, users=USERS, password=PASSWORD, workers=0, start=False, **settings) as site:
        yield site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from _serve(tmp_path_factory.mktemp("direct"))


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A site behind a (pretend) reverse proxy on 127.0.0.1."""
    yield from _serve(
        tmp_path_factory.mktemp("proxied"), server=ServerSettings(trusted_proxies=["127.0.0.1"])
    )


@pytest.fixture
def clock(site: Site, proxied: Site) -> Clock:
    """A fresh throttle on each site, on a clock the test moves."""
    manual = Clock()
    for served in (site, proxied):
        served.runtime.users.throttle = LoginThrottle(clock=manual)
    return manual


def login(client: httpx.Client, name: str, password: str, **headers: str) -> httpx.Response:
    return client.post(LOGIN, json={"name": name, "password": password}, headers=headers)


def test_the_sixth_attempt_is_refused_unchecked(
    site: Site, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = Checks(site, monkeypatch)
    with site.client() as c:
        for _ in range(5):
            error_body(login(c, "ann", "wrong-password"), 401)
        assert checks.count == 5
        refused = login(c, "ann", PASSWORD)  # the right password, too late
        error = error_body(refused, 429)
        assert checks.count == 5  # no password check for it: no Argon2 work
        assert refused.headers["Retry-After"] == "60"
        assert error == {
            "code": "too_many_logins",
            "message": "too many failed logins for this user from your address; try again in 60 s",
        }
        assert "footage_session" not in refused.cookies

        clock.now += 30
        assert login(c, "ann", PASSWORD).headers["Retry-After"] == "30"
        clock.now += 30
        ok = login(c, "ann", PASSWORD)
        assert ok.status_code == 200 and ok.json()["name"] == "ann"
        assert checks.count == 6
        # the success cleared the failures: a whole new budget of five
        for _ in range(5):
            error_body(login(c, "ann", "wrong-password"), 401)
        error_body(login(c, "ann", PASSWORD), 429)
        assert checks.count == 11


def test_a_lock_stays_with_its_name_and_address(
    site: Site, proxied: Site, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    with site.client() as c:
        for _ in range(5):
            error_body(login(c, "ann", "wrong-password"), 401)
        error_body(login(c, "ann", PASSWORD), 429)
        assert login(c, "bob", PASSWORD).status_code == 200  # another user name
        # tokens are not throttled
        with site.client("ann") as scripted:
            assert scripted.get("/api/v1/auth/me").json()["name"] == "ann"
        # without server.trusted_proxies, X-Forwarded-For changes nothing
        error_body(login(c, "ann", PASSWORD, **{"X-Forwarded-For": "203.0.113.9"}), 429)

    checks = Checks(proxied, monkeypatch)
    with proxied.client() as c:
        home = {"X-Forwarded-For": "198.51.100.1"}
        for _ in range(5):
            error_body(login(c, "ann", "wrong-password", **home), 401)
        error_body(login(c, "ann", PASSWORD, **home), 429)
        # spoofing the left of the header does not help: the proxy's own hop counts
        spoofed = {"X-Forwarded-For": "203.0.113.50, 198.51.100.1"}
        error_body(login(c, "ann", PASSWORD, **spoofed), 429)
        assert checks.count == 5
        elsewhere = {"X-Forwarded-For": "203.0.113.50"}
        assert login(c, "ann", PASSWORD, **elsewhere).status_code == 200


def test_spraying_names_locks_the_address(proxied: Site, clock: Clock) -> None:
    attacker = {"X-Forwarded-For": "198.51.100.66"}
    with proxied.client() as c:
        for n in range(30):
            error_body(login(c, f"guess{n}", "wrong-password", **attacker), 401)
        refused = login(c, "bob", PASSWORD, **attacker)
        assert error_body(refused, 429)["message"] == (
            "too many failed logins from your address; try again in 60 s"
        )
        assert login(c, "bob", PASSWORD, **{"X-Forwarded-For": "198.51.100.67"}).status_code == 200


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "Too many failed logins for this user from your address. Try again in 60 s."),
        ("zh-CN", "该用户从您的地址登录失败次数过多，请在 60 秒后重试。"),  # noqa: RUF001
    ],
)
def test_the_login_form_says_so(site: Site, clock: Clock, lang: str, text: str) -> None:
    with site.client() as c:
        page = c.get(f"/login?lang={lang}")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found
        form = {"name": "ann", "password": "wrong-password", "csrf_token": found[1]}
        for _ in range(5):
            assert c.post("/login", data=form).status_code == 401
        refused = c.post("/login", data={**form, "password": PASSWORD})
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
        assert text in refused.text
        assert "footage_session" not in c.cookies
