"""The gallery: photos cleaned of GPS on upload (on the local disk and on a real local S3 server),
moderated, liked once, and featured only under a rights grant recorded in the member's words."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.storage import default_storage

from kesher.activity.models import Activity
from kesher.core.audit import SYSTEM
from kesher.core.errors import Conflict
from kesher.core.models import AuditEntry
from kesher.reviews import selectors
from kesher.reviews.models import GalleryItem, RightsGrant
from kesher.reviews.services import (
    gallery_feature,
    gallery_like,
    gallery_moderate,
    gallery_post,
    rights_revoke,
)
from kesher.reviews.services._common import DEFAULT_RIGHTS_WORDING
from kesher.reviews.tests.images import has_gps, jpeg_with_gps

pytestmark = pytest.mark.django_db


def test_a_photo_is_stored_upright_without_gps_and_waits_for_a_moderator(make_member):
    raw = jpeg_with_gps(60, 40)
    assert has_gps(raw)
    item = gallery_post(member=make_member(), sku="TRENCH-1", title="In the rain", photo=raw)

    with default_storage.open(item.image) as stored:
        data = stored.read()
    assert not has_gps(data)
    assert (item.width, item.height) == (40, 60)  # the EXIF rotation applied
    assert item.status == "held"
    assert selectors.gallery_public(brand=item.brand) == []


def test_publishing_records_photo_posted(make_member):
    member = make_member()
    item = gallery_post(member=member, sku="TRENCH-1", story="My coat in Jerusalem")
    gallery_moderate(item=item, actor=SYSTEM, action="approve")
    activity = Activity.objects.get(member=member, type="photo_posted")
    assert activity.attributes == {"item_id": str(item.pk), "sku": "TRENCH-1"}
    assert [i.pk for i in selectors.gallery_public(brand=item.brand)] == [item.pk]


def test_one_like_per_member(make_member):
    posted = gallery_post(member=make_member("Author"), story="Coffee with cardamom")
    item = gallery_moderate(item=posted, actor=SYSTEM, action="approve")
    fan = make_member("Fan")
    gallery_like(item=item, member=fan)
    with pytest.raises(Conflict):
        gallery_like(item=item, member=fan)
    assert GalleryItem.objects.get(pk=item.pk).like_count == 1


def test_featuring_needs_a_rights_grant_recorded_with_its_words(make_member):
    author = make_member("Noa")
    without = gallery_post(member=author, story="No permission given")
    granted = gallery_post(member=author, story="Permission given", grant_rights=True)
    for item in (without, granted):
        gallery_moderate(item=item, actor=SYSTEM, action="approve")

    with pytest.raises(Conflict) as refused:
        gallery_feature(item=without, actor=SYSTEM)
    gallery_feature(item=granted, actor=SYSTEM)

    assert refused.value.code == "no_rights"
    grant = RightsGrant.objects.get(item=granted)
    assert (grant.member_id, grant.wording, grant.locale) == (author.pk, DEFAULT_RIGHTS_WORDING["he"], "he")
    assert grant.granted_at is not None
    entry = AuditEntry.objects.get(action="gallery.feature", target_id=str(granted.pk))
    assert entry.data["wording"] == grant.wording
    assert [i.pk for i in selectors.gallery_featured(brand=author.brand)] == [granted.pk]


def test_a_featured_item_without_a_granted_right_is_never_shown(make_member, client):
    author = make_member("Noa")
    item = gallery_post(member=author, story="Flagged featured by hand", grant_rights=True)
    gallery_moderate(item=item, actor=SYSTEM, action="approve")
    gallery_feature(item=item, actor=SYSTEM)
    rights_revoke(item=item, member=author)
    GalleryItem.objects.filter(pk=item.pk).update(featured=True)  # set behind the service's back

    assert selectors.gallery_featured(brand=author.brand) == []
    page = client.get(f"/reviews/{author.brand.slug}/gallery/")
    assert page.status_code == 200
    assert 'data-test="featured"' not in page.content.decode()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def s3_server() -> Iterator[str]:
    """A real local S3 server (moto_server), on a free port, for the test's life."""
    import shutil
    import sys
    from pathlib import Path

    port = _free_port()
    binary = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    process = subprocess.Popen(
        [binary, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_photo_goes_to_s3_without_gps(s3_server: str, settings: Any, make_member, monkeypatch):
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").create_bucket(Bucket="kesher-photos")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "kesher-photos",
                "endpoint_url": s3_server,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
            },
        },
    }

    item = gallery_post(member=make_member(), sku="TRENCH-1", photo=jpeg_with_gps())

    stored = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").get_object(
        Bucket="kesher-photos", Key=item.image
    )
    data = stored["Body"].read()
    assert data[:2] == b"\xff\xd8"  # a JPEG
    assert not has_gps(data)
    assert item.image.startswith("gallery/cafe/")
