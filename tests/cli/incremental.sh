#!/bin/sh
# A build into an output folder that is as the last build left it makes
# again only the outputs whose pages changed; the result is always the
# bytes of a clean build of the same commit.
. "$TESTS_ROOT/lib.sh"

r=$WORK/site
new_repo "$r"
for i in 1 2 3 4 5 6; do
	bulletin "$r/content/bulletins/2024/0$i.md" 2024 "$i" "$((45 + i))" "2024-0$i-11" "第${i}期标题"
done
bulletin "$r/content/bulletins/2023/01.md" 2023 1 40 2023-01-11 "去年的一期"
mkdir -p "$r/content/pages"
printf -- '---\ntitle: 关于\n---\n\n关于本站。\n' >"$r/content/pages/about.md"
git_commit "$r" 2024-07-01T10:00:00+08:00 "content"
settle() { sleep 1.1; }
settle
out=$WORK/out
n=0

# commit DATE MESSAGE, wait, then build into $out (-> $WORK/inc$n.log) and a
# clean build into a fresh folder, and compare them
step() {
	git_commit "$r" "$1" "$2"
	settle
	n=$((n + 1))
	"$JIANBAO" build --no-pdf --repo "$r" --out "$out" ${3:-} >"$WORK/inc$n.log" 2>&1
	expect_status "$2: builds" 0 $?
	rm -rf "$WORK/clean$n"
	"$JIANBAO" build --quiet --no-pdf --repo "$r" --out "$WORK/clean$n" ${3:-} >/dev/null 2>&1
	if diff -r "$WORK/clean$n" "$out" >"$WORK/diff$n" 2>&1; then
		ok "$2: the same bytes as a clean build"
	else
		not_ok "$2: the same bytes as a clean build" "$(head -20 "$WORK/diff$n")"
	fi
}

inode() { stat -c %i "$out/$1"; }

"$JIANBAO" build --no-pdf --repo "$r" --out "$out" >"$WORK/inc0.log" 2>&1
expect_status "first build" 0 $?
expect_not_contains "first build: everything is made" "$WORK/inc0.log" "made again"
b2=$(inode bulletins/2024/02/index.html)
b4=$(inode bulletins/2024/04/index.html)
b5=$(inode bulletins/2024/05/index.html)
about=$(inode about/index.html)

# the text of one bulletin: it, its neighbours (their pager names it), the
# lists that show it; not the others
printf '\n新增的一段话。\n' >>"$r/content/bulletins/2024/04.md"
step 2024-07-02T10:00:00+08:00 "one bulletin's text"
expect_contains "one bulletin's text: only some files are made again" "$WORK/inc$n.log" "made again"
expect_contains "one bulletin's text: the edit is published" "$out/bulletins/2024/04/index.html" "新增的一段话"
if [ "$(inode bulletins/2024/04/index.html)" != "$b4" ]; then
	ok "one bulletin's text: its page is replaced"
else
	not_ok "one bulletin's text: its page is replaced" "same inode $b4"
fi
if [ "$(inode bulletins/2024/02/index.html)" = "$b2" ] && [ "$(inode about/index.html)" = "$about" ]; then
	ok "one bulletin's text: pages that do not show it are left as they are"
else
	not_ok "one bulletin's text: pages that do not show it are left as they are" "bulletins/2024/02 or about/ replaced"
fi
made=$(sed -n 's/.*files, \([0-9]*\) made again.*/\1/p' "$WORK/inc$n.log")
check "one bulletin's text: fewer than half of the files are made again ($made)" test "${made:-999}" -lt 12

# its title: the neighbours' pagers show it
sed -i 's/^title: 第4期标题/title: 第4期新标题/' "$r/content/bulletins/2024/04.md"
step 2024-07-03T10:00:00+08:00 "one bulletin's title"
expect_contains "one bulletin's title: the next issue's pager shows it" "$out/bulletins/2024/05/index.html" "第4期新标题"
if [ "$(inode bulletins/2024/05/index.html)" != "$b5" ]; then
	ok "one bulletin's title: the neighbour's page is replaced"
else
	not_ok "one bulletin's title: the neighbour's page is replaced" "same inode $b5"
fi

# a tag: which lists hold which pages changes, every page is made again
sed -i 's/^tags: \[学分银行\]/tags: [学分银行, 新标签]/' "$r/content/bulletins/2024/03.md"
step 2024-07-04T10:00:00+08:00 "a new tag"
expect_not_contains "a new tag: a whole build" "$WORK/inc$n.log" "made again"

# a new bulletin and a removed one
bulletin "$r/content/bulletins/2024/07.md" 2024 7 52 2024-07-11 "第7期标题"
step 2024-07-05T10:00:00+08:00 "a new bulletin"
check "a new bulletin: its page is published" test -f "$out/bulletins/2024/07/index.html"
git -C "$r" rm -q content/bulletins/2024/07.md
step 2024-07-06T10:00:00+08:00 "a removed bulletin"
check "a removed bulletin: its folder is gone" test ! -e "$out/bulletins/2024/07"

# a commit that changes no page: the home page shows the build date
printf '# notes\n' >"$r/NOTES.md"
step 2024-07-07T10:00:00+08:00 "a commit outside the content"
expect_contains "a commit outside the content: few files are made again" "$WORK/inc$n.log" "made again"

# a template of the site's own copy of the theme: every page
mkdir -p "$r/themes"
cp -r "$THEMES_DIR/default" "$r/themes/default"
step 2024-07-08T09:00:00+08:00 "the theme copied into the site"
printf '<p class="marker">本站模板</p>\n' >>"$r/themes/default/layouts/bulletin.html"
step 2024-07-08T09:30:00+08:00 "a template changed"
expect_not_contains "a template changed: a whole build" "$WORK/inc$n.log" "made again"
expect_contains "a template changed: in every bulletin" "$out/bulletins/2024/02/index.html" "本站模板"

# the output changed by hand: a whole build puts it right
echo "changed by hand" >"$out/bulletins/2024/02/index.html"
printf '\n又一段。\n' >>"$r/content/bulletins/2024/01.md"
step 2024-07-08T10:00:00+08:00 "an output file changed by hand"
expect_not_contains "an output file changed by hand: a whole build" "$WORK/inc$n.log" "made again"
echo "stray" >"$out/stray.html"
printf '\n再一段。\n' >>"$r/content/bulletins/2024/01.md"
step 2024-07-09T10:00:00+08:00 "a file added to the output by hand"
check "a file added to the output by hand: removed" test ! -e "$out/stray.html"

# a build that fails changes nothing, and the next one is right again
before=$(cd "$out" && find . -type f -exec md5sum {} + | sort | md5sum)
printf -- '---\ntitle: [未闭合\n---\n正文\n' >"$r/content/bulletins/2024/06.md"
git_commit "$r" 2024-07-10T10:00:00+08:00 "broken"
settle
"$JIANBAO" build --no-pdf --repo "$r" --out "$out" >"$WORK/broken.log" 2>&1
expect_status "a broken bulletin: the build fails" 1 $?
after=$(cd "$out" && find . -type f -exec md5sum {} + | sort | md5sum)
check "a broken bulletin: the output is left as it was" test "$before" = "$after"
bulletin "$r/content/bulletins/2024/06.md" 2024 6 51 2024-06-11 "第6期修好"
step 2024-07-11T10:00:00+08:00 "fixed again"

# workers for the whole build, then one edit
printf '\n并行之后。\n' >>"$r/content/bulletins/2024/02.md"
git_commit "$r" 2024-07-12T10:00:00+08:00 "before -j 3"
settle
"$JIANBAO" build --quiet --no-pdf -j 3 --repo "$r" --out "$out" >/dev/null 2>&1
printf '\n并行之后再改。\n' >>"$r/content/bulletins/2024/02.md"
step 2024-07-13T10:00:00+08:00 "an edit after a build with three workers"
expect_contains "an edit after a build with three workers: only some files are made again" "$WORK/inc$n.log" "made again"

# with PDFs: the edited bulletin's PDF and its year's volume, not last year's
"$JIANBAO" build --quiet --repo "$r" --out "$WORK/pdf" >/dev/null 2>&1
vol23=$(stat -c %i "$WORK/pdf/bulletins/2023/volume.pdf")
vol24=$(stat -c %i "$WORK/pdf/bulletins/2024/volume.pdf")
printf '\n印刷版的一段。\n' >>"$r/content/bulletins/2024/03.md"
git_commit "$r" 2024-07-14T10:00:00+08:00 "pdf edit"
settle
"$JIANBAO" build --repo "$r" --out "$WORK/pdf" >"$WORK/pdf.log" 2>&1
expect_contains "PDFs: one edit makes only some files again" "$WORK/pdf.log" "made again"
rm -rf "$WORK/pdf-clean"
"$JIANBAO" build --quiet --repo "$r" --out "$WORK/pdf-clean" >/dev/null 2>&1
if diff -r "$WORK/pdf-clean" "$WORK/pdf" >"$WORK/pdf.diff" 2>&1; then
	ok "PDFs: the same bytes as a clean build"
else
	not_ok "PDFs: the same bytes as a clean build" "$(head -10 "$WORK/pdf.diff")"
fi
if [ "$(stat -c %i "$WORK/pdf/bulletins/2023/volume.pdf")" = "$vol23" ] &&
	[ "$(stat -c %i "$WORK/pdf/bulletins/2024/volume.pdf")" != "$vol24" ]; then
	ok "PDFs: the edited year's volume is made again, the other year's is left"
else
	not_ok "PDFs: the edited year's volume is made again, the other year's is left" "2023 $vol23, 2024 $vol24"
fi

# --rev: the record has not seen the files of the commit, every build is whole
"$JIANBAO" build --quiet --no-pdf --rev HEAD --repo "$r" --out "$WORK/rev" >/dev/null 2>&1
sed -i 's/测试站点/测试站点（新名）/' "$r/content/site.lua"
git_commit "$r" 2024-07-15T10:00:00+08:00 "site title"
"$JIANBAO" build --no-pdf --rev HEAD --repo "$r" --out "$WORK/rev" >"$WORK/rev.log" 2>&1
expect_status "--rev of the next commit: builds" 0 $?
expect_not_contains "--rev of the next commit: a whole build" "$WORK/rev.log" "made again"
expect_contains "--rev of the next commit: the new title is on every page" "$WORK/rev/bulletins/2024/02/index.html" "测试站点（新名）"

# a --rev build of an older commit into the folder, then the worktree again:
# the notes of the worktree build before it must not be used
printf '\n最后一段。\n' >>"$r/content/bulletins/2024/05.md"
git_commit "$r" 2024-07-16T10:00:00+08:00 "last"
settle
"$JIANBAO" build --quiet --no-pdf --repo "$r" --out "$WORK/mix" >/dev/null 2>&1
"$JIANBAO" build --quiet --no-pdf --rev HEAD~1 --repo "$r" --out "$WORK/mix" >/dev/null 2>&1
"$JIANBAO" build --no-pdf --repo "$r" --out "$WORK/mix" >"$WORK/mix.log" 2>&1
expect_contains "worktree after --rev HEAD~1: the last commit's text is back" "$WORK/mix/bulletins/2024/05/index.html" "最后一段"

# a partial made once with include_cached and shown on several pages: what it
# read (here the text of the bulletins, through their summaries) is noted
# in every page that shows it, so an edit of a text makes them all again
c=$WORK/cached
three_bulletins "$c"
mkdir -p "$c/themes"
cp -R "$THEMES_DIR/default" "$c/themes/summaries"
printf '<li>{{ args.b.title }}：{{ args.b.summary }}</li>' >"$c/themes/summaries/partials/summary-item.html"
for f in year tag; do
	sed -i 's|include_cached("partials/bulletin-item.html", b.url, { b = b })|include_cached("partials/summary-item.html", b.url, { b = b })|' \
		"$c/themes/summaries/layouts/$f.html"
done
sed -i 's/^  title = "测试站点",/  title = "测试站点", theme = "summaries",/' "$c/content/site.lua"
git_commit "$c" 2024-07-01T10:00:00+08:00 "a theme with summaries in the lists"
settle
# one worker: the tag page uses what the year page made
"$JIANBAO" build -j 1 --no-pdf --repo "$c" --out "$WORK/cached.out" >"$WORK/cached1.log" 2>&1
expect_status "include_cached: first build" 0 $?
sed -i 's/^第一段文字，/改过的第一段，/' "$c/content/bulletins/2024/02.md"
git_commit "$c" 2024-07-02T10:00:00+08:00 "a text edited"
settle
"$JIANBAO" build --no-pdf --repo "$c" --out "$WORK/cached.out" >"$WORK/cached2.log" 2>&1
expect_contains "include_cached: the edit builds only some pages again" "$WORK/cached2.log" "made again"
for p in bulletins/2024 tags/学分银行; do
	expect_contains "include_cached: $p shows the new summary" "$WORK/cached.out/$p/index.html" "第2期：改过的第一段"
done
"$JIANBAO" build --quiet --no-pdf --repo "$c" --out "$WORK/cached.clean" >/dev/null 2>&1
if diff -r "$WORK/cached.clean" "$WORK/cached.out" >"$WORK/cached.diff" 2>&1; then
	ok "include_cached: the same bytes as a clean build"
else
	not_ok "include_cached: the same bytes as a clean build" "$(head -10 "$WORK/cached.diff")"
fi

# edits built at once, within the second they were made, one after another:
# each build still makes again only what changed, and the next build too;
# a non-page input changed as recently leaves the build after it to make
# everything (its next change might keep the same time)
q=$WORK/quick
three_bulletins "$q"
git_commit "$q" 2024-07-01T10:00:00+08:00 "content"
settle
"$JIANBAO" build --no-pdf --repo "$q" --out "$WORK/quick.out" >/dev/null 2>&1
for k in 1 2 3; do
	printf '\n第%s次修订。\n' "$k" >>"$q/content/bulletins/2024/02.md"
	git_commit "$q" "2024-07-0$((k + 1))T10:00:00+08:00" "edit $k"
	"$JIANBAO" build --no-pdf --repo "$q" --out "$WORK/quick.out" >"$WORK/quick$k.log" 2>&1
	expect_contains "an edit built at once ($k of 3): only some files are made again" "$WORK/quick$k.log" "made again"
done
expect_contains "edits built at once: the last is published" "$WORK/quick.out/bulletins/2024/02/index.html" "第3次修订"
"$JIANBAO" build --quiet --no-pdf --repo "$q" --out "$WORK/quick.clean" >/dev/null 2>&1
if diff -r "$WORK/quick.clean" "$WORK/quick.out" >"$WORK/quick.diff" 2>&1; then
	ok "edits built at once: the same bytes as a clean build"
else
	not_ok "edits built at once: the same bytes as a clean build" "$(head -10 "$WORK/quick.diff")"
fi
settle
"$JIANBAO" build --no-pdf --repo "$q" --out "$WORK/quick.out" >"$WORK/quick4.log" 2>&1
expect_contains "after edits built at once, the next build makes again only some files" "$WORK/quick4.log" "made again"
"$JIANBAO" build --no-pdf --repo "$q" --out "$WORK/quick.out" >"$WORK/quick5.log" 2>&1
expect_contains "and the one after it has nothing to do" "$WORK/quick5.log" "is up to date"
sed -i 's/^  title = "测试站点",/  title = "测试站点（新）",/' "$q/content/site.lua"
"$JIANBAO" build --no-pdf --repo "$q" --out "$WORK/quick.out" >/dev/null 2>&1
settle
"$JIANBAO" build --no-pdf --repo "$q" --out "$WORK/quick.out" >"$WORK/quick6.log" 2>&1
expect_not_contains "site.lua changed within the second of a build: the next build makes everything" "$WORK/quick6.log" "made again"
expect_contains "site.lua changed within the second of a build: the change is published" "$WORK/quick.out/index.html" "测试站点（新）"
