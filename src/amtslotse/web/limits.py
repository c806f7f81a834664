"""Rate limits of the public endpoints, counted in the store so that all workers share them::

    check_rate(services, request, "chat", tenant="musterkreis")    # raises ApiError 429 with Retry-After

Each endpoint group ("chat": messages and feedback, "handover", "openai", "inbox") has a
per-client and a per-tenant counter in fixed windows of AMTSLOTSE_RATE_LIMIT_WINDOW_SECONDS
(AMTSLOTSE_RATE_LIMIT_PER_CLIENT, AMTSLOTSE_RATE_LIMIT_PER_TENANT). The client is the address
the server sees (behind a reverse proxy: the one uvicorn takes from X-Forwarded-For of a
trusted proxy), or an integration's API key. Bucket names are hashed: no address in clear in
the database.
"""

from __future__ import annotations

import hashlib
import math

from fastapi import Request

from amtslotse.services import Services
from amtslotse.store.protocol import Bucket
from amtslotse.web.errors import ApiError


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def hashed(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:40]


def too_many(wait: float, message: str = "Zu viele Anfragen in kurzer Zeit.") -> ApiError:
    seconds = max(1, math.ceil(wait))
    return ApiError(
        429, "rate_limited", f"{message} Bitte versuchen Sie es in {seconds} Sekunden noch einmal.",
        headers={"Retry-After": str(seconds)},
    )


def check_rate(
    services: Services, request: Request, group: str, tenant: str | None = None, client: str | None = None, client_limit: int | None = None,
    count_client: bool = True, client_tenant: str | None = None,
) -> None:
    """Count this request for its client (address, or `client` such as an API key's id, with
    `client_limit`; `client_tenant`: the tenant such a client belongs to) and its tenant; 429
    once either is over its limit in this window. Counters say whose they are (an address:
    nobody's), so that deleting a tenant removes its own."""
    settings = services.settings
    buckets: list[Bucket] = []
    if count_client:
        limit = settings.rate_limit_per_client if client_limit is None else client_limit
        buckets.append((hashed("client", group, client or client_address(request)), limit, client_tenant))
    if tenant is not None:
        buckets.append((hashed("tenant", group, tenant), settings.rate_limit_per_tenant, tenant))
    if not any(bucket[1] > 0 for bucket in buckets):
        return
    wait = services.store.hit_rate_limits(buckets, settings.rate_limit_window_seconds)
    if wait > 0:
        raise too_many(wait)
