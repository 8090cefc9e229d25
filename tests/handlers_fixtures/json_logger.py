import json
import logging

logger = logging.getLogger()  # its level is the runtime's: nothing here sets one
print("init: json_logger")


def handler(event, context):
    print("plain print")
    print(json.dumps({"level": "DEBUG", "message": "a DEBUG line printed as JSON"}))
    logger.debug("debug record")
    logger.info("info record", extra={"orderId": 7})
    logger.warning("warning record")
    if event.get("raise"):
        raise ValueError("boom")
    return "logged"
