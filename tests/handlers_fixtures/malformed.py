import datetime
import decimal


def handler(event, context):
    kind = event.get("kind", "set")
    if kind == "set":
        return {"tags": {"a", "b"}}
    if kind == "datetime":
        return {"at": datetime.datetime(2025, 1, 1)}
    if kind == "decimal":
        return {"price": decimal.Decimal("12.50"), "count": decimal.Decimal("3")}
    if kind == "none":
        return None
    if kind == "bytes":
        return b"\x00\x01raw"
    return {"kind": kind}
