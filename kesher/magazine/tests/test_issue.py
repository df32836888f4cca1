"""An issue of the magazine: staff pick published articles, it becomes one campaign, and through a real SMTP
server each member's email leads with the articles for their interests."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest
from django.test import Client

from kesher.campaigns.models import Campaign
from kesher.campaigns.services import campaign_send
from kesher.campaigns.tests.conftest import member
from kesher.core.errors import NotFound, ValidationFailed
from kesher.core.models import AuditEntry
from kesher.magazine.models import Issue
from kesher.magazine.services import magazine_issue_compose
from kesher.magazine.tests.conftest import staff, write

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "https://club.kesher.test"


def _plain(message: Any) -> str:
    part = message.get_body(preferencelist=("plain",))
    return str(part.get_content()).replace("\r\n", "\n")


def _titles(text: str, titles: list[str]) -> list[str]:
    """The titles in the order they appear in a message."""
    return sorted((title for title in titles if title in text), key=text.index)


def test_each_member_gets_the_articles_for_their_interests_first(brand, smtp_server):
    news = write(brand, "News of the week", summary="What is new", locale="en")
    parenting = write(brand, "Coffee with a baby", locale="en", interests=["parenting"])
    trends = write(brand, "Trends of the season", locale="en", interests=["fashion"])
    write(brand, "A draft nobody sees", publish=False, locale="en", interests=["fashion"])
    member(brand, email="fay@example.org", first_name="Fay", interests=["fashion"], consents={"email": True})
    member(
        brand,
        email="pat@example.org",
        first_name="Pat",
        interests=["parenting", "fashion"],
        consents={"email": True},
    )
    member(brand, email="oz@example.org", first_name="Oz", interests=["cars"], consents={"email": True})
    member(brand, email="no@example.org", first_name="No", interests=["fashion"], consents={"email": False})

    issue = magazine_issue_compose(
        brand=brand,
        article_ids=[news.pk, parenting.pk, trends.pk],
        subject="The magazine, {{ first_name }}",
        intro="Our autumn issue.",
        locale="en",
    )
    assert issue.articles == [str(news.pk), str(parenting.pk), str(trends.pk)]
    campaign = Campaign.objects.get(pk=issue.campaign_id)
    assert (campaign.channel, campaign.advertising, campaign.locale) == ("email", True, "en")
    assert [block["interests"] for block in campaign.blocks] == [["parenting"], ["fashion"], []]

    campaign_send(campaign=campaign)

    received = {item.rcpt_tos[0]: item.message for item in smtp_server.sink.received}
    assert sorted(received) == ["fay@example.org", "oz@example.org", "pat@example.org"]
    titles = [news.title, parenting.title, trends.title]
    fay = _plain(received["fay@example.org"])
    assert received["fay@example.org"]["Subject"] == "פרסומת: The magazine, Fay"
    assert fay.startswith("Hello Fay,\n\nOur autumn issue.\n\nThe new issue of our magazine is here.")
    assert _titles(fay, titles) == ["Trends of the season", "News of the week", "Coffee with a baby"]
    assert _titles(_plain(received["pat@example.org"]), titles) == [
        "Coffee with a baby",
        "Trends of the season",
        "News of the week",
    ]
    assert _titles(_plain(received["oz@example.org"]), titles) == [
        "News of the week",
        "Coffee with a baby",
        "Trends of the season",
    ]
    assert "A draft nobody sees" not in fay
    assert "What is new" in fay  # the summary goes with its title

    # The link under Fay's first article is tracked and leads to that article's page in the portal.
    tracked = fay.split("Trends of the season\n")[1].split("\n")[0]
    assert tracked.startswith(f"{BASE}/c/l/")
    redirect = Client().get(urllib.parse.urlsplit(tracked).path)
    assert redirect.status_code == 302
    assert redirect["Location"] == f"{BASE}/magazine/cafe/trends-of-the-season/"
    assert Client().get("/magazine/cafe/trends-of-the-season/").status_code == 200
    assert AuditEntry.objects.filter(action="magazine.issue_compose", target_id=str(issue.pk)).count() == 1


def test_a_hebrew_issue_is_right_to_left_and_article_addresses_are_hebrew(brand, smtp_server):
    article = write(brand, "קפה של בוקר", locale="he", interests=["קפה"])
    member(
        brand,
        email="noa@example.org",
        first_name="נועה",
        interests=["קפה"],
        consents={"email": True},
        locale="he",
    )
    issue = magazine_issue_compose(brand=brand, article_ids=[article.pk], subject="גיליון סתיו")
    campaign_send(campaign=Campaign.objects.get(pk=issue.campaign_id))
    message = smtp_server.sink.received[0].message
    assert message["Subject"] == "פרסומת: גיליון סתיו"
    html = str(message.get_body(preferencelist=("html",)).get_content())
    assert 'dir="rtl"' in html
    text = _plain(message)
    assert text.startswith("שלום נועה,\n\nהגיליון החדש של המגזין שלנו כאן.")
    tracked = text.split("קפה של בוקר\n")[1].split("\n")[0]
    redirect = Client().get(urllib.parse.urlsplit(tracked).path)
    assert urllib.parse.unquote(redirect["Location"]) == f"{BASE}/magazine/cafe/קפה-של-בוקר/"
    assert f"כל הכתבות: {BASE}/magazine/cafe/" not in text  # tracked too, like every link
    assert "כל הכתבות: " in text


def test_an_issue_takes_only_the_brands_published_articles(brand, other_brand):
    draft = write(brand, "Draft", publish=False, locale="en")
    theirs = write(other_brand, "Theirs", locale="en")
    ours = write(brand, "Ours", locale="en")
    with pytest.raises(ValidationFailed):
        magazine_issue_compose(brand=brand, article_ids=[ours.pk, draft.pk], subject="S")
    with pytest.raises(NotFound):
        magazine_issue_compose(brand=brand, article_ids=[theirs.pk], subject="S")
    with pytest.raises(ValidationFailed):
        magazine_issue_compose(brand=brand, article_ids=[], subject="S")
    assert not Issue.objects.exists()
    assert not Campaign.objects.exists()


def test_article_text_cannot_become_template_code(brand, smtp_server):
    tricky = write(
        brand, "Use {{ coupon }} and {% endverbatim %}{{ card_number }}", summary="{% now 'Y' %}", locale="en"
    )
    member(brand, email="fay@example.org", first_name="Fay", consents={"email": True})
    issue = magazine_issue_compose(brand=brand, article_ids=[tricky.pk], subject="S", locale="en")
    campaign_send(campaign=Campaign.objects.get(pk=issue.campaign_id))
    text = _plain(smtp_server.sink.received[0].message)
    assert "Use {{ coupon }} and {{ card_number }}" in text
    assert "{% now 'Y' %}" in text


def test_staff_compose_an_issue_from_the_console(client, brand):
    first = write(brand, "First", locale="en")
    staff(client, brand, "analyst", name="analyst")
    refused = client.post(
        "/console/cafe/magazine/issue/", {"subject": "S", "articles": [str(first.pk)], "locale": "en"}
    )
    assert refused.status_code == 403
    assert not Issue.objects.exists()
    staff(client, brand, "marketer", name="marketer")
    response = client.post(
        "/console/cafe/magazine/issue/",
        {"subject": "Autumn", "articles": [str(first.pk)], "locale": "en", "advertising": "on"},
    )
    assert response.status_code == 303
    issue = Issue.objects.get()
    assert response["Location"] == f"/c/staff/{issue.campaign_id}/"
    assert issue.subject == "Autumn"
