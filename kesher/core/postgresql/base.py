"""Django's PostgreSQL backend with a health check that looks at the connection's socket instead of asking
the server: a `SELECT 1` before every request's first statement was a round trip, and half of
PostgreSQL's CPU for a member read."""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        """An idle connection whose socket has nothing to read is usable. When the server goes away (a
        restart, a terminated backend, a dead process) it sends an error and closes its end, which makes
        the socket readable; anything readable, or a connection not idle and well, gets Django's own
        check, a round trip that tells for sure."""
        connection = self.connection
        if connection is None or connection.closed:
            return False
        pgconn = connection.pgconn
        if pgconn.status == pq.ConnStatus.OK and pgconn.transaction_status == pq.TransactionStatus.IDLE:
            try:
                readable, _, _ = select.select([pgconn.socket], [], [], 0)
            except (OSError, ValueError):
                return False
            if not readable:
                return True
        return bool(super().is_usable())
