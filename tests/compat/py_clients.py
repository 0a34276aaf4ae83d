"""Drive one Python agent framework against linq-mcp and print what it saw as one JSON line.

    python tests/compat/py_clients.py CLIENT (--stdio '["linq-mcp", "--sandbox", ...]' | --http URL)

CLIENT is one of: fastmcp, openai-agents, anthropic, google-genai, pydantic-ai, langchain.
Each driver connects with the framework's own MCP client, converts every tool with the
framework's own code (strict where it has a strict mode), and plays scenario.CALLS through
the framework's own tool-call path (what it would hand a model). No model is called: where
the framework needs one, a local stand-in (pydantic-ai's FunctionModel, a canned Gemini
response) plays its part. Runs in any virtualenv that has the framework: LangChain's adapters
need mcp<2 and run from their own (requirements-langchain.txt).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenario import Report, play, strict_problems  # noqa: E402

Call = Callable[[str, dict[str, Any]], Awaitable[str]]


class Target:
    """Where linq-mcp is: a stdio command line (with its environment) or an HTTP URL."""

    def __init__(self, stdio: list[str] | None, http: str | None) -> None:
        self.stdio, self.http = stdio, http
        self.env = dict(os.environ)
        self.transport = "stdio" if stdio else "http"


def _schema(tool: Any) -> dict[str, Any]:
    """A listed tool's input schema, from an mcp 1.x (camelCase) or 2.x (snake_case) Tool."""
    schema = getattr(tool, "input_schema", None) or getattr(tool, "inputSchema", None) or {}
    return dict(json.loads(json.dumps(schema)))


def _texts(blocks: Any) -> str:
    """Join the text of content blocks, whatever shape the framework gives them."""
    if isinstance(blocks, str):
        return blocks
    if isinstance(blocks, dict):
        return str(blocks.get("text", json.dumps(blocks, default=str)))
    if isinstance(blocks, list | tuple):
        return "\n".join(_texts(b) for b in blocks)
    text = getattr(blocks, "text", None)
    return str(text) if text is not None else str(blocks)


# --- fastmcp's client ---------------------------------------------------------------------------


async def run_fastmcp(target: Target, report: Report) -> None:
    from fastmcp import Client
    from fastmcp.client.transports import StdioTransport

    transport: Any = target.http
    if target.stdio:
        transport = StdioTransport(command=target.stdio[0], args=target.stdio[1:], env=target.env)
    async with Client(transport) as client:
        tools = await client.list_tools()
        report.converted(len(tools))  # fastmcp hands tools on as MCP tools: nothing to convert
        schemas = {t.name: _schema(t) for t in tools}

        async def call(tool: str, args: dict[str, Any]) -> str:
            result = await client.call_tool(tool, args, raise_on_error=False)
            return _texts(result.content)

        await play(call, report, schemas)


# --- OpenAI Agents SDK ----------------------------------------------------------------------------


async def run_openai_agents(target: Target, report: Report) -> None:
    from agents import Agent
    from agents.mcp import MCPServerStdio, MCPServerStreamableHttp
    from agents.run_context import RunContextWrapper
    from agents.strict_schema import ensure_strict_json_schema
    from agents.tool_context import ToolContext

    server: Any
    if target.stdio:
        params: Any = {"command": target.stdio[0], "args": target.stdio[1:], "env": target.env}
        server = MCPServerStdio(params=params, client_session_timeout_seconds=30)
    else:  # 30 s, not the SDK's 5 s default: a loaded CI machine, not the server, is the slow part
        server = MCPServerStreamableHttp(params={"url": str(target.http)}, client_session_timeout_seconds=30)
    async with server:
        agent = Agent(name="compat", mcp_servers=[server], mcp_config={"convert_schemas_to_strict": True})
        tools: dict[str, Any] = {t.name: t for t in await agent.get_mcp_tools(RunContextWrapper(context=None))}
        report.converted(len(tools))
        listed = {t.name: t for t in await server.list_tools()}
        for name, tool in tools.items():
            if not tool.strict_json_schema:  # the SDK fell back to non-strict: find out why
                try:
                    ensure_strict_json_schema(_schema(listed[name]), _reject_open_objects=True)
                    reason = "fell back to non-strict"
                except Exception as exc:  # noqa: BLE001
                    reason = str(exc)
                report.non_strict(name, reason)

        async def call(tool: str, args: dict[str, Any]) -> str:
            raw = json.dumps(args)
            ctx = ToolContext(context=None, tool_name=tool, tool_call_id="call_1", tool_arguments=raw)
            return _texts(await tools[tool].on_invoke_tool(ctx, raw))

        await play(call, report, {n: _schema(t) for n, t in listed.items()})


# --- Anthropic SDK --------------------------------------------------------------------------------


async def _mcp_session(target: Target) -> Any:
    """An official-SDK ClientSession, as anthropic's and Google's helpers take one."""
    from contextlib import AsyncExitStack

    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    stack = AsyncExitStack()
    if target.stdio:
        params = StdioServerParameters(command=target.stdio[0], args=target.stdio[1:], env=target.env)
        read, write = await stack.enter_async_context(stdio_client(params))
    else:
        from mcp.client.streamable_http import streamable_http_client

        streams = await stack.enter_async_context(streamable_http_client(str(target.http)))
        read, write = streams[0], streams[1]
    session = await stack.enter_async_context(ClientSession(read, write))
    await session.initialize()
    return stack, session


async def run_anthropic(target: Target, report: Report) -> None:
    from anthropic import transform_schema
    from anthropic.lib.tools._tool_dispatch import tool_error_content
    from anthropic.lib.tools.mcp import async_mcp_tool

    stack, session = await _mcp_session(target)
    async with stack:
        listed = (await session.list_tools()).tools
        tools: dict[str, Any] = {}
        for tool in listed:
            try:
                transform_schema(_schema(tool))
                runnable = async_mcp_tool(tool, session, strict=True)
                runnable.to_dict()
                tools[tool.name] = runnable
            except Exception as exc:  # noqa: BLE001
                report.conversion_error(tool.name, exc)
        report.converted(len(tools))

        async def call(tool: str, args: dict[str, Any]) -> str:
            try:  # the tool runner's own handling: a ToolError's content becomes the tool_result
                return _texts(await tools[tool].call(args))
            except Exception as exc:  # noqa: BLE001
                return _texts(tool_error_content(exc))

        await play(call, report, {t.name: _schema(t) for t in listed})


# --- Google GenAI SDK -----------------------------------------------------------------------------


async def run_google_genai(target: Target, report: Report) -> None:
    from google.genai import types
    from google.genai._extra_utils import get_function_response_parts_async, parse_config_for_mcp_sessions
    from google.genai._mcp_utils import mcp_to_gemini_tool

    stack, session = await _mcp_session(target)
    async with stack:
        listed = (await session.list_tools()).tools
        for tool in listed:  # per tool, to name the ones that fail
            try:
                mcp_to_gemini_tool(tool).model_dump(mode="json")
            except Exception as exc:  # noqa: BLE001
                report.conversion_error(tool.name, exc)
        # What generate_content does with a ClientSession passed as a tool: one failure fails the request.
        adapters: dict[str, Any] = {}
        try:
            config, found = await parse_config_for_mcp_sessions(types.GenerateContentConfig(tools=[session]))
            assert config is not None
            adapters.update(found)
            report.converted(len(adapters))
        except Exception as exc:  # noqa: BLE001
            report.conversion_error("(request)", exc)

        async def call(tool: str, args: dict[str, Any]) -> str:
            # A canned model response with one function call stands in for Gemini.
            response = types.GenerateContentResponse(
                candidates=[
                    types.Candidate(
                        content=types.Content(role="model", parts=[types.Part.from_function_call(name=tool, args=args)])
                    )
                ]
            )
            parts = await get_function_response_parts_async(response, adapters)
            return json.dumps([p.model_dump(mode="json", exclude_none=True) for p in parts])

        await play(call, report, {t.name: _schema(t) for t in listed})


# --- pydantic-ai ----------------------------------------------------------------------------------


async def run_pydantic_ai(target: Target, report: Report) -> None:
    from pydantic_ai import Agent
    from pydantic_ai.mcp import MCPToolset
    from pydantic_ai.messages import (
        ModelMessage,
        ModelResponse,
        RetryPromptPart,
        TextPart,
        ToolCallPart,
        ToolReturnPart,
    )
    from pydantic_ai.models.function import AgentInfo, FunctionModel
    from pydantic_ai.profiles.openai import OpenAIJsonSchemaTransformer

    client: Any = target.http
    if target.stdio:
        from fastmcp.client.transports import StdioTransport

        client = StdioTransport(command=target.stdio[0], args=target.stdio[1:], env=target.env)
    # init_timeout: pydantic-ai's default is 5 s, which a loaded 2-core CI machine can miss while it spawns Python
    toolset = MCPToolset(client, init_timeout=30)
    plan: list[tuple[str, dict[str, Any]]] = []
    seen: list[str] = []
    schemas: dict[str, dict[str, Any]] = {}

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        """The model's stand-in: call the planned tool, then read what came back."""
        if not schemas:
            for tool_def in info.function_tools:
                schemas[tool_def.name] = tool_def.parameters_json_schema
        if plan:
            tool, args = plan.pop()
            return ModelResponse(parts=[ToolCallPart(tool_name=tool, args=args, tool_call_id="call_1")])
        for part in messages[-1].parts:
            if isinstance(part, ToolReturnPart):
                seen.append(part.model_response_str())
            elif isinstance(part, RetryPromptPart):
                seen.append(part.model_response())
        return ModelResponse(parts=[TextPart("done")])

    agent = Agent(FunctionModel(model), toolsets=[toolset])
    async with agent:

        async def call(tool: str, args: dict[str, Any]) -> str:
            plan.append((tool, args))
            seen.clear()
            await agent.run(f"call {tool}")
            return "\n".join(seen)

        await call("list_phone_numbers", {})  # also learns the tool definitions the model is given
        report.converted(len(schemas))
        auto_non_strict = []
        for name, schema in schemas.items():
            # Left to itself (strict=None), pydantic-ai's OpenAI model sends a tool strict only when every
            # property is already required: recorded for docs/clients.md, not a fallback.
            transformer = OpenAIJsonSchemaTransformer(json.loads(json.dumps(schema)), strict=None)
            transformer.walk()
            if not transformer.is_strict_compatible:
                auto_non_strict.append(name)
            try:  # strict asked for (ToolDefinition.strict=True): the transform must make every tool strict
                problems = strict_problems(
                    OpenAIJsonSchemaTransformer(json.loads(json.dumps(schema)), strict=True).walk()
                )
                if problems:
                    report.non_strict(name, "; ".join(problems[:3]))
            except Exception as exc:  # noqa: BLE001
                report.conversion_error(name, exc)
        report.data["auto_non_strict"] = sorted(auto_non_strict)
        await play(call, report, schemas)


# --- LangChain (langchain-mcp-adapters, in its own virtualenv) -------------------------------------


async def run_langchain(target: Target, report: Report) -> None:
    from langchain_core.utils.function_calling import convert_to_openai_tool
    from langchain_mcp_adapters.client import MultiServerMCPClient
    from langchain_mcp_adapters.tools import load_mcp_tools

    connection: dict[str, Any]
    if target.stdio:
        connection = {"transport": "stdio", "command": target.stdio[0], "args": target.stdio[1:], "env": target.env}
    else:
        connection = {"transport": "streamable_http", "url": str(target.http)}
    client = MultiServerMCPClient({"linq": connection})
    async with client.session("linq") as session:
        tools = {t.name: t for t in await load_mcp_tools(session)}
        report.converted(len(tools))
        for name, tool in tools.items():
            try:  # what ChatOpenAI.bind_tools(tools, strict=True) sends
                converted = convert_to_openai_tool(tool, strict=True)
                problems = strict_problems(converted["function"]["parameters"])
                if problems:
                    report.non_strict(name, "; ".join(problems[:3]))
            except Exception as exc:  # noqa: BLE001
                report.conversion_error(name, exc)

        async def call(tool: str, args: dict[str, Any]) -> str:
            try:  # a tool call as a chat model emits it; the ToolMessage content is what the model reads
                message = await tools[tool].ainvoke({"type": "tool_call", "id": "call_1", "name": tool, "args": args})
                return _texts(message.content)
            except Exception as exc:  # noqa: BLE001 - LangGraph's ToolNode shows the model the exception text
                return f"Error: {exc}"

        await play(call, report, {n: dict(t.args_schema) for n, t in tools.items()})


DRIVERS: dict[str, tuple[str, Callable[[Target, Report], Awaitable[None]]]] = {
    "fastmcp": ("fastmcp", run_fastmcp),
    "openai-agents": ("openai-agents", run_openai_agents),
    "anthropic": ("anthropic", run_anthropic),
    "google-genai": ("google-genai", run_google_genai),
    "pydantic-ai": ("pydantic-ai-slim", run_pydantic_ai),
    "langchain": ("langchain-mcp-adapters", run_langchain),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("client", choices=sorted(DRIVERS))
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stdio", help="the server's command line, as a JSON list")
    where.add_argument("--http", help="the server's MCP URL")
    args = parser.parse_args()
    target = Target(json.loads(args.stdio) if args.stdio else None, args.http)
    dist, driver = DRIVERS[args.client]
    report = Report(args.client, f"{version(dist)} (mcp {version('mcp')})", target.transport)
    try:
        asyncio.run(asyncio.wait_for(driver(target, report), timeout=240))
    except BaseException as exc:  # noqa: BLE001 - report it; the tests say what it means
        report.fatal(exc)
    print(report.dump(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
