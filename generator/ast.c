#include "ast.h"

#include <cmark-gfm-core-extensions.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Node types of the GFM extensions, exported by libcmark-gfm-extensions
 * but not declared in its headers. */
extern cmark_node_type CMARK_NODE_TABLE, CMARK_NODE_TABLE_ROW, CMARK_NODE_TABLE_CELL, CMARK_NODE_STRIKETHROUGH;

typedef struct type_name {
	const char *name;
	cmark_node_type type;
} type_name;

static size_t S_types(const type_name **out)
{
	static type_name t[26];
	static size_t n;
	if (!n) {
		cmark_gfm_core_extensions_ensure_registered();
		const type_name base[] = {
			{"document", CMARK_NODE_DOCUMENT},         {"block_quote", CMARK_NODE_BLOCK_QUOTE},
			{"list", CMARK_NODE_LIST},                 {"item", CMARK_NODE_ITEM},
			{"code_block", CMARK_NODE_CODE_BLOCK},     {"html_block", CMARK_NODE_HTML_BLOCK},
			{"custom_block", CMARK_NODE_CUSTOM_BLOCK}, {"paragraph", CMARK_NODE_PARAGRAPH},
			{"heading", CMARK_NODE_HEADING},           {"thematic_break", CMARK_NODE_THEMATIC_BREAK},
			{"text", CMARK_NODE_TEXT},                 {"softbreak", CMARK_NODE_SOFTBREAK},
			{"linebreak", CMARK_NODE_LINEBREAK},       {"code", CMARK_NODE_CODE},
			{"html_inline", CMARK_NODE_HTML_INLINE},   {"custom_inline", CMARK_NODE_CUSTOM_INLINE},
			{"emph", CMARK_NODE_EMPH},                 {"strong", CMARK_NODE_STRONG},
			{"link", CMARK_NODE_LINK},                 {"image", CMARK_NODE_IMAGE},
			{"table", CMARK_NODE_TABLE},               {"table_row", CMARK_NODE_TABLE_ROW},
			{"table_cell", CMARK_NODE_TABLE_CELL},     {"strikethrough", CMARK_NODE_STRIKETHROUGH},
		};
		memcpy(t, base, sizeof base);
		n = JB_ARRAY_LEN(base);
	}
	*out = t;
	return n;
}

static const char *S_type_name(cmark_node_type type)
{
	const type_name *t;
	size_t n = S_types(&t);
	for (size_t i = 0; i < n; i++)
		if (t[i].type == type)
			return t[i].name;
	return NULL;
}

cmark_node_type ast_type_from_name(const char *name)
{
	const type_name *t;
	size_t n = S_types(&t);
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return t[i].type;
	return CMARK_NODE_NONE;
}

static void S_set(lua_State *L, const char *k, const char *v)
{
	if (v) {
		lua_pushstring(L, v);
		lua_setfield(L, -2, k);
	}
}

void ast_push(lua_State *L, cmark_node *node, int first_line)
{
	luaL_checkstack(L, 8, "Markdown tree too deep");
	cmark_node_type type = cmark_node_get_type(node);
	const char *name = S_type_name(type);
	lua_createtable(L, 0, 4);
	lua_pushstring(L, name ? name : cmark_node_get_type_string(node));
	lua_setfield(L, -2, "type");
	int line = cmark_node_get_start_line(node);
	if (line > 0) {
		lua_pushinteger(L, line + first_line - 1);
		lua_setfield(L, -2, "line");
	}
	if (type == CMARK_NODE_HEADING) {
		lua_pushinteger(L, cmark_node_get_heading_level(node));
		lua_setfield(L, -2, "level");
	} else if (type == CMARK_NODE_LIST) {
		int ordered = cmark_node_get_list_type(node) == CMARK_ORDERED_LIST;
		S_set(L, "list_type", ordered ? "ordered" : "bullet");
		if (ordered) {
			lua_pushinteger(L, cmark_node_get_list_start(node));
			lua_setfield(L, -2, "start");
			S_set(L, "delim", cmark_node_get_list_delim(node) == CMARK_PAREN_DELIM ? "paren" : "period");
		}
		lua_pushboolean(L, cmark_node_get_list_tight(node));
		lua_setfield(L, -2, "tight");
	} else if (type == CMARK_NODE_CODE_BLOCK) {
		S_set(L, "literal", cmark_node_get_literal(node));
		S_set(L, "info", cmark_node_get_fence_info(node));
	} else if (type == CMARK_NODE_TEXT || type == CMARK_NODE_CODE || type == CMARK_NODE_HTML_BLOCK ||
	           type == CMARK_NODE_HTML_INLINE) {
		S_set(L, "literal", cmark_node_get_literal(node));
	} else if (type == CMARK_NODE_LINK || type == CMARK_NODE_IMAGE) {
		S_set(L, "url", cmark_node_get_url(node));
		S_set(L, "title", cmark_node_get_title(node));
	} else if (type == CMARK_NODE_CUSTOM_BLOCK || type == CMARK_NODE_CUSTOM_INLINE) {
		S_set(L, "on_enter", cmark_node_get_on_enter(node));
		S_set(L, "on_exit", cmark_node_get_on_exit(node));
	} else if (type == CMARK_NODE_TABLE) {
		uint16_t ncols = cmark_gfm_extensions_get_table_columns(node);
		uint8_t *al = cmark_gfm_extensions_get_table_alignments(node);
		lua_createtable(L, ncols, 0);
		for (uint16_t i = 0; i < ncols; i++) {
			const char *a = "";
			if (al) {
				if (al[i] == 'l')
					a = "left";
				else if (al[i] == 'c')
					a = "center";
				else if (al[i] == 'r')
					a = "right";
			}
			lua_pushstring(L, a);
			lua_rawseti(L, -2, i + 1);
		}
		lua_setfield(L, -2, "alignments");
	} else if (type == CMARK_NODE_TABLE_ROW) {
		lua_pushboolean(L, cmark_gfm_extensions_get_table_row_is_header(node));
		lua_setfield(L, -2, "header");
	}
	cmark_node *child = cmark_node_first_child(node);
	if (child || type == CMARK_NODE_DOCUMENT || type == CMARK_NODE_PARAGRAPH) {
		lua_newtable(L);
		lua_Integer i = 0;
		for (; child; child = cmark_node_next(child)) {
			ast_push(L, child, first_line);
			lua_rawseti(L, -2, ++i);
		}
		lua_setfield(L, -2, "children");
	}
}

/* ---- from Lua ---- */

typedef struct conv {
	lua_State *L;
	char *err;
	int depth;
} conv;

static const char *S_str_field(conv *c, int idx, const char *k, const char *type)
{
	lua_getfield(c->L, idx, k);
	const char *s = NULL;
	if (lua_type(c->L, -1) == LUA_TSTRING)
		s = lua_tostring(c->L, -1);
	else if (!lua_isnil(c->L, -1) && !c->err)
		c->err = xasprintf("field '%s' of a %s node must be a string, not a %s", k, type, luaL_typename(c->L, -1));
	lua_pop(c->L, 1);
	return s; /* valid while the node table holds it */
}

static lua_Integer S_int_field(conv *c, int idx, const char *k, lua_Integer dflt)
{
	lua_getfield(c->L, idx, k);
	lua_Integer v = dflt;
	int isnum = 0;
	if (!lua_isnil(c->L, -1)) {
		v = lua_tointegerx(c->L, -1, &isnum);
		if (!isnum && !c->err)
			c->err = xasprintf("field '%s' must be a whole number", k);
	}
	lua_pop(c->L, 1);
	return isnum ? v : dflt;
}

static int S_bool_field(conv *c, int idx, const char *k, int dflt)
{
	lua_getfield(c->L, idx, k);
	int v = lua_isnil(c->L, -1) ? dflt : lua_toboolean(c->L, -1);
	lua_pop(c->L, 1);
	return v;
}

static cmark_node *S_convert(conv *c, int idx);

static cmark_node *S_new_node(cmark_node_type type)
{
	const char *ext = NULL;
	if (type == CMARK_NODE_TABLE || type == CMARK_NODE_TABLE_ROW || type == CMARK_NODE_TABLE_CELL)
		ext = "table";
	else if (type == CMARK_NODE_STRIKETHROUGH)
		ext = "strikethrough";
	if (!ext)
		return cmark_node_new(type);
	return cmark_node_new_with_ext(type, cmark_find_syntax_extension(ext));
}

static cmark_node *S_convert(conv *c, int idx)
{
	lua_State *L = c->L;
	idx = lua_absindex(L, idx);
	if (!lua_istable(L, idx)) {
		c->err = xasprintf("expected a node table, got a %s", luaL_typename(L, idx));
		return NULL;
	}
	if (++c->depth > 200) {
		c->err = xstrdup("node tree nested too deeply");
		return NULL;
	}
	lua_getfield(L, idx, "type");
	const char *tname = lua_tostring(L, -1);
	cmark_node_type type = tname ? ast_type_from_name(tname) : CMARK_NODE_NONE;
	if (type == CMARK_NODE_NONE) {
		c->err = tname ? xasprintf("unknown node type '%s'", tname) : xstrdup("node without a 'type' field");
		lua_pop(L, 1);
		return NULL;
	}
	const char *name = S_type_name(type);
	lua_pop(L, 1);
	cmark_node *n = S_new_node(type);

	if (type == CMARK_NODE_HEADING) {
		lua_Integer level = S_int_field(c, idx, "level", 1);
		if (level < 1 || level > 6) {
			if (!c->err)
				c->err = xasprintf("heading level must be 1 to 6, got %lld", (long long)level);
		} else {
			cmark_node_set_heading_level(n, (int)level);
		}
	} else if (type == CMARK_NODE_LIST) {
		const char *lt = S_str_field(c, idx, "list_type", name);
		int ordered = lt && strcmp(lt, "ordered") == 0;
		cmark_node_set_list_type(n, ordered ? CMARK_ORDERED_LIST : CMARK_BULLET_LIST);
		if (ordered) {
			cmark_node_set_list_start(n, (int)S_int_field(c, idx, "start", 1));
			const char *d = S_str_field(c, idx, "delim", name);
			cmark_node_set_list_delim(n, d && strcmp(d, "paren") == 0 ? CMARK_PAREN_DELIM : CMARK_PERIOD_DELIM);
		}
		cmark_node_set_list_tight(n, S_bool_field(c, idx, "tight", 1));
	} else if (type == CMARK_NODE_CODE_BLOCK) {
		const char *lit = S_str_field(c, idx, "literal", name);
		const char *info = S_str_field(c, idx, "info", name);
		cmark_node_set_literal(n, lit ? lit : "");
		cmark_node_set_fence_info(n, info ? info : "");
	} else if (type == CMARK_NODE_TEXT || type == CMARK_NODE_CODE || type == CMARK_NODE_HTML_BLOCK ||
	           type == CMARK_NODE_HTML_INLINE) {
		const char *lit = S_str_field(c, idx, "literal", name);
		cmark_node_set_literal(n, lit ? lit : "");
	} else if (type == CMARK_NODE_LINK || type == CMARK_NODE_IMAGE) {
		const char *url = S_str_field(c, idx, "url", name);
		const char *title = S_str_field(c, idx, "title", name);
		cmark_node_set_url(n, url ? url : "");
		cmark_node_set_title(n, title ? title : "");
	} else if (type == CMARK_NODE_CUSTOM_BLOCK || type == CMARK_NODE_CUSTOM_INLINE) {
		const char *en = S_str_field(c, idx, "on_enter", name);
		const char *ex = S_str_field(c, idx, "on_exit", name);
		cmark_node_set_on_enter(n, en ? en : "");
		cmark_node_set_on_exit(n, ex ? ex : "");
	} else if (type == CMARK_NODE_TABLE_ROW) {
		cmark_gfm_extensions_set_table_row_is_header(n, S_bool_field(c, idx, "header", 0));
	}

	lua_getfield(L, idx, "children");
	if (lua_istable(L, -1)) {
		lua_Integer len = (lua_Integer)lua_rawlen(L, -1);
		for (lua_Integer i = 1; i <= len && !c->err; i++) {
			lua_rawgeti(L, -1, i);
			cmark_node *child = S_convert(c, -1);
			lua_pop(L, 1);
			if (!child)
				break;
			const char *cname = S_type_name(cmark_node_get_type(child));
			if (!cmark_node_append_child(n, child)) {
				c->err = xasprintf("a %s node cannot contain a %s node", name, cname ? cname : "?");
				cmark_node_free(child);
			}
		}
	} else if (!lua_isnil(L, -1) && !c->err) {
		c->err = xasprintf("'children' of a %s node must be a list", name);
	}
	lua_pop(L, 1);

	if (type == CMARK_NODE_TABLE && !c->err) {
		/* columns from the first row; alignments as given */
		cmark_node *row = cmark_node_first_child(n);
		uint16_t ncols = 0;
		for (cmark_node *cell = row ? cmark_node_first_child(row) : NULL; cell; cell = cmark_node_next(cell))
			ncols++;
		uint8_t *al = xcalloc(ncols ? ncols : 1, 1);
		lua_getfield(L, idx, "alignments");
		for (uint16_t i = 0; i < ncols && lua_istable(L, -1); i++) {
			lua_rawgeti(L, -1, i + 1);
			const char *a = lua_tostring(L, -1);
			al[i] = !a ? 0 : !strcmp(a, "left") ? 'l' : !strcmp(a, "center") ? 'c' : !strcmp(a, "right") ? 'r' : 0;
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
		cmark_gfm_extensions_set_table_columns(n, ncols);
		cmark_gfm_extensions_set_table_alignments(n, ncols, al);
		free(al);
	}
	c->depth--;
	if (c->err) {
		cmark_node_free(n);
		return NULL;
	}
	return n;
}

cmark_node *ast_from_lua(lua_State *L, int idx, char **err)
{
	conv c = {L, NULL, 0};
	cmark_node *n = S_convert(&c, idx);
	*err = c.err;
	return n;
}
