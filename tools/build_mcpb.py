"""Build the Claude Desktop bundle: ``dist/linq-mcp-<version>.mcpb``.

    python tools/build_mcpb.py                 # stage, validate and pack with the official CLI
    python tools/build_mcpb.py --check         # ... then unpack it into a clean directory and serve from it

The bundle is an MCPB (``server.type = "python"``): ``manifest.json``, ``server/main.py``
and ``server/lib/`` holding linq-mcp and its dependencies as ``pip install --target``
put them for *this* platform and Python (the compiled ones — pydantic-core, uvloop,
httptools — tie it to both; ``compatibility`` says so). ``user_config`` asks for the API
key (``sensitive``: Claude Desktop keeps it in the OS keychain and hands it over in the
environment, never on argv), the toolsets, read-only and sandbox mode.

Validation and packing use the official ``@anthropic-ai/mcpb`` CLI from npm (``validate``,
``pack``), pinned below. ``--check`` then proves the packed file is self-contained: it
unzips it into a fresh directory, starts ``server/main.py`` with ``python -I -S`` (no
site-packages, so nothing outside the bundle is importable), and speaks MCP to it over
stdio with the official client (``initialize``, ``tools/list``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MCPB_CLI = "@anthropic-ai/mcpb@2.1.2"
MANIFEST_VERSION = "0.3"

MAIN_PY = '''\
"""linq-mcp, run from its MCPB bundle: the dependencies are in ./lib next to this file."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))

# Claude Desktop substitutes ${user_config.KEY}; an option left empty must not become a setting.
for _name in [n for n, v in os.environ.items() if n.startswith("LINQ_") and (not v or v.startswith("${"))]:
    del os.environ[_name]

from linq_mcp.cli.main import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
'''


def version() -> str:
    import tomllib

    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def tools() -> list[dict[str, str]]:
    """Every tool the bundle can expose (which ones are on depends on the toolsets chosen)."""
    from linq_mcp.cli.tooltable import rows
    from linq_mcp.config.settings import Settings

    every = Settings(toolsets=("all",), allow_payment_credentials=True)
    return [{"name": str(r["name"]), "description": str(r["title"])} for r in rows(every)]


def manifest() -> dict[str, Any]:
    major, minor = sys.version_info[:2]
    platform = {"darwin": "darwin", "win32": "win32"}.get(sys.platform, "linux")
    return {
        "manifest_version": MANIFEST_VERSION,
        "name": "linq-mcp",
        "display_name": "Linq (iMessage, RCS, SMS)",
        "version": version(),
        "description": "Text people over iMessage, RCS and SMS through the Linq Partner API, and see their replies.",
        "long_description": (
            "Every operation of the Linq Partner API as a typed tool (chats, messages, reactions, attachments, "
            "lines, webhooks), exactly-once sends, and what happens next (deliveries, reads, replies) as "
            "resources. The operator's safety policy (recipient allowlists, send caps, confirmation before "
            "first contact, read-only mode) is enforced on every call. Turn on sandbox mode to try it with "
            "no Linq account. The API key can be left empty if you ran 'linq login' (Linq CLI)."
        ),
        "author": {"name": "linq-mcp contributors"},
        "documentation": "https://docs.linqapp.com",
        "license": "MIT",
        "keywords": ["imessage", "rcs", "sms", "messaging", "linq"],
        "server": {
            "type": "python",
            "entry_point": "server/main.py",
            "mcp_config": {
                "command": "python3",
                "args": ["${__dirname}/server/main.py"],
                "env": {
                    "LINQ_API_V3_API_KEY": "${user_config.api_key}",
                    "LINQ_MCP_TOOLSETS": "${user_config.toolsets}",
                    "LINQ_MCP_READ_ONLY": "${user_config.read_only}",
                    "LINQ_MCP_SANDBOX": "${user_config.sandbox}",
                    "PYTHONNOUSERSITE": "1",
                },
                "platform_overrides": {"win32": {"command": "python"}},
            },
        },
        "tools": tools(),
        "tools_generated": False,
        "user_config": {
            "api_key": {
                "type": "string",
                "title": "Linq API key",
                "description": "Your Linq Partner API token. Leave empty to use ~/.linq/config.json from 'linq login'.",
                "sensitive": True,
                "required": False,
            },
            "toolsets": {
                "type": "string",
                "title": "Toolsets",
                "description": "Comma-separated: default, all, messaging, groups, media, events, rich, lines, ...",
                "default": "default",
                "required": False,
            },
            "read_only": {
                "type": "boolean",
                "title": "Read-only",
                "description": "Only tools that change nothing: nothing can be sent.",
                "default": False,
                "required": False,
            },
            "sandbox": {
                "type": "boolean",
                "title": "Sandbox mode",
                "description": "Talk to the embedded Linq simulator instead of Linq: no account, no real messages.",
                "default": False,
                "required": False,
            },
        },
        "compatibility": {
            "platforms": [platform],
            "runtimes": {"python": f">={major}.{minor} <{major}.{minor + 1}"},
        },
    }


def stage(target: Path) -> None:
    """The bundle's directory: manifest, entry point, and linq-mcp with its dependencies."""
    if target.exists():
        shutil.rmtree(target)
    lib = target / "server" / "lib"
    lib.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--target", str(lib), str(ROOT)],
        check=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    shutil.rmtree(lib / "bin", ignore_errors=True)  # console scripts with this machine's paths
    for cache in lib.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    (target / "server" / "main.py").write_text(MAIN_PY, encoding="utf-8")
    (target / "manifest.json").write_text(json.dumps(manifest(), indent=2) + "\n", encoding="utf-8")
    shutil.copy(ROOT / "README.md", target / "README.md")


def mcpb(*args: str) -> None:
    npx = shutil.which("npx")
    if npx is None:
        raise SystemExit("build_mcpb: npx not found; install Node.js (the official mcpb CLI is an npm package)")
    subprocess.run([npx, "-y", MCPB_CLI, *args], check=True)


def check(bundle: Path) -> None:
    """Unpack into a clean directory and serve from it over stdio: initialize, then tools/list."""
    import anyio
    from mcp import Client, StdioServerParameters

    with tempfile.TemporaryDirectory(prefix="linq-mcp-mcpb-") as tmp:
        with zipfile.ZipFile(bundle) as zf:
            zf.extractall(tmp)
        listed = json.loads((Path(tmp) / "manifest.json").read_text())
        config = listed["server"]["mcp_config"]
        args = [a.replace("${__dirname}", tmp) for a in config["args"]]
        user = {"api_key": "", "toolsets": "default", "read_only": "false", "sandbox": "true"}
        env = {"PATH": os.environ.get("PATH", ""), "HOME": tmp}
        for key, value in config["env"].items():
            for name, chosen in user.items():
                value = value.replace(f"${{user_config.{name}}}", chosen)
            env[key] = value
        python = getattr(sys, "_base_executable", sys.executable)
        params = StdioServerParameters(command=python, args=["-I", "-S", *args], env=env, cwd=tmp)

        async def talk() -> list[str]:
            async with Client(params) as client:
                info = client.server_info
                if info is None or info.name != "linq-mcp":
                    raise SystemExit(f"build_mcpb: the bundle's server answered initialize as {info}")
                return [t.name for t in (await client.list_tools()).tools]

        names = anyio.run(talk)
        declared = {t["name"] for t in listed["tools"]}
        unknown = set(names) - declared
        if not names or unknown:
            raise SystemExit(f"build_mcpb: tools/list from the bundle: {len(names)} tools, undeclared {unknown}")
        print(f"build_mcpb: {bundle.name} unpacked and served over stdio: initialize ok, {len(names)} tools listed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "dist"), help="output directory (default dist/)")
    parser.add_argument("--check", action="store_true", help="unpack the bundle and serve from it over stdio")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    staging = out / "mcpb-staging"
    bundle = out / f"linq-mcp-{version()}.mcpb"
    stage(staging)
    mcpb("validate", str(staging / "manifest.json"))
    bundle.unlink(missing_ok=True)
    mcpb("pack", str(staging), str(bundle))
    size = bundle.stat().st_size / 1e6
    print(f"build_mcpb: {bundle} ({size:.1f} MB)")
    if args.check:
        check(bundle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
