"""Draw docs/ribbon.png, a picture of the add-in's 民主评议 ribbon tab, for the README.

The groups, labels and icons come from macros/customUI14.xml, so the picture follows
the ribbon. The icons are simple drawings in the spirit of Excel's built-in ones (the
real imageMso bitmaps exist only inside Office). Needs Pillow and a CJK font
(Debian: fonts-noto-cjk):

    python docs/render_ribbon.py [--out docs/ribbon.png]
"""

import argparse
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
RIBBON = ROOT / "macros" / "customUI14.xml"
CUI = "{http://schemas.microsoft.com/office/2009/07/customui}"
S = 2  # drawn at twice the screen size, for sharp text in the README

GREEN, INK, GREY, LINE = (33, 115, 70), (38, 38, 38), (96, 96, 96), (214, 214, 214)
BAND, BODY, BLUE, RED = (243, 243, 243), (250, 250, 250), (43, 87, 154), (196, 43, 28)
NEIGHBOURS = (["文件", "开始"], ["插入", "页面布局", "公式", "数据", "审阅", "视图"])


def cjk_font(size, bold=False):
    """Noto Sans CJK SC at ``size`` screen pixels (found through fontconfig when possible)."""
    candidates = []
    if shutil.which("fc-match"):
        pattern = "Noto Sans CJK SC" + (":bold" if bold else "")
        res = subprocess.run(["fc-match", "-f", "%{file}:%{index}", pattern],
                             capture_output=True, text=True)
        if res.returncode == 0 and ":" in res.stdout:
            path, _, index = res.stdout.rpartition(":")
            candidates.append((path, int(index or 0)))
    name = "NotoSansCJK-Bold.ttc" if bold else "NotoSansCJK-Regular.ttc"
    candidates.append((f"/usr/share/fonts/opentype/noto/{name}", 2))  # index 2: SC
    for path, index in candidates:
        if Path(path).is_file() and "CJK" in path:
            return ImageFont.truetype(path, size * S, index=index)
    raise SystemExit("找不到 Noto Sans CJK 字体:请安装 fonts-noto-cjk")


def ribbon_groups():
    """[(group label, [(button label, imageMso), ...]), ...] of the one custom tab."""
    root = ET.parse(RIBBON).getroot()
    tab = root.find(f"{CUI}ribbon/{CUI}tabs/{CUI}tab")
    groups = [(g.get("label"), [(b.get("label"), b.get("imageMso")) for b in g.iter(f"{CUI}button")])
              for g in tab.iter(f"{CUI}group")]
    return tab.get("label"), groups


def wrap(label):
    """Excel sets a long large-button label on two lines (here: the last three characters below)."""
    if len(label) <= 4:
        return [label]
    return [label[:-3], label[-3:]]


# --- icons: 32 x 32 screen pixels, origin at the top left ------------------------------

def _box(x, y, *coords):
    return [v * S + (x if i % 2 == 0 else y) for i, v in enumerate(coords)]


def icon_file_new(d, x, y):
    d.polygon(_box(x, y, 7, 3, 20, 3, 26, 9, 26, 29, 7, 29), fill="white", outline=GREY, width=S)
    d.polygon(_box(x, y, 20, 3, 20, 9, 26, 9), fill=LINE, outline=GREY, width=S)
    d.ellipse(_box(x, y, 17, 17, 31, 31), fill=(255, 192, 0), outline=(191, 134, 0), width=S)
    d.line(_box(x, y, 24, 20, 24, 28), fill="white", width=2 * S)
    d.line(_box(x, y, 20, 24, 28, 24), fill="white", width=2 * S)


def icon_data_validation(d, x, y):
    d.rectangle(_box(x, y, 3, 5, 25, 25), fill="white", outline=GREY, width=S)
    for v in (12, 19):
        d.line(_box(x, y, 3, v, 25, v), fill=LINE, width=S)
    d.line(_box(x, y, 12, 5, 12, 25), fill=LINE, width=S)
    d.rectangle(_box(x, y, 3, 5, 25, 9), fill=GREEN)
    d.line(_box(x, y, 15, 22, 20, 28, 30, 14), fill=GREEN, width=3 * S, joint="curve")


def icon_calculate(d, x, y):
    d.rounded_rectangle(_box(x, y, 6, 2, 26, 30), radius=2 * S, fill=(235, 235, 235), outline=GREY, width=S)
    d.rectangle(_box(x, y, 9, 5, 23, 11), fill=(220, 235, 220), outline=GREEN, width=S)
    for row in range(3):
        for col in range(3):
            cx, cy = 9 + col * 5, 14 + row * 5
            fill = RED if (row, col) == (2, 2) else GREY
            d.rectangle(_box(x, y, cx, cy, cx + 3, cy + 3), fill=fill)


def icon_clear_formats(d, x, y):
    font = cjk_font(15, bold=True)
    d.text((x + 3 * S, y + 0 * S), "A", font=font, fill=INK)
    d.polygon(_box(x, y, 12, 22, 22, 12, 30, 20, 20, 30), fill=(255, 130, 150), outline=GREY)
    d.polygon(_box(x, y, 12, 22, 16, 18, 24, 26, 20, 30), fill="white", outline=GREY)
    d.line(_box(x, y, 4, 30, 18, 30), fill=GREY, width=S)


def icon_auto_sum(d, x, y):
    d.line(_box(x, y, 24, 6, 24, 4, 7, 4, 17, 16, 7, 28, 25, 28, 25, 25), fill=BLUE, width=3 * S,
           joint="curve")


def icon_pdf(d, x, y):
    d.polygon(_box(x, y, 6, 2, 20, 2, 27, 9, 27, 30, 6, 30), fill="white", outline=GREY, width=S)
    d.polygon(_box(x, y, 20, 2, 20, 9, 27, 9), fill=LINE, outline=GREY, width=S)
    d.rectangle(_box(x, y, 2, 15, 24, 25), fill=RED)
    d.text((x + 4 * S, y + 14 * S), "PDF", font=ImageFont.load_default(size=9 * S), fill="white")


def icon_help(d, x, y):
    d.ellipse(_box(x, y, 3, 3, 29, 29), fill=BLUE)
    font = cjk_font(18, bold=True)
    w = d.textlength("?", font=font)
    d.text((x + 16 * S - w / 2, y + 1 * S), "?", font=font, fill="white")


ICONS = {"FileNew": icon_file_new, "DataValidation": icon_data_validation,
         "CalculateNow": icon_calculate, "ClearFormats": icon_clear_formats,
         "AutoSum": icon_auto_sum, "FileSaveAsPdfOrXps": icon_pdf, "Help": icon_help}


def icon_unknown(d, x, y):
    d.rectangle(_box(x, y, 4, 4, 28, 28), outline=GREY, width=S)


# --- the picture -----------------------------------------------------------------------

def render(out):
    tab_label, groups = ribbon_groups()
    label_font, tab_font, group_font = cjk_font(12), cjk_font(13), cjk_font(11)
    tab_bold = cjk_font(13, bold=True)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))

    def width(text, font):
        return probe.textlength(text, font=font) / S

    # lay out the buttons: each as wide as its label, at least 52 screen pixels
    layout, x = [], 8
    for g_label, buttons in groups:
        start = x
        cells = []
        for label, image in buttons:
            w = max(52, max(width(line, label_font) for line in wrap(label)) + 14)
            cells.append((x, w, label, image))
            x += w + 2
        g_width = max(x - start, width(g_label, group_font) + 16)
        layout.append((start, g_width, g_label, cells))
        x = start + g_width + 9  # room for the separator
    total_w = int(x + 120)
    tabs_h, body_h = 30, 100
    img = Image.new("RGB", (total_w * S, (tabs_h + body_h + 1) * S), BAND)
    d = ImageDraw.Draw(img)

    # tab row, with the custom tab after 开始 (insertAfterMso="TabHome")
    tx = 12
    names = NEIGHBOURS[0] + [tab_label] + NEIGHBOURS[1]
    for name in names:
        font = tab_bold if name == tab_label else tab_font
        w = width(name, font) + 22
        if name == tab_label:
            d.rectangle([tx * S, 4 * S, (tx + w) * S, (tabs_h + 1) * S], fill=BODY, outline=LINE, width=S)
            d.line([(tx + 1) * S, tabs_h * S, (tx + w - 1) * S, tabs_h * S], fill=BODY, width=2 * S)
            d.line([(tx + 6) * S, (tabs_h - 2) * S, (tx + w - 6) * S, (tabs_h - 2) * S],
                   fill=GREEN, width=2 * S)
        d.text(((tx + 11) * S, 8 * S), name, font=font, fill=GREEN if name == tab_label else INK)
        tx += w + 4

    # ribbon body
    top = tabs_h
    d.rectangle([0, top * S, total_w * S, (top + body_h) * S], fill=BODY)
    d.line([0, top * S, total_w * S, top * S], fill=LINE, width=S)
    tab_w = sum(width(n, tab_font) + 26 for n in NEIGHBOURS[0])  # keep the selected tab joined
    d.line([(12 + tab_w) * S, top * S, (12 + tab_w + width(tab_label, tab_bold) + 22) * S, top * S],
           fill=BODY, width=S)
    d.line([0, (top + body_h) * S, total_w * S, (top + body_h) * S], fill=LINE, width=S)
    for start, g_width, g_label, cells in layout:
        for bx, bw, label, image in cells:
            ix = int((bx + bw / 2 - 16) * S)
            ICONS.get(image, icon_unknown)(d, ix, (top + 8) * S)
            for n, line in enumerate(wrap(label)):
                lw = width(line, label_font)
                d.text(((bx + bw / 2 - lw / 2) * S, (top + 44 + n * 16) * S), line, font=label_font, fill=INK)
        gw = width(g_label, group_font)
        d.text(((start + g_width / 2 - gw / 2) * S, (top + body_h - 19) * S), g_label,
               font=group_font, fill=GREY)
        sx = (start + g_width + 4) * S
        d.line([sx, (top + 6) * S, sx, (top + body_h - 6) * S], fill=LINE, width=S)
    img.save(out, optimize=True)
    return out


def main():
    p = argparse.ArgumentParser(description="绘制功能区“民主评议”选项卡的示意图")
    p.add_argument("--out", default=str(ROOT / "docs" / "ribbon.png"), help="输出的 PNG 文件")
    print(f"已生成 {render(p.parse_args().out)}")


if __name__ == "__main__":
    main()
