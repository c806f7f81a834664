"""Moments as the store and the audit log write them: UTC, ISO 8601 with seconds.

    >>> from datetime import datetime
    >>> iso(datetime(2026, 12, 1, 9, 30, 15, 123456))
    '2026-12-01T09:30:15+00:00'
"""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """Stored timestamps: UTC, ISO 8601 with seconds, so that text order is time order
    (a naive moment is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")
