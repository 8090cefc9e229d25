"""The items API end to end over real HTTP: the data plane's server, real Cognito tokens, every route.

One stack per module on the memory backend (moto in this process; the functions run in the lab's Lambda
runtime, in processes of their own, calling DynamoDB over HTTP). Tokens come from InitiateAuth
(USER_PASSWORD_AUTH) sent to the data plane's /cognito-idp/ path, as the web app sends it.

Tokens the authorizer must reject are made here: the real ID token's claims re-signed with a key of our
own (forged), or with an `exp` in the past. moto cannot issue an expired token (it always stamps `exp` an
hour ahead), so an expired token is signed by us: with our own key it is rejected for its signature
before its age is looked at ("Unauthorized"); with moto's own signing key, which moto publishes in its
source (one key for every pool), it reaches the expiry check and gets API Gateway's "The incoming token
has expired". On AWS only the second kind can exist for a real pool, and only once a real token ages.
"""

from __future__ import annotations

import gzip
import http.client
import importlib.resources
import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import jwt
import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventModel
from cryptography.hazmat.primitives.asymmetric import rsa

from serverless_lab import Lab
from serverless_lab.steps.api_design import STAGE

pytestmark = pytest.mark.server

SAMPLE_USERS = {"ada": "Analytical1843", "grace": "Cobol1959Bugs"}
ORIGIN = "http://127.0.0.1:9"  # a page origin; the API answers CORS for any origin ("*")


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, headers (names lower-cased) and the body, parsed when it is JSON."""

    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


@dataclass
class Stack:
    """The deployed lab and where its data plane listens."""

    lab: Lab
    host: str
    port: int
    api_path: str
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def users(self) -> dict[str, Any]:
        return self.lab.outputs["users"]

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        connection: http.client.HTTPConnection | None = None,
    ) -> Answer:
        """Sends one request to the data plane's port; `path` starting with "/" is under the API stage."""
        own = connection is None
        connection = connection or http.client.HTTPConnection(self.host, self.port, timeout=30)
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        target = self.api_path + path if path.startswith("/") else "/" + path
        try:
            connection.request(method, target, body=data, headers=headers or {})
            response = connection.getresponse()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            if own:
                connection.close()

    def api(self, method: str, path: str, token: str | None, body: Any = None, **headers: str) -> Answer:
        """A call to the items API with an ID token in Authorization, as the web app makes it."""
        all_headers = {"Origin": ORIGIN, **headers}
        if token is not None:
            all_headers["Authorization"] = token
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        return self.request(method, path, body=body, headers=all_headers)

    def cognito(self, operation: str, body: dict[str, Any]) -> Answer:
        """Cognito's JSON API through the data plane's /cognito-idp/ path (what the browser calls)."""
        headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}",
        }
        return self.request("POST", "cognito-idp/", body=body, headers=headers)

    def sign_in(self, username: str, password: str, client_id: str | None = None) -> dict[str, str]:
        answer = self.cognito(
            "InitiateAuth",
            {
                "ClientId": client_id or self.users["client_id"],
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": username, "PASSWORD": password},
            },
        )
        assert answer.status == 200, answer.raw
        return answer.json["AuthenticationResult"]  # type: ignore[no-any-return]

    def id_token(self, username: str) -> str:
        return self.tokens[username]["IdToken"]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    lab = Lab(backend="memory", student=f"e2e-{uuid.uuid4().hex[:8]}")
    lab.apply()
    server = lab.serve()
    host, port = server.url.removeprefix("http://").split(":")
    api = lab.outputs["api"]
    stack = Stack(lab, host, int(port), f"/restapis/{api['rest_api_id']}/{api['stage']}/_user_request_")
    stack.tokens = {name: stack.sign_in(name, password) for name, password in SAMPLE_USERS.items()}
    yield stack
    lab.dataplane().flush_logs()  # the functions' last log lines, before their log groups go
    lab.destroy()


def boto3_client(stack: Stack, service: str) -> Any:
    """Plain boto3, not the lab: on the memory backend moto answers in this process."""
    return boto3.client(service, region_name=stack.lab.region, endpoint_url=stack.lab.backend.endpoint_url)


# --- token makers -------------------------------------------------------------------------------------


def claims_of(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def resign(token: str, key: Any, **changes: Any) -> str:
    """The token's own claims and kid (with `changes`), signed RS256 with `key`."""
    kid = jwt.get_unverified_header(token)["kid"]
    return jwt.encode({**claims_of(token), **changes}, key, algorithm="RS256", headers={"kid": kid})


def moto_signing_key() -> Any:
    """The private key moto signs every pool's tokens with, as moto publishes it in its source."""
    packed = importlib.resources.files("moto").joinpath("cognitoidp/resources/jwks-private.json.gz")
    return jwt.PyJWK.from_dict(json.loads(gzip.decompress(packed.read_bytes()))).key


@pytest.fixture(scope="module")
def foreign_pool_token(stack: Stack) -> Iterator[str]:
    """An ID token of a user in another pool (same account, same backend), made with plain boto3."""
    cognito = boto3_client(stack, "cognito-idp")
    pool = cognito.create_user_pool(PoolName=f"{stack.lab.student}-other")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="other", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(UserPoolId=pool, Username="ada", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=pool, Username="ada", Password="Other-Pool-1843", Permanent=True
    )
    yield stack.sign_in("ada", "Other-Pool-1843", client_id=client)["IdToken"]
    cognito.delete_user_pool(UserPoolId=pool)


# --- tests --------------------------------------------------------------------------------------------


def test_sign_in_over_http_gives_tokens_signed_by_the_pool(stack: Stack) -> None:
    users = stack.users
    key_set = jwt.PyJWKSet.from_dict(stack.lab.backend.jwks(users["user_pool_id"]))
    for name in SAMPLE_USERS:
        token = stack.id_token(name)
        key = next(k for k in key_set.keys if k.key_id == jwt.get_unverified_header(token)["kid"])
        claims = jwt.decode(token, key, algorithms=["RS256"], audience=users["client_id"])
        assert claims["iss"] == users["issuer"]
        assert (claims["token_use"], claims["sub"]) == ("id", users["sample_subs"][name])
        assert claims["cognito:username"] == name


def test_every_route_answers_with_its_status_and_body(stack: Stack) -> None:
    ada = stack.id_token("ada")
    first = stack.api("POST", "/items", ada, {"title": "Buy milk", "notes": "2 litres"})
    assert first.status == 201, first.raw
    item = first.json
    assert {k: item[k] for k in ("title", "notes", "done", "version")} == {
        "title": "Buy milk",
        "notes": "2 litres",
        "done": False,
        "version": 1,
    }
    # requestContext.path of a REST API includes the stage: the function builds Location from it.
    assert first.headers["location"] == f"/{STAGE}/items/{item['itemId']}"
    assert first.headers["access-control-allow-origin"] == "*"
    second = stack.api("POST", "/items", ada, {"title": "Call Grace", "done": True}).json

    listed = stack.api("GET", "/items", ada)
    assert listed.status == 200
    ids = [i["itemId"] for i in listed.json["items"]]
    assert ids[:2] == [second["itemId"], item["itemId"]], "newest first"
    assert listed.json["cursor"] is None
    page = stack.api("GET", "/items?limit=1", ada).json
    assert [i["itemId"] for i in page["items"]] == [second["itemId"]] and page["cursor"]
    rest = stack.api("GET", f"/items?limit=1&cursor={page['cursor']}", ada).json
    assert [i["itemId"] for i in rest["items"]] == [item["itemId"]]

    path = f"/items/{item['itemId']}"
    fetched = stack.api("GET", path, ada)
    assert (fetched.status, fetched.json) == (200, item)
    updated = stack.api("PUT", path, ada, {"title": "Buy oat milk", "version": 1})
    assert updated.status == 200
    assert (updated.json["title"], updated.json["version"], updated.json["notes"]) == (
        "Buy oat milk",
        2,
        "2 litres",
    )

    stale = stack.api("PUT", path, ada, {"title": "Buy soy milk", "version": 1})
    assert stale.status == 409
    assert "version 2" in stale.json["message"] and "version 1" in stale.json["message"]
    assert stale.json["item"]["title"] == "Buy oat milk"

    deleted = stack.api("DELETE", path, ada)
    assert (deleted.status, deleted.raw) == (204, b"")
    gone = stack.api("GET", path, ada)
    assert gone.status == 404 and gone.json == {"message": f"Item {item['itemId']} not found"}
    assert stack.api("DELETE", path, ada).status == 404
    assert stack.api("PUT", path, ada, {"title": "x", "version": 2}).status == 404

    me = stack.api("GET", "/me", ada)
    assert me.status == 200
    assert (me.json["sub"], me.json["username"]) == (stack.users["sample_subs"]["ada"], "ada")
    # The email is whatever the ID token carries: Cognito puts the user's attributes in it; moto only
    # those listed in the app client's ReadAttributes (the lab's client lists none, so here: none).
    assert me.json["email"] == claims_of(ada).get("email")
    assert me.json["claims"]["token_use"] == "id"
    assert me.json["claims"]["aud"] == stack.users["client_id"]
    assert me.json["claims"]["exp"].endswith(
        " UTC " + time.strftime("%Y", time.gmtime(claims_of(ada)["exp"]))
    )


def test_bad_input_answers_400_with_what_is_wrong(stack: Stack) -> None:
    ada = stack.id_token("ada")
    cases: list[tuple[bytes | dict[str, Any], str]] = [
        (b"{not json", "Request body is not valid JSON"),
        ({"notes": "no title"}, "title is required"),
        ({"title": 5}, "title must be a string, not a number"),
        ({"title": "x" * 201}, "title must be 1 to 200 characters"),
        ({"title": "ok", "owner": "someone-else"}, "Unknown field(s): owner"),
    ]
    for body, message in cases:
        answer = stack.request(
            "POST", "/items", body=body if isinstance(body, bytes) else json.dumps(body).encode(),
            headers={"Authorization": ada, "Content-Type": "application/json"},
        )  # fmt: skip
        assert answer.status == 400, (body, answer.raw)
        assert answer.json["message"].startswith(message), answer.json


def test_one_user_never_sees_or_changes_another_users_items(stack: Stack) -> None:
    ada, grace = stack.id_token("ada"), stack.id_token("grace")
    item = stack.api("POST", "/items", ada, {"title": "Ada's secret"}).json
    path = f"/items/{item['itemId']}"
    assert stack.api("GET", path, grace).status == 404
    assert stack.api("PUT", path, grace, {"title": "taken", "version": 1}).status == 404
    assert stack.api("DELETE", path, grace).status == 404
    assert item["itemId"] not in [i["itemId"] for i in stack.api("GET", "/items", grace).json["items"]]
    assert stack.api("GET", "/me", grace).json["username"] == "grace"
    # Ada's item is untouched by Grace's attempts.
    assert stack.api("GET", path, ada).json == item


def test_tokens_the_authorizer_rejects_answer_401(stack: Stack, foreign_pool_token: str) -> None:
    ada = stack.id_token("ada")
    past = int(time.time()) - 3600
    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rejected = {
        "missing": (None, "Unauthorized"),
        "not a JWT": ("not-a-token", "Unauthorized"),
        "forged (same claims, another RSA key)": (resign(ada, own_key), "Unauthorized"),
        "expired, signed with a key not in the JWKS": (resign(ada, own_key, exp=past), "Unauthorized"),
        "expired, signed with the pool's key": (
            resign(ada, moto_signing_key(), exp=past, iat=past - 3600),
            "The incoming token has expired",
        ),
        "another pool's ID token": (foreign_pool_token, "Unauthorized"),
        "an access token where an ID token is expected": (stack.tokens["ada"]["AccessToken"], "Unauthorized"),
    }
    for case, (token, message) in rejected.items():
        for method, path in (("GET", "/items"), ("GET", "/me"), ("DELETE", "/items/0000000000000-x")):
            answer = stack.api(method, path, token)
            assert (answer.status, answer.json) == (401, {"message": message}), (case, method, path)
            assert answer.headers["x-amzn-errortype"] == "UnauthorizedException", case
            # The API's DEFAULT_4XX gateway response adds CORS, so the browser can read the 401.
            assert answer.headers["access-control-allow-origin"] == "*", case
    # The controls: the same signing key with a live exp is accepted, and so is the real token with Bearer.
    assert stack.api("GET", "/me", resign(ada, moto_signing_key())).status == 200
    assert stack.api("GET", "/me", f"Bearer {ada}").status == 200


def test_cors_preflight_is_answered_without_a_token(stack: Stack) -> None:
    expected = {"/items": "GET,POST,OPTIONS", "/items/1234": "GET,PUT,DELETE,OPTIONS", "/me": "GET,OPTIONS"}
    for path, methods in expected.items():
        answer = stack.request(
            "OPTIONS",
            path,
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "PUT",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert answer.status == 200, (path, answer.raw)
        assert answer.headers["access-control-allow-origin"] == "*"
        assert answer.headers["access-control-allow-methods"] == methods
        assert answer.headers["access-control-allow-headers"] == "Content-Type,Authorization"


def test_unknown_routes_answer_403_as_api_gateway_does(stack: Stack) -> None:
    for method, path in (("GET", "/nothing-here"), ("PATCH", "/items"), ("GET", "/items/1/extra")):
        answer = stack.request(method, path)
        assert (answer.status, answer.json) == (403, {"message": "Missing Authentication Token"}), path
        assert answer.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
        # MISSING_AUTHENTICATION_TOKEN falls back to the API's DEFAULT_4XX: a page can read the 403.
        assert answer.headers["access-control-allow-origin"] == "*"
    # With a token on an unknown route API Gateway tries to read Authorization as a SigV4 signature.
    signed = stack.api("GET", "/nothing-here", stack.id_token("ada"))
    assert signed.status == 403 and signed.headers["x-amzn-errortype"] == "IncompleteSignatureException"
    assert signed.json["message"].startswith("Authorization header requires 'Credential' parameter.")
    api_id = stack.lab.outputs["api"]["rest_api_id"]
    wrong_stage = stack.request("GET", f"restapis/{api_id}/nostage/_user_request_/items")
    assert (wrong_stage.status, wrong_stage.json) == (403, {"message": "Forbidden"})
    outside = stack.request("GET", "no/such/thing")
    assert (outside.status, outside.json) == (403, {"message": "Missing Authentication Token"})


ECHO_SOURCE = """\
import json


def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(event)}
"""


def zip_of(name: str, source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, source)
    return buffer.getvalue()


def put_proxy_method(
    apigateway: Any, api_id: str, resource_id: str, http_method: str, authorizer_id: str, function_arn: str
) -> None:
    """A method behind the lab's Cognito authorizer with a Lambda proxy integration, in plain boto3."""
    apigateway.put_method(
        restApiId=api_id,
        resourceId=resource_id,
        httpMethod=http_method,
        authorizationType="COGNITO_USER_POOLS",
        authorizerId=authorizer_id,
    )
    region = function_arn.split(":")[3]
    apigateway.put_integration(
        restApiId=api_id,
        resourceId=resource_id,
        httpMethod=http_method,
        type="AWS_PROXY",
        integrationHttpMethod="POST",  # Lambda's Invoke API is always a POST
        uri=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations",
    )


@pytest.fixture(scope="module")
def echo_route(stack: Stack) -> Iterator[None]:
    """`ANY /echo/{proxy+}` and `GET /echo/items/{id}` -> an echo function, made with plain boto3 outside
    the lab's steps, then deployed to the stage: the stage serves them only from that deployment on."""
    lambda_client, apigateway = boto3_client(stack, "lambda"), boto3_client(stack, "apigateway")
    api_id, authorizer_id = stack.lab.outputs["api"]["rest_api_id"], stack.lab.outputs["api"]["authorizer_id"]
    name = f"{stack.lab.names.prefix}-echo"
    function_arn = lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=stack.lab.outputs["functions"]["role_arn"],
        Handler="echo.handler",
        Code={"ZipFile": zip_of("echo.py", ECHO_SOURCE)},
        Timeout=5,
    )["FunctionArn"]
    lambda_client.add_permission(
        FunctionName=name,
        StatementId="apigateway-echo",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{stack.lab.region}:{stack.lab.names.account_id}:{api_id}/*/*/*",
    )
    resources = {r["path"]: r["id"] for r in apigateway.get_resources(restApiId=api_id, limit=500)["items"]}

    def add_resource(parent: str, part: str) -> str:
        return str(apigateway.create_resource(restApiId=api_id, parentId=parent, pathPart=part)["id"])

    echo = add_resource(resources["/"], "echo")
    put_proxy_method(apigateway, api_id, add_resource(echo, "{proxy+}"), "ANY", authorizer_id, function_arn)
    item = add_resource(add_resource(echo, "items"), "{id}")
    put_proxy_method(apigateway, api_id, item, "GET", authorizer_id, function_arn)
    # Not deployed yet: the stage still serves the deployment the lab made, without /echo.
    before = stack.api("GET", "/echo/anything", None)
    assert (before.status, before.json) == (403, {"message": "Missing Authentication Token"})
    apigateway.create_deployment(restApiId=api_id, stageName=STAGE, description="with /echo")
    yield
    lambda_client.delete_function(FunctionName=name)


def echoed(
    stack: Stack, method: str, path: str, token: str, body: Any = None, **headers: str
) -> dict[str, Any]:
    """The event the echo function received. The data plane rereads the stage within its config TTL
    (about a second, as AWS propagates a deployment in seconds), so the first call may still be refused."""
    deadline = time.monotonic() + 15
    while True:
        answer = stack.api(method, path, token, body, **headers)
        if answer.status != 403 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert answer.status == 200, answer.raw
    return answer.json  # type: ignore[no-any-return]


def test_events_the_function_receives_match_powertools_model(stack: Stack, echo_route: None) -> None:
    ada = stack.id_token("ada")
    get = echoed(stack, "GET", "/echo/some/where?tag=a&tag=b&q=x%20y", ada, **{"X-Custom": "one"})
    post = echoed(stack, "POST", "/echo/notes", ada, {"title": "from the test"})
    # The shape the items function gets for /items/{id}: the most specific resource wins over {proxy+}.
    item = echoed(stack, "GET", "/echo/items/0000000000000-a%20b", ada)
    api_id = stack.lab.outputs["api"]["rest_api_id"]
    for event in (get, post, item):
        model = APIGatewayProxyEventModel.model_validate(event)
        assert model.requestContext.stage == STAGE and model.requestContext.apiId == api_id
        assert model.requestContext.resourcePath == model.resource
        assert (
            model.requestContext.requestId and event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
        )
        claims = event["requestContext"]["authorizer"]["claims"]
        assert claims["sub"] == stack.users["sample_subs"]["ada"]
        assert claims["cognito:username"] == "ada"
        assert all(isinstance(value, str) for value in claims.values()), "REST APIs pass claims as strings"
        assert event["headers"]["Authorization"] == ada
        assert event["isBase64Encoded"] is False
    assert (get["resource"], get["httpMethod"], get["path"]) == ("/echo/{proxy+}", "GET", "/echo/some/where")
    assert get["pathParameters"] == {"proxy": "some/where"}
    assert get["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "q": ["x y"]}
    assert get["queryStringParameters"] == {"tag": "b", "q": "x y"}, "the last value of a repeated parameter"
    assert get["headers"]["X-Custom"] == "one" and get["multiValueHeaders"]["X-Custom"] == ["one"]
    assert get["body"] is None
    assert (post["httpMethod"], post["pathParameters"]) == ("POST", {"proxy": "notes"})
    assert json.loads(post["body"]) == {"title": "from the test"}
    assert post["queryStringParameters"] is None and post["multiValueQueryStringParameters"] is None
    assert (item["resource"], item["path"]) == ("/echo/items/{id}", "/echo/items/0000000000000-a%20b")
    # REST APIs pass path parameters on percent-encoded (LocalStack's snapshots, recorded against AWS).
    assert item["pathParameters"] == {"id": "0000000000000-a%20b"}, "path parameters arrive as sent"
    # The lab's own routes are served from the new deployment too, and the new route has the authorizer.
    assert stack.api("GET", "/me", ada).status == 200
    assert stack.api("GET", "/echo/x", None).status == 401


def test_one_kept_alive_connection_serves_200_requests(stack: Stack) -> None:
    ada = stack.id_token("ada")
    item = stack.api("POST", "/items", ada, {"title": "kept alive"}).json
    connection = http.client.HTTPConnection(stack.host, stack.port, timeout=30)
    headers = {"Authorization": ada}
    try:
        connection.connect()
        first_socket = connection.sock
        for number in range(200):
            if number % 2:
                answer = stack.request(
                    "GET", f"/items/{item['itemId']}", headers=headers, connection=connection
                )
                assert (answer.status, answer.json["itemId"]) == (200, item["itemId"]), number
            else:
                answer = stack.request("GET", "/me", headers=headers, connection=connection)
                assert (answer.status, answer.json["username"]) == (200, "ada"), number
            assert answer.headers["connection"] == "keep-alive"
            assert connection.sock is first_socket, f"the connection was reopened at request {number}"
    finally:
        connection.close()
