"""What a picture request asks for (size, quality) and what a written picture is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from footage.domain import InvalidRequest

MAX_SIDE = 16_384  # larger than any camera picture; guards against typos like 19200


@dataclass(frozen=True, kw_only=True)
class PictureOptions:
    """Output size and JPEG quality.

    With neither ``width`` nor ``height`` the picture keeps the video's size; with one of
    them the other follows the video's aspect ratio; with both the picture is exactly that.
    """

    width: int | None = None
    height: int | None = None
    quality: int = 90

    def __post_init__(self) -> None:
        for name, value in (("width", self.width), ("height", self.height)):
            if value is not None and not 1 <= value <= MAX_SIDE:
                raise InvalidRequest(f"picture {name} {value} is out of range; use 1 to {MAX_SIDE}")
        if not 1 <= self.quality <= 100:
            raise InvalidRequest(f"JPEG quality {self.quality} is out of range; use 1 to 100")

    def size_for(self, width: int, height: int) -> tuple[int, int]:
        """The output size for a ``width`` x ``height`` video picture."""
        if self.width is not None and self.height is not None:
            return self.width, self.height
        if self.width is not None:
            return self.width, max(1, round(height * self.width / width))
        if self.height is not None:
            return max(1, round(width * self.height / height)), self.height
        return width, height


@dataclass(frozen=True, kw_only=True)
class PictureFile:
    """A JPEG written to ``path``; ``shown_at`` is the wall-clock time of the frame it shows."""

    path: Path
    size: int
    sha256: str
    shown_at: datetime


DEFAULT_OPTIONS = PictureOptions()  # frozen, so safe to share as a default argument
