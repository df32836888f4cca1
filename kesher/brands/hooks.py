"""What the parts above brands set up for a new brand: they register here, so brands never imports them.

Each part registers its installer from its AppConfig.ready(). brand_create runs them inside its own
transaction, in the order they were registered: the order of INSTALLED_APPS, in which Django runs
ready() (loyalty's program, then the community's space), so a failing installer leaves no brand behind.
"""

from __future__ import annotations

from typing import Protocol

from kesher.brands.models import Brand


class BrandInstaller(Protocol):
    def __call__(self, *, brand: Brand) -> object: ...


_installers: list[BrandInstaller] = []


def on_brand_created(installer: BrandInstaller) -> BrandInstaller:
    """Run `installer(brand=...)` for every new brand, after the installers registered before it."""
    if installer not in _installers:  # ready() may run again (tests that reload apps): once is enough
        _installers.append(installer)
    return installer


def brand_created_run(*, brand: Brand) -> None:
    """Called by brand_create, inside its transaction, once the brand's row exists."""
    for installer in list(_installers):
        installer(brand=brand)
