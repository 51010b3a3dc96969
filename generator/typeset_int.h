/* typeset_int — what the typeset_*.c files share; not for other modules
 * (tests/unit/test_typeset.c uses it to check the pieces). */
#ifndef JB_TYPESET_INT_H
#define JB_TYPESET_INT_H

#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>

#include "typeset.h"

#define TS_MM (72.0 / 25.4)

typedef enum ts_font { TS_BODY, TS_TITLE, TS_MASTHEAD, TS_HEI, TS_KAI, TS_MONO, TS_NFONTS } ts_font;

struct typesetter {
	print_style st;
	PangoFontMap *fontmap; /* the fonts of the current document: */
	PangoContext *ctx;
	/* by ts_tier: the system's fonts and the typesetter's own copies
	 * (typeset_font.c; NULL when there are none) */
	PangoFontMap *fontmaps[3];
	PangoContext *ctxs[3];
	FcConfig *configs[3];
	PangoFontDescription *fonts[TS_NFONTS];
	/* the document being set */
	const print_doc *doc;
	int errors;
	int lines_reported[8]; /* source lines already reported for a missing glyph */
	int nreported;
};

/* ---- typeset_text.c: inline text → one PangoLayout per block ---- */

typedef struct ts_link {
	size_t start, end; /* byte range in the text */
	char *url;
} ts_link;

typedef struct ts_linemark {
	size_t offset; /* from this byte on ... */
	int line;      /* ... the text comes from this source line */
} ts_linemark;

typedef struct ts_shift {
	size_t offset; /* byte offset of a Han character next to Latin */
	int dx;        /* added to its glyph's x offset (Pango units) */
} ts_shift;

/* A block's text with its attributes, built from inline nodes. */
typedef struct ts_text {
	buf text;
	PangoAttrList *attrs;
	ts_link *links;
	size_t nlinks;
	ts_linemark *marks;
	size_t nmarks;
	ts_shift *shifts;
	size_t nshifts;
	ts_font font;     /* the base font of the block */
	int bold, italic; /* nesting counts while appending */
	int mono;
} ts_text;

void ts_text_init(ts_text *t, ts_font font);
void ts_text_free(ts_text *t);
/* Appends s with the current emphasis; line is its source line (0: unknown). */
void ts_text_append(ts_text *t, const char *s, size_t len, int line);
/* Appends the inline children of node (emphasis, code, links, breaks). */
void ts_text_inlines(typesetter *ts, ts_text *t, cmark_node *node);

typedef enum ts_align { TS_LEFT, TS_CENTRE, TS_RIGHT } ts_align;

typedef struct ts_para {
	ts_font font;
	double size;     /* pt */
	int bold;
	double width;    /* pt */
	double indent;   /* first-line indent in pt (negative: hanging) */
	ts_align align;
	int justify;     /* full justification (the last line stays left) */
	int grid;        /* fit chars_per_line characters of size into width */
	int keep_last;   /* no single-character last line */
	unsigned colour;
	double letter_spacing; /* extra pt per character (titles) */
} ts_para;

/* Shapes t into a layout following p: the kinsoku rules, the Han–Latin
 * spacing, punctuation compression, justification.  Characters no font
 * has are reported (file:line from the text's marks).  Caller unrefs. */
PangoLayout *ts_layout(typesetter *ts, ts_text *t, const ts_para *p);
/* A layout of plain text (no Markdown). */
PangoLayout *ts_layout_plain(typesetter *ts, const char *s, const ts_para *p);
/* The kinsoku breaks text needs beyond what Pango does: byte ranges whose
 * inside must not break, as PangoAttrAllowBreaks attributes into attrs.
 * keep_last also joins the last two characters.  Returns how many. */
int ts_kinsoku_attrs(const char *text, size_t len, int keep_last, PangoAttrList *attrs);
/* Index of the first unknown glyph's character in layout, or -1. */
int ts_first_unknown(PangoLayout *layout);
/* Reports "no font has the character" for the text at byte offset. */
void ts_report_missing(typesetter *ts, const ts_text *t, size_t offset);
/* The width pt of one body character on the grid. */
double ts_grid_advance(const print_style *st);
/* Line pitch of the grid in pt. */
double ts_grid_pitch(const print_style *st);

/* Character classes of clreq. */
int ts_no_line_start(uint32_t cp);
int ts_no_line_end(uint32_t cp);
int ts_is_han(uint32_t cp);
int ts_is_latin(uint32_t cp);

/* ---- typeset_flow.c: blocks onto pages ---- */

typedef struct ts_flow ts_flow;

typedef struct ts_page_hooks {
	/* called after a page's content, before cairo_show_page */
	void (*end_page)(ts_flow *f, void *ctx);
	void *ctx;
} ts_page_hooks;

struct ts_flow {
	typesetter *ts;
	cairo_t *cr;
	cairo_surface_t *surface;
	double x0, y0, w, h; /* the text block, pt */
	double pitch;
	double y;       /* cursor below y0 */
	int page;       /* current page number (1-based, in the PDF) */
	int number;     /* the printed page number */
	int numbered;   /* print page numbers */
	int blank;      /* nothing on the current page yet */
	double tail;        /* room the block after the body (closing block, signature) needs */
	cmark_node *last;   /* the body's last paragraph, which gives lines to that block */
	int outline_parent;
	int heading_outline[7];
	ts_page_hooks hooks;
	strvec dests;   /* names of headings (for internal links) */
	int dest_seq;
};

void ts_flow_begin(ts_flow *f, typesetter *ts, cairo_t *cr, cairo_surface_t *surface);
/* Ends the current page and starts the next. */
void ts_flow_new_page(ts_flow *f);
/* Sets the body blocks of doc (bulletin or document rules).  f->tail is
 * the height of what follows the body on its last page: the body's last
 * paragraph carries lines over rather than leave that alone on a page. */
void ts_flow_body(ts_flow *f, cmark_node *root);
/* Moves the cursor down to the next grid line (unless already on one). */
void ts_flow_snap(ts_flow *f);
/* Room left on the page in pt. */
double ts_flow_room(const ts_flow *f);
/* Places a layout's lines on the grid, splitting across pages. */
void ts_flow_lines(ts_flow *f, PangoLayout *l, double x, const ts_text *t, int keep_lines);
/* Draws one line of a layout with its baseline at y; emits its links. */
void ts_draw_line(ts_flow *f, PangoLayout *l, PangoLayoutLine *line, double x, double baseline,
                  const ts_text *t);
/* The baseline offset of a grid line from its top. */
double ts_grid_baseline(const ts_flow *f, double size);
/* Draws text (one line) with its baseline at y: x is the left edge,
 * the centre or the right edge by align. */
void ts_draw_plain(ts_flow *f, const char *s, const ts_para *p, double x, double baseline);
void ts_set_colour(cairo_t *cr, unsigned rgb);

/* ---- typeset_cff.c: the embedded fonts ---- */

/* Appends to out the CID-keyed CFF font program font[0..len) with every
 * subroutine call replaced by the subroutine's charstring and no
 * subroutines left: the same outlines and hints.  0, or -1 when the font
 * is not laid out as cairo writes it or a charstring uses operators other
 * than outlines and hints (out is then unchanged). */
int ts_cff_flatten(const unsigned char *font, size_t len, buf *out);
/* Same, with only the glyphs g where g < nkeep and keep[g]: each other
 * glyph becomes an empty outline that ts_cff_kept tells apart. */
int ts_cff_flatten_some(const unsigned char *font, size_t len, const unsigned char *keep, size_t nkeep, buf *out);
/* 1 when the CFF font program has subroutines, 0 when not, -1 when it
 * cannot be read. */
int ts_cff_has_subrs(const unsigned char *font, size_t len);
/* Sets keep[g] for the glyphs of a font ts_cff_flatten_some wrote: 1 for
 * those it kept, 0 for the others.  Returns how many glyphs it read (0
 * when font is no CFF font). */
size_t ts_cff_kept(const unsigned char *font, size_t len, unsigned char *keep, size_t nkeep);
/* Rewrites the PDF cairo wrote in pdf: its CIDFontType0C font streams that
 * have subroutines with ts_cff_flatten where that makes them smaller, its CID fonts' widths
 * without the default 1000s, and the cross-reference table to match (where
 * an entry points at another object than its own, as cairo 1.16 leaves
 * those of structure elements it never writes, it becomes a free entry).
 * Returns how many font programs and width arrays were rewritten; pdf is
 * left as it is when it is not laid out as expected. */
int ts_pdf_flatten_fonts(buf *pdf);

/* ---- typeset_font.c: the font files ---- */

/* The fonts a document is set with: the system's, or one of the
 * typesetter's own copies of them (fewer glyphs the higher the tier). */
typedef enum ts_tier { TS_TIER_SYSTEM, TS_TIER_CJK, TS_TIER_GB, TS_TIERS } ts_tier;

/* The highest tier up to tier whose copies have every character of s
 * (NULL: none). */
int ts_font_tier(const char *s, int tier);
/* Appends to out the OpenType font of face index of the font file (or
 * collection) file[0..len) with its CFF table flattened by
 * ts_cff_flatten_some (keep NULL: every glyph).  0, or -1 when the face is
 * no CID-keyed OpenType CFF font. */
int ts_font_flatten(const unsigned char *file, size_t len, int index, const unsigned char *keep, size_t nkeep,
                    buf *out);
/* Sets keep[g] to 1 for the glyphs of face index the copy of tier has:
 * those of its characters and what the layout features substitute for
 * them; 0 for the others.  Returns the number of glyphs, or 0 when more
 * than nkeep. */
size_t ts_font_glyphs(const unsigned char *file, size_t len, int index, int tier, unsigned char *keep, size_t nkeep);
/* The fontconfig configuration of each tier: the system's, and those with
 * the copies of the faces fontconfig gives the family lists (", " between
 * names) in place of those faces (made on first use; NULL when there are
 * none).  They stay for the process. */
void ts_fonts_init(const char *const *lists, size_t nlists, FcConfig **configs);
/* The current document of this thread is set with the fonts of cfg;
 * clears what ts_font_missed tells. */
void ts_font_use(FcConfig *cfg);
/* Notes when line has a glyph of a copy that the copy leaves empty. */
void ts_font_check_line(PangoLayoutLine *line);
/* 1 when a line checked since ts_font_use had such a glyph. */
int ts_font_missed(void);

#endif
