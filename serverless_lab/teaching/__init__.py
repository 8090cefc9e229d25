"""Small helpers the notebooks use, so that no notebook cell holds more than a few lines of logic.

    from serverless_lab import Lab, teaching
    lab = Lab(student=teaching.student())           # $SERVERLESS_LAB_STUDENT, or "student"
    tokens = teaching.sign_in(lab, "ada")           # Cognito USER_PASSWORD_AUTH with a sample user
    teaching.claims_table(tokens.id_token)          # the ID token's claims, one row each
    teaching.call_api(lab, "GET", "/items", user="ada")   # through API Gateway, in-process, with its trace
    teaching.edge_get(lab, "/style.css")            # through the CloudFront edge: X-Cache, Age, TTL

Modules: identity (students, sign-in, tokens), traffic (requests to the gateway and the edge), extras
(functions and APIs a notebook deploys with plain boto3 beside the steps), classroom (every student on a
shared backend: progress, reset, leftovers).
"""

from __future__ import annotations

from .classroom import StudentProgress, leftovers, progress, reset_student, reset_students, students
from .extras import (
    deploy_authorizer_api,
    deploy_echo_api,
    deploy_function,
    extra_function_name,
    function_logs,
    remove_extras,
)
from .identity import (
    Tokens,
    claims_table,
    decode_token,
    sample_users,
    sign_in,
    student,
    tamper_token,
)
from .traffic import (
    ApiCall,
    EdgeAnswer,
    api_request,
    cache_behaviors,
    cache_table,
    call_api,
    calls_table,
    edge_get,
    environments_table,
    spans_table,
)

__all__ = [
    "ApiCall",
    "EdgeAnswer",
    "StudentProgress",
    "Tokens",
    "api_request",
    "cache_behaviors",
    "cache_table",
    "call_api",
    "calls_table",
    "claims_table",
    "decode_token",
    "deploy_authorizer_api",
    "deploy_echo_api",
    "deploy_function",
    "edge_get",
    "environments_table",
    "extra_function_name",
    "function_logs",
    "leftovers",
    "progress",
    "remove_extras",
    "reset_student",
    "reset_students",
    "sample_users",
    "sign_in",
    "spans_table",
    "student",
    "students",
    "tamper_token",
]
