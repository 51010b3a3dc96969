#!/bin/sh
# End-to-end: a basic build of a small bulletin repository, and what the
# pages, the archive, the feed and the sitemap contain.
. "$TESTS_ROOT/lib.sh"

# ---- a repository with three bulletins over two years and one page ----
r=$WORK/site
new_repo "$r"
cat >"$r/content/site.lua" <<'LUA'
return {
  title = "测试站点",
  base_url = "https://example.org/",
  menus = { main = {
    { name = "首页", url = "/" },
    { name = "工作简报", url = "/bulletins/" },
    { name = "关于", url = "/about/" },
  } },
}
LUA
bulletin "$r/content/bulletins/2023/12.md" 2023 12 45 2023-12-20 "岁末回顾"
bulletin "$r/content/bulletins/2024/01.md" 2024 1 46 2024-01-11 "开新篇 启新程 谋发展"
cat >>"$r/content/bulletins/2024/01.md" <<'MD'

第二段
继续书写。

中文
English words
stay apart.

图 1：会议现场

图书馆：照常开放。

<script>alert("x")</script>

<div class="raw">原始</div>

点击[这里](javascript:alert(1))查看。
MD
mkdir -p "$r/content/pages"
cat >"$r/content/pages/about.md" <<'MD'
---
title: 关于
---

本站根据各期工作简报构建。
MD
git_commit "$r" 2024-01-12T09:00:00+08:00 "first issues"
bulletin "$r/content/bulletins/2024/02.md" 2024 2 47 2024-02-20 '数据 & 统计 <上>'
git_commit "$r" 2024-02-21T09:00:00+08:00 "issue 2"

out=$WORK/out
(cd "$r" && "$JIANBAO" build --out "$out") >"$WORK/build.log" 2>&1
status=$?
if [ "$status" -eq 0 ]; then ok "build: exit status 0"; else not_ok "build: exit status 0" "got $status" "$(cat "$WORK/build.log")"; fi
expect_contains "build: summary names what was built" "$WORK/build.log" "built 3 bulletins, 0 documents, 1 pages"

missing=""
for f in index.html bulletins/index.html bulletins/2023/12/index.html bulletins/2024/01/index.html \
	bulletins/2024/02/index.html about/index.html feed.xml sitemap.xml 404.html css/site.css favicon.svg; do
	[ -s "$out/$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then ok "build: expected files exist"; else not_ok "build: expected files exist" "missing:$missing" "$(cd "$out" 2>/dev/null && find . -type f | sort)"; fi

# ---- the bulletin page ----
b=$out/bulletins/2024/01/index.html
expect_contains "bulletin: masthead issue line" "$b" '<p class="masthead-issue">2024年第1期 总第46期</p>'
expect_contains "bulletin: series in the masthead" "$b" '<p class="masthead-series">继续教育网络园区工作简报</p>'
expect_contains "bulletin: date in Chinese with ISO datetime" "$b" '<time class="masthead-date" datetime="2024-01-11">2024年1月11日</time>'
expect_contains "bulletin: publisher" "$b" '<span class="masthead-publisher">安徽继续教育网络园区管理中心</span>'
expect_contains "bulletin: title heading" "$b" '<h1 class="bulletin-title" id="bulletin-title">开新篇 启新程 谋发展</h1>'
expect_contains "bulletin: 指导 line" "$b" '<p>指导：省教育厅高教处</p>'
expect_contains "bulletin: 编发 line" "$b" '<p>编发：网络园区管理中心</p>'
expect_contains "bulletin: html lang" "$b" '<html lang="zh-CN">'
expect_contains "bulletin: page title" "$b" '<title>开新篇 启新程 谋发展 – 测试站点</title>'
expect_contains "bulletin: link to the previous (older) issue" "$b" 'rel="prev" href="/bulletins/2023/12/"'
expect_contains "bulletin: link to the next (newer) issue" "$b" 'rel="next" href="/bulletins/2024/02/"'
expect_contains "bulletin: previous issue's line in the pager" "$b" '<span class="pager-issue">2023年第12期 总第45期</span>'
expect_contains "bulletin: oldest issue has no previous" "$out/bulletins/2023/12/index.html" '已是最早一期'
expect_contains "bulletin: newest issue has no next" "$out/bulletins/2024/02/index.html" '已是最新一期'
expect_not_contains "bulletin: newest issue links to no next" "$out/bulletins/2024/02/index.html" 'rel="next"'
expect_contains "bulletin: title with & and < is escaped" "$out/bulletins/2024/02/index.html" \
	'<h1 class="bulletin-title" id="bulletin-title">数据 &amp; 统计 &lt;上&gt;</h1>'

# ---- Markdown rendering ----
expect_contains "markdown: soft break after a full-width comma joins without space" "$b" '<p>第一段文字，跨行书写。</p>'
expect_contains "markdown: soft break between two Han characters joins" "$b" '<p>第二段继续书写。</p>'
if tr '\n' ' ' <"$b" | grep -qF '<p>中文 English words stay apart.</p>'; then
	ok "markdown: soft breaks next to Latin text are kept"
else
	not_ok "markdown: soft breaks next to Latin text are kept" "$(grep -A2 '中文' "$b")"
fi
if tr '\n' ' ' <"$b" | grep -q '<p class="caption"> *图 1：会议现场 *</p>'; then
	ok "markdown: '图 1：…' paragraph gets class=caption"
else
	not_ok "markdown: '图 1：…' paragraph gets class=caption" "$(grep -B1 -A1 '会议现场' "$b")"
fi
expect_contains "markdown: '图书馆：…' is an ordinary paragraph" "$b" '<p>图书馆：照常开放。</p>'
expect_not_contains "markdown: raw <script> dropped" "$b" '<script'
expect_not_contains "markdown: raw <div> dropped by default" "$b" '<div class="raw">'
expect_not_contains "markdown: javascript: link is not a link" "$b" 'javascript:'
expect_contains "markdown: javascript: link keeps its text" "$b" '<p>点击这里查看。</p>'

# ---- home page and archive ----
home=$out/index.html
expect_contains "home: latest issue in the intro" "$home" '最新一期：<a href="/bulletins/2024/02/">2024年第2期 总第47期</a>'
if tr '\n' ' ' <"$home" | grep -qF '<li class="card card-lead">   <h3 class="card-title"><a href="/bulletins/2024/02/">数据 &amp; 统计 &lt;上&gt;</a></h3>'; then
	ok "home: lead card is the newest issue"
else
	not_ok "home: lead card is the newest issue" "$(grep -A1 'card-lead' "$home")"
fi
links=$(grep -o 'class="card-title"><a href="[^"]*"' "$home" | sed 's/.*href="//; s/"$//' | tr '\n' ' ')
if [ "$links" = "/bulletins/2024/02/ /bulletins/2024/01/ /bulletins/2023/12/ " ]; then
	ok "home: lists the issues newest first"
else
	not_ok "home: lists the issues newest first" "got: $links"
fi

arch=$out/bulletins/index.html
years=$(grep -o '<h2 id="y[0-9]*"><a href="/bulletins/[0-9]*/">[0-9]*年' "$arch" | sed 's/.*">//' | tr '\n' ' ')
if [ "$years" = "2024年 2023年 " ]; then ok "archive: year headings newest first"; else not_ok "archive: year headings newest first" "got: $years"; fi
order=$(grep -o 'class="issue-row-title" href="[^"]*"' "$arch" | sed 's/.*href="//; s/"$//' | tr '\n' ' ')
if [ "$order" = "/bulletins/2024/02/ /bulletins/2024/01/ /bulletins/2023/12/ " ]; then
	ok "archive: issues grouped by year, newest first"
else
	not_ok "archive: issues grouped by year, newest first" "got: $order"
fi
expect_contains "archive: year counts" "$arch" '<h2 id="y2024"><a href="/bulletins/2024/">2024年</a><span class="year-count">（2 期）</span></h2>'
expect_contains "archive: links the list of tags" "$arch" '<a href="/tags/">按标签浏览</a>'

# ---- a page per year and per tag ----
yp=$out/bulletins/2024/index.html
order=$(grep -o 'class="issue-row-title" href="[^"]*"' "$yp" 2>/dev/null | sed 's/.*href="//; s/"$//' | tr '\n' ' ')
if [ "$order" = "/bulletins/2024/02/ /bulletins/2024/01/ " ]; then ok "year page: that year's issues, newest first"; else not_ok "year page: that year's issues, newest first" "got: $order"; fi
expect_contains "year page: title" "$yp" '<h1 class="page-title">2024年工作简报</h1>'
expect_contains "year page: link to the older year" "$yp" '<a class="pager-link pager-prev" rel="prev" href="/bulletins/2023/">'
expect_contains "year page: the newest year has no newer one" "$yp" '已是最近一年'
expect_contains "bulletin: breadcrumb through its year" "$out/bulletins/2024/01/index.html" '<li><a href="/bulletins/2024/">2024年</a></li>'
expect_contains "bulletin: tags link to their pages" "$out/bulletins/2024/01/index.html" '<li><a href="/tags/学分银行/">学分银行</a></li>'
tp=$out/tags/学分银行/index.html
n=$(grep -c 'class="issue-row-title"' "$tp" 2>/dev/null)
if [ "$n" = 3 ]; then ok "tag page: every issue with the tag"; else not_ok "tag page: every issue with the tag" "got $n rows"; fi
expect_contains "tag page: breadcrumb to the list of tags" "$tp" '<li><a href="/tags/">标签</a></li>'
expect_contains "tags: the list links each tag with its count" "$out/tags/index.html" '<a href="/tags/学分银行/">学分银行<span class="year-chip-count">3</span></a>'
expect_contains "archive: issue line per row" "$arch" '<span class="issue-row-line">2023年第12期 总第45期</span>'
expect_contains "about page: title" "$out/about/index.html" '<h1 class="page-title" id="page-title">关于</h1>'
expect_contains "about page: nav marks the current page" "$out/about/index.html" '<a href="/about/" aria-current="page">关于</a>'

# ---- feed and sitemap ----
if python3 - "$out/feed.xml" >"$WORK/feed.out" 2>&1 <<'PY'
import sys, xml.dom.minidom
doc = xml.dom.minidom.parse(sys.argv[1])
ns = "http://www.w3.org/2005/Atom"
assert doc.documentElement.namespaceURI == ns, doc.documentElement.namespaceURI
entries = doc.getElementsByTagNameNS(ns, "entry")
ids = [e.getElementsByTagNameNS(ns, "id")[0].firstChild.data for e in entries]
want = ["https://example.org/bulletins/2024/02/", "https://example.org/bulletins/2024/01/",
        "https://example.org/bulletins/2023/12/"]
assert ids == want, ids
title = entries[0].getElementsByTagNameNS(ns, "title")[0].firstChild.data
assert title == "数据 & 统计 <上>", title
pub = entries[1].getElementsByTagNameNS(ns, "published")[0].firstChild.data
assert pub.startswith("2024-01-11T"), pub
PY
then ok "feed.xml: well-formed Atom, entries newest first, titles escaped"; else not_ok "feed.xml: well-formed Atom, entries newest first, titles escaped" "$(cat "$WORK/feed.out")"; fi

if python3 - "$out" >"$WORK/sitemap.out" 2>&1 <<'PY'
import os, sys, xml.dom.minidom
out = sys.argv[1]
doc = xml.dom.minidom.parse(os.path.join(out, "sitemap.xml"))
locs = [n.firstChild.data for n in doc.getElementsByTagName("loc")]
from urllib.parse import quote
pages = []
for root, dirs, files in os.walk(out):
    if "index.html" in files:
        rel = os.path.relpath(root, out)
        pages.append("https://example.org/" + ("" if rel == "." else quote(rel) + "/"))
missing = sorted(set(pages) - set(locs))
extra = sorted(set(locs) - set(pages))
assert not missing and not extra, ("missing", missing, "extra", extra)
assert len(locs) == len(set(locs)) == 10, locs
PY
then ok "sitemap.xml: lists every page once"; else not_ok "sitemap.xml: lists every page once" "$(cat "$WORK/sitemap.out")"; fi
expect_contains "sitemap.xml: lastmod from git history" "$out/sitemap.xml" \
	'<url><loc>https://example.org/bulletins/2024/02/</loc><lastmod>2024-02-21</lastmod></url>'

# ---- allow_raw_html = true lets raw HTML through ----
cat >"$r/content/site.lua" <<'LUA'
return {
  title = "测试站点",
  base_url = "https://example.org/",
  allow_raw_html = true,
}
LUA
if (cd "$r" && "$JIANBAO" build --quiet --out "$WORK/raw") >"$WORK/raw.log" 2>&1; then
	expect_contains "allow_raw_html: raw HTML passes through" "$WORK/raw/bulletins/2024/01/index.html" '<div class="raw">原始</div>'
else
	not_ok "allow_raw_html: raw HTML passes through" "build failed:" "$(cat "$WORK/raw.log")"
fi
(cd "$r" && git checkout -q content/site.lua)

# ---- --base-url with a path ----
if (cd "$r" && "$JIANBAO" build --quiet --base-url https://example.org/sub/ --out "$WORK/sub") >"$WORK/sub.log" 2>&1; then
	bad=$(grep -o -h -e 'href="/[^"]*"' -e 'src="/[^"]*"' -r "$WORK/sub" --include='*.html' | grep -v -e '"/sub/' | sort -u | head -5)
	if [ -z "$bad" ]; then ok "--base-url: site links start with /sub/"; else not_ok "--base-url: site links start with /sub/" "$bad"; fi
	expect_contains "--base-url: bulletin links" "$WORK/sub/index.html" 'href="/sub/bulletins/2024/01/"'
	expect_contains "--base-url: canonical URL" "$WORK/sub/bulletins/2024/01/index.html" '<link rel="canonical" href="https://example.org/sub/bulletins/2024/01/">'
	expect_contains "--base-url: feed links" "$WORK/sub/feed.xml" '<link href="https://example.org/sub/bulletins/2024/01/"/>'
	expect_contains "--base-url: sitemap" "$WORK/sub/sitemap.xml" '<loc>https://example.org/sub/about/</loc>'
else
	not_ok "--base-url: site links start with /sub/" "build failed:" "$(cat "$WORK/sub.log")"
fi

# ---- a file without front matter ----
n=$WORK/nofm
new_repo "$n"
mkdir -p "$n/content/bulletins/2020"
printf '# 工作简报第 300 期\n\n正文\n' >"$n/content/bulletins/2020/05.md"
git_commit "$n" 2020-06-15T09:30:00+08:00 "no front matter"
if (cd "$n" && "$JIANBAO" build --out "$WORK/nofm.out") >"$WORK/nofm.log" 2>&1; then
	p=$WORK/nofm.out/bulletins/2020/05/index.html
	expect_contains "no front matter: title from the first heading" "$p" '<h1 class="bulletin-title" id="bulletin-title">工作简报第 300 期</h1>'
	expect_contains "no front matter: issue number from the title" "$p" '<p class="masthead-issue">2020年第300期</p>'
	expect_contains "no front matter: date from the git commit" "$p" '<time class="masthead-date" datetime="2020-06-15">2020年6月15日</time>'
	if sed -n '/<article/,/<\/article>/p' "$p" | grep -q '<h1'; then
		not_ok "no front matter: the heading is not repeated in the body" "$(sed -n '/<article/,/<\/article>/p' "$p")"
	else
		ok "no front matter: the heading is not repeated in the body"
	fi
	expect_contains "no front matter: body" "$p" '<p>正文</p>'
else
	not_ok "no front matter: builds" "$(cat "$WORK/nofm.log")"
fi

# ---- a page whose file name has a space: URLs in the sitemap and feed must
# stay valid (percent-encoded), unless the generator rejects such names ----
u=$WORK/names
new_repo "$u"
mkdir -p "$u/content/pages"
printf -- '---\ntitle: 联盟章程\n---\n\n正文\n' >"$u/content/pages/联盟 章程.md"
git_commit "$u" 2024-01-12T09:00:00+08:00 "a page with a space in its name"
if (cd "$u" && "$JIANBAO" build --out "$WORK/names.out") >"$WORK/names.log" 2>&1; then
	if python3 - "$WORK/names.out" >"$WORK/names.py" 2>&1 <<'PY'
import os, re, sys, xml.dom.minidom
out = sys.argv[1]
doc = xml.dom.minidom.parse(os.path.join(out, "sitemap.xml"))
bad = [n.firstChild.data for n in doc.getElementsByTagName("loc") if re.search(r"\s", n.firstChild.data)]
for root, dirs, files in os.walk(out):
    for f in files:
        if f.endswith(".html"):
            text = open(os.path.join(root, f), encoding="utf-8").read()
            bad += [m for m in re.findall(r'(?:href|src)="([^"]*)"', text) if re.search(r"\s", m)]
if bad:
    sys.exit("URLs with white space (want %%20 or a rejected name): %s" % ", ".join(sorted(set(bad))))
PY
	then
		ok "file name with a space: sitemap and links hold valid URLs"
	else
		not_ok "file name with a space: sitemap and links hold valid URLs" "$(cat "$WORK/names.py")"
	fi
elif grep -qF "content/pages/联盟 章程.md" "$WORK/names.log"; then
	ok "file name with a space: sitemap and links hold valid URLs (rejected with an error naming the file)"
else
	not_ok "file name with a space: sitemap and links hold valid URLs" "build failed without naming the file:" "$(cat "$WORK/names.log")"
fi

# ---- tags: names that make one URL share a page; a name without letters gets none;
# a theme without the year and tag layouts gets neither kind of page ----
t=$WORK/tagnames
new_repo "$t"
bulletin "$t/content/bulletins/2024/01.md" 2024 1 46 2024-01-11 "甲"
bulletin "$t/content/bulletins/2024/02.md" 2024 2 47 2024-02-21 "乙"
sed -i 's/^tags: .*/tags: [AI, 学分银行]/' "$t/content/bulletins/2024/01.md"
sed -i 's/^tags: .*/tags: [ai, "！！"]/' "$t/content/bulletins/2024/02.md"
git_commit "$t" 2024-02-21T09:00:00+08:00 "tags"
(cd "$t" && "$JIANBAO" build --out "$WORK/tagnames.out") >"$WORK/tagnames.log" 2>&1
expect_status "tags: a build with odd tag names succeeds" 0 $?
expect_contains "tags: one page for AI and ai, with a warning" "$WORK/tagnames.log" \
	"content/bulletins/2024/01.md: warning: tag 'AI' has the same URL /tags/ai/ as tag 'ai': one tag page lists both"
n=$(grep -c 'class="issue-row-title"' "$WORK/tagnames.out/tags/ai/index.html" 2>/dev/null)
if [ "$n" = 2 ]; then ok "tags: the shared page lists both issues"; else not_ok "tags: the shared page lists both issues" "got $n rows"; fi
expect_contains "tags: the other spelling links to the shared page" "$WORK/tagnames.out/bulletins/2024/01/index.html" \
	'<li><a href="/tags/ai/">AI</a></li>'
expect_contains "tags: a name without letters is reported" "$WORK/tagnames.log" \
	"content/bulletins/2024/02.md: warning: tag '！！' has no letters, digits or Han characters to make its URL of: it gets no tag page"
expect_contains "tags: ... and shown without a link" "$WORK/tagnames.out/bulletins/2024/02/index.html" '<li>！！</li>'

mkdir -p "$t/themes"
cp -R "$THEMES_DIR/default" "$t/themes/plain"
rm "$t/themes/plain/layouts/year.html" "$t/themes/plain/layouts/tag.html" "$t/themes/plain/layouts/tags.html"
sed -i 's/^  title = "测试站点",/  title = "测试站点", theme = "plain",/' "$t/content/site.lua"
git_commit "$t" 2024-02-22T09:00:00+08:00 "a theme without year and tag layouts"
(cd "$t" && "$JIANBAO" build --out "$WORK/plain.out") >"$WORK/plain.log" 2>&1
expect_status "theme without year and tag layouts: builds" 0 $?
if [ ! -e "$WORK/plain.out/tags" ] && [ ! -e "$WORK/plain.out/bulletins/2024/index.html" ]; then
	ok "theme without year and tag layouts: no such pages"
else
	not_ok "theme without year and tag layouts: no such pages" "$(ls "$WORK/plain.out" "$WORK/plain.out/bulletins/2024")"
fi
expect_contains "theme without year and tag layouts: tags stay plain text" "$WORK/plain.out/bulletins/2024/01/index.html" '<li>AI</li>'
expect_not_contains "theme without year and tag layouts: no year crumb" "$WORK/plain.out/bulletins/2024/01/index.html" 'href="/bulletins/2024/"'
expect_not_contains "theme without year and tag layouts: no links to missing pages" "$WORK/plain.out/sitemap.xml" '/tags/'

# ---- the page being made is the same page as in the lists: ==, params,
# summary and pairs() as on any page table ----
e=$WORK/selfpage
new_repo "$e"
bulletin "$e/content/bulletins/2024/01.md" 2024 1 46 2024-01-11 "甲"
bulletin "$e/content/bulletins/2024/02.md" 2024 2 47 2024-02-21 "乙"
sed -i 's/^tags: .*/tags: [学分银行]\nnote_extra: 附记/' "$e/content/bulletins/2024/02.md"
mkdir -p "$e/themes"
cp -R "$THEMES_DIR/default" "$e/themes/probe"
cat >>"$e/themes/probe/layouts/bulletin.html" <<'HTML'
{% local n, keys = 0, {} %}
{% for _, b in ipairs(site.bulletins) do if b == page and page == b then n = n + 1 end end %}
{% for k in pairs(page) do if type(k) ~= "string" then keys[#keys + 1] = type(k) end end %}
<p class="probe">same:{{ n }} hidden:{{ #keys }} next-same:{{ page.next ~= nil and page.next == site.bulletins[1] }} extra:{{ page.params.note_extra or "-" }} summary:{{ page.summary ~= nil }}</p>
HTML
sed -i 's/^  title = "测试站点",/  title = "测试站点", theme = "probe",/' "$e/content/site.lua"
git_commit "$e" 2024-02-22T09:00:00+08:00 "probe theme"
(cd "$e" && "$JIANBAO" build --out "$WORK/selfpage.out") >"$WORK/selfpage.log" 2>&1
expect_status "the page being made: builds" 0 $?
expect_contains "the page being made: equal to itself in site.bulletins, keys as on any page" \
	"$WORK/selfpage.out/bulletins/2024/02/index.html" '<p class="probe">same:1 hidden:0 next-same:false extra:附记 summary:true</p>'
expect_contains "the page being made: its neighbour is the list's page" \
	"$WORK/selfpage.out/bulletins/2024/01/index.html" '<p class="probe">same:1 hidden:0 next-same:true extra:- summary:true</p>'
