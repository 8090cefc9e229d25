import logging

logger = logging.getLogger()
logger.setLevel(logging.INFO)
print("init: loading printer")


def handler(event, context):
    print("hello from print")
    print("two\nlines")
    logger.info("info via logging %s", event.get("who", "world"))
    logging.getLogger("child").warning("a warning")
    logger.debug("not shown at INFO")
    return "printed"
