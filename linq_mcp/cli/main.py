"""The ``linq-mcp`` command.

``linq-mcp`` serves MCP over stdio; ``--transport http`` serves Streamable HTTP.
Subcommands: ``tools`` (the tool table), ``demo`` (a narrated conversation on the
sandbox), ``sandbox`` (the simulator alone), ``webhooks`` (receiver and setup),
``install``/``uninstall`` (a client's config), ``doctor`` (a checklist with fixes).
stdout carries protocol only; everything human goes to stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from linq_mcp import __version__

EXIT_USAGE = 2


def _serve_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("serving")
    g.add_argument("--transport", choices=["stdio", "http"], help="stdio (default) or Streamable HTTP")
    g.add_argument("--host", help="HTTP bind address (default 127.0.0.1)")
    g.add_argument("--port", type=int, help="HTTP port (default 8000)")
    g.add_argument("--stateless", action="store_true", default=None, help="stateless HTTP (for replicas)")
    g.add_argument("--auth-token", dest="auth_token", help="require this Bearer token on /mcp")
    g.add_argument("--allowed-host", dest="allowed_hosts", action="append", help="extra Host header allowed")
    g.add_argument("--allowed-origin", dest="allowed_origins", action="append", help="Origin allowed")
    g = p.add_argument_group("Linq")
    g.add_argument("--sandbox", action="store_true", default=None, help="use the embedded simulator (no account)")
    g.add_argument("--sandbox-config", dest="sandbox_config", help="TOML file shaping the simulated world")
    g.add_argument("--seed", dest="sandbox_seed", type=int, help="sandbox random seed")
    g.add_argument("--base-url", dest="base_url", help="Linq API base URL")
    g.add_argument("--config", dest="config_file", help="TOML config file (see config.example.toml)")
    g = p.add_argument_group("tools")
    g.add_argument(
        "--toolsets",
        help="comma-separated: default, all (all but payments and deprecated), messaging, groups, payments, ...",
    )
    g.add_argument("--tools", help="comma-separated extra tools to enable")
    g.add_argument("--exclude-tools", dest="exclude_tools", help="comma-separated tools to hide")
    g.add_argument("--read-only", dest="read_only", action="store_true", default=None, help="only read tools")
    g.add_argument(
        "--allow-payment-credentials",
        dest="allow_payment_credentials",
        action="store_true",
        default=None,
        help="expose get_payment_credentials (off by default)",
    )
    g = p.add_argument_group("events")
    g.add_argument("--db-path", dest="db_path", help="SQLite file for events and counters")
    g.add_argument(
        "--store", dest="store_url", metavar="URL", help="postgresql://… shared by replicas (default: the SQLite file)"
    )
    g.add_argument("--webhooks-port", dest="webhooks_port", type=int, help="run a webhook receiver on this port")
    g.add_argument("--poll-interval", dest="poll_interval", type=float, help="poll active chats every S seconds")
    p.add_argument("--log-level", dest="log_level", help="debug, info, warning (default), error")
    from linq_mcp.policy import add_arguments as add_safety_arguments

    add_safety_arguments(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="linq-mcp",
        description="The Linq Partner API (iMessage, RCS, SMS) as an MCP server.",
    )
    parser.add_argument("--version", action="version", version=f"linq-mcp {__version__}")
    _serve_flags(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve MCP (the default)")
    _serve_flags(serve)

    tools = sub.add_parser("tools", help="print the tool table (name, toolset, effect)")
    tools.add_argument("--json", action="store_true", help="machine-readable output")
    _serve_flags(tools)

    demo = sub.add_parser("demo", help="a short real conversation on the embedded sandbox")
    demo.add_argument("--fast", action="store_true", help="no pauses between steps")

    sb = sub.add_parser("sandbox", help="run the Linq simulator alone")
    sb.add_argument("--host", default="127.0.0.1")
    sb.add_argument("--port", type=int, default=8900)
    sb.add_argument("--config", dest="sandbox_config_file", help="sandbox TOML config")
    sb.add_argument("--seed", type=int)

    wh = sub.add_parser("webhooks", help="webhook receiver and subscription setup")
    wh_sub = wh.add_subparsers(dest="webhooks_command", metavar="ACTION")
    for name, help_text in (
        ("serve", "run the webhook receiver alone"),
        ("setup", "create or update the Linq webhook subscription"),
        ("status", "show subscriptions, last event, counts and rejections"),
    ):
        w = wh_sub.add_parser(name, help=help_text)
        _serve_flags(w)
        if name == "setup":
            w.add_argument("--url", required=True, help="public https URL ending in /webhooks/linq")
            w.add_argument("--events", help="comma-separated event types (default: the useful ones)")

    from linq_mcp.cli.install import add_arguments as add_install_arguments

    add_install_arguments(sub.add_parser("install", help="add linq-mcp to an MCP client's config"))
    add_install_arguments(sub.add_parser("uninstall", help="remove linq-mcp from a client's config"), uninstall=True)
    doctor = sub.add_parser("doctor", help="check configuration, key, lines, webhooks, clock, clients")
    _serve_flags(doctor)
    doctor.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


_SETTINGS_FLAGS = (
    "transport",
    "host",
    "port",
    "stateless",
    "auth_token",
    "allowed_hosts",
    "allowed_origins",
    "sandbox",
    "sandbox_config",
    "sandbox_seed",
    "base_url",
    "config_file",
    "toolsets",
    "tools",
    "exclude_tools",
    "read_only",
    "allow_payment_credentials",
    "db_path",
    "store_url",
    "webhooks_port",
    "poll_interval",
    "log_level",
)


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(args, name, None) for name in _SETTINGS_FLAGS}


def _with_safety(settings: Any, args: argparse.Namespace) -> Any:
    """The [safety] policy from its three sources: flags > environment > file."""
    import dataclasses
    import os

    from linq_mcp.policy import SafetyConfig

    safety = SafetyConfig.layered(dict(settings.safety) or None, os.environ, args)
    return dataclasses.replace(settings, safety=safety)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, level.upper(), logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from linq_mcp.config.redact import redact_logs

    redact_logs()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "serve"
    try:
        if command == "demo":
            from linq_mcp.cli.demo import run_demo

            return run_demo(fast=args.fast)
        if command == "sandbox":
            from linq_mcp.sandbox.serve import run as run_sandbox

            _check_sandbox_config(args.sandbox_config_file)
            run_sandbox(host=args.host, port=args.port, config_path=args.sandbox_config_file, seed=args.seed)
            return 0
        if command in ("install", "uninstall"):
            from linq_mcp.cli.install import run_install_command

            return run_install_command(command, args)
        if command == "doctor":
            from linq_mcp.cli.doctor import run_doctor

            return run_doctor(args, _flags(args))
        from linq_mcp.config import settings as settings_mod

        settings = settings_mod.load(_flags(args))
        settings = _with_safety(settings, args)
        if settings.sandbox:
            _check_sandbox_config(settings.sandbox_config)
        configure_logging(settings.log_level)
        if command == "tools":
            from linq_mcp.cli.tooltable import print_tool_table

            return print_tool_table(settings, as_json=args.json)
        if command == "webhooks":
            from linq_mcp.cli.webhook_commands import run_webhooks_command

            return int(run_webhooks_command(args.webhooks_command, settings, args))
        return _serve(settings)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `linq-mcp tools | head`
        sys.stderr.close()
        return 0
    except Exception as exc:
        while isinstance(exc, ExceptionGroup) and len(exc.exceptions) == 1:
            exc = exc.exceptions[0]  # a task group's wrapping of the one real error
        from linq_mcp.config.settings import SettingsError
        from linq_mcp.policy import SafetyConfigError
        from linq_mcp.server.runtime import MissingApiKey
        from linq_mcp.server.transports import CannotListen, UnsafeBind
        from linq_mcp.store import StoreUnavailable
        from linq_mcp.tools.inventory import InventoryError

        mistakes = (MissingApiKey, SettingsError, InventoryError, UnsafeBind, SafetyConfigError, SandboxConfigError)
        if isinstance(exc, StoreUnavailable):  # e.g. PostgreSQL unreachable at start: one line, no traceback
            print(f"linq-mcp: {exc}", file=sys.stderr)
            return EXIT_USAGE
        if isinstance(exc, (*mistakes, CannotListen)):
            print(f"linq-mcp: {exc}", file=sys.stderr)
            return EXIT_USAGE
        if isinstance(exc, OSError) and exc.filename:  # e.g. a --db-path in a directory that cannot exist
            print(f"linq-mcp: {exc.strerror or exc}: {exc.filename}", file=sys.stderr)
            return EXIT_USAGE
        raise


class SandboxConfigError(ValueError):
    """A --sandbox-config / ``sandbox --config`` file that cannot be read or does not fit."""


def _check_sandbox_config(path: str | None) -> None:
    """Read the sandbox's TOML up front, so a bad one is one line and not a traceback later."""
    if not path:
        return
    from linq_mcp.sandbox.config import SandboxConfig

    try:
        SandboxConfig.from_toml(path)
    except OSError as exc:
        raise SandboxConfigError(f"sandbox config {path}: {exc.strerror or exc}") from None
    except (ValueError, TypeError) as exc:  # TOMLDecodeError is a ValueError; so are unknown keys
        raise SandboxConfigError(f"sandbox config {path}: {exc}") from None


def _serve(settings: Any) -> int:
    import anyio

    from linq_mcp.server.app import run_server

    options: dict[str, Any] = {}
    if settings.transport == "http":
        try:
            import uvloop  # noqa: F401

            options["use_uvloop"] = True
        except ImportError:  # Windows, or a trimmed install: the default loop is fine
            pass
    anyio.run(run_server, settings, backend_options=options)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
