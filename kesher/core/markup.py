"""Markdown bodies to safe HTML: rendered by `markdown`, then sanitised by nh3 (an allow-list)."""

from __future__ import annotations

import html as html_lib
import re

import markdown as markdown_lib
import nh3

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}
LINK = re.compile(r"(https?://|www\.)\S+", re.IGNORECASE)
MAX_BODY = 30_000


def render_markdown(source: str) -> str:
    """Markdown to HTML that is safe to show: no scripts, no event handlers, links marked nofollow."""
    html = markdown_lib.markdown(source, extensions=["fenced_code", "tables", "sane_lists"])
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow ugc noopener",
    )


def plain_text(html: str) -> str:
    """The words of rendered HTML, for snippets and search."""
    return html_lib.unescape(re.sub(r"\s+", " ", nh3.clean(html, tags=set())).strip())


def count_links(source: str) -> int:
    return len(LINK.findall(source))
