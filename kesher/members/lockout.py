"""The one lock-out policy for every password sign-in: django-axes, with Kesher's login identity, counts,
page and audited unlock.

Every sign-in page (allauth's /accounts/login/ for members and staff, the Django admin's /admin/login/,
allauth's reauthentication) checks the password through `django.contrib.auth.authenticate` with the
request, and axes' backend stands first there, so one count and one lock hold for them all. The policy
(docs/security.md "Lock-out"):

- a login is locked *from one address* after AXES_FAILURE_LIMIT wrong passwords in a row: a guesser is
  stopped, while the member signing in from home is not locked out by someone guessing elsewhere;
- an address is locked, whatever logins it tries, after KESHER_LOGIN_ADDRESS_FAILURE_LIMIT wrong passwords
  (one machine trying a list of stolen email/password pairs);
- a lock ends after AXES_COOLOFF_TIME, or sooner when staff release it (`kesher login unlock`, or the
  admin's "Locked sign-ins" page); a correct password while locked is refused like a wrong one;
- a successful sign-in clears its own login's count from that address, not the address's count.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from kesher.core.audit import Actor, audit_record

logger = logging.getLogger("kesher.lockout")

# Where each sign-in form puts the login: allauth's form posts `login` and authenticates with `email` (or
# `username`); the admin posts and authenticates with `username`.
_LOGIN_FIELDS = ("email", "username", "login")
_IDENTITY_MAX = 255  # axes' AccessAttempt.username


def _clean(raw: object) -> str:
    """What was typed, as a key: no control characters (a NUL cannot be stored), trimmed, folded."""
    text = "".join(ch for ch in str(raw) if unicodedata.category(ch) != "Cc")
    return unicodedata.normalize("NFKC", text).strip().casefold()[:_IDENTITY_MAX]


def _typed_login(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    for source in (credentials or {}, getattr(request, "POST", None) or {}):
        for field in _LOGIN_FIELDS:
            value = source.get(field)
            if value:
                return _clean(value)
    return ""


def login_identity(request: HttpRequest | None, credentials: dict[str, Any] | None = None) -> str | None:
    """The key a sign-in attempt is counted under: the account's username when the login names an account
    (by its username or any of its email addresses), else what was typed.

    So "Noa@Example.org" at /accounts/login/ and "noa" at /admin/login/ count against one account.
    Settings: AXES_USERNAME_CALLABLE.
    """
    typed = _typed_login(request, credentials)
    if not typed:
        return None
    memo: dict[str, str] = getattr(request, "_kesher_login_identity", {}) if request is not None else {}
    if typed in memo:
        return memo[typed]
    from allauth.account.models import EmailAddress

    user_model = get_user_model()
    matches = set(
        user_model.objects.filter(
            Q(**{f"{user_model.USERNAME_FIELD}__iexact": typed}) | Q(email__iexact=typed)
        ).values_list("pk", flat=True)[:2]
    )
    matches |= set(EmailAddress.objects.filter(email__iexact=typed).values_list("user_id", flat=True)[:2])
    identity = typed
    if len(matches) == 1:
        user = user_model.objects.get(pk=matches.pop())
        identity = _clean(user.get_username())
    memo[typed] = identity
    if request is not None:
        request._kesher_login_identity = memo  # type: ignore[attr-defined]
    return identity


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler (shared by every process) with a separate, higher limit per address, and a
    success that clears only its own login's count.

    axes compares one number with one limit; the address-wide count is scaled so that reaching
    KESHER_LOGIN_ADDRESS_FAILURE_LIMIT reads as reaching AXES_FAILURE_LIMIT. Settings: AXES_HANDLER, with
    AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"].
    """

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        counts = [
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]
        login_count = counts[0] if counts else 0
        address_count = counts[1] if len(counts) > 1 else 0
        limit = int(settings.AXES_FAILURE_LIMIT)
        address_limit = max(int(settings.KESHER_LOGIN_ADDRESS_FAILURE_LIMIT), limit)
        return max(login_count, address_count * limit // address_limit)

    def reset_user_attempts(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        attempts_list = self.filter_user_attempts(request, credentials)
        if not attempts_list:
            return 0
        # Only the login-from-this-address count: signing in to one's own account must not wipe the
        # address's count of wrong passwords for other accounts.
        count, _ = attempts_list[0].delete()
        return count


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """The page a locked sign-in gets, in the page's language, at every sign-in path (429).

    Settings: AXES_LOCKOUT_CALLABLE.
    """
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return render(
        request,
        "web/locked_out.html",
        {"minutes": minutes},
        status=int(settings.AXES_HTTP_RESPONSE_CODE),
    )


# --- staff: seeing and releasing locks -------------------------------------------------------------


@dataclass(frozen=True)
class Lock:
    login: str | None
    address: str | None
    failures: int
    last_attempt: Any


def _live_attempts() -> QuerySet[AccessAttempt]:
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return AccessAttempt.objects.filter(attempt_time__gte=since)


def locks_list() -> list[Lock]:
    """Logins and addresses with wrong passwords counted now (locked or on the way), most failures first."""
    rows = (
        _live_attempts()
        .values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"))
        .annotate(last=Max("attempt_time"))
        .order_by("-failures", "username")
    )
    return [
        Lock(
            login=row["username"],
            address=row["ip_address"],
            failures=row["failures"],
            last_attempt=row["last"],
        )
        for row in rows
    ]


def _brands_of(identity: str) -> list[Any]:
    """The brands a login belongs to (staff or member), where the unlock is written in the audit log."""
    from kesher.brands.models import Brand

    user_model = get_user_model()
    user = user_model.objects.filter(**{f"{user_model.USERNAME_FIELD}__iexact": identity}).first()
    if user is None:
        return []
    return list(Brand.objects.filter(Q(staff__user=user) | Q(members__user=user)).distinct().order_by("slug"))


def lock_release(*, login: str | None = None, address: str | None = None, actor: Actor) -> int:
    """End the lock (and the count) of a login, of an address, or of a login from one address.

    Written in the audit log of every brand the login belongs to, and in the log. Returns how many
    counted attempt rows were removed.
    """
    if not login and not address:
        raise ValueError("name a login, an address or both")
    identity = login_identity(None, {"username": login}) if login else None
    attempts = AccessAttempt.objects.all()
    if identity:
        attempts = attempts.filter(username=identity)
    if address:
        attempts = attempts.filter(ip_address=address)
    with transaction.atomic():
        removed, _ = attempts.delete()
        data = {"login": identity, "address": address, "attempts_removed": removed, "by": actor.label}
        for brand in _brands_of(identity) if identity else []:
            audit_record(
                brand=brand,
                actor=actor,
                action="login.unlock",
                target_type="login",
                target_id=identity,
                data=data,
            )
    logger.warning("sign-in lock released", extra={"lockout": data})
    return removed
