"""Deciding what a file is from its first bytes, never from its name or a client's claim.

The answer names the one ffmpeg demuxer (or Pillow plugin) that will be forced on the file.
Anything not recognised here is refused before any parser sees it: that is what keeps
playlists (HLS), concat scripts, SDP, and every other format that can reference another file
or a URL away from ffmpeg's format auto-detection. The magic numbers and the sentences are the
domain's (`shuttle/uploads/sniff.py`, which also refuses early as an upload's first bytes arrive).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from shuttle.uploads.sniff import (
    HEIF,
    HEIF_BRANDS,
    ID3_WITHOUT_AUDIO,
    NOT_ACCEPTED,
    QUICKTIME_FIRST_ATOMS,
    id3_end,
    mpeg_audio,
    why_not,
)
from workers.media.errors import MediaRefused

HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class Sniffed:
    """`demuxer`: ffmpeg's input format name to force, or the Pillow format for images."""

    family: str  # "av" | "image"
    demuxer: str
    label: str  # for people: "MP4/MOV", "JPEG"...


MP4 = Sniffed("av", "mov", "MP4/MOV")
MATROSKA = Sniffed("av", "matroska", "WebM/Matroska")
OGG = Sniffed("av", "ogg", "Ogg")
WAV = Sniffed("av", "wav", "WAV")
MP3 = Sniffed("av", "mp3", "MP3")
FLAC = Sniffed("av", "flac", "FLAC")
AAC = Sniffed("av", "aac", "AAC")
JPEG = Sniffed("image", "JPEG", "JPEG")
PNG = Sniffed("image", "PNG", "PNG")
WEBP = Sniffed("image", "WEBP", "WebP")
_MPEG_AUDIO = {"aac": AAC, "mp3": MP3}


def sniff_file(path: Path) -> Sniffed:
    """What `path` is, or `MediaRefused` with a reason a person understands."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
        if not head:
            raise MediaRefused("The file is empty.")
        if head.startswith(b"ID3"):
            return _after_id3(handle, head)
    found = sniff_bytes(head)
    if found is None:
        raise MediaRefused(why_not(head))
    return found


def sniff_bytes(head: bytes) -> Sniffed | None:
    """Magic numbers of the accepted formats; None for anything else."""
    if head[4:8] == b"ftyp":
        return _iso_bmff(head)
    if head[4:8] in QUICKTIME_FIRST_ATOMS and int.from_bytes(head[:4], "big") >= 8:
        return MP4
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return MATROSKA
    if head.startswith(b"OggS"):
        return OGG
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return WAV
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"fLaC"):
        return FLAC
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    return _MPEG_AUDIO.get(mpeg_audio(head) or "")


def _iso_bmff(head: bytes) -> Sniffed:
    brand = head[8:12]
    if brand in HEIF_BRANDS:
        raise MediaRefused(HEIF)
    return MP4


def _after_id3(handle: BinaryIO, head: bytes) -> Sniffed:
    """An ID3v2 tag can precede MP3, AAC (ADTS) or FLAC: look at what follows it."""
    offset = id3_end(head)
    if offset is None:
        raise MediaRefused(NOT_ACCEPTED)
    handle.seek(offset)
    after = handle.read(16)
    if after.startswith(b"fLaC"):
        return FLAC
    found = _MPEG_AUDIO.get(mpeg_audio(after) or "")
    if found is None:
        raise MediaRefused(ID3_WITHOUT_AUDIO)
    return found
