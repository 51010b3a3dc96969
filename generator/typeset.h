/* typeset — printable PDFs of bulletins (简报) and alliance documents (公文)
 * in the GB/T 9704 page layout, set with Pango and written by cairo.
 *
 * One typesetter holds the fonts and the Pango context; keep it for many
 * documents (font lookups are the expensive part).  A document is a
 * print_doc: its metadata and its Markdown body as a cmark-gfm tree (after
 * md_normalize).  Problems in the input are reported through diag with the
 * source file and line; a character no font has is an error, never a blank
 * box.  The same print_doc gives the same bytes: the PDF's dates come from
 * print_doc.created, never from the clock.
 *
 * Pieces: typeset_style.c (print.lua → print_style), typeset_text.c (inline
 * text → PangoLayout: fonts, kinsoku, spacing, justification),
 * typeset_flow.c (blocks → pages on the line grid), typeset_pdf.c (pages,
 * mastheads, closing blocks, metadata, volumes), typeset_font.c (the font
 * files read: copies of the CJK faces made for cairo), typeset_cff.c (CFF
 * fonts without subroutines). */
#ifndef JB_TYPESET_H
#define JB_TYPESET_H

#include <cairo.h>
#include <cmark-gfm.h>
#include <fontconfig/fontconfig.h>
#include <pango/pango.h>
#include <stddef.h>

#include "util.h"

/* ---- style: themes/<name>/print.lua ---- */

/* Sizes in points, lengths in millimetres, colours as 0xRRGGBB.  Every
 * string is owned by the struct (print_style_free). */
typedef struct print_style {
	char *font_body;     /* 正文: 仿宋 substitute */
	char *font_title;    /* 小标宋: titles */
	char *font_masthead; /* mastheads and 发文机关标志 */
	char *font_hei;      /* 黑体: first-level headings */
	char *font_kai;      /* 楷体: second-level headings, quotes, bylines */
	char *font_mono;     /* code */
	double size_body, size_title, size_subtitle, size_masthead, size_issuer;
	double size_small;   /* 四号: page numbers, closing block, 版记 */
	double size_caption, size_table, size_code;
	double margin_top, margin_left, text_width, text_height; /* mm */
	int lines_per_page, chars_per_line;
	double page_number_gap; /* mm between the text block and the page number */
	unsigned red, text_colour, link_colour;
} print_style;

/* Fills s with the built-in layout (GB/T 9704: A4, 22 × 28 grid). */
void print_style_defaults(print_style *s);
/* Runs code (the text of print.lua, named file in diagnostics) in a fresh
 * sandbox and reads the table it returns over the defaults.  0, or -1
 * after reporting (s then holds the defaults). */
int print_style_load(print_style *s, const char *file, const char *code, size_t len);
void print_style_free(print_style *s);

/* ---- documents ---- */

typedef enum print_kind { PRINT_BULLETIN, PRINT_DOCUMENT } print_kind;

/* Returns the bytes of the local image at path (as written in the
 * Markdown): 0 with *data owned by the caller (free), or -1 when there is
 * none (the typesetter reports it). */
typedef int (*print_image_fn)(void *ctx, const char *path, char **data, size_t *len);
/* A fenced block the caller draws (e.g. ```chart): with cr NULL sets
 * *height for the given width; otherwise draws it at (0, 0) within width ×
 * *height.  Returns 0, 1 when the block is not the caller's (it is then
 * set as code), or -1 after reporting an error. */
typedef int (*print_block_fn)(void *ctx, cmark_node *fenced, cairo_t *cr, double width, double *height);

/* Every string is borrowed and may be NULL (the part is then left out). */
typedef struct print_doc {
	print_kind kind;
	/* bulletin (简报) */
	const char *series;     /* masthead: 继续教育网络园区工作简报 */
	const char *issue_line; /* 2024年第1期 总第46期 */
	const char *publisher;  /* left under the masthead */
	const char *date;       /* right under the masthead: 2024年1月11日 */
	const char *title, *subtitle, *author;
	const char *guidance; /* 指导 */
	const char *editor;   /* 编发 */
	/* alliance document (公文) */
	const char *issuer_title; /* 发文机关标志: 安徽高校继续教育合作联盟文件 */
	const char *number;       /* 继教合作联盟〔2021〕1号 */
	const char *issuer;       /* 署名 at the end */
	const char *cc;           /* 抄送 */
	const char *printer;      /* 印发机关 */
	const char *printed;      /* 印发日期: 2021年1月5日 */
	/* the body */
	cmark_node *body; /* CMARK_NODE_DOCUMENT, after md_normalize */
	const char *file; /* source file for diagnostics */
	int first_line;   /* line of the file where the Markdown body starts */
	/* PDF metadata */
	const char *pdf_title, *pdf_author, *pdf_subject;
	const char *created; /* ISO 8601, e.g. 2024-01-11T00:00:00Z: CreationDate and ModDate */
	/* callbacks (NULL: images become placeholders, fenced blocks code) */
	print_image_fn load_image;
	print_block_fn draw_block;
	void *ctx;
} print_doc;

/* Several bulletins of one year bound together (合订本). */
typedef struct print_volume {
	const char *title;    /* 继续教育网络园区工作简报 */
	const char *subtitle; /* 2024年合订本 */
	const char *publisher;
	const print_doc *const *issues; /* in order */
	size_t nissues;
	/* each issue's page count when already typeset on its own (saves the
	 * pass that finds where the issues start), or NULL */
	const int *issue_pages;
	const char *pdf_title, *pdf_author, *created;
} print_volume;

typedef struct typesetter typesetter;

/* style NULL: the defaults.  The style is copied.  Never NULL. */
typesetter *typeset_new(const print_style *style);
void typeset_free(typesetter *ts);

/* Sets doc as a PDF appended to out.  Returns the page count, or -1 when
 * anything was reported as an error (out is then unchanged). */
int typeset_pdf(typesetter *ts, const print_doc *doc, buf *out);
/* Same, written to path (replaced only on success). */
int typeset_pdf_file(typesetter *ts, const print_doc *doc, const char *path);
/* A volume: cover, table of contents with page numbers, the issues one
 * after the other, a bookmark per issue.  Page count or -1. */
int typeset_volume(typesetter *ts, const print_volume *vol, buf *out);

/* For a chart's fonts (chart.c): the fontconfig configuration the
 * typesetter sets the current document of this thread with (pdf 1), or
 * the system's (pdf 0, a picture), so that a chart's glyphs join the
 * document's font subsets; NULL when no typesetter has its own copies of
 * fonts (typeset_font.c).  The configurations stay for the process. */
FcConfig *typeset_font_config(int pdf);
/* Checks the glyphs of l before it is drawn into a PDF of the typesetter
 * (see typeset_font.c). */
void typeset_check_layout(PangoLayout *l);

/* ---- helpers for callers ---- */

/* Fills doc from a Markdown file's front matter (meta may be NULL): the
 * bulletin keys (series, issue, total, date, publisher, guidance, editor,
 * title, subtitle, author), or an alliance document when `number:` is set
 * (issuer, issuer_title, cc, printer, printed).  Strings point into meta or
 * into new strings pushed to owned; body, first_line and the callbacks are
 * left to the caller.  0, or -1 after reporting. */
struct yval;
int typeset_doc_from_meta(print_doc *doc, const struct yval *meta, const char *file, strvec *owned);

/* "2024年1月11日" from "2024-01-11…"; NULL when s is no date.  Caller frees. */
char *typeset_date_cn(const char *iso);
/* "2024年第1期 总第46期" (parts with 0 left out).  Caller frees. */
char *typeset_issue_line(int year, long issue, long total);

#endif
