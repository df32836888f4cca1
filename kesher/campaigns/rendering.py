"""Rendering a campaign for one member: a sandboxed template over plain values, then the legal frame.

The template engine knows only the tags and filters in template_library and sees only a dict of strings
and numbers built here (never a model), so a template cannot reach the database, files or settings.
The body is text: the email's HTML is made from it (paragraphs, escaped, links tracked), so a member's
name can never inject markup.

A render is bounded per message (settings KESHER_CAMPAIGN_RENDER_MAX_LOOPS, _MAX_CHARS, _MAX_MS): loop
iterations over all its parts, characters per part, and time. Every loop-free piece of a compiled
template is wrapped so its output is counted as it is made, and every loop body counts its iterations,
so a hostile template stops at the bound instead of first building megabytes.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

from django.conf import settings
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.base import Node, NodeList, VariableNode
from django.template.defaulttags import ForNode, WithNode
from django.utils import translation
from django.utils.translation import gettext

from kesher.campaigns.models import ADVERTISING_MARK
from kesher.core.errors import ValidationFailed

MAX_TEMPLATE_CHARS = 20_000
# What a template may name. `block` is the content block chosen by the member's interests.
CONTEXT_NAMES = frozenset(
    {
        "first_name",
        "last_name",
        "full_name",
        "brand",
        "points",
        "points_expiring",
        "interests",
        "block",
        "card_number",
        "locale",
        "coupon",
        "forward_url",
    }
)
URL_PATTERN = re.compile(r"https?://[^\s<>\"']+")
TRAILING_PUNCTUATION = ".,;:!?)]}'\""


class SandboxEngine(Engine):
    # Replaces Django's defaults, so no load, url, include, extends or debug.
    default_builtins: list[str] = []


ENGINE = SandboxEngine(
    dirs=[],
    app_dirs=False,
    loaders=[("django.template.loaders.locmem.Loader", {})],
    builtins=["kesher.campaigns.template_library"],
    libraries={},
    autoescape=False,
    string_if_invalid="",
)


class RenderRefused(ValidationFailed):
    """A message's render went past a bound: too many loop iterations, too long, or too slow."""

    code = "render_limit"


@dataclass
class RenderBudget:
    """What one message's render may still spend; `field` names the part being rendered."""

    loops_left: int
    chars_left: int
    deadline: float
    field: str = "body"

    @classmethod
    def start(cls) -> RenderBudget:
        return cls(
            loops_left=settings.KESHER_CAMPAIGN_RENDER_MAX_LOOPS,
            chars_left=settings.KESHER_CAMPAIGN_RENDER_MAX_CHARS,
            deadline=time.monotonic() + settings.KESHER_CAMPAIGN_RENDER_MAX_MS / 1000,
        )

    def part(self, field: str) -> None:
        """The next part (subject, body, a block): characters are counted per part."""
        self.field = field
        self.chars_left = settings.KESHER_CAMPAIGN_RENDER_MAX_CHARS

    def charge(self, *, loops: int = 0, chars: int = 0) -> None:
        self.loops_left -= loops
        self.chars_left -= chars
        if self.loops_left < 0:
            limit = settings.KESHER_CAMPAIGN_RENDER_MAX_LOOPS
            raise RenderRefused(
                f"{self.field}: the template repeats more than {limit} times for one member", field=self.field
            )
        if self.chars_left < 0:
            limit = settings.KESHER_CAMPAIGN_RENDER_MAX_CHARS
            raise RenderRefused(
                f"{self.field}: the message would be longer than {limit} characters", field=self.field
            )
        if time.monotonic() > self.deadline:
            limit = settings.KESHER_CAMPAIGN_RENDER_MAX_MS
            raise RenderRefused(
                f"{self.field}: the template takes longer than {limit} ms to render for one member",
                field=self.field,
            )


_BUDGET: ContextVar[RenderBudget | None] = ContextVar("campaign_render_budget", default=None)


class _CountedOutput(Node):
    """A loop-free piece of a template whose output is charged to the render's budget as it is made."""

    child_nodelists = ()

    def __init__(self, inner: Node) -> None:
        self.inner = inner
        self.token = inner.token
        self.origin = inner.origin

    def render_annotated(self, context: Context) -> str:
        output = str(self.inner.render_annotated(context))
        budget = _BUDGET.get()
        if budget is not None:
            budget.charge(chars=len(output))
        return output

    def render(self, context: Context) -> str:
        return self.render_annotated(context)

    def get_nodes_by_type(self, nodetype: Any) -> list[Any]:
        return self.inner.get_nodes_by_type(nodetype)


class _CountedLoop(NodeList):
    """A loop's body: each pass over it (one iteration, as ForNode renders) is charged to the budget."""

    def __iter__(self) -> Any:
        budget = _BUDGET.get()
        if budget is not None:
            budget.charge(loops=1)
        return super().__iter__()


def _bound(nodelist: NodeList | list[Node]) -> None:
    for index, node in enumerate(nodelist):
        if isinstance(node, _CountedOutput):
            continue
        if not node.get_nodes_by_type(ForNode):
            nodelist[index] = _CountedOutput(node)
            continue
        if isinstance(node, ForNode):
            body = cast(NodeList, node.nodelist_loop)
            loop = _CountedLoop(body)
            loop.contains_nontext = body.contains_nontext
            node.nodelist_loop = loop
        conditions = getattr(node, "conditions_nodelists", None)  # an {% if %}: its branches
        if conditions is not None:
            for _condition, branch in conditions:
                _bound(branch)
            continue
        for name in node.child_nodelists:
            child = getattr(node, name, None)
            if child is not None:
                _bound(child)


def template_compile(source: str, *, field: str = "body") -> Template:
    """Compile a campaign template or refuse it with a 422 naming the mistake."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise ValidationFailed(f"{field} is longer than {MAX_TEMPLATE_CHARS} characters", field=field)
    try:
        template = ENGINE.from_string(source)
    except TemplateSyntaxError as exc:
        raise ValidationFailed(f"{field}: {exc}", field=field) from None
    unknown = sorted(template_names(template) - CONTEXT_NAMES)
    if unknown:
        known = ", ".join(sorted(CONTEXT_NAMES))
        raise ValidationFailed(f"{field}: unknown name {unknown[0]!r}; a message knows {known}", field=field)
    _bound(template.nodelist)
    return template


def template_names(template: Template) -> set[str]:
    """The context names a template reads (loop and `with` variables excepted)."""
    local: set[str] = {"forloop"}
    for loop in template.nodelist.get_nodes_by_type(ForNode):
        local.update(getattr(loop, "loopvars", []))
    for with_node in template.nodelist.get_nodes_by_type(WithNode):
        local.update(getattr(with_node, "extra_context", {}))
    names: set[str] = set()
    for node in template.nodelist.get_nodes_by_type(VariableNode):
        var = getattr(node, "filter_expression").var  # noqa: B009  (Node's stub lacks it)
        lookups = getattr(var, "lookups", None)
        if lookups:
            names.add(lookups[0])
    return names - local


def names_used(*sources: str) -> set[str]:
    """Which context names any of these sources mention: cheap, and enough to skip unneeded lookups."""
    words: set[str] = set()
    for source in sources:
        words.update(re.findall(r"[A-Za-z_]+", source))
    return words & CONTEXT_NAMES


@lru_cache(maxsize=8)
def fallback_first_name(locale: str) -> str:
    """What a message calls a member whose first name we do not know: every message carries a name."""
    with translation.override(locale):
        return gettext("club member")


class CouponValue(str):
    """{{ coupon }} is the code; {{ coupon.code }} and {{ coupon.expires_at }} read its parts."""

    code: str
    expires_at: Any

    def __new__(cls, code: str, expires_at: Any = None) -> CouponValue:
        value = super().__new__(cls, code)
        value.code = code
        value.expires_at = expires_at
        return value


@dataclass(frozen=True)
class Block:
    interests: frozenset[str]
    template: Template


@dataclass
class CompiledContent:
    subject: Template
    body: Template
    blocks: list[Block] = field(default_factory=list)

    def block_for(self, interests: Iterable[str]) -> Block | None:
        """The first block about one of the member's interests, else the first block for everyone."""
        mine = set(interests)
        fallback = None
        for block in self.blocks:
            if block.interests & mine:
                return block
            if not block.interests and fallback is None:
                fallback = block
        return fallback


def content_compile(subject: str, body: str, blocks: list[dict[str, Any]]) -> CompiledContent:
    compiled_blocks = []
    for index, raw in enumerate(blocks):
        compiled_blocks.append(
            Block(
                interests=frozenset(str(tag).strip().lower() for tag in raw.get("interests") or []),
                template=template_compile(str(raw.get("text", "")), field=f"blocks.{index}.text"),
            )
        )
    return CompiledContent(
        subject=template_compile(subject, field="subject"),
        body=template_compile(body, field="body"),
        blocks=compiled_blocks,
    )


def member_context(
    *,
    first_name: str,
    last_name: str,
    locale: str,
    brand: str,
    interests: list[str],
    points: int = 0,
    points_expiring: int = 0,
    card_number: str = "",
    coupon: CouponValue | None = None,
    forward_url: str = "",
) -> dict[str, Any]:
    first = first_name.strip() or fallback_first_name(locale)
    return {
        "first_name": first,
        "last_name": last_name,
        "full_name": f"{first} {last_name}".strip(),
        "brand": brand,
        "points": points,
        "points_expiring": points_expiring,
        "interests": list(interests),
        "card_number": card_number,
        "locale": locale,
        "coupon": coupon if coupon is not None else CouponValue(""),
        "forward_url": forward_url,
    }


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def content_render(content: CompiledContent, context: dict[str, Any]) -> Rendered:
    """The member's subject and body; RenderRefused (a 422 naming the part) past a bound of the render."""
    budget = RenderBudget.start()
    started = _BUDGET.set(budget)
    try:
        block = content.block_for(context.get("interests") or [])
        values = dict(context)
        values["block"] = ""
        if block is not None:
            budget.part(f"blocks.{content.blocks.index(block)}.text")
            values["block"] = block.template.render(Context(values, autoescape=False)).strip()
        ctx = Context(values, autoescape=False)
        budget.part("subject")
        subject = " ".join(content.subject.render(ctx).split())
        budget.part("body")
        body = content.body.render(ctx).strip()
    finally:
        _BUDGET.reset(started)
    return Rendered(subject=subject, body=body)


def longest_member_context(*, locale: str) -> dict[str, Any]:
    """A member with every field as long as it can be, to try a template against at save time: a template
    that stays within the bounds for this member stays within them for every member of usual size."""
    return member_context(
        first_name="א" * 100,
        last_name="א" * 100,
        locale=locale,
        brand="א" * 200,
        interests=[f"{index:02d}" + "א" * 48 for index in range(20)],
        points=2_147_483_647,
        points_expiring=2_147_483_647,
        card_number="9" * 16,
        coupon=CouponValue("X" * 32, expires_at=None),
        forward_url="https://club.example.org/c/f/" + "x" * 120,
    )


def content_check(content: CompiledContent, *, locale: str) -> None:
    """Refuse at save time (RenderRefused, naming the part) a template that renders past the bounds for the
    longest member; each content block is tried in turn."""
    context = longest_member_context(locale=locale)
    content_render(CompiledContent(content.subject, content.body), context)
    for block in content.blocks:
        interests = sorted(block.interests)[:1] or context["interests"]
        content_render(
            CompiledContent(content.subject, content.body, [block]), {**context, "interests": interests}
        )


# --- the legal frame ---------------------------------------------------------------------------------


def subject_frame(subject: str, *, advertising: bool) -> str:
    """An advertisement's subject starts with the word the law asks for."""
    if advertising and not subject.startswith(ADVERTISING_MARK):
        return f"{ADVERTISING_MARK}: {subject}" if subject else ADVERTISING_MARK
    return subject


def sms_frame(body: str, *, advertising: bool, sender: str, opt_out_word: str, locale: str) -> str:
    """An advertisement SMS: the mark first, the sender named, and the reply word that refuses more."""
    with translation.override(locale):
        if advertising:
            refusal = gettext("%(sender)s. To stop, reply %(word)s") % {
                "sender": sender,
                "word": opt_out_word,
            }
            return f"{ADVERTISING_MARK}: {body}\n{refusal}"
        return f"{sender}: {body}"


def links_in(text: str) -> list[str]:
    """The links in a rendered body, in order; their index is what a tracked link carries."""
    found = []
    for match in URL_PATTERN.finditer(text):
        found.append(match.group(0).rstrip(TRAILING_PUNCTUATION))
    return found


def links_replace(text: str, replace: Callable[[int, str], str]) -> str:
    """Swap every link for replace(index, url), leaving trailing punctuation where it was."""
    out: list[str] = []
    position = 0
    for index, match in enumerate(URL_PATTERN.finditer(text)):
        url = match.group(0).rstrip(TRAILING_PUNCTUATION)
        out.append(text[position : match.start()])
        out.append(replace(index, url))
        position = match.start() + len(url)
    out.append(text[position:])
    return "".join(out)


def body_html(text: str, link: Callable[[int, str], str]) -> str:
    """Paragraphs from blank lines, line breaks kept, everything escaped, links tracked."""
    paragraphs = [part for part in re.split(r"\n\s*\n", text) if part.strip()]
    counter = 0
    rendered = []
    for paragraph in paragraphs:
        pieces: list[str] = []
        position = 0
        for match in URL_PATTERN.finditer(paragraph):
            url = match.group(0).rstrip(TRAILING_PUNCTUATION)
            pieces.append(html.escape(paragraph[position : match.start()]))
            pieces.append(f'<a href="{html.escape(link(counter, url))}">{html.escape(url)}</a>')
            counter += 1
            position = match.start() + len(url)
        pieces.append(html.escape(paragraph[position:]))
        rendered.append("<p>" + "".join(pieces).strip().replace("\n", "<br>\n") + "</p>")
    return "\n".join(rendered)


def sms_segments(text: str) -> int:
    """How many SMS parts a text takes: GSM-7 for plain Latin text, UCS-2 (70 a part) for Hebrew."""
    gsm = all(ord(char) < 128 for char in text)
    single, multi = (160, 153) if gsm else (70, 67)
    if len(text) <= single:
        return 1
    return -(-len(text) // multi)
