"""Rendering, redirects and who is signed in: shared by every page module."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from babel.numbers import format_decimal
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from shuttle import i18n
from shuttle.accounts.service import Principal
from shuttle.dates import BABEL_LOCALES, on_day
from shuttle.errors import NotAuthenticated
from shuttle.messages.states import TEMPLATE_NAMES
from shuttle.web.http import (
    current_principal,
    principal_here,
    run_here,
    services,
)
from shuttle.web.pages.language import set_language_cookie

log = logging.getLogger(__name__)
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))
# Templates are part of the release: compiled once per process, never re-checked on disk (auto_reload
# stats every template a page extends, includes or imports, on every render); restart to see an edit.
TEMPLATES.env.auto_reload = False
# Templates name states and their groups through states.py, never as strings (tests/test_state_words.py).
TEMPLATES.env.globals.update(TEMPLATE_NAMES)
# One date format on every page (issue 12): `{{ when | on_day }}` reads "Tuesday 1 December 2026".
TEMPLATES.env.filters["on_day"] = on_day
# English and Welsh (issue 12): {% trans %} and _() in templates, in the language of the page being
# rendered (shuttle.i18n; per request, so gettext callables rather than one installed catalogue).
TEMPLATES.env.add_extension("jinja2.ext.i18n")
TEMPLATES.env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]


@pass_context
def _gettext_said(context: Context, message: str, **variables: Any) -> str:
    """Jinja's newstyle gettext (`{% trans %}`, `_()`), and a Welsh article before a value elided as
    i18n.translate does it ("gyda'r unigolyn a niweidiwyd", not "gyda yr ...")."""
    pattern = i18n.gettext(message)
    said = {k: i18n.translate(v) if isinstance(v, i18n.Sentence) else v for k, v in variables.items()}
    pattern, variables = i18n.elided(pattern, said, variables)
    made = Markup(pattern) if context.eval_ctx.autoescape else pattern
    return made % variables


TEMPLATES.env.globals["gettext"] = _gettext_said
# A sentence made in Python from the catalogue (a state's words), translated as plain, escaped text.
# A Sentence (i18n.Sentence: a pattern and its values) is translated with its values.
TEMPLATES.env.filters["translated"] = lambda message: i18n.translate(message) if message else message
# A number as the reader writes it ("10,000"), in the language of the page being rendered.
TEMPLATES.env.filters["format_number"] = lambda number: format_decimal(number, locale=BABEL_LOCALES[i18n.current()])


#: About how many bytes of UTF-8 one written word takes, with its space and punctuation: only to
#: say a size in words people understand ("about 10,000 words"); the limit itself is in bytes.
BYTES_PER_WORD = 6.5


def about_words(size_bytes: int) -> str:
    """A number of bytes as words, rounded as a person would say it: "about 10,000 words"."""
    words = max(1, round(size_bytes / BYTES_PER_WORD))
    step = 1000 if words >= 2000 else 100 if words >= 200 else 10 if words >= 20 else 1
    rounded = max(step, round(words / step) * step)
    language = i18n.current()
    number = format_decimal(rounded, locale=BABEL_LOCALES[language])
    return i18n.ngettext("about %(count)s word", "about %(count)s words", rounded) % {"count": number}


def letter_limit(limit_bytes: int) -> dict[str, Any]:
    """What the letter field and its live counter (draft.js) need to know about the limit."""
    return {"bytes": limit_bytes, "words": about_words(limit_bytes), "bytes_per_word": BYTES_PER_WORD}


def too_long(limit_bytes: int, size_bytes: int) -> str:
    return i18n.gettext("This is too long to save. It can be up to %(limit)s: take out %(excess)s, then save it "
                        "again.") % {"limit": about_words(limit_bytes), "excess": about_words(size_bytes - limit_bytes)}


def page_language(request: Request, principal: Principal | None) -> str:
    """The page's language: the signed-in person's choice on their account, else the cookie's, else English."""
    chosen = principal.language if principal is not None else None
    return i18n.known(chosen) or i18n.known(request.cookies.get(i18n.COOKIE)) or i18n.DEFAULT


def render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    svc = services(request)
    context.setdefault("principal", None)
    context.setdefault("quick_exit_url", svc.settings.quick_exit_url)
    context.setdefault("letter_limit", letter_limit(svc.settings.limits.max_letter_bytes))
    language = page_language(request, context["principal"])
    context.setdefault("lang", language)
    context.setdefault("languages", i18n.NAMES)
    with i18n.using(language):
        response = TEMPLATES.TemplateResponse(request, name, context, status_code=status)
    principal = context["principal"]
    if principal is not None and principal.language and request.cookies.get(i18n.COOKIE) != language:
        # The account's choice, back in the cookie: this device's next pages start in it.
        set_language_cookie(response, svc.settings.cookie_secure, language)
    return response


async def error_page(request: Request, status: int, message: str) -> Response:
    """An error in the layout of whoever is signed in. A participant's keeps the sign-out form,
    so its quick exit ends the session as on every other page; staff get their own layout (no
    quick exit) and a way back to what they were working on."""
    try:
        principal = await current_principal(request)
    except Exception:  # the error may be the database itself: still answer, as nobody in particular
        log.warning("error page without knowing who is signed in", exc_info=True)
        principal = None
    if principal is not None and principal.is_staff:
        back, back_label = staff_way_back(request, status)
        return render(request, "staff/error.html", status=status, principal=principal, status_code=status,
                      message=message, back=back, back_label=back_label)
    return render(request, "error.html", status=status, status_code=status, message=message, principal=principal,
                  participant=principal is not None and principal.role == "participant")


STAFF_PAGE = re.compile(r"^(/staff/(messages|cases)/[A-Za-z0-9_-]{1,64})(/[a-z-]{1,32})?$")


def view_fields(view: Any) -> dict[str, Any]:
    """A view model's (frozen dataclass's) fields as a template's names: render(..., **view_fields(v))."""
    return {f.name: getattr(view, f.name) for f in fields(view)}


def staff_way_back(request: Request, status: int) -> tuple[str, str]:
    """Back to the message (or case) a refused form or step was about (its approval sheet, say);
    to the dashboard when the page itself could not be shown (a missing message: nothing to go back to)."""
    found = STAFF_PAGE.match(request.url.path)
    if found and status != 404 and (request.method == "POST" or found.group(3)):
        return found.group(1), "Back to the message" if found.group(2) == "messages" else "Back to the case"
    return "/staff", "Back to your work"


def go(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def signed_in(request: Request) -> Principal:
    """The signed-in person; otherwise NotAuthenticated, which pages answer with the sign-in page."""
    principal = await current_principal(request)
    if principal is None:
        raise NotAuthenticated(i18n.N_("Please sign in."))
    return principal


T = TypeVar("T")


async def signed_in_and_run(request: Request, use_case: Callable[..., T], *args: Any,
                            **kwargs: Any) -> tuple[Principal, T]:
    """`signed_in`, then `run(request, use_case, ...)`, in one thread hop: under load a page waited
    for a thread and for the interpreter lock once per hop (the queue page under bench/load.py)."""
    def both() -> tuple[Principal, T]:
        principal = principal_here(request)
        if principal is None:
            raise NotAuthenticated(i18n.N_("Please sign in."))
        return principal, run_here(request, use_case, *args, **kwargs)

    return await run_in_threadpool(both)
