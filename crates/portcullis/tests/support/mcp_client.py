"""Drives Portcullis's MCP server with the official MCP Python SDK, for the Rust tests.

Reads a JSON plan on stdin: {"url": ..., "headers": {...}, "calls": [{"tool": ..., "arguments": {...}}]},
or with "oauth": {"session", "storage", "client_name", "scope", "consent"} instead of headers to
sign in through the SDK's own OAuth flow (discovery, registration, consent, PKCE, refresh).
Connects over Streamable HTTP, lists the tools, makes each call in order, and prints one JSON
object: {"protocol": ..., "tools": [{"name", "title", "readOnly", "destructive", "required"}],
"results": [{"tool", "isError", "structured", "text"}]}. A failure to connect prints
{"error": "..."} and exits 1.
"""
import asyncio
import json
import os
import re
import sys
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx2
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)


class FileStorage:
    """The SDK's token storage, kept in a JSON file between runs (as a desktop client keeps it)."""

    def __init__(self, path):
        self.path = path

    def _load(self):
        if not os.path.exists(self.path):
            return {}
        with open(self.path) as f:
            return json.load(f)

    def _save(self, key, value):
        data = self._load()
        data[key] = value
        with open(self.path, "w") as f:
            json.dump(data, f)

    async def get_tokens(self):
        tokens = self._load().get("tokens")
        return OAuthToken.model_validate(tokens) if tokens else None

    async def set_tokens(self, tokens):
        self._save("tokens", tokens.model_dump(mode="json", exclude_none=True))

    async def get_client_info(self):
        info = self._load().get("client")
        return OAuthClientInformationFull.model_validate(info) if info else None

    async def set_client_info(self, client_info):
        self._save("client", client_info.model_dump(mode="json", exclude_none=True))


def oauth_provider(plan):
    """The SDK's OAuth provider. Consent is given the way a person would: the signed-in console
    session (its cookie) opens the consent page and presses Allow."""
    oauth = plan["oauth"]
    redirect_uri = "http://127.0.0.1:33419/callback"
    answer = {}

    async def redirect_handler(authorization_url):
        if not oauth.get("consent", True):
            raise RuntimeError("the client was sent to the consent page again")
        if oauth.get("scope"):
            # The SDK asks for every scope the server lists; ask for fewer, as a client may.
            parts = urlsplit(authorization_url)
            query = [(k, v) for k, v in parse_qsl(parts.query) if k != "scope"] + [("scope", oauth["scope"])]
            authorization_url = parts._replace(query=urlencode(query)).geturl()
        cookie = {"Cookie": f"portcullis_session={oauth['session']}"}
        async with httpx2.AsyncClient(follow_redirects=False) as browser:
            page = await browser.get(authorization_url, headers=cookie)
            page.raise_for_status()
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            form = parse_qsl(urlsplit(authorization_url).query) + [("csrf", csrf), ("decision", "allow")]
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(authorization_url))
            headers = {
                **cookie,
                "Sec-Fetch-Site": "same-origin",
                "Content-Type": "application/x-www-form-urlencoded",
            }
            done = await browser.post(f"{origin}/oauth/authorize", content=urlencode(form), headers=headers)
            back = dict(parse_qsl(urlsplit(done.headers["location"]).query))
        answer.update(back)

    async def callback_handler():
        return AuthorizationCodeResult(code=answer["code"], state=answer.get("state"), iss=answer.get("iss"))

    metadata = OAuthClientMetadata(
        client_name=oauth["client_name"],
        redirect_uris=[redirect_uri],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
        scope=oauth.get("scope"),
    )
    return OAuthClientProvider(
        server_url=plan["url"],
        client_metadata=metadata,
        storage=FileStorage(oauth["storage"]),
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )


async def main(plan):
    auth = oauth_provider(plan) if plan.get("oauth") else None
    http = create_mcp_http_client(headers=plan.get("headers") or {}, auth=auth)
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
            access_tokens = []

            def note_token():
                tokens = auth.context.current_tokens if auth is not None else None
                if tokens and tokens.access_token not in access_tokens:
                    access_tokens.append(tokens.access_token)

            note_token()
            for call in plan.get("calls", []):
                if call.get("expire_token") and auth is not None:
                    # Pretend the access token's hour is up: the SDK refreshes it before the call.
                    auth.context.token_expiry_time = 1.0
                result = await client.call_tool(call["tool"], call.get("arguments") or {})
                text = "".join(c.text for c in result.content if getattr(c, "type", "") == "text")
                note_token()
                results.append({
                    "tool": call["tool"],
                    "isError": bool(result.is_error),
                    "structured": result.structured_content,
                    "text": text,
                })
            protocol = getattr(client.session, "protocol_version", None)
            return {
                "protocol": str(protocol) if protocol else None,
                "tools": tools,
                "results": results,
                "accessTokens": access_tokens,
            }


if __name__ == "__main__":
    plan = json.load(sys.stdin)
    try:
        out = asyncio.run(main(plan))
    except BaseException as exc:  # report what the SDK raised, with every cause of a group

        def causes(e):
            inner = getattr(e, "exceptions", None)
            if inner:
                return [c for i in inner for c in causes(i)]
            return [e] + (causes(e.__cause__) if e.__cause__ else [])

        print(json.dumps({"error": "; ".join(f"{type(c).__name__}: {c}" for c in causes(exc))}))
        sys.exit(1)
    print(json.dumps(out))
