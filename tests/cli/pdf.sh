# jianbao pdf: the printed bulletin and document, checked with poppler.
. "$TESTS_ROOT/lib.sh"
ROOT=$(dirname "$TESTS_ROOT")
export SOURCE_DATE_EPOCH=1704931200 # 2024-01-11: fixed dates in the PDFs

for tool in pdfinfo pdffonts pdftotext pdfimages python3; do
	if ! command -v $tool >/dev/null 2>&1; then
		not_ok "pdf: $tool is installed (scripts/install-deps test)"
		exit 0
	fi
done

# pdf NAME SOURCE: typesets SOURCE into $WORK/NAME.pdf (stderr in NAME.err)
pdf() {
	"$JIANBAO" pdf "$2" -o "$WORK/$1.pdf" 2>"$WORK/$1.err"
}

for src in "$ROOT"/content/bulletins/*/*.md; do
	rel=${src#"$ROOT"/}
	name=$(echo "$rel" | sed 's|content/bulletins/||; s|/|-|; s|\.md$||')
	check "pdf: $rel typesets" pdf "$name" "$src"
done
check "pdf: the alliance document typesets" pdf document "$TESTS_ROOT/fixtures/document.md"
check "pdf: the punctuation stress text typesets" pdf kinsoku "$TESTS_ROOT/fixtures/kinsoku.md"

# ---- page size, page count, fonts ----
for f in 2022-10 2024-01 2026-02 2026-03 document; do
	pdfinfo "$WORK/$f.pdf" >"$WORK/$f.info" 2>&1
	expect_contains "pdf: $f is A4" "$WORK/$f.info" "Page size:       595.276 x 841.89 pts (A4)"
	pdffonts "$WORK/$f.pdf" | awk 'NR > 2 && $(NF-4) != "yes" { bad = 1; print } END { exit bad }' \
		>"$WORK/$f.fonts" 2>&1
	expect_status "pdf: $f embeds every font" 0 $?
done
pages() { sed -n 's/^Pages: *//p' "$WORK/$1.info"; }
expect_status "pdf: 2022/10 has 8 pages" 8 "$(pages 2022-10)"
expect_status "pdf: 2024/01 (with its chart) has 5 pages" 5 "$(pages 2024-01)"
expect_status "pdf: the document has 2 pages" 2 "$(pages document)"
expect_contains "pdf: title metadata" "$WORK/2024-01.info" "Title:           开新篇 启新程 谋发展"
expect_contains "pdf: subject metadata" "$WORK/2024-01.info" "Subject:         继续教育网络园区工作简报 2024年第1期 总第46期"
expect_contains "pdf: creation date from the input" "$WORK/2024-01.info" "CreationDate:    Thu Jan 11 00:00:00 2024 UTC"

# ---- embedded fonts: each once, CFF programs without subroutines, small ----
# one subset per font: a chart's text joins the body's subsets (2026/02: its labels and
# the 黑体 headings are both Noto Sans CJK)
once_each() {
	pdffonts "$1" | awk 'NR > 2 { sub(/^[A-Z]+\+/, "", $1); k = $1 " " $(NF-6) " " $(NF-5) " " $(NF-4); if (seen[k]++) { print "twice: " k; bad = 1 } } END { exit bad }'
}
for f in 2022-10 2024-01 2026-02 2026-03 document; do
	check "pdf: $f embeds no font twice" once_each "$WORK/$f.pdf"
done
# The CID-keyed CFF font programs: no subroutines (cairo keeps all of a Noto
# CJK font's), and per glyph no more bytes than the installed font's CFF
# table takes per glyph (fc-list finds the file by PostScript name).
cff_fonts() {
	python3 - "$1" <<'PY'
import re, struct, subprocess, sys, zlib
pdf = open(sys.argv[1], "rb").read()
def obj(n):
    m = re.search(rb"(?m)^%d 0 obj\n" % n, pdf)
    return m.end() if m else None
def index(d, at):
    count = struct.unpack(">H", d[at:at + 2])[0]
    if count == 0:
        return [], at + 2
    size = d[at + 2]
    offs = [int.from_bytes(d[at + 3 + i * size:at + 3 + (i + 1) * size], "big") for i in range(count + 1)]
    base = at + 2 + (count + 1) * size
    return [d[base + offs[i]:base + offs[i + 1]] for i in range(count)], base + offs[-1]
def dict_ops(d):
    ops, args, i = {}, [], 0
    while i < len(d):
        b = d[i]
        if b <= 21:
            op = 1200 + d[i + 1] if b == 12 else b
            i += 2 if b == 12 else 1
            ops[op], args = args, []
        elif b == 28: args.append(struct.unpack(">h", d[i + 1:i + 3])[0]); i += 3
        elif b == 29: args.append(struct.unpack(">i", d[i + 1:i + 5])[0]); i += 5
        elif b == 30:
            i += 1
            while d[i] & 15 != 15 and d[i] >> 4 != 15: i += 1
            i += 1; args.append(0)
        elif b <= 246: args.append(b - 139); i += 1
        elif b <= 250: args.append((b - 247) * 256 + d[i + 1] + 108); i += 2
        else: args.append(-(b - 251) * 256 - d[i + 1] - 108); i += 2
    return ops
def source(psname):
    out = subprocess.run(["fc-list", "-f", "%{file}|%{index}|%{postscriptname}\n"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        f, i, name = line.split("|")
        if name == psname:
            data = open(f, "rb").read()
            head = struct.unpack(">I", data[12 + 4 * int(i):16 + 4 * int(i)])[0] if data[:4] == b"ttcf" else 0
            n = struct.unpack(">H", data[head + 4:head + 6])[0]
            tables = {data[head + 12 + 16 * k:head + 16 + 16 * k]: struct.unpack(">II", data[head + 20 + 16 * k:head + 28 + 16 * k]) for k in range(n)}
            glyphs = struct.unpack(">H", data[tables[b"maxp"][0] + 4:tables[b"maxp"][0] + 6])[0]
            return tables[b"CFF "][1], glyphs
    return None
bad, fonts, total, glyphs, allowed = 0, 0, 0, 0, 0
for m in re.finditer(rb"/FontFile3 (\d+) 0 R", pdf):
    at = obj(int(m.group(1)))
    head = pdf[at:pdf.index(b"stream\n", at)]
    if b"/CIDFontType0C" not in head:
        continue
    length = int(pdf[obj(int(re.search(rb"/Length (\d+) 0 R", head).group(1))):].split()[0])
    data = pdf[pdf.index(b"stream\n", at) + 7:][:length]
    cff = zlib.decompress(data)
    name = re.search(rb"/FontName /\w+\+(\S+)", pdf[pdf.rfind(b"obj", 0, m.start()):m.end()]).group(1).decode()
    _, at2 = index(cff, cff[2])
    tops, at2 = index(cff, at2)
    _, at2 = index(cff, at2)
    gsubrs, _ = index(cff, at2)
    top = dict_ops(tops[0])
    chars, _ = index(cff, top[17][0])
    fds, _ = index(cff, top[1236][0])
    local = sum(19 in dict_ops(cff[dict_ops(fd)[18][1]:][:dict_ops(fd)[18][0]]) for fd in fds)
    if gsubrs or local:
        print("%s: %d global and %d local subroutine indexes" % (name, len(gsubrs) > 0, local))
        bad = 1
    fonts += 1
    src = source(name)
    if src:
        total += length; glyphs += len(chars); allowed += src[0] / src[1] * len(chars)
if total > allowed:
    print("CFF fonts: %d bytes for %d glyphs, the installed fonts %.0f" % (total, glyphs, allowed))
    bad = 1
if not fonts:
    print("no CFF font found")
    bad = 1
sys.exit(bad)
PY
}
for f in 2022-10 2024-01 2026-02 2026-03 document; do
	check "pdf: $f embeds compact CFF fonts" cff_fonts "$WORK/$f.pdf"
done

# ---- reading order: masthead, issue line, publisher and date, ..., closing block ----
pdftotext -layout "$WORK/2024-01.pdf" "$WORK/2024-01.txt"
in_order() {
	python3 - "$@" <<'PY'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
squeezed = "".join(text.split())
at = 0
for want in sys.argv[2:]:
    i = squeezed.find("".join(want.split()), at)
    if i < 0:
        print("missing or out of order: %s" % want)
        sys.exit(1)
    at = i + 1
PY
}
check "pdf: masthead, issue line, publisher, date, title, body, closing block in order" in_order \
	"$WORK/2024-01.txt" 继续教育网络园区工作简报 "2024年第1期 总第46期" 安徽继续教育网络园区管理中心 \
	"2024年1月11日" "开新篇 启新程 谋发展" 1月9日上午 贡献新的智慧和力量 指导：省教育厅高教处 编发：网络园区管理中心
pdftotext -layout "$WORK/document.pdf" "$WORK/document.txt"
check "pdf: document head, body, signature and imprint in order" in_order "$WORK/document.txt" \
	安徽高校继续教育合作联盟文件 "继教合作联盟〔2021〕1号" 关于印发《安徽高校继续教育合作联盟章程》的通知 \
	各成员单位： 安徽高校继续教育合作联盟 "2021年1月5日" 抄送：省教育厅高教处 "2021年1月5日印发"

# ---- every body paragraph is indented two characters, also right after a heading ----
indent_of() {
	python3 - "$@" <<'PY'
import re, subprocess, sys
pdf, start = sys.argv[1], sys.argv[2]
out = subprocess.run(["pdftotext", "-bbox-layout", pdf, "-"], check=True, capture_output=True, text=True).stdout
left = 28 * 72 / 25.4                 # the text block's left edge
em = 156 * 72 / 25.4 / 28             # one character on the grid
for m in re.finditer(r'<line xMin="([\d.]+)"[^>]*>(.*?)</line>', out, re.S):
    text = "".join(re.findall(r"<word[^>]*>(.*?)</word>", m.group(2)))
    if text.startswith(start):
        indent = (float(m.group(1)) - left) / em
        if abs(indent - 2) > 0.1:
            print("%s… starts %.2f characters in, not 2" % (start, indent))
            sys.exit(1)
        sys.exit(0)
print("no line starts with " + start)
sys.exit(1)
PY
}
check "pdf: the paragraph under a heading is indented (2026/02 page 1)" indent_of "$WORK/2026-02.pdf" 联盟的稳健前行
check "pdf: the paragraph under a heading is indented (2022/10)" indent_of "$WORK/2022-10.pdf" 全年以联盟名义发文
check "pdf: a paragraph after a table is indented (2022/10)" indent_of "$WORK/2022-10.pdf" 2021年6月成立

# ---- page numbers: odd pages right, even pages left, 7 mm below the text block ----
pdftotext -bbox "$WORK/2022-10.pdf" "$WORK/2022-10.bbox"
page_numbers() {
	python3 - "$1" <<'PY'
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
pages = re.split(r"<page ", html)[1:]
bad = 0
for n, page in enumerate(pages, 1):
    width = float(re.search(r'width="([\d.]+)"', page).group(1))
    words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page)
    nums = [w for w in words if w[4] == str(n) and float(w[1]) > 740]
    if not nums:
        print("page %d: no page number" % n); bad = 1; continue
    x0, y0, x1, y1, _ = map(lambda v: v, nums[-1])
    centre = (float(x0) + float(x1)) / 2
    # text block: 28 mm .. 184 mm; bottom edge 262 mm; number 7 mm below it
    if n % 2 and not centre > width / 2 + 150:
        print("page %d: number at x=%.1f is not on the right" % (n, centre)); bad = 1
    if n % 2 == 0 and not centre < width / 2 - 150:
        print("page %d: number at x=%.1f is not on the left" % (n, centre)); bad = 1
    # the middle of its box ≈ the middle of the 四号 em box whose top is 7 mm down
    middle, want = (float(y0) + float(y1)) / 2, (262 + 7) * 72 / 25.4 + 7
    if abs(middle - want) > 3:
        print("page %d: number at y=%.1f, not 7 mm below the text block (%.1f)" % (n, middle, want)); bad = 1
sys.exit(bad)
PY
}
check "pdf: page numbers — N — sit right on odd pages, left on even ones" page_numbers "$WORK/2022-10.bbox"

# ---- the closing block stands under the end of the text, never alone on a page ----
last_page_text() {
	python3 - "$1" <<'PY'
import re, subprocess, sys
out = subprocess.run(["pdftotext", "-bbox-layout", sys.argv[1], "-"], check=True,
                     capture_output=True, text=True).stdout
page = out.split("<page ")[-1]
lines = ["".join(re.findall(r"<word[^>]*>(.*?)</word>", m)) for m in re.findall(r"<line[^>]*>(.*?)</line>", page, re.S)]
body = [l for l in lines if not re.match(r"^(指导|编发)：|^—\d+—$", l)]
if len(body) < 2 or not any(l.startswith("指导：") for l in lines):
    print("last page: %s" % " / ".join(lines))
    sys.exit(1)
PY
}
check "pdf: 2022/10 ends with text above its closing block" last_page_text "$WORK/2022-10.pdf"
# five paragraphs of four lines fill the first page down to the closing block's rule
python3 -c 'print("---\nguidance: 省教育厅高教处\neditor: 网络园区管理中心\ndate: 2024-01-01\n---\n\n" + "\n\n".join(["联" * 100] * 5))' \
	>"$WORK/doc-close.md"
pdf close "$WORK/doc-close.md"
pdfinfo "$WORK/close.pdf" >"$WORK/close.info" 2>&1
expect_status "pdf: a full last page gives two lines to the closing block's page" 2 "$(pages close)"
check "pdf: no page holds only the closing block" last_page_text "$WORK/close.pdf"

# ---- a two-line title breaks where the sense allows, not inside a word ----
line_is() {
	python3 - "$@" <<'PY'
import re, subprocess, sys
out = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-bbox-layout", sys.argv[1], "-"], check=True,
                     capture_output=True, text=True).stdout
lines = ["".join(re.findall(r"<word[^>]*>(.*?)</word>", m)) for m in re.findall(r"<line[^>]*>(.*?)</line>", out, re.S)]
if sys.argv[2] not in lines:
    print("no line is %s: %s" % (sys.argv[2], " / ".join(l for l in lines if l[:2] == sys.argv[2][:2])))
    sys.exit(1)
PY
}
check "pdf: the 2026/03 title breaks after its colon" line_is "$WORK/2026-03.pdf" 协同共建数智赋能：
check "pdf: the 2022/10 title breaks before the year" line_is "$WORK/2022-10.pdf" 安徽高校继续教育合作联盟建设

# ---- the 版记 stands clear of the signature: its rule never underlines the date ----
python3 -c 'print("---\nnumber: 继教合作联盟〔2021〕9号\nissuer: 安徽高校继续教育合作联盟\ntitle: 关于测试的通知\n"
	"date: 2021-01-05\nprinter: 安徽高校继续教育合作联盟秘书处\nprinted: 2021-01-05\n---\n\n"
	+ "\n\n".join(["本行文字用来填充正文。"] * 5))' >"$WORK/doc-imprint.md"
pdf imprint "$WORK/doc-imprint.md"
imprint_clear() {
	python3 - "$1" <<'PY'
import re, subprocess, sys
out = subprocess.run(["pdftotext", "-bbox-layout", sys.argv[1], "-"], check=True, capture_output=True,
                     text=True).stdout
pitch = 225 * 72 / 25.4 / 22
seen = {}
for n, page in enumerate(out.split("<page ")[1:], 1):
    for m in re.finditer(r'<line xMin="[\d.]+" yMin="([\d.]+)"[^>]*>(.*?)</line>', page, re.S):
        text = "".join(re.findall(r"<word[^>]*>(.*?)</word>", m.group(2)))
        for key in ("2021年1月5日", "安徽高校继续教育合作联盟秘书处"):
            if text.startswith(key) and key not in seen:
                seen[key] = (n, float(m.group(1)))
date, imprint = seen.get("2021年1月5日"), seen.get("安徽高校继续教育合作联盟秘书处")
if not date or not imprint:
    print("missing: %s" % seen); sys.exit(1)
if date[0] == imprint[0] and imprint[1] - date[1] < 1.5 * pitch:
    print("the 版记 is %.1f pt under the date" % (imprint[1] - date[1])); sys.exit(1)
PY
}
check "pdf: half a line at least between the signature and the 版记" imprint_clear "$WORK/imprint.pdf"

# ---- a heading keeps the lines of what follows that cannot be split from it ----
# two lines are left under the headings; the three-line paragraph cannot be split 2 + 1
python3 -c 'print("---\ndate: 2024-01-01\n---\n\n" + "\n\n".join(["联" * 100] * 4 + ["联" * 20,
	"### （一）小标题", "#### 1. 再小一级", "段" * 70]))' >"$WORK/doc-keep.md"
pdf keep "$WORK/doc-keep.md"
same_page() {
	python3 - "$@" <<'PY'
import subprocess, sys
pages = subprocess.run(["pdftotext", sys.argv[1], "-"], check=True, capture_output=True,
                       text=True).stdout.split("\f")
where = [next((i + 1 for i, p in enumerate(pages) if w in "".join(p.split())), 0) for w in sys.argv[2:]]
if len(set(where)) != 1 or not where[0]:
    print("pages: %s" % where)
    sys.exit(1)
PY
}
check "pdf: headings stay with a short paragraph that moves to the next page" same_page "$WORK/keep.pdf" \
	（一）小标题 1.再小一级 段段段段

# ---- clreq line breaking ----
python3 "$TESTS_ROOT/kinsoku.py" - >"$WORK/self.out" 2>&1 <<'HTML'
<page width="595" height="842"><line xMin="80" yMin="1" xMax="520" yMax="2"><word>一二三</word></line>
<line xMin="80" yMin="3" xMax="300" yMax="4"><word>。四五“</word></line></page>
HTML
expect_status "pdf: the kinsoku checker finds a bad line start and end" 1 $?
for f in 2022-10 2024-01 2026-02 2026-03 document kinsoku; do
	check "pdf: no kinsoku violation in $f" python3 "$TESTS_ROOT/kinsoku.py" "$WORK/$f.pdf"
done

# the zero-width spaces that allow a break beside “ ” leave no trace in the text
no_stray() {
	pdftotext "$1" - | python3 -c '
import sys
text = sys.stdin.read()
stray = sorted({"U+%04X" % ord(c) for c in text if c in "\u200b\u2028\u2060\ufffd"})
if stray:
    print("stray characters: " + " ".join(stray))
    sys.exit(1)'
}
for f in 2022-10 2024-01 2026-02 2026-03 document kinsoku; do
	check "pdf: no stray characters in the text of $f" no_stray "$WORK/$f.pdf"
done
# a line may now break before “: the first paragraph of 2026/02 fills its first line
pdftotext -f 1 -l 1 -layout "$WORK/2026-02.pdf" "$WORK/2026-02.p1"
expect_contains "pdf: a break before an opening quote" "$WORK/2026-02.p1" "（以下简称"

# ---- reproducible ----
pdf again "$ROOT/content/bulletins/2022/10.md"
check "pdf: the same input gives the same bytes" cmp "$WORK/2022-10.pdf" "$WORK/again.pdf"
# the typesetter's font copies made anew (typeset_font.c): the same bytes
XDG_CACHE_HOME="$WORK/cache" "$JIANBAO" pdf "$ROOT/content/bulletins/2022/10.md" -o "$WORK/fresh.pdf" 2>/dev/null
check "pdf: the same bytes with font copies made anew" cmp "$WORK/2022-10.pdf" "$WORK/fresh.pdf"
check "pdf: the font copies are kept in the cache directory" \
	sh -c "ls '$WORK/cache/jianbao/fonts' | grep -q '^NotoSerifCJK-Regular-.*-gb-.*\.otf$'"

# ---- characters outside the font copies: the system's fonts, real glyphs ----
# every embedded CFF glyph has an outline or is a plain empty one, never a
# copy's stand-in for a glyph it left out ("0 0 rmoveto endchar")
no_stand_ins() {
	python3 - "$1" <<'PY'
import re, struct, sys, zlib
pdf = open(sys.argv[1], "rb").read()
def index(d, at):
    count = struct.unpack(">H", d[at:at + 2])[0]
    if count == 0:
        return [], at + 2
    size = d[at + 2]
    offs = [int.from_bytes(d[at + 3 + i * size:at + 3 + (i + 1) * size], "big") for i in range(count + 1)]
    base = at + 2 + (count + 1) * size
    return [d[base + offs[i]:base + offs[i + 1]] for i in range(count)], base + offs[-1]
fonts = 0
for m in re.finditer(rb"/Subtype /CIDFontType0C", pdf):
    at = pdf.index(b"stream\n", m.end()) + 7
    cff = zlib.decompressobj().decompress(pdf[at:])
    _, at2 = index(cff, cff[2])
    tops, _ = index(cff, at2)
    d, i, args = tops[0], 0, []
    while i < len(d):
        b = d[i]
        if b <= 21:
            if b == 17:
                chars, _ = index(cff, args[-1])
            i += 2 if b == 12 else 1
            args = []
        elif b == 28: args.append(struct.unpack(">h", d[i + 1:i + 3])[0]); i += 3
        elif b == 29: args.append(struct.unpack(">i", d[i + 1:i + 5])[0]); i += 5
        elif b == 30:
            i += 1
            while d[i] & 15 != 15 and d[i] >> 4 != 15: i += 1
            i += 1; args.append(0)
        elif b <= 246: args.append(b - 139); i += 1
        elif b <= 250: args.append((b - 247) * 256 + d[i + 1] + 108); i += 2
        else: args.append(-(b - 251) * 256 - d[i + 1] - 108); i += 2
    if any(c == bytes([139, 139, 21, 14]) for c in chars):
        print("a stand-in glyph")
        sys.exit(1)
    fonts += 1
sys.exit(0 if fonts else 1)
PY
}
mkdir -p "$WORK/doc"
for case in "korean|韩文한국어与汉字。|한국어" "rare|人名张喆、王堃（GB 2312 以外）。|张喆、王堃" "common|常用汉字，“标点”与ABC。|常用汉字"; do
	tag=${case%%|*}
	rest=${case#*|}
	text=${rest%%|*}
	printf -- '---\ntitle: 字\ndate: 2024-02-01\n---\n\n%s\n' "$text" >"$WORK/doc/$tag.md"
	check "pdf: $tag characters typeset" pdf "$tag" "$WORK/doc/$tag.md"
	pdftotext "$WORK/$tag.pdf" "$WORK/$tag.txt"
	expect_contains "pdf: $tag characters are in the text" "$WORK/$tag.txt" "${rest#*|}"
	check "pdf: $tag characters have their glyphs" no_stand_ins "$WORK/$tag.pdf"
	check "pdf: $tag characters: compact CFF fonts" cff_fonts "$WORK/$tag.pdf"
done

# ---- Markdown blocks: links, images, tables, bookmarks ----
mkdir -p "$WORK/doc"
python3 - "$WORK/doc/dot.png" <<'PY'
import struct, sys, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
raw = b"".join(b"\x00" + b"\xe0\x33\x2b" * 40 for _ in range(30))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 40, 30, 8, 2, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
cat >"$WORK/doc/blocks.md" <<'MD'
---
title: 块元素
series: 继续教育网络园区工作简报
issue: 2
date: 2024-02-01
---

## 一、链接与图片

见[网络园区](https://example.org/park)和[下文](#二列表与表格)。

![本地图片](dot.png)

图 1：本地图片

![远程图片](https://example.org/remote.png)

## 二、列表与表格

- 第一项
- 第二项，较长的一项文字会折行到下一行，折行后的文字与第一行文字对齐而不是与项目符号对齐。

1. 甲
2. 乙

> 引用的文字用楷体。

| 序号 | 名称 |
| --- | --- |
| 1 | 合肥工业大学 |

```
code block
```
MD
pdf blocks "$WORK/doc/blocks.md"
expect_status "pdf: a file with every kind of block typesets" 0 $?
expect_contains "pdf: a remote image is a placeholder with a warning" "$WORK/blocks.err" \
	"blocks.md:16: warning: remote image not fetched for the PDF: https://example.org/remote.png"
pdfimages -list "$WORK/blocks.pdf" >"$WORK/blocks.images" 2>&1
check "pdf: the local PNG is embedded" sh -c "test \$(tail -n +3 '$WORK/blocks.images' | wc -l) -ge 1"
check "pdf: external links are clickable" grep -qa "/URI (https://example.org/park)" "$WORK/blocks.pdf"
check "pdf: headings are bookmarks" grep -qa "/Outlines" "$WORK/blocks.pdf"
check "pdf: internal links have a destination" grep -qa "/Dest" "$WORK/blocks.pdf"
pdftotext -layout "$WORK/blocks.pdf" "$WORK/blocks.txt"
check "pdf: list, quote, table and code text are all there" in_order "$WORK/blocks.txt" \
	第一项 第二项 "1. 甲" 引用的文字用楷体 合肥工业大学 "code block"

# ---- a character no font has is an error naming file:line ----
cat >"$WORK/doc/glyph.md" <<'MD'
---
title: 缺字
issue: 1
date: 2024-02-01
---

第一段。

第二段有一个字𓀀没有字体。
MD
pdf glyph "$WORK/doc/glyph.md"
expect_status "pdf: a missing glyph fails the build" 1 $?
expect_contains "pdf: the missing glyph is named with file:line" "$WORK/glyph.err" \
	"glyph.md:9: error: no font has the character '𓀀' (U+13000)"
check "pdf: nothing is written on error" test ! -e "$WORK/glyph.pdf"

# ---- usage ----
"$JIANBAO" pdf >/dev/null 2>&1
expect_status "pdf: no file is a usage error" 2 $?
