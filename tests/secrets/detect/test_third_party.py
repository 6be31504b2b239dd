"""Path-aware allow rules and documentation-example URLs.

The docstring snippets are short, written after the shape of real urllib3 and
Werkzeug docstrings (not copies); the planted values are random.
"""

from __future__ import annotations

import random

import pytest

from imagewatch.secrets.detect import Scanner, default_rules
from imagewatch.secrets.detect import rules as table
from imagewatch.secrets.detect.paths import PathGlobs
from imagewatch.secrets.detect.rule import Rule, RuleError, compile_rule
from imagewatch.secrets.detect.scanner import THIRD_PARTY_NOTE

from .cases import ALNUM, UPPER, cases

_R = random.Random(20261126)  # values independent of which tests ran before


def rnd(n: int, alphabet: str = ALNUM) -> str:
    return "".join(_R.choice(alphabet) for _ in range(n))


KEY = b"third-party-key"
SITE = "usr/local/lib/python3.11/site-packages"
DIST = "usr/lib/python3/dist-packages"

URLLIB3_DOC = '''\
    @property
    def url(self):
        """
        Convert self into a url

        Example: ::

            >>> U = parse_url('http://google.com/mail/')
            >>> Url('http', 'username:password', 'host.com', 80,
            ... '/path', 'query', 'fragment').url
            'http://username:password@host.com:80/path?query#fragment'
        """
'''
WERKZEUG_DOC = '''\
def uri_to_iri(uri, charset="utf-8", errors="replace"):
    r"""Converts a URI in a given charset to an IRI.

    >>> uri_to_iri(b'http://%C3%BCser:p%C3%A4ssword@xn--n3h.net/p%C3%A5th')
    u'http://\\xfcser:p\\xe4ssword@\\u2603.net/p\\xe5th'
    """


def iri_to_uri(iri, charset="utf-8", errors="strict"):
    r"""Converts any unicode based IRI to an acceptable ASCII URI.

    >>> iri_to_uri(u'http://üser:pässword@☃.net/påth')
    'http://%C3%BCser:p%C3%A4ssword@xn--n3h.net/p%C3%A5th'
    """
'''
OTHER_DOCS = '''\
    dsn: ``postgres://user:pass@host:port/database?option=value``
    e.g. `pass` in `https://user:pass@host:port/path?query#fragment`
    engine = create_engine("postgresql://scott:tiger@db.example.com/test")
    broker = "amqp://guest:guest@rabbit.test:5672//"
    url = "mysql://root:password@localhost:3306/app"
'''


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner(key=KEY)


def _ids(findings) -> list[tuple[str, str]]:
    return [(f.rule_id, f.severity) for f in findings]


@pytest.mark.parametrize("prefix", [f"{SITE}/urllib3/util", f"{SITE}/werkzeug", "srv/app/vendored"])
def test_docstring_url_examples_are_not_reported(scanner: Scanner, prefix: str) -> None:
    # In site-packages the path alone drops them; elsewhere the example check does.
    for name, text in (("url.py", URLLIB3_DOC), ("urls.py", WERKZEUG_DOC), ("docs.py", OTHER_DOCS)):
        assert scanner.scan(f"{prefix}/{name}", text.encode()) == [], name


def test_real_url_credentials_are_still_reported(scanner: Scanner) -> None:
    password = rnd(18)
    text = f'DATABASE_URL = "postgres://app:{password}@db.internal:5432/app"\n'
    found = scanner.scan("srv/app/settings.py", text.encode())
    assert _ids(found) == [("url-credentials", "high")]
    # A placeholder pair on a real host: still seen (at info), as the labelled cases expect.
    found = scanner.scan("srv/app/settings.py", b"https://username:password@yelp.com\n")
    assert _ids(found) == [("url-credentials", "info")]
    # A placeholder user with a real password on localhost is a real credential.
    found = scanner.scan("srv/app/.env", f"REDIS_URL=redis://user:{password}@localhost:6379/0\n".encode())
    assert _ids(found) == [("url-credentials", "high")]
    # Percent-escapes alone do not make an example.
    found = scanner.scan("srv/app/.env", f"URL=https://bot:{password}%21@api.internal/\n".encode())
    assert _ids(found) == [("url-credentials", "high")]


def test_provider_key_in_dist_packages_is_reported_low_with_a_note(scanner: Scanner) -> None:
    key_id = "AKIA" + rnd(16, UPPER)
    text = f'# settings copied from the build machine\nAWS_ACCESS_KEY_ID = "{key_id}"\n'.encode()
    [vendored] = scanner.scan(f"{DIST}/x/config.py", text)
    [own] = scanner.scan("srv/app/config.py", text)
    assert (vendored.rule_id, vendored.severity, vendored.line) == ("aws-access-key-id", "low", 2)
    assert (own.rule_id, own.severity) == ("aws-access-key-id", "critical")
    assert vendored.fingerprint == own.fingerprint
    assert vendored.remediation == THIRD_PARTY_NOTE + own.remediation
    assert key_id not in repr(vendored)


def test_placeholder_provider_key_stays_info_in_third_party_path(scanner: Scanner) -> None:
    found = scanner.scan(f"{SITE}/pkg/docs.py", ("token = 'ghp_" + "x" * 36 + "'\n").encode())
    assert _ids(found) == [("github-pat", "info")]


def test_generic_and_contextual_rules_are_skipped_in_third_party_paths(scanner: Scanner) -> None:
    password = rnd(14, ALNUM + "!#")
    text = (f'db_password = "{password}"\nmachine api.internal login bot password {rnd(20)}\n'
            f"api_key: {rnd(32)}\n").encode()
    assert scanner.scan(f"{SITE}/pkg/conf.py", text) == []
    assert scanner.scan("usr/share/doc/pkg/README", text) == []
    assert scanner.scan("usr/local/go/src/net/http/testdata/x.txt", text) == []
    assert scanner.scan("app/node_modules/left-pad/.env", text) == []
    own = scanner.scan("srv/app/conf.py", text)
    assert sorted(f.rule_id for f in own) == ["generic-api-key", "generic-password", "netrc-password"]


def test_path_awareness_can_be_turned_off() -> None:
    s = Scanner(key=KEY, third_party=())
    text = f'db_password = "{rnd(14)}"\n'.encode()
    assert _ids(s.scan(f"{SITE}/pkg/conf.py", text)) == [("generic-password", "medium")]
    assert not s.is_third_party(f"{SITE}/pkg/conf.py")


@pytest.mark.parametrize("path, expected", [
    (f"{SITE}/werkzeug/urls.py", True),
    (f"/{DIST}/x/config.py", True),
    ("./app/node_modules/a/index.js", True),
    ("usr/lib/go-1.22/src/crypto/tls/handshake_test.go", True),
    ("srv/app/Flask-1.0.dist-info/METADATA", True),
    ("opt/conda/lib/python3.12/urllib/parse.py", True),
    ("usr/share/man/man1/curl.1", True),
    ("srv/app/site-packages.txt", False),
    ("srv/app/settings.py", False),
    ("etc/app.env", False),
    ("usr/share/docker/config.json", False),
    ("usr/local/bin/run.sh", False),
])
def test_third_party_globs(scanner: Scanner, path: str, expected: bool) -> None:
    assert scanner.is_third_party(path) is expected


def test_glob_syntax() -> None:
    g = PathGlobs(["**/site-packages/**", "a/*.txt", "b/file?.py", "c/[!x]y/**"])
    assert g.match("site-packages/x") and g.match("u/v/site-packages/w/x.py")
    assert not g.match("site-packages") and not g.match("u/site-packagesx/a")
    assert g.match("a/x.txt") and not g.match("a/b/x.txt")
    assert g.match("b/file1.py") and not g.match("b/file10.py")
    assert g.match("c/zy/q") and not g.match("c/xy/q")
    assert not PathGlobs([]).match("anything")
    for bad in ("", "/abs/**", "a//b", "a/[x"):
        with pytest.raises(RuleError, match="secrets:"):
            PathGlobs([bad])


def test_rule_table_third_party_data() -> None:
    ids = {r.id for r in default_rules()}
    assert table.CONTEXTUAL <= ids
    by_id = {r.id: r for r in default_rules()}
    assert all(by_id[i].third_party == "skip" for i in table.CONTEXTUAL)
    assert all(r.third_party == "skip" for r in default_rules() if r.generic)
    for kept in ("aws-access-key-id", "github-pat", "private-key-rsa", "slack-bot-token", "stripe-secret-key"):
        assert by_id[kept].third_party == "low"
    PathGlobs(table.THIRD_PARTY_PATHS)
    with pytest.raises(RuleError, match="third_party"):
        compile_rule(Rule("x", "x", "high", ("x",), "(?P<secret>x)", third_party="drop"))


def test_every_rule_still_finds_its_case_in_third_party_paths_unless_skipped(scanner: Scanner) -> None:
    for rule_id, before, secret, after, _ in cases():
        text = ("# config\n" + before + secret + after).encode()
        mine = [f for f in scanner.scan(f"{SITE}/pkg/conf.txt", text) if f.rule_id == rule_id]
        if rule_id in table.CONTEXTUAL or rule_id.startswith("generic-") or rule_id == "http-bearer-token":
            assert mine == [], rule_id
        else:
            assert mine and mine[0].severity == "low", rule_id
