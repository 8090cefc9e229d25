"""Fixes to moto, applied where moto runs (the memory backend's process and the local backend's server):
bugs that would make the lab answer differently from AWS, and costs that a lab under load pays for every
log line. Each is a small wrap or replacement of one moto function or class, idempotent.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from . import moto_apigateway_deployments, moto_cognito_srp, moto_lambda_permissions


def apply() -> None:
    from . import (
        moto_cloudfront_lifecycle,
        moto_iam,
        moto_lambda_logging,
        moto_lambda_trust,
        moto_s3_public_access,
    )

    moto_lambda_logging.apply()
    moto_iam.apply()
    moto_lambda_permissions.apply()
    moto_apigateway_deployments.apply()
    moto_lambda_trust.apply()
    moto_s3_public_access.apply()
    moto_cloudfront_lifecycle.apply()
    _keep_identity_validation_expression()
    _parse_json_body_once()
    _slim_log_events()
    _account_default_method_throttling()
    _list_moto_modules_once()
    moto_cognito_srp.apply()


def _keep_identity_validation_expression() -> None:
    """CreateAuthorizer's identityValidationExpression: moto 5.2 passes it to its Authorizer misspelled
    (`identiy_validation_expression`), and the Authorizer reads the other spelling, so the expression a
    learner set with create_authorizer was dropped, and the authorizer ran for tokens API Gateway refuses
    with 401 without calling it. (update_authorizer's patch operation sets it correctly.)"""
    from moto.apigateway import models

    original = models.Authorizer.__init__
    if getattr(original, "_serverless_lab_fix", False):
        return

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        misspelled = kwargs.get("identiy_validation_expression")
        if misspelled and not getattr(self, "identity_validation_expression", None):
            self.identity_validation_expression = misspelled

    __init__._serverless_lab_fix = True  # type: ignore[attr-defined]
    models.Authorizer.__init__ = __init__  # type: ignore[method-assign]


def _parse_json_body_once() -> None:
    """BaseResponse._get_param parses the whole JSON body again for every parameter it is asked for:
    PutLogEvents asks for three, so each log batch the lab ships (up to 10,000 lines) was parsed three
    times, most of what the backend spent on function logs under load. The body is parsed once per
    request here; the answers are the same (the querystring first, then the body, then the URI match)."""
    from moto.core.responses import BaseResponse

    original = BaseResponse._get_param
    if getattr(original, "_serverless_lab_fix", False):
        return

    def _get_param(self: Any, param_name: str, if_none: Any = None) -> Any:
        body = self.body
        if self.automated_parameter_parsing or body is None or self.querystring.get(param_name) is not None:
            return original(self, param_name, if_none)
        parsed = self.__dict__.get("_serverless_lab_json")
        if parsed is None or parsed[0] is not body:  # one instance per request; the body never changes
            try:
                parsed = (body, json.loads(body))
            except (ValueError, TypeError):
                parsed = (body, None)
            self.__dict__["_serverless_lab_json"] = parsed
        try:
            return parsed[1][param_name]
        except (KeyError, TypeError):
            pass
        if self.uri_match:
            try:
                return self.uri_match[param_name]
            except KeyError:
                pass
        return if_none

    _get_param._serverless_lab_fix = True  # type: ignore[attr-defined]
    BaseResponse._get_param = _get_param  # type: ignore[method-assign]


def _slim_log_events() -> None:
    """moto keeps every log line as a LogEvent, a BaseModel: an attribute dict per line, and a reference in
    a list on the class (instances_tracked, which only moto's own /moto-api/data.json reads). A lab under
    load ships four or more lines per request, so function logs are most of what the backend's memory
    grows by (~2 MB per 1,000 requests). The replacement has the same fields and methods in slots, is not
    tracked, and takes a sixth less memory per line (286 -> 238 bytes with a START line, measured with
    tracemalloc)."""
    from moto.logs import models

    original = models.LogEvent
    if getattr(original, "_serverless_lab_fix", False):
        return

    class LogEvent:
        __slots__ = ("event_id", "ingestion_time", "message", "timestamp")
        _serverless_lab_fix = True
        _event_id = original._event_id  # moto numbers events across all streams: go on from there
        _last_timestamp: Any = None

        def __init__(self, ingestion_time: int, log_event: dict[str, Any]) -> None:
            self.ingestion_time = ingestion_time
            timestamp = log_event["timestamp"]
            # Consecutive lines mostly share their millisecond (an invoke's START, output, END and REPORT;
            # under load, several invokes a millisecond): they share one int object too, 32 bytes a line.
            if type(timestamp) is int and timestamp == LogEvent._last_timestamp:
                timestamp = LogEvent._last_timestamp
            else:
                LogEvent._last_timestamp = timestamp
            self.timestamp = timestamp
            self.message = log_event["message"]
            self.event_id = LogEvent._event_id
            LogEvent._event_id += 1

        to_filter_dict = original.to_filter_dict
        to_response_dict = original.to_response_dict

    models.LogEvent = LogEvent  # type: ignore[misc, assignment]


def _account_default_method_throttling() -> None:
    """A stage's method setting made by patching anything (logging, metrics, caching) gets throttling
    limits too. AWS fills in the account's defaults, 10,000 requests a second with a burst of 5,000 (the
    AWS CLI's update-stage example shows them after a dataTrace patch); moto wrote 1,000 and 2,000, so a
    stage that only turned on logging was throttled at a tenth of AWS's rate by the lab's gateway, which
    applies what GetStage says (stage_throttling)."""
    from moto.apigateway.models import Stage

    original = Stage._get_default_method_settings
    if getattr(original, "_serverless_lab_fix", False):
        return

    def _get_default_method_settings(self: Any) -> dict[str, Any]:
        return {**original(self), "throttlingRateLimit": 10000.0, "throttlingBurstLimit": 5000}

    _get_default_method_settings._serverless_lab_fix = True  # type: ignore[attr-defined]
    Stage._get_default_method_settings = _get_default_method_settings  # type: ignore[method-assign]


def _list_moto_modules_once() -> None:
    """moto's server finds the service of every request by first asking whether the Host header names one
    of moto's own packages, and list_of_moto_modules() answers by listing moto's folder and checking each
    of its ~170 entries with a stat() call, on every request: 18% of the server's CPU for a GetItem
    (py-spy, 2-core reference machine). The folder does not change while the server runs; it is listed
    once."""
    from moto import backends

    original = backends.list_of_moto_modules
    if getattr(original, "_serverless_lab_fix", False):
        return

    @functools.cache
    def list_of_moto_modules() -> tuple[str, ...]:
        return tuple(original())

    list_of_moto_modules._serverless_lab_fix = True  # type: ignore[attr-defined]
    backends.list_of_moto_modules = list_of_moto_modules  # type: ignore[assignment]
