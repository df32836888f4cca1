"""Adding a space to a brand's community."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from kesher.brands.models import Brand
from kesher.community import pagecache
from kesher.community.models import Space
from kesher.core.audit import SYSTEM, Actor, audit_record
from kesher.core.errors import Conflict, ValidationFailed


@transaction.atomic
def space_create(
    *,
    brand: Brand,
    slug: str,
    name: str,
    kind: str = Space.Kind.QA,
    visibility: str = Space.Visibility.PUBLIC,
    tiers: list[str] | None = None,
    description: str = "",
    actor: Actor = SYSTEM,
) -> Space:
    slug = slugify(slug, allow_unicode=True)
    if not slug:
        raise ValidationFailed("slug must have letters or digits", field="slug")
    if kind not in Space.Kind.values:
        raise ValidationFailed(f"kind must be one of {', '.join(Space.Kind.values)}", field="kind")
    if visibility not in Space.Visibility.values:
        raise ValidationFailed(
            f"visibility must be one of {', '.join(Space.Visibility.values)}", field="visibility"
        )
    clean_tiers = sorted({tier.strip() for tier in tiers or [] if tier.strip()})
    if visibility == Space.Visibility.TIERS and not clean_tiers:
        raise ValidationFailed("a tiers space needs at least one tier name", field="tiers")
    if visibility != Space.Visibility.TIERS and clean_tiers:
        raise ValidationFailed("tiers are only for visibility 'tiers'", field="tiers")
    if Space.objects.filter(brand=brand, slug=slug).exists():
        raise Conflict(f"A space with slug {slug!r} already exists", field="slug", code="duplicate_space")
    space = Space.objects.create(
        brand=brand,
        slug=slug,
        name=name.strip(),
        description=description,
        kind=kind,
        visibility=visibility,
        tiers=clean_tiers,
    )
    audit_record(
        brand=brand,
        actor=actor,
        action="community.space.create",
        target_type="space",
        target_id=space.pk,
        data={"slug": slug, "kind": kind, "visibility": visibility, "tiers": clean_tiers},
    )
    pagecache.versions_bump(brand_id=brand.pk)
    return space
