"""Fixes to moto, applied where moto runs (the memory backend's process and the local backend's server):
bugs that would make the lab answer differently from AWS, and one cost that a lab under load pays on
every log batch. Each is a small wrap of one moto function, idempotent.
"""

from __future__ import annotations

import json
from typing import Any


def apply() -> None:
    _keep_identity_validation_expression()
    _parse_json_body_once()


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
