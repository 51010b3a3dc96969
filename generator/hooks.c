#include "hooks.h"

#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ast.h"
#include "config.h"
#include "diag.h"
#include "figures.h"
#include "script.h"

#define S_CTX_KEY "jianbao.hooks"
#define S_HANDLERS_KEY "jianbao.hook_handlers" /* event → { fn, … } */
#define S_SHORTCODES_KEY "jianbao.shortcodes"  /* name → fn */
#define S_HELPERS_KEY "jianbao.helpers"        /* name → fn */
#define S_SCRATCH_KEY "jianbao.hook_scratch"   /* globals set during one call */
#define S_WALK_KEY "jianbao.walk"

static const char *const S_events[] = {"config", "load", "page", "render", "finish"};

struct hooks {
	lua_State *L;
	hooks_env env;
	int loading;      /* registering is allowed only while hook files run */
	md_doc *cur_doc;  /* the tree page.doc stands for, during page hooks */
	int cur_first_line;
	hooks_write_fn write;
	void *write_ctx;
	int counts[5];
	int files; /* hook files that ran */
};

static hooks *S_ctx(lua_State *L)
{
	hooks *h = script_get_ctx(L, S_CTX_KEY);
	if (!h)
		luaL_error(L, "hooks are not running");
	return h;
}

static int S_event_index(const char *ev)
{
	for (size_t i = 0; i < JB_ARRAY_LEN(S_events); i++)
		if (strcmp(ev, S_events[i]) == 0)
			return (int)i;
	return -1;
}

/* ---- the Lua side: walk() and filter handlers ---- */

static const char S_prelude[] =
	"local type, error, ipairs, tostring = type, error, ipairs, tostring\n"
	"local function check(r, name)\n"
	"  if r == nil or (type(r) == 'table') then return r end\n"
	"  error(\"filter function for '\" .. name .. \"' must return a node, a list of nodes or nil, got a \" .. type(r), 3)\n"
	"end\n"
	"local walk_list\n"
	"local function walk_node(node, filter, page, out, n)\n"
	"  if type(node) ~= 'table' then error('walk: expected a node table, got a ' .. type(node), 3) end\n"
	"  if node.children then node.children = walk_list(node.children, filter, page) end\n"
	"  local f = filter[node.type]\n"
	"  local r = nil\n"
	"  if f then r = check(f(node, page), node.type) end\n"
	"  if r == nil then n = n + 1; out[n] = node\n"
	"  elseif r.type then n = n + 1; out[n] = r\n"
	"  else for _, x in ipairs(r) do n = n + 1; out[n] = x end end\n"
	"  return n\n"
	"end\n"
	"walk_list = function(list, filter, page)\n"
	"  local out, n = {}, 0\n"
	"  for i = 1, #list do n = walk_node(list[i], filter, page, out, n) end\n"
	"  return out\n"
	"end\n"
	"return function(node, filter, page)\n"
	"  if type(filter) ~= 'table' then error('walk: the filter must be a table of functions keyed by node type', 2) end\n"
	"  if type(node) ~= 'table' then error('walk: expected a node table, got a ' .. type(node), 2) end\n"
	"  if node.children then node.children = walk_list(node.children, filter, page) end\n"
	"  local f = filter[node.type]\n"
	"  if f then\n"
	"    local r = check(f(node, page), node.type)\n"
	"    if r ~= nil and r.type then return r end\n"
	"  end\n"
	"  return node\n"
	"end\n";

/* walk(node, filter [, page]) */
static int S_walk(lua_State *L)
{
	lua_getfield(L, LUA_REGISTRYINDEX, S_WALK_KEY);
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

/* on(event, fn | filter) */
static int S_on(lua_State *L)
{
	hooks *h = S_ctx(L);
	const char *ev = luaL_checkstring(L, 1);
	int i = S_event_index(ev);
	if (i < 0)
		return luaL_error(L, "on: unknown event '%s' (config, load, page, render or finish)", ev);
	if (!h->loading)
		return luaL_error(L, "on: handlers can only be registered while the hook file loads");
	if (lua_istable(L, 2)) {
		if (i != 2)
			return luaL_error(L, "on: only 'page' takes a filter table; '%s' needs a function", ev);
		lua_pushvalue(L, 2);
		lua_pushboolean(L, 1);
	} else {
		luaL_checktype(L, 2, LUA_TFUNCTION);
		lua_pushvalue(L, 2);
		lua_pushboolean(L, 0);
	}
	/* stack: …, handler, is_filter */
	lua_getfield(L, LUA_REGISTRYINDEX, S_HANDLERS_KEY);
	lua_getfield(L, -1, ev);
	lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
	lua_createtable(L, 0, 2);
	lua_pushvalue(L, -5);
	lua_setfield(L, -2, "fn");
	lua_pushvalue(L, -4);
	lua_setfield(L, -2, "filter");
	lua_rawseti(L, -2, n + 1);
	h->counts[i]++;
	return 0;
}

static int S_register_named(lua_State *L, const char *key, const char *what)
{
	hooks *h = S_ctx(L);
	const char *name = luaL_checkstring(L, 1);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	if (!h->loading)
		return luaL_error(L, "%s: can only be registered while the hook file loads", what);
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '-'))
			return luaL_error(L, "%s: invalid name '%s' (letters, digits, '_' and '-')", what, name);
	lua_getfield(L, LUA_REGISTRYINDEX, key);
	lua_getfield(L, -1, name);
	if (!lua_isnil(L, -1))
		return luaL_error(L, "%s: '%s' is already registered", what, name);
	lua_pop(L, 1);
	lua_pushvalue(L, 2);
	lua_setfield(L, -2, name);
	return 0;
}

static int S_shortcode(lua_State *L)
{
	return S_register_named(L, S_SHORTCODES_KEY, "shortcode");
}

static int S_helper(lua_State *L)
{
	return S_register_named(L, S_HELPERS_KEY, "helper");
}

/* markdown(text) → list of block nodes */
static int S_markdown(lua_State *L)
{
	hooks *h = S_ctx(L);
	size_t len;
	const char *text = luaL_checklstring(L, 1, &len);
	md_doc d = {0};
	md_parse(&d, text, len, h->cur_doc ? h->cur_doc->unsafe : 0);
	md_normalize(&d);
	ast_push(L, d.root, 1);
	md_doc_free(&d);
	lua_getfield(L, -1, "children");
	return 1;
}

/* read(path): a file below content/data, when site.lua grants "read_data" */
static int S_read(lua_State *L)
{
	hooks *h = S_ctx(L);
	const char *rel = luaL_checkstring(L, 1);
	if (!path_is_safe_relative(rel) || !str_starts_with(rel, "data/"))
		return luaL_error(L, "read: '%s' is outside data/ (only files below %s/data can be read)", rel,
		                  h->env.content_dir);
	char *path = path_join(h->env.content_dir, rel);
	char *data = NULL;
	size_t len = 0;
	int rc = source_read(h->env.src, path, &data, &len);
	free(path);
	if (rc != 0) {
		luaL_pushfail(L);
		lua_pushfstring(L, "%s: not found", rel);
		return 2;
	}
	lua_pushlstring(L, data, len);
	free(data);
	return 1;
}

/* write(path, text): only in finish handlers */
static int S_write(lua_State *L)
{
	hooks *h = S_ctx(L);
	const char *path = luaL_checkstring(L, 1);
	size_t len;
	const char *text = luaL_checklstring(L, 2, &len);
	if (!h->write)
		return luaL_error(L, "write: only finish handlers can write files");
	lua_Debug ar;
	char origin[256] = "(finish hook)";
	if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar))
		snprintf(origin, sizeof origin, "%s:%d", ar.short_src, ar.currentline);
	if (h->write(h->write_ctx, path, text, len, origin) < 0)
		return luaL_error(L, "write: cannot write %s", path);
	return 0;
}

/* ---- deterministic os.time / os.date ---- */

static int S_os_time(lua_State *L)
{
	hooks *h = S_ctx(L);
	if (lua_isnoneornil(L, 1)) {
		lua_pushinteger(L, h->env.clock);
		return 1;
	}
	luaL_checktype(L, 1, LUA_TTABLE);
	int f[6] = {0, 0, 0, 12, 0, 0};
	static const char *const keys[] = {"year", "month", "day", "hour", "min", "sec"};
	for (int i = 0; i < 6; i++) {
		lua_getfield(L, 1, keys[i]);
		int isnum;
		lua_Integer v = lua_tointegerx(L, -1, &isnum);
		if (!isnum && i < 3)
			return luaL_error(L, "os.time: field '%s' missing in date table", keys[i]);
		if (isnum)
			f[i] = (int)v;
		lua_pop(L, 1);
	}
	int64_t days = date_days(f[0], f[1], f[2]);
	lua_pushinteger(L, days * 86400 + f[3] * 3600 + f[4] * 60 + f[5] - (int64_t)h->env.clock_offset * 60);
	return 1;
}

static int S_os_date(lua_State *L)
{
	hooks *h = S_ctx(L);
	const char *fmt = luaL_optstring(L, 1, "%Y-%m-%d %H:%M:%S");
	lua_Integer t = luaL_optinteger(L, 2, h->env.clock);
	int utc = fmt[0] == '!';
	if (utc)
		fmt++;
	int64_t local = t + (utc ? 0 : (int64_t)h->env.clock_offset * 60);
	jb_date d;
	date_from_time(local, 0, &d);
	int64_t secs = ((local % 86400) + 86400) % 86400;
	struct tm tm = {0};
	tm.tm_year = d.year - 1900;
	tm.tm_mon = d.month - 1;
	tm.tm_mday = d.day;
	tm.tm_hour = (int)(secs / 3600);
	tm.tm_min = (int)(secs / 60 % 60);
	tm.tm_sec = (int)(secs % 60);
	tm.tm_wday = (int)(((date_days(d.year, d.month, d.day) % 7) + 11) % 7);
	tm.tm_yday = (int)(date_days(d.year, d.month, d.day) - date_days(d.year, 1, 1));
	if (strcmp(fmt, "*t") == 0) {
		lua_createtable(L, 0, 9);
		lua_pushinteger(L, d.year), lua_setfield(L, -2, "year");
		lua_pushinteger(L, d.month), lua_setfield(L, -2, "month");
		lua_pushinteger(L, d.day), lua_setfield(L, -2, "day");
		lua_pushinteger(L, tm.tm_hour), lua_setfield(L, -2, "hour");
		lua_pushinteger(L, tm.tm_min), lua_setfield(L, -2, "min");
		lua_pushinteger(L, tm.tm_sec), lua_setfield(L, -2, "sec");
		lua_pushinteger(L, tm.tm_wday + 1), lua_setfield(L, -2, "wday");
		lua_pushinteger(L, tm.tm_yday + 1), lua_setfield(L, -2, "yday");
		lua_pushboolean(L, 0), lua_setfield(L, -2, "isdst");
		return 1;
	}
	for (const char *p = fmt; *p; p++)
		if (*p == '%' && (p[1] == 'Z' || p[1] == 'z' || p[1] == 'c' || p[1] == 'x' || p[1] == 'X'))
			return luaL_error(L, "os.date: '%%%c' depends on the machine's locale or time zone", p[1]);
	char out[512];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	size_t n = strftime(out, sizeof out, fmt, &tm);
#pragma GCC diagnostic pop
	if (n == 0 && *fmt)
		return luaL_error(L, "os.date: format too long or invalid");
	lua_pushlstring(L, out, n);
	return 1;
}

static int S_os_missing(lua_State *L)
{
	const char *k = lua_tostring(L, 2);
	return luaL_error(L, "os.%s is not available in the sandbox (only os.time and os.date are)", k ? k : "?");
}

/* ---- helpers shared with templates ---- */

/* number_cn(n [, decimals]) → "60.8万", "1.28万", "6.4亿", "3798": at most
 * `decimals` (default 2) decimals, trailing zeros dropped */
static int S_number_cn(lua_State *L)
{
	lua_Number n = luaL_checknumber(L, 1);
	int dec = (int)luaL_optinteger(L, 2, 2);
	if (dec < 0 || dec > 4)
		return luaL_error(L, "number_cn: decimals must be 0 to 4");
	if (!isfinite(n))
		return luaL_error(L, "number_cn: not a finite number");
	const char *unit = "";
	lua_Number v = n, a = fabs(n);
	if (a >= 1e8) {
		v = n / 1e8;
		unit = "亿";
	} else if (a >= 1e4) {
		v = n / 1e4;
		unit = "万";
	}
	char tmp[64];
	if (!*unit && v == floor(v))
		snprintf(tmp, sizeof tmp, "%.0f", v);
	else {
		snprintf(tmp, sizeof tmp, "%.*f", *unit ? dec : dec, v);
		char *dot = strchr(tmp, '.');
		if (dot) {
			char *end = tmp + strlen(tmp) - 1;
			while (end > dot && *end == '0')
				*end-- = '\0';
			if (end == dot)
				*end = '\0';
		}
	}
	lua_pushfstring(L, "%s%s", tmp, unit);
	return 1;
}

/* slugify(s): see str_slugify */
static int S_slugify(lua_State *L)
{
	char *slug = str_slugify(luaL_checkstring(L, 1));
	lua_pushstring(L, slug);
	free(slug);
	return 1;
}

void hooks_register_helpers(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	lua_pushcfunction(L, S_number_cn);
	lua_setfield(L, idx, "number_cn");
	lua_pushcfunction(L, S_slugify);
	lua_setfield(L, idx, "slugify");
}

/* ---- hook environments: sealed after loading, per-call globals ---- */

static int S_env_index(lua_State *L)
{
	lua_getfield(L, LUA_REGISTRYINDEX, S_SCRATCH_KEY);
	if (lua_istable(L, -1)) {
		lua_pushvalue(L, 2);
		lua_rawget(L, -2);
		if (!lua_isnil(L, -1))
			return 1;
	}
	const char *name = lua_tostring(L, 2);
	luaL_where(L, 1);
	lua_pushfstring(L, "undefined variable '%s'", name ? name : "?");
	lua_concat(L, 2);
	return lua_error(L);
}

static int S_env_newindex(lua_State *L)
{
	/* upvalue 1: the metatable, whose 'sealed' field says where to write */
	lua_getfield(L, lua_upvalueindex(1), "sealed");
	int sealed = lua_toboolean(L, -1);
	lua_pop(L, 1);
	if (!sealed) {
		lua_rawset(L, 1);
		return 0;
	}
	lua_getfield(L, LUA_REGISTRYINDEX, S_SCRATCH_KEY);
	lua_insert(L, 2);
	lua_rawset(L, 2);
	return 0;
}

static void S_fresh_scratch(lua_State *L)
{
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, S_SCRATCH_KEY);
}

/* Pushes a new hook environment (unsealed) and its metatable below it. */
static void S_push_env(hooks *h, int capabilities)
{
	lua_State *L = h->L;
	script_push_env(L);
	int env = lua_gettop(L);
	hooks_register_helpers(L, env);
	tpl_register_helpers(L, env, h->env.site);
	figures_register(L, env);
	static const luaL_Reg fns[] = {
		{"on", S_on},         {"shortcode", S_shortcode}, {"helper", S_helper},
		{"walk", S_walk},     {"markdown", S_markdown},   {"write", S_write},
	};
	for (size_t i = 0; i < JB_ARRAY_LEN(fns); i++) {
		lua_pushcfunction(L, fns[i].func);
		lua_setfield(L, env, fns[i].name);
	}
	if (capabilities & 1) {
		lua_pushcfunction(L, S_read);
		lua_setfield(L, env, "read");
	}
	lua_createtable(L, 0, 2);
	lua_pushcfunction(L, S_os_time);
	lua_setfield(L, -2, "time");
	lua_pushcfunction(L, S_os_date);
	lua_setfield(L, -2, "date");
	lua_createtable(L, 0, 2);
	lua_pushcfunction(L, S_os_missing);
	lua_setfield(L, -2, "__index");
	lua_pushliteral(L, "sandbox");
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);
	lua_setfield(L, env, "os");
	config_push_site(L);
	lua_setfield(L, env, "site");

	/* replace the strict metatable with the sealing one */
	lua_newtable(L);
	int mt = lua_gettop(L);
	lua_pushcfunction(L, S_env_index);
	lua_setfield(L, mt, "__index");
	lua_pushvalue(L, mt);
	lua_pushcclosure(L, S_env_newindex, 1);
	lua_setfield(L, mt, "__newindex");
	lua_pushliteral(L, "sandbox");
	lua_setfield(L, mt, "__metatable");
	lua_pushvalue(L, mt);
	lua_setmetatable(L, env);
	lua_insert(L, env); /* stack: mt, env */
}

static int S_capabilities(lua_State *L)
{
	int caps = 0;
	config_push_site(L);
	lua_getfield(L, -1, "capabilities");
	if (lua_istable(L, -1)) {
		lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
		for (lua_Integer i = 1; i <= n; i++) {
			lua_rawgeti(L, -1, i);
			const char *c = lua_tostring(L, -1);
			if (c && strcmp(c, "read_data") == 0)
				caps |= 1;
			else
				diag_warning(NULL, 0, 0, "site.capabilities: unknown capability '%s' (known: read_data)", c ? c : "?");
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 2);
	return caps;
}

/* Reports the error on top of the stack (popped); memory errors, which
 * carry no position, are placed at where. */
static void S_report(lua_State *L, const char *where, const char *context)
{
	const char *msg = lua_tostring(L, -1);
	if (msg && strcmp(msg, "not enough memory") == 0) {
		diag_error(where, 0, 0, "hook exceeded its memory limit (%zu MiB)", script_memory_limit(L) >> 20);
		lua_pop(L, 1);
		lua_gc(L, LUA_GCCOLLECT, 0);
		return;
	}
	script_report(L, context);
}

static int S_load_file(hooks *h, const char *display, const char *code, size_t len, int caps)
{
	lua_State *L = h->L;
	int top = lua_gettop(L);
	S_push_env(h, caps); /* mt, env */
	if (script_load(L, display, code, len, -1) != LUA_OK) {
		script_report(L, NULL);
		lua_settop(L, top);
		return -1;
	}
	h->loading = 1;
	script_set_what(L, "hook");
	int rc = script_docall(L, 0, 0);
	h->loading = 0;
	if (rc != LUA_OK) {
		S_report(L, display, NULL);
		lua_settop(L, top);
		return -1;
	}
	lua_pushboolean(L, 1);
	lua_setfield(L, top + 1, "sealed");
	lua_settop(L, top);
	return 0;
}

hooks *hooks_load(lua_State *L, const hooks_env *env)
{
	hooks *h = xcalloc(1, sizeof *h);
	h->L = L;
	h->env = *env;
	script_set_ctx(L, S_CTX_KEY, h);
	lua_newtable(L);
	for (size_t i = 0; i < JB_ARRAY_LEN(S_events); i++) {
		lua_newtable(L);
		lua_setfield(L, -2, S_events[i]);
	}
	lua_setfield(L, LUA_REGISTRYINDEX, S_HANDLERS_KEY);
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, S_SHORTCODES_KEY);
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, S_HELPERS_KEY);
	S_fresh_scratch(L);

	script_push_env(L);
	if (luaL_loadbufferx(L, S_prelude, sizeof S_prelude - 1, "=walk", "t") != LUA_OK ||
	    (lua_pushvalue(L, -2), lua_setupvalue(L, -2, 1), lua_pcall(L, 0, 1, 0)) != LUA_OK) {
		diag_error(NULL, 0, 0, "internal: walk prelude: %s", lua_tostring(L, -1));
		lua_pop(L, 2);
		hooks_free(h);
		return NULL;
	}
	lua_setfield(L, LUA_REGISTRYINDEX, S_WALK_KEY);
	lua_pop(L, 1);

	int caps = S_capabilities(L);
	int rc = 0;
	/* theme hooks first, then the site's own */
	strvec files = STRVEC_INIT;
	if (env->theme && theme_list(env->theme, "hooks", &files) < 0)
		rc = -1;
	for (size_t i = 0; i < files.len && rc == 0; i++) {
		if (!str_ends_with(files.items[i], ".lua"))
			continue;
		char *code = NULL;
		size_t len = 0;
		if (theme_read(env->theme, files.items[i], &code, &len) != 0) {
			rc = -1;
			break;
		}
		char *display = theme_display_path(env->theme, files.items[i]);
		rc = S_load_file(h, display, code, len, caps);
		h->files++;
		free(display);
		free(code);
	}
	strvec_free(&files);
	char *dir = path_join(env->content_dir, "hooks");
	if (rc == 0 && source_list(env->src, dir, &files) < 0)
		rc = -1;
	for (size_t i = 0; i < files.len && rc == 0; i++) {
		if (!str_ends_with(files.items[i], ".lua")) {
			diag_warning(files.items[i], 0, 0, "ignored: hook files end in .lua");
			continue;
		}
		char *code = NULL;
		size_t len = 0;
		if (source_read(env->src, files.items[i], &code, &len) != 0) {
			rc = -1;
			break;
		}
		rc = S_load_file(h, files.items[i], code, len, caps);
		h->files++;
		free(code);
	}
	strvec_free(&files);
	free(dir);
	if (rc < 0) {
		hooks_free(h);
		return NULL;
	}
	return h;
}

void hooks_free(hooks *h)
{
	if (!h)
		return;
	script_set_ctx(h->L, S_CTX_KEY, NULL);
	free(h);
}

int hooks_count(const hooks *h, const char *event)
{
	int i = S_event_index(event);
	return h && i >= 0 ? h->counts[i] : 0;
}

int hooks_files(const hooks *h)
{
	return h ? h->files : 0;
}

void hooks_push_helpers(hooks *h)
{
	lua_getfield(h->L, LUA_REGISTRYINDEX, S_HELPERS_KEY);
}

/* "content/hooks/x.lua:3" for the function at idx. */
static void S_where(lua_State *L, int idx, char *out, size_t n)
{
	lua_Debug ar;
	lua_pushvalue(L, idx);
	if (lua_getinfo(L, ">S", &ar) && ar.linedefined > 0)
		snprintf(out, n, "%s:%d", ar.short_src, ar.linedefined);
	else
		snprintf(out, n, "a hook");
}

/* Runs every handler of event with the nargs values on top of the stack
 * as arguments (popped).  check(L, where) inspects each result, which is
 * on top of the stack; it returns 0 or -1 after reporting. */
static int S_run(hooks *h, const char *event, int nargs, int (*check)(hooks *, const char *where, void *), void *ud)
{
	lua_State *L = h->L;
	int args = lua_gettop(L) - nargs + 1;
	int rc = 0;
	lua_getfield(L, LUA_REGISTRYINDEX, S_HANDLERS_KEY);
	lua_getfield(L, -1, event);
	int list = lua_gettop(L);
	lua_Integer n = (lua_Integer)lua_rawlen(L, list);
	script_set_what(L, "hook");
	for (lua_Integer i = 1; i <= n && rc == 0; i++) {
		lua_rawgeti(L, list, i);
		lua_getfield(L, -1, "filter");
		int filter = lua_toboolean(L, -1);
		lua_pop(L, 1);
		lua_getfield(L, -1, "fn");
		lua_remove(L, -2);
		char where[300];
		if (filter) {
			/* walk(page.doc, filter, page) */
			snprintf(where, sizeof where, "a page filter");
			lua_pushvalue(L, -1);
			lua_getfield(L, LUA_REGISTRYINDEX, S_WALK_KEY);
			lua_replace(L, -3); /* walk, filter */
			lua_pushvalue(L, args);
			lua_getfield(L, -1, "doc");
			lua_replace(L, -2); /* walk, filter, doc */
			lua_insert(L, -2);  /* walk, doc, filter */
			lua_pushvalue(L, args);
			S_fresh_scratch(L);
			if (script_docall(L, 3, 1) != LUA_OK) {
				script_report(L, "page filter");
				rc = -1;
				break;
			}
			lua_setfield(L, args, "doc");
			continue;
		}
		S_where(L, -1, where, sizeof where);
		for (int a = 0; a < nargs; a++)
			lua_pushvalue(L, args + a);
		S_fresh_scratch(L);
		if (script_docall(L, nargs, 1) != LUA_OK) {
			char *ctx = xasprintf("%s hook defined at %s", event, where);
			S_report(L, where, ctx);
			free(ctx);
			rc = -1;
			break;
		}
		if (check)
			rc = check(h, where, ud);
		lua_pop(L, 1);
	}
	S_fresh_scratch(L);
	lua_settop(L, args - 1);
	return rc;
}

int hooks_run_config(hooks *h)
{
	config_push_site(h->L);
	return S_run(h, "config", 1, NULL, NULL);
}

int hooks_run_load(hooks *h)
{
	config_push_site(h->L);
	return S_run(h, "load", 1, NULL, NULL);
}

/* page.doc, looked up lazily by the page tables' __index (render.c). */
int hooks_push_doc(lua_State *L, int page_idx)
{
	hooks *h = script_get_ctx(L, S_CTX_KEY);
	if (!h || !h->cur_doc)
		return 0;
	ast_push(L, h->cur_doc->root, h->cur_first_line);
	lua_pushvalue(L, -1);
	lua_setfield(L, page_idx, "doc");
	return 1;
}

int hooks_run_page(hooks *h, int page_idx, md_doc *doc, const char *file, int first_line)
{
	if (!h || !h->counts[2])
		return 0;
	lua_State *L = h->L;
	page_idx = lua_absindex(L, page_idx);
	md_doc *saved_doc = h->cur_doc;
	int saved_line = h->cur_first_line;
	h->cur_doc = doc;
	h->cur_first_line = first_line;
	lua_pushvalue(L, page_idx);
	int rc = S_run(h, "page", 1, NULL, NULL);
	h->cur_doc = saved_doc;
	h->cur_first_line = saved_line;
	/* a tree that hooks looked at goes back into cmark */
	lua_pushliteral(L, "doc");
	lua_rawget(L, page_idx);
	if (rc == 0 && lua_istable(L, -1)) {
		lua_getfield(L, -1, "type");
		int is_doc = lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "document") == 0;
		lua_pop(L, 1);
		char *err = NULL;
		cmark_node *root = is_doc ? ast_from_lua(L, -1, &err) : NULL;
		if (!is_doc) {
			diag_error(file, 0, 0, "page hook: page.doc must stay a document node");
			rc = -1;
		} else if (!root) {
			diag_error(file, 0, 0, "page hook: invalid Markdown tree: %s", err);
			free(err);
			rc = -1;
		} else {
			cmark_node_free(doc->root);
			doc->root = root;
			doc->normalized = 0;
		}
	} else if (rc == 0 && !lua_isnil(L, -1)) {
		diag_error(file, 0, 0, "page hook: page.doc must be a document node table, not a %s", luaL_typename(L, -1));
		rc = -1;
	}
	lua_pop(L, 1);
	lua_pushliteral(L, "doc");
	lua_pushnil(L);
	lua_rawset(L, page_idx);
	return rc;
}

/* ---- shortcodes ---- */

/* Parses "name a=1 b=\"x y\" free" into a table of arguments. */
static void S_push_args(lua_State *L, const char *info)
{
	lua_newtable(L);
	lua_Integer pos = 0;
	const char *p = info;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		buf key = BUF_INIT, val = BUF_INIT;
		int has_key = 0;
		while (*p && *p != ' ' && *p != '\t') {
			if (*p == '=' && !has_key) {
				has_key = 1;
				p++;
				continue;
			}
			if (*p == '"' || *p == '\'') {
				char q = *p++;
				while (*p && *p != q)
					buf_putc(has_key ? &val : &key, *p++);
				if (*p)
					p++;
				continue;
			}
			buf_putc(has_key ? &val : &key, *p++);
		}
		if (has_key) {
			lua_pushstring(L, buf_cstr(&val));
			lua_setfield(L, -2, buf_cstr(&key));
		} else {
			lua_pushstring(L, buf_cstr(&key));
			lua_rawseti(L, -2, ++pos);
		}
		buf_free(&key);
		buf_free(&val);
	}
}

/* Inserts the result on top of the stack before node; 0 or an error text. */
static char *S_insert_result(hooks *h, cmark_node *node, const char *name)
{
	lua_State *L = h->L;
	int t = lua_type(L, -1);
	if (t == LUA_TNIL)
		return NULL;
	if (t == LUA_TSTRING) {
		size_t len;
		const char *text = lua_tolstring(L, -1, &len);
		md_doc d = {0};
		md_parse(&d, text, len, h->cur_doc ? h->cur_doc->unsafe : 0);
		cmark_node *c;
		while ((c = cmark_node_first_child(d.root)) != NULL) {
			cmark_node_unlink(c);
			cmark_node_insert_before(node, c);
		}
		md_doc_free(&d);
		return NULL;
	}
	if (t != LUA_TTABLE)
		return xasprintf("shortcode '%s' must return Markdown text, {html = …}, a node or a list of nodes, not a %s",
		                 name, luaL_typename(L, -1));
	lua_getfield(L, -1, "html");
	if (lua_isstring(L, -1)) {
		cmark_node *cb = cmark_node_new(CMARK_NODE_CUSTOM_BLOCK);
		cmark_node_set_on_enter(cb, lua_tostring(L, -1));
		cmark_node_set_on_exit(cb, "");
		cmark_node_insert_before(node, cb);
		lua_pop(L, 1);
		return NULL;
	}
	lua_pop(L, 1);
	lua_getfield(L, -1, "type");
	int single = !lua_isnil(L, -1);
	lua_pop(L, 1);
	lua_Integer n = single ? 1 : (lua_Integer)lua_rawlen(L, -1);
	for (lua_Integer i = 1; i <= n; i++) {
		if (!single)
			lua_rawgeti(L, -1, i);
		char *err = NULL;
		cmark_node *c = ast_from_lua(L, -1, &err);
		if (!single)
			lua_pop(L, 1);
		if (!c)
			return err;
		if (!cmark_node_insert_before(node, c)) {
			cmark_node_free(c);
			return xasprintf("shortcode '%s' returned a node that cannot stand where the block was", name);
		}
	}
	return NULL;
}

int hooks_expand_shortcodes(hooks *h, int page_idx, md_doc *doc, const char *file, int first_line)
{
	if (!h)
		return 0;
	lua_State *L = h->L;
	page_idx = lua_absindex(L, page_idx);
	lua_getfield(L, LUA_REGISTRYINDEX, S_SHORTCODES_KEY);
	int codes = lua_gettop(L);
	lua_pushnil(L);
	int any = lua_next(L, codes);
	if (any)
		lua_pop(L, 2);
	if (!any) {
		lua_pop(L, 1);
		return 0;
	}
	/* collect first: the tree changes as blocks are replaced */
	cmark_node **blocks = NULL;
	size_t nblocks = 0;
	cmark_iter *it = cmark_iter_new(doc->root);
	cmark_event_type ev;
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		if (ev != CMARK_EVENT_ENTER || cmark_node_get_type(n) != CMARK_NODE_CODE_BLOCK)
			continue;
		const char *info = cmark_node_get_fence_info(n);
		if (!info || !*info)
			continue;
		size_t wl = strcspn(info, " \t");
		char *name = xstrndup(info, wl);
		lua_getfield(L, codes, name);
		if (lua_isfunction(L, -1)) {
			blocks = xrealloc(blocks, (nblocks + 1) * sizeof *blocks);
			blocks[nblocks++] = n;
		}
		lua_pop(L, 1);
		free(name);
	}
	cmark_iter_free(it);

	int rc = 0;
	md_doc *saved = h->cur_doc;
	h->cur_doc = doc;
	script_set_what(L, "shortcode");
	for (size_t i = 0; i < nblocks && rc == 0; i++) {
		cmark_node *n = blocks[i];
		const char *info = cmark_node_get_fence_info(n);
		size_t wl = strcspn(info, " \t");
		char *name = xstrndup(info, wl);
		int line = first_line + cmark_node_get_start_line(n) - 1;
		lua_getfield(L, codes, name);
		S_push_args(L, info);
		lua_pushstring(L, cmark_node_get_literal(n) ? cmark_node_get_literal(n) : "");
		lua_pushvalue(L, page_idx);
		S_fresh_scratch(L);
		if (script_docall(L, 3, 1) != LUA_OK) {
			const char *msg = lua_tostring(L, -1);
			const char *nl = msg ? strchr(msg, '\n') : NULL;
			diag_error(file, line, 1, "shortcode '%s' failed: %.*s", name, nl ? (int)(nl - msg) : (int)strlen(msg ? msg : ""),
			           msg ? msg : "");
			if (nl)
				diag_detail(nl + 1);
			lua_pop(L, 1);
			rc = -1;
		} else {
			char *err = S_insert_result(h, n, name);
			lua_pop(L, 1);
			if (err) {
				diag_error(file, line, 1, "%s", err);
				free(err);
				rc = -1;
			} else {
				cmark_node_unlink(n);
				cmark_node_free(n);
				doc->normalized = 0;
			}
		}
		free(name);
	}
	h->cur_doc = saved;
	S_fresh_scratch(L);
	free(blocks);
	lua_pop(L, 1);
	return rc;
}

/* ---- render and finish ---- */

typedef struct render_check {
	buf *html;
	int file_idx;
} render_check;

static int S_check_render(hooks *h, const char *where, void *ud)
{
	lua_State *L = h->L;
	render_check *rc = ud;
	buf *html = rc->html;
	int t = lua_type(L, -1);
	if (t == LUA_TSTRING) {
		size_t len;
		const char *s = lua_tolstring(L, -1, &len);
		buf_truncate(html, 0);
		buf_put(html, s, len);
		/* later handlers see the new text */
		lua_pushvalue(L, -1);
		lua_setfield(L, rc->file_idx, "content");
		return 0;
	}
	if (t != LUA_TNIL) {
		char *file = xstrdup(where);
		char *colon = strrchr(file, ':');
		int line = 0;
		if (colon) {
			*colon = '\0';
			line = atoi(colon + 1);
		}
		diag_error(file, line, 0, "render hook must return a string or nil, not a %s", luaL_typename(L, -1));
		free(file);
		return -1;
	}
	return 0;
}

int hooks_run_render(hooks *h, const char *path, int page_idx, buf *html)
{
	if (!h || !h->counts[3])
		return 0;
	lua_State *L = h->L;
	page_idx = lua_absindex(L, page_idx);
	lua_createtable(L, 0, 3);
	lua_pushstring(L, path);
	lua_setfield(L, -2, "path");
	lua_pushlstring(L, buf_cstr(html), html->len);
	lua_setfield(L, -2, "content");
	lua_pushvalue(L, page_idx);
	lua_setfield(L, -2, "page");
	lua_pushvalue(L, -1);
	int file = lua_gettop(L) - 1;
	render_check chk = {html, file};
	int rc = S_run(h, "render", 1, S_check_render, &chk);
	/* handlers may also have assigned file.content */
	if (rc == 0) {
		lua_getfield(L, file, "content");
		if (lua_isstring(L, -1)) {
			size_t len;
			const char *s = lua_tolstring(L, -1, &len);
			if (len != html->len || memcmp(s, buf_cstr(html), len) != 0) {
				buf_truncate(html, 0);
				buf_put(html, s, len);
			}
		} else if (!lua_isnil(L, -1)) {
			diag_error(NULL, 0, 0, "render hook: file.content must be a string, not a %s", luaL_typename(L, -1));
			rc = -1;
		}
		lua_pop(L, 1);
	}
	lua_settop(L, file - 1);
	return rc;
}

int hooks_run_finish(hooks *h, size_t files, hooks_write_fn write, void *ctx)
{
	if (!h || !h->counts[4])
		return 0;
	lua_State *L = h->L;
	lua_createtable(L, 0, 2);
	lua_pushinteger(L, (lua_Integer)files);
	lua_setfield(L, -2, "files");
	h->write = write;
	h->write_ctx = ctx;
	int rc = S_run(h, "finish", 1, NULL, NULL);
	h->write = NULL;
	h->write_ctx = NULL;
	return rc;
}
