calls = 0


class OrderRejected(Exception):
    pass


def handler(event, context):
    global calls
    calls += 1
    if event.get("raise", True):
        raise OrderRejected(f"order {event.get('order', 42)} rejected")
    return {"calls": calls}
