"""Alerts for chat channels: what a message says, where it goes, how it is sent.

``alert`` builds one ``Alert`` per image event; ``norepeat`` drops what was
already alerted for a repository and tag; ``rules`` holds the validated
channel and route tables and ``routing`` picks the channels and filters per
route; ``channels`` renders an alert for one chat service within
its documented limits; ``delivery`` posts a rendered request and classifies
the outcome for the dispatcher's retries. Nothing here does I/O at import time.
"""
