"""The storage adapters' edge paths, against DynamoDB answers moto rarely gives: partial batch
reads, paged queries, and failures. botocore's Stubber plays DynamoDB; no network."""

import json
import re
import threading

import boto3
import pytest
from boto3.dynamodb.conditions import Equals, Key
from botocore.awsrequest import AWSResponse
from botocore.stub import ANY, Stubber

from service.config import TableNames
from service.domain.errors import StoreUnavailable
from service.domain.users import User
from service.store import DynamoStore
from service.store.aws import BATCH_GET_ATTEMPTS, BATCH_GET_LIMIT, Database

TABLES = TableNames.with_prefix("edge")
USERS = TABLES.users


@pytest.fixture
def client():
    return boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="edge", aws_secret_access_key="edge")


@pytest.fixture
def stub(client):
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def item(user_id: str) -> dict:
    return {"user_id": {"S": user_id}}


def keys(*ids: str) -> list[dict]:
    return [{"user_id": user_id} for user_id in ids]


def test_a_batch_read_retries_what_dynamodb_left_unprocessed(client, stub):
    stub.add_response(
        "batch_get_item",
        {
            "Responses": {USERS: [item("a")]},
            "UnprocessedKeys": {USERS: {"Keys": [{"user_id": {"S": "b"}}], "ConsistentRead": True}},
        },
        {"RequestItems": {USERS: {"Keys": keys("a", "b"), "ConsistentRead": True}}},
    )
    stub.add_response(
        "batch_get_item",
        {"Responses": {USERS: [item("b")]}, "UnprocessedKeys": {}},
        {"RequestItems": {USERS: {"Keys": keys("b"), "ConsistentRead": True}}},
    )
    found = Database(TABLES, client).batch_get({USERS: keys("a", "b")})
    assert sorted(i["user_id"] for i in found[USERS]) == ["a", "b"]


def test_a_batch_read_that_stays_unprocessed_is_a_database_error(client, stub):
    for _ in range(BATCH_GET_ATTEMPTS):  # each answer its own dict: the client converts them in place
        stuck = {USERS: {"Keys": [{"user_id": {"S": "a"}}], "ConsistentRead": True}}
        stub.add_response("batch_get_item", {"Responses": {USERS: []}, "UnprocessedKeys": stuck})
    with pytest.raises(StoreUnavailable):
        Database(TABLES, client).batch_get({USERS: keys("a")})


def test_a_batch_read_asks_at_most_100_keys_at_a_time(client, stub):
    ids = [f"u{i:03d}" for i in range(BATCH_GET_LIMIT + 1)]
    stub.add_response(
        "batch_get_item",
        {"Responses": {USERS: [item(i) for i in ids[:100]]}},
        {"RequestItems": {USERS: {"Keys": keys(*ids[:100]), "ConsistentRead": True}}},
    )
    stub.add_response(
        "batch_get_item",
        {"Responses": {USERS: [item(ids[100])]}},
        {"RequestItems": {USERS: {"Keys": keys(ids[100]), "ConsistentRead": True}}},
    )
    assert len(Database(TABLES, client).batch_get({USERS: keys(*ids)})[USERS]) == 101


def test_a_query_follows_every_page(client, stub):
    participant = {
        "loan_id": {"S": "loan"},
        "email": {"S": "a@example.com"},
        "contribution_amount": {"N": "10"},
        "interest_rate": {"N": "5"},
        "term": {"S": "12 months"},
        "invited_at": {"S": "t"},
        "status": {"S": "PENDING"},
        "funded_amount": {"N": "0"},
        "registered": {"BOOL": False},
    }
    last = {"loan_id": {"S": "loan"}, "lender_id": {"S": "email#a@example.com"}}
    stub.add_response("query", {"Items": [participant], "LastEvaluatedKey": last})
    stub.add_response(
        "query",
        {"Items": [{**participant, "email": {"S": "b@example.com"}}]},
        {
            "TableName": TABLES.participants,
            "KeyConditionExpression": ANY,
            "ConsistentRead": True,
            "ExclusiveStartKey": {"loan_id": "loan", "lender_id": "email#a@example.com"},
        },
    )
    store = DynamoStore(TABLES, b"k" * 32, client)
    found = store.unit_of_work().participants.of_loan("loan")
    assert [p.email for p in found] == ["a@example.com", "b@example.com"]


@pytest.mark.parametrize(
    "code",
    ["InternalServerError", "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"],
)
def test_a_failed_commit_is_a_database_error_not_a_crash(client, stub, code):
    stub.add_client_error("transact_write_items", service_error_code=code, http_status_code=500)
    uow = DynamoStore(TABLES, b"k" * 32, client).unit_of_work()
    uow.users.make_borrower("someone")
    with pytest.raises(StoreUnavailable):
        uow.commit()


def test_a_failed_read_is_a_database_error(client, stub):
    stub.add_client_error("get_item", service_error_code="InternalServerError", http_status_code=500)
    with pytest.raises(StoreUnavailable):
        DynamoStore(TABLES, b"k" * 32, client).unit_of_work().users.get("someone")


def test_a_cancelled_transaction_with_an_unknown_reason_is_a_database_error(client, stub):
    stub.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        http_status_code=400,
        response_meta={},
        modeled_fields={"CancellationReasons": [{"Code": "ValidationError"}]},
    )
    uow = DynamoStore(TABLES, b"k" * 32, client).unit_of_work()
    uow.users.add(User(user_id="u", email="u@example.com", name="U", created_at="t"), "hash", None)
    with pytest.raises(StoreUnavailable):
        uow.commit()


class _Pausing(Equals):
    """An equality that, when the condition builder reaches it, waits for its turn."""

    def __init__(self, key: str, value: str, reached: threading.Event, go: threading.Event):
        super().__init__(Key(key), value)
        self.reached, self.go = reached, go

    def __deepcopy__(self, memo):  # boto3 copies a request's parameters; the events stay shared
        return self

    def get_expression(self):
        self.reached.set()
        assert self.go.wait(10)
        return super().get_expression()


def test_two_threads_querying_at_once_keep_their_own_placeholders(client):
    """A local server runs its handlers in threads that share the store. boto3 names each
    request's placeholders (#n0, :v0, …) with a counter it resets on every request; shared
    between threads, a request that resets it while another is half-built made that one
    reuse #n0/:v0 and so query another key (or fail validation). Here the interleaving is
    forced: A builds its first placeholders, B starts (and resets), then A finishes. The
    store's own converters build each request's expressions afresh, so they stay apart."""
    db = Database(TABLES, client)
    sent: dict[str, dict] = {}

    def answer(params, **kwargs):  # DynamoDB's part: see what was asked, answer nothing found
        query = json.loads(params["body"])
        pairs = re.findall(r"(#\w+) = (:\w+)", query["KeyConditionExpression"])
        names, values = query["ExpressionAttributeNames"], query["ExpressionAttributeValues"]
        sent[threading.current_thread().name] = {names[n]: values[v]["S"] for n, v in pairs}
        return AWSResponse("https://dynamodb", 200, {}, None), {"Items": [], "Count": 0, "ScannedCount": 0}

    client.meta.events.register("before-call.dynamodb.Query", answer)
    a_paused, a_go, b_paused, b_go = (threading.Event() for _ in range(4))

    def query(condition) -> None:
        db.table(TABLES.invitations).query(IndexName="invitee-email-index", KeyConditionExpression=condition)

    first = Key("invitee_email").eq("a@example.com") & _Pausing("status", "PENDING", a_paused, a_go)
    second = _Pausing("invitee_email", "b@example.com", b_paused, b_go) & Key("status").eq("PENDING")
    a = threading.Thread(target=query, args=(first,), name="a")
    b = threading.Thread(target=query, args=(second,), name="b")
    a.start()
    assert a_paused.wait(10)
    b.start()
    assert b_paused.wait(10)
    a_go.set()
    a.join(10)
    b_go.set()
    b.join(10)
    assert sent == {
        "a": {"invitee_email": "a@example.com", "status": "PENDING"},
        "b": {"invitee_email": "b@example.com", "status": "PENDING"},
    }
