"""QR decoder benchmark: pyzbar (the design card's choice, the baseline)
against zxing-cpp on the generated set (bench/make_qr_set.py).

    /work/venv/bin/python bench/qr_decoders.py [--set bench/out/qr_set] [--repeat 1] [--markdown]

Each 1280x720 frame is loaded first; the timed part is what the kiosk does
per camera frame (``decoder.decode(frame)``: BGR -> grey -> decode). Prints,
per decoder: decode rate on the frames with a code, false reads (a wrong
text, or any text on a negative), median and p95 ms per frame, then the
rate per category and the ratios zxing / pyzbar.

``zxing+rescue`` is zxing-cpp plus the kiosk's bounded rescue pass (2x cubic
upscale + unsharp mask, kiosk.hardware.qr_decode.RescuingDecoder) on every
frame where plain zxing finds nothing; in the kiosk it runs at most once a
second. Its extra cost is reported per rescued frame.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from kiosk.hardware.qr_decode import RescuingDecoder, make_decoder  # noqa: E402

DECODERS = ["pyzbar", "zxing", "zxing+rescue"]  # baseline first


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


def load_set(path: Path) -> list[dict]:
    index = path / "index.json"
    if not index.exists():
        import make_qr_set

        make_qr_set.build(path)
    items = json.loads(index.read_text())["items"]
    for it in items:
        it["frame"] = cv2.imread(str(path / it["file"]), cv2.IMREAD_COLOR)
    return items


def run(items: list[dict], name: str, repeat: int) -> dict:
    dec = RescuingDecoder(make_decoder(name.split("+")[0]), every=0) if name.endswith("+rescue") else make_decoder(name)
    dec.decode(items[0]["frame"])  # warm-up (library load, allocations)
    times, hits, false_reads, rescued_ms = [], 0, 0, []
    per_cat: dict[str, list[int]] = {}
    for it in items:
        best = None
        for _ in range(repeat):
            before = getattr(dec, "rescues", 0)
            t0 = time.perf_counter()
            texts = dec.decode(it["frame"])
            dt = time.perf_counter() - t0
            best = dt if best is None else min(best, dt)
        times.append(best * 1000)
        if getattr(dec, "rescues", 0) > before:
            rescued_ms.append(best * 1000)
        want = it["text"]
        ok = want is not None and want in texts
        wrong = [t for t in texts if t != want]
        false_reads += bool(wrong)
        hits += ok
        cat = per_cat.setdefault(it["category"], [0, 0])
        cat[1] += 1
        cat[0] += ok if want is not None else (not texts)
    positives = sum(1 for it in items if it["text"] is not None)
    return {"decoder": name, "decoded": hits, "positives": positives, "rate": hits / positives,
            "false_reads": false_reads, "median_ms": statistics.median(times), "p95_ms": p95(times),
            "per_category": per_cat, "rescued_ms": statistics.median(rescued_ms) if rescued_ms else None,
            "rescued": len(rescued_ms)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=ROOT / "bench" / "out" / "qr_set")
    ap.add_argument("--repeat", type=int, default=1, help="time each frame N times, keep the fastest")
    ap.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    args = ap.parse_args()
    items = load_set(args.set)
    n_pos = sum(1 for it in items if it["text"] is not None)
    print(f"QR set: {len(items)} frames 1280x720, {n_pos} with a code, {len(items) - n_pos} negatives ({args.set})")
    results = [run(items, name, args.repeat) for name in DECODERS]

    md = args.markdown
    head = ["decoder", "decoded", "rate", "false reads", "median ms/frame", "p95 ms/frame"]
    print(("| " + " | ".join(head) + " |\n|" + "---|" * len(head)) if md else
          f"{head[0]:8} {head[1]:>9} {head[2]:>7} {head[3]:>11} {head[4]:>16} {head[5]:>13}")
    for r in results:
        cells = [r["decoder"], f"{r['decoded']}/{r['positives']}", f"{r['rate']:.1%}", str(r["false_reads"]),
                 f"{r['median_ms']:.1f}", f"{r['p95_ms']:.1f}"]
        print(("| " + " | ".join(cells) + " |") if md else
              f"{cells[0]:8} {cells[1]:>9} {cells[2]:>7} {cells[3]:>11} {cells[4]:>16} {cells[5]:>13}")

    print()
    cats = list(results[0]["per_category"])
    head = ["category"] + [r["decoder"] for r in results]
    print(("| " + " | ".join(head) + " |\n|" + "---|" * len(head)) if md else
          "category        " + "".join(f"{r['decoder']:>10}" for r in results))
    for c in cats:
        cells = [f"{r['per_category'][c][0]}/{r['per_category'][c][1]}" for r in results]
        label = c + (" (correctly empty)" if c == "negative" else "")
        print(("| " + " | ".join([label] + cells) + " |") if md else f"{label:16}" + "".join(f"{x:>10}" for x in cells))

    print()
    for base, other in ((results[0], results[1]), (results[1], results[2])):
        print(f"ratios {other['decoder']}/{base['decoder']}: decoded x{other['decoded'] / max(1, base['decoded']):.2f}, "
              f"median time x{other['median_ms'] / base['median_ms']:.2f}, p95 time x{other['p95_ms'] / base['p95_ms']:.2f}")
    for r in results:
        if r["rescued_ms"] is not None:
            print(f"{r['decoder']}: {r['rescued']} frames went through the rescue pass, median {r['rescued_ms']:.1f} ms "
                  f"each (plain + rescue)")
    best = max(results, key=lambda r: (r["decoded"] - 5 * r["false_reads"], -r["median_ms"]))
    print(f"better decoder on this set: {best['decoder']}")


if __name__ == "__main__":
    main()
