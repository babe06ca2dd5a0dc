"""Read a file from outside (a print job, an answers file, a photo) with bounds.

Only a regular file is read, and at most ``limit`` bytes: ``/dev/zero``, a
FIFO or a directory is refused at once instead of hanging or eating memory.
The refusal is an ``OSError`` so callers' existing ``except OSError`` turn it
into their one-line error.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


class NotRegularFile(OSError):
    pass


class FileTooLarge(OSError):
    pass


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of ``path`` when it is a regular file of at most ``limit`` bytes."""
    # O_NONBLOCK: opening a FIFO with no writer must not wait forever
    try:
        fd = os.open(Path(path), os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except ValueError:  # an embedded NUL byte
        raise NotRegularFile(errno.EINVAL, "not a valid file name") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(errno.EINVAL, "not a regular file")
        if st.st_size > limit:
            raise FileTooLarge(errno.EFBIG, f"{st.st_size} bytes; at most {limit} allowed")
        chunks, size = [], 0
        while size <= limit:  # the file may grow while it is read
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise FileTooLarge(errno.EFBIG, f"more than {limit} bytes; at most {limit} allowed")
        return b"".join(chunks)
    finally:
        os.close(fd)
