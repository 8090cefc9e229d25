"""API Gateway's names for the parts of a request, read from an `HttpRequest`.

`method.request.header.<name>`, `method.request.querystring.<name>`, `method.request.path.<name>` and
`stageVariables.<name>` name a request parameter wherever API Gateway lets a setting refer to one: an
authorizer's identity sources, a method's required parameters, a gateway response's header values.
Other sources (`context.*`, `method.request.multivalue*`) are not read by the lab.
"""

from __future__ import annotations

from collections.abc import Mapping

from serverless_lab.dataplane.http import HttpRequest

__all__ = ["parameter_value", "reads"]

_HEADER = "method.request.header."
_QUERY = "method.request.querystring."
_PATH = "method.request.path."
_STAGE_VARIABLE = "stageVariables."


def reads(source: str) -> bool:
    """Whether the lab reads this kind of source (the others are skipped, never reported missing)."""
    return source.startswith((_HEADER, _QUERY, _PATH, _STAGE_VARIABLE))


def parameter_value(
    request: HttpRequest,
    source: str,
    *,
    path_parameters: Mapping[str, str] | None = None,
    stage_variables: Mapping[str, str] | None = None,
) -> str | None:
    """The value `source` names in this request (the first one of a repeated header or query parameter),
    None when the request has none or the lab does not read that kind of source."""
    if source.startswith(_HEADER):
        return request.header(source.removeprefix(_HEADER))
    if source.startswith(_QUERY):
        name = source.removeprefix(_QUERY)
        return next((value for key, value in request.query_pairs() if key == name), None)
    if source.startswith(_PATH):
        return (path_parameters or {}).get(source.removeprefix(_PATH))
    if source.startswith(_STAGE_VARIABLE):
        return (stage_variables or {}).get(source.removeprefix(_STAGE_VARIABLE))
    return None
