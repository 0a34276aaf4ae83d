"""Hosted mode: several HTTP replicas behind one address, sharing one store.

Any replica may answer any request (2026-07-28 has no sessions; ``--stateless`` 2025
requests carry none), so everything a request leaves behind for the next one must be
agreed by all replicas: confirm tokens and sealed ``requestState`` are keyed from the
server secret, and that key must be the same everywhere. A per-machine secret file
(:mod:`linq_mcp.config.secret`) would give each host its own key and make every confirmation
minted on one replica unknown to the next, so a hosted replica refuses to start
without ``LINQ_MCP_SECRET``.

Readiness asks the store itself (``Store.health()``, a cheap round trip), so the HTTP layer
reports the store's state without knowing which store it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio

from linq_mcp.config.settings import Settings, SettingsError

if TYPE_CHECKING:
    from linq_mcp.store.base import Store

__all__ = [
    "PROBE_TIMEOUT",
    "HostedSecretMissing",
    "check_hosted",
    "is_hosted",
    "probe",
    "roles",
    "shared_store_url",
]

# Seconds a readiness probe waits for the store before calling it unreachable: less than
# the usual load-balancer probe timeout, so a hung database reads as "down", not as a hang.
PROBE_TIMEOUT = 2.0


class HostedSecretMissing(SettingsError):
    """Hosted mode without LINQ_MCP_SECRET: replicas would not accept each other's confirmations."""


def shared_store_url(settings: Settings) -> str | None:
    """The shared (PostgreSQL) store's URL, when one is configured."""
    return settings.store_url or None


def is_hosted(settings: Settings) -> bool:
    """HTTP serving meant for replicas: a shared store, or ``--stateless``.

    A ``--sandbox --stateless`` server on its own store is one throwaway world per process
    (tests and benchmarks run it so), not a replica of anything: it is not hosted.
    """
    if settings.transport != "http":
        return False
    if shared_store_url(settings):
        return True
    return settings.stateless and not settings.sandbox


def check_hosted(settings: Settings) -> None:
    """Refuse hosted mode without a shared secret, before anything is opened."""
    if is_hosted(settings) and not settings.secret:
        raise HostedSecretMissing(
            "hosted mode (--transport http with a shared store or --stateless) needs LINQ_MCP_SECRET: the same "
            '32+ random characters on every replica (python -c "import secrets; print(secrets.token_hex(32))"), '
            "so a confirmation minted on one replica is accepted by the others"
        )


async def probe(store: Store | None, timeout: float | None = None) -> dict[str, Any]:
    """The store's state, never raising: an error or a timeout reads as ``ok: false``.

    The reason is named by its kind only: the probes answer without authentication.
    """
    timeout = PROBE_TIMEOUT if timeout is None else timeout
    if store is None:
        return {"kind": "none", "ok": True}
    state: dict[str, Any] = {"kind": store.kind, "ok": True}
    try:
        with anyio.fail_after(timeout):
            await store.health()
    except TimeoutError:
        state.update(ok=False, error=f"no answer within {timeout:g} s")
    except Exception as exc:  # the probe reports; it never takes the server down
        state.update(ok=False, error=type(exc).__name__)
    return state


def roles(store: Store | None) -> list[str]:
    """The roles this process holds (e.g. ``poller``): which replica polls, for operators and tests."""
    return sorted(store.roles) if store is not None else []
