# Charts in the site: ```chart blocks, the /stats/ page, stats: front matter,
# chart{} from Lua, and charts as vectors in PDFs.
. "$TESTS_ROOT/lib.sh"

r=$WORK/site
new_repo "$r"
bulletin "$r/content/bulletins/2022/10.md" 2022 10 33 2022-09-05 工作报告
bulletin "$r/content/bulletins/2024/01.md" 2024 1 46 2024-01-11 开新篇
cat >>"$r/content/bulletins/2024/01.md" <<'MD'

```chart
type: line
title: 联盟成员单位数
data: members
caption: 图 1：成员单位
```
MD
# a figure declared in front matter joins the series
sed -i 's/^tags: \[学分银行\]$/tags: [学分银行]\nstats:\n  members: 64/' "$r/content/bulletins/2024/01.md"
mkdir -p "$r/content/data"
cat >"$r/content/data/members.csv" <<'CSV'
年份,成员单位数[所],source,note
2020,52,2022/10,
2022,59,2022/10,
CSV
git_commit "$r" 2024-03-01T10:00:00+08:00 "site"

(cd "$r" && "$JIANBAO" build --quiet --out "$WORK/out") >"$WORK/build.log" 2>&1
expect_status "charts: the site builds" 0 $?
b=$WORK/out/bulletins/2024/01/index.html
expect_contains "chart block: a <figure> in the page" "$b" '<figure'
expect_contains "chart block: the caption" "$b" '图 1：成员单位'
if grep -q 'srcset="[^"]*@2x.png 2x"' "$b"; then ok "chart block: srcset with the 2× image"; else not_ok "chart block: srcset with the 2× image" "$(grep -o '<img[^>]*>' "$b")"; fi
expect_contains "chart block: alt text from the data" "$b" '52'
expect_contains "chart block: the data as a table under <details>" "$b" '<details>'
png=$(grep -o 'src="/charts/[0-9a-f]*\.png"' "$b" | head -1 | sed 's/src="\/\(.*\)"/\1/')
if python3 - "$WORK/out/$png" "$WORK/out/${png%.png}@2x.png" <<'PY'
import struct, sys
for path, want in ((sys.argv[1], (640, 400)), (sys.argv[2], (1280, 800))):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    w, h = struct.unpack(">II", data[16:24])
    assert (w, h) == want, (path, w, h)
    assert b"tIME" not in data, "a time chunk in " + path
PY
then ok "chart block: PNGs at 1× (640×400) and 2× (1280×800), no time chunk"; else not_ok "chart block: PNGs at 1× (640×400) and 2× (1280×800), no time chunk"; fi
expect_contains "stats: front matter figures join the series" "$b" '64'
s=$WORK/out/stats/index.html
expect_contains "stats page: the series is there" "$s" '成员单位数'
expect_contains "stats page: a row links to the bulletin it came from" "$s" 'href="/bulletins/2022/10/"'
expect_contains "stats page: the merged row links to its bulletin" "$s" 'href="/bulletins/2024/01/"'

# the PDF draws the chart as vectors: no raster image in it
pdfimages -list "$WORK/out/bulletins/2024/01/bulletin.pdf" >"$WORK/images.txt" 2>&1
if [ "$(wc -l <"$WORK/images.txt")" -eq 2 ]; then ok "chart in the PDF: vectors, no bitmap"; else not_ok "chart in the PDF: vectors, no bitmap" "$(cat "$WORK/images.txt")"; fi
pdftotext "$WORK/out/bulletins/2024/01/bulletin.pdf" "$WORK/b.txt"
expect_contains "chart in the PDF: its title is text" "$WORK/b.txt" "联盟成员单位数"
expect_contains "chart in the PDF: its caption" "$WORK/b.txt" "图 1：成员单位"

# rebuilding gives the same chart bytes
(cd "$r" && "$JIANBAO" build --quiet --out "$WORK/out2") >/dev/null 2>&1
if diff -r "$WORK/out/charts" "$WORK/out2/charts" >/dev/null; then ok "charts: identical bytes on rebuild"; else not_ok "charts: identical bytes on rebuild"; fi

# chart{} from a hook
mkdir -p "$r/content/hooks"
cat >"$r/content/hooks/fig.lua" <<'LUA'
on("load", function(site)
  table.insert(site.pages, { title = "图表", url = "/fig/",
    content = chart{ type = "bar", title = "构成", rows = { { "类别", "数量[个]" }, { "高校", 77 }, { "地方", 17 } } } })
end)
LUA
git_commit "$r" 2024-03-02T10:00:00+08:00 "hook"
(cd "$r" && "$JIANBAO" build --quiet --no-pdf --out "$WORK/out3") >"$WORK/b3.log" 2>&1
expect_contains "chart{}: a hook makes a figure from inline rows" "$WORK/out3/fig/index.html" '<figure'
rm "$r/content/hooks/fig.lua"

# bad charts: file:line:col errors, nothing published
# bad NAME BLOCK EXPECTED
bad() {
	d=$WORK/bad-$(echo "$1" | tr -c 'a-z0-9\n' '_')
	rm -rf "$d"
	cp -r "$r" "$d"
	printf -- '---\ntitle: 坏\nissue: 2\ntotal: 47\ndate: 2024-02-01\n---\n\n正文\n\n```chart\n%s\n```\n' "$2" >"$d/content/bulletins/2024/02.md"
	(cd "$d" && git add -A && git commit -q -m bad)
	(cd "$d" && "$JIANBAO" build --quiet --no-pdf --out "$d.out") >"$d.log" 2>&1
	st=$?
	if [ $st -eq 1 ] && grep -qF -- "$3" "$d.log" && [ ! -e "$d.out" ]; then ok "$1"; else not_ok "$1" "status $st, want 1 and: $3" "$(cat "$d.log")"; fi
}
bad "chart: an unknown series" 'type: line
data: nosuch' "content/bulletins/2024/02.md:12:7: error: unknown series 'nosuch'"
bad "chart: an unknown type" 'type: radar
data: members' "content/bulletins/2024/02.md:11:7: error: unknown chart type 'radar'"
bad "chart: an unknown column" 'type: line
data: members
y: 学校数' "content/bulletins/2024/02.md:13:4: error: series 'members' has no column '学校数'"
bad "chart: a negative value in a donut" 'type: donut
rows:
  - [类别, 数]
  - [甲, 5]
  - [乙, -3]' "content/bulletins/2024/02.md"
bad "chart: empty data" 'type: bar
rows:
  - [类别, 数]' "content/bulletins/2024/02.md"

# stats: front matter that contradicts the CSV
d=$WORK/conflict
rm -rf "$d"; cp -r "$r" "$d"
sed -i 's/^  members: 64$/  members: 65/' "$d/content/bulletins/2024/01.md"
sed -i 's/^2022,59,2022\/10,$/2022,59,2022\/10,\n2024,64,2022\/10,/' "$d/content/data/members.csv"
(cd "$d" && git add -A && git commit -q -m c && "$JIANBAO" check) >"$d.log" 2>&1
if grep -qF "content/bulletins/2024/01.md:" "$d.log" && grep -qF "stats: members 2024 成员单位数 = 65 here, but 64 in content/data/members.csv:4" "$d.log"; then
	ok "stats: a figure contradicting the CSV is an error naming both"
else
	not_ok "stats: a figure contradicting the CSV is an error naming both" "$(cat "$d.log")"
fi
d=$WORK/unknown
rm -rf "$d"; cp -r "$r" "$d"
sed -i 's/^  members: 64$/  nosuch: 64/' "$d/content/bulletins/2024/01.md"
(cd "$d" && git add -A && git commit -q -m c && "$JIANBAO" check) >"$d.log" 2>&1
expect_contains "stats: an unknown series in front matter" "$d.log" "content/bulletins/2024/01.md:12:3: error: stats: no series 'nosuch' (add content/data/nosuch.csv)"
