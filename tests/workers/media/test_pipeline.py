"""The pipeline as a whole: progress, all-or-nothing output, scratch hygiene, a verifier with teeth."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixtures import Fixtures, P

from workers.media import scratch
from workers.media.errors import RunTimeout, VerificationFailed
from workers.media.pipeline import process, publish
from workers.media.probe import MediaLimits, probe
from workers.media.profile import DEFAULT_PROFILE
from workers.media.tools import Tools
from workers.media.transcode import plan
from workers.media.verify import search_bytes, verify_av, verify_image

# --- scratch and publishing (no ffmpeg) -----------------------------------------------------------


def test_scratch_is_private_and_wiped(tmp_path: Path) -> None:
    with scratch.Scratch(tmp_path) as work:
        assert oct(work.stat().st_mode & 0o777) == "0o700"
        (work / "sub").mkdir()
        (work / "sub" / "f").write_bytes(b"x")
        os.chmod(work / "sub", 0o500)  # a child left something read-only
    assert list(tmp_path.iterdir()) == []


def test_scratch_wiped_on_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), scratch.Scratch(tmp_path) as work:
        (work / "plaintext").write_bytes(b"secret")
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []


def test_stale_scratch_of_dead_processes_is_wiped(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    stale = tmp_path / f"{scratch.PREFIX}{dead}.abc"
    stale.mkdir()
    (stale / "input").write_bytes(b"secret")
    live_parent = tmp_path / f"{scratch.PREFIX}{os.getppid()}.def"  # a live process's scratch
    live_parent.mkdir()
    unrelated = tmp_path / "something-else"
    unrelated.mkdir()
    assert scratch.wipe_stale_scratch(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live_parent.name, unrelated.name])


def test_default_root_prefers_roomy_tmpfs(tmp_path: Path) -> None:
    assert scratch.default_root(1024, shm=tmp_path) == tmp_path
    assert scratch.default_root(10**18, shm=tmp_path) != tmp_path
    assert scratch.default_root(1024, shm=tmp_path / "missing") != tmp_path / "missing"


def test_publish_is_all_or_nothing(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "delivery.mp4").write_bytes(b"video")
    out = tmp_path / "out"
    with pytest.raises(FileNotFoundError):
        publish({"delivery": work / "delivery.mp4", "poster": work / "missing.jpg"}, out)
    assert list(out.iterdir()) == []
    (work / "poster.jpg").write_bytes(b"jpeg")
    (work / "delivery.mp4").write_bytes(b"video")
    placed = publish({"delivery": work / "delivery.mp4", "poster": work / "poster.jpg"}, out)
    assert sorted(p.name for p in out.iterdir()) == ["delivery.mp4", "poster.jpg"]
    assert placed["poster"].read_bytes() == b"jpeg"
    assert oct(placed["delivery"].stat().st_mode & 0o777) == "0o600"


# --- with ffmpeg ------------------------------------------------------------------------------------


@pytest.mark.ffmpeg
def test_progress_moves_forward_to_one(fx: Fixtures, tools: Tools, tmp_path: Path, scratch_root: Path) -> None:
    seen: list[float] = []
    process(fx.long_video(), tmp_path / "out", tools=tools, progress=seen.append, scratch_root=scratch_root)
    assert seen == sorted(seen) and seen[0] == 0.0 and seen[-1] == 1.0
    assert len([f for f in seen if 0.05 < f < 0.9]) >= 3, seen  # moving while transcoding


@pytest.mark.ffmpeg
def test_timeout_leaves_no_output(fx: Fixtures, tools: Tools, tmp_path: Path, scratch_root: Path) -> None:
    out = tmp_path / "out"
    started = time.monotonic()
    with pytest.raises(RunTimeout):
        process(fx.long_video(), out, tools=tools, scratch_root=scratch_root,
                limits=MediaLimits(transcode_seconds=0.4))
    assert time.monotonic() - started < 10
    assert not out.exists()
    assert list(scratch_root.iterdir()) == []


@pytest.mark.ffmpeg
def test_cancel_leaves_no_output(fx: Fixtures, tools: Tools, tmp_path: Path, scratch_root: Path) -> None:
    class LeaseLost(Exception):
        pass

    def progress(fraction: float) -> None:
        if fraction > 0.1:
            raise LeaseLost

    out = tmp_path / "out"
    with pytest.raises(LeaseLost):
        process(fx.long_video(), out, tools=tools, scratch_root=scratch_root, progress=progress)
    assert not out.exists() and list(scratch_root.iterdir()) == []


@pytest.mark.ffmpeg
def test_verifier_rejects_an_unscrubbed_file(fx: Fixtures, tools: Tools) -> None:
    """The verifier, given the dirty input itself, names what remains (without values)."""
    source = fx.rich_mp4()
    found = probe(source, tools)
    with pytest.raises(VerificationFailed) as failed:
        verify_av(source, plan(found, MediaLimits(), None, DEFAULT_PROFILE), tools=tools,
                  limits=MediaLimits(), forbidden=[P["title"]])
    text = " | ".join(failed.value.problems)
    for expected in ("container tag 'title'", "chapters remain", "subtitle", "audio streams",
                     "encoder signature", "forbidden string #1"):
        assert expected in text, text
    assert P["title"] not in str(failed.value)


@pytest.mark.ffmpeg
def test_verifier_rejects_rotation_and_cover_art(fx: Fixtures, tools: Tools) -> None:
    found = probe(fx.phone_mov(), tools)
    with pytest.raises(VerificationFailed, match="side data|rotated"):
        verify_av(fx.phone_mov(), plan(found, MediaLimits(), None, DEFAULT_PROFILE), tools=tools,
                  limits=MediaLimits())
    found = probe(fx.cover_m4a(), tools)
    with pytest.raises(VerificationFailed, match="cover picture|video streams"):
        verify_av(fx.cover_m4a(), plan(found, MediaLimits(), None, DEFAULT_PROFILE), tools=tools,
                  limits=MediaLimits())


@pytest.mark.ffmpeg
def test_verifier_rejects_a_dirty_picture(fx: Fixtures) -> None:
    with pytest.raises(VerificationFailed) as failed:
        verify_image(fx.exif_jpeg(), max_side=4096)
    text = " | ".join(failed.value.problems)
    assert "APPn/COM" in text and "EXIF remains" in text


def test_byte_search_finds_signatures_not_chance(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"\x00" * 100 + b"Lavf59.27.100" + b"\x00x264 - core 164 r3095" + b"needle!" + b"Lavf")
    problems = search_bytes(path, ["needle!", "absent!"])
    assert len(problems) == 3
    path.write_bytes(os.urandom(1 << 20) + b"Lavf x264 Lavc")  # bare names: not signatures
    assert search_bytes(path, []) == []


@pytest.mark.ffmpeg
def test_result_summary(processed: object) -> None:
    result = processed("rich_mp4")  # type: ignore[operator]
    summary = result.to_dict()
    assert summary["kind"] == "video" and summary["poster"].endswith("poster.jpg")
    assert set(summary["verification"]) == {"delivery", "poster"}
    assert "subtitle streams" in summary["removed"]
    assert summary["input"]["container"] == "MP4/MOV"


def test_a_live_scratch_of_this_process_is_never_wiped(tmp_path: Path) -> None:
    """A second worker (or thread) starting in this process must not wipe a job's live scratch."""
    with scratch.Scratch(tmp_path) as work:
        (work / "input").write_bytes(b"secret")
        assert scratch.wipe_stale_scratch(tmp_path) == []
        assert (work / "input").exists()


def test_a_scratch_held_by_a_live_process_is_never_wiped_whatever_its_name(tmp_path: Path) -> None:
    """The pid in the name says nothing across pid namespaces (containers sharing a scratch
    volume): the lock held by the live process decides."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom workers.media.scratch import Scratch\n"
         f"with Scratch({str(tmp_path)!r}) as w:\n    print(w, flush=True)\n    time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[3])
    try:
        live = Path(holder.stdout.readline().strip())  # type: ignore[union-attr]
        (live / "input").write_bytes(b"secret")
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True).stdout.strip()
        elsewhere = live.with_name(f"{scratch.PREFIX}{dead}.other-namespace")
        live.rename(elsewhere)  # as another pid namespace would name it
        assert scratch.wipe_stale_scratch(tmp_path) == []
        assert (elsewhere / "input").exists()
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()  # type: ignore[union-attr]
    assert scratch.wipe_stale_scratch(tmp_path) == [elsewhere]  # its holder is gone now
