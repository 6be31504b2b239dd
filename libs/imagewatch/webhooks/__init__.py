"""Registry webhook payloads normalised to one :class:`~imagewatch.messages.PushEvent`.

One module per registry format, each a ``WebhookSource`` listed in ``registry.py``.
"""
