import time


def handler(event, context):
    print("working on it")
    time.sleep(event.get("seconds", 10))
    return "done"
