"""The spec and the handlers agree: every operation has a handler with the arguments
Connexion passes, every handler serves an operation, and new operations get stubs."""

import importlib
import inspect
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from service.http.routing import handler_name, load_spec, snake_case, spec_operations
from tools import stub_handlers

SPEC = load_spec()
OPERATIONS = spec_operations(SPEC)
API_DIR = Path(stub_handlers.__file__).resolve().parent.parent / "service" / "api"
NOT_HANDLER_MODULES = {"__init__", "views"}


def _handler(op):
    module, _, name = handler_name(op["tag"], op["operation_id"]).rpartition(".")
    return getattr(importlib.import_module(module), name, None)


def test_the_spec_is_valid_openapi():
    validate(SPEC)


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op["operation_id"])
def test_every_operation_has_a_handler_taking_what_connexion_passes(op):
    handler = _handler(op)
    assert callable(handler), f"no handler for {op['operation_id']}"
    expected = [a.split("=")[0] for a in stub_handlers.handler_arguments(SPEC, op["method"], op["path"])]
    assert list(inspect.signature(handler).parameters) == expected


def test_every_handler_serves_an_operation():
    served = {handler_name(op["tag"], op["operation_id"]) for op in OPERATIONS}
    handlers = {
        f"service.api.{module.stem}.{name}"
        for module in API_DIR.glob("*.py")
        if module.stem not in NOT_HANDLER_MODULES
        for name in stub_handlers.defined_functions(module)
        if not name.startswith("_")
    }
    assert handlers == served


def test_operation_ids_are_unique_and_paths_are_fixed():
    """Paths are part of the contract frontends build against: these, and no others."""
    assert len({op["operation_id"] for op in OPERATIONS}) == len(OPERATIONS)
    assert {(op["method"], op["path"]) for op in OPERATIONS} == {
        ("post", "/auth/register"),
        ("post", "/auth/login"),
        ("post", "/loans"),
        ("post", "/auth/verify-email"),
        ("post", "/auth/resend-verification"),
        ("post", "/loans/{loan_id}/cancel"),
        ("post", "/loans/{loan_id}/invitations"),
        ("get", "/loans/{loan_id}/events"),
        ("get", "/loans/{loan_id}/schedule"),
        ("post", "/loans/{loan_id}/repayments"),
        ("get", "/loans/{loan_id}/repayments"),
        ("get", "/loans/{loan_id}/documents"),
        ("post", "/loans/{loan_id}/documents"),
        ("post", "/loans/{loan_id}/documents/{document_id}/complete"),
        ("delete", "/loans/{loan_id}/documents/{document_id}"),
        ("put", "/lender/decline/{loan_id}"),
        ("get", "/user/notifications"),
        ("post", "/user/notifications/read"),
        ("get", "/loans/my-loans"),
        ("get", "/loans/{loan_id}"),
        ("get", "/lender/pending"),
        ("put", "/lender/accept/{loan_id}"),
        ("get", "/user/profile"),
        ("patch", "/user/profile"),
        ("get", "/lenders/search"),
        ("get", "/user/dashboard"),
        ("get", "/health"),
        ("post", "/auth/refresh"),
        ("post", "/auth/logout"),
        ("post", "/auth/forgot-password"),
        ("post", "/auth/reset-password"),
        ("put", "/user/password"),
    }


def test_stub_generator_writes_importable_stubs_for_new_operations(tmp_path, monkeypatch):
    spec = load_spec()
    spec["paths"]["/loans/{loan_id}/remind"] = {
        "parameters": [{"$ref": "#/components/parameters/LoanId"}],
        "put": {
            "tags": ["lender"],
            "operationId": "remindLender",
            "responses": {"204": {"description": "ok"}},
            "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
        },
    }
    spec["paths"]["/reports"] = {
        "get": {
            "tags": ["reports"],
            "operationId": "listReports",
            "security": [],
            "parameters": [{"$ref": "#/components/parameters/Limit"}],
            "responses": {"200": {"description": "ok"}},
        },
    }
    (tmp_path / "lender.py").write_text((API_DIR / "lender.py").read_text())
    for name in ("auth", "loans", "documents", "user", "health"):
        (tmp_path / f"{name}.py").write_text((API_DIR / f"{name}.py").read_text())

    written = stub_handlers.write_stubs(spec, tmp_path)

    assert written == ["lender.py: remind_lender", "reports.py: list_reports"]
    assert stub_handlers.missing_operations(spec, tmp_path) == []
    namespace: dict = {}
    exec(compile((tmp_path / "reports.py").read_text(), "reports.py", "exec"), namespace)
    assert list(inspect.signature(namespace["list_reports"]).parameters) == ["services", "limit"]
    with pytest.raises(NotImplementedError):
        namespace["list_reports"](None)
    assert "def remind_lender(services, user, loan_id, body):" in (tmp_path / "lender.py").read_text()
    assert snake_case("remindLender") == "remind_lender"
