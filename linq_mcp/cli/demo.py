"""``linq-mcp demo``: a real MCP session against the embedded sandbox, narrated.

It starts ``linq-mcp --sandbox`` as a subprocess, connects the official ``mcp``
client to it over stdio, and walks through what an assistant would do: look at the
tools, pick a line, check iMessage, start a chat (the person is asked to confirm the
first message, through the client's elicitation dialog), and read the reply.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import anyio

PERSON = "+15551230001"  # Ava, on iMessage, in the sandbox's default cast
OPENING = "Hi Ava! Are you free for dinner on Friday?"


def _say(text: str = "") -> None:
    print(text, flush=True)


def _step(n: int, text: str) -> None:
    bold, plain = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")
    _say(f"\n{bold}{n}. {text}{plain}")


def _show(label: str, value: Any) -> None:
    _say(f"   {label}: {value}")


async def _call(client: Any, name: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, args)
    data = result.structured_content or {}
    if result.is_error:
        raise RuntimeError(f"{name} failed: {json.dumps(data)[:300]}")
    return dict(data)


def _text_of(message: dict[str, Any]) -> str:
    fenced = message.get("untrusted_content")
    if isinstance(fenced, dict):  # other people's words arrive fenced as untrusted data
        return str(fenced.get("untrusted_text", ""))
    parts = message.get("parts") or []
    return " ".join(str(p.get("value", "")) for p in parts if p.get("type") == "text")


async def _demo(fast: bool) -> None:
    from mcp import Client, StdioServerParameters

    pause = 0.0 if fast else 0.6
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINQ_")}
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "linq_mcp", "--sandbox", "--log-level", "error"],
        env=env,
    )
    asked: list[str] = []

    from mcp.types import ElicitRequestParams, ElicitResult

    async def person(context: Any, params: ElicitRequestParams) -> ElicitResult:
        """The person at the keyboard, as the client's confirmation dialog would show it."""
        asked.append(params.message)
        _show("held", "a first message to someone new needs the person's OK (confirm = first_contact)")
        _say("   linq-mcp asks the person — the client shows this dialog:")
        for line in str(params.message).splitlines():
            _say(f"      │ {line}")
        await anyio.sleep(pause)
        _show("the person answers", "Send it ✓")
        return ElicitResult(action="accept", content={"confirm": True})

    started = time.perf_counter()
    _say("linq-mcp demo — an MCP client talking to linq-mcp over stdio, on the embedded sandbox.")
    _say("Nothing here reaches a real phone: the lines and the people are simulated.")
    async with Client(params, elicitation_callback=person) as client:
        _step(1, "Connect and list the tools an assistant sees")
        tools = (await client.list_tools()).tools
        _show("protocol", client.protocol_version)
        _show("tools", f"{len(tools)} — " + ", ".join(t.name for t in tools[:8]) + ", …")
        await anyio.sleep(pause)

        _step(2, "Pick a line to send from (list_phone_numbers)")
        lines = (await _call(client, "list_phone_numbers", {}))["phone_numbers"]
        line = next((ln for ln in lines if ln.get("line_type") == "iMessage"), lines[0])
        _show("sending line", f"{line['phone_number']} ({line.get('line_type', '?')})")
        await anyio.sleep(pause)

        _step(3, f"Can {PERSON} receive iMessage? (check_imessage)")
        check = await _call(client, "check_imessage", {"address": PERSON, "from": line["phone_number"]})
        _show("available", check.get("available"))
        await anyio.sleep(pause)

        _step(4, "Start the conversation (create_chat)")
        args = {
            "from": line["phone_number"],
            "to": [PERSON],
            "message": {"parts": [{"type": "text", "value": OPENING}]},
        }
        created = await _call(client, "create_chat", args)
        if asked:
            _show("confirmed", "by the person, not the model: the answer went from the dialog to linq-mcp")
        chat = created["chat"]
        _show("chat", chat["id"])
        _show("sent", f"“{OPENING}” via {chat.get('service')}")
        _show("idempotency_key", created.get("idempotency_key"))

        _step(5, "Wait for the reply (list_messages)")
        reply = None
        deadline = time.monotonic() + 15
        while reply is None and time.monotonic() < deadline:
            await anyio.sleep(0.3)
            page = await _call(client, "list_messages", {"chat_id": chat["id"], "limit": 20})
            for message in page.get("messages", []):
                if not message.get("is_from_me"):
                    reply = message
                    break
        if reply is None:
            raise RuntimeError("no reply from the simulated person within 15 s")
        sender = (reply.get("from_handle") or {}).get("handle") or reply.get("from") or PERSON
        _show("reply", f"{sender} wrote: “{_text_of(reply)}”")
        mine = [m for m in page.get("messages", []) if m.get("is_from_me")]
        if mine:
            _show("your message", f"delivery_status = {mine[0].get('delivery_status')}")

        _step(6, "React to the reply (react_to_message)")
        await _call(client, "react_to_message", {"message_id": reply["id"], "operation": "add", "type": "love"})
        _show("reaction", "❤️ added")
    _say(f"\nDone in {time.perf_counter() - started:.1f} s. Connect your own client: see README.md.")


def run_demo(*, fast: bool = False) -> int:
    try:
        anyio.run(_demo, fast)
    except Exception as exc:
        while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
            exc = exc.exceptions[0]  # type: ignore[assignment]
        print(f"linq-mcp demo failed: {exc}", file=sys.stderr)
        return 1
    return 0
