"""Routing errors, request ids, CORS, health, and the answers that must not reveal accounts."""

import json
import logging

import pytest
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from service.logs import json_formatter

from conftest import PASSWORD, assert_error, unique_email

ALLOWED_ORIGIN = "http://localhost:3000"


# -- routing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        pytest.param("GET", "/nope", id="GET-unknown"),
        pytest.param("POST", "/nope", id="POST-unknown"),
        pytest.param("GET", "/", id="GET-root"),
        pytest.param("GET", "/loans/my-loans/extra", id="GET-below-a-list"),
        pytest.param("GET", "/lender/accept", id="GET-accept-without-id"),
        pytest.param("GET", "/user", id="GET-user"),
    ],
)
def test_unknown_path_is_404_not_found(api, register, method, path):
    user = register("walker")
    for headers in ({}, user.headers):
        assert_error(api.request(method, path, headers=headers), 404, "NOT_FOUND")


def test_the_local_app_serves_its_spec_and_swagger_ui(api):
    """What `make run` offers; the Lambda function serves neither (tests/lambda)."""
    assert api.get("/openapi.json").json()["info"]["title"]
    assert api.get("/ui/").status_code == 200


@pytest.mark.parametrize(
    "method, path",
    [
        pytest.param("DELETE", "/loans/my-loans", id="DELETE-my-loans"),
        pytest.param("GET", "/auth/login", id="GET-login"),
        pytest.param("GET", "/auth/register", id="GET-register"),
        pytest.param("PUT", "/loans", id="PUT-loans"),
        pytest.param("PUT", "/user/profile", id="PUT-profile"),
        pytest.param("POST", "/health", id="POST-health"),
        pytest.param("DELETE", "/lender/accept/3f1c9a9e-5b1e-4c8e-9a57-0d6f2b1e7c11", id="DELETE-accept"),
    ],
)
def test_wrong_method_is_405_method_not_allowed(api, register, method, path):
    user = register("walker")
    for headers in ({}, user.headers):
        assert_error(api.request(method, path, headers=headers), 405, "METHOD_NOT_ALLOWED")


def test_a_405_allows_every_method_the_spec_gives_the_path(api, register):
    """Not only the first operation of the path, which is all Starlette's routing names."""
    user = register("walker")
    response = api.request("PUT", "/user/profile", headers=user.headers)
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET, HEAD, PATCH"
    assert api.request("DELETE", "/loans/my-loans").headers["allow"] == "GET, HEAD"


# -- request ids -------------------------------------------------------------------------


def test_every_response_carries_a_distinct_request_id(api, register):
    user = register("ids")
    responses = {
        "success": user.get("/user/profile"),
        "health": api.get("/health"),
        "4xx-bad-input": user.get("/loans/my-loans", params={"limit": 0}),
        "4xx-bad-body": user.post("/loans", json={}),
        "404-route": api.get("/nope"),
        "404-loan": user.get("/loans/3f1c9a9e-5b1e-4c8e-9a57-0d6f2b1e7c11"),
        "405": api.delete("/loans/my-loans"),
        "401": api.get("/user/profile"),
        "409": api.post("/auth/register", json={"name": "X", "email": user.email, "password": PASSWORD}),
        "413": api.post("/auth/register", content=b"[" * 70_000, headers={"Content-Type": "application/json"}),
        "415": api.post("/auth/register", content=b"{}", headers={"Content-Type": "text/plain"}),
        "preflight": api.options("/loans", headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST"}),
        "preflight-refused": api.options(
            "/loans", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
        ),
    }
    assert responses["success"].status_code == 200
    assert responses["preflight"].status_code == 200
    ids = {}
    for name, response in responses.items():
        request_id = response.headers.get("x-request-id")
        assert request_id, f"{name}: no X-Request-Id in {dict(response.headers)}"
        ids[name] = request_id
        if response.status_code >= 400 and not name.startswith("preflight"):
            assert response.json()["request_id"] == request_id, name
    assert len(set(ids.values())) == len(ids), ids
    # The same request twice gets two ids.
    assert api.get("/health").headers["x-request-id"] != api.get("/health").headers["x-request-id"]


def test_client_cannot_choose_its_request_id(api):
    response = api.get("/nope", headers={"X-Request-Id": "chosen-by-client"})
    body = assert_error(response, 404, "NOT_FOUND")
    assert body["request_id"] != "chosen-by-client"


# -- CORS --------------------------------------------------------------------------------


def test_preflight_allows_the_configured_origin(api):
    response = api.options(
        "/loans",
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    allowed_methods = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert {"GET", "POST", "PUT", "PATCH"} <= allowed_methods
    allowed_headers = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed_headers
    assert response.headers.get("x-request-id")


def test_preflight_does_not_allow_another_origin(api):
    response = api.options("/loans", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    assert 400 <= response.status_code < 500, response.text
    assert "access-control-allow-origin" not in response.headers
    assert response.headers.get("x-request-id")


def test_refused_preflight_is_in_the_error_shape(api):
    response = api.options("/loans", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    assert_error(response, 403, "ACCESS_DENIED")


def test_actual_requests_expose_headers_only_to_the_configured_origin(register):
    user = register("cors")
    allowed = user.client.get("/user/profile", headers={**user.headers, "Origin": ALLOWED_ORIGIN})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    exposed = {h.strip().lower() for h in allowed.headers["access-control-expose-headers"].split(",")}
    assert "x-request-id" in exposed

    other = user.client.get("/user/profile", headers={**user.headers, "Origin": "http://evil.example"})
    assert other.status_code == 200
    assert "access-control-allow-origin" not in other.headers

    error = user.client.get("/nope", headers={"Origin": ALLOWED_ORIGIN})
    assert_error(error, 404, "NOT_FOUND")
    assert error.headers["access-control-allow-origin"] == ALLOWED_ORIGIN


# -- health ------------------------------------------------------------------------------


def test_health_is_ok_without_a_token(api):
    response = api.get("/health")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == "application/json"
    assert response.json() == {"status": "ok", "store": "ok"}
    assert response.headers.get("x-request-id")


# -- login and registration answers ------------------------------------------------------


def _without_request_id(response) -> bytes:
    body = response.json()
    return response.content.replace(body["request_id"].encode(), b"<id>")


def test_unknown_email_and_wrong_password_get_identical_answers(api, register):
    user = register("known")
    answers = {
        "unknown-email": api.post("/auth/login", json={"email": unique_email("nobody"), "password": PASSWORD}),
        "wrong-password": api.post("/auth/login", json={"email": user.email, "password": PASSWORD + "!"}),
        "wrong-password-upper-case-email": api.post(
            "/auth/login", json={"email": user.email.upper(), "password": "wrong password"}
        ),
        "malformed-email": api.post("/auth/login", json={"email": "not-an-email", "password": PASSWORD}),
    }
    for _name, response in answers.items():
        assert_error(response, 401, "INVALID_CREDENTIALS")
    bodies = {name: _without_request_id(response) for name, response in answers.items()}
    assert len(set(bodies.values())) == 1, bodies
    header_sets = {
        name: sorted(k for k in response.headers if k not in ("date", "x-request-id"))
        for name, response in answers.items()
    }
    assert len({tuple(v) for v in header_sets.values()}) == 1, header_sets
    # The user can still log in.
    assert api.post("/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 200


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda email: email, id="same-email"),
        pytest.param(str.upper, id="upper-case"),
        pytest.param(lambda email: email[0].upper() + email[1:], id="capitalised"),
    ],
)
def test_duplicate_registration_is_409_user_exists_and_changes_nothing(api, store, register, variant):
    original = register("original")
    email = variant(original.email)

    response = api.post("/auth/register", json={"name": "Impostor", "email": email, "password": "another password"})

    assert_error(response, 409, "USER_EXISTS")
    owners = store.db.client.query(
        TableName=store.db.names.users,
        IndexName="email-index",
        KeyConditionExpression=Key("email").eq(original.email.lower()),
    )["Items"]
    assert [item["user_id"] for item in owners] == [original.user_id]
    assert original.get("/user/profile").json()["name"] == "Original"
    assert api.post("/auth/login", json={"email": email, "password": PASSWORD}).status_code == 200
    assert_error(
        api.post("/auth/login", json={"email": email, "password": "another password"}), 401, "INVALID_CREDENTIALS"
    )


# -- logs and failures --------------------------------------------------------------------


def test_each_request_is_one_json_log_line_with_its_request_id(api, register, caplog):
    user = register("logged")
    with caplog.at_level(logging.INFO, logger="service.access"):
        response = user.get("/user/profile")
    request_id = response.headers["x-request-id"]
    lines = [json.loads(json_formatter().format(r)) for r in caplog.records if r.name == "service.access"]
    mine = [line for line in lines if line["request_id"] == request_id]
    assert len(mine) == 1
    assert mine[0]["method"] == "GET" and mine[0]["path"] == "/user/profile" and mine[0]["status"] == 200
    assert mine[0]["level"] == "INFO" and isinstance(mine[0]["duration_ms"], float)


def test_an_unexpected_error_is_a_500_without_internals(api, register, store, monkeypatch, caplog):
    user = register("unlucky")

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals: table marketplace-local-users at line 42")

    monkeypatch.setattr("service.store.users.UserRecords.get", explode)
    with caplog.at_level(logging.ERROR):
        response = user.get("/user/profile")
    body = assert_error(response, 500, "INTERNAL_ERROR")
    assert "secret" not in response.text and "Traceback" not in response.text
    # The trace is in the log, under the same request id.
    logged = [r for r in caplog.records if r.exc_info and r.request_id == body["request_id"]]
    assert logged and "secret internals" in str(logged[0].exc_info[1])


def test_a_store_failure_is_a_503_database_error(api, register, store, monkeypatch):
    user = register("unlucky")

    def unavailable(*args, **kwargs):
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "boom"}}, "GetItem")

    # Every read of the users table fails (profile and health both read it).
    monkeypatch.setattr(store.db.client, "get_item", unavailable)
    response = user.get("/user/profile")
    assert_error(response, 503, "DATABASE_ERROR")
    assert "boom" not in response.text and "GetItem" not in response.text
    health = api.get("/health")
    assert health.status_code == 503 and health.json() == {"status": "degraded", "store": "unavailable"}
