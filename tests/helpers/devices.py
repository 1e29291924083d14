"""Emulated NVRs for the device, batch and NVR-archive tests: by vendor name, started with fault
timings, as a running Hikvision + Dahua pair, and the driver configuration that reaches one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from footage.archive.source import ArchiveSource
from footage.devices import DeviceConfig
from footage.devices.dahua.emulator import DahuaEmulator
from footage.devices.emulator_server import EmulatorBase
from footage.devices.hikvision.emulator import HikvisionEmulator

EMULATORS: dict[str, type[EmulatorBase]] = {
    "hikvision": HikvisionEmulator,
    "dahua": DahuaEmulator,
}


def emulator_config(emu: EmulatorBase, **options: Any) -> DeviceConfig:
    """The driver configuration that reaches ``emu`` (its vendor, host and port), with
    ``options`` (further ``DeviceConfig`` fields)."""
    return DeviceConfig(vendor=emu.vendor, host=emu.host, port=emu.port, **options)  # type: ignore[arg-type]


def start_emulator(
    vendor: str,
    archive: ArchiveSource | Path,
    work_dir: Path,
    *,
    stall: float,
    slow: float,
    **options: Any,
) -> EmulatorBase:
    """A started emulator of ``vendor`` whose stall faults hold a request ``stall`` seconds and
    whose slow faults wait ``slow`` seconds a chunk; password ``pw`` unless ``options`` (the
    emulator's keyword arguments) give another."""
    options.setdefault("password", "pw")
    emulator = EMULATORS[vendor](archive, work_dir=work_dir, **options)
    emulator.faults.stall_seconds = stall
    emulator.faults.slow_delay = slow
    return emulator.start()


@contextmanager
def stopping(emulators: dict[str, EmulatorBase]) -> Iterator[dict[str, EmulatorBase]]:
    """``emulators`` (started), every one stopped when the block ends."""
    try:
        yield emulators
    finally:
        for emu in emulators.values():
            emu.stop()


@contextmanager
def hik_and_dahua(
    archive: ArchiveSource | Path, work: Path, password: str = "pw", **hik_options: Any
) -> Iterator[dict[str, EmulatorBase]]:
    """A Hikvision (``hik``) and a Dahua (``dah``) emulator of ``archive``, working in
    ``work/hik`` and ``work/dah``, running until the block ends; ``hik_options`` go to the
    Hikvision one only."""
    hik = HikvisionEmulator(archive, work_dir=work / "hik", password=password, **hik_options)
    with stopping({"hik": hik.start()}) as started:
        started["dah"] = DahuaEmulator(archive, work_dir=work / "dah", password=password).start()
        yield started
