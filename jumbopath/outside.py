"""The one door for files from outside: regular files only, never more than a cap.

Every file jumbopath reads that someone else wrote (inventories and their
variables files, switches files, pasted CLI output, credentials, the
exporter's configuration, result files, a ``--check`` document) is read
through :func:`read_bytes` or :func:`read_text`:

- the file is opened with ``O_NONBLOCK`` (a FIFO with no writer would
  otherwise block the open, and then the read, forever), and with
  ``O_NOFOLLOW`` when the caller refuses symlinks;
- ``fstat`` on the open descriptor (not the name, which may change) must
  say a regular file: a FIFO, a device (``/dev/zero`` never ends), a socket
  or a folder is refused;
- at most ``max_bytes + 1`` bytes are read, so no file can grow memory
  past the cap.

Each refusal is one :class:`~jumbopath.errors.UsageError` line naming the
file. Parsing stays with the parsers that bound it: JSON in
:func:`jumbopath.mesh.bounded.loads`, YAML in
:mod:`jumbopath.mesh.inventory.yamlload` (depth, node and alias limits).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from jumbopath.errors import UsageError
from jumbopath.safe import safe_text

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
"""What a file that is not a regular file is, for the message."""


class FileRefused(UsageError):
    """A file from outside that cannot be read: which file, and why (one line)."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = safe_text(str(path), 200)
        """The file, made safe to show."""
        self.problem = problem
        """What is wrong with it, without the file's name."""
        super().__init__(f"{self.path}: {problem}")


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n >= 1024 * 1024 else f"{n} bytes"


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def read_bytes(
    path: str | Path,
    what: str,
    max_bytes: int,
    *,
    follow: bool = True,
    private: bool = False,
) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; UsageError otherwise.

    ``what`` names the file in messages ("switches file"). ``follow=False``
    refuses a symlink; ``private=True`` refuses a file that the group or
    others may read (credentials).
    """
    shown = safe_text(str(path), 200)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:
            raise FileRefused(path, f"the {what} is a symlink: give the file itself") from exc
        raise FileRefused(path, f"cannot read the {what}: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(
                path, f"not a regular file ({_kind(info.st_mode)}): the {what} must be a file"
            )
        if private and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise FileRefused(path, f"the {what} is readable by others: chmod 600 {shown}")
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise FileRefused(path, f"cannot read the {what}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if size > max_bytes:
        raise FileRefused(
            path, f"larger than {_size(max_bytes)}, the most jumbopath reads as a {what}"
        )
    return b"".join(chunks)


def read_text(
    path: str | Path,
    what: str,
    max_bytes: int,
    *,
    follow: bool = True,
    private: bool = False,
) -> str:
    """The UTF-8 text of a regular file of at most ``max_bytes``; UsageError otherwise."""
    data = read_bytes(path, what, max_bytes, follow=follow, private=private)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileRefused(
            path, f"line {line}: the {what} is not UTF-8 text (byte {exc.start})"
        ) from exc
