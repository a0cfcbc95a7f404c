"""`make run` only: the two pages the service's emails link to, standing in for a frontend.

`/verify-email?token=…` offers a button that sends the token to `POST /auth/verify-email` and
shows the answer (opening the page changes nothing: mail scanners open links);
`/register?email=…` points at Swagger UI to register. Everything else is the API.
"""

from __future__ import annotations

import html
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route

_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:3em auto}}pre{{background:#eee;padding:1em;
white-space:pre-wrap}}</style></head><body><h1>{title}</h1>{body}</body></html>"""

_VERIFY = """<p>Confirm the email address of your lending marketplace account.</p>
<button id="go">Confirm my address</button><pre id="out"></pre>
<script>
document.getElementById("go").onclick = async () => {{
  const r = await fetch("/auth/verify-email", {{method: "POST",
    headers: {{"Content-Type": "application/json"}}, body: JSON.stringify({{token: {token}}})}});
  document.getElementById("out").textContent = r.status + "\\n" + JSON.stringify(await r.json(), null, 2);
}};
</script>"""


async def _verify(request: Request) -> HTMLResponse:
    token = request.query_params.get("token", "")
    # A JSON string literal, with `<` escaped so no value can close the script element.
    body = _VERIFY.format(token=json.dumps(token).replace("<", "\\u003c"))
    return HTMLResponse(_PAGE.format(title="Confirm your email", body=body))


async def _register(request: Request) -> HTMLResponse:
    email = html.escape(request.query_params.get("email", ""))
    body = (
        f"<p>Register as <b>{email}</b> with <code>POST /auth/register</code> in "
        f'<a href="/ui/">Swagger UI</a>, then follow the link in the email you get.</p>'
    )
    return HTMLResponse(_PAGE.format(title="You were invited to fund a loan", body=body))


def with_local_pages(api: Any) -> Starlette:
    return Starlette(
        routes=[
            Route("/verify-email", _verify),
            Route("/register", _register),
            Mount("/", app=api),
        ]
    )
