# Shared helpers for tests/cli/*.sh and tests/golden/run.sh (POSIX sh).
# Each check prints "ok - NAME" or "not ok - NAME" plus indented details.
set -u
JIANBAO=${JIANBAO:?JIANBAO must point to the jianbao binary}
TESTS_ROOT=${TESTS_ROOT:?}
THEMES_DIR="$(dirname "$TESTS_ROOT")/themes"
export JIANBAO_THEMES="$THEMES_DIR"
# Fixed identities and dates so that history-derived output is reproducible.
export GIT_AUTHOR_NAME="Editor One" GIT_AUTHOR_EMAIL="one@example.org"
export GIT_COMMITTER_NAME="Editor One" GIT_COMMITTER_EMAIL="one@example.org"
export GIT_CONFIG_NOSYSTEM=1 HOME="${TMPDIR:-/tmp}"
unset SOURCE_DATE_EPOCH GIT_DIR GIT_WORK_TREE

WORK=$(mktemp -d "${TMPDIR:-/tmp}/jianbao-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

ok() { echo "ok - $1"; }
not_ok() {
	echo "not ok - $1"
	shift
	for line in "$@"; do printf '    %s\n' "$line"; done
}

# check NAME COMMAND...: passes when the command succeeds
check() {
	name=$1
	shift
	if "$@" >"$WORK/.check.out" 2>&1; then ok "$name"; else not_ok "$name" "$(sed 's/^/    /' "$WORK/.check.out" | head -20)"; fi
}

# expect_contains NAME FILE TEXT
expect_contains() {
	if grep -qF -- "$3" "$2" 2>/dev/null; then ok "$1"; else not_ok "$1" "expected to find: $3" "in $2:" "$(head -c 2000 "$2" 2>/dev/null)"; fi
}

# expect_not_contains NAME FILE TEXT
expect_not_contains() {
	if grep -qF -- "$3" "$2" 2>/dev/null; then not_ok "$1" "did not expect: $3" "in $2"; else ok "$1"; fi
}

# expect_status NAME EXPECTED ACTUAL
expect_status() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected exit status $2, got $3"; fi
}

# git_commit DIR DATE MESSAGE: commits everything in DIR at DATE (ISO 8601)
git_commit() {
	(cd "$1" && git add -A && GIT_AUTHOR_DATE="$2" GIT_COMMITTER_DATE="$2" git commit -q -m "$3")
}

# new_repo DIR: an empty repository with a minimal site.lua
new_repo() {
	mkdir -p "$1/content"
	git init -q -b main "$1"
	cat >"$1/content/site.lua" <<'LUA'
return {
  title = "测试站点",
  base_url = "https://example.org/",
  menus = { main = { { name = "首页", url = "/" } } },
}
LUA
}

# bulletin FILE YEAR ISSUE TOTAL DATE TITLE: writes a bulletin with front matter
bulletin() {
	mkdir -p "$(dirname "$1")"
	cat >"$1" <<MD
---
title: $6
series: 继续教育网络园区工作简报
issue: $3
total: $4
date: $5
publisher: 安徽继续教育网络园区管理中心
guidance: 省教育厅高教处
editor: 网络园区管理中心
tags: [学分银行]
---

第一段文字，
跨行书写。

## 一、小节

正文。
MD
}

# three_bulletins DIR: a new repository with bulletins 2024/01 to 03 (titles
# 第1期 to 第3期), not committed
three_bulletins() {
	new_repo "$1"
	for i in 1 2 3; do
		bulletin "$1/content/bulletins/2024/0$i.md" 2024 "$i" "$((45 + i))" "2024-0$i-11" "第${i}期"
	done
}
