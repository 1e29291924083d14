"""The settings tree. Unknown keys are rejected, in the file and in the environment.

Precedence, highest first: explicit arguments, ``FOOTAGE_*`` environment variables
(nested with ``__``, e.g. ``FOOTAGE_SERVER__PORT=9000``), the TOML file named by
``--config`` or ``FOOTAGE_CONFIG``, then the defaults below (also shipped, commented, in
``footage/config/footage.example.toml``).
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from footage.domain import InvalidRequest


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "footage"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means a SQLite file footage.db in data_dir",
    )


class ArchiveSettings(_Section):
    root: str = Field(default="", description="folder of local recordings; empty: data_dir/archive")
    gap_tolerance: float = Field(
        default=0.5, ge=0, description="seconds between segments still counted as continuous"
    )
    scan_workers: int = Field(default=2, ge=1, description="processes that probe new segments")


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535, description="HTTP: web page and REST API")
    grpc_port: int = Field(default=50051, ge=0, le=65535, description="gRPC API; 0: off")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="reverse proxies (addresses or CIDR networks) whose X-Forwarded-For is "
        "believed for the client's address; empty: the connection's address is the client's",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for text in value:
            try:
                ipaddress.ip_network(text.strip(), strict=False)
            except ValueError:
                raise ValueError(f"{text!r} is not an IP address or network") from None
        return value


class TasksSettings(_Section):
    """Export tasks: how many run at once, where files go, when they expire."""

    workers: int = Field(
        default=1, ge=0, description="exports run at once by the server (0: only `footage worker`)"
    )
    source_limit: int = Field(default=1, ge=1, description="exports at once per archive source")
    source_limits: dict[str, int] = Field(
        default_factory=dict, description="per-source overrides, e.g. {nvr1 = 2}"
    )
    output_dir: str = Field(
        default="", description="where exports are written; empty: data_dir/exports"
    )
    min_free_mb: int = Field(default=1024, ge=0, description="free disk space needed to start")
    on_interrupt: Literal["requeue", "fail"] = Field(
        default="requeue", description="what a restart does to exports that were running"
    )
    max_attempts: int = Field(default=3, ge=1, description="runs of one task before it fails")
    node: str = Field(default="", description="this process's name in task records; empty: host")
    max_range: float = Field(default=3600.0, gt=0, description="longest export, seconds")
    poll_interval: float = Field(default=0.5, gt=0, description="seconds between queue checks")
    heartbeat_interval: float = Field(default=1.0, gt=0, description="seconds between heartbeats")
    stale_after: float = Field(
        default=15.0, gt=0, description="seconds without a heartbeat before a worker is dead"
    )
    maintenance_interval: float = Field(
        default=60.0, gt=0, description="seconds between keepalive/retention/recovery passes"
    )
    web_keep_hours: float = Field(default=24.0, ge=0, description="files kept at least this long")
    web_delete_within_hours: float = Field(
        default=48.0, gt=0, description="and deleted within this long"
    )
    api_live_timeout: float = Field(default=300.0, gt=0, description="live clip poll timeout, s")
    api_other_timeout: float = Field(default=1800.0, gt=0, description="other API poll timeout, s")
    api_download_window: float = Field(
        default=3600.0, gt=0, description="seconds files stay after the last poll or download"
    )

    @model_validator(mode="after")
    def _consistent(self) -> TasksSettings:
        if self.stale_after < 2 * self.heartbeat_interval:
            raise ValueError("stale_after must be at least twice heartbeat_interval")
        slack = self.web_delete_within_hours - self.web_keep_hours
        if slack * 3600 < self.maintenance_interval:
            raise ValueError(
                "web_delete_within_hours must exceed web_keep_hours by at least "
                "maintenance_interval"
            )
        return self


class NvrSettings(_Section):
    """NVRs whose cameras are served beside the local archive (exports, web page, gRPC)."""

    devices: str = Field(
        default="",
        description="device table (.toml, .csv or .xlsx, as for batch runs); empty: no NVRs",
    )
    cache_dir: str = Field(
        default="", description="where downloaded NVR ranges are kept; empty: data_dir/nvr-cache"
    )


class LiveSettings(_Section):
    """Live streams (RTSP) for live-mode exports: record the next seconds, take a picture now.

    NVR docks get theirs from the device table (the device's RTSP port); other cameras, such
    as those of the local archive, are given here."""

    streams: dict[str, str] = Field(
        default_factory=dict,
        description="camera id -> rtsp:// URL (credentials in the URL), e.g. "
        '{ cam1 = "rtsp://admin:secret@10.0.0.7:554/stream1" }',
    )
    connect_timeout: float = Field(
        default=10.0, gt=0, le=120, description="seconds to wait for a live stream to answer"
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FOOTAGE_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    database: DatabaseSettings = DatabaseSettings()
    archive: ArchiveSettings = ArchiveSettings()
    server: ServerSettings = ServerSettings()
    tasks: TasksSettings = TasksSettings()
    nvr: NvrSettings = NvrSettings()
    live: LiveSettings = LiveSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if settings_cls.model_config.get("toml_file"):
            sources.append(TomlConfigSettingsSource(settings_cls))
        return tuple(sources)

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir / 'footage.db'}"

    @property
    def archive_root(self) -> Path:
        return Path(self.archive.root) if self.archive.root else self.data_dir / "archive"

    @property
    def nvr_devices(self) -> Path | None:
        return Path(self.nvr.devices).expanduser() if self.nvr.devices else None

    @property
    def nvr_cache_dir(self) -> Path:
        configured = self.nvr.cache_dir
        return Path(configured).expanduser() if configured else self.data_dir / "nvr-cache"

    @property
    def batch_dir(self) -> Path:
        """Where the web page's batch runs live, one folder each."""
        return self.data_dir / "batch"


def _check_env() -> None:
    # FOOTAGE_CLIENT_*: the integrators' client (`footage client`), not server settings
    known = {"FOOTAGE_CONFIG", "FOOTAGE_DATA_DIR", "FOOTAGE_CLIENT_SERVER", "FOOTAGE_CLIENT_TOKEN"}
    sections: dict[str, type[BaseModel]] = {
        "DATABASE": DatabaseSettings,
        "ARCHIVE": ArchiveSettings,
        "SERVER": ServerSettings,
        "TASKS": TasksSettings,
        "NVR": NvrSettings,
    }
    for key in os.environ:
        if not key.startswith("FOOTAGE_") or key in known or key.startswith("FOOTAGE_TEST_"):
            continue  # FOOTAGE_TEST_* is reserved for the test suite
        section, _, name = key.removeprefix("FOOTAGE_").partition("__")
        model = sections.get(section)
        if model is None or name.lower() not in model.model_fields:
            raise InvalidRequest(f"unknown setting in the environment: {key}")


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the settings; a wrong key or value raises ``InvalidRequest`` saying which."""
    env_file = os.environ.get("FOOTAGE_CONFIG")
    path = config_file or (Path(env_file) if env_file else None)
    _check_env()
    cls: type[Settings] = Settings
    if path is not None:
        if not path.is_file():
            raise InvalidRequest(f"config file {path} does not exist")
        try:
            tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise InvalidRequest(f"config file {path} is not valid TOML: {exc}") from exc

        class _FromFile(Settings):
            model_config = SettingsConfigDict(**{**Settings.model_config, "toml_file": path})

        cls = _FromFile
    try:
        return cls(**overrides)
    except ValidationError as exc:
        where = f" in {path}" if path else ""
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise InvalidRequest(f"bad settings{where}: {problems}") from exc
