"""Test media made on the spot with ffmpeg (lavfi testsrc/sine) and Pillow.

Every fixture is small (2 s at 320x240 unless said otherwise) and made on first use, so a test
run only pays for what it uses. Each metadata carrier gets a unique planted string; tests look
for every one of them in every output's bytes as well as probing the output.
"""

from __future__ import annotations

import io
import random
import struct
import subprocess
import zlib
from pathlib import Path

from PIL import Image, ImageCms, PngImagePlugin

from workers.media.tools import Tools

# One unique string per carrier; none may survive processing.
P = {
    "title": "PLANTED-global-title-4821",
    "comment": "PLANTED-global-comment-7730",
    "artist": "PLANTED-artist-name-1902",
    "stream_title": "PLANTED-stream-title-5531",
    "handler": "PLANTED-handler-name-6604",
    "chapter": "PLANTED-chapter-title-3318",
    "subtitle": "PLANTED-subtitle-text-9027",
    "attachment_name": "PLANTED-attachment-name-2245.txt",
    "attachment_body": "PLANTED-attachment-body-8863",
    "make": "PLANTED-device-make-1177",
    "model": "PLANTED-device-model-4409",
    "software": "PLANTED-software-3390",
    "location": "+51.5074-000.1278+011.000/",
    "owner": "PLANTED-camera-owner-Jessica-Smith",
    "exif_artist": "PLANTED-exif-artist-6071",
    "xmp": "PLANTED-xmp-creator-8125",
    "png_text": "PLANTED-png-text-2936",
    "png_ztxt": "PLANTED-png-ztxt-5580",
    "png_itxt": "PLANTED-png-itxt-7043",
    "jpeg_comment": "PLANTED-jpeg-comment-1468",
    "cover_comment": "PLANTED-cover-comment-3702",
    "vorbis": "PLANTED-vorbis-comment-6615",
}
PLANTED = tuple(P.values())
SECRET_FILE_LINE = b"root:x:0:0"  # the first line of /etc/passwd on every Linux


class Fixtures:
    """Makes each fixture file once, in `root`, on first request."""

    def __init__(self, root: Path, tools: Tools) -> None:
        self.root = root
        self.tools = tools

    # --- plumbing --------------------------------------------------------------------------
    def ff(self, *args: str) -> None:
        argv = [self.tools.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
        done = subprocess.run(argv, capture_output=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"fixture command failed: {' '.join(argv)}\n{done.stderr.decode()}")

    def _path(self, name: str) -> tuple[Path, bool]:
        path = self.root / name
        return path, path.exists()

    def text(self, name: str, content: str | bytes) -> Path:
        path = self.root / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    @staticmethod
    def av_sources(seconds: float = 2, size: str = "320x240", rate: int = 25) -> list[str]:
        return ["-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}:duration={seconds}",
                "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}"]

    # --- plain clips --------------------------------------------------------------------------
    def plain_mp4(self, name: str = "plain.mp4", seconds: float = 2, faststart: bool = False) -> Path:
        path, done = self._path(name)
        if not done:
            flags = ["-movflags", "+faststart"] if faststart else []
            self.ff(*self.av_sources(seconds), "-c:v", "libx264", "-preset", "ultrafast",
                    "-c:a", "aac", *flags, str(path))
        return path

    def big60(self) -> Path:
        """1920x1080 at 60 fps: must come out 1280x720 at 30 fps."""
        path, done = self._path("big60.mp4")
        if not done:
            self.ff(*self.av_sources(1, "1920x1080", 60), "-c:v", "libx264", "-preset", "ultrafast",
                    "-c:a", "aac", str(path))
        return path

    def portrait(self) -> Path:
        path, done = self._path("portrait.mp4")
        if not done:
            self.ff(*self.av_sources(1, "1080x1920", 25), "-c:v", "libx264", "-preset", "ultrafast",
                    "-c:a", "aac", str(path))
        return path

    def browser_webm(self) -> Path:
        """VP8 + Opus written to a pipe, like a browser recorder: no duration in the header."""
        path, done = self._path("browser.webm")
        if not done:
            argv = [self.tools.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
                    *self.av_sources(2), "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8",
                    "-b:v", "300k", "-c:a", "libopus", "-f", "webm", "pipe:1"]
            data = subprocess.run(argv, capture_output=True, timeout=120, check=True).stdout
            path.write_bytes(data)
        return path

    # --- metadata carriers --------------------------------------------------------------------
    def _ffmetadata(self) -> Path:
        return self.text("chapters.ffmeta", (
            ";FFMETADATA1\n"
            f"title={P['title']}\n"
            "[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\n"
            f"title={P['chapter']}\n"
            "[CHAPTER]\nTIMEBASE=1/1000\nSTART=1000\nEND=2000\ntitle=second\n"
        ))

    def rich_mp4(self) -> Path:
        """Global and stream tags, chapters, a mov_text subtitle track, a second audio track,
        a 3GPP location box, creation time."""
        path, done = self._path("rich.mp4")
        if not done:
            srt = self.text("sub.srt", f"1\n00:00:00,000 --> 00:00:01,500\n{P['subtitle']}\n")
            meta = self._ffmetadata()
            self.ff(*self.av_sources(2), "-f", "lavfi", "-i", "sine=frequency=880:duration=2",
                    "-i", str(srt), "-i", str(meta),
                    "-map", "0:v", "-map", "1:a", "-map", "2:a", "-map", "3:s",
                    "-map_metadata", "4", "-map_chapters", "4",
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-c:s", "mov_text",
                    "-metadata", f"comment={P['comment']}", "-metadata", f"artist={P['artist']}",
                    "-metadata", "location=+51.5074-000.1278/",
                    "-metadata", "creation_time=2024-05-01T10:00:00Z",
                    "-metadata:s:v:0", f"title={P['stream_title']}",
                    "-metadata:s:a:0", f"handler_name={P['handler']}",
                    "-metadata:s:a:0", "language=eng", str(path))
        return path

    def phone_mov(self) -> Path:
        """An iPhone-like QuickTime file: Apple mdta keys (location, make, model, software),
        a timecode data track, and a display matrix rotating the picture by 90 degrees."""
        path, done = self._path("phone.mov")
        if not done:
            flat = self.root / "phone-flat.mov"
            self.ff(*self.av_sources(2), "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
                    "-timecode", "01:00:00:00", "-movflags", "use_metadata_tags",
                    "-metadata", f"com.apple.quicktime.location.ISO6709={P['location']}",
                    "-metadata", f"com.apple.quicktime.make={P['make']}",
                    "-metadata", f"com.apple.quicktime.model={P['model']}",
                    "-metadata", f"com.apple.quicktime.software={P['software']}",
                    "-metadata", "com.apple.quicktime.creationdate=2024-05-01T10:00:00+0100",
                    str(flat))
            self._rotate(flat, path)
        return path

    def _rotate(self, src: Path, dst: Path) -> None:
        keep = ["-map", "0", "-c", "copy", "-map_metadata", "0", "-movflags", "use_metadata_tags"]
        if self.tools.version >= (6, 1):
            self.ff("-display_rotation:v:0", "90", "-i", str(src), *keep, str(dst))
        else:
            self.ff("-i", str(src), *keep, "-metadata:s:v:0", "rotate=90", str(dst))

    def attach_mkv(self) -> Path:
        """Matroska with an attachment, an SRT subtitle, chapters, global and stream tags."""
        path, done = self._path("attach.mkv")
        if not done:
            body = self.text(P["attachment_name"], P["attachment_body"])
            srt = self.text("sub2.srt", f"1\n00:00:00,000 --> 00:00:01,000\n{P['subtitle']}\n")
            meta = self._ffmetadata()
            self.ff(*self.av_sources(2), "-i", str(srt), "-i", str(meta),
                    "-map", "0:v", "-map", "1:a", "-map", "2:s", "-map_metadata", "3", "-map_chapters", "3",
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "libopus", "-c:s", "srt",
                    "-attach", str(body), "-metadata:s:t", "mimetype=text/plain",
                    "-metadata", f"comment={P['comment']}",
                    "-metadata:s:v:0", f"title={P['stream_title']}", str(path))
        return path

    def cover_jpeg(self) -> Path:
        """The cover picture: itself carrying EXIF, so it must not survive in any form."""
        path = self.root / "cover.jpg"
        if not path.exists():
            img = Image.new("RGB", (64, 64), (200, 30, 30))
            exif = Image.Exif()
            exif[0x013B] = P["exif_artist"]
            img.save(path, "JPEG", exif=exif.tobytes(), comment=P["cover_comment"].encode())
        return path

    def cover_mp3(self) -> Path:
        """MP3 with ID3 tags and an attached cover picture (APIC)."""
        path, done = self._path("cover.mp3")
        if not done:
            self.ff("-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-i", str(self.cover_jpeg()),
                    "-map", "0:a", "-map", "1:v", "-c:a", "libmp3lame", "-b:a", "64k", "-c:v", "copy",
                    "-id3v2_version", "3", "-metadata", f"title={P['title']}",
                    "-metadata", f"artist={P['artist']}", "-metadata", f"comment={P['comment']}",
                    "-metadata:s:v", f"comment={P['cover_comment']}", "-disposition:v", "attached_pic",
                    str(path))
        return path

    def cover_m4a(self) -> Path:
        """AAC in M4A with iTunes tags and a cover picture."""
        path, done = self._path("cover.m4a")
        if not done:
            self.ff("-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-i", str(self.cover_jpeg()),
                    "-map", "0:a", "-map", "1:v", "-c:a", "aac", "-c:v", "copy",
                    "-disposition:v", "attached_pic", "-metadata", f"title={P['title']}",
                    "-metadata", f"artist={P['artist']}", str(path))
        return path

    def voice_ogg(self) -> Path:
        path, done = self._path("voice.ogg")
        if not done:
            self.ff("-f", "lavfi", "-i", "sine=frequency=300:duration=2", "-c:a", "libopus",
                    "-metadata", f"comment={P['vorbis']}", "-metadata", f"artist={P['artist']}", str(path))
        return path

    def audio(self, ext: str) -> Path:
        """A 2 s tone as WAV, FLAC or raw ADTS AAC, tagged where the format allows."""
        path, done = self._path(f"tone.{ext}")
        if not done:
            codec = {"wav": "pcm_s16le", "flac": "flac", "aac": "aac"}[ext]
            self.ff("-f", "lavfi", "-i", "sine=frequency=500:duration=2", "-c:a", codec,
                    "-metadata", f"title={P['title']}", str(path))
        return path

    # --- pictures -------------------------------------------------------------------------------
    @staticmethod
    def _two_tone(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
        """Left half red, right half blue: orientation is visible in the pixels."""
        img = Image.new(mode, size, (0, 0, 255) if mode == "RGB" else (0, 0, 255, 255))
        img.paste((255, 0, 0) if mode == "RGB" else (255, 0, 0, 255), (0, 0, size[0] // 2, size[1]))
        return img

    def _xmp(self) -> bytes:
        return (
            '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<dc:creator>{P["xmp"]}</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>'
            '<?xpacket end="w"?>'
        ).encode()

    def _exif(self) -> Image.Exif:
        exif = Image.Exif()
        exif[0x010F] = P["make"]  # Make
        exif[0x0110] = P["model"]  # Model
        exif[0x0131] = P["software"]  # Software
        exif[0x013B] = P["exif_artist"]  # Artist
        exif[0x0112] = 6  # Orientation: rotate 90 CW to display
        exif.get_ifd(0x8769)[0xA430] = P["owner"]  # CameraOwnerName
        exif.get_ifd(0x8769)[0x9003] = "2024:05:01 10:00:00"  # DateTimeOriginal
        gps = exif.get_ifd(0x8825)
        gps[1], gps[2] = "N", (51.0, 30.0, 26.64)
        gps[3], gps[4] = "W", (0.0, 7.0, 40.08)
        return exif

    def exif_jpeg(self) -> Path:
        """EXIF (owner, device, GPS, orientation 6), XMP, an ICC profile and a comment."""
        path = self.root / "exif.jpg"
        if not path.exists():
            icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
            self._two_tone((640, 480)).save(
                path, "JPEG", quality=90, exif=self._exif().tobytes(), icc_profile=icc,
                comment=P["jpeg_comment"].encode(), xmp=self._xmp(),
            )
        return path

    def text_png(self) -> Path:
        """RGBA PNG with tEXt, zTXt, iTXt (one of them XMP), eXIf and ICC chunks."""
        path = self.root / "text.png"
        if not path.exists():
            info = PngImagePlugin.PngInfo()
            info.add_text("Author", P["png_text"])
            info.add_text("Comment", P["png_ztxt"], zip=True)
            info.add_itxt("Description", P["png_itxt"], lang="en", tkey="Description")
            info.add_itxt("XML:com.adobe.xmp", self._xmp().decode())
            icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
            exif = Image.Exif()
            exif[0x013B] = P["exif_artist"]
            self._two_tone((400, 300), "RGBA").save(path, "PNG", pnginfo=info, icc_profile=icc,
                                                    exif=exif.tobytes())
        return path

    def photo_webp(self) -> Path:
        path = self.root / "photo.webp"
        if not path.exists():
            self._two_tone((300, 200)).save(path, "WEBP", exif=self._exif().tobytes(), xmp=self._xmp())
        return path

    def bomb_png(self, side: int = 30000) -> Path:
        """A real, valid 30000x30000 1-bit PNG of ~100 KB: 900 megapixels if decoded."""
        path = self.root / "bomb.png"
        if not path.exists():
            row = b"\x00" + b"\x00" * ((side + 7) // 8)
            packer = zlib.compressobj(9)
            chunks = [packer.compress(row * 1000) for _ in range(side // 1000)]
            idat = b"".join(chunks) + packer.flush()
            ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
            path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat)
                             + _chunk(b"IEND", b""))
        return path

    # --- hostile inputs --------------------------------------------------------------------------
    def hls_playlist(self) -> Path:
        return self.text("playlist.mp4", (
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
            "#EXTINF:10.0,\nfile:///etc/passwd\n#EXTINF:10.0,\n/etc/passwd\n#EXT-X-ENDLIST\n"
        ))

    def ffconcat(self) -> Path:
        return self.text("concat.mp4", "ffconcat version 1.0\nfile '/etc/passwd'\nfile 'file:/etc/passwd'\n")

    def sdp(self) -> Path:
        return self.text("stream.mp4", (
            "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\n"
            "m=video 5004 RTP/AVP 96\na=rtpmap:96 H264/90000\n"
        ))

    def ftyp_then_playlist(self) -> Path:
        """Starts like an MP4 (a valid ftyp box) and goes on as an HLS playlist."""
        ftyp = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"isom", 512, b"isom", b"mp41")
        return self.text("disguised.mp4", ftyp + self.hls_playlist().read_bytes())

    def random_bytes(self) -> Path:
        data = bytearray(random.Random(4).randbytes(200_000))
        data[0] = 0x00  # make sure no magic number matches by chance
        return self.text("random.mp4", bytes(data))

    def empty(self) -> Path:
        return self.text("empty.mp4", b"")

    def heic(self) -> Path:
        return self.text("photo.heic.jpg", struct.pack(">I4s4sI4s", 20, b"ftyp", b"heic", 0, b"mif1") + b"\x00" * 100)

    def truncated_mp4(self) -> Path:
        """Index at the end, file cut in half: the index is gone."""
        path = self.root / "truncated.mp4"
        if not path.exists():
            data = self.plain_mp4().read_bytes()
            path.write_bytes(data[: len(data) // 2])
        return path

    def truncated_faststart(self) -> Path:
        """Index at the front, media cut off: the header promises 4 s, 1-2 s are there."""
        path = self.root / "truncated-faststart.mp4"
        if not path.exists():
            data = self.plain_mp4("plain-fast4.mp4", seconds=4, faststart=True).read_bytes()
            path.write_bytes(data[: len(data) * 2 // 5])
        return path

    def four_hours(self) -> Path:
        """Four hours of real silence (8 kHz mono FLAC: ~3 MB, made in about a second)."""
        path, done = self._path("four-hours.flac")
        if not done:
            self.ff("-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono:nb_samples=8192", "-t", "14400",
                    "-c:a", "flac", str(path))
        return path

    def edit_clip(self) -> Path:
        """6 s: loud tone throughout, a detailed picture (for blur and cut measurements)."""
        path, done = self._path("edit.mp4")
        if not done:
            self.ff("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=6",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=6",
                    "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12", "-c:a", "aac", str(path))
        return path

    def long_video(self, seconds: int = 20) -> Path:
        path, done = self._path(f"long{seconds}.mp4")
        if not done:
            self.ff(*self.av_sources(seconds, "640x480", 30), "-c:v", "libx264", "-preset", "ultrafast",
                    "-c:a", "aac", str(path))
        return path


    # --- as phones and browsers really make them (issue 15) ----------------------------------
    def vfr_mp4(self) -> Path:
        """Variable frame rate, as phones record in low light: a 60 fps clock with frames
        dropped irregularly (5 of every 12 kept), timestamps kept as they are. The average is
        ~25 fps; the stream's real timing is 60 fps."""
        path, done = self._path("vfr.mp4")
        if not done:
            self.ff("-f", "lavfi", "-i", "testsrc=size=320x240:rate=60:duration=2",
                    "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
                    "-vf", "select='lt(mod(n\\,12)\\,5)'", "-fps_mode", "vfr",
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(path))
        return path

    def still_with_sound(self) -> Path:
        """One video frame followed by 3 s of sound (voice-note recorders, messaging apps)."""
        path, done = self._path("still-sound.mp4")
        if not done:
            frame = self.root / "one-frame.mp4"
            self.ff("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-frames:v", "1",
                    "-c:v", "libx264", "-preset", "ultrafast", str(frame))
            self.ff("-i", str(frame), "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
                    "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", str(path))
        return path

    def _noise_then_quiet(self, seconds: int) -> list[str]:
        """3 s of loud noise, then a quiet tone: VBR frames at the start are large, later ones
        small, so a duration guessed from the first frames' bit rate is far too short."""
        return ["-f", "lavfi", "-i", "anoisesrc=d=3:a=0.8:r=22050",
                "-f", "lavfi", "-i", f"sine=f=300:d={seconds - 3}:r=22050",
                "-filter_complex", "[1]volume=0.05[q];[0][q]concat=n=2:v=0:a=1", "-ac", "1"]

    def vbr_mp3_no_header(self, seconds: int = 30) -> Path:
        """A VBR MP3 with no Xing/VBRI header (`-write_xing 0`): ffmpeg estimates ~9 s for 30 s."""
        path, done = self._path(f"vbr-noxing-{seconds}.mp3")
        if not done:
            self.ff(*self._noise_then_quiet(seconds), "-c:a", "libmp3lame", "-q:a", "5",
                    "-write_xing", "0", str(path))
        return path

    def vbr_aac_raw(self, seconds: int = 30) -> Path:
        """Raw ADTS AAC at variable bit rate (`-q:a`): no header holds the duration at all."""
        path, done = self._path(f"vbr-{seconds}.aac")
        if not done:
            self.ff(*self._noise_then_quiet(seconds), "-c:a", "aac", "-q:a", "1", str(path))
        return path

    def sdr_reference(self) -> Path:
        """The picture the HDR fixtures are made from, as plain 8-bit BT.709."""
        path, done = self._path("sdr-reference.mp4")
        if not done:
            self.ff("-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=1,format=yuv420p",
                    "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", str(path))
        return path

    def hdr_hevc(self, transfer: str = "hlg") -> Path:
        """10-bit HEVC in BT.2020 with HLG or PQ, as current phones record: the SDR reference
        converted with diffuse white at 203 cd/m2 (ITU-R BT.2408), tagged in the container."""
        trc = {"hlg": "arib-std-b67", "pq": "smpte2084"}[transfer]
        path, done = self._path(f"hdr-{transfer}.mov")
        if not done:
            up = ("zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:t=linear:p=bt709:npl=203,"
                  f"format=gbrpf32le,zscale=p=bt2020:t={trc}:m=bt2020nc:r=tv:npl=203,format=yuv420p10le")
            self.ff("-i", str(self.sdr_reference()), "-f", "lavfi", "-i", "sine=duration=1",
                    "-vf", up, "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error",
                    "-color_primaries", "bt2020", "-color_trc", trc, "-colorspace", "bt2020nc",
                    "-tag:v", "hvc1", "-c:a", "aac", "-shortest", str(path))
        return path

    def dolby_vision(self) -> Path:
        """The HLG clip with a Dolby Vision configuration box (dvcC, profile 8.4: an HLG base
        layer, what iPhones write). No encoder here makes Dolby Vision RPU data, so the stream
        is the plain HLG HEVC; the box is what makes players and ffprobe call it Dolby Vision."""
        path = self.root / "dolby-vision.mov"
        if not path.exists():
            path.write_bytes(_with_dvcc(self.hdr_hevc("hlg").read_bytes()))
        return path

    def hevc_portrait(self) -> Path:
        """A portrait phone video: HEVC stored landscape with a 270-degree display matrix."""
        path, done = self._path("hevc-portrait.mov")
        if not done:
            flat = self.root / "hevc-flat.mov"
            self.ff(*self.av_sources(1, "320x240"), "-c:v", "libx265", "-preset", "ultrafast",
                    "-x265-params", "log-level=error", "-tag:v", "hvc1", "-c:a", "aac", str(flat))
            keep = ["-map", "0", "-c", "copy"]
            if self.tools.version >= (6, 1):
                self.ff("-display_rotation:v:0", "270", "-i", str(flat), *keep, str(path))
            else:
                self.ff("-i", str(flat), *keep, "-metadata:s:v:0", "rotate=270", str(path))
        return path

    def surround(self, ext: str = "m4a") -> Path:
        """5.1 AAC (six different tones), as audio only (.m4a) or under a picture (.mp4)."""
        path, done = self._path(f"surround.{ext}")
        if not done:
            tones = [a for f in (440, 660, 880, 220, 110, 330)
                     for a in ("-f", "lavfi", "-i", f"sine=frequency={f}:duration=1")]
            join = "".join(f"[{i}]" for i in range(6)) + "join=inputs=6:channel_layout=5.1[a]"
            video = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=1"] if ext == "mp4" else []
            maps = ["-map", "6:v", "-c:v", "libx264", "-preset", "ultrafast"] if ext == "mp4" else []
            self.ff(*tones, *video, "-filter_complex", join, "-map", "[a]", *maps, "-c:a", "aac", str(path))
        return path

    def opus_mp4(self, with_video: bool = True) -> Path:
        path, done = self._path(f"opus-{'video' if with_video else 'audio'}.mp4")
        if not done:
            sources = self.av_sources(1) if with_video else ["-f", "lavfi", "-i", "sine=duration=1"]
            video = ["-c:v", "libx264", "-preset", "ultrafast"] if with_video else []
            self.ff(*sources, *video, "-c:a", "libopus", str(path))
        return path

    def av1_mp4(self) -> Path:
        path, done = self._path("av1.mp4")
        if not done:
            self.ff(*self.av_sources(1), "-c:v", "libsvtav1", "-preset", "12", "-c:a", "libopus",
                    str(path))
        return path

    def alac_m4a(self) -> Path:
        path, done = self._path("alac.m4a")
        if not done:
            self.ff("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=1",
                    "-c:a", "alac", str(path))
        return path

    def hires_wav(self) -> Path:
        """24-bit, 96 kHz stereo WAV (written as WAVE_FORMAT_EXTENSIBLE, as recorders do)."""
        path, done = self._path("hires.wav")
        if not done:
            self.ff("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=96000:duration=1",
                    "-ac", "2", "-c:a", "pcm_s24le", str(path))
        return path

    def animated(self, fmt: str = "GIF", frames: int = 3) -> Path:
        """An animated GIF or WebP (three coloured frames); `frames=1` gives a still one."""
        ext = fmt.lower()
        path = self.root / f"animated-{frames}.{ext}"
        if not path.exists():
            colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)] * frames
            images = [Image.new("RGB", (120, 80), colours[i]) for i in range(frames)]
            images[0].save(path, fmt, save_all=frames > 1, append_images=images[1:], duration=200, loop=0)
        return path

    def amr_3gp(self) -> Path | None:
        """A voice memo as old phones and messaging apps write it: AMR-NB (12.2 kb/s) in .3gp.
        Debian's ffmpeg has no AMR encoder, so the frames come from the reference encoder
        library itself (Debian: libopencore-amrnb0) through ctypes; None without it."""
        import ctypes
        import ctypes.util
        import math

        name = ctypes.util.find_library("opencore-amrnb")
        if name is None:
            return None
        path, done = self._path("voice-memo.3gp")
        if not done:
            lib = ctypes.CDLL(name)
            lib.Encoder_Interface_init.restype = ctypes.c_void_p
            lib.Encoder_Interface_Encode.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p,
                                                     ctypes.c_void_p, ctypes.c_int]
            lib.Encoder_Interface_exit.argtypes = [ctypes.c_void_p]
            state = lib.Encoder_Interface_init(0)
            frames = [b"#!AMR\n"]
            out = (ctypes.c_ubyte * 64)()
            for start in range(0, 2 * 8000, 160):  # 2 s of a 300 Hz tone, 20 ms frames
                pcm = (ctypes.c_short * 160)(*(int(8000 * math.sin(2 * math.pi * 300 * (start + i) / 8000))
                                               for i in range(160)))
                size = lib.Encoder_Interface_Encode(state, 7, pcm, out, 0)  # 7: MR122
                frames.append(bytes(out[:size]))
            lib.Encoder_Interface_exit(state)
            raw = self.root / "voice-memo.amr"
            raw.write_bytes(b"".join(frames))
            self.ff("-f", "amr", "-i", str(raw), "-c:a", "copy", "-f", "3gp", str(path))
        return path

    def mpo_jpeg(self) -> Path:
        """A JPEG with a second picture in an MPO index, as phones store depth maps."""
        path = self.root / "photo.mpo.jpg"
        if not path.exists():
            first, second = self._two_tone((160, 120)), Image.new("RGB", (80, 60), (9, 9, 9))
            first.save(path, "MPO", save_all=True, append_images=[second])
        return path

    def real_heic(self) -> Path | None:
        """A real HEIC photo made by libheif's heif-enc (Debian: libheif-examples), or None."""
        import shutil

        enc = shutil.which("heif-enc")
        if enc is None:
            return None
        path = self.root / "real.heic"
        if not path.exists():
            jpeg = self.root / "for-heic.jpg"
            self._two_tone((320, 240)).save(jpeg, "JPEG")
            subprocess.run([enc, "-q", "50", str(jpeg), "-o", str(path)], capture_output=True,
                           timeout=120, check=True)
        return path


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pixels_of(path: Path) -> Image.Image:
    with Image.open(path) as img:
        img.load()
        return img.copy()


def io_bytes(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _with_dvcc(data: bytes) -> bytes:
    """Add a Dolby Vision configuration box (dvcC: version 1.0, profile 8, level 4, RPU and
    base layer present, compatibility id 4 = HLG) to the first `hvc1` sample entry, growing
    every enclosing box (moov/trak/mdia/minf/stbl/stsd/hvc1) by its size."""
    bits = (8 << 9) | (4 << 3) | (1 << 2) | 1  # profile(7) level(6) rpu el bl
    payload = bytes([1, 0]) + struct.pack(">H", bits) + bytes([4 << 4]) + b"\x00" * 19
    dvcc = _box(b"dvcC", payload)
    path_boxes = [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd", b"hvc1"]
    out = bytearray(data)
    starts: list[int] = []
    pos, end = 0, len(out)
    for kind in path_boxes:
        while pos < end:
            size = int.from_bytes(out[pos:pos + 4], "big")
            if out[pos + 4:pos + 8] == kind and (kind != b"trak" or b"hvc1" in out[pos:pos + size]):
                starts.append(pos)
                end = pos + size
                pos += 8 + {b"stsd": 8, b"hvc1": 78}.get(kind, 0)
                break
            pos += size
        else:
            raise ValueError(f"no {kind!r} box")
    insert_at = starts[-1] + int.from_bytes(out[starts[-1]:starts[-1] + 4], "big")
    out[insert_at:insert_at] = dvcc
    for start in starts:
        size = int.from_bytes(out[start:start + 4], "big")
        out[start:start + 4] = struct.pack(">I", size + len(dvcc))
    if starts[0] < _mdat_offset(bytes(out)):
        raise ValueError("moov before mdat: chunk offsets would need fixing")
    return bytes(out)


def _mdat_offset(data: bytes) -> int:
    pos = 0
    while pos < len(data):
        size = int.from_bytes(data[pos:pos + 4], "big")
        if data[pos + 4:pos + 8] == b"mdat":
            return pos
        pos += size
    return len(data)

