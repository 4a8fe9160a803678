"""Operator commands: `shuttle media process INPUT --out DIR` and `shuttle media inspect FILE`.

`process` runs exactly the worker's pipeline on a local file and prints a JSON summary; on a
refusal it prints one line with the reason on stderr, exits 1 and writes nothing.
`inspect` lists the metadata found in a file (tags, streams, chapters, attachments, EXIF/XMP
groups) without changing it, under the same input restrictions as the worker.

The functions take `argv` and an environment mapping (for SHUTTLE_FFMPEG / SHUTTLE_FFPROBE),
so `shuttle/cli.py` can delegate to them and tests can call them directly.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from workers.media.edits import EditList
from workers.media.errors import InvalidEdit, MediaError, MediaRefused, ToolsMissing
from workers.media.pipeline import process
from workers.media.probe import MediaLimits, probe
from workers.media.tools import Tools, find_tools


def add_process_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="the file to process (never modified)")
    parser.add_argument("--out", type=Path, required=True, help="directory for the delivery file(s)")
    parser.add_argument("--edits", type=Path, help="JSON edit list: cuts, mutes, blurs")
    parser.add_argument("--scratch", type=Path, help="scratch root (default: /dev/shm if roomy)")
    parser.add_argument("--progress", action="store_true", help="print progress on stderr")
    _tool_arguments(parser)


def add_inspect_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the file to inspect (never modified)")
    _tool_arguments(parser)


def _tool_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ffmpeg", help="ffmpeg to use (default: SHUTTLE_FFMPEG, PATH, imageio-ffmpeg)")
    parser.add_argument("--ffprobe", help="ffprobe to use (default: SHUTTLE_FFPROBE, beside ffmpeg, PATH)")


def _tools(args: argparse.Namespace, env: Mapping[str, str]) -> Tools:
    return find_tools(args.ffmpeg or env.get("SHUTTLE_FFMPEG") or None,
                      args.ffprobe or env.get("SHUTTLE_FFPROBE") or None)


def cmd_process(argv: Sequence[str], *, env: Mapping[str, str] | None = None,
                stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shuttle media process")
    add_process_arguments(parser)
    return run_process(parser.parse_args(list(argv)), env=env, stdout=stdout, stderr=stderr)


def run_process(args: argparse.Namespace, *, env: Mapping[str, str] | None = None,
                stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    env = os.environ if env is None else env
    try:
        tools = _tools(args, env)
        edits = _load_edits(args.edits) if args.edits else None
        progress = (lambda f: print(f"processing {f * 100:.0f}%", file=err, flush=True)) if args.progress else None
        result = process(args.input, args.out, tools=tools, limits=MediaLimits(), edits=edits,
                         progress=progress, scratch_root=args.scratch)
    except (MediaRefused, InvalidEdit) as exc:
        print(f"refused: {exc.reason}", file=err)
        return 1
    except (MediaError, OSError) as exc:
        print(f"failed: {_one_line(exc)}", file=err)
        return 1
    print(json.dumps(result.to_dict(), indent=2), file=out)
    return 0


def _load_edits(path: Path) -> EditList:
    try:
        return EditList.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise InvalidEdit(f"The edit list {path.name} could not be read ({_one_line(exc)}).") from exc


def cmd_inspect(argv: Sequence[str], *, env: Mapping[str, str] | None = None,
                stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shuttle media inspect")
    add_inspect_arguments(parser)
    return run_inspect(parser.parse_args(list(argv)), env=env, stdout=stdout, stderr=stderr)


def run_inspect(args: argparse.Namespace, *, env: Mapping[str, str] | None = None,
                stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    env = os.environ if env is None else env
    try:
        found = probe(args.file, _tools(args, env), MediaLimits(), enforce=False)
    except MediaRefused as exc:
        print(f"refused: {exc.reason}", file=err)
        return 1
    except (ToolsMissing, MediaError, OSError) as exc:
        print(f"failed: {_one_line(exc)}", file=err)
        return 1
    print(json.dumps(inspection(found), indent=2, ensure_ascii=False), file=out)
    return 0


def inspection(found: Any) -> dict[str, Any]:
    """What `inspect` prints: the summary plus every tag, stream, chapter and EXIF group."""
    details = dict(found.details)
    streams = details.pop("streams", [])
    return {
        **found.summary(),
        "format_tags": details.pop("format_tags", {}),
        "streams": [s for s in streams if s.get("type") != "attachment"],
        "attachments": [s for s in streams if s.get("type") == "attachment"],
        "chapters": details.pop("chapters", []),
        **details,
    }


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
