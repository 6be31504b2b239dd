"""Test harness: a real registry, its token server, and tiny images pushed with skopeo."""
