/* The print style: built-in defaults (GB/T 9704) and themes/<name>/print.lua. */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "script.h"
#include "typeset.h"

/* CJK families first: a Latin family first would capture “ ” as half-width
 * quotes.  FandolFang is the only free 仿宋 (texlive-lang-chinese); when it is
 * not installed fontconfig skips it. */
#define S_SERIF "Noto Serif CJK SC"
#define S_SANS "Noto Sans CJK SC"
#define S_KAI "AR PL UKai CN"

static const struct {
	const char *key;
	size_t off;
	const char *dflt;
} S_fonts[] = {
	{"body", offsetof(print_style, font_body), S_SERIF ", " S_SANS},
	{"title", offsetof(print_style, font_title), S_SERIF ", " S_SANS},
	{"masthead", offsetof(print_style, font_masthead), S_SERIF ", " S_SANS},
	{"hei", offsetof(print_style, font_hei), S_SANS ", " S_SERIF},
	{"kai", offsetof(print_style, font_kai), S_KAI ", " S_SERIF},
	{"mono", offsetof(print_style, font_mono), "Noto Sans Mono CJK SC, " S_SANS},
};

static const struct {
	const char *key;
	size_t off;
	double dflt, min, max;
} S_numbers[] = {
	{"body", offsetof(print_style, size_body), 16, 6, 40},          /* 三号 */
	{"title", offsetof(print_style, size_title), 22, 8, 60},        /* 二号 */
	{"subtitle", offsetof(print_style, size_subtitle), 16, 6, 40},  /* 三号 */
	{"masthead", offsetof(print_style, size_masthead), 36, 10, 80}, /* 小初 */
	{"issuer", offsetof(print_style, size_issuer), 36, 10, 80},     /* 发文机关标志 */
	{"small", offsetof(print_style, size_small), 14, 6, 30},        /* 四号 */
	{"caption", offsetof(print_style, size_caption), 12, 6, 30},    /* 小四 */
	{"table", offsetof(print_style, size_table), 12, 6, 30},
	{"code", offsetof(print_style, size_code), 10.5, 5, 30},        /* 五号 */
};

static const struct {
	const char *key;
	size_t off;
	double dflt, min, max;
} S_lengths[] = {
	{"top", offsetof(print_style, margin_top), 37, 5, 100},
	{"left", offsetof(print_style, margin_left), 28, 5, 100},
	{"width", offsetof(print_style, text_width), 156, 50, 200},
	{"height", offsetof(print_style, text_height), 225, 50, 280},
	{"page_number_gap", offsetof(print_style, page_number_gap), 7, 0, 30},
};

static const struct {
	const char *key;
	size_t off;
	unsigned dflt;
} S_colours[] = {
	{"red", offsetof(print_style, red), 0xE0332B},
	{"text", offsetof(print_style, text_colour), 0x000000},
	{"link", offsetof(print_style, link_colour), 0x000000},
};

#define S_FIELD(s, off, type) ((type *)(void *)((char *)(s) + (off)))

void print_style_defaults(print_style *s)
{
	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < JB_ARRAY_LEN(S_fonts); i++)
		*S_FIELD(s, S_fonts[i].off, char *) = xstrdup(S_fonts[i].dflt);
	for (size_t i = 0; i < JB_ARRAY_LEN(S_numbers); i++)
		*S_FIELD(s, S_numbers[i].off, double) = S_numbers[i].dflt;
	for (size_t i = 0; i < JB_ARRAY_LEN(S_lengths); i++)
		*S_FIELD(s, S_lengths[i].off, double) = S_lengths[i].dflt;
	for (size_t i = 0; i < JB_ARRAY_LEN(S_colours); i++)
		*S_FIELD(s, S_colours[i].off, unsigned) = S_colours[i].dflt;
	s->lines_per_page = 22;
	s->chars_per_line = 28;
}

void print_style_free(print_style *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < JB_ARRAY_LEN(S_fonts); i++)
		free(*S_FIELD(s, S_fonts[i].off, char *));
	memset(s, 0, sizeof *s);
}

/* A family list: a string, or a sequence of strings joined with ", ". */
static int S_font_list(lua_State *L, const char *file, const char *key, char **out)
{
	buf b = BUF_INIT;
	if (lua_type(L, -1) == LUA_TSTRING) {
		buf_puts(&b, lua_tostring(L, -1));
	} else if (lua_istable(L, -1)) {
		lua_Integer n = luaL_len(L, -1);
		for (lua_Integer i = 1; i <= n; i++) {
			lua_geti(L, -1, i);
			if (lua_type(L, -1) != LUA_TSTRING) {
				lua_pop(L, 1);
				buf_free(&b);
				diag_error(file, 0, 0, "print.fonts.%s[%lld] must be a font family name", key, (long long)i);
				return -1;
			}
			if (b.len)
				buf_puts(&b, ", ");
			buf_puts(&b, lua_tostring(L, -1));
			lua_pop(L, 1);
		}
	} else {
		diag_error(file, 0, 0, "print.fonts.%s must be a family name or a list of them", key);
		return -1;
	}
	if (!b.len) {
		diag_error(file, 0, 0, "print.fonts.%s is empty", key);
		return -1;
	}
	free(*out);
	*out = buf_detach(&b);
	return 0;
}

static int S_number(lua_State *L, const char *file, const char *table, const char *key, double min, double max,
                    double *out)
{
	if (!lua_isnumber(L, -1) || lua_type(L, -1) == LUA_TSTRING) {
		diag_error(file, 0, 0, "print.%s.%s must be a number", table, key);
		return -1;
	}
	double v = lua_tonumber(L, -1);
	if (!(v >= min && v <= max)) {
		diag_error(file, 0, 0, "print.%s.%s must be between %g and %g, got %g", table, key, min, max, v);
		return -1;
	}
	*out = v;
	return 0;
}

/* "#E0332B" or "E0332B" or 0xE0332B. */
static int S_colour(lua_State *L, const char *file, const char *key, unsigned *out)
{
	if (lua_isinteger(L, -1)) {
		lua_Integer v = lua_tointeger(L, -1);
		if (v >= 0 && v <= 0xFFFFFF) {
			*out = (unsigned)v;
			return 0;
		}
	} else if (lua_type(L, -1) == LUA_TSTRING) {
		const char *s = lua_tostring(L, -1);
		if (*s == '#')
			s++;
		char *end = NULL;
		unsigned long v = strtoul(s, &end, 16);
		if (strlen(s) == 6 && end && !*end) {
			*out = (unsigned)v;
			return 0;
		}
	}
	diag_error(file, 0, 0, "print.colours.%s must be a colour like \"#E0332B\"", key);
	return -1;
}

/* Reads the table at the top of the stack into s. */
static int S_read_table(lua_State *L, const char *file, print_style *s)
{
	int rc = 0;
	lua_getfield(L, -1, "fonts");
	if (lua_istable(L, -1)) {
		for (size_t i = 0; i < JB_ARRAY_LEN(S_fonts); i++) {
			lua_getfield(L, -1, S_fonts[i].key);
			if (!lua_isnil(L, -1) && S_font_list(L, file, S_fonts[i].key, S_FIELD(s, S_fonts[i].off, char *)) < 0)
				rc = -1;
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
	lua_getfield(L, -1, "sizes");
	if (lua_istable(L, -1)) {
		for (size_t i = 0; i < JB_ARRAY_LEN(S_numbers); i++) {
			lua_getfield(L, -1, S_numbers[i].key);
			if (!lua_isnil(L, -1) && S_number(L, file, "sizes", S_numbers[i].key, S_numbers[i].min,
			                                  S_numbers[i].max, S_FIELD(s, S_numbers[i].off, double)) < 0)
				rc = -1;
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
	lua_getfield(L, -1, "page");
	if (lua_istable(L, -1)) {
		for (size_t i = 0; i < JB_ARRAY_LEN(S_lengths); i++) {
			lua_getfield(L, -1, S_lengths[i].key);
			if (!lua_isnil(L, -1) && S_number(L, file, "page", S_lengths[i].key, S_lengths[i].min,
			                                  S_lengths[i].max, S_FIELD(s, S_lengths[i].off, double)) < 0)
				rc = -1;
			lua_pop(L, 1);
		}
		double v;
		lua_getfield(L, -1, "lines");
		if (!lua_isnil(L, -1)) {
			if (S_number(L, file, "page", "lines", 5, 60, &v) < 0)
				rc = -1;
			else
				s->lines_per_page = (int)v;
		}
		lua_pop(L, 1);
		lua_getfield(L, -1, "chars");
		if (!lua_isnil(L, -1)) {
			if (S_number(L, file, "page", "chars", 5, 60, &v) < 0)
				rc = -1;
			else
				s->chars_per_line = (int)v;
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	lua_getfield(L, -1, "colours");
	if (lua_istable(L, -1)) {
		for (size_t i = 0; i < JB_ARRAY_LEN(S_colours); i++) {
			lua_getfield(L, -1, S_colours[i].key);
			if (!lua_isnil(L, -1) && S_colour(L, file, S_colours[i].key, S_FIELD(s, S_colours[i].off, unsigned)) < 0)
				rc = -1;
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
	return rc;
}

int print_style_load(print_style *s, const char *file, const char *code, size_t len)
{
	print_style_defaults(s);
	script_limits lim = {.memory = 16u << 20, .budget = 10000000};
	lua_State *L = script_new(&lim);
	int rc = -1;
	script_push_env(L);
	if (script_load(L, file, code, len, -1) != 0) {
		script_report(L, NULL);
		goto out;
	}
	if (script_docall(L, 0, 1) != 0) {
		script_report(L, NULL);
		goto out;
	}
	if (!lua_istable(L, -1)) {
		diag_error(file, 0, 0, "print.lua must return a table, not %s", luaL_typename(L, -1));
		goto out;
	}
	rc = S_read_table(L, file, s);
out:
	script_close(L);
	if (rc < 0) {
		print_style_free(s);
		print_style_defaults(s);
	}
	return rc;
}
