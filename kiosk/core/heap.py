"""Give the memory a visit freed back to the system (issue 16: RSS after visits).

glibc keeps what a process frees in its heap for reuse: after a visit the
screens' widgets, text textures (on software GL they live in the heap) and
decoder buffers are freed but the pages stay resident. ``malloc_trim(0)``
returns every free page, also those in the middle of the heap (madvise):
measured 40-45 MiB given back after each visit, in 0.3-9 ms (docs/benchmarks.md, "Third
pass: memory").

A full ``gc.collect()`` walks every tracked object: ~166,000 on the attract
screen, 85-125 ms. ``gc.freeze()`` once the kiosk has started moves the
objects that exist then (modules, classes, the screens built at start) out
of the collector's way for good, so a collection after a visit walks only
what was made since (~25,000 objects); what it still costs is freeing the
visit's ~38,000 objects in cycles (~80 ms of CPU), which Python would
otherwise pay in an automatic full collection during the visit. A frozen
object that later becomes cyclic garbage is never freed, but only objects
alive at start are frozen, once: at worst a bounded one-time cost, never
growth per visit.

Kivy-free: the app decides when (idle on the attract screen, never during a
visit); this module only does it.
"""

from __future__ import annotations

import ctypes
import gc
import time
from dataclasses import dataclass
from pathlib import Path

_libc: ctypes.CDLL | None = None
_frozen = False


def _glibc() -> ctypes.CDLL | None:
    global _libc
    if _libc is None:
        try:
            libc = ctypes.CDLL("libc.so.6")
            libc.malloc_trim.argtypes = [ctypes.c_size_t]
            libc.malloc_trim.restype = ctypes.c_int
        except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
            return None
        _libc = libc
    return _libc


def rss_kib() -> int:
    """Resident memory of this process (VmRSS), 0 where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def trim() -> bool:
    """Return the heap's free pages to the system; False where malloc_trim does not exist."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


@dataclass(frozen=True)
class Collected:
    ms: float  # wall time: what a touch arriving meanwhile would wait
    cpu_ms: float  # this thread's CPU time: the cost itself, whatever the machine's load
    frozen: int  # objects frozen by this call (only the first one freezes)


def collect() -> Collected:
    """A full garbage collection; the first one also freezes the objects that survive it."""
    global _frozen
    t0, c0 = time.perf_counter(), time.thread_time()
    gc.collect()
    frozen = 0
    if not _frozen:
        gc.freeze()
        _frozen = True
        frozen = gc.get_freeze_count()
    return Collected((time.perf_counter() - t0) * 1000, (time.thread_time() - c0) * 1000, frozen)


@dataclass(frozen=True)
class Trimmed:
    rss_before_kib: int
    rss_after_kib: int
    ms: float
    trimmed: bool

    def describe(self) -> str:
        return (
            f"RSS {self.rss_before_kib / 1024:.0f} -> {self.rss_after_kib / 1024:.0f} MiB "
            f"(malloc_trim {self.ms:.1f} ms{'' if self.trimmed else ', not glibc: nothing trimmed'})"
        )


def trim_measured() -> Trimmed:
    before = rss_kib()
    t0 = time.perf_counter()
    done = trim()
    ms = (time.perf_counter() - t0) * 1000
    return Trimmed(before, rss_kib(), ms, done)
