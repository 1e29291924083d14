"""Options to requests, tasks to states, session ids, file paths and tokens."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from footage.api.grpc import convert
from footage.api.grpc.auth import bearer_token
from footage.api.grpc.gen import export_pb2 as pb
from footage.api.grpc.sessions import check_path, parse_session_id, session_id
from footage.domain import InvalidRequest, TimeRange, Unauthenticated
from footage.tasks.model import (
    ExportRequest,
    ExportTask,
    Failure,
    Origin,
    TaskFile,
    TaskKind,
    TaskStatus,
)
from tests.helpers.tasks import new_task

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
IDS = ("01890000-0000-7000-8000-000000000001", "01890000-0000-7000-8000-000000000002")


def task(
    status: TaskStatus, *, camera: str = "cam1", index: int = 0, **changes: object
) -> ExportTask:
    request = ExportRequest(
        camera_id=camera, range=TimeRange(start=T0, end=T0 + timedelta(minutes=10))
    )
    made = new_task(
        request,
        T0,
        id=IDS[index],
        owner="ann",
        origin=Origin.GRPC,
        camera_name=camera,
        status=status,
    )
    return replace(made, **changes)  # type: ignore[arg-type]


def options(**settings: str) -> pb.Options:
    return pb.Options(
        archive=pb.ArchiveMode(
            sources=[pb.Source(camera_id="cam1")],
            start_timestamp="2026-03-01T09:00:00",
            end_timestamp="2026-03-01T09:10:00+01:00",
        ),
        snapshot=pb.SnapshotType(interval_ms=1500),
        settings=pb.CommonSettings(**settings),
        max_file_size=2_000_000,
    )


def test_options_become_one_request() -> None:
    plan = convert.start_plan(
        options(timezone="Europe/Berlin", comment="gate", file_name="{comment}")
    )
    request = plan.request
    assert plan.camera_ids == ("cam1",)
    assert request.range == TimeRange(start=T0, end=T0 + timedelta(minutes=10))
    assert request.kind is TaskKind.PICTURES and request.format == "jpg"
    assert request.picture_interval == timedelta(milliseconds=1500)
    assert (request.comment, request.file_name, request.max_file_size) == (
        "gate",
        "{comment}",
        2_000_000,
    )


def test_zones_and_offsets() -> None:
    assert convert.parse_zone("-05:30").utcoffset(None) == -timedelta(hours=5, minutes=30)
    assert convert.parse_zone("utc") is UTC
    assert convert.offset_minutes("Europe/Berlin", T0) == 60
    assert convert.offset_minutes("Europe/Berlin", T0.replace(month=7)) == 120
    assert convert.offset_minutes("UTC", None) == 0
    with pytest.raises(InvalidRequest, match="has no offset"):
        convert.start_plan(options())


def test_a_task_states_its_options_back() -> None:
    plan = convert.start_plan(options(timezone="+01:00"))
    made = task(TaskStatus.QUEUED, request=plan.request)
    back = convert.task_options(made)
    assert back.archive.start_timestamp == "2026-03-01T08:00:00.000Z"
    assert back.snapshot.interval_ms == 1500 and back.max_file_size == 2_000_000
    assert convert.start_plan(back).request == plan.request


@pytest.mark.parametrize(
    ("statuses", "estate", "status", "succeeded"),
    [
        ((TaskStatus.QUEUED,), pb.State.S_RUNNING, pb.STATUS_QUEUED, False),
        ((TaskStatus.DONE, TaskStatus.RUNNING), pb.State.S_RUNNING, pb.STATUS_RUNNING, False),
        ((TaskStatus.DONE, TaskStatus.QUEUED), pb.State.S_RUNNING, pb.STATUS_QUEUED, False),
        ((TaskStatus.DONE, TaskStatus.DONE), pb.State.S_COMPLETED, pb.STATUS_DONE, True),
        ((TaskStatus.DONE, TaskStatus.FAILED), pb.State.S_COMPLETED, pb.STATUS_FAILED, False),
        ((TaskStatus.CANCELLED,), pb.State.S_COMPLETED, pb.STATUS_CANCELLED, False),
        ((TaskStatus.EXPIRED, TaskStatus.DONE), pb.State.S_REMOVED, pb.STATUS_EXPIRED, False),
    ],
)
def test_parts_combine_into_one_state(
    statuses: tuple[TaskStatus, ...], estate: int, status: int, succeeded: bool
) -> None:
    tasks = [task(s, camera=f"cam{i + 1}", index=i) for i, s in enumerate(statuses)]
    state = convert.session_state(tasks)
    assert (state.state, state.status, state.result.succeeded) == (estate, status, succeeded)
    assert [p.camera_id for p in state.parts] == [t.camera_id for t in tasks]


def test_progress_failure_files_and_the_last_frame() -> None:
    output = TaskFile(
        name="a.mp4",
        size=10,
        sha256="ab",
        mime_type="video/mp4",
        first_ts=T0,
        last_ts=T0 + timedelta(minutes=9),
    )
    done = task(TaskStatus.DONE, files=(output,), expires=T0 + timedelta(hours=1))
    running = task(TaskStatus.RUNNING, camera="cam2", index=1, progress=50.0)
    failed = task(TaskStatus.FAILED, failure=Failure(code="no_recording", message="nothing"))
    state = convert.session_state([done, running])
    assert state.progress == 75.0 and state.last_frame_timestamp == "2026-03-01T08:09:00.000Z"
    assert [f.path for f in state.result.files] == ["cam1/a.mp4"]
    assert state.expires == "2026-03-01T09:00:00.000Z"
    alone = convert.session_state([running])
    assert alone.last_frame_timestamp == "2026-03-01T08:05:00.000Z"  # estimated from progress
    assert convert.session_state([done]).result.files[0].path == "a.mp4"
    assert convert.session_state([failed]).failure.code == "no_recording"
    gone = convert.session_state([replace(done, destroyed=T0)])
    assert gone.state == pb.State.S_REMOVED and gone.destroyed and not gone.result.files


def test_session_ids() -> None:
    assert parse_session_id(IDS[0]) == (IDS[0],)
    assert parse_session_id("+".join(IDS)) == IDS
    assert session_id([task(TaskStatus.DONE, index=0), task(TaskStatus.DONE, index=1)]) == "+".join(
        IDS
    )
    for bad in (
        "",
        "x",
        f"{IDS[0]}+{IDS[0]}",
        f"{IDS[0]}+",
        "0189000g-0000-7000-8000-000000000001",
    ):
        with pytest.raises(InvalidRequest):
            parse_session_id(bad)


@pytest.mark.parametrize(
    "path", ["../a", "a/../b", "/a", "\\a", "a\\b", "C:a", "a//b", "./a", "a\x00"]
)
def test_paths_that_could_leave_the_folder(path: str) -> None:
    with pytest.raises(InvalidRequest):
        check_path(path)


def test_paths_as_listed() -> None:
    assert check_path("cam1/a.mp4") == "cam1/a.mp4"
    assert check_path("a..b.mp4") == "a..b.mp4"


def test_bearer_tokens() -> None:
    assert bearer_token((("authorization", "Bearer ftg_x"),)) == "ftg_x"
    assert bearer_token((("Authorization", b"bearer  ftg_y "),)) == "ftg_y"
    for metadata in ((), (("authorization", "ftg_x"),), (("authorization", "Bearer "),)):
        with pytest.raises(Unauthenticated):
            bearer_token(metadata)
