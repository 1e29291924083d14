"""The committed generated code is what protoc makes of the committed proto today."""

from __future__ import annotations

from pathlib import Path

import pytest

from footage.api.grpc import codegen


def test_generated_code_is_current(tmp_path: Path) -> None:
    written = codegen.generate(tmp_path)
    assert sorted(p.name for p in written) == sorted(("__init__.py", *codegen.OUTPUTS))
    for path in written:
        committed = codegen.GEN / path.name
        assert committed.read_text() == path.read_text(), (
            f"{committed} is stale: run `python -m footage.api.grpc.codegen`"
        )


def test_a_broken_proto_is_reported(tmp_path: Path) -> None:
    proto = tmp_path / "proto" / codegen.PROTO
    proto.parent.mkdir(parents=True)
    proto.write_text('syntax = "proto3";\nmessage {')
    with pytest.raises(RuntimeError, match="protoc failed"):
        codegen.generate(tmp_path / "out", proto_root=tmp_path / "proto")


def test_the_docs_show_the_proto_as_it_is() -> None:
    docs = (codegen.REPO / "docs" / "grpc.md").read_text()
    proto = (codegen.PROTO_ROOT / codegen.PROTO).read_text()
    assert f"```proto\n{proto}```" in docs, "docs/grpc.md shows an old proto: paste the new one"
