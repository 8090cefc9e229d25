"""The read-only checks of the api step: what a student expects of the deployed API, one line each."""

from __future__ import annotations

import json
from typing import Any, Protocol

from ..dataplane.apigateway.invoke_permission import InvokePermissions
from ..dataplane.iam.policy import Policy
from ..dataplane.iam.request import MalformedPolicyError
from .api_design import (
    DEPLOYMENT_MARK,
    FUNCTIONS,
    GATEWAY_RESPONSE_TYPES,
    INTEGRATION_TIMEOUT_MS,
    ROUTES,
    STAGE,
    Route,
    cors_response_matches,
    gateway_response_matches,
    integration_matches,
    method_matches,
)
from .arns import partition
from .base import Check, Names, Report


class DeployedApiReads(Protocol):
    """What the checks read of the student's API: the api step's names and read-only calls. A protocol,
    so that these checks need not import the step that runs them."""

    @property
    def name(self) -> str: ...
    @property
    def names(self) -> Names: ...
    @property
    def api_name(self) -> str: ...
    @property
    def authorizer_name(self) -> str: ...
    def authorizer_settings(self) -> dict[str, Any]: ...
    def fingerprint(self) -> str: ...
    def integration_uri(self, function: str) -> str: ...
    def source_arn(self, api_id: str) -> str: ...
    def find_api(self) -> dict[str, Any] | None: ...
    def find_authorizer(self, api_id: str) -> dict[str, Any] | None: ...
    def resources(self, api_id: str) -> dict[str, dict[str, Any]]: ...
    def get_method(self, api_id: str, resource_id: str, http_method: str) -> dict[str, Any] | None: ...
    def get_stage(self, api_id: str) -> dict[str, Any] | None: ...
    def deployments(self, api_id: str) -> list[dict[str, Any]]: ...
    def gateway_response(self, api_id: str, response_type: str) -> dict[str, Any] | None: ...
    def permission(self, function_name: str) -> dict[str, Any] | None: ...
    def function_arn(self, function: str) -> str: ...
    def resource_policy(self, function_name: str) -> str | None: ...
    def deployment_summary(self, api_id: str, deployment_id: str) -> dict[str, Any] | None: ...


def verify_api(step: DeployedApiReads) -> Report:
    report = Report(step.name)
    api = step.find_api()
    report.append(Check(f"REST API {step.api_name} exists", api is not None))
    if api is None:
        return report
    types = api.get("endpointConfiguration", {}).get("types")
    report.append(Check("the API is REGIONAL", types == ["REGIONAL"], str(types)))
    authorizer = step.find_authorizer(api["id"])
    ok = authorizer is not None and all(authorizer.get(k) == v for k, v in step.authorizer_settings().items())
    report.append(
        Check(
            f"authorizer {step.authorizer_name} checks the user pool's tokens in Authorization",
            ok,
            json.dumps(authorizer),
        )
    )
    resources = step.resources(api["id"])
    for route in ROUTES:
        if route.path not in resources:
            report.append(Check(f"resource {route.path} exists", False))
            continue
        for http_method in route.methods:
            report.extend(
                verify_method(step, api["id"], resources[route.path]["id"], route, http_method, authorizer)
            )
        found = step.get_method(api["id"], resources[route.path]["id"], "OPTIONS") or {}
        ok = (
            method_matches(found, "OPTIONS", None)
            and integration_matches(found, "OPTIONS", "")
            and cors_response_matches(found, route)
        )
        report.append(
            Check(
                f"OPTIONS {route.path} answers the CORS preflight without a token "
                f"(MOCK, Allow-Methods {route.allowed_methods})",
                ok,
                json.dumps(found, default=str),
            )
        )
    ok = all(gateway_response_matches(step.gateway_response(api["id"], t), t) for t in GATEWAY_RESPONSE_TYPES)
    report.append(
        Check(
            "API Gateway's own errors (such as 401) carry CORS headers; a throttled function answers 429", ok
        )
    )
    report.extend(verify_permission(step, api["id"], function) for function in FUNCTIONS)
    report.append(verify_stage(step, api["id"]))
    return report


def verify_permission(step: DeployedApiReads, api_id: str, function: str) -> Check:
    """Whether the function's resource policy lets API Gateway invoke it for each route of the stage, as
    Lambda decides it (dataplane/apigateway/invoke_permission.py, the data plane's own check), whatever
    statements grant it; the first route refused is named, with the permission to add."""
    function_name = step.names(function)
    routes = [
        (method, route.path) for route in ROUTES if route.function == function for method in route.methods
    ]
    description = (
        f"API Gateway may invoke {function_name} for {len(routes)} routes of stage {STAGE} (resource policy)"
    )
    try:
        refused = first_refused_route(step, api_id, function)
    except MalformedPolicyError as error:
        return Check(description, False, f"its policy cannot be read: {error}")
    if refused is not None:
        return Check(
            description,
            False,
            f"{refused[0]} would answer 500: {refused[1]}; or run lab.apply('api'), which adds the lab's "
            f"permission for {step.source_arn(api_id)}",
        )
    return Check(description, True)


def first_refused_route(step: DeployedApiReads, api_id: str, function: str) -> tuple[str, str] | None:
    """The first route of `function` its resource policy does not let API Gateway invoke it for (("GET /me",
    why)), or None when every route may: whatever statements grant it (the lab's, or a student's own
    add_permission, which the api step then adopts). Raises MalformedPolicyError for an unreadable policy."""
    text = step.resource_policy(step.names(function))
    policy = Policy.parse(text) if text is not None else None
    permissions = InvokePermissions(lambda arn: policy, account_id=step.names.account_id)
    region = step.names.region
    prefix = f"arn:{partition(region)}:execute-api:{region}:{step.names.account_id}:{api_id}/{STAGE}"
    for route in ROUTES:
        for method in route.methods if route.function == function else ():
            refused = permissions.refusal(
                step.function_arn(function), f"{prefix}/{method}{route.path}", region
            )
            if refused is not None:
                return f"{method} {route.path}", refused
    return None


def verify_method(
    step: DeployedApiReads,
    api_id: str,
    resource_id: str,
    route: Route,
    http_method: str,
    authorizer: dict[str, Any] | None,
) -> list[Check]:
    label = f"{http_method} {route.path}"
    found = step.get_method(api_id, resource_id, http_method)
    if found is None:
        return [Check(f"{label} exists", False)]
    authorizer_id = authorizer["id"] if authorizer else None
    uri = step.integration_uri(route.function)
    return [
        Check(
            f"{label} requires a Cognito token ({step.authorizer_name})",
            method_matches(found, http_method, authorizer_id),
            f"{found.get('authorizationType')} {found.get('authorizerId')}",
        ),
        Check(
            f"{label} calls Lambda {step.names(route.function)} (AWS_PROXY)",
            integration_matches(found, http_method, uri),
            "; ".join(integration_problems(found.get("methodIntegration") or {}, uri)),
        ),
    ]


def integration_problems(integration: dict[str, Any], uri: str) -> list[str]:
    """What differs from the design's Lambda proxy integration, in words."""
    if not integration:
        return ["no integration: put_integration(type='AWS_PROXY', integrationHttpMethod='POST', uri=...)"]
    problems = []
    if integration.get("type") != "AWS_PROXY":
        problems.append(f"type {integration.get('type')}, not AWS_PROXY")
    if integration.get("httpMethod") != "POST":
        problems.append(
            f"integrationHttpMethod {integration.get('httpMethod')}: Lambda is always called with POST"
        )
    if integration.get("uri") != uri:
        problems.append(f"it invokes {integration.get('uri')}, not {uri}")
    if int(integration.get("timeoutInMillis") or 0) != INTEGRATION_TIMEOUT_MS:
        problems.append(
            f"timeoutInMillis {integration.get('timeoutInMillis')}: the lab sets {INTEGRATION_TIMEOUT_MS} "
            "(API Gateway's longest) explicitly"
        )
    return problems


def deployed_after_design(
    serving: dict[str, Any], deployments: list[dict[str, Any]], fingerprint: str
) -> bool:
    """The serving deployment froze the current design: one the lab made of it, or one made later by hand
    (a student's create_deployment after adding a route of their own, as 06-api has them do), which holds
    the design as the lab deployed it and what the student added since."""
    mark = DEPLOYMENT_MARK + fingerprint
    if serving.get("description") == mark:
        return True
    marked = [d["createdDate"] for d in deployments if d.get("description") == mark]
    return bool(marked) and serving["createdDate"] >= max(marked)


def undeployed_routes(summary: dict[str, Any] | None) -> list[str]:
    """The design's methods missing from a deployment's apiSummary ([] when the backend gives none)."""
    if summary is None:
        return []
    return [
        f"{method} {route.path}"
        for route in ROUTES
        for method in route.all_methods
        if method not in (summary.get(route.path) or {})
    ]


def verify_stage(step: DeployedApiReads, api_id: str) -> Check:
    description = f"stage {STAGE} serves the latest deployment, made from the current design"
    stage = step.get_stage(api_id)
    if stage is None:
        return Check(description, False, f"no stage {STAGE}: run lab.apply('api')")
    deployments = step.deployments(api_id)
    current = next((d for d in deployments if d["id"] == stage.get("deploymentId")), None)
    if current is None:
        return Check(description, False, f"deployment {stage.get('deploymentId')} not found")
    deploy = (
        f"a change reaches clients only through a new deployment: run lab.apply('api'), or "
        f"apigateway.create_deployment(restApiId={api_id!r}, stageName={STAGE!r})"
    )
    missing = undeployed_routes(step.deployment_summary(api_id, current["id"]))
    if missing:
        return Check(
            description,
            False,
            f"{', '.join(missing)} not in deployment {current['id']}, which the stage serves (API Gateway "
            f"answers 403 Missing Authentication Token); {deploy}",
        )
    # Not necessarily the newest deployment: the stage may be pointed back at one of this design that holds
    # every route (the plan does that), and a later one made by hand is accepted when it holds them too.
    ok = deployed_after_design(current, deployments, step.fingerprint())
    return Check(
        description,
        ok,
        f"the stage serves deployment {current['id']} ({current.get('description')!r}), not one made from "
        f"the current design; {deploy}",
    )
