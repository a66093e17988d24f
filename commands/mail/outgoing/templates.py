"""The mail templates: Jinja2 in a sandbox, the shipped defaults beside this module, admins'
overrides (`domain.mail.templates`) in their place, every mail inside the common layout.

A template that does not compile or render (a syntax error, an unknown variable, a macro
that calls itself without end) is a `TemplateProblem` naming the part and the line; admins
see it (422) when they save or preview one, so a send never meets it. Unknown
variables are errors (`StrictUndefined`), and the sandbox refuses attribute access to
anything unsafe."""

from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from domain.errors import InvalidValueError
from domain.mail.outgoing import MailKind
from domain.mail.templates import LAYOUT, TEMPLATE_KINDS, UnknownTemplateError

HERE = Path(__file__).parent / "templates"
PARTS = ("subject", "html", "text")
LAYOUT_PARTS = ("html", "text")
SUFFIX = {"subject": "subject.j2", "html": "html.j2", "text": "txt.j2"}
MAX_TEMPLATE_CHARS = 100_000
MAX_RENDERED_CHARS = 2_000_000
ANONYMOUS = "<template>"
TOO_DEEP = "nested too deeply, or a macro that calls itself without end"
TOO_LARGE = "needs more memory than a mail may take"

# Mail about a person's access (no item, no message, no tag), by kind.
ACCESS_KINDS = frozenset(k.value for k in MailKind if k.about_an_account)


class TemplateProblem(InvalidValueError):
    """A template that does not compile or render: which part, which line, what."""

    def __init__(self, kind: str, part: str, line: int | None, message: str) -> None:
        where = f"{kind}.{part}" + (f", line {line}" if line else "")
        super().__init__(part, f"{where}: {message}")
        self.kind = kind
        self.part = part
        self.line = line
        self.detail_message = message


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str


def parts_of(kind: str) -> tuple[str, ...]:
    if kind not in TEMPLATE_KINDS:
        raise UnknownTemplateError(kind)
    return LAYOUT_PARTS if kind == LAYOUT else PARTS


@cache
def default(kind: str) -> dict[str, str]:
    """The shipped templates of `kind`."""
    return {part: (HERE / f"{kind}.{SUFFIX[part]}").read_text() for part in parts_of(kind)}


# Calls (macros among them) a template may have open at once: a macro that calls itself
# stops here, long before Python's own recursion limit, whose RecursionError would also
# surface in the finalisers of the render's generators as "Exception ignored" noise.
MAX_CALL_DEPTH = 60
MAX_EXPONENT = 1_000
# How many numbers a render's `range`s may yield in all.
MAX_RANGE_ITEMS = 100_000
TOO_LONG = "loops over more than 100,000 numbers in all"


class _DepthLimitedSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, counting the calls each thread's render has open."""

    # `'x' * 10**9` or `9 ** 10**9` would take the memory and time of their result before
    # any length is checked: refused up front.
    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.open_calls = threading.local()
        # `range` charges what it yields to the render's budget: nested loops over ranges
        # cannot run for minutes (`_render` resets it).
        self.globals["range"] = self._budgeted_range

    def _budgeted_range(self, *args: int) -> range:
        numbers = range(*args)
        left = getattr(self.open_calls, "budget", MAX_RANGE_ITEMS) - len(numbers)
        if left < 0:
            raise OverflowError(TOO_LONG)
        self.open_calls.budget = left
        return numbers

    def reset_budget(self) -> None:
        self.open_calls.budget = MAX_RANGE_ITEMS

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if _too_large(operator, left, right):
            raise OverflowError(TOO_LARGE)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        depth = getattr(__self.open_calls, "depth", 0)
        if depth >= MAX_CALL_DEPTH:
            raise RecursionError(TOO_DEEP)
        __self.open_calls.depth = depth + 1
        try:
            return super().call(__context, __obj, *args, **kwargs)
        finally:
            __self.open_calls.depth = depth


def _too_large(operator: str, left: Any, right: Any) -> bool:
    """Whether `left operator right` would be larger than any mail may be."""
    if operator == "**":
        ints = isinstance(left, int) and isinstance(right, int)
        return ints and abs(left) > 1 and right > MAX_EXPONENT
    return any(
        isinstance(many, (str, list, tuple))
        and isinstance(times, int)
        and len(many) * times > MAX_RENDERED_CHARS
        for many, times in ((left, right), (right, left))
    )


@cache
def _environment(autoescape: bool) -> _DepthLimitedSandbox:
    return _DepthLimitedSandbox(autoescape=autoescape, undefined=StrictUndefined)


def _render(kind: str, part: str, source: str, context: dict[str, Any]) -> str:
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateProblem(kind, part, None, f"longer than {MAX_TEMPLATE_CHARS} characters")
    env = _environment(part == "html")
    env.reset_budget()
    try:
        rendered = env.from_string(source).render(context)
        if len(rendered) > MAX_RENDERED_CHARS:
            raise TemplateProblem(
                kind, part, None, f"renders to over {MAX_RENDERED_CHARS} characters"
            )
        return rendered
    except TemplateSyntaxError as broken:
        raise TemplateProblem(kind, part, broken.lineno, broken.message or "syntax error") from None
    except RecursionError as failed:  # `{% macro m() %}{{ m() }}{% endmacro %}`, say.
        raise TemplateProblem(kind, part, _line(failed), TOO_DEEP) from None
    except MemoryError as failed:  # One allocation too large (`'a' * 10**11`), undone.
        raise TemplateProblem(kind, part, _line(failed), TOO_LARGE) from None
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as failed:
        raise TemplateProblem(
            kind, part, _line(failed), str(failed) or type(failed).__name__
        ) from None


def render_text(what: str, source: str, context: dict[str, Any]) -> str:
    """One text template (`what` names it) in the sandbox, with the same limits as mail's;
    a TemplateProblem when it does not compile or render."""
    return _render(what, "text", source, context)


def _line(error: BaseException) -> int | None:
    """The template line a render error happened on (Jinja maps its frames to lines)."""
    lines = [f.lineno for f in traceback.extract_tb(error.__traceback__) if f.filename == ANONYMOUS]
    return lines[-1] if lines else None


def check(kind: str, parts: dict[str, str], context: dict[str, Any]) -> dict[str, str]:
    """`parts` exactly as a kind needs them, each compiling and rendering with `context`."""
    wanted = parts_of(kind)
    missing = [p for p in wanted if not isinstance(parts.get(p), str)]
    if missing:
        raise InvalidValueError(missing[0], f"{kind} needs {', '.join(wanted)}")
    checked = {p: parts[p] for p in wanted}
    for shape in shapes(kind, context):
        if kind == LAYOUT:
            shape = {**shape, "body": Markup("<p>Body</p>"), "subject": "Subject"}
        for part in wanted:
            _render(kind, part, checked[part], shape)
    return checked


def shapes(kind: str, context: dict[str, Any]) -> list[dict[str, Any]]:
    """Every shape real data of `kind` takes: with and without attachments, and without a
    message for kinds that are not about one (the layout frames every kind)."""
    bare = {**context, "attachments": []}
    if kind in ACCESS_KINDS or kind in (MailKind.NOTIFICATION, MailKind.REPORT):
        return [context]
    if kind in (MailKind.ACKNOWLEDGEMENT, MailKind.ASSIGNMENT, MailKind.AUTOMATION):
        return [{**bare, "message": None}]
    if kind == LAYOUT:
        return [context, {**bare, "message": None}]
    return [context, bare]


def render(
    kind: str,
    context: dict[str, Any],
    own: dict[str, str] | None,
    layout: dict[str, str] | None,
) -> Rendered:
    """Mail of `kind`: its own templates (`own`, or the defaults), then the layout's around
    the HTML and text bodies. The subject is one line and always carries the item's tag."""
    templates = own or default(kind)
    frame = layout or default(LAYOUT)
    subject = " ".join(_render(kind, "subject", templates["subject"], context).split())[:900]
    tag = context.get("tag", "")
    if tag and tag not in subject:
        subject = f"{subject} {tag}".strip()
    html_body = _render(kind, "html", templates["html"], context)
    text_body = _render(kind, "text", templates["text"], context)
    framed = {**context, "subject": subject}
    # The kind's HTML was rendered with autoescaping: it is markup already.
    body = Markup(html_body)  # noqa: S704
    html = _render(LAYOUT, "html", frame["html"], {**framed, "body": body})
    text = _render(LAYOUT, "text", frame["text"], {**framed, "body": text_body})
    return Rendered(subject, html, text.strip() + "\n")


def sample_context(kind: str, company: dict[str, Any]) -> dict[str, Any]:
    """Made-up data to preview and check a template of `kind` with."""
    context: dict[str, Any] = {
        "company": company,
        "item": {
            "number": 1042,
            "title": "The printer on floor 2 is on fire",
            "kind": "ticket",
            "status": "Open",
            "url": "http://ledgerdesk.example/items/1042",
        },
        "tag": "[#1042]",
        "recipient": {"name": "Ada Lovelace", "address": "ada@customer.example"},
        "message": {
            "body": "We have put it out.\nA new one arrives on Monday.",
            "author_name": "Grace Hopper",
            "internal": kind == "staff_message",
        },
        "attachments": [
            {"name": "invoice.pdf", "size_text": "48 KB", "link": None},
            {"name": "photos.zip", "size_text": "31 MB", "link": "http://ledgerdesk.example/a/1"},
        ],
        "assigned_by": "Grace Hopper",
        "automation": {
            "subject": "We have your request",
            "body": "Thank you: we answer within the hour.",
        },
    }
    if kind == MailKind.NOTIFICATION:
        # A staff member's notification: what it says, and where to open it.
        return {
            "company": company,
            "recipient": {"name": "Grace Hopper", "address": "grace@ledgerdesk.example"},
            "notice": {
                "headline": 'A customer replied on ticket #1042, "The printer is on fire"',
                "excerpt": "It is smoking again.",
                "url": "http://ledgerdesk.example/api/v1/tickets/1042",
            },
            "tag": "",
        }
    if kind == MailKind.REPORT:
        # A scheduled report: what it is, the days it covers, its file (attached).
        return {
            "company": company,
            "recipient": {"name": "", "address": "ada@customer.example"},
            "report": {
                "name": "Tickets last month",
                "title": "Tickets last month",
                "days": {"from": "2026-11-01", "to": "2026-11-30"},
                "period": "week",
                "group_by": "priority",
                "file": "tickets-2026-11-01-2026-11-30.pdf",
                "owner": "Grace Hopper",
            },
            "tag": "",
        }
    if kind in ACCESS_KINDS:
        # About access to the portal, not an item: no item, no message, no tag.
        return {
            "company": company,
            "recipient": context["recipient"],
            "link": "http://ledgerdesk.example/portal/sign-in/ldp_0c3e6a9b_4Bsm5IxN",
            "expires_at": "2026-12-04 18:15 UTC",
            "tag": "",
        }
    return context
