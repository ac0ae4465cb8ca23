"""Drives Portcullis's MCP server with the official MCP Python SDK, for the Rust tests.

Reads a JSON plan on stdin: {"url": ..., "headers": {...}, "calls": [{"tool": ..., "arguments": {...}}]}.
Connects over Streamable HTTP, lists the tools, makes each call in order, and prints one JSON
object: {"protocol": ..., "tools": [{"name", "title", "readOnly", "destructive", "required"}],
"results": [{"tool", "isError", "structured", "text"}]}. A failure to connect prints
{"error": "..."} and exits 1.
"""
import asyncio
import json
import sys

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


async def main(plan):
    http = create_mcp_http_client(headers=plan.get("headers") or {})
    async with http:
        transport = streamable_http_client(plan["url"], http_client=http)
        async with Client(transport, cache=None, raise_exceptions=True) as client:
            listed = await client.list_tools()
            tools = []
            for tool in listed.tools:
                hints = tool.annotations
                tools.append({
                    "name": tool.name,
                    "title": hints.title if hints else None,
                    "readOnly": hints.read_only_hint if hints else None,
                    "destructive": hints.destructive_hint if hints else None,
                    "required": (tool.input_schema or {}).get("required", []),
                    "description": tool.description,
                })
            results = []
            for call in plan.get("calls", []):
                result = await client.call_tool(call["tool"], call.get("arguments") or {})
                text = "".join(c.text for c in result.content if getattr(c, "type", "") == "text")
                results.append({
                    "tool": call["tool"],
                    "isError": bool(result.is_error),
                    "structured": result.structured_content,
                    "text": text,
                })
            protocol = getattr(client.session, "protocol_version", None)
            return {"protocol": str(protocol) if protocol else None, "tools": tools, "results": results}


if __name__ == "__main__":
    plan = json.load(sys.stdin)
    try:
        out = asyncio.run(main(plan))
    except BaseException as exc:  # report what the SDK raised, with the causes of a group
        causes = getattr(exc, "exceptions", None) or [exc]
        print(json.dumps({"error": "; ".join(f"{type(c).__name__}: {c}" for c in causes)}))
        sys.exit(1)
    print(json.dumps(out))
