"""What each kind of import takes, the guessed column mapping, and checking one row (nothing written)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from kesher.core.errors import ValidationFailed
from kesher.customers.cleansing import Problem, email_clean, email_suggestion, name_clean, phone_clean
from kesher.customers.models import ImportKind

# Each field of a kind, with the column names it is guessed from (compared lower-cased, without spaces,
# dashes and underscores), English and Hebrew.
FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    ImportKind.MEMBERS: {
        "external_id": (
            "externalid",
            "id",
            "customerid",
            "memberid",
            "clientid",
            "מזהה",
            "מספרלקוח",
            "קודלקוח",
        ),
        "first_name": ("firstname", "first", "givenname", "name", "שםפרטי", "שם"),
        "last_name": ("lastname", "last", "surname", "familyname", "שםמשפחה", "משפחה"),
        "email": ("email", "mail", "emailaddress", "אימייל", "דואל", "דואראלקטרוני", 'דוא"ל', "מייל"),
        "phone": ("phone", "mobile", "cell", "tel", "telephone", "phonenumber", "טלפון", "נייד", "סלולרי"),
        "birthday": ("birthday", "birthdate", "dateofbirth", "dob", "תאריךלידה", "יוםהולדת"),
        "locale": ("locale", "language", "lang", "שפה"),
        "store": ("store", "storecode", "branch", "homestore", "חנות", "סניף"),
        "consent_email": ("consentemail", "emailconsent", "emailoptin", "הסכמהלדואל", "הסכמהלמייל"),
        "consent_sms": ("consentsms", "smsconsent", "smsoptin", "הסכמהלסמס", "הסכמהלמסרונים"),
    },
    ImportKind.PURCHASES: {
        "external_id": (
            "externalid",
            "id",
            "purchaseid",
            "orderid",
            "receipt",
            "invoice",
            "מספרקבלה",
            "מזהה",
        ),
        "member_external_id": (
            "memberexternalid",
            "customerid",
            "memberid",
            "clientid",
            "מספרלקוח",
            "קודלקוח",
        ),
        "occurred_at": ("occurredat", "date", "purchasedate", "datetime", "time", "תאריך", "תאריךרכישה"),
        "amount": ("amount", "total", "sum", "price", "סכום", 'סה"כ', "סהכ"),
        "currency": ("currency", "מטבע"),
        "store": ("store", "storecode", "branch", "חנות", "סניף"),
    },
    ImportKind.BALANCES: {
        "external_id": ("externalid", "id", "balanceid", "מזהה"),
        "member_external_id": (
            "memberexternalid",
            "customerid",
            "memberid",
            "clientid",
            "מספרלקוח",
            "קודלקוח",
        ),
        "points": ("points", "balance", "pointsbalance", "נקודות", "יתרה", "יתרתנקודות"),
        "expires_at": ("expiresat", "expiry", "expirydate", "expires", "validuntil", "תוקף", "תאריךתפוגה"),
    },
}
REQUIRED: dict[str, tuple[str, ...]] = {
    ImportKind.MEMBERS: ("external_id",),
    ImportKind.PURCHASES: ("external_id", "member_external_id", "amount"),
    ImportKind.BALANCES: ("member_external_id", "points"),
}
_TRUE = {"1", "true", "yes", "y", "כן", "v", "x"}
_FALSE = {"0", "false", "no", "n", "לא", ""}


def _squash(name: str) -> str:
    return re.sub(r"[\s_\-.:]", "", name.strip().lower())


def mapping_guess(header: list[str], kind: str) -> dict[str, str]:
    """Field → column for the columns whose names say what they hold; each column used once."""
    guessed: dict[str, str] = {}
    columns = {_squash(column): column for column in header if column}
    for name, aliases in FIELDS[kind].items():
        for alias in (_squash(name), *aliases):
            column = columns.get(alias)
            if column is not None and column not in guessed.values():
                guessed[name] = column
                break
    return guessed


def mapping_check(mapping: dict[str, str], header: list[str], kind: str) -> None:
    unknown = set(mapping) - set(FIELDS[kind])
    if unknown:
        raise ValidationFailed(f"no such field {sorted(unknown)[0]!r}", field="mapping")
    absent = [column for column in mapping.values() if column and column not in header]
    if absent:
        raise ValidationFailed(f"the file has no column {absent[0]!r}", field="mapping")
    missing = [name for name in REQUIRED[kind] if not mapping.get(name)]
    if missing:
        raise ValidationFailed(f"map a column to {missing[0]!r}", field="mapping")


@dataclass
class Context:
    """What checking rows needs to know of the brand: its stores, country and time zone."""

    stores: set[str]
    country: str
    time_zone: str
    today: date = field(default_factory=timezone.localdate)


@dataclass
class Checked:
    number: int  # the row's number among the data rows, from 1 (the file's line is number + 1)
    values: dict[str, Any]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not any(p.code != "email_typo" for p in self.problems)


def _date(text: str) -> date:
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text[:19], pattern).date()  # noqa: DTZ007 (a calendar date only)
        except ValueError:
            continue
    raise ValueError(text)


def _when(text: str, time_zone: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        moment = datetime.combine(_date(text), time(12))
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=ZoneInfo(time_zone))
    return moment


def _flag(text: str) -> bool | None:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None


def row_check(kind: str, number: int, raw: dict[str, str], context: Context) -> Checked:
    """The row's values cleaned, and each problem with what is wrong and why."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []

    def bad(name: str, code: str, message: str, suggestion: str = "") -> None:
        problems.append(Problem(field=name, code=code, message=message, suggestion=suggestion))

    for name in REQUIRED[kind]:
        if not raw.get(name, "").strip():
            bad(name, "missing", f"{name} is required")
    for name in ("external_id", "member_external_id"):
        if name in raw:
            values[name] = raw[name].strip()[:100] or None
    store = raw.get("store", "").strip()
    if store:
        if store.lower() not in context.stores:
            bad("store", "unknown_store", f"no store has the code {store!r}")
        values["store"] = store.lower()
    if kind == ImportKind.MEMBERS:
        values["first_name"] = name_clean(raw.get("first_name"))
        values["last_name"] = name_clean(raw.get("last_name"))
        try:
            values["email"] = email_clean(raw.get("email"))
        except ValidationFailed:
            bad("email", "bad_email", f"{raw.get('email')!r} is not an email address")
        suggestion = email_suggestion(values.get("email"))
        if suggestion:
            bad("email", "email_typo", f"did you mean {suggestion}? (imported as written)", suggestion)
        try:
            values["phone"] = phone_clean(raw.get("phone"), default_country=context.country)
        except ValidationFailed:
            bad(
                "phone",
                "bad_phone",
                f"{raw.get('phone')!r} is not a phone number (too short, too long or letters)",
            )
        text = raw.get("birthday", "").strip()
        values["birthday"] = None
        if text:
            try:
                born = _date(text)
            except ValueError:
                bad("birthday", "bad_birthday", f"{text!r} is not a date")
            else:
                if not date(1900, 1, 1) <= born <= context.today:
                    bad(
                        "birthday",
                        "impossible_birthday",
                        f"{born.isoformat()} is in the future or before 1900",
                    )
                elif born.year > context.today.year - 5:
                    bad(
                        "birthday", "impossible_birthday", f"{born.isoformat()} would make the member under 5"
                    )
                else:
                    values["birthday"] = born
        locale = raw.get("locale", "").strip().lower()[:2]
        if locale and locale not in ("he", "en"):
            bad("locale", "bad_locale", f"{locale!r} is not a language Kesher speaks (he, en)")
        values["locale"] = locale or None
        for channel in ("email", "sms"):
            name = f"consent_{channel}"
            if name in raw:
                flag = _flag(raw[name])
                if flag is None:
                    bad(name, "bad_consent", f"{raw[name]!r} is neither yes nor no")
                values[name] = flag
    elif kind == ImportKind.PURCHASES:
        try:
            amount = Decimal(raw.get("amount", "").replace(",", "").replace("₪", "").strip())
            if amount < 0 or not amount.is_finite():
                raise InvalidOperation
            values["amount"] = str(amount.quantize(Decimal("0.01")))
        except InvalidOperation:
            if raw.get("amount", "").strip():
                bad("amount", "bad_amount", f"{raw.get('amount')!r} is not an amount of money")
        values["currency"] = (raw.get("currency", "") or "ILS").strip().upper()
        text = raw.get("occurred_at", "").strip()
        values["occurred_at"] = None
        if text:
            try:
                values["occurred_at"] = _when(text, context.time_zone)
            except ValueError:
                bad("occurred_at", "bad_date", f"{text!r} is not a date")
            else:
                if values["occurred_at"] > timezone.now():
                    bad("occurred_at", "future_date", "a purchase cannot be in the future")
    elif kind == ImportKind.BALANCES:
        text = raw.get("points", "").replace(",", "").strip()
        if text:
            try:
                points = int(Decimal(text))
                if points <= 0 or points > 100_000_000:
                    raise ValueError
                values["points"] = points
            except (InvalidOperation, ValueError):
                bad("points", "bad_points", f"{text!r} is not a positive whole number of points")
        text = raw.get("expires_at", "").strip()
        values["expires_at"] = None
        if text:
            try:
                values["expires_at"] = datetime.combine(
                    _date(text), time(23, 59, 59), tzinfo=ZoneInfo(context.time_zone)
                )
            except ValueError:
                bad("expires_at", "bad_date", f"{text!r} is not a date")
        values["external_id"] = values.get("external_id") or values.get("member_external_id")
    return Checked(number=number, values=values, problems=problems)
