"""Write the API Gateway routes of `infra/application.yaml` from `openapi.yaml`.

    python -m tools.gateway_routes          # rewrite the generated block of the template
    python -m tools.gateway_routes --check  # exit 1 if the block is out of date

Every operation of the spec becomes a method on the REST API, proxied (AWS_PROXY) to the
function of the operation's first tag (`auth` -> `AuthFunction`), and every path gets an
OPTIONS method proxied to the same function, whose CORS middleware answers preflights. No
other route exists: API Gateway refuses any other method or path without invoking a function.

The block also holds the deployment and the stage: a REST API deployment is a snapshot of
the routes (and of the gateway responses defined elsewhere in the template), which
CloudFormation takes only when the deployment resource is created, so its logical id carries
a hash of both and changes whenever they do.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from service.http.routing import load_spec, spec_operations

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "infra" / "application.yaml"
BEGIN = "  # BEGIN ROUTES: generated from openapi.yaml by `python -m tools.gateway_routes`; do not edit.\n"
END = "  # END ROUTES\n"
INTEGRATION_URI = (
    '"arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${%s.Arn}/invocations"'
)


@dataclass(frozen=True)
class Route:
    method: str  # upper case
    path: str
    function: str  # logical id of the function that serves it
    operation_id: str | None  # None for the CORS preflight routes


def function_for_tag(tag: str) -> str:
    return f"{tag[:1].upper()}{tag[1:]}Function"


def _camel(path: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", path)
    return "".join(word[:1].upper() + word[1:] for word in words if word)


def resource_id(path: str) -> str:
    return f"Api{_camel(path)}Resource"


def method_id(method: str, path: str) -> str:
    return f"Api{_camel(path)}{method.title()}"


def routes(spec: dict) -> list[Route]:
    """The spec's operations, then one OPTIONS route per path."""
    found = [
        Route(op["method"].upper(), op["path"], function_for_tag(op["tag"]), op["operation_id"])
        for op in spec_operations(spec)
    ]
    functions_by_path: dict[str, set[str]] = {}
    for route in found:
        functions_by_path.setdefault(route.path, set()).add(route.function)
    for path, functions in functions_by_path.items():
        if len(functions) != 1:
            raise SystemExit(
                f"{path}: its operations have different first tags ({sorted(functions)});"
                " one function must answer its CORS preflight"
            )
        if any(r.path == path and r.method == "OPTIONS" for r in found):
            raise SystemExit(f"{path}: OPTIONS is reserved for CORS preflights")
        found.append(Route("OPTIONS", path, functions.pop(), None))
    return found


def _resource_paths(paths: list[str]) -> list[str]:
    """Every path and every prefix of one, parents first."""
    prefixes = set()
    for path in paths:
        parts = path.strip("/").split("/")
        prefixes.update("/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1))
    return sorted(prefixes, key=lambda p: (p.count("/"), p))


def gateway_responses(template: str) -> dict[str, str]:
    """The template's AWS::ApiGateway::GatewayResponse resources: {logical id: their JSON}."""
    from cfnlint.decode.cfn_yaml import loads  # understands the short forms (!Ref, !Sub)

    if not template:
        return {}
    resources = loads(template).get("Resources") or {}
    return {
        logical_id: json.dumps(resource, sort_keys=True)
        for logical_id, resource in resources.items()
        if resource.get("Type") == "AWS::ApiGateway::GatewayResponse"
    }


def render(spec: dict, template: str = "") -> str:
    """The generated block, markers included; `template` supplies the gateway responses."""
    all_routes = routes(spec)
    ids = [resource_id(p) for p in _resource_paths([r.path for r in all_routes])]
    ids += [method_id(r.method, r.path) for r in all_routes]
    if len(ids) != len(set(ids)):
        raise SystemExit("two paths map to the same logical id; rename one of them")

    lines: list[str] = []
    for path in _resource_paths([r.path for r in all_routes]):
        parent, _, part = path.rpartition("/")
        parent_ref = f"!Ref {resource_id(parent)}" if parent else "!GetAtt Api.RootResourceId"
        lines += [
            f"  {resource_id(path)}:",
            "    Type: AWS::ApiGateway::Resource",
            "    Properties:",
            "      RestApiId: !Ref Api",
            f"      ParentId: {parent_ref}",
            f'      PathPart: "{part}"',
        ]
    for route in sorted(all_routes, key=lambda r: (r.path, r.method)):
        comment = f"{route.operation_id}" if route.operation_id else "CORS preflight"
        lines += [
            f"  {method_id(route.method, route.path)}:  # {route.method} {route.path}: {comment}",
            "    Type: AWS::ApiGateway::Method",
            "    Properties:",
            "      RestApiId: !Ref Api",
            f"      ResourceId: !Ref {resource_id(route.path)}",
            f"      HttpMethod: {route.method}",
            "      AuthorizationType: NONE",
            *([f"      OperationName: {route.operation_id}"] if route.operation_id else []),
            "      Integration:",
            "        Type: AWS_PROXY",
            "        IntegrationHttpMethod: POST",
            f"        Uri: !Sub {INTEGRATION_URI % route.function}",
        ]
    routes_text = "\n".join(lines) + "\n"
    responses = gateway_responses(template)
    snapshot = routes_text + "".join(responses[k] for k in sorted(responses))
    digest = hashlib.sha256(snapshot.encode()).hexdigest()[:10]
    methods = sorted(method_id(r.method, r.path) for r in all_routes) + sorted(responses)
    deployment = [
        f"  ApiDeployment{digest}:",
        "    Type: AWS::ApiGateway::Deployment",
        "    DependsOn:",
        *[f"      - {m}" for m in methods],
        "    Properties:",
        "      RestApiId: !Ref Api",
        f"      Description: Routes of openapi.yaml ({digest})",
        "  ApiStage:",
        "    Type: AWS::ApiGateway::Stage",
        "    Properties:",
        "      RestApiId: !Ref Api",
        f"      DeploymentId: !Ref ApiDeployment{digest}",
        "      StageName: !Ref Stage",
        '      Description: !Sub "${ProjectName} API, ${Stage}"',
        "      MethodSettings:",
        '        - ResourcePath: "/*"',
        '          HttpMethod: "*"',
        "          ThrottlingRateLimit: !Ref ThrottlingRateLimit",
        "          ThrottlingBurstLimit: !Ref ThrottlingBurstLimit",
        "          MetricsEnabled: true",
        "          DataTraceEnabled: false",
    ]
    return BEGIN + routes_text + "\n".join(deployment) + "\n" + END


def _split(template: str) -> tuple[str, str, str]:
    if template.count(BEGIN) != 1 or template.count(END) != 1:
        raise SystemExit(f"{TEMPLATE_PATH.name} must hold the markers {BEGIN.strip()!r} and {END.strip()!r} once")
    head, rest = template.split(BEGIN)
    block, tail = rest.split(END)
    return head, BEGIN + block + END, tail


def is_current(template_path: Path = TEMPLATE_PATH, spec: dict | None = None) -> bool:
    template = template_path.read_text()
    _, block, _ = _split(template)
    return block == render(spec or load_spec(), template)


def write(template_path: Path = TEMPLATE_PATH, spec: dict | None = None) -> bool:
    """Rewrite the block; True if it changed."""
    template = template_path.read_text()
    head, block, tail = _split(template)
    new_block = render(spec or load_spec(), template)
    if block == new_block:
        return False
    template_path.write_text(head + new_block + tail)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the template is out of date")
    args = parser.parse_args(argv)
    if args.check:
        if is_current():
            return 0
        print(f"{TEMPLATE_PATH} is out of date: run `python -m tools.gateway_routes`.", file=sys.stderr)
        return 1
    print(f"{TEMPLATE_PATH}: {'updated' if write() else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
