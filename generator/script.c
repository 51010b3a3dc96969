#define _GNU_SOURCE
#include "script.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <lualib.h>

#include "diag.h"
#include "util.h"

/* Lua allocates and frees many small blocks of a few sizes (strings,
 * tables, closures) all the time.  Blocks up to S_SMALL bytes come from
 * free lists by size class, carved from large chunks and kept for the
 * state's life, which makes them a pointer swap instead of a trip through
 * malloc's bins; larger blocks are malloc's. */
#define S_SMALL 256
#define S_CLASS 16
#define S_CHUNK ((size_t)256 << 10)

typedef struct chunk {
	struct chunk *next;
} chunk;

typedef struct pool {
	void *free[S_SMALL / S_CLASS];
	char *at;     /* the rest of the newest chunk */
	size_t left;
	chunk *chunks;
} pool;

typedef struct script_state {
	pool pool;
	size_t used;
	size_t limit;
	long long budget;
	long long left;
	int exhausted;
	const char *what; /* "hook", "template", … for messages */
	char exhausted_msg[512]; /* where the budget ran out */
} script_state;

#define S_HOOK_EVERY 1000

/* The size class of a small block of n bytes (n > 0). */
static size_t S_class(size_t n)
{
	return (n - 1) / S_CLASS;
}

static void *S_pool_get(pool *p, size_t n)
{
	size_t c = S_class(n);
	void *b = p->free[c];
	if (b) {
		memcpy(&p->free[c], b, sizeof(void *));
		return b;
	}
	size_t size = (c + 1) * S_CLASS;
	if (p->left < size) {
		chunk *k = malloc(S_CHUNK);
		if (!k)
			return NULL;
		k->next = p->chunks;
		p->chunks = k;
		p->at = (char *)k + S_CLASS; /* the header rounded to a class */
		p->left = S_CHUNK - S_CLASS;
	}
	b = p->at;
	p->at += size;
	p->left -= size;
	return b;
}

static void S_pool_put(pool *p, void *b, size_t n)
{
	size_t c = S_class(n);
	memcpy(b, &p->free[c], sizeof(void *));
	p->free[c] = b;
}

static void S_pool_free(pool *p)
{
	for (chunk *k = p->chunks, *next; k; k = next) {
		next = k->next;
		free(k);
	}
}

static void *S_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	script_state *st = ud;
	if (!ptr)
		osize = 0;
	if (nsize == 0) {
		if (osize <= S_SMALL && ptr)
			S_pool_put(&st->pool, ptr, osize);
		else
			free(ptr);
		st->used -= osize;
		return NULL;
	}
	if (nsize > osize && st->used + (nsize - osize) > st->limit)
		return NULL; /* Lua raises "not enough memory" */
	void *p;
	if (ptr && osize > S_SMALL && nsize > S_SMALL) {
		p = realloc(ptr, nsize);
	} else if (ptr && osize <= S_SMALL && nsize <= S_SMALL && S_class(osize) == S_class(nsize)) {
		p = ptr; /* the block has room already */
	} else {
		p = nsize <= S_SMALL ? S_pool_get(&st->pool, nsize) : malloc(nsize);
		if (p && ptr) {
			memcpy(p, ptr, osize < nsize ? osize : nsize);
			if (osize <= S_SMALL)
				S_pool_put(&st->pool, ptr, osize);
			else
				free(ptr);
		}
	}
	if (!p)
		return NULL;
	st->used += nsize - osize;
	return p;
}

static script_state *S_state(lua_State *L)
{
	void *ud = NULL;
	lua_getallocf(L, &ud);
	return ud;
}

static void S_count_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	script_state *st = S_state(L);
	st->left -= S_HOOK_EVERY;
	if (st->left <= 0) {
		/* Raised again at every later hook, so a pcall that catches it
		 * only buys S_HOOK_EVERY more instructions. */
		lua_Debug info;
		const char *what = st->what ? st->what : "code";
		if (!st->exhausted) {
			st->exhausted = 1;
			if (lua_getstack(L, 0, &info) && lua_getinfo(L, "Sl", &info) && info.currentline > 0)
				snprintf(st->exhausted_msg, sizeof st->exhausted_msg,
				         "%s:%d: %s exceeded its instruction budget (%lld instructions)", info.short_src,
				         info.currentline, what, st->budget);
			else
				snprintf(st->exhausted_msg, sizeof st->exhausted_msg,
				         "%s exceeded its instruction budget (%lld instructions)", what, st->budget);
		}
		lua_pushstring(L, st->exhausted_msg);
		lua_error(L);
	}
}

/* ---- the instruction budget ----
 *
 * With a count hook set, Lua's interpreter stops at every instruction to
 * count it, which costs about a fifth of the time templates take.  So a
 * call starts without one: a timer on the thread's CPU time ticks every
 * S_TICK_NS, and a call still running at two ticks in a row gets the count
 * hook from then on.  A runaway loop is thus stopped once it has run its budget, a tick
 * or two of CPU time later than a count from its very start would stop
 * it.  Coroutines are counted from their start (they may be resumed when
 * the call that made them is long gone).  Where no timer can be made,
 * calls are counted from their start as well. */
#define S_TICK_NS 10000000L

typedef struct watch {
	lua_State *volatile outer; /* the outermost call's state; NULL between calls */
	lua_State *volatile cur;   /* the innermost call's */
	volatile unsigned long serial; /* of the outermost call */
	unsigned long seen;            /* serial at the last tick */
	volatile sig_atomic_t armed;   /* the count hook is set for this call */
	int timer;                     /* 1: this thread's timer runs; -1: none can be made */
} watch;

static __thread watch S_watch;

static void S_arm(lua_State *L)
{
	lua_sethook(L, S_count_hook, LUA_MASKCOUNT, S_HOOK_EVERY);
}

/* The timer's signal, on the thread whose CPU time it measures (lua_sethook
 * may be called from a signal handler). */
static void S_tick(int sig)
{
	(void)sig;
	watch *w = &S_watch;
	if (!w->outer || w->armed)
		return;
	if (w->serial == w->seen) {
		w->armed = 1;
		S_arm(w->outer);
		if (w->cur && w->cur != w->outer)
			S_arm(w->cur);
	}
	w->seen = w->serial;
}

/* A forked child has no timers. */
static void S_watch_forked(void)
{
	S_watch.timer = 0;
}

static void S_watch_setup(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = S_tick;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGRTMIN, &sa, NULL);
	pthread_atfork(NULL, NULL, S_watch_forked);
}

static void S_watch_start(watch *w)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	if (w->timer)
		return;
	pthread_once(&once, S_watch_setup);
	struct sigevent sev;
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGRTMIN;
	sev._sigev_un._tid = gettid();
	timer_t id;
	struct itimerspec every = {{0, S_TICK_NS}, {0, S_TICK_NS}};
	if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &id) == 0 && timer_settime(id, 0, &every, NULL) == 0)
		w->timer = 1;
	else
		w->timer = -1;
}

/* coroutine.create and coroutine.wrap (upvalue 1) making a thread that
 * inherits the count hook from the caller's. */
static int S_counted_coroutine(lua_State *L)
{
	lua_Hook hook = lua_gethook(L);
	int mask = lua_gethookmask(L), count = lua_gethookcount(L);
	S_arm(L);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	int rc = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
	lua_sethook(L, hook, mask, count);
	if (S_watch.armed || S_watch.timer < 0)
		S_arm(L); /* the tick came meanwhile, or counting is always on */
	if (rc != LUA_OK)
		return lua_error(L);
	return lua_gettop(L);
}

static int S_no_dump(lua_State *L)
{
	return luaL_error(L, "string.dump is not available: binary chunks are not allowed");
}

lua_State *script_new(const script_limits *limits)
{
	script_state *st = xcalloc(1, sizeof *st);
	st->limit = limits && limits->memory ? limits->memory : (size_t)512 << 20;
	st->budget = limits && limits->budget ? limits->budget : 100000000LL;
	st->left = st->budget;
	lua_State *L = lua_newstate(S_alloc, st);
	if (!L) {
		free(st);
		fprintf(stderr, "jianbao: cannot create a Lua state\n");
		abort();
	}
	static const luaL_Reg libs[] = {
		{LUA_GNAME, luaopen_base}, {LUA_STRLIBNAME, luaopen_string}, {LUA_TABLIBNAME, luaopen_table},
		{LUA_MATHLIBNAME, luaopen_math}, {LUA_UTF8LIBNAME, luaopen_utf8}, {LUA_COLIBNAME, luaopen_coroutine},
	};
	for (size_t i = 0; i < JB_ARRAY_LEN(libs); i++) {
		luaL_requiref(L, libs[i].name, libs[i].func, 1);
		lua_pop(L, 1);
	}
	/* string.dump makes binary chunks; strings reach the library through
	 * their metatable, so remove it at the source. */
	lua_getglobal(L, "string");
	lua_pushcfunction(L, S_no_dump);
	lua_setfield(L, -2, "dump");
	lua_pop(L, 1);
	lua_getglobal(L, "coroutine");
	static const char *const makers[] = {"create", "wrap"};
	for (size_t i = 0; i < JB_ARRAY_LEN(makers); i++) {
		lua_getfield(L, -1, makers[i]);
		lua_pushcclosure(L, S_counted_coroutine, 1);
		lua_setfield(L, -2, makers[i]);
	}
	lua_pop(L, 1);
	/* pages' tables live for the whole build while each page's rendering
	 * makes short-lived strings and tables: the generational collector
	 * frees those young without walking the site again and again */
	lua_gc(L, LUA_GCGEN, 0, 0);
	return L;
}

void script_close(lua_State *L)
{
	if (!L)
		return;
	script_state *st = S_state(L);
	lua_close(L);
	S_pool_free(&st->pool);
	free(st);
}

/* ---- the sandbox environment ---- */

static int S_strict_index(lua_State *L)
{
	const char *name = lua_tostring(L, 2);
	luaL_where(L, 1);
	lua_pushfstring(L, "undefined variable '%s'", name ? name : "?");
	lua_concat(L, 2);
	return lua_error(L);
}

/* load(text [, chunkname [, mode [, env]]]): text only, and the chunk gets
 * the caller's sandbox unless an env is given. */
static int S_safe_load(lua_State *L)
{
	size_t len;
	const char *code = luaL_checklstring(L, 1, &len);
	const char *name = luaL_optstring(L, 2, "=(load)");
	if (len > 0 && code[0] == LUA_SIGNATURE[0]) {
		luaL_pushfail(L);
		lua_pushliteral(L, "binary chunks are not allowed");
		return 2;
	}
	if (luaL_loadbufferx(L, code, len, name, "t") != LUA_OK) {
		luaL_pushfail(L);
		lua_insert(L, -2);
		return 2;
	}
	if (!lua_isnoneornil(L, 4))
		lua_pushvalue(L, 4);
	else
		lua_pushvalue(L, lua_upvalueindex(1));
	lua_setupvalue(L, -2, 1);
	return 1;
}

static int S_safe_collectgarbage(lua_State *L)
{
	const char *opt = luaL_optstring(L, 1, "collect");
	if (strcmp(opt, "count") == 0) {
		lua_pushnumber(L, (lua_Number)lua_gc(L, LUA_GCCOUNT, 0) + lua_gc(L, LUA_GCCOUNTB, 0) / 1024.0);
		return 1;
	}
	if (strcmp(opt, "collect") == 0 || strcmp(opt, "step") == 0) {
		lua_gc(L, LUA_GCCOLLECT, 0);
		lua_pushinteger(L, 0);
		return 1;
	}
	return luaL_error(L, "collectgarbage('%s') is not allowed", opt);
}

static void S_copy_table(lua_State *L, const char *global)
{
	lua_getglobal(L, global);
	lua_newtable(L);
	lua_pushnil(L);
	while (lua_next(L, -3)) {
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_rawset(L, -4);
	}
	lua_remove(L, -2);
}

void script_push_env(lua_State *L)
{
	static const char *const base[] = {
		"assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget", "rawlen", "rawset",
		"select", "tonumber", "tostring", "type", "xpcall", "getmetatable", "setmetatable", "_VERSION",
	};
	static const char *const libs[] = {"string", "table", "math", "utf8", "coroutine"};
	lua_newtable(L);
	int env = lua_gettop(L);
	for (size_t i = 0; i < JB_ARRAY_LEN(base); i++) {
		lua_getglobal(L, base[i]);
		lua_setfield(L, env, base[i]);
	}
	for (size_t i = 0; i < JB_ARRAY_LEN(libs); i++) {
		S_copy_table(L, libs[i]);
		lua_setfield(L, env, libs[i]);
	}
	lua_pushvalue(L, env);
	lua_pushcclosure(L, S_safe_load, 1);
	lua_setfield(L, env, "load");
	lua_pushcfunction(L, S_safe_collectgarbage);
	lua_setfield(L, env, "collectgarbage");
	lua_pushvalue(L, env);
	lua_setfield(L, env, "_G");

	lua_newtable(L); /* metatable */
	lua_pushcfunction(L, S_strict_index);
	lua_setfield(L, -2, "__index");
	lua_pushliteral(L, "sandbox");
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, env);
}

int script_load(lua_State *L, const char *chunkname, const char *code, size_t len, int env_idx)
{
	env_idx = lua_absindex(L, env_idx);
	char *name = xasprintf("@%s", chunkname);
	int rc = luaL_loadbufferx(L, code, len, name, "t");
	free(name);
	if (rc != LUA_OK)
		return rc;
	lua_pushvalue(L, env_idx);
	lua_setupvalue(L, -2, 1);
	return LUA_OK;
}

static int S_msghandler(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	if (!msg) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			return 1;
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	}
	luaL_traceback(L, L, msg, 1);
	return 1;
}

void script_set_what(lua_State *L, const char *what)
{
	S_state(L)->what = what;
}

size_t script_memory_limit(lua_State *L)
{
	return S_state(L)->limit;
}

int script_docall(lua_State *L, int nargs, int nres)
{
	script_state *st = S_state(L);
	int base = lua_gettop(L) - nargs;
	lua_pushcfunction(L, S_msghandler);
	lua_insert(L, base);
	st->left = st->budget;
	st->exhausted = 0;
	watch *w = &S_watch;
	lua_State *outer = w->outer, *cur = w->cur;
	if (!outer) {
		S_watch_start(w);
		w->serial++;
		w->armed = 0;
		atomic_signal_fence(memory_order_seq_cst);
		w->outer = L;
	}
	if (w->timer < 0 || (w->armed && L != outer))
		S_arm(L);
	w->cur = L;
	atomic_signal_fence(memory_order_seq_cst);
	int rc = lua_pcall(L, nargs, nres, base);
	w->cur = cur;
	if (!outer)
		w->outer = NULL;
	atomic_signal_fence(memory_order_seq_cst);
	if (w->armed && L != outer)
		lua_sethook(L, NULL, 0, 0);
	if (!outer)
		w->armed = 0;
	lua_remove(L, base);
	if (st->exhausted) {
		/* the code caught the error (pcall, coroutine) and went on: it
		 * still ran out of budget, and the message says where */
		if (rc == LUA_OK)
			lua_pop(L, nres == LUA_MULTRET ? 0 : nres);
		else
			lua_pop(L, 1);
		lua_pushstring(L, st->exhausted_msg);
		rc = LUA_ERRRUN;
	}
	return rc;
}

/* A traceback that only shows the generator's own C frames adds nothing. */
static int S_traceback_useful(const char *tb)
{
	const char *p = strchr(tb, '\n');
	while (p) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p && strncmp(p, "[C]", 3) != 0)
			return 1;
		p = strchr(p, '\n');
	}
	return 0;
}

void script_report(lua_State *L, const char *context)
{
	const char *msg = lua_tostring(L, -1);
	if (!msg)
		msg = "(error without message)";
	if (strcmp(msg, "not enough memory") == 0) {
		script_state *st = S_state(L);
		diag_error(NULL, 0, 0, "%s%s%s exceeded its memory limit (%zu MiB)", context ? context : "",
		           context ? ": " : "", st->what ? st->what : "Lua code", st->limit >> 20);
		lua_pop(L, 1);
		return;
	}
	/* Split "file:line: message\nstack traceback:..." into its parts. */
	const char *nl = strchr(msg, '\n');
	size_t first_len = nl ? (size_t)(nl - msg) : strlen(msg);
	char *first = xstrndup(msg, first_len);
	char *file = NULL, *text = first;
	int line = 0, col = 0;
	char *c1 = strchr(first, ':');
	while (c1) {
		char *end;
		long n = strtol(c1 + 1, &end, 10);
		if (end != c1 + 1 && *end == ':' && n > 0) {
			file = xstrndup(first, (size_t)(c1 - first));
			line = (int)n;
			text = end + 1;
			/* a column may follow: file:line:col: message */
			char *end2;
			long c = strtol(text, &end2, 10);
			if (end2 != text && *end2 == ':' && c > 0 && (text[0] >= '0' && text[0] <= '9')) {
				col = (int)c;
				text = end2 + 1;
			}
			while (*text == ' ')
				text++;
			break;
		}
		c1 = strchr(c1 + 1, ':');
	}
	if (context)
		diag_error(file, line, col, "%s: %s", context, text);
	else
		diag_error(file, line, col, "%s", text);
	if (nl && S_traceback_useful(nl + 1))
		diag_detail(nl + 1);
	free(file);
	free(first);
	lua_pop(L, 1);
}

void script_set_ctx(lua_State *L, const char *key, void *p)
{
	lua_pushlightuserdata(L, p);
	lua_setfield(L, LUA_REGISTRYINDEX, key);
}

void *script_get_ctx(lua_State *L, const char *key)
{
	lua_getfield(L, LUA_REGISTRYINDEX, key);
	void *p = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return p;
}

const char *script_tostr(lua_State *L, int idx, size_t *len)
{
	idx = lua_absindex(L, idx);
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		lua_pushliteral(L, "");
		break;
	case LUA_TSTRING:
		lua_pushvalue(L, idx);
		break;
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx)) {
			lua_pushfstring(L, "%I", (LUAI_UACINT)lua_tointeger(L, idx));
		} else {
			lua_Number n = lua_tonumber(L, idx);
			lua_Integer i;
			if (lua_numbertointeger(n, &i) && (lua_Number)i == n)
				lua_pushfstring(L, "%I", (LUAI_UACINT)i);
			else {
				char tmp[64];
				snprintf(tmp, sizeof tmp, "%.14g", n);
				lua_pushstring(L, tmp);
			}
		}
		break;
	case LUA_TBOOLEAN:
		lua_pushstring(L, lua_toboolean(L, idx) ? "true" : "false");
		break;
	default:
		if (luaL_callmeta(L, idx, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			break;
		luaL_error(L, "cannot output a %s value", luaL_typename(L, idx));
	}
	return lua_tolstring(L, -1, len);
}
