"""The media edit list as a domain type: its stored form, its words for staff, the review form."""

from __future__ import annotations

import pytest

from shuttle.messages import edits
from shuttle.messages.edits import Blur, EditList, InvalidEdit, Region, TimeRange

STORED = EditList(cuts=(TimeRange(3, 5.5),), mutes=(TimeRange(1, 2),),
                  blurs=(Blur(Region(0.1, 0.2, 0.25, 0.5), TimeRange(1, 4)),)).to_dict()


def test_words_for_staff() -> None:
    assert edits.in_words(STORED) == [
        "Cut 3 s to 5.5 s",
        "Muted 1 s to 2 s",
        "Blurred a rectangle (left 10%, top 20%, 25% wide, 50% high) from 1 s to 4 s",
    ]
    assert edits.in_words(None) == [] and edits.in_words({}) == []


def test_the_review_form_round_trips() -> None:
    fields = edits.form_fields(STORED)
    assert fields == {"cut_start": "3", "cut_end": "5.5", "mute_start": "1", "mute_end": "2",
                      "blur_x": "0.1", "blur_y": "0.2", "blur_w": "0.25", "blur_h": "0.5",
                      "blur_start": "1", "blur_end": "4"}
    assert EditList.from_dict(edits.from_form(fields)).to_dict() == STORED


def test_a_half_filled_form_part_is_left_out() -> None:
    assert edits.from_form({"cut_start": "1", "cut_end": " ", "mute_start": "1", "mute_end": "2"}) == {
        "cuts": [], "mutes": [{"start": "1", "end": "2"}], "blurs": []}


def test_words_in_a_form_are_a_malformed_list() -> None:
    with pytest.raises(InvalidEdit, match="malformed"):
        EditList.from_dict(edits.from_form({"cut_start": "one", "cut_end": "2"}))
