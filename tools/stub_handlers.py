"""Write a stub handler for every operation in `openapi.yaml` that has none yet.

    python -m tools.stub_handlers          # write the missing stubs
    python -m tools.stub_handlers --check  # exit 1 if any operation lacks a handler

A stub lands in `service/api/<first tag>.py` (created if needed) under the snake_case of the
operationId, with the arguments it will get: the app's `services` (from the resolver in
`service/http/app.py`), then what Connexion passes: `user` for secured operations, path and
query parameters, and `body` when there is a request body.
"""

import argparse
import ast
import sys
from pathlib import Path

from service.http.routing import load_spec, snake_case, spec_operations

API_DIR = Path(__file__).resolve().parent.parent / "service" / "api"


def handler_arguments(spec: dict, method: str, path: str) -> list[str]:
    """The handler's parameters, in the order a reader expects them."""
    item = spec["paths"][path]
    operation = item[method]
    params = [_deref(spec, p) for p in item.get("parameters", []) + operation.get("parameters", [])]
    secured = operation.get("security", spec.get("security")) not in (None, [])
    arguments = ["services"] + (["user"] if secured else [])
    arguments += [p["name"] for p in params if p["in"] == "path"]
    if "requestBody" in operation:
        arguments.append("body")
    arguments += [f"{p['name']}=None" for p in params if p["in"] == "query"]
    return arguments


def _deref(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        target = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def defined_functions(module: Path) -> set[str]:
    if not module.exists():
        return set()
    tree = ast.parse(module.read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def missing_operations(spec: dict, api_dir: Path = API_DIR) -> list[dict]:
    return [
        op
        for op in spec_operations(spec)
        if snake_case(op["operation_id"]) not in defined_functions(api_dir / f"{op['tag']}.py")
    ]


def stub_source(spec: dict, op: dict) -> str:
    arguments = ", ".join(handler_arguments(spec, op["method"], op["path"]))
    return (
        f"\n\ndef {snake_case(op['operation_id'])}({arguments}):\n"
        f'    """{op["method"].upper()} {op["path"]}"""\n'
        f'    raise NotImplementedError("{op["operation_id"]} is not implemented yet")\n'
    )


def write_stubs(spec: dict, api_dir: Path = API_DIR) -> list[str]:
    written = []
    for op in missing_operations(spec, api_dir):
        module = api_dir / f"{op['tag']}.py"
        if not module.exists():
            module.write_text(f'"""Operations tagged `{op["tag"]}`."""\n')
        with module.open("a") as handle:
            handle.write(stub_source(spec, op))
        written.append(f"{module.name}: {snake_case(op['operation_id'])}")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report missing handlers")
    args = parser.parse_args(argv)
    spec = load_spec()
    if args.check:
        missing = missing_operations(spec)
        for op in missing:
            print(f"missing handler: {op['operation_id']} ({op['method'].upper()} {op['path']})")
        return 1 if missing else 0
    for line in write_stubs(spec) or ["every operation has a handler"]:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
