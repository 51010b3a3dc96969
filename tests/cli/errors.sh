#!/bin/sh
# End-to-end: bad input.  Every problem must be reported as
#   file:line:col: error: message
# (line/col where they are known), the exit status must be 1 (2 for bad
# usage), and nothing may be published: no public/, no public.tmp-*.
. "$TESTS_ROOT/lib.sh"

r=$WORK/repo
new_repo "$r"
bulletin "$r/content/bulletins/2024/01.md" 2024 1 46 2024-01-11 "正常的一期"
git_commit "$r" 2024-01-12T10:00:00+08:00 "good"
good=$WORK/good.md
cp "$r/content/bulletins/2024/01.md" "$good"
f=$r/content/bulletins/2024/01.md
# The bulletin helper's front matter, by line:
#  1 ---   2 title   3 series   4 issue   5 total   6 date   7 publisher
#  8 guidance   9 editor   10 tags   11 ---

# restore: back to the good repository state
restore() {
	(cd "$r" && git checkout -q -- . && git clean -q -fdx)
}

# expect_error NAME STATUS LINE [BUILD ARGS...]: builds in $r (default
# output public/) and expects exit status STATUS, the exact line LINE on
# stderr, and no public/ or public.tmp-* afterwards.  Restores the repo.
expect_error() {
	_name=$1 _want=$2 _line=$3
	shift 3
	(cd "$r" && ${RUN:-} "$JIANBAO" build "$@") >"$WORK/err.out" 2>"$WORK/err.log"
	_st=$?
	_fail=""
	[ "$_st" = "$_want" ] || _fail="expected exit status $_want, got $_st"
	if ! grep -qxF -- "$_line" "$WORK/err.log"; then
		_fail="${_fail:+$_fail; }expected the stderr line: $_line"
	fi
	_left=$(cd "$r" && ls -d public public.tmp-* 2>/dev/null)
	[ -z "$_left" ] || _fail="${_fail:+$_fail; }left behind: $_left"
	if [ -z "$_fail" ]; then
		ok "$_name"
	else
		not_ok "$_name" "$_fail" "stderr was:" "$(sed 's/^/  /' "$WORK/err.log" | head -12)"
	fi
	rm -rf "$r/public" "$r"/public.tmp-*
	restore
}

# edit SED-EXPRESSION: applies it to the bulletin
edit() {
	sed "$1" "$good" >"$f"
}

# ---- front matter ----
edit 's/^issue: 1$/issue: abc/'
expect_error "issue: abc → position of the value" 1 \
	"content/bulletins/2024/01.md:4:8: error: 'issue' must be a whole number, got \"abc\""

edit 's/^issue: 1$/issue: 0/'
expect_error "issue: 0 → out of range" 1 \
	"content/bulletins/2024/01.md:4:8: error: 'issue' must be between 1 and 9999, got 0"

edit 's/^issue: 1$/issue: "1"/'
expect_error "issue: \"1\" (quoted) → not a number" 1 \
	"content/bulletins/2024/01.md:4:8: error: 'issue' must be a whole number (unquoted), got \"1\""

edit 's/^tags: .*/tags: {a: b}/'
expect_error "tags: {a: b} → not a list" 1 \
	"content/bulletins/2024/01.md:10:7: error: 'tags' must be a list of words, not a mapping"

edit 's/^date: .*/date: 2023-02-29/'
expect_error "date: 2023-02-29 → not a date" 1 \
	"content/bulletins/2024/01.md:6:7: error: 'date' must be a date like 2024-01-11, got \"2023-02-29\""

# unterminated: drop the closing ---
awk 'NR == 1 || $0 != "---"' "$good" >"$f"
expect_error "unterminated front matter → line 1 col 1" 1 \
	"content/bulletins/2024/01.md:1:1: error: front matter is never closed: add a line '---' after it"

awk '{ if ($0 ~ /^publisher:/) printf "\t%s\n", $0; else print }' "$good" >"$f"
expect_error "invalid YAML: tab indentation" 1 \
	"content/bulletins/2024/01.md:7:1: error: invalid YAML: found a tab character that violates indentation while scanning a plain scalar"

awk '{ print } /^editor:/ { print "  bad: indent" }' "$good" >"$f"
expect_error "invalid YAML: bad indentation" 1 \
	"content/bulletins/2024/01.md:10:6: error: invalid YAML: mapping values are not allowed in this context"

awk '{ print } /^editor:/ { print "title: 又一个标题" }' "$good" >"$f"
expect_error "duplicate key → position of the second key" 1 \
	"content/bulletins/2024/01.md:10:1: error: duplicate key 'title'"

printf -- '- a\n- b\n' | awk 'NR == 1 { print "---" } { print } END { print "---"; print ""; print "正文" }' >"$f"
expect_error "front matter that is a list" 1 \
	"content/bulletins/2024/01.md:2:1: error: front matter must be a mapping of keys to values, not a list"

mkdir -p "$r/content/pages"
printf -- '---\ntitle: 坏\n---\n\n正文\377坏\n' >"$r/content/pages/bad.md"
expect_error "invalid UTF-8 → line and column of the bad byte" 1 \
	"content/pages/bad.md:5:3: error: invalid UTF-8 (content must be UTF-8 encoded)"

mkdir -p "$r/content/pages"
printf -- '---\ntitle: \376\n---\n' >"$r/content/pages/bad.md"
expect_error "invalid UTF-8 in the front matter" 1 \
	"content/pages/bad.md:2:8: error: invalid UTF-8 (content must be UTF-8 encoded)"

printf -- '---\ntitle: 第二期\nissue: 2\n---\n\n正文\n' >"$r/content/bulletins/2024/02.md"
expect_error "bulletin without date, --no-git" 1 \
	"content/bulletins/2024/02.md:1:1: error: bulletin has no date: add 'date: YYYY-MM-DD' to its front matter" --no-git

printf -- '---\ntitle: 第二期\nissue: 2\n---\n\n正文\n' >"$r/content/bulletins/2024/02.md"
expect_error "bulletin without date, not yet committed" 1 \
	"content/bulletins/2024/02.md:1:1: error: bulletin has no date: add 'date: YYYY-MM-DD' to its front matter (it has no commit history to date it by)"

printf -- '---\ntitle: 无期号\ndate: 2024-03-01\n---\n\n正文\n' >"$r/content/bulletins/2024/extra.md"
expect_error "bulletin without issue number" 1 \
	"content/bulletins/2024/extra.md:1:1: error: bulletin has no issue number: add 'issue: N' (第N期) to its front matter"

mkdir -p "$r/content/pages"
printf -- '---\ndate: 2024-03-01\n---\n\n没有标题。\n' >"$r/content/pages/untitled.md"
expect_error "page without title" 1 \
	"content/pages/untitled.md:4:1: error: no title: add 'title:' to the front matter or start the text with a '# ' heading"

awk '/^issue:/ { print "slug: ../x" } { print }' "$good" >"$f"
expect_error "slug: ../x → rejected at the value" 1 \
	"content/bulletins/2024/01.md:4:7: error: 'slug' must be one path segment without '/' or '..', got \"../x\""

awk '/^issue:/ { print "slug: .." } { print }' "$good" >"$f"
expect_error "slug: .. → rejected" 1 \
	"content/bulletins/2024/01.md:4:7: error: 'slug' must be one path segment without '/' or '..', got \"..\""

# ---- two sources, one output ----
mkdir -p "$r/content/pages/a"
printf '# A\n' >"$r/content/pages/a.md"
printf '# A again\n' >"$r/content/pages/a/index.md"
expect_error "pages/a.md and pages/a/index.md collide" 1 \
	"content/pages/a/index.md: error: output a/index.html is also produced by content/pages/a.md: two sources map to one file"

mkdir -p "$r/content/pages"
printf '# 简报\n' >"$r/content/pages/bulletins.md"
expect_error "pages/bulletins.md collides with the archive" 1 \
	"content/pages/bulletins.md: error: output bulletins/index.html is also produced by (bulletin archive): two sources map to one file"

# ---- several problems: all reported in one run ----
edit 's/^issue: 1$/issue: abc/'
mkdir -p "$r/content/pages"
printf -- '---\ntitle: [a]\n---\n' >"$r/content/pages/x.md"
(cd "$r" && "$JIANBAO" build) >/dev/null 2>"$WORK/multi.log"
if grep -qF "content/bulletins/2024/01.md:4:8: error:" "$WORK/multi.log" && grep -qF "content/pages/x.md:2:8: error: 'title' must be text, not a list" "$WORK/multi.log"; then
	ok "several bad files: every error reported in one run"
else
	not_ok "several bad files: every error reported in one run" "$(cat "$WORK/multi.log")"
fi
restore

# ---- site.lua ----
rm "$r/content/site.lua"
expect_error "missing site.lua" 1 \
	"content/site.lua: error: not found: every site needs a site.lua that returns the site table (e.g. return { title = \"…\", base_url = \"https://example.org/\" })"

printf 'return {\n  title = "x",\n' >"$r/content/site.lua"
expect_error "site.lua syntax error (return {) names the line" 1 \
	"content/site.lua:3: error: unexpected symbol near <eof>"

printf 'return {\n  title = "x"\n  base_url = "/",\n}\n' >"$r/content/site.lua"
expect_error "site.lua missing comma names the line" 1 \
	"content/site.lua:3: error: '}' expected (to close '{' at line 1) near 'base_url'"

printf -- '-- comment\nlocal t = nil\nreturn { title = t.x }\n' >"$r/content/site.lua"
expect_error "site.lua runtime error names the line" 1 \
	"content/site.lua:3: error: attempt to index a nil value (local 't')"

printf 'return 42\n' >"$r/content/site.lua"
expect_error "site.lua returning a number" 1 \
	"content/site.lua: error: must return the site table (a Lua table), not number"

printf 'return { title = "x", base_url = "example.org" }\n' >"$r/content/site.lua"
expect_error "site.lua with a bad base_url" 1 \
	"content/site.lua: error: site.base_url must start with https://, http:// or /, got 'example.org'"

printf 'return { base_url = "/" }\n' >"$r/content/site.lua"
expect_error "site.lua without a title" 1 \
	"content/site.lua: error: the site table needs a 'title' string"

printf 'return { title = "x", io = io.open("/etc/passwd") }\n' >"$r/content/site.lua"
expect_error "site.lua runs sandboxed (no io)" 1 \
	"content/site.lua:1: error: undefined variable 'io'"

expect_error "--base-url without a scheme" 1 \
	"--base-url: error: site.base_url must start with https://, http:// or /, got 'ftp://example.org/'" --base-url ftp://example.org/
expect_error "--base-url without a host" 1 \
	"--base-url: error: site.base_url 'https://' has no host" --base-url https://

# ---- SOURCE_DATE_EPOCH ----
RUN="env SOURCE_DATE_EPOCH=abc"
expect_error "SOURCE_DATE_EPOCH=abc" 1 \
	"jianbao: error: SOURCE_DATE_EPOCH must be a whole number of seconds since 1970-01-01, got 'abc'"
RUN="env SOURCE_DATE_EPOCH=-5"
expect_error "SOURCE_DATE_EPOCH=-5" 1 \
	"jianbao: error: SOURCE_DATE_EPOCH must be a whole number of seconds since 1970-01-01, got '-5'"
RUN="env SOURCE_DATE_EPOCH=17e8"
expect_error "SOURCE_DATE_EPOCH=17e8" 1 \
	"jianbao: error: SOURCE_DATE_EPOCH must be a whole number of seconds since 1970-01-01, got '17e8'"
RUN=""
(cd "$r" && SOURCE_DATE_EPOCH=1700000000 "$JIANBAO" build --out "$WORK/sde") >"$WORK/sde.log" 2>&1
status=$?
expect_status "SOURCE_DATE_EPOCH=1700000000 builds" 0 "$status"
expect_contains "SOURCE_DATE_EPOCH=1700000000 (2023-11-14T22:13Z) is the build date in the site time zone (+08:00)" "$WORK/sde/index.html" '网站更新于 <time datetime="2023-11-15">2023年11月15日</time>'

# ---- templates: a copy of the theme in the content repository ----
mkdir -p "$r/themes"
cp -r "$THEMES_DIR/default" "$r/themes/default"
mkdir -p "$r/content/pages"
printf '# 关于\n\n正文\n' >"$r/content/pages/about.md"
git_commit "$r" 2024-01-13T10:00:00+08:00 "theme copy"

printf '<div>\n  {{ page.title }}\n  {{ nosuchvar }}\n</div>\n' >"$r/themes/default/layouts/page.html"
expect_error "template: undefined variable names the template file:line" 1 \
	"themes/default/layouts/page.html:3: error: undefined variable 'nosuchvar'"

printf '{{ nosuchpartialvar }}\n' >>"$r/themes/default/partials/footer.html"
n=$(($(wc -l <"$THEMES_DIR/default/partials/footer.html") + 1))
expect_error "template: undefined variable in a partial names the partial" 1 \
	"themes/default/partials/footer.html:$n: error: undefined variable 'nosuchpartialvar'"

printf '<div>\n  x {{ page.title\n</div>\n' >"$r/themes/default/layouts/page.html"
expect_error "template: unclosed {{ names file:line:col" 1 \
	"themes/default/layouts/page.html:2:5: error: unclosed '{{': expected '}}'"

printf '<div>\n\n  <p>{{{ page.content </p>\n</div>\n' >"$r/themes/default/layouts/page.html"
expect_error "template: unclosed {{{ names file:line:col" 1 \
	"themes/default/layouts/page.html:3:6: error: unclosed '{{{': expected '}}}'"

printf '<div>\n  {{ page.title }}\n{%% local = 1 %%}\n</div>\n' >"$r/themes/default/layouts/page.html"
expect_error "template: Lua syntax error in {% %} names file:line" 1 \
	"themes/default/layouts/page.html:3: error: <name> expected near '='"

printf '<div>\n{%% if page.title then %%}\n  {{ page.title }}\n</div>\n' >"$r/themes/default/layouts/page.html"
expect_error "template: {% if %} without {% end %}" 1 \
	"themes/default/layouts/page.html:5: error: 'end' expected (to close 'if' at line 2) near <eof>"

printf '<div>\n\n  {{ error("boom") }}\n</div>\n' >"$r/themes/default/layouts/page.html"
expect_error "template: runtime error names file:line" 1 \
	"themes/default/layouts/page.html:3: error: boom"

printf '{{{ include("partials/nosuch.html") }}}\n' >"$r/themes/default/layouts/page.html"
expect_error "template: include of a missing partial" 1 \
	"themes/default/layouts/page.html:1: error: include: no template partials/nosuch.html in theme default"

# ---- usage errors: status 2 ----
expect_error "unknown option → status 2" 2 \
	"jianbao build: unknown or incomplete option '--nosuch'" --nosuch
expect_error "option without its value → status 2" 2 \
	"jianbao build: unknown or incomplete option '--rev'" --rev
expect_error "unexpected argument → status 2" 2 \
	"jianbao build: unexpected argument 'extra'" extra
expect_error "--diagnostics with an unknown format → status 2" 2 \
	"jianbao: --diagnostics must be plain or github" --diagnostics xml
expect_error "--content outside the repository → status 2" 2 \
	"jianbao: error: --content must be a relative folder inside the repository, got '../x'" --content ../x
(cd "$r" && "$JIANBAO" frobnicate) >/dev/null 2>"$WORK/cmd.log"
status=$?
expect_status "unknown command → status 2" 2 "$status"
expect_contains "unknown command: says so" "$WORK/cmd.log" "jianbao: unknown command 'frobnicate'"

# ---- --diagnostics github ----
edit 's/^issue: 1$/issue: abc/'
expect_error "--diagnostics github: annotation with file, line and col" 1 \
	"::error file=content/bulletins/2024/01.md,line=4,col=8::'issue' must be a whole number, got \"abc\"" --diagnostics github
