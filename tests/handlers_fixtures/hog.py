def handler(event, context):
    blocks = [bytearray(1024 * 1024) for _ in range(event.get("mb", 512))]
    return {"allocated_mb": len(blocks)}
