"""`shuttle media process` and `shuttle media inspect`, called as the CLI calls them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from fixtures import Fixtures, P

from workers.media.cli import cmd_inspect, cmd_process
from workers.media.tools import Tools

pytestmark = pytest.mark.ffmpeg


def _env(tools: Tools) -> dict[str, str]:
    return {"SHUTTLE_FFMPEG": tools.ffmpeg, "SHUTTLE_FFPROBE": tools.ffprobe or ""}


def _call(command, argv: list[str], tools: Tools) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    out, err = io.StringIO(), io.StringIO()
    code = command(argv, env=_env(tools), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_process_prints_a_summary(fx: Fixtures, tools: Tools, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    code, out, err = _call(cmd_process, [str(fx.phone_mov()), "--out", str(out_dir),
                                         "--scratch", str(tmp_path / "s"), "--progress"], tools)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["kind"] == "video" and "location" in summary["removed"]
    assert sorted(p.name for p in out_dir.iterdir()) == ["delivery.mp4", "poster.jpg"]
    assert "processing 100%" in err


def test_process_with_an_edit_list(fx: Fixtures, tools: Tools, tmp_path: Path) -> None:
    edits = tmp_path / "edits.json"
    edits.write_text(json.dumps({"cuts": [{"start": 1, "end": 3}]}))
    code, out, err = _call(cmd_process, [str(fx.edit_clip()), "--out", str(tmp_path / "out"),
                                         "--edits", str(edits), "--scratch", str(tmp_path / "s")], tools)
    assert code == 0, err
    assert json.loads(out)["duration"] == pytest.approx(4.0, abs=0.15)


def test_refusal_is_one_line_and_writes_nothing(fx: Fixtures, tools: Tools, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    code, out, err = _call(cmd_process, [str(fx.hls_playlist()), "--out", str(out_dir),
                                         "--scratch", str(tmp_path / "s")], tools)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("refused: ") and "playlist" in err
    assert not out_dir.exists()


def test_bad_edit_list_is_refused(fx: Fixtures, tools: Tools, tmp_path: Path) -> None:
    edits = tmp_path / "edits.json"
    edits.write_text(json.dumps({"cuts": [{"start": 1, "end": 99}]}))
    code, _out, err = _call(cmd_process, [str(fx.edit_clip()), "--out", str(tmp_path / "out"),
                                          "--edits", str(edits)], tools)
    assert code == 1 and err.startswith("refused: ") and "ends after" in err


def test_missing_ffmpeg_setting_is_one_line(fx: Fixtures, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = cmd_process([str(fx.plain_mp4()), "--out", str(tmp_path / "o")],
                       env={"SHUTTLE_FFMPEG": str(tmp_path / "nope")}, stdout=out, stderr=err)
    assert code == 1 and err.getvalue().startswith("failed: SHUTTLE_FFMPEG")


def test_inspect_lists_metadata_without_changing_the_file(fx: Fixtures, tools: Tools) -> None:
    source = fx.attach_mkv()
    before = source.read_bytes()
    code, out, err = _call(cmd_inspect, [str(source)], tools)
    assert code == 0, err
    found = json.loads(out)
    assert {k.lower(): v for k, v in found["format_tags"].items()}["comment"] == P["comment"]
    assert found["attachments"][0]["tags"]["filename"] == P["attachment_name"]
    assert found["chapters"][0]["tags"]["title"] == P["chapter"]
    assert any(s["type"] == "subtitle" for s in found["streams"])
    assert source.read_bytes() == before


def test_inspect_shows_exif_groups(fx: Fixtures, tools: Tools) -> None:
    code, out, err = _call(cmd_inspect, [str(fx.exif_jpeg())], tools)
    assert code == 0, err
    found = json.loads(out)
    assert found["exif"]["GPS"]["GPSLatitudeRef"] == "N"
    assert found["exif"]["Exif"]["CameraOwnerName"] == P["owner"]
    assert "xmp" in found["info"] and "icc_profile" in found["info"]


def test_inspect_does_not_apply_limits(fx: Fixtures, tools: Tools) -> None:
    code, out, _err = _call(cmd_inspect, [str(fx.four_hours())], tools)
    assert code == 0 and json.loads(out)["duration"] == pytest.approx(14400, abs=1)


def test_inspect_refuses_a_playlist(fx: Fixtures, tools: Tools) -> None:
    code, out, err = _call(cmd_inspect, [str(fx.ffconcat())], tools)
    assert code == 1 and out == "" and err.startswith("refused: ")
