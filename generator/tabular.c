#include "tabular.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "util.h"

typedef struct parse_ctx {
	tabular *t;
	strvec fields; /* of the row being read */
	int line;      /* line being fed */
	int row_line;  /* line the current row started on (0: none yet) */
	int errors;
	int header_done;
} parse_ctx;

static void S_field(void *s, size_t len, void *data)
{
	parse_ctx *c = data;
	strvec_push(&c->fields, s ? xstrndup(s, len) : xstrdup(""));
}

static void S_row(int term, void *data)
{
	(void)term;
	parse_ctx *c = data;
	tabular *t = c->t;
	int line = c->row_line ? c->row_line : c->line;
	c->row_line = 0;
	if (!c->header_done) {
		c->header_done = 1;
		t->ncols = c->fields.len;
		t->header = c->fields.items;
		c->fields = (strvec)STRVEC_INIT;
		for (size_t i = 0; i < t->ncols; i++) {
			str_trim(t->header[i]);
			if (!*t->header[i]) {
				diag_error(t->file, line, (int)i + 1, "empty column name in the header");
				c->errors++;
			}
			for (size_t j = 0; j < i; j++) {
				if (*t->header[i] && strcmp(t->header[i], t->header[j]) == 0) {
					diag_error(t->file, line, (int)i + 1, "duplicate column '%s' (also column %zu)", t->header[i],
					           j + 1);
					c->errors++;
				}
			}
		}
		return;
	}
	if (c->fields.len != t->ncols) {
		diag_error(t->file, line, (int)(c->fields.len < t->ncols ? c->fields.len : t->ncols) + 1,
		           "row has %zu field%s, the header has %zu", c->fields.len, c->fields.len == 1 ? "" : "s", t->ncols);
		c->errors++;
		strvec_free(&c->fields);
		return;
	}
	t->rows = xrealloc(t->rows, (t->nrows + 1) * sizeof(tab_row));
	t->rows[t->nrows].cells = c->fields.items;
	t->rows[t->nrows].line = line;
	t->nrows++;
	c->fields = (strvec)STRVEC_INIT;
}

tabular *tabular_parse(const char *file, const char *data, size_t len)
{
	tabular *t = xcalloc(1, sizeof *t);
	t->file = xstrdup(file);
	parse_ctx c = {.t = t, .line = 0};
	struct csv_parser p;
	csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
	size_t off = 0;
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		off = 3;
	size_t bad;
	if (!utf8_valid(data + off, len - off, &bad)) {
		int line = 1;
		for (size_t i = off; i < off + bad; i++)
			line += data[i] == '\n';
		diag_error(file, line, 0, "invalid UTF-8 (CSV files must be UTF-8 encoded)");
		c.errors++;
	}
	/* Fed line by line so that every row knows where it started. */
	while (off < len && !c.errors) {
		const char *nl = memchr(data + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (data + off)) + 1 : len - off;
		c.line++;
		if (!c.row_line && c.fields.len == 0) {
			int blank = 1;
			for (size_t i = 0; i < n && blank; i++)
				blank = data[off + i] == '\n' || data[off + i] == '\r' || data[off + i] == ' ';
			if (!blank)
				c.row_line = c.line;
		}
		if (csv_parse(&p, data + off, n, S_field, S_row, &c) != n) {
			diag_error(file, c.line, (int)c.fields.len + 1, "malformed CSV: %s (a quote inside an unquoted field?)",
			           csv_strerror(csv_error(&p)));
			c.errors++;
			break;
		}
		off += n;
	}
	if (!c.errors && csv_fini(&p, S_field, S_row, &c) != 0) {
		diag_error(file, c.row_line ? c.row_line : c.line, (int)c.fields.len + 1,
		           "unterminated quoted field (a \" that is never closed)");
		c.errors++;
	}
	csv_free(&p);
	strvec_free(&c.fields);
	if (!c.errors && !c.header_done) {
		diag_error(file, 1, 1, "empty file: a header row is needed");
		c.errors++;
	}
	if (c.errors) {
		tabular_free(t);
		return NULL;
	}
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t i = 0; i < t->ncols; i++)
			str_trim(t->rows[r].cells[i]);
	return t;
}

void tabular_free(tabular *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->ncols; i++)
		free(t->header ? t->header[i] : NULL);
	free(t->header);
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t i = 0; i < t->ncols; i++)
			free(t->rows[r].cells[i]);
		free(t->rows[r].cells);
	}
	free(t->rows);
	free(t->file);
	free(t);
}

long tabular_col(const tabular *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(t->header[i], name) == 0)
			return (long)i;
	return -1;
}

const char *tabular_cell(const tabular *t, size_t r, long c)
{
	if (c < 0 || (size_t)c >= t->ncols || r >= t->nrows)
		return "";
	return t->rows[r].cells[c];
}

int tabular_require(const tabular *t, const char *const *want)
{
	int missing = 0;
	for (size_t i = 0; want[i]; i++) {
		if (tabular_col(t, want[i]) < 0) {
			diag_error(t->file, 1, 0, "missing column '%s'", want[i]);
			missing++;
		}
	}
	return missing;
}
