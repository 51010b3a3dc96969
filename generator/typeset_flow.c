/* Blocks onto pages.  Body text sits on the line grid (22 lines of
 * 28.99 pt); one layout per block, its lines placed one by one and split
 * between pages at line boundaries, with no lone first or last line of a
 * paragraph on a page and headings kept with two lines of what follows.
 * Tables, figures, captions and code flow freely; the next body line snaps
 * back onto the grid. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-pdf.h>
#include <cmark-gfm-core-extensions.h>

#include "diag.h"
#include "markdown.h"
#include "typeset_int.h"

#define S_EPS 0.01

/* Where a block is set: its insets from the text block and its font. */
typedef struct S_ctx {
	double left, right;
	ts_font font;
	int depth; /* list nesting */
} S_ctx;

static void S_block(ts_flow *f, cmark_node *n, const S_ctx *c);

/* ---- pages and the grid ---- */

void ts_set_colour(cairo_t *cr, unsigned rgb)
{
	cairo_set_source_rgb(cr, ((rgb >> 16) & 255) / 255.0, ((rgb >> 8) & 255) / 255.0, (rgb & 255) / 255.0);
}

void ts_flow_begin(ts_flow *f, typesetter *ts, cairo_t *cr, cairo_surface_t *surface)
{
	memset(f, 0, sizeof *f);
	f->ts = ts;
	f->cr = cr;
	f->surface = surface;
	f->x0 = ts->st.margin_left * TS_MM;
	f->y0 = ts->st.margin_top * TS_MM;
	f->w = ts->st.text_width * TS_MM;
	f->h = ts->st.text_height * TS_MM;
	f->pitch = ts_grid_pitch(&ts->st);
	f->page = 1;
	f->number = 1;
	f->numbered = 1;
	f->blank = 1;
	for (size_t i = 0; i < JB_ARRAY_LEN(f->heading_outline); i++)
		f->heading_outline[i] = 0;
}

void ts_flow_new_page(ts_flow *f)
{
	if (f->hooks.end_page)
		f->hooks.end_page(f, f->hooks.ctx);
	cairo_show_page(f->cr);
	f->page++;
	f->number++;
	f->y = 0;
	f->blank = 1;
}

double ts_flow_room(const ts_flow *f)
{
	return f->h - f->y;
}

void ts_flow_snap(ts_flow *f)
{
	double k = ceil(f->y / f->pitch - S_EPS);
	f->y = k * f->pitch;
}

/* Starts a new page unless height fits (or the page is still empty). */
static void S_ensure(ts_flow *f, double height)
{
	if (!f->blank && f->y + height > f->h + S_EPS)
		ts_flow_new_page(f);
}

double ts_grid_baseline(const ts_flow *f, double size)
{
	/* the ideographic em box (0.88 above the baseline, 0.12 below)
	 * centred in the grid line */
	return (f->pitch - size) / 2 + 0.88 * size;
}

/* ---- drawing ---- */

static void S_put_escaped(buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
}

static int S_dest_exists(const ts_flow *f, const char *name)
{
	return strvec_contains(&f->dests, name);
}

static void S_link(ts_flow *f, const char *url, double x, double y, double w, double h)
{
	buf attr = BUF_INIT;
	if (url[0] == '#') {
		if (!S_dest_exists(f, url + 1)) {
			buf_free(&attr);
			return;
		}
		buf_puts(&attr, "dest='");
		S_put_escaped(&attr, url + 1);
	} else {
		buf_puts(&attr, "uri='");
		S_put_escaped(&attr, url);
	}
	buf_printf(&attr, "' rect=[%.2f %.2f %.2f %.2f]", x, y, w, h);
	cairo_tag_begin(f->cr, CAIRO_TAG_LINK, buf_cstr(&attr));
	cairo_tag_end(f->cr, CAIRO_TAG_LINK);
	buf_free(&attr);
}

void ts_draw_line(ts_flow *f, PangoLayout *l, PangoLayoutLine *line, double x, double baseline, const ts_text *t)
{
	PangoRectangle logical;
	pango_layout_line_get_extents(line, NULL, &logical);
	/* where the layout puts the line: indent and alignment */
	double lx = x;
	PangoLayoutIter *it = pango_layout_get_iter(l);
	do {
		if (pango_layout_iter_get_line_readonly(it) == line) {
			PangoRectangle r;
			pango_layout_iter_get_line_extents(it, NULL, &r);
			lx = x + r.x / (double)PANGO_SCALE;
			break;
		}
	} while (pango_layout_iter_next_line(it));
	pango_layout_iter_free(it);
	cairo_move_to(f->cr, lx, f->y0 + baseline);
	ts_font_check_line(line);
	pango_cairo_show_layout_line(f->cr, line);
	if (!t)
		return;
	size_t ls = (size_t)line->start_index, le = ls + (size_t)line->length;
	double size = pango_font_description_get_size(pango_layout_get_font_description(l)) / (double)PANGO_SCALE;
	for (size_t i = 0; i < t->nlinks; i++) {
		size_t a = t->links[i].start > ls ? t->links[i].start : ls;
		size_t b = t->links[i].end < le ? t->links[i].end : le;
		if (a >= b)
			continue;
		int xa, xb;
		pango_layout_line_index_to_x(line, (int)a, 0, &xa);
		pango_layout_line_index_to_x(line, (int)b, 0, &xb);
		if (b == le)
			xb = logical.width;
		double x1 = lx + xa / (double)PANGO_SCALE, x2 = lx + xb / (double)PANGO_SCALE;
		S_link(f, t->links[i].url, x1, f->y0 + baseline - 0.95 * size, x2 - x1, 1.2 * size);
	}
}

void ts_draw_plain(ts_flow *f, const char *s, const ts_para *p, double x, double baseline)
{
	ts_para q = *p;
	q.width = -1;
	q.align = TS_LEFT;
	PangoLayout *l = ts_layout_plain(f->ts, s, &q);
	PangoRectangle r;
	pango_layout_get_extents(l, NULL, &r);
	double w = r.width / (double)PANGO_SCALE;
	if (p->align == TS_CENTRE)
		x -= w / 2;
	else if (p->align == TS_RIGHT)
		x -= w;
	ts_set_colour(f->cr, p->colour);
	cairo_move_to(f->cr, x, baseline);
	ts_font_check_line(pango_layout_get_line_readonly(l, 0));
	pango_cairo_show_layout_line(f->cr, pango_layout_get_line_readonly(l, 0));
	ts_set_colour(f->cr, f->ts->st.text_colour);
	g_object_unref(l);
	f->blank = 0;
}

/* ---- lines on the grid ---- */

static int S_line_count(PangoLayout *l)
{
	return pango_layout_get_line_count(l);
}

/* How many of n lines go on this page: all that fit, but never one alone
 * at the bottom (orphan) nor one alone at the top of the next (widow). */
static int S_lines_here(int n, int room_lines, int page_blank)
{
	if (n <= room_lines)
		return n;
	if (page_blank)
		return room_lines > 0 ? room_lines : 1;
	int here = room_lines;
	if (n - here < 2 && n >= 3)
		here = n - 2;
	if (here < 2)
		return 0;
	return here;
}

/* How many of the last n lines of the body go on this page when they all
 * fit but the block after the body (tail pt) does not.  The printed
 * bulletins never have a page with only 指导/编发 on it: the closing block
 * stands under the end of the text.  Tightening the leading to squeeze it
 * in would take the last page off the line grid, so the last two lines
 * of the body go over with it instead (two: no widow at the top of the
 * next page), or the whole paragraph when it is too short to split. */
static int S_lines_before_tail(const ts_flow *f, int n, int here, double tail, int may_move_all)
{
	if (tail <= 0 || here != n || f->y + n * f->pitch + tail <= f->h + S_EPS)
		return here;
	if (n - 2 >= 2)
		return n - 2;
	return may_move_all && !f->blank ? 0 : here;
}

static void S_flow_lines(ts_flow *f, PangoLayout *l, double x, const ts_text *t, int keep_lines, double tail,
                         int may_move_all)
{
	int n = S_line_count(l);
	double size = pango_font_description_get_size(pango_layout_get_font_description(l)) / (double)PANGO_SCALE;
	int i = 0;
	ts_flow_snap(f);
	while (i < n) {
		int room = (int)floor((f->h - f->y) / f->pitch + S_EPS);
		int here = keep_lines ? (n - i <= room ? n - i : 0) : S_lines_here(n - i, room, f->blank);
		here = S_lines_before_tail(f, n - i, here, tail, may_move_all || i > 0);
		if (here == 0 && f->blank)
			here = room > 0 ? room : 1;
		if (here == 0) {
			ts_flow_new_page(f);
			continue;
		}
		for (int k = 0; k < here; k++, i++) {
			PangoLayoutLine *line = pango_layout_get_line_readonly(l, i);
			ts_draw_line(f, l, line, x, f->y + ts_grid_baseline(f, size), t);
			f->y += f->pitch;
		}
		f->blank = 0;
		if (i < n)
			ts_flow_new_page(f);
	}
}

void ts_flow_lines(ts_flow *f, PangoLayout *l, double x, const ts_text *t, int keep_lines)
{
	S_flow_lines(f, l, x, t, keep_lines, 0, 0);
}

/* ---- measuring what must stay together ---- */

static double S_em(const ts_flow *f)
{
	return ts_grid_advance(&f->ts->st);
}

static ts_para S_body_para(const ts_flow *f, const S_ctx *c)
{
	const print_style *st = &f->ts->st;
	ts_para p = {0};
	p.font = c->font;
	p.size = st->size_body;
	p.width = f->w - c->left - c->right;
	p.indent = 2 * S_em(f);
	p.align = TS_LEFT;
	p.justify = 1;
	p.grid = c->left == 0 && c->right == 0;
	p.keep_last = 1;
	p.colour = st->text_colour;
	if (!p.grid)
		p.letter_spacing = ts_grid_advance(st) - st->size_body;
	return p;
}

/* ---- paragraphs and headings ---- */

static int S_only_image(cmark_node *para, cmark_node **img)
{
	*img = NULL;
	for (cmark_node *c = cmark_node_first_child(para); c; c = cmark_node_next(c)) {
		cmark_node_type t = cmark_node_get_type(c);
		if (t == CMARK_NODE_IMAGE && !*img) {
			*img = c;
		} else if (t == CMARK_NODE_SOFTBREAK || t == CMARK_NODE_LINEBREAK) {
			continue;
		} else if (t == CMARK_NODE_TEXT) {
			const char *s = cmark_node_get_literal(c);
			for (; s && *s; s++)
				if (*s != ' ' && *s != '\t')
					return 0;
		} else {
			return 0;
		}
	}
	return *img != NULL;
}

static int S_source_line(const ts_flow *f, cmark_node *n)
{
	const print_doc *d = f->ts->doc;
	int l = cmark_node_get_start_line(n);
	return l > 0 ? l + (d && d->first_line > 0 ? d->first_line - 1 : 0) : 0;
}

static void S_figure(ts_flow *f, cmark_node *img, const S_ctx *c);

/* 主送机关: a document's first paragraph, short and ending in "：", sits
 * flush left. */
static int S_is_addressee(const ts_flow *f, cmark_node *n, const ts_text *t)
{
	const print_doc *d = f->ts->doc;
	if (!d || d->kind != PRINT_DOCUMENT || cmark_node_previous(n) ||
	    cmark_node_get_type(cmark_node_parent(n)) != CMARK_NODE_DOCUMENT)
		return 0;
	return str_ends_with(buf_cstr(&t->text), "：") && utf8_length(t->text.ptr, t->text.len) <= 60;
}

/* A paragraph's text and layout; a list item's first paragraph (marker)
 * and the 主送机关 have no first-line indent. */
static PangoLayout *S_para_layout(ts_flow *f, cmark_node *n, const S_ctx *c, int marker, ts_text *t, ts_para *p)
{
	ts_text_init(t, c->font);
	ts_text_inlines(f->ts, t, n);
	*p = S_body_para(f, c);
	if (marker || S_is_addressee(f, n, t))
		p->indent = 0;
	return ts_layout(f->ts, t, p);
}

/* The lines a paragraph of n lines needs at the foot of a page: all of a
 * short one (it is not split), else two (see S_lines_here). */
static int S_first_lines(int n)
{
	return n <= 3 ? n : 2;
}

static PangoLayout *S_heading_layout(ts_flow *f, cmark_node *n, const S_ctx *c, ts_text *t, ts_para *p);

/* The height the first part of block n needs on a page, for keeping a
 * heading with what follows: measured on the block as it will be set. */
static double S_min_height(ts_flow *f, cmark_node *n, const S_ctx *c)
{
	if (!n)
		return 0;
	cmark_node *img;
	S_ctx ic = *c;
	int marker = 0;
	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_HEADING: {
		/* a heading under a heading: both, and what the second keeps */
		ts_text t;
		ts_para p;
		PangoLayout *l = S_heading_layout(f, n, c, &t, &p);
		double h = pango_layout_get_line_count(l) * f->pitch + S_min_height(f, cmark_node_next(n), c);
		g_object_unref(l);
		ts_text_free(&t);
		return h;
	}
	case CMARK_NODE_BLOCK_QUOTE:
		ic.left += 2 * S_em(f);
		ic.right += 2 * S_em(f);
		ic.font = TS_KAI;
		n = cmark_node_first_child(n);
		break;
	case CMARK_NODE_LIST:
		ic.left += 2 * S_em(f);
		ic.depth++;
		n = cmark_node_first_child(cmark_node_first_child(n));
		marker = 1;
		break;
	case CMARK_NODE_PARAGRAPH:
		break;
	default:
		return 3 * f->pitch;
	}
	if (!n || cmark_node_get_type(n) != CMARK_NODE_PARAGRAPH || S_only_image(n, &img))
		return 3 * f->pitch;
	ts_text t;
	ts_para p;
	PangoLayout *l = S_para_layout(f, n, &ic, marker, &t, &p);
	int lines = S_first_lines(pango_layout_get_line_count(l));
	g_object_unref(l);
	ts_text_free(&t);
	return lines * f->pitch;
}

static void S_paragraph(ts_flow *f, cmark_node *n, const S_ctx *c, const char *marker)
{
	cmark_node *img;
	if (!marker && S_only_image(n, &img)) {
		S_figure(f, img, c);
		return;
	}
	ts_text t;
	ts_para p;
	PangoLayout *l = S_para_layout(f, n, c, marker != NULL, &t, &p);
	if (marker) {
		/* the marker hangs left of the item's first line */
		ts_flow_snap(f);
		int room = (int)floor((f->h - f->y) / f->pitch + S_EPS);
		int nl = pango_layout_get_line_count(l);
		/* the last item, too short to split, goes over with the block
		 * after the body (see S_lines_before_tail) */
		int with_tail = n == f->last && nl <= 3 && f->y + nl * f->pitch + f->tail > f->h + S_EPS;
		if ((room < S_first_lines(nl) || with_tail) && !f->blank)
			ts_flow_new_page(f);
		else if (room < 1)
			ts_flow_new_page(f);
		double baseline = f->y0 + f->y + ts_grid_baseline(f, p.size);
		if (!strcmp(marker, "•") || !strcmp(marker, "◦")) {
			/* a drawn bullet: the fonts' U+2022 is a tiny dot */
			double r = p.size * 0.14;
			cairo_new_sub_path(f->cr);
			cairo_arc(f->cr, f->x0 + c->left - 0.6 * S_em(f), baseline - 0.36 * p.size, r, 0, 2 * G_PI);
			if (!strcmp(marker, "•")) {
				cairo_fill(f->cr);
			} else {
				cairo_set_line_width(f->cr, 0.8);
				cairo_stroke(f->cr);
			}
		} else {
			ts_para m = p;
			m.align = TS_RIGHT;
			ts_draw_plain(f, marker, &m, f->x0 + c->left - 0.3 * S_em(f), baseline);
		}
	}
	if (n == f->last) {
		/* a short paragraph right under a heading stays with it, and a
		 * list item's text with the marker already drawn */
		cmark_node *prev = cmark_node_previous(n);
		int after_heading = prev && cmark_node_get_type(prev) == CMARK_NODE_HEADING;
		S_flow_lines(f, l, f->x0 + c->left, &t, 0, f->tail, !after_heading && !marker);
	} else {
		ts_flow_lines(f, l, f->x0 + c->left, &t, 0);
	}
	g_object_unref(l);
	ts_text_free(&t);
}

static int S_starts_with_ordinal(const char *s)
{
	/* 一、 … 十、 and the like: Chinese numerals followed by 、 */
	static const char *const digits[] = {"一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "百"};
	int seen = 0;
	while (*s) {
		int matched = 0;
		for (size_t i = 0; i < JB_ARRAY_LEN(digits); i++) {
			if (!strncmp(s, digits[i], 3)) {
				s += 3;
				matched = 1;
				seen = 1;
				break;
			}
		}
		if (!matched)
			break;
	}
	return seen && !strncmp(s, "、", 3);
}

static void S_add_dest(ts_flow *f, const char *name)
{
	if (!strvec_contains(&f->dests, name))
		strvec_push_copy(&f->dests, name);
}

/* A heading's text as the bookmark and link target name: without the
 * zero-width spaces ts_text_append puts beside quotes. */
static char *S_plain_name(const ts_text *t)
{
	buf b = BUF_INIT;
	const char *s = t->text.ptr;
	for (size_t i = 0; i < t->text.len;) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, t->text.len - i, &cp);
		if (cp != 0x200B)
			buf_put(&b, s + i, n);
		i += n;
	}
	return buf_detach(&b);
}

/* Headings: 一、 in 黑体 (level 2; centred without an ordinal), （一） in
 * 楷体 (level 3), 1. bold in bulletins (level 4 and below). */
static PangoLayout *S_heading_layout(ts_flow *f, cmark_node *n, const S_ctx *c, ts_text *t, ts_para *p)
{
	const print_style *st = &f->ts->st;
	int level = cmark_node_get_heading_level(n);
	ts_text_init(t, c->font);
	ts_text_inlines(f->ts, t, n);
	*p = S_body_para(f, c);
	p->keep_last = 0;
	if (level == 1) {
		p->font = TS_TITLE;
		p->bold = 1;
		p->size = st->size_title;
		p->align = TS_CENTRE;
		p->indent = 0;
		p->grid = 0;
		p->letter_spacing = 0;
	} else if (level == 2) {
		p->font = TS_HEI;
		if (!S_starts_with_ordinal(buf_cstr(&t->text))) {
			p->align = TS_CENTRE;
			p->indent = 0;
		}
	} else if (level == 3) {
		p->font = TS_KAI;
	} else {
		p->bold = f->ts->doc && f->ts->doc->kind == PRINT_BULLETIN;
	}
	return ts_layout(f->ts, t, p);
}

static void S_heading(ts_flow *f, cmark_node *n, const S_ctx *c)
{
	int level = cmark_node_get_heading_level(n);
	ts_text t;
	ts_para p;
	PangoLayout *l = S_heading_layout(f, n, c, &t, &p);
	int lines = pango_layout_get_line_count(l);
	ts_flow_snap(f);
	double need = lines * f->pitch + S_min_height(f, cmark_node_next(n), c);
	S_ensure(f, need);

	/* bookmark and link target */
	char *name = S_plain_name(&t);
	double top = f->y0 + f->y;
	if (level >= 1 && level <= 6 && cairo_surface_get_type(f->surface) == CAIRO_SURFACE_TYPE_PDF) {
		int parent = f->outline_parent;
		for (int k = level - 1; k >= 1; k--) {
			if (f->heading_outline[k]) {
				parent = f->heading_outline[k];
				break;
			}
		}
		char *pos = xasprintf("page=%d pos=[%.2f %.2f]", f->page, f->x0, top);
		f->heading_outline[level] = cairo_pdf_surface_add_outline(f->surface, parent, name, pos,
		                                                          level >= 3 ? 0 : CAIRO_PDF_OUTLINE_FLAG_OPEN);
		free(pos);
		for (int k = level + 1; k < 7; k++)
			f->heading_outline[k] = 0;
	}
	if (S_dest_exists(f, name)) {
		buf attr = BUF_INIT;
		buf_puts(&attr, "name='");
		S_put_escaped(&attr, name);
		buf_printf(&attr, "' x=%.2f y=%.2f", f->x0, top);
		cairo_tag_begin(f->cr, CAIRO_TAG_DEST, buf_cstr(&attr));
		cairo_tag_end(f->cr, CAIRO_TAG_DEST);
		buf_free(&attr);
	}
	free(name);
	ts_flow_lines(f, l, f->x0 + c->left, &t, 1);
	g_object_unref(l);
	ts_text_free(&t);
}

/* ---- lists and quotes ---- */

static void S_list(ts_flow *f, cmark_node *n, const S_ctx *c)
{
	int ordered = cmark_node_get_list_type(n) == CMARK_ORDERED_LIST;
	int number = cmark_node_get_list_start(n);
	if (number <= 0)
		number = 1;
	S_ctx ic = *c;
	ic.left = c->left + 2 * S_em(f);
	ic.depth = c->depth + 1;
	for (cmark_node *item = cmark_node_first_child(n); item; item = cmark_node_next(item), number++) {
		char marker[32];
		if (ordered)
			snprintf(marker, sizeof marker, "%d%s", number,
			         cmark_node_get_list_delim(n) == CMARK_PAREN_DELIM ? ")" : ".");
		else
			snprintf(marker, sizeof marker, "%s", c->depth % 2 ? "◦" : "•");
		int first = 1;
		for (cmark_node *b = cmark_node_first_child(item); b; b = cmark_node_next(b)) {
			if (first && cmark_node_get_type(b) == CMARK_NODE_PARAGRAPH)
				S_paragraph(f, b, &ic, marker);
			else
				S_block(f, b, &ic);
			first = 0;
		}
	}
}

static void S_quote(ts_flow *f, cmark_node *n, const S_ctx *c)
{
	S_ctx qc = *c;
	qc.left += 2 * S_em(f);
	qc.right += 2 * S_em(f);
	qc.font = TS_KAI;
	for (cmark_node *b = cmark_node_first_child(n); b; b = cmark_node_next(b))
		S_block(f, b, &qc);
}

/* ---- free-flowing blocks ---- */

static void S_free_lines(ts_flow *f, PangoLayout *l, double x, double line_h, const ts_text *t)
{
	int n = pango_layout_get_line_count(l);
	double size = pango_font_description_get_size(pango_layout_get_font_description(l)) / (double)PANGO_SCALE;
	for (int i = 0; i < n; i++) {
		S_ensure(f, line_h);
		PangoLayoutLine *line = pango_layout_get_line_readonly(l, i);
		ts_draw_line(f, l, line, x, f->y + (line_h - size) / 2 + 0.88 * size, t);
		f->y += line_h;
		f->blank = 0;
	}
}

static void S_caption(ts_flow *f, cmark_node *n, const S_ctx *c)
{
	const print_style *st = &f->ts->st;
	ts_text t;
	ts_text_init(&t, TS_BODY);
	ts_text_inlines(f->ts, &t, n);
	ts_para p = {0};
	p.font = TS_BODY;
	p.size = st->size_caption;
	p.width = f->w - c->left - c->right;
	p.align = TS_CENTRE;
	p.colour = st->text_colour;
	PangoLayout *l = ts_layout(f->ts, &t, &p);
	S_ensure(f, pango_layout_get_line_count(l) * p.size * 1.6);
	S_free_lines(f, l, f->x0 + c->left, p.size * 1.6, &t);
	f->y += p.size * 0.4;
	g_object_unref(l);
	ts_text_free(&t);
}

static void S_code(ts_flow *f, cmark_node *n, const S_ctx *c)
{
	const print_style *st = &f->ts->st;
	const char *lit = cmark_node_get_literal(n);
	size_t len = lit ? strlen(lit) : 0;
	while (len && lit[len - 1] == '\n')
		len--;
	ts_text t;
	ts_text_init(&t, TS_MONO);
	ts_text_append(&t, lit ? lit : "", len, S_source_line(f, n) + 1);
	ts_para p = {0};
	p.font = TS_MONO;
	p.size = st->size_code;
	double pad = st->size_code * 0.6;
	p.width = f->w - c->left - c->right - 2 * pad;
	p.align = TS_LEFT;
	p.colour = st->text_colour;
	PangoLayout *l = ts_layout(f->ts, &t, &p);
	double line_h = st->size_code * 1.5;
	int nlines = pango_layout_get_line_count(l);
	f->y += pad / 2;
	int i = 0;
	while (i < nlines) {
		S_ensure(f, line_h + pad);
		int room = (int)floor((f->h - f->y - pad) / line_h + S_EPS);
		if (room < 1)
			room = 1;
		int here = nlines - i < room ? nlines - i : room;
		double box_h = here * line_h + pad;
		cairo_set_source_rgb(f->cr, 0.95, 0.95, 0.95);
		cairo_rectangle(f->cr, f->x0 + c->left, f->y0 + f->y, f->w - c->left - c->right, box_h);
		cairo_fill(f->cr);
		ts_set_colour(f->cr, st->text_colour);
		f->y += pad / 2;
		for (int k = 0; k < here; k++, i++) {
			PangoLayoutLine *line = pango_layout_get_line_readonly(l, i);
			ts_draw_line(f, l, line, f->x0 + c->left + pad, f->y + (line_h - p.size) / 2 + 0.88 * p.size, &t);
			f->y += line_h;
		}
		f->y += pad / 2;
		f->blank = 0;
		if (i < nlines)
			ts_flow_new_page(f);
	}
	f->y += pad / 2;
	g_object_unref(l);
	ts_text_free(&t);
}

static void S_chart(ts_flow *f, cmark_node *n, const S_ctx *c)
{
	const print_doc *d = f->ts->doc;
	double width = f->w - c->left - c->right, height = 0;
	int rc = d->draw_block(d->ctx, n, NULL, width, &height);
	if (rc == 1) {
		S_code(f, n, c);
		return;
	}
	if (rc < 0 || height <= 0) {
		if (rc == 0)
			diag_error(d->file, S_source_line(f, n), 0, "the chart has no height");
		f->ts->errors++;
		return;
	}
	if (height > f->h)
		height = f->h;
	S_ensure(f, height);
	cairo_save(f->cr);
	cairo_translate(f->cr, f->x0 + c->left, f->y0 + f->y);
	cairo_rectangle(f->cr, 0, 0, width, height);
	cairo_clip(f->cr);
	rc = d->draw_block(d->ctx, n, f->cr, width, &height);
	cairo_restore(f->cr);
	ts_set_colour(f->cr, f->ts->st.text_colour);
	if (rc < 0)
		f->ts->errors++;
	f->y += height + f->pitch * 0.25;
	f->blank = 0;
}

/* ---- images ---- */

typedef struct S_png_reader {
	const unsigned char *data;
	size_t len, at;
} S_png_reader;

static cairo_status_t S_png_read(void *closure, unsigned char *out, unsigned int len)
{
	S_png_reader *r = closure;
	if (r->len - r->at < len)
		return CAIRO_STATUS_READ_ERROR;
	memcpy(out, r->data + r->at, len);
	r->at += len;
	return CAIRO_STATUS_SUCCESS;
}

static int S_is_remote(const char *url)
{
	return !strncmp(url, "http://", 7) || !strncmp(url, "https://", 8) || !strncmp(url, "//", 2);
}

/* The height a figure needs (for keeping a caption with it). */
static void S_placeholder(ts_flow *f, const char *alt, double x, double w, double h)
{
	cairo_t *cr = f->cr;
	cairo_save(cr);
	cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
	cairo_set_line_width(cr, 0.75);
	double dash[] = {3, 2};
	cairo_set_dash(cr, dash, 2, 0);
	cairo_rectangle(cr, x, f->y0 + f->y, w, h);
	cairo_stroke(cr);
	cairo_restore(cr);
	ts_para p = {0};
	p.font = TS_KAI;
	p.size = f->ts->st.size_caption;
	p.width = w - 2 * p.size;
	p.align = TS_CENTRE;
	p.colour = 0x666666;
	PangoLayout *l = ts_layout_plain(f->ts, alt && *alt ? alt : "（图片）", &p);
	PangoRectangle r;
	pango_layout_get_extents(l, NULL, &r);
	ts_set_colour(cr, p.colour);
	cairo_move_to(cr, x + p.size, f->y0 + f->y + (h - r.height / (double)PANGO_SCALE) / 2);
	typeset_check_layout(l);
	pango_cairo_show_layout(cr, l);
	ts_set_colour(cr, f->ts->st.text_colour);
	g_object_unref(l);
}

static void S_figure(ts_flow *f, cmark_node *img, const S_ctx *c)
{
	const print_doc *d = f->ts->doc;
	const char *url = cmark_node_get_url(img);
	buf alt = BUF_INIT;
	md_plain_text(img, &alt);
	int line = S_source_line(f, img);
	if (!line)
		line = S_source_line(f, cmark_node_parent(img));
	double avail = f->w - c->left - c->right;
	cairo_surface_t *png = NULL;
	if (!url || !*url || S_is_remote(url)) {
		diag_warning(d->file, line, 0, "remote image not fetched for the PDF: %s (a placeholder stands in)",
		             url ? url : "");
	} else if (!d->load_image) {
		diag_warning(d->file, line, 0, "image %s: no images in this PDF (a placeholder stands in)", url);
	} else {
		char *data = NULL;
		size_t len = 0;
		if (d->load_image(d->ctx, url, &data, &len) < 0) {
			diag_error(d->file, line, 0, "image not found: %s", url);
			f->ts->errors++;
		} else {
			S_png_reader r = {(const unsigned char *)data, len, 0};
			png = cairo_image_surface_create_from_png_stream(S_png_read, &r);
			if (cairo_surface_status(png) != CAIRO_STATUS_SUCCESS) {
				cairo_surface_destroy(png);
				png = NULL;
				diag_error(d->file, line, 0, "image %s is not a PNG file", url);
				f->ts->errors++;
			}
		}
		free(data);
	}
	cmark_node *next = cmark_node_next(cmark_node_parent(img));
	double caption_h = next && cmark_node_get_type(next) == CMARK_NODE_CUSTOM_BLOCK
	                       ? f->ts->st.size_caption * 2.0
	                       : 0;
	double w, h;
	if (png) {
		/* 96 dpi pixels, never wider than the column nor taller than half a page */
		double pw = cairo_image_surface_get_width(png) * 0.75, ph = cairo_image_surface_get_height(png) * 0.75;
		double scale = 1;
		if (pw * scale > avail)
			scale = avail / pw;
		if (ph * scale > f->h * 0.6)
			scale = f->h * 0.6 / ph;
		w = pw * scale;
		h = ph * scale;
	} else {
		w = avail * 0.6;
		h = 4 * f->pitch;
	}
	f->y += f->pitch * 0.25;
	S_ensure(f, h + caption_h);
	double x = f->x0 + c->left + (avail - w) / 2;
	if (png) {
		cairo_save(f->cr);
		cairo_translate(f->cr, x, f->y0 + f->y);
		cairo_scale(f->cr, w / cairo_image_surface_get_width(png), h / cairo_image_surface_get_height(png));
		cairo_set_source_surface(f->cr, png, 0, 0);
		cairo_paint(f->cr);
		cairo_restore(f->cr);
		cairo_surface_destroy(png);
	} else {
		S_placeholder(f, buf_cstr(&alt), x, w, h);
	}
	f->y += h + f->pitch * 0.15;
	f->blank = 0;
	buf_free(&alt);
}

/* ---- tables ---- */

typedef struct S_cell {
	ts_text text;
	PangoLayout *layout;
} S_cell;

typedef struct S_table {
	int ncols, nrows;
	S_cell *cells; /* nrows × ncols */
	double *col_w;
	double *row_h;
	int *align;
	double pad;
} S_tbl;

static void S_table_free(S_tbl *tb)
{
	for (int i = 0; i < tb->nrows * tb->ncols; i++) {
		ts_text_free(&tb->cells[i].text);
		if (tb->cells[i].layout)
			g_object_unref(tb->cells[i].layout);
	}
	free(tb->cells);
	free(tb->col_w);
	free(tb->row_h);
	free(tb->align);
}

static void S_table_widths(S_tbl *tb, double avail, double em)
{
	double *nat = xcalloc((size_t)tb->ncols, sizeof *nat);
	for (int r = 0; r < tb->nrows; r++) {
		for (int k = 0; k < tb->ncols; k++) {
			PangoRectangle e;
			pango_layout_get_extents(tb->cells[r * tb->ncols + k].layout, NULL, &e);
			double w = e.width / (double)PANGO_SCALE + 2 * tb->pad + 1;
			if (w > nat[k])
				nat[k] = w;
		}
	}
	double total = 0, widest = 0;
	for (int k = 0; k < tb->ncols; k++) {
		total += nat[k];
		if (nat[k] > widest)
			widest = nat[k];
	}
	if (total <= avail) {
		for (int k = 0; k < tb->ncols; k++)
			tb->col_w[k] = nat[k] + (avail - total) * nat[k] / total;
	} else {
		/* the widest columns give way first: find the level L where the
		 * columns cut to at most L fill the width exactly */
		double lo = 0, hi = widest;
		for (int iter = 0; iter < 50; iter++) {
			double mid = (lo + hi) / 2, sum = 0;
			for (int k = 0; k < tb->ncols; k++)
				sum += nat[k] < mid ? nat[k] : mid;
			if (sum > avail)
				hi = mid;
			else
				lo = mid;
		}
		for (int k = 0; k < tb->ncols; k++)
			tb->col_w[k] = nat[k] < lo ? nat[k] : lo;
		double sum = 0;
		for (int k = 0; k < tb->ncols; k++)
			sum += tb->col_w[k];
		for (int k = 0; k < tb->ncols; k++) /* rounding: the rest to the widest */
			if (nat[k] >= lo) {
				tb->col_w[k] += avail - sum;
				break;
			}
	}
	for (int k = 0; k < tb->ncols; k++)
		if (tb->col_w[k] < 2 * em)
			tb->col_w[k] = 2 * em;
	free(nat);
}

static void S_table(ts_flow *f, cmark_node *n, const S_ctx *c)
{
	const print_style *st = &f->ts->st;
	S_tbl tb = {0};
	tb.ncols = cmark_gfm_extensions_get_table_columns(n);
	for (cmark_node *row = cmark_node_first_child(n); row; row = cmark_node_next(row))
		tb.nrows++;
	if (tb.ncols <= 0 || tb.nrows == 0)
		return;
	tb.cells = xcalloc((size_t)(tb.nrows * tb.ncols), sizeof *tb.cells);
	tb.col_w = xcalloc((size_t)tb.ncols, sizeof *tb.col_w);
	tb.row_h = xcalloc((size_t)tb.nrows, sizeof *tb.row_h);
	tb.align = xcalloc((size_t)tb.ncols, sizeof *tb.align);
	tb.pad = st->size_table * 0.4;
	uint8_t *al = cmark_gfm_extensions_get_table_alignments(n);
	for (int k = 0; k < tb.ncols; k++)
		tb.align[k] = al ? al[k] : 0;
	double avail = f->w - c->left - c->right;
	int r = 0;
	/* natural widths first */
	for (cmark_node *row = cmark_node_first_child(n); row; row = cmark_node_next(row), r++) {
		int k = 0;
		for (cmark_node *cell = cmark_node_first_child(row); cell && k < tb.ncols; cell = cmark_node_next(cell), k++) {
			S_cell *sc = &tb.cells[r * tb.ncols + k];
			ts_text_init(&sc->text, TS_BODY);
			ts_text_inlines(f->ts, &sc->text, cell);
		}
		for (; k < tb.ncols; k++)
			ts_text_init(&tb.cells[r * tb.ncols + k].text, TS_BODY);
	}
	ts_para p = {0};
	p.font = TS_BODY;
	p.size = st->size_table;
	p.colour = st->text_colour;
	p.width = -1;
	for (int i = 0; i < tb.nrows * tb.ncols; i++) {
		p.bold = i < tb.ncols;
		tb.cells[i].layout = ts_layout(f->ts, &tb.cells[i].text, &p);
	}
	S_table_widths(&tb, avail, st->size_table);
	double line_h = st->size_table * 1.45;
	for (int row = 0; row < tb.nrows; row++) {
		double h = 0;
		for (int k = 0; k < tb.ncols; k++) {
			S_cell *sc = &tb.cells[row * tb.ncols + k];
			g_object_unref(sc->layout);
			ts_para q = p;
			q.bold = row == 0;
			q.width = tb.col_w[k] - 2 * tb.pad;
			double natural_w = 0;
			{
				PangoLayout *probe = ts_layout(f->ts, &sc->text, &p);
				PangoRectangle e;
				pango_layout_get_extents(probe, NULL, &e);
				natural_w = e.width / (double)PANGO_SCALE;
				g_object_unref(probe);
			}
			int centre = tb.align[k] == 'c' || (tb.align[k] == 0 && natural_w <= 4 * st->size_table && row > 0) ||
			             row == 0;
			q.align = tb.align[k] == 'r' ? TS_RIGHT : centre && natural_w <= q.width ? TS_CENTRE : TS_LEFT;
			q.justify = q.align == TS_LEFT;
			sc->layout = ts_layout(f->ts, &sc->text, &q);
			double ch = pango_layout_get_line_count(sc->layout) * line_h + 2 * tb.pad;
			if (ch > h)
				h = ch;
		}
		tb.row_h[row] = h;
	}
	double x = f->x0 + c->left;
	double table_w = 0;
	for (int k = 0; k < tb.ncols; k++)
		table_w += tb.col_w[k];
	f->y += f->pitch * 0.2;
	S_ensure(f, tb.row_h[0] + (tb.nrows > 1 ? tb.row_h[1] : 0));
	int first_on_page = 1;
	for (int row = 0; row < tb.nrows; row++) {
		int repeat = 0;
		if (row > 0 && f->y + tb.row_h[row] > f->h + S_EPS) {
			ts_flow_new_page(f);
			repeat = 1;
			first_on_page = 1;
		}
		for (int pass = repeat ? 0 : 1; pass < 2; pass++) {
			int rr = pass == 0 ? 0 : row;
			double top = f->y0 + f->y, cx = x;
			if (rr == 0) {
				cairo_set_source_rgb(f->cr, 0.93, 0.93, 0.93);
				cairo_rectangle(f->cr, x, top, table_w, tb.row_h[0]);
				cairo_fill(f->cr);
				ts_set_colour(f->cr, st->text_colour);
			}
			for (int k = 0; k < tb.ncols; k++) {
				S_cell *sc = &tb.cells[rr * tb.ncols + k];
				int nl = pango_layout_get_line_count(sc->layout);
				double content_h = nl * line_h;
				double ly = top + (tb.row_h[rr] - content_h) / 2;
				for (int i = 0; i < nl; i++) {
					PangoLayoutLine *line = pango_layout_get_line_readonly(sc->layout, i);
					ts_draw_line(f, sc->layout, line, cx + tb.pad,
					             ly - f->y0 + i * line_h + (line_h - p.size) / 2 + 0.88 * p.size, &sc->text);
				}
				cx += tb.col_w[k];
			}
			/* rules: a box around each row, heavier at the top and bottom */
			cairo_set_line_width(f->cr, first_on_page ? 0.9 : 0.5);
			cairo_move_to(f->cr, x, top);
			cairo_line_to(f->cr, x + table_w, top);
			cairo_stroke(f->cr);
			cairo_set_line_width(f->cr, 0.5);
			cx = x;
			for (int k = 0; k <= tb.ncols; k++) {
				cairo_move_to(f->cr, cx, top);
				cairo_line_to(f->cr, cx, top + tb.row_h[rr]);
				if (k < tb.ncols)
					cx += tb.col_w[k];
			}
			cairo_stroke(f->cr);
			f->y += tb.row_h[rr];
			int last_here = rr == tb.nrows - 1 || (pass == 1 && f->y + tb.row_h[row + 1] > f->h + S_EPS);
			cairo_set_line_width(f->cr, last_here ? 0.9 : 0.5);
			cairo_move_to(f->cr, x, f->y0 + f->y);
			cairo_line_to(f->cr, x + table_w, f->y0 + f->y);
			cairo_stroke(f->cr);
			first_on_page = 0;
			f->blank = 0;
		}
	}
	f->y += f->pitch * 0.2;
	S_table_free(&tb);
}

/* ---- dispatch ---- */

static void S_rule(ts_flow *f, const S_ctx *c)
{
	ts_flow_snap(f);
	S_ensure(f, f->pitch);
	double y = f->y0 + f->y + f->pitch / 2, w = (f->w - c->left - c->right) / 3;
	cairo_set_line_width(f->cr, 0.6);
	cairo_move_to(f->cr, f->x0 + c->left + w, y);
	cairo_line_to(f->cr, f->x0 + c->left + 2 * w, y);
	cairo_stroke(f->cr);
	f->y += f->pitch;
	f->blank = 0;
}

static void S_block(ts_flow *f, cmark_node *n, const S_ctx *c)
{
	const print_doc *d = f->ts->doc;
	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_PARAGRAPH:
		S_paragraph(f, n, c, NULL);
		break;
	case CMARK_NODE_HEADING:
		S_heading(f, n, c);
		break;
	case CMARK_NODE_LIST:
		S_list(f, n, c);
		break;
	case CMARK_NODE_BLOCK_QUOTE:
		S_quote(f, n, c);
		break;
	case CMARK_NODE_CODE_BLOCK: {
		const char *info = cmark_node_get_fence_info(n);
		if (d && d->draw_block && info && *info && strncmp(info, "chart", 5) == 0 &&
		    (info[5] == '\0' || info[5] == ' '))
			S_chart(f, n, c);
		else
			S_code(f, n, c);
		break;
	}
	case CMARK_NODE_THEMATIC_BREAK:
		S_rule(f, c);
		break;
	case CMARK_NODE_CUSTOM_BLOCK:
		S_caption(f, n, c);
		break;
	case CMARK_NODE_HTML_BLOCK:
		break;
	default:
		if (!strcmp(cmark_node_get_type_string(n), "table"))
			S_table(f, n, c);
		else
			for (cmark_node *b = cmark_node_first_child(n); b; b = cmark_node_next(b))
				S_block(f, b, c);
		break;
	}
}

/* Headings that internal links point at become link targets. */
static void S_collect_dests(ts_flow *f, cmark_node *root)
{
	strvec targets = STRVEC_INIT;
	cmark_iter *it = cmark_iter_new(root);
	cmark_event_type ev;
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		if (ev == CMARK_EVENT_ENTER && cmark_node_get_type(n) == CMARK_NODE_LINK) {
			const char *url = cmark_node_get_url(n);
			if (url && url[0] == '#' && url[1])
				strvec_push_copy(&targets, url + 1);
		}
	}
	cmark_iter_free(it);
	if (!targets.len) {
		strvec_free(&targets);
		return;
	}
	it = cmark_iter_new(root);
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		if (ev == CMARK_EVENT_ENTER && cmark_node_get_type(n) == CMARK_NODE_HEADING) {
			buf b = BUF_INIT;
			md_plain_text(n, &b);
			if (strvec_contains(&targets, buf_cstr(&b)))
				S_add_dest(f, buf_cstr(&b));
			buf_free(&b);
		}
	}
	cmark_iter_free(it);
	strvec_free(&targets);
}

void ts_flow_body(ts_flow *f, cmark_node *root)
{
	if (!root)
		return;
	S_collect_dests(f, root);
	/* the last paragraph, inside lists and quotes too */
	cmark_node *last = cmark_node_last_child(root);
	while (last && cmark_node_get_type(last) != CMARK_NODE_PARAGRAPH && cmark_node_last_child(last))
		last = cmark_node_last_child(last);
	f->last = last && cmark_node_get_type(last) == CMARK_NODE_PARAGRAPH ? last : NULL;
	S_ctx c = {0, 0, TS_BODY, 0};
	for (cmark_node *n = cmark_node_first_child(root); n; n = cmark_node_next(n))
		S_block(f, n, &c);
	f->last = NULL;
}
