#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "frontmatter.h"

static int S_cmp_series(const void *a, const void *b)
{
	return strcmp((*(series *const *)a)->id, (*(series *const *)b)->id);
}

/* "content/bulletins/2024/01.md" → "2024/01" */
static char *S_bulletin_ref(const char *content_dir, const char *path)
{
	char *prefix = xasprintf("%s/bulletins/", content_dir);
	const char *p = str_starts_with(path, prefix) ? path + strlen(prefix) : path;
	size_t n = strlen(p);
	if (n > 3 && !strcmp(p + n - 3, ".md"))
		n -= 3;
	free(prefix);
	return xstrndup(p, n);
}

/* A figure to merge: column → value text, at a place in a bulletin. */
typedef struct figure {
	const page *from;
	char *x;
	char *column;
	char *value;
	int line, col;
} figure;

/* x values that are numbers compare as numbers, dates as text (ISO). */
static int S_x_before(const char *a, const char *b)
{
	double x, y;
	if (series_parse_number(a, &x) == 0 && series_parse_number(b, &y) == 0)
		return x < y;
	return strcmp(a, b) < 0;
}

/* Rebuilds s with the figures for it merged; NULL after reporting. */
static series *S_merge(const series *s, figure *f, size_t nf, const char *content_dir)
{
	size_t ncols = s->ncols, nrows = s->nrows;
	/* cells: header + existing rows + room for new rows */
	size_t cap = (nrows + nf + 1) * ncols;
	char **cells = xcalloc(cap, sizeof(char *));
	int *lines = xcalloc(cap, sizeof(int)), *cols = xcalloc(cap, sizeof(int));
	for (size_t c = 0; c < ncols; c++) {
		cells[c] = xstrdup(s->cols[c].header);
		lines[c] = 1;
		cols[c] = (int)c + 1;
	}
	for (size_t r = 0; r < nrows; r++)
		for (size_t c = 0; c < ncols; c++) {
			cells[(r + 1) * ncols + c] = xstrdup(s->rows[r].text[c]);
			series_cell_pos(s, r, c, &lines[(r + 1) * ncols + c], &cols[(r + 1) * ncols + c]);
		}
	size_t rows = nrows + 1;
	int bad = 0;
	for (size_t i = 0; i < nf; i++) {
		long c = series_column_index(s, f[i].column);
		if (c < 0 || s->cols[c].kind != SERIES_VALUE) {
			diag_error(f[i].from->source, f[i].line, f[i].col, "stats: series '%s' (%s) has no number column '%s'",
			           s->id, s->file, f[i].column);
			bad = 1;
			continue;
		}
		double v;
		if (series_parse_number(f[i].value, &v) != 0) {
			diag_error(f[i].from->source, f[i].line, f[i].col, "stats: '%s' is not a number", f[i].value);
			bad = 1;
			continue;
		}
		size_t r = 1;
		while (r < rows && strcmp(cells[r * ncols], f[i].x) != 0)
			r++;
		char *ref = S_bulletin_ref(content_dir, f[i].from->source);
		if (r == rows) {
			for (size_t k = 0; k < ncols; k++)
				cells[r * ncols + k] = xstrdup("");
			free(cells[r * ncols]);
			cells[r * ncols] = xstrdup(f[i].x);
			for (size_t k = 0; k < ncols; k++) {
				lines[r * ncols + k] = f[i].line;
				cols[r * ncols + k] = f[i].col;
			}
			rows++;
		}
		char **cell = &cells[r * ncols + c];
		if (**cell) {
			double old;
			if (series_parse_number(*cell, &old) == 0 && old != v) {
				diag_error(f[i].from->source, f[i].line, f[i].col,
				           "stats: %s %s %s = %s here, but %s in %s:%d", s->id, f[i].x, f[i].column, f[i].value,
				           *cell, s->file, lines[r * ncols + c]);
				bad = 1;
			}
		} else {
			free(*cell);
			*cell = xstrdup(f[i].value);
		}
		if (s->source_col >= 0 && !*cells[r * ncols + s->source_col]) {
			free(cells[r * ncols + s->source_col]);
			cells[r * ncols + s->source_col] = xstrdup(ref);
		}
		free(ref);
	}
	/* rows stay in order of x when x is a number, year or date */
	int ordered = 1;
	for (size_t r = 1; r < rows && ordered; r++) {
		double v;
		jb_date d;
		ordered = series_parse_number(cells[r * ncols], &v) == 0 || date_parse_iso(cells[r * ncols], &d) == 0;
	}
	for (size_t r = 2; ordered && r < rows; r++) {
		for (size_t k = r; k > 1 && S_x_before(cells[k * ncols], cells[(k - 1) * ncols]); k--) {
			for (size_t c = 0; c < ncols; c++) {
				size_t a = k * ncols + c, b = (k - 1) * ncols + c;
				char *t = cells[a];
				cells[a] = cells[b];
				cells[b] = t;
				int tl = lines[a], tc = cols[a];
				lines[a] = lines[b], cols[a] = cols[b];
				lines[b] = tl, cols[b] = tc;
			}
		}
	}
	series *out = NULL;
	if (!bad)
		out = series_from_cells(s->file, s->id, rows, ncols, (const char *const *)cells, lines, cols);
	for (size_t i = 0; i < cap; i++)
		free(cells[i]);
	free(cells);
	free(lines);
	free(cols);
	return out;
}

static void S_collect(const site_model *m, const char *id, figure **out, size_t *n)
{
	for (size_t b = m->nbulletins; b-- > 0;) { /* oldest first */
		const page *p = m->bulletins[b];
		const yval *st = yval_get(p->meta, "stats");
		const yval *v = st && st->kind == YV_MAP ? yval_get(st, id) : NULL;
		if (!v)
			continue;
		char year[16];
		snprintf(year, sizeof year, "%d", p->year);
		if (v->kind == YV_SCALAR) {
			*out = xrealloc(*out, (*n + 1) * sizeof(figure));
			(*out)[(*n)++] = (figure){p, xstrdup(year), xstrdup(""), xstrdup(v->str), v->line, v->col};
			continue;
		}
		if (v->kind != YV_MAP) {
			diag_error(p->source, v->line, v->col, "stats: '%s' must be a number or a mapping of columns to numbers", id);
			continue;
		}
		const yval *x = yval_get(v, "x");
		for (size_t k = 0; k < v->len; k++) {
			if (!strcmp(v->keys[k], "x"))
				continue;
			const yval *item = v->items[k];
			if (item->kind != YV_SCALAR) {
				diag_error(p->source, item->line, item->col, "stats: %s.%s must be a number", id, v->keys[k]);
				continue;
			}
			*out = xrealloc(*out, (*n + 1) * sizeof(figure));
			(*out)[(*n)++] = (figure){p, xstrdup(x && x->kind == YV_SCALAR ? x->str : year), xstrdup(v->keys[k]),
			                          xstrdup(item->str), item->line, item->col};
		}
	}
}

int stats_load(stats *st, source *src, const char *content_dir, const site_model *m)
{
	memset(st, 0, sizeof *st);
	char *dir = path_join(content_dir, "data");
	strvec files = STRVEC_INIT;
	int rc = source_list(src, dir, &files);
	for (size_t i = 0; i < files.len && rc == 0; i++) {
		if (!str_ends_with(files.items[i], ".csv"))
			continue;
		char *data = NULL;
		size_t len = 0;
		if (source_read(src, files.items[i], &data, &len) != 0) {
			rc = -1;
			break;
		}
		series *s = series_load(files.items[i], data, len);
		free(data);
		if (!s)
			continue;
		st->list = xrealloc(st->list, (st->n + 1) * sizeof(series *));
		st->list[st->n++] = s;
	}
	strvec_free(&files);
	free(dir);
	if (st->n > 1)
		qsort(st->list, st->n, sizeof(series *), S_cmp_series);

	if (!m)
		return rc; /* series alone (jianbao pdf): nothing to merge or check against */
	/* figures from front matter: each names a series that must exist */
	for (size_t b = 0; b < m->nbulletins; b++) {
		const yval *sv = yval_get(m->bulletins[b]->meta, "stats");
		if (!sv)
			continue;
		if (sv->kind != YV_MAP) {
			diag_error(m->bulletins[b]->source, sv->line, sv->col, "stats must be a mapping of series ids to figures");
			continue;
		}
		for (size_t k = 0; k < sv->len; k++)
			if (!stats_find(st, sv->keys[k]))
				diag_error(m->bulletins[b]->source, sv->key_lines[k], sv->key_cols[k],
				           "stats: no series '%s' (add %s/data/%s.csv)", sv->keys[k], content_dir, sv->keys[k]);
	}
	for (size_t i = 0; i < st->n; i++) {
		figure *f = NULL;
		size_t nf = 0;
		S_collect(m, st->list[i]->id, &f, &nf);
		if (nf) {
			/* a bare number goes to the first value column */
			for (size_t k = 0; k < nf; k++) {
				if (*f[k].column)
					continue;
				for (size_t c = 0; c < st->list[i]->ncols; c++)
					if (st->list[i]->cols[c].kind == SERIES_VALUE) {
						free(f[k].column);
						f[k].column = xstrdup(st->list[i]->cols[c].name);
						break;
					}
			}
			series *merged = S_merge(st->list[i], f, nf, content_dir);
			if (merged) {
				series_free(st->list[i]);
				st->list[i] = merged;
			}
		}
		for (size_t k = 0; k < nf; k++) {
			free(f[k].x);
			free(f[k].column);
			free(f[k].value);
		}
		free(f);
	}
	/* every source names a bulletin */
	for (size_t i = 0; i < st->n; i++) {
		const series *s = st->list[i];
		for (size_t r = 0; r < s->nrows; r++) {
			if (!s->rows[r].source)
				continue;
			strvec refs = STRVEC_INIT;
			const char *p = s->rows[r].source;
			while (*p) {
				const char *e = strchr(p, '|');
				size_t n = e ? (size_t)(e - p) : strlen(p);
				strvec_push(&refs, str_trim(xstrndup(p, n)));
				if (!e)
					break;
				p = e + 1;
			}
			for (size_t k = 0; k < refs.len; k++) {
				if (!model_bulletin(m, content_dir, refs.items[k])) {
					int line, col;
					series_cell_pos(s, r, (size_t)s->source_col, &line, &col);
					diag_error(s->file, line, col, "source '%s' names no bulletin (%s/bulletins/%s.md)", refs.items[k],
					           content_dir, refs.items[k]);
				}
			}
			strvec_free(&refs);
		}
	}
	return rc;
}

void stats_free(stats *st)
{
	for (size_t i = 0; i < st->n; i++)
		series_free(st->list[i]);
	free(st->list);
	memset(st, 0, sizeof *st);
}

const series *stats_find(const stats *st, const char *id)
{
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->list[i]->id, id))
			return st->list[i];
	return NULL;
}
