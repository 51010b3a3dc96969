/* series — one statistics series (content/data/ID.csv) as a typed table.
 *
 * The format (UTF-8, comma-separated, RFC 4180 quoting, read with libcsv):
 *   - a header row with unique, non-empty names;
 *   - column 1 is the x value: a year, a date or a category label (text);
 *   - further columns are numbers (integers or decimals, no thousands
 *     separators; an empty field is a missing value); a header may carry its
 *     unit in brackets: 成员单位数[所];
 *   - the reserved columns `source` (the bulletin a row comes from, e.g.
 *     2024/01) and `note` (free text; 示意 marks an illustrative row) may
 *     stand anywhere after the first.
 * Problems are reported as file:ROW:COL: error: … (ROW is the 1-based line
 * of the file, COL the 1-based field number), all of them, not only the
 * first.  Checking that a source names a bulletin is the caller's job: it
 * has series_cell_pos for the position. */
#ifndef JB_SERIES_H
#define JB_SERIES_H

#include <stddef.h>

typedef enum series_kind {
	SERIES_X,      /* column 1 */
	SERIES_VALUE,  /* a number column */
	SERIES_SOURCE, /* the reserved `source` column */
	SERIES_NOTE,   /* the reserved `note` column */
} series_kind;

typedef struct series_column {
	char *header; /* as written: "成员单位数[所]" */
	char *name;   /* without the unit: "成员单位数" */
	char *unit;   /* "所", or NULL */
	series_kind kind;
} series_column;

typedef struct series_row {
	char **text;            /* every field as written, one per column */
	double *value;          /* per column; 0 where missing or not a value column */
	unsigned char *missing; /* per column; 1 where empty or not a value column */
	const char *x;          /* text[0] */
	const char *source;     /* the source field, NULL when absent or empty */
	const char *note;       /* the note field, NULL when absent or empty */
	int illustrative;       /* the note contains 示意 */
	int line;               /* 1-based line of the file where the row starts */
	int *cell_line, *cell_col; /* where each field was written */
} series_row;

typedef struct series {
	char *id;   /* "members" for content/data/members.csv */
	char *file; /* the file name given to the loader */
	series_column *cols;
	size_t ncols;
	series_row *rows;
	size_t nrows;
	long source_col, note_col; /* column index, or -1 */
} series;

/* Parses a series file of len bytes (file names it in diagnostics and gives
 * the id).  Returns the series (free with series_free), or NULL after
 * reporting every problem.  A header without rows is a valid, empty series. */
series *series_load(const char *file, const char *data, size_t len);

/* Builds a series from a table already split into cells (row-major,
 * nrows × ncols, row 0 the header; a NULL cell is empty), e.g. the inline
 * rows of a chart block.  lines/cols give each cell's position in file
 * (both may be NULL: then the row and field numbers are used).  The rules and
 * messages are those of series_load.  Returns NULL after reporting. */
series *series_from_cells(const char *file, const char *id, size_t nrows, size_t ncols, const char *const *cells,
                          const int *lines, const int *cols);

/* free(NULL)-style: series_free(NULL) is fine. */
void series_free(series *s);

/* Index of the column called name (its name without the unit, or its whole
 * header), or -1. */
long series_column_index(const series *s, const char *name);

/* The value of column name in row: 0 with *out set, 1 when it is missing,
 * -1 when there is no such row or value column. */
int series_get(const series *s, size_t row, const char *name, double *out);

/* Where the field (row, col) was written, for the caller's diagnostics. */
void series_cell_pos(const series *s, size_t row, size_t col, int *line, int *colno);

/* The id of a series file: its base name without .csv.  Caller frees. */
char *series_id_from_path(const char *path);

/* Parses a number as the format allows it ([+-]digits[.digits], ASCII white
 * space around it ignored): 0 with *out set, -1 when it is not one, -2 when
 * it is too large for a double. */
int series_parse_number(const char *s, double *out);

/* Splits a header "name[unit]" into fresh strings (*unit is NULL when there
 * are no brackets).  Returns -1 when the brackets are malformed. */
int series_split_header(const char *header, char **name, char **unit);

#endif
