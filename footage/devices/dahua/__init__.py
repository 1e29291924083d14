"""Dahua HTTP API: mediaFileFind search, loadfile download, snapshot, clock; and an emulator."""
