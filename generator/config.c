#include "config.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "script.h"
#include "util.h"

#define S_SITE_KEY "jianbao.site"

void config_push_site(lua_State *L)
{
	lua_getfield(L, LUA_REGISTRYINDEX, S_SITE_KEY);
}

void config_free(site_config *c)
{
	free(c->file);
	free(c->title);
	free(c->base_url);
	free(c->base_path);
	free(c->language);
	free(c->theme);
	memset(c, 0, sizeof *c);
}

/* Reads site[key] as a string: 0 ok (or absent, *out unchanged), -1 wrong type. */
static int S_string_field(lua_State *L, const char *file, const char *key, char **out, int required)
{
	lua_getfield(L, -1, key);
	int t = lua_type(L, -1);
	int rc = 0;
	if (t == LUA_TSTRING) {
		free(*out);
		*out = xstrdup(lua_tostring(L, -1));
	} else if (t == LUA_TNIL) {
		if (required) {
			diag_error(file, 0, 0, "the site table needs a '%s' string", key);
			rc = -1;
		}
	} else {
		diag_error(file, 0, 0, "site.%s must be a string, not a %s", key, lua_typename(L, t));
		rc = -1;
	}
	lua_pop(L, 1);
	return rc;
}

static int S_int_field(lua_State *L, const char *file, const char *key, int *out, int min, int max)
{
	lua_getfield(L, -1, key);
	int rc = 0;
	if (lua_isinteger(L, -1)) {
		lua_Integer v = lua_tointeger(L, -1);
		if (v < min || v > max) {
			diag_error(file, 0, 0, "site.%s must be between %d and %d", key, min, max);
			rc = -1;
		} else {
			*out = (int)v;
		}
	} else if (!lua_isnil(L, -1)) {
		diag_error(file, 0, 0, "site.%s must be a whole number", key);
		rc = -1;
	}
	lua_pop(L, 1);
	return rc;
}

/* https://host/sub → base_url "https://host/sub/", base_path "/sub/";
 * "/sub" → base_url "/sub/" (relative site), base_path "/sub/". */
static int S_split_base_url(const char *file, const char *url, site_config *c)
{
	const char *path;
	if (str_starts_with(url, "https://") || str_starts_with(url, "http://")) {
		const char *host = strstr(url, "://") + 3;
		if (!*host || *host == '/') {
			diag_error(file, 0, 0, "site.base_url '%s' has no host", url);
			return -1;
		}
		path = strchr(host, '/');
		if (!path)
			path = "";
	} else if (url[0] == '/') {
		path = url;
	} else {
		diag_error(file, 0, 0, "site.base_url must start with https://, http:// or /, got '%s'", url);
		return -1;
	}
	for (const char *p = url; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '<' || *p == '>' || *p == '\\' || *p == '?' ||
		    *p == '#') {
			diag_error(file, 0, 0, "site.base_url '%s' contains a character not allowed there", url);
			return -1;
		}
	}
	size_t n = strlen(url);
	c->base_url = xasprintf("%s%s", url, n && url[n - 1] == '/' ? "" : "/");
	size_t pn = strlen(path);
	if (!pn)
		c->base_path = xstrdup("/");
	else
		c->base_path = xasprintf("%s%s", path, path[pn - 1] == '/' ? "" : "/");
	return 0;
}

int config_load(lua_State *L, source *src, const char *content_dir, const char *base_url_override,
                site_config *out)
{
	memset(out, 0, sizeof *out);
	out->file = path_join(content_dir, "site.lua");
	out->language = xstrdup("zh-CN");
	out->theme = xstrdup("default");
	out->feed_size = 20;
	out->home_size = 6;
	out->tz_offset = 8 * 60;
	out->pdf = 1;

	char *code = NULL;
	size_t len = 0;
	int rc = source_read(src, out->file, &code, &len);
	if (rc == 1) {
		diag_error(out->file, 0, 0, "not found: every site needs a site.lua that returns the site table "
		           "(e.g. return { title = \"…\", base_url = \"https://example.org/\" })");
		return -1;
	}
	if (rc < 0)
		return -1;

	int top = lua_gettop(L);
	script_push_env(L);
	if (script_load(L, out->file, code, len, -1) != LUA_OK) {
		free(code);
		script_report(L, NULL);
		lua_settop(L, top);
		return -1;
	}
	free(code);
	if (script_docall(L, 0, 1) != LUA_OK) {
		script_report(L, NULL);
		lua_settop(L, top);
		return -1;
	}
	if (!lua_istable(L, -1)) {
		diag_error(out->file, 0, 0, "must return the site table (a Lua table), not %s", luaL_typename(L, -1));
		lua_settop(L, top);
		return -1;
	}
	lua_setfield(L, LUA_REGISTRYINDEX, S_SITE_KEY);
	lua_settop(L, top);
	return config_read(L, base_url_override, out);
}

int config_read(lua_State *L, const char *base_url_override, site_config *out)
{
	int top = lua_gettop(L);
	config_push_site(L);
	free(out->title);
	free(out->base_url);
	free(out->base_path);
	out->title = out->base_url = out->base_path = NULL;
	int bad = 0;
	char *base_url = NULL;
	bad |= S_string_field(L, out->file, "title", &out->title, 1);
	bad |= S_string_field(L, out->file, "base_url", &base_url, 0);
	bad |= S_string_field(L, out->file, "language", &out->language, 0);
	bad |= S_string_field(L, out->file, "theme", &out->theme, 0);
	bad |= S_int_field(L, out->file, "feed_size", &out->feed_size, 1, 1000);
	bad |= S_int_field(L, out->file, "home_size", &out->home_size, 0, 1000);

	lua_getfield(L, -1, "allow_raw_html");
	if (lua_isboolean(L, -1))
		out->allow_raw_html = lua_toboolean(L, -1);
	else if (!lua_isnil(L, -1)) {
		diag_error(out->file, 0, 0, "site.allow_raw_html must be true or false");
		bad = 1;
	}
	lua_pop(L, 1);

	lua_getfield(L, -1, "timezone");
	if (!lua_isnil(L, -1)) {
		const char *tz = lua_tostring(L, -1);
		int h = 0, m = 0;
		char sign = 0, extra = 0;
		if (!lua_isstring(L, -1) || sscanf(tz, "%c%2d:%2d%c", &sign, &h, &m, &extra) != 3 ||
		    (sign != '+' && sign != '-') || h > 14 || m > 59 || strlen(tz) != 6) {
			diag_error(out->file, 0, 0, "site.timezone must look like \"+08:00\", got %s",
			           lua_isstring(L, -1) ? tz : luaL_typename(L, -1));
			bad = 1;
		} else {
			out->tz_offset = (sign == '-' ? -1 : 1) * (h * 60 + m);
		}
	}
	lua_pop(L, 1);

	lua_getfield(L, -1, "pdf");
	if (lua_isboolean(L, -1))
		out->pdf = lua_toboolean(L, -1);
	else if (!lua_isnil(L, -1)) {
		diag_error(out->file, 0, 0, "site.pdf must be true or false");
		bad = 1;
	}
	lua_pop(L, 1);

	lua_getfield(L, -1, "menus");
	if (!lua_isnil(L, -1) && !lua_istable(L, -1)) {
		diag_error(out->file, 0, 0, "site.menus must be a table of menus ({ main = { {name=…, url=…}, … } })");
		bad = 1;
	}
	lua_pop(L, 1);

	if (base_url_override) {
		free(base_url);
		base_url = xstrdup(base_url_override);
	}
	if (!bad && S_split_base_url(base_url_override ? "--base-url" : out->file, base_url ? base_url : "/", out) < 0)
		bad = 1;
	free(base_url);
	if (!bad) {
		/* Normalised values back into the table templates see. */
		lua_pushstring(L, out->base_url);
		lua_setfield(L, -2, "base_url");
		lua_pushstring(L, out->language);
		lua_setfield(L, -2, "language");
	}
	lua_settop(L, top);
	return bad ? -1 : 0;
}
