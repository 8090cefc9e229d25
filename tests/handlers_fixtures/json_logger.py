import json
import logging
from decimal import Decimal

logger = logging.getLogger()  # its level is the runtime's: nothing here sets one
print("init: json_logger")
logger.info("init record")


def handler(event, context):
    if event.get("formatter"):  # the usual way to change how the runtime's handler writes records
        logger.handlers[0].setFormatter(logging.Formatter("CUSTOM %(levelname)s %(message)s"))
    if event.get("decimal_extra"):  # a value the standard JSON encoder cannot write
        logger.info("price", extra={"amount": Decimal("1.50")})
    print("plain print")
    print(json.dumps({"level": "DEBUG", "message": "a DEBUG line printed as JSON"}))
    logger.debug("debug record")
    logger.info("info record", extra={"orderId": 7})
    logger.warning("warning record")
    if event.get("raise"):
        raise ValueError("boom")
    return "logged"
