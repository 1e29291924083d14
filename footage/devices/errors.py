"""Device errors: one hierarchy under ``FootageError``, each with a stable ``reason``.

The reason is what the batch monitor shows next to a failed row (timeout, auth_failed,
device_busy, no_recording, device_error, unreachable, incomplete); ``vendor_code`` and
``vendor_text`` keep what the device itself said (an ISAPI ``subStatusCode``/``statusString``,
an HTTP status, a Dahua ``Error`` line) so nobody has to guess from a translated message.
"""

from __future__ import annotations

from enum import StrEnum

from footage.domain import FootageError, NotFound, SourceTimeout, SourceUnavailable


class Reason(StrEnum):
    TIMEOUT = "timeout"
    AUTH_FAILED = "auth_failed"
    DEVICE_BUSY = "device_busy"
    NO_RECORDING = "no_recording"
    DEVICE_ERROR = "device_error"
    UNREACHABLE = "unreachable"
    INCOMPLETE = "incomplete"


class DeviceError(SourceUnavailable):
    """A device refused or failed a request; ``reason`` says which way."""

    reason = Reason.DEVICE_ERROR
    code = Reason.DEVICE_ERROR.value
    transient = False  # worth retrying the same request soon

    def __init__(
        self,
        message: str,
        *,
        vendor_code: str | None = None,
        vendor_text: str | None = None,
        device: str | None = None,
    ) -> None:
        super().__init__(message)
        self.vendor_code = vendor_code
        self.vendor_text = vendor_text
        self.device = device

    def describe(self) -> str:
        """``reason`` plus the vendor's own code and text, for a status column."""
        parts = [self.reason.value]
        vendor = " ".join(p for p in (self.vendor_code, self.vendor_text) if p)
        if vendor:
            parts.append(f"({vendor})")
        return " ".join(parts)


class DeviceTimeout(DeviceError, SourceTimeout):
    reason = Reason.TIMEOUT
    code = Reason.TIMEOUT.value
    transient = True


class AuthFailed(DeviceError):
    reason = Reason.AUTH_FAILED
    code = Reason.AUTH_FAILED.value


class DeviceBusy(DeviceError):
    reason = Reason.DEVICE_BUSY
    code = Reason.DEVICE_BUSY.value
    transient = True


class NoRecording(DeviceError, NotFound):
    reason = Reason.NO_RECORDING
    code = Reason.NO_RECORDING.value


class DeviceUnreachable(DeviceError):
    reason = Reason.UNREACHABLE
    code = Reason.UNREACHABLE.value
    transient = True


class IncompleteTransfer(DeviceError):
    """The body ended early: connection reset, fewer bytes than announced, a stall."""

    reason = Reason.INCOMPLETE
    code = Reason.INCOMPLETE.value
    transient = True


class TransientDeviceError(DeviceError):
    """A vendor error known to pass on retry (Hikvision's HTTP 400 on back-to-back downloads)."""

    transient = True


__all__ = [
    "AuthFailed",
    "DeviceBusy",
    "DeviceError",
    "DeviceTimeout",
    "DeviceUnreachable",
    "FootageError",
    "IncompleteTransfer",
    "NoRecording",
    "Reason",
    "TransientDeviceError",
]
