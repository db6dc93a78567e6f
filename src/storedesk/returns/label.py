"""The return label: an A4 PDF with the label on top (sender, return address, RMA number, a Code 128
barcode of the label number and a QR code the parcel shop can scan) and the instructions in the
customer's language below. ReportLab draws it; the QR matrix comes from ``qrcode`` (no imaging library).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import qrcode
import qrcode.constants
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from storedesk.helpcenter.public import t
from storedesk.returns.i18n import conditions_text
from storedesk.returns.service import ReturnView, shop_policy
from storedesk.shops.models import Shop

FONT_CANDIDATES = (
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
    ("/usr/share/fonts/TTF/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf"),
)


@lru_cache(maxsize=1)
def fonts() -> tuple[str, str]:
    """A Unicode TrueType font (ő, ł, ø print correctly); ReportLab's Vera, then Helvetica, otherwise."""
    for regular, bold in FONT_CANDIDATES:
        if Path(regular).is_file() and Path(bold).is_file():
            pdfmetrics.registerFont(TTFont("SDSans", regular))
            pdfmetrics.registerFont(TTFont("SDSans-Bold", bold))
            return "SDSans", "SDSans-Bold"
    try:
        import reportlab

        base = Path(reportlab.__file__).parent / "fonts"
        pdfmetrics.registerFont(TTFont("SDSans", str(base / "Vera.ttf")))
        pdfmetrics.registerFont(TTFont("SDSans-Bold", str(base / "VeraBd.ttf")))
        return "SDSans", "SDSans-Bold"
    except Exception:  # pragma: no cover - ReportLab always ships Vera
        return "Helvetica", "Helvetica-Bold"


@dataclass(frozen=True)
class LabelData:
    language: str
    return_number: str
    order_number: str
    label_number: str
    carrier: str
    sender: Mapping[str, str]
    recipient: Mapping[str, str]
    items: Sequence[tuple[str, int]]
    postage_paid: bool
    qr_payload: str
    customs_note: str | None
    conditions: str
    refund_days: int


def label_for(view: ReturnView, shop: Shop, language: str, qr_payload: str) -> LabelData:
    """What goes on the label of a return (the customer's address as sender, the shop's return
    address as recipient)."""
    case = view.case
    policy = shop_policy(shop)
    address = dict(policy.return_address)
    recipient = {
        "name": address.get("name") or f"{shop.name}",
        "company": address.get("company", ""),
        "address1": address.get("address1") or address.get("street", ""),
        "address2": address.get("address2", ""),
        "zip": address.get("zip", ""),
        "city": address.get("city", ""),
        "country": address.get("country") or (shop.country or ""),
    }
    sender = {
        str(k): str(v) for k, v in (view.order.shipping_address or {}).items() if isinstance(v, str | int)
    }
    if not sender.get("name") and view.customer is not None:
        sender["name"] = view.customer.name or view.customer.email or ""
    items = [
        (f"{lp.line.title}" + (f" · {lp.line.variant_title}" if lp.line.variant_title else ""), line.quantity)
        for line, lp, _choice, _variant in view.lines
        if lp is not None
    ]
    return LabelData(
        language=language,
        return_number=view.ret.number,
        order_number=view.order.number,
        label_number=(case.label_number if case else None) or view.ret.number,
        carrier=(case.label_carrier if case else None) or "DHL",
        sender=sender,
        recipient=recipient,
        items=items,
        postage_paid=not (case and case.customer_pays_shipping and not case.label_fee_minor),
        qr_payload=qr_payload,
        customs_note=case.customs_note if case else None,
        conditions=conditions_text(policy.conditions, language),
        refund_days=int((shop.policies or {}).get("refund_processing_days", 5)),
    )


def _address_lines(address: Mapping[str, str]) -> list[str]:
    keys = ("name", "company", "address1", "address2")
    lines = [str(address[k]) for k in keys if address.get(k)]
    city = " ".join(str(address[k]) for k in ("zip", "city") if address.get(k))
    if city:
        lines.append(city)
    if address.get("country"):
        lines.append(str(address["country"]))
    return lines


def _qr(canvas: Canvas, payload: str, x: float, y: float, size: float) -> None:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(payload)
    code.make(fit=True)
    matrix = code.get_matrix()
    cell = size / len(matrix)
    canvas.setFillColorRGB(0, 0, 0)
    for row, cells in enumerate(matrix):
        for col, dark in enumerate(cells):
            if dark:
                canvas.rect(x + col * cell, y + size - (row + 1) * cell, cell, cell, stroke=0, fill=1)


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            trial = f"{current} {word}".strip()
            if pdfmetrics.stringWidth(trial, font, size) <= width or not current:
                current = trial
            else:
                lines.append(current)
                current = word
        lines.append(current)
    return lines


def render_label(data: LabelData) -> bytes:
    regular, bold = fonts()
    lang = data.language
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{t(lang, 'label.title')} {data.return_number}")
    canvas.setAuthor("storedesk")
    _width, height = A4
    # the label: 150 × 100 mm box at the top
    left, top = 20 * mm, height - 20 * mm
    box_w, box_h = 170 * mm, 110 * mm
    canvas.setLineWidth(1.2)
    canvas.setDash(4, 3)
    canvas.rect(left, top - box_h, box_w, box_h)
    canvas.setDash()
    canvas.setFont(bold, 15)
    canvas.drawString(left + 6 * mm, top - 10 * mm, f"{t(lang, 'label.title')} · {data.carrier}")
    canvas.setFont(bold, 11)
    postage = t(lang, "ret.postage_paid") if data.postage_paid else t(lang, "ret.postage_due")
    canvas.drawRightString(left + box_w - 6 * mm, top - 10 * mm, postage[:60])
    canvas.setFont(regular, 8)
    canvas.drawString(left + 6 * mm, top - 18 * mm, t(lang, "label.from").upper())
    y = top - 23 * mm
    canvas.setFont(regular, 10)
    for line in _address_lines(data.sender)[:6]:
        canvas.drawString(left + 6 * mm, y, line[:48])
        y -= 4.6 * mm
    canvas.setFont(regular, 8)
    canvas.drawString(left + 6 * mm, top - 56 * mm, t(lang, "label.to").upper())
    y = top - 62 * mm
    canvas.setFont(bold, 13)
    for line in _address_lines(data.recipient)[:6]:
        canvas.drawString(left + 6 * mm, y, line[:40])
        y -= 5.6 * mm
    # QR code and RMA number on the right
    qr_size = 42 * mm
    _qr(canvas, data.qr_payload, left + box_w - qr_size - 8 * mm, top - 18 * mm - qr_size, qr_size)
    canvas.setFont(regular, 7.5)
    canvas.drawCentredString(
        left + box_w - qr_size / 2 - 8 * mm, top - 22 * mm - qr_size, t(lang, "label.scan")
    )
    canvas.setFont(regular, 8)
    canvas.drawString(left + box_w - 58 * mm, top - 72 * mm, t(lang, "label.rma").upper())
    canvas.setFont(bold, 16)
    canvas.drawString(left + box_w - 58 * mm, top - 79 * mm, data.return_number)
    canvas.setFont(regular, 9)
    canvas.drawString(left + box_w - 58 * mm, top - 85 * mm, f"{t(lang, 'label.order')} {data.order_number}")
    # barcode across the bottom of the label
    barcode = Code128(data.label_number, barHeight=16 * mm, barWidth=0.42 * mm, humanReadable=False)
    barcode.drawOn(canvas, left + 6 * mm, top - box_h + 9 * mm)
    canvas.setFont(regular, 10)
    canvas.drawString(left + 6 * mm, top - box_h + 4 * mm, data.label_number)
    # instructions below
    y = top - box_h - 14 * mm
    canvas.setFont(bold, 14)
    canvas.drawString(left, y, t(lang, "ret.instructions_title"))
    y -= 8 * mm
    steps = [
        t(lang, "ret.instr.pack"),
        t(lang, "ret.instr.label"),
        t(lang, "ret.instr.drop"),
        t(lang, "ret.instr.refund", days=data.refund_days),
    ]
    if data.conditions:
        steps.insert(0, data.conditions)
    canvas.setFont(regular, 10.5)
    for n, step in enumerate(steps, start=1):
        for i, line in enumerate(_wrap(step, regular, 10.5, box_w - 10 * mm)):
            canvas.drawString(left, y, (f"{n}.  " if i == 0 else "     ") + line)
            y -= 5.2 * mm
        y -= 1.5 * mm
    if data.customs_note:
        y -= 3 * mm
        canvas.setFont(bold, 11)
        canvas.drawString(left, y, t(lang, "ret.customs_title"))
        y -= 6 * mm
        canvas.setFont(regular, 10)
        for line in _wrap(data.customs_note, regular, 10, box_w):
            canvas.drawString(left, y, line)
            y -= 5 * mm
    if data.items:
        y -= 4 * mm
        canvas.setFont(bold, 11)
        canvas.drawString(left, y, t(lang, "label.items"))
        y -= 6 * mm
        canvas.setFont(regular, 10)
        for title, quantity in list(data.items)[:12]:
            canvas.drawString(left, y, f"{quantity} × {title}"[:95])
            y -= 5 * mm
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
