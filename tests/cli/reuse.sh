#!/bin/sh
# The output before the last build (OUT.jianbao-prev) is the next build's
# staging folder: whatever it holds, the result is what a clean build writes.
. "$TESTS_ROOT/lib.sh"

r=$WORK/site
three_bulletins "$r"
git_commit "$r" 2024-03-01T10:00:00+08:00 "content"
out=$WORK/out

clean_equal() { # NAME: a clean build of the same state is byte-identical to out
	rm -rf "$WORK/clean" "$WORK/clean.jianbao-prev"
	"$JIANBAO" build -q --no-pdf --repo "$r" --out "$WORK/clean" >/dev/null 2>&1
	if diff -r "$out" "$WORK/clean" >"$WORK/diff.txt" 2>&1; then ok "$1"; else not_ok "$1" "$(head -20 "$WORK/diff.txt")"; fi
}

"$JIANBAO" build -q --no-pdf --repo "$r" --out "$out" >/dev/null 2>&1
expect_status "first build" 0 $?
if [ ! -e "$out.jianbao-prev" ]; then ok "first build: nothing kept beside the output"; else not_ok "first build: nothing kept beside the output"; fi

# second build, a bulletin edited: the first output is kept as prev
sleep 1.1
sed -i 's/第2期/第2期（修订）/' "$r/content/bulletins/2024/02.md"
"$JIANBAO" build -q --no-pdf --repo "$r" --out "$out" >/dev/null 2>&1
if [ -d "$out.jianbao-prev" ] && [ -f "$out.jianbao-prev/bulletins/2024/02/index.html" ]; then
	ok "second build: the previous output is kept as $(basename "$out").jianbao-prev"
else
	not_ok "second build: the previous output is kept as out.jianbao-prev" "$(ls -la "$WORK")"
fi
expect_contains "second build: the edit is published" "$out/bulletins/2024/02/index.html" "第2期（修订）"

# third build reuses prev (the first output): a removed bulletin must go,
# links and odd entries in prev must not leak, a hard-linked file must not
# change behind its other name
git -C "$r" rm -q content/bulletins/2024/03.md
git_commit "$r" 2024-03-02T10:00:00+08:00 "remove 03"
prev=$out.jianbao-prev
echo "secret" >"$WORK/outside.txt"
rm -f "$prev/index.html"
ln -s "$WORK/outside.txt" "$prev/index.html"
rm -f "$prev/404.html"
mkdir "$prev/404.html"
echo "junk" >"$prev/404.html/x"
echo "stray" >"$prev/stray.txt"
ln "$prev/sitemap.xml" "$WORK/linked-sitemap.xml"
before=$(cat "$WORK/linked-sitemap.xml")
"$JIANBAO" build -q --no-pdf --repo "$r" --out "$out" >"$WORK/b3.log" 2>&1
expect_status "third build, from the kept folder" 0 $?
clean_equal "third build: byte-identical to a clean build"
if [ ! -e "$out/bulletins/2024/03" ]; then ok "third build: the removed bulletin's page is gone"; else not_ok "third build: the removed bulletin's page is gone"; fi
if [ ! -e "$out/stray.txt" ]; then ok "third build: a stray file of the kept folder is not published"; else not_ok "third build: a stray file of the kept folder is not published"; fi
if [ -f "$out/404.html" ]; then ok "third build: a folder of the kept folder where a page goes is replaced"; else not_ok "third build: a folder of the kept folder where a page goes is replaced" "$(ls -la "$out")"; fi
if [ "$(cat "$WORK/outside.txt")" = "secret" ] && [ ! -L "$out/index.html" ]; then
	ok "third build: a link in the kept folder is replaced, its target untouched"
else
	not_ok "third build: a link in the kept folder is replaced, its target untouched" "$(ls -la "$out/index.html")"
fi
if [ "$(cat "$WORK/linked-sitemap.xml")" = "$before" ]; then
	ok "third build: a file linked from elsewhere is replaced, not rewritten in place"
else
	not_ok "third build: a file linked from elsewhere is replaced, not rewritten in place"
fi

# a failed build leaves the output as it was and keeps a usable prev
sleep 1.1
sums() { (cd "$out" && find . -type f | sort | xargs md5sum); }
sums >"$WORK/sums.before"
printf -- '---\ntitle: [broken\n---\n' >"$r/content/bulletins/2024/01.md"
"$JIANBAO" build -q --no-pdf --repo "$r" --out "$out" >/dev/null 2>&1
expect_status "a failing build fails" 1 $?
sums >"$WORK/sums.after"
if cmp -s "$WORK/sums.before" "$WORK/sums.after" && [ -z "$(ls -d "$out".tmp-* 2>/dev/null)" ]; then
	ok "a failing build: output untouched, no staging folder left"
else
	not_ok "a failing build: output untouched, no staging folder left" "$(ls -d "$out"* 2>&1)"
fi
git -C "$r" checkout -q content/bulletins/2024/01.md
sleep 1.1
"$JIANBAO" build -q --no-pdf --repo "$r" --out "$out" >/dev/null 2>&1
expect_status "the next build after a failure" 0 $?
clean_equal "the next build after a failure: byte-identical to a clean build"

# workers: files every worker wrote are kept when the first one prunes
"$JIANBAO" build -q --no-pdf --jobs 3 --repo "$r" --out "$out" --base-url https://a.example.org/ >/dev/null 2>&1
"$JIANBAO" build -q --no-pdf --jobs 3 --repo "$r" --out "$out" >/dev/null 2>&1
expect_status "--jobs 3 over the kept folder" 0 $?
clean_equal "--jobs 3 over the kept folder: byte-identical to a clean build"
