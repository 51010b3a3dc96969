#!/bin/sh
# Worker processes (--jobs): the same bytes whatever their number, errors
# from any worker fail the build, and collisions between pages that
# different workers write are still found.
. "$TESTS_ROOT/lib.sh"

r=$WORK/site
new_repo "$r"
# bulletins over five years (a year's bulletins stay with one worker),
# documents and a page, so that every worker gets some of each list
for y in 2020 2021 2022 2023 2024; do
	for i in 1 2; do
		bulletin "$r/content/bulletins/$y/0$i.md" "$y" "$i" "$(( (y - 2020) * 2 + i ))" "$y-0$i-10" "第${y}年第${i}期"
	done
done
for i in 1 2 3 4 5; do
	mkdir -p "$r/content/documents/2021"
	cat >"$r/content/documents/2021/0$i.md" <<MD
---
title: 关于第${i}项工作的通知
number: 继教合作联盟〔2021〕${i}号
issuer: 安徽高校继续教育合作联盟
date: 2021-03-0$i
---

各成员单位：现将第${i}项工作通知如下。
MD
done
mkdir -p "$r/content/pages"
printf -- '---\ntitle: 关于\n---\n\n关于本站。\n' >"$r/content/pages/about.md"
git_commit "$r" 2024-03-01T10:00:00+08:00 "content"

for j in 1 2 3; do
	"$JIANBAO" build -q --repo "$r" --jobs $j --out "$WORK/out$j" >"$WORK/j$j.log" 2>&1
	expect_status "--jobs $j builds" 0 $?
done
if diff -r "$WORK/out1" "$WORK/out2" >"$WORK/d12" 2>&1 && diff -r "$WORK/out1" "$WORK/out3" >"$WORK/d13" 2>&1; then
	ok "--jobs 1, 2 and 3 write the same files and bytes"
else
	not_ok "--jobs 1, 2 and 3 write the same files and bytes" "$(head -20 "$WORK/d12" "$WORK/d13")"
fi
n1=$(find "$WORK/out1" -type f | wc -l)
"$JIANBAO" build --repo "$r" --jobs 3 --out "$WORK/out3b" >"$WORK/j3b.log" 2>&1
expect_contains "--jobs 3: the summary counts the files of every worker ($n1)" "$WORK/j3b.log" "($n1 files)"

"$JIANBAO" build -q --repo "$r" --jobs 0 --out "$WORK/bad" >"$WORK/j0.log" 2>&1
expect_status "--jobs 0 is a usage error" 2 $?
expect_contains "--jobs 0: the message says what is allowed" "$WORK/j0.log" "--jobs must be a number from 1 to 64"

# an error in pages that several workers render: each is reported, the
# build fails and nothing is published
cp -r "$r" "$WORK/broken"
for y in 2020 2021 2022 2023; do
	printf '\n```chart\ntype: bar\n```\n' >>"$WORK/broken/content/bulletins/$y/01.md"
done
"$JIANBAO" build --repo "$WORK/broken" --jobs 2 --out "$WORK/out-broken" >"$WORK/broken.log" 2>&1
expect_status "an error in a worker's page fails the build" 1 $?
# newest first: 2023 (odd year) and 2022 (even) are each worker's first
if grep -q "content/bulletins/2023/01.md:21:1: error" "$WORK/broken.log" &&
	grep -q "content/bulletins/2022/01.md:21:1: error" "$WORK/broken.log"; then
	ok "errors from both workers are reported with file:line"
else
	not_ok "errors from both workers are reported with file:line" "$(cat "$WORK/broken.log")"
fi
errs=$(grep -c ": error:" "$WORK/broken.log")
expect_contains "the error count adds up the workers' errors ($errs)" "$WORK/broken.log" "build failed with $errs error(s)"
if [ ! -e "$WORK/out-broken" ] && [ -z "$(ls -d "$WORK"/out-broken.tmp-* 2>/dev/null)" ]; then
	ok "a failed parallel build publishes nothing and leaves no staging folder"
else
	not_ok "a failed parallel build publishes nothing and leaves no staging folder" "$(ls -d "$WORK"/out-broken* 2>&1)"
fi

# two pages that different workers would write to one file
cp -r "$r" "$WORK/clash"
mkdir -p "$WORK/clash/content/hooks"
cat >"$WORK/clash/content/hooks/clash.lua" <<'LUA'
on("load", function(site)
  site.documents[2].url = site.documents[3].url
end)
LUA
"$JIANBAO" build --repo "$WORK/clash" --jobs 2 --out "$WORK/out-clash" >"$WORK/clash.log" 2>&1
expect_status "two pages of different workers on one file: the build fails" 1 $?
expect_contains "two pages of different workers on one file: both sources are named" "$WORK/clash.log" \
	"is also produced by"
