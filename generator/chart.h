/* chart — statistics charts: a spec (from a ```chart block's YAML or built
 * through the C API), drawn as vectors with Cairo + Pango on any cairo
 * surface, encoded as deterministic PNG, and described for readers who
 * cannot see it (alt text, an HTML data table, the whole <figure>).
 *
 * A ```chart block:
 *     type: line            # line | bar | hbar | stacked | pie | donut
 *     title: 联盟成员单位数
 *     data: members         # a series id (content/data/members.csv) …
 *     rows:                 # … or inline rows, the first one the header
 *       - [年份, "成员单位数[所]"]   # quoted: [ ] are YAML
 *       - [2020, 52]
 *     x: 年份               # the category column (default: the first)
 *     y: 成员单位数         # one column or a list (several series; default:
 *                           # every number column, pie/donut: the first)
 *     units: 所             # default: the columns' unit
 *     caption: 图 1：…
 *     width: 640            # CSS pixels of the 1× image (default 640 × 400)
 *     height: 400
 *
 * Sizes are CSS pixels; PNGs are rendered at a scale (1× or 2×).  Values
 * are doubles; a missing value is left out (a gap in a line, no bar).
 *
 * Text is set with one Pango font map and context per thread, created on
 * first use and kept for every later chart ("Noto Sans CJK SC"); free them
 * with chart_thread_cleanup before the thread ends if it matters. */
#ifndef JB_CHART_H
#define JB_CHART_H

#include <cairo.h>
#include <stddef.h>

#include "series.h"
#include "util.h"

typedef enum chart_type {
	CHART_LINE,    /* a time series with point labels */
	CHART_BAR,     /* vertical bars, grouped when several series */
	CHART_HBAR,    /* horizontal bars */
	CHART_STACKED, /* vertical bars stacked per category */
	CHART_PIE,     /* shares of one series, with percentages */
	CHART_DONUT,   /* a pie with a hole showing the total */
} chart_type;

typedef struct chart chart;

/* Default size in CSS pixels, and the accepted range of width and height. */
#define CHART_DEFAULT_WIDTH 640
#define CHART_DEFAULT_HEIGHT 400
#define CHART_MIN_SIZE 160
#define CHART_MAX_SIZE 4000
/* Values beyond ±CHART_MAX_VALUE are refused by chart_check and left out by
 * chart_draw. */
#define CHART_MAX_VALUE 1e15

/* Finds a series by id for a `data:` key; NULL when there is none.  The
 * series only needs to live during chart_parse (the chart copies it). */
typedef const series *(*chart_series_fn)(void *ctx, const char *id);
/* The URL of a row's source (a bulletin path such as "2024/01"), or NULL
 * for no link.  The string must live until the call that asked returns. */
typedef const char *(*chart_source_url_fn)(void *ctx, const char *source);

/* ---- the spec ---- */

/* Parses the YAML of a ```chart block whose first line is line first_line
 * of file.  Every problem is reported as file:line:col at the offending key
 * or value; returns the chart (free with chart_free) or NULL. */
chart *chart_parse(const char *file, int first_line, const char *text, size_t len, chart_series_fn find_series,
                   void *ctx);

/* An empty chart of type t, 640 × 400, to fill with the calls below. */
chart *chart_new(chart_type t);
void chart_free(chart *c); /* chart_free(NULL) is fine */

/* "line" → CHART_LINE …: 0, or -1 for an unknown name. */
int chart_type_parse(const char *name, chart_type *out);
const char *chart_type_name(chart_type t);
chart_type chart_get_type(const chart *c);

/* Setters copy their strings; NULL clears. */
void chart_set_title(chart *c, const char *title);
void chart_set_caption(chart *c, const char *caption);
void chart_set_units(chart *c, const char *units);
/* The heading of the category column in the data table ("年份"). */
void chart_set_x_name(chart *c, const char *name);
/* CSS pixels; values outside CHART_MIN_SIZE..CHART_MAX_SIZE are clamped. */
void chart_set_size(chart *c, double width, double height);
void chart_get_size(const chart *c, double *width, double *height);

/* Appends a category (an x value: a year, a date, a label) with the
 * bulletin it comes from and a note (both may be NULL).  Every series gets
 * a missing value for it.  Returns its index. */
size_t chart_add_category(chart *c, const char *label, const char *source, const char *note);
/* Appends a series (name and unit may be NULL); all its values start
 * missing.  Returns its index. */
size_t chart_add_series(chart *c, const char *name, const char *unit);
/* Sets a value; out-of-range indexes are ignored.  Any double is accepted
 * here: chart_check reports what cannot be drawn. */
void chart_set_value(chart *c, size_t series_index, size_t category, double v);
size_t chart_categories(const chart *c);
size_t chart_series_count(const chart *c);

/* Adds the rows of s as categories (labels from column x, NULL = the first)
 * and the columns y[0..ny) as series (ny == 0: every number column, or the
 * first one for pie and donut).  An unknown column is reported at
 * file:line:col; returns 0 or -1. */
int chart_add_from_series(chart *c, const series *s, const char *x, const char *const *y, size_t ny,
                          const char *file, int line, int col);

/* Checks that the data can be drawn: some data, finite values within
 * ±CHART_MAX_VALUE, one series and no negative values and a non-zero total
 * for pie/donut.  Problems are reported at file:line:col; returns 0 or -1.
 * (chart_draw never crashes on a chart that fails: it draws what it can.) */
int chart_check(const chart *c, const char *file, int line, int col);

/* ---- drawing ---- */

/* Draws the chart into the rectangle (0, 0, width, height) of cr's user
 * space (1 unit = 1 CSS pixel of a 640 × 400 chart at 1×), on a white
 * background, as vectors.  cr's state is restored afterwards. */
void chart_draw(const chart *c, cairo_t *cr, double width, double height);

/* Renders at scale × the chart's size (scale 1 or 2, at most 4) and
 * appends a PNG to out: 8-bit RGB, no time or text chunks, fixed zlib level
 * and filter, so the bytes depend only on the chart.  0, or -1 (nothing
 * appended) when the surface cannot be created or encoded. */
int chart_render_png(const chart *c, double scale, buf *out);

/* Where the data sits when the chart is drawn at width × height, for
 * callers that place things over it (and for tests).  The value axis maps
 * lo..hi onto the plot rectangle (bottom to top, or left to right for
 * hbar).  Returns 0, or -1 for pie/donut and charts without data. */
typedef struct chart_geom {
	double x, y, w, h; /* the plot rectangle */
	double lo, hi;     /* the value axis */
	int horizontal;    /* hbar: categories run top to bottom */
	double width, height; /* the size it was computed for */
} chart_geom;
int chart_geometry(const chart *c, double width, double height, chart_geom *g);
/* The y (x for hbar) of value v. */
double chart_geom_value_pos(const chart_geom *g, double v);
/* The x (y for hbar) of category i: the centre of its bar group, or its
 * point on a line (years and dates are spaced by time). */
double chart_geom_category_pos(const chart *c, const chart_geom *g, size_t i);

/* ---- text for readers ---- */

/* A Chinese description from the data: type, title, the range of x, each
 * series' first and last value, its lowest and highest.  Caller frees. */
char *chart_alt_text(const chart *c);

/* The data as an HTML <table> (every text escaped): a header row, one row
 * per category, a 来源 column linking each source through source_url (may
 * be NULL: plain text) when any row has one, a 备注 column when any has a
 * note.  Caller frees. */
char *chart_table_html(const chart *c, chart_source_url_fn source_url, void *ctx);

/* The whole <figure>: <img> with src, srcset (1×, 2× when png_url_2x is
 * not NULL), width, height and alt; <figcaption> with the caption when there
 * is one; and <details><summary>数据</summary> the table </details>.
 * Caller frees. */
char *chart_figure_html(const chart *c, const char *png_url_1x, const char *png_url_2x,
                        chart_source_url_fn source_url, void *ctx);

/* Formats v the Chinese way: plain below 1万, then 60.8万, 6.4亿, 1.2万亿
 * (at most two decimals, trailing zeros dropped).  Writes at most n bytes. */
void chart_format_number(double v, char *out, size_t n);

/* Frees this thread's Pango font map and context (made again if needed). */
void chart_thread_cleanup(void);

/* 1 once a chart has set text (Pango and fontconfig are loaded). */
int chart_fonts_loaded(void);

#endif
