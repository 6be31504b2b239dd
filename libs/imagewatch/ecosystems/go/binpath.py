"""Which image paths may be compiled executables, judged by path and size only.

The layer reader shows analysers a path and a size, not the file mode or the
first bytes, so the Go and Rust binary analysers guess: files in ``bin``-like
directories, files at the image root, and extension-less files under the
usual application directories. Everything else (scripts, data, libraries in
``usr/share`` ...) is left alone to keep extraction cheap.
"""

from __future__ import annotations

_BIN_DIRS = frozenset({"bin", "sbin", "libexec"})
_APP_ROOTS = ("opt/", "app/", "apps/", "srv/", "usr/local/", "home/", "root/", "go/",
              "workspace/", "ko-app/")
_SKIP_ROOTS = ("usr/share/", "usr/include/", "proc/", "sys/", "dev/", "etc/", "var/lib/dpkg/",
               "var/cache/", "var/log/", "tmp/")
_NOT_BINARY = frozenset({
    "py", "pyc", "pyi", "js", "mjs", "cjs", "ts", "json", "txt", "md", "rst", "html", "css",
    "sh", "bash", "h", "hpp", "c", "cc", "go", "rs", "rb", "pl", "pm", "php", "conf", "cfg",
    "ini", "toml", "xml", "yaml", "yml", "gz", "xz", "bz2", "zst", "zip", "tar", "png", "jpg",
    "gif", "svg", "pem", "crt", "key", "mo", "po", "a", "o", "class", "jar", "war", "map",
    "lock", "sum", "mod", "tmpl", "tpl", "csv", "sql", "log", "pdf", "1", "gemspec",
})
MAX_BINARY_SIZE = 512 << 20


def may_be_executable(path: str, size: int, min_size: int) -> bool:
    """Whether ``path`` (no leading slash) of ``size`` bytes might be a compiled program."""
    if not min_size <= size <= MAX_BINARY_SIZE or path.startswith(_SKIP_ROOTS):
        return False
    dirname, _, base = path.rpartition("/")
    stem, dot, ext = base.rpartition(".")
    if dot and stem and ext.lower() in _NOT_BINARY:
        return False
    if not dirname or "/pkg/tool/" in path:
        return True
    if _BIN_DIRS.intersection(dirname.split("/")):
        return True
    return not dot and path.startswith(_APP_ROOTS)
