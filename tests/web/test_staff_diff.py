"""Word-level differences for the side-by-side comparison on the review page."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shuttle.messages.diff import word_diff
from shuttle.web.pages.staff import _side_by_side

texts = st.lists(st.sampled_from(list("ab c.,'-\n\u2019") + ["07700", "Elm", "Street", "[removed]", "é", "  "]),
                 max_size=25).map("".join) | st.text(max_size=30)


@given(texts, texts)
def test_the_diff_rebuilds_both_texts(before: str, after: str) -> None:
    ops = word_diff(before, after)
    assert "".join(t for op, t in ops if op != "added") == before
    assert "".join(t for op, t in ops if op != "removed") == after


@given(texts, texts)
def test_each_column_is_its_version_and_marks_only_words(before: str, after: str) -> None:
    columns = _side_by_side(before, after)
    assert "".join(t for _, t in columns["left"]) == before
    assert "".join(t for _, t in columns["right"]) == after
    assert {op for op, _ in columns["left"]} <= {"same", "removed"}
    assert {op for op, _ in columns["right"]} <= {"same", "added"}
    for op, text in columns["left"] + columns["right"]:
        assert text and (op == "same" or text == text.strip())  # a change never starts or ends with a space


def test_punctuation_stays_out_of_the_change() -> None:
    ops = word_diff("Call me on 07700 900123. Bye.", "Call me on [removed]. Bye.")
    assert ops == [("same", "Call me on "), ("removed", "07700 900123"), ("added", "[removed]"),
                   ("same", ". Bye.")]
    assert word_diff("I don't know", "I do know") == [("same", "I "), ("removed", "don't"), ("added", "do"),
                                                     ("same", " know")]
