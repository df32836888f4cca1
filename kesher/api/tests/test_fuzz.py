"""Schemathesis over every operation of the OpenAPI document, against the real server (`kesher run`, granian)
on PostgreSQL, with every check on and real ids: no answer is a server error or strays from the document.

KESHER_FUZZ_EXAMPLES sets the examples per operation (10 here; the nightly run in docs/api.md uses more)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from kesher.brands.services import api_key_create, brand_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

EXAMPLES = int(os.environ.get("KESHER_FUZZ_EXAMPLES", "10"))


def _call(url: str, key: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        url + "/api/v1" + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read() or b"null")


def _real_ids(url: str, key: str) -> dict[str, str]:
    """One of each thing a path names, made through the API, so that fuzzed calls reach real rows."""
    post = lambda path, body: _call(url, key, "POST", path, body)  # noqa: E731
    member = post("/members", {"external_id": "fuzz-1", "email": "dana@example.org", "first_name": "Dana"})
    post(f"/members/{member['id']}/consents", {"channel": "email", "granted": True, "source": "api"})
    referred = post("/members", {"external_id": "fuzz-2", "referral_code": member["referral_code"]})
    erased = post("/members", {"external_id": "fuzz-erase"})
    post("/activities", {"member_id": member["id"], "type": "purchase", "attributes": {"amount": "500"}})
    post(f"/members/{member['id']}/points/adjust", {"points": 500, "reason": "fuzz"})
    reward = post("/rewards", {"name": "Coffee", "cost_points": 10, "kind": "free_item"})
    rule = post("/earning-rules", {"name": "Visit", "activity_type": "visit", "effect": "fixed", "points": 5})
    post("/tiers", {"name": "Gold", "threshold": "1000"})
    coupon = post("/redemptions", {"member_id": member["id"], "reward_id": reward["id"]})
    segment = post("/campaigns/segments", {"name": "All", "rules": {}})
    campaign = post(
        "/campaigns",
        {
            "name": "Hello",
            "channel": "email",
            "subject": "Hi",
            "body": "Hi {{ first_name }}",
            "advertising": False,
        },
    )
    journey = post("/campaigns/journeys/install", {"kind": "welcome"})
    question = post(
        "/community/questions", {"member_id": member["id"], "title": "Opening hours?", "body": "When?"}
    )
    answer = post(
        f"/community/questions/{question['id']}/answers", {"member_id": referred["id"], "body": "9-5"}
    )
    referrals = _call(url, key, "GET", "/referrals")
    return {
        "member_id": member["id"],
        "erase_member_id": erased["id"],
        "external_id": member["external_id"],
        "reward_id": reward["id"],
        "rule_id": rule["id"],
        "code": coupon["code"],
        "segment_id": segment["id"],
        "campaign_id": campaign["id"],
        "journey_id": journey["id"],
        "question_id": question["id"],
        "post_id": question["id"],
        "answer_id": answer["id"],
        "referral_id": referrals[0]["id"],
        "slug": "general",
        "event": "answer_accepted",
        "email": "dana@example.org",
    }


def _config(ids: dict[str, str]) -> str:
    erase = ids.pop("erase_member_id")
    lines = [
        # A request the document allows may still be refused for a rule across fields or for the state of
        # the data (give one of member_id or external_id; a cursor this server gave out; a referral code
        # that exists): 422 naming the field. Every other expectation of the check stands.
        "[checks.positive_data_acceptance]",
        'expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]',
        "",
        "[parameters]",
    ]
    lines += [f'"path.{name}" = "{value}"' for name, value in ids.items()]
    lines += [
        "",
        "[[operations]]",
        'include-path = "/api/v1/members/{member_id}/erase"',
        f'parameters = {{ "path.member_id" = "{erase}" }}',
    ]
    return "\n".join(lines) + "\n"


def test_every_operation_holds_to_the_document_under_fuzzing(granian_server: str, tmp_path: Path) -> None:
    server = granian_server
    brand = brand_create(slug="fuzz", name="Fuzz", default_locale="he")
    key = api_key_create(brand=brand, scope="all").raw_key
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(_real_ids(server, key)))
    st = shutil.which("st") or str(Path(sys.executable).with_name("st"))
    run = subprocess.run(
        [
            st,
            "--config-file",
            str(config),
            "run",
            server + "/api/v1/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            str(EXAMPLES),
            "--workers",
            "2",
            "--seed",
            os.environ.get("KESHER_FUZZ_SEED", "13"),
            "--generation-database",
            "none",
            "--no-color",
            "--header",
            f"Authorization: Bearer {key}",
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=tmp_path,
    )
    summary = (
        run.stdout[run.stdout.find("=== SUMMARY ===") :] if "SUMMARY" in run.stdout else run.stdout[-3000:]
    )
    tested = re.search(r"Tested: (\d+)", run.stdout)
    cases = re.search(r"(\d+) generated", run.stdout)
    figures = f"{tested and tested[1]} operations, {cases and cases[1]} test cases"
    print(f"schemathesis: {figures}, exit {run.returncode}")
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-3000:]
    assert tested and int(tested[1]) >= 80, summary
