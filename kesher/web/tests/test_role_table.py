"""Which role may open which page: one table, tried page by page for every role.

`PAGES` names every URL pattern of the site by its URL name (a new page the table does not mention fails
the test); the API's operations are in kesher/api/tests/test_scope_table.py and the admin's pages are
checked model by model below. Each role opens every page (a page that takes only POST is posted to): an
allowed page is never 401/403/404 nor a sign-in redirect; a refused one is 403, 404 or the sign-in
redirect, and a refused POST changes no row.

There is no separate cashier role: the cashier's counter is open to every staff role of the brand, and the
table's "cashier" is the service agent the counter is usually staffed by.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin as django_admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from kesher.api.tests.test_scope_table import _scene
from kesher.brands.models import StaffRole
from kesher.brands.services import staff_grant
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.loyalty.models import Store
from kesher.members.models import Member
from kesher.web.tests.conftest import make_user

pytestmark = pytest.mark.django_db

ANONYMOUS, MEMBER, CASHIER, MODERATOR, MARKETER, ANALYST, OWNER, INSTALLATION_ADMIN = (
    "anonymous",
    "member",
    "cashier (service agent)",
    "moderator",
    "marketer",
    "analyst",
    "owner",
    "installation admin",
)
ROLES = [ANONYMOUS, MEMBER, CASHIER, MODERATOR, MARKETER, ANALYST, OWNER, INSTALLATION_ADMIN]
STAFF_ROLES = {
    CASHIER: StaffRole.SERVICE_AGENT,
    MODERATOR: StaffRole.MODERATOR,
    MARKETER: StaffRole.MARKETER,
    ANALYST: StaffRole.ANALYST,
    OWNER: StaffRole.OWNER,
}

EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {ANONYMOUS}
STAFF = frozenset(STAFF_ROLES)
CAMPAIGNERS = frozenset({OWNER, MARKETER})
MODERATORS = frozenset({OWNER, MODERATOR})
# The brand's staff pages, which the installation admin also opens for support (not the cashier's counter).
SUPPORTED_STAFF = STAFF | {INSTALLATION_ADMIN}
LISTENERS = frozenset({OWNER, MARKETER, ANALYST, CASHIER, INSTALLATION_ADMIN})
TOKEN = "token"  # the address carries its own credential: with a made-up one it is 404 for every role

# URL name → the roles that may use it (or TOKEN).
PAGES: dict[str, frozenset[str] | str] = {
    "home": EVERYONE,
    "healthz": EVERYONE,
    "api_not_found": TOKEN,  # a path under /api/ that no operation has: the JSON 404 for everyone
    "set_language": EVERYONE,
    "join": EVERYONE,
    "join_card": EVERYONE,  # only the browser that joined sees a card; anyone else is sent to the join
    "brand_image": TOKEN,  # served under the current image's own name only
    "portal": SIGNED_IN,
    "portal_redeem": frozenset({MEMBER}),
    "portal_settings": SIGNED_IN,
    "portal_preferences": frozenset({MEMBER}),  # one club card's interests and channels
    "portal_profile": frozenset({MEMBER}),
    "portal_settings_consent": frozenset({MEMBER}),
    "portal_settings_digest": frozenset({MEMBER}),
    "check_in": EVERYONE,  # someone not signed in is offered to join or sign in
    "cashier": STAFF,
    "cashier_stores": STAFF,
    # community
    "community:spaces": EVERYONE,
    "community:search": EVERYONE,
    "community:ask": SIGNED_IN,
    "community:suggest": EVERYONE,
    "community:sitemap": EVERYONE,
    "community:space": EVERYONE,
    "community:question_short": EVERYONE,
    "community:question": EVERYONE,
    "community:merge": MODERATORS | {INSTALLATION_ADMIN},
    # staff without a card answer and comment as the brand; an analyst does not speak for it
    "community:answer": frozenset({MEMBER, CASHIER, MODERATOR, MARKETER, OWNER}),
    "community:vote": frozenset({MEMBER}),
    "community:comment": frozenset({MEMBER, CASHIER, MODERATOR, MARKETER, OWNER}),
    "community:flag": frozenset({MEMBER}),
    "community:accept": frozenset({MEMBER}) | MODERATORS,
    "community:member": EVERYONE,
    "community:follow": frozenset({MEMBER}),
    # a member's own: staff without a card there have none
    "community:notifications": frozenset({MEMBER}),
    "community:notifications_read": frozenset({MEMBER}),
    "community:digest_settings": frozenset({MEMBER}),
    "community:digest_unsubscribe": TOKEN,
    # the installation admin reaches every brand's staff pages for support, as an owner, audited
    "community:moderation": MODERATORS | {INSTALLATION_ADMIN},
    "community:moderation_act": MODERATORS | {INSTALLATION_ADMIN},
    # reviews: a product's reviews, the widget and the gallery are public; members write, vote, post
    "reviews:product": EVERYONE,
    "reviews:widget": EVERYONE,
    "reviews:gallery": EVERYONE,
    "reviews:write": frozenset({MEMBER}),
    "reviews:helpful": frozenset({MEMBER}),
    "reviews:gallery_post": frozenset({MEMBER}),
    "reviews:gallery_like": frozenset({MEMBER}),
    "reviews:gallery_rights": frozenset({MEMBER}),
    "reviews:console": MODERATORS | {INSTALLATION_ADMIN},
    "reviews:console_moderate": MODERATORS | {INSTALLATION_ADMIN},
    "reviews:console_reply": MODERATORS | {INSTALLATION_ADMIN},
    "reviews:console_gallery": MODERATORS | {INSTALLATION_ADMIN},
    "reviews:console_gallery_moderate": MODERATORS | {INSTALLATION_ADMIN},
    "reviews:console_feature": MODERATORS | {INSTALLATION_ADMIN},
    # campaigns: links in messages and providers' callbacks carry their token
    "campaigns:open": TOKEN,
    "campaigns:click": TOKEN,
    "campaigns:unsubscribe": TOKEN,
    "campaigns:sms_receipt": TOKEN,
    "campaigns:sms_inbound": TOKEN,
    "campaigns:forward": TOKEN,
    "campaigns:bounces": TOKEN,
    "campaigns:notices": SIGNED_IN,
    "campaigns:notices_read": SIGNED_IN,
    "campaigns:notices_unread": EVERYONE,
    # the installation's admin sees every brand's campaigns and journeys
    "campaigns:staff_journeys": CAMPAIGNERS | {ANALYST, INSTALLATION_ADMIN},
    "campaigns:staff_journey_install": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "campaigns:staff_journey": CAMPAIGNERS | {ANALYST, INSTALLATION_ADMIN},
    "campaigns:staff_journey_status": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "campaigns:staff_list": CAMPAIGNERS | {ANALYST, INSTALLATION_ADMIN},
    "campaigns:staff_detail": CAMPAIGNERS | {ANALYST, INSTALLATION_ADMIN},
    # authoring and sending: owners and marketers (and support); an analyst only reads
    "campaigns:staff_new": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "campaigns:staff_audience": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "campaigns:staff_preview": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "campaigns:staff_test_send": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "campaigns:staff_send": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "campaigns:staff_schedule": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "campaigns:staff_pause": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "campaigns:staff_resume": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "campaigns:staff_cancel": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "campaigns:staff_journey_edit": CAMPAIGNERS | {INSTALLATION_ADMIN},
    # the loyalty console: every staff role reads; changes are checked by role inside
    "loyalty:overview": SUPPORTED_STAFF,
    "brand_look": frozenset({OWNER, INSTALLATION_ADMIN}),
    "loyalty:rules": SUPPORTED_STAFF,
    "loyalty:rewards": SUPPORTED_STAFF,
    "loyalty:tiers": SUPPORTED_STAFF,
    # the members console: not the moderator's (kesher.brands.access.SEE_MEMBERS)
    "loyalty:members": SUPPORTED_STAFF - {MODERATOR},
    "loyalty:member": SUPPORTED_STAFF - {MODERATOR},
    # a file of personal data: not the cashier's nor the moderator's
    "loyalty:members_export": frozenset({OWNER, MARKETER, ANALYST, INSTALLATION_ADMIN}),
    "loyalty:referrals": SUPPORTED_STAFF,
    # console: editing the program (every staff role reads and previews; saving is CHANGE_PROGRAM's, inside)
    "loyalty:rule_edit": SUPPORTED_STAFF,
    "loyalty:rule_preview": SUPPORTED_STAFF,
    "loyalty:reward_edit": SUPPORTED_STAFF,
    "loyalty:reward_preview": SUPPORTED_STAFF,
    "loyalty:tier_edit": SUPPORTED_STAFF,
    "loyalty:tier_preview": SUPPORTED_STAFF,
    # the magazine
    "magazine:index": EVERYONE,
    "magazine:article": EVERYONE,
    "magazine:reading": frozenset({MEMBER}),  # the reading beacon: only a club member's readings are kept
    "magazine:console": SUPPORTED_STAFF,
    # every staff role may open the editor; saving is checked by role (WRITES below)
    "magazine:console_new": SUPPORTED_STAFF,
    "magazine:console_issue": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "magazine:console_edit": SUPPORTED_STAFF,
    "magazine:console_preview": SUPPORTED_STAFF,
    # surveys: the member's link carries its token; the console is for the roles that read feedback
    "surveys:respond": TOKEN,
    "surveys:console": SUPPORTED_STAFF - {MODERATOR},
    "surveys:console_new": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "surveys:console_settings": SUPPORTED_STAFF - {MODERATOR},
    "surveys:console_alerts": SUPPORTED_STAFF - {MODERATOR},
    "surveys:console_alert_resolve": frozenset({OWNER, MARKETER, CASHIER, INSTALLATION_ADMIN}),
    "surveys:console_survey": SUPPORTED_STAFF - {MODERATOR},
    "surveys:console_question_add": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "surveys:console_question_move": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "surveys:console_status": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "surveys:console_results": SUPPORTED_STAFF - {MODERATOR},
    "surveys:console_export": frozenset({OWNER, MARKETER, ANALYST, INSTALLATION_ADMIN}),
    # privacy
    "privacy:portal": frozenset({MEMBER}),
    "privacy:portal_download": frozenset({MEMBER}),
    "privacy:portal_erase": frozenset({MEMBER}),
    "privacy:access_log": frozenset({OWNER, INSTALLATION_ADMIN}),
    "privacy:settings": frozenset({OWNER, INSTALLATION_ADMIN}),
    "privacy:member": frozenset({OWNER, CASHIER, INSTALLATION_ADMIN}),
    "privacy:member_export": frozenset({OWNER, CASHIER, INSTALLATION_ADMIN}),
    "privacy:member_erase": frozenset({OWNER, CASHIER, INSTALLATION_ADMIN}),
    # insights: owners, marketers and analysts (naming a persona: owners and marketers, checked inside)
    "insights:dashboard": CAMPAIGNERS | {ANALYST, INSTALLATION_ADMIN},
    "insights:figure_csv": CAMPAIGNERS | {ANALYST, INSTALLATION_ADMIN},
    "insights:advocates": CAMPAIGNERS | {ANALYST, INSTALLATION_ADMIN},
    "insights:advocates_csv": CAMPAIGNERS | {ANALYST, INSTALLATION_ADMIN},
    "insights:churn": CAMPAIGNERS | {ANALYST, INSTALLATION_ADMIN},
    "insights:churn_csv": CAMPAIGNERS | {ANALYST, INSTALLATION_ADMIN},
    "insights:personas": CAMPAIGNERS | {ANALYST, INSTALLATION_ADMIN},
    # customers-console: importing files and the duplicates queue, owners and marketers (and support)
    "customers:import": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "customers:import_job": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "customers:import_report": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "customers:import_run": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "customers:duplicates": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "customers:duplicates_merge": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "customers:duplicates_dismiss": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "customers:merge_undo": CAMPAIGNERS | {INSTALLATION_ADMIN},
    # accounts (allauth)
    "account_login": EVERYONE,
    "account_logout": EVERYONE,
    "account_inactive": EVERYONE,
    "account_signup": EVERYONE,
    "account_reauthenticate": SIGNED_IN,
    "account_request_reauthentication_code": SIGNED_IN,
    "account_confirm_reauthentication_code": SIGNED_IN,
    "account_email": SIGNED_IN,
    "account_email_verification_sent": EVERYONE,
    "account_change_password": SIGNED_IN,
    "account_set_password": SIGNED_IN,
    "account_reset_password": EVERYONE,
    "account_confirm_login_code": SIGNED_IN,  # only during a sign-in by code; else back to sign-in
    "account_confirm_email": TOKEN,
    "account_reset_password_from_key_done": EVERYONE,
    "account_reset_password_from_key": TOKEN,
    "account_reset_password_done": EVERYONE,
    # ideas: the board and its pages are public; acting takes a member card; the console is for owners,
    # moderators and marketers (and support); the testers' space for accepted testers (Noa) and that staff
    "ideas:board": EVERYONE,
    "ideas:submit": SIGNED_IN,
    "ideas:roadmap": EVERYONE,
    "ideas:notices": SIGNED_IN,
    "ideas:idea": EVERYONE,
    "ideas:support": frozenset({MEMBER}),
    "ideas:comment": frozenset({MEMBER}),
    "ideas:challenges": EVERYONE,
    "ideas:challenge": EVERYONE,
    "ideas:beta": EVERYONE,
    "ideas:beta_apply": frozenset({MEMBER}),
    "ideas:beta_space": frozenset({MEMBER, OWNER, MODERATOR, MARKETER, INSTALLATION_ADMIN}),
    "ideas:beta_feedback": frozenset({MEMBER}),
    "ideas:console": frozenset({OWNER, MODERATOR, MARKETER, INSTALLATION_ADMIN}),
    "ideas:console_status": frozenset({OWNER, MODERATOR, MARKETER, INSTALLATION_ADMIN}),
    "ideas:console_moderate": frozenset({OWNER, MODERATOR, MARKETER, INSTALLATION_ADMIN}),
    "ideas:console_settings": frozenset({OWNER, MODERATOR, MARKETER, INSTALLATION_ADMIN}),
    "ideas:console_challenges": frozenset({OWNER, MODERATOR, MARKETER, INSTALLATION_ADMIN}),
    "ideas:console_challenge": frozenset({OWNER, MODERATOR, MARKETER, INSTALLATION_ADMIN}),
    "ideas:console_betas": frozenset({OWNER, MODERATOR, MARKETER, INSTALLATION_ADMIN}),
    "ideas:console_beta": frozenset({OWNER, MODERATOR, MARKETER, INSTALLATION_ADMIN}),
    # webhooks console: owners (and support); delete goes last of the block (the endpoint goes with it)
    "webhooks:console": frozenset({OWNER, INSTALLATION_ADMIN}),
    "webhooks:create": frozenset({OWNER, INSTALLATION_ADMIN}),
    "webhooks:endpoint": frozenset({OWNER, INSTALLATION_ADMIN}),
    "webhooks:events": frozenset({OWNER, INSTALLATION_ADMIN}),
    "webhooks:status": frozenset({OWNER, INSTALLATION_ADMIN}),
    "webhooks:rotate": frozenset({OWNER, INSTALLATION_ADMIN}),
    "webhooks:replay": frozenset({OWNER, INSTALLATION_ADMIN}),
    "webhooks:delete": frozenset({OWNER, INSTALLATION_ADMIN}),
    # listening: every role that answers or reads customers' voices sees; owners and marketers change
    "listening:stream": LISTENERS,
    "listening:voices": LISTENERS,
    "listening:connectors": LISTENERS,
    "listening:connector_feed": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "listening:connector_webhook": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "listening:connector_own": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "listening:connector_run": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "listening:connector_switch": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "listening:connector_rotate": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "listening:connector_delete": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "listening:upload": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "listening:upload_map": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "listening:hook": TOKEN,  # signed by the connector's secret: a made-up connector is not found
    "listening:topics": LISTENERS,
    "listening:topic_create": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "listening:topic_update": CAMPAIGNERS | {INSTALLATION_ADMIN},
    "listening:topic_delete": CAMPAIGNERS | {INSTALLATION_ADMIN},
}


def _url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any], namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace
                walk(
                    pattern.url_patterns,
                    f"{namespace}:{inner}" if namespace and inner else inner or namespace,
                )
            elif isinstance(pattern, URLPattern):
                names.add(f"{namespace}:{pattern.name}" if namespace else str(pattern.name))

    walk(get_resolver().url_patterns, None)
    return names


def test_the_table_names_every_page_and_nothing_else():
    names = {name for name in _url_names() if not name.startswith(("api-v1:", "admin:"))}
    assert names - PAGES.keys() == set(), "pages the role table does not say who may open"
    assert PAGES.keys() - names == set(), "the table names pages that no longer exist"


def _people(brand: Any, scene_ids: dict[str, str]) -> dict[str, Any]:
    people: dict[str, Any] = {ANONYMOUS: None}
    member_user = make_user("noa@example.org")
    Member.objects.filter(pk=scene_ids["member_id"]).update(user=member_user)
    people[MEMBER] = member_user
    for role, staff_role in STAFF_ROLES.items():
        user = make_user(f"{staff_role}@staff.example.org")
        staff_grant(brand=brand, user=user, role=staff_role)
        people[role] = user
    people[INSTALLATION_ADMIN] = get_user_model().objects.create_superuser(
        "root", "root@example.org", "correct horse battery staple"
    )
    return people


def _kwargs(name: str, brand: Any, ids: dict[str, str], article: dict[str, Any]) -> dict[str, str]:
    values = {
        "brand_slug": brand.slug,
        "slug": brand.slug,
        "store_code": "dizengoff",
        "space_slug": "general",
        "question_id": ids["question_id"],
        "post_id": ids["question_id"],
        "answer_id": ids["answer_id"],
        "member_id": ids["member_id"],
        "journey_id": ids["journey_id"],
        "campaign_id": ids["campaign_id"],
        "article_id": article["id"],
        "token": "made-up-token",
        "kind": "logo",
        "name": "made-up-token.png",
        "key": "made-up-key",
        "uidb36": "zz",
        # surveys
        "survey_id": ids["survey_id"],
        "alert_id": ids["alert_id"],
        # ideas
        "idea_id": ids["idea_id"],
        "challenge_id": ids["challenge_id"],
        "program_id": ids["program_id"],
        "task_id": ids["task_id"],
        "figure": "funnel",  # insights: a figure's CSV
        # reviews
        "sku": ids["sku"],
        "review_id": ids["review_id"],
        "item_id": ids["item_id"],
        "job_id": _import_job(brand) if "customers:import" in name else "",  # customers-console
        # webhooks
        "webhook_id": ids["webhook_id"],
        "delivery_id": ids["delivery_id"],
    }
    # listening: a connector, an uploaded export and a topic of the brand
    params = _pattern_params(name)
    if "connector_id" in params:
        values["connector_id"] = (
            "3b0c9a52-6f0e-4a43-8f2e-1d5b7c9e0a11" if name == "listening:hook" else _connector_id(brand)
        )
    if "upload_id" in params:
        values["upload_id"] = _upload_id(brand)
    if "topic_id" in params:
        values["topic_id"] = _topic_id(brand)
    # console: the program editor's rows
    values["rule_id"] = ids["rule_id"]
    values["reward_id"] = ids["reward_id"]
    if "tier_id" in _pattern_params(name):
        values["tier_id"] = _tier_id(brand)
    kwargs = {param: values[param] for param in _pattern_params(name)}
    if name == "community:question":
        kwargs["slug"] = "is-the-oat-milk-free"
    if name == "magazine:article":
        kwargs["slug"] = article["slug"]
    return kwargs


def _connector_id(brand: Any) -> str:
    """listening: a feed connector of the brand."""
    from kesher.core.audit import SYSTEM
    from kesher.listening.models import Connector
    from kesher.listening.services.connectors import connector_feed_add

    found = Connector.objects.filter(brand=brand, kind="feed").first()
    if found is None:
        found = connector_feed_add(
            brand=brand, name="Forum", url="http://127.0.0.1:9/feed.xml", actor=SYSTEM
        ).connector
    return str(found.pk)


def _upload_id(brand: Any) -> str:
    """listening: an uploaded export of mentions, not yet mapped."""
    from kesher.core.audit import SYSTEM
    from kesher.listening.models import CsvUpload
    from kesher.listening.services.uploads import csv_upload

    found = CsvUpload.objects.filter(brand=brand).first()
    if found is None:
        content = b"id,text,date\np1,Great coffee,2026-12-01 09:30\n"
        found = csv_upload(brand=brand, file_name="export.csv", content=content, actor=SYSTEM)
    return str(found.pk)


def _topic_id(brand: Any) -> str:
    """listening: one of the brand's default topics."""
    from kesher.listening.topics.models import Topic

    return str(Topic.objects.filter(brand=brand).order_by("name").values_list("pk", flat=True)[0])


def _tier_id(brand: Any) -> str:
    """console: a tier of the brand for the tier editor's address (the scene has none of its own)."""
    from kesher.loyalty.models import Tier

    tier, _ = Tier.objects.get_or_create(brand=brand, name="Gold", defaults={"threshold": 500})
    return str(tier.pk)


def _import_job(brand: Any) -> str:
    """customers-console: an uploaded members file of the brand (made once, before any fingerprint)."""
    from kesher.customers.models import ImportJob
    from kesher.customers.services import import_start

    job = ImportJob.objects.filter(brand=brand).first()
    if job is None:
        from pathlib import Path

        from django.conf import settings

        folder = Path(settings.MEDIA_ROOT) / "customer-imports" / str(brand.pk)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "table.csv"
        path.write_text("external_id,first_name,email\ntable-1,Tami,tami@example.org\n", encoding="utf-8")
        job = import_start(brand=brand, kind="members", path=path)
    return str(job.pk)


def _pattern_params(name: str) -> list[str]:
    found: dict[str, list[str]] = {}

    def walk(patterns: list[Any], namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace
                outer = list(pattern.pattern.regex.groupindex)
                for sub in pattern.url_patterns:
                    if isinstance(sub, URLResolver):
                        walk([sub], f"{namespace}:{inner}" if namespace and inner else inner or namespace)
                    elif isinstance(sub, URLPattern):
                        key = f"{inner}:{sub.name}" if inner else str(sub.name)
                        found[key] = outer + list(sub.pattern.regex.groupindex)
            elif isinstance(pattern, URLPattern):
                found[str(pattern.name)] = list(pattern.pattern.regex.groupindex)

    walk(get_resolver().url_patterns, None)
    return found[name]


def _post_data(name: str, brand: Any, ids: dict[str, str]) -> dict[str, str]:
    """What the page's form would send: a refusal must be the role's, not an empty form's."""
    member = {"member": ids["member_id"]}
    return {
        "portal_redeem": {
            **member,
            "reward": ids["reward_id"],
            "token": "6f1d3c1e-4a55-4f3b-9d61-3a1f5f3c2b10",
        },
        "portal_settings_consent": {**member, "channel": "email", "granted": "0"},
        "portal_settings_digest": {**member, "frequency": "weekly"},
        "magazine:reading": {
            "article": ids.get("article_id", ""),
            "reading": "0c6f8a0e-7d0b-4c1e-9a55-5b3c2d1e0f42",
            "seconds": "12",
            "scroll": "40",
        },
        "community:answer": {"body": "An answer typed into the page"},
        "community:vote": {"value": "1"},
        "community:comment": {"body": "A comment typed into the page"},
        "community:flag": {"reason": "spam"},
        "community:follow": {"question": ids["question_id"]},
        "community:digest_settings": {"frequency": "weekly"},
        "community:merge": {"into": ids["other_question_id"]},
        "community:moderation_act": {"action": "hide", "reason": "table"},
        "campaigns:staff_journey_install": {"brand": str(brand.pk), "kind": "birthday"},
        # reviews
        "reviews:write": {"rating": "3", "title": "Fine", "body": "A fine coat."},
        "reviews:gallery_post": {"story": "My coat on a rainy day"},
        "reviews:gallery_rights": {"grant": "1"},
        "reviews:console_moderate": {"action": "approve"},
        "reviews:console_reply": {"body": "Thank you!"},
        "reviews:console_gallery_moderate": {"action": "approve"},
        "reviews:console_feature": {"featured": "1"},
        "campaigns:staff_journey_status": {"status": "paused"},
        # surveys
        "surveys:console_question_add": {"kind": "text", "text_en": "Why?"},
        "surveys:console_question_move": {"direction": "down"},
        "surveys:console_status": {"action": "close"},
        "surveys:console_alert_resolve": {"note": "Called back"},
        # ideas
        "ideas:comment": {"body": "A comment typed into the page"},
        "ideas:beta_apply": {"agreement": "1"},
        "ideas:beta_feedback": {"rating": "4", "text": "Works well"},
        "ideas:console_status": {"status": "planned", "reason": "table"},
        "ideas:console_moderate": {"action": "restore", "reason": "table"},  # published already: said no
        # privacy: the member's own club, without the typed confirmation (nothing is erased)
        "privacy:portal_erase": {**member, "confirm": ""},
        # webhooks
        "webhooks:create": {"url": "http://127.0.0.1:9/console", "events": "points.changed"},
        "webhooks:events": {"events": "points.changed"},
        "webhooks:status": {"active": "0"},
    }.get(name, {})


def _refused(response: Any) -> bool:
    if response.status_code in (403, 404):
        return True
    location = response.get("Location", "") if response.status_code in (301, 302, 303) else ""
    return location.startswith(("/accounts/login/", "/admin/login/"))


@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_each_role_as_the_table_says(brand, make_api, role):
    admin_api = make_api(brand, "all")
    scene = _scene(brand, admin_api)
    Store.objects.create(brand=brand, name="Dizengoff", code="dizengoff")
    article = admin_api.post(
        "/magazine/articles",
        {"title": "Our new roast", "body": "Dark.", "status": "published"},
        idem="article",
    ).body
    person = _people(brand, scene.ids)[role]
    client = Client()
    if person is not None:
        client.force_login(person)

    wrong: list[str] = []
    # Pages that take something away from the scene go last.
    order = sorted(
        PAGES,
        key=lambda name: (
            name
            in {
                "community:merge",
                "community:moderation_act",
                "account_logout",
                "listening:connector_delete",
                "listening:topic_delete",
            }
        ),
    )
    for name in order:
        url = reverse(name, kwargs=_kwargs(name, brand, scene.ids, article))
        response = client.get(url)
        method = "GET"
        before = None
        if response.status_code == 405:
            method = "POST"
            before = rows_fingerprint()
            response = client.post(url, _post_data(name, brand, {**scene.ids, "article_id": article["id"]}))
        rule = PAGES[name]
        status = response.status_code
        where = f"{role}: {method} {name} {url} → {status} {response.get('Location', '')}"
        if rule == TOKEN:
            if status != 404 and not (status < 400 and not _refused(response)):
                wrong.append(f"a made-up token is not simply not found: {where}")
            continue
        assert isinstance(rule, frozenset)
        if role in rule:
            if _refused(response) or status == 401:
                wrong.append(f"refused, the table allows it: {where}")
        else:
            changed = changed_models(before, rows_fingerprint()) if before is not None else []
            # A form may also say no on its own page (a redirect back with a message): then nothing changed.
            soft_no = before is not None and status in (302, 303) and not changed
            if not (_refused(response) or soft_no):
                wrong.append(f"allowed, the table refuses it: {where} {changed}")
            elif changed:
                wrong.append(f"refused but changed {changed}: {where}")
        if person is not None and "_auth_user_id" not in client.session:
            client.force_login(person)  # a page that signs out (or in) must not change the next page's role
    assert wrong == [], "\n".join(wrong)


# --- the Django admin: every registered model's list and add page ------------------------------------

ADMIN_ROLES_ALLOWED_IN = {OWNER, INSTALLATION_ADMIN}  # owners are `is_staff`; the admin scopes their rows


@pytest.mark.parametrize("role", ROLES)
def test_the_admin_lets_in_only_owners_and_installation_admins(brand, role):
    scene_people = _people(brand, {"member_id": _any_member(brand)})
    person = scene_people[role]
    client = Client()
    if person is not None:
        client.force_login(person)
    wrong: list[str] = []
    urls = [reverse("admin:index")]
    for model in django_admin.site._registry:
        urls.append(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
    for url in urls:
        response = client.get(url)
        refused = _refused(response)
        if role not in ADMIN_ROLES_ALLOWED_IN and not refused:
            wrong.append(f"{role} was let into {url} ({response.status_code})")
        if role == INSTALLATION_ADMIN and response.status_code != 200:
            wrong.append(f"{role} was kept out of {url} ({response.status_code})")
    if role == OWNER:
        assert client.get(reverse("admin:index")).status_code == 200
    assert wrong == [], "\n".join(wrong)


def _any_member(brand: Any) -> str:
    from kesher.members.tests.factories import MemberFactory

    return str(MemberFactory(brand=brand, email="noa@example.org").pk)


def test_the_admin_url_names_are_all_model_pages_or_the_sites_own():
    """Every admin URL is one of a registered model's pages, or the site's own (index, login, ...)."""
    own = {
        "index",
        "login",
        "logout",
        "password_change",
        "password_change_done",
        "autocomplete",
        "jsi18n",
        "view_on_site",
        "app_list",
        "auth_user_password_change",
    }
    models = {f"{m._meta.app_label}_{m._meta.model_name}" for m in django_admin.site._registry}
    pages = {"changelist", "add", "history", "delete", "change"}
    stray = []
    for name in _url_names():
        if not name.startswith("admin:"):
            continue
        short = name.removeprefix("admin:")
        if short in own or short == "None":  # the admin's unnamed catch-all
            continue
        model, _, page = short.rpartition("_")
        if model not in models or page not in pages:
            stray.append(name)
    assert stray == []
