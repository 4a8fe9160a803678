"""Letter text: normalisation and the contact-detail scan.

The rule this module serves is "never unmediated contact". A phone number, e-mail
address, web address, postcode or social-media handle slipped into a letter would let
the two sides reach each other without the facilitators, so before a facilitator reviews
a letter the worker normalises its text and flags anything that looks like a contact
detail. The same scan is shown to the author before they submit.

Everything here is pure (no I/O) so it can be tested quickly and exhaustively.

How the scan works
------------------
Detection does not run on the letter as written but on a *folded view* of it: every
character is mapped (compatibility-decomposed, accents dropped, case-folded, any script's
digits turned into ASCII digits, common Cyrillic/Greek look-alikes turned into Latin
letters, invisible characters dropped) and each folded character remembers which
original character it came from. So "０７７００", "𝟎𝟕𝟕𝟎𝟎", "Ｇｍａｉｌ.ｃｏｍ", "gmаil.com"
(Cyrillic "а") and "0\u200b7\u200b7" are all seen as plain ASCII, while every flag's
offsets point back into the text that was passed in: ``text[flag.start:flag.end] ==
flag.text`` always holds.

Flags are advice for a human. A false positive costs the facilitator a glance; a miss can
cost someone their safety. Where the two pull apart the detectors lean towards flagging,
but ordinary letter prose (dates, times, money, ages, years, "2 years", "at 5pm") must
stay clean or the author learns to ignore the warnings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

__all__ = ["KINDS", "Flag", "describe", "normalise", "scan"]

KINDS: tuple[str, ...] = ("phone", "email", "url", "postcode", "handle", "watchlist")


# ---------------------------------------------------------------------------------------
# Invisible characters
# ---------------------------------------------------------------------------------------

# Unicode's Default_Ignorable_Code_Point set: characters that render as nothing. Most are
# format characters (Cf), but the Hangul fillers, the combining grapheme joiner, Khmer
# inherent vowels, Mongolian variation selectors and reserved ignorables are not, and
# they are just as good at hiding a digit or splitting a word so that a scan misses it.
# Variation selectors are handled separately (see _keeps_selector).
_DEFAULT_IGNORABLE: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE00FF),
    (0xE01F0, 0xE0FFF),
)
_VARIATION_SELECTORS: tuple[tuple[int, int], ...] = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))
_PRESENTATION_SELECTORS = frozenset("\ufe0e\ufe0f")
# Emoji that are punctuation rather than symbols but still take an emoji presentation.
_EMOJI_PUNCTUATION = frozenset("\u203c\u2049\u3030\u303d")


def _in_ranges(ch: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in ranges)


def _is_invisible(ch: str) -> bool:
    """True for characters normalise() removes outright.

    Control characters (other than tab; line breaks are handled before this is asked),
    every format character (zero-width spaces and joiners, bidi embeddings, overrides
    and isolates, the BOM, soft hyphen, tag characters...), every other default-ignorable
    code point, and lone surrogates, which are not text at all and cannot be stored as
    UTF-8.
    """
    if ch == "\t":
        return False
    if unicodedata.category(ch) in ("Cc", "Cf", "Cs"):
        return True
    return _in_ranges(ch, _DEFAULT_IGNORABLE)


def _keeps_selector(previous: str | None) -> bool:
    """Whether a text/emoji presentation selector (U+FE0E/U+FE0F) may follow `previous`.

    Variation selectors are invisible, so a run of them (or their presence or absence
    after ordinary letters) can smuggle data past a human reader. Only the two emoji
    presentation selectors are kept, once, directly after a non-ASCII symbol such as
    "❤"; everything else that is a variation selector is removed.
    """
    if previous is None or previous.isascii() or previous in _PRESENTATION_SELECTORS:
        return False
    return unicodedata.category(previous) in ("So", "Sm") or previous in _EMOJI_PUNCTUATION


# ---------------------------------------------------------------------------------------
# normalise
# ---------------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Return the canonical form of a letter's text.

    NFC; every kind of line break ("\\r\\n", "\\r", U+2028, ...) becomes "\\n"; control
    characters other than "\\n" and "\\t" and all invisible format characters are
    removed; trailing whitespace is stripped from each line; runs of more than two blank
    lines become two; leading and trailing blank lines go. Idempotent.

    Removing every format character also removes the zero-width joiner, so multi-person
    emoji sequences fall apart into their individual emoji, and tag characters, so the
    England/Scotland/Wales flags become a plain black flag. That is the price of making
    sure nothing invisible reaches the other side.
    """
    lines = [_clean_line(line) for line in text.splitlines()]
    return "\n".join(_tidy_blank_lines(lines))


def _clean_line(line: str) -> str:
    """Drop invisible characters from one line, compose it (NFC), strip its end.

    Removal comes before NFC because removing a zero-width character can bring a letter
    and a combining accent together; stripping comes last so that nothing NFC or the
    selector rule does can leave trailing whitespace behind.
    """
    kept: list[str] = []
    for ch in line:
        if ch in _PRESENTATION_SELECTORS:
            if _keeps_selector(kept[-1] if kept else None):
                kept.append(ch)
        elif not (_is_invisible(ch) or _in_ranges(ch, _VARIATION_SELECTORS)):
            kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept)).rstrip()


def _tidy_blank_lines(lines: list[str]) -> list[str]:
    """At most two blank lines in a row, none at the start or the end."""
    tidy: list[str] = []
    blanks = 0
    for line in lines:
        blanks = blanks + 1 if not line else 0
        if blanks <= 2:
            tidy.append(line)
    while tidy and not tidy[0]:
        tidy.pop(0)
    while tidy and not tidy[-1]:
        tidy.pop()
    return tidy


# ---------------------------------------------------------------------------------------
# Flags
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    """One suspected contact detail: what kind, where (offsets into the scanned text)."""

    kind: str
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "start": self.start, "end": self.end, "text": self.text}

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> Flag:
        """Rebuild a flag from to_dict() output; anything malformed is a ValueError."""
        kind, start, end, text = (d.get(k) for k in ("kind", "start", "end", "text"))
        if kind not in KINDS:
            raise ValueError(f"unknown flag kind: {kind!r}")
        for name, value in (("start", start), ("end", end)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"flag {name} must be a non-negative integer: {value!r}")
        if not isinstance(text, str):
            raise ValueError(f"flag text must be a string: {text!r}")
        assert isinstance(kind, str) and isinstance(start, int) and isinstance(end, int)
        if end <= start or len(text) != end - start:
            raise ValueError(f"flag span {start}..{end} does not fit its text {text!r}")
        return cls(kind=kind, start=start, end=end, text=text)


_DESCRIPTIONS = {
    "phone": "This looks like a phone number.",
    "email": "This looks like an e-mail address.",
    "url": "This looks like a web address.",
    "postcode": "This looks like a postcode.",
    "handle": "This looks like a social media name or account.",
    "watchlist": "This is a name or place your facilitator has asked us to watch for.",
}
# Not "will remove it": a facilitator may also keep a flag, with a reason (DESIGN invariant 9).
_REMOVAL = " Your facilitator will look at it before anything is passed on, and may take it out."


def describe(kind: str) -> str:
    """Plain-English explanation of a flag, for the author of the letter."""
    try:
        return _DESCRIPTIONS[kind] + _REMOVAL
    except KeyError:
        raise ValueError(f"unknown flag kind: {kind!r}") from None


# ---------------------------------------------------------------------------------------
# The folded view
# ---------------------------------------------------------------------------------------

# Letters from other scripts that look like Latin ones (after case folding), so that
# "gmаil.cоm" with Cyrillic а and о reads as gmail.com. Only the look-alikes matter: the
# scan's patterns are ASCII, so genuine Cyrillic or Greek prose is unaffected.
_LOOKALIKES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "һ": "h", "і": "i", "ј": "j", "к": "k", "ӏ": "l",
        "м": "m", "н": "h", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s", "т": "t", "у": "y",
        "х": "x", "ԁ": "d", "ԝ": "w", "с": "c",
        "α": "a", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
        "χ": "x", "ϲ": "c",
        "ı": "i", "ɡ": "g", "ɑ": "a",
        # dots, dashes and quotes that NFKD leaves alone
        "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
        "\u3002": ".", "\u00b7": ".", "\u2027": ".",
        "\u2010": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
        "\u2212": "-",
    }
)
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    """What one character looks like to the scan (possibly "" or several characters)."""
    if ch in _LINE_BREAKS:
        return "\n"
    if ch == "\t":
        return " "
    if _is_invisible(ch) or _in_ranges(ch, _VARIATION_SELECTORS):
        return ""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", ch).casefold())
    out = []
    for c in decomposed:
        if unicodedata.category(c).startswith("M"):
            continue  # accents: "gmáil" reads as "gmail"
        digit = unicodedata.decimal(c, None)
        out.append(str(digit) if digit is not None else c)
    return "".join(out).translate(_LOOKALIKES)


@dataclass(frozen=True)
class _View:
    """The folded view of a text plus, for each folded character, its source index."""

    source: str
    folded: str
    origin: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> _View:
        pieces: list[str] = []
        origin: list[int] = []
        for i, ch in enumerate(text):
            folded = _fold_char(ch)
            pieces.append(folded)
            origin.extend([i] * len(folded))
        return cls(source=text, folded="".join(pieces), origin=tuple(origin))

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a folded span to the source span, keeping trailing combining marks."""
        first = self.origin[start]
        last = self.origin[end - 1] + 1
        while last < len(self.source) and unicodedata.category(self.source[last])[0] == "M":
            last += 1
        return first, last

    def flag(self, kind: str, start: int, end: int) -> Flag:
        first, last = self.span(start, end)
        return Flag(kind=kind, start=first, end=last, text=self.source[first:last])


# ---------------------------------------------------------------------------------------
# scan
# ---------------------------------------------------------------------------------------


def scan(text: str, watchlist: Sequence[str] = (), region: str = "GB") -> list[Flag]:
    """Flag everything in `text` that looks like a contact detail, sorted by start.

    `text` should be the normalised text (that is what the offsets are meant for), but
    the scan does not depend on it: invisible characters in raw text are seen through.
    `watchlist` holds case-specific words or phrases (a street, a child's name) flagged
    wherever they appear as whole words. `region` is the default region for phone
    numbers written without an international prefix.

    Overlapping matches are merged into one flag covering both, of the kind of the
    longest match, so no character that any detector found is ever left unflagged.
    """
    if isinstance(watchlist, str):
        raise TypeError("watchlist must be a sequence of terms, not a single string")
    view = _View.of(text)
    found: list[Flag] = []
    found += _phones(view, region)
    found += _emails(view)
    found += _urls(view)
    found += _postcodes(view)
    found += _handles(view)
    found += _watchlist_hits(view, watchlist)
    return _merge_overlaps(text, found)


# Which kind names a merged flag when two matches of the same length overlap.
_PRECEDENCE = {kind: rank for rank, kind in enumerate(
    ("email", "url", "phone", "handle", "postcode", "watchlist"))}


def _merge_overlaps(text: str, flags: list[Flag]) -> list[Flag]:
    """Merge overlapping flags; each group takes the kind of its longest member."""
    merged: list[Flag] = []
    group: list[Flag] = []
    group_end = -1
    for flag in sorted(flags, key=lambda f: (f.start, -f.end)):
        if group and flag.start >= group_end:
            merged.append(_combine(text, group))
            group = []
        if not group:
            group_end = flag.end
        group.append(flag)
        group_end = max(group_end, flag.end)
    if group:
        merged.append(_combine(text, group))
    return merged


def _combine(text: str, group: list[Flag]) -> Flag:
    leader = min(group, key=lambda f: (f.start - f.end, _PRECEDENCE[f.kind]))
    start = min(f.start for f in group)
    end = max(f.end for f in group)
    return Flag(kind=leader.kind, start=start, end=end, text=text[start:end])


# ---------------------------------------------------------------------------------------
# Phone numbers
# ---------------------------------------------------------------------------------------

# A "number" written with O for 0 and I or l for 1 ("O77OO 9OO123"): a word made of
# digits and those letters only, with at least one real digit.
_DIGIT_LOOKALIKE_WORD = re.compile(r"(?<![a-z0-9])(?=[oil]*[0-9])[0-9oil]{2,}(?![a-z0-9])")
_AS_DIGITS = str.maketrans("oil", "011")


def _phone_view(folded: str) -> str:
    """The folded text with O/I/l read as digits inside digit-like words (same length)."""
    return _DIGIT_LOOKALIKE_WORD.sub(lambda m: m.group().translate(_AS_DIGITS), folded)


def _phones(view: _View, region: str) -> Iterator[Flag]:
    """Phone numbers: libphonenumber's matcher, plus runs of digits and digit words.

    libphonenumber runs at Leniency.VALID: the number must fit the numbering plan of its
    region (or of its +country code). POSSIBLE only checks the length, and then years
    ("2019"), times ("10.30") and sums ("500.00") all come back as phone numbers. VALID
    alone misses numbers that are dialable in practice but not (yet) in its metadata, and
    numbers spaced or spelled out to dodge it, so _digit_runs adds a structural check.
    """
    digits = _phone_view(view.folded)
    leniency = phonenumbers.Leniency.VALID
    for match in phonenumbers.PhoneNumberMatcher(digits, region, leniency=leniency):
        yield view.flag("phone", match.start, match.end)
    for start, end in _digit_runs(_mask_prose_numbers(digits)):
        yield view.flag("phone", start, end)


# Numbers an apology letter is full of, which must never look like a phone number. They
# are masked (overwritten with "x", keeping offsets) before digit runs are looked for.
# Each refuses to match when the same separator and more digits continue, so a number
# written "07.70.09.00.12.3" is never mistaken for a date.
_DATE = re.compile(
    r"(?<![0-9])(?<![0-9][./-])"
    r"(?:(?P<a>\d{1,2})(?P<s1>[./-])(?P<b>\d{1,2})(?P=s1)(?:\d{4}|\d{2})"
    r"|(?P<y>\d{4})(?P<s2>[./-])(?P<m>\d{1,2})(?P=s2)(?P<d>\d{1,2}))"
    r"(?![0-9])(?![./-][0-9])(?![ \t\-]?[0-9]{3})"
)
_TIME = re.compile(
    r"(?<![0-9])(?<![0-9][.:])(?P<h>\d{1,2})[.:](?P<m>\d{2})(?:[.:]\d{2})?"
    r"(?![0-9])(?![.:][0-9])(?![ \t\-]?[0-9]{3})"
)
_AMOUNT = r"(?:[1-9]\d{0,2}(?:,\d{3})+|\d{1,6})(?:\.\d{1,2})?"
_MONEY = re.compile(
    rf"[£$€¥]\s?{_AMOUNT}(?![0-9])"
    rf"|(?<![0-9]){_AMOUNT}\s?(?:pounds?|quid|pence|grand|dollars?|euros?|gbp|usd|eur)\b"
)
_THOUSANDS = re.compile(r"(?<![0-9,])[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?(?![0-9])(?!,[0-9])")


def _mask_prose_numbers(digits: str) -> str:
    """Overwrite dates, times, sums of money and 1,000-style numbers with "x"."""

    def blank(m: re.Match[str]) -> str:
        return "x" * len(m.group())

    def blank_date(m: re.Match[str]) -> str:
        if m.group("y"):
            ok = 1900 <= int(m.group("y")) <= 2099 and _is_day_month(m.group("d"), m.group("m"))
        else:
            a, b = m.group("a"), m.group("b")
            ok = _is_day_month(a, b) or _is_day_month(b, a)
        return blank(m) if ok else m.group()

    def blank_time(m: re.Match[str]) -> str:
        ok = int(m.group("h")) <= 24 and int(m.group("m")) <= 59
        return blank(m) if ok else m.group()

    masked = _DATE.sub(blank_date, digits)
    masked = _TIME.sub(blank_time, masked)
    masked = _MONEY.sub(blank, masked)
    return _THOUSANDS.sub(blank, masked)


def _is_day_month(day: str, month: str) -> bool:
    return 1 <= int(day) <= 31 and 1 <= int(month) <= 12


_DIGIT_WORD = (
    r"zero|nought|one|two|three|four|five|six|seven|eight|nine|double|triple|treble|oh|o"
)
_DIGIT_WORDS = re.compile(rf"(?:{_DIGIT_WORD})+")
_DIGIT_WORD_PART = re.compile(_DIGIT_WORD)
_PHONE_TOKEN = re.compile(r"[0-9]+|[a-z]+")
# What may sit between two parts of one number: a few spaces, dots, dashes, slashes or
# brackets ("077-00 / 900.123"), or a lone comma ("077,009,001,23"). A comma and a
# space ("aged 15, 16, 17") only joins spelled-out digits ("oh seven, seven oh oh").
_NUMBER_GAP = re.compile(r"[ \t\n.\-_/\\|()+*~]{1,3}|,")
_WORD_GAP = re.compile(r"[ \t\n.,\-_/\\|()+*~]{0,3}")
_MIN_PHONE_DIGITS = 7


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    digits: int
    spelled: bool
    year: bool


def _digit_runs(masked: str) -> Iterator[tuple[int, int]]:
    """Spans of 7+ digits written as numerals and/or digit words with separators.

    "0 7 7 0 0 9 0 0 1 2 3", "07700-900-123", "oh seven seven double oh nine..." and
    "ohsevenseven..." all count. Runs made of nothing but years ("2015-2019",
    "2018 2019") do not, and dates, times and money are masked beforehand.
    """
    run: list[_Token] = []
    for match in _PHONE_TOKEN.finditer(masked):
        token = _phone_token(match)
        if token is None or (run and not _joins(masked, run[-1], token)):
            yield from _phone_span(masked, run)
            run = []
        if token is not None:
            run.append(token)
    yield from _phone_span(masked, run)


def _phone_token(match: re.Match[str]) -> _Token | None:
    word = match.group()
    if word.isdigit():
        year = len(word) == 4 and 1900 <= int(word) <= 2099
        return _Token(match.start(), match.end(), len(word), spelled=False, year=year)
    if not _DIGIT_WORDS.fullmatch(word):
        return None
    parts = _DIGIT_WORD_PART.findall(word)
    digits = sum(2 if p == "triple" or p == "treble" else 1 for p in parts)
    return _Token(match.start(), match.end(), digits, spelled=True, year=False)


def _joins(masked: str, left: _Token, right: _Token) -> bool:
    gap = masked[left.end : right.start]
    if left.spelled or right.spelled:
        return _WORD_GAP.fullmatch(gap) is not None
    return _NUMBER_GAP.fullmatch(gap) is not None


def _phone_span(masked: str, run: list[_Token]) -> Iterator[tuple[int, int]]:
    """The run's span, with a leading "+" or "(" ("+44 ...", "(07911) ..."), if it counts."""
    if sum(t.digits for t in run) < _MIN_PHONE_DIGITS or all(t.year for t in run):
        return
    start = run[0].start
    if start > 0 and masked[start - 1] in "+(":
        start -= 1
    yield start, run[-1].end


# ---------------------------------------------------------------------------------------
# E-mail addresses and web addresses
# ---------------------------------------------------------------------------------------

# Top-level domains worth recognising without "http" or "www" in front. Deliberately not
# every TLD: with the full list, half of English would be a web address.
_TLDS = sorted(
    set(
        "com net org edu gov mil int info biz name pro mobi app dev io ai co me tv ly gg "
        "to fm am cc ws la uk us ca au nz ie de fr es it nl be ch at se no dk fi pl pt ru "
        "cn jp in br eu za mx ar gr tr ua cz hu ro sk si hr rs bg lt lv ee is lu li mt cy "
        "sg hk tw kr my ph th vn id pk ng ke gh scot wales cymru london xyz online site "
        "shop store blog link live club page email tech website space fun life world "
        "today news cloud art design studio one top vip wiki social chat".split()
    ),
    key=lambda t: (-len(t), t),
)
_TLD = "(?:" + "|".join(_TLDS) + ")"
# TLDs that are also everyday words. After a full stop they are most likely the start
# of a sentence ("I am so sorry.It was..."), so they only count with a tight lower- or
# upper-case dot ("jane.me", "JANE.ME") or an explicit bracketed "[dot]".
_WORDY_TLDS = frozenset(
    "at be co in is it me my no to us am app art blog chat club design email fun life "
    "link live name news one online page pro shop site social space store studio tech "
    "today top vip wiki world info".split()
)
# Words that are not the first part of a web address: "the dot com boom".
_NOT_A_HOST = frozenset("a an the this that any some my your his her our their".split())
# Words that come before "at" in sentences, never as the name part of an address.
_NOT_A_MAILBOX = frozenset(
    "i me you we they he she it him her us them am is are was were be been being work "
    "works worked working job jobs live lives lived living stay stayed staying study "
    "studied studying look looked looking shop shopped shopping me home here there that "
    "this what which who one someone something everyone nobody my your our his their a "
    "an the and or but so not just still all again to for in on of with from by".split()
)
_EMAIL_PROVIDERS = (
    "gmail|googlemail|hotmail|yahoo|icloud|outlook|protonmail|proton|aol|btinternet|ymail"
    "|gmx|yandex"
)

_LABEL = r"(?!(?:dot|at)\b)[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
_MAILBOX = r"[a-z0-9_%+\-](?:[a-z0-9._%+\-]{0,62}[a-z0-9_%+\-])?"
_LOCAL = rf"(?<![a-z0-9._%+\-]){_MAILBOX}"
_BRACKETED_DOT = r"[ \t]*[\[({<][ \t]*(?:dot|\.)[ \t]*[\])}>][ \t]*"
_BRACKETED_AT = r"[ \t]*[\[({<][ \t]*(?:at|@)[ \t]*[\])}>][ \t]*"
# "@", " @ ", "[at]", "(at)", "{@}", " at ", "_at_".
_AT = rf"(?:[ \t]*@[ \t]*|{_BRACKETED_AT}|[ \t]+at[ \t]+|[_\-]at[_\-])"
# ".", " . ", "[dot]", "(.)", " dot ", "-dot-".
_DOT = rf"(?:[ \t]*\.[ \t]*|{_BRACKETED_DOT}|[ \t]+dot[ \t]+|[_\-]dot[_\-])"
# A disguised name part may be disguised too: "jo dot bloggs at ...".
_LOCAL_DISGUISED = rf"{_LOCAL}(?:(?:[ \t]+dot[ \t]+|{_BRACKETED_DOT}){_MAILBOX}){{0,3}}"
_HOST = rf"(?:{_LABEL}{_DOT}){{0,7}}{_LABEL}(?P<dot>{_DOT})(?P<tld>{_TLD})(?![a-z0-9\-])"

_EMAIL_PLAIN = re.compile(
    rf"{_LOCAL}@{_LABEL}(?:\.{_LABEL}){{0,7}}\.[a-z]{{2,24}}(?![a-z0-9\-])"
)
_EMAIL_DISGUISED = re.compile(rf"(?P<local>{_LOCAL_DISGUISED})(?P<at>{_AT}){_HOST}")
_EMAIL_PROVIDER = re.compile(
    rf"(?P<local>{_LOCAL})(?P<at>{_AT})(?:{_EMAIL_PROVIDERS})(?![a-z0-9\-])"
)
_URL_SCHEME = re.compile(r"(?<![a-z0-9])(?:https?|hxxps?|ftp)[ \t]*:[ \t]*/[ \t]*/[^\s<>\"]+")
_URL_WWW = re.compile(
    rf"(?<![a-z0-9\-])www\d{{0,3}}{_DOT}(?:{_LABEL}{_DOT}){{0,7}}{_LABEL}(?:/[^\s<>\"]*)?"
)
_URL_DOMAIN = re.compile(rf"(?<![a-z0-9\-_])(?P<host>{_HOST})(?:/[^\s<>\"]*)?")
_TRAILING_PUNCTUATION = ".,;:!?)]}'\"*"


def _emails(view: _View) -> Iterator[Flag]:
    """E-mail addresses, written plainly or disguised ("jo at example dot com")."""
    for m in _EMAIL_PLAIN.finditer(view.folded):
        yield view.flag("email", m.start(), m.end())
    for m in _accepted(_EMAIL_DISGUISED, view.folded,
                       lambda m: _plausible_tld(view, m) and not _is_prose_at(m)):
        yield view.flag("email", m.start(), m.end())
    for m in _EMAIL_PROVIDER.finditer(view.folded):
        if not _is_prose_at(m):
            yield view.flag("email", m.start(), m.end())


def _is_prose_at(m: re.Match[str]) -> bool:
    """"I worked at example.com" is a sentence (and a web address), not "jo at example.com".

    Only decides the kind: the web address in such a sentence is still flagged as one.
    """
    return m.group("local") in _NOT_A_MAILBOX and "@" not in m.group("at")


def _urls(view: _View) -> Iterator[Flag]:
    """Web addresses: with a scheme, starting "www", or a bare domain like example.co.uk."""
    for pattern in (_URL_SCHEME, _URL_WWW):
        for m in pattern.finditer(view.folded):
            yield view.flag("url", m.start(), _trim_punctuation(view.folded, m.start(), m.end()))
    for m in _accepted(_URL_DOMAIN, view.folded, lambda m: _plausible_domain(view, m)):
        yield view.flag("url", m.start(), _trim_punctuation(view.folded, m.start(), m.end()))


def _accepted(
    pattern: re.Pattern[str], text: str, accept: Callable[[re.Match[str]], bool]
) -> Iterator[re.Match[str]]:
    """Matches that pass `accept`; after a rejected one, look again one character later.

    Plain finditer would skip everything a rejected match covered, so the address in
    "I'm sorry. example.com" would be lost along with the rejected "sorry. example".
    """
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        if accept(m):
            yield m
            pos = max(m.end(), m.start() + 1)
        else:
            pos = m.start() + 1


def _plausible_domain(view: _View, m: re.Match[str]) -> bool:
    """Not "the dot com boom" or "10.30.am", and a believable TLD (see _plausible_tld)."""
    name = view.folded[m.start("host") : m.start("dot")]
    first_label = re.split(r"[^a-z0-9\-]", name, maxsplit=1)[0]
    if first_label in _NOT_A_HOST or not re.search(r"[a-z]", name):
        return False
    return _plausible_tld(view, m)


def _plausible_tld(view: _View, m: re.Match[str]) -> bool:
    """Reject "sorry.It", "home. me" and "a tiny dot in": word-like TLDs need care.

    A TLD that is also a word counts after a bracketed "[dot]" (deliberate), or after a
    plain "." with no spaces as long as it is not written like the first word of a
    sentence ("It", "Me"). Spaced dots and a spoken " dot " are not enough for it.
    """
    if m.group("tld") not in _WORDY_TLDS:
        return True
    dot = m.group("dot")
    if re.search(r"[\[({<]", dot):
        return True
    if dot != ".":
        return False
    start, end = view.span(m.start("tld"), m.end("tld"))
    written = view.source[start:end]
    return not (written[:1].isupper() and not written.isupper())


def _trim_punctuation(folded: str, start: int, end: int) -> int:
    """End of a URL without the full stop or bracket that closes the sentence around it."""
    while end > start + 1 and folded[end - 1] in _TRAILING_PUNCTUATION:
        end -= 1
    return end


# ---------------------------------------------------------------------------------------
# Postcodes
# ---------------------------------------------------------------------------------------

# UK postcode areas. Checking the area rules out road numbers and serial numbers that
# merely have the A9 9AA shape.
_POSTCODE_AREAS = sorted(
    "ab al b ba bb bd bf bh bl bn br bs bt bx ca cb cf ch cm co cr ct cv cw da dd de dg "
    "dh dl dn dt dy e ec eh en ex fk fy g gl gu gy ha hd hg hp hr hs hu hx ig im ip iv je "
    "ka kt kw ky l la ld le ll ln ls lu m me mk ml n ne ng nn np nr nw ol ox pa pe ph pl "
    "po pr rg rh rm s sa se sg sk sl sm sn so sp sr ss st sw sy ta td tf tn tq tr ts tw "
    "ub w wa wc wd wf wn wr ws wv yo ze".split(),
    key=lambda a: (-len(a), a),
)
_PC_SEP = r"[ \t.\-]?"
_AREA = "(?:" + "|".join(_PC_SEP.join(area) for area in _POSTCODE_AREAS) + ")"
_UNIT_LETTER = "[abd-hjlnp-uw-z]"  # never C I K M O V
# Area, district (9, 99 or 9A), sector digit, two unit letters; optional single
# separators between all the characters catch "S W 1 A 1 A A" and "SW1A-1AA".
_POSTCODE = re.compile(
    rf"(?<![a-z0-9])(?:{_AREA}{_PC_SEP}[0-9](?:{_PC_SEP}[0-9a-z])?[ \t.\-]{{0,2}}"
    rf"(?P<inward>[0-9]{_PC_SEP}{_UNIT_LETTER}{_PC_SEP}{_UNIT_LETTER})"
    r"|gir ?0aa)(?![a-z0-9])"
)
_ORDINALS = {"1": "st", "2": "nd", "3": "rd"}


def _postcodes(view: _View) -> Iterator[Flag]:
    """UK postcodes in any case and spacing ("SW1A 1AA", "m1 1ae", "EC1A1BB")."""
    for m in _POSTCODE.finditer(view.folded):
        if m.group("inward") and _is_ordinal(view, m):
            continue
        yield view.flag("postcode", m.start(), m.end())


def _is_ordinal(view: _View, m: re.Match[str]) -> bool:
    """"the M6 2nd time": an inward code spelled like an ordinal, in lower case."""
    inward = m.group("inward")
    digit, suffix = inward[0], inward[-2:]
    if len(inward) != 3 or suffix != _ORDINALS.get(digit, "th"):
        return False
    start, end = view.span(m.start("inward"), m.end("inward"))
    return not view.source[start:end][1:].isupper()


# ---------------------------------------------------------------------------------------
# Social media handles
# ---------------------------------------------------------------------------------------

_PLATFORMS = (
    "instagram|insta|ig|snapchat|snap|sc|facebook|fb|messenger|tik ?tok|twitter|x|"
    "whats ?app|telegram|signal|discord|youtube|linked ?in|reddit|threads|bluesky|kik|"
    "we ?chat|skype|twitch|onlyfans|pinterest|tumblr|viber|roblox|mastodon|steam|xbox|"
    "psn|playstation|tinder|grindr|hinge|bumble|e-?mail"
)
# Platform names that are never ordinary words, for the weakest pattern below.
_CLEAR_PLATFORMS = (
    "instagram|insta|snapchat|facebook|tik ?tok|twitter|whats ?app|telegram|discord|"
    "youtube|linked ?in|reddit|bluesky|we ?chat|skype|twitch|onlyfans|pinterest|tumblr|"
    "viber|roblox|mastodon|grindr"
)
_NAME = r"@?[a-z0-9_](?:[a-z0-9_.\-]{0,29}[a-z0-9_])?(?:#[0-9]{4})?"
# Something only a username looks like: starts with @, or mixes letters with digits or _.
_HANDLE_LIKE = r"(?:@[a-z0-9_][a-z0-9_.]*|(?=[a-z0-9_.\-]*[a-z])[a-z0-9_.\-]*[0-9_][a-z0-9_.\-]*)"
_ACCOUNT_WORD = r"(?:name|handle|user ?name|user|account|acc|id|tag|@)"

_AT_HANDLE = re.compile(r"(?<![a-z0-9_.@])@[a-z_][a-z0-9_.]{0,29}[a-z0-9_]")
# "add me on snapchat", "find me on facebook as Jo Bloggs", "I'm on insta: jo_b".
_INVITE = re.compile(
    r"\b(?:(?:add|find|follow|message|msg|dm|pm|text|contact|reach|search|hit|ping|"
    r"friend|inbox|look)(?:[ \t]+for)?[ \t]+me(?:[ \t]+up)?|i'?m|i[ \t]+am)"
    rf"[ \t]+(?:on|at|via|through)[ \t]+(?:{_PLATFORMS})\b"
    rf"(?P<tail>[ \t]*(?:(?:as|under|at|is|:|-|=)[ \t]*)?(?P<first>{_NAME})"
    rf"(?:[ \t]+(?P<second>{_NAME}))?)?"
)
# "my tiktok is jo", "my snapchat name: jo", "my insta jo_b".
_MY_ACCOUNT = re.compile(
    rf"\bmy[ \t]+(?:{_PLATFORMS})\b(?:[ \t]+{_ACCOUNT_WORD})?"
    rf"(?:[ \t]*(?:is|:|=|-)[ \t]*(?P<name>{_NAME})|[ \t]+(?P<handle>{_HANDLE_LIKE}))"
)
# "instagram: jo", "IG = jo_b", "Insta - jo_b", "snapchat username: jo".
_LABELLED = re.compile(
    rf"\b(?:{_PLATFORMS})\b(?:[ \t]+{_ACCOUNT_WORD})?(?:[ \t]*[:=]|[ \t]*-)[ \t]*"
    rf"(?P<name>{_NAME})"
)
# "snap me", "whatsapp me jo_b": a platform used as a verb.
_PLATFORM_VERB = re.compile(
    r"\b(?:snap|snapchat|whats ?app|facetime|skype|dm|insta|telegram)[ \t]+me\b"
    rf"(?:[ \t]+(?:on[ \t]+|at[ \t]+)?{_HANDLE_LIKE})?"
)
# "search Jo Bloggs on facebook", "I looked for your name on insta".
_SEARCH = re.compile(
    r"\b(?:search(?:ed|ing)?|look(?:ed|ing)?[ \t]+(?:for|up))(?:[ \t]+for)?"
    r"(?:[ \t]+[^\W_]+){1,3}[ \t]+"
    rf"(?:on|in)[ \t]+(?:{_PLATFORMS})\b"
)
# A bare username: letters and digits joined by underscores ("jo_b99"), which ordinary
# prose never contains.
_UNDERSCORED = re.compile(
    r"(?<![a-z0-9_.@\-])(?=[a-z0-9._]*[a-z])[a-z0-9][a-z0-9.]*_[a-z0-9_.]*[a-z0-9]"
    r"(?![a-z0-9_@\-])"
)
# "snapchat jo_b99", "facebook @jo": a clear platform name then something handle-like.
_PLATFORM_HANDLE = re.compile(rf"\b(?:{_CLEAR_PLATFORMS})\b[ \t]+{_HANDLE_LIKE}")
# Words that follow "my instagram is" or "I'm on facebook" in ordinary sentences.
_NOT_A_NAME = frozenset(
    "a an the i private public gone deleted deactivated closed down banned blocked locked "
    "hacked dead empty off on not still where what how why when full just now also so "
    "very really all mostly only same different new old suspended disabled inactive "
    "active open shut done over back there here in at of and but or my your his her "
    "their our it this that because too no set linked connected used being weak bad "
    "good poor strong great fine ok okay terrible low better worse getting going about "
    "like which who to for with from every most much more lot lots sometimes never "
    "ever again anymore any nothing something is was".split()
)


def _handles(view: _View) -> Iterator[Flag]:
    """Social media handles ("@jo_b") and phrases that name an account on a platform."""
    text = view.folded
    spans: list[tuple[int, int]] = []
    spans += [m.span() for m in _AT_HANDLE.finditer(text)]
    spans += [_invite_span(m) for m in _INVITE.finditer(text)]
    spans += [m.span() for m in _MY_ACCOUNT.finditer(text) if not _is_filler(m.group("name"))]
    spans += [m.span() for m in _LABELLED.finditer(text) if not _is_filler(m.group("name"))]
    for pattern in (_PLATFORM_HANDLE, _PLATFORM_VERB, _SEARCH, _UNDERSCORED):
        spans += [m.span() for m in pattern.finditer(text)]
    for start, end in spans:
        yield view.flag("handle", start, _trim_punctuation(text, start, end))


def _invite_span(m: re.Match[str]) -> tuple[int, int]:
    """The invitation, plus the name that follows it unless that is ordinary prose."""
    if _is_filler(m.group("first")):
        return m.start(), m.start("tail")
    if _is_filler(m.group("second")):
        return m.start(), m.end("first")
    return m.span()


def _is_filler(word: str | None) -> bool:
    return word is not None and word.lstrip("@") in _NOT_A_NAME


# ---------------------------------------------------------------------------------------
# Watchlist
# ---------------------------------------------------------------------------------------

# Characters people substitute for letters ("J0hn", "$arah"). Only applied after the
# first letter of a word, so "Sam" does not match "5am".
_LEET = {"a": "a4@", "b": "b8", "e": "e3", "g": "g9", "i": "i1!|", "l": "l1|", "o": "o0",
         "s": "s5$", "t": "t7+"}
_LETTER_GAP = r"[ .\-_*]?"
_WORD_GAP_WATCH = r"[\W_]{0,3}"


def _watchlist_hits(view: _View, watchlist: Sequence[str]) -> Iterator[Flag]:
    """Whole-word, case- and accent-insensitive matches of the case's watchlist terms."""
    for term in watchlist:
        pattern = _watch_pattern(term)
        if pattern is None:
            continue
        for m in pattern.finditer(view.folded):
            yield view.flag("watchlist", m.start(), m.end())


@lru_cache(maxsize=1024)
def _watch_pattern(term: str) -> re.Pattern[str] | None:
    """A pattern for one term, folded exactly like the text it is matched against.

    Multi-word terms match with any short run of spaces or punctuation between the
    words ("Mill Lane", "mill-lane", "Mill\\nLane"); words of three letters or more also
    match spelled out ("J.O.H.N", "j o h n") and with digit/symbol substitutions.
    """
    folded = "".join(_fold_char(ch) for ch in term)
    words = re.findall(r"[^\W_]+", folded)
    if not words:
        return None
    body = _WORD_GAP_WATCH.join(_watch_word(w) for w in words)
    return re.compile(rf"(?<![^\W_]){body}(?![^\W_])")


def _watch_word(word: str) -> str:
    if len(word) < 3:
        return re.escape(word)
    rest = [f"[{re.escape(_LEET[ch])}]" if ch in _LEET else re.escape(ch) for ch in word[1:]]
    return _LETTER_GAP.join([re.escape(word[0]), *rest])
