"""Self-service kiosk for village employment & social-security service points."""

from pathlib import Path

__version__ = "0.1.0"

#: Repository root (the folder holding config/, images/, systemd/).
ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"
IMAGES_DIR = ROOT / "images"
