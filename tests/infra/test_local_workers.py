"""The local event source mapping (`devstack.workers.StreamPump`): a record the notifier
cannot handle is delivered again, then set aside, as the deployed mapping sends it to its
failures queue, so the records after it are not held up for good. On a scratch table with a
stream, so the suite's own stream stays clean."""

from __future__ import annotations

import uuid
from dataclasses import replace

from devstack.aws import client
from devstack.workers import StreamPump
from service.domain import events
from service.store.events import event_item


def test_a_record_that_keeps_failing_is_set_aside_and_the_stream_moves_on(local_aws, services, register) -> None:
    dynamodb = client("dynamodb", local_aws.endpoint_url)
    name = f"scratch-events-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "loan_id", "KeyType": "HASH"}, {"AttributeName": "event_id", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("loan_id", "event_id")],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    try:
        borrower, lender = register("borrower"), register("lender")
        loan_id = borrower.create_loan([(lender.email, 100)], amount=100)["loan_id"]
        [loan] = services.store.unit_of_work().loans.get_many({loan_id})
        participants = services.store.unit_of_work().participants.of_loan(loan_id)
        table = services.store.db.table(name)
        table.put_item(Item={"loan_id": loan_id, "event_id": "not-an-event"})  # no type, no time
        invited = replace(events.created(loan, participants), at="2026-12-01T00:00:00.000000Z")
        table.put_item(Item=event_item(invited))
        pump = StreamPump(services, local_aws.endpoint_url, max_attempts=3, table=name)

        assert (pump.pump(), pump.pump()) == (0, 0)  # tried, and held for another try
        assert pump.given_up == [] and notices(services, lender.user_id, invited) == []
        assert pump.pump() == 2
        [given_up] = pump.given_up
        assert given_up["dynamodb"]["Keys"]["event_id"] == {"S": "not-an-event"}
        assert len(notices(services, lender.user_id, invited)) == 1  # the record after it
        assert pump.pump() == 0  # nothing new
    finally:
        dynamodb.delete_table(TableName=name)


def notices(services, user_id: str, event) -> list:
    return [n for n, _ in services.notifications.inbox(user_id, False, 100, None).items if n.event_id == event.event_id]
