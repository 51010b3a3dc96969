#!/bin/sh
# End-to-end: the output folder is replaced atomically and only by a
# successful build, and the output bytes depend only on the commit.
. "$TESTS_ROOT/lib.sh"

r=$WORK/repo
new_repo "$r"
bulletin "$r/content/bulletins/2023/12.md" 2023 12 45 2023-12-20 "岁末回顾"
bulletin "$r/content/bulletins/2024/01.md" 2024 1 46 2024-01-11 "开新篇"
mkdir -p "$r/content/pages" "$r/content/assets"
printf -- '---\ntitle: 旧页面\n---\n\n将被删除。\n' >"$r/content/pages/old.md"
printf -- '---\ntitle: 关于\n---\n\n关于本站。\n' >"$r/content/pages/about.md"
printf 'GIF89a' >"$r/content/assets/logo.gif"
# noon in +08:00, so that the commit's local date and its UTC date agree
git_commit "$r" 2024-01-12T12:00:00+08:00 "first"
epoch=$(cd "$r" && git log -1 --format=%at)

out=$WORK/out
# sums DIR: one line per file, "sha256  path", sorted
sums() { (cd "$1" && find . -type f | LC_ALL=C sort | xargs sha256sum); }
tmp_left() { ls -d "$WORK"/out.tmp-* "$WORK"/out.old* 2>/dev/null; }

(cd "$r" && "$JIANBAO" build --out "$out") >"$WORK/b1.log" 2>&1
expect_status "first build succeeds" 0 $?
if [ -f "$out/old/index.html" ] && [ -f "$out/assets/logo.gif" ]; then ok "first build: pages and assets written"; else not_ok "first build: pages and assets written" "$(cd "$out" && find . -type f | sort)"; fi
sums "$out" >"$WORK/sums.before"

# ---- a failing build (bad front matter) leaves out/ as it was ----
printf -- '---\ntitle: 关于\nissue: [\n---\n' >"$r/content/pages/about.md"
(cd "$r" && "$JIANBAO" build --out "$out") >"$WORK/b2.log" 2>&1
expect_status "bad front matter: build fails" 1 $?
sums "$out" >"$WORK/sums.after"
if cmp -s "$WORK/sums.before" "$WORK/sums.after"; then ok "bad front matter: out/ is byte-identical"; else not_ok "bad front matter: out/ is byte-identical" "$(diff "$WORK/sums.before" "$WORK/sums.after")"; fi
left=$(tmp_left)
if [ -z "$left" ]; then ok "bad front matter: no out.tmp-* left"; else not_ok "bad front matter: no out.tmp-* left" "$left"; fi
expect_contains "bad front matter: says out/ was left as it was" "$WORK/b2.log" "build failed with 1 error(s): $out/ was left as it was"
(cd "$r" && git checkout -q -- content/pages/about.md)

# ---- a build failing while writing (after the staging folder exists) ----
printf '# 冲突\n' >"$r/content/pages/bulletins.md"
(cd "$r" && "$JIANBAO" build --out "$out") >"$WORK/b3.log" 2>&1
expect_status "collision while rendering: build fails" 1 $?
sums "$out" >"$WORK/sums.after"
if cmp -s "$WORK/sums.before" "$WORK/sums.after"; then ok "collision while rendering: out/ is byte-identical"; else not_ok "collision while rendering: out/ is byte-identical" "$(diff "$WORK/sums.before" "$WORK/sums.after")"; fi
left=$(tmp_left)
if [ -z "$left" ]; then ok "collision while rendering: staging folder removed"; else not_ok "collision while rendering: staging folder removed" "$left"; fi
rm "$r/content/pages/bulletins.md"

# ---- a template error (theme copy in the repository) ----
mkdir -p "$r/themes"
cp -r "$THEMES_DIR/default" "$r/themes/default"
printf '{{ error("broken") }}\n' >"$r/themes/default/layouts/page.html"
(cd "$r" && "$JIANBAO" build --out "$out") >"$WORK/b4.log" 2>&1
expect_status "template error: build fails" 1 $?
sums "$out" >"$WORK/sums.after"
if cmp -s "$WORK/sums.before" "$WORK/sums.after" && [ -z "$(tmp_left)" ]; then
	ok "template error: out/ is byte-identical, no staging folder left"
else
	not_ok "template error: out/ is byte-identical, no staging folder left" "$(diff "$WORK/sums.before" "$WORK/sums.after")" "$(tmp_left)"
fi
rm -rf "$r/themes"

# ---- the output path is a file ----
printf 'keep me\n' >"$WORK/file-out"
(cd "$r" && "$JIANBAO" build --out "$WORK/file-out") >"$WORK/b5.log" 2>&1
st=$?
if [ "$st" -eq 1 ] && [ "$(cat "$WORK/file-out")" = "keep me" ] && ! ls -d "$WORK"/file-out.tmp-* >/dev/null 2>&1; then
	ok "--out naming a file: refused, file untouched"
else
	not_ok "--out naming a file: refused, file untouched" "status $st" "$(cat "$WORK/b5.log")"
fi
for bad in . ..; do
	(cd "$r" && "$JIANBAO" build --out "$bad") >"$WORK/b6.log" 2>&1
	st=$?
	if [ "$st" -eq 1 ] && grep -qF "refusing to use '$bad' as the output folder" "$WORK/b6.log"; then
		ok "--out $bad: refused"
	else
		not_ok "--out $bad: refused" "status $st" "$(cat "$WORK/b6.log")"
	fi
done
if [ -f "$r/content/site.lua" ] && [ -f "$r/content/pages/about.md" ]; then ok "--out . and ..: the repository is intact"; else not_ok "--out . and ..: the repository is intact" "$(cd "$r" && git status --short)"; fi

# ---- a successful rebuild replaces stale files ----
echo "stray" >"$out/stray.txt"
(cd "$r" && git rm -q content/pages/old.md content/assets/logo.gif)
git_commit "$r" 2024-01-13T12:00:00+08:00 "remove a page"
(cd "$r" && "$JIANBAO" build --out "$out") >"$WORK/b7.log" 2>&1
expect_status "rebuild succeeds" 0 $?
if [ ! -e "$out/old" ] && [ ! -e "$out/assets/logo.gif" ] && [ ! -e "$out/stray.txt" ]; then
	ok "rebuild: removed page, removed asset and stray file are gone"
else
	not_ok "rebuild: removed page, removed asset and stray file are gone" "$(cd "$out" && find . -type f | sort)"
fi
expect_not_contains "rebuild: sitemap no longer lists the removed page" "$out/sitemap.xml" "/old/"
expect_contains "rebuild: the rest is there" "$out/about/index.html" "关于本站。"
if [ -z "$(tmp_left)" ]; then ok "rebuild: no staging or old folder left"; else not_ok "rebuild: no staging or old folder left" "$(tmp_left)"; fi

# ---- determinism ----
epoch=$(cd "$r" && git log -1 --format=%at)
(cd "$r" && "$JIANBAO" build --quiet --out "$WORK/d1") 2>"$WORK/d.log"
sleep 1
(cd "$r" && "$JIANBAO" build --quiet --out "$WORK/d2") 2>>"$WORK/d.log"
if diff -r "$WORK/d1" "$WORK/d2" >"$WORK/diff" 2>&1; then ok "determinism: two builds of one commit are identical"; else not_ok "determinism: two builds of one commit are identical" "$(head -20 "$WORK/diff")"; fi
(cd "$r" && SOURCE_DATE_EPOCH=1700000000 "$JIANBAO" build --quiet --out "$WORK/s1") 2>>"$WORK/d.log"
(cd "$r" && SOURCE_DATE_EPOCH=1700000000 "$JIANBAO" build --quiet --out "$WORK/s2") 2>>"$WORK/d.log"
if diff -r "$WORK/s1" "$WORK/s2" >"$WORK/diff" 2>&1; then ok "determinism: two builds with one SOURCE_DATE_EPOCH are identical"; else not_ok "determinism: two builds with one SOURCE_DATE_EPOCH are identical" "$(head -20 "$WORK/diff")"; fi
(cd "$r" && SOURCE_DATE_EPOCH=$epoch "$JIANBAO" build --quiet --out "$WORK/s3") 2>>"$WORK/d.log"
if diff -r "$WORK/d1" "$WORK/s3" >"$WORK/diff" 2>&1; then
	ok "determinism: SOURCE_DATE_EPOCH = the commit time gives the same bytes as no SOURCE_DATE_EPOCH"
else
	not_ok "determinism: SOURCE_DATE_EPOCH = the commit time gives the same bytes as no SOURCE_DATE_EPOCH" "$(head -20 "$WORK/diff")"
fi
if diff -r "$WORK/d1" "$WORK/s1" >/dev/null 2>&1; then
	not_ok "determinism: a different SOURCE_DATE_EPOCH changes the build date" "outputs are identical"
else
	ok "determinism: a different SOURCE_DATE_EPOCH changes the build date"
fi

(cd "$r" && "$JIANBAO" build --quiet --rev HEAD --out "$WORK/rev") 2>>"$WORK/d.log"
if diff -r "$WORK/d1" "$WORK/rev" >"$WORK/diff" 2>&1; then ok "determinism: --rev HEAD equals the worktree build of the clean commit"; else not_ok "determinism: --rev HEAD equals the worktree build of the clean commit" "$(head -20 "$WORK/diff")"; fi
git clone -q --bare "$r" "$WORK/bare.git"
"$JIANBAO" build --quiet --repo "$WORK/bare.git" --rev main --out "$WORK/bare" 2>>"$WORK/d.log"
if diff -r "$WORK/d1" "$WORK/bare" >"$WORK/diff" 2>&1; then ok "determinism: a bare clone elsewhere builds the same bytes"; else not_ok "determinism: a bare clone elsewhere builds the same bytes" "$(head -20 "$WORK/diff")"; fi
if [ -s "$WORK/d.log" ]; then not_ok "determinism: quiet builds printed nothing" "$(head -10 "$WORK/d.log")"; else ok "determinism: quiet builds printed nothing"; fi

# The usual CI recipe, SOURCE_DATE_EPOCH=$(git log -1 --format=%ct), must
# not change the bytes of a build of that commit — also for a commit made
# early in the morning in China (+08:00), when the UTC date is the day before.
printf '\n清晨的修改。\n' >>"$r/content/pages/about.md"
git_commit "$r" 2024-01-14T01:30:00+08:00 "early morning"
ct=$(cd "$r" && git log -1 --format=%ct)
(cd "$r" && "$JIANBAO" build --quiet --out "$WORK/e1") 2>"$WORK/e.log"
(cd "$r" && SOURCE_DATE_EPOCH=$ct "$JIANBAO" build --quiet --out "$WORK/e2") 2>>"$WORK/e.log"
if diff -r "$WORK/e1" "$WORK/e2" >"$WORK/diff" 2>&1; then
	ok "determinism: SOURCE_DATE_EPOCH=\$(git log -1 --format=%ct) of a 01:30+08:00 commit gives the same bytes as no SOURCE_DATE_EPOCH"
else
	not_ok "determinism: SOURCE_DATE_EPOCH=\$(git log -1 --format=%ct) of a 01:30+08:00 commit gives the same bytes as no SOURCE_DATE_EPOCH" \
		"$(grep -h 'footer-gen' "$WORK/e1/index.html" "$WORK/e2/index.html")" "$(head -8 "$WORK/diff" | sed 's/^/  /')"
fi
