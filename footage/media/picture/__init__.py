"""Pictures (JPEG) of recorded video: the frame shown at a moment, series, folder conversion."""

from footage.media.picture.convert import (
    ConvertKind,
    ConvertMode,
    ConvertReport,
    convert_clip,
    convert_folder,
)
from footage.media.picture.frame_at import picture_at
from footage.media.picture.options import PictureFile, PictureOptions
from footage.media.picture.series import (
    SeriesResult,
    SkippedPicture,
    picture_series,
    run_series,
)

__all__ = [
    "ConvertKind",
    "ConvertMode",
    "ConvertReport",
    "PictureFile",
    "PictureOptions",
    "SeriesResult",
    "SkippedPicture",
    "convert_clip",
    "convert_folder",
    "picture_at",
    "picture_series",
    "run_series",
]
