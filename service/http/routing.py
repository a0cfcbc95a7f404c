"""Where each OpenAPI operation's handler lives: `service.api.<first tag>.<snake_case id>`."""

import re
from pathlib import Path
from typing import Any

import yaml

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
    """The spec as data. With libyaml (PyYAML's wheels have it) parsing takes ~11 ms instead of
    ~85 ms, and the app parses it at every Lambda cold start; the result is the same."""
    spec: dict[str, Any] = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return spec
