"""Every state group and the words for every state live in shuttle/messages/states.py (issue 9,
point 3): pages and templates use them and never spell a message state as a string, so adding a
state touches states.py, not six files.

What counts as "naming a state": comparing with a quoted state value (`== "viewed"`,
`in ("submitted", "processing")`) in a template or a page module, or a page's table keyed by
state strings. Dictionary keys that happen to be words like "draft" or "held" (a view's fields)
are not states and are not flagged.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from shuttle.messages import states
from shuttle.messages.states import AUTHOR_STEP, AUTHOR_WORDS, State, describe

WEB = Path(__file__).resolve().parent.parent / "shuttle" / "web"
VALUES = sorted(s.value for s in State)
_QUOTED = r"""(?:"(?:{0})"|'(?:{0})')""".format("|".join(VALUES))
#: `== "x"`, `"x" ==`, `!= "x"`, `in ("x", ...)` / `in ["x"]` inside a Jinja tag or expression.
_TEMPLATE_COMPARE = re.compile(
    rf"""(?:==|!=)\s*{_QUOTED}|{_QUOTED}\s*(?:==|!=)|\bin\s*[(\[][^)\]]*{_QUOTED}"""
)
_JINJA = re.compile(r"{%.*?%}|{{.*?}}", re.S)


def template_findings(text: str) -> list[str]:
    return [m.group(0)[:80] for m in _JINJA.finditer(text) if _TEMPLATE_COMPARE.search(m.group(0))]


def _state_strings(node: ast.AST) -> list[str]:
    items = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
    return [i.value for i in items if isinstance(i, ast.Constant) and i.value in VALUES]


def page_findings(source: str) -> list[str]:
    """A state (anything named `state` or `held_from`) compared with a state string, or a table
    keyed by three or more state strings. (`done == "withdrawn"`, a confirmation's key, is not.)"""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and re.search(r"state|held_from", ast.unparse(node), re.I):
            for operand in [node.left, *node.comparators]:
                found += [f"line {node.lineno}: {value!r}" for value in _state_strings(operand)]
        elif isinstance(node, ast.Dict):
            keyed = [k.value for k in node.keys if isinstance(k, ast.Constant) and k.value in VALUES]
            if len(keyed) >= 3:
                found.append(f"line {node.lineno}: a table keyed by states {keyed[:3]}...")
    return found


@pytest.mark.parametrize("path", sorted((WEB / "templates").rglob("*.html")), ids=lambda p: p.name)
def test_no_template_names_a_state(path: Path) -> None:
    assert template_findings(path.read_text(encoding="utf-8")) == [], \
        f"{path.relative_to(WEB)}: use State.X or a group from states.py (e.g. `m.state in PREPARING`)"


@pytest.mark.parametrize("path", sorted((WEB / "pages").rglob("*.py")), ids=lambda p: p.name)
def test_no_page_names_a_state(path: Path) -> None:
    assert page_findings(path.read_text(encoding="utf-8")) == [], \
        f"{path.relative_to(WEB)}: use State.X or a group from states.py"


def test_the_scanners_see_what_they_look_for() -> None:
    assert template_findings('{% if m.state in ("submitted", "processing") %}')
    assert template_findings("{% if m.state == 'viewed' %}") and template_findings('{{ "held" == x }}')
    assert not template_findings('{% if m.state in PREPARING %}{{ m["draft"] }}{% if s == "overdue" %}')
    assert page_findings('if view["state"] != "changes_requested": pass')
    assert page_findings('x = state in ("released", "viewed")')
    assert page_findings('T = {"draft": 0, "submitted": 1, "viewed": 4}')
    assert not page_findings('m["held"] = True\nDONE = {"withdrawn": "You withdrew it."}')
    assert not page_findings('shown = request.query_params.get("done") == "withdrawn"')


def test_every_state_has_its_words_and_the_groups_are_states() -> None:
    assert set(AUTHOR_WORDS) == set(State)
    assert all(describe(s) for s in State)
    assert set(AUTHOR_STEP) <= set(State)
    for name, group in states.TEMPLATE_NAMES.items():
        if name != "State":
            assert isinstance(group, frozenset) and group <= set(State), name
