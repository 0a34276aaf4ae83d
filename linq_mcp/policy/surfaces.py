"""Dangerous surfaces: tools that stay hidden unless the operator asks for them by name.

The ``payments`` toolset moves money, so ``all`` does not switch it on; it must be
named. ``get_payment_credentials`` returns card secrets and is neither listed nor
callable without ``allow_payment_credentials``, whatever else is enabled.
"""

from __future__ import annotations

from collections.abc import Collection

from linq_mcp.policy.config import SafetyConfig

NAMED_ONLY_TOOLSETS = frozenset({"payments"})
CREDENTIAL_TOOLS = frozenset({"get_payment_credentials"})


def tool_allowed_by_safety(
    tool_name: str,
    toolset: str,
    config: SafetyConfig,
    *,
    named_toolsets: Collection[str] | None = None,
    named_tools: Collection[str] = (),
) -> bool:
    """May the inventory list (and the server run) this tool?

    ``named_toolsets``/``named_tools``: what the operator asked for by name (``all`` and
    ``default`` do not count). Pass ``None`` to check only the credential rule.
    """
    if tool_name in CREDENTIAL_TOOLS and not config.allow_payment_credentials:
        return False
    if named_toolsets is not None and toolset in NAMED_ONLY_TOOLSETS:
        return toolset in named_toolsets or tool_name in named_tools
    return True
