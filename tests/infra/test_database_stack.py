"""The DynamoDB CloudFormation template and the local AWS stand-in (devstack.aws).

The stack is created through moto's CloudFormation API from the real
``infra/database.yaml``, so these tests check what `make run` and the service
tests actually get.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from cfnlint.api import lint_file
from cfnlint.decode.cfn_yaml import loads as load_cfn_yaml

from devstack.aws import LocalAws, aws_environment, client, deploy_database_stack

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "infra" / "database.yaml"

ALL = {"ProjectionType": "ALL"}


def _keys(hash_key: str, range_key: str | None = None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key is not None:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return schema


# suffix -> (logical id, key schema, {index name: (key schema, projection)})
EXPECTED_TABLES: dict[str, tuple[str, list[dict[str, str]], dict[str, tuple[list[dict[str, str]], dict[str, Any]]]]] = {
    "users": (
        "UsersTable",
        _keys("user_id"),
        {
            "email-index": (_keys("email"), ALL),
            # Sparse, partitioned by a name prefix (not by user type: one hot partition).
            "lender-search-index": (_keys("search_prefix", "search_name"), {"ProjectionType": "KEYS_ONLY"}),
        },
    ),
    "loans": (
        "LoansTable",
        _keys("loan_id"),
        {
            "borrower-loans-index": (_keys("borrower_id", "created_at"), ALL),
            "status-created-index": (_keys("status", "created_at"), ALL),
            "status-deadline-index": (_keys("status", "funding_deadline"), {"ProjectionType": "KEYS_ONLY"}),
        },
    ),
    "loan-participants": (
        "LoanParticipantsTable",
        _keys("loan_id", "lender_id"),
        {"lender-status-index": (_keys("lender_id", "status"), ALL)},
    ),
    "invitations": (
        "InvitationsTable",
        _keys("invitation_id"),
        {
            "invitee-email-index": (_keys("invitee_email", "status"), ALL),
            "inviter-created-index": (_keys("inviter_id", "created_at"), ALL),
        },
    ),
    "ach-details": (
        "AchDetailsTable",
        _keys("user_id", "loan_id"),
        {"loan-ach-index": (_keys("loan_id", "user_id"), ALL)},
    ),
    "loan-events": ("LoanEventsTable", _keys("loan_id", "event_id"), {}),
    "notifications": (
        "NotificationsTable",
        _keys("user_id", "notification_id"),
        {"unread-index": (_keys("unread_user", "notification_id"), ALL)},
    ),
    "idempotency": ("IdempotencyTable", _keys("scope"), {}),
    "loan-repayments": ("LoanRepaymentsTable", _keys("loan_id", "entry"), {}),
    "sessions": ("SessionsTable", _keys("record_id"), {}),
    "loan-documents": ("LoanDocumentsTable", _keys("loan_id", "document_id"), {}),
}
# The stream the notifier reads: new events, as written.
STREAMS = {"loan-events": "NEW_IMAGE"}
# Items that expire by themselves: login counters and emailed tokens (users), idempotency keys,
# refresh tokens and their families (sessions).
TTL = {"users": "expires_at", "idempotency": "expires_at", "sessions": "expires_at"}


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    local_aws = LocalAws(port=0).start()
    try:
        yield local_aws
    finally:
        local_aws.stop()


@pytest.fixture(scope="module")
def local_outputs(aws: LocalAws) -> dict[str, str]:
    return deploy_database_stack(aws.endpoint_url, stage="local")


@pytest.fixture(scope="module")
def dynamodb(aws: LocalAws) -> Any:
    return client("dynamodb", aws.endpoint_url)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_cfn_yaml(TEMPLATE.read_text(encoding="utf-8"), str(TEMPLATE))


# (a) ------------------------------------------------------------------------


def test_cfn_lint_reports_nothing() -> None:
    matches = lint_file(TEMPLATE)
    assert [str(m) for m in matches] == []


def test_cfn_lint_check_is_live(tmp_path: Path) -> None:
    """The lint check above can fail: a broken copy of the template is flagged."""
    broken = tmp_path / "database.yaml"
    broken.write_text(
        TEMPLATE.read_text(encoding="utf-8").replace("BillingMode: PAY_PER_REQUEST", "BillingMode: FREE", 1),
        encoding="utf-8",
    )
    assert any("FREE" in str(m) for m in lint_file(broken))


# (b) ------------------------------------------------------------------------


def test_stack_outputs_name_and_arn_of_every_table(aws: LocalAws, local_outputs: dict[str, str]) -> None:
    expected: dict[str, str] = {}
    for suffix, (logical_id, _, _) in EXPECTED_TABLES.items():
        name = f"marketplace-local-{suffix}"
        expected[f"{logical_id}Name"] = name
        expected[f"{logical_id}Arn"] = f"arn:aws:dynamodb:us-east-1:123456789012:table/{name}"
    stream_arn = local_outputs.pop("LoanEventsStreamArn")
    assert stream_arn == dynamodb_table("loan-events", aws)["LatestStreamArn"]
    expected["LoanEventsStreamArn"] = local_outputs["LoanEventsStreamArn"] = stream_arn
    key_arn = local_outputs.pop("AchDetailsKeyArn")
    assert key_arn.startswith("arn:aws:kms:us-east-1:123456789012:key/")
    expected["AchDetailsKeyArn"] = key_arn
    expected["AchDetailsKeyAlias"] = "alias/marketplace-local-ach"
    local_outputs["AchDetailsKeyArn"] = key_arn
    documents_key = local_outputs.pop("DocumentsKeyArn")
    assert documents_key.startswith("arn:aws:kms:us-east-1:123456789012:key/") and documents_key != key_arn
    expected["DocumentsKeyArn"] = local_outputs["DocumentsKeyArn"] = documents_key
    expected["DocumentsBucketName"] = "marketplace-local-documents-123456789012"
    expected["DocumentsBucketArn"] = "arn:aws:s3:::marketplace-local-documents-123456789012"
    assert local_outputs == expected
    # The alias the service uses by default resolves to that key.
    kms = client("kms", aws.endpoint_url)
    assert kms.describe_key(KeyId="alias/marketplace-local-ach")["KeyMetadata"]["Arn"] == key_arn

    exports = client("cloudformation", aws.endpoint_url).list_exports()["Exports"]
    stack_exports = {e["Name"]: e["Value"] for e in exports if e["Name"].startswith("marketplace-local-database-")}
    assert stack_exports == {f"marketplace-local-database-{k}": v for k, v in expected.items()}


def dynamodb_table(suffix: str, aws: LocalAws) -> dict[str, Any]:
    return client("dynamodb", aws.endpoint_url).describe_table(TableName=f"marketplace-local-{suffix}")["Table"]


def test_deploy_is_idempotent(aws: LocalAws, local_outputs: dict[str, str]) -> None:
    assert deploy_database_stack(aws.endpoint_url, stage="local") == local_outputs
    stacks = client("cloudformation", aws.endpoint_url).describe_stacks(StackName="marketplace-local-database")
    assert [s["StackStatus"] for s in stacks["Stacks"]] == ["CREATE_COMPLETE"]


@pytest.mark.parametrize("suffix", sorted(EXPECTED_TABLES))
def test_table_keys_and_indexes(suffix: str, local_outputs: dict[str, str], dynamodb: Any) -> None:
    _, key_schema, indexes = EXPECTED_TABLES[suffix]
    table = dynamodb.describe_table(TableName=f"marketplace-local-{suffix}")["Table"]

    assert table["TableStatus"] == "ACTIVE"
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == key_schema
    assert table.get("LocalSecondaryIndexes", []) == []
    stream = table.get("StreamSpecification", {"StreamEnabled": False})
    assert stream == (
        {"StreamEnabled": True, "StreamViewType": STREAMS[suffix]} if suffix in STREAMS else {"StreamEnabled": False}
    )
    actual_indexes = {
        gsi["IndexName"]: (gsi["KeySchema"], gsi["Projection"]) for gsi in table.get("GlobalSecondaryIndexes", [])
    }
    assert actual_indexes == indexes

    key_attributes = {k["AttributeName"] for k in key_schema}
    for index_keys, _ in indexes.values():
        key_attributes |= {k["AttributeName"] for k in index_keys}
    assert sorted((a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]) == sorted(
        (name, "S") for name in key_attributes
    )


def test_only_the_expected_tables_exist(local_outputs: dict[str, str], dynamodb: Any) -> None:
    names = dynamodb.list_tables()["TableNames"]
    local = sorted(n for n in names if n.startswith("marketplace-local-"))
    assert local == sorted(f"marketplace-local-{suffix}" for suffix in EXPECTED_TABLES)


def test_aws_environment_points_boto3_at_the_stand_in(
    aws: LocalAws, local_outputs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = aws_environment(aws.endpoint_url)
    assert env == {
        "AWS_ENDPOINT_URL": aws.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    ddb = boto3.session.Session().client("dynamodb")  # configured by the environment alone
    assert "marketplace-local-users" in ddb.list_tables()["TableNames"]


# (c) ------------------------------------------------------------------------


@pytest.mark.parametrize("stage,protected", [("prod", True), ("staging", False), ("dev", False), ("local", False)])
def test_deletion_protection_only_in_prod(
    stage: str, protected: bool, aws: LocalAws, local_outputs: dict[str, str], dynamodb: Any
) -> None:
    outputs = deploy_database_stack(aws.endpoint_url, stage=stage)
    assert outputs["UsersTableName"] == f"marketplace-{stage}-users"
    for suffix in EXPECTED_TABLES:
        table = dynamodb.describe_table(TableName=f"marketplace-{stage}-{suffix}")["Table"]
        assert table["DeletionProtectionEnabled"] is protected, suffix


# (d) ------------------------------------------------------------------------


def test_template_declares_the_tables(template: dict[str, Any]) -> None:
    tables = {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::DynamoDB::Table"
    }
    assert sorted(tables) == sorted(logical_id for logical_id, _, _ in EXPECTED_TABLES.values())
    for suffix, (logical_id, _, _) in EXPECTED_TABLES.items():
        assert tables[logical_id]["Properties"]["TableName"] == {"Fn::Sub": f"${{ProjectName}}-${{Stage}}-{suffix}"}


@pytest.mark.parametrize("logical_id", sorted(logical_id for logical_id, _, _ in EXPECTED_TABLES.values()))
def test_template_table_protection_settings(template: dict[str, Any], logical_id: str) -> None:
    resource = template["Resources"][logical_id]
    props = resource["Properties"]
    assert props["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"


def test_template_time_to_live(template: dict[str, Any]) -> None:
    """moto's CloudFormation does not apply TTL settings, so the template is read instead."""
    for suffix, (logical_id, _, _) in EXPECTED_TABLES.items():
        ttl = template["Resources"][logical_id]["Properties"].get("TimeToLiveSpecification")
        expected = {"AttributeName": TTL[suffix], "Enabled": True} if suffix in TTL else None
        assert ttl == expected, suffix


def test_template_parameters_and_condition(template: dict[str, Any]) -> None:
    params = template["Parameters"]
    assert params["Stage"]["AllowedValues"] == ["local", "dev", "staging", "prod"]
    assert params["Stage"]["Default"] == "dev"
    assert params["ProjectName"]["Default"] == "marketplace"
    assert template["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}


# (e) ------------------------------------------------------------------------


# Two independent races: a single one misses a missing lock now and then.
@pytest.mark.parametrize("race", [1, 2])
def test_concurrent_conditional_transactions_are_serialised(
    race: int, aws: LocalAws, local_outputs: dict[str, str], dynamodb: Any
) -> None:
    """20 threads race a read-modify-write TransactWriteItems guarded by `counter = :seen`.

    With per-request atomicity every successful transaction increments the
    counter exactly once, so the final counter equals the number of successes.
    Without the server's request lock moto lets two transactions pass their
    condition on the same `seen` value and an increment is lost (observed:
    final counter 12-19 instead of 20).
    """
    table = local_outputs["LoansTableName"]
    key = {"loan_id": {"S": f"counter-{race}-{uuid.uuid4()}"}}
    dynamodb.put_item(TableName=table, Item={**key, "counter": {"N": "0"}})

    threads = 20
    # boto3 clients are thread-safe; one pooled client serves all threads.
    ddb = client("dynamodb", aws.endpoint_url, config=Config(max_pool_connections=threads))
    start = threading.Barrier(threads)

    def worker(_: int) -> tuple[int, int]:
        cancelled = 0
        start.wait()
        # A serialised attempt is cancelled only if another thread succeeded
        # since this thread's read, so `threads` attempts always suffice.
        for _attempt in range(threads):
            item = ddb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
            seen = int(item["counter"]["N"])
            try:
                ddb.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": table,
                                "Key": key,
                                "UpdateExpression": "SET #c = :next",
                                "ConditionExpression": "#c = :seen",
                                "ExpressionAttributeNames": {"#c": "counter"},
                                "ExpressionAttributeValues": {
                                    ":seen": {"N": str(seen)},
                                    ":next": {"N": str(seen + 1)},
                                },
                            }
                        }
                    ]
                )
                return 1, cancelled
            except ddb.exceptions.TransactionCanceledException:
                cancelled += 1
        return 0, cancelled

    # Switch threads far more often than the 5 ms default: the server runs in
    # this process, so this widens the window between moto's condition check
    # and its write, making a missing lock show up as lost increments.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            results = list(pool.map(worker, range(threads)))
    finally:
        sys.setswitchinterval(switch_interval)

    successes = sum(ok for ok, _ in results)
    cancellations = sum(cancelled for _, cancelled in results)
    final = int(dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["counter"]["N"])
    assert cancellations > 0, "the threads never contended; the test proves nothing"
    assert successes == threads
    assert final == successes


# python -m devstack serve-aws ---------------------------------------------------


def test_serve_aws_command_deploys_and_stops_on_sigterm() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "devstack", "serve-aws", "--port", "0"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    watchdog = threading.Timer(60, proc.kill)  # never hang the suite on a stuck child
    watchdog.start()
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                break
        output = "\n".join(lines)
        assert lines[0].startswith("Local AWS listening on http://127.0.0.1:"), output
        endpoint = lines[0].rsplit(" ", 1)[1]
        for suffix in EXPECTED_TABLES:
            assert f"marketplace-local-{suffix}" in output

        tables = client("dynamodb", endpoint).list_tables()["TableNames"]
        assert sorted(tables) == sorted(f"marketplace-local-{suffix}" for suffix in EXPECTED_TABLES)

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_retried_transaction_with_the_same_token_replays_its_success(
    aws: LocalAws, local_outputs: dict[str, str]
) -> None:
    """As DynamoDB does: a client retry after a lost response must not fail on its own write."""
    dynamodb = client("dynamodb", aws.endpoint_url)
    key = {"user_id": {"S": f"token-test-{uuid.uuid4()}"}}
    request = {
        "TransactItems": [
            {
                "Put": {
                    "TableName": local_outputs["UsersTableName"],
                    "Item": key,
                    "ConditionExpression": "attribute_not_exists(user_id)",
                }
            }
        ],
        "ClientRequestToken": str(uuid.uuid4()),
    }
    dynamodb.transact_write_items(**request)
    dynamodb.transact_write_items(**request)  # replayed, not re-run
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(**{**request, "ClientRequestToken": str(uuid.uuid4())})


# The documents bucket ---------------------------------------------------------------------------

ORIGINS = "https://app.example.com,https://admin.example.com"


@pytest.fixture(scope="module")
def s3(aws: LocalAws) -> Any:
    return client("s3", aws.endpoint_url)


def test_documents_bucket_as_the_s3_api_reads_it(aws: LocalAws, s3: Any) -> None:
    """Private, versioned, encrypted with its own key, unchecked uploads expiring, CORS for the
    frontends: read back from the bucket the stack created (devstack/moto_buckets.py applies
    what moto's CloudFormation leaves out)."""
    outputs = deploy_database_stack(
        aws.endpoint_url, stage="dev", project="bucketcheck", parameters={"CorsAllowedOrigins": ORIGINS}
    )
    bucket = outputs["DocumentsBucketName"]
    assert bucket == "bucketcheck-dev-documents-123456789012"
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    [rule] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": outputs["DocumentsKeyArn"],
    }
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == [
        {
            "ID": "abort-incomplete-uploads",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
            "Expiration": {"ExpiredObjectDeleteMarker": True},
        },
        {
            "ID": "expire-unchecked-uploads",
            "Status": "Enabled",
            "Filter": {"Tag": {"Key": "status", "Value": "pending"}},
            "Expiration": {"Days": 1},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
        },
    ]
    [cors] = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert (cors["AllowedOrigins"], sorted(cors["AllowedMethods"]), cors["MaxAgeSeconds"]) == (
        ORIGINS.split(","),
        ["GET", "POST"],
        600,
    )
    # Without origins, no CORS rule at all.
    local = deploy_database_stack(aws.endpoint_url, stage="local")["DocumentsBucketName"]
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchCORSConfiguration"):
        s3.get_bucket_cors(Bucket=local)


def test_documents_bucket_template(template: dict[str, Any]) -> None:
    """What moto does not apply: the TLS-only policy (its endpoint is plain HTTP), the owner
    owning every object (no ACLs), the bucket key; and what protects the data."""
    bucket = template["Resources"]["DocumentsBucket"]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    props = bucket["Properties"]
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    [encryption] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["BucketKeyEnabled"] is True
    assert encryption["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {"Fn::GetAtt": ["DocumentsKey", "Arn"]}
    assert template["Resources"]["DocumentsKey"]["Properties"]["EnableKeyRotation"] is True
    policy = template["Resources"]["DocumentsBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "DocumentsBucket"}
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [{"Fn::GetAtt": ["DocumentsBucket", "Arn"]}, {"Fn::Sub": "${DocumentsBucket.Arn}/*"}],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
    assert template["Conditions"]["HasCorsOrigins"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "CorsAllowedOrigins"}, ""]}]
    }
