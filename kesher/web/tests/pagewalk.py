"""Every page of the site in a real browser, as the role table lists them: the walk that the page checks
(kesher/web/tests/test_page_quality.py) and `make screenshots` share.

The pages come from the role table (kesher/web/tests/test_role_table.py), so a page added to it later is
walked too. Each page is opened by every one of a few typical people the table lets in (someone not
signed in, a member, the brand's owner), or else by the first role it names, in Hebrew and in English.
Pages that take only POST, answer with something other than an HTML document, or need a real token in
their address are left out; the site's 404 page is walked once as such a page would show it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client
from django.urls import reverse

from kesher.api.tests.test_scope_table import _scene
from kesher.loyalty.models import Store
from kesher.web.tests import test_role_table as table

TOOLS = Path(settings.BASE_DIR) / "tools"
VNU = TOOLS / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE = TOOLS / "node_modules" / "axe-core" / "axe.min.js"
LANGUAGES = ("he", "en")
# Who opens a page, in this order, where the table lets them; a page none of them may open is opened by
# the first role of the table that may.
TYPICAL = (table.MEMBER, table.OWNER, table.ANONYMOUS)
NOT_FOUND = "not-found"  # the site's own 404 page, under a made-up address


def tools_install() -> None:
    """The checkers are npm packages pinned in tools/package-lock.json; install them when absent."""
    if VNU.exists() and AXE.exists():
        return
    subprocess.run(
        ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefix", str(TOOLS)],
        check=True,
        capture_output=True,
    )


@dataclass
class Visit:
    name: str  # the URL name in the role table
    role: str
    language: str
    url: str  # what was asked for
    final: str  # where the browser ended, after redirects
    status: int
    html: str


@dataclass
class Walk:
    visits: list[Visit] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def walked_pages() -> list[str]:
    """The role table's pages a browser can open by address with GET (tokens made up are 404s)."""
    return [name for name, rule in table.PAGES.items() if isinstance(rule, frozenset)]


def _roles_for(rule: frozenset[str]) -> list[str]:
    chosen = [role for role in TYPICAL if role in rule]
    return chosen or [next(role for role in table.ROLES if role in rule)]


def club(brand: Any, make_api: Callable[..., Any]) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
    """The role table's club: its people, the ids its addresses take, and a published article."""
    admin_api = make_api(brand, "all")
    scene = _scene(brand, admin_api)
    Store.objects.create(brand=brand, name="Dizengoff", code="dizengoff")
    article = admin_api.post(
        "/magazine/articles",
        {"title": "Our new roast", "body": "## Dark\n\nRoasted **slowly**.", "status": "published"},
        idem="article",
    ).body
    people = table._people(brand, scene.ids)
    return people, scene.ids, article


def _context(browser: Any, live_server: Any, person: Any, language: str, viewport: dict[str, int]) -> Any:
    context = browser.new_context(
        locale="he-IL" if language == "he" else "en-US",
        viewport=viewport,
        base_url=live_server.url,
        bypass_csp=True,  # axe is injected as a script of the page's own
    )
    host = live_server.url.split("://", 1)[1].split(":")[0]
    cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "domain": host, "path": "/"}]
    if person is not None:
        client = Client()
        client.force_login(person)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        cookies.append({"name": settings.SESSION_COOKIE_NAME, "value": session, "domain": host, "path": "/"})
    context.add_cookies(cookies)
    return context


def walk(
    browser: Any,
    live_server: Any,
    brand: Any,
    make_api: Callable[..., Any],
    viewport: dict[str, int],
    on_page: Callable[[Any, Visit], None],
) -> Walk:
    """Open every walked page as each of its people in both languages; call `on_page(page, visit)` for
    each HTML document opened (the browser's page is still on it). Pages that break are problems."""
    people, ids, article = club(brand, make_api)
    done = Walk()
    plan: dict[str, list[str]] = {}
    for name in walked_pages():
        rule = table.PAGES[name]
        assert isinstance(rule, frozenset)
        for role in _roles_for(rule):
            plan.setdefault(role, []).append(name)
    plan.setdefault(table.ANONYMOUS, []).append(NOT_FOUND)
    for role, names in plan.items():
        for language in LANGUAGES:
            context = _context(browser, live_server, people[role], language, viewport)
            page = context.new_page()
            page.set_default_timeout(15_000)
            seen: set[str] = set()
            for name in names:
                for visit in _open(page, name, role, language, brand, ids, article, done):
                    if visit.final in seen:  # a redirect to a page this person already opened
                        continue
                    if visit.final.split("?")[0] == visit.url.split("?")[0]:
                        seen.add(visit.final)  # a page reached by a redirect is opened again by its own name
                    done.visits.append(visit)
                    on_page(page, visit)
            context.close()
    return done


def _open(
    page: Any,
    name: str,
    role: str,
    language: str,
    brand: Any,
    ids: dict[str, str],
    article: dict[str, Any],
    done: Walk,
) -> Iterator[Visit]:
    if name == NOT_FOUND:
        url = "/no-such-page/"
    else:
        url = reverse(name, kwargs=table._kwargs(name, brand, ids, article))
    where = f"{role}, {language}: {name} {url}"
    # Asked first without the page: a form's target (405), a file, a JSON answer or a fragment of a page
    # (an HTML answer without its doctype) is not opened as a page.
    probe = page.request.get(url)
    expected = 404 if name == NOT_FOUND else 200
    if probe.status == 405:
        return
    if probe.status != expected:
        done.problems.append(f"{where}: answered {probe.status}")
        return
    if not probe.headers.get("content-type", "").startswith("text/html"):
        return
    if not probe.text().lstrip()[:15].lower().startswith("<!doctype html"):
        return
    response = page.goto(url)
    if response is None or response.status != expected:
        done.problems.append(f"{where}: answered {response.status if response else None} in the browser")
        return
    lang = page.evaluate("document.documentElement.lang")
    if lang != language:
        done.problems.append(f"{where}: the page is in {lang!r}")
    parts = urlsplit(page.url)
    final = parts.path + (f"?{parts.query}" if parts.query else "")
    yield Visit(name, role, language, url, final, response.status, response.text())


def vnu_errors(files: dict[Path, str]) -> list[str]:
    """Run the Nu HTML checker once over the saved documents; its errors, each named by the page."""
    import json

    done = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "json", "--exit-zero-always"]
        + [str(path) for path in files],
        capture_output=True,
        text=True,
        check=True,
    )
    messages = json.loads(done.stderr or done.stdout)["messages"]
    by_file = {str(path.resolve()): label for path, label in files.items()}
    found = []
    for message in messages:
        if message.get("type") != "error":
            continue
        where = message.get("url", "?")
        label = by_file.get(str(Path(where.removeprefix("file:")).resolve()), where)
        extract = " ".join(message.get("extract", "").split())[:120]
        found.append(f"{label} line {message.get('lastLine', '?')}: {message['message']} [{extract}]")
    return found


AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.slice(0, 3).map((n) => {
                    const data = (n.any[0] || {}).data;
                    const colours = data && data.fgColor ? ` ${data.fgColor} on ${data.bgColor}` : "";
                    return n.target.join(" ") + colours;
                  })}));
}"""


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page the browser shows."""
    page.add_script_tag(path=str(AXE))
    return list(page.evaluate(AXE_RUN))
