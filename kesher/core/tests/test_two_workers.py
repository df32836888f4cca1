"""The embedded default as `make run` starts it: `kesher run` with two worker processes on SQLite. A change
made through one process shows on the very next page load served by either process."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="tells workers apart by /proc")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _server_side_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the accepted socket at the server's end of our connection (from /proc/net/tcp)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == client_port:
            return inode
    return None


def _owner(inode: str, pids: set[int]) -> int | None:
    target = f"socket:[{inode}]"
    for pid in pids:
        fds = Path(f"/proc/{pid}/fd")
        try:
            for fd in fds.iterdir():
                try:
                    if os.readlink(fd) == target:
                        return pid
                except OSError:
                    continue
        except OSError:
            continue
    return None


@dataclass
class Server:
    port: int
    workers: set[int]
    env: dict[str, str]

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str, int | None]:
        """One request on a connection of its own: (status, body, the worker process that served it)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=data, headers=headers or {})
            response = conn.getresponse()
            text = response.read().decode()
            # The connection is kept open (HTTP/1.1): the worker still holds its end of it.
            client_port = conn.sock.getsockname()[1]
            inode = _server_side_inode(self.port, client_port)
            served_by = _owner(inode, self.workers) if inode else None
            return response.status, text, served_by
        finally:
            conn.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    var = tmp_path_factory.mktemp("var")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("KESHER_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update({"KESHER_VAR_DIR": str(var), "KESHER_LOG_FORMAT": "text", "KESHER_EMAIL_URL": "locmem:"})
    kesher = str(Path(sys.executable).with_name("kesher"))
    # A brand of its own rather than --demo-if-empty, whose 500 demo members take minutes to load.
    subprocess.run([kesher, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run(
        [kesher, "brand", "create", "--slug", "northwind", "--name", "Northwind", "--locale", "en"],
        env=env,
        check=True,
        capture_output=True,
    )
    port = _free_port()
    log = (var / "server.log").open("wb")
    process = subprocess.Popen(
        [kesher, "run", "--workers", "2", "--threads", "1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        workers: set[int] = set()
        while time.monotonic() < deadline:
            assert process.poll() is None, (var / "server.log").read_text()
            workers = _children(process.pid)
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    pass
                if len(workers) >= 2:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert len(workers) == 2, f"expected two workers under {process.pid}, found {workers}"
        yield Server(port=port, workers=workers, env=env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _api_key(server: Server, brand: str) -> str:
    kesher = str(Path(sys.executable).with_name("kesher"))
    done = subprocess.run(
        [kesher, "apikey", "create", "--brand", brand, "--scope", "all"],
        env=server.env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def _loads_from_both(server: Server, path: str, check: Any, *, at_least: int = 6) -> None:
    """Load the page until each worker has served it at least twice (and `at_least` loads in all); every
    load must pass `check`."""
    served: dict[int, int] = {}
    loads = 0
    while loads < 200 and (len(served) < 2 or min(served.values()) < 2 or loads < at_least):
        status, text, pid = server.call("GET", path)
        assert status == 200, text[:500]
        assert check(text), f"load {loads + 1}, served by {pid}"
        if pid is not None:
            served[pid] = served.get(pid, 0) + 1
        loads += 1
    assert set(served) == server.workers, f"both workers should have served {path}: {served}"


def test_an_answer_an_acceptance_and_a_moderation_show_on_every_worker(server: Server) -> None:
    key = _api_key(server, "northwind")
    run = uuid.uuid4().hex[:8]

    def api(method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        if method == "POST":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        status, text, _ = server.call(method, f"/api/v1{path}", body, headers)
        assert status in (200, 201), text
        return json.loads(text)

    asker = api("POST", "/members", {"external_id": f"ask-{run}", "email": f"ask-{run}@example.com"})
    helper = api("POST", "/members", {"external_id": f"help-{run}", "email": f"help-{run}@example.com"})
    question = api(
        "POST",
        "/community/questions",
        {
            "member_id": asker["id"],
            "space": "general",
            "title": f"Which boots keep water out {run}",
            "body": "I walk to work in the rain every winter and my boots let water in by noon.",
        },
    )
    if question["status"] != "published":  # a newcomer's first question may wait for a moderator
        question = api(
            "POST", f"/community/posts/{question['id']}/moderation", {"action": "restore", "reason": "fine"}
        )
    page = f"/community/northwind/q/{question['id']}/{quote(question['slug'])}/"
    answer_text = f"Waxed leather boots with a gusseted tongue, answer {run}"

    # Both workers have rendered and kept the page before the answer.
    _loads_from_both(server, page, lambda html: question["title"] in html and answer_text not in html)

    answered = {"member_id": helper["id"], "body": answer_text}
    answer = api("POST", f"/community/questions/{question['id']}/answers", answered)
    if answer["status"] != "published":
        restore = {"action": "restore", "reason": "fine"}
        answer = api("POST", f"/community/posts/{answer['id']}/moderation", restore)
    _loads_from_both(server, page, lambda html: answer_text in html and 'data-test="accepted"' not in html)

    api("POST", f"/community/answers/{answer['id']}/accept", {"member_id": asker["id"]})
    _loads_from_both(server, page, lambda html: answer_text in html and 'data-test="accepted"' in html)

    api("POST", f"/community/posts/{answer['id']}/moderation", {"action": "hide", "reason": "off topic"})
    _loads_from_both(server, page, lambda html: answer_text not in html)
