"""The application template (`infra/application.yaml`): linted, then created with the database
stack through moto's CloudFormation API, packaged the way `make deploy` packages it; its
routes, functions, roles and outputs read back from what moto created; and the Lambda handler,
configured from the deployed functions' own environment, run against the stack's tables.

The roles are checked against evidence: every operation of the spec runs through the handler
while its DynamoDB calls are recorded, and each function's role must allow exactly the actions
(on exactly the tables and indexes) that the operations routed to it make.
"""

from __future__ import annotations

import ast
import fnmatch
import io
import json
import re
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import httpx
import pytest
from cfnlint.api import lint_file

from devstack import mailbox
from devstack.apigateway import invoke, lambda_handler_module, rest_event
from devstack.application import APPLICATION_TEMPLATE, deploy_application_stack, load_template, unsupported_types
from devstack.aws import client, deploy_database_stack
from devstack.workers import StreamPump
from service.config import TableNames
from service.http.routing import load_spec, spec_operations
from service.lambdas import rotation
from tools import gateway_routes
from tools.package_lambda import PLATFORM

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT, STAGE = "marketplace", "dev"
SECRETS = {
    "JWT_KEYS_SECRET_ID": f"{PROJECT}/{STAGE}/jwt-keys",
    "DERIVATION_SECRET_ID": f"{PROJECT}/{STAGE}/derivation-key",
}
ORIGINS = "https://app.example.com,https://admin.example.com"
SENDER = mailbox.LOCAL_SENDER
APP_URL = "https://app.example.com"
TAGS = ["auth", "loans", "documents", "lender", "user", "health"]
WORKERS = ["expiry", "notifier"]  # the functions beside the API
PASSWORD = "correct horse battery staple"
PDF = b"%PDF-1.7\n%%EOF\n"
ACH = {
    "bank_name": "First Example Bank",
    "account_type": "checking",
    "routing_number": "011000015",
    "account_number": "000123456789",
}
# What moto's CloudFormation does not implement; cfn-lint and the static tests cover them.
NOT_IN_MOTO = {
    "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::GatewayResponse",
    "AWS::CloudWatch::Alarm",
    "AWS::SecretsManager::RotationSchedule",
}
pytestmark = pytest.mark.filterwarnings(
    "ignore:Tried to parse AWS..(ApiGateway..Stage|ApiGateway..GatewayResponse|CloudWatch..Alarm"
    "|SecretsManager..RotationSchedule) but:UserWarning"
)


def source_artifact() -> bytes:
    """A stand-in for build/lambda.zip (which `make package` builds by downloading wheels): the
    service and the spec, as the artifact lays them out."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted((REPO_ROOT / "service").rglob("*.py")):
            archive.write(path, path.relative_to(REPO_ROOT).as_posix())
        archive.write(REPO_ROOT / "openapi.yaml", "openapi.yaml")
    return buffer.getvalue()


@dataclass
class Stack:
    endpoint: str
    database: dict[str, str]
    outputs: dict[str, str]
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = client(service, self.endpoint)
        return self.clients[service]

    def function(self, tag: str) -> dict:
        return self.client("lambda").get_function_configuration(FunctionName=self.outputs[f"{tag.title()}FunctionName"])

    def secret_arn(self, setting: str) -> str:
        return self.client("secretsmanager").describe_secret(SecretId=SECRETS[setting])["ARN"]

    def role_policies(self, tag: str) -> dict[str, dict]:
        iam = self.client("iam")
        role = self.function(tag)["Role"].rsplit("/", 1)[1]
        return {
            name: policy_document(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
            for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
        }


def policy_document(raw: Any) -> dict:
    if isinstance(raw, dict):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return ast.literal_eval(raw)  # moto keeps an inline policy from CloudFormation as its repr


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template()


@pytest.fixture(scope="module")
def stack(local_aws) -> Stack:
    database = deploy_database_stack(local_aws.endpoint_url, stage=STAGE, project=PROJECT)
    outputs = deploy_application_stack(
        local_aws.endpoint_url,
        stage=STAGE,
        project=PROJECT,
        artifact=source_artifact(),
        parameters={"CorsAllowedOrigins": ORIGINS, "SenderEmailAddress": SENDER, "AppBaseUrl": APP_URL},
    )
    return Stack(local_aws.endpoint_url, database, outputs)


@pytest.fixture(scope="module")
def deployed_routes(stack) -> dict[tuple[str, str], dict]:
    """{(METHOD, path): method} as the REST API moto created has them."""
    items = stack.client("apigateway").get_resources(
        restApiId=stack.outputs["RestApiId"], embed=["methods"], limit=500
    )["items"]
    return {
        (method, item["path"]): detail
        for item in items
        for method, detail in (item.get("resourceMethods") or {}).items()
    }


@pytest.fixture(scope="module")
def function_environment(stack) -> dict[str, str]:
    environments = [stack.function(tag)["Environment"]["Variables"] for tag in TAGS]
    assert all(env == environments[0] for env in environments), environments
    return environments[0]


@pytest.fixture(scope="module")
def handler_module(stack, function_environment):
    """The handler, built afresh with the deployed functions' environment (bcrypt's cost
    lowered for speed; it changes no code path)."""
    with lambda_handler_module(
        {**function_environment, "JWT_SECRET": None, "BCRYPT_ROUNDS": "4", "VALIDATE_RESPONSES": "true"}
    ) as module:
        assert module.init_error is None, module.init_error
        yield module


# -- lint and generation -------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "infra").glob("*.yaml")), ids=lambda p: p.name)
def test_cfn_lint_reports_nothing_on_any_template(path: Path) -> None:
    assert [str(m) for m in lint_file(path)] == []


def test_cfn_lint_check_is_live(tmp_path: Path) -> None:
    broken = tmp_path / "application.yaml"
    broken.write_text(APPLICATION_TEMPLATE.read_text().replace("MemorySize: 512", "MemorySize: 64", 1))
    assert any("64" in str(m) for m in lint_file(broken))


def test_routes_block_is_generated_from_the_spec() -> None:
    assert gateway_routes.is_current(), "run `python -m tools.gateway_routes`"


def test_route_check_is_live() -> None:
    spec = load_spec()
    spec["paths"]["/loans/{loan_id}"]["delete"] = {
        **spec["paths"]["/loans/{loan_id}"]["get"],
        "operationId": "deleteLoan",
    }
    assert not gateway_routes.is_current(spec=spec)


def test_moto_creates_everything_but_the_documented_types(template) -> None:
    assert unsupported_types(template) == NOT_IN_MOTO


# -- what moto created ---------------------------------------------------------------------------


def test_gateway_routes_are_exactly_the_spec_operations(stack, deployed_routes) -> None:
    operations = spec_operations(load_spec())
    expected = {(op["method"].upper(), op["path"]): op["tag"] for op in operations}
    served = {key for key in deployed_routes if key[0] != "OPTIONS"}
    assert served == set(expected)
    # One CORS preflight route per path, and nothing else.
    assert {path for method, path in deployed_routes if method == "OPTIONS"} == {path for _, path in expected}

    for (method, path), detail in deployed_routes.items():
        tag = expected.get((method, path)) or next(t for (_, p), t in expected.items() if p == path)
        integration = detail["methodIntegration"]
        assert detail["authorizationType"] == "NONE"  # the function authenticates, from the spec
        assert integration["type"] == "AWS_PROXY" and integration["httpMethod"] == "POST"
        function = re.fullmatch(
            r"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
            r"arn:aws:lambda:us-east-1:123456789012:function:([\w-]+)/invocations",
            integration["uri"],
        ).group(1)
        assert function == stack.outputs[f"{tag.title()}FunctionName"] == f"{PROJECT}-{STAGE}-{tag}", (method, path)


def test_outputs(stack) -> None:
    outputs = stack.outputs
    assert outputs["ApiUrl"] == f"https://{outputs['RestApiId']}.execute-api.us-east-1.amazonaws.com/{STAGE}"
    for tag in TAGS:
        assert outputs[f"{tag.title()}FunctionName"] == f"{PROJECT}-{STAGE}-{tag}"
    tables = TableNames.with_prefix(outputs["TablePrefix"])
    logical = {
        "users": "Users",
        "loans": "Loans",
        "participants": "LoanParticipants",
        "invitations": "Invitations",
        "ach_details": "AchDetails",
        "events": "LoanEvents",
        "notifications": "Notifications",
        "idempotency": "Idempotency",
        "repayments": "LoanRepayments",
        "sessions": "Sessions",
        "documents": "LoanDocuments",
    }
    for attribute, name in vars(tables).items():
        key = f"{logical[attribute]}TableName"
        assert outputs[key] == stack.database[key] == name
    assert outputs["AlarmTopicArn"].endswith(f":{PROJECT}-{STAGE}-alarms")
    for worker in WORKERS + ["rotation"]:
        assert outputs[f"{worker.title()}FunctionName"] == f"{PROJECT}-{STAGE}-{worker}"
    assert outputs["NotifierFailuresQueueUrl"].endswith(f"/{PROJECT}-{STAGE}-notifier-failures")


def test_functions(stack, function_environment) -> None:
    assert function_environment == {
        "TABLE_PREFIX": f"{PROJECT}-{STAGE}",
        **{setting: stack.secret_arn(setting) for setting in SECRETS},
        "CORS_ALLOWED_ORIGINS": ORIGINS,
        "LOG_LEVEL": "INFO",
        "ACH_KMS_KEY_ID": stack.database["AchDetailsKeyArn"],
        "EMAIL_SENDER": SENDER,
        "APP_BASE_URL": APP_URL,
        "AUTO_VERIFY_EMAIL_DOMAIN": "",
        "MIN_FUNDING_WINDOW_SECONDS": "3600",
        "DOCUMENTS_BUCKET": stack.database["DocumentsBucketName"],
    }
    logs = stack.client("logs")
    roles = set()
    for tag in TAGS:
        function = stack.function(tag)
        assert (function["Runtime"], function["Handler"], function["MemorySize"], function["Timeout"]) == (
            "python3.11",
            "service.lambdas.http.handler",
            512,
            30,
        )
        roles.add(function["Role"])
        group = f"/aws/lambda/{function['FunctionName']}"
        assert [
            g["retentionInDays"]
            for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
            if g["logGroupName"] == group
        ] == [30]
        policy = json.loads(stack.client("lambda").get_policy(FunctionName=function["FunctionName"])["Policy"])
        [statement] = policy["Statement"]
        assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
        assert statement["Action"] == "lambda:InvokeFunction"
        assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == (
            f"arn:aws:execute-api:us-east-1:123456789012:{stack.outputs['RestApiId']}/*/*/*"
        )
    assert len(roles) == len(TAGS)  # one role per function


def test_each_role_reads_only_the_secret_and_writes_only_its_logs(stack) -> None:
    for tag in TAGS:
        policies = stack.role_policies(tag)
        # No grant for the secret's key without a customer managed key; the ACH key for
        # the function that seals ACH numbers only.
        extra = {"lender": {"ach-key"}, "auth": {"email"}, "documents": {"s3", "documents-key"}}.get(tag, set())
        assert set(policies) == {"logs-and-secret", "dynamodb"} | extra
        statements = policies["logs-and-secret"]["Statement"]
        assert statements == [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/{PROJECT}-{STAGE}-{tag}",
            },
            {
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": [stack.secret_arn(setting) for setting in SECRETS],
            },
        ]


def test_the_workers(stack) -> None:
    """The expiry job on its schedule, the notifier on the events' stream; neither can read the
    JWT secret, and each role has its own logs only."""
    logs = stack.client("logs")
    for worker in WORKERS:
        function = stack.function(worker)
        assert function["Handler"] == f"service.lambdas.{worker}.handler"
        assert function["Environment"]["Variables"] == {
            "TABLE_PREFIX": f"{PROJECT}-{STAGE}",
            "LOG_LEVEL": "INFO",
            "EMAIL_SENDER": SENDER,
            "APP_BASE_URL": APP_URL,
        }
        group = f"/aws/lambda/{function['FunctionName']}"
        assert [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]] == [group]
        policies = stack.role_policies(worker)
        assert set(policies) == {"logs", "dynamodb"} | ({"stream", "email"} if worker == "notifier" else set())
        assert policies["logs"]["Statement"] == [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:aws:logs:us-east-1:123456789012:log-group:{group}",
            }
        ]
        assert "secretsmanager" not in json.dumps(policies)

    # The schedule invokes the expiry function, and only the rule may.
    events = stack.client("events")
    rule = events.describe_rule(Name=f"{PROJECT}-{STAGE}-expiry")
    assert (rule["ScheduleExpression"], rule["State"]) == ("rate(5 minutes)", "ENABLED")
    [target] = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"] == stack.function("expiry")["FunctionArn"]
    [statement] = json.loads(stack.client("lambda").get_policy(FunctionName=f"{PROJECT}-{STAGE}-expiry")["Policy"])[
        "Statement"
    ]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == rule["Arn"]

    # The stream feeds the notifier, reporting failed records; what still fails is queued.
    [mapping] = stack.client("lambda").list_event_source_mappings(FunctionName=f"{PROJECT}-{STAGE}-notifier")[
        "EventSourceMappings"
    ]
    assert mapping["EventSourceArn"] == stack.database["LoanEventsStreamArn"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue_arn = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.outputs["NotifierFailuresQueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == queue_arn
    assert stack.role_policies("notifier")["stream"]["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
            "Resource": stack.database["LoanEventsStreamArn"],
        },
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn},
    ]


def test_no_role_may_change_or_delete_an_event(stack) -> None:
    """The history is append-only down to IAM: events may be put and read, nothing else."""
    events_table = stack.database["LoanEventsTableArn"]
    granted = {
        (tag, action)
        for tag in TAGS + WORKERS
        for statement in statements(stack.role_policies(tag))
        for action in statement["Action"]
        if events_table in statement["Resource"]
    }
    assert {action for _, action in granted} == {"dynamodb:PutItem", "dynamodb:BatchGetItem"}


# -- the template, where moto cannot look -------------------------------------------------------


def resources(template: dict, kind: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_parameters(template) -> None:
    params = template["Parameters"]
    assert params["Stage"]["AllowedValues"] == ["dev", "staging", "prod"]
    assert "JwtSecretParameterName" not in params  # the secrets are the stack's own
    assert (params["KeyRotationDays"]["Default"], params["KeyRotationDays"]["MinValue"]) == (30, 1)
    allowed = re.compile(params["CorsAllowedOrigins"]["AllowedPattern"])
    for ok in ["", "https://app.example.com", ORIGINS, "http://localhost:3000"]:
        assert allowed.fullmatch(ok), ok
    for bad in ["*", "https://*.example.com", "https://a.example.com, https://b.example.com", "app.example.com"]:
        assert not allowed.fullmatch(bad), bad
    assert "Default" not in params["SenderEmailAddress"] and "Default" not in params["AppBaseUrl"]
    for ok, bad in [
        (SENDER, "no-reply"),
        (APP_URL, "https://app.example.com/"),
        ("http://localhost:3000", "app.example.com"),
    ]:
        key = "SenderEmailAddress" if "@" in ok else "AppBaseUrl"
        assert re.fullmatch(params[key]["AllowedPattern"], ok) and not re.fullmatch(params[key]["AllowedPattern"], bad)
    domain = re.compile(params["AutoVerifyEmailDomain"]["AllowedPattern"])
    assert params["AutoVerifyEmailDomain"]["Default"] == "" and domain.fullmatch("loadtest.example.com")
    assert not domain.fullmatch("someone@loadtest.example.com")


def test_prod_refuses_an_auto_verified_domain(template) -> None:
    rule = template["Rules"]["NoAutoVerifiedDomainInProd"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "AutoVerifyEmailDomain"}, ""]}


def test_no_secret_in_the_template(template) -> None:
    for name, function in resources(template, "AWS::Lambda::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert "JWT_SECRET" not in variables
        if name.lower().removesuffix("function") in TAGS:
            assert variables["JWT_KEYS_SECRET_ID"] == {"Ref": "JwtKeysSecret"}
            assert variables["DERIVATION_SECRET_ID"] == {"Ref": "DerivationSecret"}
        else:  # the workers and the rotation function neither issue nor check tokens
            assert not set(variables) & set(SECRETS)
    assert "secret" not in json.dumps(template["Outputs"]).lower()


def test_functions_match_the_artifact(template) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    assert sorted(functions) == sorted(f"{name.title()}Function" for name in TAGS + WORKERS + ["rotation"])
    for name, props in ((n, f["Properties"]) for n, f in functions.items()):
        assert props["Code"] == "../build/lambda.zip"  # one artifact, uploaded by `package`
        assert props["Runtime"] == "python3.11" and props["MemorySize"] == 512
        # API Gateway gives up on a request after 29 s; the workers have the time their batches take.
        assert props["Timeout"] == {"ExpiryFunction": 120, "NotifierFunction": 60}.get(name, 30)
        assert props["Architectures"] == [PLATFORM.split("_", 1)[1]]  # what `make package` installs for


def test_the_signing_keys_are_generated_and_rotated(template, stack) -> None:
    """The template makes both secrets (no person handles a key), rotates the signing keys on
    a schedule through the rotation function, which only Secrets Manager may invoke, for that
    secret; the derivation secret is never rotated."""
    secrets = resources(template, "AWS::SecretsManager::Secret")
    assert set(secrets) == {"JwtKeysSecret", "DerivationSecret"}
    generated = secrets["JwtKeysSecret"]["Properties"]["GenerateSecretString"]
    assert (json.loads(generated["SecretStringTemplate"]), generated["GenerateStringKey"]) == (
        {"kid": "initial"},
        "key",
    )
    assert generated["PasswordLength"] >= 32 and secrets["DerivationSecret"]["Properties"]["GenerateSecretString"]
    assert not any("KmsKeyId" in secret["Properties"] for secret in secrets.values())  # aws/secretsmanager
    [schedule] = resources(template, "AWS::SecretsManager::RotationSchedule").values()
    assert schedule["Properties"] == {
        "SecretId": {"Ref": "JwtKeysSecret"},
        "RotationLambdaARN": {"Fn::GetAtt": ["RotationFunction", "Arn"]},
        "RotationRules": {"AutomaticallyAfterDays": {"Ref": "KeyRotationDays"}},
    }
    assert schedule["DependsOn"] == "RotationInvokePermission"
    permission = template["Resources"]["RotationInvokePermission"]["Properties"]
    assert (permission["Principal"], permission["SourceArn"]) == (
        "secretsmanager.amazonaws.com",
        {"Ref": "JwtKeysSecret"},
    )
    function = template["Resources"]["RotationFunction"]["Properties"]
    assert function["Handler"] == "service.lambdas.rotation.handler"
    assert function["Environment"]["Variables"] == {"LOG_LEVEL": {"Ref": "LogLevel"}}

    # As moto created them: the keys secret is {kid, key} with a long key.
    sm = stack.client("secretsmanager")
    keys = json.loads(
        sm.get_secret_value(SecretId=SECRETS["JWT_KEYS_SECRET_ID"], VersionStage="AWSCURRENT")["SecretString"]
    )
    assert keys["kid"] == "initial" and len(keys["key"]) == 64
    root = sm.get_secret_value(SecretId=SECRETS["DERIVATION_SECRET_ID"], VersionStage="AWSCURRENT")["SecretString"]
    assert len(root) == 64
    rotation_policies = stack.role_policies("rotation")
    assert set(rotation_policies) == {"logs", "rotate"}
    assert rotation_policies["rotate"]["Statement"] == [
        {
            "Effect": "Allow",
            "Action": [
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:UpdateSecretVersionStage",
            ],
            "Resource": stack.secret_arn("JWT_KEYS_SECRET_ID"),
        }
    ]


def test_log_retention_and_stage_throttling(template) -> None:
    groups = resources(template, "AWS::Logs::LogGroup")
    assert len(groups) == len(TAGS + WORKERS) + 1  # and the rotation function's
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    [stage] = resources(template, "AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["StageName"] == {"Ref": "Stage"}
    assert stage["Properties"]["MethodSettings"] == [
        {
            "ResourcePath": "/*",
            "HttpMethod": "*",
            "ThrottlingRateLimit": {"Ref": "ThrottlingRateLimit"},
            "ThrottlingBurstLimit": {"Ref": "ThrottlingBurstLimit"},
            "MetricsEnabled": True,
            "DataTraceEnabled": False,
        }
    ]
    [deployment_id] = resources(template, "AWS::ApiGateway::Deployment")
    assert stage["Properties"]["DeploymentId"] == {"Ref": deployment_id}


def test_alarms(template) -> None:
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    lambda_alarms: dict[str, set[str]] = {}
    api_alarms = []
    queue_alarm = alarms.pop("NotifierFailuresAlarm")["Properties"]
    assert (queue_alarm["Namespace"], queue_alarm["MetricName"], queue_alarm["Threshold"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        0,
    )
    assert queue_alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["NotifierFailuresQueue", "QueueName"]}}
    ]
    for alarm in alarms.values():
        props = alarm["Properties"]
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        stats = [m["MetricStat"]["Metric"] for m in props["Metrics"] if "MetricStat" in m]
        if stats[0]["Namespace"] == "AWS/Lambda":
            [function] = {json.dumps(d["Value"]) for m in stats for d in m["Dimensions"]}
            lambda_alarms[json.loads(function)["Ref"]] = {m["MetricName"] for m in stats}
            assert props["Threshold"] == {"Ref": "ErrorRateAlarmPercent"}
        else:
            assert [m["MetricName"] for m in stats] == ["5XXError"] and stats[0]["Namespace"] == "AWS/ApiGateway"
            assert props["Threshold"] == {"Ref": "Api5xxAlarmPercent"}
            api_alarms.append(props)
    assert lambda_alarms == {
        f"{name.title()}Function": {"Errors", "Invocations"} for name in TAGS + WORKERS + ["rotation"]
    }
    assert len(api_alarms) == 1


# -- the handler on the stack's tables -----------------------------------------------------------


def test_register_loan_accept_on_the_stack_tables(stack, handler_module) -> None:
    handler = handler_module.handler

    def register(label: str) -> dict:
        email = f"{label}-{re.sub('[^a-z0-9]', '', str(id(object())))}@example.com"
        response = invoke(
            handler,
            rest_event("POST", "/auth/register", body={"name": label.title(), "email": email, "password": PASSWORD}),
        )
        assert response.status == 201, response.text
        response = invoke(
            handler, rest_event("POST", "/auth/verify-email", body={"token": mailbox.verification_token(email)})
        )
        assert response.status == 200, response.text
        return response.json()

    borrower, lender = register("stack-borrower"), register("stack-lender")
    response = invoke(
        handler,
        rest_event(
            "POST",
            "/loans",
            headers={"Authorization": f"Bearer {borrower['token']}"},
            body={
                "amount": 750,
                "interest_rate": 4,
                "term": "24 months",
                "purpose": "Van",
                "lenders": [{"email": lender["user"]["email"], "contribution_amount": 750}],
            },
        ),
    )
    assert response.status == 201, response.text
    loan_id = response.json()["loan_id"]
    response = invoke(
        handler,
        rest_event(
            "PUT",
            f"/lender/accept/{loan_id}",
            resource="/lender/accept/{loan_id}",
            path_parameters={"loan_id": loan_id},
            headers={"Authorization": f"Bearer {lender['token']}"},
            body=ACH,
        ),
    )
    assert response.status == 200, response.text
    assert response.json()["loan"]["status"] == "ACTIVE"

    # The data is in the tables the stacks created.
    dynamodb = stack.client("dynamodb")
    item = dynamodb.get_item(TableName=stack.outputs["LoansTableName"], Key={"loan_id": {"S": loan_id}})["Item"]
    assert item["status"] == {"S": "ACTIVE"}
    assert dynamodb.get_item(
        TableName=stack.outputs["AchDetailsTableName"],
        Key={"user_id": {"S": lender["user"]["user_id"]}, "loan_id": {"S": loan_id}},
    ).get("Item")


TRANSACTION_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


@dataclass(frozen=True)
class Call:
    """One authorisation IAM makes: an action on a resource, with a KMS encryption context."""

    action: str
    resource: str
    context: tuple = ()


def dynamodb_calls(operation: str, params: dict, table_arn: dict[str, str]) -> set[Call]:
    """What IAM checks for one DynamoDB request: a transaction needs the item-level action for
    each of its items, a batch its own action on each table, a query of an index the index."""
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return {Call(f"dynamodb:{operation}", table_arn[t]) for t in params["RequestItems"]}
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return {
            Call(f"dynamodb:{TRANSACTION_ACTIONS[kind]}", table_arn[spec["TableName"]])
            for item in params["TransactItems"]
            for kind, spec in item.items()
            if kind in TRANSACTION_ACTIONS
        }
    resource = table_arn[params["TableName"]]
    if "IndexName" in params:
        resource += f"/index/{params['IndexName']}"
    return {Call(f"dynamodb:{operation}", resource)}


def statements(policies: dict[str, dict], services=("dynamodb", "kms", "ses", "secretsmanager", "s3")) -> list[dict]:
    """The role's statements about `services`, each with lists of actions and resources. The one
    wildcard allowed is the documents' key prefix in the bucket (`<bucket>/loans/*`)."""
    found = []
    for document in policies.values():
        for statement in document["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if not any(a.split(":")[0] in services for a in actions):
                continue
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            assert statement["Effect"] == "Allow" and not set(statement) & {"NotAction", "NotResource"}, statement
            wild = [x for x in actions + resources if "*" in x and not DOCUMENT_OBJECTS.fullmatch(x)]
            assert not wild, f"wildcard in {statement}"
            found.append({**statement, "Action": actions, "Resource": resources})
    return found


DOCUMENT_OBJECTS = re.compile(r"arn:aws:s3:::[a-z0-9.-]+/loans/\*")


def covers(granted: str, resource: str) -> bool:
    """A granted resource names this one: the same, or the documents' prefix holding it."""
    return fnmatch.fnmatchcase(resource, granted) if DOCUMENT_OBJECTS.fullmatch(granted) else granted == resource


def allows(statement: dict, call: Call) -> bool:
    if call.action not in statement["Action"] or not any(covers(r, call.resource) for r in statement["Resource"]):
        return False
    conditions = statement.get("Condition", {})
    assert set(conditions) <= {"StringEquals"}, f"this test cannot evaluate {conditions}"
    context = dict(call.context)
    for key, value in conditions.get("StringEquals", {}).items():
        assert key.startswith("kms:EncryptionContext:") or key in ("ses:FromAddress", "kms:ViaService"), (
            f"this test cannot evaluate condition key {key}"
        )
        if context.get(key) != value:
            return False
    return True


def test_each_role_allows_exactly_the_calls_of_its_operations(
    stack, deployed_routes, handler_module, function_environment
):
    """Every operation runs through the handler while its DynamoDB, KMS, SES, Secrets Manager
    and S3 calls (and what S3 authorises for the pre-signed uploads and downloads) are recorded;
    each function's role must allow every call of the operations routed to it, and nothing more."""
    services = handler_module.services
    handler = handler_module.handler
    operations = {(op["method"].upper(), op["path"]): op["operation_id"] for op in spec_operations(load_spec())}
    function_of = {
        key: re.search(r"function:([\w-]+)/", detail["methodIntegration"]["uri"]).group(1)
        for key, detail in deployed_routes.items()
    }
    table_arn = {stack.database[f"{k[:-3]}Name"]: v for k, v in stack.database.items() if k.endswith("TableArn")}
    kms = stack.client("kms")
    workers = {worker: stack.outputs[f"{worker.title()}FunctionName"] for worker in WORKERS + ["rotation"]}
    required: dict[str, set[Call]] = {name: set() for name in set(function_of.values()) | set(workers.values())}
    exercised: set[str] = set()
    current: list[str] = []

    def record_dynamodb(params, model, **_):
        required[current[0]] |= dynamodb_calls(model.name, params, table_arn)

    def record_kms(params, model, **_):
        key = kms.describe_key(KeyId=params["KeyId"])["KeyMetadata"]["Arn"]  # an alias names a key
        context = {f"kms:EncryptionContext:{k}": v for k, v in params.get("EncryptionContext", {}).items()}
        required[current[0]].add(Call(f"kms:{model.name}", key, tuple(sorted(context.items()))))

    def record_secrets(params, model, **_):
        arn = stack.client("secretsmanager").describe_secret(SecretId=params["SecretId"])["ARN"]
        required[current[0]].add(Call(f"secretsmanager:{model.name}", arn))

    def record_ses(params, model, **_):
        # SES authorises sending against the identity of the From address.
        sender = params["FromEmailAddress"]
        identity = f"arn:aws:ses:us-east-1:123456789012:identity/{sender}"
        required[current[0]].add(Call(f"ses:{model.name}", identity, (("ses:FromAddress", sender),)))

    bucket_arn, documents_key = stack.database["DocumentsBucketArn"], stack.database["DocumentsKeyArn"]
    # S3 uses the bucket's key on the caller's behalf, with the bucket as context (a bucket key).
    through_s3 = (("kms:EncryptionContext:aws:s3:arn", bucket_arn), ("kms:ViaService", "s3.us-east-1.amazonaws.com"))
    object_actions = {
        "HeadObject": ("s3:GetObject", "s3:GetObjectVersion"),
        "GetObject": ("s3:GetObject", "s3:GetObjectVersion"),
        "PutObjectTagging": ("s3:PutObjectTagging", "s3:PutObjectVersionTagging"),
        "DeleteObject": ("s3:DeleteObject", "s3:DeleteObjectVersion"),
    }

    def record_s3(params, model, **_):
        """What S3 authorises for a request: a version's own action when it names one; reading an
        object's bytes decrypts them. A pre-signed GET goes through these events too, recorded as
        the GetObject it signs (which S3 authorises against this role when the link is used)."""
        if model.name == "ListObjectVersions":
            required[current[0]].add(Call("s3:ListBucketVersions", bucket_arn))
            return
        if model.name not in object_actions:  # signing a POST form: `upload` records its use
            assert model.name == "CreateBucket" and set(params) == {"Bucket"}, (model.name, params)
            return
        resource = f"{bucket_arn}/{params['Key']}"
        required[current[0]].add(Call(object_actions[model.name]["VersionId" in params], resource))
        if model.name == "GetObject":
            required[current[0]].add(Call("kms:Decrypt", documents_key, through_s3))

    def upload(created: dict, content: bytes) -> None:
        """The client's POST through a pre-signed form, which makes no call when it is signed:
        S3 authorises it against the signing role as a PutObject with its tags, encrypted."""
        form = created["upload"]
        response = httpx.post(form["url"], data=form["fields"], files={"file": ("f", content)})
        assert response.status_code == 204, response.text
        resource = f"{bucket_arn}/{form['fields']['key']}"
        required[current[0]] |= {
            Call("s3:PutObject", resource),
            Call("s3:PutObjectTagging", resource),
            Call("kms:GenerateDataKey", documents_key, through_s3),
        }

    def call(
        method: str, path: str, route: str | None = None, token: str | None = None, status: int = 200, **kwargs
    ) -> dict:
        exercised.add(operations[(method, route or path)])
        current[:] = [function_of[(method, route or path)]]
        params = re.fullmatch(re.sub(r"{(\w+)}", r"(?P<\1>[^/]+)", route), path).groupdict() if route else None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if method in ("POST", "PUT", "PATCH") and path != "/auth/login":  # every change under a key of its own
            headers["Idempotency-Key"] = str(uuid.uuid4())
        response = invoke(
            handler,
            rest_event(method, path, resource=route, path_parameters=params, headers=headers or None, **kwargs),
        )
        assert response.status == status, (method, path, response.text)
        return response.json() if response.body else {}

    def register(email: str, verified: bool = True) -> dict:
        session = call(
            "POST", "/auth/register", status=201, body={"name": "Evidence", "email": email, "password": PASSWORD}
        )
        if not verified:
            return session
        return call("POST", "/auth/verify-email", body={"token": mailbox.verification_token(email)})

    def login(email: str, password: str = PASSWORD, status: int = 200) -> dict:
        return call("POST", "/auth/login", body={"email": email, "password": password}, status=status)

    def loan_body(amount: int, offers: dict[str, int], rate: int = 5, term: str = "12 months") -> dict:
        lenders = [{"email": email, "contribution_amount": offer} for email, offer in offers.items()]
        return {"amount": amount, "interest_rate": rate, "term": term, "purpose": "Evidence", "lenders": lenders}

    hooks = [
        (services.store.db.client.meta.events, "provide-client-params.dynamodb", record_dynamodb),
        (services.vault.client.meta.events, "provide-client-params.kms", record_kms),
        (services.mailer.client.meta.events, "provide-client-params.sesv2", record_ses),
        (services.files.client.meta.events, "provide-client-params.s3", record_s3),
    ]
    for events, name, hook in hooks:
        events.register(name, hook)
    try:
        tag = re.sub("[^a-z0-9]", "", str(id(hooks)))
        borrower = register(f"evidence-b-{tag}@example.com")
        lender = register(f"evidence-l-{tag}@example.com")
        newcomer = f"evidence-n-{tag}@example.com"
        offers = {lender["user"]["email"]: 200, newcomer: 100}
        loan = call("POST", "/loans", token=borrower["token"], status=201, body=loan_body(300, offers))
        newcomer_account = register(newcomer)  # turns the invitation into a participation
        # An unverified account asks for a new link: too soon, then (a clock two minutes on) sent.
        unverified = register(f"evidence-u-{tag}@example.com", verified=False)
        call("POST", "/auth/resend-verification", token=unverified["token"], status=429)
        later = time.time() + 120
        with mock.patch.object(services.clock, "now", return_value=later):
            call("POST", "/auth/resend-verification", token=unverified["token"], status=204)
        # Login: a failure is counted, a success clears the count, enough failures lock.
        login(lender["user"]["email"], "wrong password 123", status=401)
        login(lender["user"]["email"])
        for _ in range(5):
            login(f"evidence-x-{tag}@example.com", "wrong password 123", status=401)
        login(f"evidence-x-{tag}@example.com", "wrong password 123", status=429)
        # Sessions: a refresh, a reuse after the grace (which revokes the family), a logout.
        renewed = call("POST", "/auth/refresh", body={"refresh_token": borrower["refresh_token"]})
        with mock.patch.object(services.clock, "now", return_value=time.time() + 60):
            call("POST", "/auth/refresh", body={"refresh_token": borrower["refresh_token"]}, status=401)
        leaver = register(f"evidence-p-{tag}@example.com")
        call("POST", "/auth/logout", status=204, body={"refresh_token": leaver["refresh_token"]})
        # Passwords: a reset asked for (an account, and no account), spent; a change, refused
        # for a wrong current password, then made, carrying the caller's session over.
        for email in (leaver["user"]["email"], f"evidence-z-{tag}@example.com"):
            call("POST", "/auth/forgot-password", status=202, body={"email": email})
        reset = {"token": mailbox.reset_token(leaver["user"]["email"]), "new_password": "a new password 123"}
        call("POST", "/auth/reset-password", status=204, body=reset)
        again = login(leaver["user"]["email"], "a new password 123")["token"]
        change = {"current_password": "wrong password 123", "new_password": PASSWORD}
        call("PUT", "/user/password", token=again, status=403, body=change)
        call(
            "PUT", "/user/password", token=again, status=204, body={**change, "current_password": "a new password 123"}
        )
        assert renewed["refresh_token"]
        for token in (borrower["token"], lender["token"]):  # the borrower sees all participants
            call("GET", f"/loans/{loan['loan_id']}", "/loans/{loan_id}", token)
        call("GET", "/loans/my-loans", token=borrower["token"], query={"limit": "5"})
        call("GET", "/lender/pending", token=lender["token"])
        call("PUT", f"/lender/accept/{loan['loan_id']}", "/lender/accept/{loan_id}", lender["token"], body=ACH)
        call("GET", "/user/profile", token=borrower["token"])
        # The lender opts in to search and is found by name.
        call("PATCH", "/user/profile", token=lender["token"], body={"name": f"Evidence {tag}", "searchable": True})
        found = call("GET", "/lenders/search", token=borrower["token"], query={"q": f"evidence {tag}"})
        assert [item["user_id"] for item in found["items"]] == [lender["user"]["user_id"]]
        # Borrower's and lender's figures; the newcomer's invitation is still pending, so its
        # loan is read to see whether others have funded it.
        for token in (borrower["token"], lender["token"], newcomer_account["token"]):
            call("GET", "/user/dashboard", token=token)
        call("GET", "/health")

        # The loan's life: a lender declines, the borrower invites another, a lender accepts,
        # the borrower cancels (deleting the bank details); the history, read by both.
        offers = {lender["user"]["email"]: 200, newcomer: 300}
        second = call("POST", "/loans", token=borrower["token"], status=201, body=loan_body(500, offers))["loan_id"]
        call(
            "PUT",
            f"/lender/decline/{second}",
            "/lender/decline/{loan_id}",
            newcomer_account["token"],
            body={"reason": "Not this time"},
        )
        call(
            "POST",
            f"/loans/{second}/invitations",
            "/loans/{loan_id}/invitations",
            borrower["token"],
            status=201,
            body={"lenders": [{"email": f"evidence-m-{tag}@example.com", "contribution_amount": 300}]},
        )
        call("PUT", f"/lender/accept/{second}", "/lender/accept/{loan_id}", lender["token"], body=ACH)
        call("POST", f"/loans/{second}/cancel", "/loans/{loan_id}/cancel", borrower["token"], body={"reason": "Done"})
        for token in (borrower["token"], lender["token"]):
            call("GET", f"/loans/{second}/events", "/loans/{loan_id}/events", token)

        # Repayment: a loan the lender funds alone (its activation writes the schedule), its
        # schedule, a repayment and the list, by both; the dashboards read the schedules.
        alone = loan_body(120, {lender["user"]["email"]: 120}, rate=0, term="2 months")
        funded = call("POST", "/loans", token=borrower["token"], status=201, body=alone)["loan_id"]
        call("PUT", f"/lender/accept/{funded}", "/lender/accept/{loan_id}", lender["token"], body=ACH)
        call(
            "POST",
            f"/loans/{funded}/repayments",
            "/loans/{loan_id}/repayments",
            borrower["token"],
            201,
            body={"amount": 60},
        )
        for token in (borrower["token"], lender["token"]):
            call("GET", f"/loans/{funded}/schedule", "/loans/{loan_id}/schedule", token)
            call("GET", f"/loans/{funded}/repayments", "/loans/{loan_id}/repayments", token)
            call("GET", "/user/dashboard", token=token)
        # Documents: the borrower declares one and uploads it through the form, completes it;
        # both read the list and download it; a second is completed too early, then with the
        # wrong file (refused, and deleted); the borrower deletes the first.
        documents, document = f"/loans/{loan['loan_id']}/documents", "/loans/{loan_id}/documents/{document_id}"
        declared = {"file_name": "payslip.pdf", "content_type": "application/pdf", "size_bytes": len(PDF)}
        created = call("POST", documents, "/loans/{loan_id}/documents", borrower["token"], status=201, body=declared)
        upload(created, PDF)
        first = f"{documents}/{created['document_id']}"
        call("POST", f"{first}/complete", f"{document}/complete", borrower["token"])
        for token in (borrower["token"], lender["token"]):
            [listed] = call("GET", documents, "/loans/{loan_id}/documents", token)["items"]
            assert httpx.get(listed["download_url"]).content == PDF
        wrong = call("POST", documents, "/loans/{loan_id}/documents", borrower["token"], status=201, body=declared)
        complete_wrong = (f"{documents}/{wrong['document_id']}/complete", f"{document}/complete", borrower["token"])
        call("POST", *complete_wrong, 409)  # not uploaded yet: an answer not kept frees its key
        upload(wrong, b"\x89PNG\r\n\x1a\n" + PDF[8:])
        call("POST", *complete_wrong, 400)
        call("DELETE", first, document, borrower["token"], status=204)

        # The workers: the expiry job a month on (the first loan is still pending), and the
        # notifier over everything the stream holds, with its invitation email.
        current[:] = [workers["expiry"]]
        with mock.patch.object(services.clock, "now", return_value=time.time() + 31 * 86400):
            assert services.expiry.expire_due() >= 1
        # The first invitation email fails: its marker is given back, and the record delivered again.
        current[:] = [workers["notifier"]]
        pump = StreamPump(services, stack.endpoint)
        with mock.patch.object(services.mailer, "send", return_value=False):
            pump.pump()
        assert pump.pump() > 0
        call("GET", "/user/notifications", token=lender["token"])
        inbox = call("GET", "/user/notifications", token=lender["token"], query={"unread": "true"})
        ids = [item["notification_id"] for item in inbox["items"]]
        assert call("POST", "/user/notifications/read", token=lender["token"], body={"notification_ids": ids}) == {
            "marked": len(ids)
        }

        # Answers not kept free their key: an unverified caller, a failure.
        call(
            "POST", "/loans", token=unverified["token"], status=403, body=loan_body(100, {lender["user"]["email"]: 100})
        )
        call("PUT", f"/lender/accept/{second}", "/lender/accept/{loan_id}", unverified["token"], status=403, body=ACH)
        with mock.patch.object(services.notifications, "mark_read", side_effect=RuntimeError("injected")):
            call("POST", "/user/notifications/read", token=lender["token"], status=500, body={"notification_ids": ids})

        # Every API function reads its keys at init (and again when they are stale); a
        # rotation, step by step as Lambda runs them, after Secrets Manager staged it.
        secrets_hook = (boto3.DEFAULT_SESSION.events, "provide-client-params.secrets-manager", record_secrets)
        hooks.append(secrets_hook)
        secrets_hook[0].register(*secrets_hook[1:])
        for tag in TAGS:
            current[:] = [stack.outputs[f"{tag.title()}FunctionName"]]
            with lambda_handler_module({**function_environment, "JWT_SECRET": None}) as module:
                assert module.init_error is None, module.init_error
        current[:] = [workers["rotation"]]
        keys_secret = stack.secret_arn("JWT_KEYS_SECRET_ID")
        version = stack.client("secretsmanager").rotate_secret(
            SecretId=keys_secret,
            RotationLambdaARN=stack.function("rotation")["FunctionArn"],
            RotationRules={"AutomaticallyAfterDays": 30},
        )["VersionId"]
        for step in ["createSecret", "setSecret", "testSecret", "finishSecret"]:
            rotation.handler({"Step": step, "SecretId": keys_secret, "ClientRequestToken": version}, None)
    finally:
        for events, name, hook in hooks:
            events.unregister(name, hook)

    assert exercised == set(operations.values()), "every operation must be exercised"
    problems = {}
    for tag in TAGS + WORKERS + ["rotation"]:
        name = stack.outputs[f"{tag.title()}FunctionName"]
        # The stream's read is Lambda's, on the notifier's behalf (test_the_workers).
        granted = statements({k: v for k, v in stack.role_policies(tag).items() if k != "stream"})
        denied = {
            (c.action, c.resource.rsplit(":", 1)[1]) for c in required[name] if not any(allows(s, c) for s in granted)
        }
        unused = {
            (a, r.rsplit(":", 1)[1])
            for s in granted
            for a in s["Action"]
            for r in s["Resource"]
            if not any(c.action == a and covers(r, c.resource) for c in required[name])
        }
        if denied or unused:  # calls its role does not allow; calls it allows that nothing makes
            problems[name] = {"denied": sorted(denied), "unused": sorted(unused)}
    assert problems == {}, json.dumps(problems, indent=1)
