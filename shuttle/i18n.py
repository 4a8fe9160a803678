"""English and Welsh (issue 12): the catalogues, the reader's language, and gettext for pages and code.

The catalogues are the .po files in shuttle/locale/<locale>/LC_MESSAGES/: messages.po (participants'
pages, sign-in and Python, extracted with `pybabel extract -F babel.cfg`) and staff.po (facilitators'
and coordinators' pages, `-F babel-staff.cfg`; see README), split by audience so each can be extracted
and translated on its own. They are compiled here, in memory, the first time a language is used, and
read as one (a msgid missing from messages.po is looked up in staff.po): there is no build step to
forget and no .mo file to fall out of step with its .po.

The language a page is rendered in is a context variable, set by `shuttle.web.pages.common.render`
around the rendering; `gettext` and `lazy_gettext` read it. Python code that builds a sentence a
participant reads marks it with `lazy_gettext` (as `_l`) where it is defined; it is translated when
the page turns it into text.
"""

from __future__ import annotations

import gettext as _gettext
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

#: The languages of the service, English first (the default).
LOCALES = ("en", "cy")
DEFAULT = "en"
#: The cookie that remembers anyone's choice (a signed-in person's is also on their account).
COOKIE = "lang"
#: The names of the languages, each in its own language: what the choice offers.
NAMES = {"en": "English", "cy": "Cymraeg"}
LOCALE_DIR = Path(__file__).parent / "locale"

_current: ContextVar[str] = ContextVar("shuttle_locale", default=DEFAULT)


def known(value: str | None) -> str | None:
    """`value` if it is one of the service's languages, else None."""
    return value if value in LOCALES else None


def current() -> str:
    """The language being rendered now."""
    return _current.get()


@contextmanager
def using(locale: str) -> Iterator[str]:
    """Render (or build sentences) in `locale` for the duration of the block."""
    token = _current.set(known(locale) or DEFAULT)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


#: The catalogues (gettext domains) of each language, looked up in this order: participants' pages
#: and Python first, then staff and coordinator pages (babel.cfg and babel-staff.cfg extract them).
DOMAINS = ("messages", "staff")


def catalogue_path(locale: str, domain: str = "messages") -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{domain}.po"


def catalogue_paths(locale: str) -> list[Path]:
    """Every catalogue of `locale`, in lookup order (a page's string is in at least one of them)."""
    return [catalogue_path(locale, domain) for domain in DOMAINS]


def _compiled(path: Path, locale: str) -> _gettext.GNUTranslations:
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)  # untranslated and fuzzy entries left out: the next one answers
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    """The compiled catalogues for `locale` as one (compiled from their .po files once per process):
    the first that has a msgid translated answers, the others are its fallbacks."""
    found: _gettext.NullTranslations | None = None
    for path in catalogue_paths(locale):
        if not path.exists():
            continue
        compiled = _compiled(path, locale)
        if found is None:
            found = compiled
        else:
            found.add_fallback(compiled)
    return found if found is not None else _gettext.NullTranslations()


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


class LazyString:
    """A message translated each time it is turned into text, in the language being rendered then."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message

    def __str__(self) -> str:
        return gettext(self.message)

    def __html__(self) -> str:  # Jinja autoescape: still escaped, as a plain string would be
        from markupsafe import escape

        return str(escape(str(self)))

    def __repr__(self) -> str:
        return f"LazyString({self.message!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyString):
            return self.message == other.message
        return str(self) == other

    def __hash__(self) -> int:
        return hash(self.message)

    def __add__(self, other: str) -> str:
        return str(self) + other

    def __radd__(self, other: str) -> str:
        return other + str(self)

    def lower(self) -> str:
        return str(self).lower()


def N_(message: str) -> str:  # noqa: N802 (gettext's own name for it)
    """Mark a plain string for the catalogue (extracted with the N_ keyword); a page translates it when
    it shows it (`{{ words | translated }}`). For sentences built in Python and compared or stored as text."""
    return message


class Sentence(str):
    """A sentence made in Python from a marked pattern and its values ("%(label)s withdrew consent"):
    the English, as a plain str everywhere (compared, joined, logged, tested), and translated with its
    values where a page shows it (`{{ words | translated }}`, `translate`). A value that is itself a
    Sentence (a state's words, say) is translated too; names and numbers are not.
    `Sentence(N_("paused"))`, without values, is a marked word that keeps its pattern through a dataclass.
    A list or tuple value is a list of reasons, said joined with "; " (each translated if a Sentence)."""

    pattern: str
    values: dict[str, object]

    def __new__(cls, pattern: str, **values: object) -> Sentence:
        made = super().__new__(cls, pattern % {k: _said(v, str) for k, v in values.items()} if values else pattern)
        made.pattern, made.values = pattern, values
        return made

    def __html__(self) -> str:
        """Printed in a template (`{{ words }}`, or a value of `{% trans %}`): said in the language being
        rendered, escaped, as `| translated` would; a default side label (cases.models.shown_label) is
        shown this way in many sentences that do not each say `| translated`."""
        from markupsafe import escape

        return str(escape(translate(self)))


def _said(value: object, word: Callable[[str], str]) -> object:
    if isinstance(value, list | tuple):
        return "; ".join(word(v) for v in value)
    return word(value) if isinstance(value, Sentence) else value


def translate(message: object) -> str:
    """`message` in the language being rendered: a Sentence with its values, any other text as a msgid."""
    if isinstance(message, Sentence):
        pattern = gettext(message.pattern)
        if not message.values:
            return pattern
        said = {k: _said(v, translate) for k, v in message.values.items()}
        pattern, said = elided(pattern, said, message.values)
        return pattern % said
    return gettext(str(message))


#: Welsh writes the article ("yr", "y") as "'r" after a word that ends in a vowel: "gyda'r", "a'r", "i'r".
_WELSH_VOWELS = frozenset("aeiouwyâêîôûŵŷáéíóúàèìòù")
_WELSH_ARTICLE = re.compile(r"(?:yr|y) ")
_WORD_THEN_VALUE = re.compile(r"(\w+) %\((\w+)\)s")


def elided(pattern: str, said: dict[str, object], values: dict[str, object]) -> tuple[str, dict[str, object]]:
    """In Welsh, a Sentence value said with the article ("yr unigolyn cyfrifol", a default side label)
    right after a word that ends in a vowel is written elided into the sentence ("gyda'r unigolyn
    cyfrifol"). Only at that join: the value's own words, and any other value, are left as they are.
    `said` holds the values as they will be printed; the pattern and values come back rewritten."""
    if current() != "cy":
        return pattern, said
    extra: dict[str, object] = {}

    def join(found: re.Match[str]) -> str:
        word, name = found.group(1), found.group(2)
        text = said.get(name)
        article = _WELSH_ARTICLE.match(text) if isinstance(text, str) and isinstance(values.get(name), Sentence) \
            else None
        if article is None or word[-1].lower() not in _WELSH_VOWELS:
            return found.group(0)
        assert isinstance(text, str)
        extra[f"{name}__elided"] = text[article.end():]
        return f"{word}'r %({name}__elided)s"

    rewritten = _WORD_THEN_VALUE.sub(join, pattern)
    return rewritten, {**said, **extra} if extra else said


def lazy_gettext(message: str) -> LazyString:
    """Mark a sentence for the catalogue where it is defined; it is translated when rendered."""
    return LazyString(message)


_l = lazy_gettext


def extract_state_words(fileobj: object, keywords: object, comment_tags: object,
                        options: object) -> Iterator[tuple[int, None, str, list[str]]]:
    """A Babel extractor (babel.cfg) for the author's words of each state in shuttle/messages/states.py:
    plain strings there (states are not a page's business), translated when a page shows them."""
    from shuttle.messages.states import AUTHOR_WORDS, AUTHOR_WORDS_RECALLED

    seen: set[str] = set()
    for words in [*AUTHOR_WORDS.values(), AUTHOR_WORDS_RECALLED]:
        for message in words:
            if message not in seen:
                seen.add(message)
                yield 0, None, message, ["A message's state, in its author's words (states.AUTHOR_WORDS)."]
