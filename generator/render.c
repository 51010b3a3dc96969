#define _GNU_SOURCE
#include "render.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <pango/pangocairo.h>
#include <pango/pangofc-fontmap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chart.h"
#include "deps.h"
#include "diag.h"
#include "figures.h"
#include "markdown.h"
#include "script.h"
#include "template.h"
#include "typeset.h"
#include "util.h"

#define S_PAGES_KEY "jianbao.page_tables" /* page* (light userdata) → table */
#define S_PTRS_KEY "jianbao.page_ptrs"    /* table → page* */
#define S_CTX_KEY "jianbao.render"

#define GENERATOR_NAME "jianbao"
#ifndef JIANBAO_VERSION
#define JIANBAO_VERSION "0.1.0"
#endif

/* A bulletin's tree kept until its year's volume is typeset. */
typedef struct volume_issue {
	page *page;
	md_doc md;
	int pages; /* of its own PDF */
} volume_issue;

typedef struct render_ctx {
	const render_options *o;
	lua_State *L;
	tpl_engine *tpl;
	int failed;
	typesetter *ts; /* NULL when no PDFs are made */
	volume_issue *volume; /* the current year's bulletins, for the 合订本 */
	size_t nvolume;
	int volume_year;
	figures *fig;
	/* workers: processes that share the pages of the lists between them */
	int jobs, worker;    /* how many; which one this is (0: the first process) */
	lua_Integer seq;     /* list items seen, for sharing them out */
	pid_t *pids;         /* the other workers, in the first process */
	int *fds;            /* their reports (pipes) */
	int report_fd;       /* in another worker: where its report goes */
	size_t files0;       /* files, errors and warnings when the workers split */
	int errors0, warnings0;
	/* notes of which pages make each output (NULL: none are made) */
	deps *dp;
	uint64_t *records;   /* page id → record hash */
	int skip_volumes;    /* PDFs: which years' bulletins may be left as they are */
	/* the theme has layouts for a page per year, per tag and the list of tags */
	int year_pages, tag_pages, tags_page;
	strmap volume_kept;  /* year ("2024") → (void *)1 when all its pages are unchanged */
} render_ctx;

/* What a worker tells the first process when it is done. */
typedef struct worker_report {
	size_t files;
	int errors, warnings, failed;
} worker_report;

/* ---- Markdown bodies ---- */

static void S_link_documents(render_ctx *r, cmark_node *root, const char *self);

/* HTML of a page's body; NULL after reporting.  Caller frees.  The page
 * table is at page_idx (0 when there is none: no hooks then); p is its
 * source record, NULL for pages that hooks made. */
static char *S_body_html(render_ctx *r, int page_idx, const page *p, md_doc *keep)
{
	lua_State *L = r->L;
	char *owner = NULL;
	const char *body = NULL;
	size_t len = 0;
	const char *file = "(generated page)";
	int first_line = 1;
	if (p) {
		if (model_read_body(r->o->src, p, &owner, &body, &len) < 0)
			return NULL;
		file = p->source;
		first_line = p->body_line;
	} else if (page_idx) {
		lua_getfield(L, page_idx, "markdown");
		if (lua_isstring(L, -1)) {
			body = lua_tolstring(L, -1, &len);
			owner = xstrndup(body, len);
			body = owner;
		}
		lua_pop(L, 1);
		if (!body) {
			lua_pushliteral(L, "content");
			lua_rawget(L, page_idx);
			char *html = xstrdup(lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
			lua_pop(L, 1);
			return html;
		}
	}
	md_doc md = {0};
	/* a page's file was checked to be UTF-8 when it was loaded (and
	 * model_read_body found the same bytes again) */
	md_parse(&md, body, len, (r->o->config->allow_raw_html ? MD_RAW_HTML : 0) | (p ? MD_VALID_UTF8 : 0));
	if (page_idx && p && !p->description) {
		/* page.summary from this parse, as S_page_summary would make it,
		 * so the page is not parsed a second time for its description */
		lua_pushliteral(L, "summary");
		lua_rawget(L, page_idx);
		int have = !lua_isnil(L, -1);
		lua_pop(L, 1);
		if (!have) {
			md_normalize(&md);
			char *summary = md_summary(&md, 120);
			lua_pushstring(L, summary);
			lua_setfield(L, page_idx, "summary");
			free(summary);
		}
	}
	int rc = 0;
	if (page_idx)
		rc = hooks_expand_shortcodes(r->o->hooks, page_idx, &md, file, first_line);
	md_normalize(&md);
	if (p && p->title_from_heading)
		free(md_take_title(&md, 1));
	S_link_documents(r, md.root, p ? p->number : NULL);
	if (rc == 0 && page_idx)
		rc = hooks_run_page(r->o->hooks, page_idx, &md, file, first_line);
	figures_swap swaps = {0};
	if (rc == 0 && r->fig)
		rc = figures_expand(r->fig, &md, file, first_line, &swaps);
	char *html = rc == 0 ? md_render_html(&md) : NULL;
	figures_restore(&swaps);
	if (keep && html) {
		*keep = md;
		md.root = NULL;
		md.parser = NULL;
	}
	md_doc_free(&md);
	free(owner);
	return html;
}

static char *S_page_summary(render_ctx *r, const page *p)
{
	if (p->description)
		return xstrdup(p->description);
	char *owner = NULL;
	const char *body;
	size_t len;
	if (model_read_body(r->o->src, p, &owner, &body, &len) < 0)
		return xstrdup("");
	md_doc md = {0};
	md_parse(&md, body, len, MD_VALID_UTF8);
	md_normalize(&md);
	if (p->title_from_heading)
		free(md_take_title(&md, 1));
	char *s = md_summary(&md, 120);
	md_doc_free(&md);
	free(owner);
	return s;
}

/* ---- page tables ---- */

static render_ctx *S_ctx(lua_State *L)
{
	render_ctx *r = script_get_ctx(L, S_CTX_KEY);
	if (!r)
		luaL_error(L, "page data is only available while rendering");
	return r;
}

/* __index of page tables: summary (computed once) and content (computed
 * on demand, not kept, so lists do not hold every page's HTML). */
static void S_push_yval(lua_State *L, const yval *v);

/* With notes being made, a page table is an empty proxy: its fields live in
 * a data table under the key &S_DATA (the page* under &S_PAGE in it), so
 * that every field read goes through __index and names the page. */
static const char S_DATA = 'd', S_PAGE = 'p';

/* The record ids of a page in the notes: its fields, its text (content and
 * summary, made from the body) and its history (created, updated, authors),
 * which change apart. */
#define S_FIELDS(p) (3 * (p)->id)
#define S_TEXT(p) (3 * (p)->id + 1)
#define S_HISTORY(p) (3 * (p)->id + 2)

static int S_record_of(const page *p, const char *key, size_t len)
{
	/* the keys of the text and the history all have seven letters */
	if (len == 7) {
		if (memcmp(key, "content", 7) == 0 || memcmp(key, "summary", 7) == 0)
			return S_TEXT(p);
		if (memcmp(key, "updated", 7) == 0 || memcmp(key, "created", 7) == 0 || memcmp(key, "authors", 7) == 0)
			return S_HISTORY(p);
	}
	return S_FIELDS(p);
}

static int S_lazy_field(lua_State *L, const page *p, const char *key);
static int S_missing_field(lua_State *L, int data, const page *p, const char *key);
static int S_make_field(lua_State *L, int idx, const page *p, const char *key);
static void S_make_fields(lua_State *L, int idx, const page *p);
static page *S_page_of(lua_State *L, int idx);

static int S_page_index(lua_State *L)
{
	size_t len = 0;
	const char *key = lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &len) : NULL;
	if (lua_rawgetp(L, 1, &S_DATA) == LUA_TTABLE) {
		int data = lua_gettop(L);
		lua_rawgetp(L, data, &S_PAGE);
		const page *p = lua_touserdata(L, -1);
		lua_pop(L, 1);
		if (p && key)
			deps_page(lua_touserdata(L, lua_upvalueindex(1)), S_record_of(p, key, len));
		lua_pushvalue(L, 2);
		if (lua_rawget(L, data) != LUA_TNIL || !p || !key)
			return 1;
		lua_pop(L, 1);
		return S_missing_field(L, data, p, key);
	}
	lua_pop(L, 1);
	if (!key)
		return 0;
	lua_getfield(L, LUA_REGISTRYINDEX, S_PTRS_KEY);
	lua_pushvalue(L, 1);
	lua_rawget(L, -2);
	const page *p = lua_touserdata(L, -1);
	lua_pop(L, 2);
	return S_missing_field(L, 1, p, key);
}

/* The data table of a page (the page table itself when it is no proxy),
 * pushed. */
static void S_push_data(lua_State *L, int idx)
{
	if (lua_rawgetp(L, idx, &S_DATA) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_pushvalue(L, idx);
	}
}

/* __index of a data table, which the page being rendered reads directly:
 * its own fields are noted already, so only the fields made on demand
 * are left. */
static int S_data_index(lua_State *L)
{
	const char *key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
	if (!key)
		return 0;
	lua_rawgetp(L, 1, &S_PAGE);
	const page *p = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return S_missing_field(L, 1, p, key);
}

/* A field not in the data table at data (the page table at 1): the
 * document tree of the page a hook is looking at, the ones made on demand
 * (params, summary, content), or a field made from p when first read. */
static int S_missing_field(lua_State *L, int data, const page *p, const char *key)
{
	if (strcmp(key, "doc") == 0)
		return hooks_push_doc(L, 1);
	if (strcmp(key, "params") == 0 || strcmp(key, "summary") == 0 || strcmp(key, "content") == 0)
		return S_lazy_field(L, p, key);
	if (!p)
		return 0;
	if (data == 1) {
		/* a table with all its fields (no notes): nothing to make, what is
		 * missing was taken out */
		int lazy = lua_rawgetp(L, 1, &S_PAGE) == LUA_TLIGHTUSERDATA;
		lua_pop(L, 1);
		if (!lazy)
			return 0;
	}
	return S_make_field(L, data, p, key);
}

/* A page's proxy and its data table are the same page. */
static int S_page_eq(lua_State *L)
{
	S_push_data(L, 1);
	S_push_data(L, 2);
	lua_pushboolean(L, lua_rawequal(L, -1, -2));
	return 1;
}

/* params (the front matter as a table, made when first asked for: most
 * pages' tables never need it), summary (kept) and content (not kept, so
 * lists do not hold every page's HTML) of the table at 1, for p. */
static int S_lazy_field(lua_State *L, const page *p, const char *key)
{
	int params = strcmp(key, "params") == 0;
	if (!p)
		return 0;
	if (params) {
		if (p->meta)
			S_push_yval(L, p->meta);
		else
			lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_setfield(L, 1, "params");
		return 1;
	}
	render_ctx *r = S_ctx(L);
	char *s = key[0] == 's' ? S_page_summary(r, p) : S_body_html(r, 1, p, NULL);
	if (!s)
		return luaL_error(L, "cannot render %s", p->source);
	lua_pushstring(L, s);
	free(s);
	if (key[0] == 's') {
		lua_pushvalue(L, -1);
		lua_setfield(L, 1, "summary");
	}
	return 1;
}

static int S_page_newindex(lua_State *L)
{
	if (lua_rawgetp(L, 1, &S_DATA) == LUA_TTABLE) {
		lua_replace(L, 1);
	} else {
		lua_pop(L, 1);
	}
	lua_settop(L, 3);
	lua_rawset(L, 1);
	return 0;
}

/* pairs(page): the fields, without the hidden keys */
static int S_page_next(lua_State *L)
{
	lua_settop(L, 2);
	while (lua_next(L, 1)) {
		if (lua_type(L, -2) != LUA_TLIGHTUSERDATA)
			return 2;
		lua_pop(L, 1);
	}
	lua_pushnil(L);
	return 1;
}

static int S_page_pairs(lua_State *L)
{
	lua_pushcfunction(L, S_page_next);
	if (lua_rawgetp(L, 1, &S_DATA) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_pushvalue(L, 1); /* a data table itself */
	}
	lua_rawgetp(L, -1, &S_PAGE);
	const page *p = lua_touserdata(L, -1);
	lua_pop(L, 1);
	if (p) {
		deps_page(lua_touserdata(L, lua_upvalueindex(1)), S_FIELDS(p));
		deps_page(lua_touserdata(L, lua_upvalueindex(1)), S_TEXT(p));
		deps_page(lua_touserdata(L, lua_upvalueindex(1)), S_HISTORY(p));
		S_make_fields(L, -1, p); /* all of them, to be listed */
	}
	lua_pushnil(L);
	return 3;
}

/* site.build_date and site.commit, read through __index while notes are
 * made: an output that shows them changes with them. */
static int S_site_index(lua_State *L)
{
	render_ctx *r = lua_touserdata(L, lua_upvalueindex(1));
	const char *key = lua_tostring(L, 2);
	if (!key)
		return 0;
	if (strcmp(key, "build_date") == 0 && r->o->build_date) {
		deps_flag(r->dp, DEPS_BUILD_DATE);
		lua_pushstring(L, r->o->build_date);
		return 1;
	}
	if (strcmp(key, "commit") == 0 && r->o->commit) {
		deps_flag(r->dp, DEPS_COMMIT);
		lua_pushstring(L, r->o->commit);
		return 1;
	}
	return 0;
}

/* A list of strings as a Lua sequence, pushed. */
static void S_push_strvec(lua_State *L, const strvec *v)
{
	lua_createtable(L, (int)v->len, 0);
	for (size_t i = 0; i < v->len; i++) {
		lua_pushstring(L, v->items[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
}

static void S_set_list(lua_State *L, const char *k, const strvec *v)
{
	S_push_strvec(L, v);
	lua_setfield(L, -2, k);
}

/* Pushes a YAML value as Lua: plain scalars that read as numbers or
 * booleans become those, everything else strings, lists and tables. */
static void S_push_yval(lua_State *L, const yval *v)
{
	switch (v->kind) {
	case YV_SCALAR:
		if (v->plain) {
			if (!strcmp(v->str, "true") || !strcmp(v->str, "false")) {
				lua_pushboolean(L, v->str[0] == 't');
				return;
			}
			if (!strcmp(v->str, "~") || !strcmp(v->str, "null")) {
				lua_pushboolean(L, 0);
				return;
			}
			if (*v->str && lua_stringtonumber(L, v->str))
				return;
		}
		lua_pushstring(L, v->str);
		return;
	case YV_SEQ:
		lua_createtable(L, (int)v->len, 0);
		for (size_t i = 0; i < v->len; i++) {
			S_push_yval(L, v->items[i]);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		return;
	case YV_MAP:
		lua_createtable(L, 0, (int)v->len);
		for (size_t i = 0; i < v->len; i++) {
			S_push_yval(L, v->items[i]);
			lua_setfield(L, -2, v->keys[i]);
		}
		return;
	}
}

/* The fields of a page table, made from its page: */
static const char *const S_page_fields[] = {
	"kind",   "title",   "subtitle", "author", "description", "series",      "publisher", "guidance",
	"editor", "issue",   "total",    "year",   "date",        "created",     "updated",   "tags",
	"authors", "url",    "source",   "number", "issuer_code", "sequence",    "issuer",    "cc",
	"printed_by", "printed", "prev", "next",
};

static int S_push_str(lua_State *L, const char *v)
{
	if (!v || !*v)
		return 0;
	lua_pushstring(L, v);
	return 1;
}

static int S_push_int(lua_State *L, long v)
{
	if (!v)
		return 0;
	lua_pushinteger(L, v);
	return 1;
}

static void S_set_str(lua_State *L, const char *k, const char *v)
{
	if (S_push_str(L, v))
		lua_setfield(L, -2, k);
}

static void S_set_int(lua_State *L, const char *k, long v)
{
	if (S_push_int(L, v))
		lua_setfield(L, -2, k);
}

static void S_push_table_in(lua_State *L, const page *p);

/* Pushes field key of p's table and returns 1, or 0 when p has no such
 * field (nil). */
static int S_page_field(lua_State *L, const page *p, const char *key)
{
	char d[11];
	int doc = p->kind == PAGE_DOCUMENT;
	switch (key[0]) {
	case 'a':
		if (strcmp(key, "author") == 0)
			return S_push_str(L, p->author);
		if (strcmp(key, "authors") == 0) {
			S_push_strvec(L, &p->authors);
			return 1;
		}
		return 0;
	case 'c':
		if (strcmp(key, "created") == 0)
			return S_push_str(L, p->created);
		return doc && strcmp(key, "cc") == 0 ? S_push_str(L, p->cc) : 0;
	case 'd':
		if (strcmp(key, "date") == 0 && p->has_date) {
			date_format_iso(&p->date, d);
			return S_push_str(L, d);
		}
		return strcmp(key, "description") == 0 ? S_push_str(L, p->description) : 0;
	case 'e':
		return strcmp(key, "editor") == 0 ? S_push_str(L, p->editor) : 0;
	case 'g':
		return strcmp(key, "guidance") == 0 ? S_push_str(L, p->guidance) : 0;
	case 'i':
		if (strcmp(key, "issue") == 0)
			return S_push_int(L, p->issue);
		if (doc && strcmp(key, "issuer_code") == 0)
			return S_push_str(L, p->issuer_code);
		return doc && strcmp(key, "issuer") == 0 ? S_push_str(L, p->issuer) : 0;
	case 'k':
		if (strcmp(key, "kind") != 0)
			return 0;
		lua_pushstring(L, p->kind == PAGE_BULLETIN ? "bulletin" : doc ? "document" : "page");
		return 1;
	case 'n':
		if (doc && strcmp(key, "number") == 0)
			return S_push_str(L, p->number);
		if (strcmp(key, "next") == 0 && p->kind == PAGE_BULLETIN && p->next) {
			S_push_table_in(L, p->next);
			return 1;
		}
		return 0;
	case 'p':
		if (strcmp(key, "publisher") == 0)
			return S_push_str(L, p->publisher);
		if (doc && strcmp(key, "printed_by") == 0)
			return S_push_str(L, p->printed_by);
		if (doc && strcmp(key, "printed") == 0 && p->has_printed) {
			date_format_iso(&p->printed, d);
			return S_push_str(L, d);
		}
		if (strcmp(key, "prev") == 0 && p->kind == PAGE_BULLETIN && p->prev) {
			S_push_table_in(L, p->prev);
			return 1;
		}
		return 0;
	case 's':
		if (strcmp(key, "subtitle") == 0)
			return S_push_str(L, p->subtitle);
		if (strcmp(key, "series") == 0)
			return S_push_str(L, p->series);
		if (strcmp(key, "source") == 0)
			return S_push_str(L, p->source);
		return doc && strcmp(key, "sequence") == 0 ? S_push_int(L, p->doc_seq) : 0;
	case 't':
		if (strcmp(key, "title") == 0)
			return S_push_str(L, p->title);
		if (strcmp(key, "total") == 0)
			return S_push_int(L, p->total);
		if (strcmp(key, "tags") == 0) {
			S_push_strvec(L, &p->tags);
			return 1;
		}
		return 0;
	case 'u':
		if (strcmp(key, "updated") == 0)
			return S_push_str(L, p->updated);
		if (strcmp(key, "url") == 0) {
			size_t n = strlen(p->slug);
			luaL_Buffer b;
			char *o = luaL_buffinitsize(L, &b, n + 2);
			o[0] = '/';
			memcpy(o + 1, p->slug, n);
			o[n + 1] = '/';
			luaL_pushresultsize(&b, n + 2);
			return 1;
		}
		return 0;
	case 'y':
		return strcmp(key, "year") == 0 ? S_push_int(L, p->year) : 0;
	default:
		return 0;
	}
}

/* Makes field key of the data table at idx from its page, if it has it:
 * pushes the value (kept in the table) and returns 1, else 0. */
static int S_make_field(lua_State *L, int idx, const page *p, const char *key)
{
	idx = lua_absindex(L, idx);
	if (!S_page_field(L, p, key))
		return 0;
	lua_pushstring(L, key);
	lua_pushvalue(L, -2);
	lua_rawset(L, idx);
	return 1;
}

/* Every field not made yet (for pairs). */
static void S_make_fields(lua_State *L, int idx, const page *p)
{
	idx = lua_absindex(L, idx);
	for (size_t i = 0; i < JB_ARRAY_LEN(S_page_fields); i++) {
		lua_pushstring(L, S_page_fields[i]);
		int have = lua_rawget(L, idx) != LUA_TNIL;
		lua_pop(L, 1);
		if (!have && S_make_field(L, idx, p, S_page_fields[i]))
			lua_pop(L, 1);
	}
}

/* A page's table.  With notes, its fields are made when first read (most
 * pages are read for a few fields only, in the lists); without, all of
 * them now, as hooks may read the table as they like. */
static void S_push_page_table(render_ctx *r, page *p)
{
	lua_State *L = r->L;
	lua_createtable(L, 0, r->dp ? 16 : 32);
	if (!r->dp)
		S_make_fields(L, -1, p);
	if (r->dp) {
		lua_pushlightuserdata(L, p);
		lua_rawsetp(L, -2, &S_PAGE);
		luaL_getmetatable(L, "jianbao.page_data");
		lua_setmetatable(L, -2);
		lua_createtable(L, 0, 1);
		lua_insert(L, -2);
		lua_rawsetp(L, -2, &S_DATA);
	}
	luaL_getmetatable(L, "jianbao.page");
	lua_setmetatable(L, -2);

	/* page* ↔ table, for prev/next links and lazy fields */
	lua_getfield(L, LUA_REGISTRYINDEX, S_PTRS_KEY);
	lua_pushvalue(L, -2);
	lua_pushlightuserdata(L, p);
	lua_rawset(L, -3);
	lua_pop(L, 1);
	lua_getfield(L, LUA_REGISTRYINDEX, S_PAGES_KEY);
	lua_pushlightuserdata(L, p);
	lua_pushvalue(L, -3);
	lua_rawset(L, -3);
	lua_pop(L, 1);
}

static void S_push_table_in(lua_State *L, const page *p)
{
	lua_getfield(L, LUA_REGISTRYINDEX, S_PAGES_KEY);
	lua_pushlightuserdata(L, (void *)(uintptr_t)p);
	lua_rawget(L, -2);
	lua_remove(L, -2);
}


/* Builds every page table and the site lists, and stores them in the
 * site table: bulletins, pages, build_date, generator, commit. */
static void S_build_site_tables(render_ctx *r)
{
	lua_State *L = r->L;
	site_model *m = r->o->model;
	luaL_newmetatable(L, "jianbao.page");
	lua_pushlightuserdata(L, r->dp);
	lua_pushcclosure(L, S_page_index, 1);
	lua_setfield(L, -2, "__index");
	if (r->dp) {
		lua_pushcfunction(L, S_page_newindex);
		lua_setfield(L, -2, "__newindex");
		lua_pushlightuserdata(L, r->dp);
		lua_pushcclosure(L, S_page_pairs, 1);
		lua_setfield(L, -2, "__pairs");
		lua_pushcfunction(L, S_page_eq);
		lua_setfield(L, -2, "__eq");
	}
	lua_pop(L, 1);
	if (r->dp) {
		luaL_newmetatable(L, "jianbao.page_data");
		lua_pushcfunction(L, S_data_index);
		lua_setfield(L, -2, "__index");
		lua_pushlightuserdata(L, NULL); /* nothing to note */
		lua_pushcclosure(L, S_page_pairs, 1);
		lua_setfield(L, -2, "__pairs");
		lua_pushcfunction(L, S_page_eq);
		lua_setfield(L, -2, "__eq");
		lua_pop(L, 1);
	}
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, S_PAGES_KEY);
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, S_PTRS_KEY);

	config_push_site(L);
	int site = lua_gettop(L);

	lua_createtable(L, (int)m->nbulletins, 0);
	for (size_t i = 0; i < m->nbulletins; i++) {
		S_push_page_table(r, m->bulletins[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, site, "bulletins");
	/* made when first read, with notes */
	for (size_t i = 0; !r->dp && i < m->nbulletins; i++) {
		page *p = m->bulletins[i];
		S_push_table_in(r->L, p);
		if (p->prev) {
			S_push_table_in(r->L, p->prev);
			lua_setfield(L, -2, "prev");
		}
		if (p->next) {
			S_push_table_in(r->L, p->next);
			lua_setfield(L, -2, "next");
		}
		lua_pop(L, 1);
	}

	lua_createtable(L, (int)m->npages, 0);
	for (size_t i = 0; i < m->npages; i++) {
		S_push_page_table(r, m->pages[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, site, "pages");

	if (r->dp) {
		lua_createtable(L, 0, 1);
		lua_pushlightuserdata(L, r);
		lua_pushcclosure(L, S_site_index, 1);
		lua_setfield(L, -2, "__index");
		lua_setmetatable(L, site);
	} else {
		S_set_str(L, "build_date", r->o->build_date);
		S_set_str(L, "commit", r->o->commit);
	}
	lua_pushstring(L, GENERATOR_NAME " " JIANBAO_VERSION);
	lua_setfield(L, site, "generator");
	lua_pop(L, 1);
}

/* ---- collections: members, committees, courses ---- */

#define S_MEMBERS_KEY "jianbao.member_tables" /* member* → table */

static void S_push_member_table(render_ctx *r, const member *m)
{
	lua_State *L = r->L;
	lua_getfield(L, LUA_REGISTRYINDEX, S_MEMBERS_KEY);
	lua_pushlightuserdata(L, (void *)(uintptr_t)m);
	lua_rawget(L, -2);
	lua_remove(L, -2);
}

/* A bulletin path "2024/01" → its page table, or nil. */
static void S_push_bulletin_ref(render_ctx *r, const char *ref)
{
	page *p = model_bulletin(r->o->model, r->o->content_dir, ref);
	if (p)
		S_push_table_in(r->L, p);
	else
		lua_pushnil(r->L);
}

static void S_set_sources(render_ctx *r, const strvec *refs)
{
	lua_State *L = r->L;
	lua_createtable(L, (int)refs->len, 0);
	lua_Integer n = 0;
	for (size_t i = 0; i < refs->len; i++) {
		S_push_bulletin_ref(r, refs->items[i]);
		if (lua_isnil(L, -1))
			lua_pop(L, 1);
		else
			lua_rawseti(L, -2, ++n);
	}
	lua_setfield(L, -2, "sources");
}

static int S_cmp_doc_numbers(const void *a, const void *b)
{
	const page *x = *(page *const *)a, *y = *(page *const *)b;
	if (x->year != y->year)
		return x->year < y->year ? -1 : 1;
	int c = strcmp(x->issuer_code, y->issuer_code);
	if (c)
		return c;
	return x->doc_seq < y->doc_seq ? -1 : x->doc_seq > y->doc_seq;
}

static void S_build_collection_tables(render_ctx *r)
{
	lua_State *L = r->L;
	const collections *c = r->o->collections;
	const site_model *m = r->o->model;
	config_push_site(L);
	int site = lua_gettop(L);
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, S_MEMBERS_KEY);

	/* documents */
	lua_createtable(L, (int)m->ndocuments, 0);
	for (size_t i = 0; i < m->ndocuments; i++) {
		S_push_page_table(r, m->documents[i]);
		if (m->documents[i]->source_ref) {
			S_push_bulletin_ref(r, m->documents[i]->source_ref);
			lua_setfield(L, -2, "bulletin");
		}
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, site, "documents");
	/* prev/next by number: year, then sequence, ascending */
	page **byno = xcalloc(m->ndocuments ? m->ndocuments : 1, sizeof(page *));
	memcpy(byno, m->documents, m->ndocuments * sizeof(page *));
	if (m->ndocuments > 1)
		qsort(byno, m->ndocuments, sizeof(page *), S_cmp_doc_numbers);
	for (size_t i = 0; i < m->ndocuments; i++) {
		S_push_table_in(r->L, byno[i]);
		if (i > 0) {
			S_push_table_in(r->L, byno[i - 1]);
			lua_setfield(L, -2, "prev");
		}
		if (i + 1 < m->ndocuments) {
			S_push_table_in(r->L, byno[i + 1]);
			lua_setfield(L, -2, "next");
		}
		lua_pop(L, 1);
	}
	free(byno);

	size_t nmembers = c ? c->nmembers : 0, ncomm = c ? c->ncommittees : 0, ncourses = c ? c->ncourses : 0;
	/* the pages that name each member, bulletins then documents */
	page ***mentioners = xcalloc(nmembers ? nmembers : 1, sizeof *mentioners);
	size_t *nmentioners = xcalloc(nmembers ? nmembers : 1, sizeof *nmentioners);
	page **lists[2] = {m->bulletins, m->documents};
	size_t counts[2] = {m->nbulletins, m->ndocuments};
	for (int pass = 0; pass < 2; pass++) {
		/* count, then fill */
		for (int l = 0; l < 2; l++)
			for (size_t j = 0; j < counts[l]; j++)
				for (size_t k = 0; k < lists[l][j]->nmentions; k++) {
					size_t i = lists[l][j]->mentions[k]->index;
					if (pass)
						mentioners[i][nmentioners[i]++] = lists[l][j];
					else
						nmentioners[i]++;
				}
		for (size_t i = 0; !pass && i < nmembers; i++) {
			mentioners[i] = xcalloc(nmentioners[i] ? nmentioners[i] : 1, sizeof(page *));
			nmentioners[i] = 0;
		}
	}
	/* members */
	lua_createtable(L, (int)nmembers, 0);
	for (size_t i = 0; i < nmembers; i++) {
		const member *mb = c->members[i];
		lua_createtable(L, 0, 16);
		S_set_str(L, "kind", "member");
		S_set_str(L, "title", mb->name);
		S_set_str(L, "name", mb->name);
		S_set_list(L, "short_names", &mb->short_names);
		S_set_str(L, "role", mb->role);
		S_set_str(L, "type", mb->type);
		S_set_str(L, "city", mb->city);
		S_set_str(L, "joined", mb->joined);
		S_set_str(L, "website", mb->website);
		S_set_str(L, "note", mb->note);
		S_set_str(L, "slug", mb->slug);
		char *url = xasprintf("/members/%s/", mb->slug);
		S_set_str(L, "url", url);
		free(url);
		S_set_sources(r, &mb->sources);
		lua_newtable(L);
		lua_setfield(L, -2, "committees");
		/* pages that mention it */
		lua_newtable(L);
		lua_Integer nm = 0;
		for (size_t j = 0; j < nmentioners[i]; j++) {
			S_push_table_in(r->L, mentioners[i][j]);
			lua_rawseti(L, -2, ++nm);
		}
		lua_setfield(L, -2, "mentions");
		lua_getfield(L, LUA_REGISTRYINDEX, S_MEMBERS_KEY);
		lua_pushlightuserdata(L, (void *)(uintptr_t)mb);
		lua_pushvalue(L, -3);
		lua_rawset(L, -3);
		lua_pop(L, 1);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, site, "members");
	for (size_t i = 0; i < nmembers; i++)
		free(mentioners[i]);
	free(mentioners);
	free(nmentioners);

	/* members grouped by role, in the vocabulary's order */
	lua_newtable(L);
	lua_Integer ngroups = 0;
	for (size_t g = 0; c && g < c->roles.len; g++) {
		lua_createtable(L, 0, 2);
		S_set_str(L, "role", c->roles.items[g]);
		lua_newtable(L);
		lua_Integer n = 0;
		for (size_t i = 0; i < nmembers; i++)
			if (strcmp(c->members[i]->role, c->roles.items[g]) == 0) {
				S_push_member_table(r, c->members[i]);
				lua_rawseti(L, -2, ++n);
			}
		lua_setfield(L, -2, "members");
		if (n)
			lua_rawseti(L, -2, ++ngroups);
		else
			lua_pop(L, 1);
	}
	lua_setfield(L, site, "member_roles");

	/* committees */
	lua_createtable(L, (int)ncomm, 0);
	for (size_t i = 0; i < ncomm; i++) {
		const committee *k = c->committees[i];
		lua_createtable(L, 0, 10);
		S_set_str(L, "kind", "committee");
		S_set_str(L, "title", k->name);
		S_set_str(L, "name", k->name);
		S_set_str(L, "founded", k->founded);
		S_set_str(L, "note", k->note);
		char *url = xasprintf("/committees/%s/", k->slug);
		S_set_str(L, "url", url);
		free(url);
		S_set_sources(r, &k->sources);
		int ktab = lua_gettop(L);
		lua_createtable(L, (int)k->nseats, 0);
		for (size_t j = 0; j < k->nseats; j++) {
			lua_createtable(L, 0, 2);
			S_push_member_table(r, k->seats[j].member);
			lua_setfield(L, -2, "member");
			S_set_str(L, "role", k->seats[j].role);
			lua_rawseti(L, -2, (lua_Integer)j + 1);
			/* and the member's side: member.committees */
			S_push_member_table(r, k->seats[j].member);
			lua_getfield(L, -1, "committees");
			lua_createtable(L, 0, 2);
			lua_pushvalue(L, ktab);
			lua_setfield(L, -2, "committee");
			S_set_str(L, "role", k->seats[j].role);
			lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
			lua_pop(L, 2);
		}
		lua_setfield(L, ktab, "members");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, site, "committees");

	/* courses and majors */
	lua_createtable(L, (int)ncourses, 0);
	lua_createtable(L, c ? (int)c->nmajors : 0, 0);
	int courses = lua_gettop(L) - 1, majors = lua_gettop(L);
	lua_Integer ci = 0;
	for (size_t i = 0; c && i < c->nmajors; i++) {
		const major *mj = &c->majors[i];
		lua_createtable(L, 0, 6);
		int mtab = lua_gettop(L);
		S_set_str(L, "kind", "major");
		S_set_str(L, "title", mj->name);
		S_set_str(L, "name", mj->name);
		char *url = xasprintf("/courses/%s/", mj->slug);
		S_set_str(L, "url", url);
		S_set_int(L, "count", (long)mj->ncourses);
		lua_createtable(L, (int)mj->ncourses, 0);
		for (size_t j = 0; j < mj->ncourses; j++) {
			const course *k = mj->courses[j];
			lua_createtable(L, 0, 14);
			S_set_str(L, "kind", "course");
			char *title = xasprintf("%s %s", k->code, k->name);
			S_set_str(L, "title", title);
			free(title);
			S_set_str(L, "code", k->code);
			S_set_str(L, "name", k->name);
			lua_pushvalue(L, mtab);
			lua_setfield(L, -2, "major");
			S_set_str(L, "level", k->level);
			S_set_str(L, "exam_university", k->exam_university);
			S_set_str(L, "credits", k->credits);
			S_set_str(L, "resources", k->resources);
			S_set_str(L, "note", k->note);
			char *curl = xasprintf("%s%s/", url, k->slug);
			S_set_str(L, "url", curl);
			free(curl);
			S_set_sources(r, &k->sources);
			lua_pushvalue(L, -1);
			lua_rawseti(L, courses, ++ci);
			lua_rawseti(L, -2, (lua_Integer)j + 1);
		}
		lua_setfield(L, mtab, "courses");
		free(url);
		lua_rawseti(L, majors, (lua_Integer)i + 1);
	}
	/* course.also: the same course (code) in the other majors */
	lua_newtable(L); /* code → { course tables } */
	int bycode = lua_gettop(L);
	for (lua_Integer i = 1; i <= ci; i++) {
		lua_rawgeti(L, courses, i);
		lua_getfield(L, -1, "code");
		lua_pushvalue(L, -1);
		lua_rawget(L, bycode);
		if (lua_isnil(L, -1)) {
			lua_pop(L, 1);
			lua_newtable(L);
			lua_pushvalue(L, -2);
			lua_pushvalue(L, -2);
			lua_rawset(L, bycode);
		}
		lua_pushvalue(L, -3);
		lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
		lua_pop(L, 3);
	}
	for (lua_Integer i = 1; i <= ci; i++) {
		lua_rawgeti(L, courses, i);
		int ctab = lua_gettop(L);
		lua_getfield(L, ctab, "code");
		lua_rawget(L, bycode);
		lua_newtable(L);
		lua_Integer n = 0;
		for (lua_Integer k = 1; k <= (lua_Integer)lua_rawlen(L, -2); k++) {
			lua_rawgeti(L, -2, k);
			if (lua_rawequal(L, -1, ctab))
				lua_pop(L, 1);
			else
				lua_rawseti(L, -2, ++n);
		}
		lua_setfield(L, ctab, "also");
		lua_settop(L, ctab - 1);
	}
	lua_pop(L, 1);
	lua_setfield(L, site, "majors");
	lua_setfield(L, site, "courses");
	lua_pop(L, 1);
}

/* site.series: every statistics series with its rows and default chart. */
static void S_build_series_tables(render_ctx *r)
{
	lua_State *L = r->L;
	const stats *st = r->o->stats;
	config_push_site(L);
	int site = lua_gettop(L);
	size_t n = st ? st->n : 0;
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n && !r->failed; i++) {
		const series *s = st->list[i];
		lua_createtable(L, 0, 8);
		S_set_str(L, "id", s->id);
		S_set_str(L, "file", s->file);
		/* title: site.charts[id].title, else the value columns */
		lua_getfield(L, site, "charts");
		if (lua_istable(L, -1)) {
			lua_getfield(L, -1, s->id);
			if (lua_istable(L, -1))
				lua_getfield(L, -1, "title");
			else
				lua_pushnil(L);
			lua_setfield(L, -4, "title");
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
		lua_getfield(L, -1, "title");
		int untitled = lua_isnil(L, -1);
		lua_pop(L, 1);
		if (untitled) {
			buf t = BUF_INIT;
			for (size_t c = 0; c < s->ncols; c++)
				if (s->cols[c].kind == SERIES_VALUE) {
					if (t.len)
						buf_puts(&t, "、");
					buf_puts(&t, s->cols[c].name);
				}
			S_set_str(L, "title", t.len ? buf_cstr(&t) : s->id);
			buf_free(&t);
		}
		lua_newtable(L);
		lua_Integer nc = 0;
		for (size_t c = 0; c < s->ncols; c++) {
			if (s->cols[c].kind == SERIES_SOURCE || s->cols[c].kind == SERIES_NOTE)
				continue;
			lua_createtable(L, 0, 3);
			S_set_str(L, "name", s->cols[c].name);
			S_set_str(L, "unit", s->cols[c].unit);
			S_set_str(L, "header", s->cols[c].header);
			lua_rawseti(L, -2, ++nc);
		}
		lua_setfield(L, -2, "columns");
		lua_createtable(L, (int)s->nrows, 0);
		for (size_t rr = 0; rr < s->nrows; rr++) {
			const series_row *row = &s->rows[rr];
			lua_createtable(L, 0, 6);
			S_set_str(L, "x", row->x);
			lua_newtable(L);
			lua_Integer k = 0;
			for (size_t c = 0; c < s->ncols; c++) {
				if (s->cols[c].kind == SERIES_SOURCE || s->cols[c].kind == SERIES_NOTE)
					continue;
				lua_pushstring(L, row->text[c]);
				lua_rawseti(L, -2, ++k);
			}
			lua_setfield(L, -2, "cells");
			S_set_str(L, "note", row->note);
			lua_pushboolean(L, row->illustrative);
			lua_setfield(L, -2, "illustrative");
			if (row->source) {
				S_set_str(L, "source", row->source);
				size_t len = strcspn(row->source, "|");
				char *ref = xstrndup(row->source, len);
				S_push_bulletin_ref(r, str_trim(ref));
				lua_setfield(L, -2, "bulletin");
				free(ref);
			}
			lua_rawseti(L, -2, (lua_Integer)rr + 1);
		}
		lua_setfield(L, -2, "rows");
		chart *c = r->fig ? figures_series_chart(r->fig, s) : NULL;
		if (c) {
			char *html = figures_html(r->fig, c, s->file);
			if (!html)
				r->failed = 1;
			S_set_str(L, "figure", html);
			free(html);
			chart_free(c);
		}
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, site, "series");
	lua_pop(L, 1);
}

/* Turns every mention of a document number in text nodes into a link to
 * that document (except on the document itself). */
static void S_link_documents(render_ctx *r, cmark_node *root, const char *self)
{
	const site_model *m = r->o->model;
	if (!m->ndocuments)
		return;
	cmark_iter *it = cmark_iter_new(root);
	cmark_event_type ev;
	cmark_node **texts = NULL;
	size_t ntexts = 0;
	int in_link = 0;
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		cmark_node_type t = cmark_node_get_type(n);
		if (t == CMARK_NODE_LINK)
			in_link += ev == CMARK_EVENT_ENTER ? 1 : -1;
		if (ev == CMARK_EVENT_ENTER && t == CMARK_NODE_TEXT && !in_link) {
			const char *lit = cmark_node_get_literal(n);
			if (lit && strstr(lit, "〔")) {
				texts = xrealloc(texts, (ntexts + 1) * sizeof *texts);
				texts[ntexts++] = n;
			}
		}
	}
	cmark_iter_free(it);
	for (size_t i = 0; i < ntexts; i++) {
		cmark_node *n = texts[i];
		char *lit = xstrdup(cmark_node_get_literal(n));
		const char *p = lit;
		int changed = 0;
		for (;;) {
			const page *hit = NULL;
			const char *at = NULL;
			for (size_t d = 0; d < m->ndocuments; d++) {
				const page *doc = m->documents[d];
				if (self && strcmp(doc->number, self) == 0)
					continue;
				const char *f = strstr(p, doc->number);
				if (f && (!at || f < at)) {
					at = f;
					hit = doc;
				}
			}
			if (!hit)
				break;
			if (at > p) {
				cmark_node *before = cmark_node_new(CMARK_NODE_TEXT);
				char *piece = xstrndup(p, (size_t)(at - p));
				cmark_node_set_literal(before, piece);
				free(piece);
				cmark_node_insert_before(n, before);
			}
			cmark_node *link = cmark_node_new(CMARK_NODE_LINK);
			char *url = xasprintf("%s%s/", r->o->config->base_path, hit->slug);
			cmark_node_set_url(link, url);
			free(url);
			cmark_node_set_title(link, hit->title ? hit->title : "");
			cmark_node *txt = cmark_node_new(CMARK_NODE_TEXT);
			cmark_node_set_literal(txt, hit->number);
			cmark_node_append_child(link, txt);
			cmark_node_insert_before(n, link);
			p = at + strlen(hit->number);
			changed = 1;
		}
		if (changed) {
			cmark_node_set_literal(n, p);
			if (!*p) {
				cmark_node_unlink(n);
				cmark_node_free(n);
			}
		}
		free(lit);
	}
	free(texts);
}

/* Pushes site[field] checked to be a list of tables; NULL message or an
 * error text (static). */
static const char *S_push_list(lua_State *L, const char *field)
{
	config_push_site(L);
	lua_getfield(L, -1, field);
	lua_remove(L, -2);
	if (!lua_istable(L, -1))
		return "must be a list of page tables";
	lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, i);
		int ok = lua_istable(L, -1);
		lua_pop(L, 1);
		if (!ok)
			return "must hold only page tables";
	}
	return NULL;
}

static lua_Integer S_year_of(lua_State *L, int idx)
{
	lua_getfield(L, idx, "year");
	lua_Integer y = lua_tointeger(L, -1);
	lua_pop(L, 1);
	return y;
}

typedef struct year_slot {
	lua_Integer year;
	lua_Integer index; /* position in site.bulletins */
} year_slot;

/* newest year first; within a year, the order of site.bulletins */
static int S_cmp_year_slots(const void *a, const void *b)
{
	const year_slot *x = a, *y = b;
	if (x->year != y->year)
		return x->year > y->year ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

/* site.years = { { year = 2026, bulletins = {…} }, … } from site.bulletins
 * as the load hooks left it, newest year first. */
static int S_build_years(render_ctx *r)
{
	lua_State *L = r->L;
	const char *err = S_push_list(L, "bulletins");
	if (err) {
		diag_error(r->o->config->file, 0, 0, "site.bulletins %s (after load hooks)", err);
		lua_pop(L, 1);
		return -1;
	}
	int list = lua_gettop(L);
	lua_Integer n = (lua_Integer)lua_rawlen(L, list);
	const site_model *m = r->o->model;
	int model = !r->o->hooks && (size_t)n == m->nbulletins;
	year_slot *slots = xcalloc((size_t)n + 1, sizeof *slots);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, list, i);
		/* without hooks the list is the model's */
		slots[i - 1].year = model ? m->bulletins[i - 1]->year : S_year_of(L, -1);
		slots[i - 1].index = i;
		lua_pop(L, 1);
	}
	qsort(slots, (size_t)n, sizeof *slots, S_cmp_year_slots);
	lua_newtable(L);
	lua_Integer nyears = 0;
	for (lua_Integer i = 0; i < n;) {
		lua_Integer year = slots[i].year;
		lua_createtable(L, 0, 8);
		lua_pushinteger(L, year);
		lua_setfield(L, -2, "year");
		lua_pushliteral(L, "year");
		lua_setfield(L, -2, "kind");
		lua_pushfstring(L, "%I年", (LUAI_UACINT)year);
		lua_setfield(L, -2, "title");
		if (r->year_pages) {
			lua_pushfstring(L, "/bulletins/%I/", (LUAI_UACINT)year);
			lua_setfield(L, -2, "url");
		}
		if (r->o->pdf) {
			lua_pushfstring(L, "/bulletins/%I/volume.pdf", (LUAI_UACINT)year);
			lua_setfield(L, -2, "volume_url");
		}
		lua_newtable(L);
		lua_Integer c = 0;
		for (; i < n && slots[i].year == year; i++) {
			lua_rawgeti(L, list, slots[i].index);
			lua_rawseti(L, -2, ++c);
		}
		lua_setfield(L, -2, "bulletins");
		lua_rawseti(L, -2, ++nyears);
	}
	/* site.year_urls[2024] = "/bulletins/2024/" when there are year pages */
	lua_createtable(L, 0, (int)nyears);
	for (lua_Integer i = 1; r->year_pages && i <= nyears; i++) {
		lua_rawgeti(L, -2, i);
		lua_getfield(L, -1, "year");
		lua_getfield(L, -2, "url");
		lua_rawset(L, -4);
		lua_pop(L, 1);
	}
	config_push_site(L);
	lua_insert(L, -2);
	lua_setfield(L, -2, "year_urls");
	lua_pop(L, 1);
	/* each year's neighbours: newer and older */
	for (lua_Integer i = 1; i < nyears; i++) {
		lua_rawgeti(L, -1, i);
		lua_rawgeti(L, -2, i + 1);
		lua_pushvalue(L, -2);
		lua_setfield(L, -2, "newer");
		lua_setfield(L, -2, "older");
		lua_pop(L, 1);
	}
	config_push_site(L);
	lua_insert(L, -2);
	lua_setfield(L, -2, "years");
	lua_settop(L, list - 1);
	free(slots);
	return 0;
}

/* ---- writing pages ---- */

static int S_write(render_ctx *r, const char *rel, buf *html, const char *origin, int page_idx)
{
	if (r->o->hooks && hooks_run_render(r->o->hooks, rel, page_idx, html) < 0)
		return -1;
	return output_write(r->o->out, rel, html->ptr ? html->ptr : "", html->len, origin);
}

/* The last build's rel can stay: this build may leave files as they are,
 * and rel was made from pages and values that are all the same.  Its notes
 * are kept then. */
static int S_unchanged(render_ctx *r, const char *rel)
{
	if (!r->o->unchanged_stay || r->dp == NULL || deps_depth(r->dp) > 0 || !deps_unchanged(r->dp, rel) ||
	    !output_has_old(r->o->out, rel))
		return 0;
	deps_keep(r->dp, rel);
	return 1;
}

/* Renders layouts/<layout>.html with the page table on top of the stack
 * (popped), wraps it in layouts/base.html and writes rel. */
static int S_render_page(render_ctx *r, const char *layout_name, const char *rel, const char *origin)
{
	lua_State *L = r->L;
	int page_idx = lua_gettop(L);
	if (S_unchanged(r, rel)) {
		lua_settop(L, page_idx - 1);
		return output_keep(r->o->out, rel, origin);
	}
	deps_begin(r->dp, -1);
	/* what the page being made reads of itself is noted already (all of
	 * it): it reads its fields directly */
	if (r->dp && S_page_of(L, page_idx))
		S_push_data(L, page_idx);
	else
		lua_pushvalue(L, page_idx);
	tpl_set(r->tpl, "page");
	char *layout = xasprintf("layouts/%s.html", layout_name);
	buf inner = BUF_INIT, html = BUF_INIT;
	int rc = tpl_render(r->tpl, layout, &inner);
	if (rc == 1) {
		char *shown = theme_display_path(r->o->theme, layout);
		diag_error(shown, 0, 0, "missing layout '%s' (needed by %s)", layout_name, origin);
		free(shown);
		rc = -1;
	}
	if (rc == 0) {
		lua_pushlstring(L, buf_cstr(&inner), inner.len);
		tpl_set(r->tpl, "content");
		rc = tpl_render(r->tpl, "layouts/base.html", &html);
		if (rc == 1) {
			char *shown = theme_display_path(r->o->theme, "layouts/base.html");
			diag_error(shown, 0, 0, "missing the base layout");
			free(shown);
			rc = -1;
		}
		lua_pushliteral(L, "");
		tpl_set(r->tpl, "content");
	}
	if (rc == 0)
		rc = S_write(r, rel, &html, origin, page_idx);
	deps_end(r->dp, rel);
	buf_free(&inner);
	buf_free(&html);
	free(layout);
	lua_settop(L, page_idx - 1);
	if (rc < 0)
		r->failed = 1;
	return rc;
}

static void S_push_special(render_ctx *r, const char *kind, const char *title, const char *url)
{
	lua_State *L = r->L;
	lua_createtable(L, 0, 4);
	S_set_str(L, "kind", kind);
	S_set_str(L, "title", title);
	S_set_str(L, "url", url);
}

/* "/bulletins/2024/01/" → "bulletins/2024/01/index.html"; "/x.html" → "x.html" */
static char *S_output_path(const char *url)
{
	while (*url == '/')
		url++;
	size_t n = strlen(url);
	if (n == 0)
		return xstrdup("index.html");
	const char *last = strrchr(url, '/');
	last = last ? last + 1 : url;
	if (url[n - 1] != '/' && strchr(last, '.'))
		return xstrdup(url);
	/* a folder: its index.html */
	int slash = url[n - 1] != '/';
	char *rel = xmalloc(n + slash + sizeof "index.html");
	memcpy(rel, url, n);
	if (slash)
		rel[n] = '/';
	memcpy(rel + n + slash, "index.html", sizeof "index.html");
	return rel;
}

static char *S_output_path_of(const page *p)
{
	size_t n = strlen(p->slug);
	if (!n)
		return xstrdup("index.html");
	char *rel = xmalloc(n + sizeof "/index.html");
	memcpy(rel, p->slug, n);
	memcpy(rel + n, "/index.html", sizeof "/index.html");
	return rel;
}

/* ---- PDFs ---- */

/* Images in Markdown are paths below the content folder ("assets/x.png",
 * "/assets/x.png"); they are read from the same source as the pages. */
static int S_pdf_image(void *ctx, const char *path, char **data, size_t *len)
{
	render_ctx *r = ctx;
	while (*path == '/')
		path++;
	if (!path_is_safe_relative(path))
		return -1;
	char *full = path_join(r->o->content_dir, path);
	int rc = source_read(r->o->src, full, data, len);
	free(full);
	return rc == 0 ? 0 : -1;
}

static int S_pdf_block(void *ctx, cmark_node *fenced, cairo_t *cr, double width, double *height)
{
	render_ctx *r = ctx;
	return figures_draw_block(r->fig, fenced, cr, width, height);
}

/* Fills d from the page's metadata; strings go to owned. */
static void S_print_doc(render_ctx *r, const page *p, md_doc *md, print_doc *d, strvec *owned)
{
	memset(d, 0, sizeof *d);
	char iso[11] = "";
	if (p->has_date)
		date_format_iso(&p->date, iso);
	char *date_cn = p->has_date ? typeset_date_cn(iso) : NULL;
	if (date_cn)
		strvec_push(owned, date_cn);
	d->title = p->title;
	d->subtitle = p->subtitle;
	d->author = p->author;
	d->body = md->root;
	d->file = p->source;
	d->first_line = p->body_line;
	d->pdf_title = p->title;
	d->pdf_author = p->kind == PAGE_BULLETIN ? p->publisher : p->issuer;
	d->load_image = S_pdf_image;
	d->draw_block = S_pdf_block;
	d->ctx = r;
	/* the PDF's dates follow its own source, so unrelated commits leave it alone */
	const char *stamp = p->updated[0] ? p->updated : iso[0] ? iso : r->o->build_date;
	if (stamp && stamp == r->o->build_date)
		deps_flag(r->dp, DEPS_BUILD_DATE);
	if (stamp) {
		strvec_push(owned, xasprintf("%.10sT00:00:00Z", stamp));
		d->created = owned->items[owned->len - 1];
	}
	if (p->kind == PAGE_BULLETIN) {
		d->kind = PRINT_BULLETIN;
		d->series = p->series ? p->series : r->o->config->title;
		char *line = typeset_issue_line(p->year, p->issue, p->total);
		strvec_push(owned, line);
		d->issue_line = line;
		d->pdf_subject = line;
		d->publisher = p->publisher;
		d->date = date_cn;
		d->guidance = p->guidance;
		d->editor = p->editor;
	} else {
		d->kind = PRINT_DOCUMENT;
		d->number = p->number;
		d->pdf_subject = p->number;
		d->issuer = p->issuer;
		if (p->issuer) {
			strvec_push(owned, xasprintf("%s文件", p->issuer));
			d->issuer_title = owned->items[owned->len - 1];
		}
		d->cc = p->cc;
		d->printer = p->printed_by ? p->printed_by : p->issuer;
		d->date = date_cn;
		if (p->has_printed) {
			char pi[11];
			date_format_iso(&p->printed, pi);
			char *pc = typeset_date_cn(pi);
			if (pc) {
				strvec_push(owned, pc);
				d->printed = pc;
			}
		}
	}
}

/* Where p's PDF goes: "bulletins/2024/01/bulletin.pdf".  Caller frees. */
static char *S_pdf_path(const page *p)
{
	return xasprintf("%s/%s", p->slug, p->kind == PAGE_BULLETIN ? "bulletin.pdf" : "document.pdf");
}

/* Typesets p's PDF; its page count, or -1 after reporting. */
static int S_write_pdf(render_ctx *r, const page *p, md_doc *md)
{
	print_doc d;
	strvec owned = STRVEC_INIT;
	S_print_doc(r, p, md, &d, &owned);
	buf pdf = BUF_INIT;
	int pages = typeset_pdf(r->ts, &d, &pdf);
	int rc = pages < 0 ? -1 : 0;
	if (rc == 0) {
		char *rel = S_pdf_path(p);
		rc = output_write(r->o->out, rel, pdf.ptr ? pdf.ptr : "", pdf.len, p->source);
		free(rel);
	}
	buf_free(&pdf);
	strvec_free(&owned);
	return rc < 0 ? -1 : pages;
}

/* Typesets the kept bulletins of one year as bulletins/YYYY/volume.pdf. */
static int S_volume_flush(render_ctx *r)
{
	if (!r->nvolume)
		return 0;
	size_t n = r->nvolume;
	print_doc *docs = xcalloc(n, sizeof *docs);
	const print_doc **order = xcalloc(n, sizeof *order);
	int *counts = xcalloc(n, sizeof *counts);
	strvec owned = STRVEC_INIT;
	/* kept newest first; a volume runs from the first issue of the year */
	for (size_t i = 0; i < n; i++) {
		S_print_doc(r, r->volume[n - 1 - i].page, &r->volume[n - 1 - i].md, &docs[i], &owned);
		order[i] = &docs[i];
		counts[i] = r->volume[n - 1 - i].pages;
	}
	const page *first = r->volume[n - 1].page;
	char *subtitle = xasprintf("%d年合订本", r->volume_year);
	char *title = xasprintf("%s %s", first->series ? first->series : r->o->config->title, subtitle);
	print_volume vol = {
		.title = first->series ? first->series : r->o->config->title,
		.subtitle = subtitle,
		.publisher = first->publisher,
		.issues = order,
		.nissues = n,
		.issue_pages = counts,
		.pdf_title = title,
		.pdf_author = first->publisher,
		.created = docs[n - 1].created,
	};
	buf pdf = BUF_INIT;
	int rc = typeset_volume(r->ts, &vol, &pdf) < 0 ? -1 : 0;
	if (rc == 0) {
		char *rel = xasprintf("bulletins/%d/volume.pdf", r->volume_year);
		rc = output_write(r->o->out, rel, pdf.ptr, pdf.len, "(yearly volume)");
		free(rel);
	}
	buf_free(&pdf);
	free(title);
	free(subtitle);
	strvec_free(&owned);
	free(order);
	free(counts);
	free(docs);
	for (size_t i = 0; i < n; i++)
		md_doc_free(&r->volume[i].md);
	r->nvolume = 0;
	if (rc < 0)
		r->failed = 1;
	return rc;
}

/* Keeps md (taken over) for the volume of p's year; typesets the previous
 * year's volume when the year changes. */
static void S_volume_add(render_ctx *r, page *p, md_doc *md, int pages)
{
	if (r->nvolume && r->volume_year != p->year)
		S_volume_flush(r);
	r->volume_year = p->year;
	r->volume = xrealloc(r->volume, (r->nvolume + 1) * sizeof *r->volume);
	r->volume[r->nvolume].page = p;
	r->volume[r->nvolume].md = *md;
	r->volume[r->nvolume].pages = pages;
	r->nvolume++;
	md->root = NULL;
	md->parser = NULL;
}

/* Renders the page table at the top of the stack (popped). */
/* The page table at idx, its source record (NULL for pages hooks made). */
static page *S_page_of(lua_State *L, int idx)
{
	lua_getfield(L, LUA_REGISTRYINDEX, S_PTRS_KEY);
	lua_pushvalue(L, idx);
	lua_rawget(L, -2);
	page *p = lua_touserdata(L, -1);
	lua_pop(L, 2);
	return p;
}

/* Where the page table at idx comes from, for messages.  Caller frees. */
static char *S_origin(lua_State *L, int idx, const page *p)
{
	if (p)
		return xstrdup(p->source);
	lua_getfield(L, idx, "title");
	lua_getfield(L, idx, "kind");
	const char *title = lua_isstring(L, -2) ? lua_tostring(L, -2) : "?", *kind = lua_tostring(L, -1);
	char *origin = kind && strcmp(kind, "year") == 0  ? xasprintf("(the bulletins of %s)", title)
	               : kind && strcmp(kind, "tag") == 0 ? xasprintf("(the page of tag %s)", title)
	                                                  : xasprintf("(page \"%s\" added by a hook)", title);
	lua_pop(L, 2);
	return origin;
}

/* A tag while site.tags is made: its name as first seen, and the
 * positions of its pages in site.bulletins and site.documents. */
typedef struct tag_acc {
	char *name, *slug;
	lua_Integer *items[2];
	size_t n[2], cap[2];
	strvec aliases; /* other names with the same URL */
} tag_acc;

static void S_tag_add(tag_acc *t, int list, lua_Integer index)
{
	if (t->n[list] && t->items[list][t->n[list] - 1] == index)
		return; /* the same tag twice on one page */
	if (t->n[list] == t->cap[list]) {
		t->cap[list] = t->cap[list] ? 2 * t->cap[list] : 16;
		t->items[list] = xrealloc(t->items[list], t->cap[list] * sizeof *t->items[list]);
	}
	t->items[list][t->n[list]++] = index;
}

/* most pages first, then by the URL's bytes */
static int S_cmp_tags(const void *a, const void *b)
{
	const tag_acc *x = *(tag_acc *const *)a, *y = *(tag_acc *const *)b;
	size_t nx = x->n[0] + x->n[1], ny = y->n[0] + y->n[1];
	if (nx != ny)
		return nx > ny ? -1 : 1;
	return strcmp(x->slug, y->slug);
}

/* The tag that name, on the page table at idx, counts for: made when
 * first seen (by_name: name → tag; by_slug: URL → tag); NULL when the name
 * makes no URL. */
static tag_acc *S_tag_of(lua_State *L, int idx, const char *name, strmap *by_name, strmap *by_slug, tag_acc ***tags,
                         size_t *ntags)
{
	static const char no_url = 0;
	tag_acc *t = strmap_get(by_name, name);
	if (t == (const void *)&no_url || !t) {
		char *slug = t ? NULL : str_slugify(name);
		if (t || !*slug) {
			char *src = S_origin(L, idx, S_page_of(L, idx));
			diag_warning(src, 0, 0, "tag '%s' has no letters, digits or Han characters to make its URL of: "
			                        "it gets no tag page", name);
			free(src);
			if (!t)
				strmap_put(by_name, name, (void *)(uintptr_t)&no_url);
			free(slug);
			return NULL;
		}
		t = strmap_get(by_slug, slug);
		if (!t) {
			t = xcalloc(1, sizeof *t);
			t->name = xstrdup(name);
			t->slug = xstrdup(slug);
			strmap_put(by_slug, slug, t);
			*tags = xrealloc(*tags, (*ntags + 1) * sizeof **tags);
			(*tags)[(*ntags)++] = t;
		} else {
			strvec_push_copy(&t->aliases, name);
			char *src = S_origin(L, idx, S_page_of(L, idx));
			diag_warning(src, 0, 0, "tag '%s' has the same URL /tags/%s/ as tag '%s': one tag page lists both", name,
			             slug, t->name);
			free(src);
		}
		strmap_put(by_name, name, t);
		free(slug);
	}
	return t;
}

/* site.tags = { { name, slug, url, bulletins = {…}, documents = {…} }, … }
 * from the tags of site.bulletins and site.documents as the load hooks
 * left them, most used first; site.tag_urls maps each tag as written to
 * its page's URL.  Tags whose names give the same URL are one tag. */
static int S_build_tags(render_ctx *r)
{
	lua_State *L = r->L;
	static const char *const lists[2] = {"bulletins", "documents"};
	const site_model *m = r->o->model;
	page **pages[2] = {m->bulletins, m->documents};
	size_t npages[2] = {m->nbulletins, m->ndocuments};
	strmap by_slug = STRMAP_INIT, by_name = STRMAP_INIT;
	tag_acc **tags = NULL;
	size_t ntags = 0;
	int top = lua_gettop(L);
	for (int l = 0; l < 2; l++) {
		if (S_push_list(L, lists[l])) {
			lua_pop(L, 1);
			continue;
		}
		int list = lua_gettop(L);
		lua_Integer n = (lua_Integer)lua_rawlen(L, list);
		/* without hooks the lists are the model's, whose tags are at hand */
		int model = !r->o->hooks && (size_t)n == npages[l];
		for (lua_Integer i = 1; i <= n; i++) {
			lua_rawgeti(L, list, i);
			int item = lua_gettop(L);
			if (model) {
				const strvec *names = &pages[l][i - 1]->tags;
				for (size_t k = 0; k < names->len; k++) {
					tag_acc *t = S_tag_of(L, item, names->items[k], &by_name, &by_slug, &tags, &ntags);
					if (t)
						S_tag_add(t, l, i);
				}
				lua_settop(L, item - 1);
				continue;
			}
			lua_getfield(L, item, "tags");
			lua_Integer nt = lua_istable(L, -1) ? (lua_Integer)lua_rawlen(L, -1) : 0;
			for (lua_Integer k = 1; k <= nt; k++) {
				lua_rawgeti(L, -1, k);
				const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
				tag_acc *t = name ? S_tag_of(L, item, name, &by_name, &by_slug, &tags, &ntags) : NULL;
				if (t)
					S_tag_add(t, l, i);
				lua_pop(L, 1);
			}
			lua_settop(L, item - 1);
		}
		lua_settop(L, list - 1);
	}
	if (ntags > 1)
		qsort(tags, ntags, sizeof *tags, S_cmp_tags);
	/* the lists the tags take their pages from */
	int lists_at = lua_gettop(L) + 1;
	for (int l = 0; l < 2; l++) {
		config_push_site(L);
		lua_getfield(L, -1, lists[l]);
		lua_remove(L, -2);
	}
	lua_createtable(L, (int)ntags, 0);
	int out = lua_gettop(L);
	lua_newtable(L);
	int urls = lua_gettop(L);
	for (size_t i = 0; i < ntags; i++) {
		tag_acc *t = tags[i];
		lua_createtable(L, 0, 8);
		lua_pushliteral(L, "tag");
		lua_setfield(L, -2, "kind");
		lua_pushstring(L, t->name);
		lua_setfield(L, -2, "name");
		lua_pushstring(L, t->name);
		lua_setfield(L, -2, "title");
		lua_pushstring(L, t->slug);
		lua_setfield(L, -2, "slug");
		lua_pushinteger(L, (lua_Integer)(t->n[0] + t->n[1]));
		lua_setfield(L, -2, "count");
		if (r->tag_pages) {
			lua_pushfstring(L, "/tags/%s/", t->slug);
			lua_pushvalue(L, -1);
			lua_setfield(L, -3, "url");
			for (size_t k = 0; k < t->aliases.len; k++) {
				lua_pushvalue(L, -1);
				lua_setfield(L, urls, t->aliases.items[k]);
			}
			lua_setfield(L, urls, t->name);
		}
		for (int l = 0; l < 2; l++) {
			lua_createtable(L, (int)t->n[l], 0);
			for (size_t k = 0; k < t->n[l]; k++) {
				lua_rawgeti(L, lists_at + l, t->items[l][k]);
				lua_rawseti(L, -2, (lua_Integer)k + 1);
			}
			lua_setfield(L, -2, lists[l]);
		}
		lua_rawseti(L, out, (lua_Integer)i + 1);
	}
	config_push_site(L);
	lua_pushvalue(L, out);
	lua_setfield(L, -2, "tags");
	lua_pushvalue(L, urls);
	lua_setfield(L, -2, "tag_urls");
	if (r->tags_page && ntags) {
		lua_pushliteral(L, "/tags/");
		lua_setfield(L, -2, "tag_index_url");
	}
	lua_settop(L, top);
	for (size_t i = 0; i < ntags; i++) {
		free(tags[i]->name);
		free(tags[i]->slug);
		free(tags[i]->items[0]);
		free(tags[i]->items[1]);
		strvec_free(&tags[i]->aliases);
		free(tags[i]);
	}
	free(tags);
	strmap_free(&by_slug, NULL);
	strmap_free(&by_name, NULL);
	return 0;
}

/* A bulletin goes into its year's volume: with PDFs, it stays only when
 * all of its year's bulletins do. */
static int S_may_stay(render_ctx *r, const page *p)
{
	if (!r->ts || !p || p->kind != PAGE_BULLETIN)
		return 1;
	char year[16];
	snprintf(year, sizeof year, "%d", p->year);
	return strmap_get(&r->volume_kept, year) != NULL;
}

/* The years whose bulletins and volume all stay as they are. */
static void S_find_kept_volumes(render_ctx *r)
{
	if (!r->ts || !r->o->unchanged_stay || !r->dp)
		return;
	const site_model *m = r->o->model;
	for (size_t i = 0; i < m->nbulletins;) {
		int year = m->bulletins[i]->year, all = 1;
		for (; i < m->nbulletins && m->bulletins[i]->year == year; i++) {
			char *rel = S_output_path_of(m->bulletins[i]);
			all = all && deps_unchanged(r->dp, rel);
			free(rel);
		}
		char *vol = xasprintf("bulletins/%d/volume.pdf", year);
		all = all && output_has_old(r->o->out, vol);
		if (all && output_keep(r->o->out, vol, "(yearly volume)") < 0)
			r->failed = 1;
		free(vol);
		if (all) {
			char key[16];
			snprintf(key, sizeof key, "%d", year);
			strmap_put(&r->volume_kept, key, (void *)1);
		}
	}
}

static int S_render_listed_page(render_ctx *r, const char *dflt_kind)
{
	lua_State *L = r->L;
	int idx = lua_gettop(L);
	page *p = S_page_of(L, idx);
	if (!lua_getmetatable(L, idx)) {
		luaL_setmetatable(L, "jianbao.page");
	} else {
		lua_pop(L, 1);
	}

	lua_getfield(L, idx, "url");
	const char *url = lua_tostring(L, -1);
	char *origin = S_origin(L, idx, p);
	if (!url || url[0] != '/') {
		diag_error(origin, 0, 0, "page.url must be a site path starting with '/', got %s",
		           url ? url : luaL_typename(L, -1));
		lua_settop(L, idx - 1);
		free(origin);
		r->failed = 1;
		return -1;
	}
	char *rel = S_output_path(url);
	lua_pop(L, 1);

	lua_getfield(L, idx, "layout");
	if (!lua_isstring(L, -1)) {
		lua_pop(L, 1);
		lua_getfield(L, idx, "kind");
	}
	char *layout = xstrdup(lua_isstring(L, -1) ? lua_tostring(L, -1) : dflt_kind);
	lua_pop(L, 1);

	int rc = 0;
	md_doc md = {0};
	int want_pdf = r->ts && p && (p->kind == PAGE_BULLETIN || p->kind == PAGE_DOCUMENT);
	if (S_may_stay(r, p) && S_unchanged(r, rel)) {
		rc = output_keep(r->o->out, rel, origin);
		if (rc == 0 && want_pdf) {
			char *pdf = S_pdf_path(p);
			rc = output_keep(r->o->out, pdf, origin);
			lua_pushfstring(L, "/%s", pdf);
			lua_setfield(L, idx, "pdf_url");
			free(pdf);
		}
		if (rc < 0)
			r->failed = 1;
		lua_settop(L, idx - 1);
		free(layout);
		free(rel);
		free(origin);
		return rc;
	}
	deps_begin(r->dp, p ? S_FIELDS(p) : -1);
	if (p) {
		deps_page(r->dp, S_TEXT(p));
		deps_page(r->dp, S_HISTORY(p));
	}
	char *html = S_body_html(r, idx, p, want_pdf ? &md : NULL);
	if (html && want_pdf) {
		int pages = S_write_pdf(r, p, &md);
		rc = pages < 0 ? -1 : 0;
		if (rc == 0) {
			char *pdf = S_pdf_path(p);
			lua_pushfstring(L, "/%s", pdf);
			lua_setfield(L, idx, "pdf_url");
			free(pdf);
		}
		if (rc == 0 && p->kind == PAGE_BULLETIN)
			S_volume_add(r, p, &md, pages); /* keeps the tree */
		md_doc_free(&md);
	}
	if (!html || rc < 0) {
		rc = -1;
		r->failed = 1;
		free(html);
	} else {
		lua_pushstring(L, html);
		lua_setfield(L, idx, "content");
		free(html);
		lua_pushvalue(L, idx);
		rc = S_render_page(r, layout, rel, origin);
		/* drop the HTML again so that memory does not grow with the site */
		if (p) {
			lua_pushnil(L);
			lua_setfield(L, idx, "content");
		}
	}
	deps_end(r->dp, rel);
	lua_settop(L, idx - 1);
	free(layout);
	free(rel);
	free(origin);
	return rc;
}

static int S_render_list(render_ctx *r, const char *field, const char *kind)
{
	lua_State *L = r->L;
	const char *err = S_push_list(L, field);
	if (err) {
		diag_error(r->o->config->file, 0, 0, "site.%s %s (after load hooks)", field, err);
		lua_pop(L, 1);
		r->failed = 1;
		return -1;
	}
	int list = lua_gettop(L);
	lua_Integer n = (lua_Integer)lua_rawlen(L, list);
	/* a year's bulletins stay with one worker, which typesets its volume */
	int by_year = strcmp(field, "bulletins") == 0;
	for (lua_Integer i = 1; i <= n && !*r->o->interrupted && !r->failed; i++) {
		lua_rawgeti(L, list, i);
		lua_Integer key = by_year ? S_year_of(L, -1) : r->seq++;
		if (r->jobs > 1 && ((key % r->jobs) + r->jobs) % r->jobs != r->worker) {
			lua_pop(L, 1);
			continue;
		}
		S_render_listed_page(r, kind);
	}
	lua_settop(L, list - 1);
	return 0;
}

/* ---- workers ---- */

/* The lists whose pages the workers share, in the order they are rendered. */
static const char *const S_shared_lists[] = {"bulletins", "years", "pages", "tags", "documents", "members",
                                             "committees", "majors", "courses"};

/* Claims every file the workers will write, so that two sources mapping to
 * one file are found whichever processes write them. */
static int S_reserve_outputs(render_ctx *r)
{
	lua_State *L = r->L;
	/* first what one worker makes after the split, so that a page mapping
	 * to the same file is the one reported */
	static const char *const alone[][2] = {
		{"index.html", "(home page)"}, {"bulletins/index.html", "(bulletin archive)"},
		{"404.html", "(not-found page)"}, {"feed.xml", "(feed)"}, {"sitemap.xml", "(sitemap)"},
	};
	int rc = 0;
	for (size_t i = 0; i < JB_ARRAY_LEN(alone) && rc == 0; i++)
		rc = output_reserve(r->o->out, alone[i][0], alone[i][1]);
	for (size_t k = 0; k < JB_ARRAY_LEN(S_shared_lists) && rc == 0; k++) {
		config_push_site(L);
		lua_getfield(L, -1, S_shared_lists[k]);
		lua_Integer n = lua_istable(L, -1) ? (lua_Integer)lua_rawlen(L, -1) : 0;
		for (lua_Integer i = 1; i <= n && rc == 0; i++) {
			lua_rawgeti(L, -1, i);
			int idx = lua_gettop(L);
			/* a page of the model keeps the URL of its slug when no hook
			 * could have changed it */
			page *p = lua_istable(L, idx) ? S_page_of(L, idx) : NULL;
			if (p && !r->o->hooks) {
				char *rel = S_output_path_of(p);
				rc = output_reserve(r->o->out, rel, p->source);
				if (rc == 0 && r->ts && (p->kind == PAGE_BULLETIN || p->kind == PAGE_DOCUMENT)) {
					char *pdf = S_pdf_path(p);
					rc = output_reserve(r->o->out, pdf, p->source);
					free(pdf);
				}
				free(rel);
			} else if (lua_istable(L, idx)) {
				lua_getfield(L, idx, "url");
				const char *url = lua_tostring(L, -1);
				if (url && url[0] == '/') {
					char *origin = S_origin(L, idx, p);
					char *rel = S_output_path(url);
					rc = output_reserve(r->o->out, rel, origin);
					if (rc == 0 && r->ts && p && (p->kind == PAGE_BULLETIN || p->kind == PAGE_DOCUMENT)) {
						char *pdf = S_pdf_path(p);
						rc = output_reserve(r->o->out, pdf, origin);
						free(pdf);
					}
					free(rel);
					free(origin);
				}
			}
			lua_settop(L, idx - 1);
		}
		lua_pop(L, 2);
	}
	if (rc == 0 && r->ts) {
		config_push_site(L);
		lua_getfield(L, -1, "years");
		lua_Integer n = lua_istable(L, -1) ? (lua_Integer)lua_rawlen(L, -1) : 0;
		for (lua_Integer i = 1; i <= n && rc == 0; i++) {
			lua_rawgeti(L, -1, i);
			char *rel = xasprintf("bulletins/%d/volume.pdf", (int)S_year_of(L, -1));
			rc = output_reserve(r->o->out, rel, "(yearly volume)");
			free(rel);
			lua_pop(L, 1);
		}
		lua_pop(L, 2);
	}
	return rc;
}

/* Starts r->jobs - 1 more processes; each continues from here with its own
 * copy of everything and renders its share of the lists.  Returns in
 * every process; r->worker tells which one it is.  Falls back to one
 * process when fork fails. */
static void S_split_workers(render_ctx *r)
{
	if (r->jobs <= 1)
		return;
	if (S_reserve_outputs(r) < 0) {
		r->failed = 1;
		r->jobs = 1;
		return;
	}
	r->files0 = output_count(r->o->out);
	r->errors0 = diag_errors();
	r->warnings0 = diag_warnings();
	/* Pango reads fontconfig's configuration in a thread of its own; a
	 * worker forked while it runs would wait for it forever */
	if (r->ts || chart_fonts_loaded())
		pango_fc_font_map_get_config(PANGO_FC_FONT_MAP(pango_cairo_font_map_get_default()));
	r->pids = xcalloc((size_t)r->jobs, sizeof *r->pids);
	r->fds = xcalloc((size_t)r->jobs, sizeof *r->fds);
	fflush(stdout);
	fflush(stderr);
	int started = 1;
	for (int w = 1; w < r->jobs; w++) {
		int fds[2];
		if (pipe2(fds, O_CLOEXEC) < 0)
			break;
		pid_t pid = fork();
		if (pid < 0) {
			close(fds[0]);
			close(fds[1]);
			break;
		}
		if (pid == 0) {
			close(fds[0]);
			for (int k = 1; k < w; k++)
				close(r->fds[k]);
			r->worker = w;
			r->report_fd = fds[1];
			diag_set_worker(w);
			return;
		}
		close(fds[1]);
		r->pids[w] = pid;
		r->fds[w] = fds[0];
		started++;
	}
	r->jobs = started; /* shares are fixed from here on */
}

/* A path written, then 1 and its state, or 0 when its state is unknown. */
static void S_add_path(void *ctx, const char *rel, const struct stat *st)
{
	buf_put(ctx, rel, strlen(rel) + 1);
	buf_putc(ctx, st ? 1 : 0);
	if (st)
		buf_put(ctx, (const char *)st, sizeof *st);
}

/* In another worker: reports (counts, then every path it wrote) and exits.
 * In the first: waits for the others and adds up what they wrote and
 * reported. */
static void S_join_workers(render_ctx *r)
{
	if (r->worker > 0) {
		worker_report rep = {
			.files = output_count(r->o->out) - r->files0,
			.errors = diag_errors() - r->errors0,
			.warnings = diag_warnings() - r->warnings0,
			.failed = r->failed || *r->o->interrupted,
		};
		buf msg = BUF_INIT;
		buf_put(&msg, (const char *)&rep, sizeof rep);
		output_each_written(r->o->out, S_add_path, &msg);
		buf_putc(&msg, '\0');
		deps_export(r->dp, &msg);
		int ok = fd_write_all(r->report_fd, msg.ptr, msg.len) == 0;
		fflush(stdout);
		fflush(stderr);
		_exit(ok && !rep.failed ? 0 : 1);
	}
	if (!r->pids)
		return;
	for (int w = 1; w < r->jobs; w++) {
		worker_report rep = {0};
		buf msg = BUF_INIT;
		char chunk[65536];
		for (;;) {
			ssize_t got = read(r->fds[w], chunk, sizeof chunk);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				break;
			buf_put(&msg, chunk, (size_t)got);
		}
		close(r->fds[w]);
		ssize_t n = msg.len >= sizeof rep ? (ssize_t)sizeof rep : -1;
		if (n > 0) {
			memcpy(&rep, msg.ptr, sizeof rep);
			/* the paths it wrote, so that they are kept */
			size_t at = sizeof rep;
			while (at < msg.len) {
				const char *rel = msg.ptr + at;
				size_t len = strnlen(rel, msg.len - at);
				if (at + len >= msg.len)
					break;
				at += len + 1;
				if (len == 0)
					break;
				struct stat st;
				int has = at < msg.len && msg.ptr[at] == 1 && msg.len - at - 1 >= sizeof st;
				if (has)
					memcpy(&st, msg.ptr + at + 1, sizeof st);
				at += 1 + (has ? sizeof st : 0);
				output_note_written(r->o->out, rel, "(another worker)", has ? &st : NULL);
			}
			/* and the notes of the outputs it made */
			if (at <= msg.len)
				deps_import(r->dp, msg.ptr + at, msg.len - at);
		}
		buf_free(&msg);
		int status = 0;
		while (waitpid(r->pids[w], &status, 0) < 0 && errno == EINTR)
			;
		if (n != (ssize_t)sizeof rep) {
			if (!*r->o->interrupted)
				diag_error(NULL, 0, 0, "a worker process ended without finishing its pages (status %d)", status);
			r->failed = 1;
			continue;
		}
		output_add_count(r->o->out, rep.files);
		diag_add_counts(rep.errors, rep.warnings);
		if (rep.failed || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			r->failed = 1;
	}
	free(r->pids);
	free(r->fds);
	r->pids = NULL;
	r->fds = NULL;
}

/* The theme has layouts/NAME.html. */
static int S_has_layout(render_ctx *r, const char *name)
{
	char *rel = xasprintf("layouts/%s.html", name), *data = NULL;
	size_t len = 0;
	int found = theme_read(r->o->theme, rel, &data, &len) == 0;
	free(data);
	free(rel);
	return found;
}

/* A page per tag, and the list of tags (by the first worker). */
static void S_render_tags(render_ctx *r)
{
	if (!r->tag_pages)
		return;
	lua_State *L = r->L;
	config_push_site(L);
	lua_getfield(L, -1, "tags");
	size_t n = lua_istable(L, -1) ? lua_rawlen(L, -1) : 0;
	lua_pop(L, 2);
	if (!n)
		return;
	if (r->tags_page && r->worker == 0) {
		S_push_special(r, "tags", "标签", "/tags/");
		S_render_page(r, "tags", "tags/index.html", "/tags/");
	}
	if (!r->failed)
		S_render_list(r, "tags", "tag");
}

/* Index pages of the collections, and one page per item.  An index is
 * written only when its list is not empty. */
static void S_render_collections(render_ctx *r)
{
	static const struct {
		const char *list, *kind, *index_layout, *title, *url, *rel;
	} sets[] = {
		{"documents", "document", "documents", "联盟文件", "/documents/", "documents/index.html"},
		{"members", "member", "members", "成员单位", "/members/", "members/index.html"},
		{"committees", "committee", "committees", "专门委员会", "/committees/", "committees/index.html"},
		{"majors", "major", "courses", "课程目录", "/courses/", "courses/index.html"},
		{"series", NULL, "stats", "统计数据", "/stats/", "stats/index.html"},
		{"courses", "course", NULL, NULL, NULL, NULL},
	};
	lua_State *L = r->L;
	for (size_t i = 0; i < JB_ARRAY_LEN(sets) && !r->failed; i++) {
		config_push_site(L);
		lua_getfield(L, -1, sets[i].list);
		size_t n = lua_istable(L, -1) ? lua_rawlen(L, -1) : 0;
		lua_pop(L, 2);
		if (!n)
			continue;
		if (sets[i].index_layout && r->worker == 0) {
			S_push_special(r, sets[i].index_layout, sets[i].title, sets[i].url);
			S_render_page(r, sets[i].index_layout, sets[i].rel, sets[i].url);
		}
		if (!r->failed && sets[i].kind)
			S_render_list(r, sets[i].list, sets[i].kind);
	}
}

/* ---- static files ---- */

static int S_copy_files(render_ctx *r)
{
	int rc = 0;
	strvec files = STRVEC_INIT;
	if (theme_list(r->o->theme, "static", &files) < 0)
		rc = -1;
	for (size_t i = 0; i < files.len && rc == 0; i++) {
		char *data = NULL;
		size_t len = 0;
		if (theme_read(r->o->theme, files.items[i], &data, &len) != 0) {
			rc = -1;
			break;
		}
		const char *rel = files.items[i] + strlen("static/");
		char *origin = theme_display_path(r->o->theme, files.items[i]);
		rc = output_write(r->o->out, rel, data, len, origin);
		free(origin);
		free(data);
	}
	strvec_free(&files);

	const strvec *assets = &r->o->model->assets;
	size_t skip = strcmp(r->o->content_dir, ".") == 0 ? 0 : strlen(r->o->content_dir) + 1;
	for (size_t i = 0; i < assets->len && rc == 0; i++) {
		char *data = NULL;
		size_t len = 0;
		if (source_read(r->o->src, assets->items[i], &data, &len) != 0) {
			rc = -1;
			break;
		}
		rc = output_write(r->o->out, assets->items[i] + skip, data, len, assets->items[i]);
		free(data);
	}
	if (rc < 0)
		r->failed = 1;
	return rc;
}

/* ---- feed and sitemap ---- */

static void S_put_abs(buf *b, const site_config *c, const char *path)
{
	while (*path == '/')
		path++;
	buf url = BUF_INIT;
	buf_put_url(&url, c->base_url, strlen(c->base_url));
	buf_put_url(&url, path, strlen(path));
	buf_put_xml(b, buf_cstr(&url), url.len);
	buf_free(&url);
}

static const char *S_field_str(lua_State *L, int idx, const char *k)
{
	lua_getfield(L, idx, k);
	const char *s = lua_isstring(L, -1) ? lua_tostring(L, -1) : NULL;
	lua_pop(L, 1); /* the string stays alive in the table */
	return s;
}

static void S_put_field(buf *b, lua_State *L, int idx, const char *k)
{
	const char *s = S_field_str(L, idx, k);
	if (s)
		buf_put_xml(b, s, strlen(s));
}

static int S_write_feed(render_ctx *r)
{
	lua_State *L = r->L;
	const site_config *c = r->o->config;
	if (S_push_list(L, "bulletins")) {
		lua_pop(L, 1);
		return -1;
	}
	int list = lua_gettop(L);
	lua_Integer n = (lua_Integer)lua_rawlen(L, list);
	if (n > c->feed_size)
		n = c->feed_size;
	buf b = BUF_INIT;
	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"");
	buf_put_xml(&b, c->language, strlen(c->language));
	buf_puts(&b, "\">\n  <title>");
	buf_put_xml(&b, c->title, strlen(c->title));
	buf_puts(&b, "</title>\n  <id>");
	S_put_abs(&b, c, "/");
	buf_puts(&b, "</id>\n  <link rel=\"self\" href=\"");
	S_put_abs(&b, c, "/feed.xml");
	buf_puts(&b, "\"/>\n  <link href=\"");
	S_put_abs(&b, c, "/");
	buf_puts(&b, "\"/>\n  <updated>");
	const char *newest = NULL;
	if (n > 0) {
		lua_rawgeti(L, list, 1);
		newest = S_field_str(L, -1, "date");
		lua_pop(L, 1);
	}
	if (!newest)
		newest = r->o->build_date ? r->o->build_date : "1970-01-01";
	buf_printf(&b, "%.10sT00:00:00+08:00</updated>\n  <generator>" GENERATOR_NAME "</generator>\n", newest);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, list, i);
		int e = lua_gettop(L);
		const char *date = S_field_str(L, e, "date");
		const char *updated = S_field_str(L, e, "updated");
		const char *url = S_field_str(L, e, "url");
		if (!date || !url) {
			lua_pop(L, 1);
			continue;
		}
		buf_puts(&b, "  <entry>\n    <title>");
		S_put_field(&b, L, e, "title");
		buf_puts(&b, "</title>\n    <link href=\"");
		S_put_abs(&b, c, url);
		buf_puts(&b, "\"/>\n    <id>");
		S_put_abs(&b, c, url);
		buf_printf(&b, "</id>\n    <published>%.10sT00:00:00+08:00</published>\n", date);
		buf_printf(&b, "    <updated>%.10sT00:00:00+08:00</updated>\n",
		           updated && strcmp(updated, date) > 0 ? updated : date);
		buf_puts(&b, "    <summary>");
		S_put_field(&b, L, e, "summary");
		buf_puts(&b, "</summary>\n  </entry>\n");
		lua_pop(L, 1);
	}
	buf_puts(&b, "</feed>\n");
	lua_settop(L, list - 1);
	int rc = output_write(r->o->out, "feed.xml", b.ptr, b.len, "(feed)");
	buf_free(&b);
	return rc;
}

static void S_sitemap_list(render_ctx *r, buf *b, const char *field)
{
	lua_State *L = r->L;
	if (S_push_list(L, field)) {
		lua_pop(L, 1);
		return;
	}
	int list = lua_gettop(L);
	lua_Integer n = (lua_Integer)lua_rawlen(L, list);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_rawgeti(L, list, i);
		const char *url = S_field_str(L, -1, "url");
		const char *updated = S_field_str(L, -1, "updated");
		if (url) {
			buf_puts(b, "  <url><loc>");
			S_put_abs(b, r->o->config, url);
			buf_puts(b, "</loc>");
			if (updated) {
				buf_puts(b, "<lastmod>");
				buf_put(b, updated, strnlen(updated, 10));
				buf_puts(b, "</lastmod>");
			}
			buf_puts(b, "</url>\n");
		}
		lua_pop(L, 1);
	}
	lua_settop(L, list - 1);
}

static int S_write_sitemap(render_ctx *r)
{
	buf b = BUF_INIT;
	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	             "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
	buf_puts(&b, "  <url><loc>");
	S_put_abs(&b, r->o->config, "/");
	buf_puts(&b, "</loc></url>\n  <url><loc>");
	S_put_abs(&b, r->o->config, "/bulletins/");
	buf_puts(&b, "</loc></url>\n");
	S_sitemap_list(r, &b, "bulletins");
	static const struct {
		const char *list, *index;
	} more[] = {
		{"years", NULL}, {"tags", "/tags/"},
		{"documents", "/documents/"}, {"members", "/members/"}, {"committees", "/committees/"},
		{"majors", "/courses/"}, {"courses", NULL}, {"series", "/stats/"}, {"pages", NULL},
	};
	for (size_t i = 0; i < JB_ARRAY_LEN(more); i++) {
		config_push_site(r->L);
		lua_getfield(r->L, -1, more[i].list);
		size_t n = lua_istable(r->L, -1) ? lua_rawlen(r->L, -1) : 0;
		lua_pop(r->L, 2);
		if (n && more[i].index && (strcmp(more[i].list, "tags") != 0 || r->tags_page)) {
			buf_puts(&b, "  <url><loc>");
			S_put_abs(&b, r->o->config, more[i].index);
			buf_puts(&b, "</loc></url>\n");
		}
		if (strcmp(more[i].list, "series") != 0)
			S_sitemap_list(r, &b, more[i].list);
	}
	buf_puts(&b, "</urlset>\n");
	int rc = output_write(r->o->out, "sitemap.xml", b.ptr, b.len, "(sitemap)");
	buf_free(&b);
	return rc;
}

static int S_finish_write(void *ctx, const char *path, const char *data, size_t len, const char *origin)
{
	render_ctx *r = ctx;
	return output_write(r->o->out, path, data, len, origin);
}

/* ---- the whole site ---- */

/* ---- notes of cached partials ---- */

typedef struct notes_token {
	uint32_t *ids;
	size_t n;
	unsigned flags;
} notes_token;

static void S_notes_begin(void *ctx)
{
	deps_capture_begin(ctx);
}

static void *S_notes_end(void *ctx)
{
	notes_token *t = xcalloc(1, sizeof *t);
	deps_capture_end(ctx, &t->ids, &t->n, &t->flags);
	return t;
}

static void S_notes_replay(void *ctx, const void *token)
{
	const notes_token *t = token;
	deps_replay(ctx, t->ids, t->n, t->flags);
}

static void S_notes_drop(void *token)
{
	notes_token *t = token;
	free(t->ids);
	free(t);
}

int render_site(const render_options *o)
{
	render_ctx r = {.o = o, .L = o->L, .jobs = o->jobs > 1 ? o->jobs : 1};
	lua_State *L = o->L;
	int top = lua_gettop(L);
	script_set_ctx(L, S_CTX_KEY, &r);
	tpl_site ts = {o->config->base_url, o->config->base_path};
	r.tpl = tpl_new(L, o->theme, &ts);
	if (o->hooks) {
		/* helpers that hooks registered become template globals */
		tpl_push_env(r.tpl);
		hooks_push_helpers(o->hooks);
		lua_pushnil(L);
		while (lua_next(L, -2)) {
			lua_pushvalue(L, -2);
			lua_insert(L, -2);
			lua_rawset(L, -5);
		}
		lua_pop(L, 2);
	}
	if (o->pdf) {
		print_style style;
		print_style_defaults(&style);
		char *code = NULL;
		size_t code_len = 0;
		int found = theme_read(o->theme, "print.lua", &code, &code_len);
		if (found == 0) {
			char *shown = theme_display_path(o->theme, "print.lua");
			print_style_free(&style);
			if (print_style_load(&style, shown, code, code_len) < 0)
				r.failed = 1;
			free(shown);
		} else if (found < 0) {
			r.failed = 1;
		}
		free(code);
		r.ts = typeset_new(&style);
		print_style_free(&style);
	}
	figures_options fo = {.L = L, .out = o->out, .stats = o->stats, .model = o->model,
	                      .base_path = o->config->base_path, .content_dir = o->content_dir};
	r.fig = figures_new(&fo);
	tpl_push_env(r.tpl);
	figures_register(L, -1);
	lua_pop(L, 1);
	if (o->deps) {
		tpl_notes notes = {o->deps, S_notes_begin, S_notes_end, S_notes_replay, S_notes_drop};
		tpl_set_notes(r.tpl, &notes);
		const site_model *m = o->model;
		size_t n = 3 * (m->nbulletins + m->ndocuments + m->npages);
		r.dp = o->deps;
		r.records = xcalloc(n ? n : 1, sizeof *r.records);
		page **lists[3] = {m->bulletins, m->documents, m->pages};
		size_t counts[3] = {m->nbulletins, m->ndocuments, m->npages};
		for (int l = 0; l < 3; l++)
			for (size_t i = 0; i < counts[l]; i++) {
				const page *p = lists[l][i];
				r.records[S_FIELDS(p)] = model_fields_hash(p);
				r.records[S_TEXT(p)] = p->content_hash;
				r.records[S_HISTORY(p)] = model_history_hash(p);
			}
		const char *bd = o->build_date ? o->build_date : "", *c = o->commit ? o->commit : "";
		deps_set_values(r.dp, r.records, n, hash64(bd, strlen(bd)), hash64(c, strlen(c)));
	}
	r.year_pages = S_has_layout(&r, "year");
	r.tag_pages = S_has_layout(&r, "tag");
	r.tags_page = r.tag_pages && S_has_layout(&r, "tags");
	S_build_site_tables(&r);
	S_build_collection_tables(&r);
	S_build_series_tables(&r);
	diag_stage("site tables");
	if (o->hooks && hooks_run_load(o->hooks) < 0)
		r.failed = 1;
	if (!r.failed && (S_build_years(&r) < 0 || S_build_tags(&r) < 0))
		r.failed = 1;
	config_push_site(L);
	tpl_set(r.tpl, "site");
	S_find_kept_volumes(&r);

	if (!r.failed) {
		S_split_workers(&r);
		diag_stage("workers");
		/* the home page and the archive by the last worker: the first one
		 * makes the index pages of the collections */
		if (!r.failed && r.worker == r.jobs - 1) {
			S_push_special(&r, "home", o->config->title, "/");
			S_render_page(&r, "home", "index.html", "(home page)");
			if (!r.failed) {
				S_push_special(&r, "archive", "工作简报", "/bulletins/");
				S_render_page(&r, "archive", "bulletins/index.html", "(bulletin archive)");
			}
			diag_stage("home, archive");
		}
		if (!r.failed)
			S_render_list(&r, "bulletins", "bulletin");
		diag_stage("bulletins");
		if (!r.failed && r.ts)
			S_volume_flush(&r);
		if (!r.failed && r.year_pages)
			S_render_list(&r, "years", "year");
		if (!r.failed)
			S_render_list(&r, "pages", "page");
		if (!r.failed)
			S_render_tags(&r);
		S_render_collections(&r);
		diag_stage("collections");
		/* the not-found page, the feed and the sitemap: the last worker too */
		if (!r.failed && r.worker == r.jobs - 1) {
			S_push_special(&r, "404", "页面不存在", "/404.html");
			S_render_page(&r, "404", "404.html", "(not-found page)");
			if (!r.failed && (S_write_feed(&r) < 0 || S_write_sitemap(&r) < 0))
				r.failed = 1;
			diag_stage("feed, sitemap");
		}
		S_join_workers(&r);
		diag_stage("joined");
		if (!r.failed)
			S_copy_files(&r);
	}
	if (!r.failed && !*o->interrupted && o->hooks &&
	    hooks_run_finish(o->hooks, output_count(o->out), S_finish_write, &r) < 0)
		r.failed = 1;

	for (size_t i = 0; i < r.nvolume; i++)
		md_doc_free(&r.volume[i].md);
	free(r.volume);
	free(r.records);
	strmap_free(&r.volume_kept, NULL);
	typeset_free(r.ts);
	figures_free(r.fig);
	tpl_free(r.tpl);
	script_set_ctx(L, S_CTX_KEY, NULL);
	lua_settop(L, top);
	return r.failed || *o->interrupted ? -1 : 0;
}
