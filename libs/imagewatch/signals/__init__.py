"""Exploitation signals about CVEs, beside the advisories: CISA KEV and FIRST EPSS (``kev``, ``epss``)."""
