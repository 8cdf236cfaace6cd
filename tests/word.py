"""Real Word files built with python-docx for the tests (none is checked in): a report with headings, a list and a
table between paragraphs, and the broken and password-protected files users have."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

REPORT_TEXT = (
    "# Báo cáo quý 3\n\n"
    "Doanh thu của hợp tác xã tăng 12% so với cùng kỳ năm trước.\n\n"
    "- Hà Nội dẫn đầu về doanh thu.\n"
    "- Đà Nẵng đứng thứ hai.\n\n"
    "| Thành phố | Doanh thu |\n"
    "| Hà Nội | 48 tỷ đồng |\n"
    "| Đà Nẵng | 31 tỷ đồng |\n\n"
    "## Kết luận\n\n"
    "Ban giám đốc đề xuất mở thêm một cửa hàng ở Huế vào năm 2027."
)
"""The text ``report_docx`` reads as: its body in reading order, the table where it stands."""


def report_docx(path: Path, title: str = "") -> Path:
    """A Word report: a heading, a paragraph, a bulleted and a numbered item, a table, a heading, a paragraph."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(report_bytes(title))
    return path


def report_bytes(title: str = "") -> bytes:
    """The bytes of ``report_docx``'s file."""
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.add_heading("Báo cáo quý 3", 1)
    document.add_paragraph("Doanh thu của hợp tác xã tăng 12% so với cùng kỳ năm trước.")
    document.add_paragraph("Hà Nội dẫn đầu về doanh thu.", style="List Bullet")
    document.add_paragraph("Đà Nẵng đứng thứ hai.", style="List Number")
    table = document.add_table(rows=3, cols=2)
    rows = [("Thành phố", "Doanh thu"), ("Hà Nội", "48 tỷ đồng"), ("Đà Nẵng", "31 tỷ đồng")]
    for row, cells in zip(table.rows, rows):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    document.add_heading("Kết luận", 2)
    document.add_paragraph("Ban giám đốc đề xuất mở thêm một cửa hàng ở Huế vào năm 2027.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def random_bytes_docx(path: Path) -> Path:
    """Random bytes named .docx (a download cut short, a file of another kind)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(random.Random(20).randbytes(4096))
    return path


def zip_without_document_docx(path: Path) -> Path:
    """A real .docx package with its ``word/document.xml`` taken out."""
    whole = io.BytesIO()
    report_docx(path)
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(whole, "w") as target:
        for name in source.namelist():
            if name != "word/document.xml":
                target.writestr(name, source.read(name))
    path.write_bytes(whole.getvalue())
    return path


def encrypted_docx(path: Path) -> Path:
    """The report saved with a password, as Word encrypts it (an OLE container holding the encrypted package)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encrypted_bytes())
    return path


def encrypted_bytes() -> bytes:
    """The bytes of ``encrypted_docx``'s file."""
    from msoffcrypto.format.ooxml import OOXMLFile

    locked = io.BytesIO()
    OOXMLFile(io.BytesIO(report_bytes())).encrypt("secret", locked)
    return locked.getvalue()
