"""Rate limits and login throttling in the store (both SQL stores), so that every worker
process of one installation counts the same requests::

    wait = store.hit_rate_limits([("chat:client:1f3a...", 60), ("chat:tenant:5d0e...", 1200, "musterkreis")], 60)
    wait          # 0.0: allowed; else seconds until the window ends (the HTTP layer answers 429)

    store.record_login_failure("account:9b1c...", max_failures=5, window_seconds=900, lock_seconds=60,
                               tenant="musterkreis")
    store.login_wait(["account:9b1c...", "address:77aa..."])   # seconds until a login may be tried

Rate limits count in fixed windows (one row per bucket: the window's start and its hits).
Login failures are counted per key until `window_seconds` pass without one; from the
`max_failures`-th on, each failure locks the key for `lock_seconds`, doubled with every
further failure (at most MAX_LOCK_SECONDS). Callers pass hashed keys (no addresses or names
in clear); rows of past windows and of old failures are deleted as new ones come in. A row
may name the tenant it belongs to (a tenant's counter, an API key's, a staff account's
failures), so that deleting the tenant removes it; an address belongs to no tenant.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from amtslotse.store.protocol import Bucket

MAX_LOCK_SECONDS = 3600.0
STALE_SECONDS = 86400
"""Counter rows of windows older than this are deleted (amortised: when a bucket starts a window)."""


class LimitsSql:
    """Mixin for SqlStore: needs `_tx()` and `_read()`."""

    def hit_rate_limits(self, buckets: Sequence[Bucket], window_seconds: int, now: float | None = None) -> float:
        """Count one request in each (bucket, limit[, tenant]) for the current fixed window of
        `window_seconds`; returns 0.0 if every count is within its limit, else the seconds
        until the window ends. A limit of 0 or less counts nothing (no limit)."""
        now = time.time() if now is None else now
        window = max(1, int(window_seconds))
        start = int(now // window) * window
        over = False
        with self._tx() as cur:
            for bucket, limit, *owner in buckets:
                if limit <= 0:
                    continue
                cur.execute(
                    "INSERT INTO rate_counters(bucket, window_start, hits, tenant) VALUES (?, ?, 1, ?) "
                    "ON CONFLICT(bucket) DO UPDATE SET "
                    "hits = CASE WHEN rate_counters.window_start = excluded.window_start THEN rate_counters.hits + 1 ELSE 1 END, "
                    "window_start = excluded.window_start, tenant = excluded.tenant RETURNING hits",
                    (bucket, start, owner[0] if owner else None),
                )
                hits = int(cur.fetchone()[0])
                if hits == 1:
                    cur.execute("DELETE FROM rate_counters WHERE window_start < ?", (start - STALE_SECONDS,))
                over = over or hits > limit
        return float(start + window - now) if over else 0.0

    def login_wait(self, keys: Sequence[str], now: float | None = None) -> float:
        """Seconds until none of `keys` is locked (0.0: a login may be tried now)."""
        if not keys:
            return 0.0
        now = time.time() if now is None else now
        marks = ",".join("?" * len(keys))
        rows = self._read(f"SELECT MAX(locked_until) FROM login_failures WHERE key IN ({marks})", tuple(keys))
        until = rows[0][0] if rows and rows[0][0] is not None else 0.0
        return max(0.0, float(until) - now)

    def record_login_failure(
        self, key: str, max_failures: int, window_seconds: float, lock_seconds: float, now: float | None = None,
        tenant: str | None = None,
    ) -> float:
        """Count a failed login for `key` (of `tenant`'s account, if any); returns the seconds
        it is now locked (0.0: not locked)."""
        now = time.time() if now is None else now
        with self._tx() as cur:
            cur.execute("SELECT failures, last_at FROM login_failures WHERE key = ?", (key,))
            row = cur.fetchone()
            failures = 1 if row is None or now - float(row[1]) > window_seconds else int(row[0]) + 1
            lock = 0.0
            if max_failures > 0 and failures >= max_failures:
                lock = min(MAX_LOCK_SECONDS, lock_seconds * 2 ** min(failures - max_failures, 32))
            cur.execute(
                "INSERT INTO login_failures(key, failures, last_at, locked_until, tenant) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET failures = excluded.failures, last_at = excluded.last_at, "
                "locked_until = excluded.locked_until, tenant = excluded.tenant",
                (key, failures, now, now + lock, tenant),
            )
            if failures == 1:  # amortised cleanup: failures nobody repeated within the window
                cur.execute(
                    "DELETE FROM login_failures WHERE last_at < ? AND locked_until < ?",
                    (now - max(window_seconds, MAX_LOCK_SECONDS), now),
                )
        return lock

    def clear_login_failures(self, key: str) -> None:
        """After a successful login: the account's count starts again."""
        with self._tx() as cur:
            cur.execute("DELETE FROM login_failures WHERE key = ?", (key,))
