"""The answers API Gateway (REST API) gives on its own, each as a small error class.

Every class keeps AWS's status, body and `x-amzn-ErrorType` header word for word, so a learner sees here
what they would see from `https://<api-id>.execute-api.<region>.amazonaws.com/<stage>/...`. The default
gateway responses are listed in
https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html

    GatewayError (serverless_lab.errors)
    ├── MissingAuthenticationToken (403)  no resource, or no method on the resource
    ├── IncompleteSignature (403)         the same, when the request carries an Authorization header
    ├── Forbidden (403)                   unknown stage (or API) on this endpoint
    │   └── InvalidApiKey (403)           a method that requires an API key, without a valid one
    ├── Unauthorized (401)                Cognito authorizer: missing, forged, foreign or wrong kind of token
    ├── TokenExpired (401)                Cognito authorizer: the token's exp has passed
    ├── AccessDenied (403)                Lambda authorizer: its policy allows no access to this method
    │   └── ExplicitDeny (403)            Lambda authorizer: its policy denies this method
    ├── AuthorizerConfigurationError (500) the authorizer cannot read the user pool's keys, or its Lambda
    │                                     function failed or may not be invoked by API Gateway
    ├── RequestTooLarge (413)             body over 10 MB (plain text answer)
    ├── BadRequestParameters (400)        a request validator: a required parameter is missing
    ├── BadRequestBody (400)              a request validator: the body does not match the method's model
    ├── Throttled (429)                   a token bucket is empty (THROTTLED):
    │   ├── UsagePlanThrottled (429)      the API key's usage plan throttle
    │   └── StageThrottled (429)          the stage's throttle of the method (methodSettings)
    ├── QuotaExceeded (429)               the API key's usage plan quota for the period is used up
    ├── InternalServerError (500)         configuration errors (a function API Gateway may not invoke...)
    │   └── IntegrationThrottled (500)    a throttled Lambda invoke (INTEGRATION_FAILURE, customisable)
    ├── BadGateway (502)                  Lambda error or malformed Lambda proxy response
    └── EndpointTimeout (504)             the integration timeout elapsed
"""

from __future__ import annotations

import base64
import hashlib
import json

from serverless_lab.errors import GatewayError

__all__ = [
    "AccessDenied",
    "AuthorizerConfigurationError",
    "BadGateway",
    "BadRequestBody",
    "BadRequestParameters",
    "EndpointTimeout",
    "ExplicitDeny",
    "Forbidden",
    "GatewayAnswerError",
    "IncompleteSignature",
    "IntegrationThrottled",
    "InternalServerError",
    "InvalidApiKey",
    "MissingAuthenticationToken",
    "QuotaExceeded",
    "RequestTooLarge",
    "StageThrottled",
    "Throttled",
    "TokenExpired",
    "Unauthorized",
    "UsagePlanThrottled",
]


class GatewayAnswerError(GatewayError):
    """An API Gateway answer: status, body and error-type header exactly as AWS sends them."""

    status = 500
    body_message: str | None = "Internal server error"
    # AWS renders some default gateway responses as `{"message":"..."}` and others (the 5xx ones that
    # come out of the integration stage) as `{"message": "..."}`; we keep each spelling.
    spaced_json = False
    error_type: str | None = None
    content_type = "application/json"
    # The gateway response type an API can customize (put_gateway_response); None when AWS answers before
    # the API's gateway responses apply (observed: the 413 and the SigV4 parse error carry no CORS).
    response_type: str | None = None
    # What a request validator found wrong ($context.error.validationErrorString); empty for the others.
    validation_errors: tuple[str, ...] = ()

    def body(self) -> bytes:
        separators = (", ", ": ") if self.spaced_json else (",", ":")
        return json.dumps({"message": self.body_message}, separators=separators).encode()


class MissingAuthenticationToken(GatewayAnswerError):
    """No resource matches the path, or the resource has no such method (API Gateway's famous 403)."""

    status = 403
    body_message = "Missing Authentication Token"
    error_type = "MissingAuthenticationTokenException"
    response_type = "MISSING_AUTHENTICATION_TOKEN"


class IncompleteSignature(GatewayAnswerError):
    """An unknown route requested with an Authorization header: API Gateway tries to read it as SigV4.

    Observed on real APIs: `Authorization: Bearer <jwt>` on a wrong path gives 403 "Invalid key=value pair
    (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '...'.",
    and a bare token gives the "Authorization header requires 'Credential' parameter..." list.
    """

    status = 403
    error_type = "IncompleteSignatureException"

    def __init__(self, authorization: str, has_date_header: bool) -> None:
        self.body_message = describe_sigv4_parse_error(authorization, has_date_header)
        super().__init__(self.body_message)


class Forbidden(GatewayAnswerError):
    """A stage (or API) this endpoint does not serve."""

    status = 403
    body_message = "Forbidden"
    error_type = "ForbiddenException"


class InvalidApiKey(Forbidden):
    """INVALID_API_KEY: the method requires an API key and x-api-key holds none this stage's usage plans
    include (missing, unknown, disabled, or in a plan of another stage)."""

    response_type = "INVALID_API_KEY"


class Throttled(GatewayAnswerError):
    """THROTTLED: a token bucket of API Gateway's is empty (see its two kinds below)."""

    status = 429
    body_message = "Too Many Requests"
    error_type = "TooManyRequestsException"
    response_type = "THROTTLED"


class UsagePlanThrottled(Throttled):
    """The usage plan's rate and burst limits for this key (or for this method, in the plan) are used up."""


class StageThrottled(Throttled):
    """The stage's rate and burst limits for this method, its methodSettings, are used up."""


class QuotaExceeded(GatewayAnswerError):
    """QUOTA_EXCEEDED: the key made as many requests as its usage plan's quota allows this period."""

    status = 429
    body_message = "Limit Exceeded"
    error_type = "LimitExceededException"
    response_type = "QUOTA_EXCEEDED"


class Unauthorized(GatewayAnswerError):
    """API Gateway's answer when the Cognito authorizer rejects the token (or finds none)."""

    status = 401
    body_message = "Unauthorized"
    error_type = "UnauthorizedException"
    response_type = "UNAUTHORIZED"


class TokenExpired(Unauthorized):
    """A well-signed Cognito token whose `exp` has passed: 401 with its own message."""

    body_message = "The incoming token has expired"


class AccessDenied(GatewayAnswerError):
    """ACCESS_DENIED: a Lambda authorizer's policy has no Allow for this method's ARN. API Gateway writes
    this body with a capital "Message", unlike its other answers."""

    status = 403
    body_message = "User is not authorized to access this resource"
    error_type = "AccessDeniedException"
    response_type = "ACCESS_DENIED"

    def body(self) -> bytes:
        return json.dumps({"Message": self.body_message}, separators=(",", ":")).encode()


class ExplicitDeny(AccessDenied):
    """A Lambda authorizer's policy has a Deny that matches this method's ARN (a Deny wins over an Allow)."""

    body_message = "User is not authorized to access this resource with an explicit deny"


class AuthorizerConfigurationError(GatewayAnswerError):
    """AUTHORIZER_CONFIGURATION_ERROR (500, null message): a Cognito authorizer could not read its user
    pool's keys, or a Lambda authorizer failed, timed out or answered something other than a policy."""

    status = 500
    body_message = None
    error_type = "AuthorizerConfigurationException"
    response_type = "AUTHORIZER_CONFIGURATION_ERROR"


class RequestTooLarge(GatewayAnswerError):
    """A request body over the REST API payload quota of 10 MB; AWS answers in plain text."""

    status = 413
    body_message = "HTTP content length exceeded 10485760 bytes."
    content_type = "text/plain"

    def body(self) -> bytes:
        return (self.body_message or "").encode()


class BadRequestParameters(GatewayAnswerError):
    """BAD_REQUEST_PARAMETERS: a request validator found required request parameters missing."""

    status = 400
    error_type = "BadRequestException"
    response_type = "BAD_REQUEST_PARAMETERS"

    def __init__(self, missing: list[str]) -> None:
        self.body_message = f"Missing required request parameters: [{', '.join(missing)}]"
        super().__init__(self.body_message)


class BadRequestBody(GatewayAnswerError):
    """BAD_REQUEST_BODY: a request validator found the body not valid against the method's model; the
    reasons are in $context.error.validationErrorString for a customised gateway response."""

    status = 400
    body_message = "Invalid request body"
    error_type = "BadRequestException"
    response_type = "BAD_REQUEST_BODY"

    def __init__(self, validation_errors: list[str]) -> None:
        self.validation_errors = tuple(validation_errors)
        super().__init__(self.body_message)


class InternalServerError(GatewayAnswerError):
    """A configuration error, or a throttled Lambda (API Gateway maps Lambda's 429 to 500)."""

    status = 500
    body_message = "Internal server error"
    spaced_json = True
    error_type = "InternalServerErrorException"
    response_type = "DEFAULT_5XX"


class IntegrationThrottled(InternalServerError):
    """Lambda throttled the invoke (its 429). API Gateway answers 500 through the INTEGRATION_FAILURE
    gateway response, which an API can customise (to 429, say), as AWS's re:Post answers recommend."""

    response_type = "INTEGRATION_FAILURE"


class BadGateway(GatewayAnswerError):
    """The Lambda function failed or returned a malformed proxy response."""

    status = 502
    body_message = "Internal server error"
    spaced_json = True
    error_type = "InternalServerErrorException"
    response_type = "DEFAULT_5XX"


class EndpointTimeout(GatewayAnswerError):
    """The integration did not answer within timeoutInMillis (29 s by default)."""

    status = 504
    body_message = "Endpoint request timed out"
    spaced_json = True
    response_type = "INTEGRATION_TIMEOUT"


def describe_sigv4_parse_error(authorization: str, has_date_header: bool) -> str:
    """The message API Gateway gives when it parses a non-SigV4 Authorization header as SigV4."""
    _scheme, _, rest = authorization.strip().partition(" ")
    pairs = [pair.strip() for pair in rest.split(",") if pair.strip()]
    for pair in pairs:
        if "=" not in pair:
            digest = base64.b64encode(hashlib.sha256(pair.encode()).digest()).decode()
            return (
                "Invalid key=value pair (missing equal-sign) in Authorization header "
                f"(hashed with SHA-256 and encoded with Base64): '{digest}'."
            )
    present = {pair.split("=", 1)[0] for pair in pairs}
    clauses = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if name not in present
    ]
    if not has_date_header:
        clauses.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    return " ".join([*clauses, f"Authorization={authorization.strip()}"])
