#!/bin/sh
# End-to-end: the libgit2 source — --rev (bare repositories, tags, shas,
# dirty worktrees), dates from history, shallow clones, and folders that are
# not repositories.
. "$TESTS_ROOT/lib.sh"

# build NAME OUT ARGS...: runs jianbao build; its status in $status, its
# output (stdout+stderr) in $WORK/NAME.log
build() {
	_name=$1 _out=$2
	shift 2
	lastlog=$WORK/$_name.log
	"$JIANBAO" build --out "$_out" "$@" >"$lastlog" 2>&1
	status=$?
}
log() { sed 's/^/  /' "$WORK/$1.log" | head -20; }

# ---- a repository with two commits: the title changes in the second ----
r=$WORK/repo
new_repo "$r"
bulletin "$r/content/bulletins/2023/01.md" 2023 1 40 2023-03-01 "旧的标题"
git_commit "$r" 2023-03-01T10:00:00+08:00 "first"
(cd "$r" && git tag v1 && git tag -a -m "annotated" v1-annotated)
sha1=$(cd "$r" && git rev-parse HEAD)
sed 's/旧的标题/新的标题/' "$r/content/bulletins/2023/01.md" >"$WORK/tmp.md"
cp "$WORK/tmp.md" "$r/content/bulletins/2023/01.md"
git_commit "$r" 2023-05-02T10:00:00+08:00 "second"
sha2=$(cd "$r" && git rev-parse HEAD)

page=bulletins/2023/01/index.html
# title_is NAME OUT TITLE OTHER: the page shows TITLE and not OTHER
title_is() {
	if [ "$status" -ne 0 ]; then
		not_ok "$1" "build failed with status $status:" "$(head -20 "$lastlog")"
	elif grep -qF ">$3</h1>" "$2/$page" && ! grep -qF "$4" "$2/$page"; then
		ok "$1"
	else
		not_ok "$1" "expected title $3 (and no $4) in $2/$page:" "$(grep -F 'bulletin-title' "$2/$page" 2>&1)"
	fi
}

# ---- bare clone ----
git clone -q --bare "$r" "$WORK/bare.git"
build bare-head "$WORK/o-head" --repo "$WORK/bare.git" --rev HEAD
title_is "--rev HEAD in a bare clone builds the newest commit" "$WORK/o-head" 新的标题 旧的标题
expect_contains "--rev HEAD in a bare clone: summary names the commit" "$WORK/bare-head.log" "from commit $(echo "$sha2" | cut -c1-12) (HEAD)"
build bare-prev "$WORK/o-prev" --repo "$WORK/bare.git" --rev HEAD~1
title_is "--rev HEAD~1 in a bare clone builds the older commit" "$WORK/o-prev" 旧的标题 新的标题
build bare-norev "$WORK/o-norev" --repo "$WORK/bare.git"
title_is "a bare clone without --rev builds HEAD" "$WORK/o-norev" 新的标题 旧的标题

build tag "$WORK/o-tag" --repo "$r" --rev v1
title_is "--rev with a lightweight tag" "$WORK/o-tag" 旧的标题 新的标题
build atag "$WORK/o-atag" --repo "$WORK/bare.git" --rev v1-annotated
title_is "--rev with an annotated tag (peeled to its commit)" "$WORK/o-atag" 旧的标题 新的标题
build sha "$WORK/o-sha" --repo "$WORK/bare.git" --rev "$sha1"
title_is "--rev with a full sha" "$WORK/o-sha" 旧的标题 新的标题
expect_contains "--rev with a full sha: the footer date is that commit's date" "$WORK/o-sha/index.html" '<time datetime="2023-03-01">2023年3月1日</time>'

build nosuch "$WORK/o-nosuch" --repo "$WORK/bare.git" --rev nosuchrev
expect_status "--rev nosuchrev: exit status 1" 1 "$status"
expect_contains "--rev nosuchrev: clear message" "$WORK/nosuch.log" "jianbao: error: cannot resolve revision 'nosuchrev'"
if [ -e "$WORK/o-nosuch" ] || ls -d "$WORK"/o-nosuch.tmp-* >/dev/null 2>&1; then
	not_ok "--rev nosuchrev: nothing written" "$(ls -d "$WORK"/o-nosuch*)"
else
	ok "--rev nosuchrev: nothing written"
fi
build blob "$WORK/o-blob" --repo "$r" --rev "HEAD:content/site.lua"
expect_status "--rev naming a blob: exit status 1" 1 "$status"
expect_contains "--rev naming a blob: says it is not a commit" "$WORK/blob.log" "does not name a commit"
build nogitrev "$WORK/o-ngr" --repo "$r" --rev HEAD --no-git
expect_status "--rev with --no-git: refused" 1 "$status"
expect_contains "--rev with --no-git: says why" "$WORK/nogitrev.log" "--rev needs a git repository; it cannot be used with --no-git"

# ---- --rev in a normal repository with a dirty worktree ----
f=$r/content/bulletins/2023/01.md
sed 's/新的标题/未提交的标题/' "$f" >"$WORK/tmp.md"
cp "$WORK/tmp.md" "$f"
echo "# 新页面" >"$r/content/untracked.md"
before_sum=$(sha256sum "$f" | cut -d' ' -f1)
before_status=$(cd "$r" && git status --porcelain)
before_index=$(sha256sum "$r/.git/index" | cut -d' ' -f1)
build dirty "$WORK/o-dirty" --repo "$r" --rev HEAD
title_is "--rev HEAD with a dirty worktree uses the committed text" "$WORK/o-dirty" 新的标题 未提交的标题
after_index=$(sha256sum "$r/.git/index" | cut -d' ' -f1)
after_sum=$(sha256sum "$f" | cut -d' ' -f1)
after_status=$(cd "$r" && git status --porcelain)
if [ "$before_sum" = "$after_sum" ] && grep -qF "未提交的标题" "$f"; then ok "--rev leaves the edited worktree file alone"; else not_ok "--rev leaves the edited worktree file alone" "$(head -3 "$f")"; fi
if [ "$before_status" = "$after_status" ] && [ "$before_index" = "$after_index" ]; then
	ok "--rev leaves git status and the index unchanged"
else
	not_ok "--rev leaves git status and the index unchanged" "before: $before_status" "after: $after_status"
fi
build wt "$WORK/o-wt" --repo "$r"
title_is "a worktree build uses the uncommitted text" "$WORK/o-wt" 未提交的标题 旧的标题
(cd "$r" && git checkout -q -- . && rm -f content/untracked.md)

# ---- created/updated dates from history ----
h=$WORK/hist
new_repo "$h"
mkdir -p "$h/content/pages" "$h/content/bulletins/2023"
printf -- '---\ntitle: 关于\n---\n\n第一版。\n' >"$h/content/pages/about.md"
# a bulletin without a date: its date is the commit that created it
printf -- '---\ntitle: 无日期\nissue: 3\ntotal: 42\n---\n\n正文。\n' >"$h/content/bulletins/2023/03.md"
git_commit "$h" 2023-03-01T10:00:00+08:00 "create"
printf -- '---\ntitle: 关于\n---\n\n第二版。\n' >"$h/content/pages/about.md"
printf -- '---\ntitle: 无日期\nissue: 3\ntotal: 42\n---\n\n正文，已修改。\n' >"$h/content/bulletins/2023/03.md"
git_commit "$h" 2023-05-02T10:00:00+08:00 "update"
mkdir -p "$h/content/other"
echo x >"$h/content/other/unrelated.txt"
git_commit "$h" 2023-06-30T10:00:00+08:00 "unrelated change"
build hist "$WORK/o-hist" --repo "$h"
if [ "$status" -eq 0 ]; then
	expect_contains "history: page shows its last change (updated)" "$WORK/o-hist/about/index.html" '最后更新于 <time datetime="2023-05-02">2023年5月2日</time>'
	expect_contains "history: sitemap lastmod is the last change" "$WORK/o-hist/sitemap.xml" '<loc>https://example.org/about/</loc><lastmod>2023-05-02</lastmod>'
	expect_contains "history: undated bulletin is dated by its first commit (created)" "$WORK/o-hist/bulletins/2023/03/index.html" '<time class="masthead-date" datetime="2023-03-01">2023年3月1日</time>'
	expect_contains "history: undated bulletin's updated date" "$WORK/o-hist/sitemap.xml" '<loc>https://example.org/bulletins/2023/03/</loc><lastmod>2023-05-02</lastmod>'
	expect_contains "history: build date is the HEAD commit's date" "$WORK/o-hist/index.html" '网站更新于 <time datetime="2023-06-30">2023年6月30日</time>'
else
	not_ok "history: builds" "$(log hist)"
fi
build hist-rev "$WORK/o-hist-rev" --repo "$h" --rev HEAD~2
expect_contains "history: --rev HEAD~2 sees only the history up to it" "$WORK/o-hist-rev/sitemap.xml" '<loc>https://example.org/about/</loc><lastmod>2023-03-01</lastmod>'

# ---- shallow clone ----
git clone -q --depth 1 "file://$r" "$WORK/shallow" 2>/dev/null
build shallow "$WORK/o-shallow" --repo "$WORK/shallow"
expect_status "shallow clone: builds" 0 "$status"
expect_contains "shallow clone: warns about the cut history" "$WORK/shallow.log" "warning: shallow clone"
title_is "shallow clone: builds HEAD" "$WORK/o-shallow" 新的标题 旧的标题
build shallow-q "$WORK/o-shallow-q" --repo "$WORK/shallow" --quiet
expect_not_contains "shallow clone: --quiet silences the warning" "$WORK/shallow-q.log" "shallow"

# ---- outside any git repository ----
p=$WORK/plain
mkdir -p "$p"
cp -r "$r/content" "$p/"
(cd "$p" && "$JIANBAO" build --out "$WORK/o-plain") >"$WORK/plain.log" 2>&1
status=$?
lastlog=$WORK/plain.log
expect_status "not a repository: exit status 1" 1 "$status"
expect_contains "not a repository: says so and suggests --no-git" "$WORK/plain.log" "not a git repository"
expect_contains "not a repository: suggests --no-git" "$WORK/plain.log" "use --no-git"
(cd "$p" && "$JIANBAO" build --no-git --out "$WORK/o-plain") >"$WORK/plain2.log" 2>&1
status=$?
lastlog=$WORK/plain2.log
expect_status "--no-git builds a plain folder" 0 "$status"
title_is "--no-git: the folder's text" "$WORK/o-plain" 新的标题 旧的标题
expect_not_contains "--no-git: no history dates" "$WORK/o-plain/$page" 'page-meta'

# ---- history through a merge: the merge itself changes nothing ----
m=$WORK/merge
new_repo "$m"
bulletin "$m/content/bulletins/2024/01.md" 2024 1 46 2024-01-11 "合并前"
git_commit "$m" 2024-01-12T10:00:00+08:00 "base"
(cd "$m" && git checkout -q -b side)
printf '\n侧枝上的修改。\n' >>"$m/content/bulletins/2024/01.md"
git_commit "$m" 2024-02-01T10:00:00+08:00 "side"
(cd "$m" && git checkout -q main)
mkdir -p "$m/content/pages"
printf '# 页面\n' >"$m/content/pages/p.md"
git_commit "$m" 2024-01-20T10:00:00+08:00 "main"
(cd "$m" && GIT_AUTHOR_DATE=2024-03-01T10:00:00+08:00 GIT_COMMITTER_DATE=2024-03-01T10:00:00+08:00 git merge -q --no-edit side)
build merge "$WORK/o-merge" --repo "$m"
expect_contains "history: a file changed on a merged branch is dated by that commit" "$WORK/o-merge/sitemap.xml" '<loc>https://example.org/bulletins/2024/01/</loc><lastmod>2024-02-01</lastmod>'
expect_contains "history: a merge does not update files it did not change" "$WORK/o-merge/sitemap.xml" '<loc>https://example.org/p/</loc><lastmod>2024-01-20</lastmod>'

# ---- a committed symbolic link to a folder outside the repository ----
s=$WORK/symlink
new_repo "$s"
bulletin "$s/content/bulletins/2024/01.md" 2024 1 46 2024-01-11 "链接"
mkdir -p "$WORK/outside"
echo "SECRET" >"$WORK/outside/key.txt"
ln -s "$WORK/outside" "$s/content/assets"
git_commit "$s" 2024-01-12T10:00:00+08:00 "assets is a symlink"
build sym-wt "$WORK/o-sym-wt" --repo "$s"
build sym-rev "$WORK/o-sym-rev" --repo "$s" --rev HEAD
if [ -e "$WORK/o-sym-wt/assets/key.txt" ]; then
	not_ok "symlinked content/assets: files outside the repository are not published" \
		"$WORK/o-sym-wt/assets/key.txt was published from $WORK/outside/key.txt (worktree build)" "$(head -5 "$WORK/sym-wt.log")"
else
	ok "symlinked content/assets: files outside the repository are not published"
fi
# a hook's read() follows no link out of the repository, however deep the
# link, and still reads the real folders beside and below it
d=$WORK/symlink-data
new_repo "$d"
sed -i 's/^return {/return {\n  capabilities = { "read_data" },/' "$d/content/site.lua"
bulletin "$d/content/bulletins/2024/01.md" 2024 1 46 2024-01-11 "数据"
mkdir -p "$d/content/data/real/deeper" "$d/content/hooks"
echo "近" >"$d/content/data/real/near.csv"
echo "深" >"$d/content/data/real/deeper/far.csv"
ln -s "$WORK/outside" "$d/content/data/real/link"
ln -s "$WORK/outside" "$d/content/data/top"
cat >"$d/content/hooks/read.lua" <<'LUA'
on("load", function(site)
  local parts = {}
  for _, p in ipairs({ "data/real/near.csv", "data/real/deeper/far.csv", "data/real/link/key.txt", "data/top/key.txt" }) do
    local text = read(p)
    parts[#parts + 1] = p .. "=" .. (text and text:gsub("%s", "") or "none")
  end
  table.insert(site.pages, { title = "读", url = "/read/", markdown = table.concat(parts, " ") })
end)
LUA
git_commit "$d" 2024-01-12T10:00:00+08:00 "data with links"
build sym-data "$WORK/o-sym-data" --repo "$d"
if [ "$status" = 0 ] && grep -qF "data/real/near.csv=近 data/real/deeper/far.csv=深 data/real/link/key.txt=none data/top/key.txt=none" "$WORK/o-sym-data/read/index.html" &&
	! grep -rq SECRET "$WORK/o-sym-data"; then
	ok "read(): files in real folders are read, none through a link to outside, at any depth"
else
	not_ok "read(): files in real folders are read, none through a link to outside, at any depth" \
		"status $status; $(grep -o 'data/real/near[^<]*' "$WORK/o-sym-data/read/index.html" 2>/dev/null)" "$(log sym-data)"
fi
if diff -r "$WORK/o-sym-wt" "$WORK/o-sym-rev" >"$WORK/sym.diff" 2>&1; then
	ok "symlinked content/assets: worktree and --rev builds agree"
else
	not_ok "symlinked content/assets: worktree and --rev builds agree" "$(head -5 "$WORK/sym.diff")"
fi
