"""The embedded mode's shared cache: Django's file cache under var/, which every worker process reads.

Django's file cache writes each value to its own file and renames it into place, so a reader in any
process sees a whole value; but its `add` and `incr` read then write, so two processes could both add or
lose an increment, and an increment put back the default timeout. Here both hold an exclusive lock on one
of a few lock files (the key's stripe), and an increment keeps its entry's expiry and is written in
place. Django also lists the whole directory on every write to see whether to cull; here that is done
once in `CULL_EVERY` writes.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import random
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from hashlib import md5
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache

STRIPES = 16
CULL_EVERY = 64


class SharedFileCache(FileBasedCache):
    @contextmanager
    def _locked(self, key: str, version: int | None) -> Iterator[str]:
        """Hold the stripe lock for `key` across processes; yield the key's file name."""
        fname = self._key_to_file(key, version)  # type: ignore[attr-defined]
        stripe = int(md5(fname.encode(), usedforsecurity=False).hexdigest()[:4], 16) % STRIPES
        self._createdir()  # type: ignore[attr-defined]
        fd = os.open(os.path.join(self._dir, f"lock-{stripe}"), os.O_RDWR | os.O_CREAT, 0o600)  # type: ignore[attr-defined]
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fname
        finally:
            os.close(fd)  # closing drops the lock

    def _cull(self) -> None:
        if random.randrange(CULL_EVERY) == 0:
            super()._cull()  # type: ignore[misc]

    def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        if self.has_key(key, version):  # the usual case needs no lock
            return False
        with self._locked(key, version):
            if self.has_key(key, version):
                return False
            self.set(key, value, timeout, version)
            return True

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        # Written in place under the lock: a rename cost a millisecond on a plain disk, and the rate limit
        # counts every API call this way. A reader without the lock may catch it half written: see get.
        with self._locked(key, version) as fname:
            try:
                with open(fname, "r+b") as f:
                    expiry = pickle.load(f)
                    if expiry is not None and expiry < time.time():
                        raise ValueError(f"Key '{key}' not found")
                    new_value = pickle.loads(zlib.decompress(f.read())) + delta
                    f.seek(0)
                    f.write(pickle.dumps(expiry, self.pickle_protocol))
                    f.write(zlib.compress(pickle.dumps(new_value, self.pickle_protocol)))
                    f.truncate()
            except (FileNotFoundError, EOFError):
                raise ValueError(f"Key '{key}' not found") from None
            return int(new_value)

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except (EOFError, zlib.error, pickle.UnpicklingError, ValueError):  # an increment half written
            with self._locked(key, version):
                return super().get(key, default, version)

    def decr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        return self.incr(key, -delta, version)
