"""``kiosk sim idcard`` and ``kiosk decode idcard``."""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import threading
from pathlib import Path

from kiosk.commands.stdin_lines import stdin_lines, take_ctrl_c
from kiosk.core.idnumber import mask_id


def register(sub, groups) -> None:
    sim = groups["sim"].add_parser(
        "idcard", help="simulated ID-card reader on a pty (SAM protocol)",
        description="Open a pty (or serve on --port), print the device path, answer the ID-card "
                    "reader protocol until Ctrl-C. Commands on stdin: insert N | remove | "
                    "fault NAME|none | unplug | replug | list | state | quit")
    sim.add_argument("--port", help="serve on this existing serial device instead of a new pty")
    sim.add_argument("--link", help="create the pty's stable symlink at this path (default: a temp dir)")
    sim.add_argument("--resident", type=int, help="place synthetic resident N on the reader at start")
    sim.add_argument("--fault", choices=["no_card", "removed_mid_read", "bad_checksum", "garbage", "slow"])
    sim.add_argument("--baudrate", type=int, default=115200)
    sim.add_argument("--pace", action="store_true", help="pace output at the baud rate like a real line")
    sim.set_defaults(func=run_sim)

    dec = groups["decode"].add_parser(
        "idcard", help="decode a captured read-text response frame to JSON",
        description="FILE holds a raw response frame of command 30 01 (or 30 10), as binary or "
                    "as hex text. Prints the card holder as JSON; the ID number is masked unless "
                    "--unmasked. Exit 1 on a malformed frame.")
    dec.add_argument("file", help="binary or hex-text capture ('-' for stdin)")
    dec.add_argument("--unmasked", action="store_true", help="print the full ID number")
    dec.set_defaults(func=run_decode)


# ---------------------------------------------------------------- sim
def _print_residents(residents) -> None:
    for i, rec in enumerate(residents):
        print(f"  {i}: {rec.card_type:<17} {rec.name or rec.english_name} {mask_id(rec.id_number)}"
              f" {rec.validity_text}", flush=True)


def run_sim(args: argparse.Namespace) -> int:
    take_ctrl_c()
    from kiosk.hardware.idcard_sim import FAULTS, IdCardSimulator

    def _terminate(signum, frame):   # systemd/kill: clean up the pty link like Ctrl-C does
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    sim = IdCardSimulator(port=args.port, link=args.link, baudrate=args.baudrate, pace=args.pace,
                          fault=args.fault)
    try:
        sim.start()
        if args.resident is not None:
            if not 0 <= args.resident < len(sim.residents):
                print(f"kiosk sim idcard: no resident {args.resident} (0..{len(sim.residents) - 1})",
                      file=sys.stderr)
                return 2
            sim.insert(args.resident)
        print(sim.port, flush=True)
        print("residents:", flush=True)
        _print_residents(sim.residents)
        print("commands: insert N | remove | fault NAME|none | unplug | replug | list | state | quit",
              flush=True)
        for line in stdin_lines():
            words = line.split()
            if not words:
                continue
            cmd, rest = words[0].lower(), words[1:]
            try:
                if cmd == "insert":
                    rec = sim.insert(int(rest[0]) if rest else 0)
                    print(f"ok: placed {rec.name or rec.english_name}", flush=True)
                elif cmd == "remove":
                    sim.remove()
                    print("ok: removed", flush=True)
                elif cmd == "fault":
                    name = rest[0] if rest else "none"
                    sim.fault = None if name == "none" else name
                    print(f"ok: fault {sim.fault}", flush=True)
                elif cmd == "unplug":
                    sim.unplug()
                    print("ok: unplugged", flush=True)
                elif cmd == "replug":
                    sim.replug()
                    print(f"ok: replugged at {sim.port}", flush=True)
                elif cmd == "list":
                    _print_residents(sim.residents)
                elif cmd == "state":
                    card = sim.card
                    print(f"card={'none' if card is None else mask_id(card.id_number)} fault={sim.fault} "
                          f"plugged={sim.plugged} commands={len(sim.commands)}", flush=True)
                elif cmd in ("quit", "exit"):
                    return 0
                else:
                    print(f"error: unknown command {cmd!r}", flush=True)
            except (ValueError, IndexError, RuntimeError) as exc:
                print(f"error: {exc} (faults: {', '.join(str(f) for f in FAULTS[1:])})", flush=True)
        # stdin closed (e.g. started in the background): keep serving until Ctrl-C
        threading.Event().wait()
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        sim.close()


# ---------------------------------------------------------------- decode
_HEX_TEXT = re.compile(rb"^[\s0-9a-fA-Fx,:]*$")


def read_capture(raw: bytes) -> bytes:
    """Bytes of a capture given as binary or as hex text (spaces, 0x, commas allowed)."""
    if raw and _HEX_TEXT.match(raw):
        text = re.sub(rb"0[xX]", b"", raw)
        digits = re.sub(rb"[^0-9a-fA-F]", b"", text)
        if len(digits) % 2:
            from kiosk.hardware.idcard_protocol import FrameLengthError
            raise FrameLengthError(f"hex text has an odd number of digits ({len(digits)})")
        return bytes.fromhex(digits.decode())
    return raw


def decode_capture(raw: bytes):
    """The card record in a captured read response; typed errors only."""
    from kiosk.hardware import idcard_protocol as p
    from kiosk.hardware.idcard_text import parse_text

    data = read_capture(raw)
    if not data:
        raise p.FrameIncompleteError("capture is empty")
    frames = []
    if data.startswith(p.PREAMBLE):
        try:
            frames = [p.decode_frame(data)]
        except p.FrameLengthError:
            frames = []   # more than one frame in the capture: scan it below
    if not frames:
        decoder = p.FrameDecoder()
        items = decoder.feed(data)
        frames = [i for i in items if isinstance(i, p.Frame)]
        problems = [i for i in items if isinstance(i, p.FrameError) and not isinstance(i, p.FramePreambleError)]
        if not frames:
            if problems:
                raise problems[0]
            if decoder.pending:
                raise p.FrameIncompleteError(f"capture ends inside a frame ({decoder.pending} bytes)")
            raise p.FramePreambleError("no frame (AA AA AA 96 69) in the capture")
    last: Exception | None = None
    for frame in frames:
        if len(frame.body) < 3:
            last = p.ResponseError(f"frame of {len(frame.body)} body bytes is a command, not a response")
            continue
        if frame.sw != (0, 0, p.SW_OK):
            last = p.StatusError(frame.sw)
            continue
        try:
            result = p.parse_read_data(frame.data)
        except p.ResponseError as first:
            try:   # 30 10 layout: text, photo and fingerprint lengths
                result = p.parse_read_data(frame.data, with_fingerprint=True)
            except p.ResponseError:
                raise first from None
        return parse_text(result.text, result.photo, result.fingerprint)
    raise last  # type: ignore[misc]


def record_json(rec, unmasked: bool = False) -> dict:
    return {
        "document": rec.card_type,
        "id_number": rec.id_number if unmasked else mask_id(rec.id_number),
        "name": rec.name,
        "english_name": rec.english_name or None,
        "gender": rec.gender,
        "nation": rec.nation or None,
        "nation_code": rec.nation_code or None,
        "nationality": rec.nationality or None,
        "birth_date": rec.birth_date.isoformat(),
        "address": rec.address or None,
        "authority": rec.authority,
        "valid_from": rec.valid_from.isoformat(),
        "valid_until": "长期" if rec.valid_until is None else rec.valid_until.isoformat(),
        "pass_number": rec.pass_number or None,
        "issue_count": rec.issue_count or None,
        "card_version": rec.card_version or None,
        "photo_bytes": len(rec.photo),
        "fingerprint_bytes": len(rec.fingerprint),
        "source": "idcard",
    }


def run_decode(args: argparse.Namespace) -> int:
    from kiosk.core.errors import KioskError

    try:
        raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        print(f"kiosk decode idcard: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        rec = decode_capture(raw)
    except KioskError as exc:
        from kiosk.hardware.idcard_protocol import FrameError
        what = "malformed frame" if isinstance(exc, FrameError) else "no card record"
        print(f"kiosk decode idcard: {what} in {args.file}: {exc} [{type(exc).__name__}]",
              file=sys.stderr)
        return 1
    print(json.dumps(record_json(rec, args.unmasked), ensure_ascii=False, indent=2))
    return 0
