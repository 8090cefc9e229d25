"""Lambda's LoggingConfig ("advanced logging controls") for moto, which drops it: CreateFunction and
UpdateFunctionConfiguration keep it, and every configuration moto returns (GetFunction,
GetFunctionConfiguration, ListFunctions, versions) carries it, so the data plane can read it back.

What is kept and returned follows the Lambda API reference (LoggingConfig): LogFormat Text or JSON, and
with JSON an ApplicationLogLevel (TRACE, DEBUG, INFO, WARN, ERROR, FATAL) and a SystemLogLevel (DEBUG,
INFO, WARN), both INFO unless set; LogGroup, /aws/lambda/<function name> unless set. A function created
without LoggingConfig answers {"LogFormat": "Text", "LogGroup": "/aws/lambda/<name>"}, as Lambda does.
A request is checked before anything changes: a bad value leaves the function as it was.
"""

from __future__ import annotations

import re
from typing import Any

LOG_FORMATS = ("Text", "JSON")
APPLICATION_LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
SYSTEM_LOG_LEVELS = ("DEBUG", "INFO", "WARN")
_LOG_GROUP = re.compile(r"[\.\-_/#A-Za-z0-9]{1,512}")
# The attribute moto's LambdaFunction gets; deep copies (published versions) take it along.
_ATTRIBUTE = "serverless_lab_logging_config"


def _enum_error(value: Any, member: str, allowed: tuple[str, ...]) -> Exception:
    from moto.awslambda.exceptions import ValidationException

    # Lambda's (Coral) validation message: "1 validation error detected: Value 'XML' at
    # 'loggingConfig.logFormat' failed to satisfy constraint: Member must satisfy enum value set: [...]".
    return ValidationException(
        value, f"loggingConfig.{member}", f"Member must satisfy enum value set: [{', '.join(allowed)}]"
    )


def merged_logging_config(current: dict[str, Any] | None, given: Any, function_name: str) -> dict[str, Any]:
    """The LoggingConfig after a request that gives `given` (None: not given), or the error Lambda answers.

    Fields not given keep their value, as with UpdateFunctionConfiguration's other settings; levels apply
    to JSON only, and switching to Text drops them.
    """
    from moto.awslambda.exceptions import InvalidParameterValueException

    config = dict(current or {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function_name}"})
    if given is None:
        return config
    if not isinstance(given, dict):
        raise InvalidParameterValueException("LoggingConfig must be a structure.")
    log_format = given.get("LogFormat", config.get("LogFormat", "Text"))
    if log_format not in LOG_FORMATS:
        raise _enum_error(log_format, "logFormat", LOG_FORMATS)
    for member, allowed in (
        ("ApplicationLogLevel", APPLICATION_LOG_LEVELS),
        ("SystemLogLevel", SYSTEM_LOG_LEVELS),
    ):
        if member in given and given[member] not in allowed:
            raise _enum_error(given[member], member[0].lower() + member[1:], allowed)
    if log_format == "Text" and ("ApplicationLogLevel" in given or "SystemLogLevel" in given):
        # Lambda's answer (as LocalStack reproduces it; CloudFormation users quote it with "Json").
        raise InvalidParameterValueException(
            'LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from your request or '
            'change the LogFormat to "JSON" and try again.'
        )
    log_group = given.get("LogGroup", config.get("LogGroup"))
    if not isinstance(log_group, str) or not _LOG_GROUP.fullmatch(log_group):
        raise InvalidParameterValueException(
            f"LogGroup {log_group!r} is not a valid log group name: 1-512 characters of letters, digits and "
            "'_', '-', '/', '.', '#'."
        )
    config = {"LogFormat": log_format, "LogGroup": log_group}
    if log_format == "JSON":
        previous = current or {}
        for member in ("ApplicationLogLevel", "SystemLogLevel"):
            config[member] = given.get(member, previous.get(member, "INFO"))
    return config


def apply() -> None:
    from moto.awslambda import models

    function_class = models.LambdaFunction
    if getattr(function_class.__init__, "_serverless_lab_fix", False):
        return
    original_init = function_class.__init__
    original_update = function_class.update_configuration
    original_get = function_class.get_configuration

    def __init__(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        # Checked first: a bad LoggingConfig creates nothing.
        config = merged_logging_config(None, spec.get("LoggingConfig"), spec.get("FunctionName", ""))
        original_init(self, account_id, spec, *args, **kwargs)
        setattr(self, _ATTRIBUTE, config)

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        # Checked first, kept only once moto's own update went through (it may refuse, e.g. a missing layer).
        config = merged_logging_config(
            getattr(self, _ATTRIBUTE, None), config_updates.get("LoggingConfig"), self.function_name
        )
        answer = original_update(self, config_updates)
        setattr(self, _ATTRIBUTE, config)
        answer["LoggingConfig"] = dict(config)
        return answer

    def get_configuration(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        configuration = original_get(self, *args, **kwargs)
        configuration["LoggingConfig"] = dict(
            getattr(self, _ATTRIBUTE, None) or merged_logging_config(None, None, self.function_name)
        )
        return configuration

    for replacement in (__init__, update_configuration, get_configuration):
        replacement._serverless_lab_fix = True  # type: ignore[attr-defined]
    function_class.__init__ = __init__  # type: ignore[method-assign]
    function_class.update_configuration = update_configuration  # type: ignore[method-assign]
    function_class.get_configuration = get_configuration  # type: ignore[method-assign]
