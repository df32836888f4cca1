"""Connectors behind one interface, each with a cursor and safe to re-run: the signed webhook, RSS/Atom
feeds (read from a real local HTTP server), the brand's own parts, CSV upload."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from standardwebhooks import Webhook

from kesher.core.audit import SYSTEM
from kesher.core.tests.fingerprint import changed_models, rows_fingerprint
from kesher.listening.models import Connector, Mention
from kesher.listening.services import (
    connector_feed_add,
    connector_run,
    connector_switch,
    connector_webhook_add,
    csv_import,
    csv_upload,
)
from kesher.listening.services.signing import signed_headers
from kesher.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Coffee forum</title><link>http://forum.example/</link>
<item><guid>forum-1</guid><title>The café on Dizengoff</title><link>http://forum.example/t/1</link>
<description>&lt;p&gt;Great coffee and lovely staff&lt;/p&gt;</description>
<author>dana@example.org (Dana)</author>
<pubDate>Mon, 30 Nov 2026 08:00:00 +0000</pubDate></item>
<item><guid>forum-2</guid><title>Delivery never arrived</title><link>http://forum.example/t/2</link>
<description>Terrible service, the delivery never arrived</description>
<pubDate>Tue, 01 Dec 2026 08:00:00 +0000</pubDate></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>News search</title><id>urn:news</id>
<updated>2026-12-01T10:00:00Z</updated>
<entry><id>urn:news:7</id><title>קפה טוב נפתח בחיפה</title><link href="http://news.example/7"/>
<updated>2026-12-01T10:00:00Z</updated><summary>השירות מצוין והקפה טעים</summary></entry></feed>"""


class _FeedServer:
    """A real HTTP server on 127.0.0.1 serving one feed file, with an ETag (304 when it matches)."""

    def __init__(self, folder: Path, body: str) -> None:
        self.path = folder / "feed.xml"
        self.path.write_text(body, encoding="utf-8")
        self.requests: list[dict[str, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append({k.lower(): v for k, v in self.headers.items()})
                data = owner.path.read_bytes()
                etag = f'"{len(data)}"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/feed.xml"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def feed_server(tmp_path):
    servers: list[_FeedServer] = []

    def start(body: str = FEED) -> _FeedServer:
        servers.append(_FeedServer(tmp_path, body))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_a_feed_is_read_and_a_rerun_adds_nothing(brand, feed_server):
    server = feed_server()
    feed = connector_feed_add(
        brand=brand, name="Coffee forum", url=server.url, source="forum", actor=SYSTEM
    ).connector
    first = connector_run(brand=brand, connector_id=feed.pk)
    assert (first.added, first.error) == (2, "")
    mentions = {m.external_id: m for m in Mention.objects.filter(brand=brand)}
    assert set(mentions) == {"forum-1", "forum-2"}
    assert mentions["forum-1"].text == "The café on Dizengoff\nGreat coffee and lovely staff"  # tags stripped
    assert mentions["forum-1"].sentiment == "positive" and mentions["forum-1"].source == "forum"
    assert mentions["forum-2"].sentiment == "negative" and mentions["forum-2"].case_id is not None
    feed.refresh_from_db()
    assert feed.cursor["etag"] and feed.cursor["newest"].startswith("2026-12-01T08:00:00")
    # The same feed again: the server says 304 to the cursor's ETag, and nothing is added.
    before = Mention.objects.count()
    again = connector_run(brand=brand, connector_id=feed.pk)
    assert again.added == 0 and Mention.objects.count() == before
    assert server.requests[-1].get("if-none-match") == feed.cursor["etag"]
    # Without the cursor (a server that ignores ETags), the duplicates are still dropped.
    Connector.objects.filter(pk=feed.pk).update(cursor={})
    assert connector_run(brand=brand, connector_id=feed.pk).added == 0
    assert Mention.objects.count() == before


def test_an_atom_feed_in_hebrew(brand, feed_server):
    server = feed_server(ATOM)
    feed = connector_feed_add(brand=brand, name="News", url=server.url, actor=SYSTEM).connector
    assert connector_run(brand=brand, connector_id=feed.pk).added == 1
    mention = Mention.objects.get(brand=brand)
    assert (mention.source, mention.external_id, mention.language) == ("rss", "urn:news:7", "he")
    assert mention.sentiment == "positive"


def test_an_unreachable_feed_is_kept_as_the_connectors_error(brand):
    feed = connector_feed_add(
        brand=brand, name="Gone", url="http://127.0.0.1:9/feed.xml", actor=SYSTEM
    ).connector
    outcome = connector_run(brand=brand, connector_id=feed.pk)
    assert outcome.added == 0 and outcome.error
    feed.refresh_from_db()
    assert feed.last_error and feed.cursor == {}


def test_a_private_feed_address_is_refused_in_production(brand, settings):
    from kesher.core.errors import ValidationFailed

    settings.KESHER_LISTENING_ALLOW_PRIVATE = False
    with pytest.raises(ValidationFailed) as refusal:
        connector_feed_add(brand=brand, name="Inside", url="http://127.0.0.1/feed", actor=SYSTEM)
    assert refusal.value.code == "feed_address_refused"
    assert Connector.objects.count() == 0


# --- the signed webhook -------------------------------------------------------------------------------


def _post(connector_id, body: bytes, headers: dict[str, str]):
    extra = {
        f"HTTP_{name.upper().replace('-', '_')}": value
        for name, value in headers.items()
        if name != "content-type"
    }
    return Client().post(
        reverse("listening:hook", args=[connector_id]), data=body, content_type="application/json", **extra
    )


def test_a_signed_post_is_taken_in_and_the_same_again_adds_nothing(brand):
    made = connector_webhook_add(brand=brand, name="Brand24", source="brand24", actor=SYSTEM)
    body = json.dumps(
        {
            "mentions": [
                {
                    "external_id": "m1",
                    "text": "Love this place!",
                    "author": {"handle": "yael", "followers": 120},
                },
                {
                    "source": "instagram",
                    "external_id": "m2",
                    "text": "Food poisoning after the salad, dangerous",
                    "posted_at": "2026-12-01T09:00:00Z",
                },
            ]
        }
    ).encode()
    # Signed by the Standard Webhooks library itself: the scheme is the standard one.
    msg_id, at = "msg_1", datetime.now(tz=UTC)
    signature = Webhook(made.secret).sign(msg_id, at, body.decode())
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }
    answer = _post(made.connector.pk, body, headers)
    assert answer.status_code == 200, answer.content
    found = answer.json()
    assert found["added"] == 2
    assert [m["new"] for m in found["mentions"]] == [True, True]
    first, second = Mention.objects.get(external_id="m1"), Mention.objects.get(external_id="m2")
    assert first.source == "brand24" and first.author_followers == 120
    assert second.source == "instagram" and second.priority == "urgent" and "safety" in second.urgent
    made.connector.refresh_from_db()
    assert made.connector.cursor["last_message_id"] == "msg_1" and made.connector.total_added == 2
    again = _post(made.connector.pk, body, signed_headers(made.secret, body))
    assert again.json()["added"] == 0 and Mention.objects.count() == 2


@pytest.mark.parametrize("tamper", ["body", "secret", "old", "missing"])
def test_a_post_not_signed_right_is_401_and_changes_nothing(brand, tamper):
    made = connector_webhook_add(brand=brand, name="Tool", actor=SYSTEM)
    body = json.dumps({"external_id": "x", "text": "hello"}).encode()
    other = connector_webhook_add(brand=brand, name="Other", actor=SYSTEM).secret
    headers = {
        "body": signed_headers(made.secret, b'{"external_id": "y", "text": "hi"}'),
        "secret": signed_headers(other, body),
        "old": signed_headers(made.secret, body, at=int(datetime.now(tz=UTC).timestamp()) - 3600),
        "missing": {},
    }[tamper]
    before = rows_fingerprint()
    answer = _post(made.connector.pk, body, headers)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"].startswith("signature_")
    assert changed_models(before, rows_fingerprint()) == []


def test_a_signed_post_with_a_bad_mention_is_422_naming_it_and_takes_nothing(brand):
    made = connector_webhook_add(brand=brand, name="Tool", actor=SYSTEM)
    body = json.dumps(
        {"mentions": [{"external_id": "ok", "text": "fine"}, {"external_id": "", "text": "x"}]}
    ).encode()
    answer = _post(made.connector.pk, body, signed_headers(made.secret, body))
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "mentions.1.external_id"
    assert Mention.objects.count() == 0


def test_a_paused_webhook_takes_nothing(brand):
    made = connector_webhook_add(brand=brand, name="Tool", actor=SYSTEM)
    connector_switch(brand=brand, connector_id=made.connector.pk, active=False, actor=SYSTEM)
    body = json.dumps({"external_id": "x", "text": "hello"}).encode()
    assert _post(made.connector.pk, body, signed_headers(made.secret, body)).status_code == 409
    assert Mention.objects.count() == 0


# --- the brand's own parts ------------------------------------------------------------------------------


def test_community_posts_reviews_and_verbatims_are_read_from_their_cursors(brand, api):
    noa = MemberFactory(brand=brand)
    asked = api.post(
        "/community/questions",
        {
            "member_id": str(noa.pk),
            "space": "general",
            "title": "Is the oat milk free?",
            "body": "It is great, thank you",
        },
    )
    assert asked.status == 201, asked.body
    reviewed = api.post(
        "/reviews",
        {
            "member_id": str(noa.pk),
            "sku": "TRENCH-1",
            "rating": 1,
            "title": "Fell apart",
            "body": "Terrible coat, it broke in a week",
        },
    )
    assert reviewed.status == 201, reviewed.body
    survey = api.post(
        "/surveys", {"title_en": "How was it?", "questions": [{"kind": "text", "text_en": "Tell us"}]}
    ).body
    api.post(f"/surveys/{survey['id']}/publish", idem="pub")
    api.post(
        f"/surveys/{survey['id']}/responses",
        {"member_id": str(noa.pk), "answers": {survey["questions"][0]["id"]: "Slow service"}},
    )
    added = {}
    for kind in ("community", "reviews", "surveys"):
        connector = connector_switch(brand=brand, kind=kind, active=True, actor=SYSTEM)
        added[kind] = connector_run(brand=brand, connector_id=connector.pk).added
        connector.refresh_from_db()
        assert connector.cursor["at"]
        assert connector_run(brand=brand, connector_id=connector.pk).added == 0  # re-run: nothing new
    assert added == {"community": 1, "reviews": 1, "surveys": 1}
    by_source = {m.source: m for m in Mention.objects.filter(brand=brand)}
    assert all(m.member_id == noa.pk for m in by_source.values())
    assert by_source["reviews"].sentiment == "negative" and by_source["reviews"].case_id is not None
    assert by_source["community"].case_id is None  # the community's own "need help" reaches the inbox
    assert by_source["surveys"].case_id is None


# --- CSV upload ---------------------------------------------------------------------------------------


CSV = (
    "Post ID,Date,Network,Author,Followers,Message,Likes\n"
    "p1,01/12/2026 09:30,facebook,Dana Levi,1200,The delivery was late again,4\n"
    "p2,2026-12-01T10:00:00Z,twitter,yossi,50,שירות מעולה תודה רבה,1\n"
    ",bad date,twitter,x,1,no id but fine,0\n"
    "p4,2026-12-01,twitter,x,lots,followers are not a number,0\n"
)


def test_a_csv_export_is_mapped_and_imported_once(brand):
    upload = csv_upload(brand=brand, file_name="export.csv", content=CSV.encode(), actor=SYSTEM)
    assert upload.rows == 4
    assert upload.mapping["external_id"] == "Post ID" and upload.mapping["text"] == "Message"
    mapping = {**upload.mapping, "author_name": "Author", "engagement": "Likes"}
    done = csv_import(brand=brand, upload_id=upload.pk, mapping=mapping, actor=SYSTEM)
    assert (done.added, done.skipped) == (2, 2)
    assert done.errors[0].startswith("row 4:") and done.errors[1].startswith("row 5:")
    dana = Mention.objects.get(external_id="p1")
    assert (dana.source, dana.author_name, dana.author_followers, dana.engagement) == (
        "facebook",
        "Dana Levi",
        1200,
        4,
    )
    assert dana.posted_at == datetime(2026, 12, 1, 7, 30, tzinfo=UTC)  # Israel's time in December: UTC+2
    again = csv_upload(brand=brand, file_name="export.csv", content=CSV.encode(), actor=SYSTEM)
    assert csv_import(brand=brand, upload_id=again.pk, mapping=mapping, actor=SYSTEM).added == 0
    connector = Connector.objects.get(brand=brand, kind="csv")
    assert connector.cursor["last_upload"] == str(again.pk) and connector.total_added == 2


def test_a_csv_without_a_text_column_is_refused(brand):
    from kesher.core.errors import ValidationFailed

    upload = csv_upload(brand=brand, file_name="e.csv", content=b"a,b\n1,2\n", actor=SYSTEM)
    with pytest.raises(ValidationFailed) as refusal:
        csv_import(brand=brand, upload_id=upload.pk, mapping={}, actor=SYSTEM)
    assert refusal.value.code == "text_unmapped"
    assert Mention.objects.count() == 0
    with pytest.raises(ValidationFailed):
        csv_upload(brand=brand, file_name="e.csv", content=b"", actor=SYSTEM)


def test_the_polling_task_reads_every_active_pulled_connector(brand, feed_server):
    from kesher.listening.tasks import listening_poll

    server = feed_server()
    connector_feed_add(brand=brand, name="Forum", url=server.url, actor=SYSTEM)
    paused = connector_feed_add(
        brand=brand, name="Paused", url=server.url, source="paused", actor=SYSTEM
    ).connector
    connector_switch(brand=brand, connector_id=paused.pk, active=False, actor=SYSTEM)
    outcome = listening_poll()
    assert outcome["added"] == 2 and outcome["connectors"] == 1
    assert listening_poll()["added"] == 0
    assert not Mention.objects.filter(source="paused").exists()
