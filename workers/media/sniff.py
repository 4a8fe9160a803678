"""Deciding what a file is from its first bytes, never from its name or a client's claim.

The answer names the one ffmpeg demuxer (or Pillow plugin) that will be forced on the file.
Anything not recognised here is refused before any parser sees it: that is what keeps
playlists (HLS), concat scripts, SDP, and every other format that can reference another file
or a URL away from ffmpeg's format auto-detection.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from workers.media.errors import MediaRefused

HEAD_BYTES = 64 * 1024

ACCEPTED_TEXT = "MP4/MOV, WebM/MKV, Ogg, WAV, MP3, FLAC, AAC, JPEG, PNG or WebP"
NOT_ACCEPTED = f"This file is not a recording or picture in a format we accept ({ACCEPTED_TEXT})."

# ISO-BMFF major brands that are still images (HEIF/AVIF): ffmpeg 5.1 cannot read them (its
# mov demuxer reads tracks, not HEIF items), nor can Pillow without a plugin; see docs/media.md.
# The sentence is the web's too (shuttle/uploads/sniff.py refuses these as the first bytes
# arrive, and tests/web/test_upload_sniff.py holds the two to the same words): change both.
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
HEIF = ("Please send this photo as JPEG: on an iPhone, set Settings > Camera > Formats to "
        "“Most Compatible” and take it again, or send a screenshot of it instead "
        "(HEIC photos, the iPhone's default, cannot be opened here).")
_QUICKTIME_FIRST_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


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
        raise MediaRefused(_why_not(head))
    return found


def sniff_bytes(head: bytes) -> Sniffed | None:
    """Magic numbers of the accepted formats; None for anything else."""
    if head[4:8] == b"ftyp":
        return _iso_bmff(head)
    if head[4:8] in _QUICKTIME_FIRST_ATOMS and int.from_bytes(head[:4], "big") >= 8:
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
    return _mpeg_audio(head)


def _iso_bmff(head: bytes) -> Sniffed:
    brand = head[8:12]
    if brand in _HEIF_BRANDS:
        raise MediaRefused(HEIF)
    return MP4


def _mpeg_audio(head: bytes) -> Sniffed | None:
    """An MPEG audio frame header: ADTS (AAC, layer bits 00) or MPEG-1/2 layer I-III (MP3)."""
    if len(head) < 4 or head[0] != 0xFF or (head[1] & 0xE0) != 0xE0:
        return None
    layer = (head[1] >> 1) & 0x3
    if (head[1] & 0xF6) == 0xF0:  # 12-bit sync, layer 00: ADTS
        sampling_index = (head[2] >> 2) & 0xF
        return AAC if sampling_index < 13 else None
    bitrate_index, rate_index = head[2] >> 4, (head[2] >> 2) & 0x3
    if layer == 0 or bitrate_index == 0xF or rate_index == 0x3 or (head[1] >> 3) & 0x3 == 1:
        return None
    return MP3


def _after_id3(handle: BinaryIO, head: bytes) -> Sniffed:
    """An ID3v2 tag can precede MP3, AAC (ADTS) or FLAC: look at what follows it."""
    if len(head) < 10:
        raise MediaRefused(NOT_ACCEPTED)
    size = 0
    for byte in head[6:10]:
        if byte & 0x80:
            raise MediaRefused(NOT_ACCEPTED)
        size = (size << 7) | byte
    offset = 10 + size + (10 if head[5] & 0x10 else 0)
    handle.seek(offset)
    after = handle.read(16)
    if after.startswith(b"fLaC"):
        return FLAC
    found = _mpeg_audio(after)
    if found is None:
        raise MediaRefused("The file has an audio tag but no MP3, AAC or FLAC audio after it.")
    return found


def _why_not(head: bytes) -> str:
    """A more helpful sentence for the refusals people are likely to meet."""
    text = head[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"#extm3u", b"[playlist]")) or b"#ext-x-" in text:
        return "This file is a playlist that points to other files; only a recording itself can be sent."
    if text.startswith((b"ffconcat", b"file ")):
        return "This file is a list of other files, not a recording; only a recording itself can be sent."
    if text.startswith(b"v=0"):
        return "This file describes a network stream (SDP), not a recording; only a recording itself can be sent."
    if head.startswith(b"RIFF"):
        return f"This RIFF file is neither WAV audio nor a WebP picture; we accept {ACCEPTED_TEXT}."
    if _looks_like_text(head):
        return f"This is a text file, not a recording or picture; we accept {ACCEPTED_TEXT}."
    return NOT_ACCEPTED


def _looks_like_text(head: bytes) -> bool:
    sample = head[:4096]
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(b >= 0x20 or b in b"\t\r\n" for b in sample)
