"""The accounts of the load scenario and its users' base: an account verifies its email as a
person would, and every user sends its changing requests under an Idempotency-Key."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import quote

from locust import FastHttpUser

from devstack.mailbox import PATH as MAILBOX_PATH
from devstack.mailbox import token_in
from loadtests.keyed import changing
from loadtests.scenario import PASSWORD
from loadtests.users import body, log, unexpected


def _emailed_token(mailbox: str, email: str) -> str | None:
    """The newest verification token sent to `email`, from the local stack's outbox."""
    with urllib.request.urlopen(f"{mailbox}{MAILBOX_PATH}?to={quote(email)}", timeout=30) as answer:
        return token_in(json.load(answer)["emails"])


def verified_token(client, options, email: str, registered: dict) -> str | None:
    """The account's token once its email is verified (None, and a failure, otherwise)."""
    if registered.get("user", {}).get("email_verified"):
        return registered["token"]  # the stage verifies this domain on registration
    token = _emailed_token(options.mailbox, email) if options.mailbox else None
    if token is None:
        log.error(
            "%s is not verified: run against the local stack (--mailbox) or a stage deployed "
            "with AutoVerifyEmailDomain=loadtest.example.com",
            email,
        )
        return None
    with changing(client, options, "POST", "/auth/verify-email", json={"token": token}) as response:
        if response.status_code == 200:
            return body(response)["token"]
        unexpected(response)
        return None


class ApiUser(FastHttpUser):
    abstract = True
    network_timeout = 30.0
    connection_timeout = 10.0
    token = ""

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def options(self):
        return self.environment.parsed_options

    def login(self, email: str) -> bool:
        with self.client.post(
            "/auth/login", json={"email": email, "password": PASSWORD}, catch_response=True
        ) as response:
            if response.status_code == 200:
                self.token = body(response)["token"]
                return True
            unexpected(response)
            return False

    def changing(self, method: str, path: str, **kwargs):
        """A changing request under an Idempotency-Key, sometimes retried (`keyed.py`)."""
        return changing(self.client, self.options, method, path, headers=self.auth, **kwargs)

    def get_json(self, path: str, name: str) -> dict | None:
        with self.client.get(path, headers=self.auth, name=name, catch_response=True) as response:
            if response.status_code == 200:
                return body(response)
            unexpected(response)
            return None
