"""CI smoke test of hosted mode: three linq-mcp replicas behind a real nginx, one conversation.

What runs, all on 127.0.0.1:

- the Linq sandbox alone (``python -m linq_mcp.sandbox``), standing in for Linq: one world that
  every replica talks to, and that delivers its signed webhooks to nginx;
- three replicas, ``linq-mcp --transport http --stateless`` in live mode against that sandbox,
  with one ``LINQ_MCP_SECRET`` and one shared store (a PostgreSQL database created here and
  dropped afterwards; ``--store sqlite`` shares one SQLite file instead);
- nginx from the distribution's packages (installed with apt-get when absent), configured from
  deploy/nginx/linq-mcp.conf.template — the file the compose example mounts.

Through nginx the official ``mcp`` client, in both protocol eras (2026-07-28 and stateless
2025-11-25), lists the tools, creates a chat, sends a message and waits for the person's
reply event. nginx's access log must show the MCP requests and the webhook deliveries spread
over all three replicas. Exit 0 on success; on failure, one line saying what failed, then
the logs of whatever misbehaved.

    .venv/bin/python .ci/replicas_smoke.py [--store postgresql|sqlite]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import socket
import string
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "nginx" / "linq-mcp.conf.template"
PG_ADMIN = os.environ.get("LINQ_MCP_SMOKE_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REPLICAS = 3
LINE = "+15550100001"  # the sandbox's iMessage line
AVA = "+15551230001"  # replies to every message
SECRET = "smoke-" + uuid.uuid4().hex + uuid.uuid4().hex  # one per run, shared by the replicas

# The http{} wrapper around the template: a private prefix, and an access log naming the replica.
NGINX_MAIN = """
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format upstream '$request_method $uri $status $upstream_addr';
    access_log {prefix}/access.log upstream;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/linq-mcp.conf;
}}
"""


class SmokeFailure(Exception):
    """What failed, in one line."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nginx_binary() -> str:
    """The distribution's nginx, installed first if absent."""
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)
    if found:
        return found
    print("smoke: installing nginx (apt-get install -y nginx)", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "nginx"]
    if subprocess.run(install, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL, check=True)
        subprocess.run(install, env=env, stdout=subprocess.DEVNULL, check=True)
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(found):
        raise SmokeFailure("nginx is not installed and apt-get could not install it")
    return found


def render_nginx(listen: int, replicas: list[int]) -> str:
    """The deploy/ template with this run's ports; nginx's own $variables stay as they are."""
    values = {"LINQ_MCP_LISTEN": f"127.0.0.1:{listen}"}
    values.update({f"LINQ_MCP_REPLICA_{i}": f"127.0.0.1:{port}" for i, port in enumerate(replicas, 1)})
    text = string.Template(TEMPLATE.read_text(encoding="utf-8")).safe_substitute(values)
    left = re.findall(r"\$\{LINQ_MCP_[A-Z0-9_]+\}", text)
    if left:
        raise SmokeFailure(f"the nginx template has placeholders this script does not fill: {left}")
    return text


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database for this run, dropped afterwards."""
    import psycopg

    name = f"linq_smoke_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise SmokeFailure(f"PostgreSQL is not reachable at {PG_ADMIN} ({type(exc).__name__})") from None
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Processes:
    """The children of this run: stopped (TERM, then KILL) in reverse order; logs kept for failures."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
        self.running.append((name, process))
        return process

    def stop(self) -> None:
        for _name, process in reversed(self.running):
            if process.poll() is None:
                process.terminate()
        for _name, process in reversed(self.running):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def dump_logs(self) -> None:
        for name, _process in self.running:
            text = (self.workdir / f"{name}.log").read_text(errors="replace").strip()
            if text:
                print(f"--- {name} ---\n{text[-3000:]}", file=sys.stderr)
        error_log = self.workdir / "nginx" / "error.log"
        if error_log.exists():
            print(f"--- nginx error.log ---\n{error_log.read_text(errors='replace')[-3000:]}", file=sys.stderr)


async def wait_ready(
    url: str, what: str, process: subprocess.Popen[bytes] | None = None, *, any_answer: bool = False
) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(trust_env=False, timeout=2) as http:
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise SmokeFailure(f"{what} exited with {process.returncode} before it was ready")
            with contextlib.suppress(httpx.HTTPError):
                status = (await http.get(url)).status_code
                if status == 200 or (any_answer and status < 500):
                    return
            await anyio.sleep(0.1)
    raise SmokeFailure(f"{what} was not ready at {url} within 60 s")


async def subscribe_webhooks(sandbox: str, api_key: str, target: str) -> str:
    """Linq's side of `linq-mcp webhooks setup`: the sandbox will POST its events to nginx."""
    from linq_mcp.events.wiring import USEFUL_EVENTS

    async with httpx.AsyncClient(trust_env=False, headers={"Authorization": f"Bearer {api_key}"}) as http:
        created = await http.post(
            f"{sandbox}/v3/webhook-subscriptions",
            json={"target_url": f"{target}?version=2026-02-03", "subscribed_events": list(USEFUL_EVENTS)},
        )
    if created.status_code >= 300:
        raise SmokeFailure(f"the sandbox refused the webhook subscription: {created.status_code} {created.text}")
    return str(created.json()["signing_secret"])


def structured(result: Any, tool: str) -> dict[str, Any]:
    if result.is_error:
        raise SmokeFailure(f"{tool} failed: {result.content[0].text}")
    return dict(result.structured_content or {})


async def conversation(url: str, era: str) -> None:
    """list tools, create a chat, send, wait for the reply event: each call a separate request."""
    from mcp import Client

    async with Client(url, mode=era) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        for needed in ("create_chat", "send_message", "wait_for_event"):
            if needed not in names:
                raise SmokeFailure(f"tools/list through nginx ({era}) has no {needed}")
        cursor = structured(await client.call_tool("list_events", {"limit": 1}), "list_events")["cursor"]
        message = {"parts": [{"type": "text", "value": f"Dinner on Friday? ({era})"}]}
        created = structured(
            await client.call_tool("create_chat", {"from": LINE, "to": [AVA], "message": message}), "create_chat"
        )
        chat_id = created["chat"]["id"]
        again = {"parts": [{"type": "text", "value": "Shall I book the usual place?"}]}
        structured(await client.call_tool("send_message", {"chat_id": chat_id, "message": again}), "send_message")
        args = {"chat_id": chat_id, "since": cursor, "timeout": 20}
        waited = structured(await client.call_tool("wait_for_event", args), "wait_for_event")
        event = waited.get("event") or {}
        if waited.get("timed_out") or event.get("type") != "message.received":
            raise SmokeFailure(f"wait_for_event through nginx ({era}) saw no reply from {AVA} within 20 s: {waited}")
        print(f"smoke: {era}: chat {chat_id}, the reply arrived as {event['type']}", file=sys.stderr)


def spread(access_log: Path, prefix: str) -> Counter[str]:
    """How many requests under ``prefix`` each replica answered, from nginx's access log."""
    served: Counter[str] = Counter()
    for line in access_log.read_text().splitlines():
        method, uri, _status, upstream = (line.split(" ", 3) + ["", "", "", ""])[:4]
        if uri.startswith(prefix) and upstream not in ("", "-"):
            served[upstream.split(",")[-1].strip()] += 1
    return served


async def run(store: str, workdir: Path, processes: Processes) -> None:
    from linq_mcp.sandbox.config import DEFAULT_API_KEY

    nginx = nginx_binary()
    python = sys.executable
    sandbox_port, nginx_port = free_port(), free_port()
    replica_ports = [free_port() for _ in range(REPLICAS)]

    sandbox_url = f"http://127.0.0.1:{sandbox_port}/api/partner"
    sandbox = processes.start("sandbox", [python, "-m", "linq_mcp.sandbox", "--port", str(sandbox_port)])
    await wait_ready(f"{sandbox_url}/v3/phone_numbers", "the sandbox", sandbox, any_answer=True)
    signing_secret = await subscribe_webhooks(
        sandbox_url, DEFAULT_API_KEY, f"http://127.0.0.1:{nginx_port}/webhooks/linq"
    )

    with contextlib.ExitStack() as stack:
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("LINQ_")}
        base_env.update(
            LINQ_API_KEY=DEFAULT_API_KEY,
            LINQ_API_V3_BASE_URL=sandbox_url,
            LINQ_MCP_SECRET=SECRET,
            LINQ_WEBHOOK_SECRET=signing_secret,
        )
        if store == "postgresql":
            base_env["LINQ_MCP_STORE_URL"] = stack.enter_context(postgres_database())
        else:
            base_env["LINQ_MCP_DB_PATH"] = str(workdir / "shared.sqlite3")
        for i, port in enumerate(replica_ports, 1):
            env = {**base_env, "LINQ_MCP_DATA_DIR": str(workdir / f"replica{i}")}
            cmd = [python, "-m", "linq_mcp", "--transport", "http", "--stateless", "--port", str(port)]
            processes.start(f"replica{i}", [*cmd, "--confirm", "never"], env)
        for i, port in enumerate(replica_ports, 1):
            await wait_ready(f"http://127.0.0.1:{port}/readyz", f"replica {i}", processes.running[i][1])

        prefix = workdir / "nginx"
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        (prefix / "linq-mcp.conf").write_text(render_nginx(nginx_port, replica_ports))
        (prefix / "nginx.conf").write_text(NGINX_MAIN.format(prefix=prefix))
        conf = ["-p", str(prefix), "-c", str(prefix / "nginx.conf")]
        checked = subprocess.run([nginx, "-t", *conf], capture_output=True, text=True)
        if checked.returncode != 0:
            raise SmokeFailure(f"nginx -t rejected the rendered template: {checked.stderr.strip()}")
        proxy = processes.start("nginx", [nginx, *conf, "-g", "daemon off;"])
        await wait_ready(f"http://127.0.0.1:{nginx_port}/readyz", "nginx", proxy)

        url = f"http://127.0.0.1:{nginx_port}/mcp"
        for era in ("auto", "legacy"):  # 2026-07-28, then 2025-11-25 on --stateless replicas
            with anyio.fail_after(90):
                await conversation(url, era)

        access_log = prefix / "access.log"
        mcp, hooks = spread(access_log, "/mcp"), spread(access_log, "/webhooks/")
        print(f"smoke: /mcp requests per replica {dict(mcp)}; webhooks per replica {dict(hooks)}", file=sys.stderr)
        if len(mcp) < REPLICAS:
            raise SmokeFailure(f"nginx sent the MCP requests to {len(mcp)} of {REPLICAS} replicas: {dict(mcp)}")
        if len(hooks) < 2:
            raise SmokeFailure(f"the webhook deliveries all reached one replica: {dict(hooks)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, nginx config)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="linq-replicas-smoke-"))
    processes = Processes(workdir)
    failed = False
    try:
        anyio.run(run, args.store, workdir, processes)
    except SmokeFailure as exc:
        failed = True
        print(f"smoke: FAILED: {exc}", file=sys.stderr)
    except BaseException:
        failed = True
        raise
    finally:
        processes.stop()
        if failed:
            processes.dump_logs()
        if not args.keep and not failed:
            shutil.rmtree(workdir, ignore_errors=True)
    if not failed:
        print(f"smoke: OK: {REPLICAS} replicas behind nginx on one {args.store} store", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
