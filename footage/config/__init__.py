"""One typed settings tree, read from defaults, a TOML file and ``FOOTAGE_*`` variables."""

from footage.config.settings import (
    ArchiveSettings,
    DatabaseSettings,
    LiveSettings,
    NvrSettings,
    ServerSettings,
    Settings,
    load_settings,
)

__all__ = [
    "ArchiveSettings",
    "DatabaseSettings",
    "LiveSettings",
    "NvrSettings",
    "ServerSettings",
    "Settings",
    "load_settings",
]
