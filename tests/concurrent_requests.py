"""Real concurrent requests: each on its own thread and connection, released together."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx


def race(base_url: str, requests: list[tuple[str, str, dict, Any]]) -> list[httpx.Response]:
    """Send every request at the same moment, one thread and one connection each."""
    barrier = threading.Barrier(len(requests))

    def send(request):
        method, path, headers, body = request
        with httpx.Client(base_url=base_url, timeout=60) as client:
            client.get("/health")  # open the connection before the start line
            barrier.wait()
            return client.request(method, path, headers=headers, json=body)

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, requests))
