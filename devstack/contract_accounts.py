"""The contract run's real data for the account operations (`devstack/contract_substitutes.py`
lists them all): a peer's login, freshly emailed tokens, and accounts of their own made
through the API for what would end or lock alice's session."""

from __future__ import annotations

import threading
import uuid
from collections.abc import MutableMapping

import httpx
import jwt

from devstack.contract_setup import fixtures

_lock = threading.Lock()


def login(case) -> bool:
    if not isinstance(case.body, dict):
        return False
    peer = fixtures()["peers"]["alice"]
    case.body = {"email": peer["email"], "password": peer["password"]}
    return True


def verify(case) -> bool:
    from devstack.mailbox import fetch, token_in

    data = fixtures()
    if not data["mailbox_url"] or not isinstance(case.body, dict):
        return False
    email = f"contract-verify-{uuid.uuid4().hex[:10]}@{data['email_domain']}"
    httpx.post(
        f"{data['base_url']}/auth/register",
        timeout=30,
        json={"name": "Verifier", "email": email, "password": uuid.uuid4().hex},
    ).raise_for_status()
    token = token_in(fetch(data["mailbox_url"], email))
    if token is None:
        return False
    case.body = {"token": token}
    return True


def _own_account() -> dict:
    """A new account's session and password, made through the API."""
    data = fixtures()
    password = uuid.uuid4().hex
    email = f"contract-own-{uuid.uuid4().hex[:10]}@{data['email_domain']}"
    response = httpx.post(
        f"{data['base_url']}/auth/register", timeout=30, json={"name": "Own", "email": email, "password": password}
    )
    response.raise_for_status()
    return {**response.json(), "email": email, "password": password}


def refresh(case) -> bool:
    if not isinstance(case.body, dict):
        return False
    data, peer = fixtures(), fixtures()["peers"]["alice"]
    login = httpx.post(f"{data['base_url']}/auth/login", timeout=30, json=peer)
    login.raise_for_status()
    case.body = {"refresh_token": login.json()["refresh_token"]}
    return True


def logout(case) -> bool:
    if not isinstance(case.body, dict):
        return False
    case.body = {"refresh_token": _own_account()["refresh_token"]}
    return True


def reset(case) -> bool:
    from devstack.mailbox import fetch, token_in

    data = fixtures()
    if not data["mailbox_url"] or not isinstance(case.body, dict):
        return False
    email = _own_account()["email"]
    httpx.post(f"{data['base_url']}/auth/forgot-password", timeout=30, json={"email": email}).raise_for_status()
    token = token_in(fetch(data["mailbox_url"], email), "reset-password")
    if token is None:
        return False
    case.body = {**case.body, "token": token}
    return True


def _sent_as_peer(case) -> bool:
    """Whether the case carries a peer's bearer token (the run's auth provider set it), not an
    `Authorization` header Schemathesis generated. Only such a case may be sent as another
    account: a generated header must reach the API as it is, or the ignored-auth check sees a
    made-up credential succeed."""
    header = case.headers.get("Authorization") if isinstance(case.headers, MutableMapping) else None
    if not isinstance(header, str) or not header.startswith("Bearer "):
        return False
    try:
        claims = jwt.decode(header.removeprefix("Bearer "), options={"verify_signature": False})
    except jwt.PyJWTError:
        return False
    return claims.get("sub") in fixtures()["peer_ids"].values()


def as_own_account(case, real_password: bool) -> bool:
    """`changePassword` as an account of its own; with its real password if `real_password`."""
    if not _sent_as_peer(case):
        return False
    account = _own_account()
    case.headers["Authorization"] = f"Bearer {account['token']}"
    if real_password and isinstance(case.body, dict):
        case.body = {**case.body, "current_password": account["password"]}
        return True
    return False


def resend(case) -> bool:
    if not _sent_as_peer(case):
        return False
    with _lock:
        pool = fixtures()["unverified_tokens"]
        token = pool.pop(0) if pool else None
    if token is None:
        return False
    case.headers["Authorization"] = f"Bearer {token}"
    return True
