"""Transcode benchmark: the worker's media pipeline vs bare ffmpeg with the same encoding
arguments, on a generated 60 s 1280x720 clip, in the same run.

    python bench/transcode.py [--seconds 60] [--rounds 2] [--clean] [--keep DIR]

The pipeline run is `workers.media.pipeline.process` exactly as the worker calls it: probe in
a limited child, transcode under limits with progress (the poster frame a second output of the
same run, from the same decode), verify the output (ffprobe and the byte search side by side)
with the poster's checks beside it, atomic publish, scratch wipe. The baseline runs the argv
the pipeline builds for its transcode without the poster output (the delivery file alone),
with subprocess and nothing else, so the poster's cost counts against the pipeline. Rounds
alternate between the two and the medians are compared.

- ratio pipeline / bare: target <= 1.1 (the pipeline's own cost is small)
- realtime factor clip seconds / pipeline seconds: target >= 4x

The clip is testsrc2 with moving temporal noise (camera-like: without noise the synthetic
picture is far easier to encode than a phone video), H.264 + AAC, as a phone would send it.
The machine's load average is printed before and after, and so is the CPU time the children
used: on a shared 2-core machine the wall-clock figures move with whatever else runs, while
CPU seconds per clip second (and the realtime factor it implies on idle cores) do not.
It is a measurement, not a gate: it exits 0 whether the targets are met or not.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from workers.media.pipeline import process
from workers.media.probe import MediaLimits, probe
from workers.media.profile import DEFAULT_PROFILE
from workers.media.tools import Tools, find_tools
from workers.media.transcode import build_command, plan

RATIO_TARGET = 1.1
REALTIME_TARGET = 4.0


def make_clip(tools: Tools, path: Path, seconds: int, noise: bool) -> None:
    picture = f"testsrc2=size=1280x720:rate=30:duration={seconds}"
    if noise:
        picture += ",noise=alls=3:allf=t"
    subprocess.run(
        [tools.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", picture,
         "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-metadata", "title=bench", str(path)],
        check=True,
    )


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bare(tools: Tools, clip: Path, out: Path, limits: MediaLimits) -> float:
    """The same argv the pipeline's transcode runs, and nothing around it."""
    found = probe(clip, tools, limits)  # not timed: only to build the identical command
    argv = build_command(clip, found, plan(found, limits, None, DEFAULT_PROFILE), out, tools=tools,
                         threads=limits.threads)
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    return time.perf_counter() - started


def pipeline(tools: Tools, clip: Path, out_dir: Path, scratch: Path, limits: MediaLimits) -> float:
    started = time.perf_counter()
    process(clip, out_dir, tools=tools, limits=limits, scratch_root=scratch)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="clip length (60)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each (median taken)")
    parser.add_argument("--clean", action="store_true", help="no noise: an easier, synthetic picture")
    parser.add_argument("--keep", type=Path, help="keep the work directory here")
    args = parser.parse_args()

    tools = find_tools()
    limits = MediaLimits()
    work = Path(tempfile.mkdtemp(prefix="shuttle-bench-transcode-", dir=args.keep))
    try:
        clip = work / "clip.mp4"
        started = time.perf_counter()
        make_clip(tools, clip, args.seconds, noise=not args.clean)
        print(f"tools: {tools.describe()}  threads: {limits.threads}")
        print(f"clip: {args.seconds} s 1280x720 30 fps H.264+AAC, {clip.stat().st_size / 1e6:.1f} MB, "
              f"made in {time.perf_counter() - started:.1f} s")
        print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        bare_times, pipe_times = [], []
        cpu: dict[str, list[float]] = {"bare": [], "pipeline": []}
        for round_no in range(args.rounds):
            first, second = ("bare", "pipeline") if round_no % 2 == 0 else ("pipeline", "bare")
            for which in (first, second):
                cpu_before = children_cpu()
                if which == "bare":
                    seconds = bare(tools, clip, work / f"bare-{round_no}.mp4", limits)
                    bare_times.append(seconds)
                else:
                    seconds = pipeline(tools, clip, work / f"out-{round_no}", work / "scratch", limits)
                    pipe_times.append(seconds)
                cpu[which].append(children_cpu() - cpu_before)
                print(f"  round {round_no + 1} {which:8} {seconds:6.2f} s wall, {cpu[which][-1]:6.2f} s CPU")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        report(args.seconds, bare_times, pipe_times, cpu)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def report(clip_seconds: float, bare_times: list[float], pipe_times: list[float],
           cpu: dict[str, list[float]]) -> None:
    """Medians are the headline; the best run of each and the CPU time are printed too,
    because other work on a shared machine only ever makes a run slower."""
    bare_s, pipe_s = statistics.median(bare_times), statistics.median(pipe_times)
    pipe_cpu, bare_cpu = statistics.median(cpu["pipeline"]), statistics.median(cpu["bare"])
    ratio = pipe_s / bare_s
    realtime = clip_seconds / pipe_s
    idle = clip_seconds / (pipe_cpu / (os.cpu_count() or 1))
    print(f"bare ffmpeg (same arguments): {bare_s:6.2f} s")
    print(f"worker pipeline:              {pipe_s:6.2f} s  (probe, transcode + poster, verify, publish)")
    load = f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    print(f"ratio pipeline / bare:        {ratio:6.3f}   target <= {RATIO_TARGET}  "
          f"{'PASS' if ratio <= RATIO_TARGET else 'MISS'} ({load})")
    print(f"realtime factor:              {realtime:6.2f}x  target >= {REALTIME_TARGET:.0f}x  "
          f"{'PASS' if realtime >= REALTIME_TARGET else 'MISS'} ({load})")
    print(f"best runs:                    bare {min(bare_times):.2f} s, pipeline {min(pipe_times):.2f} s: "
          f"ratio {min(pipe_times) / min(bare_times):.3f}, {clip_seconds / min(pipe_times):.2f}x realtime")
    print(f"CPU time ratio pipeline/bare: {pipe_cpu / bare_cpu:6.3f}")
    print(f"pipeline CPU:                 {pipe_cpu:6.2f} s = {pipe_cpu / clip_seconds:.2f} CPU-s per clip second; "
          f"on idle cores that is ~{idle:.1f}x realtime")


if __name__ == "__main__":
    sys.exit(main())
