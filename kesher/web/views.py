"""Pages: the landing page, the member portal, the cashier's counter and the health check."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kesher.brands.look import style_vars
from kesher.brands.models import Brand
from kesher.brands.selectors import staff_brands
from kesher.community import digests
from kesher.community.access import reader_member
from kesher.community.models import Tag
from kesher.core.audit import Actor
from kesher.core.errors import KesherError, NotFound, ValidationFailed
from kesher.core.idempotency import error_body, request_fingerprint, run_idempotent
from kesher.loyalty import selectors as loyalty
from kesher.loyalty.models import Coupon, LedgerEntry, LoyaltyProgram, PointsAccount, Reward, Store, Tier
from kesher.loyalty.services import coupon_redeem, redemption_create, store_check_in, tier_progress
from kesher.magazine.selectors import brand_topics
from kesher.members.models import Member, MemberStatus
from kesher.members.normalize import normalize_interests
from kesher.members.selectors import member_find, member_get
from kesher.members.services import consent_change, member_create, member_update
from kesher.privacy.services import access_record
from kesher.web.accounts import memberships_link
from kesher.web.branding import host_brand, page_brand, remember_brand
from kesher.web.forms import JoinForm, ProfileForm
from kesher.web.personal import home_blocks
from kesher.web.templatetags.kesher_web import card_groups, in_language, phone_local
from kesher.web.wording import HistoryLine, history_line


def home(request: HttpRequest) -> HttpResponse:
    """On a brand's own domain, or on an installation with one brand: straight to that club (its join
    page, or the card of a member already signed in). Otherwise the clubs' join pages, one a line."""
    brand = host_brand(request)
    brands = [brand] if brand is not None else list(Brand.objects.order_by("name")[:2])
    signed_in = request.user.is_authenticated
    if len(brands) == 1 and not (
        signed_in and (request.user.is_staff or staff_brands(user=_signed_in(request)))
    ):
        # Staff keep the installation's page, with its links to their console and counter.
        target = brands[0]
        if signed_in and _memberships(_signed_in(request)).filter(brand=target).exists():
            return HttpResponseRedirect(reverse("portal"))
        return HttpResponseRedirect(reverse("join", args=[target.slug]))
    return render(request, "web/home.html", {"clubs": Brand.objects.order_by("name")})


# --- the member portal --------------------------------------------------------------------------


def _qr_svg(text: str, *, scale: int) -> SafeString:
    # segno draws the SVG itself from a card number, coupon code or link: no user-typed markup can get in.
    # A viewBox and no fixed size: the stylesheet decides how big it is drawn (on screen, on a poster).
    code = segno.make(text, micro=False)
    return mark_safe(code.svg_inline(scale=scale, dark="#111827", light="#ffffff", omitsize=True))


def _signed_in(request: HttpRequest) -> AbstractBaseUser:
    user = request.user
    if isinstance(user, AnonymousUser):  # login_required stands before every caller; this is for types
        raise PermissionDenied
    return user


def _memberships(user: AbstractBaseUser) -> Any:
    return Member.objects.filter(user_id=user.pk).exclude(status=MemberStatus.ERASED).select_related("brand")


@dataclass(frozen=True)
class RewardView:
    reward: Reward
    affordable: bool
    missing: int
    progress: int  # percent of the cost the balance covers, 0..100
    token: str  # one per rendered form: a second submit of the same form replays the first answer


@dataclass(frozen=True)
class CouponView:
    coupon: Coupon
    qr: SafeString
    new: bool


@dataclass(frozen=True)
class TierView:
    current: Tier | None
    upcoming: Tier | None
    by_spend: bool
    to_next: int | Decimal  # whole points, or money when the brand's tiers go by spend
    percent: int  # of the way from the current tier's threshold to the next one


def _tier_view(member: Member, program: LoyaltyProgram | None) -> TierView:
    account = PointsAccount.objects.select_related("tier").get(member=member)
    progress = tier_progress(account=account)
    current: Tier | None = progress["tier"]
    upcoming: Tier | None = progress["next_tier"]
    value = Decimal(progress["value"])
    if current is not None and upcoming is not None and upcoming.threshold <= current.threshold:
        # Still in a tier the rolling value no longer reaches (kept until the review): aim above it.
        upcoming = (
            Tier.objects.filter(brand_id=member.brand_id, threshold__gt=current.threshold)
            .order_by("threshold")
            .first()
        )
    by_spend = program is not None and program.tier_basis == LoyaltyProgram.TierBasis.SPEND
    if upcoming is None:
        return TierView(current=current, upcoming=None, by_spend=by_spend, to_next=0, percent=100)
    floor = current.threshold if current is not None else Decimal(0)
    span = upcoming.threshold - floor
    percent = int(max(Decimal(0), min(Decimal(100), (value - floor) * 100 / span))) if span > 0 else 0
    missing = max(upcoming.threshold - value, Decimal(0))
    to_next: int | Decimal = missing if by_spend else math.ceil(missing)
    return TierView(current=current, upcoming=upcoming, by_spend=by_spend, to_next=to_next, percent=percent)


def _referral_link(request: HttpRequest, member: Member) -> str:
    join = request.build_absolute_uri(reverse("join", args=[member.brand.slug]))
    return f"{join}?{urlencode({'ref': member.referral_code})}"


def _whatsapp_link(member: Member, link: str) -> str:
    text = _("Join the %(club)s club with my link and earn points: %(link)s") % {
        "club": member.brand.name,
        "link": link,
    }
    return "https://wa.me/?text=" + quote(text, safe="")


@login_required
def portal(request: HttpRequest) -> HttpResponse:
    memberships = list(_memberships(_signed_in(request)).order_by("brand__name"))
    brand_ids = {member.brand_id for member in memberships}
    # Two queries for all the cards: which brands have tiers at all, and how each counts them.
    tiered = set(
        Tier.objects.filter(brand_id__in=brand_ids).order_by().values_list("brand_id", flat=True).distinct()
    )
    # One more for every card's program: how it counts tiers, and whether its dates carry the Hebrew date.
    every_program = {p.brand_id: p for p in LoyaltyProgram.objects.filter(brand_id__in=brand_ids)}
    programs = {brand_id: program for brand_id, program in every_program.items() if brand_id in tiered}
    for member in memberships:
        settings_of = every_program.get(member.brand_id)
        member.brand._shows_hebrew_dates = bool(settings_of and settings_of.hebrew_dates)
    new_code = request.GET.get("new", "")
    cards = []
    now = timezone.now()
    for member in memberships:
        points = loyalty.points_summary(member=member)
        history: list[HistoryLine] = [
            history_line(entry) for entry in loyalty.ledger_page(member=member, limit=10).entries
        ]
        catalog = loyalty.rewards_available(brand=member.brand, member=member)
        rewards = [
            RewardView(
                reward=reward,
                affordable=points.balance >= reward.cost_points,
                missing=max(reward.cost_points - points.balance, 0),
                progress=min(100, points.balance * 100 // max(reward.cost_points, 1)),
                token=str(uuid.uuid4()),
            )
            for reward in catalog[:6]
        ]
        wallet = [
            CouponView(coupon=coupon, qr=_qr_svg(coupon.code, scale=3), new=coupon.code == new_code)
            for coupon in loyalty.coupon_wallet(member=member)
            if coupon.status == Coupon.Status.ISSUED and coupon.expires_at > now
        ]
        referral_link = _referral_link(request, member)
        cards.append(
            {
                "member": member,
                "qr": _qr_svg(member.card_number, scale=4),
                "points": points,
                "history": history,
                "rewards": rewards,
                "wallet": wallet,
                "tier": _tier_view(member, programs.get(member.brand_id))
                if member.brand_id in tiered
                else None,
                "referral_link": referral_link,
                "whatsapp_link": _whatsapp_link(member, referral_link),
                "blocks": home_blocks(
                    member=member, balance=points.balance, catalog=catalog, reader=reader_member(member)
                ),
                "style": style_vars(primary=member.brand.primary_color, accent=member.brand.accent_color),
            }
        )
    # The page wears the club's look: the one on whose domain it is, else the only club, else the one
    # last opened; each card wears its own club's colours anyway.
    shown = page_brand(request)
    if shown is None or shown.pk not in brand_ids:
        shown = memberships[0].brand if len(memberships) == 1 else None
    names = [member.first_name for member in memberships if member.first_name]
    user = _signed_in(request)
    greeting = names[0] if names else (getattr(user, "first_name", "") or getattr(user, "email", ""))
    return render(request, "web/portal.html", {"cards": cards, "brand": shown, "greeting_name": greeting})


# What a member reads when a reward cannot be taken; the services' own messages are for integrators.
REDEEM_REFUSALS = {
    "insufficient_points": gettext_lazy("You do not have enough points for this reward yet."),
    "out_of_stock": gettext_lazy("Sorry, this reward has just run out."),
    "limit_reached": gettext_lazy("You have already taken this reward as many times as allowed."),
    "tier_required": gettext_lazy("This reward is for members of a higher tier."),
    "reward_inactive": gettext_lazy("This reward is not on offer right now."),
    "reward_not_yet_available": gettext_lazy("This reward is not on offer yet."),
    "reward_no_longer_available": gettext_lazy("This reward is no longer on offer."),
    "reward_not_found": gettext_lazy("This reward is not on offer right now."),
    "idempotency_key_reused": gettext_lazy("This form is out of date. Please try again."),
    "form_expired": gettext_lazy("This form is out of date. Please try again."),
}


@login_required
@require_POST
def portal_redeem(request: HttpRequest) -> HttpResponse:
    """Trade points for a reward. The form's token is the idempotency key: a double click, a reload or a
    second tab sending the same form gets the first answer back instead of a second coupon."""
    user = _signed_in(request)
    try:
        member = _memberships(user).get(pk=uuid.UUID(request.POST.get("member", "")))
    except (ValueError, Member.DoesNotExist):
        raise Http404 from None
    reward_id = request.POST.get("reward", "")
    portal_url = reverse("portal")
    try:
        token = uuid.UUID(request.POST.get("token", ""))
    except ValueError:
        token = None

    def perform() -> tuple[int, Any]:
        reward = loyalty.reward_get(brand=member.brand, reward_id=reward_id)
        coupon = redemption_create(member=member, reward=reward)
        return 201, {"coupon": coupon.code}

    if token is None:
        status, body = 422, error_body(ValidationFailed("No form token", code="form_expired"))
    else:
        try:
            status, body = run_idempotent(
                brand=member.brand,
                key=f"portal-redeem:{member.pk}:{token}",
                fingerprint=request_fingerprint(
                    "POST", request.path, {"member": member.pk, "reward": reward_id}
                ),
                perform=perform,
            )
        except KesherError as refusal:  # the token came back with another reward
            status, body = refusal.status, error_body(refusal)

    if status == 201:
        coupon = Coupon.objects.select_related("reward").get(member=member, code=body["coupon"])
        messages.success(
            request,
            _("Done! Your coupon for %(reward)s is in your wallet: %(code)s")
            % {"reward": in_language(coupon.reward, "name"), "code": coupon.code},
        )
        # Post, redirect, get: a reload of the result shows the wallet and cannot spend twice.
        return HttpResponseRedirect(
            f"{portal_url}?{urlencode({'new': coupon.code})}#coupon-{coupon.code}", status=303
        )
    code = body["error"]["code"]
    reason = REDEEM_REFUSALS.get(code, gettext_lazy("This reward could not be taken."))
    nothing_spent = _("No points were spent.")
    messages.error(request, f"{reason} {nothing_spent}")
    return HttpResponseRedirect(f"{portal_url}#club-{member.brand.slug}", status=303)


# --- the member's profile -----------------------------------------------------------------------

PROFILE_REFUSALS = {
    "phone": gettext_lazy("This does not look like a phone number. Any form works, such as 050-1234567."),
    "birthday": gettext_lazy("The birthday must be a date in the past."),
    "first_name": gettext_lazy("Write your first name."),
}


def _profile_member(request: HttpRequest, memberships: list[Member]) -> Member | None:
    wanted = request.POST.get("member") if request.method == "POST" else None
    if wanted:
        for member in memberships:
            if str(member.pk) == wanted:
                return member
        raise Http404
    slug = request.GET.get("club")
    brand = page_brand(request)
    for member in memberships:
        if member.brand.slug == (slug or (brand.slug if brand else None)):
            return member
    return memberships[0] if memberships else None


@login_required
@require_http_methods(["GET", "POST"])
def portal_profile(request: HttpRequest) -> HttpResponse:
    """The member's own details in one club: names, phone (any way it is typed), birthday, language and
    interests. Advertising consent is on the settings page, where each change keeps its proof."""
    user = _signed_in(request)
    memberships = list(_memberships(user).order_by("brand__name"))
    member = _profile_member(request, memberships)
    if member is None:
        return render(request, "web/profile.html", {"member": None}, status=404)
    status = 200
    initial = {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "phone": phone_local(member.phone, member.brand.default_country),
        "birthday": member.birthday,
        "locale": member.locale,
        "interests": ", ".join(member.interests or []),
    }
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            changes = {
                name: data[name]
                for name in ("first_name", "last_name", "birthday", "locale")
                if data[name] != getattr(member, name)
            }
            if normalize_interests(data["interests"]) != (member.interests or []):
                changes["interests"] = data["interests"]
            if data["phone"] != initial["phone"]:
                changes["phone"] = data["phone"] or None
            try:
                if changes:
                    member_update(member=member, changes=changes, actor=Actor(user=user))
            except KesherError as refusal:
                field = refusal.field if refusal.field in form.fields else None
                form.add_error(field, str(PROFILE_REFUSALS.get(refusal.field or "", refusal.message)))
            else:
                response = HttpResponseRedirect(
                    f"{reverse('portal_profile')}?club={member.brand.slug}", status=303
                )
                if "locale" in changes:
                    translation.activate(member.locale)
                    response.set_cookie(
                        settings.LANGUAGE_COOKIE_NAME,
                        member.locale,
                        max_age=settings.LANGUAGE_COOKIE_AGE,
                        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                    )
                messages.success(request, _("Your details were saved."))
                return response
        status = 422
    else:
        form = ProfileForm(initial=initial)
    return render(
        request,
        "web/profile.html",
        {"brand": member.brand, "member": member, "form": form, "memberships": memberships},
        status=status,
    )


# --- the member's notification settings ---------------------------------------------------------

CHANNEL_NAMES = {
    "email": gettext_lazy("Email"),
    "sms": gettext_lazy("SMS"),
    "push": gettext_lazy("Push notifications"),
}
DIGEST_NAMES = {
    "off": gettext_lazy("Off"),
    "daily": gettext_lazy("Daily"),
    "weekly": gettext_lazy("Weekly"),
}


def _settings_wording(brand: Brand, channel: str, granted: bool) -> str:
    """The sentence beside the switch, in the reader's language; kept word for word as the proof."""
    club = {"club": brand.name}
    if granted and channel in ("email", "sms"):
        return _consent_wording(brand)[channel]
    sentences = {
        "push": _(
            "I agree to receive advertising from %(club)s by push notification: offers, benefits and club "
            "news. I can withdraw at any time."
        ),
        "-email": _("I no longer agree to receive advertising from %(club)s by email."),
        "-sms": _("I no longer agree to receive advertising from %(club)s by SMS."),
        "-push": _("I no longer agree to receive advertising from %(club)s by push notification."),
    }
    return sentences[channel if granted else f"-{channel}"] % club


@login_required
def portal_settings(request: HttpRequest) -> HttpResponse:
    """Per club card: advertising consent per channel, each one click away, and the community digest."""
    clubs = []
    for member in _memberships(_signed_in(request)).order_by("brand__name"):
        channels = [
            {
                "channel": channel,
                "name": name,
                "granted": member.consents[channel],
                "wording": _settings_wording(member.brand, channel, not member.consents[channel]),
            }
            for channel, name in CHANNEL_NAMES.items()
        ]
        clubs.append({"member": member, "channels": channels, "digest": digests.digest_frequency(member)})
    return render(
        request, "web/portal_settings.html", {"clubs": clubs, "digest_names": list(DIGEST_NAMES.items())}
    )


def _settings_member(request: HttpRequest) -> Member:
    try:
        return _memberships(_signed_in(request)).get(pk=uuid.UUID(request.POST.get("member", "")))
    except (ValueError, Member.DoesNotExist):
        raise Http404 from None


def _settings_url(member: Member) -> str:
    return f"{reverse('portal_settings')}#club-{member.brand.slug}"


@login_required
@require_POST
def portal_settings_consent(request: HttpRequest) -> HttpResponse:
    """One click turns one channel on or off, through the members part's consent service (the proof)."""
    member = _settings_member(request)
    channel = request.POST.get("channel", "")
    wanted = request.POST.get("granted", "")
    if channel not in CHANNEL_NAMES or wanted not in ("0", "1"):
        messages.error(request, _("This setting could not be changed. Nothing was changed."))
        return HttpResponseRedirect(_settings_url(member), status=303)
    granted = wanted == "1"
    # A second click of the same button (even at the same instant) records nothing more.
    consent_change(
        member=member,
        channel=channel,
        granted=granted,
        source="portal",
        wording=_settings_wording(member.brand, channel, granted),
        origin=_client_ip(request),
        actor=Actor(user=_signed_in(request)),
    )
    if granted:
        text = _("%(club)s · %(channel)s: advertising is on.")
    else:
        text = _("%(club)s · %(channel)s: advertising is off.")
    messages.success(request, text % {"club": member.brand.name, "channel": CHANNEL_NAMES[channel]})
    return HttpResponseRedirect(_settings_url(member), status=303)


@login_required
@require_POST
def portal_settings_digest(request: HttpRequest) -> HttpResponse:
    """How often the community's email digest comes: off, daily or weekly."""
    member = _settings_member(request)
    frequency = request.POST.get("frequency", "")
    try:
        digests.digest_frequency_set(member=member, frequency=frequency)
    except KesherError:
        messages.error(request, _("This setting could not be changed. Nothing was changed."))
    else:
        messages.success(
            request,
            _("Community digest for %(club)s: %(frequency)s.")
            % {"club": member.brand.name, "frequency": DIGEST_NAMES[frequency]},
        )
    return HttpResponseRedirect(_settings_url(member), status=303)


# --- the member's preferences: interests and channels ------------------------------------------

MAX_PREFERRED_INTERESTS = 30


def _topics(member: Member) -> list[str]:
    """What the member may choose from: the brand's magazine topics and community tags, then their own."""
    topics = brand_topics(brand=member.brand)
    for name in (
        Tag.objects.filter(brand_id=member.brand_id)
        .order_by("-question_count", "name")
        .values_list("name", flat=True)[:20]
    ):
        if name.lower() not in topics:
            topics.append(name.lower())
    return topics + [interest for interest in member.interests or [] if interest not in topics]


@login_required
@require_http_methods(["GET", "POST"])
def portal_preferences(request: HttpRequest) -> HttpResponse:
    """One club's interests (they order the magazine and pick the home's articles) and its advertising
    channels (each change kept with its proof, as the settings page does). Effective at once."""
    user = _signed_in(request)
    memberships = list(_memberships(user).order_by("brand__name"))
    member = _profile_member(request, memberships)
    if member is None:
        return render(request, "web/portal_preferences.html", {"member": None}, status=404)
    status = 200
    if request.method == "POST":
        chosen = request.POST.getlist("interests") + request.POST.get("other_interests", "").split(",")
        interests = normalize_interests(chosen)
        channels = set(request.POST.getlist("channels"))
        if len(interests) > MAX_PREFERRED_INTERESTS or not channels <= set(CHANNEL_NAMES):
            messages.error(request, _("These preferences could not be saved. Nothing was changed."))
            status = 422
        else:
            actor = Actor(user=user)
            with transaction.atomic():
                if interests != (member.interests or []):
                    member = member_update(member=member, changes={"interests": interests}, actor=actor)
                for channel in CHANNEL_NAMES:
                    granted = channel in channels
                    if member.consents[channel] != granted:
                        consent_change(
                            member=member,
                            channel=channel,
                            granted=granted,
                            source="portal_preferences",
                            wording=_settings_wording(member.brand, channel, granted),
                            origin=_client_ip(request),
                            actor=actor,
                        )
            messages.success(request, _("Your preferences were saved."))
            return HttpResponseRedirect(
                f"{reverse('portal_preferences')}?club={member.brand.slug}", status=303
            )
    chosen_now = set(member.interests or [])
    return render(
        request,
        "web/portal_preferences.html",
        {
            "brand": member.brand,
            "member": member,
            "memberships": memberships,
            "topics": [(topic, topic in chosen_now) for topic in _topics(member)],
            "channels": [
                {
                    "channel": channel,
                    "name": name,
                    "granted": member.consents[channel],
                    "wording": _settings_wording(member.brand, channel, True),
                }
                for channel, name in CHANNEL_NAMES.items()
            ],
        },
        status=status,
    )


# --- joining a club -----------------------------------------------------------------------------


def _consent_wording(brand: Brand) -> dict[str, str]:
    """The sentences next to the consent boxes, in the reader's language; kept word for word as proof."""
    return {
        "email": _(
            "I agree to receive advertising from %(club)s by email: offers, benefits and club news. "
            "I can withdraw at any time."
        )
        % {"club": brand.name},
        "sms": _(
            "I agree to receive advertising from %(club)s by SMS: offers, benefits and club news. "
            "I can withdraw at any time."
        )
        % {"club": brand.name},
    }


# A refusal from member_create, shown on the field it concerns: (code, field) -> (form field, message).
JOIN_REFUSALS: dict[tuple[str, str | None], tuple[str, Any]] = {
    ("validation_error", "phone"): (
        "phone",
        gettext_lazy("This does not look like a phone number. Any form works, such as 050-1234567."),
    ),
    ("validation_error", "email"): ("email", gettext_lazy("Enter a valid email address.")),
    ("duplicate_member", "email"): (
        "email",
        gettext_lazy("This email address is already in the club. Sign in to see your card."),
    ),
    ("duplicate_member", None): (
        "email",
        gettext_lazy("This email address is already in the club. Sign in to see your card."),
    ),
    ("validation_error", "birthday"): ("birthday", gettext_lazy("The birthday must be a date in the past.")),
    ("validation_error", "referral_code"): (
        "ref",
        gettext_lazy("No member has this invitation code. Check it, or leave it empty."),
    ),
}


def _client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: a forwarded header is whatever the client wrote unless a proxy we trust set it.
    return str(request.META.get("REMOTE_ADDR", ""))[:200]


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, brand_slug: str) -> HttpResponse:
    """The club's public sign-up form; the new member then chooses a password on the account pages."""
    brand = get_object_or_404(Brand, slug=brand_slug)
    wording = _consent_wording(brand)
    user = request.user
    already = (
        _memberships(user).filter(brand=brand).first()
        if isinstance(user, AbstractBaseUser) and user.is_authenticated
        else None
    )
    status = 200
    email_taken = False
    if request.method == "POST" and already is None:
        form = JoinForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            consents = {"email": bool(data["consent_email"]), "sms": bool(data["consent_sms"])}
            try:
                member = member_create(
                    brand=brand,
                    email=data["email"],
                    phone=data["phone"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    birthday=data["birthday"],
                    locale=(get_language() or brand.default_locale)[:2],
                    source="web",
                    consents=consents,
                    consent_wording="\n".join(f"{channel}: {wording[channel]}" for channel in consents),
                    consent_origin=_client_ip(request),
                    referral_code=data["ref"] or None,
                )
            except KesherError as refusal:
                field, message = JOIN_REFUSALS.get((refusal.code, refusal.field), (None, refusal.message))
                form.add_error(field, str(message))
                email_taken = refusal.code == "duplicate_member"
            else:
                messages.success(
                    request,
                    _("Welcome to the %(club)s club! Your card number is %(card)s.")
                    % {"club": brand.name, "card": card_groups(member.card_number)},
                )
                if isinstance(user, AbstractBaseUser) and user.is_authenticated:
                    memberships_link(user=user)
                    return HttpResponseRedirect(f"{reverse('portal')}#club-{brand.slug}", status=303)
                # The second and last screen: the card itself, shown to this browser only.
                request.session[f"{NEW_CARD_KEY}:{brand.slug}"] = str(member.pk)
                return HttpResponseRedirect(reverse("join_card", args=[brand.slug]), status=303)
        status = 422 if form.errors else 200
    else:
        form = JoinForm(initial={"ref": (request.GET.get("ref") or "").strip().upper()[:20]})
    remember_brand(request, brand)
    return render(
        request,
        "web/join.html",
        {"brand": brand, "form": form, "wording": wording, "already": already, "email_taken": email_taken},
        status=status,
    )


NEW_CARD_KEY = "kesher_new_card"


def join_card(request: HttpRequest, brand_slug: str) -> HttpResponse:
    """The card a person just got by joining: its number and QR code, usable at the till at once, and
    an offer to choose a password to see the points online. Only the browser that joined sees it."""
    brand = get_object_or_404(Brand, slug=brand_slug)
    member_id = request.session.get(f"{NEW_CARD_KEY}:{brand.slug}")
    member = (
        Member.objects.filter(brand=brand, pk=member_id).exclude(status=MemberStatus.ERASED).first()
        if member_id
        else None
    )
    if member is None:
        return HttpResponseRedirect(reverse("join", args=[brand.slug]))
    signup = f"{reverse('account_signup')}?{urlencode({'email': member.email or ''})}"
    return render(
        request,
        "web/join_card.html",
        {"brand": brand, "member": member, "qr": _qr_svg(member.card_number, scale=4), "signup_url": signup},
    )


# --- checking in at a store ---------------------------------------------------------------------


def check_in(request: HttpRequest, brand_slug: str, store_code: str) -> HttpResponse:
    """Opened from the QR code on a store's counter: one visit per store per day, which a rule may reward.
    A visitor not signed in is invited to join (or to sign in) instead of being stopped at a login page."""
    brand = get_object_or_404(Brand, slug=brand_slug)
    if not request.user.is_authenticated:
        store = get_object_or_404(Store, brand=brand, code=store_code, active=True)
        remember_brand(request, brand)
        return render(
            request,
            "web/check_in.html",
            {"brand": brand, "store_name": store.name, "member": None, "guest": True},
        )
    member = _memberships(_signed_in(request)).filter(brand=brand).order_by("joined_at", "pk").first()
    if member is None:
        store = get_object_or_404(Store, brand=brand, code=store_code, active=True)
        return render(
            request, "web/check_in.html", {"brand": brand, "store_name": store.name, "member": None}
        )
    activity, created = store_check_in(member=member, store_code=store_code)  # unknown store: NotFound, a 404
    points = (
        LedgerEntry.objects.filter(activity=activity, kind=LedgerEntry.Kind.EARN).aggregate(
            total=Sum("points")
        )["total"]
        or 0
    )
    return render(
        request,
        "web/check_in.html",
        {
            "brand": brand,
            "store_name": (activity.attributes or {}).get("store", ""),
            "member": member,
            "first_visit_today": created,
            "points": points,
        },
    )


# --- the cashier's counter ----------------------------------------------------------------------

# What a cashier reads when a coupon cannot be used; the services' own messages are for integrators.
COUPON_REFUSALS = {
    "coupon_not_found": gettext_lazy("No coupon with this code in this club."),
    "coupon_used": gettext_lazy("This coupon was already used."),
    "coupon_expired": gettext_lazy("This coupon has expired."),
    "coupon_code_missing": gettext_lazy("Type the coupon's code."),
}


def _cashier_brand(request: HttpRequest, slug: str | None) -> tuple[Brand, list[Brand]]:
    """The brand the cashier works in: one they are staff of. Another brand is not found, not forbidden,
    so the page does not tell which brands exist."""
    brands = [membership.brand for membership in staff_brands(user=_signed_in(request))]
    if not brands:
        raise PermissionDenied
    if not slug:
        return brands[0], brands
    for brand in brands:
        if brand.slug == slug:
            return brand, brands
    raise Http404


def _member_panel(member: Member, request: HttpRequest | None = None) -> dict[str, Any]:
    if request is not None:  # a staff look at the member's data is logged (kesher/privacy, issue 18)
        access_record(
            brand=member.brand, actor=Actor(user=_signed_in(request)), member_id=member.pk, kind="cashier"
        )
    now = timezone.now()
    return {
        "member": member,
        "points": loyalty.points_summary(member=member),
        "coupons": [
            coupon
            for coupon in loyalty.coupon_wallet(member=member)
            if coupon.status == Coupon.Status.ISSUED and coupon.expires_at > now
        ],
    }


@login_required
@require_http_methods(["GET", "POST"])
def cashier(request: HttpRequest) -> HttpResponse:
    """Find a member by phone, card or email; see the balance; burn a coupon by its code."""
    params = request.POST if request.method == "POST" else request.GET
    brand, brands = _cashier_brand(request, params.get("brand"))
    query = (request.GET.get("q") or "").strip()
    context: dict[str, Any] = {"brand": brand, "brands": brands, "query": query, "results": [], "panel": None}
    status = 200

    if request.method == "POST":
        code = (request.POST.get("code") or "").strip()
        try:
            if not code:
                raise ValidationFailed("Type the coupon's code", field="code", code="coupon_code_missing")
            coupon = coupon_redeem(brand=brand, code=code, actor=Actor(user=_signed_in(request)))
        except KesherError as refusal:
            context["code"] = code
            context["refusal"] = str(COUPON_REFUSALS.get(refusal.code, refusal.message))
            status = refusal.status
        else:
            messages.success(
                request,
                _("Coupon %(code)s used: %(reward)s for %(name)s.")
                % {"code": coupon.code, "reward": coupon.reward.name, "name": coupon.member},
            )
            # Post, redirect, get: a reload shows the member again and cannot burn twice.
            back = urlencode({"brand": brand.slug, "member": str(coupon.member_id)})
            return HttpResponseRedirect(f"{reverse('cashier')}?{back}", status=303)
        member_id = request.POST.get("member")
    else:
        member_id = request.GET.get("member")

    if member_id:
        try:
            context["panel"] = _member_panel(member_get(brand=brand, member_id=member_id), request)
        except NotFound:
            raise Http404 from None
    elif query:
        results = member_find(brand=brand, query=query)
        context["results"] = results
        if len(results) == 1:
            context["panel"] = _member_panel(results[0], request)
        elif not results:
            status = 404
    return render(request, "web/cashier.html", context, status=status)


@dataclass(frozen=True)
class StorePoster:
    store: Store
    url: str
    qr: SafeString


@login_required
def cashier_stores(request: HttpRequest) -> HttpResponse:
    """One printable poster per store: the QR code members scan at the counter to check in."""
    brand, brands = _cashier_brand(request, request.GET.get("brand"))
    posters = []
    for store in Store.objects.filter(brand=brand, active=True).order_by("name", "code"):
        url = request.build_absolute_uri(reverse("check_in", args=[brand.slug, store.code]))
        posters.append(StorePoster(store=store, url=url, qr=_qr_svg(url, scale=8)))
    return render(request, "web/cashier_stores.html", {"brand": brand, "brands": brands, "posters": posters})


# --- operations ---------------------------------------------------------------------------------


def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # a health check reports, it does not raise
        checks["database"] = f"error: {exc.__class__.__name__}"
    if settings.BROKER_URL:
        from config.celery import app

        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"error: {exc.__class__.__name__}"
    else:
        checks["broker"] = "in-process"
    healthy = all(value in ("ok", "in-process") for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503)


# --- the brand's images -------------------------------------------------------------------------


def brand_image(request: HttpRequest, brand_slug: str, kind: str, name: str) -> HttpResponse:
    """The brand's logo or favicon from the storage (a local folder by default, or S3): only the current
    one, under its own name, so a replaced image is never served again and the current one is cached."""
    brand = get_object_or_404(Brand, slug=brand_slug)
    image = getattr(brand, kind, None) if kind in ("logo", "favicon") else None
    if not image or image.name.rpartition("/")[2] != name:
        raise Http404
    extension = name.rpartition(".")[2].lower()
    types = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}
    with image.open("rb") as stored:
        body = stored.read()
    response = HttpResponse(body, content_type=types.get(extension, "image/vnd.microsoft.icon"))
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response
