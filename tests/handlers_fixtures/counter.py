"""Module-level state: survives warm invokes of one environment, never shared between environments."""

import os
import uuid

ENVIRONMENT_TOKEN = uuid.uuid4().hex
count = 0


def handler(event, context):
    global count
    count += 1
    if event.get("sleep"):
        import time

        time.sleep(event["sleep"])
    return {"count": count, "token": ENVIRONMENT_TOKEN, "pid": os.getpid()}
