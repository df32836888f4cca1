"""The ways a message leaves: email through Django's email backend (KESHER_EMAIL_URL), SMS through a
provider adapter chosen by URL (KESHER_SMS_URL, or the brand's own).

Every failure is sorted into one of three, because that decides whether a retry is safe:
NotSent (nothing left: retry later), Refused (the recipient is refused for good: a bounce), and anything
else, where the message may have left, so it is never sent again.
"""

from __future__ import annotations

import base64
import json
import logging
import smtplib
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend

log = logging.getLogger(__name__)
HTTP_TIMEOUT = 15


class NotSent(Exception):
    """Nothing left this server; the message may be tried again later."""


class Refused(Exception):
    """The recipient is refused for good (unknown mailbox, invalid number): a bounce."""


# --- email -------------------------------------------------------------------------------------------

# Raised before any message data reached the server: nothing was accepted.
_SMTP_NOT_SENT = (
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
    smtplib.SMTPAuthenticationError,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPNotSupportedError,
    ConnectionRefusedError,
    socket.gaierror,
)


class EmailChannel:
    """One open connection for a batch of messages."""

    def __init__(self) -> None:
        self.connection: BaseEmailBackend | None = None

    def __enter__(self) -> EmailChannel:
        self.connection = get_connection(fail_silently=False)
        try:
            self.connection.open()
        except _SMTP_NOT_SENT as exc:
            raise NotSent(f"mail server unreachable: {exc}") from exc
        except OSError as exc:
            raise NotSent(f"mail server unreachable: {exc}") from exc
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:  # closing a broken connection is not worth failing a batch for
                log.warning("closing the mail connection failed", exc_info=True)

    def _reset(self) -> None:
        """Drop a connection in an unknown state; the next send opens a new one."""
        if self.connection is None:
            return
        try:
            self.connection.close()
        except Exception:
            log.warning("closing the mail connection failed", exc_info=True)

    def send(self, email: EmailMultiAlternatives) -> None:
        assert self.connection is not None, "use EmailChannel as a context manager"
        try:
            self.connection.open()  # nothing when open; reconnects after a drop
        except (*_SMTP_NOT_SENT, OSError) as exc:
            raise NotSent(f"mail server unreachable: {exc}") from exc
        email.connection = self.connection
        try:
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(400 <= code < 500 for code in codes):
                raise NotSent(f"recipient deferred: {exc.recipients}") from exc
            raise Refused(f"recipient refused: {exc.recipients}") from exc
        except smtplib.SMTPDataError as exc:
            # The server answered the data with a refusal: it did not take the message.
            if 400 <= exc.smtp_code < 500:
                raise NotSent(f"message deferred: {exc.smtp_code} {exc.smtp_error!r}") from exc
            raise Refused(f"message refused: {exc.smtp_code} {exc.smtp_error!r}") from exc
        except _SMTP_NOT_SENT as exc:
            self._reset()
            raise NotSent(str(exc)) from exc
        except Exception:
            self._reset()
            raise


# --- SMS ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sms:
    to: str
    text: str
    sender: str
    reference: str  # our message id; a provider that dedupes by it makes retries harmless
    status_url: str  # where the provider posts the delivery receipt


class SmsProvider(Protocol):
    name: str

    def send(self, sms: Sms) -> str:
        """Send one SMS; the provider's id for it. Raises NotSent or Refused as above."""
        ...


def _post(url: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode(errors="replace")
        if exc.code in (429, 502, 503, 504):
            raise NotSent(f"provider busy: {exc.code} {detail}") from exc
        if 400 <= exc.code < 500:
            raise Refused(f"provider refused: {exc.code} {detail}") from exc
        raise
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ConnectionRefusedError | socket.gaierror):
            raise NotSent(f"provider unreachable: {exc.reason}") from exc
        raise
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _split_credentials(parsed: urllib.parse.SplitResult) -> tuple[str, str, str]:
    """(user, password, netloc without them)."""
    user = urllib.parse.unquote(parsed.username or "")
    password = urllib.parse.unquote(parsed.password or "")
    host = parsed.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parsed.port:
        netloc += f":{parsed.port}"
    return user, password, netloc


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class GenericHttpSms:
    """POSTs JSON {to, from, text, reference, status_url} to a URL, with Basic auth from the URL's user
    and password; reads the provider's id from the answer's `id`."""

    name = "http"

    def __init__(self, url: str) -> None:
        parsed = urllib.parse.urlsplit(url)
        self.user, self.password, netloc = _split_credentials(parsed)
        self.url = urllib.parse.urlunsplit((parsed.scheme, netloc, parsed.path or "/", parsed.query, ""))

    def send(self, sms: Sms) -> str:
        headers = {"Content-Type": "application/json"}
        if self.user or self.password:
            headers["Authorization"] = _basic(self.user, self.password)
        body = json.dumps(
            {
                "to": sms.to,
                "from": sms.sender,
                "text": sms.text,
                "reference": sms.reference,
                "status_url": sms.status_url,
            },
            ensure_ascii=False,
        ).encode()
        answer = _post(self.url, body, headers)
        return str(answer.get("id") or answer.get("message_id") or "")


class TwilioSms:
    """Twilio's Messages API: twilio://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com?from=+972...
    (twilio+http://... for a local stand-in). The sender is the brand's, else `from`, else
    `messaging_service` (a Messaging Service SID)."""

    name = "twilio"

    def __init__(self, url: str) -> None:
        parsed = urllib.parse.urlsplit(url)
        self.account, self.token, netloc = _split_credentials(parsed)
        scheme = "http" if parsed.scheme == "twilio+http" else "https"
        query = urllib.parse.parse_qs(parsed.query)
        self.default_from = query.get("from", [""])[0]
        self.messaging_service = query.get("messaging_service", [""])[0]
        self.endpoint = f"{scheme}://{netloc}/2010-04-01/Accounts/{self.account}/Messages.json"

    def send(self, sms: Sms) -> str:
        form = {"To": sms.to, "Body": sms.text, "StatusCallback": sms.status_url}
        sender = sms.sender or self.default_from
        if sender:
            form["From"] = sender
        elif self.messaging_service:
            form["MessagingServiceSid"] = self.messaging_service
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": _basic(self.account, self.token),
        }
        answer = _post(self.endpoint, urllib.parse.urlencode(form).encode(), headers)
        return str(answer.get("sid") or "")


@dataclass
class LocmemSms:
    """Keeps what it sends in `outbox` (tests and demos)."""

    name: str = "locmem"
    outbox: list[Sms] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, sms: Sms) -> str:
        with self.lock:
            self.outbox.append(sms)
            return f"locmem-{len(self.outbox)}"


class ConsoleSms:
    """Writes each SMS to the log: the embedded default, so nothing leaves by accident."""

    name = "console"

    def send(self, sms: Sms) -> str:
        log.info("sms", extra={"to": sms.to, "text": sms.text, "reference": sms.reference})
        return ""


LOCMEM = LocmemSms()


def sms_provider(url: str | None = None) -> SmsProvider:
    """The adapter a URL names: http(s)://… generic, twilio://… Twilio, locmem: and console: for tests."""
    url = url or settings.KESHER_SMS_URL or "console:"
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("http", "https"):
        return GenericHttpSms(url)
    if scheme in ("twilio", "twilio+http"):
        return TwilioSms(url)
    if scheme == "locmem":
        return LOCMEM
    if scheme == "console":
        return ConsoleSms()
    raise ValueError(f"unknown SMS provider URL scheme {scheme!r} (http, https, twilio, locmem, console)")
