"""The data plane's only window on the control plane: configuration read back with boto3.

Everything the lab serves comes from here: REST APIs and their stages, Lambda function configurations and
deployment packages, CloudFront distributions and invalidations, S3 objects for the origin, Cognito's
JWKS. A route, a timeout or a cache behaviour changed with plain boto3 takes effect, and a function, API or
distribution created outside the lab is served too.

Reads are cached for `ttl_s` (default 1 s) so that a request does not pay for several control-plane calls;
AWS propagates configuration changes in seconds too (a new deployment, a function update, an invalidation).
API configuration is cached per deployment id: as on AWS, editing resources changes nothing that is served
until a new deployment is made to the stage.

A read that requests keep using is read again in the background shortly before it expires, so a busy API
never waits for the control plane; one that nobody used since it was last read is left to expire, so an
idle lab makes no calls. Either way a request is never served a read older than `ttl_s`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from ..backends import Backend
from .api_model import RestApiConfig, rest_api_from_boto3
from .distribution_model import (
    DistributionConfig,
    Invalidation,
    OriginResponse,
    distribution_from_boto3,
    invalidation_from_boto3,
)
from .runtime import FunctionSpec

T = TypeVar("T")
_FAILED = object()
# PutLogEvents takes at most 10,000 events and 1,048,576 bytes (see _put_log_events).
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576


class NotFound(LookupError):
    """The control plane has no such API, stage, function or distribution."""


@dataclass
class _Cached:
    value: Any
    read_at: float  # when the read that produced value started
    read: Callable[[], Any] | None = None  # how to read it again, in the background
    ttl_s: float = float("inf")
    used: bool = False  # served from the cache since it was last read
    pending: threading.Event | None = None  # set when the refresher's read of it in flight is done


class ControlPlane:
    """Reads configuration from the backend with boto3, with a short cache."""

    def __init__(
        self, backend: Backend, *, ttl_s: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.backend = backend
        self.ttl_s = ttl_s
        self.clock = clock
        self._cache: dict[tuple[str, ...], _Cached] = {}
        self._lock = threading.Lock()
        # refresh() bumps the generation: a read that started before it is not stored after it.
        self._generation = 0
        self._refresher: threading.Thread | None = None
        self._refresher_wake = threading.Condition(self._lock)

    def client(self, service: str) -> Any:
        return self.backend.client(service)

    def cached(self, key: tuple[str, ...], read: Callable[[], T], ttl_s: float | None = None) -> T:
        """read()'s value, reused for ttl_s (default: the control plane's ttl) under key."""
        now = self.clock()
        ttl = self.ttl_s if ttl_s is None else ttl_s
        pending = None
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None:
                if now - entry.read_at < ttl:
                    if not entry.used:
                        # First use since the last read: the refresher reads it again before it expires.
                        entry.used = True
                        if ttl != float("inf") and entry.read is not None:
                            self._wake_refresher()
                    return entry.value  # type: ignore[no-any-return]
                pending = entry.pending
            generation = self._generation
        if pending is not None:
            # Expired while the refresher reads it (a busy backend): wait for that read, which started
            # before this request would have, rather than call the backend twice.
            pending.wait()
            with self._lock:
                entry = self._cache.get(key)
                if entry is not None and self.clock() - entry.read_at < ttl:
                    return entry.value  # type: ignore[no-any-return]
                generation = self._generation
        value = read()
        with self._lock:
            if generation == self._generation:
                self._cache[key] = _Cached(value, now, read, ttl)
        return value

    def refresh(self) -> None:
        """Forget every cached read: the next request sees the control plane as it is now."""
        with self._lock:
            self._cache.clear()
            self._generation += 1

    # --- background refresh -------------------------------------------------------------------------
    # Without it, the first request after an entry expires pays its boto3 reads inline (several ms each
    # second on a busy API). The refresher reads entries that requests use shortly before they expire,
    # stamps them with the time the read started, and drops a read that raced with refresh(); so a change
    # made with boto3 is still served within ttl_s, and the backend gets about as many calls as before (one
    # per entry and ttl_s less the lead, instead of one per ttl_s and a bit). An entry nobody used since
    # its last read is left to expire (an idle lab makes no calls), and a read that fails is left to
    # expire too: the next request reads it and gets the error.

    # How long before expiry a used entry is read again (at most a tenth of its ttl): a busy lab's reads of
    # one API take 5-30 ms, and a read that comes too late costs only what it did before, an inline read.
    _REFRESH_LEAD_S = 0.05
    _REFRESHER_IDLE_S = 5.0  # the thread ends after this long with nothing to refresh

    def _wake_refresher(self) -> None:
        """Called with the lock held, when an entry becomes used."""
        if self._refresher is None:
            self._refresher = threading.Thread(target=self._refresh_loop, name="config-refresh", daemon=True)
            self._refresher.start()
        else:
            self._refresher_wake.notify()

    def _refresh_loop(self) -> None:
        try:
            while True:
                with self._lock:
                    due = self._wait_for_due_entries()
                    if due is None:  # idle: a request that marks an entry used starts a new thread
                        self._refresher = None
                        return
                    generation = self._generation
                    for _, entry in due:
                        entry.used = False  # requests that use it from now on mark it again
                        entry.pending = threading.Event()
                try:
                    for key, entry in due:
                        started = self.clock()
                        try:
                            value = entry.read()  # type: ignore[misc]
                        except Exception:  # left to expire: the next request reads it and gets the error
                            value = _FAILED
                        with self._lock:
                            current = generation == self._generation and self._cache.get(key) is entry
                            if value is _FAILED:
                                entry.read = None  # not tried again, however busy: it expires
                            elif current:
                                entry.value, entry.read_at = value, started
                            self._end_pending(entry)
                finally:  # a request waiting for one of these reads never waits for good
                    with self._lock:
                        for _, entry in due:
                            self._end_pending(entry)
        finally:
            with self._lock:
                if self._refresher is threading.current_thread():  # ended by an error
                    self._refresher = None

    @staticmethod
    def _end_pending(entry: _Cached) -> None:
        if entry.pending is not None:
            entry.pending.set()
            entry.pending = None

    def _wait_for_due_entries(self) -> list[tuple[tuple[str, ...], _Cached]] | None:
        """The used entries due for a read, once there are some (with the lock held); None after an idle spell."""
        idle_since = time.monotonic()  # real time, whatever the injected clock does
        while True:
            now = self.clock()
            next_due = float("inf")
            due = []
            for key, entry in self._cache.items():
                if not entry.used or entry.read is None or entry.ttl_s == float("inf"):
                    continue
                lead = min(self._REFRESH_LEAD_S, entry.ttl_s / 10)
                refresh_at = entry.read_at + entry.ttl_s - lead
                # Entries due within the lead go in the same round: the reads of one request (its stage,
                # then its function) are due a few ms apart, and each is marked pending at once, so a
                # request that finds one expired waits for the round instead of reading it itself.
                if refresh_at <= now + lead:
                    due.append((key, entry))
                else:
                    next_due = min(next_due, refresh_at)
            if due:
                return due
            if next_due == float("inf"):
                if time.monotonic() - idle_since >= self._REFRESHER_IDLE_S:
                    return None
                self._refresher_wake.wait(self._REFRESHER_IDLE_S)
            else:
                idle_since = time.monotonic()
                # At least a millisecond: an injected clock need not move with real time.
                self._refresher_wake.wait(max(next_due - now, 0.001))

    # --- API Gateway ----------------------------------------------------------------------------------
    def rest_api(self, rest_api_id: str, stage: str) -> RestApiConfig:
        # The clients are looked up inside the reads, not per request: most requests hit the cache.
        def read_stage() -> dict[str, Any]:
            try:
                return self.client("apigateway").get_stage(restApiId=rest_api_id, stageName=stage)
            except ClientError as error:
                raise NotFound(f"No stage {stage!r} of REST API {rest_api_id!r}") from error

        stage_info = self.cached(("stage", rest_api_id, stage), read_stage)
        deployment = str(stage_info.get("deploymentId") or "")

        def read_api() -> RestApiConfig:
            apigateway = self.client("apigateway")
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
            return rest_api_from_boto3(
                api,
                resources,
                authorizers,
                stage_info,
                gateway_responses=responses,
                region=self.backend.region,
            )

        # Keyed by deployment: edits to resources are served only after a new deployment, as on AWS.
        return self.cached(("api", rest_api_id, stage, deployment), read_api, ttl_s=float("inf"))

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
        def read() -> FunctionSpec:
            lambda_client = self.client("lambda")  # here, not per request: most requests hit the cache
            try:
                configuration = lambda_client.get_function_configuration(FunctionName=name_or_arn)
            except ClientError as error:
                raise NotFound(f"Function not found: {name_or_arn}") from error
            try:
                concurrency = lambda_client.get_function_concurrency(FunctionName=name_or_arn)
                reserved = concurrency.get("ReservedConcurrentExecutions")
            except ClientError:
                reserved = None
            return function_spec_from_boto3(
                configuration, reserved, self.backend.region, self.backend.account_id()
            )

        return self.cached(("function", name_or_arn), read)

    def function_code(self, spec: FunctionSpec) -> bytes:
        return self.backend.lambda_code(spec.name)

    def functions(self) -> list[str]:
        return [f["FunctionName"] for f in self.client("lambda").list_functions().get("Functions", [])]

    # --- CloudFront and its S3 origin ----------------------------------------------------------------
    def distribution(self, distribution_id: str) -> DistributionConfig:
        def read() -> DistributionConfig:
            try:
                answer = self.client("cloudfront").get_distribution(Id=distribution_id)
            except ClientError as error:
                raise NotFound(f"No distribution {distribution_id!r}") from error
            return distribution_from_boto3(answer["Distribution"])

        return self.cached(("distribution", distribution_id), read)

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

    def origin_object(self, bucket: str, key: str, conditions: Mapping[str, str]) -> OriginResponse:
        """S3's answer to CloudFront's GetObject, as the origin access control lets CloudFront ask it."""
        s3 = self.client("s3")
        if not key:
            # A request for the bucket itself is a ListObjects, which OAC's policy does not allow: 403.
            return OriginResponse(
                403, {"Content-Type": "application/xml"}, _s3_error("AccessDenied", "Access Denied")
            )
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if conditions.get("If-None-Match"):
            params["IfNoneMatch"] = conditions["If-None-Match"]
        if conditions.get("If-Modified-Since"):
            params["IfModifiedSince"] = conditions["If-Modified-Since"]
        try:
            answer = s3.get_object(**params)
        except ClientError as error:
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500))
            code = error.response.get("Error", {}).get("Code", "")
            if status == 304 or code == "304":
                return OriginResponse(304, {"ETag": conditions.get("If-None-Match", "")})
            if code in ("NoSuchKey", "NoSuchBucket", "404"):
                # With OAC the bucket policy grants CloudFront s3:GetObject only, not s3:ListBucket, so S3
                # answers a missing key with 403 AccessDenied (S3 docs, "GetObject": permissions).
                return OriginResponse(
                    403, {"Content-Type": "application/xml"}, _s3_error("AccessDenied", "Access Denied")
                )
            return OriginResponse(status, {"Content-Type": "application/xml"}, _s3_error(code, str(error)))
        headers = {
            "Content-Type": answer.get("ContentType", "binary/octet-stream"),
            "ETag": answer.get("ETag", ""),
            "Content-Length": str(answer.get("ContentLength", 0)),
            "Server": "AmazonS3",
        }
        if answer.get("CacheControl"):
            headers["Cache-Control"] = answer["CacheControl"]
        if answer.get("Expires"):
            expires = answer["Expires"]
            headers["Expires"] = (
                expires if isinstance(expires, str) else expires.strftime("%a, %d %b %Y %H:%M:%S GMT")
            )
        if answer.get("LastModified"):
            headers["Last-Modified"] = answer["LastModified"].strftime("%a, %d %b %Y %H:%M:%S GMT")
        return OriginResponse(200, headers, answer["Body"].read())

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
        logs = self.client("logs")
        try:
            self._ensure_log_stream(logs, group, stream)
            self._put_log_events(logs, group, stream, events)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            # The group or stream was deleted since. If the function still exists, Lambda creates them
            # again (its role may CreateLogGroup); if it was destroyed, these late lines are dropped, so
            # a torn-down stack is not brought back to life by its last log batch.
            with self._lock:
                self._cache.pop(("log", group), None)
                self._cache.pop(("log", group, stream), None)
            if retry and self._function_exists(group.removeprefix("/aws/lambda/")):
                self.write_logs(group, stream, events, retry=False)

    def _ensure_log_stream(self, logs: Any, group: str, stream: str) -> None:
        for create, params in (
            (logs.create_log_group, {"logGroupName": group}),
            (logs.create_log_stream, {"logGroupName": group, "logStreamName": stream}),
        ):
            key = ("log", *params.values())
            with self._lock:
                known = key in self._cache
            if known:
                continue
            try:
                create(**params)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ResourceAlreadyExistsException":
                    raise
            with self._lock:
                self._cache[key] = _Cached(True, float("inf"))

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


def _s3_error(code: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    ).encode()


def function_spec_from_boto3(
    configuration: Mapping[str, Any], reserved: int | None, region: str, account_id: str
) -> FunctionSpec:
    """A FunctionSpec from get_function_configuration (and get_function_concurrency)."""
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
    )
