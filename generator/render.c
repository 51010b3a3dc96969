#include "render.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "markdown.h"
#include "script.h"
#include "template.h"
#include "util.h"

#define S_PAGES_KEY "jianbao.page_tables" /* page* (light userdata) → table */
#define S_PTRS_KEY "jianbao.page_ptrs"    /* table → page* */
#define S_CTX_KEY "jianbao.render"

#define GENERATOR_NAME "jianbao"
#ifndef JIANBAO_VERSION
#define JIANBAO_VERSION "0.1.0"
#endif

typedef struct render_ctx {
	const render_options *o;
	lua_State *L;
	tpl_engine *tpl;
	int failed;
} render_ctx;

/* ---- Markdown bodies ---- */

/* HTML of a page's body; NULL after reporting.  Caller frees. */
static char *S_page_html(render_ctx *r, const page *p)
{
	char *owner = NULL;
	const char *body;
	size_t len;
	if (model_read_body(r->o->src, p, &owner, &body, &len) < 0)
		return NULL;
	md_doc md = {0};
	md_parse(&md, body, len, r->o->config->allow_raw_html);
	md_normalize(&md);
	if (p->title_from_heading)
		free(md_take_title(&md, 1));
	char *html = md_render_html(&md);
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
	md_parse(&md, body, len, 0);
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
static int S_page_index(lua_State *L)
{
	const char *key = lua_tostring(L, 2);
	if (!key || (strcmp(key, "summary") != 0 && strcmp(key, "content") != 0))
		return 0;
	lua_getfield(L, LUA_REGISTRYINDEX, S_PTRS_KEY);
	lua_pushvalue(L, 1);
	lua_rawget(L, -2);
	const page *p = lua_touserdata(L, -1);
	lua_pop(L, 2);
	if (!p)
		return 0;
	render_ctx *r = S_ctx(L);
	char *s = key[0] == 's' ? S_page_summary(r, p) : S_page_html(r, p);
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

static void S_set_str(lua_State *L, const char *k, const char *v)
{
	if (!v || !*v)
		return;
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

static void S_set_int(lua_State *L, const char *k, long v)
{
	if (!v)
		return;
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

static void S_set_list(lua_State *L, const char *k, const strvec *v)
{
	lua_createtable(L, (int)v->len, 0);
	for (size_t i = 0; i < v->len; i++) {
		lua_pushstring(L, v->items[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
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

static char *S_page_url(const page *p)
{
	return xasprintf("/%s/", p->slug);
}

static void S_push_page_table(render_ctx *r, page *p)
{
	lua_State *L = r->L;
	lua_createtable(L, 0, 32);
	lua_pushstring(L, p->kind == PAGE_BULLETIN ? "bulletin" : "page");
	lua_setfield(L, -2, "kind");
	S_set_str(L, "title", p->title);
	S_set_str(L, "subtitle", p->subtitle);
	S_set_str(L, "author", p->author);
	S_set_str(L, "description", p->description);
	S_set_str(L, "series", p->series);
	S_set_str(L, "publisher", p->publisher);
	S_set_str(L, "guidance", p->guidance);
	S_set_str(L, "editor", p->editor);
	S_set_int(L, "issue", p->issue);
	S_set_int(L, "total", p->total);
	S_set_int(L, "year", p->year);
	if (p->has_date) {
		char d[11];
		date_format_iso(&p->date, d);
		S_set_str(L, "date", d);
	}
	S_set_str(L, "created", p->created);
	S_set_str(L, "updated", p->updated);
	S_set_list(L, "tags", &p->tags);
	S_set_list(L, "authors", &p->authors);
	char *url = S_page_url(p);
	S_set_str(L, "url", url);
	free(url);
	S_set_str(L, "source", p->source);
	if (p->meta)
		S_push_yval(L, p->meta);
	else
		lua_newtable(L);
	lua_setfield(L, -2, "params");

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

static void S_push_table_of(render_ctx *r, page *p)
{
	lua_getfield(r->L, LUA_REGISTRYINDEX, S_PAGES_KEY);
	lua_pushlightuserdata(r->L, p);
	lua_rawget(r->L, -2);
	lua_remove(r->L, -2);
}

/* Builds every page table and the site lists, and stores them in the
 * site table: bulletins, years, pages, build_date, generator, commit. */
static void S_build_site_tables(render_ctx *r)
{
	lua_State *L = r->L;
	site_model *m = r->o->model;
	luaL_newmetatable(L, "jianbao.page");
	lua_pushcfunction(L, S_page_index);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
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
	for (size_t i = 0; i < m->nbulletins; i++) {
		page *p = m->bulletins[i];
		S_push_table_of(r, p);
		if (p->prev) {
			S_push_table_of(r, p->prev);
			lua_setfield(L, -2, "prev");
		}
		if (p->next) {
			S_push_table_of(r, p->next);
			lua_setfield(L, -2, "next");
		}
		lua_pop(L, 1);
	}

	/* years, newest first (bulletins are sorted newest first) */
	lua_newtable(L);
	int years = lua_gettop(L);
	lua_Integer nyears = 0;
	int cur = -1;
	lua_Integer nin = 0;
	for (size_t i = 0; i < m->nbulletins; i++) {
		page *p = m->bulletins[i];
		if (p->year != cur) {
			if (cur != -1)
				lua_pop(L, 2);
			cur = p->year;
			lua_createtable(L, 0, 2);
			lua_pushinteger(L, cur);
			lua_setfield(L, -2, "year");
			lua_newtable(L);
			lua_pushvalue(L, -1);
			lua_setfield(L, -3, "bulletins");
			lua_pushvalue(L, -2);
			lua_rawseti(L, years, ++nyears);
			nin = 0;
			/* stack: year table, its bulletins list */
		}
		S_push_table_of(r, p);
		lua_rawseti(L, -2, ++nin);
	}
	if (cur != -1)
		lua_pop(L, 2);
	lua_setfield(L, site, "years");

	lua_createtable(L, (int)m->npages, 0);
	for (size_t i = 0; i < m->npages; i++) {
		S_push_page_table(r, m->pages[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, site, "pages");

	S_set_str(L, "build_date", r->o->build_date);
	S_set_str(L, "commit", r->o->commit);
	lua_pushstring(L, GENERATOR_NAME " " JIANBAO_VERSION);
	lua_setfield(L, site, "generator");
	lua_pop(L, 1);
}

/* ---- writing pages ---- */

/* Renders layouts/<kind>.html with the page table on top of the stack
 * (popped), wraps it in layouts/base.html and writes rel. */
static int S_render_page(render_ctx *r, const char *kind, const char *rel, const char *origin)
{
	lua_State *L = r->L;
	tpl_set(r->tpl, "page");
	char *layout = xasprintf("layouts/%s.html", kind);
	buf inner = BUF_INIT, html = BUF_INIT;
	int rc = tpl_render(r->tpl, layout, &inner);
	if (rc == 1) {
		char *shown = theme_display_path(r->o->theme, layout);
		diag_error(shown, 0, 0, "missing layout for page kind '%s' (needed by %s)", kind, origin);
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
		rc = output_write(r->o->out, rel, html.ptr ? html.ptr : "", html.len, origin);
	buf_free(&inner);
	buf_free(&html);
	free(layout);
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

static int S_render_content_page(render_ctx *r, page *p)
{
	lua_State *L = r->L;
	char *html = S_page_html(r, p);
	if (!html) {
		r->failed = 1;
		return -1;
	}
	S_push_table_of(r, p);
	lua_pushstring(L, html);
	lua_setfield(L, -2, "content");
	free(html);
	lua_pushvalue(L, -1);
	int keep = lua_gettop(L) - 1;
	char *rel = xasprintf("%s/index.html", p->slug);
	int rc = S_render_page(r, p->kind == PAGE_BULLETIN ? "bulletin" : "page", rel, p->source);
	free(rel);
	/* drop the HTML again so that memory does not grow with the site */
	lua_pushnil(L);
	lua_setfield(L, keep, "content");
	lua_settop(L, keep - 1);
	return rc;
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
	char *prefix = path_join(r->o->content_dir, "");
	size_t skip = strlen(prefix) + 1;
	if (!strcmp(prefix, "") || !strcmp(prefix, "."))
		skip = 0;
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
	free(prefix);
	if (rc < 0)
		r->failed = 1;
	return rc;
}

/* ---- feed and sitemap ---- */

static void S_put_abs(buf *b, const site_config *c, const char *path)
{
	while (*path == '/')
		path++;
	buf_put_xml(b, c->base_url, strlen(c->base_url));
	buf_put_xml(b, path, strlen(path));
}

static int S_write_feed(render_ctx *r)
{
	const site_config *c = r->o->config;
	const site_model *m = r->o->model;
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
	char d[11] = "1970-01-01";
	if (m->nbulletins)
		date_format_iso(&m->bulletins[0]->date, d);
	else if (r->o->build_date)
		snprintf(d, sizeof d, "%s", r->o->build_date);
	buf_printf(&b, "%sT00:00:00+08:00</updated>\n  <generator>" GENERATOR_NAME "</generator>\n", d);
	size_t n = m->nbulletins < (size_t)c->feed_size ? m->nbulletins : (size_t)c->feed_size;
	for (size_t i = 0; i < n; i++) {
		const page *p = m->bulletins[i];
		char *url = S_page_url(p);
		date_format_iso(&p->date, d);
		buf_puts(&b, "  <entry>\n    <title>");
		buf_put_xml(&b, p->title, strlen(p->title));
		buf_puts(&b, "</title>\n    <link href=\"");
		S_put_abs(&b, c, url);
		buf_puts(&b, "\"/>\n    <id>");
		S_put_abs(&b, c, url);
		buf_printf(&b, "</id>\n    <published>%sT00:00:00+08:00</published>\n    <updated>", d);
		buf_printf(&b, "%sT00:00:00+08:00</updated>\n", p->updated[0] && strcmp(p->updated, d) > 0 ? p->updated : d);
		char *summary = S_page_summary(r, p);
		buf_puts(&b, "    <summary>");
		buf_put_xml(&b, summary, strlen(summary));
		buf_puts(&b, "</summary>\n  </entry>\n");
		free(summary);
		free(url);
	}
	buf_puts(&b, "</feed>\n");
	int rc = output_write(r->o->out, "feed.xml", b.ptr, b.len, "(feed)");
	buf_free(&b);
	return rc;
}

static void S_sitemap_url(buf *b, const site_config *c, const char *path, const char *lastmod)
{
	buf_puts(b, "  <url><loc>");
	S_put_abs(b, c, path);
	buf_puts(b, "</loc>");
	if (lastmod && *lastmod)
		buf_printf(b, "<lastmod>%s</lastmod>", lastmod);
	buf_puts(b, "</url>\n");
}

static int S_write_sitemap(render_ctx *r)
{
	const site_config *c = r->o->config;
	const site_model *m = r->o->model;
	buf b = BUF_INIT;
	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	             "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
	S_sitemap_url(&b, c, "/", NULL);
	S_sitemap_url(&b, c, "/bulletins/", NULL);
	for (size_t i = 0; i < m->nbulletins; i++) {
		char *url = S_page_url(m->bulletins[i]);
		S_sitemap_url(&b, c, url, m->bulletins[i]->updated);
		free(url);
	}
	for (size_t i = 0; i < m->npages; i++) {
		char *url = S_page_url(m->pages[i]);
		S_sitemap_url(&b, c, url, m->pages[i]->updated);
		free(url);
	}
	buf_puts(&b, "</urlset>\n");
	int rc = output_write(r->o->out, "sitemap.xml", b.ptr, b.len, "(sitemap)");
	buf_free(&b);
	return rc;
}

/* ---- the whole site ---- */

int render_site(const render_options *o)
{
	render_ctx r = {.o = o, .L = o->L};
	lua_State *L = o->L;
	script_set_ctx(L, S_CTX_KEY, &r);
	tpl_site ts = {o->config->base_url, o->config->base_path};
	r.tpl = tpl_new(L, o->theme, &ts);
	S_build_site_tables(&r);
	config_push_site(L);
	tpl_set(r.tpl, "site");

	site_model *m = o->model;
	S_push_special(&r, "home", o->config->title, "/");
	S_render_page(&r, "home", "index.html", "(home page)");
	S_push_special(&r, "archive", "工作简报", "/bulletins/");
	S_render_page(&r, "archive", "bulletins/index.html", "(bulletin archive)");
	for (size_t i = 0; i < m->nbulletins && !*o->interrupted; i++)
		S_render_content_page(&r, m->bulletins[i]);
	for (size_t i = 0; i < m->npages && !*o->interrupted; i++)
		S_render_content_page(&r, m->pages[i]);
	S_push_special(&r, "404", "页面不存在", "/404.html");
	S_render_page(&r, "404", "404.html", "(not-found page)");
	if (S_write_feed(&r) < 0 || S_write_sitemap(&r) < 0)
		r.failed = 1;
	S_copy_files(&r);

	tpl_free(r.tpl);
	script_set_ctx(L, S_CTX_KEY, NULL);
	return r.failed || *o->interrupted ? -1 : 0;
}
