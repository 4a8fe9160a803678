"""The one delivery profile: what every processed file looks like, whatever came in.

Choices, and why:
- Video: H.264 High, yuv420p, in MP4 with the index at the front (`+faststart`): the one
  combination every current browser plays, and the player can start before the download ends.
- At most 1280x720 *in the picture's own orientation* (a portrait phone video becomes
  720x1280, not a 404x720 postage stamp): the pixel budget of 720p either way; never upscaled;
  even dimensions (4:2:0 needs them); square pixels.
- At most 30 fps, at one constant rate: a source over the cap, or with a variable frame rate
  (phones drop frames in low light), is re-timed to min(30, its real rate), where the real
  rate is the clock its timestamps need, not their average (a 60 fps clock with half the
  frames dropped averages 25 fps, but ffmpeg would write it as constant 60). A keyframe every
  2 s so that seeking in the review player is quick.
- HDR (10-bit HLG or PQ, including Dolby Vision with an HLG base layer, as current phones
  record) becomes SDR BT.709: linear light with diffuse white at 203 cd/m2 (ITU-R BT.2408),
  BT.2020 to BT.709 primaries, then the Mobius curve, which leaves everything up to about
  diffuse white as it was and rolls off highlights up to a 1000 cd/m2 peak (what phones
  master to) instead of clipping them. Without it an HDR picture looks washed out and grey.
- Quality-based rate control, CRF 23 (x264's default: transparent enough for talking-head
  video), preset `veryfast`: on a 2-core worker it is ~2-3x faster than `medium` for files
  ~10-15% larger at the same quality; review latency matters more than a few MB.
- Audio: AAC-LC 48 kHz, mono at 96 kb/s or stereo at 128 kb/s (more channels are downmixed):
  speech at these rates is indistinguishable from the source.
- Audio-only messages: the same AAC in an M4A (MP4 audio) file. Every current browser plays
  AAC in MP4 (Opus in WebM/Ogg is not played by older Safari), and it is the same muxer,
  scrubbing and verification as video.
- Pictures: re-rendered JPEG, quality 85, at most 4096 px on the long side (see images.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeliveryProfile:
    max_long_side: int = 1280
    max_short_side: int = 720
    max_fps: float = 30.0
    keyframe_seconds: float = 2.0
    crf: int = 23
    preset: str = "veryfast"
    h264_profile: str = "high"
    h264_level: str = "4.0"
    audio_rate: int = 48_000
    mono_bitrate: str = "96k"
    stereo_bitrate: str = "128k"
    image_max_side: int = 4096
    image_quality: int = 85
    poster_quality: int = 3  # mjpeg -q:v, 2 (best) .. 31
    hdr_white_nits: float = 203.0  # diffuse white in HDR video (ITU-R BT.2408)
    hdr_peak_nits: float = 1000.0  # the highlights phones master to
    tone_curve: str = "mobius"

    def video_size(self, width: int, height: int) -> tuple[int, int]:
        """Fit (width, height) into the box in its own orientation; never upscale; even."""
        long_max, short_max = self.max_long_side, self.max_short_side
        box_w, box_h = (long_max, short_max) if width >= height else (short_max, long_max)
        scale = min(1.0, box_w / width, box_h / height)
        return _even(width * scale), _even(height * scale)

    def output_fps(self, fps: float | None, real_fps: float | None = None,
                   variable: bool = False) -> float | None:
        """The rate to force, or None to keep the source's timing (steady and within the cap).
        ffmpeg writes MP4 at the real (timestamp) rate, so that is what must fit the cap."""
        if fps is None:
            return self.max_fps
        fastest = max(fps, real_fps or fps)
        if fastest > self.max_fps + 0.01:
            return self.max_fps
        return round(fastest, 3) if variable else None

    def gop_frames(self, fps: float | None) -> int:
        return max(1, round(self.keyframe_seconds * min(fps or self.max_fps, self.max_fps)))

    def audio_channels(self, channels: int | None) -> int:
        return 1 if channels == 1 else 2

    def audio_bitrate(self, channels: int) -> str:
        return self.mono_bitrate if channels == 1 else self.stereo_bitrate

    def video_encoder_options(self, fps: float | None) -> dict[str, object]:
        gop = self.gop_frames(fps)
        return {
            "c:v": "libx264",
            "preset": self.preset,
            "crf": self.crf,
            "profile:v": self.h264_profile,
            "level:v": self.h264_level,
            "pix_fmt": "yuv420p",
            "g": gop,
            "keyint_min": gop,
            "sc_threshold": 0,
            "force_key_frames": f"expr:gte(t,n_forced*{self.keyframe_seconds:g})",
            # x264 writes its version and every option into an SEI message in the first frame;
            # there is no switch for it, so the SEI NAL units (type 6) are removed afterwards.
            "bsf:v": "filter_units=remove_types=6",
            # The compressor name in the MP4 sample entry defaults to "Lavc libx264"; a blank
            # value set by us replaces it (an empty one would make ffmpeg set the default).
            "metadata:s:v:0": "encoder= ",
        }

    def tone_map_filters(
        self, transfer: str, primaries: str | None, matrix: str | None
    ) -> list[tuple[str, dict[str, object]]]:
        """zscale/tonemap steps from an HDR transfer ('smpte2084' | 'arib-std-b67') to SDR
        BT.709; every colour property is given explicitly (zscale refuses to guess)."""
        white = self.hdr_white_nits
        return [
            ("zscale", {"tin": transfer, "pin": primaries or "bt2020", "min": matrix or "bt2020nc",
                        "rin": "tv", "t": "linear", "p": primaries or "bt2020", "npl": f"{white:g}"}),
            ("format", {"pix_fmts": "gbrpf32le"}),
            ("zscale", {"p": "bt709"}),
            ("tonemap", {"tonemap": self.tone_curve, "desat": 0, "peak": f"{self.hdr_peak_nits / white:.3f}"}),
            ("zscale", {"t": "bt709", "m": "bt709", "r": "tv"}),
        ]

    def audio_encoder_options(self, channels: int) -> dict[str, object]:
        return {"c:a": "aac", "b:a": self.audio_bitrate(channels), "ar": self.audio_rate, "ac": channels}


def scrub_options() -> dict[str, object]:
    """Everything that keeps the input's metadata and our tools' names out of the output."""
    return {
        "map_metadata": -1,
        "map_chapters": -1,
        "sn": None,
        "dn": None,
        "fflags": "+bitexact",
        "flags:v": "+bitexact",
        "flags:a": "+bitexact",
    }


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


DEFAULT_PROFILE = DeliveryProfile()
