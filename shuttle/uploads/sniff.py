"""Is an upload a recording or a picture? Decided from its first bytes as they arrive, so a
document or a text file is refused at once, with a reason, before anything says "sent".

This module is the one place for the magic numbers and the refusal sentences: the media
worker's `workers/media/sniff.py` imports them (workers use the domain, never the other way),
and tests/web/test_upload_sniff.py checks that the two agree on every sample. The worker still
decides for good; this only refuses early what it would refuse later, and leaves to it what the
first bytes cannot tell (a piece too short, an audio tag longer than the piece).
"""

from __future__ import annotations

#: How much of the first piece is looked at (the longest text check reads this far).
HEAD_BYTES = 4096
#: Below this, a piece that is not the whole file cannot be judged (ftyp/RIFF need 12 bytes).
MIN_BYTES = 12

ACCEPTED_TEXT = "MP4/MOV, WebM/MKV, Ogg, WAV, MP3, FLAC, AAC, JPEG, PNG or WebP"
NOT_ACCEPTED = f"This file is not a recording or picture in a format we accept ({ACCEPTED_TEXT})."
HEIF = ("Please send this photo as JPEG: on an iPhone, set Settings > Camera > Formats to "
        "“Most Compatible” and take it again, or send a screenshot of it instead "
        "(HEIC photos, the iPhone's default, cannot be opened here).")

ID3_WITHOUT_AUDIO = "The file has an audio tag but no MP3, AAC or FLAC audio after it."

#: ISO-BMFF major brands that are still images (HEIF/AVIF): ffmpeg 5.1 cannot read them (its mov
#: demuxer reads tracks, not HEIF items), nor can Pillow without a plugin; see docs/media.md.
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
QUICKTIME_FIRST_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
_MAGIC = (b"\x1a\x45\xdf\xa3", b"OggS", b"fLaC", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def refusal(head: bytes, *, whole: bool) -> str | None:
    """Why a file starting with `head` is refused, in a sentence for the person sending it; None
    when it looks like accepted media, or when `head` cannot tell yet. `whole`: head is all of it."""
    if len(head) < MIN_BYTES and not whole:
        return None
    if not head:
        return "The file is empty."
    if head.startswith(b"ID3"):
        return _after_id3(head, whole)
    if head[4:8] == b"ftyp":
        return HEIF if head[8:12] in HEIF_BRANDS else None
    if _is_media(head):
        return None
    return why_not(head)


def _is_media(head: bytes) -> bool:
    if head[4:8] in QUICKTIME_FIRST_ATOMS and int.from_bytes(head[:4], "big") >= 8:
        return True
    if head.startswith(b"RIFF") and head[8:12] in (b"WAVE", b"WEBP"):
        return True
    return head.startswith(_MAGIC) or mpeg_audio(head) is not None


def mpeg_audio(head: bytes) -> str | None:
    """"aac" for an ADTS frame header, "mp3" for MPEG-1/2 layer I-III, else None."""
    if len(head) < 4 or head[0] != 0xFF or (head[1] & 0xE0) != 0xE0:
        return None
    if (head[1] & 0xF6) == 0xF0:  # 12-bit sync, layer 00: ADTS
        return "aac" if ((head[2] >> 2) & 0xF) < 13 else None
    layer = (head[1] >> 1) & 0x3
    bitrate_index, rate_index = head[2] >> 4, (head[2] >> 2) & 0x3
    if layer == 0 or bitrate_index == 0xF or rate_index == 0x3 or (head[1] >> 3) & 0x3 == 1:
        return None
    return "mp3"


def id3_end(head: bytes) -> int | None:
    """Where the audio after an ID3v2 tag starts (`head` starts with b"ID3"); None if the tag is malformed."""
    if len(head) < 10:
        return None
    size = 0
    for byte in head[6:10]:
        if byte & 0x80:
            return None
        size = (size << 7) | byte
    return 10 + size + (10 if head[5] & 0x10 else 0)


def audio_after_id3(after: bytes) -> bool:
    """Whether the bytes after an ID3v2 tag start FLAC or an MPEG audio frame."""
    return after.startswith(b"fLaC") or mpeg_audio(after) is not None


def _after_id3(head: bytes, whole: bool) -> str | None:
    """An ID3v2 tag may precede MP3, AAC or FLAC: judge what follows it, if this piece reaches it."""
    offset = id3_end(head)
    if offset is None:
        return NOT_ACCEPTED
    after = head[offset:offset + 16]
    if len(after) < 16 and not whole:
        return None  # the tag runs past this piece: the worker looks further
    return None if audio_after_id3(after) else ID3_WITHOUT_AUDIO


def why_not(head: bytes) -> str:
    """The sentence for a file that is not accepted media, for the refusals people are likely to meet."""
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
