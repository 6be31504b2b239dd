"""The matcher service: packages + advisories -> findings."""
