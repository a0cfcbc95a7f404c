"""Run moto's server in-process and deploy the real CloudFormation template into it.

``LocalAws`` serves moto's multi-service WSGI app on 127.0.0.1 in a background
thread; ``deploy_database_stack`` creates the DynamoDB tables from
``infra/database.yaml`` through moto's CloudFormation API, so local runs and
tests use exactly the tables (and the documents bucket) that production gets.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from botocore.exceptions import ClientError, WaiterError
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from devstack import moto_patches, moto_secrets
from devstack.mailbox import MailboxApp

REGION = "us-east-1"
DUMMY_ACCESS_KEY_ID = "testing"
DUMMY_SECRET_ACCESS_KEY = "testing"
DEFAULT_TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "infra" / "database.yaml"

_WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# One lock for the whole process: moto's backends are process-wide globals, so
# every LocalAws in this process serves the same store.
_REQUEST_LOCK = threading.Lock()


class _SerialisedApp:
    """WSGI wrapper that handles one request at a time.

    Real DynamoDB executes each request (notably TransactWriteItems) atomically
    and in isolation. moto's backend has no request-level lock, so two
    concurrent transactions could interleave between their condition checks
    and their writes. Serialising whole requests under one lock restores
    per-request atomicity. The response body is drained inside the lock so no
    backend work can leak past it.
    """

    def __init__(self, app: _WSGIApp, lock: threading.Lock = _REQUEST_LOCK) -> None:
        self._app = app
        self._lock = lock

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            token = _transaction_token(environ)
            if token is not None and token in _COMPLETED_TRANSACTIONS:
                status, headers, body = _COMPLETED_TRANSACTIONS[token]
                start_response(status, headers)
                return [body]
            response: list = []

            def recording_start_response(status: str, headers: list, *exc_info: Any) -> Any:
                response[:] = [status, headers]
                return start_response(status, headers, *exc_info)

            result = self._app(environ, recording_start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            if token is not None and response and response[0].startswith("200"):
                _COMPLETED_TRANSACTIONS[token] = (response[0], response[1], body)
        return [body]


# DynamoDB answers a retried TransactWriteItems that carries the ClientRequestToken of one
# that succeeded with that success, without running it again; moto does not, so a client
# retry after a timeout would fail on its own first write. Kept for the server's lifetime.
_COMPLETED_TRANSACTIONS: dict[str, tuple[str, list, bytes]] = {}


def _transaction_token(environ: dict[str, Any]) -> str | None:
    """The ClientRequestToken of a TransactWriteItems request (the body is put back)."""
    if not environ.get("HTTP_X_AMZ_TARGET", "").endswith(".TransactWriteItems"):
        return None
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(raw)
    try:
        return json.loads(raw).get("ClientRequestToken")
    except ValueError:
        return None


class _QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without werkzeug's per-request access log line."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class LocalAws:
    """moto's server on 127.0.0.1:<port> in a background thread (port 0 = any free port).

    moto keeps its state in process-wide globals: every LocalAws in one process
    shares the same store (and the same request lock). ``start()`` first applies
    ``devstack.moto_patches``, which keep moto's cost and memory flat as tables grow.
    Pass ``log_requests=True`` for werkzeug's access log.
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1", *, log_requests: bool = False) -> None:
        self._host = host
        self._requested_port = port
        self._log_requests = log_requests
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("LocalAws is not running; call start() first")
        return int(self._server.server_address[1])

    @property
    def endpoint_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def start(self) -> LocalAws:
        if self._server is not None:
            raise RuntimeError("LocalAws is already running")
        moto_patches.apply()
        moto_secrets.register()
        app = _SerialisedApp(MailboxApp(DomainDispatcherApplication(create_backend_app)))
        # make_server binds the socket here, so the server accepts connections
        # (they queue in the backlog) as soon as this returns.
        server = make_server(
            self._host,
            self._requested_port,
            app,
            threaded=True,
            request_handler=MotoRequestHandler if self._log_requests else _QuietRequestHandler,
        )
        server.daemon_threads = True
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"local-aws-{server.server_address[1]}",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def aws_environment(endpoint_url: str) -> dict[str, str]:
    """Environment variables that point boto3 in another process at the stand-in."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }


def client(service: str, endpoint_url: str, **client_kwargs: Any) -> Any:
    """A boto3 client for ``service`` talking to the stand-in with dummy credentials.

    Extra keyword arguments (e.g. ``config=botocore.config.Config(...)``) go to
    ``Session.client``. Clients are thread-safe; creating one costs ~0.1 s, so share it.
    """
    session = boto3.session.Session(
        aws_access_key_id=DUMMY_ACCESS_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
        region_name=REGION,
    )
    return session.client(service, endpoint_url=endpoint_url, **client_kwargs)


def _outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _describe_stack(cfn: Any, stack_name: str) -> dict[str, Any] | None:
    try:
        return cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise


def deploy_database_stack(
    endpoint_url: str,
    stage: str = "local",
    project: str = "marketplace",
    template_path: Path | str = DEFAULT_TEMPLATE_PATH,
    parameters: dict[str, str] | None = None,
) -> dict[str, str]:
    """Create the stack ``{project}-{stage}-database`` from the template (or reuse it), with
    `parameters` beyond the stage and the project (such as CorsAllowedOrigins).

    Returns the stack outputs as ``{OutputKey: OutputValue}``.
    """
    cfn = client("cloudformation", endpoint_url)
    stack_name = f"{project}-{stage}-database"
    existing = _describe_stack(cfn, stack_name)
    if existing is None:
        cfn.create_stack(
            StackName=stack_name,
            TemplateBody=Path(template_path).read_text(encoding="utf-8"),
            Parameters=[
                {"ParameterKey": key, "ParameterValue": value}
                for key, value in {"Stage": stage, "ProjectName": project, **(parameters or {})}.items()
            ],
        )
    elif existing["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        return _outputs(existing)
    elif existing["StackStatus"] != "CREATE_IN_PROGRESS":
        raise RuntimeError(f"stack {stack_name} exists in state {existing['StackStatus']}")
    try:
        # Bounded poll: at most 60 attempts, 1 s apart.
        cfn.get_waiter("stack_create_complete").wait(StackName=stack_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    except WaiterError as exc:
        raise RuntimeError(f"stack {stack_name} did not reach CREATE_COMPLETE: {exc.last_response}") from exc
    stack = _describe_stack(cfn, stack_name)
    assert stack is not None
    return _outputs(stack)
