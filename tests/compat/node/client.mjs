// The TypeScript MCP SDK's client (1.x: @modelcontextprotocol/sdk, 2.x: @modelcontextprotocol/client)
// against linq-mcp: list tools, play the scenario's calls, confirm like a model would, and print
// one JSON line in the shape of tests/compat/scenario.py's Report.
//
//   node client.mjs --sdk 1|2 --scenario JSON (--stdio JSON | --http URL)
//
// The scenario (calls, first-contact arguments, token pattern) comes from scenario.py, so the
// two languages play the same thing. What "the model sees" here is the text content of the
// result, or the message of the error the SDK throws instead of a result.
import { readFileSync } from "node:fs";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, value, i, all) => (i % 2 === 0 ? [...pairs, [value.replace(/^--/, ""), all[i + 1]]] : pairs), []),
);
const scenario = JSON.parse(args.scenario);

async function sdk(major) {
  if (major === "1") {
    const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
    const { StdioClientTransport } = await import("@modelcontextprotocol/sdk/client/stdio.js");
    const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js");
    return { Client, StdioClientTransport, StreamableHTTPClientTransport, pkg: "@modelcontextprotocol/sdk" };
  }
  const { Client, StreamableHTTPClientTransport } = await import("@modelcontextprotocol/client");
  const { StdioClientTransport } = await import("@modelcontextprotocol/client/stdio");
  return { Client, StdioClientTransport, StreamableHTTPClientTransport, pkg: "@modelcontextprotocol/client" };
}

function textOf(result) {
  return (result.content ?? []).map((block) => (block.type === "text" ? block.text : JSON.stringify(block))).join("\n");
}

const { Client, StdioClientTransport, StreamableHTTPClientTransport, pkg } = await sdk(args.sdk);
const version = JSON.parse(readFileSync(new URL(`node_modules/${pkg}/package.json`, import.meta.url))).version;
const report = {
  client: `typescript-sdk-${args.sdk}`,
  version: `${pkg} ${version}`,
  transport: args.stdio ? "stdio" : "http",
  tools: 0,
  conversion_errors: {},
  non_strict: {},
  calls: {},
  fatal: null,
};

let transport;
if (args.stdio) {
  const [command, ...rest] = JSON.parse(args.stdio);
  transport = new StdioClientTransport({ command, args: rest, env: { ...process.env }, stderr: "ignore" });
} else {
  transport = new StreamableHTTPClientTransport(new URL(args.http));
}
const client = new Client({ name: "linq-mcp-compat", version: "1.0.0" });

async function call(tool, toolArgs) {
  try {
    return textOf(await client.callTool({ name: tool, arguments: toolArgs }));
  } catch (error) {
    return `EXCEPTION ${error?.name ?? "Error"}: ${error?.message ?? error}`;
  }
}

try {
  await client.connect(transport);
  const { tools } = await client.listTools();
  report.tools = tools.length;
  for (const [key, [tool, toolArgs]] of Object.entries(scenario.calls)) {
    report.calls[key] = await call(tool, toolArgs);
  }
  const token = new RegExp(scenario.token_pattern).exec(report.calls.first_contact);
  if (token) {
    report.calls.confirmed = await call("create_chat", { ...scenario.first_contact_args, confirm_token: token[1] });
  }
  const check = tools.find((t) => t.name === "check_imessage");
  const nulls = Object.fromEntries(Object.keys(check?.inputSchema?.properties ?? {}).map((name) => [name, null]));
  report.calls.nulls_for_absent = await call("check_imessage", { ...nulls, address: scenario.calls.check_imessage[1].address });
} catch (error) {
  report.fatal = `${error?.name ?? "Error"}: ${error?.message ?? error}`;
} finally {
  try {
    await client.close();
  } catch {
    // closing a transport that never opened
  }
}
process.stdout.write(`${JSON.stringify(report)}\n`);
process.exit(0);
