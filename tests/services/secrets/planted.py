"""Secrets planted in test images, built at run time from random parts (the repo holds none).

``Planted.values()`` lists every raw value; the no-leak test searches for them
(and their base64 forms) everywhere the pipeline writes.
"""

from __future__ import annotations

import base64
import random
import string
from dataclasses import dataclass

ALNUM = string.ascii_letters + string.digits
B32 = string.ascii_uppercase + "234567"
B64 = ALNUM + "+/"


@dataclass(frozen=True)
class Planted:
    """One set of random secrets."""

    aws_key_id: str
    aws_secret: str
    github: str
    private_key: str
    db_password: str
    npm_token: str

    @classmethod
    def make(cls, seed: int) -> "Planted":
        r = random.Random(seed)

        def rnd(n: int, alphabet: str = ALNUM) -> str:
            return "".join(r.choice(alphabet) for _ in range(n))

        body = "\n".join(rnd(64, B64) for _ in range(6))
        label = "RSA " + "PRIVATE KEY"
        return cls(
            aws_key_id="AK" + "IA" + rnd(16, B32),
            aws_secret=rnd(40, B64),
            github="gh" + "p_" + rnd(36),
            private_key=f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n",
            db_password=rnd(22),
            npm_token="np" + "m_" + rnd(36),
        )

    def values(self) -> list[str]:
        """Every raw value, the private key's body lines included."""
        key_lines = [line for line in self.private_key.splitlines() if not line.startswith("-----")]
        return [self.aws_key_id, self.aws_secret, self.github, self.db_password, self.npm_token, *key_lines]

    def needles(self) -> list[str]:
        """What must never appear: raw values and their base64 (standard and URL-safe) forms."""
        out = []
        for v in self.values():
            out.append(v)
            for enc in (base64.b64encode, base64.urlsafe_b64encode):
                out.append(enc(v.encode()).decode().rstrip("="))
        return out

    def env_file(self) -> bytes:
        return (f"AWS_ACCESS_KEY_ID={self.aws_key_id}\n"
                f"AWS_SECRET_ACCESS_KEY={self.aws_secret}\nREGION=eu-west-1\n").encode()

    def history(self) -> list[str]:
        """``created_by`` lines: a build-arg token and a remote script piped into a shell."""
        return [f"RUN |1 NPM_TOKEN={self.npm_token} /bin/sh -c npm ci",
                "RUN /bin/sh -c curl -fsSL https://get.example.invalid/install.sh | sh"]
