"""A run's state survives a reopen (resume), follows manifest edits, and keeps one run per
folder; reconciliation counts only files that are present and valid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from footage.batch import RowStatus, RunOptions, count_files, delete_run, reconcile
from footage.batch.manifest import ManifestRow
from footage.batch.model import FileStamp
from footage.batch.state import RunState
from footage.batch.validate import check_output
from footage.domain import Conflict, NotFound

T = datetime(2024, 5, 1, 8, 0, 0, tzinfo=UTC)


def rows(*ids: str, shift: float = 0) -> list[ManifestRow]:
    return [
        ManifestRow(id=i, at=T + timedelta(seconds=n + shift), camera="D1", line=n + 2, name=i)
        for n, i in enumerate(ids)
    ]


def make_mp4(path: Path) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for n in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), n * 40, np.uint8), "rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def make_jpg(path: Path) -> Path:
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(path, format="JPEG")
    return path


def test_records_survive_a_reopen_and_follow_manifest_edits(tmp_path: Path) -> None:
    with RunState(tmp_path) as state:
        state.save_settings(RunOptions().settings())
        records = state.sync(rows("A", "B", "C"))
        done = records[0].with_(
            status=RowStatus.SUCCESS, files={"A.jpg": FileStamp(size=1, mtime_ns=2)}, attempts=1
        )
        state.record(done)
        state.record(records[1].with_(status=RowStatus.RUNNING))  # in flight at a crash
        state.record(records[2].with_(status=RowStatus.FAILED, reason="timeout", vendor_code="x"))
    with RunState(tmp_path, create=False) as state:
        again = {r.id: r for r in state.rows()}
        assert again["A"] == done
        assert again["B"].status is RowStatus.PENDING
        assert (again["C"].reason, again["C"].vendor_code) == ("timeout", "x")
        assert state.settings()["clip_seconds"] == 1.0
        # B moved in time, C is gone, D is new: A keeps its record, B starts again
        edited = [*rows("A"), *rows("B", shift=5), *rows("D")]
        synced = {r.id: r for r in state.sync(edited)}
        assert synced["A"] == done
        assert synced["B"].at == T + timedelta(seconds=5) and synced["B"].attempts == 0
        assert set(synced) == {"A", "B", "D"}


def test_one_run_per_folder(tmp_path: Path) -> None:
    with RunState(tmp_path):
        with pytest.raises(Conflict, match="another batch run"):
            RunState(tmp_path)
        with RunState(tmp_path, create=False, lock=False) as reader:
            assert reader.rows() == []
    with pytest.raises(NotFound, match="no batch run"):
        RunState(tmp_path / "elsewhere", create=False)


def test_only_valid_files_count(tmp_path: Path) -> None:
    good_clip = make_mp4(tmp_path / "A.mp4")
    make_jpg(tmp_path / "A.jpg")
    data = good_clip.read_bytes()
    (tmp_path / "B.mp4").write_bytes(data[:-100])  # truncated
    (tmp_path / "B.jpg").write_bytes((tmp_path / "A.jpg").read_bytes()[:-50])
    (tmp_path / "C.mp4").write_bytes(b"<?xml version='1.0'?><ResponseStatus/>")
    (tmp_path / "C.jpg").write_bytes(b"")
    (tmp_path / "stray.jpg").write_bytes((tmp_path / "A.jpg").read_bytes())
    (tmp_path / ".D.mp4.part").write_bytes(b"x")
    assert check_output(tmp_path / "A.mp4") is None
    assert "truncated MP4" in (check_output(tmp_path / "B.mp4") or "")
    assert "truncated JPEG" in (check_output(tmp_path / "B.jpg") or "")
    assert "not an MP4" in (check_output(tmp_path / "C.mp4") or "")
    assert check_output(tmp_path / "C.jpg") == "empty file"
    assert count_files(tmp_path).to_json() == {"jpg": 4, "mp4": 3}

    with RunState(tmp_path) as state:
        state.save_settings(RunOptions(clip=True).settings())
        state.sync(rows("A", "B", "C", "D"))
    report = reconcile(tmp_path)
    assert [r.id for r in report.complete] == ["A"]
    assert {m.row.id: sorted(m.problems) for m in report.missing} == {
        "B": ["B.jpg", "B.mp4"],
        "C": ["C.jpg", "C.mp4"],
        "D": ["D.jpg", "D.mp4"],
    }
    assert report.missing[-1].problems["D.jpg"] == "missing"
    assert report.unexpected == ["stray.jpg"]

    deleted = delete_run(tmp_path)
    assert deleted.kept == ["stray.jpg"] and not deleted.folder_removed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stray.jpg"]
