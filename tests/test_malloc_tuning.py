"""The kiosk keeps frame-sized buffers out of malloc's arenas (issue 16: RSS after visits)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

# In a fresh process (real glibc): allocate a frame-sized block, free it, allocate another,
# and ask glibc whether glibc served the second with mmap (mallinfo2().hblks).
PROBE = """
import ctypes, sys
class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == "kiosk":
    from kiosk.runner import limit_malloc_arenas
    limit_malloc_arenas()
frame = 1280 * 720 * 3
libc.free(libc.malloc(frame))    # the first camera frame, freed
before = libc.mallinfo2().hblks
second = libc.malloc(frame)       # the next one
print(libc.mallinfo2().hblks - before)
"""


def run_probe(probe: str, mode: str) -> int:
    """The number a probe prints, run in a fresh process with glibc's malloc untuned by the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-c", probe, mode], env=env, capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def _mmapped_blocks(mode: str) -> int:
    return run_probe(PROBE, mode)


def test_a_frame_buffer_allocated_after_another_was_freed_is_still_mmapped():
    # glibc's default: freeing the first frame raised the threshold, the second came from an
    # arena (and would stay in the process once freed). The kiosk pins the threshold.
    assert _mmapped_blocks("default") == 0
    assert _mmapped_blocks("kiosk") == 1
