"""Benchmark: a 200-row batch over four emulated NVRs (2 Hikvision, 2 Dahua), no faults.

Baseline, measured in the same run: each device's rows downloaded alone and serially
(a batch of just that device's rows, one at a time); the ideal time of the whole batch is
the slowest device's serial time, since devices run in parallel. The batch is then timed
with per-device limits 1 and 2 and each total is printed as a ratio to that ideal
(1.00 = devices overlap perfectly; below 1 with limit 2 = a device serves two rows at once
faster than one after the other). Tiny media (160x96 @ 10 fps), 1 s clips + a picture.

Each emulated NVR runs as a process of its own (``footage devices emulate``), as a real
device would be: in one process the four emulators and the batch would share one GIL and the
ratio would measure that, not how well the batch overlaps devices. ``--in-process`` runs them
as threads of the benchmark instead (the old way, for comparison). The machine's cores still
bound the overlap: four busy devices and the batch need more than two cores.

Usage: ``python bench/batch_bench.py [--rows 200] [--keep DIR] [--in-process]``.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from footage.batch import RunOptions, prepare_run, read_devices_table, read_manifest
from footage.devices.dahua.emulator import DahuaEmulator
from footage.devices.emulator_server import EmulatorBase, open_archive
from footage.devices.hikvision.emulator import HikvisionEmulator
from footage.media.synth import SynthOptions, generate

START = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
RECORDED = 300
DEVICES = ("hik1", "hik2", "dah1", "dah2")


def write_inputs(work: Path, emulators: dict[str, Any], rows: int) -> tuple[Path, Path]:
    table = ["dock,vendor,address,port,password,channel,timezone,name"]
    for name, emu in emulators.items():
        table += [
            f"{name}-{c},{emu.vendor},{emu.host},{emu.port},pw,{c},UTC,{name}" for c in (1, 2)
        ]
    (work / "devices.csv").write_text("\n".join(table) + "\n")
    lines = ["id,time,dock"]
    for n in range(rows):
        at = START + timedelta(seconds=3 + (n * 7.3) % (RECORDED - 8))
        device = DEVICES[n % len(DEVICES)]
        lines.append(f"R{n:04d},{at:%Y-%m-%d %H:%M:%S},{device}-{1 + (n // 4) % 2}")
    (work / "rows.csv").write_text("\n".join(lines) + "\n")
    return work / "rows.csv", work / "devices.csv"


@dataclass
class Remote:
    """An emulator in a process of its own, answering at ``host``:``port``."""

    vendor: str
    host: str
    port: int


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def emulator_processes(archive: Path, work: Path) -> Iterator[dict[str, Any]]:
    """``footage devices emulate`` for each device, stopped (SIGINT) when the block ends."""
    procs: list[subprocess.Popen[bytes]] = []
    remotes: dict[str, Any] = {}
    try:
        for name in DEVICES:
            vendor = "hikvision" if name.startswith("hik") else "dahua"
            port = _free_port()
            args = [sys.executable, "-m", "footage", "--data-dir", str(work / f"emu-{name}")]
            args += ["devices", "emulate", vendor, "--archive", str(archive)]
            args += ["--port", str(port), "--password", "pw", "--channels", "cam1,cam2"]
            log = (work / f"emu-{name}.log").open("wb")
            procs.append(subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT))
            remotes[name] = Remote(vendor, "127.0.0.1", port)
        for name, remote in remotes.items():
            _wait_listening(remote.port, work / f"emu-{name}.log")
        yield remotes
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_listening(port: int, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise SystemExit(f"an emulator did not start on port {port}:\n{log.read_text()}")


@contextlib.contextmanager
def emulator_threads(archive_root: Path, work: Path) -> Iterator[dict[str, Any]]:
    archive = open_archive(archive_root, work)
    kinds: dict[str, type[EmulatorBase]] = {"hik1": HikvisionEmulator, "hik2": HikvisionEmulator}
    kinds |= {"dah1": DahuaEmulator, "dah2": DahuaEmulator}
    emulators = {
        name: kind(archive, work_dir=work / f"emu-{name}", password="pw").start()
        for name, kind in kinds.items()
    }
    try:
        yield emulators
    finally:
        for emu in emulators.values():
            emu.stop()


def timed_run(manifest: Path, devices: Path, out: Path, per_device: int) -> float:
    run = prepare_run(
        read_manifest(manifest),
        read_devices_table(devices),
        out,
        RunOptions(clip=True, per_device=per_device),
    )
    began = time.perf_counter()
    summary = run.run()
    seconds = time.perf_counter() - began
    if not summary.totals.complete:
        raise SystemExit(f"the batch did not complete: {summary.totals}")
    return seconds


def only(manifest: Path, device: str, work: Path) -> Path:
    lines = manifest.read_text().splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if line.split(",")[2].startswith(device)]
    path = work / f"only-{device}.csv"
    path.write_text("\n".join(kept) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument(
        "--in-process", action="store_true", help="emulators as threads of this process"
    )
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="batch-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        options = SynthOptions(
            cameras=2,
            duration=timedelta(seconds=RECORDED),
            start=START,
            segment_seconds=10.0,
            resolution=(160, 96),
            fps=10,
            gop=10,
            audio=False,
            stamps="exact",
        )
        if not (work / "archive").exists():
            generate(work / "archive", options, workers=1)
        started = emulator_threads if args.in_process else emulator_processes
        with started(work / "archive", work) as emulators:
            manifest, devices = write_inputs(work, emulators, args.rows)
            timed_run(manifest, devices, work / "warm", 1)  # emulators render their caches
            serial = {
                device: timed_run(
                    only(manifest, device, work), devices, work / f"serial-{device}", 1
                )
                for device in DEVICES
            }
            ideal = max(serial.values())
            results = [
                (limit, timed_run(manifest, devices, work / f"limit-{limit}", limit))
                for limit in (1, 2)
            ]
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    where = "threads of this process" if args.in_process else "processes of their own"
    print(
        f"{args.rows} rows over {len(DEVICES)} emulated NVRs as {where} "
        "(1 s clip + picture per row)"
    )
    for device, seconds in serial.items():
        print(f"  serial, {device} alone: {seconds:6.2f} s ({args.rows // len(DEVICES)} rows)")
    print(f"  ideal (slowest device serially): {ideal:.2f} s")
    print(f"{'per-device':>10} {'total s':>8} {'ratio':>6} {'rows/s':>7}")
    for limit, seconds in results:
        print(f"{limit:>10} {seconds:8.2f} {seconds / ideal:6.2f} {args.rows / seconds:7.1f}")


if __name__ == "__main__":
    main()
