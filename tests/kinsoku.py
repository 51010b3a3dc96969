#!/usr/bin/env python3
"""Checks the line starts and ends of a PDF against the clreq kinsoku rules.

usage: kinsoku.py FILE.pdf      (runs pdftotext -bbox-layout on it)
       kinsoku.py - < bbox.html

A line that continues the one before it (which reached the right edge of
the text) must not start with a closing mark (、，；：。！？ ” ’ ） 》 〉 】 〕 」
』 · —— ……); no line may end with an opening one (“ ‘ （ 《 〈 【 〔 「 『); a
line of one Han character alone is a bad last line.  Prints each violation as
"page N: <line>" and exits 1 when there is any."""
import html
import re
import subprocess
import sys

NO_START = set("、，；：。！？”’）》〉】〕」』〗〙·・—…‰％%,.;:!?)]}")
NO_END = set("“‘（《〈【〔「『〖〘([{")
PAGE_NUMBER = re.compile(r"^—\s*\d+\s*—$")
HAN = re.compile(r"^[\u3400-\u9fff]$")


def lines_of(markup):
    """(page, text, xMin, xMax) of every visual line, in reading order.

    pdftotext splits a line where compressed punctuation makes glyph boxes
    overlap (its boxes use the font's full advance); pieces on the same
    baseline are joined again, left to right."""
    page = 0
    pat = (r'<page\b|<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"[^>]*>'
           r'(.*?)</line>')
    current = []

    def flush():
        if current:
            current.sort(key=lambda piece: piece[0])
            text = "".join(piece[2] for piece in current)
            yield page, text, current[0][0], max(piece[1] for piece in current)
            del current[:]

    for m in re.finditer(pat, markup, re.S):
        if m.group(0).startswith("<page"):
            yield from flush()
            page += 1
            continue
        words = re.findall(r"<word\b[^>]*>(.*?)</word>", m.group(5), re.S)
        text = "".join(html.unescape(w) for w in words)
        text = text.replace("\u200b", "").replace("\u2060", "").strip()
        if not text:
            continue
        y = (float(m.group(2)), float(m.group(4)))
        if current and abs(current[-1][3][0] - y[0]) > 1:
            yield from flush()
        current.append((float(m.group(1)), float(m.group(3)), text, y))
    yield from flush()


def check(markup):
    lines = list(lines_of(markup))
    right = {}
    for page, _, _, x_max in lines:
        right[page] = max(right.get(page, 0), x_max)
    bad = []
    prev = None
    for page, text, _, x_max in lines:
        if PAGE_NUMBER.match(text):
            continue
        continues = prev is None or prev[1] >= right[prev[0]] - 12
        if continues and text[0] in NO_START:
            bad.append((page, "starts with %s" % text[0], text))
        if text[-1] in NO_END:
            bad.append((page, "ends with %s" % text[-1], text))
        if HAN.match(text):
            bad.append((page, "one character alone", text))
        prev = (page, x_max)
    return bad


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "-":
        markup = sys.stdin.read()
    else:
        markup = subprocess.run(["pdftotext", "-bbox-layout", argv[1], "-"], check=True,
                                capture_output=True, text=True).stdout
    bad = check(markup)
    for page, why, text in bad:
        print("page %d: %s: %s" % (page, why, text))
    total = sum(1 for _ in lines_of(markup))
    print("%d lines, %d violations" % (total, len(bad)), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
