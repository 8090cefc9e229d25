"""The local data plane: the traffic moto stores configuration for but does not serve.

One subpackage per AWS service the lab serves, each a set of pure cores (plain dataclasses in, plain
answers out, no boto3) with AWS's own error answers beside them:

- ``apigateway/``: REST API stages: routing, the Lambda proxy event, Cognito and Lambda authorizers,
  request validation, usage plans and throttling, API Gateway's error answers.
- ``cloudfront/``: distributions: the edge cache and its TTLs, origin reads from S3, compression, range
  requests, custom error responses, CloudFront's error answers.
- ``cognito/``: Cognito user pools for the browser: CORS preflights and headers as Cognito's endpoint
  answers them, and the pass-through of its operations to the backend.
- ``lambda_/``: functions: execution environments (``runtime/``), Lambda's Invoke API, function logs
  shipped to CloudWatch Logs.
- ``iam/``: IAM policy evaluation, the one home shared by the gateway, the edge and the runtime.

The shared modules sit at the top: ``service.py`` (the data plane as one object, ``handle(request)``),
``server.py`` and ``http.py`` (the HTTP front end on loopback), ``config.py`` and ``config_cache.py`` (the
only reader of the control plane: configuration comes back from the backend with boto3) and
``cpu_placement.py`` (which CPUs the server and the environments use).
"""
