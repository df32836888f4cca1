"""Every page of the portal, community, magazine, cashier and console, in Hebrew and in English, passes
the W3C's Nu HTML checker with no errors and axe-core with no serious or critical violation.

The pages are the role table's (see kesher/web/tests/pagewalk.py); the checkers are the npm packages
pinned in tools/ (`make tools`). The HTML each page was served is saved and checked in one run of the
checker; axe-core is injected into each page as the browser shows it.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from kesher.web.tests import pagewalk
from kesher.web.tests.test_browser import DESKTOP, browser  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def tools() -> None:
    for program in ("java", "npm"):
        if shutil.which(program) is None:
            if os.environ.get("CI"):  # the CI machine has both: there a missing checker is a failure
                pytest.fail(f"{program} is not installed")
            pytest.skip(f"{program} is not installed")
    pagewalk.tools_install()


def test_every_page_passes_the_html_checker_and_axe_in_both_languages(
    tools,
    browser,  # noqa: F811
    live_server,
    transactional_db,
    brand,
    make_api,
    tmp_path,
):
    saved: dict[Path, str] = {}
    violations: list[str] = []

    def check(page: Any, visit: pagewalk.Visit) -> None:
        label = f"{visit.name} ({visit.role}, {visit.language}) {visit.final}"
        path = tmp_path / f"{len(saved):03d}-{re.sub(r'[^a-z0-9]+', '-', visit.name)}-{visit.language}.html"
        path.write_text(visit.html, encoding="utf-8")
        saved[path] = label
        for found in pagewalk.axe_violations(page):
            violations.append(
                f"{label}: {found['impact']} {found['id']} ({found['help']}) at {found['nodes']}"
            )

    walk = pagewalk.walk(browser, live_server, brand, make_api, DESKTOP, check)
    assert walk.problems == [], "\n".join(walk.problems)
    # The walk reached the areas it is meant to cover, each in both languages.
    for area in ("/portal/", "/cashier/", "/community/cafe/q/", "/magazine/cafe/", "/console/cafe/members/"):
        for language in ("he", "en"):
            assert any(v.final.startswith(area) and v.language == language for v in walk.visits), area
    assert {visit.language for visit in walk.visits} == {"he", "en"}
    errors = pagewalk.vnu_errors(saved)
    assert errors == [], f"{len(errors)} HTML errors:\n" + "\n".join(errors)
    assert violations == [], f"{len(violations)} axe violations:\n" + "\n".join(violations)
