"""Reference parsing and normalisation, without any registry."""

import pytest

from imagewatch.oci import InvalidReference, Reference

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(("text", "registry", "repository", "tag", "digest", "normalised"), [
    ("app", "docker.io", "library/app", "latest", "", "docker.io/library/app:latest"),
    ("user/app:v1", "docker.io", "user/app", "v1", "", "docker.io/user/app:v1"),
    ("index.docker.io/nginx", "docker.io", "library/nginx", "latest", "", "docker.io/library/nginx:latest"),
    ("localhost:5000/team/app:1.0", "localhost:5000", "team/app", "1.0", "", "localhost:5000/team/app:1.0"),
    ("localhost/app", "localhost", "app", "latest", "", "localhost/app:latest"),
    (f"reg.example/app@{DIGEST}", "reg.example", "app", "", DIGEST, f"reg.example/app@{DIGEST}"),
    (f"ghcr.io/o/r:tag@{DIGEST}", "ghcr.io", "o/r", "tag", DIGEST, f"ghcr.io/o/r:tag@{DIGEST}"),
    ("127.0.0.1:5000/a/b/c:x.y-z", "127.0.0.1:5000", "a/b/c", "x.y-z", "", "127.0.0.1:5000/a/b/c:x.y-z"),
])
def test_parse_and_round_trip(text, registry, repository, tag, digest, normalised):
    ref = Reference.parse(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)
    assert str(ref) == normalised
    assert Reference.parse(str(ref)) == ref


def test_docker_hub_api_host():
    assert Reference.parse("app").api_host == "registry-1.docker.io"
    assert Reference.parse("localhost:5000/app").api_host == "localhost:5000"


def test_identifier_prefers_digest():
    assert Reference.parse(f"r.io/app:1@{DIGEST}").identifier == DIGEST
    assert Reference.parse("r.io/app:1").with_digest(DIGEST).identifier == DIGEST


@pytest.mark.parametrize("text", [
    "", "r.io/App:1", "r.io/app:bad tag", "r.io/app@sha256:short", "r.io/app@md5:" + "a" * 32,
    "r.io//app", "r.io/app:" + "x" * 200,
])
def test_invalid_references_name_the_problem(text):
    with pytest.raises(InvalidReference, match=r"^registry: invalid"):
        Reference.parse(text)
