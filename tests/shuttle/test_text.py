"""Letter text: normalisation and the contact-detail scan ("never unmediated contact")."""

from __future__ import annotations

import time
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuttle.messages.text import KINDS, Flag, describe, normalise, scan

# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


def assert_valid(text: str, flags: list[Flag]) -> None:
    """Offsets in range, slices match, sorted, no overlaps, known kinds."""
    previous_end = 0
    for flag in flags:
        assert flag.kind in KINDS
        assert 0 <= flag.start < flag.end <= len(text)
        assert text[flag.start : flag.end] == flag.text
        assert flag.start >= previous_end, flags
        previous_end = flag.end


def found(text: str, **kwargs: object) -> list[tuple[str, str]]:
    flags = scan(text, **kwargs)  # type: ignore[arg-type]
    assert_valid(text, flags)
    return [(f.kind, f.text) for f in flags]


def covered(flags: list[Flag], start: int, end: int) -> bool:
    return any(f.start <= start and end <= f.end for f in flags)


ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e"]

# ---------------------------------------------------------------------------------------
# normalise
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ""),
        ("Dear Jessica,", "Dear Jessica,"),
        ("caf\u0065\u0301", "caf\u00e9"),  # NFC
        ("e\u200b\u0301", "\u00e9"),  # removal happens before composition
        ("a\r\nb\rc\u2028d\u2029e\x85f\x0bg\x0ch", "a\nb\nc\nd\ne\nf\ng\nh"),
        ("a\x00b\x07c\x1bd\x7fe\x9ff", "abcdef"),
        ("a\tb", "a\tb"),
        ("a  \nb\t\nc \u3000", "a\nb\nc"),
        ("a\n\n\n\n\n\nb", "a\n\n\nb"),
        ("a\n \n\t\n  \n \nb", "a\n\n\nb"),
        ("a\n\nb", "a\n\nb"),
        ("\n\n  \n\ta\n\n\n", "\ta"),
        ("  indented", "  indented"),
        ("\ufeffDear Jo", "Dear Jo"),
        ("\u202eevil\u202c", "evil"),
        ("\u2066isolate\u2069", "isolate"),
        ("sof\u00adt", "soft"),
        ("tag\U000e0041\U000e0042s", "tags"),  # "ASCII smuggling" through tag characters
        ("\u2764\ufe0f", "\u2764\ufe0f"),  # emoji presentation kept after a symbol
        ("\u2764\ufe0f\ufe0f\ufe0e", "\u2764\ufe0f"),  # only one
        ("a\ufe0fb\ufe0e", "ab"),  # never after letters: would be a hidden bit channel
        ("x\U000e0100\ufe01", "x"),  # other variation selectors
        ("\u1160\u3164\u034fhidden", "hidden"),  # invisible fillers that are not Cf
        ("\U0001f468\u200d\U0001f469", "\U0001f468\U0001f469"),  # ZWJ sequences split
        ("lone \ud800 surrogate", "lone  surrogate"),
    ],
)
def test_normalise_examples(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    "ch",
    [chr(c) for c in range(0x200B, 0x2010)]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2060, 0x2065)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\ufeff", "\u00ad", "\u061c", "\u180e", "\U0001d173", "\U000e0001"],
)
def test_normalise_removes_invisible_format_characters(ch: str) -> None:
    assert normalise(f"07{ch}911{ch}") == "07911"


everything = st.characters(exclude_categories=[])  # includes surrogates and controls


@given(st.text(everything))
def test_normalise_is_idempotent(raw: str) -> None:
    once = normalise(raw)
    assert normalise(once) == once


@given(st.text(everything))
def test_normalise_output_is_clean(raw: str) -> None:
    out = normalise(raw)
    for ch in out:
        category = unicodedata.category(ch)
        assert category != "Cc" or ch in "\n\t", repr(ch)
        assert category not in ("Cf", "Cs"), repr(ch)
    assert unicodedata.is_normalized("NFC", out)
    lines = out.split("\n")
    assert all(line == line.rstrip() for line in lines)
    assert "\n\n\n\n" not in out
    assert not out.startswith("\n") and not out.endswith("\n")


@given(
    st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1),
    st.lists(st.sampled_from(ZERO_WIDTH + ["\u202e", "\u2066", "\x00"]), min_size=1),
)
def test_invisible_characters_change_nothing_visible(word: str, junk: list[str]) -> None:
    spliced = "".join(ch + junk[i % len(junk)] for i, ch in enumerate(word))
    assert normalise(spliced) == word


# ---------------------------------------------------------------------------------------
# Flag and describe
# ---------------------------------------------------------------------------------------


def test_flag_round_trips_through_a_dict() -> None:
    flag = Flag(kind="phone", start=3, end=15, text="07911 123456")
    assert flag.to_dict() == {"kind": "phone", "start": 3, "end": 15, "text": "07911 123456"}
    assert Flag.from_dict(flag.to_dict()) == flag


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "fax", "start": 0, "end": 1, "text": "x"},
        {"kind": "phone", "start": -1, "end": 1, "text": "xx"},
        {"kind": "phone", "start": True, "end": 2, "text": "x"},
        {"kind": "phone", "start": "0", "end": 1, "text": "x"},
        {"kind": "phone", "start": 2, "end": 2, "text": ""},
        {"kind": "phone", "start": 0, "end": 3, "text": "x"},
        {"kind": "phone", "start": 0, "end": 1},
        {},
    ],
)
def test_flag_from_dict_rejects_malformed_input(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Flag.from_dict(bad)


@pytest.mark.parametrize("kind", KINDS)
def test_describe_speaks_plainly_to_the_author(kind: str) -> None:
    text = describe(kind)
    assert text.startswith("This ")
    assert "Your facilitator will look at it before anything is passed on, and may take it out." in text


def test_describe_phone_wording() -> None:
    assert describe("phone") == (
        "This looks like a phone number. "
        "Your facilitator will look at it before anything is passed on, and may take it out."
    )


def test_describe_unknown_kind() -> None:
    with pytest.raises(ValueError):
        describe("pigeon")


# ---------------------------------------------------------------------------------------
# scan: what must be found
# ---------------------------------------------------------------------------------------

POSITIVES = [
    # phone: libphonenumber and the digit-run check
    ("You can ring me on 07911 123456 any time.", "phone", "07911 123456"),
    ("My mobile is +44 7911 123456.", "phone", "+44 7911 123456"),
    ("Call 0161 496 0000 and ask for me.", "phone", "0161 496 0000"),
    ("Call +44 (0) 7911 123456 after six.", "phone", "+44 (0) 7911 123456"),
    ("My sister in Dublin is on +353 1 234 5678.", "phone", "+353 1 234 5678"),
    ("Ring me on 07700 900123.", "phone", "07700 900123"),  # Ofcom drama range: "invalid"
    ("Text me: 07911-123-456", "phone", "07911-123-456"),
    ("It's 07911.123.456 now", "phone", "07911.123.456"),
    ("(07911) 123456", "phone", "(07911) 123456"),
    ("my number is 555 1234", "phone", "555 1234"),
    ("my number is 07911123456.", "phone", "07911123456"),
    ("call07911123456now", "phone", "07911123456"),
    ("free on 0800 123 4567", "phone", "0800 123 4567"),
    # phone: evasions
    ("0 7 9 1 1 1 2 3 4 5 6", "phone", "0 7 9 1 1 1 2 3 4 5 6"),
    ("07911/123/456", "phone", "07911/123/456"),
    ("07911_123_456", "phone", "07911_123_456"),
    ("077,009,001,23", "phone", "077,009,001,23"),
    ("07.91.11.23.45.6", "phone", "07.91.11.23.45.6"),
    ("O79II l23456", "phone", "O79II l23456"),
    ("ring o7911 I23456", "phone", "o7911 I23456"),
    ("oh seven nine one one, one two three four five six", "phone",
     "oh seven nine one one, one two three four five six"),
    ("zero seven seven double oh nine oh oh one two three", "phone",
     "zero seven seven double oh nine oh oh one two three"),
    ("Oh-Seven-Nine-Triple-One-Two-Three-Four", "phone", "Oh-Seven-Nine-Triple-One-Two-Three-Four"),
    ("ohsevenninetripleonetwothreefour", "phone", "ohsevenninetripleonetwothreefour"),
    ("oh 7911 one two three 456", "phone", "oh 7911 one two three 456"),
    ("\uff10\uff17\uff19\uff11\uff11 \uff11\uff12\uff13\uff14\uff15\uff16", "phone",
     "\uff10\uff17\uff19\uff11\uff11 \uff11\uff12\uff13\uff14\uff15\uff16"),  # fullwidth
    ("\U0001d7ce\U0001d7d5\U0001d7d7\U0001d7cf\U0001d7cf\U0001d7cf\U0001d7d0\U0001d7d1", "phone",
     "\U0001d7ce\U0001d7d5\U0001d7d7\U0001d7cf\U0001d7cf\U0001d7cf\U0001d7d0\U0001d7d1"),  # 𝟎𝟕𝟗...
    ("\u0660\u0667\u0669\u0661\u0661\u0661\u0662\u0663\u0664\u0665\u0666", "phone",
     "\u0660\u0667\u0669\u0661\u0661\u0661\u0662\u0663\u0664\u0665\u0666"),  # Arabic-Indic
    ("on 07911\u00a0123\u2009456", "phone", "07911\u00a0123\u2009456"),  # odd spaces
    ("on 07911 \u2013 123 \u2013 456", "phone", "07911 \u2013 123 \u2013 456"),
    # email
    ("Write to jo.bloggs@example.com if you like.", "email", "jo.bloggs@example.com"),
    ("JO.BLOGGS+RJ@EXAMPLE.CO.UK", "email", "JO.BLOGGS+RJ@EXAMPLE.CO.UK"),
    ("jo @ example.com", "email", "jo @ example.com"),
    ("jo at example dot com", "email", "jo at example dot com"),
    ("jo [at] example [dot] com", "email", "jo [at] example [dot] com"),
    ("jo(at)example(dot)co(dot)uk", "email", "jo(at)example(dot)co(dot)uk"),
    ("jo{at}example{dot}org", "email", "jo{at}example{dot}org"),
    ("jo_at_example_dot_com", "email", "jo_at_example_dot_com"),
    ("jo AT example DOT com", "email", "jo AT example DOT com"),
    ("email jo at gmail", "email", "jo at gmail"),
    ("jo\uff20example\uff0ecom", "email", "jo\uff20example\uff0ecom"),  # fullwidth @ and .
    ("jo@gm\u0430il.com", "email", "jo@gm\u0430il.com"),  # Cyrillic a
    ("jo@exam\u200bple.com", "email", "jo@exam\u200bple.com"),
    # url
    ("See https://example.com/page?x=1 for more.", "url", "https://example.com/page?x=1"),
    ("http://example.org", "url", "http://example.org"),
    ("hxxp://example.org", "url", "hxxp://example.org"),
    ("it is on www.example.com.", "url", "www.example.com"),
    ("www dot example dot com", "url", "www dot example dot com"),
    ("my blog is example.com", "url", "example.com"),
    ("my page is example.co.uk/jo.", "url", "example.co.uk/jo"),
    ("foo.co.uk", "url", "foo.co.uk"),
    ("EXAMPLE.COM", "url", "EXAMPLE.COM"),
    ("look up jo-b.me", "url", "jo-b.me"),
    ("look up JO-B.ME", "url", "JO-B.ME"),
    ("example dot com", "url", "example dot com"),
    ("example[.]com", "url", "example[.]com"),
    ("example [dot] me", "url", "example [dot] me"),
    ("example . com", "url", "example . com"),
    ("facebook.com/jo.bloggs", "url", "facebook.com/jo.bloggs"),
    ("(example.com)", "url", "example.com"),
    ("ex\u0430mple.com", "url", "ex\u0430mple.com"),
    # postcode
    ("I live at SW1A 1AA now.", "postcode", "SW1A 1AA"),
    ("m1 1ae", "postcode", "m1 1ae"),
    ("EC1A1BB", "postcode", "EC1A1BB"),
    ("ec1a 1bb", "postcode", "ec1a 1bb"),
    ("B33 8TH", "postcode", "B33 8TH"),
    ("CR2 6XH", "postcode", "CR2 6XH"),
    ("W1A 0AX", "postcode", "W1A 0AX"),
    ("SW1A-1AA", "postcode", "SW1A-1AA"),
    ("S W 1 A 1 A A", "postcode", "S W 1 A 1 A A"),
    ("GIR 0AA", "postcode", "GIR 0AA"),
    ("\uff33\uff37\uff11\uff21 \uff11\uff21\uff21", "postcode",
     "\uff33\uff37\uff11\uff21 \uff11\uff21\uff21"),
    # handle
    ("I'm @jo_bloggs on there", "handle", "@jo_bloggs"),
    ("instagram: jo_b", "handle", "instagram: jo_b"),
    ("IG: jo.b", "handle", "IG: jo.b"),
    ("Snapchat username: jobloggs", "handle", "Snapchat username: jobloggs"),
    ("snapchat jo_b99", "handle", "snapchat jo_b99"),
    ("find me on facebook as Jo Bloggs", "handle", "find me on facebook as Jo Bloggs"),
    ("You can find me on Facebook.", "handle", "find me on Facebook"),
    ("my tiktok is x", "handle", "my tiktok is x"),
    ("my TikTok is jo.b", "handle", "my TikTok is jo.b"),
    ("add me on snap", "handle", "add me on snap"),
    ("my insta jo_b99", "handle", "my insta jo_b99"),
    ("follow me on twitter @jo", "handle", "follow me on twitter @jo"),
    ("look me up on linkedin", "handle", "look me up on linkedin"),
    ("dm me on insta", "handle", "dm me on insta"),
    ("I\u2019m on Snapchat as jobloggs", "handle", "I\u2019m on Snapchat as jobloggs"),
    ("@\u200bjo_b", "handle", "@\u200bjo_b"),
    ("\uff20jo_b", "handle", "\uff20jo_b"),
]


@pytest.mark.parametrize(("sentence", "kind", "expected"), POSITIVES)
def test_scan_finds(sentence: str, kind: str, expected: str) -> None:
    assert (kind, expected) in found(sentence)


@pytest.mark.parametrize(("sentence", "kind", "expected"), POSITIVES)
def test_scan_finds_after_normalising(sentence: str, kind: str, expected: str) -> None:
    text = normalise(sentence)
    assert kind in [k for k, _ in found(text)]


def test_phone_region_is_passed_on() -> None:
    # a US number in US national format, too short a run for the digit check on its own
    assert [f.kind for f in scan("call 555-0143 or (202) 555-0143", region="US")] == [
        "phone",
        "phone",
    ]


# ---------------------------------------------------------------------------------------
# scan: what must stay clean (ordinary letter prose)
# ---------------------------------------------------------------------------------------

NEGATIVES = [
    "Dear Jessica,",
    "I am sorry for what happened on 12/03/2019 at 5pm.",
    "I was 19 when it happened, and I'm 24 now.",
    "It has been 3 years, 2 months and 14 days.",
    "I got home at 11:45pm on the 3rd of March 2019.",
    "It was about 3.30 in the afternoon, maybe 4.",
    "The fine was £250 and I paid £50 a month for 5 months.",
    "I owe you £1,250.50 and I will pay it back, £12,500.00 if I have to.",
    "I did 120 hours of community service between 2019 and 2020.",
    "Between 2015-2019 I was in and out of prison, and 2018/2019 was the worst.",
    "In 1990 2000 and 2010 things were different.",
    "We met in 2001, 2002 or 2003.",
    "My son is 6 and my daughter is 9.",
    "I was 17, 18, 19 years old and stupid.",
    "On 14.02.2020 I started the course, and on 01/09/2021 I finished it.",
    "It happened on 2019-03-12 at 10.30 and again on 2019-03-14 at 10:45.",
    "on 10/12/2019 10:30 the police came.",
    "I have been sober for 847 days.",
    "About 1,500,000 people live there.",
    "I read your letter 2 or 3 times a day, e.g. in the morning, i.e. before work.",
    "I'm sorry.I know that is not enough.",
    "I was at school.It was hard.",
    "I was at home. me and my brother were asleep.",
    "I started at Tesco. It was my first job.",
    "It was my fault.Me and nobody else.",
    "I am sorry. So sorry. Truly.",
    "I live near the M6 and worked the 2nd shift.",
    "The A1 was closed so I took the M1 3rd exit.",
    "Room 101, flat 3, page 42.",
    "I was sentenced to 18 months, served 9, and have 200 hours unpaid work left.",
    "50% of the time I cannot sleep.",
    "I'm 5'11\" and I felt small.",
    "one day at a time, one or two steps",
    "Oh, I wish I had listened.",
    "My Facebook is deactivated and I am not on Instagram anymore.",
    "I deleted my snapchat and my instagram.",
    "My phone had no signal.",
    "I saw the video on YouTube and felt sick.",
    "I was on facebook when it happened.",
    "It was the dot com boom.",
    "I'm on probation until 2027.",
    "At 5am I woke up and thought about Sam.",
    "No. 10 was where we lived, number 4 after that.",
    "Version 2.0 of me, I hope.",
    "I paid 300 pounds and 50p.",
    "We meet @ 5 at the centre.",
    "meet me @5pm",
    "Yours sincerely,\n\nthe person responsible",
    "Kind regards, A.",
    "The U.S. and the U.K. are far apart. a.m. and p.m.",
    "It's 6ft 2in, about 1.88m.",
]


@pytest.mark.parametrize("sentence", NEGATIVES)
def test_scan_leaves_ordinary_prose_alone(sentence: str) -> None:
    assert found(sentence) == []


def test_a_whole_letter_is_clean() -> None:
    letter = normalise("\n".join(NEGATIVES))
    assert found(letter, watchlist=["Mill Lane", "Jessica Smith"]) == []


# ---------------------------------------------------------------------------------------
# scan: offsets and overlaps
# ---------------------------------------------------------------------------------------


def test_offsets_point_into_the_scanned_text() -> None:
    text = "Hi.\nRing 07911 123456 or write to jo@example.com, SW1A 1AA."
    flags = scan(text)
    assert [(f.kind, f.start, f.end) for f in flags] == [
        ("phone", 9, 21),
        ("email", 34, 48),
        ("postcode", 50, 58),
    ]
    assert_valid(text, flags)


def test_offsets_survive_expanding_and_vanishing_characters() -> None:
    # "ß" folds to two characters, the zero-width space to none, "①" is a digit
    text = "Straße \u200b\u200b ①⑦⑨①① ①②③④⑤⑥ and jo@example.com"
    flags = scan(text)
    assert [f.kind for f in flags] == ["phone", "email"]
    assert flags[1].text == "jo@example.com"
    assert_valid(text, flags)


def test_combining_marks_stay_with_their_letter() -> None:
    text = "ask for Zoe\u0308 at school"
    (flag,) = scan(text, watchlist=["Zoë"])
    assert flag.text == "Zoe\u0308"


def test_an_email_is_one_flag_not_an_email_and_a_url() -> None:
    assert found("jo.bloggs@example.com") == [("email", "jo.bloggs@example.com")]


def test_a_watchlist_word_inside_an_address_is_one_flag() -> None:
    assert found("jo@millane.com", watchlist=["millane"]) == [("email", "jo@millane.com")]


def test_partially_overlapping_matches_are_merged_not_lost() -> None:
    text = "it is near SW1A 1AA"
    flags = scan(text, watchlist=["near SW1A"])
    assert [(f.kind, f.text) for f in flags] == [("watchlist", "near SW1A 1AA")]


def test_flags_are_sorted() -> None:
    text = "SW1A 1AA, then 07911 123456, then @jo_b, then example.com"
    assert [f.kind for f in scan(text)] == ["postcode", "phone", "handle", "url"]


# ---------------------------------------------------------------------------------------
# watchlist
# ---------------------------------------------------------------------------------------

WATCH_POSITIVES = [
    ("Mill Lane", "I still walk down mill lane every day.", "mill lane"),
    ("Mill Lane", "by MILL-LANE", "MILL-LANE"),
    ("Mill Lane", "up Mill\nLane", "Mill\nLane"),
    ("Mill Lane", "MillLane", "MillLane"),
    ("Mill Lane", "Mill  Lane's corner", "Mill  Lane"),
    ("Zoë", "ZOE said", "ZOE"),
    ("Zoe", "Zoë said", "Zoë"),
    ("Straße", "the STRASSE", "STRASSE"),
    ("Jo", "\uff2a\uff4f is here", "\uff2a\uff4f"),
    ("O'Brien", "the O\u2019Brien family", "O\u2019Brien"),
    ("John", "J.O.H.N", "J.O.H.N"),
    ("John", "j o h n", "j o h n"),
    ("John", "j0hn", "j0hn"),
    ("John", "Jo\u200bhn", "Jo\u200bhn"),
    ("St Mary's School", "at st marys school", "st marys school"),
    ("Åsa", "asa", "asa"),
]


@pytest.mark.parametrize(("term", "text", "expected"), WATCH_POSITIVES)
def test_watchlist_finds(term: str, text: str, expected: str) -> None:
    assert ("watchlist", expected) in found(text, watchlist=[term])


@pytest.mark.parametrize(
    ("term", "text"),
    [
        ("Sam", "Samuel and I are the same"),
        ("Sam", "at 5am"),
        ("Mill Lane", "the mill lanes"),
        ("Ann", "annual leave"),
        ("", "anything at all"),
        ("   ", "anything at all"),
        ("--", "a -- b"),
    ],
)
def test_watchlist_is_whole_word(term: str, text: str) -> None:
    assert found(text, watchlist=[term]) == []


def test_watchlist_must_be_a_sequence_of_terms() -> None:
    with pytest.raises(TypeError):
        scan("Sam was there", watchlist="Sam")


def test_watchlist_several_terms() -> None:
    text = "Sam lives on Mill Lane."
    assert found(text, watchlist=["Sam", "Mill Lane"]) == [
        ("watchlist", "Sam"),
        ("watchlist", "Mill Lane"),
    ]


# ---------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------

# Text that looks like the inside of a letter, full of the things detectors look at.
FRAGMENTS = [
    " ", "  ", "\n", ".", ",", "-", "/", "(", ")", "@", ":", "[at]", " at ", " dot ",
    "0", "07", "7911", "123456", "+44", "oh", "seven", "double", "one", "2019", "£",
    "10.30", "12/03/2019", "sw1a", "1aa", "m1", "www", "com", "co.uk", "me", "instagram",
    "my", "is", "find me on", "facebook", "jo_b", "John", "Mill Lane", "\u200b", "\u202e",
    "\u0301", "\uff10", "\u0430", "ß", "①", "\r\n", "\ufe0f", "\u2764",
]
letterish = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(everything, max_size=3)), max_size=40
).map("".join)
any_text = st.one_of(st.text(everything), letterish)
watchlists = st.lists(st.one_of(st.sampled_from(["John", "Mill Lane", "Zoë", "jo"]),
                                st.text(everything, max_size=8)), max_size=3)


@settings(max_examples=300)
@given(any_text, watchlists)
def test_scan_never_crashes_and_offsets_are_valid(text: str, watchlist: list[str]) -> None:
    assert_valid(text, scan(text, watchlist=watchlist))


@settings(max_examples=300)
@given(any_text, watchlists)
def test_scan_of_normalised_text_is_valid(text: str, watchlist: list[str]) -> None:
    clean = normalise(text)
    flags = scan(clean, watchlist=watchlist)
    assert_valid(clean, flags)
    for flag in flags:
        assert Flag.from_dict(flag.to_dict()) == flag


SAFE_WORDS = (
    "I am sorry for what happened it was my fault the day you me home school at and to we "
    "in on think about every so know hurt family mum dad year years time night morning "
    "hope never again still feel ashamed letter write read understand changed"
).split()
SAFE_NUMBERS = [
    "2 years", "at 5pm", "£1,500", "12/03/2019", "in 2019", "10.30", "aged 17", "3rd",
    "50%", "£12,500.00", "2015-2019", "11:45pm", "14.02.2020", "18 months", "200 hours",
    "£250", "1,500,000", "2019-03-12", "at 10:45", "9 and 5",
]


@st.composite
def safe_prose(draw: st.DrawFn) -> str:
    sentences = []
    for _ in range(draw(st.integers(1, 6))):
        words = draw(st.lists(st.sampled_from(SAFE_WORDS), min_size=2, max_size=12))
        if draw(st.booleans()):
            words.insert(draw(st.integers(1, len(words) - 1)), draw(st.sampled_from(SAFE_NUMBERS)))
        sentence = " ".join(words)
        sentences.append(sentence[0].upper() + sentence[1:] + ".")
    return draw(st.sampled_from([" ", "\n", "\n\n"])).join(sentences)


@given(safe_prose())
def test_ordinary_prose_is_never_flagged(text: str) -> None:
    assert scan(text) == []


PLANTED = [
    ("phone", "07911 123456"),
    ("phone", "+44 20 7946 0958"),
    ("phone", "0 7 9 1 1 1 2 3 4 5 6"),
    ("phone", "oh seven nine one one one two three four five six"),
    ("email", "jo.bloggs@example.com"),
    ("email", "jo at example dot com"),
    ("url", "https://example.org/x"),
    ("url", "example.co.uk"),
    ("postcode", "SW1A 1AA"),
    ("handle", "@jo_bloggs"),
    ("handle", "instagram: jo_b"),
]


@given(safe_prose(), st.sampled_from(PLANTED), st.data())
def test_planted_contact_details_are_found(prose: str, planted: tuple[str, str],
                                           data: st.DataObject) -> None:
    kind, detail = planted
    cuts = [i for i, ch in enumerate(prose) if ch == " "] or [len(prose)]
    cut = data.draw(st.sampled_from(cuts))
    text = f"{prose[:cut]} {detail} {prose[cut:]}"
    flags = scan(text)
    start = cut + 1
    assert covered(flags, start, start + len(detail)), (text, flags)
    kinds = {kind, "email"} if kind == "url" and prose[:cut].endswith(" at") else {kind}
    assert any(f.kind in kinds and f.start <= start < f.end for f in flags), (text, flags)


@given(st.sampled_from(PLANTED), st.lists(st.sampled_from(ZERO_WIDTH + ["\u202e"]), min_size=1),
       st.data())
def test_invisible_characters_do_not_hide_contact_details(
    planted: tuple[str, str], junk: list[str], data: st.DataObject
) -> None:
    kind, detail = planted
    positions = data.draw(st.sets(st.integers(1, len(detail) - 1), max_size=6))
    spliced = "".join(
        (junk[i % len(junk)] if i in positions else "") + ch for i, ch in enumerate(detail)
    )
    text = f"Please {spliced} thanks"
    for candidate in (text, normalise(text)):
        flags = scan(candidate)
        assert [f.kind for f in flags] == [kind], (candidate, flags)
        assert flags[0].text.strip() == candidate[7:-7].strip()


# ---------------------------------------------------------------------------------------
# speed: no pattern may backtrack badly on hostile input
# ---------------------------------------------------------------------------------------


HOSTILE = {
    "spoken dots": "a dot " * 4000,
    "dotted chain": "a." * 10000,
    "spaced digits": "1 " * 10000,
    "spoken ats": "x at " * 4000,
    "long name part": "a" * 50000 + " at ",
    "handles": "@ab " * 5000,
    "ohs": "oh " * 10000,
    "spaced postcode": "s w 1 " * 5000,
    "spaced watch word": "j o h " * 5000,
    "endless address": "jo at example dot " * 2000,
    "bracket dots": "[dot] " * 5000,
    "zeros": "0" * 50000,
}


@pytest.mark.parametrize("hostile", list(HOSTILE.values()), ids=list(HOSTILE))
def test_scan_is_fast_on_hostile_input(hostile: str) -> None:
    began = time.perf_counter()
    flags = scan(hostile, watchlist=["John", "Mill Lane"])
    assert time.perf_counter() - began < 2.0
    assert_valid(hostile, flags)
