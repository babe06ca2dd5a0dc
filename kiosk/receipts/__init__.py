"""Receipts: what the kiosk prints (acceptance, enquiry result, checklist,
certification), laid out from templates in config/receipts/."""

from kiosk.receipts.model import KINDS, STATUS_ACCEPTED, STATUS_QUEUED, Receipt
from kiosk.receipts.render import load_template, preview_image, render_receipt, receipt_context

__all__ = [
    "KINDS", "STATUS_ACCEPTED", "STATUS_QUEUED", "Receipt",
    "load_template", "preview_image", "render_receipt", "receipt_context",
]
