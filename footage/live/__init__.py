"""Live sources: an RTSP camera emulator, and recording clips and pictures from RTSP URLs."""

from footage.live.record import LiveFile, live_picture, record_clip
from footage.live.rtsp_emulator import RtspEmulator

__all__ = ["LiveFile", "RtspEmulator", "live_picture", "record_clip"]
