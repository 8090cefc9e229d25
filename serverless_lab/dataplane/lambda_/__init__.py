"""AWS Lambda: running functions, the Invoke API and the logs they write.

(Named ``lambda_`` because ``lambda`` is a Python keyword.) What lives here, as Lambda behaves:

- ``runtime/``: execution environments (separate processes forked from a warm template), cold and warm
  starts, timeouts, concurrency and throttling, START/END/REPORT lines and the JSON log format;
- ``invoke_api.py``: Lambda's Invoke API (``/2015-03-31/functions/<name>/invocations``) with its status
  codes and errors, for any boto3 client pointed at the data plane;
- ``log_shipping.py`` and ``log_events_body.py``: the logs reach CloudWatch Logs in the background,
  after the answer, as on Lambda.
"""
