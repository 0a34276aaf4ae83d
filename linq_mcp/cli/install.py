"""``linq-mcp install|uninstall CLIENT``: one entry in a client's config, merged, never clobbering.

The entry runs *this* installation's ``linq-mcp`` by absolute path, so nobody has to find a
virtualenv's script. Install is idempotent (a second run changes nothing and says so),
backs the file up before any change, and touches only its own entry (``linq-mcp``: the
name ``linq`` belongs to Linq's own CLI). The API key is not written anywhere unless
asked: by default the server finds it at start (environment, or the Linq CLI's
``~/.linq/config.json``); ``--api-key-env NAME`` writes a reference the client expands;
VS Code gets a password prompt kept in its secret storage; ``--write-api-key`` writes the
value itself, into a 0600 file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linq_mcp.cli.clients import (
    CLIENTS,
    ENTRY_NAME,
    KEY_ENV,
    VSCODE_INPUT_ID,
    Client,
    ClientConfigError,
    read_config,
    servers_of,
)

__all__ = ["add_arguments", "run_install_command", "server_command", "InstallPlan", "plan_install"]

BACKUP_SUFFIX = ".linq-mcp.bak"
KEY_PLACEHOLDER = "<your Linq API key>"

# Flags carried into the entry, in this order: (argparse dest, flag, takes a value).
_CARRIED: tuple[tuple[str, str, bool], ...] = (
    ("sandbox", "--sandbox", False),
    ("toolsets", "--toolsets", True),
    ("tools", "--tools", True),
    ("exclude_tools", "--exclude-tools", True),
    ("read_only", "--read-only", False),
    ("base_url", "--base-url", True),
    ("config_file", "--config", True),
    ("db_path", "--db-path", True),
    ("poll_interval", "--poll-interval", True),
    ("webhooks_port", "--webhooks-port", True),
)


def add_arguments(parser: argparse.ArgumentParser, *, uninstall: bool = False) -> None:
    parser.add_argument("client", choices=sorted(CLIENTS), help="the MCP client")
    parser.add_argument("--name", default=ENTRY_NAME, help=f"the entry's name (default {ENTRY_NAME})")
    parser.add_argument("--config-path", dest="client_config", help="the client's config file, if not the usual one")
    if uninstall:
        return
    parser.add_argument("--print", dest="print_only", action="store_true", help="show the entry; change nothing")
    g = parser.add_argument_group("the server's flags, carried into the entry")
    g.add_argument("--sandbox", action="store_true", default=None, help="the embedded simulator (no account)")
    g.add_argument("--toolsets", help="comma-separated toolsets")
    g.add_argument("--tools", help="comma-separated extra tools")
    g.add_argument("--exclude-tools", dest="exclude_tools", help="comma-separated tools to hide")
    g.add_argument("--read-only", dest="read_only", action="store_true", default=None, help="only read tools")
    g.add_argument("--base-url", dest="base_url", help="Linq API base URL")
    g.add_argument("--config", dest="config_file", help="TOML config file (made absolute)")
    g.add_argument("--db-path", dest="db_path", help="SQLite file (made absolute)")
    g.add_argument("--poll-interval", dest="poll_interval", type=float, help="poll active chats every S seconds")
    g.add_argument("--webhooks-port", dest="webhooks_port", type=int, help="webhook receiver port")
    k = parser.add_argument_group("the API key (by default none is written: the server reads it at start)")
    k.add_argument("--api-key-env", dest="api_key_env", metavar="VAR", help="reference this environment variable")
    k.add_argument(
        "--write-api-key",
        dest="write_api_key",
        action="store_true",
        help="write the key itself (from LINQ_API_V3_API_KEY or ~/.linq/config.json) into the file",
    )


def server_command() -> list[str]:
    """This installation's ``linq-mcp``, absolute; ``python -m linq_mcp`` when there is no script."""
    scripts = Path(sys.executable).parent
    names = ("linq-mcp.exe", "linq-mcp-script.py") if sys.platform == "win32" else ("linq-mcp",)
    candidates = [scripts / n for n in names]
    if Path(sys.argv[0]).name.startswith("linq-mcp"):
        candidates.insert(0, Path(sys.argv[0]))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return [str(candidate.absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "linq_mcp"]


def _server_args(args: argparse.Namespace) -> list[str]:
    out: list[str] = []
    for dest, flag, takes_value in _CARRIED:
        value = getattr(args, dest, None)
        if value is None or value is False:
            continue
        if not takes_value:
            out.append(flag)
            continue
        if dest in ("config_file", "db_path"):
            value = str(Path(value).expanduser().absolute())
        out += [flag, str(value)]
    return out


def _validate(args: argparse.Namespace) -> None:
    """Refuse an entry that would not start: the same checks the server makes (names, values)."""
    from linq_mcp.cli.tooltable import rows
    from linq_mcp.config import settings as settings_mod

    flags = {dest: getattr(args, dest, None) for dest, _, _ in _CARRIED}
    rows(settings_mod.load(flags, environ={}))


@dataclass
class InstallPlan:
    client: Client
    path: Path
    name: str
    entry: dict[str, Any]
    inputs: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    holds_secret: bool = False


def plan_install(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> InstallPlan:
    environ = os.environ if environ is None else environ
    client = CLIENTS[args.client]
    path = Path(args.client_config).expanduser() if args.client_config else client.config_path(environ)
    env: dict[str, str] = {}
    plan = InstallPlan(client, path, args.name, {})
    if args.api_key_env and args.write_api_key:
        raise ClientConfigError("choose one of --api-key-env and --write-api-key")
    if args.sandbox:
        pass  # the simulator needs no key
    elif args.api_key_env:
        env[KEY_ENV] = client.reference(args.api_key_env)
    elif args.write_api_key:
        env[KEY_ENV] = KEY_PLACEHOLDER if args.print_only else _current_key(environ)
        plan.holds_secret = True
    elif client.name == "vscode":
        env[KEY_ENV] = f"${{input:{VSCODE_INPUT_ID}}}"
        plan.inputs.append(
            {
                "type": "promptString",
                "id": VSCODE_INPUT_ID,
                "description": "Linq API key (leave empty to use ~/.linq/config.json from 'linq login')",
                "password": True,
            }
        )
    else:
        plan.notes.append(_key_note(environ))
    command = server_command()
    entry: dict[str, Any] = {"type": "stdio"} if client.typed else {}
    entry["command"] = command[0]
    entry["args"] = command[1:] + _server_args(args)
    entry["env"] = env
    plan.entry = entry
    return plan


def _current_key(environ: Mapping[str, str]) -> str:
    from linq_mcp.config import settings as settings_mod

    key = settings_mod.load({}, environ=environ).api_key
    if not key:
        raise ClientConfigError("--write-api-key: no key to write; set LINQ_API_V3_API_KEY or run 'linq login' first")
    return key


def _key_note(environ: Mapping[str, str]) -> str:
    from linq_mcp.config import settings as settings_mod

    try:
        source = settings_mod.load({}, environ=environ).api_key_source
    except Exception:  # a broken config file is doctor's to report, not install's
        source = None
    if source is None:
        return (
            "No Linq API key found yet: run 'linq login' (linq-mcp reads ~/.linq/config.json), "
            "or reinstall with --sandbox to try it first."
        )
    if source.startswith("LINQ_"):
        return (
            f"The key now comes from ${source}, which desktop apps usually do not see: "
            "'linq login' stores it where linq-mcp finds it (or use --api-key-env / --write-api-key)."
        )
    return f"The server will read the API key from {source} when it starts; none is written here."


def _merged(plan: InstallPlan, data: dict[str, Any]) -> dict[str, Any] | None:
    """The new file content, or None when it already holds exactly this entry."""
    servers = servers_of(plan.client, data)
    inputs = data.get("inputs", [])
    if plan.inputs and not isinstance(inputs, list):
        raise ClientConfigError(f"'inputs' in {plan.path} is not a list; fix it first")
    missing = [i for i in plan.inputs if i not in inputs]
    if servers.get(plan.name) == plan.entry and not missing:
        return None
    out = dict(data)
    out[plan.client.servers_key] = {**servers, plan.name: plan.entry}
    if plan.inputs:
        ids = {i["id"] for i in plan.inputs}
        kept = [i for i in inputs if not (isinstance(i, dict) and i.get("id") in ids)]
        out["inputs"] = kept + plan.inputs
    return out


def write_config(path: Path, data: dict[str, Any], *, secret: bool = False) -> Path | None:
    """Back the old file up, then replace it atomically, keeping its mode (0600 for a new file with a key)."""
    backup: Path | None = None
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = 0o600 if secret else 0o644
    if path.exists():
        backup = path.with_name(path.name + BACKUP_SUFFIX)
        shutil.copy2(path, backup)
        mode = path.stat().st_mode & 0o777
        if secret:
            mode &= 0o600
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return backup


def claude_add_command(plan: InstallPlan) -> str:
    """The native form: what ``claude mcp add`` takes to write the same user-scope entry."""
    words = ["claude", "mcp", "add", "--scope", "user"]
    for key, value in plan.entry["env"].items():
        words += ["-e", f"{key}={value}"]
    words += [plan.name, "--", plan.entry["command"], *plan.entry["args"]]
    return shlex.join(words)


def snippet(plan: InstallPlan) -> dict[str, Any]:
    out: dict[str, Any] = {plan.client.servers_key: {plan.name: plan.entry}}
    if plan.inputs:
        out["inputs"] = plan.inputs
    return out


def install(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> int:
    _validate(args)
    plan = plan_install(args, environ)
    if args.print_only:
        if plan.client.name == "claude-code":
            print(claude_add_command(plan))
            print(f"# or, the same entry in {plan.path} under 'mcpServers':", file=sys.stderr)
            print(json.dumps(snippet(plan), indent=2), file=sys.stderr)
        else:
            print(json.dumps(snippet(plan), indent=2))
            print(f"# merge into {plan.path}", file=sys.stderr)
        return 0
    data = read_config(plan.path)
    merged = _merged(plan, data)
    if merged is None:
        print(f"{plan.client.title}: '{plan.name}' is already installed in {plan.path}; nothing changed.")
        return 0
    backup = write_config(plan.path, merged, secret=plan.holds_secret)
    print(f"{plan.client.title}: installed '{plan.name}' in {plan.path}")
    print(f"  runs: {shlex.join([plan.entry['command'], *plan.entry['args']])}")
    if backup:
        print(f"  backup of the previous file: {backup}")
    for note in plan.notes:
        print(f"  {note}")
    print(f"  Restart {plan.client.title} to load it. Check everything with 'linq-mcp doctor'.")
    return 0


def uninstall(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> int:
    client = CLIENTS[args.client]
    path = Path(args.client_config).expanduser() if args.client_config else client.config_path(environ)
    data = read_config(path)
    servers = servers_of(client, data)
    if args.name not in servers:
        print(f"{client.title}: '{args.name}' is not installed in {path}; nothing changed.")
        return 0
    out = dict(data)
    out[client.servers_key] = {k: v for k, v in servers.items() if k != args.name}
    reference = f"${{input:{VSCODE_INPUT_ID}}}"
    if isinstance(out.get("inputs"), list) and reference not in json.dumps(out[client.servers_key]):
        out["inputs"] = [i for i in out["inputs"] if not (isinstance(i, dict) and i.get("id") == VSCODE_INPUT_ID)]
    backup = write_config(path, out)
    print(f"{client.title}: removed '{args.name}' from {path} (backup: {backup})")
    return 0


def run_install_command(command: str, args: argparse.Namespace) -> int:
    try:
        return install(args) if command == "install" else uninstall(args)
    except ClientConfigError as exc:
        print(f"linq-mcp: {exc}", file=sys.stderr)
        return 1
