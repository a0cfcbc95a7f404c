"""The functions beside the API, called as Lambda calls them: the notifier with DynamoDB stream
events (as the event source mapping delivers them, read here from moto's stream), the expiry
job with a scheduled event. Each builds its services from the environment alone, without the
JWT secret."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeDeserializer

from devstack import mailbox
from devstack.aws import client
from service.store.aws import plain
from service.store.events import from_stream, to_event

from conftest import TEST_ENV, soon, unique_email

WORKER_ENV = {key: TEST_ENV[key] for key in ("TABLE_PREFIX", "LOG_LEVEL", "EMAIL_SENDER", "APP_BASE_URL")}
SCHEDULED = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}


@pytest.fixture
def worker(monkeypatch, services) -> Iterator[None]:
    """A fresh process's environment: no JWT secret, services not built yet."""
    from service.lambdas import worker as module

    for name in ("JWT_SECRET", "JWT_KEYS_SECRET_ID", "DERIVATION_SECRET_ID", "BCRYPT_ROUNDS", "VALIDATE_RESPONSES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in WORKER_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(module, "_built", [])
    yield


def stream_records(local_aws, services, loan_id: str) -> list[dict]:
    """The loan's records on the events table's stream, as Lambda would hand them over."""
    streams = client("dynamodbstreams", local_aws.endpoint_url)
    arn = client("dynamodb", local_aws.endpoint_url).describe_table(TableName=services.settings.tables.events)["Table"][
        "LatestStreamArn"
    ]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while True:
            page = streams.get_records(ShardIterator=iterator)
            records += page["Records"]
            if not page["Records"]:
                break
            iterator = page["NextShardIterator"]
    mine = [r for r in records if r["dynamodb"]["Keys"]["loan_id"]["S"] == loan_id]
    for record in mine:  # the event Lambda passes is JSON: times as epoch seconds
        record["dynamodb"]["ApproximateCreationDateTime"] = record["dynamodb"][
            "ApproximateCreationDateTime"
        ].timestamp()
    return mine


def test_the_notifier_handles_a_batch_and_reports_nothing_failed(worker, register, local_aws, services) -> None:
    from service.lambdas import notifier

    borrower, newcomer = register("borrower"), unique_email("newcomer")
    loan_id = borrower.create_loan([(newcomer, 100)], amount=100)["loan_id"]
    records = stream_records(local_aws, services, loan_id)
    assert [r["eventName"] for r in records] == ["INSERT"]

    assert notifier.handler({"Records": records}, None) == {"batchItemFailures": []}
    assert len(mailbox.sent(newcomer)) == 1
    assert notifier.handler({"Records": records}, None) == {"batchItemFailures": []}  # again: nothing new
    assert len(mailbox.sent(newcomer)) == 1
    assert notifier.services().settings.jwt_secret not in (TEST_ENV["JWT_SECRET"], "")


def test_a_stream_image_reads_as_the_boto3_resource_reads_items(worker, register, local_aws, services) -> None:
    """Stream records carry DynamoDB's JSON; the store's converters read it into the same
    plain values (`Decimal` numbers, lists, maps) as boto3's deserializer would."""
    borrower, lender = register("borrower"), register("lender")
    loan_id = borrower.create_loan([(lender.email, 100.5)], amount=100.5)["loan_id"]
    [record] = stream_records(local_aws, services, loan_id)
    image = record["dynamodb"]["NewImage"]
    by_boto3 = {name: TypeDeserializer().deserialize(value) for name, value in image.items()}
    assert plain(image) == by_boto3
    assert from_stream(image) == to_event(by_boto3)
    event = from_stream(image)
    assert (event.loan_id, event.data["amount"]) == (loan_id, Decimal("100.5"))
    assert event.data["lenders"] == [
        {"email": lender.email, "lender_id": lender.user_id, "contribution_amount": Decimal("100.5")}
    ]


def test_a_failed_record_is_reported_with_what_follows_it(worker, register, local_aws, services, monkeypatch) -> None:
    from service.lambdas import notifier

    borrower, first, second = register("borrower"), unique_email("first"), unique_email("second")
    records = [
        *stream_records(local_aws, services, borrower.create_loan([(first, 100)], amount=100)["loan_id"]),
        *stream_records(local_aws, services, borrower.create_loan([(second, 100)], amount=100)["loan_id"]),
    ]
    built = notifier.services()
    monkeypatch.setattr(built.mailer, "send", lambda email: email.to != first)

    failures = notifier.handler({"Records": records}, None)["batchItemFailures"]

    # Lambda retries from the first failure: the second record's email waits for that too.
    assert failures == [{"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}]
    assert mailbox.sent(second) == []


def test_the_notifier_ignores_anything_but_new_events(worker, register, local_aws, services) -> None:
    from service.lambdas import notifier

    borrower, newcomer = register("borrower"), unique_email("newcomer")
    [record] = stream_records(local_aws, services, borrower.create_loan([(newcomer, 100)], amount=100)["loan_id"])
    changed = copy.deepcopy(record)
    changed["eventName"] = "MODIFY"
    assert notifier.handler({"Records": [changed]}, None) == {"batchItemFailures": []}
    assert mailbox.sent(newcomer) == []


def test_the_expiry_job_on_its_schedule(worker, register, services, monkeypatch) -> None:
    from service.lambdas import expiry

    borrower, lender = register("borrower"), register("lender")
    loan_id = borrower.create_loan([(lender.email, 100)], amount=100, funding_deadline=soon())["loan_id"]
    assert expiry.handler(SCHEDULED, None) == {"expired": 0}  # not yet due

    built = expiry.services()
    now = built.clock.now()
    monkeypatch.setattr(built.clock, "now", lambda: now + 7200)
    result = expiry.handler(SCHEDULED, None)

    assert result["expired"] >= 1
    [loan] = built.store.unit_of_work().loans.get_many({loan_id})
    assert loan.status == "EXPIRED" and loan.closed_at == loan.funding_deadline
    assert expiry.handler(SCHEDULED, None) == {"expired": 0}  # done: nothing left due
