#include "series.h"

#include <csv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "util.h"

/* The parsed fields before they are typed: one cell per field with the
 * position where it started. */
typedef struct S_cell {
	char *text;
	int line, col;
} S_cell;

typedef struct S_trow {
	S_cell *cells;
	size_t len;
} S_trow;

typedef struct S_table {
	S_trow *rows;
	size_t len;
} S_table;

static void S_table_free(S_table *t)
{
	for (size_t i = 0; i < t->len; i++) {
		for (size_t j = 0; j < t->rows[i].len; j++)
			free(t->rows[i].cells[j].text);
		free(t->rows[i].cells);
	}
	free(t->rows);
	t->rows = NULL;
	t->len = 0;
}

static S_trow *S_table_add_row(S_table *t)
{
	t->rows = xrealloc(t->rows, (t->len + 1) * sizeof *t->rows);
	S_trow *r = &t->rows[t->len++];
	r->cells = NULL;
	r->len = 0;
	return r;
}

static void S_row_add_cell(S_trow *r, char *owned, int line, int col)
{
	r->cells = xrealloc(r->cells, (r->len + 1) * sizeof *r->cells);
	r->cells[r->len].text = owned;
	r->cells[r->len].line = line;
	r->cells[r->len].col = col;
	r->len++;
}

/* ---- CSV → cells ---- */

typedef struct S_csv {
	S_table table;
	S_trow *row;    /* the row being read, NULL between rows */
	int line;       /* the line being fed to libcsv */
	int field_line; /* the line where the next field starts */
} S_csv;

static void S_csv_field(void *s, size_t len, void *data)
{
	S_csv *st = data;
	if (!st->row)
		st->row = S_table_add_row(&st->table);
	S_row_add_cell(st->row, xstrndup(s ? s : "", s ? len : 0), st->field_line, (int)st->row->len + 1);
	st->field_line = st->line;
}

static void S_csv_row(int c, void *data)
{
	S_csv *st = data;
	(void)c;
	if (!st->row) /* libcsv never ends an empty row, but be safe */
		st->row = S_table_add_row(&st->table);
	st->row = NULL;
}

/* libcsv's parser state before the first character of a row (libcsv.c
 * ROW_NOT_BEGUN): a new line fed then starts a new row. */
enum { S_CSV_ROW_NOT_BEGUN = 0 };

/* Reads data into cells; returns 0, or -1 after reporting a quoting error. */
static int S_csv_read(const char *file, const char *data, size_t len, S_table *out)
{
	struct csv_parser p;
	S_csv st = {.line = 1, .field_line = 1};
	int rc = 0;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		diag_error(file, 0, 0, "cannot initialise the CSV parser");
		return -1;
	}
	csv_set_realloc_func(&p, xrealloc);
	size_t pos = 0;
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		pos = 3;
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) + 1 : len - pos;
		if (p.pstate == S_CSV_ROW_NOT_BEGUN)
			st.field_line = st.line;
		if (csv_parse(&p, data + pos, n, S_csv_field, S_csv_row, &st) != n) {
			int col = st.row ? (int)st.row->len + 1 : 1;
			diag_error(file, st.line, col,
			           "malformed quoting: quote the whole field and double the quotes inside it (\"a \"\"b\"\" c\")");
			rc = -1;
			goto out;
		}
		pos += n;
		st.line++;
	}
	if (csv_fini(&p, S_csv_field, S_csv_row, &st) != 0) {
		int col = st.row ? (int)st.row->len + 1 : 1;
		diag_error(file, st.field_line, col, "unterminated quoted field: a closing '\"' is missing");
		rc = -1;
	}
out:
	csv_free(&p);
	if (rc < 0)
		S_table_free(&st.table);
	else
		*out = st.table;
	return rc;
}

/* ---- numbers and headers ---- */

int series_parse_number(const char *s, double *out)
{
	const char *p = s;
	while (*p == ' ' || *p == '\t')
		p++;
	const char *start = p;
	if (*p == '+' || *p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	const char *end = p;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p)
		return -1;
	/* The text is plain ASCII decimal; strtod reads it (jianbao never
	 * changes LC_NUMERIC from "C"). */
	char tmp[64];
	char *heap = NULL;
	size_t n = (size_t)(end - start);
	char *num = tmp;
	if (n >= sizeof tmp)
		num = heap = xmalloc(n + 1);
	memcpy(num, start, n);
	num[n] = '\0';
	double v = strtod(num, NULL);
	free(heap);
	if (!isfinite(v))
		return -2;
	*out = v;
	return 0;
}

int series_split_header(const char *header, char **name, char **unit)
{
	*name = *unit = NULL;
	size_t len = strlen(header);
	const char *open = strrchr(header, '[');
	const char *close = strchr(header, ']');
	if (!open && !close) {
		*name = str_trim(xstrdup(header));
		return 0;
	}
	if (!open || !close || close != header + len - 1 || close < open || memchr(header, '[', (size_t)(open - header)))
		return -1;
	char *n = xstrndup(header, (size_t)(open - header));
	char *u = xstrndup(open + 1, (size_t)(close - open - 1));
	str_trim(n);
	str_trim(u);
	if (!*u) {
		free(n);
		free(u);
		return -1;
	}
	*name = n;
	*unit = u;
	return 0;
}

char *series_id_from_path(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(base);
	if (n > 4 && strcmp(base + n - 4, ".csv") == 0)
		n -= 4;
	return xstrndup(base, n);
}

/* ---- cells → series ---- */

void series_free(series *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nrows; i++) {
		series_row *r = &s->rows[i];
		for (size_t j = 0; r->text && j < s->ncols; j++)
			free(r->text[j]);
		free(r->text);
		free(r->value);
		free(r->missing);
		free(r->cell_line);
		free(r->cell_col);
	}
	free(s->rows);
	for (size_t j = 0; j < s->ncols; j++) {
		free(s->cols[j].header);
		free(s->cols[j].name);
		free(s->cols[j].unit);
	}
	free(s->cols);
	free(s->id);
	free(s->file);
	free(s);
}

static int S_header(const char *file, series *s, const S_trow *h)
{
	int ok = 1;
	s->ncols = h->len;
	s->cols = xcalloc(h->len, sizeof *s->cols);
	for (size_t j = 0; j < h->len; j++) {
		const S_cell *c = &h->cells[j];
		series_column *col = &s->cols[j];
		col->header = xstrdup(c->text);
		if (series_split_header(c->text, &col->name, &col->unit) < 0) {
			diag_error(file, c->line, c->col, "malformed unit in column name '%s': write it as name[unit], e.g. 成员单位数[所]",
			           c->text);
			col->name = xstrdup(c->text);
			ok = 0;
			continue;
		}
		if (!*col->name) {
			diag_error(file, c->line, c->col, "empty column name in the header");
			ok = 0;
			continue;
		}
		int is_source = strcmp(col->name, "source") == 0, is_note = strcmp(col->name, "note") == 0;
		if (j == 0) {
			col->kind = SERIES_X;
			if (is_source || is_note) {
				diag_error(file, c->line, c->col, "column 1 is the x value and cannot be the reserved column '%s'",
				           col->name);
				ok = 0;
			}
		} else if (is_source || is_note) {
			col->kind = is_source ? SERIES_SOURCE : SERIES_NOTE;
			if (col->unit) {
				diag_error(file, c->line, c->col, "the reserved column '%s' has no unit", col->name);
				ok = 0;
			}
			if (is_source)
				s->source_col = (long)j;
			else
				s->note_col = (long)j;
		} else {
			col->kind = SERIES_VALUE;
		}
		for (size_t k = 0; k < j; k++) {
			if (s->cols[k].name && strcmp(s->cols[k].name, col->name) == 0) {
				diag_error(file, c->line, c->col, "duplicate column name '%s' (already column %zu)", col->name, k + 1);
				ok = 0;
				break;
			}
		}
	}
	return ok;
}

static int S_row(const char *file, series *s, const S_trow *t, series_row *r)
{
	int ok = 1;
	size_t nc = s->ncols;
	r->line = t->len ? t->cells[0].line : 0;
	if (t->len != nc) {
		size_t at = t->len < nc ? t->len : nc;
		int line = at < t->len ? t->cells[at].line : t->cells[t->len - 1].line;
		diag_error(file, line, (int)at + 1, "row has %zu field%s, the header has %zu", t->len, t->len == 1 ? "" : "s",
		           nc);
		return 0;
	}
	r->text = xcalloc(nc, sizeof *r->text);
	r->value = xcalloc(nc, sizeof *r->value);
	r->missing = xcalloc(nc, 1);
	r->cell_line = xcalloc(nc, sizeof *r->cell_line);
	r->cell_col = xcalloc(nc, sizeof *r->cell_col);
	for (size_t j = 0; j < nc; j++) {
		const S_cell *c = &t->cells[j];
		r->text[j] = xstrdup(c->text);
		r->cell_line[j] = c->line;
		r->cell_col[j] = c->col;
		r->missing[j] = 1;
		size_t bad;
		if (!utf8_valid(c->text, strlen(c->text), &bad)) {
			diag_error(file, c->line, c->col, "not valid UTF-8 (byte %zu of the field)", bad + 1);
			ok = 0;
			continue;
		}
		const series_column *col = &s->cols[j];
		if (col->kind != SERIES_VALUE)
			continue;
		const char *p = c->text;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			continue;
		int e = series_parse_number(p, &r->value[j]);
		if (e == -2) {
			diag_error(file, c->line, c->col, "'%s' is too large a number: \"%s\"", col->name, c->text);
			ok = 0;
		} else if (e < 0) {
			int separators = strchr(c->text, ',') || strstr(c->text, "\xEF\xBC\x8C"); /* ， */
			diag_error(file, c->line, c->col, "'%s' must be a number, got \"%s\"%s", col->name, c->text,
			           separators ? " (write numbers without thousands separators)" : "");
			ok = 0;
		} else {
			r->missing[j] = 0;
		}
	}
	r->x = r->text[0];
	if (s->source_col >= 0 && *str_trim(r->text[s->source_col]))
		r->source = r->text[s->source_col];
	if (s->note_col >= 0 && *str_trim(r->text[s->note_col])) {
		r->note = r->text[s->note_col];
		r->illustrative = strstr(r->note, "示意") != NULL;
	}
	return ok;
}

static series *S_build(const char *file, const char *id, const S_table *t)
{
	series *s = xcalloc(1, sizeof *s);
	s->id = xstrdup(id);
	s->file = xstrdup(file);
	s->source_col = s->note_col = -1;
	if (t->len == 0 || t->rows[0].len == 0) {
		diag_error(file, 1, 1, "empty series: a header row is required");
		series_free(s);
		return NULL;
	}
	int ok = S_header(file, s, &t->rows[0]);
	if (ok) {
		s->rows = xcalloc(t->len - 1 ? t->len - 1 : 1, sizeof *s->rows);
		for (size_t i = 1; i < t->len; i++) {
			series_row *r = &s->rows[s->nrows++];
			if (!S_row(file, s, &t->rows[i], r))
				ok = 0;
		}
	}
	if (!ok) {
		series_free(s);
		return NULL;
	}
	return s;
}

series *series_load(const char *file, const char *data, size_t len)
{
	S_table t = {NULL, 0};
	if (S_csv_read(file, data, len, &t) < 0)
		return NULL;
	char *id = series_id_from_path(file);
	series *s = S_build(file, id, &t);
	free(id);
	S_table_free(&t);
	return s;
}

series *series_from_cells(const char *file, const char *id, size_t nrows, size_t ncols, const char *const *cells,
                          const int *lines, const int *cols)
{
	S_table t = {NULL, 0};
	for (size_t i = 0; i < nrows; i++) {
		S_trow *r = S_table_add_row(&t);
		for (size_t j = 0; j < ncols; j++) {
			size_t k = i * ncols + j;
			S_row_add_cell(r, xstrdup(cells[k] ? cells[k] : ""), lines ? lines[k] : (int)i + 1,
			               cols ? cols[k] : (int)j + 1);
		}
	}
	series *s = S_build(file, id, &t);
	S_table_free(&t);
	return s;
}

long series_column_index(const series *s, const char *name)
{
	for (size_t j = 0; j < s->ncols; j++)
		if (strcmp(s->cols[j].name, name) == 0)
			return (long)j;
	for (size_t j = 0; j < s->ncols; j++)
		if (strcmp(s->cols[j].header, name) == 0)
			return (long)j;
	return -1;
}

int series_get(const series *s, size_t row, const char *name, double *out)
{
	long j = series_column_index(s, name);
	if (j < 0 || row >= s->nrows || s->cols[j].kind != SERIES_VALUE)
		return -1;
	if (s->rows[row].missing[j])
		return 1;
	*out = s->rows[row].value[j];
	return 0;
}

void series_cell_pos(const series *s, size_t row, size_t col, int *line, int *colno)
{
	*line = *colno = 0;
	if (row >= s->nrows || col >= s->ncols || !s->rows[row].cell_line)
		return;
	*line = s->rows[row].cell_line[col];
	*colno = s->rows[row].cell_col[col];
}
