"""Hikvision ISAPI: record search, download, pictures, clock; and an emulator."""
