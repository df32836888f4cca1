"""Rendering a campaign for one member: a sandboxed template over plain values, then the legal frame.

The template engine knows only the tags and filters in template_library and sees only a dict of strings
and numbers built here (never a model), so a template cannot reach the database, files or settings.
The body is text: the email's HTML is made from it (paragraphs, escaped, links tracked), so a member's
name can never inject markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.base import VariableNode
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
    block = content.block_for(context.get("interests") or [])
    values = dict(context)
    values["block"] = block.template.render(Context(values, autoescape=False)).strip() if block else ""
    ctx = Context(values, autoescape=False)
    subject = " ".join(content.subject.render(ctx).split())
    body = content.body.render(ctx).strip()
    return Rendered(subject=subject, body=body)


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
