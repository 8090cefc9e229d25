import time

started = 0


def handler(event, context):
    global started
    started += 1
    time.sleep(event.get("seconds", 10))
    return {"slept": event.get("seconds", 10), "started": started}
