"""walk_layer: compression sniffing, whiteouts, link resolution, escapes, limits, one-pass callback."""

import io

import pytest
from layers.layer_tars import f, gz, tar, zst

from imagewatch.layers import LayerError, LayerLimits, LayerRefused, walk_layer

GZ = "application/vnd.oci.image.layer.v1.tar+gzip"
ZST = "application/vnd.oci.image.layer.v1.tar+zstd"
PLAIN = "application/vnd.oci.image.layer.v1.tar"

SIMPLE = tar(("etc", "dir", None), f("etc/hostname", "box\n"), f("./usr/bin/tool", b"\x7fELF"))


@pytest.mark.parametrize("blob,media_type,expected", [
    (gz(SIMPLE), GZ, "gzip"), (zst(SIMPLE), ZST, "zstd"), (SIMPLE, PLAIN, "tar"),
    (gz(SIMPLE), ZST, "gzip"), (zst(SIMPLE), PLAIN, "zstd"), (SIMPLE, GZ, "tar"),
    (gz(SIMPLE), "application/vnd.docker.image.rootfs.diff.tar.gzip", "gzip"),
])
def test_compression_by_magic_even_when_media_type_lies(blob, media_type, expected):
    walk = walk_layer(io.BytesIO(blob), media_type)
    assert walk.compression == expected
    assert walk.paths == {"etc/hostname", "usr/bin/tool"}
    assert 0 < walk.uncompressed_bytes <= len(SIMPLE)  # reading stops at the end-of-archive marker


def test_zlib_fallback_and_multi_member_gzip():
    blob = gz(SIMPLE[:5000]) + gz(SIMPLE[5000:])
    for prefer_isal in (True, False):
        walk = walk_layer(io.BytesIO(blob), GZ, prefer_isal=prefer_isal)
        assert walk.paths == {"etc/hostname", "usr/bin/tool"}


def test_empty_blob_is_an_empty_layer():
    assert walk_layer(io.BytesIO(b""), GZ).entries == 0


def test_corrupt_stream_is_a_layer_error():
    with pytest.raises(LayerError, match="^layers: cannot read layer"):
        walk_layer(io.BytesIO(gz(SIMPLE)[:60]), GZ)


def test_whiteouts_and_opaque_dirs():
    layer = tar(f("etc/.wh.passwd", b""), ("opt/app", "dir", None), f("opt/app/.wh..wh..opq", b""),
                f("opt/app/new.txt"), f(".wh.root-file", b""), f("a/.wh..wh.plnk", b""))
    seen = []
    walk = walk_layer(io.BytesIO(layer), PLAIN, on_entry=lambda e, read: seen.append((e.type, e.path)))
    assert walk.whiteouts == {"etc/passwd", "root-file"}
    assert walk.opaque_dirs == {"opt/app"}
    assert walk.paths == {"opt/app/new.txt"}
    assert ("whiteout", "etc/passwd") in seen and ("opaque", "opt/app") in seen


@pytest.mark.parametrize("name", ["../etc/passwd", "a/../../etc/passwd", "/../x", "./a/../.."])
def test_entry_escaping_the_root_is_refused(name):
    with pytest.raises(LayerRefused, match="path_escape") as err:
        walk_layer(io.BytesIO(tar(f(name))), PLAIN)
    assert err.value.reason == "path_escape"


def test_hardlink_escaping_the_root_is_refused():
    with pytest.raises(LayerRefused, match="escapes the image root"):
        walk_layer(io.BytesIO(tar(f("a"), ("b", "hardlink", "../../etc/shadow"))), PLAIN)


def test_paths_are_normalised_and_symlinks_stay_inside(tmp_path):
    layer = tar(f("/etc//./os-release.real", "ID=x\n"), ("etc/os-release", "symlink", "os-release.real"),
                ("escape", "symlink", "../../../../etc/passwd"), ("abs", "symlink", "/etc/shadow"),
                ("usr/lib/up", "symlink", "../../../bin"))
    walk = walk_layer(io.BytesIO(layer), PLAIN, want=lambda p, s: p.startswith("etc/"), dest=tmp_path)
    assert walk.symlinks == {"etc/os-release": "etc/os-release.real", "escape": "etc/passwd",
                             "abs": "etc/shadow", "usr/lib/up": "bin"}
    assert walk.files["etc/os-release"].read_text() == "ID=x\n"
    # nothing but flat generated files in dest: no link, no directory from the archive
    assert all(p.is_file() and not p.is_symlink() for p in tmp_path.iterdir())


def test_hardlink_to_extracted_file(tmp_path):
    layer = tar(f("usr/bin/python3.11", b"\x7fELFpy"), ("usr/bin/python3", "hardlink", "usr/bin/python3.11"))
    walk = walk_layer(io.BytesIO(layer), PLAIN, want=lambda p, s: p.startswith("usr/bin/"), dest=tmp_path)
    assert walk.files["usr/bin/python3"].read_bytes() == b"\x7fELFpy"


def test_tar_bomb_refused_by_uncompressed_bytes():
    bomb = gz(tar(f("zeros", bytes(4 * 1024 * 1024))))
    assert len(bomb) < 64 * 1024
    with pytest.raises(LayerRefused, match="layer_bytes"):
        walk_layer(io.BytesIO(bomb), GZ, limits=LayerLimits(max_layer_bytes=1024 * 1024))


def test_too_many_entries_refused():
    layer = tar(*[f(f"f{i}") for i in range(50)])
    with pytest.raises(LayerRefused, match="entries") as err:
        walk_layer(io.BytesIO(layer), PLAIN, limits=LayerLimits(max_entries=10))
    assert err.value.reason == "entries"


def test_oversized_wanted_file_is_skipped_not_fatal(tmp_path):
    layer = tar(f("big.jar", bytes(5000)), f("small.jar", b"PK"))
    limits = LayerLimits(max_file_bytes=1000)
    walk = walk_layer(io.BytesIO(layer), PLAIN, want=lambda p, s: True, dest=tmp_path, limits=limits)
    assert walk.skipped == {"big.jar": "file_too_large"}
    assert set(walk.files) == {"small.jar"}


def test_extract_budget_skips_the_rest(tmp_path):
    layer = tar(f("a", bytes(600)), f("b", bytes(600)))
    limits = LayerLimits(max_extract_bytes=1000)
    walk = walk_layer(io.BytesIO(layer), PLAIN, want=lambda p, s: True, dest=tmp_path, limits=limits)
    assert set(walk.files) == {"a"} and walk.skipped == {"b": "extract_budget"}


def test_one_pass_serves_metadata_and_content(tmp_path):
    layer = tar(f("usr/bin/su", b"\x7fELF", 0o4755), ("tmp", "dir", None, 0o1777), f("etc/app.env", "TOKEN=abc\n"),
                f("var/lib/dpkg/status", "Package: a\n"), ("etc/link", "symlink", "app.env"))
    seen = {}

    def on_entry(entry, read):
        seen[entry.path] = (entry, read(4) if read else None)

    walk = walk_layer(io.BytesIO(gz(layer)), GZ, want=lambda p, s: p.startswith("var/"), dest=tmp_path,
                      on_entry=on_entry, limits=LayerLimits(max_read_bytes=100))
    su, _ = seen["usr/bin/su"]
    assert su.mode & 0o4000 and su.type == "file" and su.size == 4
    assert seen["tmp"][0].type == "dir" and seen["tmp"][0].mode == 0o1777
    assert seen["etc/app.env"][1] == b"TOKE"  # read from the stream
    assert seen["var/lib/dpkg/status"][1] == b"Pack"  # read from the extracted copy
    assert seen["etc/link"] == (seen["etc/link"][0], None) and seen["etc/link"][0].link == "etc/app.env"
    assert walk.files["var/lib/dpkg/status"].read_text() == "Package: a\n"


def test_want_needs_dest():
    with pytest.raises(ValueError):
        walk_layer(io.BytesIO(SIMPLE), PLAIN, want=lambda p, s: True)


@pytest.mark.parametrize("pack,media_type", [(gz, GZ), (zst, ZST), (lambda b: b, PLAIN)])
def test_head_then_whole_reads_join_the_right_bytes(pack, media_type):
    """A sniffed head then the whole body (spanning decoded chunks), and the next file, are exact."""
    big = bytes(range(256)) * 12_000 + b"tail"  # ~3 MB: several decoded chunks
    layer = tar(f("a.bin", b"x" * 700), f("big.bin", big), f("c.txt", "after\n"))
    seen = {}

    def on_entry(entry, read):
        seen[entry.path] = (read(8192), read(), read(10))

    walk_layer(io.BytesIO(pack(layer)), media_type, on_entry=on_entry, limits=LayerLimits(max_read_bytes=8 << 20))
    assert seen["a.bin"] == (b"x" * 700, b"x" * 700, b"x" * 10)
    assert seen["big.bin"] == (big[:8192], big, big[:10])
    assert seen["c.txt"] == (b"after\n", b"after\n", b"after\n")
