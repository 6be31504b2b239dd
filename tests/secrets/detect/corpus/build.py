"""The second labelled secrets corpus: generated tokens, contextual credentials, look-alikes.

See README.md beside this file for the provenance of each kind of case. Cases
are built at run time from a seeded generator and from files of the installed
packages, so the corpus is the same on every run of one environment.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import string
import sysconfig
import uuid as uuidlib
import zlib
from dataclasses import dataclass
from pathlib import Path

ALNUM = string.ascii_letters + string.digits
UPPER = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
TOK = ALNUM + "_-"
FAMILIES = ("provider", "contextual", "private-key", "generic")
# Packages of the venv whose sources are searched for look-alikes (tests and fixtures included), and a bound.
HARVEST_PACKAGES = ("cryptography", "aiohttp", "pip/_vendor", "jsonschema", "asyncpg", "docker", "msgspec", "idna")
MAX_HARVEST_FILES = 600


@dataclass(frozen=True)
class Case:
    """One labelled text: ``family`` of rules it exercises, ``secret`` the label, where it came from."""

    family: str
    secret: bool
    name: str
    text: str
    provenance: str


class _Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def s(self, n: int, alphabet: str = ALNUM) -> str:
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def uuid(self) -> str:
        return str(uuidlib.UUID(int=self.r.getrandbits(128), version=4))

    def pick(self, items):
        return self.r.choice(items)


def _b62(n: int) -> str:
    out = ""
    while n:
        n, d = divmod(n, 62)
        out = (string.digits + string.ascii_uppercase + string.ascii_lowercase)[d] + out
    return out.rjust(6, "0")


def _github(g: _Gen, prefix: str) -> str:
    body = g.s(30)
    return prefix + body + _b62(zlib.crc32(body.encode()))


CONTEXTS = (
    "{key}={value}\n",
    "export {key}=\"{value}\"\n",
    "  {key}: {value}\n",
    '{{"{key}": "{value}"}}\n',
    "ENV {key}={value}\n",
    "{key} = '{value}'\n",
)


def _provider_tokens(g: _Gen) -> list[tuple[str, str]]:
    """(env name, token) in each provider's documented format."""
    return [
        ("AWS_ACCESS_KEY_ID", "AKIA" + g.s(16, UPPER)),
        ("GITHUB_TOKEN", _github(g, "ghp_")),
        ("GH_TOKEN", _github(g, "gho_")),
        ("GITHUB_PAT", "github_pat_" + g.s(22) + "_" + g.s(59)),
        ("GITLAB_TOKEN", "glpat-" + g.s(20, TOK)),
        ("SLACK_BOT_TOKEN", f"xoxb-{g.s(12, string.digits)}-{g.s(13, string.digits)}-{g.s(24)}"),
        ("SLACK_CONFIG_TOKEN", "xoxe.xoxp-1-" + g.s(160, UPPER)),
        ("SLACK_REFRESH", "xoxe-1-" + g.s(146)),
        ("STRIPE_SECRET_KEY", "sk_live_" + g.s(99)),
        ("STRIPE_RESTRICTED_KEY", "rk_live_" + g.s(99)),
        ("SNYK_TOKEN", g.uuid()),
        ("BUNDLE_ENTERPRISE__CONTRIBSYS__COM", g.s(8, HEX) + ":" + g.s(8, HEX)),
        ("SONAR_TOKEN", "squ_" + g.s(40, HEX)),
        ("SONAR_PROJECT_TOKEN", "sqp_" + g.s(40, HEX)),
        ("FLY_API_TOKEN", "fm2_" + g.s(180, B64)),
        ("FLY_ORG_TOKEN", "fo1_" + g.s(43, TOK)),
        ("SUMO_ACCESS_KEY", g.s(64)),
        ("OP_SERVICE_ACCOUNT_TOKEN", "ops_eyJ" + g.s(320, B64)),
        ("OP_SECRET_KEY", "A3-" + g.s(6, UPPER) + "-" + g.s(11, UPPER) + "-" + "-".join(g.s(5, UPPER) for _ in range(3))),
        ("FB_PAGE_ACCESS_TOKEN", "EAAG" + g.s(190)),
        ("FACEBOOK_APP_TOKEN", g.s(16, string.digits) + "|" + g.s(27, TOK)),
        ("FT_CLIENT_SECRET", "s-s4t2ud-" + g.s(64, HEX)),
        ("SRC_ACCESS_TOKEN", "sgp_" + g.s(16, HEX) + "_" + g.s(40, HEX)),
        ("AWS_BEARER_TOKEN_BEDROCK", "ABSKQmVkcm9ja0FQSUtleS" + g.s(132, B64)),
        ("CLOUDFLARE_API_KEY", g.s(37, HEX)),
        ("CLOUDFLARE_API_TOKEN", g.s(40, TOK)),
        ("MESSAGEBIRD_ACCESS_KEY", g.s(25)),
        ("OPENSHIFT_TOKEN", "sha256~" + g.s(43, TOK)),
        ("NPM_TOKEN", "npm_" + g.s(36)),
        ("HF_TOKEN", "hf_" + g.s(34)),
        ("GOOGLE_API_KEY", "AIza" + g.s(35, TOK)),
        ("OPENAI_API_KEY", "sk-proj-" + g.s(20) + "T3BlbkFJ" + g.s(20)),
        ("ANTHROPIC_API_KEY", "sk-ant-api03-" + g.s(93, TOK) + "AA"),
        ("VAULT_TOKEN", "hvs." + g.s(90, TOK)),
        ("SENDGRID_API_KEY", "SG." + g.s(22, TOK) + "." + g.s(43, TOK)),
        ("DOCKERHUB_TOKEN", "dckr_pat_" + g.s(27, TOK)),
        ("PULUMI_ACCESS_TOKEN", "pul-" + g.s(40, HEX)),
        ("DIGITALOCEAN_TOKEN", "dop_v1_" + g.s(64, HEX)),
        ("SHOPIFY_TOKEN", "shpat_" + g.s(32, HEX)),
        ("DATABRICKS_TOKEN", "dapi" + g.s(32, HEX)),
    ]


def _contextual(g: _Gen) -> list[tuple[str, str]]:
    pw = g.s(18, ALNUM + "!#%")
    return [
        ("curl-basic.sh", f"curl -fsSL -u ci-bot:{g.s(20)} https://nexus.corp.internal/repository/raw/app.tgz\n"),
        ("curl-user.sh", f"curl --user 'deploy:{g.s(16)}' -T build.zip https://artifacts.internal/upload\n"),
        ("curl-header.sh", f'curl -s -H "Authorization: Bearer {g.s(48, TOK)}" https://api.internal/v1/deploy\n'),
        ("curl-token.sh", f"curl -H 'Authorization: token {g.s(40)}' https://git.internal/api/v3/user\n"),
        ("curl-apikey.sh", f'curl --header "X-API-Key: {g.s(32)}" https://metrics.internal/ingest\n'),
        ("wget-header.sh", f'wget --header="PRIVATE-TOKEN: {g.s(20, TOK)}" https://gitlab.internal/api/v4/projects\n'),
        ("secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-credentials\n  namespace: prod\n"
                        f"type: Opaque\ndata:\n  password: {base64.b64encode(pw.encode()).decode()}\n  username: YXBw\n"),
        ("secret-string.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\nstringData:\n"
                               f"  API_TOKEN: \"{g.s(32)}\"\n"),
        ("NuGet.Config", "<configuration>\n  <packageSourceCredentials>\n    <corp>\n"
                         "      <add key=\"Username\" value=\"build\" />\n"
                         f"      <add key=\"ClearTextPassword\" value=\"{g.s(16)}\" />\n"
                         "    </corp>\n  </packageSourceCredentials>\n</configuration>\n"),
        ("terraform.env", f"TF_TOKEN_app_terraform_io={g.s(14)}.atlasv1.{g.s(67, TOK)}\n"),
        ("terraformrc", 'credentials "app.terraform.io" {\n  token = "' + g.s(14) + ".atlasv1." + g.s(67, TOK) + '"\n}\n'),
        ("vault.env", f"VAULT_TOKEN=s.{g.s(24)}\n"),
        ("netrc", f"machine git.corp.internal login ci password {g.s(20)}\n"),
        ("db.env", f"DATABASE_URL=postgres://app:{g.s(20)}@db.prod.internal:5432/app\n"),
        ("docker-auth.json", '{"auths": {"registry.corp.internal": {"auth": "'
                             + base64.b64encode(f"ci:{g.s(20)}".encode()).decode() + '"}}}\n'),
    ]


def _private_keys(g: _Gen) -> list[tuple[str, str]]:
    def body(lines: int) -> str:
        return "\n".join(g.s(64, B64) for _ in range(lines))
    sa = {"type": "service_account", "project_id": "demo-prod", "private_key_id": g.s(40, HEX),
          "private_key": "-----BEGIN PRIVATE KEY-----\n" + body(12) + "\n-----END PRIVATE KEY-----\n",
          "client_email": "ci@demo-prod.iam.gserviceaccount.com"}
    return [
        ("id_rsa", "-----BEGIN RSA PRIVATE KEY-----\n" + body(20) + "\n-----END RSA PRIVATE KEY-----\n"),
        ("key.pem", "-----BEGIN PRIVATE KEY-----\n" + body(16) + "\n-----END PRIVATE KEY-----\n"),
        ("id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\n" + body(5) + "\n-----END OPENSSH PRIVATE KEY-----\n"),
        ("ec.key", "-----BEGIN EC PRIVATE KEY-----\n" + body(3) + "\n-----END EC PRIVATE KEY-----\n"),
        ("sa.json", json.dumps(sa, indent=2)),
    ]


def _generic(g: _Gen) -> list[tuple[str, str]]:
    return [
        ("settings.py", f'DB_PASSWORD = "{g.s(16, ALNUM + "!#%")}"\n'),
        ("app.yaml", f"redis:\n  password: {g.s(20)}\n"),
        ("config.json", f'{{"api_key": "{g.s(32)}"}}\n'),
        ("app.properties", f"jwt.secret={g.s(40)}\n"),
        (".env", f"SESSION_SECRET={g.s(48)}\n"),
        ("values.yaml", f"auth:\n  token: {g.s(40, TOK)}\n"),
    ]


def _negatives(g: _Gen) -> list[tuple[str, str, str]]:
    """(family, text, provenance) of labelled non-secrets written here."""
    cases = [
        ("provider", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n", "AWS documentation example key id"),
        ("provider", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n", "AWS documentation example"),
        ("provider", "SLACK_BOT_TOKEN=xoxb-your-token\n", "Slack documentation placeholder"),
        ("provider", "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", "placeholder"),
        ("provider", "GOOGLE_API_KEY=AIza" + g.s(20, TOK) + "\n", "prefix, wrong length"),
        ("provider", "blob: " + g.s(40, B64) + "/AIza" + g.s(35, TOK) + "/" + g.s(40, B64) + "\n",
         "base64 blob holding AIza"),
        ("provider", "integrity sha512-" + g.s(40, B64) + "+AIza" + g.s(35, TOK) + "+" + g.s(20, B64) + "==\n",
         "SRI hash holding AIza"),
        ("provider", "CLOUDFLARE_ACCOUNT_ID=" + g.s(32, HEX) + "\n", "Cloudflare account id (not a credential)"),
        ("provider", "CLOUDFLARE_ZONE_ID: " + g.s(32, HEX) + "\n", "Cloudflare zone id"),
        ("provider", "cloudflare_go_commit: " + g.s(40, HEX) + "\n", "SHA-1 beside cloudflare"),
        ("provider", "cloudflare-sdk: " + hashlib.sha1(g.s(9).encode()).hexdigest() + "\n", "SHA-1 beside cloudflare"),
        ("provider", "SNYK_ORG=" + g.uuid() + "\n", "Snyk organisation id (not a credential)"),
        ("provider", "STRIPE_PUBLISHABLE_KEY=pk_live_" + g.s(99) + "\n", "publishable key (public by design)"),
        ("provider", "FT_UID=u-s4t2ud-" + g.s(64, HEX) + "\n", "42 intra client uid (public)"),
        ("provider", "image: quay.io/app@sha256:" + g.s(64, HEX) + "\n", "image digest"),
        ("provider", "SONAR_HOST_URL=https://sonar.corp.internal\n", "SonarQube URL"),
        ("private-key", "-----BEGIN PUBLIC KEY-----\n" + g.s(64, B64) + "\n" + g.s(64, B64) + "\n-----END PUBLIC KEY-----\n",
         "public key"),
        ("private-key", "-----BEGIN CERTIFICATE REQUEST-----\n" + g.s(64, B64) + "\n-----END CERTIFICATE REQUEST-----\n",
         "certificate request"),
        ("private-key", 'if line.startswith("-----BEGIN RSA PRIVATE KEY-----"):\n', "code naming the PEM header"),
        ("contextual", "curl -u $USER:$PASSWORD https://repo.internal/upload\n", "shell variables"),
        ("contextual", 'curl -H "Authorization: Bearer ${TOKEN}" https://api.internal/\n', "template"),
        ("contextual", 'curl -H "Authorization: Bearer $(cat /run/secrets/token)" https://api.internal/\n',
         "command substitution"),
        ("contextual", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  LOG_LEVEL: debug\n",
         "ConfigMap"),
        ("contextual", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\nstringData:\n  password: ${DB_PASSWORD}\n",
         "Secret template"),
        ("contextual", '<add key="ClearTextPassword" value="%NUGET_PASSWORD%" />\n', "NuGet template"),
        ("contextual", "DATABASE_URL=postgres://user:password@localhost:5432/db\n", "documentation URL"),
        ("contextual", "VAULT_ADDR=https://vault.corp.internal:8200\n", "Vault address"),
        ("generic", 'password = os.environ["DB_PASSWORD"]\n', "code"),
        ("generic", "password: changeme\n", "placeholder"),
        ("generic", "api_key: <your-api-key>\n", "placeholder"),
        ("generic", "token_url = https://auth.corp.internal/oauth/token\n", "URL"),
        ("generic", "secret_name: prod/db/password\n", "secret path"),
        ("generic", "GITHUB_TOKEN=ghp_" + g.s(10) + "\n", "failed provider shape under a generic key"),
        ("generic", "access_key_id_length = 20\n", "number"),
        ("generic", "request_id = " + g.uuid() + "\n", "UUID"),
        ("generic", "checksum: sha256:" + g.s(64, HEX) + "\n", "hash"),
    ]
    return cases


def _site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def _harvest(limit: int = 40) -> list[tuple[str, str, str]]:
    """(family, text, provenance) look-alikes from files of the installed packages."""
    site = _site_packages()
    out: list[tuple[str, str, str]] = []
    for record in sorted(site.glob("*.dist-info/RECORD"))[:12]:
        for line in record.read_text(errors="replace").splitlines()[:3]:
            if ",sha256=" in line:
                out.append(("generic", line + "\n", f"{record.relative_to(site)}"))
    pem = site / "certifi" / "cacert.pem"
    if pem.is_file():
        certs = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", pem.read_text(), re.S)
        out += [("private-key", c + "\n", "certifi/cacert.pem") for c in certs[:8]]
    uuid_re = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
    hex_re = re.compile(r"\b[0-9a-f]{40,64}\b")
    b64_re = re.compile(r"[\"'][A-Za-z0-9+/]{60,}={0,2}[\"']")
    found = {"uuid": 0, "hex": 0, "b64": 0}
    files = [py for pkg in HARVEST_PACKAGES for py in sorted((site / pkg).rglob("*.py"))][:MAX_HARVEST_FILES]
    for py in files:
        if all(v >= limit // 3 for v in found.values()):
            break
        try:
            text = py.read_text(errors="replace")
        except OSError:
            continue
        for kind, rx in (("uuid", uuid_re), ("hex", hex_re), ("b64", b64_re)):
            if found[kind] >= limit // 3:
                continue
            m = rx.search(text)
            if m:
                found[kind] += 1
                start = max(text.rfind("\n", 0, m.start()) + 1, m.start() - 60)
                end = text.find("\n", m.end())
                line = text[start:min(end if end >= 0 else len(text), m.end() + 40)]
                out.append(("generic", line + "\n", f"{py.relative_to(site)} ({kind})"))
    return out


def build(seed: int = 14) -> list[Case]:
    """The whole corpus, in a fixed order."""
    g = _Gen(seed)
    cases: list[Case] = []
    for i, (key, token) in enumerate(_provider_tokens(g)):
        ctx = CONTEXTS[i % len(CONTEXTS)]
        cases.append(Case("provider", True, key, ctx.format(key=key, value=token),
                          "generated in the provider's documented format"))
    for name, text in _contextual(g):
        cases.append(Case("contextual", True, name, text, "documented syntax, generated credential"))
    for name, text in _private_keys(g):
        cases.append(Case("private-key", True, name, text, "PEM / JSON key file layout, random body"))
    for name, text in _generic(g):
        cases.append(Case("generic", True, name, text, "generated value under a secret-named key"))
    for n, (family, text, where) in enumerate(_negatives(g)):
        cases.append(Case(family, False, f"negative-{n}", text, where))
    for n, (family, text, where) in enumerate(_harvest()):
        cases.append(Case(family, False, f"harvested-{n}", text, f"site-packages: {where}"))
    return cases
