"""Hebrew lemmas from Debian's hspell (`hspell -l`), one subprocess for a whole batch of words, cached.

hspell reads ISO-8859-8, not UTF-8, and prints, for every word it knows, a header line
("מילה חוקית: מעולים" or, when it peeled prefixes off, "צירוף חוקי: ו+מעולים") followed by one
tab-indented line per reading ("\tמעולה(ת,ז,רבים)"). Words it does not know are listed at the end,
without readings. When the binary is missing or fails, `lemmas` returns nothing and the analyser uses
its own prefix and suffix stripping only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterable

ENCODING = "iso-8859-8"
HEADERS = ("מילה חוקית: ", "צירוף חוקי: ")
CACHE_MAX = 500_000
TIMEOUT = 30.0

_cache: dict[str, tuple[str, ...]] = {}
_lock = threading.Lock()
_binary: list[str | None] = []


def binary() -> str | None:
    if not _binary:
        if os.environ.get("KESHER_HSPELL", "").lower() in {"0", "off", "no", "false"}:
            _binary.append(None)
        else:
            _binary.append(shutil.which("hspell"))
    return _binary[0]


def parse(output: str) -> dict[str, tuple[str, ...]]:
    """hspell -l's output → {word as given: its lemmas, most likely first, without duplicates}."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        if line.startswith("\t"):
            if current is not None:
                lemma = line.strip().split("(", 1)[0]
                if lemma and lemma not in current:
                    current.append(lemma)
            continue
        current = None
        for header in HEADERS:
            if line.startswith(header):
                word = line[len(header) :].strip().replace("+", "")
                current = found.setdefault(word, [])
                break
    return {word: tuple(lemmas) for word, lemmas in found.items()}


def lemmas_lookup(words: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The lemmas of each Hebrew word (empty when hspell does not know it), asking hspell only once for
    the words not seen before."""
    words = set(words)
    missing = [word for word in words if word not in _cache]
    if missing and binary() is not None:
        _ask(missing)
    return {word: _cache.get(word, ()) for word in words}


def lemmas_cached(word: str) -> tuple[str, ...] | None:
    """What hspell said about the word before, None when it was never asked."""
    return _cache.get(word)


def _ask(words: list[str]) -> None:
    command = binary()
    assert command is not None
    data = "\n".join(word for word in words if _encodable(word)).encode(ENCODING)
    try:
        done = subprocess.run([command, "-l"], input=data, capture_output=True, timeout=TIMEOUT, check=False)
        found = parse(done.stdout.decode(ENCODING, errors="replace"))
    except (OSError, subprocess.SubprocessError):
        found = {}
    with _lock:
        if len(_cache) + len(words) > CACHE_MAX:
            _cache.clear()
        for word in words:
            _cache[word] = found.get(word, ())


def _encodable(word: str) -> bool:
    try:
        word.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def cache_clear() -> None:
    _cache.clear()
    _binary.clear()
