"""gRPC download benchmark: ``DownloadFile`` throughput against ``cat`` of the same bytes.

Makes a finished export session whose one output is a 1 GB file (filler bytes, written by this
script into the task's folder and recorded through the task store's own operations: queue,
claim, finish — the export itself is not what is measured), serves it with the real
``GrpcServer`` on a loopback port, then times:

* ``cat FILE > /dev/null`` (the baseline: the same bytes from the page cache),
* ``DownloadFile`` with 64 KiB and with 1 MiB chunks, read by a client in a child process
  that discards the bytes (the child times its own download, not its start-up),
* the same through ``ExportClient.download`` (1 MiB chunks), which also writes the file to
  disk and checks its SHA-256, as ``footage client download`` does.

The page cache is warm: the file is read once by ``cat`` before anything is timed. Each
figure is the best of ``--repeat`` runs; the ratio is throughput / ``cat`` throughput.

    python bench/grpc_bench.py [--size-mb 1000] [--repeat 3] [--dir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from footage.runtime import Runtime

KIB = 1024
MIB = 1024 * 1024


def make_session(data_dir: Path, size: int) -> tuple[Runtime, str, str, str]:
    """(runtime, session id, file name, token): a DONE gRPC session with a ``size``-byte file."""
    from footage.auth import Permission
    from footage.config.settings import Settings, TasksSettings
    from footage.domain import TimeRange
    from footage.tasks.model import ExportRequest, ExportTask, Keepalive, Origin, TaskFile
    from footage.tasks.store import SourceLimits

    settings = Settings(data_dir=data_dir, tasks=TasksSettings(min_free_mb=0))
    runtime = Runtime(settings, workers=0)
    runtime.users.add("bench", "bench-password", [Permission.EXPORT])
    token = runtime.users.issue("bench")
    now = datetime.now(UTC)
    span = TimeRange(start=now - timedelta(minutes=10), end=now)
    task_id = "01900000-0000-7000-8000-00000000be9c"
    task = ExportTask(
        id=task_id,
        owner="bench",
        origin=Origin.GRPC,
        request=ExportRequest(camera_id="cam1", range=span),
        camera_name="cam1",
        source="local",
        file_stem="bench",
        created=now,
        keepalive=Keepalive.API_OTHER,
        polled=now,
        updated=now,
        version=1,
    )
    store = runtime.tasks.store
    store.enqueue([task])
    claimed = store.claim(node="bench", now=now, limits=SourceLimits())
    assert claimed is not None and claimed.id == task_id
    folder = runtime.tasks.output_root / task_id
    folder.mkdir(parents=True)
    name = "bench.bin"
    digest = hashlib.sha256()
    block = bytes(range(256)) * (4 * KIB)  # 1 MiB
    with (folder / name).open("wb") as out:
        left = size
        while left:
            piece = block[: min(left, len(block))]
            out.write(piece)
            digest.update(piece)
            left -= len(piece)
    output = TaskFile(
        name=name, size=size, sha256=digest.hexdigest(), mime_type="application/octet-stream"
    )
    store.finish(
        task_id, claimed.attempt, files=[output], now=now, expires=now + timedelta(hours=2)
    )
    return runtime, task_id, name, token


def time_cat(path: Path) -> float:
    began = time.perf_counter()
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - began


def time_child(args: list[str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def child(argv: list[str]) -> None:
    """In the child process: download once, print {"seconds", "bytes"} as JSON."""
    mode, target, token, session, name, chunk_kb, out_dir = argv
    import grpc

    from footage.api.grpc.gen import export_pb2 as pb
    from footage.api.grpc.gen import export_pb2_grpc
    from footage.client import ExportClient

    if mode == "raw":
        channel = grpc.insecure_channel(target)
        stub = export_pb2_grpc.ExportServiceStub(channel)
        request = pb.DownloadFileRequest(
            session_id=session, file_path=name, chunk_size_kb=int(chunk_kb)
        )
        grpc.channel_ready_future(channel).result(timeout=10)
        began = time.perf_counter()
        total = sum(len(c.data) for c in stub.DownloadFile(request, metadata=_auth(token)))
        seconds = time.perf_counter() - began
        channel.close()
    else:
        with ExportClient(target, token) as client:
            state = client.state(session)
            began = time.perf_counter()
            path = client.download(session, state.result.files[0], Path(out_dir), chunk_kb=1024)
            seconds = time.perf_counter() - began
            total = path.stat().st_size
            path.unlink()
    sys.stdout.write(json.dumps({"seconds": seconds, "bytes": total}))


def _auth(token: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {token}"),)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1000, help="file size, MB (10^6 bytes)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temp)")
    args = parser.parse_args()
    from footage.api.grpc.server import GrpcServer

    size = args.size_mb * 1_000_000
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        work = Path(tmp)
        runtime, session, name, token = make_session(work / "data", size)
        path = runtime.tasks.output_root / session / name
        server = GrpcServer(runtime, "127.0.0.1:0")
        server.start()
        target = f"127.0.0.1:{server.port}"
        try:
            time_cat(path)  # warm the page cache
            cat = min(time_cat(path) for _ in range(args.repeat))
            rows = [("cat > /dev/null", cat, size)]
            for label, mode, chunk_kb in (
                ("DownloadFile, 64 KiB chunks", "raw", 64),
                ("DownloadFile, 1 MiB chunks", "raw", 1024),
                ("ExportClient.download (disk + SHA-256)", "client", 1024),
            ):
                argv = [mode, target, token, session, name, str(chunk_kb), str(work)]
                runs = [time_child(argv) for _ in range(args.repeat)]
                assert all(r["bytes"] == size for r in runs), runs
                rows.append((label, min(r["seconds"] for r in runs), size))
        finally:
            server.stop(grace=1.0)
            runtime.close()
    print(f"file: {size / 1e9:.2f} GB; best of {args.repeat}; page cache warm")
    print(f"{'what':<42} {'seconds':>8} {'MB/s':>8} {'vs cat':>8}")
    for label, seconds, nbytes in rows:
        rate = nbytes / seconds / 1e6
        print(f"{label:<42} {seconds:>8.3f} {rate:>8.0f} {cat / seconds:>8.3f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        main()
