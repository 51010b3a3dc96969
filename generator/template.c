#include "template.h"

#include <lauxlib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "hooks.h"
#include "script.h"

#define S_CTX_KEY "jianbao.template"
#define S_MAX_INCLUDE_DEPTH 32
#define S_SIZE_HINT_MAX ((size_t)64 << 10)

struct tpl_engine {
	lua_State *L;
	theme *theme;
	tpl_site site;
	int depth;
	buf *out;      /* where _w writes: the buffer of the render under way */
	int write_ref;   /* registry references: the _w closure, */
	int values_ref[2]; /* _s and _e, */
	int include_ref; /* include, */
	int here_ref;    /* _i (include writing in place), */
	int env_ref;     /* the environment table */
	int cache_ref;   /* and the compiled templates by name */
	strmap sizes;    /* name → its last output's length, as a pointer */
	tpl_notes notes;
	void **tokens;   /* of include_cached's partials */
	size_t ntokens;
};

/* ---- translation ---- */

static void S_put_lua_string(buf *code, const char *s, size_t len, int *newlines)
{
	buf_putc(code, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': buf_puts(code, "\\\""); break;
		case '\\': buf_puts(code, "\\\\"); break;
		case '\n': buf_puts(code, "\\n"); (*newlines)++; break;
		case '\r': buf_puts(code, "\\r"); break;
		default:
			if (c < 0x20 || c == 0x7F)
				buf_printf(code, "\\%03u", c);
			else
				buf_putc(code, (char)c);
		}
	}
	buf_putc(code, '"');
}

/* The generated code writes the output through one call for each run of
 * literal text and {{ }} values between statements:
 *   _w(lit, …)               only literal text
 *   _e("lvl", lit, x, lit)   literal text and values to escape
 *   _s("lvl", lit, x, lit)   literal text and raw values
 * The first argument of _e and _s says which arguments are literals (l)
 * and which values (v).  A value joins a run only on the line the run
 * starts on, and only a run of its own kind: an error in turning it into
 * text then names the template line, and the traceback the function
 * (_e or _s), as when each value had its own call.  A call takes at most
 * S_RUN_MAX pieces: the arguments need registers. */
#define S_RUN_MAX 24

typedef struct S_run {
	buf args;  /* the pieces so far, with the newlines between them */
	buf desc;  /* 'l' or 'v' for each */
	char kind; /* 0 while only literals, then 'e' or 's' */
	int multiline; /* args holds a newline */
} S_run;

static void S_run_flush(buf *code, S_run *run)
{
	if (!run->desc.len)
		return;
	if (!run->kind) {
		buf_puts(code, " _w(");
	} else {
		int newlines = 0;
		buf_puts(code, run->kind == 'e' ? " _e(" : " _s(");
		S_put_lua_string(code, run->desc.ptr, run->desc.len, &newlines);
		buf_putc(code, ',');
	}
	buf_put(code, run->args.ptr, run->args.len);
	buf_puts(code, ") ");
	buf_truncate(&run->args, 0);
	buf_truncate(&run->desc, 0);
	run->kind = 0;
	run->multiline = 0;
}

/* Starts a piece of the run: kind 0 for a literal, 'e' or 's' for a value. */
static void S_run_piece(buf *code, S_run *run, char kind)
{
	if (run->desc.len &&
	    (run->desc.len >= S_RUN_MAX || (kind && ((run->kind && run->kind != kind) || run->multiline))))
		S_run_flush(code, run);
	if (run->desc.len)
		buf_putc(&run->args, ',');
	buf_putc(&run->desc, kind ? 'v' : 'l');
	if (kind)
		run->kind = kind;
}

/* Newlines that keep the generated code on the template's lines: into
 * the run when one is open. */
static void S_newlines(buf *code, S_run *run, int n)
{
	buf *to = run->desc.len ? &run->args : code;
	for (int i = 0; i < n; i++)
		buf_putc(to, '\n');
	if (n > 0 && run->desc.len)
		run->multiline = 1;
}

static void S_emit_literal(buf *code, S_run *run, const char *s, size_t len)
{
	if (!len)
		return;
	int newlines = 0;
	S_run_piece(code, run, 0);
	S_put_lua_string(&run->args, s, len, &newlines);
	S_newlines(code, run, newlines);
}

static int S_count_newlines(const char *s, size_t len)
{
	int n = 0;
	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

static int S_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

/* Where the line that s[j] is on ends (its newline), or len. */
static size_t S_line_end(const char *s, size_t len, size_t j)
{
	const char *nl = j < len ? memchr(s + j, '\n', len - j) : NULL;
	return nl ? (size_t)(nl - s) : len;
}

/* The end of a Lua string or comment that starts at s[i] ('"', '\'', "[["
 * or "--"), or len when it does not end. */
static size_t S_skip_lua_literal(const char *s, size_t len, size_t i)
{
	if (s[i] == '"' || s[i] == '\'') {
		char q = s[i];
		for (i++; i < len && s[i] != q; i++)
			if (s[i] == '\\')
				i++;
		return i < len ? i + 1 : len;
	}
	int comment = s[i] == '-';
	size_t j = i + 2;
	if (comment && !(j < len && s[j] == '['))
		return S_line_end(s, len, j);
	/* long brackets: [[ ]] or [==[ ]==] */
	size_t open = comment ? j : i, eq = 0;
	for (j = open + 1; j < len && s[j] == '='; j++)
		eq++;
	if (j >= len || s[j] != '[')
		return comment ? S_line_end(s, len, j) : i + 1; /* a comment to the line's end, or an index bracket */
	for (j++; j < len; j++) {
		if (s[j] != ']')
			continue;
		size_t k = j + 1, n = 0;
		while (k < len && s[k] == '=' && n < eq)
			k++, n++;
		if (n == eq && k < len && s[k] == ']')
			return k + 1;
	}
	return len;
}

/* Whether the expression s is one call include(…) and nothing else: the
 * parenthesis after include closes at the end.  *args gets where what is
 * inside the parentheses starts, *args_len its length. */
static int S_include_call(const char *s, size_t len, size_t *args, size_t *args_len)
{
	size_t i = 0;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (len - i < 8 || memcmp(s + i, "include(", 8) != 0)
		return 0;
	i += 8;
	size_t start = i, end = len;
	while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
		end--;
	int depth = 1;
	while (i < end) {
		char c = s[i];
		if (c == '"' || c == '\'' || (c == '[' && i + 1 < end && (s[i + 1] == '[' || s[i + 1] == '=')) ||
		    (c == '-' && i + 1 < end && s[i + 1] == '-')) {
			i = S_skip_lua_literal(s, end, i);
			continue;
		}
		if (c == '(' || c == '{' || c == '[')
			depth++;
		else if (c == ')' || c == '}' || c == ']')
			depth--;
		i++;
		if (depth == 0)
			break;
	}
	if (depth != 0 || i != end)
		return 0;
	*args = start;
	*args_len = end - 1 - start;
	return 1;
}

char *tpl_translate(const char *text, size_t len, char **err, int *line, int *col)
{
	buf code = BUF_INIT;
	buf_puts(&code, "local _e,_s,_w,_i=...");
	S_run run = {BUF_INIT, BUF_INIT, 0, 0};
	size_t pos = 0, lit_start = 0;
	int cur_line = 1;
	size_t line_start = 0;
	*err = NULL;

	while (pos < len) {
		const char *open = memchr(text + pos, '{', len - pos);
		if (!open || (size_t)(open - text) + 1 >= len) {
			break;
		}
		size_t at = (size_t)(open - text);
		char kind = text[at + 1];
		if (kind != '{' && kind != '%' && kind != '#') {
			pos = at + 1;
			continue;
		}
		/* Line and column of the tag, counted up to it. */
		for (size_t i = pos; i < at; i++)
			if (text[i] == '\n') {
				cur_line++;
				line_start = i + 1;
			}
		int tag_line = cur_line, tag_col = (int)utf8_length(text + line_start, at - line_start) + 1;

		int raw = kind == '{' && at + 2 < len && text[at + 2] == '{';
		const char *closer = raw ? "}}}" : kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
		size_t open_len = raw ? 3 : 2, close_len = strlen(closer);
		size_t body = at + open_len;
		const char *end = NULL;
		for (size_t i = body; i + close_len <= len; i++) {
			if (memcmp(text + i, closer, close_len) == 0) {
				end = text + i;
				break;
			}
		}
		if (!end) {
			*err = xasprintf("unclosed '%.*s': expected '%s'", (int)open_len, text + at, closer);
			*line = tag_line;
			*col = tag_col;
			buf_free(&code);
			buf_free(&run.args);
			buf_free(&run.desc);
			return NULL;
		}
		size_t body_len = (size_t)(end - (text + body));
		size_t after = (size_t)(end - text) + close_len;

		/* A statement or comment alone on its line takes the line with it. */
		size_t lit_end = at;
		if (kind == '%' || kind == '#') {
			size_t eol = after;
			while (eol < len && text[eol] != '\n')
				eol++;
			if (S_blank(text + line_start, at - line_start) && S_blank(text + after, eol - after) &&
			    line_start >= lit_start) {
				lit_end = line_start;
				if (eol < len) {
					after = eol + 1;
				} else {
					after = eol;
				}
			}
		}
		S_emit_literal(&code, &run, text + lit_start, lit_end - lit_start);

		if (kind == '#') {
			/* nothing */
		} else if (kind == '%') {
			S_run_flush(&code, &run);
			buf_putc(&code, ' ');
			buf_put(&code, text + body, body_len);
			buf_putc(&code, ' ');
		} else {
			if (S_blank(text + body, body_len)) {
				*err = xstrdup("empty expression");
				*line = tag_line;
				*col = tag_col;
				buf_free(&code);
				buf_free(&run.args);
				buf_free(&run.desc);
				return NULL;
			}
			size_t args_at, args_len;
			if (raw && S_include_call(text + body, body_len, &args_at, &args_len)) {
				/* the partial writes its output where it stands */
				S_run_flush(&code, &run);
				buf_puts(&code, " _i(include,");
				buf_put(&code, text + body + args_at, args_len);
				buf_puts(&code, ") ");
				goto tag_done;
			}
			/* in parentheses: one value, whatever the expression
			 * returns (a call can return several, or none: nil) */
			S_run_piece(&code, &run, raw ? 's' : 'e');
			buf_putc(&run.args, '(');
			buf_put(&run.args, text + body, body_len);
			buf_putc(&run.args, ')');
			if (memchr(text + body, '\n', body_len))
				run.multiline = 1;
		}
	tag_done:;
		/* Keep the generated code on the template's line: newlines
		 * inside the tag are already in the code for statements and
		 * expressions; for comments and trimmed line ends add them. */
		int tag_newlines = S_count_newlines(text + at, after - at);
		int emitted = kind == '#' ? 0 : S_count_newlines(text + body, body_len);
		S_newlines(&code, &run, tag_newlines - emitted);
		for (size_t i = at; i < after; i++)
			if (text[i] == '\n') {
				cur_line++;
				line_start = i + 1;
			}
		pos = lit_start = after;
	}
	S_emit_literal(&code, &run, text + lit_start, len - lit_start);
	S_run_flush(&code, &run);
	buf_free(&run.args);
	buf_free(&run.desc);
	/* _w itself says the template ran to its end (a {% return %} in it
	 * returns something else) */
	buf_puts(&code, " return _w");
	return buf_detach(&code);
}

/* ---- helpers ---- */

/* url, abs_url: the site is their upvalue */
static const tpl_site *S_site(lua_State *L)
{
	return lua_touserdata(L, lua_upvalueindex(1));
}

/* The HTML escape of byte c, NULL for bytes that stand as they are. */
/* How much longer each byte gets when HTML-escaped. */
static const unsigned char S_html_extra[256] = {['&'] = 4, ['<'] = 3, ['>'] = 3, ['"'] = 5, ['\''] = 4};

/* Nonzero when a byte of w lies strictly between m and n (both at most
 * 0x80): the ASCII bytes only, as in "Bit Twiddling Hacks". */
static uint64_t S_has_between(uint64_t w, uint64_t m, uint64_t n)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t x = w & 0x7F * ones;
	return ((127 + n) * ones - x) & ~w & (x + (127 - m) * ones) & 0x80 * ones;
}

static size_t S_escaped_extra(const char *s, size_t len)
{
	size_t extra = 0, i = 0;
	/* eight bytes at a time: those with no byte from " to ' or from < to >
	 * (Chinese text, digits, letters, '/' and '.' of paths) are skipped */
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if (!(S_has_between(w, 0x21, 0x28) | S_has_between(w, 0x3B, 0x3F)))
			continue;
		for (size_t k = i; k < i + 8; k++)
			extra += S_html_extra[(unsigned char)s[k]];
	}
	for (; i < len; i++)
		extra += S_html_extra[(unsigned char)s[i]];
	return extra;
}


static const char *S_html_entity(unsigned char c, size_t *n)
{
	switch (c) {
	case '&': *n = 5; return "&amp;";
	case '<': *n = 4; return "&lt;";
	case '>': *n = 4; return "&gt;";
	case '"': *n = 6; return "&quot;";
	case '\'': *n = 5; return "&#39;";
	default: return NULL;
	}
}

/* Writes s with &, <, >, " and ' as entities to d (room for it made). */
static void S_escape_to(char *d, const char *s, size_t len)
{
	size_t n;
	for (size_t i = 0; i < len; i++) {
		const char *ent = S_html_entity((unsigned char)s[i], &n);
		if (ent) {
			memcpy(d, ent, n);
			d += n;
		} else {
			*d++ = s[i];
		}
	}
}

static int S_esc(lua_State *L)
{
	size_t len;
	const char *s;
	if (lua_type(L, 1) == LUA_TSTRING) {
		s = lua_tolstring(L, 1, &len);
		lua_settop(L, 1);
	} else {
		s = script_tostr(L, 1, &len);
	}
	size_t extra = S_escaped_extra(s, len);
	if (!extra)
		return 1; /* nothing to escape: the string itself */
	luaL_Buffer b;
	S_escape_to(luaL_buffinitsize(L, &b, len + extra), s, len);
	luaL_pushresultsize(&b, len + extra);
	return 1;
}

/* _w(s, …): appends its arguments (strings) to the output under way */
static int S_write(lua_State *L)
{
	tpl_engine *e = lua_touserdata(L, lua_upvalueindex(1));
	if (!e || !e->out)
		return luaL_error(L, "template output outside of rendering");
	int n = lua_gettop(L);
	for (int i = 1; i <= n; i++) {
		size_t len;
		const char *s = lua_tolstring(L, i, &len);
		if (s)
			buf_put(e->out, s, len);
	}
	return 0;
}

/* Appends s HTML-escaped. */
static void S_put_escaped(buf *out, const char *s, size_t len)
{
	size_t extra = S_escaped_extra(s, len);
	buf_grow(out, len + extra);
	char *d = out->ptr + out->len;
	if (!extra)
		memcpy(d, s, len);
	else
		S_escape_to(d, s, len);
	out->len += len + extra;
	out->ptr[out->len] = '\0';
}

/* _e(desc, …) and _s(desc, …): append their arguments to the output under
 * way; desc has one letter for each, l for literal text (a string), v for
 * a value, turned into text as {{ }} does, HTML-escaped by _e (upvalue 2
 * true) and raw by _s. */
static int S_write_values(lua_State *L)
{
	tpl_engine *e = lua_touserdata(L, lua_upvalueindex(1));
	int escape = lua_toboolean(L, lua_upvalueindex(2));
	if (!e || !e->out)
		return luaL_error(L, "template output outside of rendering");
	size_t ndesc;
	const char *desc = lua_tolstring(L, 1, &ndesc);
	int n = lua_gettop(L);
	if (!desc || ndesc != (size_t)(n - 1))
		return luaL_error(L, "template output: bad description");
	for (int i = 2; i <= n; i++) {
		size_t len;
		const char *s;
		if (desc[i - 2] == 'l' || lua_type(L, i) == LUA_TSTRING) {
			s = lua_tolstring(L, i, &len);
		} else {
			s = script_tostr(L, i, &len);
			lua_replace(L, i); /* keep it while it is used */
		}
		if (desc[i - 2] == 'v' && escape)
			S_put_escaped(e->out, s, len);
		else
			buf_put(e->out, s, len);
	}
	return 0;
}

static int S_is_external(const char *p)
{
	switch (p[0]) {
	case '#': return 1;
	case '/': return p[1] == '/';
	case 'h': return str_starts_with(p, "http://") || str_starts_with(p, "https://");
	case 'm': return str_starts_with(p, "mailto:");
	default: return 0;
	}
}

/* Pushes url(path); path is the string at index 1. */
/* Pushes base (ending in '/') followed by path without its leading '/'. */
static void S_push_below(lua_State *L, const char *base, const char *path)
{
	while (*path == '/')
		path++;
	size_t a = strlen(base), b = strlen(path);
	luaL_Buffer lb;
	char *d = luaL_buffinitsize(L, &lb, a + b);
	memcpy(d, base, a);
	memcpy(d + a, path, b);
	luaL_pushresultsize(&lb, a + b);
}

static void S_push_url(lua_State *L, const char *path)
{
	const tpl_site *site = S_site(L);
	if (S_is_external(path)) {
		lua_pushvalue(L, 1);
		return;
	}
	if (path[0] == '/' && site->base_path[0] == '/' && site->base_path[1] == '\0') {
		lua_pushvalue(L, 1); /* "/x" under the root: "/x" itself */
		return;
	}
	S_push_below(L, site->base_path, path);
}

static int S_url(lua_State *L)
{
	S_push_url(L, luaL_checkstring(L, 1));
	return 1;
}

static int S_abs_url(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	const tpl_site *site = S_site(L);
	if (S_is_external(path)) {
		lua_pushvalue(L, 1);
		return 1;
	}
	S_push_below(L, site->base_url, path);
	return 1;
}

/* Writes v in decimal at p; returns the end. */
static char *S_put_int(char *p, long long v)
{
	char tmp[24];
	int n = 0;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*p++ = '-';
	while (n)
		*p++ = tmp[--n];
	return p;
}

static int S_date_cn(lua_State *L)
{
	if (lua_isnoneornil(L, 1)) {
		lua_pushliteral(L, "");
		return 1;
	}
	const char *s = luaL_checkstring(L, 1);
	jb_date d;
	if (date_parse_iso(s, &d) < 0)
		return luaL_error(L, "date_cn: '%s' is not a YYYY-MM-DD date", s);
	char out[64], *o = out;
	o = S_put_int(o, d.year);
	memcpy(o, "年", 3);
	o = S_put_int(o + 3, d.month);
	memcpy(o, "月", 3);
	o = S_put_int(o + 3, d.day);
	memcpy(o, "日", 3);
	lua_pushlstring(L, out, (size_t)(o + 3 - out));
	return 1;
}

/* issue_line's upvalues 1-3: the keys "year", "issue", "total" */
static lua_Integer S_int_field(lua_State *L, int t, int key)
{
	lua_pushvalue(L, lua_upvalueindex(key));
	lua_gettable(L, t);
	lua_Integer v = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : (lua_Integer)lua_tonumber(L, -1);
	lua_pop(L, 1);
	return v;
}

static int S_issue_line(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_Integer year = S_int_field(L, 1, 1);
	lua_Integer issue = S_int_field(L, 1, 2);
	lua_Integer total = S_int_field(L, 1, 3);
	char s[128], *o = s;
	if (year > 0) {
		o = S_put_int(o, (long long)year);
		memcpy(o, "年", 3);
		o += 3;
	}
	if (issue > 0) {
		memcpy(o, "第", 3);
		o = S_put_int(o + 3, (long long)issue);
		memcpy(o, "期", 3);
		o += 3;
	}
	if (total > 0) {
		if (year > 0 || issue > 0)
			*o++ = ' ';
		memcpy(o, "总第", 6);
		o = S_put_int(o + 6, (long long)total);
		memcpy(o, "期", 3);
		o += 3;
	}
	lua_pushlstring(L, s, (size_t)(o - s));
	return 1;
}

static int S_truncate(lua_State *L)
{
	size_t len;
	const char *s = luaL_optlstring(L, 1, "", &len);
	lua_Integer n = luaL_checkinteger(L, 2);
	const char *ellipsis = luaL_optstring(L, 3, "…");
	if (n < 0)
		n = 0;
	if (utf8_length(s, len) <= (size_t)n) {
		lua_settop(L, 1);
		if (lua_isnil(L, 1))
			lua_pushliteral(L, "");
		return 1;
	}
	size_t cut = utf8_offset(s, len, (size_t)n);
	while (cut > 0 && s[cut - 1] == ' ')
		cut--;
	lua_pushlstring(L, s, cut);
	lua_pushstring(L, ellipsis);
	lua_concat(L, 2);
	return 1;
}

static int S_include(lua_State *L);
static int S_include_here(lua_State *L);
static int S_include_cached(lua_State *L);
static int S_render(tpl_engine *e, const char *name, buf *out);
/* JIANBAO_PROFILE=1: time spent per template, printed by tpl_free */
static strmap S_profile;

void tpl_register_helpers(lua_State *L, int idx, const tpl_site *site)
{
	idx = lua_absindex(L, idx);
	static const luaL_Reg fns[] = {
		{"esc", S_esc},          {"url", S_url},           {"abs_url", S_abs_url},
		{"date_cn", S_date_cn},  {"issue_line", S_issue_line}, {"truncate", S_truncate},
	};
	for (size_t i = 0; i < JB_ARRAY_LEN(fns); i++) {
		if (fns[i].func == S_issue_line) {
			lua_pushliteral(L, "year");
			lua_pushliteral(L, "issue");
			lua_pushliteral(L, "total");
			lua_pushcclosure(L, fns[i].func, 3);
		} else {
			/* the site (only url and abs_url use it) */
			lua_pushlightuserdata(L, (void *)(uintptr_t)site);
			lua_pushcclosure(L, fns[i].func, 1);
		}
		lua_setfield(L, idx, fns[i].name);
	}
}

/* ---- engine ---- */

static void S_push_call_args(tpl_engine *e);

/* include's engine, its upvalue (NULL once the engine is freed) */
static tpl_engine *S_engine(lua_State *L)
{
	tpl_engine *e = lua_touserdata(L, lua_upvalueindex(1));
	luaL_argcheck(L, e != NULL, 1, "no template engine");
	return e;
}

tpl_engine *tpl_new(lua_State *L, theme *th, const tpl_site *site)
{
	tpl_engine *e = xcalloc(1, sizeof *e);
	e->L = L;
	e->theme = th;
	e->site = *site;
	script_set_ctx(L, S_CTX_KEY, e);

	lua_newtable(L);
	e->cache_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_pushlightuserdata(L, e);
	lua_pushcclosure(L, S_write, 1);
	e->write_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	for (int escape = 0; escape < 2; escape++) {
		lua_pushlightuserdata(L, e);
		lua_pushboolean(L, escape);
		lua_pushcclosure(L, S_write_values, 2);
		e->values_ref[escape] = luaL_ref(L, LUA_REGISTRYINDEX);
	}

	script_push_env(L);
	tpl_register_helpers(L, -1, &e->site);
	hooks_register_helpers(L, -1);
	/* include's upvalues: see S_do_include */
	lua_pushlightuserdata(L, e);
	lua_pushliteral(L, "args");
	lua_pushvalue(L, -3); /* env */
	lua_rawgeti(L, LUA_REGISTRYINDEX, e->cache_ref);
	lua_pushcclosure(L, S_include, 4);
	lua_pushvalue(L, -1);
	e->include_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	/* _i: the same, and include itself */
	lua_pushlightuserdata(L, e);
	lua_pushliteral(L, "args");
	lua_pushvalue(L, -4); /* env */
	lua_rawgeti(L, LUA_REGISTRYINDEX, e->cache_ref);
	lua_pushvalue(L, -5); /* include */
	lua_pushcclosure(L, S_include_here, 5);
	e->here_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_setfield(L, -2, "include");
	lua_pushlightuserdata(L, e);
	lua_pushliteral(L, "args");
	lua_pushvalue(L, -3); /* env */
	lua_rawgeti(L, LUA_REGISTRYINDEX, e->cache_ref);
	lua_newtable(L);
	lua_newtable(L);
	lua_pushcclosure(L, S_include_cached, 6);
	lua_setfield(L, -2, "include_cached");
	lua_pushliteral(L, "");
	lua_setfield(L, -2, "content");
	lua_newtable(L);
	lua_setfield(L, -2, "args");
	e->env_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	return e;
}

void tpl_free(tpl_engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < S_profile.cap; i++)
		if (S_profile.slots[i].key) {
			double *acc = S_profile.slots[i].value;
			fprintf(stderr, "profile: %-32s %8.0f calls %9.3f s\n", S_profile.slots[i].key, acc[1], acc[0]);
		}
	strmap_free(&S_profile, free);
	/* templates may still hold _w and include: they find no engine now */
	lua_State *L = e->L;
	int refs[] = {e->write_ref, e->values_ref[0], e->values_ref[1], e->include_ref, e->here_ref};
	for (size_t i = 0; i < JB_ARRAY_LEN(refs); i++) {
		lua_rawgeti(L, LUA_REGISTRYINDEX, refs[i]);
		lua_pushlightuserdata(L, NULL);
		lua_setupvalue(L, -2, 1);
		lua_pop(L, 1);
		luaL_unref(L, LUA_REGISTRYINDEX, refs[i]);
	}
	luaL_unref(L, LUA_REGISTRYINDEX, e->env_ref);
	luaL_unref(L, LUA_REGISTRYINDEX, e->cache_ref);
	strmap_free(&e->sizes, NULL);
	for (size_t i = 0; i < e->ntokens && e->notes.drop; i++)
		e->notes.drop(e->tokens[i]);
	free(e->tokens);
	script_set_ctx(L, S_CTX_KEY, NULL);
	free(e);
}

void tpl_push_env(tpl_engine *e)
{
	lua_rawgeti(e->L, LUA_REGISTRYINDEX, e->env_ref);
}

void tpl_set(tpl_engine *e, const char *name)
{
	lua_State *L = e->L;
	tpl_push_env(e);
	lua_insert(L, -2);
	lua_setfield(L, -2, name);
	lua_pop(L, 1);
}

/* Pushes the compiled template, compiling it on first use.  Returns 0,
 * 1 when missing (pushes nothing), or -1 with an error message pushed.
 * name_idx, when not 0, is where name is on the stack as a string. */
static int S_get(tpl_engine *e, const char *name, int name_idx)
{
	lua_State *L = e->L;
	lua_rawgeti(L, LUA_REGISTRYINDEX, e->cache_ref);
	if (name_idx) {
		lua_pushvalue(L, name_idx);
		lua_rawget(L, -2);
	} else {
		lua_getfield(L, -1, name);
	}
	if (lua_isfunction(L, -1)) {
		lua_remove(L, -2);
		return 0;
	}
	lua_pop(L, 1); /* cache */
	char *data = NULL;
	size_t len = 0;
	int rc = theme_read(e->theme, name, &data, &len);
	if (rc != 0) {
		lua_pop(L, 1);
		if (rc < 0) {
			lua_pushfstring(L, "cannot read template %s", name);
			return -1;
		}
		return 1;
	}
	char *display = theme_display_path(e->theme, name);
	char *err = NULL;
	int line = 0, col = 0;
	char *code = tpl_translate(data, len, &err, &line, &col);
	free(data);
	if (!code) {
		lua_pop(L, 1);
		lua_pushfstring(L, "%s:%d:%d: %s", display, line, col, err);
		free(err);
		free(display);
		return -1;
	}
	tpl_push_env(e);
	rc = script_load(L, display, code, strlen(code), -1);
	free(code);
	free(display);
	lua_remove(L, -2); /* env */
	if (rc != LUA_OK) {
		lua_remove(L, -2); /* cache */
		return -1;
	}
	lua_pushvalue(L, -1);
	lua_setfield(L, -3, name); /* cache[name] = fn */
	lua_remove(L, -2);
	return 0;
}

static void S_push_call_args(tpl_engine *e)
{
	lua_State *L = e->L;
	lua_rawgeti(L, LUA_REGISTRYINDEX, e->values_ref[1]);
	lua_rawgeti(L, LUA_REGISTRYINDEX, e->values_ref[0]);
	lua_rawgeti(L, LUA_REGISTRYINDEX, e->write_ref);
	lua_rawgeti(L, LUA_REGISTRYINDEX, e->here_ref);
}

/* Whether the template function's result (on top) says it ran to its
 * end: it returns _w then. */
static int S_ran_to_end(lua_State *L)
{
	return lua_tocfunction(L, -1) == S_write;
}

/* include(name [, args]) and its form that writes in place.  Upvalues:
 * 1 the engine, 2 "args", 3 the environment, 4 the compiled templates.
 * The partial writes after what is in the output; include then cuts its
 * part off again as the result, in place it stays where it is. */
static int S_do_include(lua_State *L, int here)
{
	tpl_engine *e = S_engine(L);
	const char *name = luaL_checkstring(L, 1);
	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	if (e->depth >= S_MAX_INCLUDE_DEPTH)
		return luaL_error(L, "include: templates nested deeper than %d (recursive include of %s?)",
		                  S_MAX_INCLUDE_DEPTH, name);
	if (here && !e->out)
		return luaL_error(L, "template output outside of rendering");
	lua_settop(L, 2);
	int rc;
	lua_pushvalue(L, 1);
	if (lua_rawget(L, lua_upvalueindex(4)) == LUA_TFUNCTION) {
		rc = 0;
	} else {
		lua_pop(L, 1);
		rc = S_get(e, name, 1);
	}
	if (rc == 1)
		return luaL_error(L, "include: no template %s in theme %s", name, theme_name(e->theme));
	if (rc < 0)
		return lua_error(L);
	/* stack: name, args?, fn */
	lua_pushvalue(L, lua_upvalueindex(3)); /* env */
	lua_pushvalue(L, lua_upvalueindex(2)); /* "args" */
	lua_gettable(L, -2);
	int saved = lua_gettop(L);
	lua_pushvalue(L, lua_upvalueindex(2));
	if (lua_istable(L, 2))
		lua_pushvalue(L, 2);
	else
		lua_newtable(L);
	lua_settable(L, saved - 1);
	lua_pushvalue(L, saved - 2); /* fn */
	S_push_call_args(e);
	buf tmp = BUF_INIT, *out = e->out ? e->out : &tmp;
	buf *outer = e->out;
	size_t start = out->len;
	e->out = out;
	e->depth++;
	int status = lua_pcall(L, 4, 1, 0);
	e->depth--;
	e->out = outer;
	int ran = status == LUA_OK && S_ran_to_end(L);
	if (here && status == LUA_OK) {
		if (!ran) {
			/* a {% return x %}: x is what the partial gives */
			size_t len;
			const char *s = script_tostr(L, -1, &len);
			buf_truncate(out, start);
			buf_put(out, s, len);
		}
	} else {
		if (ran) {
			lua_pop(L, 1);
			lua_pushlstring(L, out->ptr ? out->ptr + start : "", out->len - start);
		}
		if (out->ptr)
			buf_truncate(out, start);
	}
	buf_free(&tmp);
	/* restore args whatever happened */
	lua_pushvalue(L, lua_upvalueindex(2));
	lua_pushvalue(L, saved);
	lua_settable(L, saved - 1);
	if (status != LUA_OK)
		return lua_error(L);
	return here ? 0 : 1;
}

static int S_include(lua_State *L)
{
	return S_do_include(L, 0);
}

/* include_cached(name, key, args): upvalues as include's, and 5 the
 * cache: name → { [key] = text }, and 6: name → { [key] = notes token }. */
static int S_include_cached(lua_State *L)
{
	tpl_engine *e = S_engine(L);
	luaL_checkstring(L, 1);
	luaL_checkany(L, 2);
	if (!lua_isnoneornil(L, 3))
		luaL_checktype(L, 3, LUA_TTABLE);
	lua_settop(L, 3);
	if (lua_type(L, 2) != LUA_TSTRING && lua_type(L, 2) != LUA_TNUMBER)
		luaL_tolstring(L, 2, NULL), lua_replace(L, 2);
	/* 4: the texts made of this partial, 5: their notes */
	for (int t = 5; t <= 6; t++) {
		lua_pushvalue(L, 1);
		if (lua_rawget(L, lua_upvalueindex(t)) != LUA_TTABLE) {
			lua_pop(L, 1);
			lua_newtable(L);
			lua_pushvalue(L, 1);
			lua_pushvalue(L, -2);
			lua_rawset(L, lua_upvalueindex(t));
		}
	}
	lua_pushvalue(L, 2);
	if (lua_rawget(L, 4) == LUA_TSTRING) {
		lua_pushvalue(L, 2);
		lua_rawget(L, 5);
		const void *token = lua_touserdata(L, -1);
		if (e->notes.replay && token)
			e->notes.replay(e->notes.ctx, token);
		lua_pop(L, 1);
		return 1;
	}
	lua_pop(L, 1);
	/* made with no page: what it shows may only come from its args */
	lua_pushliteral(L, "page");
	lua_rawget(L, lua_upvalueindex(3));
	int page = lua_gettop(L);
	lua_pushliteral(L, "page");
	lua_pushnil(L);
	lua_rawset(L, lua_upvalueindex(3));
	if (e->notes.begin)
		e->notes.begin(e->notes.ctx);
	/* include itself, with the same upvalues */
	for (int u = 1; u <= 4; u++)
		lua_pushvalue(L, lua_upvalueindex(u));
	lua_pushcclosure(L, S_include, 4);
	lua_pushvalue(L, 1);
	lua_pushvalue(L, 3);
	int status = lua_pcall(L, 2, 1, 0);
	void *token = e->notes.end ? e->notes.end(e->notes.ctx) : NULL;
	lua_pushliteral(L, "page");
	lua_pushvalue(L, page);
	lua_rawset(L, lua_upvalueindex(3));
	if (status != LUA_OK) {
		if (e->notes.drop && token)
			e->notes.drop(token);
		return lua_error(L);
	}
	lua_pushvalue(L, 2);
	lua_pushvalue(L, -2);
	lua_rawset(L, 4);
	if (token) {
		e->tokens = xrealloc(e->tokens, (e->ntokens + 1) * sizeof *e->tokens);
		e->tokens[e->ntokens++] = token;
		lua_pushvalue(L, 2);
		lua_pushlightuserdata(L, token);
		lua_rawset(L, 5);
	}
	return 1;
}

void tpl_set_notes(tpl_engine *e, const tpl_notes *notes)
{
	e->notes = notes ? *notes : (tpl_notes){0};
}

/* _i(f, name, args): {{{ include(name, args) }}} in a template.  When f
 * is the include function (upvalue 5), the partial writes its output in
 * place; a template that names another function include gets its result
 * written as {{{ }}} would. */
static int S_include_here(lua_State *L)
{
	if (lua_rawequal(L, 1, lua_upvalueindex(5))) {
		lua_remove(L, 1);
		return S_do_include(L, 1);
	}
	tpl_engine *e = S_engine(L);
	if (!e->out)
		return luaL_error(L, "template output outside of rendering");
	lua_call(L, lua_gettop(L) - 1, 1);
	size_t len;
	const char *s = script_tostr(L, -1, &len);
	buf_put(e->out, s, len);
	return 0;
}

static double S_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int tpl_render(tpl_engine *e, const char *name, buf *out)
{
	static int profile = -1;
	if (profile < 0)
		profile = getenv("JIANBAO_PROFILE") != NULL;
	if (profile) {
		double t0 = S_clock();
		e->depth = 0;
		int rc = S_render(e, name, out);
		double *acc = strmap_get(&S_profile, name);
		if (!acc) {
			acc = xcalloc(2, sizeof(double));
			strmap_put(&S_profile, name, acc);
		}
		acc[0] += S_clock() - t0;
		acc[1] += 1;
		return rc;
	}
	return S_render(e, name, out);
}

static int S_render(tpl_engine *e, const char *name, buf *out)
{
	lua_State *L = e->L;
	int top = lua_gettop(L);
	int rc = S_get(e, name, 0);
	if (rc == 1)
		return 1;
	if (rc < 0) {
		script_report(L, NULL);
		lua_settop(L, top);
		return -1;
	}
	S_push_call_args(e);
	buf *outer = e->out;
	size_t start = out->len;
	/* room for as much as the last time, up to a limit: the buffer
	 * then seldom grows while the template writes */
	size_t hint = (size_t)(uintptr_t)strmap_get(&e->sizes, name);
	if (hint)
		buf_grow(out, hint + hint / 8 < S_SIZE_HINT_MAX ? hint + hint / 8 : S_SIZE_HINT_MAX);
	e->out = out;
	int status = script_docall(L, 4, 1);
	e->out = outer;
	if (status == LUA_OK && out->len - start != hint)
		strmap_put(&e->sizes, name, (void *)(uintptr_t)(out->len - start));
	if (status != LUA_OK) {
		if (out->ptr)
			buf_truncate(out, start);
		script_report(L, NULL);
		lua_settop(L, top);
		return -1;
	}
	if (!S_ran_to_end(L)) {
		/* a {% return x %}: x is the output */
		if (out->ptr)
			buf_truncate(out, start);
		size_t len;
		const char *s = lua_tolstring(L, -1, &len);
		buf_put(out, s, len);
	}
	lua_settop(L, top);
	return 0;
}
