"""Pictures (scans and photos of handwritten letters): inspect and re-render with Pillow.

This file runs as a *child process* (`python -I images.py inspect|render ...`) under the same
kernel limits as ffmpeg: decoding an untrusted image is parsing hostile input, and a
decompression bomb must hit a memory cap, not the worker. So it imports nothing but the
standard library and Pillow, and talks JSON on stdout: exit 0 with a result, exit 3 with
{"refused": reason} for an unacceptable picture.

Why JPEG for every delivery: the pictures are phone photos or scans of paper; as PNG a 12 MP
photo is 15-25 MB, as JPEG quality 85 about 2-4 MB with no visible loss on handwriting. One
format also keeps verification and the viewer simple. Transparency (rare here, meaningless on
a letter) is flattened onto white. Only pixels cross: the saved image is rebuilt from raw
pixel bytes, so no EXIF, XMP, ICC, comment or text chunk can ride along.
"""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

EXIF = "EXIF"
GPS = "GPS"
XMP = "XMP"
ICC = "ICC profile"
PNG_TEXT = "PNG text"
COMMENTS = "comments"
IPTC = "IPTC"
EXIF_THUMBNAIL = "EXIF thumbnail"
EXTRA_FRAMES = "extra frames (animation)"
DEVICE = "device make/model"
CREATION_TIME = "creation time"
ENCODER = "encoder/software names"
OTHER = "other embedded metadata"

# Keys Pillow puts in `info` that describe the encoding, not the picture's origin.
STRUCTURAL_INFO = {
    "jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi", "adobe", "adobe_transform",
    "progressive", "progression", "gamma", "srgb", "chromaticity", "transparency",
    "interlace", "aspect", "loop", "duration", "background", "timestamp", "compression",
    "bbox", "blend", "disposal", "default_image", "lossless", "mpoffset",
}

REFUSED_EXIT = 3


class Refused(Exception):
    pass


def _open(path: str, fmt: str, max_pixels: int) -> Any:
    """Open lazily (header only), forcing the sniffed format, and check the size first."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    try:
        img = Image.open(path, formats=[fmt])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Refused(_too_big(max_pixels)) from exc
    except Exception as exc:
        raise Refused("The picture is damaged or not really a picture.") from exc
    width, height = img.size
    if width <= 0 or height <= 0:
        raise Refused("The picture has no pixels.")
    if width * height > max_pixels:
        raise Refused(_too_big(max_pixels))
    return img


def _too_big(max_pixels: int) -> str:
    return f"The picture is larger than the {max_pixels / 1e6:.0f} megapixel limit."


def _decode(img: Any) -> None:
    try:
        img.load()
    except Exception as exc:
        raise Refused("The picture is damaged or incomplete and could not be read.") from exc


def _text(value: Any, limit: int = 500) -> str:
    if isinstance(value, bytes):
        for codec in ("utf-8", "utf-16-le"):
            try:
                decoded = value.decode(codec).rstrip("\x00")
            except UnicodeDecodeError:
                continue
            if decoded.isprintable():
                return decoded[:limit]
        return f"<{len(value)} bytes>"
    return str(value)[:limit]


def _exif_groups(img: Any) -> dict[str, dict[str, str]]:
    from PIL import ExifTags

    exif = img.getexif()
    groups: dict[str, dict[str, str]] = {}
    names = {**ExifTags.TAGS}
    ifd0 = {names.get(k, hex(k)): _text(v) for k, v in exif.items() if k not in (0x8769, 0x8825, 0xA005)}
    if ifd0:
        groups["IFD0"] = ifd0
    for label, ifd, table in (
        ("Exif", ExifTags.IFD.Exif, ExifTags.TAGS),
        ("GPS", ExifTags.IFD.GPSInfo, ExifTags.GPSTAGS),
        ("Interop", ExifTags.IFD.Interop, ExifTags.TAGS),
        ("IFD1 (thumbnail)", ExifTags.IFD.IFD1, ExifTags.TAGS),
    ):
        try:
            values = exif.get_ifd(ifd)
        except Exception:  # noqa: BLE001 (a broken sub-IFD is reported as absent)
            values = {}
        if values:
            groups[label] = {table.get(k, hex(k)): _text(v) for k, v in values.items()}
    return groups


def _kinds_from_exif(groups: dict[str, dict[str, str]]) -> set[str]:
    kinds = {EXIF} if groups else set()
    if groups.get("GPS"):
        kinds.add(GPS)
    if "IFD1 (thumbnail)" in groups:
        kinds.add(EXIF_THUMBNAIL)
    every = {k for group in groups.values() for k in group}
    if every & {"Make", "Model", "LensMake", "LensModel", "BodySerialNumber", "CameraOwnerName"}:
        kinds.add(DEVICE)
    if every & {"DateTime", "DateTimeOriginal", "DateTimeDigitized"}:
        kinds.add(CREATION_TIME)
    if "Software" in every:
        kinds.add(ENCODER)
    return kinds


def _info_metadata(img: Any) -> tuple[set[str], dict[str, str]]:
    """Kinds found in Pillow's `info` (XMP, ICC, comments, PNG text...) and their values."""
    kinds: set[str] = set()
    values: dict[str, str] = {}
    text_keys = set(getattr(img, "text", {}) or {}) if img.format == "PNG" else set()
    for key, value in img.info.items():
        if key in STRUCTURAL_INFO or key == "exif":
            continue
        if key in ("xmp", "XML:com.adobe.xmp"):
            kinds.add(XMP)
        elif key == "icc_profile":
            kinds.add(ICC)
        elif key == "comment":
            kinds.add(COMMENTS)
        elif key in ("photoshop", "iptc"):
            kinds.add(IPTC)
        elif key in text_keys:
            kinds.add(PNG_TEXT)
        else:
            kinds.add(OTHER)
        values[key] = _text(value, 2000)
    return kinds, values


def inspect(path: str, fmt: str, max_pixels: int, decode: bool) -> dict[str, Any]:
    """Size, orientation and every kind of metadata, without changing anything."""
    img = _open(path, fmt, max_pixels)
    if decode:
        _decode(img)  # also reads PNG text chunks that come after the pixels
    groups = _exif_groups(img)
    kinds = _kinds_from_exif(groups)
    info_kinds, info_values = _info_metadata(img)
    kinds |= info_kinds
    frames = int(getattr(img, "n_frames", 1) or 1)
    if frames > 1:
        kinds.add(EXTRA_FRAMES)
    orientation = int(img.getexif().get(0x0112, 1) or 1)
    width, height = img.size
    shown = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    strings = [v for g in groups.values() for v in g.values()] + list(info_values.values())
    return {
        "format": img.format, "mode": img.mode, "width": shown[0], "height": shown[1],
        "stored_width": width, "stored_height": height, "orientation": orientation,
        "frames": frames, "decoded": decode, "found": sorted(kinds),
        "strings": [s for s in strings if len(s) >= 6 and not s.startswith("<")][:200],
        "details": {"exif": groups, "info": info_values},
    }


def render(src: str, fmt: str, dst: str, max_pixels: int, max_side: int, quality: int) -> dict[str, Any]:
    """Re-render the first frame as a fresh JPEG made from pixel values only."""
    from PIL import Image, ImageOps

    img = _open(src, fmt, max_pixels)
    _decode(img)
    img = ImageOps.exif_transpose(img) or img
    img = _to_rgb_or_gray(img)
    if max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    clean = Image.frombytes(img.mode, img.size, img.tobytes())  # no info, no exif: pixels
    clean.save(dst, "JPEG", quality=quality, optimize=True)
    return {"width": clean.width, "height": clean.height, "mode": clean.mode}


def _to_rgb_or_gray(img: Any) -> Any:
    from PIL import Image

    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        img = img.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if img.mode in ("L", "RGB"):
        return img
    if img.mode == "LA" or img.mode == "RGBA" or "transparency" in img.info or img.mode == "PA":
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if img.mode == "1":
        return img.convert("L")
    return img.convert("RGB")


def main(argv: list[str]) -> int:
    warnings.simplefilter("ignore")  # corrupt-EXIF chatter must not end the job
    try:
        if argv[0] == "inspect":
            result = inspect(argv[1], argv[2], int(argv[3]), argv[4] == "1")
        elif argv[0] == "render":
            result = render(argv[1], argv[2], argv[3], int(argv[4]), int(argv[5]), int(argv[6]))
        else:
            print(json.dumps({"error": f"unknown command {argv[0]!r}"}))
            return 2
    except Refused as exc:
        print(json.dumps({"refused": str(exc)}))
        return REFUSED_EXIT
    except MemoryError:
        print(json.dumps({"refused": "The picture needs more memory to open than we allow."}))
        return REFUSED_EXIT
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
