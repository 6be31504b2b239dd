"""The planted image used by the service tests: layers, config and the findings expected."""

from __future__ import annotations

from harness.images import ImageSpec

from .planted import Planted

CLEAN_SETTINGS = b"DEBUG = False\nTOKEN = None\n"


def layers(p: Planted) -> list[dict]:
    """Base (a setuid binary that is fine there), secrets and misconfigurations, then deletions."""
    return [
        {"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n",
         "bin/su": (b"#!/bin/sh\nexit 0\n", 0o4755)},
        {"etc/app.env": p.env_file(),
         "app/token.txt": f"token: {p.github}\n",
         "app/settings.py": f"GITHUB_TOKEN = '{p.github}'\n",
         "root/.ssh/id_rsa": (p.private_key, 0o600),
         "usr/local/bin/helper": (b"#!/bin/sh\nexit 0\n", 0o4755),
         "etc/app.conf": (b"listen=0.0.0.0\n", 0o666),
         "var/cache/apt/archives/curl_8.5.0_amd64.deb": b"!<arch>\ndebian-binary\n"},
        {"app/token.txt": None,
         "app/settings.py": CLEAN_SETTINGS},
    ]


def spec(p: Planted) -> ImageSpec:
    """Root user, SSH port exposed, a secret-named Env."""
    return ImageSpec(layers=layers(p), env={"PATH": "/usr/bin:/bin", "DB_PASSWORD": p.db_password},
                     exposed_ports=["22/tcp", "8080/tcp"], cmd=["/app/run"])


def patch_history(p: Planted):
    """A config patch adding the planted build history."""
    def patch(config: dict) -> None:
        config.setdefault("history", [])
        config["history"] += [{"created_by": line, "empty_layer": True} for line in p.history()]
    return patch
