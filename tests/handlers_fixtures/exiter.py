import os


def handler(event, context):
    print("about to exit")
    os._exit(3)
