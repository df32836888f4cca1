"""`make screenshots`: every page of the walk (kesher/web/tests/pagewalk.py) photographed into
docs/screenshots/, in Hebrew and in English, at desktop and phone width, with an index page.

Not collected by the test run (its name is not test_*): `make screenshots` runs it by path. Each page is
shot once, as the first of its typical people who sees it without being sent elsewhere; the PNGs are
reduced to a 64-colour palette so that the folder stays small enough to commit.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from PIL import Image

from kesher.web.tests import pagewalk
from kesher.web.tests.test_browser import DESKTOP, PHONE, browser  # noqa: F401

pytestmark = pytest.mark.browser

FOLDER = Path(settings.BASE_DIR) / "docs" / "screenshots"
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}


def _small(path: Path) -> None:
    with Image.open(path) as image:
        reduced = image.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    reduced.save(path, optimize=True)


def test_shoot_every_page(browser, live_server, transactional_db, brand, make_api):  # noqa: F811
    FOLDER.mkdir(parents=True, exist_ok=True)
    for old in [*FOLDER.glob("*-desktop.png"), *FOLDER.glob("*-phone.png")]:  # not the README's portal-*.png
        old.unlink()
    shot: dict[tuple[str, str], list[str]] = {}

    def shoot(page: Any, visit: pagewalk.Visit) -> None:
        if visit.final.split("?")[0] != visit.url.split("?")[0] or (visit.name, visit.language) in shot:
            return
        stem = re.sub(r"[^a-z0-9]+", "-", visit.name.lower()).strip("-")
        files = []
        for width, viewport in WIDTHS.items():
            page.set_viewport_size(viewport)
            path = FOLDER / f"{stem}-{visit.language}-{width}.png"
            page.screenshot(path=str(path), full_page=True)
            _small(path)
            files.append(path.name)
        page.set_viewport_size(DESKTOP)
        shot[(visit.name, visit.language)] = [visit.role, visit.url, *files]

    walk = pagewalk.walk(browser, live_server, brand, make_api, DESKTOP, shoot)
    assert walk.problems == [], "\n".join(walk.problems)
    lines = [
        "# Screenshots of every page",
        "",
        "Made by `make screenshots` from the page list of the role table (kesher/web/tests/pagewalk.py),",
        "in Hebrew and English, at desktop (1280 px) and phone (390 px) width. Do not edit by hand.",
        "",
        "| page | seen as | Hebrew | English |",
        "| --- | --- | --- | --- |",
    ]
    for name in dict.fromkeys(name for name, _ in shot):
        he, en = shot.get((name, "he")), shot.get((name, "en"))
        cells = [
            " · ".join(f"[{f.rsplit('-', 1)[1].removesuffix('.png')}]({f})" for f in entry[2:])
            if entry
            else "—"
            for entry in (he, en)
        ]
        role, url = (he or en or ["", ""])[:2]
        lines.append(f"| `{name}` {url} | {role} | {cells[0]} | {cells[1]} |")
    (FOLDER / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert len(shot) >= 40
