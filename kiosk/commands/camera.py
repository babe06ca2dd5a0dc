"""``kiosk decode qr IMAGE...`` and ``kiosk sim scanner``.

``decode qr`` runs the same pipeline as camera frames (BGR frame ->
greyscale -> decoder) and prints one JSON line per image:
``{"image": PATH, "texts": [...], "decoder": NAME}``, or
``{"image": PATH, "error": "..."}`` for an unreadable file (exit status 1
after all images are done).
"""

from __future__ import annotations

import json
import sys

from kiosk.commands.stdin_lines import stdin_lines, take_ctrl_c
from kiosk.core.errors import ConfigError


def _default_decoder(args) -> str:
    from kiosk.core import config

    try:
        return config.load(args.config)["devices.camera"]["decoder"]
    except ConfigError:
        from kiosk.hardware.qr_decode import DEFAULT_DECODER

        return DEFAULT_DECODER


def decode_qr(args) -> int:
    from kiosk.hardware.qr_decode import make_decoder, read_image

    decoder = make_decoder(args.decoder or _default_decoder(args))
    status = 0
    for path in args.images:
        try:
            frame = read_image(path)
        except OSError as exc:
            status = 1
            line = {"image": path, "error": exc.strerror or str(exc), "decoder": decoder.name}
        else:
            line = {"image": path, "texts": decoder.decode(frame), "decoder": decoder.name}
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return status


def sim_scanner(args) -> int:
    """A serial QR scanner on a pty: each line typed on stdin is 'scanned'."""
    take_ctrl_c()
    from kiosk.hardware.qr_scanner import QrScannerSimulator

    with QrScannerSimulator() as sim:
        print(f"scanner simulator on {sim.port}; type a code and Enter (Ctrl-D ends)", file=sys.stderr)
        print(sim.port, flush=True)
        for line in stdin_lines():
            text = line.rstrip("\r\n")
            if text:
                sim.scan(text)
    return 0


def register(sub, groups) -> None:
    p = groups["decode"].add_parser("qr", help="decode QR codes in image files (JSON line per image)")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--decoder", choices=("zxing", "pyzbar"),
                   help="default: [devices.camera] decoder from the config")
    p.set_defaults(func=decode_qr)
    s = groups["sim"].add_parser("scanner", help="serial QR scanner module on a pty (codes from stdin)")
    s.set_defaults(func=sim_scanner)
