"""API Gateway (REST APIs, Lambda proxy integration format 1.0), served from the stages' configuration.

What lives here, as API Gateway behaves:

- ``model.py``: a REST API as the control plane describes it (resources, methods, integrations,
  authorizers, models, gateway responses, stage settings), read once into frozen dataclasses;
- ``routing.py``: resource paths with ``{param}`` and ``{proxy+}``, and 403 Missing Authentication Token
  where nothing matches;
- ``proxy_event.py``: the event a proxy integration passes to Lambda;
- ``cognito_authorizer.py``: the COGNITO_USER_POOLS authorizer (RS256 signatures against the pool's
  JWKS, issuer, audience, expiry); ``lambda_authorizer.py``: TOKEN and REQUEST authorizers, their policies
  and their cache;
- ``request_parameters.py`` and ``request_validation.py``: a method's request validator;
- ``usage_plans.py``, ``stage_throttling.py`` and ``token_buckets.py``: API keys, quotas and throttles;
- ``errors.py``: API Gateway's own answers (403, 401, 429, 502, ...), word for word;
- ``gateway.py``: the gateway core that puts these together, ``Gateway.handle(request)``.
"""
