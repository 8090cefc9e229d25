"""API Gateway deployments as snapshots, for moto, whose deployments are an id and a description only.

On API Gateway, CreateDeployment freezes the API as it is then: "After creating or updating your API, you
must deploy it ... a deployment is a snapshot of your API's resources and methods" (developer guide,
"Deploy REST APIs"); a stage serves its deployment's snapshot until it points at another one (UpdateStage
/deploymentId, or CreateDeployment with its stageName). Here each deployment keeps, at creation, what the
data plane serves: the API's settings (binary media types, API key source), its resources with their methods
and integrations, its authorizers, gateway responses, request validators and models, each as moto answers
its own Get call.

- GetDeployment with embed=["apisummary"] answers the snapshot's paths and methods as AWS does:
  `"apiSummary": {"/items": {"GET": {"authorizationType": "COGNITO_USER_POOLS", "apiKeyRequired": false}}}`.
- GetDeployment with the lab's own embed value (SNAPSHOT_EMBED) adds the whole snapshot as SNAPSHOT_MEMBER:
  that is how the data plane (dataplane/config.py) reads the API as deployed, through the same moto every
  client uses, in the memory backend's process and in the moto server alike.
- GetDeployment of an unknown id is AWS's 404 NotFoundException "Invalid Deployment identifier specified"
  (moto raised a KeyError, a 500).
- DeleteDeployment refuses a deployment that any stage points at, with AWS's BadRequestException "Active
  stages pointing to this deployment must be moved or deleted" (moto looked at the stage named when it was
  made, so it refused one no stage used any more and deleted one a stage served).
- CreateDeployment with the stageName of an existing stage points that stage at the new deployment and keeps
  its settings (method settings and throttling, variables, with the deployment's variables added, tags,
  description); moto replaced the stage with a new, empty one.
"""

from __future__ import annotations

import json
from typing import Any

SNAPSHOT_EMBED = "serverless-lab-snapshot"
SNAPSHOT_MEMBER = "serverlessLabSnapshot"
_ATTRIBUTE = "serverless_lab_snapshot"  # on moto's Deployment


def snapshot_of(api: Any) -> dict[str, Any]:
    """What a deployment freezes of a moto RestAPI, as JSON values (a deep copy: later edits leave it)."""
    snapshot = {
        "restApi": api.to_dict(),
        "resources": [resource.to_dict() for resource in api.resources.values()],
        "authorizers": [authorizer.to_json() for authorizer in api.authorizers.values()],
        "gatewayResponses": [response.to_json() for response in api.gateway_responses.values()],
        "requestValidators": [validator.to_dict() for validator in api.request_validators.values()],
        "models": [model.to_json() for model in api.models.values()],
    }
    return json.loads(json.dumps(snapshot, default=str))  # type: ignore[no-any-return]


def api_summary(snapshot: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """GetDeployment's apiSummary: {path: {method: {authorizationType, apiKeyRequired}}} of the snapshot."""
    return {
        resource["path"]: {
            method: {
                "authorizationType": settings.get("authorizationType") or "NONE",
                "apiKeyRequired": bool(settings.get("apiKeyRequired")),
            }
            for method, settings in resource["resourceMethods"].items()
        }
        for resource in snapshot["resources"]
        if resource.get("resourceMethods")
    }


def apply() -> None:
    from moto.apigateway import models, responses
    from moto.apigateway.exceptions import DeploymentNotFoundException, StageStillActive

    backend_class = models.APIGatewayBackend
    if getattr(backend_class.create_deployment, "_serverless_lab_fix", False):
        return
    original_create = backend_class.create_deployment

    def create_deployment(
        self: Any, function_id: str, name: str, description: str = "", stage_variables: Any = None
    ) -> Any:
        api = self.get_rest_api(function_id)
        existing = api.stages.get(name) if name else None
        snapshot = snapshot_of(api)
        deployment = original_create(self, function_id, name, description, stage_variables)
        setattr(deployment, _ATTRIBUTE, snapshot)
        if existing is not None:
            existing.deployment_id = deployment.id
            existing.variables.update(stage_variables or {})
            api.stages[name] = existing
        return deployment

    def delete_deployment(self: Any, deployment_id: str) -> Any:
        if deployment_id not in self.deployments:
            raise DeploymentNotFoundException()
        if any(stage.deployment_id == deployment_id for stage in self.stages.values()):
            raise StageStillActive()
        return self.deployments.pop(deployment_id)

    def get_deployment(self: Any) -> str:
        parts = self.path.split("/")
        api = self.backend.get_rest_api(parts[2])
        deployment = api.deployments.get(parts[4])
        if deployment is None:
            raise DeploymentNotFoundException()
        answer = deployment.to_json()
        embed = self.querystring.get("embed") or []
        snapshot = getattr(deployment, _ATTRIBUTE, None)
        if snapshot is not None and "apisummary" in embed:
            answer["apiSummary"] = api_summary(snapshot)
        if snapshot is not None and SNAPSHOT_EMBED in embed:
            answer[SNAPSHOT_MEMBER] = snapshot
        return json.dumps(answer)

    for replacement in (create_deployment, delete_deployment, get_deployment):
        replacement._serverless_lab_fix = True  # type: ignore[attr-defined]
    backend_class.create_deployment = create_deployment  # type: ignore[method-assign]
    models.RestAPI.delete_deployment = delete_deployment  # type: ignore[method-assign]
    responses.APIGatewayResponse.get_deployment = get_deployment  # type: ignore[method-assign]
