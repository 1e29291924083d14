"""A Python client of footage's gRPC export API, for integrators."""

from footage.client.export import ChecksumMismatch, ExportClient, clip_options, live_options

__all__ = ["ChecksumMismatch", "ExportClient", "clip_options", "live_options"]
