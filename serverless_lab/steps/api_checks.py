"""The read-only checks of the api step: what a student expects of the deployed API, one line each."""

from __future__ import annotations

import json
from typing import Any, Protocol

from .api_design import (
    DEPLOYMENT_MARK,
    FUNCTIONS,
    GATEWAY_RESPONSE_TYPES,
    ROUTES,
    STAGE,
    Route,
    cors_response_matches,
    gateway_response_matches,
    integration_matches,
    method_matches,
    permission_matches,
)
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
    for function in FUNCTIONS:
        statement = step.permission(step.names(function))
        ok = statement is not None and permission_matches(statement, step.source_arn(api["id"]))
        report.append(
            Check(
                f"API Gateway may invoke {step.names(function)} from this API (resource policy)",
                ok,
                json.dumps(statement),
            )
        )
    report.append(verify_stage(step, api["id"]))
    return report


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
            json.dumps(found.get("methodIntegration"), default=str),
        ),
    ]


def verify_stage(step: DeployedApiReads, api_id: str) -> Check:
    description = f"stage {STAGE} serves the latest deployment, made from the current design"
    stage = step.get_stage(api_id)
    if stage is None:
        return Check(description, False, f"no stage {STAGE}")
    deployments = step.deployments(api_id)
    current = next((d for d in deployments if d["id"] == stage.get("deploymentId")), None)
    if current is None:
        return Check(description, False, f"deployment {stage.get('deploymentId')} not found")
    newest = max(d["createdDate"] for d in deployments)
    ok = (
        current.get("description") == DEPLOYMENT_MARK + step.fingerprint()
        and current["createdDate"] >= newest
    )
    return Check(description, ok, f"{current['id']}: {current.get('description')}")
