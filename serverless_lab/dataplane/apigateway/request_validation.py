"""Request validation of a REST API method, before its integration runs, as API Gateway does it.

From the developer guide ("Request validation for REST APIs in API Gateway"):

- A method with a request validator (requestValidatorId) is checked by it; without one, nothing is.
- validateRequestParameters: every request parameter the method marks required
  (`method.request.querystring.<name>`, `method.request.header.<name>`, `method.request.path.<name>`) must
  be present and not blank, else 400 `{"message": "Missing required request parameters: [<names>]"}`.
- validateRequestBody: the body must be valid against the method's model for the request's Content-Type
  (the `$default` model when none matches; no model, no check), a JSON Schema draft 4 document. Else 400
  `{"message": "Invalid request body"}`; the reasons are in `$context.error.validationErrorString`.

Why the jsonschema library: API Gateway models are JSON Schema draft 4, which it implements completely.
Departures: the reasons are worded by jsonschema, not by API Gateway's validator; a model that refers to
another model ($ref to a model URL) is not resolved, so such a reference fails validation.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from serverless_lab.dataplane.apigateway.errors import BadRequestBody, BadRequestParameters
from serverless_lab.dataplane.apigateway.model import MethodConfig, RestApiConfig
from serverless_lab.dataplane.apigateway.request_parameters import parameter_value, reads
from serverless_lab.dataplane.http import HttpRequest

__all__ = ["validate_request"]


def validate_request(
    request: HttpRequest, api: RestApiConfig, method: MethodConfig, path_parameters: dict[str, str]
) -> None:
    """Raises BadRequestParameters or BadRequestBody as the method's request validator would answer."""
    validator = api.request_validators.get(method.request_validator_id or "")
    if validator is None:
        return
    validate_body, validate_parameters = validator
    if validate_parameters:
        # In the order of the parameters' full names (headers, then path, then query string), as AWS lists
        # them (LocalStack's test_apigateway_common snapshot, recorded against AWS).
        missing = [
            name.rsplit(".", 1)[-1]
            for name, required in sorted(method.request_parameters.items())
            if required
            and reads(name)  # a kind the lab does not read (multivalue...) is not reported missing
            and not (parameter_value(request, name, path_parameters=path_parameters) or "").strip()
        ]
        if missing:
            raise BadRequestParameters(missing)
    if validate_body:
        content_type = (request.header("Content-Type") or "application/json").split(";")[0].strip().lower()
        models = {key.lower(): name for key, name in method.request_models.items()}
        model = models.get(content_type) or models.get("$default")
        if model is not None:
            errors = _body_errors(api.models.get(model, "{}"), request.body)
            if errors:
                raise BadRequestBody(errors)


@functools.lru_cache(maxsize=256)
def _validator(schema: str) -> Any:
    # Imported here, on the first body to validate: jsonschema and the metaschemas it loads add ~25 MB to
    # a process, and most APIs have no request validator.
    import jsonschema

    document = json.loads(schema)
    jsonschema.Draft4Validator.check_schema(document)
    return jsonschema.Draft4Validator(document)


def _body_errors(schema: str, body: bytes) -> list[str]:
    try:
        document: Any = json.loads(body or b"null")
    except ValueError as error:
        return [f"the body is not JSON: {error}"]
    try:
        validator = _validator(schema)
    except Exception as error:  # not JSON, or not a JSON Schema (jsonschema.SchemaError)
        return [f"the model is not a valid JSON Schema: {error}"]
    return [error.message for error in validator.iter_errors(document)]
