"""Harbor's Pluggable Scanner Adapter API (spec v1.1/v1.2): request checks, reports, pull authorization.

``spec`` holds the media types, the metadata document and the checked
``ScanRequest``; ``report`` turns an image's findings into Harbor's
vulnerability report; ``authorization`` seals Harbor's short-lived pull
authorization for the fetcher. The HTTP routes are ``services/api/harbor.py``.
"""
