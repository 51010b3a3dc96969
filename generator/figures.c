#include "figures.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "frontmatter.h"
#include "script.h"

#define S_CTX_KEY "jianbao.figures"

struct figures {
	figures_options o;
	strmap written; /* hash → 1 */
	strvec urls;    /* strings handed to the source-url callback */
};

static figures *S_get(lua_State *L)
{
	return script_get_ctx(L, S_CTX_KEY);
}

figures *figures_new(const figures_options *o)
{
	figures *f = xcalloc(1, sizeof *f);
	f->o = *o;
	script_set_ctx(o->L, S_CTX_KEY, f);
	return f;
}

void figures_free(figures *f)
{
	if (!f)
		return;
	script_set_ctx(f->o.L, S_CTX_KEY, NULL);
	strmap_free(&f->written, NULL);
	strvec_free(&f->urls);
	free(f);
}

static const series *S_find(void *ctx, const char *id)
{
	figures *f = ctx;
	return f->o.stats ? stats_find(f->o.stats, id) : NULL;
}

/* A row's source ("2024/01", or several joined by |: the first) → the
 * bulletin's URL, when it exists. */
static const char *S_source_url(void *ctx, const char *ref)
{
	figures *f = ctx;
	size_t n = strcspn(ref, "|");
	char *first = str_trim(xstrndup(ref, n));
	const page *hit = f->o.model ? model_bulletin(f->o.model, f->o.content_dir, first) : NULL;
	free(first);
	if (!hit)
		return NULL;
	strvec_push(&f->urls, xasprintf("%s%s/", f->o.base_path, hit->slug));
	return f->urls.items[f->urls.len - 1];
}

char *figures_html(figures *f, const chart *c, const char *origin)
{
	buf png1 = BUF_INIT, png2 = BUF_INIT;
	if (chart_render_png(c, 1, &png1) < 0 || chart_render_png(c, 2, &png2) < 0) {
		diag_error(origin, 0, 0, "cannot render a chart");
		buf_free(&png1);
		buf_free(&png2);
		return NULL;
	}
	char id[17];
	snprintf(id, sizeof id, "%016llx", (unsigned long long)hash64(png2.ptr, png2.len));
	char *rel1 = xasprintf("charts/%s.png", id), *rel2 = xasprintf("charts/%s@2x.png", id);
	int rc = 0;
	if (!strmap_get(&f->written, id)) {
		rc = output_write_file(f->o.out, rel1, png1.ptr, png1.len, origin, 1);
		if (rc == 0)
			rc = output_write_file(f->o.out, rel2, png2.ptr, png2.len, origin, 1);
		strmap_put(&f->written, id, (void *)1);
	}
	char *html = NULL;
	if (rc == 0) {
		char *u1 = xasprintf("%s%s", f->o.base_path, rel1), *u2 = xasprintf("%s%s", f->o.base_path, rel2);
		html = chart_figure_html(c, u1, u2, S_source_url, f);
		free(u1);
		free(u2);
	}
	free(rel1);
	free(rel2);
	buf_free(&png1);
	buf_free(&png2);
	return html;
}

static int S_is_chart_block(cmark_node *n)
{
	if (cmark_node_get_type(n) != CMARK_NODE_CODE_BLOCK)
		return 0;
	const char *info = cmark_node_get_fence_info(n);
	return info && !strncmp(info, "chart", 5) && (info[5] == '\0' || info[5] == ' ' || info[5] == '\t');
}

int figures_expand(figures *f, md_doc *md, const char *file, int first_line, figures_swap *sw)
{
	memset(sw, 0, sizeof *sw);
	cmark_iter *it = cmark_iter_new(md->root);
	cmark_event_type ev;
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		if (ev == CMARK_EVENT_ENTER && S_is_chart_block(n)) {
			sw->code = xrealloc(sw->code, (sw->n + 1) * sizeof(cmark_node *));
			sw->html = xrealloc(sw->html, (sw->n + 1) * sizeof(cmark_node *));
			sw->captions = xrealloc(sw->captions, (sw->n + 1) * sizeof(char *));
			sw->code[sw->n] = n;
			sw->html[sw->n] = NULL;
			sw->captions[sw->n] = NULL;
			sw->n++;
		}
	}
	cmark_iter_free(it);
	int rc = 0;
	for (size_t i = 0; i < sw->n; i++) {
		cmark_node *n = sw->code[i];
		const char *text = cmark_node_get_literal(n);
		int line = first_line + cmark_node_get_start_line(n); /* the YAML starts after the fence */
		chart *c = chart_parse(file, line, text ? text : "", text ? strlen(text) : 0, S_find, f);
		if (!c || chart_check(c, file, line - 1, 1) < 0) {
			chart_free(c);
			rc = -1;
			continue;
		}
		char *html = figures_html(f, c, file);
		chart_free(c);
		if (!html) {
			rc = -1;
			continue;
		}
		buf quiet = BUF_INIT;
		diag_capture(&quiet);
		yval *spec = yaml_parse_text(file, line, 1, text ? text : "", text ? strlen(text) : 0);
		diag_capture(NULL);
		buf_free(&quiet);
		const yval *cap = yval_get(spec, "caption");
		if (cap && cap->kind == YV_SCALAR && *cap->str)
			sw->captions[i] = xstrdup(cap->str);
		yval_free(spec);
		cmark_node *cb = cmark_node_new(CMARK_NODE_CUSTOM_BLOCK);
		cmark_node_set_on_enter(cb, html);
		cmark_node_set_on_exit(cb, "");
		free(html);
		cmark_node_insert_before(n, cb);
		cmark_node_unlink(n);
		sw->html[i] = cb;
	}
	if (rc < 0)
		figures_restore(sw);
	return rc;
}

void figures_restore(figures_swap *sw)
{
	for (size_t i = 0; i < sw->n; i++) {
		if (sw->html[i]) {
			cmark_node_insert_before(sw->html[i], sw->code[i]);
			cmark_node_unlink(sw->html[i]);
			cmark_node_free(sw->html[i]);
			if (sw->captions[i]) {
				/* the figure's caption, as md_normalize marks captions */
				cmark_node *cap = cmark_node_new(CMARK_NODE_CUSTOM_BLOCK);
				cmark_node_set_on_enter(cap, "<p class=\"caption\">");
				cmark_node_set_on_exit(cap, "</p>");
				cmark_node *t = cmark_node_new(CMARK_NODE_TEXT);
				cmark_node_set_literal(t, sw->captions[i]);
				cmark_node_append_child(cap, t);
				cmark_node_insert_after(sw->code[i], cap);
			}
		}
		free(sw->captions[i]);
	}
	free(sw->code);
	free(sw->html);
	free(sw->captions);
	memset(sw, 0, sizeof *sw);
}

int figures_draw_block(void *ctx, cmark_node *fenced, cairo_t *cr, double width, double *height)
{
	figures *f = ctx;
	if (!f || !S_is_chart_block(fenced))
		return 1;
	const char *text = cmark_node_get_literal(fenced);
	/* the HTML pass has reported any problem with this block already */
	buf quiet = BUF_INIT;
	diag_capture(&quiet);
	chart *c = chart_parse("(chart)", 1, text ? text : "", text ? strlen(text) : 0, S_find, f);
	diag_capture(NULL);
	buf_free(&quiet);
	if (!c)
		return 1;
	double w, h;
	chart_get_size(c, &w, &h);
	*height = width * h / w;
	if (cr) {
		cairo_save(cr);
		cairo_scale(cr, width / w, width / w);
		chart_draw(c, cr, w, h);
		cairo_restore(cr);
	}
	chart_free(c);
	return 0;
}

/* Appends the string, or the strings of the list, at the top of the stack. */
static void S_read_names(lua_State *L, strvec *out)
{
	if (lua_isstring(L, -1)) {
		strvec_push_copy(out, lua_tostring(L, -1));
		return;
	}
	if (!lua_istable(L, -1))
		return;
	for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, -1); i++) {
		lua_rawgeti(L, -1, i);
		if (lua_isstring(L, -1))
			strvec_push_copy(out, lua_tostring(L, -1));
		lua_pop(L, 1);
	}
}

/* ---- default charts of series ---- */

static int S_is_year(const char *s)
{
	return strlen(s) == 4 && s[0] >= '1' && s[0] <= '2' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9' &&
	       s[3] >= '0' && s[3] <= '9';
}

chart *figures_series_chart(figures *f, const series *s)
{
	lua_State *L = f->o.L;
	/* site.charts[id] overrides */
	const char *type_name = NULL, *title = NULL, *caption = NULL;
	strvec y = STRVEC_INIT;
	int top = lua_gettop(L);
	config_push_site(L);
	lua_getfield(L, -1, "charts");
	if (lua_istable(L, -1)) {
		lua_getfield(L, -1, s->id);
		if (lua_istable(L, -1)) {
			lua_getfield(L, -1, "type");
			type_name = lua_tostring(L, -1);
			lua_pop(L, 1);
			lua_getfield(L, -1, "title");
			title = lua_tostring(L, -1);
			lua_pop(L, 1);
			lua_getfield(L, -1, "caption");
			caption = lua_tostring(L, -1);
			lua_pop(L, 1);
			lua_getfield(L, -1, "y");
			S_read_names(L, &y);
			lua_pop(L, 1);
		}
	}
	/* the strings stay alive in the site table while we use them */
	lua_settop(L, top);
	int years = 1, nonneg = 1;
	for (size_t r = 0; r < s->nrows; r++) {
		years &= S_is_year(s->rows[r].x);
		for (size_t c = 0; c < s->ncols; c++)
			if (s->cols[c].kind == SERIES_VALUE && !s->rows[r].missing[c] && s->rows[r].value[c] < 0)
				nonneg = 0;
	}
	/* default y: the value columns that share the first one's unit */
	if (!y.len) {
		const char *unit = NULL;
		int first = 1;
		for (size_t c = 0; c < s->ncols; c++) {
			if (s->cols[c].kind != SERIES_VALUE)
				continue;
			const char *u = s->cols[c].unit ? s->cols[c].unit : "";
			if (first) {
				unit = u;
				first = 0;
			}
			if (!strcmp(u, unit) && strcmp(u, "%") != 0 && (y.len < 4))
				strvec_push_copy(&y, s->cols[c].name);
		}
	}
	/* a chart compares at least two categories; parts of a whole need
	 * every value */
	size_t present = 0, missing = 0;
	for (size_t r = 0; r < s->nrows; r++) {
		int any = 0;
		for (size_t i = 0; i < y.len; i++) {
			long c = series_column_index(s, y.items[i]);
			if (c < 0)
				continue;
			if (s->rows[r].missing[c])
				missing++;
			else
				any = 1;
		}
		present += any;
	}
	if (present < 2) {
		strvec_free(&y);
		return NULL;
	}
	chart_type t = CHART_LINE;
	if (type_name) {
		if (chart_type_parse(type_name, &t) < 0) {
			diag_error("site.lua", 0, 0, "site.charts['%s'].type: unknown chart type '%s'", s->id, type_name);
			strvec_free(&y);
			return NULL;
		}
	} else if (years) {
		t = CHART_LINE;
	} else if (y.len == 1 && nonneg && !missing && s->nrows <= 6) {
		t = CHART_DONUT;
	} else {
		t = CHART_HBAR;
	}
	if ((t == CHART_PIE || t == CHART_DONUT) && y.len > 1) {
		for (size_t i = 1; i < y.len; i++)
			free(y.items[i]);
		y.len = 1;
	}
	chart *c = chart_new(t);
	char *auto_title = NULL;
	if (!title) {
		buf b = BUF_INIT;
		for (size_t i = 0; i < y.len; i++) {
			if (i)
				buf_puts(&b, "、");
			buf_puts(&b, y.items[i]);
		}
		auto_title = buf_detach(&b);
	}
	chart_set_title(c, title ? title : auto_title);
	if (caption)
		chart_set_caption(c, caption);
	free(auto_title);
	int rc = chart_add_from_series(c, s, NULL, (const char *const *)y.items, y.len, s->file, 1, 1);
	strvec_free(&y);
	if (rc < 0) {
		chart_free(c);
		return NULL;
	}
	return c;
}

/* ---- chart{…} ---- */

static const char *S_opt_str(lua_State *L, int t, const char *k)
{
	lua_getfield(L, t, k);
	const char *s = lua_isstring(L, -1) ? lua_tostring(L, -1) : NULL;
	if (!s && !lua_isnil(L, -1))
		luaL_error(L, "chart: '%s' must be a string", k);
	lua_pop(L, 1);
	return s;
}

static int S_lua_chart(lua_State *L)
{
	figures *f = S_get(L);
	if (!f)
		return luaL_error(L, "chart: charts can only be made while the site is rendered");
	luaL_checktype(L, 1, LUA_TTABLE);
	const char *tn = S_opt_str(L, 1, "type");
	chart_type t = CHART_LINE;
	if (tn && chart_type_parse(tn, &t) < 0)
		return luaL_error(L, "chart: unknown type '%s' (line, bar, hbar, stacked, pie or donut)", tn);
	const char *data = S_opt_str(L, 1, "data");
	const series *s = NULL;
	series *owned = NULL;
	if (data) {
		s = S_find(f, data);
		if (!s)
			return luaL_error(L, "chart: no series '%s' (content/data/%s.csv)", data, data);
	} else {
		lua_getfield(L, 1, "rows");
		if (!lua_istable(L, -1))
			return luaL_error(L, "chart: give data = \"series id\" or rows = { {header…}, {…} }");
		size_t nrows = lua_rawlen(L, -1), ncols = 0;
		if (nrows > 0) {
			lua_rawgeti(L, -1, 1);
			ncols = lua_istable(L, -1) ? lua_rawlen(L, -1) : 0;
			lua_pop(L, 1);
		}
		if (!nrows || !ncols)
			return luaL_error(L, "chart: rows must start with a header row");
		char **cells = xcalloc(nrows * ncols, sizeof(char *));
		int bad = 0;
		for (size_t r = 0; r < nrows && !bad; r++) {
			lua_rawgeti(L, -1, (lua_Integer)r + 1);
			if (!lua_istable(L, -1) || lua_rawlen(L, -1) != ncols)
				bad = 1;
			for (size_t c = 0; c < ncols && !bad; c++) {
				lua_rawgeti(L, -1, (lua_Integer)c + 1);
				size_t len;
				const char *v = lua_isnumber(L, -1) || lua_isstring(L, -1) ? lua_tolstring(L, -1, &len) : "";
				cells[r * ncols + c] = xstrdup(v);
				lua_pop(L, 1);
			}
			lua_pop(L, 1);
		}
		lua_pop(L, 1);
		lua_Debug ar;
		char where[256] = "chart{}";
		if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar))
			snprintf(where, sizeof where, "%s", ar.short_src);
		if (!bad)
			owned = series_from_cells(where, "inline", nrows, ncols, (const char *const *)cells, NULL, NULL);
		for (size_t i = 0; i < nrows * ncols; i++)
			free(cells[i]);
		free(cells);
		if (bad)
			return luaL_error(L, "chart: every row must have as many cells as the header");
		if (!owned)
			return luaL_error(L, "chart: the rows are not a valid table (see the error above)");
		s = owned;
	}
	const char *x = S_opt_str(L, 1, "x");
	strvec y = STRVEC_INIT;
	lua_getfield(L, 1, "y");
	S_read_names(L, &y);
	lua_pop(L, 1);
	chart *c = chart_new(t);
	const char *title = S_opt_str(L, 1, "title"), *caption = S_opt_str(L, 1, "caption"),
	           *units = S_opt_str(L, 1, "units");
	if (title)
		chart_set_title(c, title);
	if (caption)
		chart_set_caption(c, caption);
	if (units)
		chart_set_units(c, units);
	lua_getfield(L, 1, "width");
	lua_getfield(L, 1, "height");
	if (lua_isnumber(L, -2) || lua_isnumber(L, -1))
		chart_set_size(c, lua_isnumber(L, -2) ? lua_tonumber(L, -2) : CHART_DEFAULT_WIDTH,
		               lua_isnumber(L, -1) ? lua_tonumber(L, -1) : CHART_DEFAULT_HEIGHT);
	lua_pop(L, 2);
	lua_Debug ar;
	char file[256] = "chart{}";
	int line = 0;
	if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar)) {
		snprintf(file, sizeof file, "%s", ar.short_src);
		line = ar.currentline;
	}
	int rc = chart_add_from_series(c, s, x, (const char *const *)y.items, y.len, file, line, 0);
	strvec_free(&y);
	if (rc == 0)
		rc = chart_check(c, file, line, 0);
	char *html = rc == 0 ? figures_html(f, c, file) : NULL;
	chart_free(c);
	series_free(owned);
	if (!html)
		return luaL_error(L, "chart: the chart could not be made (see the error above)");
	lua_pushstring(L, html);
	free(html);
	return 1;
}

void figures_register(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	lua_pushcfunction(L, S_lua_chart);
	lua_setfield(L, idx, "chart");
}
