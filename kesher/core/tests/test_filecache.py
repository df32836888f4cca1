"""The embedded mode's shared file cache: increments and adds hold across processes."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from kesher.core.filecache import SharedFileCache


def _cache(folder: Path) -> SharedFileCache:
    return SharedFileCache(str(folder), {})


def _bump(folder: str, times: int) -> None:
    cache = _cache(Path(folder))
    for _ in range(times):
        cache.incr("count")


def _claim(folder: str, won: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    won.put(_cache(Path(folder)).add("once", "mine", timeout=None))


def test_increments_from_several_processes_are_all_counted(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    cache.set("count", 0, timeout=None)
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=_bump, args=(str(tmp_path), 150)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]
    assert cache.get("count") == 450


def test_only_one_process_adds_a_key(tmp_path: Path) -> None:
    spawn = multiprocessing.get_context("spawn")
    won = spawn.Queue()
    workers = [spawn.Process(target=_claim, args=(str(tmp_path), won)) for _ in range(4)]
    for worker in workers:
        worker.start()
    results = [won.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(60)
    assert sorted(results) == [False, False, False, True]
    assert _cache(tmp_path).get("once") == "mine"


def test_an_increment_keeps_the_entry_expiry(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    cache.set("bucket", 1, timeout=1)
    assert cache.incr("bucket", 4) == 5
    assert cache.get("bucket") == 5
    time.sleep(1.1)
    assert cache.get("bucket") is None
    cache.set("forever", 1, timeout=None)
    cache.incr("forever")
    assert cache.get("forever") == 2


def test_incrementing_a_missing_key_is_refused(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    with pytest.raises(ValueError):
        cache.incr("missing")
    assert cache.get("missing") is None
