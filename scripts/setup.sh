#!/usr/bin/env bash
# Installs everything the kiosk and its tests need, idempotently:
# Debian packages (only those missing) and a virtual environment with the
# project with its sim and test extras, pinned by constraints.txt (re-installed
# only when pyproject.toml or constraints.txt changes).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  xvfb xauth fonts-noto-cjk            # virtual display, Chinese font
  pcscd libpcsclite-dev vsmartcard-vpcd # PC/SC stack + virtual reader for the social-security card
  libzbar0                              # pyzbar QR decoder
  socat                                 # pty pairs for serial simulators
  nftables                              # keeps the demo's virtual card reader (vpcd) on loopback
  espeak-ng                             # offline Mandarin voice prompts
  libmtdev1 libgl1 libegl1 libgles2 libsdl2-2.0-0 xclip # Kivy runtime
  systemd                               # systemd-analyze verify for the units
  mosquitto mosquitto-clients           # embedded MQTT broker for the fleet link (demo, tests, bench)
  chromium                              # headless browser for the fleet console test
  python3-venv
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

VENV="${VENV:-.venv}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating virtual environment $VENV"
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.kiosk-installed"
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages into $VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  # The pinned set the suite passes with (constraints.txt); the simulator (sim) and the
  # checkers (test) too. A production image installs plain `.` without them.
  "$VENV/bin/python" -m pip install -q -c constraints.txt -e ".[sim,test]"
  echo "$want" > "$stamp"
fi
# The pinyin keyboard's word list and character table are built once, at set-up time (~2 s),
# so the kiosk never loads pypinyin or jieba (~135 MiB).
if [ ! -s var/pinyin_words.tsv ] || [ ! -s var/pinyin_chars.tsv ] || [ pyproject.toml -nt var/pinyin_words.tsv ]; then
  "$VENV/bin/python" -m kiosk.flows.pinyin_ime --quiet || echo "setup: warning: pinyin word list not built"
fi
# Offline voice prompts are generated once, at set-up time (never at run time).
if [ -f kiosk/voice_build.py ]; then
  "$VENV/bin/python" -m kiosk.voice_build --quiet || echo "setup: warning: voice prompts not generated"
fi
# Bytecode compiled at install time: the systemd unit runs with PYTHONDONTWRITEBYTECODE=1
# from a read-only /opt, where every start would otherwise compile the kiosk's modules
# from source (~90 ms; docs/benchmarks.md, bench/footprint.py).
"$VENV/bin/python" -m compileall -q -j 0 kiosk >/dev/null || echo "setup: warning: bytecode not compiled"
