"""A new brand gets every part's defaults inside brand_create's transaction, through installers the parts
register (brands imports none of them)."""

from __future__ import annotations

import pytest

from kesher.brands import hooks
from kesher.brands.hooks import on_brand_created
from kesher.brands.models import Brand
from kesher.brands.services import brand_create
from kesher.community.models import Space
from kesher.loyalty.models import EarningRule, LoyaltyProgram

pytestmark = pytest.mark.django_db


@pytest.fixture
def installers(monkeypatch):
    """The registered installers, restored after the test whatever it registers."""
    monkeypatch.setattr(hooks, "_installers", list(hooks._installers))
    return hooks._installers


def test_the_loyalty_program_is_installed_before_the_community_and_both_before_later_installers(installers):
    assert [installer.__name__ for installer in installers] == [
        "program_install_defaults",
        "community_install_defaults",
        "ideas_install_defaults",  # the ideas board's stages and statuses
        "topics_install_defaults",  # listening: the topics mentions are sorted by
    ]
    seen = []

    def probe(*, brand: Brand) -> None:
        seen.append(
            (
                LoyaltyProgram.objects.filter(brand=brand).exists(),
                EarningRule.objects.filter(brand=brand).count(),
                list(Space.objects.filter(brand=brand).values_list("slug", flat=True)),
            )
        )

    on_brand_created(probe)
    brand_create(slug="new", name="New")
    assert seen == [(True, 8, ["general"])]


def test_a_failing_installer_leaves_no_brand_and_none_of_the_defaults(installers):
    def broken(*, brand: Brand) -> None:
        raise RuntimeError("the installer broke")

    on_brand_created(broken)
    with pytest.raises(RuntimeError, match="the installer broke"):
        brand_create(slug="new", name="New")
    assert not Brand.objects.filter(slug="new").exists()
    assert LoyaltyProgram.objects.count() == 0
    assert EarningRule.objects.count() == 0
    assert Space.objects.count() == 0


def test_an_installer_registered_twice_runs_once(installers):
    calls = []

    def count(*, brand: Brand) -> None:
        calls.append(brand.slug)

    on_brand_created(count)
    on_brand_created(count)
    brand_create(slug="new", name="New")
    brand_create(slug="newer", name="Newer")
    assert calls == ["new", "newer"]
