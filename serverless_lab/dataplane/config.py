"""The data plane's only window on the control plane: configuration read back with boto3.

Everything the lab serves comes from here: REST APIs and their stages, Lambda function configurations and
deployment packages, CloudFront distributions and invalidations, S3 objects for the origin, Cognito's
JWKS. A route, a timeout or a cache behaviour changed with plain boto3 takes effect, and a function, API or
distribution created outside the lab is served too.

Reads are cached for `ttl_s` (default 1 s) so that a request does not pay for several control-plane calls;
AWS propagates configuration changes in seconds too (a new deployment, a function update, an invalidation).
An API is served as its stage's deployment froze it (GetDeployment, with the snapshot the lab's moto keeps
of each deployment), cached per deployment id: as on AWS, editing resources changes nothing that is served
until the stage points at a new deployment. A function's resource policy (GetPolicy) decides whether API
Gateway may invoke it.

A read that requests keep using is read again in the background shortly before it expires, so a busy API
never waits for the control plane (config_cache.py); one that nobody used since it was last read is left to
expire, so an idle lab makes no calls. Either way a request is never served a read older than `ttl_s`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from serverless_lab.dataplane.apigateway.model import RestApiConfig, rest_api_from_boto3, stage_throttles
from serverless_lab.dataplane.apigateway.usage_plans import ApiKeyGrant
from serverless_lab.dataplane.cloudfront import s3_origin
from serverless_lab.dataplane.cloudfront.model import (
    DistributionConfig,
    Invalidation,
    OriginCaller,
    OriginResponse,
    distribution_from_boto3,
    invalidation_from_boto3,
)
from serverless_lab.dataplane.config_cache import ReadCache
from serverless_lab.dataplane.iam.policy import Policy
from serverless_lab.dataplane.iam.public import ALL_USERS
from serverless_lab.dataplane.iam.request import MalformedPolicyError
from serverless_lab.dataplane.iam.s3_access import BlockPublicAccess, BucketAccess
from serverless_lab.dataplane.lambda_ import log_events_body
from serverless_lab.dataplane.lambda_.invoke_api import FUNCTION_NAME
from serverless_lab.dataplane.lambda_.runtime import CodeIntegrityError, FunctionSpec, LayerSpec
from serverless_lab.dataplane.lambda_.runtime.credentials import EXPIRY_MARGIN_S, RoleCredentials

from ..backends import Backend
from ..backends.moto_apigateway_deployments import SNAPSHOT_EMBED, SNAPSHOT_MEMBER

T = TypeVar("T")
_PARTIAL_ARN = re.compile(r"\d{12}:function:")
# PutLogEvents takes at most 10,000 events and 1,048,576 bytes (see _put_log_events).
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
# An execution role's session lasts AssumeRole's default hour; new environments share it while it has more
# than twice the margin left at which an environment stops taking requests (credentials.EXPIRY_MARGIN_S).
ROLE_SESSION_S = 3600


class NotFound(LookupError):
    """The control plane has no such API, stage, function or distribution."""


class ControlPlane:
    """Reads configuration from the backend with boto3, with a short cache."""

    def __init__(
        self, backend: Backend, *, ttl_s: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.backend = backend
        self._reads = ReadCache(ttl_s=ttl_s, clock=clock)
        # Whether function logs are written as the function's execution role (the data plane sets it when
        # functions run as their role).
        self.logs_as_role = False

    def client(self, service: str) -> Any:
        return self.backend.client(service)

    def cached(self, key: tuple[str, ...], read: Callable[[], T], ttl_s: float | None = None) -> T:
        """read()'s value, reused for ttl_s (default: the control plane's ttl) under key."""
        return self._reads.get(key, read, ttl_s)

    def refresh(self) -> None:
        """Forget every cached read: the next request sees the control plane as it is now."""
        self._reads.clear()

    # --- API Gateway ----------------------------------------------------------------------------------
    def rest_api(self, rest_api_id: str, stage: str) -> RestApiConfig:
        # The clients are looked up inside the reads, not per request: most requests hit the cache.
        def read_stage() -> tuple[dict[str, Any], tuple[str, ...]]:
            try:
                info = self.client("apigateway").get_stage(restApiId=rest_api_id, stageName=stage)
            except ClientError as error:
                raise NotFound(f"No stage {stage!r} of REST API {rest_api_id!r}") from error
            # What the API as served depends on: its deployment, and the stage variables and method
            # throttling, which take effect without a new deployment (update_stage). Derived once per read,
            # not per request.
            live = (
                str(info.get("deploymentId") or ""),
                repr(sorted((info.get("variables") or {}).items())),
                repr(sorted(stage_throttles(info).items())),
            )
            return info, live

        stage_info, live = self.cached(("stage", rest_api_id, stage), read_stage)

        def read_api() -> RestApiConfig:
            apigateway = self.client("apigateway")
            snapshot = self._deployed_api(apigateway, rest_api_id, stage_info.get("deploymentId"))
            if snapshot is not None:  # the API as the stage's deployment froze it
                return rest_api_from_boto3(
                    snapshot["restApi"],
                    snapshot["resources"],
                    snapshot["authorizers"],
                    stage_info,
                    gateway_responses=snapshot["gatewayResponses"],
                    region=self.backend.region,
                    request_validators=snapshot["requestValidators"],
                    models=snapshot["models"],
                )
            # A backend that keeps no snapshots (another endpoint): the API as it is now.
            api = apigateway.get_rest_api(restApiId=rest_api_id)
            resources: list[dict[str, Any]] = []
            for page in apigateway.get_paginator("get_resources").paginate(
                restApiId=rest_api_id, embed=["methods"]
            ):
                resources.extend(page["items"])
            authorizers = apigateway.get_authorizers(restApiId=rest_api_id).get("items", [])
            try:
                responses = apigateway.get_gateway_responses(restApiId=rest_api_id).get("items", [])
            except ClientError:
                responses = []
            # Read only when a method uses them: most APIs have neither, and each is a call.
            methods = [m for r in resources for m in (r.get("resourceMethods") or {}).values()]
            validators = (
                apigateway.get_request_validators(restApiId=rest_api_id).get("items", [])
                if any(m.get("requestValidatorId") for m in methods)
                else []
            )
            models = (
                [
                    m
                    for page in apigateway.get_paginator("get_models").paginate(restApiId=rest_api_id)
                    for m in page["items"]
                ]
                if any(m.get("requestModels") for m in methods)
                else []
            )
            return rest_api_from_boto3(
                api,
                resources,
                authorizers,
                stage_info,
                gateway_responses=responses,
                region=self.backend.region,
                request_validators=validators,
                models=models,
            )

        # Keyed by deployment: edits to resources are served only after a new deployment, as on AWS; and by
        # the stage's variables and method throttling, which take effect without one (read_stage).
        return self.cached(("api", rest_api_id, stage, *live), read_api, ttl_s=float("inf"))

    @staticmethod
    def _deployed_api(apigateway: Any, rest_api_id: str, deployment_id: str | None) -> dict[str, Any] | None:
        """The snapshot the lab's moto keeps of a deployment (backends/moto_apigateway_deployments.py), read
        with GetDeployment and the lab's embed value; None where the backend keeps none."""
        if not deployment_id:
            return None
        apigateway.meta.events.register(
            "before-parse.api-gateway.GetDeployment", _keep_snapshot, unique_id=SNAPSHOT_MEMBER
        )
        try:
            answer = apigateway.get_deployment(
                restApiId=rest_api_id, deploymentId=deployment_id, embed=[SNAPSHOT_EMBED]
            )
        except ClientError as error:
            raise NotFound(f"No deployment {deployment_id!r} of REST API {rest_api_id!r}") from error
        return answer.get(SNAPSHOT_MEMBER)

    def api_keys(self, rest_api_id: str, stage: str) -> dict[str, ApiKeyGrant]:
        """The enabled API keys of the usage plans that include this stage, by key value."""

        def read() -> dict[str, ApiKeyGrant]:
            apigateway = self.client("apigateway")
            plans = [
                plan
                for page in apigateway.get_paginator("get_usage_plans").paginate()
                for plan in page.get("items", [])
                if any(
                    item.get("apiId") == rest_api_id and item.get("stage") == stage
                    for item in plan.get("apiStages") or ()
                )
            ]
            if not plans:
                return {}
            keys = {
                key["id"]: key
                for page in apigateway.get_paginator("get_api_keys").paginate(includeValues=True)
                for key in page.get("items", [])
            }
            grants: dict[str, ApiKeyGrant] = {}
            for plan in plans:
                throttle, quota = plan.get("throttle") or {}, plan.get("quota") or {}
                api_stage = next(
                    item
                    for item in plan.get("apiStages") or ()
                    if item.get("apiId") == rest_api_id and item.get("stage") == stage
                )
                method_throttles = {
                    method: (float(limits["rateLimit"]), int(limits["burstLimit"]))
                    for method, limits in (api_stage.get("throttle") or {}).items()
                    if limits.get("rateLimit") is not None and limits.get("burstLimit") is not None
                }
                for page in apigateway.get_paginator("get_usage_plan_keys").paginate(usagePlanId=plan["id"]):
                    for item in page.get("items", []):
                        key = keys.get(item["id"])
                        if key is None or not key.get("enabled") or not key.get("value"):
                            continue  # a disabled key is refused like an unknown one
                        grants.setdefault(
                            key["value"],
                            ApiKeyGrant(
                                key_id=key["id"],
                                plan_id=plan["id"],
                                rate_limit=throttle.get("rateLimit"),
                                burst_limit=throttle.get("burstLimit"),
                                quota_limit=quota.get("limit"),
                                quota_period=quota.get("period"),
                                quota_offset=int(quota.get("offset") or 0),
                                method_throttles=method_throttles,
                            ),
                        )
            return grants

        return self.cached(("api-keys", rest_api_id, stage), read)

    def rest_apis(self) -> list[tuple[str, str, str]]:
        """(rest_api_id, name, stage) for every stage of every REST API on the backend."""
        apigateway = self.client("apigateway")
        found = []
        for api in apigateway.get_rest_apis().get("items", []):
            for stage in apigateway.get_stages(restApiId=api["id"]).get("item", []):
                found.append((api["id"], api.get("name", ""), stage["stageName"]))
        return found

    # --- Lambda -------------------------------------------------------------------------------------
    def function(self, name_or_arn: str) -> FunctionSpec:
        if _PARTIAL_ARN.match(name_or_arn):
            # "123456789012:function:name", a form Lambda accepts that moto cannot parse: as a full ARN.
            name_or_arn = f"arn:aws:lambda:{self.backend.region}:{name_or_arn}"

        def read() -> FunctionSpec:
            lambda_client = self.client("lambda")  # here, not per request: most requests hit the cache
            try:
                configuration = lambda_client.get_function_configuration(FunctionName=name_or_arn)
            except ClientError as error:
                raise NotFound(f"Function not found: {name_or_arn}") from error
            # Reserved concurrency belongs to the function, whichever version or alias is invoked: it is
            # read for the unqualified name (moto answers none for a qualified one). Not from GetFunction's
            # Concurrency, which would spare a call: moto leaves out a reserved concurrency of 0 there.
            function_name = unqualified_function_name(name_or_arn)
            try:
                concurrency = lambda_client.get_function_concurrency(FunctionName=function_name)
                reserved = concurrency.get("ReservedConcurrentExecutions")
            except ClientError:
                reserved = None
            layers = [self._layer(lambda_client, item["Arn"]) for item in configuration.get("Layers") or ()]
            return function_spec_from_boto3(
                configuration, reserved, self.backend.region, self.backend.account_id(), layers
            )

        return self.cached(("function", name_or_arn), read)

    def function_policy(self, function_arn: str) -> Policy | None:
        """The resource-based policy of the function, version or alias function_arn names (GetPolicy with
        its qualifier: each has its own), parsed; None when it has none. Read like the rest, once a second,
        so a permission added or removed takes effect within seconds."""

        def read() -> Policy | None:
            function_name = unqualified_function_name(function_arn)
            qualifier = function_arn[len(function_name) + 1 :]
            params = {"Qualifier": qualifier} if qualifier and qualifier != "$LATEST" else {}
            try:
                text = self.client("lambda").get_policy(FunctionName=function_name, **params)["Policy"]
                return Policy.parse(text)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                    return None  # no policy (or no such function, which the invoke then reports)
                raise
            except MalformedPolicyError:
                return None

        return self.cached(("policy", function_arn), read)

    def alias_routing(self, name_or_arn: str) -> dict[str, float]:
        """The additional versions and weights of the alias that name_or_arn names, from GetAlias's
        RoutingConfig (a weighted alias, as in a canary deployment); {} for a function or a version."""
        alias = _alias_of(name_or_arn)
        if alias is None:
            return {}

        def read() -> dict[str, float]:
            try:
                answer = self.client("lambda").get_alias(FunctionName=alias[0], Name=alias[1])
            except ClientError:
                return {}
            weights = (answer.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
            return {str(version): float(weight) for version, weight in weights.items()}

        return self.cached(("alias", name_or_arn), read)

    @staticmethod
    def _layer(lambda_client: Any, arn: str) -> LayerSpec:
        """A layer version the function uses, with the CodeSha256 of its content (GetLayerVersion)."""
        name, _, version = arn.rpartition(":")
        try:
            content = lambda_client.get_layer_version(LayerName=name, VersionNumber=int(version))["Content"]
        except (ClientError, ValueError) as error:
            # On AWS a function keeps a layer version that was deleted after it was added; moto forgets it.
            raise CodeIntegrityError(
                f"The layer version {arn} that the function uses cannot be read ({error}). Publish the layer "
                "again and point the function at the new version (update_function_configuration(Layers=...))."
            ) from error
        return LayerSpec(arn=arn, code_sha256=content["CodeSha256"])

    def role_credentials(self, spec: FunctionSpec) -> RoleCredentials | None:
        """Keys of an sts:AssumeRole session of the function's execution role, named after the function, as
        Lambda gives its environments (the session ARN is arn:aws:sts::<account>:assumed-role/<role>/<name>);
        None for a configuration that names no role."""
        if not spec.role:
            return None

        def read() -> RoleCredentials:
            answer = self.client("sts").assume_role(
                RoleArn=spec.role, RoleSessionName=spec.name, DurationSeconds=ROLE_SESSION_S
            )["Credentials"]
            return RoleCredentials(
                access_key_id=answer["AccessKeyId"],
                secret_access_key=answer["SecretAccessKey"],
                session_token=answer["SessionToken"],
                expiration=answer["Expiration"].timestamp(),
            )

        reuse_s = ROLE_SESSION_S - 2 * EXPIRY_MARGIN_S
        return self.cached(("role-credentials", spec.role, spec.name), read, ttl_s=reuse_s)

    def layer_code(self, layer: LayerSpec) -> bytes:
        return self.backend.lambda_layer_code(layer.arn)

    def function_code(self, spec: FunctionSpec) -> bytes:
        return self.backend.lambda_code(spec.name, spec.version)

    def functions(self) -> list[str]:
        return [f["FunctionName"] for f in self.client("lambda").list_functions().get("Functions", [])]

    # --- CloudFront and its S3 origin ----------------------------------------------------------------
    def distribution(self, distribution_id: str) -> DistributionConfig:
        def read() -> DistributionConfig:
            try:
                answer = self.client("cloudfront").get_distribution(Id=distribution_id)
            except ClientError as error:
                raise NotFound(f"No distribution {distribution_id!r}") from error
            return self._with_signing_behaviors(distribution_from_boto3(answer["Distribution"]))

        return self.cached(("distribution", distribution_id), read)

    def _with_signing_behaviors(self, config: DistributionConfig) -> DistributionConfig:
        """The distribution with each origin's OAC SigningBehavior (an OAC that never signs reads as anyone)."""
        origins = []
        for origin in config.origins:
            if origin.origin_access_control_id:
                try:
                    control = self.client("cloudfront").get_origin_access_control(
                        Id=origin.origin_access_control_id
                    )
                    behavior = control["OriginAccessControl"]["OriginAccessControlConfig"]["SigningBehavior"]
                except (ClientError, KeyError):
                    behavior = "never"  # no such OAC: nothing signs the request
                origin = dataclasses.replace(origin, signing_behavior=behavior)
            origins.append(origin)
        return dataclasses.replace(config, origins=tuple(origins))

    def distributions(self) -> list[str]:
        listing = self.client("cloudfront").list_distributions()["DistributionList"]
        return [item["Id"] for item in listing.get("Items", []) or []]

    def invalidations(self, distribution_id: str) -> list[Invalidation]:
        cloudfront = self.client("cloudfront")

        def read() -> list[Invalidation]:
            listing = cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"]
            found = []
            for summary in listing.get("Items", []) or []:
                detail = cloudfront.get_invalidation(DistributionId=distribution_id, Id=summary["Id"])
                found.append(invalidation_from_boto3(detail["Invalidation"]))
            return found

        return self.cached(("invalidations", distribution_id), read)

    def origin_object(
        self, bucket: str, key: str, conditions: Mapping[str, str], caller: OriginCaller
    ) -> OriginResponse:
        """S3's answer to CloudFront's GetObject, as S3 decides it for the caller the origin reads as."""
        return s3_origin.get_object(
            self.client("s3"),
            bucket,
            key,
            conditions,
            caller,
            self.bucket_access(bucket),
            lambda: self._object_is_public_read(bucket, key),
        )

    def bucket_access(self, bucket: str) -> BucketAccess:
        """What S3 decides a caller from outside the account by: the bucket policy, the Block Public
        Access settings of the bucket and of its account, and Object Ownership (read like the rest, once a
        second)."""

        def read() -> BucketAccess:
            s3 = self.client("s3")
            policy = _read_or_none(lambda: s3.get_bucket_policy(Bucket=bucket)["Policy"])
            block = BlockPublicAccess.from_configuration(
                _read_or_none(
                    lambda: s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
                )
            )
            account_block = _read_or_none(
                lambda: self.client("s3control").get_public_access_block(AccountId=self.backend.account_id())[
                    "PublicAccessBlockConfiguration"
                ]
            )
            controls = _read_or_none(
                lambda: s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
            )
            rules = (controls or {}).get("Rules") or [{}]
            return BucketAccess(
                policy,
                block.combined(BlockPublicAccess.from_configuration(account_block)),
                acls_enabled=rules[0].get("ObjectOwnership", "ObjectWriter") != "BucketOwnerEnforced",
            )

        return self.cached(("bucket-access", bucket), read)

    def _object_is_public_read(self, bucket: str, key: str) -> bool:
        """Whether the object's ACL grants AllUsers READ (asked only when the ACL decides a read)."""

        def read() -> bool:
            grants = _read_or_none(lambda: self.client("s3").get_object_acl(Bucket=bucket, Key=key)["Grants"])
            return any(
                (grant.get("Grantee") or {}).get("URI") == ALL_USERS
                and grant.get("Permission") in ("READ", "FULL_CONTROL")
                for grant in grants or ()
            )

        return self.cached(("object-acl", bucket, key), read)

    # --- Cognito --------------------------------------------------------------------------------------
    def jwks(self, issuer: str) -> dict[str, Any]:
        pool_id = issuer.rstrip("/").rsplit("/", 1)[-1]
        return self.cached(("jwks", issuer), lambda: self.backend.jwks(pool_id), ttl_s=300.0)

    # --- CloudWatch Logs ---------------------------------------------------------------------------------
    def write_logs(
        self, group: str, stream: str, events: list[tuple[int, str]], *, retry: bool = True
    ) -> None:
        """Puts a function's log lines where Lambda puts them: /aws/lambda/<function>, one stream per environment."""
        if not events:
            return
        logs = self._logs_client(group, stream)
        try:
            self._ensure_log_stream(logs, group, stream)
            self._put_log_events(logs, group, stream, events)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code == "AccessDeniedException":
                # Lambda writes the logs as the execution role: a role that may not CreateLogStream or
                # PutLogEvents gets no logs in CloudWatch, and the function runs on.
                self._reads.forget(("log", group, stream))
                _warn_once(
                    group,
                    f"{group}: the function's log lines are dropped, as Lambda drops them: "
                    f"{error.response['Error'].get('Message')}",
                )
                return
            if code != "ResourceNotFoundException":
                raise
            # The group or stream was deleted since. If the function still exists, Lambda creates them
            # again (its role may CreateLogGroup); if it was destroyed, these late lines are dropped, so
            # a torn-down stack is not brought back to life by its last log batch.
            self._reads.forget(("log", group), ("log", group, stream))
            function = _function_of_log_stream(group, stream)
            if retry and function and self._function_exists(function):
                self.write_logs(group, stream, events, retry=False)
            elif not retry:  # the role could not create the group again (no logs:CreateLogGroup)
                _warn_once(
                    group,
                    f"{group}: the log group does not exist, and the function's role did not "
                    "create it: the function's log lines are dropped, as Lambda drops them.",
                )

    def _logs_client(self, group: str, stream: str) -> Any:
        """The client that writes a function's logs: as its execution role when functions run as their role
        (`logs_as_role`), as Lambda does, else with the lab's own keys."""
        # A busy function's lines go out a few thousand a second. botocore's client-side validation of every
        # line took a tenth of the lab's Python time, holding the GIL that request threads wait for;
        # CloudWatch Logs validates each batch itself, and every parameter here is the lab's own.
        logs = None
        if self.logs_as_role:
            try:
                spec = self.function(_function_of_log_stream(group, stream))
            except NotFound:  # a destroyed function's last lines: written as before, or dropped below
                spec = None
            role = self.role_credentials(spec) if spec is not None else None
            if role is not None:
                logs = self.backend.client_as("logs", role.environment(), validate=False)
        logs = logs or self.backend.client("logs", validate=False)
        log_events_body.install(logs)
        return logs

    def _ensure_log_stream(self, logs: Any, group: str, stream: str) -> None:
        for create, params in (
            (logs.create_log_group, {"logGroupName": group}),
            (logs.create_log_stream, {"logGroupName": group, "logStreamName": stream}),
        ):
            key = ("log", *params.values())
            if self._reads.knows(key):
                continue
            try:
                create(**params)
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code")
                # A role without logs:CreateLogGroup still writes to a group that exists (the functions
                # step creates them), as on Lambda.
                refused_group = code == "AccessDeniedException" and len(params) == 1
                if code != "ResourceAlreadyExistsException" and not refused_group:
                    raise
            self._reads.remember(key, True)

    def _function_exists(self, name: str) -> bool:
        try:
            self.client("lambda").get_function_configuration(FunctionName=name)
        except ClientError:
            return False
        return True

    @staticmethod
    def _put_log_events(logs: Any, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        # CloudWatch Logs refuses a batch that is not in chronological order; lines stamped by the
        # environment and by the runtime around it can interleave by a millisecond, so sort (stably).
        ordered = sorted(events, key=lambda event: event[0])
        for batch in _put_log_events_batches(ordered):
            logs.put_log_events(
                logGroupName=group,
                logStreamName=stream,
                logEvents=[{"timestamp": t, "message": m} for t, m in batch],
            )


_WARNED: set[str] = set()


def _warn_once(group: str, message: str) -> None:
    """A function's logs that cannot be written, said once per log group in the lab's own log."""
    if group not in _WARNED:
        _WARNED.add(group)
        logging.getLogger(__name__).warning(message)


def _keep_snapshot(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any) -> None:
    """botocore's before-parse hook: keeps the deployment snapshot, a member botocore's model does not know."""
    body = response_dict.get("body") or b""
    if SNAPSHOT_MEMBER.encode() in body:
        snapshot = json.loads(body).get(SNAPSHOT_MEMBER)
        if snapshot is not None:
            customized_response_dict[SNAPSHOT_MEMBER] = snapshot


@functools.lru_cache(maxsize=1024)  # asked on every invoke; names come from requests, so bounded
def _function_of_log_stream(group: str, stream: str) -> str:
    """The function that writes a log stream: named by its group /aws/lambda/<function>, or, in a custom
    group (LoggingConfig.LogGroup), by the stream's name, YYYY/MM/DD/<function>[<version>]<guid>."""
    if group.startswith("/aws/lambda/"):
        return group.removeprefix("/aws/lambda/")
    return stream.split("/", 3)[-1].split("[", 1)[0]


def _read_or_none(read: Callable[[], T]) -> T | None:
    """A configuration S3 reads back, or None where S3 answers that there is none (NoSuchBucketPolicy,
    NoSuchPublicAccessBlockConfiguration, OwnershipControlsNotFoundError, NoSuchKey ...)."""
    try:
        return read()
    except ClientError:
        return None


def _alias_of(name_or_arn: str) -> tuple[str, str] | None:
    """(function, alias name) when name_or_arn names an alias; None for a function or a version."""
    matched = FUNCTION_NAME.fullmatch(name_or_arn)
    qualifier = matched.group(9) if matched is not None else None
    if qualifier is None or qualifier == "$LATEST" or qualifier.isdigit():
        return None
    return unqualified_function_name(name_or_arn), qualifier


def unqualified_function_name(name_or_arn: str) -> str:
    """The function's name or ARN without its version or alias suffix ("items:live" -> "items"), read with
    the pattern Lambda's API reference gives for a function name (a name, partial ARN or ARN)."""
    matched = FUNCTION_NAME.fullmatch(name_or_arn)
    qualifier = matched.group(9) if matched is not None else None
    return name_or_arn[: -len(qualifier) - 1] if qualifier else name_or_arn


def _put_log_events_batches(events: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """events cut into PutLogEvents batches: at most 10,000 events and 1,048,576 bytes each, an event
    counting its UTF-8 message plus 26 bytes (CloudWatch Logs API reference, "PutLogEvents")."""
    # Usually one batch: a UTF-8 character takes at most 4 bytes, so no need to encode every line.
    if (
        len(events) <= MAX_BATCH_EVENTS
        and 4 * sum(len(m) for _, m in events) + 26 * len(events) <= MAX_BATCH_BYTES
    ):
        return [events]
    batches: list[list[tuple[int, str]]] = [[]]
    size = 0
    for event in events:
        event_size = len(event[1].encode()) + 26
        if batches[-1] and (len(batches[-1]) == MAX_BATCH_EVENTS or size + event_size > MAX_BATCH_BYTES):
            batches.append([])
            size = 0
        batches[-1].append(event)
        size += event_size
    return batches


def function_spec_from_boto3(
    configuration: Mapping[str, Any],
    reserved: int | None,
    region: str,
    account_id: str,
    layers: Sequence[LayerSpec] = (),
) -> FunctionSpec:
    """A FunctionSpec from get_function_configuration (and get_function_concurrency, get_layer_version)."""
    logging_config = configuration.get("LoggingConfig") or {}
    # The levels apply with JSON only; a text-format answer that still carries them is not refused here.
    levels = logging_config if logging_config.get("LogFormat") == "JSON" else {}
    return FunctionSpec(
        name=configuration["FunctionName"],
        arn=configuration["FunctionArn"],
        version=configuration.get("Version", "$LATEST"),
        runtime=configuration.get("Runtime", "python3.12"),
        handler=configuration.get("Handler", "lambda_function.lambda_handler"),
        memory_mb=int(configuration.get("MemorySize", 128)),
        timeout_s=float(configuration.get("Timeout", 3)),
        environment=dict((configuration.get("Environment") or {}).get("Variables") or {}),
        code_sha256=configuration.get("CodeSha256", ""),
        reserved_concurrency=reserved,
        region=region,
        account_id=account_id,
        layers=tuple(layers),
        log_format=logging_config.get("LogFormat", "Text"),
        application_log_level=levels.get("ApplicationLogLevel"),  # INFO when JSON leaves them out
        system_log_level=levels.get("SystemLogLevel"),
        log_group=logging_config.get("LogGroup"),
        role=configuration.get("Role", ""),
    )
