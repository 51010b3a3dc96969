/* The PDF: the typesetter's fonts, the cairo PDF surface and its metadata,
 * the bulletin masthead and closing block, the document head, signature and
 * 版记, page numbers, and volumes (合订本) with their table of contents. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-pdf.h>
#include <pango/pangofc-fontmap.h>

#include "diag.h"
#include "typeset_int.h"

#define S_A4_W (210 * TS_MM)
#define S_A4_H (297 * TS_MM)

/* Sets the next document with the fonts of tier (ts_tier), or of the
 * next lower tier the typesetter has. */
static void S_use_fonts(typesetter *ts, int tier)
{
	while (tier > TS_TIER_SYSTEM && !ts->ctxs[tier])
		tier--;
	ts->fontmap = ts->fontmaps[tier];
	ts->ctx = ts->ctxs[tier];
	ts_font_use(ts->ctxs[TS_TIER_CJK] || ts->ctxs[TS_TIER_GB] ? ts->configs[tier] : NULL);
}

typesetter *typeset_new(const print_style *style)
{
	typesetter *ts = xcalloc(1, sizeof *ts);
	print_style_defaults(&ts->st);
	if (style) {
		char **mine[] = {&ts->st.font_body, &ts->st.font_title, &ts->st.font_masthead,
		                 &ts->st.font_hei,  &ts->st.font_kai,   &ts->st.font_mono};
		print_style_free(&ts->st);
		ts->st = *style;
		for (size_t i = 0; i < JB_ARRAY_LEN(mine); i++)
			*mine[i] = xstrdup(*mine[i] ? *mine[i] : "Noto Serif CJK SC");
	}
	/* the typesetter's families, and the charts' (chart.c) */
	const char *lists[] = {ts->st.font_body, ts->st.font_title, ts->st.font_masthead, ts->st.font_hei,
	                       ts->st.font_kai,  ts->st.font_mono,  "Noto Sans CJK SC"};
	ts_fonts_init(lists, JB_ARRAY_LEN(lists), ts->configs);
	for (int i = 0; i < TS_TIERS; i++) {
		if (i > TS_TIER_SYSTEM && !ts->configs[i])
			continue;
		ts->fontmaps[i] = pango_cairo_font_map_new();
		if (ts->configs[i])
			pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(ts->fontmaps[i]), ts->configs[i]);
		PangoContext *ctx = ts->ctxs[i] = pango_font_map_create_context(ts->fontmaps[i]);
		pango_cairo_context_set_resolution(ctx, 72);
		pango_context_set_round_glyph_positions(ctx, FALSE);
		/* the Simplified Chinese forms of punctuation (locl) */
		pango_context_set_language(ctx, pango_language_from_string("zh-cn"));
		cairo_font_options_t *fo = cairo_font_options_create();
		cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
		cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
		pango_cairo_context_set_font_options(ctx, fo);
		cairo_font_options_destroy(fo);
	}
	S_use_fonts(ts, TS_TIER_SYSTEM);
	const char *families[TS_NFONTS] = {ts->st.font_body, ts->st.font_title, ts->st.font_masthead,
	                                   ts->st.font_hei,  ts->st.font_kai,   ts->st.font_mono};
	for (int i = 0; i < TS_NFONTS; i++) {
		ts->fonts[i] = pango_font_description_new();
		pango_font_description_set_family(ts->fonts[i], families[i]);
	}
	pango_font_description_set_weight(ts->fonts[TS_TITLE], PANGO_WEIGHT_BOLD);
	pango_font_description_set_weight(ts->fonts[TS_MASTHEAD], PANGO_WEIGHT_HEAVY);
	return ts;
}

void typeset_free(typesetter *ts)
{
	if (!ts)
		return;
	for (int i = 0; i < TS_NFONTS; i++)
		pango_font_description_free(ts->fonts[i]);
	for (int i = 0; i < TS_TIERS; i++) {
		if (ts->ctxs[i])
			g_object_unref(ts->ctxs[i]);
		if (ts->fontmaps[i])
			g_object_unref(ts->fontmaps[i]);
	}
	print_style_free(&ts->st);
	free(ts);
}

/* ---- helpers ---- */

char *typeset_date_cn(const char *iso)
{
	jb_date d;
	if (!iso || date_parse_iso(iso, &d) < 0)
		return NULL;
	return xasprintf("%d年%d月%d日", d.year, d.month, d.day);
}

char *typeset_issue_line(int year, long issue, long total)
{
	buf b = BUF_INIT;
	if (year > 0)
		buf_printf(&b, "%d年", year);
	if (issue > 0)
		buf_printf(&b, "第%ld期", issue);
	if (total > 0)
		buf_printf(&b, "%s总第%ld期", b.len ? " " : "", total);
	return buf_detach(&b);
}

static ts_para S_para(const typesetter *ts, ts_font font, double size, ts_align align, unsigned colour)
{
	ts_para p = {0};
	p.font = font;
	p.size = size;
	p.align = align;
	p.colour = colour;
	p.width = -1;
	return p;
}

static double S_text_width(typesetter *ts, const char *s, const ts_para *p)
{
	ts_para q = *p;
	q.width = -1;
	PangoLayout *l = ts_layout_plain(ts, s, &q);
	PangoRectangle r;
	pango_layout_get_extents(l, NULL, &r);
	g_object_unref(l);
	return r.width / (double)PANGO_SCALE;
}

static void S_hrule(ts_flow *f, double y, double width, unsigned colour)
{
	ts_set_colour(f->cr, colour);
	cairo_set_line_width(f->cr, width);
	cairo_move_to(f->cr, f->x0, y);
	cairo_line_to(f->cr, f->x0 + f->w, y);
	cairo_stroke(f->cr);
	ts_set_colour(f->cr, f->ts->st.text_colour);
}

/* 1 when a title may be broken between a and b by choice: after ：，、
 * and closing marks, before opening ones, at a space, between Han and
 * Latin text.  Never between two Han characters (inside a word). */
static int S_title_break(uint32_t a, uint32_t b)
{
	if (a == ' ' || b == ' ')
		return a != ' ';
	if (ts_no_line_start(b) || ts_no_line_end(a))
		return 0;
	if (ts_no_line_start(a) || ts_no_line_end(b))
		return 1;
	return (ts_is_han(a) && ts_is_latin(b)) || (ts_is_latin(a) && ts_is_han(b));
}

/* GB/T 9704: a title that takes two lines is broken where the sense
 * allows (词意完整), in lines of similar length.  Where Pango broke it
 * inside a run of Han characters ("…数字化改 / 革形成…"), returns the byte
 * offset of the break point nearest the middle among S_title_break's,
 * provided both lines fit and the shorter is at least a third of the
 * longer; else 0. */
static size_t S_title_split(typesetter *ts, PangoLayout *l, const char *s, const ts_para *p, double width)
{
	if (pango_layout_get_line_count(l) != 2)
		return 0;
	const char *text = pango_layout_get_text(l);
	int at = pango_layout_get_line_readonly(l, 1)->start_index;
	uint32_t a = utf8_last(text, (size_t)at), b;
	utf8_decode(text + at, strlen(text + at), &b);
	if (!ts_is_han(a) || !ts_is_han(b))
		return 0;
	size_t len = strlen(s), best = 0;
	double best_diff = 0;
	uint32_t prev = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);
		if (i > 0 && S_title_break(prev, cp)) {
			char *first = xstrndup(s, i);
			const char *rest = s + i;
			while (*rest == ' ')
				rest++;
			double w1 = S_text_width(ts, first, p), w2 = S_text_width(ts, rest, p);
			free(first);
			double lo = w1 < w2 ? w1 : w2, hi = w1 < w2 ? w2 : w1;
			if (hi <= width && lo >= hi / 3 && (!best || hi - lo < best_diff)) {
				best = i;
				best_diff = hi - lo;
			}
		}
		prev = cp;
		i += n;
	}
	return best;
}

/* A centred block of text (title, subtitle) on the grid, wrapped with the
 * kinsoku rules, kept in one piece. */
static void S_centred(ts_flow *f, const char *s, ts_font font, double size, int bold, unsigned colour)
{
	ts_para p = S_para(f->ts, font, size, TS_CENTRE, colour);
	p.bold = bold;
	p.width = f->w;
	ts_text t;
	ts_text_init(&t, font);
	ts_text_append(&t, s, strlen(s), 0);
	PangoLayout *l = ts_layout(f->ts, &t, &p);
	size_t split = S_title_split(f->ts, l, s, &p, f->w);
	if (split) {
		/* a line separator (U+2028) where the title breaks */
		const char *rest = s + split;
		while (*rest == ' ')
			rest++;
		g_object_unref(l);
		ts_text_free(&t);
		ts_text_init(&t, font);
		ts_text_append(&t, s, split, 0);
		ts_text_append(&t, "\xE2\x80\xA8", 3, 0);
		ts_text_append(&t, rest, strlen(rest), 0);
		l = ts_layout(f->ts, &t, &p);
	}
	ts_set_colour(f->cr, colour);
	ts_flow_lines(f, l, f->x0, NULL, 1);
	ts_set_colour(f->cr, f->ts->st.text_colour);
	g_object_unref(l);
	ts_text_free(&t);
}

/* A one-line element that must fit the width: shrinks the size. */
static double S_fit_size(typesetter *ts, const char *s, ts_font font, double size, double width, double spacing)
{
	ts_para p = S_para(ts, font, size, TS_LEFT, 0);
	p.letter_spacing = spacing;
	double w = S_text_width(ts, s, &p);
	if (w > width)
		size *= width / w * 0.995;
	return size;
}

/* ---- page furniture ---- */

static void S_page_number(ts_flow *f, void *ctx)
{
	(void)ctx;
	if (!f->numbered)
		return;
	const print_style *st = &f->ts->st;
	char text[64];
	snprintf(text, sizeof text, "— %d —", f->number);
	ts_para p = S_para(f->ts, TS_BODY, st->size_small, f->number % 2 ? TS_RIGHT : TS_LEFT, st->text_colour);
	/* 7 mm below the text block to the top of the em box; one character in */
	double baseline = f->y0 + f->h + st->page_number_gap * TS_MM + 0.88 * st->size_small;
	double x = f->number % 2 ? f->x0 + f->w - st->size_small : f->x0 + st->size_small;
	ts_draw_plain(f, text, &p, x, baseline);
}

/* ---- bulletin ---- */

static void S_bulletin_head(ts_flow *f, const print_doc *d)
{
	typesetter *ts = f->ts;
	const print_style *st = &ts->st;
	double y = 0;
	if (d->series && *d->series) {
		double spacing = st->size_masthead * 0.08;
		double size = S_fit_size(ts, d->series, TS_MASTHEAD, st->size_masthead, f->w, spacing);
		ts_para p = S_para(ts, TS_MASTHEAD, size, TS_CENTRE, st->red);
		p.bold = 1;
		p.letter_spacing = spacing;
		y = f->pitch * 0.4 + 0.88 * size;
		ts_draw_plain(f, d->series, &p, f->x0 + f->w / 2, f->y0 + y);
		y += 0.12 * size;
	}
	if (d->issue_line && *d->issue_line) {
		ts_para p = S_para(ts, TS_BODY, st->size_body, TS_CENTRE, st->text_colour);
		y += f->pitch * 0.55 + 0.88 * p.size;
		ts_draw_plain(f, d->issue_line, &p, f->x0 + f->w / 2, f->y0 + y);
		y += 0.12 * p.size;
	}
	if ((d->publisher && *d->publisher) || (d->date && *d->date)) {
		ts_para p = S_para(ts, TS_BODY, st->size_body, TS_LEFT, st->text_colour);
		y += f->pitch * 0.55 + 0.88 * p.size;
		if (d->publisher && *d->publisher)
			ts_draw_plain(f, d->publisher, &p, f->x0, f->y0 + y);
		if (d->date && *d->date) {
			p.align = TS_RIGHT;
			ts_draw_plain(f, d->date, &p, f->x0 + f->w, f->y0 + y);
		}
		y += 0.12 * p.size;
	}
	if (y > 0) {
		y += 4 * TS_MM;
		S_hrule(f, f->y0 + y, 1.5, st->red);
		y += f->pitch * 0.5;
	}
	f->y = y;
	f->blank = 0;
	if (d->title && *d->title) {
		ts_flow_snap(f);
		S_centred(f, d->title, TS_TITLE, st->size_title, 1, st->text_colour);
	}
	if (d->subtitle && *d->subtitle)
		S_centred(f, d->subtitle, TS_KAI, st->size_subtitle, 0, st->text_colour);
	if (d->author && *d->author)
		S_centred(f, d->author, TS_KAI, st->size_body, 0, st->text_colour);
}

/* The room the closing block needs under the text: its lines and at
 * least half a line above its rule (a blank grid line in practice). */
static double S_bulletin_close_height(const ts_flow *f, const print_doc *d)
{
	int lines = (d->guidance && *d->guidance) + (d->editor && *d->editor);
	return lines ? lines * f->pitch + f->pitch * 0.5 : 0;
}

/* 指导 / 编发 between two rules at the foot of the last page. */
static void S_bulletin_close(ts_flow *f, const print_doc *d)
{
	const print_style *st = &f->ts->st;
	int lines = (d->guidance && *d->guidance) + (d->editor && *d->editor);
	if (!lines)
		return;
	double need = S_bulletin_close_height(f, d);
	ts_flow_snap(f);
	if (f->y + need > f->h + 0.01)
		ts_flow_new_page(f);
	double top = f->h - lines * f->pitch;
	S_hrule(f, f->y0 + top, 0.35 * TS_MM, st->text_colour);
	ts_para p = S_para(f->ts, TS_BODY, st->size_small, TS_LEFT, st->text_colour);
	double y = top;
	const char *label[2] = {"指导：", "编发："};
	const char *value[2] = {d->guidance, d->editor};
	for (int i = 0; i < 2; i++) {
		if (!value[i] || !*value[i])
			continue;
		char *s = xasprintf("%s%s", label[i], value[i]);
		ts_draw_plain(f, s, &p, f->x0 + st->size_small, f->y0 + y + ts_grid_baseline(f, p.size));
		free(s);
		y += f->pitch;
	}
	S_hrule(f, f->y0 + f->h, 0.35 * TS_MM, st->text_colour);
	f->y = f->h;
}

/* ---- alliance document ---- */

static void S_document_head(ts_flow *f, const print_doc *d)
{
	typesetter *ts = f->ts;
	const print_style *st = &ts->st;
	double y = 35 * TS_MM; /* the top of the 发文机关标志 */
	if (d->issuer_title && *d->issuer_title) {
		double size = S_fit_size(ts, d->issuer_title, TS_MASTHEAD, st->size_issuer, f->w, 0);
		ts_para p = S_para(ts, TS_MASTHEAD, size, TS_CENTRE, st->red);
		ts_draw_plain(f, d->issuer_title, &p, f->x0 + f->w / 2, f->y0 + y + 0.88 * size);
		y += size;
	}
	f->y = y;
	ts_flow_snap(f);
	f->y += 2 * f->pitch; /* two blank lines */
	double rule = f->y;
	if (d->number && *d->number) {
		ts_para p = S_para(ts, TS_BODY, st->size_body, TS_CENTRE, st->text_colour);
		double baseline = f->y + ts_grid_baseline(f, p.size);
		ts_draw_plain(f, d->number, &p, f->x0 + f->w / 2, f->y0 + baseline);
		rule = baseline + 0.12 * p.size;
	}
	rule += 4 * TS_MM;
	S_hrule(f, f->y0 + rule, 1.0, st->red);
	f->y = rule;
	f->blank = 0;
	ts_flow_snap(f);
	f->y += 2 * f->pitch; /* the title two lines below the rule */
	if (d->title && *d->title)
		S_centred(f, d->title, TS_TITLE, st->size_title, 1, st->text_colour);
	f->y += f->pitch; /* one blank line before the text */
}

/* The room the signature needs under the text: a blank line, then the
 * issuer and the date. */
static double S_document_signature_height(const ts_flow *f, const print_doc *d)
{
	int lines = (d->issuer && *d->issuer) + (d->date && *d->date);
	return lines ? (lines + 1) * f->pitch : 0;
}

/* Issuer centred over the date; the date four characters from the right. */
static void S_document_signature(ts_flow *f, const print_doc *d)
{
	const print_style *st = &f->ts->st;
	int lines = (d->issuer && *d->issuer) + (d->date && *d->date);
	if (!lines)
		return;
	ts_flow_snap(f);
	f->y += f->pitch;
	if (f->y + lines * f->pitch > f->h + 0.01)
		ts_flow_new_page(f);
	ts_para p = S_para(f->ts, TS_BODY, st->size_body, TS_CENTRE, st->text_colour);
	double em = ts_grid_advance(st);
	double date_right = f->x0 + f->w - 4 * em;
	double date_w = d->date && *d->date ? S_text_width(f->ts, d->date, &p) : 0;
	double centre = date_w > 0 ? date_right - date_w / 2 : date_right - 4 * em;
	if (d->issuer && *d->issuer) {
		ts_draw_plain(f, d->issuer, &p, centre, f->y0 + f->y + ts_grid_baseline(f, p.size));
		f->y += f->pitch;
	}
	if (d->date && *d->date) {
		p.align = TS_RIGHT;
		ts_draw_plain(f, d->date, &p, date_right, f->y0 + f->y + ts_grid_baseline(f, p.size));
		f->y += f->pitch;
	}
}

/* 版记: 抄送 and 印发 between full-width rules, the last on the bottom edge
 * of the text block, with at least half a line above its first rule (as
 * the bulletin's closing block): set right under the signature its rule
 * would read as underlining the issuer.  When there is no room it goes to
 * a page of its own: GB/T 9704 puts the 版记 on the back page (封四), and
 * unlike the signature it may stand without text. */
static void S_document_imprint(ts_flow *f, const print_doc *d)
{
	const print_style *st = &f->ts->st;
	int has_cc = d->cc && *d->cc;
	int has_print = (d->printer && *d->printer) || (d->printed && *d->printed);
	int lines = has_cc + has_print;
	if (!lines)
		return;
	ts_flow_snap(f);
	if (f->y + lines * f->pitch + f->pitch * 0.5 > f->h + 0.01)
		ts_flow_new_page(f);
	ts_para p = S_para(f->ts, TS_BODY, st->size_small, TS_LEFT, st->text_colour);
	double top = f->h - lines * f->pitch, y = top;
	S_hrule(f, f->y0 + top, 0.35 * TS_MM, st->text_colour);
	if (has_cc) {
		char *s = xasprintf("抄送：%s。", d->cc);
		size_t n = strlen(s);
		/* no doubled full stop when the list already ends with one */
		if (n >= 6 && !strcmp(s + n - 6, "。。"))
			s[n - 3] = '\0';
		ts_draw_plain(f, s, &p, f->x0 + st->size_small, f->y0 + y + ts_grid_baseline(f, p.size));
		free(s);
		y += f->pitch;
		if (has_print)
			S_hrule(f, f->y0 + y, 0.25 * TS_MM, st->text_colour);
	}
	if (has_print) {
		double baseline = f->y0 + y + ts_grid_baseline(f, p.size);
		if (d->printer && *d->printer)
			ts_draw_plain(f, d->printer, &p, f->x0 + st->size_small, baseline);
		if (d->printed && *d->printed) {
			char *s = xasprintf("%s印发", d->printed);
			p.align = TS_RIGHT;
			ts_draw_plain(f, s, &p, f->x0 + f->w - st->size_small, baseline);
			free(s);
		}
	}
	S_hrule(f, f->y0 + f->h, 0.35 * TS_MM, st->text_colour);
	f->y = f->h;
}

/* ---- documents ---- */

static void S_doc_pages(ts_flow *f, const print_doc *d)
{
	f->ts->doc = d;
	if (d->kind == PRINT_DOCUMENT) {
		S_document_head(f, d);
		/* GB/T 9704: the signature never stands on a page without text */
		f->tail = S_document_signature_height(f, d);
		ts_flow_body(f, d->body);
		f->tail = 0;
		S_document_signature(f, d);
		S_document_imprint(f, d);
	} else {
		S_bulletin_head(f, d);
		f->tail = S_bulletin_close_height(f, d);
		ts_flow_body(f, d->body);
		f->tail = 0;
		S_bulletin_close(f, d);
	}
}

static cairo_status_t S_write(void *closure, const unsigned char *data, unsigned int len)
{
	buf_put(closure, data, len);
	return CAIRO_STATUS_SUCCESS;
}

static cairo_status_t S_discard(void *closure, const unsigned char *data, unsigned int len)
{
	(void)closure;
	(void)data;
	(void)len;
	return CAIRO_STATUS_SUCCESS;
}

static void S_metadata(cairo_surface_t *s, const char *title, const char *author, const char *subject,
                       const char *created)
{
	if (title && *title)
		cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, title);
	if (author && *author)
		cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_AUTHOR, author);
	if (subject && *subject)
		cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_SUBJECT, subject);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "jianbao");
	/* never the clock: the same input gives the same bytes */
	const char *when = created && *created ? created : "2000-01-01T00:00:00Z";
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, when);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_MOD_DATE, when);
}

static int S_finish(typesetter *ts, cairo_t *cr, cairo_surface_t *s, int errors_before)
{
	cairo_destroy(cr);
	cairo_surface_finish(s);
	cairo_status_t status = cairo_surface_status(s);
	cairo_surface_destroy(s);
	if (status != CAIRO_STATUS_SUCCESS) {
		diag_error(ts->doc ? ts->doc->file : NULL, 0, 0, "cannot write the PDF: %s", cairo_status_to_string(status));
		ts->errors++;
	}
	return ts->errors > errors_before ? -1 : 0;
}

static int S_pdf(typesetter *ts, const print_doc *doc, buf *out)
{
	buf tmp = BUF_INIT;
	int before = ts->errors;
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(S_write, &tmp, S_A4_W, S_A4_H);
	S_metadata(s, doc->pdf_title ? doc->pdf_title : doc->title, doc->pdf_author, doc->pdf_subject, doc->created);
	cairo_t *cr = cairo_create(s);
	pango_cairo_update_context(cr, ts->ctx);
	ts_flow f;
	ts_flow_begin(&f, ts, cr, s);
	f.hooks.end_page = S_page_number;
	S_doc_pages(&f, doc);
	S_page_number(&f, NULL);
	int pages = f.page;
	strvec_free(&f.dests);
	if (S_finish(ts, cr, s, before) < 0) {
		buf_free(&tmp);
		ts->doc = NULL;
		return -1;
	}
	ts->doc = NULL;
	ts_pdf_flatten_fonts(&tmp);
	buf_put(out, tmp.ptr, tmp.len);
	buf_free(&tmp);
	return pages;
}

int typeset_pdf_file(typesetter *ts, const print_doc *doc, const char *path)
{
	buf b = BUF_INIT;
	int pages = typeset_pdf(ts, doc, &b);
	if (pages < 0) {
		buf_free(&b);
		return -1;
	}
	if (file_write_atomic(path, b.ptr, b.len) < 0) {
		diag_error(path, 0, 0, "cannot write the PDF: %s", strerror(errno));
		pages = -1;
	}
	buf_free(&b);
	return pages;
}

/* ---- volumes ---- */

typedef struct S_volume_pass {
	int *start_page;   /* PDF page of each issue's first page */
	int *start_number; /* its printed number */
} S_volume_pass;

static void S_volume_cover(ts_flow *f, const print_volume *v)
{
	typesetter *ts = f->ts;
	const print_style *st = &ts->st;
	f->numbered = 0;
	if (v->title && *v->title) {
		double size = S_fit_size(ts, v->title, TS_MASTHEAD, st->size_masthead * 1.1, f->w, 0);
		ts_para p = S_para(ts, TS_MASTHEAD, size, TS_CENTRE, st->red);
		ts_draw_plain(f, v->title, &p, f->x0 + f->w / 2, f->y0 + f->h * 0.3);
	}
	if (v->subtitle && *v->subtitle) {
		ts_para p = S_para(ts, TS_TITLE, st->size_title, TS_CENTRE, st->text_colour);
		p.bold = 1;
		ts_draw_plain(f, v->subtitle, &p, f->x0 + f->w / 2, f->y0 + f->h * 0.3 + 3 * f->pitch);
	}
	if (v->publisher && *v->publisher) {
		ts_para p = S_para(ts, TS_BODY, st->size_body, TS_CENTRE, st->text_colour);
		ts_draw_plain(f, v->publisher, &p, f->x0 + f->w / 2, f->y0 + f->h - f->pitch);
	}
	S_hrule(f, f->y0 + f->h * 0.3 + 1.2 * f->pitch, 1.5, st->red);
	ts_flow_new_page(f);
}

/* The table of contents: one entry per issue with its page number and a
 * link to it.  Returns the number of pages it took. */
static int S_volume_toc(ts_flow *f, const print_volume *v, const S_volume_pass *pass)
{
	typesetter *ts = f->ts;
	const print_style *st = &ts->st;
	int first = f->page;
	f->numbered = 0;
	f->y = f->pitch;
	ts_para h = S_para(ts, TS_HEI, st->size_title, TS_CENTRE, st->text_colour);
	ts_draw_plain(f, "目　录", &h, f->x0 + f->w / 2, f->y0 + f->y + ts_grid_baseline(f, h.size));
	f->y += 2 * f->pitch;
	double em = ts_grid_advance(st);
	/* two columns: the issue line, then the title wrapped in its own
	 * column with the page number right of its last line */
	double col = 0;
	ts_para ip = S_para(ts, TS_BODY, st->size_body, TS_LEFT, st->text_colour);
	for (size_t i = 0; i < v->nissues; i++) {
		double w = v->issues[i]->issue_line ? S_text_width(ts, v->issues[i]->issue_line, &ip) : 0;
		if (w > col)
			col = w;
	}
	if (col > 0)
		col += em;
	for (size_t i = 0; i < v->nissues; i++) {
		const print_doc *d = v->issues[i];
		ts_text t;
		ts_text_init(&t, TS_BODY);
		if (d->title)
			ts_text_append(&t, d->title, strlen(d->title), 0);
		ts_para p = S_para(ts, TS_BODY, st->size_body, TS_LEFT, st->text_colour);
		p.width = f->w - col - 3 * em;
		p.justify = 1;
		p.keep_last = 1;
		p.letter_spacing = em - st->size_body;
		PangoLayout *l = ts_layout(ts, &t, &p);
		int nl = pango_layout_get_line_count(l);
		ts_flow_snap(f);
		if (f->y + nl * f->pitch > f->h + 0.01)
			ts_flow_new_page(f);
		double top = f->y;
		if (d->issue_line)
			ts_draw_plain(f, d->issue_line, &ip, f->x0, f->y0 + f->y + ts_grid_baseline(f, ip.size));
		ts_flow_lines(f, l, f->x0 + col, NULL, 1);
		char num[32];
		snprintf(num, sizeof num, "%d", pass ? pass->start_number[i] : 0);
		ts_para r = ip;
		r.align = TS_RIGHT;
		double baseline = f->y0 + f->y - f->pitch + ts_grid_baseline(f, p.size);
		ts_draw_plain(f, num, &r, f->x0 + f->w, baseline);
		if (pass && cairo_surface_get_type(f->surface) == CAIRO_SURFACE_TYPE_PDF) {
			char *attr = xasprintf("page=%d pos=[%.2f %.2f] rect=[%.2f %.2f %.2f %.2f]", pass->start_page[i],
			                       f->x0, f->y0, f->x0, f->y0 + top, f->w, f->y - top);
			cairo_tag_begin(f->cr, CAIRO_TAG_LINK, attr);
			cairo_tag_end(f->cr, CAIRO_TAG_LINK);
			free(attr);
		}
		g_object_unref(l);
		ts_text_free(&t);
	}
	int pages = f->page - first + 1;
	ts_flow_new_page(f);
	return pages;
}

static int S_volume_pages(typesetter *ts, const print_volume *v, cairo_surface_t *s, S_volume_pass *record,
                          const S_volume_pass *known)
{
	cairo_t *cr = cairo_create(s);
	pango_cairo_update_context(cr, ts->ctx);
	ts_flow f;
	ts_flow_begin(&f, ts, cr, s);
	f.hooks.end_page = S_page_number;
	S_volume_cover(&f, v);
	S_volume_toc(&f, v, known);
	f.number = 1;
	f.numbered = 1;
	for (size_t i = 0; i < v->nissues; i++) {
		const print_doc *d = v->issues[i];
		if (i > 0) {
			ts_flow_new_page(&f);
			if (f.number % 2 == 0) /* every issue starts on a right-hand page */
				ts_flow_new_page(&f);
		}
		record->start_page[i] = f.page;
		record->start_number[i] = f.number;
		char *label = xasprintf("%s%s%s", d->issue_line ? d->issue_line : "", d->issue_line ? " " : "",
		                        d->title ? d->title : "");
		char *pos = xasprintf("page=%d pos=[%.2f %.2f]", f.page, f.x0, f.y0);
		f.outline_parent = cairo_pdf_surface_add_outline(s, CAIRO_PDF_OUTLINE_ROOT, label, pos, 0);
		free(pos);
		free(label);
		memset(f.heading_outline, 0, sizeof f.heading_outline);
		f.y = 0;
		f.blank = 1;
		S_doc_pages(&f, d);
		strvec_free(&f.dests);
	}
	S_page_number(&f, NULL);
	cairo_destroy(cr);
	ts->doc = NULL;
	return f.page;
}

/* Where each issue starts, from the page counts of the issues typeset on
 * their own: lays out only the cover and the table of contents. */
static void S_volume_starts(typesetter *ts, const print_volume *v, S_volume_pass *pass)
{
	cairo_surface_t *probe = cairo_pdf_surface_create_for_stream(S_discard, NULL, S_A4_W, S_A4_H);
	cairo_t *cr = cairo_create(probe);
	pango_cairo_update_context(cr, ts->ctx);
	ts_flow f;
	ts_flow_begin(&f, ts, cr, probe);
	S_volume_cover(&f, v);
	S_volume_toc(&f, v, NULL);
	int page = f.page, number = 1;
	for (size_t i = 0; i < v->nissues; i++) {
		if (i > 0) {
			page++, number++;
			if (number % 2 == 0)
				page++, number++;
		}
		pass->start_page[i] = page;
		pass->start_number[i] = number;
		page += v->issue_pages[i] - 1;
		number += v->issue_pages[i] - 1;
	}
	strvec_free(&f.dests);
	cairo_destroy(cr);
	cairo_surface_finish(probe);
	cairo_surface_destroy(probe);
	ts->doc = NULL;
}

static int S_volume(typesetter *ts, const print_volume *v, buf *out)
{
	int before = ts->errors;
	S_volume_pass first = {xcalloc(v->nissues + 1, sizeof(int)), xcalloc(v->nissues + 1, sizeof(int))};
	S_volume_pass second = {xcalloc(v->nissues + 1, sizeof(int)), xcalloc(v->nissues + 1, sizeof(int))};
	/* pass one finds where each issue starts; the contents take the same
	 * pages in both passes (only the numbers differ) */
	int counted = v->issue_pages != NULL;
	for (size_t i = 0; counted && i < v->nissues; i++)
		counted = v->issue_pages[i] > 0;
again:
	if (counted) {
		S_volume_starts(ts, v, &first);
	} else {
		cairo_surface_t *probe = cairo_pdf_surface_create_for_stream(S_discard, NULL, S_A4_W, S_A4_H);
		S_volume_pages(ts, v, probe, &first, NULL);
		cairo_surface_finish(probe);
		cairo_surface_destroy(probe);
	}
	int pages = -1;
	if (ts->errors == before) {
		buf tmp = BUF_INIT;
		cairo_surface_t *s = cairo_pdf_surface_create_for_stream(S_write, &tmp, S_A4_W, S_A4_H);
		S_metadata(s, v->pdf_title ? v->pdf_title : v->title, v->pdf_author, v->subtitle, v->created);
		pages = S_volume_pages(ts, v, s, &second, &first);
		cairo_surface_finish(s);
		if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
			diag_error(NULL, 0, 0, "cannot write the PDF: %s", cairo_status_to_string(cairo_surface_status(s)));
			ts->errors++;
		}
		cairo_surface_destroy(s);
		if (counted && ts->errors == before &&
		    (memcmp(first.start_page, second.start_page, v->nissues * sizeof(int)) != 0 ||
		     memcmp(first.start_number, second.start_number, v->nissues * sizeof(int)) != 0)) {
			/* an issue took other pages inside the volume than alone */
			buf_free(&tmp);
			counted = 0;
			goto again;
		}
		if (ts->errors == before) {
			ts_pdf_flatten_fonts(&tmp);
			buf_put(out, tmp.ptr, tmp.len);
		} else {
			pages = -1;
		}
		buf_free(&tmp);
	}
	free(first.start_page);
	free(first.start_number);
	free(second.start_page);
	free(second.start_number);
	return pages;
}

/* ---- which fonts ---- */

/* The highest tier up to tier whose font copies have every character doc
 * shows. */
static int S_doc_tier(const print_doc *d, int tier)
{
	const char *fields[] = {d->series,       d->issue_line, d->publisher, d->date,    d->title,
	                        d->subtitle,     d->author,     d->guidance,  d->editor,  d->issuer_title,
	                        d->number,       d->issuer,     d->cc,        d->printer, d->printed};
	for (size_t i = 0; i < JB_ARRAY_LEN(fields); i++)
		tier = ts_font_tier(fields[i], tier);
	if (!d->body)
		return tier;
	cmark_iter *it = cmark_iter_new(d->body);
	cmark_event_type ev;
	while (tier > TS_TIER_SYSTEM && (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		if (ev != CMARK_EVENT_ENTER)
			continue;
		cmark_node *n = cmark_iter_get_node(it);
		tier = ts_font_tier(cmark_node_get_literal(n), tier);
		tier = ts_font_tier(cmark_node_get_title(n), tier);
	}
	cmark_iter_free(it);
	return tier;
}

/* Sets a document (doc) or a volume (vol) with the smallest of the
 * typesetter's own font copies that has its characters, else, or when a
 * line turns out to need a glyph that copy leaves empty, with the system's
 * fonts: the same layout, the same PDF. */
static int S_set(typesetter *ts, const print_doc *doc, const print_volume *vol, buf *out)
{
	int tier = TS_TIERS - 1;
	if (doc)
		tier = S_doc_tier(doc, tier);
	if (vol) {
		const char *fields[] = {vol->title, vol->subtitle, vol->publisher};
		for (size_t i = 0; i < JB_ARRAY_LEN(fields); i++)
			tier = ts_font_tier(fields[i], tier);
		for (size_t i = 0; i < vol->nissues; i++)
			tier = S_doc_tier(vol->issues[i], tier);
	}
	S_use_fonts(ts, tier);
	int own = ts->ctx != ts->ctxs[TS_TIER_SYSTEM];
	size_t start = out->len;
	int errors = ts->errors;
	int pages = doc ? S_pdf(ts, doc, out) : S_volume(ts, vol, out);
	if (own && pages >= 0 && ts_font_missed()) {
		/* again, without repeating what the first pass reported */
		int e = diag_errors(), w = diag_warnings();
		buf quiet = BUF_INIT;
		diag_capture(&quiet);
		S_use_fonts(ts, TS_TIER_SYSTEM);
		buf_truncate(out, start);
		pages = doc ? S_pdf(ts, doc, out) : S_volume(ts, vol, out);
		diag_capture(NULL);
		diag_add_counts(e - diag_errors(), w - diag_warnings());
		ts->errors = errors;
		buf_free(&quiet);
	}
	S_use_fonts(ts, TS_TIER_SYSTEM);
	return pages;
}

int typeset_pdf(typesetter *ts, const print_doc *doc, buf *out)
{
	return S_set(ts, doc, NULL, out);
}

int typeset_volume(typesetter *ts, const print_volume *vol, buf *out)
{
	return S_set(ts, NULL, vol, out);
}
