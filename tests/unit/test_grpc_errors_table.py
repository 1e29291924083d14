"""Every domain error leaves a gRPC call with the code the one table names."""

from __future__ import annotations

from typing import NoReturn

import grpc
import pytest

from footage.api.errors import TABLE
from footage.api.grpc.servicer import ERROR_CODE_KEY, translated
from footage.domain import FootageError, NoSpace


class Aborted(Exception):
    pass


class FakeContext:
    def __init__(self) -> None:
        self.code: grpc.StatusCode | None = None
        self.details = ""
        self.trailing: tuple[tuple[str, str], ...] = ()

    def set_trailing_metadata(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.trailing = metadata

    def is_active(self) -> bool:
        return True

    def abort(self, code: grpc.StatusCode, details: str) -> NoReturn:
        self.code, self.details = code, details
        raise Aborted


def run(exc: BaseException) -> FakeContext:
    context = FakeContext()
    with pytest.raises(Aborted), translated(context):  # type: ignore[arg-type]
        raise exc
    return context


@pytest.mark.parametrize(("cls", "mapping"), TABLE)
def test_each_error_gets_its_code(cls: type[FootageError], mapping: object) -> None:
    context = run(cls("what went wrong"))
    assert context.code is grpc.StatusCode[mapping.grpc_code]  # type: ignore[attr-defined]
    assert context.details == "what went wrong"
    assert context.trailing == ((ERROR_CODE_KEY, cls.code),)


def test_no_space_is_resource_exhausted() -> None:
    assert run(NoSpace("disk full")).code is grpc.StatusCode.RESOURCE_EXHAUSTED


def test_surprises_are_internal_and_do_not_leak() -> None:
    context = run(KeyError("bug"))
    assert context.code is grpc.StatusCode.INTERNAL and "bug" not in context.details
