"""TarReader against tarfile: the same members, bodies, end of archive, errors and bytes consumed."""

import io
import tarfile

import pytest

from imagewatch.layers import LayerError, LayerRefused
from imagewatch.layers.entry import entry_type
from imagewatch.layers.tarstream import TarReader

PREFIX = "layers: cannot read layer: "


def _reference(data: bytes) -> tuple[list[tuple], str, int]:
    """(members with bodies, error, bytes consumed) as tarfile reads ``data`` front to back."""
    src = io.BytesIO(data)
    out: list[tuple] = []
    try:
        with tarfile.open(fileobj=src, mode="r:") as tf:
            while (ti := tf.next()) is not None:
                body = tf.extractfile(ti).read() if entry_type(ti) == "file" else None
                out.append((ti.name.rstrip("/"), ti.linkname, entry_type(ti), ti.mode, ti.uid, ti.gid,
                            ti.uname, ti.gname, ti.size, body))
    except tarfile.ReadError as exc:
        return out, f"ReadError: {exc}", -1
    return out, "", src.tell()


def _fast(data: bytes) -> tuple[list[tuple], str, int]:
    reader = TarReader(io.BytesIO(data), limit=1 << 40)
    out: list[tuple] = []
    try:
        for m in reader.members():
            body = reader.read(1 << 30) if m.kind == "file" else None
            out.append((m.name.rstrip("/"), m.linkname, m.kind, m.mode, m.uid, m.gid, m.uname, m.gname,
                        m.size, body))
    except LayerError as exc:
        return out, str(exc).removeprefix(PREFIX), -1
    except tarfile.ReadError as exc:  # raised by tarfile itself after a fallback
        return out, f"ReadError: {exc}", -1
    return out, "", reader.count


def _same(data: bytes) -> list[tuple]:
    expected = _reference(data)
    assert _fast(data) == expected
    return expected[0]


def _archive(members, fmt=tarfile.PAX_FORMAT, **kw) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, **kw) as tf:
        for ti, body in members:
            tf.addfile(ti, io.BytesIO(body) if body is not None else None)
    return buf.getvalue()


def _info(name, kind=tarfile.REGTYPE, body=b"", link="", **attrs):
    ti = tarfile.TarInfo(name)
    ti.type, ti.linkname, ti.size = kind, link, len(body) if kind == tarfile.REGTYPE else 0
    for key, value in attrs.items():
        setattr(ti, key, value)
    return ti, (body if kind == tarfile.REGTYPE else None)


LONG = "usr/lib/" + "/".join(["a-rather-long-directory-name"] * 8) + "/file.txt"
MANY = [
    _info("etc/", tarfile.DIRTYPE, mode=0o755),
    _info("etc/hostname", body=b"box\n", uid=1000, gid=1000, uname="me", gname="us", mode=0o4755),
    _info(LONG, body=b"long"),
    _info("usr/bin/sh", tarfile.SYMTYPE, link="../../" + LONG),
    _info("usr/bin/ln", tarfile.LNKTYPE, link=LONG),
    _info("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3),
    _info("dev/sda", tarfile.BLKTYPE), _info("run/fifo", tarfile.FIFOTYPE),
    _info("big-ids", body=b"x" * 1000, uid=8**7 + 5, gid=8**8),
    _info("caf\u00e9/\u00fcnicode.txt", body=b"u"),
    _info("x" * 99 + "/" + "y" * 99, body=b"ustar prefix"),
    _info("empty"),
]


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT])
def test_same_members_as_tarfile(fmt):
    members = _same(_archive(MANY, fmt))
    assert [m[0] for m in members][:3] == ["etc", "etc/hostname", LONG]


def test_ustar_prefix_and_v7_directory():
    ustar = _archive([_info("p" * 120 + "/" + "n" * 90, body=b"ok"), _info("plain", body=b"1")], tarfile.USTAR_FORMAT)
    assert _same(ustar)[0][0] == "p" * 120 + "/" + "n" * 90
    v7 = bytearray(_archive([_info("olddir/", tarfile.AREGTYPE)], tarfile.USTAR_FORMAT))
    assert _same(bytes(v7))[0][2] == "dir"


def _patch(block: bytearray, offset: int, value: bytes) -> bytearray:
    block[offset:offset + len(value)] = value
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block[:512])
    return block


def test_base256_size_unknown_type_and_data_on_a_link():
    data = bytearray(_archive([_info("a", body=b"hello world"), _info("b", body=b"z")], tarfile.GNU_FORMAT))
    _patch(data, 124, b"\x80" + b"\0" * 10 + b"\x0b")  # size 11 in base-256
    assert _same(bytes(data))[0][-1] == b"hello world"
    unknown = bytearray(_archive([_info("v", body=b"data!"), _info("after", body=b"1")], tarfile.GNU_FORMAT))
    _patch(unknown, 156, b"V")
    assert [m[2] for m in _same(bytes(unknown))] == ["other", "file"]
    link = bytearray(_archive([_info("l", body=b"x" * 600), _info("next", body=b"1")], tarfile.GNU_FORMAT))
    _patch(link, 156, b"1")  # a hard link whose header claims a size: tarfile reads no body
    _same(bytes(link))


def test_pax_overrides_and_global_headers():
    ti, body = _info("short", body=b"abc")
    ti.pax_headers = {"path": "pax/path/name", "uid": "notanumber", "uname": "p\u00e4x", "comment": "x"}
    _same(_archive([(ti, body), _info("z", body=b"1")]))
    comment_only = _archive([_info("f", body=b"1")], pax_headers={"comment": "built by git"})
    _same(comment_only)
    meaningful = _archive([_info("f", body=b"1"), _info("g", body=b"2")], pax_headers={"uname": "global"})
    assert {m[6] for m in _same(meaningful)} == {"global"}  # handed to tarfile


def test_pax_size_override_and_hdrcharset_fallback():
    ti, body = _info("sized", body=b"0123456789")
    ti.pax_headers = {"size": "10"}
    _same(_archive([(ti, body), _info("next", body=b"n")]))
    ti, body = _info("bin", body=b"b")
    ti.pax_headers = {"hdrcharset": "BINARY"}
    _same(_archive([(ti, body), _info("next", body=b"n")]))


def test_gnu_sparse_is_read_by_tarfile():
    head = bytearray(_archive([_info("sparse", body=b"DATA!"), _info("after", body=b"1")], tarfile.GNU_FORMAT))
    head[386:398] = b"%011o\0" % 0
    head[398:410] = b"%011o\0" % 5
    head[483:495] = b"%011o\0" % 4096
    _patch(head, 156, b"S")
    members = _same(bytes(head))
    assert members[0][2] == "file" and members[0][8] == 4096 and members[0][9].startswith(b"DATA!")


@pytest.mark.parametrize("damage", ["bad_checksum_mid", "truncated_body", "truncated_header", "garbage_first",
                                    "after_longname", "zeros", "empty", "no_end_marker", "bad_number_mid",
                                    "negative_size", "pax_zero_length"])
def test_damage_ends_or_fails_as_in_tarfile(damage):
    gnu = _archive([_info("a", body=b"A" * 700), _info(LONG, body=b"L"), _info("c", body=b"C")], tarfile.GNU_FORMAT)
    data = bytearray(gnu)
    if damage == "bad_checksum_mid":
        data[1536] ^= 0xFF
    elif damage == "truncated_body":
        data = data[:900]
    elif damage == "truncated_header":
        data = data[:1536 + 100]
    elif damage == "garbage_first":
        data[0:512] = b"\x01" * 512
    elif damage == "after_longname":
        data[2560 + 5] ^= 0xFF  # the header after the GNU long name block
    elif damage == "zeros":
        data = bytearray(4096)
    elif damage == "empty":
        data = bytearray()
    elif damage == "no_end_marker":
        data = data[:1536]
    elif damage == "bad_number_mid":
        block = bytearray(data[1536:2048])
        data[1536:2048] = _patch(block, 136, b"notoctal")  # mtime
    elif damage == "negative_size":
        data[1536:2048] = _patch(bytearray(data[1536:2048]), 124, b"\xff" * 12)
    elif damage == "pax_zero_length":
        ti, body = _info("x", body=b"1")
        ti.pax_headers = {"path": "y" * 200}
        pax = bytearray(_archive([_info("first", body=b"f"), (ti, body)]))
        start = pax.index(b"y" * 200) - 10
        pax[start:start + 3] = b"\n0 "
        data = pax
    _same(bytes(data))


def test_limit_counts_tar_bytes_not_read_ahead():
    data = _archive(MANY)
    used = _fast(data)[2]
    assert len(_fast(data)[0]) == len(MANY)
    reader = TarReader(io.BytesIO(data), limit=used)
    assert len(list(reader.members())) == len(MANY)
    with pytest.raises(LayerRefused, match="layer_bytes"):
        list(TarReader(io.BytesIO(data), limit=used - 1).members())


def test_bodies_are_read_in_parts_and_skipped_when_unread():
    data = _archive([_info("a", body=bytes(range(256)) * 10), _info("b", body=b"second")])
    reader = TarReader(io.BytesIO(data), limit=1 << 30)
    members = reader.members()
    next(members)
    assert reader.read(3) == b"\x00\x01\x02" and reader.read(2) == b"\x03\x04"
    assert next(members).name == "b" and reader.read(100) == b"second" and reader.read(5) == b""
