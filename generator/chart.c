#include "chart.h"

#include <math.h>
#include <pango/pangocairo.h>
#include <pango/pangofc-fontmap.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "frontmatter.h"
#include "typeset.h"

#define S_PI 3.14159265358979323846

/* ---- the spec ---- */

typedef struct S_cat {
	char *label, *source, *note;
} S_cat;

typedef struct S_ser {
	char *name, *unit;
	double *v;
	unsigned char *has; /* 1 when a value was set */
} S_ser;

struct chart {
	chart_type type;
	char *title, *caption, *units, *x_name;
	double width, height;
	S_cat *cats;
	size_t ncat, cat_cap;
	S_ser *sers;
	size_t nser;
};

static const char *const S_type_names[] = {"line", "bar", "hbar", "stacked", "pie", "donut"};
static const char *const S_type_cn[] = {"折线图", "柱状图", "条形图", "堆积柱状图", "饼图", "环形图"};

/* A copy of s with every invalid UTF-8 byte replaced by U+FFFD, so that
 * Pango and HTML only ever see valid text.  NULL stays NULL. */
static char *S_dup_text(const char *s)
{
	if (!s)
		return NULL;
	size_t len = strlen(s), bad;
	if (utf8_valid(s, len, &bad))
		return xstrdup(s);
	buf b = BUF_INIT;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);
		if (cp == 0xFFFD && n == 1)
			buf_puts(&b, "\xEF\xBF\xBD");
		else
			buf_put(&b, s + i, n);
		i += n;
	}
	return buf_detach(&b);
}

static void S_set_str(char **field, const char *s)
{
	free(*field);
	*field = S_dup_text(s);
}

chart *chart_new(chart_type t)
{
	chart *c = xcalloc(1, sizeof *c);
	c->type = t;
	c->width = CHART_DEFAULT_WIDTH;
	c->height = CHART_DEFAULT_HEIGHT;
	return c;
}

void chart_free(chart *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ncat; i++) {
		free(c->cats[i].label);
		free(c->cats[i].source);
		free(c->cats[i].note);
	}
	free(c->cats);
	for (size_t s = 0; s < c->nser; s++) {
		free(c->sers[s].name);
		free(c->sers[s].unit);
		free(c->sers[s].v);
		free(c->sers[s].has);
	}
	free(c->sers);
	free(c->title);
	free(c->caption);
	free(c->units);
	free(c->x_name);
	free(c);
}

int chart_type_parse(const char *name, chart_type *out)
{
	for (size_t i = 0; i < JB_ARRAY_LEN(S_type_names); i++) {
		if (strcmp(name, S_type_names[i]) == 0) {
			*out = (chart_type)i;
			return 0;
		}
	}
	return -1;
}

const char *chart_type_name(chart_type t)
{
	return (size_t)t < JB_ARRAY_LEN(S_type_names) ? S_type_names[t] : "?";
}

chart_type chart_get_type(const chart *c)
{
	return c->type;
}

void chart_set_title(chart *c, const char *title)
{
	S_set_str(&c->title, title);
}

void chart_set_caption(chart *c, const char *caption)
{
	S_set_str(&c->caption, caption);
}

void chart_set_units(chart *c, const char *units)
{
	S_set_str(&c->units, units);
}

void chart_set_x_name(chart *c, const char *name)
{
	S_set_str(&c->x_name, name);
}

static double S_clamp_size(double v, double dflt)
{
	if (!isfinite(v))
		return dflt;
	return v < CHART_MIN_SIZE ? CHART_MIN_SIZE : v > CHART_MAX_SIZE ? CHART_MAX_SIZE : v;
}

void chart_set_size(chart *c, double width, double height)
{
	c->width = S_clamp_size(width, CHART_DEFAULT_WIDTH);
	c->height = S_clamp_size(height, CHART_DEFAULT_HEIGHT);
}

void chart_get_size(const chart *c, double *width, double *height)
{
	*width = c->width;
	*height = c->height;
}

size_t chart_add_category(chart *c, const char *label, const char *source, const char *note)
{
	if (c->ncat == c->cat_cap) {
		c->cat_cap = c->cat_cap ? c->cat_cap * 2 : 8;
		c->cats = xrealloc(c->cats, c->cat_cap * sizeof *c->cats);
		for (size_t s = 0; s < c->nser; s++) {
			c->sers[s].v = xrealloc(c->sers[s].v, c->cat_cap * sizeof(double));
			c->sers[s].has = xrealloc(c->sers[s].has, c->cat_cap);
		}
	}
	S_cat *k = &c->cats[c->ncat];
	k->label = S_dup_text(label ? label : "");
	k->source = source && *source ? S_dup_text(source) : NULL;
	k->note = note && *note ? S_dup_text(note) : NULL;
	for (size_t s = 0; s < c->nser; s++) {
		c->sers[s].v[c->ncat] = 0;
		c->sers[s].has[c->ncat] = 0;
	}
	return c->ncat++;
}

size_t chart_add_series(chart *c, const char *name, const char *unit)
{
	c->sers = xrealloc(c->sers, (c->nser + 1) * sizeof *c->sers);
	S_ser *s = &c->sers[c->nser];
	s->name = S_dup_text(name ? name : "");
	s->unit = unit && *unit ? S_dup_text(unit) : NULL;
	s->v = xcalloc(c->cat_cap ? c->cat_cap : 1, sizeof(double));
	s->has = xcalloc(c->cat_cap ? c->cat_cap : 1, 1);
	return c->nser++;
}

void chart_set_value(chart *c, size_t series_index, size_t category, double v)
{
	if (series_index >= c->nser || category >= c->ncat)
		return;
	c->sers[series_index].v[category] = v;
	c->sers[series_index].has[category] = 1;
}

size_t chart_categories(const chart *c)
{
	return c->ncat;
}

size_t chart_series_count(const chart *c)
{
	return c->nser;
}

static int S_is_pie(const chart *c)
{
	return c->type == CHART_PIE || c->type == CHART_DONUT;
}

/* Lists the columns of s for "no such column" messages. */
static char *S_column_list(const series *s, int values_only)
{
	buf b = BUF_INIT;
	for (size_t j = 0; j < s->ncols; j++) {
		if (values_only && s->cols[j].kind != SERIES_VALUE)
			continue;
		if (b.len)
			buf_puts(&b, ", ");
		buf_puts(&b, s->cols[j].name);
	}
	return buf_detach(&b);
}

static long S_find_column(const series *s, const char *name, const char *file, int line, int col)
{
	long j = series_column_index(s, name);
	if (j < 0) {
		char *list = S_column_list(s, 0);
		diag_error(file, line, col, "series '%s' has no column '%s' (its columns: %s)", s->id, name, list);
		free(list);
	}
	return j;
}

int chart_add_from_series(chart *c, const series *s, const char *x, const char *const *y, size_t ny,
                          const char *file, int line, int col)
{
	long xi = 0;
	if (x && (xi = S_find_column(s, x, file, line, col)) < 0)
		return -1;
	long *yi = xcalloc(s->ncols + ny + 1, sizeof *yi);
	size_t n = 0;
	int rc = 0;
	if (ny) {
		for (size_t k = 0; k < ny; k++) {
			long j = S_find_column(s, y[k], file, line, col);
			if (j < 0) {
				rc = -1;
			} else if (s->cols[j].kind != SERIES_VALUE) {
				diag_error(file, line, col, "column '%s' of series '%s' holds no numbers", y[k], s->id);
				rc = -1;
			} else {
				yi[n++] = j;
			}
		}
	} else {
		for (size_t j = 0; j < s->ncols; j++)
			if (s->cols[j].kind == SERIES_VALUE && (long)j != xi && (n == 0 || !S_is_pie(c)))
				yi[n++] = (long)j;
	}
	if (rc == 0 && n == 0) {
		diag_error(file, line, col, "series '%s' has no number column to draw", s->id);
		rc = -1;
	}
	if (rc == 0) {
		size_t s0 = c->nser;
		if (!c->x_name)
			c->x_name = xstrdup(s->cols[xi].name);
		for (size_t k = 0; k < n; k++)
			chart_add_series(c, s->cols[yi[k]].name, s->cols[yi[k]].unit);
		for (size_t r = 0; r < s->nrows; r++) {
			const series_row *row = &s->rows[r];
			size_t i = chart_add_category(c, row->text[xi], row->source, row->note);
			for (size_t k = 0; k < n; k++)
				if (!row->missing[yi[k]])
					chart_set_value(c, s0 + k, i, row->value[yi[k]]);
		}
	}
	free(yi);
	return rc;
}

/* A value that can be drawn: set, finite and within range (and not
 * negative in a pie). */
static int S_val(const chart *c, size_t s, size_t i, double *v)
{
	if (s >= c->nser || i >= c->ncat || !c->sers[s].has[i])
		return 0;
	double x = c->sers[s].v[i];
	if (!isfinite(x) || fabs(x) > CHART_MAX_VALUE)
		return 0;
	if (S_is_pie(c) && x < 0)
		return 0;
	*v = x;
	return 1;
}

int chart_check(const chart *c, const char *file, int line, int col)
{
	int rc = 0;
	if (c->ncat == 0 || c->nser == 0) {
		diag_error(file, line, col, "the chart has no data: %s", c->ncat ? "no series to draw" : "no rows");
		return -1;
	}
	if (S_is_pie(c) && c->nser > 1) {
		diag_error(file, line, col, "a %s chart shows one series, this one has %zu", chart_type_name(c->type), c->nser);
		rc = -1;
	}
	size_t present = 0;
	double total = 0;
	for (size_t s = 0; s < c->nser; s++) {
		for (size_t i = 0; i < c->ncat; i++) {
			if (!c->sers[s].has[i])
				continue;
			double v = c->sers[s].v[i];
			const char *name = c->sers[s].name, *label = c->cats[i].label;
			if (!isfinite(v)) {
				diag_error(file, line, col, "'%s' at '%s' is not a finite number", name, label);
				rc = -1;
			} else if (fabs(v) > CHART_MAX_VALUE) {
				diag_error(file, line, col, "'%s' at '%s' is too large to draw (%g; the limit is 1e15)", name, label, v);
				rc = -1;
			} else if (S_is_pie(c) && v < 0) {
				diag_error(file, line, col, "a %s chart cannot show the negative value %g of '%s'",
				           chart_type_name(c->type), v, label);
				rc = -1;
			} else {
				present++;
				if (s == 0)
					total += v;
			}
		}
	}
	if (rc == 0 && present == 0) {
		diag_error(file, line, col, "the chart has no data: every value is missing");
		rc = -1;
	}
	if (rc == 0 && S_is_pie(c) && !(total > 0)) {
		diag_error(file, line, col, "a %s chart needs a total above zero: every value of '%s' is 0",
		           chart_type_name(c->type), c->sers[0].name);
		rc = -1;
	}
	return rc;
}

/* ---- parsing a ```chart block ---- */

static const char *const S_keys[] = {"type", "title", "data", "rows", "x", "y", "units", "caption", "width", "height"};

static const char *S_scalar(const yval *v, const char *key, const char *file)
{
	if (v->kind != YV_SCALAR) {
		diag_error(file, v->line, v->col, "'%s' must be text, not %s", key, yval_kind_name(v));
		return NULL;
	}
	return v->str;
}

static int S_size_key(const yval *v, const char *key, const char *file, double *out)
{
	double d;
	if (v->kind != YV_SCALAR || series_parse_number(v->str, &d) < 0 || d < CHART_MIN_SIZE || d > CHART_MAX_SIZE) {
		diag_error(file, v->line, v->col, "'%s' must be a number of pixels from %d to %d, got %s%s%s", key,
		           CHART_MIN_SIZE, CHART_MAX_SIZE, v->kind == YV_SCALAR ? "\"" : "",
		           v->kind == YV_SCALAR ? v->str : yval_kind_name(v), v->kind == YV_SCALAR ? "\"" : "");
		return -1;
	}
	*out = d;
	return 0;
}

/* Builds a series from inline rows: a list of lists, the first the header. */
static series *S_inline_rows(const yval *rows, const char *file)
{
	if (rows->kind != YV_SEQ || rows->len == 0) {
		diag_error(file, rows->line, rows->col, "'rows' must be a list of rows, the first one the header, e.g. "
		                                        "[[年份, \"成员单位数[所]\"], [2020, 52]]");
		return NULL;
	}
	const yval *head = rows->items[0];
	if (head->kind != YV_SEQ || head->len == 0) {
		diag_error(file, head->line, head->col, "the first row of 'rows' must be a list of column names");
		return NULL;
	}
	size_t nc = head->len, nr = rows->len;
	const char **cells = xcalloc(nr * nc, sizeof *cells);
	int *lines = xcalloc(nr * nc, sizeof *lines), *cols = xcalloc(nr * nc, sizeof *cols);
	series *s = NULL;
	int ok = 1;
	for (size_t i = 0; i < nr; i++) {
		const yval *r = rows->items[i];
		if (r->kind != YV_SEQ) {
			diag_error(file, r->line, r->col, "row %zu of 'rows' must be a list, not %s", i + 1, yval_kind_name(r));
			ok = 0;
			continue;
		}
		if (r->len != nc) {
			diag_error(file, r->line, r->col, "row has %zu value%s, the header has %zu", r->len, r->len == 1 ? "" : "s",
			           nc);
			ok = 0;
			continue;
		}
		for (size_t j = 0; j < nc; j++) {
			const yval *v = r->items[j];
			size_t k = i * nc + j;
			lines[k] = v->line;
			cols[k] = v->col;
			if (v->kind != YV_SCALAR) {
				diag_error(file, v->line, v->col, "a cell of 'rows' must be a single value, not %s", yval_kind_name(v));
				ok = 0;
			} else if (v->plain && (strcmp(v->str, "~") == 0 || strcmp(v->str, "null") == 0)) {
				cells[k] = "";
			} else {
				cells[k] = v->str;
			}
		}
	}
	if (ok)
		s = series_from_cells(file, "rows", nr, nc, cells, lines, cols);
	free(cells);
	free(lines);
	free(cols);
	return s;
}

chart *chart_parse(const char *file, int first_line, const char *text, size_t len, chart_series_fn find_series,
                   void *ctx)
{
	yval *root = yaml_parse_text(file, first_line, 1, text, len);
	if (!root)
		return NULL;
	chart *c = NULL;
	series *owned = NULL;
	const char **ys = NULL;
	int ok = 1;
	if (root->kind != YV_MAP) {
		diag_error(file, root->line, root->col, "a chart block must be a mapping of keys (type, title, data, …), not %s",
		           yval_kind_name(root));
		ok = 0;
		goto out;
	}
	for (size_t i = 0; i < root->len; i++) {
		int known = 0;
		for (size_t k = 0; k < JB_ARRAY_LEN(S_keys); k++)
			known |= strcmp(root->keys[i], S_keys[k]) == 0;
		if (!known) {
			diag_error(file, root->key_lines[i], root->key_cols[i],
			           "unknown chart key '%s' (known: type, title, data, rows, x, y, units, caption, width, height)",
			           root->keys[i]);
			ok = 0;
		}
	}

	chart_type type = CHART_BAR;
	const yval *v = yval_get(root, "type");
	const char *s;
	if (!v) {
		diag_error(file, root->line, root->col, "the chart needs a 'type': line, bar, hbar, stacked, pie or donut");
		ok = 0;
	} else if ((s = S_scalar(v, "type", file)) == NULL) {
		ok = 0;
	} else if (chart_type_parse(s, &type) < 0) {
		diag_error(file, v->line, v->col, "unknown chart type '%s' (use line, bar, hbar, stacked, pie or donut)", s);
		ok = 0;
	}
	c = chart_new(type);

	static const char *const text_keys[] = {"title", "caption", "units"};
	for (size_t k = 0; k < JB_ARRAY_LEN(text_keys); k++) {
		if ((v = yval_get(root, text_keys[k])) == NULL)
			continue;
		if ((s = S_scalar(v, text_keys[k], file)) == NULL)
			ok = 0;
		else if (k == 0)
			chart_set_title(c, s);
		else if (k == 1)
			chart_set_caption(c, s);
		else
			chart_set_units(c, s);
	}
	double w = CHART_DEFAULT_WIDTH, h = CHART_DEFAULT_HEIGHT;
	if ((v = yval_get(root, "width")) && S_size_key(v, "width", file, &w) < 0)
		ok = 0;
	if ((v = yval_get(root, "height")) && S_size_key(v, "height", file, &h) < 0)
		ok = 0;
	chart_set_size(c, w, h);

	/* where the data comes from */
	long di = yval_index(root, "data"), ri = yval_index(root, "rows");
	const series *data = NULL;
	int dline = root->line, dcol = root->col;
	if (di >= 0 && ri >= 0) {
		diag_error(file, root->key_lines[ri], root->key_cols[ri], "use either 'data' or 'rows', not both");
		ok = 0;
	} else if (di >= 0) {
		const yval *d = root->items[di];
		dline = d->line;
		dcol = d->col;
		if ((s = S_scalar(d, "data", file)) == NULL) {
			ok = 0;
		} else if (!*s) {
			diag_error(file, d->line, d->col, "'data' must name a series (a file in content/data without .csv)");
			ok = 0;
		} else if ((data = find_series ? find_series(ctx, s) : NULL) == NULL) {
			diag_error(file, d->line, d->col, "unknown series '%s' (no content/data/%s.csv)", s, s);
			ok = 0;
		}
	} else if (ri >= 0) {
		dline = root->key_lines[ri];
		dcol = root->key_cols[ri];
		if ((data = owned = S_inline_rows(root->items[ri], file)) == NULL)
			ok = 0;
	} else {
		diag_error(file, root->line, root->col, "the chart needs 'data' (a series id) or 'rows' (inline data)");
		ok = 0;
	}

	/* which columns */
	const yval *xv = yval_get(root, "x"), *yv = yval_get(root, "y");
	const char *x = NULL;
	size_t ny = 0;
	if (xv && (x = S_scalar(xv, "x", file)) == NULL)
		ok = 0;
	if (yv) {
		const yval *const *items = yv->kind == YV_SEQ ? (const yval *const *)yv->items : &yv;
		size_t n = yv->kind == YV_SEQ ? yv->len : 1;
		ys = xcalloc(n + 1, sizeof *ys);
		if (yv->kind == YV_MAP || n == 0) {
			diag_error(file, yv->line, yv->col, "'y' must be a column name or a list of column names");
			ok = 0;
		}
		for (size_t k = 0; k < n && yv->kind != YV_MAP; k++) {
			if ((s = S_scalar(items[k], "y", file)) == NULL)
				ok = 0;
			else
				ys[ny++] = s;
		}
		if (ok && S_is_pie(c) && ny > 1) {
			diag_error(file, yv->line, yv->col, "a %s chart shows one column, 'y' names %zu", chart_type_name(type), ny);
			ok = 0;
		}
	}
	if (!ok || !data)
		goto out;

	/* unknown columns are reported where they were named */
	if (x && series_column_index(data, x) < 0) {
		S_find_column(data, x, file, xv->line, xv->col);
		ok = 0;
	}
	for (size_t k = 0; yv && k < ny; k++) {
		const yval *item = yv->kind == YV_SEQ ? yv->items[k] : yv;
		long j = series_column_index(data, ys[k]);
		if (j < 0) {
			S_find_column(data, ys[k], file, item->line, item->col);
			ok = 0;
		} else if (data->cols[j].kind != SERIES_VALUE) {
			char *list = S_column_list(data, 1);
			diag_error(file, item->line, item->col, "column '%s' of series '%s' holds no numbers (number columns: %s)",
			           ys[k], data->id, list);
			free(list);
			ok = 0;
		}
	}
	if (!ok)
		goto out;
	if (data->nrows == 0) {
		diag_error(file, dline, dcol, "the chart has no data: series '%s' has no rows", data->id);
		ok = 0;
		goto out;
	}
	if (chart_add_from_series(c, data, x, ys, ny, file, dline, dcol) < 0 || chart_check(c, file, dline, dcol) < 0)
		ok = 0;
out:
	free(ys);
	series_free(owned);
	yval_free(root);
	if (!ok) {
		chart_free(c);
		return NULL;
	}
	return c;
}

/* ---- numbers ---- */

/* v with at most `decimals` decimals, trailing zeros dropped, no "-0". */
static void S_fixed(double v, int decimals, char *out, size_t n)
{
	snprintf(out, n, "%.*f", decimals, v);
	if (decimals > 0 && strchr(out, '.')) {
		size_t len = strlen(out);
		while (len > 0 && out[len - 1] == '0')
			out[--len] = '\0';
		if (len > 0 && out[len - 1] == '.')
			out[--len] = '\0';
	}
	if (strcmp(out, "-0") == 0)
		snprintf(out, n, "0");
}

/* Chinese magnitude for |v|: the divisor and its suffix. */
static double S_magnitude(double a, const char **suffix)
{
	if (a >= 1e12) {
		*suffix = "万亿";
		return 1e12;
	}
	if (a >= 1e8) {
		*suffix = "亿";
		return 1e8;
	}
	if (a >= 1e4) {
		*suffix = "万";
		return 1e4;
	}
	*suffix = "";
	return 1;
}

void chart_format_number(double v, char *out, size_t n)
{
	if (!isfinite(v)) {
		snprintf(out, n, "—");
		return;
	}
	double a = fabs(v);
	if (a >= 1e16) {
		snprintf(out, n, "%.3g", v);
		return;
	}
	const char *suffix;
	double d = S_magnitude(a, &suffix);
	double x = v / d;
	char num[64];
	if (fabs(x) < 1 && x != 0 && d == 1) {
		snprintf(num, sizeof num, "%.2g", x); /* 0.0012 */
		if (strchr(num, 'e'))
			snprintf(num, sizeof num, "%.2e", x);
	} else {
		S_fixed(x, 2, num, sizeof num);
		/* 9999.999 rounds up to "10000": say 1万 instead */
		if (d < 1e12 && fabs(atof(num)) >= 1e4) {
			d *= 1e4;
			S_magnitude(d, &suffix);
			S_fixed(v / d, 2, num, sizeof num);
		}
	}
	snprintf(out, n, "%s%s", num, suffix);
}

/* A tick label: same rules, with decimals fit to the step. */
static void S_format_tick(double v, double step, char *out, size_t n)
{
	if (fabs(v) < step * 1e-6)
		v = 0;
	const char *suffix;
	double d = S_magnitude(fabs(v), &suffix);
	double rel = step / d;
	int decimals = rel >= 1 ? 0 : (int)ceil(-log10(rel) - 1e-9);
	if (decimals > 6 || fabs(v) >= 1e16) {
		snprintf(out, n, "%.3g", v);
		return;
	}
	char num[40];
	S_fixed(v / d, decimals, num, sizeof num);
	snprintf(out, n, "%s%s", num, v == 0 ? "" : suffix);
}

/* The shortest text that reads back as v (for the data table). */
static void S_format_exact(double v, char *out, size_t n)
{
	if (!isfinite(v)) {
		snprintf(out, n, "—");
		return;
	}
	for (int p = 1; p <= 17; p++) {
		snprintf(out, n, "%.*g", p, v);
		if (strtod(out, NULL) == v)
			break;
	}
	if (strchr(out, 'e') && fabs(v) < 1e21 && fabs(v) >= 1) /* 1e+06 → 1000000 */
		snprintf(out, n, "%.0f", v);
}

/* ---- Pango: one font map, context and layout per thread ---- */

typedef enum S_font { F_TITLE, F_LABEL, F_VALUE, F_LEGEND, F_BIG, F_COUNT } S_font;

static _Thread_local struct {
	PangoFontMap *map;
	PangoContext *ctx;
	PangoLayout *layout;
	PangoFontDescription *font[F_COUNT];
	FcConfig *config; /* set on map (NULL: pango's default) */
} S_pg;

int chart_fonts_loaded(void)
{
	return S_pg.map != NULL;
}

/* Hinted text for pixels.  In a PDF the typesetter's options (typeset_pdf.c):
 * cairo keeps one font subset per font face, and a face per font file and
 * options, so the chart's glyphs then join the document's subsets instead
 * of embedding the same font a second time. */
static void S_font_options(int pdf)
{
	cairo_font_options_t *fo = cairo_font_options_create();
	if (!pdf) {
		cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
		cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_SLIGHT);
	} else {
		cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
	}
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	pango_cairo_context_set_font_options(S_pg.ctx, fo);
	cairo_font_options_destroy(fo);
}

static void S_pango_init(void)
{
	if (S_pg.map)
		return;
	S_pg.map = pango_cairo_font_map_new();
	S_pg.ctx = pango_font_map_create_context(S_pg.map);
	S_font_options(0);
	pango_context_set_round_glyph_positions(S_pg.ctx, FALSE);
	pango_context_set_language(S_pg.ctx, pango_language_from_string("zh-cn"));
	pango_context_set_base_dir(S_pg.ctx, PANGO_DIRECTION_LTR);
	S_pg.layout = pango_layout_new(S_pg.ctx);
	static const struct {
		double px;
		PangoWeight weight;
	} spec[F_COUNT] = {
		[F_TITLE] = {17, PANGO_WEIGHT_BOLD},   [F_LABEL] = {12, PANGO_WEIGHT_NORMAL},
		[F_VALUE] = {11.5, PANGO_WEIGHT_NORMAL}, [F_LEGEND] = {12.5, PANGO_WEIGHT_NORMAL},
		[F_BIG] = {24, PANGO_WEIGHT_BOLD},
	};
	for (int f = 0; f < F_COUNT; f++) {
		S_pg.font[f] = pango_font_description_from_string("Noto Sans CJK SC");
		pango_font_description_set_absolute_size(S_pg.font[f], spec[f].px * PANGO_SCALE);
		pango_font_description_set_weight(S_pg.font[f], spec[f].weight);
	}
}

void chart_thread_cleanup(void)
{
	if (!S_pg.map)
		return;
	for (int f = 0; f < F_COUNT; f++)
		pango_font_description_free(S_pg.font[f]);
	g_object_unref(S_pg.layout);
	g_object_unref(S_pg.ctx);
	g_object_unref(S_pg.map);
	memset(&S_pg, 0, sizeof S_pg);
}

/* Sets up the shared layout for text: wrapped at wrap pixels into at most
 * max_lines lines (ellipsized) when wrap > 0, one line otherwise. */
static PangoLayout *S_text(S_font f, const char *text, double wrap, int max_lines, PangoAlignment align)
{
	PangoLayout *l = S_pg.layout;
	pango_layout_set_font_description(l, S_pg.font[f]);
	pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	if (wrap > 0) {
		pango_layout_set_width(l, (int)(wrap * PANGO_SCALE));
		pango_layout_set_height(l, -(max_lines > 0 ? max_lines : 1));
		pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_END);
	} else {
		pango_layout_set_width(l, -1);
		pango_layout_set_height(l, -1);
		pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_NONE);
	}
	pango_layout_set_alignment(l, align);
	pango_layout_set_text(l, text, -1);
	return l;
}

/* The logical size of a line of text in font f. */
static void S_measure(S_font f, const char *text, double wrap, int max_lines, double *w, double *h)
{
	PangoLayout *l = S_text(f, text, wrap, max_lines, PANGO_ALIGN_LEFT);
	PangoRectangle r;
	pango_layout_get_extents(l, NULL, &r);
	if (w)
		*w = r.width / (double)PANGO_SCALE;
	if (h)
		*h = r.height / (double)PANGO_SCALE;
}

typedef struct S_rgb {
	double r, g, b;
} S_rgb;

#define S_HEX(h) {((h) >> 16 & 255) / 255.0, ((h) >> 8 & 255) / 255.0, ((h)&255) / 255.0}

static const S_rgb S_ink = S_HEX(0x222222), S_muted = S_HEX(0x555555), S_grid = S_HEX(0xE2E2E2),
                   S_axis = S_HEX(0x8A8A8A), S_white = S_HEX(0xFFFFFF);

static void S_draw_text_ex(cairo_t *cr, S_font f, const char *text, double x, double y, double ax, double ay,
                           S_rgb col, double wrap, int max_lines, const S_rgb *halo)
{
	PangoAlignment align = ax < 0.25 ? PANGO_ALIGN_LEFT : ax > 0.75 ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_CENTER;
	PangoLayout *l = S_text(f, text, wrap, max_lines, align);
	PangoRectangle ink, r;
	pango_layout_get_extents(l, &ink, &r);
	double w = wrap > 0 ? wrap : r.width / (double)PANGO_SCALE;
	double h = r.height / (double)PANGO_SCALE;
	double ox = wrap > 0 ? 0 : r.x / (double)PANGO_SCALE;
	double x0 = x - ax * w - ox, y0 = y - ay * h - r.y / (double)PANGO_SCALE;
	if (halo) {
		/* a plain ground so gridlines, lines and hatching never run
		 * through the text */
		cairo_set_source_rgb(cr, halo->r, halo->g, halo->b);
		cairo_rectangle(cr, x0 + ink.x / (double)PANGO_SCALE - 1.5, y0 + ink.y / (double)PANGO_SCALE - 1.5,
		                ink.width / (double)PANGO_SCALE + 3, ink.height / (double)PANGO_SCALE + 3);
		cairo_fill(cr);
	}
	cairo_move_to(cr, x0, y0);
	cairo_set_source_rgb(cr, col.r, col.g, col.b);
	typeset_check_layout(l);
	pango_cairo_show_layout(cr, l);
	cairo_new_path(cr);
}

/* Draws text with its logical box anchored at (x, y): ax 0/0.5/1 = left,
 * centre, right; ay likewise top, middle, bottom.  With wrap > 0 the box is
 * wrap wide and lines are aligned by ax. */
static void S_draw_text(cairo_t *cr, S_font f, const char *text, double x, double y, double ax, double ay,
                        S_rgb col, double wrap, int max_lines)
{
	S_draw_text_ex(cr, f, text, x, y, ax, ay, col, wrap, max_lines, NULL);
}

/* ---- palette: Okabe–Ito, ordered so that neighbours differ in lightness
 * (CIE L* 46, 71, 58, 89, 54, 70, 61, 0); every other fill is hatched so
 * that greyscale print still tells them apart. ---- */

static const S_rgb S_palette[] = {
	S_HEX(0x0072B2), /* blue */
	S_HEX(0xE69F00), /* orange */
	S_HEX(0x009E73), /* bluish green, hatched */
	S_HEX(0xF0E442), /* yellow */
	S_HEX(0xD55E00), /* vermillion, hatched */
	S_HEX(0x56B4E9), /* sky blue */
	S_HEX(0xCC79A7), /* reddish purple, hatched */
	S_HEX(0x000000), /* black */
};
#define S_NPAL JB_ARRAY_LEN(S_palette)

static S_rgb S_color(size_t i)
{
	return S_palette[i % S_NPAL];
}

static int S_hatched(size_t i)
{
	size_t k = i % S_NPAL;
	int h = k == 2 || k == 4 || k == 6;
	return (i / S_NPAL) % 2 ? !h : h; /* a second round swaps */
}

/* Text on a fill: white on dark colours, ink on light ones. */
static S_rgb S_text_on(size_t i)
{
	S_rgb c = S_color(i);
	double y = 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
	return y < 0.42 ? S_white : S_ink;
}

/* Fills the current path with colour i (and its hatching); clears it. */
static void S_fill(cairo_t *cr, size_t i)
{
	S_rgb c = S_color(i);
	cairo_set_source_rgb(cr, c.r, c.g, c.b);
	cairo_fill_preserve(cr);
	if (S_hatched(i)) {
		double x0, y0, x1, y1;
		cairo_save(cr);
		cairo_clip(cr);
		cairo_clip_extents(cr, &x0, &y0, &x1, &y1);
		cairo_set_source_rgba(cr, 1, 1, 1, 0.55);
		cairo_set_line_width(cr, 1.6);
		double span = (x1 - x0) + (y1 - y0);
		double start = floor((x0 + y0) / 6.0) * 6.0; /* anchored to the page: seamless across bars */
		for (double d = start; d <= start + span + 6 && d - start < 20000; d += 6) {
			cairo_move_to(cr, d - y0, y0);
			cairo_line_to(cr, d - y1, y1);
		}
		cairo_stroke(cr);
		cairo_restore(cr);
	}
	cairo_new_path(cr);
}

/* Lines are thin: yellow is too pale on white, so it comes last. */
static size_t S_line_index(size_t i)
{
	static const size_t order[S_NPAL] = {0, 1, 2, 4, 5, 6, 7, 3};
	return order[i % S_NPAL];
}

/* Line charts: a dash pattern and a marker per series. */
static void S_line_style(cairo_t *cr, size_t i)
{
	static const double dash1[] = {7, 4}, dash2[] = {2, 3}, dash3[] = {9, 3, 2, 3};
	switch (i % 4) {
	case 0: cairo_set_dash(cr, NULL, 0, 0); break;
	case 1: cairo_set_dash(cr, dash1, 2, 0); break;
	case 2: cairo_set_dash(cr, dash2, 2, 0); break;
	default: cairo_set_dash(cr, dash3, 4, 0); break;
	}
}

static void S_marker(cairo_t *cr, size_t i, double x, double y, double r)
{
	switch (i % 4) {
	case 0: cairo_arc(cr, x, y, r, 0, 2 * S_PI); break;
	case 1: cairo_rectangle(cr, x - r * 0.9, y - r * 0.9, r * 1.8, r * 1.8); break;
	case 2:
		cairo_move_to(cr, x, y - r * 1.2);
		cairo_line_to(cr, x + r * 1.1, y + r * 0.8);
		cairo_line_to(cr, x - r * 1.1, y + r * 0.8);
		cairo_close_path(cr);
		break;
	default:
		cairo_move_to(cr, x, y - r * 1.25);
		cairo_line_to(cr, x + r * 1.25, y);
		cairo_line_to(cr, x, y + r * 1.25);
		cairo_line_to(cr, x - r * 1.25, y);
		cairo_close_path(cr);
	}
	S_rgb c = S_color(S_line_index(i));
	cairo_set_source_rgb(cr, c.r, c.g, c.b);
	cairo_fill_preserve(cr);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_set_line_width(cr, 1.5);
	cairo_set_dash(cr, NULL, 0, 0);
	cairo_stroke(cr);
}

/* ---- layout ---- */

#define S_PAD 14.0
#define S_MAX_LABEL_LINES 2

/* The unit shown for series s: the chart's units, else the column's. */
static const char *S_unit(const chart *c, size_t s)
{
	if (c->units && *c->units)
		return c->units;
	return s < c->nser && c->sers[s].unit ? c->sers[s].unit : "";
}

/* The unit of the value axis, "" when the series' units differ. */
static const char *S_axis_unit(const chart *c)
{
	if (c->units && *c->units)
		return c->units;
	const char *u = c->nser ? c->sers[0].unit : NULL;
	for (size_t s = 1; s < c->nser; s++) {
		const char *v = c->sers[s].unit;
		if (!u || !v || strcmp(u, v) != 0)
			return "";
	}
	return u ? u : "";
}

static int S_axis_units_differ(const chart *c)
{
	return !*S_axis_unit(c) && c->nser > 1;
}

/* Legend text of series s: its name, with its unit when the axis has none. */
static char *S_legend_label(const chart *c, size_t s)
{
	const char *u = c->sers[s].unit;
	if (S_axis_units_differ(c) && u)
		return xasprintf("%s（%s）", c->sers[s].name, u);
	return xstrdup(c->sers[s].name);
}

/* Years (2020, 2020年), months (2024-01) and dates (2024-01-11) give a
 * time axis: the day number of the label, or -1. */
static double S_time_of(const char *s)
{
	int y, m = 7, d = 1;
	size_t n = strlen(s);
	const char *p = s;
	for (int i = 0; i < 4; i++)
		if (p[i] < '0' || p[i] > '9')
			return -1;
	y = atoi(p);
	if (n == 4 || (n == 7 && strcmp(s + 4, "年") == 0))
		return (double)date_days(y, 7, 1);
	if (n >= 7 && s[4] == '-' && s[5] >= '0' && s[5] <= '9' && s[6] >= '0' && s[6] <= '9') {
		m = (s[5] - '0') * 10 + (s[6] - '0');
		if (n == 7 && m >= 1 && m <= 12)
			return (double)date_days(y, m, 15);
		jb_date dt;
		if (n == 10 && date_parse_iso(s, &dt) == 0) {
			d = dt.day;
			return (double)date_days(dt.year, dt.month, d);
		}
	}
	return -1;
}

typedef struct S_layout {
	double W, H;
	double title_y, title_h;
	size_t *legend_row;   /* per series */
	double *legend_x;     /* per series */
	double legend_y, legend_row_h;
	size_t legend_rows;
	const char *unit;
	double unit_y;
	double px, py, pw, ph; /* plot rectangle */
	double lo, hi, step;   /* value axis */
	int horizontal;
	double *catpos; /* centre of each category along the category axis */
	double slot;    /* space per category */
	double below;   /* room under the plot for labels of negative bars */
	double cat_x;   /* hbar: the right edge of the category labels */
	double label_wrap;
	size_t label_every;
	int has_data;
	double swatch_w;
} S_layout;

static void S_layout_free(S_layout *L)
{
	free(L->legend_row);
	free(L->legend_x);
	free(L->catpos);
	memset(L, 0, sizeof *L);
}

static double S_nice_step(double span, double target)
{
	if (!(span > 0) || !isfinite(span))
		return 1;
	if (target < 1)
		target = 1;
	double raw = span / target;
	double mag = pow(10, floor(log10(raw)));
	double f = raw / mag;
	double m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
	double step = m * mag;
	return step > 0 && isfinite(step) ? step : 1;
}

/* The value domain before rounding to ticks; 0 when nothing can be drawn. */
static int S_domain(const chart *c, double *lo, double *hi)
{
	double mn = INFINITY, mx = -INFINITY, v;
	int any = 0;
	if (c->type == CHART_STACKED) {
		for (size_t i = 0; i < c->ncat; i++) {
			double pos = 0, neg = 0;
			int here = 0;
			for (size_t s = 0; s < c->nser; s++) {
				if (!S_val(c, s, i, &v))
					continue;
				here = 1;
				if (v >= 0)
					pos += v;
				else
					neg += v;
			}
			if (!here)
				continue;
			any = 1;
			mn = fmin(mn, neg);
			mx = fmax(mx, pos);
		}
	} else {
		for (size_t s = 0; s < c->nser; s++)
			for (size_t i = 0; i < c->ncat; i++)
				if (S_val(c, s, i, &v)) {
					any = 1;
					mn = fmin(mn, v);
					mx = fmax(mx, v);
				}
	}
	if (!any)
		return 0;
	if (c->type == CHART_LINE) {
		/* Start at zero unless the data sit far from it. */
		if (mn == mx || (mn > 0 && mn < mx - mn) || (mx < 0 && -mx < mx - mn)) {
			mn = fmin(mn, 0);
			mx = fmax(mx, 0);
		}
	} else {
		mn = fmin(mn, 0);
		mx = fmax(mx, 0);
	}
	if (mn == mx)
		mx = mn + 1;
	*lo = mn;
	*hi = mx;
	return 1;
}

static void S_ticks(S_layout *L, double lo, double hi, double length, double px_per_tick)
{
	double step = S_nice_step(hi - lo, length / px_per_tick);
	double a = floor(lo / step + 1e-9) * step, b = ceil(hi / step - 1e-9) * step;
	if (!(b > a)) {
		a = lo;
		b = lo + step;
	}
	L->lo = a;
	L->hi = b;
	L->step = step;
}

static double S_vpos(const S_layout *L, double v)
{
	double t = (v - L->lo) / (L->hi - L->lo);
	return L->horizontal ? L->px + t * L->pw : L->py + L->ph - t * L->ph;
}

/* Title and legend at the top; returns the y below them. */
static double S_layout_head(const chart *c, S_layout *L)
{
	double y = S_PAD;
	L->title_y = y;
	if (c->title && *c->title) {
		S_measure(F_TITLE, c->title, L->W - 2 * S_PAD, 2, NULL, &L->title_h);
		y += L->title_h + 8;
	}
	if (c->nser > 1 && !S_is_pie(c)) {
		L->legend_row = xcalloc(c->nser, sizeof *L->legend_row);
		L->legend_x = xcalloc(c->nser, sizeof *L->legend_x);
		L->swatch_w = c->type == CHART_LINE ? 26 : 12;
		L->legend_row_h = 20;
		L->legend_y = y;
		double x = S_PAD;
		size_t row = 0;
		for (size_t s = 0; s < c->nser; s++) {
			char *label = S_legend_label(c, s);
			double w;
			S_measure(F_LEGEND, label, 0, 0, &w, NULL);
			free(label);
			w = fmin(w, L->W - 2 * S_PAD - L->swatch_w - 6);
			double item = L->swatch_w + 6 + w;
			if (x > S_PAD && x + item > L->W - S_PAD) {
				row++;
				x = S_PAD;
			}
			L->legend_x[s] = x;
			L->legend_row[s] = row;
			x += item + 18;
		}
		L->legend_rows = row + 1;
		y += L->legend_rows * L->legend_row_h + 4;
	}
	L->unit = S_axis_unit(c);
	if (*L->unit && !S_is_pie(c)) {
		double h;
		S_measure(F_LABEL, "单位", 0, 0, NULL, &h);
		L->unit_y = y;
		y += h + 2;
	}
	return y;
}

static void S_layout_cartesian(const chart *c, S_layout *L)
{
	double lo = 0, hi = 1, lh, vh;
	L->has_data = S_domain(c, &lo, &hi);
	double y = S_layout_head(c, L);
	if (!L->has_data)
		return;
	S_measure(F_LABEL, "0", 0, 0, NULL, &lh);
	S_measure(F_VALUE, "0", 0, 0, NULL, &vh);
	L->catpos = xcalloc(c->ncat ? c->ncat : 1, sizeof *L->catpos);
	L->label_every = 1;
	size_t n = c->ncat ? c->ncat : 1;

	if (c->type == CHART_HBAR) {
		L->horizontal = 1;
		L->py = y + 6;
		double bottom = L->H - S_PAD - lh - 4;
		L->ph = fmax(bottom - L->py, 10);
		L->slot = L->ph / (double)n;
		/* category labels on the left, wrapped to at most a third of the width */
		double maxw = 0;
		for (size_t i = 0; i < c->ncat; i++) {
			double w;
			S_measure(F_LABEL, c->cats[i].label, 0, 0, &w, NULL);
			maxw = fmax(maxw, w);
		}
		L->label_wrap = fmin(maxw + 1, L->W * 0.3);
		double lines_h = 0;
		for (size_t i = 0; i < c->ncat; i++) {
			double h;
			S_measure(F_LABEL, c->cats[i].label, L->label_wrap, S_MAX_LABEL_LINES, NULL, &h);
			lines_h = fmax(lines_h, h);
		}
		while (L->label_every < n && L->slot * (double)L->label_every < fmin(lines_h, 2 * lh) + 2)
			L->label_every++;
		L->px = S_PAD + L->label_wrap + 8;
		/* value labels beside the bars: right of positive ones, left of
		 * negative ones */
		double vpos = 0, vneg = 0, v;
		for (size_t s = 0; s < c->nser; s++)
			for (size_t i = 0; i < c->ncat; i++)
				if (S_val(c, s, i, &v)) {
					char num[64];
					double w;
					chart_format_number(v, num, sizeof num);
					S_measure(F_VALUE, num, 0, 0, &w, NULL);
					if (v < 0)
						vneg = fmax(vneg, w + 6);
					else
						vpos = fmax(vpos, w);
				}
		L->px += vneg;
		L->cat_x = L->px - vneg - 8;
		L->pw = fmax(L->W - S_PAD - vpos - 6 - L->px, 10);
		S_ticks(L, lo, hi, L->pw, 90);
		for (size_t i = 0; i < c->ncat; i++)
			L->catpos[i] = L->py + ((double)i + 0.5) * L->slot;
		return;
	}

	/* vertical: headroom for value labels above the plot and x labels below */
	L->py = y + vh + 8;
	double xl_h = lh;
	if (c->type != CHART_LINE) {
		double slot = (L->W - 2 * S_PAD - 40) / (double)n;
		L->label_wrap = fmax(slot - 6, 24);
		for (size_t i = 0; i < c->ncat; i++) {
			double h;
			S_measure(F_LABEL, c->cats[i].label, L->label_wrap, S_MAX_LABEL_LINES, NULL, &h);
			xl_h = fmax(xl_h, h);
		}
	}
	double bottom = L->H - S_PAD - xl_h - 6;
	if (lo < 0 && c->type != CHART_LINE) {
		L->below = vh + 4; /* labels under negative bars */
		bottom -= L->below;
	}
	L->ph = fmax(bottom - L->py, 10);
	S_ticks(L, lo, hi, L->ph, 48);
	double tw = 0;
	for (double t = L->lo; t <= L->hi + L->step * 0.5; t += L->step) {
		char lab[64];
		double w;
		S_format_tick(t, L->step, lab, sizeof lab);
		S_measure(F_LABEL, lab, 0, 0, &w, NULL);
		tw = fmax(tw, w);
		if (L->hi - L->lo > L->step * 100)
			break;
	}
	L->px = S_PAD + tw + 8;
	L->pw = fmax(L->W - S_PAD - L->px, 10);
	L->slot = L->pw / (double)n;
	if (c->type != CHART_LINE) {
		/* a label gets its slot, wrapped to two lines at most; when slots
		 * are narrower than half the widest label, only every k-th is shown */
		double maxw = 0;
		for (size_t i = 0; i < c->ncat; i++) {
			double w;
			S_measure(F_LABEL, c->cats[i].label, 0, 0, &w, NULL);
			maxw = fmax(maxw, w);
		}
		double need = maxw + 6 <= L->slot ? L->slot : fmax(26, maxw / 2 + 10);
		L->label_wrap = fmax(L->slot - 6, 12);
		while (L->label_every < n && L->slot * (double)L->label_every < need)
			L->label_every++;
		if (L->label_every > 1)
			L->label_wrap = fmax(L->slot * (double)L->label_every - 6, 12);
		for (size_t i = 0; i < c->ncat; i++)
			L->catpos[i] = L->px + ((double)i + 0.5) * L->slot;
		return;
	}

	/* line: points spaced by time when every label is a year or a date */
	int timed = c->ncat > 1;
	double t0 = 0, t1 = 0;
	for (size_t i = 0; i < c->ncat && timed; i++) {
		double t = S_time_of(c->cats[i].label);
		if (t < 0 || (i > 0 && t <= t1))
			timed = 0;
		if (i == 0)
			t0 = t;
		t1 = t;
	}
	double wfirst = 0, wlast = 0;
	if (c->ncat) {
		S_measure(F_LABEL, c->cats[0].label, 0, 0, &wfirst, NULL);
		S_measure(F_LABEL, c->cats[c->ncat - 1].label, 0, 0, &wlast, NULL);
	}
	double inset_l = fmax(20, wfirst / 2 + 2), inset_r = fmax(24, wlast / 2 + 2);
	if (inset_l + inset_r > L->pw * 0.6)
		inset_l = inset_r = L->pw * 0.3;
	double a = L->px + inset_l, b = L->px + L->pw - inset_r;
	for (size_t i = 0; i < c->ncat; i++) {
		if (c->ncat == 1)
			L->catpos[i] = L->px + L->pw / 2;
		else if (timed)
			L->catpos[i] = a + (b - a) * (S_time_of(c->cats[i].label) - t0) / (t1 - t0);
		else
			L->catpos[i] = a + (b - a) * (double)i / (double)(c->ncat - 1);
	}
}

/* ---- drawing ---- */

static void S_draw_head(const chart *c, cairo_t *cr, const S_layout *L)
{
	if (c->title && *c->title)
		S_draw_text(cr, F_TITLE, c->title, S_PAD, L->title_y, 0, 0, S_ink, L->W - 2 * S_PAD, 2);
	for (size_t s = 0; L->legend_x && s < c->nser; s++) {
		double x = L->legend_x[s], y = L->legend_y + (double)L->legend_row[s] * L->legend_row_h;
		double mid = y + L->legend_row_h / 2;
		if (c->type == CHART_LINE) {
			S_rgb col = S_color(S_line_index(s));
			cairo_set_source_rgb(cr, col.r, col.g, col.b);
			cairo_set_line_width(cr, 2.5);
			S_line_style(cr, s);
			cairo_move_to(cr, x, mid);
			cairo_line_to(cr, x + L->swatch_w, mid);
			cairo_stroke(cr);
			S_marker(cr, s, x + L->swatch_w / 2, mid, 3.5);
		} else {
			cairo_rectangle(cr, x, mid - 6, 12, 12);
			S_fill(cr, s);
		}
		char *label = S_legend_label(c, s);
		S_draw_text(cr, F_LEGEND, label, x + L->swatch_w + 6, mid, 0, 0.5, S_ink, 0, 0);
		free(label);
	}
	if (*L->unit && !S_is_pie(c)) {
		char *u = xasprintf("单位：%s", L->unit);
		S_draw_text(cr, F_LABEL, u, S_PAD, L->unit_y, 0, 0, S_muted, 0, 0);
		free(u);
	}
}

static void S_draw_no_data(cairo_t *cr, const S_layout *L, double top)
{
	S_draw_text(cr, F_LEGEND, "暂无数据", L->W / 2, (top + L->H) / 2, 0.5, 0.5, S_muted, 0, 0);
}

static void S_draw_axes(const chart *c, cairo_t *cr, const S_layout *L)
{
	cairo_set_line_width(cr, 1);
	cairo_set_dash(cr, NULL, 0, 0);
	int count = 0;
	for (double k = ceil(L->lo / L->step - 1e-9); k * L->step <= L->hi + L->step * 1e-6 && count < 200; k++, count++) {
		double t = k * L->step;
		double p = S_vpos(L, t);
		char lab[64];
		S_format_tick(t, L->step, lab, sizeof lab);
		int zero = fabs(t) < L->step * 1e-6;
		S_rgb col = zero ? S_axis : S_grid;
		cairo_set_source_rgb(cr, col.r, col.g, col.b);
		if (L->horizontal) {
			double x = round(p) + 0.5;
			cairo_move_to(cr, x, L->py);
			cairo_line_to(cr, x, L->py + L->ph);
			cairo_stroke(cr);
			S_draw_text(cr, F_LABEL, lab, p, L->py + L->ph + 4, 0.5, 0, S_muted, 0, 0);
		} else {
			double y = round(p) + 0.5;
			cairo_move_to(cr, L->px, y);
			cairo_line_to(cr, L->px + L->pw, y);
			cairo_stroke(cr);
			S_draw_text(cr, F_LABEL, lab, L->px - 6, p, 1, 0.5, S_muted, 0, 0);
		}
	}
	/* the baseline when zero is not on the axis */
	if (!(L->lo <= 0 && L->hi >= 0) && !L->horizontal && c->type == CHART_LINE) {
		cairo_set_source_rgb(cr, S_axis.r, S_axis.g, S_axis.b);
		double y = round(L->py + L->ph) + 0.5;
		cairo_move_to(cr, L->px, y);
		cairo_line_to(cr, L->px + L->pw, y);
		cairo_stroke(cr);
	}
}

/* Category labels along the category axis, thinned so they never overlap. */
static void S_draw_categories(const chart *c, cairo_t *cr, const S_layout *L)
{
	if (L->horizontal) {
		for (size_t i = 0; i < c->ncat; i += L->label_every)
			S_draw_text(cr, F_LABEL, c->cats[i].label, L->cat_x, L->catpos[i], 1, 0.5, S_ink, L->label_wrap,
			            S_MAX_LABEL_LINES);
		return;
	}
	double y = L->py + L->ph + L->below + 6;
	if (c->type != CHART_LINE) {
		for (size_t i = 0; i < c->ncat; i += L->label_every)
			S_draw_text(cr, F_LABEL, c->cats[i].label, L->catpos[i], y, 0.5, 0, S_ink, L->label_wrap,
			            S_MAX_LABEL_LINES);
		return;
	}
	/* line: label a point when it clears the previous label; always try to
	 * keep the last one */
	double right_edge = -INFINITY;
	double last_w = 0;
	if (c->ncat)
		S_measure(F_LABEL, c->cats[c->ncat - 1].label, 0, 0, &last_w, NULL);
	double last_left = c->ncat ? L->catpos[c->ncat - 1] - last_w / 2 : 0;
	for (size_t i = 0; i < c->ncat; i++) {
		double w;
		S_measure(F_LABEL, c->cats[i].label, 0, 0, &w, NULL);
		double left = L->catpos[i] - w / 2, right = L->catpos[i] + w / 2;
		if (left < right_edge + 8)
			continue;
		if (i + 1 < c->ncat && right + 8 > last_left)
			continue;
		S_draw_text(cr, F_LABEL, c->cats[i].label, L->catpos[i], y, 0.5, 0, S_ink, 0, 0);
		right_edge = right;
		cairo_set_source_rgb(cr, S_axis.r, S_axis.g, S_axis.b);
		cairo_set_line_width(cr, 1);
		double x = round(L->catpos[i]) + 0.5;
		cairo_move_to(cr, x, L->py + L->ph);
		cairo_line_to(cr, x, L->py + L->ph + 4);
		cairo_stroke(cr);
	}
}

static void S_value_label(cairo_t *cr, double v, double x, double y, double ax, double ay, S_rgb col, double max_w)
{
	char num[64];
	double w;
	chart_format_number(v, num, sizeof num);
	S_measure(F_VALUE, num, 0, 0, &w, NULL);
	if (!(w <= max_w))
		return;
	S_draw_text_ex(cr, F_VALUE, num, x, y, ax, ay, col, 0, 0, &S_white);
}

static void S_draw_bars(const chart *c, cairo_t *cr, const S_layout *L)
{
	size_t ns = c->nser;
	double group = L->slot * (ns > 1 ? 0.8 : 0.62);
	double bw = fmin(group / (double)ns, L->horizontal ? 34 : 64);
	group = bw * (double)ns;
	double zero = S_vpos(L, fmax(L->lo, fmin(0, L->hi)));
	double vh;
	S_measure(F_VALUE, "0", 0, 0, NULL, &vh);
	for (size_t i = 0; i < c->ncat; i++) {
		for (size_t s = 0; s < ns; s++) {
			double v;
			if (!S_val(c, s, i, &v))
				continue;
			double a = L->catpos[i] - group / 2 + (double)s * bw;
			double p = S_vpos(L, v);
			double gap = ns > 1 ? 1 : 0;
			if (L->horizontal) {
				double x0 = fmin(zero, p), x1 = fmax(zero, p);
				cairo_rectangle(cr, x0, a + gap / 2, fmax(x1 - x0, 0.5), bw - gap);
				S_fill(cr, s);
				if (bw >= vh - 2) /* one line of text per bar, or none */
					S_value_label(cr, v, v >= 0 ? x1 + 4 : x0 - 4, a + bw / 2, v >= 0 ? 0 : 1, 0.5, S_ink, INFINITY);
			} else {
				double y0 = fmin(zero, p), y1 = fmax(zero, p);
				cairo_rectangle(cr, a + gap / 2, y0, bw - gap, fmax(y1 - y0, 0.5));
				S_fill(cr, s);
				/* never wider than the bar's share: labels must not touch */
				S_value_label(cr, v, a + bw / 2, v >= 0 ? y0 - 3 : y1 + 3, 0.5, v >= 0 ? 1 : 0, S_ink,
				              ns > 1 ? bw + 2 : fmin(bw + 16, L->slot - 4));
			}
		}
	}
}

static void S_draw_stacked(const chart *c, cairo_t *cr, const S_layout *L)
{
	double bw = fmin(L->slot * 0.62, 72);
	double vh;
	S_measure(F_VALUE, "0", 0, 0, NULL, &vh);
	for (size_t i = 0; i < c->ncat; i++) {
		double pos = 0, neg = 0;
		int any = 0;
		double x = L->catpos[i] - bw / 2;
		for (size_t s = 0; s < c->nser; s++) {
			double v;
			if (!S_val(c, s, i, &v) || v == 0)
				continue;
			any = 1;
			double from = v > 0 ? pos : neg, to = from + v;
			if (v > 0)
				pos = to;
			else
				neg = to;
			double y0 = S_vpos(L, fmax(from, to)), y1 = S_vpos(L, fmin(from, to));
			cairo_rectangle(cr, x, y0, bw, fmax(y1 - y0, 0.5));
			S_fill(cr, s);
			/* a white rule between segments */
			cairo_set_source_rgb(cr, 1, 1, 1);
			cairo_set_line_width(cr, 1);
			cairo_move_to(cr, x, v > 0 ? y0 : y1);
			cairo_line_to(cr, x + bw, v > 0 ? y0 : y1);
			cairo_stroke(cr);
			if (y1 - y0 >= vh + 2) {
				char num[64];
				double w;
				chart_format_number(v, num, sizeof num);
				S_measure(F_VALUE, num, 0, 0, &w, NULL);
				/* on hatching: ink on a white chip */
				if (w <= bw - 8)
					S_draw_text_ex(cr, F_VALUE, num, x + bw / 2, (y0 + y1) / 2, 0.5, 0.5,
					               S_hatched(s) ? S_ink : S_text_on(s), 0, 0, S_hatched(s) ? &S_white : NULL);
			}
		}
		if (any) /* the net total above the stack */
			S_value_label(cr, pos + neg, L->catpos[i], S_vpos(L, pos) - 3, 0.5, 1, S_ink, fmin(bw + 20, L->slot - 4));
	}
}

static void S_draw_lines(const chart *c, cairo_t *cr, const S_layout *L)
{
	double vh;
	S_measure(F_VALUE, "0", 0, 0, NULL, &vh);
	for (size_t s = 0; s < c->nser; s++) {
		S_rgb col = S_color(S_line_index(s));
		cairo_set_source_rgb(cr, col.r, col.g, col.b);
		cairo_set_line_width(cr, 2.5);
		cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
		S_line_style(cr, s);
		int pen = 0;
		for (size_t i = 0; i < c->ncat; i++) {
			double v;
			if (!S_val(c, s, i, &v)) {
				pen = 0; /* a gap where a value is missing */
				continue;
			}
			double x = L->catpos[i], y = S_vpos(L, v);
			if (pen)
				cairo_line_to(cr, x, y);
			else
				cairo_move_to(cr, x, y);
			pen = 1;
		}
		cairo_stroke(cr);
	}
	/* markers and labels on top of every line */
	size_t points = c->ncat * c->nser;
	for (size_t s = 0; s < c->nser; s++) {
		double right_edge = -INFINITY;
		for (size_t i = 0; i < c->ncat; i++) {
			double v;
			if (!S_val(c, s, i, &v))
				continue;
			double x = L->catpos[i], y = S_vpos(L, v);
			S_marker(cr, s, x, y, c->ncat > 40 ? 2.5 : 4);
			if (points > 48 || c->nser > 3)
				continue;
			/* above when highest of the series at this point, below when lowest */
			int above = 1, below = 1;
			for (size_t o = 0; o < c->nser; o++) {
				double w;
				if (o == s || !S_val(c, o, i, &w))
					continue;
				if (w > v || (w == v && o < s))
					above = 0;
				if (w < v || (w == v && o > s))
					below = 0;
			}
			if (!above && !below)
				continue;
			char num[64];
			double w;
			chart_format_number(v, num, sizeof num);
			S_measure(F_VALUE, num, 0, 0, &w, NULL);
			if (x - w / 2 < right_edge + 4)
				continue;
			right_edge = x + w / 2;
			double ly = above ? y - 7 : y + 7;
			S_draw_text_ex(cr, F_VALUE, num, x, ly, 0.5, above ? 1 : 0, S_ink, 0, 0, &S_white);
		}
	}
}

/* Percentages to one decimal that add up to 100.0 (largest remainder). */
static void S_percentages(const chart *c, double total, int *tenths)
{
	long sum = 0;
	double *rem = xcalloc(c->ncat ? c->ncat : 1, sizeof *rem);
	for (size_t i = 0; i < c->ncat; i++) {
		double v;
		tenths[i] = 0;
		if (!S_val(c, 0, i, &v) || total <= 0)
			continue;
		double exact = v / total * 1000;
		tenths[i] = (int)floor(exact);
		rem[i] = exact - tenths[i];
		sum += tenths[i];
	}
	while (total > 0 && sum < 1000) {
		size_t best = 0;
		double br = -1;
		for (size_t i = 0; i < c->ncat; i++)
			if (rem[i] > br) {
				br = rem[i];
				best = i;
			}
		if (br <= 0)
			break;
		tenths[best]++;
		rem[best] = 0;
		sum++;
	}
	free(rem);
}

static double S_pie_total(const chart *c)
{
	double total = 0, v;
	for (size_t i = 0; i < c->ncat; i++)
		if (S_val(c, 0, i, &v))
			total += v;
	return total;
}

static void S_draw_pie(const chart *c, cairo_t *cr, S_layout *L)
{
	double top = S_layout_head(c, L);
	S_draw_head(c, cr, L);
	double total = S_pie_total(c);
	if (c->nser == 0 || !(total > 0) || !isfinite(total)) {
		S_draw_no_data(cr, L, top);
		return;
	}
	int *tenths = xcalloc(c->ncat, sizeof *tenths);
	S_percentages(c, total, tenths);

	/* legend entries: swatch, name, value and share */
	double avail_h = L->H - top - S_PAD;
	double lh = 22;
	double legend_w = 0;
	char **lines = xcalloc(c->ncat, sizeof *lines);
	const char *unit = S_unit(c, 0);
	for (size_t i = 0; i < c->ncat; i++) {
		double v;
		char num[64];
		if (S_val(c, 0, i, &v)) {
			chart_format_number(v, num, sizeof num);
			lines[i] = xasprintf("%s  %s%s（%d.%d%%）", c->cats[i].label, num, unit, tenths[i] / 10, tenths[i] % 10);
		} else {
			lines[i] = xasprintf("%s  —", c->cats[i].label);
		}
		double w;
		S_measure(F_LEGEND, lines[i], 0, 0, &w, NULL);
		legend_w = fmax(legend_w, w + 20);
	}
	double legend_h = lh * (double)c->ncat;
	/* the pie on the left, the legend on its right; below it when narrow */
	double d = fmin(avail_h, fmin(L->W * 0.5, L->W - legend_w - 3 * S_PAD - 24));
	int below = d < fmin(avail_h, L->W * 0.5) * 0.6;
	if (below)
		d = fmin(L->W - 2 * S_PAD, avail_h - legend_h - 12);
	d = fmax(d, 40);
	double r = d / 2;
	double cx, cy, lx, ly;
	if (below) {
		cx = L->W / 2;
		cy = top + r;
		lx = S_PAD;
		ly = top + d + 12;
	} else {
		double block = d + 24 + fmin(legend_w, L->W - d - 3 * S_PAD - 24);
		double x0 = fmax(S_PAD, (L->W - block) / 2);
		cx = x0 + r;
		cy = top + avail_h / 2;
		lx = x0 + d + 24;
		ly = cy - legend_h / 2;
		if (ly < top)
			ly = top;
	}
	double inner = c->type == CHART_DONUT ? r * 0.56 : 0;
	double a = -S_PI / 2;
	for (size_t i = 0; i < c->ncat; i++) {
		double v;
		if (!S_val(c, 0, i, &v) || v <= 0)
			continue;
		double sweep = v / total * 2 * S_PI;
		cairo_new_path(cr);
		if (inner > 0) {
			cairo_arc(cr, cx, cy, r, a, a + sweep);
			cairo_arc_negative(cr, cx, cy, inner, a + sweep, a);
		} else {
			if (sweep < 2 * S_PI - 1e-9)
				cairo_move_to(cr, cx, cy);
			cairo_arc(cr, cx, cy, r, a, a + sweep);
		}
		cairo_close_path(cr);
		cairo_path_t *path = cairo_copy_path(cr);
		S_fill(cr, i);
		if (sweep < 2 * S_PI - 1e-9) {
			cairo_append_path(cr, path);
			cairo_set_source_rgb(cr, 1, 1, 1);
			cairo_set_line_width(cr, 1.5);
			cairo_set_line_join(cr, CAIRO_LINE_JOIN_BEVEL);
			cairo_stroke(cr);
		}
		cairo_path_destroy(path);
		/* the share inside slices wide enough for it */
		double mid = a + sweep / 2, rr = inner > 0 ? (r + inner) / 2 : r * 0.64;
		char pct[32];
		snprintf(pct, sizeof pct, "%d.%d%%", tenths[i] / 10, tenths[i] % 10);
		double w, h;
		S_measure(F_VALUE, pct, 0, 0, &w, &h);
		double room = sweep * rr; /* arc length at the label */
		if (room > w + 8 && (inner == 0 || r - inner > h + 4))
			S_draw_text_ex(cr, F_VALUE, pct, cx + rr * cos(mid), cy + rr * sin(mid), 0.5, 0.5,
			               S_hatched(i) ? S_ink : S_text_on(i), 0, 0, S_hatched(i) ? &S_white : NULL);
		a += sweep;
	}
	/* a hairline around the whole so pale slices keep their edge */
	cairo_set_source_rgba(cr, 0, 0, 0, 0.25);
	cairo_set_line_width(cr, 0.8);
	cairo_arc(cr, cx, cy, r + 0.4, 0, 2 * S_PI);
	cairo_stroke(cr);
	if (inner > 0) {
		char num[64];
		chart_format_number(total, num, sizeof num);
		char *label = xasprintf("合计%s%s%s", *unit ? "（" : "", unit, *unit ? "）" : "");
		double h1, h2;
		S_measure(F_BIG, num, 0, 0, NULL, &h1);
		S_measure(F_LABEL, label, 0, 0, NULL, &h2);
		double y0 = cy - (h1 + h2) / 2;
		double w1;
		S_measure(F_BIG, num, 0, 0, &w1, NULL);
		if (w1 < inner * 1.8) {
			S_draw_text(cr, F_BIG, num, cx, y0, 0.5, 0, S_ink, 0, 0);
			S_draw_text(cr, F_LABEL, label, cx, y0 + h1, 0.5, 0, S_muted, 0, 0);
		}
		free(label);
	}
	for (size_t i = 0; i < c->ncat; i++) {
		double y = ly + lh * (double)i;
		if (y + lh <= L->H - 4) {
			cairo_rectangle(cr, lx, y + lh / 2 - 6, 12, 12);
			S_fill(cr, i);
			S_draw_text(cr, F_LEGEND, lines[i], lx + 20, y + lh / 2, 0, 0.5, S_ink, L->W - lx - 20 - S_PAD, 1);
		}
		free(lines[i]);
	}
	free(lines);
	free(tenths);
}

void chart_draw(const chart *c, cairo_t *cr, double width, double height)
{
	S_pango_init();
	cairo_save(cr);
	int pdf = cairo_surface_get_type(cairo_get_target(cr)) == CAIRO_SURFACE_TYPE_PDF;
	if (pdf)
		S_font_options(1);
	/* in a PDF, the fonts its text is set with */
	FcConfig *config = typeset_font_config(pdf);
	if (config && config != S_pg.config) {
		pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(S_pg.map), config);
		S_pg.config = config;
	}
	pango_cairo_update_context(cr, S_pg.ctx);
	pango_layout_context_changed(S_pg.layout);
	S_layout L = {.W = width, .H = height};
	cairo_rectangle(cr, 0, 0, width, height);
	cairo_clip(cr);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	if (S_is_pie(c)) {
		S_draw_pie(c, cr, &L);
	} else {
		S_layout_cartesian(c, &L);
		S_draw_head(c, cr, &L);
		if (!L.has_data) {
			S_draw_no_data(cr, &L, L.title_y + L.title_h);
		} else {
			S_draw_axes(c, cr, &L);
			if (c->type == CHART_LINE)
				S_draw_lines(c, cr, &L);
			else if (c->type == CHART_STACKED)
				S_draw_stacked(c, cr, &L);
			else
				S_draw_bars(c, cr, &L);
			S_draw_categories(c, cr, &L);
		}
	}
	S_layout_free(&L);
	cairo_restore(cr);
	if (pdf) {
		S_font_options(0);
		pango_layout_context_changed(S_pg.layout);
	}
}

int chart_geometry(const chart *c, double width, double height, chart_geom *g)
{
	memset(g, 0, sizeof *g);
	if (S_is_pie(c))
		return -1;
	S_pango_init();
	S_layout L = {.W = width, .H = height};
	S_layout_cartesian(c, &L);
	int rc = -1;
	if (L.has_data) {
		g->x = L.px;
		g->y = L.py;
		g->w = L.pw;
		g->h = L.ph;
		g->lo = L.lo;
		g->hi = L.hi;
		g->horizontal = L.horizontal;
		g->width = width;
		g->height = height;
		rc = 0;
	}
	S_layout_free(&L);
	return rc;
}

double chart_geom_value_pos(const chart_geom *g, double v)
{
	if (!(g->hi > g->lo))
		return g->horizontal ? g->x : g->y + g->h;
	double t = (v - g->lo) / (g->hi - g->lo);
	return g->horizontal ? g->x + t * g->w : g->y + g->h - t * g->h;
}

double chart_geom_category_pos(const chart *c, const chart_geom *g, size_t i)
{
	if (i >= c->ncat || S_is_pie(c))
		return 0;
	S_pango_init();
	S_layout L = {.W = g->width, .H = g->height};
	S_layout_cartesian(c, &L);
	double p = L.catpos ? L.catpos[i] : 0;
	S_layout_free(&L);
	return p;
}

/* ---- PNG ---- */

static void S_png_write(png_structp png, png_bytep data, png_size_t len)
{
	buf_put(png_get_io_ptr(png), data, len);
}

static void S_png_flush(png_structp png)
{
	(void)png;
}

static void S_png_error(png_structp png, png_const_charp msg)
{
	diag_error(NULL, 0, 0, "PNG encoding failed: %s", msg);
	png_longjmp(png, 1);
}

static void S_png_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

/* Encodes a cairo ARGB32/RGB24 image as 8-bit RGB, composited on white. */
static int S_png_encode(const unsigned char *data, int w, int h, int stride, buf *out)
{
	size_t start = out->len;
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, S_png_error, S_png_warning);
	if (!png)
		return -1;
	png_infop info = png_create_info_struct(png);
	unsigned char *row = xmalloc((size_t)w * 3);
	if (!info || setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, info ? &info : NULL);
		free(row);
		buf_truncate(out, start);
		out->len = start;
		return -1;
	}
	png_set_write_fn(png, out, S_png_write, S_png_flush);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
	             PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_set_sRGB(png, info, PNG_sRGB_INTENT_PERCEPTUAL);
	/* Fixed, so the bytes never depend on libpng's heuristics or defaults.
	 * Deflate dominates the cost; on charts (large flat areas) level 3
	 * without row filters is both the fastest and among the smallest. */
	png_set_compression_level(png, 3);
	png_set_compression_strategy(png, 0 /* Z_DEFAULT_STRATEGY */);
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
	png_write_info(png, info);
	for (int y = 0; y < h; y++) {
		const uint32_t *src = (const uint32_t *)(const void *)(data + (size_t)y * (size_t)stride);
		for (int x = 0; x < w; x++) {
			uint32_t p = src[x];
			unsigned a = p >> 24, white = 255 - a; /* premultiplied: over white adds 255 - a */
			row[3 * x] = (unsigned char)(((p >> 16) & 255) + white);
			row[3 * x + 1] = (unsigned char)(((p >> 8) & 255) + white);
			row[3 * x + 2] = (unsigned char)((p & 255) + white);
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	free(row);
	return 0;
}

int chart_render_png(const chart *c, double scale, buf *out)
{
	if (!(scale > 0) || scale > 4)
		scale = 1;
	int w = (int)ceil(c->width * scale - 1e-9), h = (int)ceil(c->height * scale - 1e-9);
	cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
	if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
		diag_error(NULL, 0, 0, "cannot create a %d×%d image for a chart", w, h);
		cairo_surface_destroy(surf);
		return -1;
	}
	cairo_t *cr = cairo_create(surf);
	cairo_scale(cr, scale, scale);
	chart_draw(c, cr, c->width, c->height);
	cairo_destroy(cr);
	cairo_surface_flush(surf);
	int rc = S_png_encode(cairo_image_surface_get_data(surf), w, h, cairo_image_surface_get_stride(surf), out);
	cairo_surface_destroy(surf);
	return rc;
}

/* ---- text for readers ---- */

/* "52所" */
static void S_put_value(buf *b, double v, const char *unit)
{
	char num[64];
	chart_format_number(v, num, sizeof num);
	buf_puts(b, num);
	buf_puts(b, unit);
}

char *chart_alt_text(const chart *c)
{
	buf b = BUF_INIT;
	buf_puts(&b, S_type_cn[c->type]);
	if (c->title && *c->title) {
		buf_puts(&b, "：");
		buf_puts(&b, c->title);
	}
	buf_puts(&b, "。");
	double v;
	int any = 0;
	for (size_t s = 0; s < c->nser; s++)
		for (size_t i = 0; i < c->ncat; i++)
			any |= S_val(c, s, i, &v);
	if (!any) {
		buf_puts(&b, "暂无数据。");
		return buf_detach(&b);
	}
	if (S_is_pie(c)) {
		double total = S_pie_total(c);
		const char *unit = S_unit(c, 0);
		int *tenths = xcalloc(c->ncat, sizeof *tenths);
		S_percentages(c, total, tenths);
		buf_puts(&b, "合计");
		S_put_value(&b, total, unit);
		buf_puts(&b, "：");
		int first = 1;
		for (size_t i = 0; i < c->ncat; i++) {
			if (!S_val(c, 0, i, &v))
				continue;
			if (!first)
				buf_puts(&b, "；");
			first = 0;
			buf_puts(&b, c->cats[i].label);
			S_put_value(&b, v, unit);
			buf_printf(&b, "，占%d.%d%%", tenths[i] / 10, tenths[i] % 10);
		}
		buf_puts(&b, "。");
		free(tenths);
		return buf_detach(&b);
	}
	if (c->x_name && *c->x_name)
		buf_printf(&b, "%s", c->x_name);
	if (c->ncat > 1)
		buf_printf(&b, "从%s到%s，共%zu项。", c->cats[0].label, c->cats[c->ncat - 1].label, c->ncat);
	else
		buf_printf(&b, "%s%s。", c->x_name && *c->x_name ? "为" : "", c->cats[0].label);
	for (size_t s = 0; s < c->nser; s++) {
		const char *unit = S_unit(c, s);
		size_t first = c->ncat, last = 0, lo = 0, hi = 0, n = 0;
		double vlo = 0, vhi = 0;
		for (size_t i = 0; i < c->ncat; i++) {
			if (!S_val(c, s, i, &v))
				continue;
			if (n == 0 || v < vlo) {
				vlo = v;
				lo = i;
			}
			if (n == 0 || v > vhi) {
				vhi = v;
				hi = i;
			}
			if (first == c->ncat)
				first = i;
			last = i;
			n++;
		}
		buf_puts(&b, c->sers[s].name);
		buf_puts(&b, "：");
		if (n == 0) {
			buf_puts(&b, "无数据。");
			continue;
		}
		if (n == 1) {
			buf_printf(&b, "%s为", c->cats[first].label);
			S_put_value(&b, c->sers[s].v[first], unit);
			buf_puts(&b, "。");
			continue;
		}
		if (c->type == CHART_LINE) {
			buf_printf(&b, "从%s的", c->cats[first].label);
			S_put_value(&b, c->sers[s].v[first], unit);
			buf_printf(&b, "到%s的", c->cats[last].label);
			S_put_value(&b, c->sers[s].v[last], unit);
			buf_puts(&b, "；");
		}
		if (vlo == vhi) {
			buf_puts(&b, "各项均为");
			S_put_value(&b, vlo, unit);
		} else {
			buf_printf(&b, "最高为%s的", c->cats[hi].label);
			S_put_value(&b, vhi, unit);
			buf_printf(&b, "，最低为%s的", c->cats[lo].label);
			S_put_value(&b, vlo, unit);
		}
		if (n < c->ncat)
			buf_printf(&b, "（%zu项缺失）", c->ncat - n);
		buf_puts(&b, "。");
	}
	return buf_detach(&b);
}

static void S_put_esc(buf *b, const char *s)
{
	buf_put_html(b, s, strlen(s));
}

char *chart_table_html(const chart *c, chart_source_url_fn source_url, void *ctx)
{
	buf b = BUF_INIT;
	int sources = 0, notes = 0, pie = S_is_pie(c);
	for (size_t i = 0; i < c->ncat; i++) {
		sources |= c->cats[i].source != NULL;
		notes |= c->cats[i].note != NULL;
	}
	double total = pie ? S_pie_total(c) : 0;
	int *tenths = NULL;
	if (pie && total > 0) {
		tenths = xcalloc(c->ncat ? c->ncat : 1, sizeof *tenths);
		S_percentages(c, total, tenths);
	}
	buf_puts(&b, "<table class=\"chart-data\">\n<thead><tr><th scope=\"col\">");
	S_put_esc(&b, c->x_name && *c->x_name ? c->x_name : "类别");
	buf_puts(&b, "</th>");
	for (size_t s = 0; s < c->nser; s++) {
		buf_puts(&b, "<th scope=\"col\">");
		S_put_esc(&b, c->sers[s].name);
		const char *u = S_unit(c, s);
		if (*u) {
			buf_puts(&b, "（");
			S_put_esc(&b, u);
			buf_puts(&b, "）");
		}
		buf_puts(&b, "</th>");
	}
	if (tenths)
		buf_puts(&b, "<th scope=\"col\">占比</th>");
	if (sources)
		buf_puts(&b, "<th scope=\"col\">来源</th>");
	if (notes)
		buf_puts(&b, "<th scope=\"col\">备注</th>");
	buf_puts(&b, "</tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < c->ncat; i++) {
		const S_cat *k = &c->cats[i];
		buf_puts(&b, "<tr><th scope=\"row\">");
		S_put_esc(&b, k->label);
		buf_puts(&b, "</th>");
		for (size_t s = 0; s < c->nser; s++) {
			char num[64];
			if (c->sers[s].has[i])
				S_format_exact(c->sers[s].v[i], num, sizeof num);
			else
				snprintf(num, sizeof num, "—");
			buf_printf(&b, "<td>%s</td>", num);
		}
		if (tenths) {
			double v;
			if (S_val(c, 0, i, &v))
				buf_printf(&b, "<td>%d.%d%%</td>", tenths[i] / 10, tenths[i] % 10);
			else
				buf_puts(&b, "<td>—</td>");
		}
		if (sources) {
			buf_puts(&b, "<td>");
			if (k->source) {
				const char *url = source_url ? source_url(ctx, k->source) : NULL;
				if (url) {
					buf_puts(&b, "<a href=\"");
					S_put_esc(&b, url);
					buf_puts(&b, "\">");
					S_put_esc(&b, k->source);
					buf_puts(&b, "</a>");
				} else {
					S_put_esc(&b, k->source);
				}
			}
			buf_puts(&b, "</td>");
		}
		if (notes) {
			buf_puts(&b, "<td>");
			if (k->note)
				S_put_esc(&b, k->note);
			buf_puts(&b, "</td>");
		}
		buf_puts(&b, "</tr>\n");
	}
	buf_puts(&b, "</tbody>\n</table>");
	free(tenths);
	return buf_detach(&b);
}

char *chart_figure_html(const chart *c, const char *png_url_1x, const char *png_url_2x,
                        chart_source_url_fn source_url, void *ctx)
{
	buf b = BUF_INIT;
	buf_printf(&b, "<figure class=\"chart chart-%s\">\n<img src=\"", chart_type_name(c->type));
	S_put_esc(&b, png_url_1x ? png_url_1x : "");
	buf_puts(&b, "\"");
	if (png_url_2x) {
		buf_puts(&b, " srcset=\"");
		S_put_esc(&b, png_url_1x ? png_url_1x : "");
		buf_puts(&b, " 1x, ");
		S_put_esc(&b, png_url_2x);
		buf_puts(&b, " 2x\"");
	}
	buf_printf(&b, " width=\"%d\" height=\"%d\" alt=\"", (int)ceil(c->width - 1e-9), (int)ceil(c->height - 1e-9));
	char *alt = chart_alt_text(c);
	S_put_esc(&b, alt);
	free(alt);
	buf_puts(&b, "\" loading=\"lazy\" decoding=\"async\">\n");
	if (c->caption && *c->caption) {
		buf_puts(&b, "<figcaption>");
		S_put_esc(&b, c->caption);
		buf_puts(&b, "</figcaption>\n");
	}
	buf_puts(&b, "<details><summary>数据</summary>\n");
	char *table = chart_table_html(c, source_url, ctx);
	buf_puts(&b, table);
	free(table);
	buf_puts(&b, "\n</details>\n</figure>\n");
	return buf_detach(&b);
}
