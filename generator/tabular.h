/* tabular — a CSV file (libcsv, strict RFC 4180) as a header and rows of
 * strings, each row knowing the file line it started on.
 *
 * Problems are reported as file:LINE:FIELD (1-based line of the file,
 * 1-based field number): unterminated quotes, a quote inside an unquoted
 * field, rows with more or fewer fields than the header, empty or duplicate
 * header names.  Blank lines are skipped. */
#ifndef JB_TABULAR_H
#define JB_TABULAR_H

#include <stddef.h>

typedef struct tab_row {
	char **cells; /* ncols strings (never NULL; "" when empty) */
	int line;
} tab_row;

typedef struct tabular {
	char *file;
	char **header;
	size_t ncols;
	tab_row *rows;
	size_t nrows;
} tabular;

/* Parses data; NULL after reporting every problem found. */
tabular *tabular_parse(const char *file, const char *data, size_t len);
void tabular_free(tabular *t);

/* Index of the column named name, or -1. */
long tabular_col(const tabular *t, const char *name);
/* The cell of row r in column c ("" when c < 0). */
const char *tabular_cell(const tabular *t, size_t r, long c);

/* Reports columns of want[] (NULL-terminated) missing from the header;
 * returns the number missing. */
int tabular_require(const tabular *t, const char *const *want);

#endif
