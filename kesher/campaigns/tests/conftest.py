"""Real parts for the campaign tests: an SMTP server (aiosmtpd) that keeps what it receives, and an HTTP
server standing in for an SMS provider that records every request."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

from kesher.brands.models import Brand
from kesher.members.models import Member
from kesher.members.tests.factories import MemberFactory

# A Tuesday at noon in Israel: no quiet hours, no Shabbat.
WEEKDAY_NOON = datetime(2026, 3, 10, 12, 0, tzinfo=ZoneInfo("Asia/Jerusalem"))


@pytest.fixture(autouse=True)
def _plain_static_files(settings: Any) -> None:
    """Pages use {% static %}; the hashed-manifest storage would need `collectstatic` first."""
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.KESHER_BASE_URL = "https://club.kesher.test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    at: float = field(default_factory=time.monotonic)  # when the server had it all (time.monotonic)

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class SmtpSink:
    """aiosmtpd handler: keeps every accepted message; `on_rcpt` and `on_data` let a test act
    mid-conversation (`on_data` runs once the message is kept and before the server answers it)."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    on_rcpt: Callable[[str, int], None] | None = None
    on_data: Callable[[int], None] | None = None
    rcpt_count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        with self.lock:
            self.rcpt_count += 1
            count = self.rcpt_count
        if self.on_rcpt is not None:
            self.on_rcpt(address, count)
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
            count = len(self.received)
        if self.on_data is not None:
            self.on_data(count)
        return "250 Message accepted"

    def to(self, address: str) -> list[Received]:
        return [item for item in self.received if address in item.rcpt_tos]


@dataclass
class SmtpServer:
    host: str
    port: int
    sink: SmtpSink


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpServer]:
    """A real SMTP server on a free port, and Django's SMTP backend pointed at it."""
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    settings.DEFAULT_FROM_EMAIL = "Kesher <club@kesher.test>"
    try:
        yield SmtpServer(host="127.0.0.1", port=port, sink=sink)
    finally:
        controller.stop()


@dataclass
class ProviderRequest:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def form(self) -> dict[str, str]:
        return {key: values[0] for key, values in urllib.parse.parse_qs(self.body.decode()).items()}


@dataclass
class SmsProviderServer:
    url: str
    requests: list[ProviderRequest]
    answers: dict[str, tuple[int, dict[str, Any]]]  # by number: (status, JSON); default 200 {"id": ...}


@pytest.fixture
def sms_server() -> Iterator[SmsProviderServer]:
    """A local HTTP server standing in for the SMS provider: records each request and answers it."""
    requests: list[ProviderRequest] = []
    answers: dict[str, tuple[int, dict[str, Any]]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = ProviderRequest(self.path, dict(self.headers.items()), self.rfile.read(length))
            requests.append(request)
            to = (
                request.json["to"]
                if "json" in request.headers.get("Content-Type", "")
                else request.form["To"]
            )
            status, body = answers.pop(to) if to in answers else (200, {"id": f"prov-{len(requests)}"})
            if "Messages.json" in self.path and status == 200 and "sid" not in body:
                body = {"sid": f"SM{len(requests):032d}"}
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SmsProviderServer(
            url=f"http://127.0.0.1:{server.server_port}", requests=requests, answers=answers
        )
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def weekday_noon() -> Iterator[datetime]:
    """Pin the clock (django.utils.timezone.now, which the code reads) to a weekday noon, so SMS tests
    do not depend on the hour or the day they run."""
    with mock.patch("django.utils.timezone.now", return_value=WEEKDAY_NOON):
        yield WEEKDAY_NOON


def member(brand: Brand, **fields: Any) -> Member:
    return cast(Member, MemberFactory(brand=brand, **fields))
