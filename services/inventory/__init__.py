"""The inventory service: every OS and language package of each fetched image."""
