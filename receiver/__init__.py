"""The aiohttp receiver: verify, validate, enqueue. It imports nothing from worker/."""
