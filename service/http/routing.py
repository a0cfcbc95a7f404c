"""Where each OpenAPI operation's handler lives: `service.api.<first tag>.<snake_case id>`;
the spec as data, and Connexion's check of it, skipped where it was done when packaging."""

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from connexion.spec import OpenAPISpecification

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def snake_case(operation_id: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()


def handler_name(tag: str, operation_id: str) -> str:
    return f"service.api.{tag}.{snake_case(operation_id)}"


def spec_operations(spec: dict[str, Any]) -> list[dict[str, str]]:
    """Every operation in the spec: method, path, operationId, tag."""
    return [
        {"method": method, "path": path, "operation_id": op["operationId"], "tag": op["tags"][0]}
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    ]


def allowed_methods(spec: dict[str, Any]) -> list[tuple[re.Pattern[str], str]]:
    """Each path of the spec as a pattern, with the `Allow` header of a 405 on it: its methods
    (HEAD with GET). Connexion adds a route per operation, and Starlette's 405 names only the
    first route that matched the path, so a path with two operations would list one."""
    found = []
    for path, item in spec["paths"].items():
        methods = {method.upper() for method in item if method in HTTP_METHODS}
        if "GET" in methods:
            methods.add("HEAD")
        pattern = re.compile(re.sub(r"\\{\w+\\}", "[^/]+", re.escape(path)) + "$")
        found.append((pattern, ", ".join(sorted(methods))))
    return found


def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    """The spec as data: from the YAML, the source, where there is one (the repository), else
    from the JSON written from it (the Lambda artifact, `tools.package_lambda`): a cold start
    parses that in 0.3 ms, the YAML in ~9 ms even with libyaml (PyYAML's pure-Python parser:
    ~85 ms). Both give the same data (tests/lambda/test_packaging.py)."""
    if not path.exists():
        spec: dict[str, Any] = json.loads(path.with_suffix(".json").read_text())
        return spec
    spec = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return spec


@contextmanager
def spec_checked_already() -> Iterator[None]:
    """Connexion checks a spec against the OpenAPI schema whenever it loads one: 35 ms of every
    Lambda cold start. The artifact's spec passed that same check when it was packaged
    (`tools.package_lambda`), so the function's app skips it; every other app still checks."""
    own = OpenAPISpecification.__dict__.get("_validate_spec")
    OpenAPISpecification._validate_spec = classmethod(lambda cls, spec: None)
    try:
        yield
    finally:
        if own is None:
            del OpenAPISpecification._validate_spec
        else:
            OpenAPISpecification._validate_spec = own
