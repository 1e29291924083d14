"""Timing rules of tasks: longest export, poll timeouts, retention, recovery after a crash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from footage.config.settings import TasksSettings
from footage.tasks.model import ExportRequest, ExportTask, Keepalive, Origin


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskPolicy:
    max_range: timedelta = timedelta(hours=1)
    web_keep: timedelta = timedelta(hours=24)
    web_delete_within: timedelta = timedelta(hours=48)
    api_live_timeout: timedelta = timedelta(minutes=5)
    api_other_timeout: timedelta = timedelta(minutes=30)
    api_download_window: timedelta = timedelta(hours=1)
    stale_after: timedelta = timedelta(seconds=15)
    on_interrupt: Literal["requeue", "fail"] = "requeue"
    max_attempts: int = 3

    @classmethod
    def from_settings(cls, settings: TasksSettings) -> TaskPolicy:
        return cls(
            max_range=timedelta(seconds=settings.max_range),
            web_keep=timedelta(hours=settings.web_keep_hours),
            web_delete_within=timedelta(hours=settings.web_delete_within_hours),
            api_live_timeout=timedelta(seconds=settings.api_live_timeout),
            api_other_timeout=timedelta(seconds=settings.api_other_timeout),
            api_download_window=timedelta(seconds=settings.api_download_window),
            stale_after=timedelta(seconds=settings.stale_after),
            on_interrupt=settings.on_interrupt,
            max_attempts=settings.max_attempts,
        )

    def keepalive_for(self, origin: Origin, request: ExportRequest) -> Keepalive:
        """API sessions must be polled; web, batch and CLI exports are kept by retention."""
        if origin not in (Origin.REST, Origin.GRPC):
            return Keepalive.NONE
        return Keepalive.API_LIVE if request.live else Keepalive.API_OTHER

    def poll_timeout(self, keepalive: Keepalive) -> timedelta | None:
        if keepalive is Keepalive.API_LIVE:
            return self.api_live_timeout
        if keepalive is Keepalive.API_OTHER:
            return self.api_other_timeout
        return None

    def expires_on_finish(self, task: ExportTask, now: datetime) -> datetime:
        """When a task finishing now loses its files."""
        if task.keepalive is Keepalive.NONE:
            return now + self.web_keep
        return max(now, task.polled or now) + self.api_download_window

    def expires_on_touch(self, task: ExportTask, now: datetime) -> datetime | None:
        """A poll or a download of an API session moves its expiry; web tasks keep theirs."""
        if task.keepalive is Keepalive.NONE:
            return None
        return now + self.api_download_window
