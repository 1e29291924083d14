from datetime import UTC, datetime, timedelta

import pytest

from footage.domain import InvalidRequest, TimeRange
from footage.tasks.ids import TaskIds
from footage.tasks.model import ExportRequest, Keepalive, Origin, TaskKind, TaskStatus
from footage.tasks.naming import file_stem
from footage.tasks.paging import decode_token, encode_token
from footage.tasks.policy import TaskPolicy
from tests.helpers.tasks import new_task

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
SPAN = TimeRange(start=T0, end=T0 + timedelta(minutes=10))


def test_request_validation_explains_itself() -> None:
    with pytest.raises(InvalidRequest, match="format 'avi' is not available for clip"):
        ExportRequest(camera_id="cam1", range=SPAN, format="avi")
    with pytest.raises(InvalidRequest, match="format 'mp4' is not available for pictures"):
        ExportRequest(camera_id="cam1", range=SPAN, kind=TaskKind.PICTURES)
    with pytest.raises(InvalidRequest, match="picture exports only"):
        ExportRequest(camera_id="cam1", range=SPAN, picture_interval=timedelta(seconds=5))
    with pytest.raises(InvalidRequest, match="must be positive"):
        ExportRequest(
            camera_id="cam1",
            range=SPAN,
            kind=TaskKind.PICTURES,
            format="jpg",
            picture_interval=timedelta(0),
        )
    with pytest.raises(InvalidRequest, match="at least 1000000"):
        ExportRequest(camera_id="cam1", range=SPAN, max_file_size=1000)
    request = ExportRequest(camera_id="cam1", range=SPAN, format="ts", comment="c")
    assert request.for_camera("cam2") == ExportRequest(
        camera_id="cam2", range=SPAN, format="ts", comment="c"
    )


def test_file_names_from_templates_are_safe() -> None:
    request = ExportRequest(camera_id="cam1", range=SPAN, comment="truck 7/gate")
    assert file_stem(request, camera_name="Gate", task_id="t1") == "cam1_20260301T080000Z"
    custom = ExportRequest(
        camera_id="cam1",
        range=SPAN,
        comment="truck 7/gate",
        file_name="../{camera_name} {date} {comment}-{task}",
    )
    assert file_stem(custom, camera_name="Gate Nord", task_id="t1") == (
        "Gate_Nord_2026-03-01_truck_7_gate-t1"
    )
    with pytest.raises(InvalidRequest, match=r"\{camera\}, \{camera_name\}"):
        file_stem(
            ExportRequest(camera_id="c", range=SPAN, file_name="{nope}"), camera_name="", task_id=""
        )
    with pytest.raises(InvalidRequest, match="cannot use the file name template"):
        file_stem(
            ExportRequest(camera_id="c", range=SPAN, file_name="{camera"),
            camera_name="",
            task_id="",
        )
    dots = ExportRequest(camera_id="c", range=SPAN, file_name="...")
    assert file_stem(dots, camera_name="", task_id="") == "export"


def test_ids_sort_in_creation_order_even_within_a_millisecond() -> None:
    ids = TaskIds()
    made = [ids.new(T0) for _ in range(5000)] + [ids.new(T0 + timedelta(seconds=1))]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert all(len(i) == 36 and i[14] == "7" for i in made)
    earlier = TaskIds().new(T0 - timedelta(milliseconds=1))
    assert earlier < made[0]


def test_page_tokens_round_trip_and_reject_garbage() -> None:
    token = encode_token(1_772_352_000_000_000, "0195-abc")
    assert decode_token(token) == (1_772_352_000_000_000, "0195-abc")
    for bad in ("", "!!!", encode_token(1, "x")[:-3] + "%%%", "bm90IGEgdG9rZW4"):
        with pytest.raises(InvalidRequest, match="page token is not valid"):
            decode_token(bad)


def test_policy_keepalive_and_expiry() -> None:
    policy = TaskPolicy()
    live = ExportRequest(camera_id="cam1", range=SPAN, live=True)
    plain = ExportRequest(camera_id="cam1", range=SPAN)
    assert policy.keepalive_for(Origin.WEB, live) is Keepalive.NONE
    assert policy.keepalive_for(Origin.GRPC, live) is Keepalive.API_LIVE
    assert policy.keepalive_for(Origin.REST, plain) is Keepalive.API_OTHER
    assert policy.poll_timeout(Keepalive.API_LIVE) == timedelta(minutes=5)
    assert policy.poll_timeout(Keepalive.API_OTHER) == timedelta(minutes=30)
    assert policy.poll_timeout(Keepalive.NONE) is None
    task = new_task(plain, T0)
    assert policy.expires_on_finish(task, T0) == T0 + timedelta(hours=24)
    assert policy.expires_on_touch(task, T0) is None
    api = new_task(
        plain,
        T0,
        origin=Origin.REST,
        keepalive=Keepalive.API_OTHER,
        polled=T0 + timedelta(minutes=3),
    )
    assert policy.expires_on_finish(api, T0) == T0 + timedelta(hours=1, minutes=3)
    assert policy.expires_on_touch(api, T0) == T0 + timedelta(hours=1)
    assert TaskStatus.EXPIRED.retryable and not TaskStatus.DONE.retryable
    assert TaskStatus.QUEUED.active and not TaskStatus.CANCELLED.active
