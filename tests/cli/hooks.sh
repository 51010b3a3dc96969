# Lua hooks: events, the tree API, shortcodes, and every way out of the sandbox.
. "$TESTS_ROOT/lib.sh"

site=$WORK/site
new_repo "$site"
bulletin "$site/content/bulletins/2024/01.md" 2024 1 46 2024-01-11 甲
bulletin "$site/content/bulletins/2024/02.md" 2024 2 47 2024-02-01 乙
cat >>"$site/content/bulletins/2024/02.md" <<'MD'

| 序号 | 文号 |
|:---|---:|
| 1 | 继教合作联盟〔2021〕1号 |

- 一
- 二

1. 甲
2. 乙

> 引文 *强调* **加粗** ~~删除~~ `代码` [链接](https://example.org/ "标题") ![图](a.png)

图 1：说明

---
MD
git_commit "$site" 2024-03-01T10:00:00+08:00 "site"

# build_with NAME LUA: builds the site with content/hooks/test.lua = LUA
build_with() {
	printf '%s\n' "$2" >"$site/content/hooks/test.lua"
	rm -rf "$WORK/$1.out"
	(cd "$site" && "$JIANBAO" build --quiet --out "$WORK/$1.out") >"$WORK/$1.log" 2>&1
	echo $? >"$WORK/$1.status"
}
mkdir -p "$site/content/hooks"

# expect_error NAME LUA TEXT: the build fails (status 1) with TEXT and publishes nothing
expect_error() {
	build_with "$1" "$2"
	if [ "$(cat "$WORK/$1.status")" = 1 ] && grep -qF -- "$3" "$WORK/$1.log" && [ ! -e "$WORK/$1.out" ] &&
		! ls -d "$WORK/$1.out".tmp-* >/dev/null 2>&1; then
		ok "$1"
	else
		not_ok "$1" "status $(cat "$WORK/$1.status"), expected 1 and: $3" "$(head -20 "$WORK/$1.log")"
	fi
}

# ---- without hooks, as the reference ----
rm -rf "$site/content/hooks"
(cd "$site" && "$JIANBAO" build --quiet --out "$WORK/plain.out") >"$WORK/plain.log" 2>&1
mkdir -p "$site/content/hooks"

# ---- the tree goes to Lua and back without losing anything ----
build_with roundtrip 'on("page", function(page) local d = page.doc end)'
if diff -r "$WORK/plain.out" "$WORK/roundtrip.out" >"$WORK/rt.diff"; then
	ok "AST: a page hook that reads page.doc leaves every page byte-identical"
else
	not_ok "AST: a page hook that reads page.doc leaves every page byte-identical" "$(head -30 "$WORK/rt.diff")"
fi
build_with filter-noop 'on("page", { text = function(t) return t end, table = function() end })'
if diff -r "$WORK/plain.out" "$WORK/filter-noop.out" >/dev/null; then ok "AST: an identity filter changes nothing"; else not_ok "AST: an identity filter changes nothing"; fi

# ---- node fields are readable ----
build_with fields '
local seen = {}
on("page", { heading = function(h) seen[#seen+1] = "h" .. h.level end,
             link = function(l) seen[#seen+1] = "link:" .. l.url .. ":" .. l.title end,
             image = function(i) seen[#seen+1] = "img:" .. i.url end,
             code = function(c) seen[#seen+1] = "code:" .. c.literal end,
             list = function(l) seen[#seen+1] = "list:" .. l.list_type .. (l.start and (":" .. l.start) or "") end,
             table = function(t) seen[#seen+1] = "table:" .. t.alignments[1] .. "," .. t.alignments[2] end,
             table_row = function(r) if r.header then seen[#seen+1] = "header-row" end end,
             text = function(t) if t.line and t.literal == "正文。" then seen[#seen+1] = "line:" .. t.line end end })
on("finish", function() table.sort(seen) write("seen.txt", table.concat(seen, " ")) end)'
expect_contains "AST: fields of every node type" "$WORK/fields.out/seen.txt" "code:代码 h2 h2 header-row img:a.png line:18 line:18 link:https://example.org/:标题 list:bullet list:ordered:1 table:left,right"

# ---- changes show in the HTML ----
build_with rewrite '
on("page", {
  strong = function(s) return { type = "emph", children = s.children } end,
  image = function(i) return { type = "text", literal = "[图略]" } end,
  thematic_break = function() return {} end,
  paragraph = function(p, page) if page.title == "甲" and p.children[1].literal == "正文。" then
    return { p, { type = "paragraph", children = { { type = "text", literal = "追加。" } } } } end end,
})'
b2=$WORK/rewrite.out/bulletins/2024/02/index.html
expect_contains "AST: a node replaced by another type" "$b2" "<em>加粗</em>"
expect_contains "AST: an image replaced by text" "$b2" "[图略]"
expect_not_contains "AST: a node deleted by returning {}" "$b2" "<hr"
expect_contains "AST: a node replaced by a list of nodes" "$WORK/rewrite.out/bulletins/2024/01/index.html" "<p>正文。</p>
<p>追加。</p>"

# ---- events, in order ----
build_with order '
local log = {}
on("config", function(site) log[#log+1] = "config" site.title = "改过的标题" end)
on("load", function(site) log[#log+1] = "load:" .. #site.bulletins
  table.remove(site.bulletins, 1) end)
on("page", function(page) log[#log+1] = "page:" .. page.title end)
on("render", function(file) if file.path:find("^bulletins/2024") then log[#log+1] = "render:" .. file.path end end)
on("finish", function(r) log[#log+1] = "finish" write("log.txt", table.concat(log, "\n")) end)'
expect_contains "events: config, load, page, render, finish in order" "$WORK/order.out/log.txt" "config
load:2
page:甲
render:bulletins/2024/01/index.html
finish"
if [ -e "$WORK/order.out/bulletins/2024/02/index.html" ]; then not_ok "events: a bulletin removed in load is not published"; else ok "events: a bulletin removed in load is not published"; fi
expect_contains "events: config changes the site table" "$WORK/order.out/index.html" "<title>改过的标题</title>"

printf 'on("finish", function() write("a.txt", "1") end)\n' >"$site/content/hooks/a.lua"
build_with fileorder 'on("finish", function() write("b.txt", "2") end)'
rm "$site/content/hooks/a.lua"
if [ -f "$WORK/fileorder.out/a.txt" ] && [ -f "$WORK/fileorder.out/b.txt" ]; then ok "hooks: several files all run"; else not_ok "hooks: several files all run" "$(cat "$WORK/fileorder.log")"; fi

# ---- shortcodes ----
cat >>"$site/content/bulletins/2024/01.md" <<'MD'

```members role=理事长单位 "two words"
正文行
```
MD
git_commit "$site" 2024-03-02T10:00:00+08:00 "shortcode"
build_with shortcode 'shortcode("members", function(args, body, page)
  return "**" .. args.role .. "** " .. args[1] .. " / " .. body:gsub("\n", "") .. " / " .. page.title end)'
expect_contains "shortcode: Markdown result with arguments, body and page" "$WORK/shortcode.out/bulletins/2024/01/index.html" "<strong>理事长单位</strong> two words / 正文行 / 甲"
build_with shortcode-node 'shortcode("members", function() return { { type = "heading", level = 3, children = { { type = "text", literal = "成员" } } } } end)'
expect_contains "shortcode: a list of nodes" "$WORK/shortcode-node.out/bulletins/2024/01/index.html" "<h3>成员</h3>"
expect_error "shortcode: a wrong return type names the block" 'shortcode("members", function() return 42 end)' \
	"content/bulletins/2024/01.md:20:1: error: shortcode 'members' must return Markdown text, {html = …}, a node or a list of nodes, not a number"
expect_error "shortcode: an error names the block and the hook" 'shortcode("members", function() error("boom") end)' \
	"content/bulletins/2024/01.md:20:1: error: shortcode 'members' failed: content/hooks/test.lua:1: boom"

# ---- helpers ----
build_with helpers 'helper("shout", function(s) return s .. "！" end)
on("load", function(site) site.pages[#site.pages+1] = { title = "h", url = "/h/", markdown = number_cn(116.6e4) .. " " .. number_cn(3798.9e4) .. " " .. number_cn(12800) .. " " .. number_cn(999) .. " " .. truncate("一二三四五六", 3) .. " " .. date_cn("2026-05-08") } end)'
expect_contains "helpers: numbers, truncation and dates in Chinese" "$WORK/helpers.out/h/index.html" "116.6万 3798.9万 1.28万 999 一二三… 2026年5月8日"

# ---- bad hooks: a clear error, no crash, nothing published ----
expect_error "sandbox: while true do end" 'while true do end' "content/hooks/test.lua:1: error: hook exceeded its instruction budget"
expect_error "sandbox: a runaway loop inside pcall" 'pcall(function() while true do end end)' "content/hooks/test.lua:1: error: hook exceeded its instruction budget"
expect_error "sandbox: a runaway loop in a coroutine" 'local co = coroutine.wrap(function() while true do end end) pcall(co)' "content/hooks/test.lua:1: error: hook exceeded its instruction budget"
expect_error "sandbox: a runaway page hook" 'on("page", function() while true do end end)' "content/hooks/test.lua:1: error: page hook defined at content/hooks/test.lua:1: hook exceeded its instruction budget"
expect_error "sandbox: infinite recursion" 'local function f() return 1 + f() end f()' "content/hooks/test.lua:1: error: stack overflow"
expect_error "sandbox: string.rep(\"x\", 2^30)" 'local s = string.rep("x", 2^30)' "content/hooks/test.lua: error: hook exceeded its memory limit"
expect_error "sandbox: a table that grows forever" 'local t = {} while true do t[#t + 1] = {} end' "content/hooks/test.lua: error: hook exceeded its memory limit"
expect_error "sandbox: io.open" 'io.open("/etc/passwd")' "content/hooks/test.lua:1: error: undefined variable 'io'"
expect_error "sandbox: os.execute" 'os.execute("true")' "content/hooks/test.lua:1: error: os.execute is not available in the sandbox"
expect_error "sandbox: require" 'require("os")' "content/hooks/test.lua:1: error: undefined variable 'require'"
expect_error "sandbox: load(string.dump(f))" 'load(string.dump(function() end))' "content/hooks/test.lua:1: error: string.dump is not available"
expect_error "sandbox: (\"\").dump through the string metatable" 'local d = ("").dump(print)' "content/hooks/test.lua:1: error: "
expect_error "sandbox: a binary chunk given to load" 'assert(load("\27Lua"))' "content/hooks/test.lua:1: error: binary chunks are not allowed"
expect_error "sandbox: setmetatable(_G, …)" 'setmetatable(_G, {})' "content/hooks/test.lua:1: error: cannot change a protected metatable"
expect_error "sandbox: debug.sethook" 'debug.sethook()' "content/hooks/test.lua:1: error: undefined variable 'debug'"
expect_error "sandbox: collectgarbage(\"stop\")" 'collectgarbage("stop")' "content/hooks/test.lua:1: error: collectgarbage('stop') is not allowed"
expect_error "sandbox: dofile" 'dofile("/etc/passwd")' "content/hooks/test.lua:1: error: undefined variable 'dofile'"
expect_error "sandbox: a global from one page does not reach the next" \
	'on("page", function(page) if page.title == "乙" then leaked = 1 else local x = leaked end end)' \
	"content/hooks/test.lua:1: error: page hook defined at content/hooks/test.lua:1: undefined variable 'leaked'"
expect_error "errors: a runtime error names file:line with a traceback" 'on("load", function(site)
  local x = nil
  return x.field
end)' "content/hooks/test.lua:3: error: load hook defined at content/hooks/test.lua:1: attempt to index a nil value (local 'x')"
if grep -q "stack traceback" "$WORK/errors: a runtime error names file:line with a traceback.log"; then ok "errors: the traceback is printed"; else not_ok "errors: the traceback is printed"; fi
expect_error "errors: a syntax error" 'on("page", function(' "content/hooks/test.lua:2: error:"
expect_error "errors: render hook returning a number" 'on("render", function() return 42 end)' "content/hooks/test.lua:1: error: render hook must return a string or nil, not a number"
expect_error "errors: a filter returning a string" 'on("page", { heading = function() return "x" end })' "filter function for 'heading' must return a node, a list of nodes or nil, got a string"
expect_error "errors: a tree that breaks Markdown's rules" 'on("page", function(p) p.doc.children[1] = { type = "text", literal = "x" } end)' "error: page hook: invalid Markdown tree: a document node cannot contain a text node"
expect_error "errors: an unknown node type" 'on("page", function(p) p.doc.children[1] = { type = "marquee" } end)' "invalid Markdown tree: unknown node type 'marquee'"
expect_error "errors: an unknown event" 'on("publish", function() end)' "content/hooks/test.lua:1: error: on: unknown event 'publish'"
expect_error "errors: a page added without a url" 'on("load", function(s) s.pages[#s.pages+1] = { title = "x" } end)' "page.url must be a site path starting with '/'"
expect_error "errors: a page url leading out of the site" 'on("load", function(s) s.pages[#s.pages+1] = { title = "x", url = "/../../etc/" } end)' "is not a safe relative path"
expect_error "errors: a page added onto an existing one" 'on("load", function(s) s.pages[#s.pages+1] = { title = "x", url = "/bulletins/2024/01/" } end)' "two sources map to one file"
expect_error "errors: write() outside finish" 'on("load", function() write("x", "y") end)' "write: only finish handlers can write files"
expect_error "errors: read() without the capability" 'on("load", function() read("data/x.csv") end)' "undefined variable 'read'"
expect_error "errors: os.date with a locale format" 'on("load", function() os.date("%c") end)' "os.date: '%c' depends on the machine's locale or time zone"

# ---- determinism: the clock is the commit's ----
build_with clock 'on("finish", function() write("t.txt", os.date("%Y-%m-%d %H:%M") .. " " .. os.time()) end)'
expect_contains "os.date/os.time: the commit's time in the site's zone" "$WORK/clock.out/t.txt" "2024-03-02 10:00 1709344800"
