"""The baseline for the benchmarks: a bare ``mcp`` low-level server with one tool.

It does what any MCP server on the SDK must do and nothing more: one ``echo`` tool,
stdio by default, or Streamable HTTP under uvicorn with the same settings linq-mcp
uses (``--transport http --port P [--stateless]``: stateless + JSON responses).

    .venv/bin/python tools/bare_server.py                      # stdio
    .venv/bin/python tools/bare_server.py --transport http --port 8765 --stateless
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import anyio
import mcp.types as types
from mcp.server import Server, ServerRequestContext

ECHO = types.Tool(
    name="echo",
    description="Echo the text back.",
    input_schema={"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
    output_schema={"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
    annotations=types.ToolAnnotations(read_only_hint=True),
)


UPSTREAM = types.Tool(
    name="list_phone_numbers",
    description="GET /v3/phone_numbers from an embedded Linq sandbox, returned as is.",
    input_schema={"type": "object", "properties": {}},
    annotations=types.ToolAnnotations(read_only_hint=True),
)


def build(upstream: Any = None) -> Server[Any]:
    """``upstream``: an httpx client on an embedded sandbox (``--sandbox-call``): the tool then
    makes the same Linq request linq-mcp's ``list_phone_numbers`` makes, and nothing else."""
    tools = [ECHO] + ([UPSTREAM] if upstream is not None else [])

    async def list_tools(ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: ServerRequestContext[Any], params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name == "list_phone_numbers" and upstream is not None:
            response = await upstream.get("/v3/phone_numbers")
            body = response.json()
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=json.dumps(body))], structured_content=body
            )
        data = {"text": str((params.arguments or {}).get("text", ""))}
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=json.dumps(data))], structured_content=data
        )

    return Server(
        "bare",
        version="0.0.1",
        get_tool_input_schema={t.name: t.input_schema for t in tools}.get,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def serve_stdio() -> None:
    from mcp.server.stdio import stdio_server

    server = build()
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def sandbox_client() -> Any:
    """An httpx client on linq-mcp's embedded sandbox, exactly as linq-mcp builds its own."""
    from linq_mcp.api.client import make_http_client
    from linq_mcp.sandbox.app import create_sandbox
    from linq_mcp.sandbox.config import SandboxConfig
    from linq_mcp.sandbox.transport import SandboxTransport
    from linq_mcp.server.runtime import SANDBOX_BASE_URL

    sandbox = create_sandbox(SandboxConfig())
    return make_http_client(SANDBOX_BASE_URL, sandbox.api_key, transport=SandboxTransport(sandbox.app))


def serve_http(port: int, stateless: bool, sandbox_call: bool = False) -> None:
    import uvicorn

    app = build(sandbox_client() if sandbox_call else None).streamable_http_app(
        streamable_http_path="/mcp", stateless_http=stateless, json_response=stateless, host="127.0.0.1"
    )
    # The same uvicorn settings as linq_mcp.server.transports.serve_http (log level: linq-mcp's default).
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--stateless", action="store_true")
    parser.add_argument(
        "--sandbox-call", action="store_true", help="HTTP only: add list_phone_numbers, a raw request to a sandbox"
    )
    args = parser.parse_args()
    if args.transport == "http":
        serve_http(args.port, args.stateless, args.sandbox_call)
    else:
        anyio.run(serve_stdio)


if __name__ == "__main__":
    main()
