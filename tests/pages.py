"""Web pages as saved from a site, for the tests: a news article inside its site's chrome (menu, header, cookie
banner, side bar, footer, scripts), once in semantic HTML and once in bare divs, in Vietnamese and French."""

from __future__ import annotations

BODY = (
    '<h1>Cầu Long Biên được tu bổ</h1>\n'
    '<p class="dateline">Hà Nội, 14/10/2026</p>\n'
    '<p>Cầu Long Biên bắc qua sông Hồng được người Pháp xây dựng từ năm 1898 đến năm 1902.\n'
    'Cây cầu dài 2.290 mét và có 19 nhịp dàn thép.</p>\n'
    "<p>Le pont Paul-Doumer a été inauguré en 1902 ; sa restauration s'achèvera en 2027.</p>\n"
    '<h2>Số liệu chính</h2>\n'
    '<ul><li>Chiều dài: 2.290 mét</li><li>Kinh phí tu bổ: khoảng 1.000 tỷ đồng</li></ul>\n'
    '<table><tr><th>Năm</th><th>Sự kiện</th></tr><tr><td>1898</td><td>Khởi công xây dựng</td></tr>'
    '<tr><td>1902</td><td>Khánh thành cầu Doumer</td></tr></table>\n'
    '<p>Thành phố dự kiến hoàn thành việc tu bổ vào tháng 9 năm 2027, sau ba năm thi công.</p>\n'
)
BODY_TEXTS = [
    "# Cầu Long Biên được tu bổ",
    "Cầu Long Biên bắc qua sông Hồng được người Pháp xây dựng từ năm 1898 đến năm 1902. Cây cầu dài 2.290 mét",
    "Le pont Paul-Doumer a été inauguré en 1902 ; sa restauration s'achèvera en 2027.",
    "## Số liệu chính",
    "- Kinh phí tu bổ: khoảng 1.000 tỷ đồng",
    "Khánh thành cầu Doumer",
    "Thành phố dự kiến hoàn thành việc tu bổ vào tháng 9 năm 2027",
]
"""What the page's text holds: headings, paragraphs (a line break in the source is a space), a list item, a cell."""

CHROME_TEXTS = ["Home", "News", "Copyright 2024", "All rights reserved", "cookies", "Accept all", "tracking",
                "Tin liên quan", "Hà Nội mở rộng đường vành đai", "Đăng ký nhận tin"]
"""Words of the menu, footer, cookie banner, side bar, newsletter form and scripts: none may be in the text."""

_HEAD = ('<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Cầu Long Biên được tu bổ | Báo Sông Hồng'
         '</title><style>body { font-family: serif }</style>'
         '<script>window.tracking = {page: "home"};</script></head>\n')
_SCRIPT = "<script>document.write('tracking pixel');</script>"


def semantic_page() -> str:
    """The article in ``<main>``/``<article>``, the chrome in nav, header, aside, form, footer and a cookie box."""
    return (
        _HEAD + '<body>\n<header class="site-header"><a href="/">Báo Sông Hồng</a>'
        '<nav><a href="/">Home</a> | <a href="/news">News</a></nav></header>\n'
        '<div id="cookie-banner" class="cookie-consent"><p>We use cookies to improve your experience.</p>'
        '<button>Accept all</button></div>\n'
        f'<main><article>\n{BODY}</article>\n'
        '<aside><h3>Tin liên quan</h3><ul><li><a href="/a">Hà Nội mở rộng đường vành đai</a></li></ul></aside>\n'
        '<form><label>Đăng ký nhận tin</label><input name="email"></form></main>\n'
        f'<footer><p>Copyright 2024 Báo Sông Hồng. All rights reserved.</p></footer>\n{_SCRIPT}</body></html>'
    )


def div_page() -> str:
    """The same article and chrome in bare divs, as older sites are written (nothing marks what is what)."""
    return (
        _HEAD + '<body>\n<div id="top"><div class="logo">Báo Sông Hồng</div>'
        '<div class="menu"><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li></ul></div></div>\n'
        '<div id="cookie-notice"><p>We use cookies to improve your experience.</p><a href="#">Accept all</a></div>\n'
        f'<div id="content"><div class="post">\n{BODY}</div>\n'
        '<div class="sidebar"><h3>Tin liên quan</h3><ul><li><a href="/a">Hà Nội mở rộng đường vành đai</a></li>'
        '</ul></div></div>\n'
        '<div class="newsletter"><a href="/subscribe">Đăng ký nhận tin</a></div>\n'
        f'<div id="bottom"><p>Copyright 2024 Báo Sông Hồng. All rights reserved.</p></div>\n{_SCRIPT}</body></html>'
    )
