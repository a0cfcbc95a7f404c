"""Error codes live in three places that must agree: the contract's list, the HTTP status of
each, and the domain errors that raise them. A code added to one and not the others fails here."""

import importlib
import pkgutil

import service.domain
from service.domain.errors import DomainError
from service.http.errors import _CODE_BY_STATUS, STATUS_BY_CODE
from service.http.routing import load_spec

SPEC = load_spec()


def contract_codes() -> set[str]:
    schemas = SPEC["components"]["schemas"]
    if "ErrorCode" in schemas:
        return set(schemas["ErrorCode"]["enum"])
    return set(schemas["Error"]["properties"]["error"]["enum"])


def domain_codes() -> set[str]:
    for module in pkgutil.iter_modules(service.domain.__path__):
        importlib.import_module(f"service.domain.{module.name}")
    found, pending = set(), [DomainError]
    while pending:
        kind = pending.pop()
        pending += kind.__subclasses__()
        found.add(kind.code)
    return found


def test_every_code_has_one_status_and_is_in_the_contract():
    assert set(STATUS_BY_CODE) == contract_codes()


def test_every_domain_error_has_a_code_the_contract_names():
    assert domain_codes() <= contract_codes(), domain_codes() - contract_codes()


# In the product's list of codes, but no operation needs a role beyond being the borrower or
# an invited lender, which ACCESS_DENIED answers: nothing raises it.
RESERVED = {"INSUFFICIENT_ROLE"}


def test_codes_only_http_raises_are_those_of_http_failures():
    """The codes no domain error raises are Connexion's and Starlette's, mapped by status."""
    http_only = contract_codes() - domain_codes() - RESERVED
    assert http_only == {code for code, _ in _CODE_BY_STATUS.values()} - domain_codes()


def test_statuses_are_what_the_contract_says_for_the_codes_it_shows():
    """Each operation's documented error responses show codes whose status is that response's."""
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, response in operation["responses"].items():
                if not status.startswith(("4", "5")):
                    continue
                ref = response.get("$ref", "")
                response = SPEC["components"]["responses"][ref.rsplit("/", 1)[1]] if ref else response
                content = response.get("content", {}).get("application/json", {})
                examples = (
                    [content["example"]]
                    if "example" in content
                    else [e["value"] for e in content.get("examples", {}).values()]
                )
                for example in examples:
                    assert STATUS_BY_CODE[example["error"]] == int(status), (method, path, status, example)
