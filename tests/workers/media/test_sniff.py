"""Deciding the container by content: magic numbers in, everything else out with a reason."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from workers.media import sniff
from workers.media.errors import MediaRefused

ADTS = bytes([0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC])
MP3_FRAME = bytes([0xFF, 0xFB, 0x90, 0x64])


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (struct.pack(">I4s4s", 24, b"ftyp", b"isom") + b"\0" * 12, sniff.MP4),
        (struct.pack(">I4s4s", 24, b"ftyp", b"qt  ") + b"\0" * 12, sniff.MP4),
        (struct.pack(">I4s", 8, b"wide") + b"\0" * 8, sniff.MP4),
        (b"\x1a\x45\xdf\xa3" + b"\0" * 20, sniff.MATROSKA),
        (b"OggS\x00\x02" + b"\0" * 20, sniff.OGG),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", sniff.WAV),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", sniff.WEBP),
        (b"fLaC\x00\x00\x00\x22", sniff.FLAC),
        (ADTS, sniff.AAC),
        (MP3_FRAME, sniff.MP3),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", sniff.JPEG),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", sniff.PNG),
    ],
)
def test_accepted_magic_numbers(head: bytes, expected: sniff.Sniffed) -> None:
    assert sniff.sniff_bytes(head) == expected


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"#EXTM3U\n#EXTINF:10,\n/etc/passwd\n", "playlist"),
        (b"\xef\xbb\xbf#EXTM3U\n", "playlist"),
        (b"ffconcat version 1.0\nfile '/etc/passwd'\n", "list of other files"),
        (b"v=0\no=- 0 0 IN IP4 127.0.0.1\n", "network stream"),
        (b"RIFF\x24\x00\x00\x00AVI LIST", "neither WAV"),
        (b"hello, this is a letter\n", "text file"),
        (b"GIF89a\x01\x00\x01\x00", "format we accept"),
        (b"\x00\x01\x02\x03" * 100, "format we accept"),
        (struct.pack(">I4s4s", 24, b"ftyp", b"heic") + b"\0" * 12, "HEIC"),
    ],
)
def test_refused_with_a_reason(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "upload.mp4"  # the name must not matter
    path.write_bytes(content)
    with pytest.raises(MediaRefused) as refused:
        sniff.sniff_file(path)
    assert says in refused.value.reason
    assert "/etc/passwd" not in refused.value.reason


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(MediaRefused, match="empty"):
        sniff.sniff_file(path)


def _id3(size: int) -> bytes:
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x03\x00\x00" + syncsafe + b"\0" * size


@pytest.mark.parametrize(
    ("after", "expected"), [(MP3_FRAME, sniff.MP3), (ADTS, sniff.AAC), (b"fLaC\0\0\0\x22", sniff.FLAC)]
)
def test_id3_tag_then_audio(tmp_path: Path, after: bytes, expected: sniff.Sniffed) -> None:
    path = tmp_path / "x"
    path.write_bytes(_id3(100_000) + after + b"\0" * 64)  # tag longer than the first read
    assert sniff.sniff_file(path) == expected


def test_id3_tag_then_something_else(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(_id3(10) + b"#EXTM3U\n")
    with pytest.raises(MediaRefused):
        sniff.sniff_file(path)
