"""Fixes to moto bugs that would make the lab answer differently from AWS, applied where moto runs (the
memory backend's process and the local backend's server). Each is a small wrap of one moto function,
idempotent, and checks that moto still has the bug it fixes.
"""

from __future__ import annotations

from typing import Any


def apply() -> None:
    _keep_identity_validation_expression()


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
