"""Deploy the application stack (`infra/application.yaml`) into the local AWS stand-in, the
way `make deploy` deploys it to AWS: package, then create the stack.

``package_template`` does what `aws cloudformation package` does for this template: it uploads
the artifact each function's `Code` names (relative to the template) to S3 and replaces `Code`
by its S3 location. moto's CloudFormation then creates the stack from the result.

moto's CloudFormation creates the functions, roles and policies, log groups, the REST API with
its resources, methods and integrations, the Lambda permissions, the SNS topic and (taught by
``devstack.moto_secrets``) the secrets; it skips (with a warning) the resource types it does
not implement, listed by ``unsupported_types``: the API stage, the gateway responses, the
CloudWatch alarms and the rotation schedule. cfn-lint and the template tests check those.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from botocore.exceptions import WaiterError

from devstack.aws import _describe_stack, _outputs, client

APPLICATION_TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "application.yaml"
ARTIFACT_BUCKET = "local-artifacts"


def load_template(path: Path = APPLICATION_TEMPLATE) -> dict[str, Any]:
    """The template as plain JSON-able data (short forms such as !Sub expanded)."""
    from cfnlint.decode.cfn_yaml import loads

    return json.loads(json.dumps(loads(path.read_text(encoding="utf-8"), str(path))))


def unsupported_types(template: dict[str, Any]) -> set[str]:
    """Resource types of `template` that moto's CloudFormation does not create."""
    from moto.cloudformation.parsing import NULL_MODELS, get_model_map

    supported = set(get_model_map())
    return {
        resource["Type"]
        for resource in template["Resources"].values()
        if resource["Type"] not in supported and resource["Type"] not in NULL_MODELS
    }


def package_template(
    template: dict[str, Any],
    s3: Any,
    bucket: str = ARTIFACT_BUCKET,
    artifact: bytes | None = None,
    template_dir: Path = APPLICATION_TEMPLATE.parent,
) -> dict[str, Any]:
    """Upload each function's code and point its `Code` at the upload (in place; returned).
    `artifact` stands in for the file `Code` names (tests need no `make package`)."""
    try:
        s3.head_bucket(Bucket=bucket)
    except s3.exceptions.ClientError:
        s3.create_bucket(Bucket=bucket)
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        code = resource["Properties"]["Code"]
        if not isinstance(code, str):
            continue
        body = artifact if artifact is not None else (template_dir / code).read_bytes()
        key = hashlib.md5(body).hexdigest()  # the CLI's key: the same file is uploaded once
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        resource["Properties"]["Code"] = {"S3Bucket": bucket, "S3Key": key}
    return template


def deploy_application_stack(
    endpoint_url: str,
    *,
    stage: str = "dev",
    project: str = "marketplace",
    artifact: bytes | None = None,
    parameters: dict[str, str] | None = None,
    template_path: Path = APPLICATION_TEMPLATE,
) -> dict[str, str]:
    """Create the stack `{project}-{stage}-api` (after the database stack of the same project
    and stage) and return its outputs. An existing, complete stack is reused."""
    cfn = client("cloudformation", endpoint_url)
    stack_name = f"{project}-{stage}-api"
    existing = _describe_stack(cfn, stack_name)
    if existing is not None and existing["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        return _outputs(existing)
    if existing is not None:
        raise RuntimeError(f"stack {stack_name} exists in state {existing['StackStatus']}")
    template = package_template(
        load_template(template_path),
        client("s3", endpoint_url),
        artifact=artifact,
        template_dir=template_path.parent,
    )
    values = {
        "Stage": stage,
        "ProjectName": project,
        **(parameters or {}),
    }
    cfn.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    try:
        cfn.get_waiter("stack_create_complete").wait(StackName=stack_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    except WaiterError as exc:
        raise RuntimeError(f"stack {stack_name} did not reach CREATE_COMPLETE: {exc.last_response}") from exc
    stack = _describe_stack(cfn, stack_name)
    assert stack is not None
    return _outputs(stack)
