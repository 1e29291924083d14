"""The REST API over a real socket: cameras, timelines, pictures, previews, exports,
permissions, per-user isolation, CSRF and the error shape of bad input."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.helpers.media import tiny_archive
from tests.helpers.servers import Site, api_time, error_body, serve

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
PASSWORD = "correct-horse"
USERS = {
    "ann": ("export", None),
    "bob": ("export", None),
    "vic": ("view", ["cam1"]),
    "root": ("admin", None),
}


def at(minutes: float) -> str:
    return api_time(START + timedelta(minutes=minutes))


def _site(root: Path, archive: Path, workers: int) -> Iterator[Site]:
    with serve(
        root, archive=archive, users=USERS, password=PASSWORD, workers=workers, heartbeat=0.5
    ) as site:
        yield site


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("archive")
    return tiny_archive(root, START, timedelta(minutes=20), cameras=2, stamps="loop", workers=1)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, archive: Path) -> Iterator[Site]:
    yield from _site(tmp_path_factory.mktemp("busy"), archive, workers=1)


@pytest.fixture(scope="module")
def idle(tmp_path_factory: pytest.TempPathFactory, archive: Path) -> Iterator[Site]:
    """A server with no workers: its tasks stay queued."""
    yield from _site(tmp_path_factory.mktemp("idle"), archive, workers=0)


def error_of(response: httpx.Response, status: int) -> str:
    message = error_body(response, status)["message"]
    assert message
    return message


def wait_done(client: httpx.Client, task_id: str, timeout: float = 30) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        task: dict[str, object] = client.get(f"/api/v1/exports/{task_id}").json()
        if task["status"] not in ("queued", "running") or time.monotonic() > deadline:
            return task
        time.sleep(0.05)


def export(client: httpx.Client, cameras: list[str], **extra: object) -> list[dict[str, object]]:
    body = {"cameras": cameras, "start": at(2), "end": at(2.5), "audio": False, **extra}
    response = client.post("/api/v1/exports", json=body)
    assert response.status_code == 201, response.text
    tasks: list[dict[str, object]] = response.json()["tasks"]
    return tasks


# -- cameras and timelines ------------------------------------------------------------------
def test_cameras_come_as_a_list_and_a_tree(site: Site) -> None:
    with site.client("ann") as c:
        body = c.get("/api/v1/cameras").json()
    assert [cam["id"] for cam in body["cameras"]] == ["cam1", "cam2"]
    assert body["cameras"][0]["first"] == "2026-03-01T08:00:00Z"
    assert body["cameras"][0]["last"] == "2026-03-01T08:20:00Z"
    (group,) = body["groups"]
    assert group["id"] == "local" and [cam["id"] for cam in group["cameras"]] == ["cam1", "cam2"]


def test_a_user_limited_to_some_cameras_sees_only_those(site: Site) -> None:
    with site.client("vic") as c:
        assert [cam["id"] for cam in c.get("/api/v1/cameras").json()["cameras"]] == ["cam1"]
        assert c.get("/api/v1/cameras/cam1").status_code == 200
        error_of(c.get("/api/v1/cameras/cam2"), 404)
        error_of(c.get("/api/v1/cameras/cam2/timeline", params={"start": at(0), "end": at(5)}), 404)
        error_of(c.get("/api/v1/cameras/cam2/picture", params={"at": at(1)}), 404)


def test_without_credentials_the_answer_is_401_in_the_error_shape(site: Site) -> None:
    with site.client() as c:
        response = c.get("/api/v1/cameras")
        assert "log in" in error_of(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
        error_of(c.get("/api/v1/cameras", headers={"Authorization": "Bearer ftg_nope"}), 401)


def test_timeline_has_spans_and_gaps(site: Site) -> None:
    with site.client("ann") as c:
        body = c.get(
            "/api/v1/cameras/cam1/timeline", params={"start": at(-10), "end": at(30)}
        ).json()
    assert body["spans"] == [{"start": at(0), "end": at(20)}]
    assert body["gaps"] == [{"start": at(-10), "end": at(0)}, {"start": at(20), "end": at(30)}]


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"start": at(5), "end": at(1)}, 400, "not after the start"),
        ({"start": "2026-03-01T08:00:00", "end": at(1)}, 400, "no time zone"),
        ({"start": "yesterday", "end": at(1)}, 400, "cannot read time"),
        ({"start": at(0), "end": at(60 * 24 * 90)}, 400, "longer than"),
        ({"start": at(0)}, 400, "end"),
    ],
)
def test_bad_timeline_ranges_are_refused_with_a_message(
    site: Site, params: dict[str, str], status: int, words: str
) -> None:
    with site.client("ann") as c:
        assert words in error_of(c.get("/api/v1/cameras/cam1/timeline", params=params), status)


def test_unknown_camera_is_404(site: Site) -> None:
    with site.client("ann") as c:
        params = {"start": at(0), "end": at(1)}
        assert "cam9" in error_of(c.get("/api/v1/cameras/cam9/timeline", params=params), 404)


# -- pictures and previews -------------------------------------------------------------------
def test_picture_at_an_instant_is_a_jpeg(site: Site) -> None:
    with site.client("vic") as c:
        response = c.get("/api/v1/cameras/cam1/picture", params={"at": at(3), "width": 80})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/jpeg"
        assert response.content[:2] == b"\xff\xd8"
        assert response.headers["x-shown-at"].startswith("2026-03-01T08:0")
        assert "no recording" in error_of(
            c.get("/api/v1/cameras/cam1/picture", params={"at": at(40)}), 404
        )


def test_preview_is_fragmented_mp4_and_refuses_before_the_first_byte(site: Site) -> None:
    with site.client("vic") as c:
        params = {"start": at(3), "duration": 5}
        with c.stream("GET", "/api/v1/cameras/cam1/preview", params=params) as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "video/mp4"
            data = response.read()
        assert data[4:8] == b"ftyp" and b"moof" in data and b"mdat" in data
        assert "60" in error_of(
            c.get("/api/v1/cameras/cam1/preview", params={"start": at(3), "duration": 61}), 400
        )
        error_of(c.get("/api/v1/cameras/cam1/preview", params={"start": at(30)}), 404)


# -- exports ---------------------------------------------------------------------------------
def test_an_export_of_two_cameras_makes_two_tasks_that_finish(site: Site) -> None:
    with site.client("ann") as c:
        first, second = export(c, ["cam1", "cam2"])
        assert (first["camera_id"], second["camera_id"]) == ("cam1", "cam2")
        assert first["status"] == "queued" and first["origin"] == "rest"
        done = [wait_done(c, str(task["id"])) for task in (first, second)]
        assert [task["status"] for task in done] == ["done", "done"]
        files = done[0]["files"]
        assert isinstance(files, list) and files[0]["mime_type"] == "video/mp4"
        download = c.get(files[0]["url"])
        assert download.status_code == 200 and download.content[4:8] == b"ftyp"
        assert "only failed, cancelled or expired" in error_of(
            c.post(f"/api/v1/exports/{first['id']}/retry"), 409
        )
        assert "it is done" in error_of(c.post(f"/api/v1/exports/{first['id']}/cancel"), 409)


def test_a_picture_export_makes_a_jpeg(site: Site) -> None:
    with site.client("ann") as c:
        (task,) = export(c, ["cam2"], format="jpg")
        done = wait_done(c, str(task["id"]))
        assert done["status"] == "done" and done["kind"] == "pictures"
        files = done["files"]
        assert isinstance(files, list)
        assert c.get(files[0]["url"]).content[:2] == b"\xff\xd8"


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"start": at(0), "end": at(61)}, 400, "longer than"),
        ({"start": at(5), "end": at(1)}, 400, "not after the start"),
        ({"cameras": ["cam9"]}, 404, "cam9"),
        ({"cameras": []}, 400, "cameras"),
        ({"cameras": ["cam1", "cam1"]}, 400, "more than once"),
        ({"format": "avi"}, 400, "format"),
        ({"colour": "red"}, 400, "colour"),
        ({"start": "08:00"}, 400, "cannot read time"),
    ],
)
def test_bad_exports_are_refused_with_a_message(
    site: Site, body: dict[str, object], status: int, words: str
) -> None:
    full = {"cameras": ["cam1"], "start": at(1), "end": at(2), **body}
    with site.client("ann") as c:
        assert words in error_of(c.post("/api/v1/exports", json=full), status)


def test_malformed_json_is_400(site: Site) -> None:
    with site.client("ann") as c:
        response = c.post(
            "/api/v1/exports", content=b"{nope", headers={"Content-Type": "application/json"}
        )
        error_of(response, 400)


def test_list_filters_and_pages(idle: Site) -> None:
    with idle.client("bob") as c:
        made = [export(c, ["cam1", "cam2"])[0]["id"] for _ in range(3)]
        seen: list[str] = []
        token = None
        while True:
            params: dict[str, str | int] = {"page_size": 2, "camera": "cam1"}
            if token:
                params["page_token"] = token
            page = c.get("/api/v1/exports", params=params).json()
            assert page["total"] == 3
            seen += [task["id"] for task in page["tasks"]]
            token = page["next_page_token"]
            if token is None:
                break
        assert seen == list(reversed(made))  # newest first, nothing twice
        queued = c.get("/api/v1/exports", params={"status": ["queued", "running"]}).json()
        assert queued["total"] == 6
        assert c.get("/api/v1/exports", params={"status": "done"}).json()["total"] == 0
        error_of(c.get("/api/v1/exports", params={"status": "sleeping"}), 400)
        assert "page token" in error_of(c.get("/api/v1/exports", params={"page_token": "%%"}), 400)
        error_of(c.get("/api/v1/exports", params={"page_size": 0}), 400)


def test_cancel_then_retry_makes_a_new_task_and_keeps_the_old(idle: Site) -> None:
    with idle.client("ann") as c:
        (task,) = export(c, ["cam1"])
        cancelled = c.post(f"/api/v1/exports/{task['id']}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        assert "ann" in cancelled.json()["failure"]["message"]
        retry = c.post(f"/api/v1/exports/{task['id']}/retry")
        assert retry.status_code == 201
        assert retry.json()["retry_of"] == task["id"] and retry.json()["status"] == "queued"
        assert c.get(f"/api/v1/exports/{task['id']}").json()["status"] == "cancelled"
        assert "no files" in error_of(c.get(f"/api/v1/exports/{task['id']}/files/x.mp4"), 409)
        assert c.delete(f"/api/v1/exports/{task['id']}").status_code == 204
        error_of(c.get(f"/api/v1/exports/{task['id']}"), 404)
        ids = [t["id"] for t in c.get("/api/v1/exports", params={"page_size": 100}).json()["tasks"]]
        assert task["id"] not in ids and retry.json()["id"] in ids


# -- permissions and isolation ---------------------------------------------------------------
def test_without_export_permission_exports_are_403(site: Site) -> None:
    with site.client("vic") as c:
        body = {"cameras": ["cam1"], "start": at(1), "end": at(2)}
        assert "export" in error_of(c.post("/api/v1/exports", json=body), 403)
        error_of(c.get("/api/v1/exports"), 403)
        error_of(c.get("/api/v1/events"), 403)


def test_another_users_task_is_404_and_an_admin_sees_it(idle: Site) -> None:
    with idle.client("ann") as ann, idle.client("bob") as bob, idle.client("root") as root:
        (task,) = export(ann, ["cam2"])
        path = f"/api/v1/exports/{task['id']}"
        for response in (
            bob.get(path),
            bob.post(f"{path}/cancel"),
            bob.post(f"{path}/retry"),
            bob.delete(path),
            bob.get(f"{path}/files/anything.mp4"),
        ):
            error_of(response, 404)
        assert task["id"] not in [t["id"] for t in bob.get("/api/v1/exports").json()["tasks"]]
        error_of(bob.get("/api/v1/exports", params={"all": True}), 403)
        error_of(bob.get("/api/v1/exports", params={"owner": "ann"}), 403)
        assert root.get(path).json()["owner"] == "ann"
        everyone = root.get("/api/v1/exports", params={"all": True, "page_size": 100}).json()
        assert task["id"] in [t["id"] for t in everyone["tasks"]]
        assert ann.get(path).status_code == 200


# -- sessions and CSRF -----------------------------------------------------------------------
def test_session_cookie_login_csrf_and_logout(site: Site) -> None:
    with site.client() as c:
        error_of(c.post("/api/v1/auth/login", json={"name": "ann", "password": "nope"}), 401)
        login = c.post("/api/v1/auth/login", json={"name": "ann", "password": PASSWORD})
        assert login.status_code == 200
        cookie = login.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
        csrf = login.json()["csrf_token"]
        body = {"cameras": ["cam1"], "start": at(1), "end": at(1.5), "audio": False}
        assert "CSRF" in error_of(c.post("/api/v1/exports", json=body), 403)
        wrong = {"X-CSRF-Token": "0" * 64}
        error_of(c.post("/api/v1/exports", json=body, headers=wrong), 403)
        made = c.post("/api/v1/exports", json=body, headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201 and made.json()["tasks"][0]["origin"] == "web"
        assert c.get("/api/v1/auth/me").json()["name"] == "ann"  # reads need no token
        error_of(c.post("/api/v1/auth/logout"), 403)
        assert c.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
        error_of(c.get("/api/v1/auth/me"), 401)


def test_bearer_requests_need_no_csrf_token_and_can_mint_tokens(site: Site) -> None:
    with site.client("bob") as c:
        minted = c.post("/api/v1/auth/tokens", json={"label": "script", "ttl_hours": 1})
        assert minted.status_code == 201
        token = minted.json()["token"]
    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {token}"}) as c:
        me = c.get("/api/v1/auth/me").json()
        assert me["name"] == "bob" and me["csrf_token"] is None


def test_login_form_needs_its_csrf_cookie(site: Site) -> None:
    with site.client() as c:
        form = {"name": "ann", "password": PASSWORD, "csrf_token": "forged"}
        assert c.post("/login", data=form).status_code == 403
        page = c.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        done = c.post("/login", data={**form, "csrf_token": token, "next": "//evil.example/"})
        assert done.status_code == 303 and done.headers["location"] == "/export"
        assert c.get("/export").status_code == 200


def test_pages_redirect_to_login_and_unknown_paths_are_json_404(site: Site) -> None:
    with site.client() as c:
        response = c.get("/history")
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/history"
        error_of(c.get("/api/v1/nothing"), 404)
        assert c.get("/static/app.css").status_code == 200
