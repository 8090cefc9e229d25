"""The `api` step: the REST API the browser calls, guarded by the Cognito user pool (design: api_design.py).

Order, as AWS requires it: the API, its resources, the COGNITO_USER_POOLS authorizer on the pool, methods
with their integrations (Lambda proxy; MOCK for the CORS preflight), Lambda permissions (Lambda runs a
function for API Gateway only if the function's resource policy allows it), then a deployment and the stage
`prod` pointing at it: changes to a REST API reach clients only through a new deployment.

Each deployment's description carries a fingerprint of the whole design, so a plan knows from the backend
alone whether `prod` serves the current design, on moto and on AWS alike.
"""

from __future__ import annotations

import json
import time
from functools import cached_property
from typing import Any

from botocore.exceptions import ClientError

from ..dataplane.iam.request import MalformedPolicyError
from .api_checks import deployed_after_design, first_refused_route, undeployed_routes, verify_api
from .api_design import (
    CORS_METHOD_RESPONSE,
    DEPLOYMENT_MARK,
    FUNCTIONS,
    GATEWAY_RESPONSE_TYPES,
    GATEWAY_RESPONSES,
    IDENTITY_SOURCE,
    INVOKE_PRINCIPAL,
    ROUTES,
    STAGE,
    Route,
    cors_response_matches,
    cors_response_parameters,
    design_fingerprint,
    gateway_response_matches,
    integration_matches,
    integration_params,
    lambda_uri,
    method_matches,
    method_params,
    permission_matches,
)
from .arns import partition
from .base import STUDENT_TAG, Call, Plan, Ref, Report, Step, is_error
from .functions import FunctionsStep, ignore_missing, missing_step_error
from .users import UsersStep


class ApiStep(Step):
    name = "api"
    title = "API Gateway REST API"
    requires = ("users", "functions")

    # --- names ------------------------------------------------------------------------------------
    @property
    def api_name(self) -> str:
        return self.names("api")

    @property
    def authorizer_name(self) -> str:
        return self.names("cognito")

    @property
    def statement_id(self) -> str:
        return self.names("apigw")

    @cached_property
    def pool_arn(self) -> str | None:
        """The user pool's ARN as the backend holds it now (read once per step object)."""
        pool = UsersStep(self.context).find_pool()
        return pool["Arn"] if pool else None

    def function_arn(self, function: str) -> str:
        """The function's ARN: Lambda ARNs are made of the region, account and name, known before it exists."""
        region, account = self.names.region, self.names.account_id
        return f"arn:{partition(region)}:lambda:{region}:{account}:function:{self.names(function)}"

    def integration_uri(self, function: str) -> str:
        return lambda_uri(partition(self.names.region), self.names.region, self.function_arn(function))

    def source_arn(self, api_id: str) -> str:
        """Any stage, method and path of this API (execute-api ARNs are api-id/stage/METHOD/path)."""
        region, account = self.names.region, self.names.account_id
        return f"arn:{partition(region)}:execute-api:{region}:{account}:{api_id}/*/*/*"

    def authorizer_settings(self) -> dict[str, Any]:
        return {
            "name": self.authorizer_name,
            "type": "COGNITO_USER_POOLS",
            "providerARNs": [self.pool_arn or "<user_pool_arn>"],
            "identitySource": IDENTITY_SOURCE,
        }

    def fingerprint(self) -> str:
        uris = {function: self.integration_uri(function) for function in FUNCTIONS}
        return design_fingerprint(self.authorizer_settings(), uris)

    # --- reading the backend ----------------------------------------------------------------------
    def find_api(self) -> dict[str, Any] | None:
        pages = self.client("apigateway").get_paginator("get_rest_apis").paginate()
        return next(
            (api for page in pages for api in page.get("items", []) if api["name"] == self.api_name), None
        )

    def find_authorizer(self, api_id: str) -> dict[str, Any] | None:
        items = self.client("apigateway").get_authorizers(restApiId=api_id, limit=500).get("items", [])
        return next((a for a in items if a["name"] == self.authorizer_name), None)

    def resources(self, api_id: str) -> dict[str, dict[str, Any]]:
        pages = self.client("apigateway").get_paginator("get_resources").paginate(restApiId=api_id)
        return {r["path"]: r for page in pages for r in page.get("items", [])}

    def get_method(self, api_id: str, resource_id: str, http_method: str) -> dict[str, Any] | None:
        try:
            return self.client("apigateway").get_method(
                restApiId=api_id, resourceId=resource_id, httpMethod=http_method
            )
        except ClientError as error:
            if is_error(error, "NotFoundException"):
                return None
            raise

    def get_stage(self, api_id: str) -> dict[str, Any] | None:
        try:
            return self.client("apigateway").get_stage(restApiId=api_id, stageName=STAGE)
        except ClientError as error:
            if is_error(error, "NotFoundException"):
                return None
            raise

    def deployments(self, api_id: str) -> list[dict[str, Any]]:
        pages = self.client("apigateway").get_paginator("get_deployments").paginate(restApiId=api_id)
        return [d for page in pages for d in page.get("items", [])]

    def gateway_response(self, api_id: str, response_type: str) -> dict[str, Any] | None:
        try:
            return self.client("apigateway").get_gateway_response(
                restApiId=api_id, responseType=response_type
            )
        except ClientError as error:
            if is_error(error, "NotFoundException"):
                return None
            raise

    def permission(self, function_name: str) -> dict[str, Any] | None:
        """The statement of the function's resource policy that lets this student's API invoke it."""
        try:
            policy = json.loads(self.client("lambda").get_policy(FunctionName=function_name)["Policy"])
        except ClientError as error:
            if is_error(error, "ResourceNotFoundException"):
                return None
            raise
        return next((s for s in policy.get("Statement", []) if s.get("Sid") == self.statement_id), None)

    def resource_policy(self, function_name: str) -> str | None:
        """The function's resource-based policy document (GetPolicy), None when it has none."""
        try:
            return str(self.client("lambda").get_policy(FunctionName=function_name)["Policy"])
        except ClientError as error:
            if is_error(error, "ResourceNotFoundException"):
                return None
            raise

    def deployment_summary(self, api_id: str, deployment_id: str) -> dict[str, Any] | None:
        """The paths and methods a deployment froze (GetDeployment's apiSummary); None when the backend
        answers none."""
        try:
            answer = self.client("apigateway").get_deployment(
                restApiId=api_id, deploymentId=deployment_id, embed=["apisummary"]
            )
        except ClientError as error:
            if is_error(error, "NotFoundException"):
                return None
            raise
        return answer.get("apiSummary")

    # --- plan -------------------------------------------------------------------------------------
    def plan(self) -> Plan:
        api = self.find_api()
        api_id: Any = api["id"] if api else Ref("rest_api_id")
        resources = self.resources(api["id"]) if api else {}
        creations: list[Call] = []
        if api is None:
            params = {
                "name": self.api_name,
                "description": "serverless-lab items API",
                "endpointConfiguration": {"types": ["REGIONAL"]},
                "tags": {STUDENT_TAG: self.names.student},
            }
            creations.append(
                Call(
                    "apigateway",
                    "create_rest_api",
                    params,
                    why="regional REST API",
                    save=("rest_api_id", "id"),
                    # the id of the root resource "/", which every new API has
                    also_save=(("root_resource_id", "rootResourceId"),),
                )
            )
        resource_ids: dict[str, Any] = {path: r["id"] for path, r in resources.items()}
        resource_ids.setdefault("/", Ref("root_resource_id"))
        for route in ROUTES:
            if route.path not in resource_ids:
                params = {
                    "restApiId": api_id,
                    "parentId": resource_ids[route.parent],
                    "pathPart": route.path_part,
                }
                creations.append(
                    Call("apigateway", "create_resource", params, why=route.path, save=(route.ref_name, "id"))
                )
                resource_ids[route.path] = Ref(route.ref_name)
        authorizer_calls, authorizer_id = self.plan_authorizer(api)
        deletions, puts = self.plan_methods(api_id, resources, resource_ids, authorizer_id)
        changes = creations + deletions + authorizer_calls + puts + self.plan_gateway_responses(api, api_id)
        plan = Plan(self.name, changes + self.plan_permissions(api_id))
        plan.extend(self.plan_deployment(api, api_id, changed=bool(changes)))
        return plan

    def plan_authorizer(self, api: dict[str, Any] | None) -> tuple[list[Call], Any]:
        settings = self.authorizer_settings()
        found = self.find_authorizer(api["id"]) if api else None
        if found is not None and all(found.get(k) == v for k, v in settings.items()):
            return [], found["id"]
        api_id: Any = api["id"] if api else Ref("rest_api_id")
        calls = []
        if found is not None:
            # The pool changed (users re-created). moto cannot patch providerARNs, so the authorizer is
            # replaced, after the methods that use it are deleted (AWS refuses to delete one in use).
            calls.append(
                Call(
                    "apigateway",
                    "delete_authorizer",
                    {"restApiId": api_id, "authorizerId": found["id"]},
                    why="it names another user pool",
                )
            )
        calls.append(
            Call(
                "apigateway",
                "create_authorizer",
                {"restApiId": api_id, **settings},
                why="verifies the Cognito ID token in Authorization",
                save=("authorizer_id", "id"),
            )
        )
        return calls, Ref("authorizer_id")

    def plan_methods(
        self, api_id: Any, resources: dict[str, Any], resource_ids: dict[str, Any], authorizer_id: Any
    ) -> tuple[list[Call], list[Call]]:
        """(delete_method calls, put calls): a method set up differently is deleted and made again, as
        put_method refuses to overwrite a method on AWS (ConflictException)."""
        deletions: list[Call] = []
        puts: list[Call] = []
        for route in ROUTES:
            for http_method in route.all_methods:
                where = {
                    "restApiId": api_id,
                    "resourceId": resource_ids[route.path],
                    "httpMethod": http_method,
                }
                label = f"{http_method} {route.path}"
                uri = self.integration_uri(route.function)
                found = None
                if route.path in resources:
                    found = self.get_method(api_id, resource_ids[route.path], http_method)
                if found is not None and not method_matches(found, http_method, authorizer_id):
                    deletions.append(
                        Call("apigateway", "delete_method", where, why=f"{label} is set up differently")
                    )
                    found = None
                if found is None:
                    why = (
                        "the CORS preflight carries no token"
                        if http_method == "OPTIONS"
                        else "needs a Cognito ID token"
                    )
                    puts.append(
                        Call(
                            "apigateway",
                            "put_method",
                            {**where, **method_params(http_method, authorizer_id)},
                            why=f"{label}: {why}",
                        )
                    )
                if found is None or not integration_matches(found, http_method, uri):
                    target = (
                        "answered by API Gateway"
                        if http_method == "OPTIONS"
                        else f"-> {self.names(route.function)}"
                    )
                    puts.append(
                        Call(
                            "apigateway",
                            "put_integration",
                            {**where, **integration_params(http_method, uri)},
                            why=f"{label} {target}",
                        )
                    )
                    integration_made = True
                else:
                    integration_made = False
                if http_method == "OPTIONS":
                    puts.extend(self.plan_cors(where, route, found, integration_made))
        return deletions, puts

    @staticmethod
    def plan_cors(
        where: dict[str, Any], route: Route, found: dict[str, Any] | None, integration_made: bool
    ) -> list[Call]:
        """The preflight's method response (which headers it may set) and integration response (their values).

        API Gateway accepts an integration response header only if the method response declares it, so the
        method response comes first; put_method_response does not replace one (ConflictException on AWS).
        """
        calls = []
        response = ((found or {}).get("methodResponses") or {}).get("200")
        if response is not None and response.get("responseParameters") != CORS_METHOD_RESPONSE:
            calls.append(
                Call(
                    "apigateway",
                    "delete_method_response",
                    {**where, "statusCode": "200"},
                    why=f"OPTIONS {route.path} declares other headers",
                )
            )
            response = None
        if response is None:
            calls.append(
                Call(
                    "apigateway",
                    "put_method_response",
                    {**where, "statusCode": "200", "responseParameters": CORS_METHOD_RESPONSE},
                    why=f"OPTIONS {route.path} may return the CORS headers",
                )
            )
        if integration_made or found is None or not cors_response_matches(found, route):
            params = {
                **where,
                "statusCode": "200",
                "responseParameters": cors_response_parameters(route),
                "responseTemplates": {"application/json": ""},
            }
            calls.append(
                Call(
                    "apigateway",
                    "put_integration_response",
                    params,
                    why=f"Allow-Methods {route.allowed_methods}, Allow-Origin *",
                )
            )
        return calls

    def plan_gateway_responses(self, api: dict[str, Any] | None, api_id: Any) -> list[Call]:
        calls = []
        for response_type in GATEWAY_RESPONSE_TYPES:
            if api is not None and gateway_response_matches(
                self.gateway_response(api["id"], response_type), response_type
            ):
                continue
            params = {
                "restApiId": api_id,
                "responseType": response_type,
                **GATEWAY_RESPONSES[response_type].put_params(),
            }
            calls.append(
                Call(
                    "apigateway",
                    "put_gateway_response",
                    params,
                    why=(
                        "a throttled function answers 429 (not 500), with CORS headers"
                        if response_type == "INTEGRATION_FAILURE"
                        else f"{response_type} errors (such as 401 Unauthorized) carry CORS headers"
                    ),
                )
            )
        return calls

    def plan_permissions(self, api_id: Any) -> list[Call]:
        calls = []
        source_arn = self.source_arn(api_id if isinstance(api_id, str) else "<rest_api_id>")
        for function in FUNCTIONS:
            function_name = self.names(function)
            statement = self.permission(function_name)
            if statement is not None and permission_matches(statement, source_arn):
                continue
            if (
                statement is None
                and isinstance(api_id, str)
                and self.covered_by_own_permission(api_id, function)
            ):
                continue  # a permission the student added by hand lets every route invoke it: adopted
            if statement is not None:
                calls.append(
                    Call(
                        "lambda",
                        "remove_permission",
                        {"FunctionName": function_name, "StatementId": self.statement_id},
                        why="it names another API",
                    )
                )
            params = {
                "FunctionName": function_name,
                "StatementId": self.statement_id,
                "Action": "lambda:InvokeFunction",
                "Principal": INVOKE_PRINCIPAL,
                "SourceArn": source_arn,
            }
            calls.append(
                Call("lambda", "add_permission", params, why=f"API Gateway may invoke {function_name}")
            )
        return calls

    def covered_by_own_permission(self, api_id: str, function: str) -> bool:
        try:
            return first_refused_route(self, api_id, function) is None
        except MalformedPolicyError:
            return False

    def plan_deployment(self, api: dict[str, Any] | None, api_id: Any, changed: bool) -> list[Call]:
        mark = DEPLOYMENT_MARK + self.fingerprint()
        stage = self.get_stage(api["id"]) if api else None
        deployments = {d["id"]: d for d in self.deployments(api["id"])} if api else {}
        serving = deployments.get(stage.get("deploymentId", ""), {}) if stage else {}
        # The deployment the stage serves must be of this design and hold every route of it (its snapshot's
        # apiSummary): what it lacks, API Gateway answers with 403 until the stage serves a new deployment.
        if (
            not changed
            and serving
            and deployed_after_design(serving, list(deployments.values()), self.fingerprint())
            and not undeployed_routes(self.deployment_summary(api["id"], serving["id"]) if api else None)
        ):
            return []  # a deployment a student made by hand after the lab's (06-api) is kept, not reverted
        calls: list[Call] = []
        # An apply interrupted between create_deployment and the stage call left the right deployment.
        # (Or one the stage left: a deployment of this design holding every route is served again as it is.)
        ready = [] if changed else [d for d in deployments.values() if d.get("description") == mark]
        newest = max(ready, key=lambda d: d["createdDate"]) if ready else None
        if newest is not None and api and undeployed_routes(self.deployment_summary(api["id"], newest["id"])):
            newest = None
        if newest is not None:
            deployment_id: Any = newest["id"]
        else:
            calls.append(
                Call(
                    "apigateway",
                    "create_deployment",
                    {"restApiId": api_id, "description": mark},
                    why="a snapshot of the API for the stage",
                    save=("deployment_id", "id"),
                )
            )
            deployment_id = Ref("deployment_id")
        if stage is None:
            params = {
                "restApiId": api_id,
                "stageName": STAGE,
                "deploymentId": deployment_id,
                "tags": {STUDENT_TAG: self.names.student},
            }
            calls.append(Call("apigateway", "create_stage", params, why=f"/{STAGE} serves the deployment"))
        else:
            patch = [{"op": "replace", "path": "/deploymentId", "value": deployment_id}]
            calls.append(
                Call(
                    "apigateway",
                    "update_stage",
                    {"restApiId": api_id, "stageName": STAGE, "patchOperations": patch},
                    why=f"/{STAGE} serves the new deployment",
                )
            )
        return calls

    # --- apply ------------------------------------------------------------------------------------
    def apply(self) -> dict[str, Any]:
        if self.pool_arn is None:
            raise missing_step_error(self, "users", "the Cognito user pool")
        functions = FunctionsStep(self.context)
        missing = [f for f in FUNCTIONS if functions.get_function(self.names(f)) is None]
        if missing:
            files = " and ".join(f"handlers/{f}.py" for f in missing)
            raise missing_step_error(
                self,
                "functions",
                f"the Lambda function(s) {', '.join(self.names(f) for f in missing)}",
                fix=f"make sure {files} exist, then run lab.require('api')",
            )
        return super().apply()

    # --- outputs ----------------------------------------------------------------------------------
    def outputs(self) -> dict[str, Any]:
        api = self.find_api()
        if api is None:
            return {}
        authorizer = self.find_authorizer(api["id"])
        invoke_url = f"https://{api['id']}.execute-api.{self.names.region}.amazonaws.com/{STAGE}"
        return {
            "rest_api_id": api["id"],
            "stage": STAGE,
            "authorizer_id": authorizer["id"] if authorizer else "",
            "invoke_url": invoke_url,
            "url": self.browser_url(api["id"], invoke_url),
        }

    def browser_url(self, api_id: str, invoke_url: str) -> str:
        """Where a browser calls the API: AWS's URL, or offline the lab's data plane (moto serves no traffic)."""
        backend = self.context.backend
        path = f"/restapis/{api_id}/{STAGE}/_user_request_"
        if not backend.offline:
            return invoke_url
        if backend.dataplane_port:
            return f"http://127.0.0.1:{backend.dataplane_port}{path}"
        # Another offline endpoint (LocalStack) serves this same path itself.
        return f"{backend.endpoint_url.rstrip('/')}{path}" if backend.endpoint_url else invoke_url

    # --- verify -----------------------------------------------------------------------------------
    def verify(self) -> Report:
        return verify_api(self)

    # --- destroy ----------------------------------------------------------------------------------
    def destroy(self) -> None:
        """Deletes the API (resources, methods, authorizer, deployments, stage) and the Lambda permissions."""
        while (api := self.find_api()) is not None:
            delete_rest_api(self.client("apigateway"), api["id"])
        for function in FUNCTIONS:
            ignore_missing(
                self.client("lambda").remove_permission,
                FunctionName=self.names(function),
                StatementId=self.statement_id,
            )


def delete_rest_api(client: Any, api_id: str) -> None:
    """AWS allows one DeleteRestApi per 30 s per account (TooManyRequestsException): wait and retry."""
    for attempt in range(10):
        try:
            client.delete_rest_api(restApiId=api_id)
            return
        except ClientError as error:
            if is_error(error, "NotFoundException"):
                return
            if not is_error(error, "TooManyRequestsException") or attempt == 9:
                raise
            time.sleep(5)
