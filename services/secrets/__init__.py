"""The secrets service: secrets and misconfigurations of each fetched image, stored redacted."""
