"""FunctionSpec: the configuration of one function version, as plain values, checked like Lambda checks it.

dataplane/config.py fills it from `get_function_configuration` and `get_function_concurrency`;
tests build it by hand. Bounds and messages follow the Lambda API reference (CreateFunction,
UpdateFunctionConfiguration: MemorySize 128-10240, Timeout 1-900, Handler `[^\\s]+` up to 128 characters,
environment keys `[a-zA-Z]([a-zA-Z0-9_])+`, reserved keys refused).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from serverless_lab.dataplane.lambda_.runtime.errors import (
    InvalidParameterValueException,
    InvalidRuntimeException,
    ValidationException,
)

_FUNCTION_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_HANDLER = re.compile(r"[^\s]{1,128}")
_ENV_KEY = re.compile(r"[a-zA-Z][a-zA-Z0-9_]+")
_VERSION = re.compile(r"\$LATEST|[0-9]{1,10}")
_PYTHON_RUNTIME = re.compile(r"python3\.[0-9]+")
# A layer version ARN (Lambda API reference, LayerVersionArn pattern).
_LAYER_VERSION_ARN = re.compile(r"arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+")
MAX_LAYERS = 5  # "You can add up to five layers to a function" (Lambda quotas)
# LoggingConfig (Lambda API reference): the log format, and the levels that apply with JSON only.
LOG_FORMATS = ("Text", "JSON")
APPLICATION_LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
SYSTEM_LOG_LEVELS = ("DEBUG", "INFO", "WARN")

# "Defined runtime environment variables" (Lambda developer guide, configuration-envvars): the reserved ones
# cannot be set by the function's configuration; Lambda refuses them with the message below.
RESERVED_ENVIRONMENT_KEYS = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)


def _constraint(value: Any, member: str, constraint: str) -> ValidationException:
    # Lambda's (Coral) validation message, word for word.
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    )


@dataclass(frozen=True)
class LayerSpec:
    """One layer version of a function: its ARN and the CodeSha256 of its content."""

    arn: str
    code_sha256: str


@dataclass(frozen=True, kw_only=True)
class FunctionSpec:
    """One function version's configuration: what decides how its execution environments are built."""

    name: str
    arn: str
    runtime: str
    handler: str
    code_sha256: str
    version: str = "$LATEST"
    memory_mb: int = 128
    timeout_s: float = 3.0
    environment: Mapping[str, str] = field(default_factory=dict)
    reserved_concurrency: int | None = None
    region: str = "us-east-1"
    account_id: str = "123456789012"
    # In the order Lambda extracts them into /opt: a later layer's files replace an earlier one's.
    layers: tuple[LayerSpec, ...] = ()
    # LoggingConfig: "Text" or "JSON"; with JSON, the levels below which Lambda drops the function's own
    # log records (application) and its platform records (system); the log group, /aws/lambda/<name> if None.
    log_format: str = "Text"
    application_log_level: str | None = None
    system_log_level: str | None = None
    log_group: str | None = None
    # The execution role's ARN (CreateFunction's Role): the environments run as a session of it.
    role: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _FUNCTION_NAME.fullmatch(self.name):
            raise _constraint(
                self.name, "functionName", "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+"
            )
        if not isinstance(self.version, str) or not _VERSION.fullmatch(self.version):
            raise _constraint(
                self.version, "qualifier", "Member must satisfy regular expression pattern: $LATEST|[0-9]+"
            )
        if not isinstance(self.runtime, str) or not _PYTHON_RUNTIME.fullmatch(self.runtime):
            raise InvalidRuntimeException(
                f"The runtime parameter of {self.runtime} is not supported by the local runtime: "
                "serverless-lab runs python3.x functions only."
            )
        if not isinstance(self.handler, str) or not _HANDLER.fullmatch(self.handler):
            raise _constraint(
                self.handler, "handler", r"Member must satisfy regular expression pattern: [^\s]+"
            )
        self._check_int("memorySize", self.memory_mb, 128, 10240)
        if (
            isinstance(self.timeout_s, bool)
            or not isinstance(self.timeout_s, int | float)
            or not 1 <= self.timeout_s <= 900
        ):
            bound = "greater than or equal to 1" if _below(self.timeout_s, 1) else "less than or equal to 900"
            raise _constraint(self.timeout_s, "timeout", f"Member must have value {bound}")
        if self.reserved_concurrency is not None and (
            isinstance(self.reserved_concurrency, bool)
            or not isinstance(self.reserved_concurrency, int)
            or self.reserved_concurrency < 0
        ):
            raise _constraint(
                self.reserved_concurrency,
                "reservedConcurrentExecutions",
                "Member must have value greater than or equal to 0",
            )
        try:
            digest = base64.b64decode(self.code_sha256, validate=True)
        except (binascii.Error, TypeError, ValueError):
            digest = b""
        if len(digest) != 32:
            raise InvalidParameterValueException(
                f"CodeSha256 {self.code_sha256!r} is not the base64 of a sha256 digest."
            )
        self._check_environment()
        object.__setattr__(self, "environment", dict(self.environment))
        self._check_layers()
        self._check_logging()

    @staticmethod
    def _check_int(member: str, value: Any, low: int, high: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _constraint(value, member, "Member must be an integer")
        if value < low:
            raise _constraint(value, member, f"Member must have value greater than or equal to {low}")
        if value > high:
            raise _constraint(value, member, f"Member must have value less than or equal to {high}")

    def _check_environment(self) -> None:
        if not isinstance(self.environment, Mapping):
            raise InvalidParameterValueException("Environment variables must be a map of strings to strings.")
        for key, value in self.environment.items():
            if not isinstance(key, str) or not _ENV_KEY.fullmatch(key) or not isinstance(value, str):
                raise _constraint(
                    "[sensitive]",
                    "environment.variables",
                    "Member must satisfy map keys constraint: [Member must satisfy regular expression "
                    "pattern: [a-zA-Z]([a-zA-Z0-9_])+] and values of type string",
                )
        reserved = sorted(key for key in self.environment if key in RESERVED_ENVIRONMENT_KEYS)
        if reserved:
            raise InvalidParameterValueException(
                "Lambda was unable to configure your environment variables because the environment "
                "variables you have provided contains reserved keys that are currently not supported for "
                f"modification. Reserved keys used in this request: {','.join(reserved)}"
            )

    def _check_layers(self) -> None:
        layers = tuple(self.layers)
        if len(layers) > MAX_LAYERS:
            raise InvalidParameterValueException(
                f"A function can use at most {MAX_LAYERS} layers (Lambda quota); this one lists {len(layers)}."
            )
        for layer in layers:
            if not isinstance(layer, LayerSpec) or not _LAYER_VERSION_ARN.fullmatch(layer.arn):
                arn = getattr(layer, "arn", layer)
                raise _constraint(
                    arn,
                    "layers",
                    "Member must satisfy constraint: [Member must satisfy regular expression pattern: "
                    f"{_LAYER_VERSION_ARN.pattern}]",
                )
        object.__setattr__(self, "layers", layers)

    def _check_logging(self) -> None:
        if self.log_format not in LOG_FORMATS:
            raise _constraint(
                self.log_format,
                "loggingConfig.logFormat",
                f"Member must satisfy enum value set: [{', '.join(LOG_FORMATS)}]",
            )
        for member, value, allowed in (
            ("applicationLogLevel", self.application_log_level, APPLICATION_LOG_LEVELS),
            ("systemLogLevel", self.system_log_level, SYSTEM_LOG_LEVELS),
        ):
            if value is not None and value not in allowed:
                raise _constraint(
                    value,
                    f"loggingConfig.{member}",
                    f"Member must satisfy enum value set: [{', '.join(allowed)}]",
                )
        if self.log_group is not None and (not isinstance(self.log_group, str) or not self.log_group):
            raise InvalidParameterValueException(f"LogGroup {self.log_group!r} is not a log group name.")
        if self.log_format == "JSON":  # Lambda's defaults for the levels of the JSON format
            object.__setattr__(self, "application_log_level", self.application_log_level or "INFO")
            object.__setattr__(self, "system_log_level", self.system_log_level or "INFO")
        elif self.application_log_level is not None or self.system_log_level is not None:
            raise InvalidParameterValueException(
                'LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from your request '
                'or change the LogFormat to "JSON" and try again.'
            )

    @property
    def json_logs(self) -> bool:
        return self.log_format == "JSON"

    @property
    def log_group_name(self) -> str:
        return self.log_group or f"/aws/lambda/{self.name}"

    @property
    def custom_log_group(self) -> bool:
        """Whether LoggingConfig names a log group other than the function's own /aws/lambda/<name>."""
        return self.log_group_name != f"/aws/lambda/{self.name}"

    @property
    def execution_env(self) -> str:
        """AWS_EXECUTION_ENV, e.g. AWS_Lambda_python3.12."""
        return f"AWS_Lambda_{self.runtime}"

    def configuration_key(self) -> tuple[Any, ...]:
        """What makes environments reusable: a change here means new environments (old ones retire)."""
        return (
            self.arn,
            self.version,
            self.code_sha256,
            self.runtime,
            self.handler,
            self.memory_mb,
            float(self.timeout_s),
            tuple(sorted(self.environment.items())),
            self.region,
            self.account_id,
            self.layers,
            self.log_format,
            self.application_log_level,
            self.system_log_level,
            self.log_group,
            self.role,
        )


def _below(value: Any, bound: float) -> bool:
    return isinstance(value, int | float) and value < bound
