"""Small helpers the notebooks use, so that no notebook cell holds more than a few lines of logic.

    from serverless_lab import Lab, teaching
    lab = Lab(student=teaching.student())           # $SERVERLESS_LAB_STUDENT, or "student"
    tokens = teaching.sign_in(lab, "ada")           # Cognito USER_PASSWORD_AUTH with a sample user
    teaching.claims_table(tokens.id_token)          # the ID token's claims, one row each
    teaching.call_api(lab, "GET", "/items", user="ada")   # through API Gateway, in-process, with its trace
    teaching.edge_get(lab, "/style.css")            # through the CloudFront edge: X-Cache, Age, TTL
    with teaching.without_permission(lab, "dynamodb:PutItem"): ...   # the functions' role, one action fewer

Modules: identity (students, sign-in, tokens), traffic (requests to the gateway and the edge), extras
(functions and APIs a notebook deploys with plain boto3 beside the steps), permissions (the functions'
role with one permission fewer), course (around the student's own calls: AWS's errors in one line, their
workspace, catching up a fresh kernel, the API over HTTP), classroom (every student on a shared backend:
who is there, each step's state, reset, leftovers), class_progress (the instructor's view of every check
result the class recorded: `progress` is students by exercises and steps, `progress_marks`,
`progress_chart`, `stuck`), and the class-wide operations, each a plan first (`bring_up`, `reset_class`,
`remove_class`: classroom/operations.py).
"""

from __future__ import annotations

from ..classroom.operations import bring_up, remove_class
from ..classroom.operations import reset as reset_class
from .class_progress import progress, progress_chart, progress_marks, record, stuck
from .classroom import (
    StudentProgress,
    leftovers,
    load_solutions,
    reset_student,
    reset_students,
    step_states,
    students,
)
from .course import (
    STATS_STARTER,
    AwsErrors,
    HttpAnswer,
    api_url,
    app_client_id,
    authorizer_id,
    aws_errors,
    caller_reference,
    catch_up,
    distribution_id,
    ensure_stats_function,
    ensure_stats_route,
    http_call,
    oac_id,
    refresh,
    remove_student_work,
    resource_id,
    rest_api_id,
    user_pool_id,
    workspace,
    zip_file,
)
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
    verify_id_token,
)
from .permissions import without_permission
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
    "STATS_STARTER",
    "ApiCall",
    "AwsErrors",
    "EdgeAnswer",
    "HttpAnswer",
    "StudentProgress",
    "Tokens",
    "api_request",
    "api_url",
    "app_client_id",
    "authorizer_id",
    "aws_errors",
    "bring_up",
    "cache_behaviors",
    "cache_table",
    "call_api",
    "caller_reference",
    "calls_table",
    "catch_up",
    "claims_table",
    "decode_token",
    "deploy_authorizer_api",
    "deploy_echo_api",
    "deploy_function",
    "distribution_id",
    "edge_get",
    "ensure_stats_function",
    "ensure_stats_route",
    "environments_table",
    "extra_function_name",
    "function_logs",
    "http_call",
    "leftovers",
    "load_solutions",
    "oac_id",
    "progress",
    "progress_chart",
    "progress_marks",
    "record",
    "refresh",
    "remove_class",
    "remove_extras",
    "remove_student_work",
    "reset_class",
    "reset_student",
    "reset_students",
    "resource_id",
    "rest_api_id",
    "sample_users",
    "sign_in",
    "spans_table",
    "step_states",
    "stuck",
    "student",
    "students",
    "tamper_token",
    "user_pool_id",
    "verify_id_token",
    "without_permission",
    "workspace",
    "zip_file",
]
