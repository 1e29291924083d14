"""Spreadsheet batch runs: a clip and/or picture per manifest row from NVRs, with a live
monitor, durable resumable state, reconciliation of missing files and their re-download."""

from footage.batch.cleanup import DeleteReport, delete_run
from footage.batch.convert import ConvertSummary, convert_leftovers
from footage.batch.counters import Counters, count_files
from footage.batch.devices_table import DevicesTable, DockTarget, read_devices_table
from footage.batch.manifest import Columns, Manifest, ManifestError, ManifestRow, read_manifest
from footage.batch.model import RowReason, RowRecord, RowStatus, RunOptions, Totals
from footage.batch.monitor import (
    CountersChanged,
    DeviceChanged,
    DeviceView,
    Event,
    RowChanged,
    RunChanged,
    RunMonitor,
    RunSnapshot,
)
from footage.batch.reconcile import MissingRow, Reconciliation, reconcile
from footage.batch.run import BatchRun, RunSummary, prepare_retry, prepare_run, start_run

__all__ = [
    "BatchRun",
    "Columns",
    "ConvertSummary",
    "Counters",
    "CountersChanged",
    "DeleteReport",
    "DeviceChanged",
    "DeviceView",
    "DevicesTable",
    "DockTarget",
    "Event",
    "Manifest",
    "ManifestError",
    "ManifestRow",
    "MissingRow",
    "Reconciliation",
    "RowChanged",
    "RowReason",
    "RowRecord",
    "RowStatus",
    "RunChanged",
    "RunMonitor",
    "RunOptions",
    "RunSnapshot",
    "RunSummary",
    "Totals",
    "convert_leftovers",
    "count_files",
    "delete_run",
    "prepare_retry",
    "prepare_run",
    "read_devices_table",
    "read_manifest",
    "reconcile",
    "start_run",
]
