#!/bin/sh
# A build whose inputs, settings and output are exactly as the last build
# left them stops early; any change to one of them builds again.
. "$TESTS_ROOT/lib.sh"

r=$WORK/site
new_repo "$r"
bulletin "$r/content/bulletins/2024/01.md" 2024 1 46 2024-01-11 "开新篇"
bulletin "$r/content/bulletins/2024/02.md" 2024 2 47 2024-02-11 "谋发展"
git_commit "$r" 2024-03-01T10:00:00+08:00 "content"
# files changed within the last second are not trusted: let it pass
settle() { sleep 1.1; }
settle
out=$WORK/out

"$JIANBAO" build --no-pdf --repo "$r" --out "$out" >"$WORK/b1.log" 2>&1
expect_status "first build" 0 $?
expect_contains "first build: builds" "$WORK/b1.log" "built 2 bulletins"
inode=$(stat -c %i "$out/bulletins/2024/01/index.html")

"$JIANBAO" build --no-pdf --repo "$r" --out "$out" >"$WORK/b2.log" 2>&1
expect_status "second build of the same state" 0 $?
expect_contains "second build of the same state: up to date" "$WORK/b2.log" "is up to date"
expect_not_contains "second build of the same state: builds nothing" "$WORK/b2.log" "built 2 bulletins"
if [ "$(stat -c %i "$out/bulletins/2024/01/index.html")" = "$inode" ]; then
	ok "second build of the same state: the output is left alone"
else
	not_ok "second build of the same state: the output is left alone" "index.html was replaced"
fi

"$JIANBAO" build --no-pdf --repo "$r" --out "$out" --base-url https://preview.example.org/ >"$WORK/b3.log" 2>&1
expect_contains "another --base-url builds again" "$WORK/b3.log" "built 2 bulletins"
expect_contains "another --base-url: the new URL is in the output" "$out/sitemap.xml" "https://preview.example.org/"
"$JIANBAO" build --no-pdf --repo "$r" --out "$out" >"$WORK/b4.log" 2>&1
expect_contains "back to the first settings builds again" "$WORK/b4.log" "built 2 bulletins"

# an edited bulletin (not committed), dated back so it is trusted
sed -i 's/开新篇/开新篇（修订）/' "$r/content/bulletins/2024/01.md"
settle
"$JIANBAO" build --no-pdf --repo "$r" --out "$out" >"$WORK/b5.log" 2>&1
expect_contains "an edited file builds again" "$WORK/b5.log" "built 2 bulletins"
expect_contains "an edited file: the edit is in the output" "$out/bulletins/2024/01/index.html" "开新篇（修订）"

# a file just changed (this second) is never trusted: two builds in a row both build
sed -i 's/谋发展/谋发展（修订）/' "$r/content/bulletins/2024/02.md"
"$JIANBAO" build --no-pdf --repo "$r" --out "$out" >/dev/null 2>&1
"$JIANBAO" build --no-pdf --repo "$r" --out "$out" >"$WORK/b6.log" 2>&1
expect_contains "a file changed within the last second: the next build builds too" "$WORK/b6.log" "built 2 bulletins"
settle

# a new commit, with no file changed in the worktree
"$JIANBAO" build --no-pdf --repo "$r" --out "$out" >/dev/null 2>&1
git_commit "$r" 2024-04-01T10:00:00+08:00 "edits"
"$JIANBAO" build --no-pdf --repo "$r" --out "$out" >"$WORK/b7.log" 2>&1
expect_contains "a new commit builds again" "$WORK/b7.log" "built 2 bulletins"

# the output changed by hand
rm "$out/bulletins/2024/02/index.html"
"$JIANBAO" build --no-pdf --repo "$r" --out "$out" >"$WORK/b8.log" 2>&1
expect_contains "a file removed from the output builds again" "$WORK/b8.log" "built 2 bulletins"
if [ -f "$out/bulletins/2024/02/index.html" ]; then
	ok "a file removed from the output: it is back"
else
	not_ok "a file removed from the output: it is back"
fi
# a file added deep in the output, and one rewritten with its old size and
# times set back: neither may pass for the recorded state
echo "stray" >"$out/bulletins/2024/01/extra.html"
"$JIANBAO" build --no-pdf --repo "$r" --out "$out" >"$WORK/b8a.log" 2>&1
expect_contains "a file added to the output builds again" "$WORK/b8a.log" "built 2 bulletins"
check "a file added to the output: it is removed" test ! -e "$out/bulletins/2024/01/extra.html"
f=$out/bulletins/2024/01/index.html
cp -p "$f" "$WORK/saved.html"
tr '开' '闭' <"$WORK/saved.html" >"$f"
touch -r "$WORK/saved.html" "$f"
"$JIANBAO" build --no-pdf --repo "$r" --out "$out" >"$WORK/b8b.log" 2>&1
expect_contains "a file rewritten with the same size and times builds again" "$WORK/b8b.log" "built 2 bulletins"
check "a file rewritten with the same size and times: put right" cmp -s "$f" "$WORK/saved.html"

# the theme's templates are inputs too
cp -r "$THEMES_DIR" "$WORK/themes"
settle
JIANBAO_THEMES=$WORK/themes "$JIANBAO" build --no-pdf --repo "$r" --out "$out" >/dev/null 2>&1
JIANBAO_THEMES=$WORK/themes "$JIANBAO" build --no-pdf --repo "$r" --out "$out" >"$WORK/b9.log" 2>&1
expect_contains "theme unchanged: up to date" "$WORK/b9.log" "is up to date"
sed -i 's/<main /<main data-edited="1" /' "$WORK/themes/default/layouts/base.html"
settle
JIANBAO_THEMES=$WORK/themes "$JIANBAO" build --no-pdf --repo "$r" --out "$out" >"$WORK/b10.log" 2>&1
expect_contains "an edited template builds again" "$WORK/b10.log" "built 2 bulletins"
expect_contains "an edited template: the change is in the output" "$out/index.html" 'data-edited="1"'

# --rev: the commit decides
"$JIANBAO" build --no-pdf --repo "$r" --rev HEAD~1 --out "$WORK/rev" >/dev/null 2>&1
"$JIANBAO" build --no-pdf --repo "$r" --rev HEAD~1 --out "$WORK/rev" >"$WORK/r2.log" 2>&1
expect_contains "--rev of the same commit: up to date" "$WORK/r2.log" "is up to date"
"$JIANBAO" build --no-pdf --repo "$r" --rev HEAD --out "$WORK/rev" >"$WORK/r3.log" 2>&1
expect_contains "--rev of another commit builds again" "$WORK/r3.log" "built 2 bulletins"
