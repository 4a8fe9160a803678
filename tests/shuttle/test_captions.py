"""Captions (issue 12): the strict WebVTT subset, sanitised to plain text (shuttle/messages/captions.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuttle.messages.captions import (
    Cue,
    InvalidCaptions,
    clean_text,
    clock,
    from_form,
    from_lines,
    is_webvtt,
    parse,
    parse_clock,
    serialise,
)

SAMPLE = """WEBVTT - made by hand
Kind: captions

NOTE this comment is not carried

STYLE
::cue { color: red }

1
00:00.500 --> 00:02.000 align:start position:10%
<v Sam>Hello <b>there</b></v>

00:00:02.000 --> 00:00:04.250
I am &lt;sorry&gt; &amp; I
mean it <00:00:03.000><c.loud>truly</c>
"""


def test_a_file_with_styling_notes_and_settings_gives_plain_cues():
    cues = parse(SAMPLE)
    assert cues == [Cue(500, 2000, "Hello there"), Cue(2000, 4250, "I am sorry & I\nmean it truly")]
    assert "NOTE" not in serialise(cues) and "color" not in serialise(cues) and "align" not in serialise(cues)


def test_escaped_angle_brackets_are_removed_not_turned_into_markup():
    assert "<" not in parse("WEBVTT\n\n00:01.000 --> 00:02.000\n&lt;script&gt;x&lt;/script&gt;\n")[0].text


@pytest.mark.parametrize(("text", "words"), [
    ("not vtt\n\n00:01.000 --> 00:02.000\nhi", "must start with the line WEBVTT"),
    ("WEBVTT\n00:01.000 --> 00:02.000\nhi", "blank line must follow"),
    ("WEBVTT\n\n00:01.000 --> 00:00.500\nhi", "ends before it starts"),
    ("WEBVTT\n\n00:03.000 --> 00:04.000\na\n\n00:01.000 --> 00:02.000\nb", "before the one above it"),
    ("WEBVTT\n\n1:2.5 --> 00:02.000\nhi", "not in the form"),
    ("WEBVTT\n\nname only", "a name but no times"),
])
def test_what_is_refused_is_said(text, words):
    with pytest.raises(InvalidCaptions) as refused:
        parse(text)
    assert words in refused.value.reason


def test_the_media_length_bounds_the_cues():
    text = "WEBVTT\n\n00:01.000 --> 00:06.000\na\n\n00:09.000 --> 00:12.000\nb\n"
    assert parse(text, duration_ms=10_000)[-1] == Cue(9000, 10_000, "b")  # end cut to the media's end
    with pytest.raises(InvalidCaptions, match="after the recording ends"):
        parse(text, duration_ms=8_000)


def test_the_editor_lines_become_cues_each_until_the_next():
    cues = from_lines([("First line.", 0), ("", None), ("Second <i>line</i>.", 2500)], duration_ms=4000)
    assert cues == [Cue(0, 2500, "First line."), Cue(2500, 4000, "Second line.")]
    with pytest.raises(InvalidCaptions, match="Line 2 has no start time"):
        from_lines([("a", 0), ("b", None)])


def test_clock_times():
    assert parse_clock("01:23.4") == 83_400 and parse_clock("1:05:00") == 3_900_000 and parse_clock("7:3") == 423_000
    assert clock(83_400) == "01:23.4" and clock(3_900_000) == "1:05:00.0"
    for bad in ("", "12", "1:60", "ab:cd", "01:02:03:04", "1:75:00"):
        with pytest.raises(InvalidCaptions):
            parse_clock(bad)


def test_a_timed_transcript_is_told_from_a_plain_one():
    assert is_webvtt("\ufeffWEBVTT\n") and is_webvtt("WEBVTT - x\n") and not is_webvtt("WEBVTTx\n")
    assert not is_webvtt("hello") and not is_webvtt(" WEBVTT")


# properties

_texts = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)
_cue_lists = st.lists(st.tuples(st.integers(0, 5_000), st.integers(1, 5_000), _texts), max_size=12)


def _cues(raw: list[tuple[int, int, str]]) -> list[Cue]:
    cues, start = [], 0
    for gap, length, text in raw:
        start += gap
        words = clean_text(text)
        if words:
            cues.append(Cue(start, start + length, words))
    return cues


@settings(max_examples=300, deadline=None)
@given(_cue_lists)
def test_serialise_then_parse_gives_the_same_cues(raw):
    cues = _cues(raw)
    assert parse(serialise(cues)) == cues
    assert serialise(parse(serialise(cues))) == serialise(cues)


def _plain(text: str) -> bool:
    return "<" not in text and ">" not in text and "-->" not in text and "\n\n" not in text \
        and text == text.strip() and all(ch == "\n" or ch.isprintable() or ch.isspace() for ch in text) \
        and "\r" not in text and "\x00" not in text


_fragments = st.sampled_from(["WEBVTT", "\n", "\n\n", "00:01.000 --> 00:02.000", "00:00:03.500 --> 00:00:09.000 line:0",
                              "<b>", "</b>", "<v A>", "&lt;", "&amp;", "&gt;", "NOTE", "STYLE", "REGION", "-->", "1",
                              "<script>", "\r\n", "\x00", "\u202e", " "])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(_fragments, st.text(max_size=8)), max_size=30))
def test_anything_accepted_is_only_plain_text_cues(parts):
    text = "WEBVTT\n\n" + "".join(parts)
    try:
        cues = parse(text, duration_ms=20_000)
    except InvalidCaptions:
        return
    for cue in cues:
        assert _plain(cue.text) and cue.text
        assert 0 <= cue.start_ms < cue.end_ms <= 20_000
    assert [c.start_ms for c in cues] == sorted(c.start_ms for c in cues)
    assert parse(serialise(cues)) == cues


def test_the_editor_form_becomes_webvtt():
    form = {"line-0": "Hello.", "start-0": "00:00.5", "line-1": "Bye <b>now</b>.", "start-1": "0:02",
            "line-2": "   ", "start-2": "", "line-4": "never read", "start-4": "00:09"}
    assert parse(from_form(form)) == [Cue(500, 2000, "Hello."), Cue(2000, 7000, "Bye now.")]
    with pytest.raises(InvalidCaptions, match="^Line 2: 'soon' is not a time"):
        from_form(form | {"start-1": "soon"})
    with pytest.raises(InvalidCaptions, match="no lines to time"):
        from_form({"line-0": " ", "start-0": ""})
