#!/bin/sh
# End-to-end in a real browser: builds the repository's own demo site, serves
# it on 127.0.0.1 and loads pages in headless Chromium (--dump-dom and
# --screenshot).  Skipped only when /usr/bin/chromium is missing (`make test`
# installs it).
. "$TESTS_ROOT/lib.sh"

CHROMIUM=/usr/bin/chromium
if [ ! -x "$CHROMIUM" ]; then
	ok "browser tests skipped (no chromium)"
	exit 0
fi

root=$(dirname "$TESTS_ROOT")
site=$WORK/site
"$JIANBAO" build --quiet --repo "$root" --out "$site" >"$WORK/build.log" 2>&1
status=$?
if [ "$status" -ne 0 ]; then
	not_ok "demo site builds" "status $status" "$(head -20 "$WORK/build.log")"
	exit 0
fi
ok "demo site builds"

# The newest bulletin of the demo site and its issue line, from the archive.
bulletin_url=$(grep -o 'class="issue-row-title" href="[^"]*"' "$site/bulletins/index.html" | head -1 | sed 's/.*href="//; s/"$//')
issue_line=$(grep -o '<span class="issue-row-line">[^<]*</span>' "$site/bulletins/index.html" | head -1 | sed 's/<[^>]*>//g')
if [ -n "$bulletin_url" ] && [ -n "$issue_line" ] && [ -f "$site${bulletin_url}index.html" ]; then
	ok "demo site: archive names a bulletin ($bulletin_url, $issue_line)"
else
	not_ok "demo site: archive names a bulletin" "url='$bulletin_url' line='$issue_line'"
	exit 0
fi

# A probe page that loads the home page, the archive and the bulletin in
# 390 px wide frames and records their layout widths, to check that nothing
# overflows a phone-sized viewport.
mkdir -p "$site/_probe"
cat >"$site/_probe/index.html" <<HTML
<!doctype html>
<html><head><meta charset="utf-8"><title>probe</title>
<script>
function probe(f) {
  var d = f.contentDocument.documentElement;
  document.body.setAttribute("data-" + f.id, "scrollWidth=" + d.scrollWidth + ";clientWidth=" + d.clientWidth + ";innerWidth=" + f.contentWindow.innerWidth);
}
</script></head>
<body style="margin:0">
<iframe id="home" onload="probe(this)" src="/" style="width:390px;height:600px;border:0"></iframe>
<iframe id="archive" onload="probe(this)" src="/bulletins/" style="width:390px;height:600px;border:0"></iframe>
<iframe id="bulletin" onload="probe(this)" src="$bulletin_url" style="width:390px;height:600px;border:0"></iframe>
<iframe id="tags" onload="probe(this)" src="/tags/" style="width:390px;height:600px;border:0"></iframe>
</body></html>
HTML

# ---- serve it ----
server_pid=""
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	[ -n "$server_pid" ] && wait "$server_pid" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_server() {
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
	python3 -m http.server "$port" --bind 127.0.0.1 -d "$site" >"$WORK/server.log" 2>&1 &
	server_pid=$!
	python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=1).read()
        sys.exit(0)
    except Exception:
        time.sleep(0.05)
sys.exit(1)
PY
}
if ! start_server; then
	kill "$server_pid" 2>/dev/null
	start_server || { not_ok "http server starts" "$(cat "$WORK/server.log")"; exit 0; }
fi
base=http://127.0.0.1:$port

chrome() {
	timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$WORK/chrome" "$@" 2>>"$WORK/chrome.log"
}

# dom NAME PATH: loads PATH and leaves its DOM in $WORK/NAME.dom
dom() {
	chrome --window-size=390,2000 --dump-dom "$base$2" >"$WORK/$1.dom"
	dom_status=$?
}

# expect_dom NAME FILE TEXT...: every TEXT is in the DOM
expect_dom() {
	_name=$1 _file=$2
	shift 2
	_missing=""
	for _t in "$@"; do
		grep -qF -- "$_t" "$_file" || _missing="$_missing [$_t]"
	done
	if [ -z "$_missing" ]; then ok "$_name"; else not_ok "$_name" "missing:$_missing" "chromium exit status $dom_status" "$(head -c 1500 "$_file")" "chromium: $(tail -3 "$WORK/chrome.log")"; fi
}

dom home /
expect_dom "chromium: home page renders (lang, nav, latest issue)" "$WORK/home.dom" \
	'<html lang="zh-CN">' '<nav class="site-nav"' "href=\"$bulletin_url\"" "$issue_line" '</footer>'
dom archive /bulletins/
expect_dom "chromium: archive renders (lang, nav, issue line)" "$WORK/archive.dom" \
	'<html lang="zh-CN">' '<nav class="site-nav"' "$issue_line" '<h2 id="y'
dom bulletin "$bulletin_url"
expect_dom "chromium: bulletin page renders (lang, nav, masthead issue line)" "$WORK/bulletin.dom" \
	'<html lang="zh-CN">' '<nav class="site-nav"' "<p class=\"masthead-issue\">$issue_line</p>" '<article class="prose"'
# a year's page and a tag's page, reached from the bulletin's links
year_url=$(grep -o 'href="/bulletins/[0-9]*/"' "$WORK/bulletin.dom" | head -1 | sed 's/href="//; s/"$//')
dom year "${year_url:-/bulletins/2024/}"
expect_dom "chromium: a year's page lists its issues and links the volume" "$WORK/year.dom" \
	'<html lang="zh-CN">' 'class="issue-row-title"' 'volume.pdf' '工作简报</h1>'
tag_url=$(grep -o 'href="/tags/[^"]*/"' "$WORK/bulletin.dom" | head -1 | sed 's/href="//; s/"$//')
dom tag "${tag_url:-/tags/}"
expect_dom "chromium: a tag's page lists the issues that carry it" "$WORK/tag.dom" \
	'<h1 class="page-title">标签：' 'class="issue-row-title"' 'href="/tags/"'
dom tags /tags/
expect_dom "chromium: the list of tags links each tag" "$WORK/tags.dom" 'class="year-chips tag-index"' 'href="/tags/'
# the collections (documents, members, courses, statistics)
dom documents /documents/
expect_dom "chromium: documents index lists 继教合作联盟〔2021〕1号" "$WORK/documents.dom" '继教合作联盟〔2021〕1号' '<h1'
dom document /documents/2021/12/
expect_dom "chromium: a document page shows its number and links other documents" "$WORK/document.dom" \
	'继教合作联盟〔2021〕12号' 'href="/documents/2021/' 'document.pdf'
dom members /members/
expect_dom "chromium: member directory grouped by role" "$WORK/members.dom" '理事长单位' '副理事长单位' '合肥工业大学'
ou=$(grep -o 'href="/members/[^"]*"' "$WORK/members.dom" | grep -m1 '%E5%AE%89%E5%BE%BD%E5%BC%80%E6%94%BE%E5%A4%A7%E5%AD%A6\|安徽开放大学' | sed 's/href="//; s/"$//')
dom member "${ou:-/members/安徽开放大学/}"
expect_dom "chromium: a member page lists bulletins that mention it and its committees" "$WORK/member.dom" \
	'安徽开放大学' '自考助学服务改革专门委员会' '/bulletins/2026/03/'
dom courses '/courses/?q=%E8%8B%B1%E8%AF%AD'
total=$(grep -c '<tr[^>]*data-' "$WORK/courses.dom")
hidden=$(grep -c '<tr[^>]*data-[^>]*hidden' "$WORK/courses.dom")
visible=$((total - hidden))
if [ "$total" -gt 20 ] && [ "$visible" -gt 0 ] && [ "$visible" -lt 15 ]; then
	ok "chromium: the course table filters in the browser (?q=英语: $visible of $total rows)"
else
	not_ok "chromium: the course table filters in the browser (?q=英语)" "total $total, hidden $hidden" "$(grep -m3 '<tr' "$WORK/courses.dom")"
fi
dom stats /stats/
expect_dom "chromium: statistics page with charts and sources" "$WORK/stats.dom" '<figure' '联盟成员单位数' 'href="/bulletins/2026/02/"'
if grep -q '"GET /charts/[0-9a-f]*\(@2x\)\?.png HTTP/1.[01]" 200' "$WORK/server.log"; then
	ok "chromium: chart images were loaded"
else
	not_ok "chromium: chart images were loaded" "$(grep 'GET /charts' "$WORK/server.log" | head -5)"
fi
if grep -q '"GET /css/site.css HTTP/1.[01]" 200' "$WORK/server.log"; then
	ok "chromium: the stylesheet was loaded"
else
	not_ok "chromium: the stylesheet was loaded" "$(grep 'GET' "$WORK/server.log" | head -10)"
fi
if grep -q '" 404 ' "$WORK/server.log"; then
	not_ok "chromium: no request ended in 404" "$(grep '" 404 ' "$WORK/server.log")"
else
	ok "chromium: no request ended in 404"
fi

dom probe /_probe/
for page in home archive bulletin tags; do
	probe=$(grep -o "data-$page=\"[^\"]*\"" "$WORK/probe.dom" | sed 's/^[^"]*"//; s/"$//')
	sw=$(echo "$probe" | sed -n 's/.*scrollWidth=\([0-9]*\).*/\1/p')
	cw=$(echo "$probe" | sed -n 's/.*clientWidth=\([0-9]*\).*/\1/p')
	iw=$(echo "$probe" | sed -n 's/.*innerWidth=\([0-9]*\).*/\1/p')
	if [ "$iw" = 390 ] && [ -n "$sw" ] && [ -n "$cw" ] && [ "$sw" -le "$cw" ]; then
		ok "chromium: $page page does not overflow a 390 px viewport ($probe)"
	else
		not_ok "chromium: $page page does not overflow a 390 px viewport" "probe: '$probe'" "$(grep -o '<body.*' "$WORK/probe.dom" | head -c 600)"
	fi
done

# ---- screenshot of a bulletin at phone width ----
chrome --hide-scrollbars --window-size=390,2000 --screenshot="$WORK/shot.png" "$base$bulletin_url" >/dev/null
if python3 - "$WORK/shot.png" >"$WORK/png.out" 2>&1 <<'PY'; then
import struct, sys, zlib
from collections import Counter
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, ihdr = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        ihdr = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
w, h, depth, ctype, _, _, interlace = ihdr
print("size %dx%d depth %d type %d, %d bytes" % (w, h, depth, ctype, len(data)))
assert w == 390, "width %d, expected 390" % w
assert len(data) > 20000, "only %d bytes" % len(data)
assert depth == 8 and ctype in (2, 6) and interlace == 0, "unexpected PNG format"
bpp = 3 if ctype == 2 else 4
stride = w * bpp
raw = zlib.decompress(idat)
rows, prev = [], bytearray(stride)
for y in range(min(h, 320)):  # the top of the page: header, masthead, title
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + ((a + b) >> 1)) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    prev = line
px = Counter()
for line in rows:
    for x in range(0, stride, bpp * 3):
        px[bytes(line[x:x + 3])] += 1
total = sum(px.values())
top, count = px.most_common(1)[0]
print("%d distinct colours in %d samples; most common %s covers %.0f%%" % (len(px), total, top.hex(), 100.0 * count / total))
assert len(px) >= 16, "nearly blank: only %d colours" % len(px)
assert count < 0.95 * total, "one colour covers %.0f%% of the page" % (100.0 * count / total)
PY
	ok "chromium: 390 px screenshot of a bulletin is a real page ($(head -1 "$WORK/png.out"))"
else
	not_ok "chromium: 390 px screenshot of a bulletin is a real page" "$(cat "$WORK/png.out")" "chromium: $(tail -3 "$WORK/chrome.log")"
fi
