"""Clip export by stream copy: exact ranges of recorded segments into MP4, MKV or MPEG-TS files."""

from footage.media.clip.cancel import Cancelled, CancelToken
from footage.media.clip.export import export_clip
from footage.media.clip.options import ClipOptions, ClipResult, OutputFile

__all__ = [
    "CancelToken",
    "Cancelled",
    "ClipOptions",
    "ClipResult",
    "OutputFile",
    "export_clip",
]
