"""The OpenAPI document is valid, and no generated request makes the API answer 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate

from footage.config.settings import TasksSettings
from tests.helpers.media import tiny_archive
from tests.helpers.servers import serve

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ENDLESS = "/api/v1/events"  # an endless stream: not for a request/response fuzzer


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    root = tmp_path_factory.mktemp("openapi")
    archive = tiny_archive(root / "archive", START, timedelta(minutes=2), stamps="loop", workers=1)
    with serve(
        root,
        archive=archive,
        users={"root": ("admin", None)},
        password="password-1",
        workers=0,
        start=False,  # not started: tasks stay queued
        tasks=TasksSettings(),
    ) as server:
        yield server.url, server.tokens["root"]


def test_the_document_is_valid_openapi(served: tuple[str, str]) -> None:
    url, _token = served
    document = httpx.get(f"{url}/api/v1/openapi.json").json()
    validate(document)
    paths = document["paths"]
    for path in (
        "/api/v1/cameras",
        "/api/v1/cameras/{camera_id}/timeline",
        "/api/v1/cameras/{camera_id}/picture",
        "/api/v1/cameras/{camera_id}/preview",
        "/api/v1/exports",
        "/api/v1/exports/{task_id}",
        "/api/v1/exports/{task_id}/cancel",
        "/api/v1/exports/{task_id}/retry",
        "/api/v1/exports/{task_id}/files/{name}",
        "/api/v1/events",
        "/api/v1/auth/login",
        "/api/v1/auth/tokens",
        "/api/v1/batch/runs",
        "/api/v1/batch/runs/{name}",
        "/api/v1/batch/runs/{name}/retry",
        "/api/v1/batch/runs/{name}/convert",
        "/api/v1/batch/runs/{name}/files.zip",
    ):
        assert path in paths, path
    create = paths["/api/v1/exports"]["post"]["responses"]
    assert "422" not in create
    assert create["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
    schemes = document["components"]["securitySchemes"]
    assert schemes["token"]["scheme"] == "bearer" and schemes["session"]["in"] == "cookie"
    assert httpx.get(f"{url}/api/v1/docs").status_code == 200


def test_no_generated_request_gets_a_server_error(served: tuple[str, str]) -> None:
    url, token = served
    schema = schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == ENDLESS:
            continue

        @settings(
            max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(case=operation.as_strategy())
        def call(case: Any) -> None:
            nonlocal calls
            calls += 1
            response = case.call(base_url=url, headers=headers, timeout=30)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}")

        call()
    assert calls >= 100
    assert not failures, failures
