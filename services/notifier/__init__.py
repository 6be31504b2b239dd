"""The notifier service: ``iw.findings`` + ``iw.secrets`` → one alert per image event → chat channels.

``settings`` reads the ``[notifier]`` configuration, ``events`` turns stage
messages into outbox rows (the decision and its messages in one
transaction), and ``imagewatch.notify.dispatcher`` delivers them; ``main``
wires the two together.
"""
