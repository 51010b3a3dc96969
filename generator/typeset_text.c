/* Inline text to Pango layouts: fonts and emphasis, the clreq line-layout
 * rules Pango 1.50 lacks (kinsoku for · —— ……, no one-character last line,
 * punctuation compression with `halt`, ¼ em between Han and Latin as
 * letter spacing), full justification done here on the shaped glyphs, and
 * the check that every character has a glyph. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "typeset_int.h"

/* ---- character classes (clreq) ---- */

int ts_no_line_start(uint32_t cp)
{
	switch (cp) {
	case 0x3001: case 0x3002: case 0xFF0C: case 0xFF0E: case 0xFF1A: case 0xFF1B: case 0xFF01: case 0xFF1F:
	case 0xFF09: case 0xFF3D: case 0xFF5D: case 0x300D: case 0x300F: case 0x201D: case 0x2019: case 0x300B:
	case 0x3009: case 0x3011: case 0x3015: case 0x3017: case 0x3019: case 0x301F: case 0xFF60:
	case 0x00B7: case 0x30FB: case 0x2014: case 0x2015: case 0x2026: case 0x2E3A: case 0x2E3B: case 0x3005:
	case 0xFF05: case 0x2030: case 0x2103:
	case ',': case '.': case ';': case ':': case '!': case '?': case ')': case ']': case '}': case '%':
		return 1;
	default:
		return 0;
	}
}

int ts_no_line_end(uint32_t cp)
{
	switch (cp) {
	case 0xFF08: case 0xFF3B: case 0xFF5B: case 0x300C: case 0x300E: case 0x201C: case 0x2018: case 0x300A:
	case 0x3008: case 0x3010: case 0x3014: case 0x3016: case 0x3018: case 0x301D: case 0xFF5F:
	case '(': case '[': case '{':
		return 1;
	default:
		return 0;
	}
}

int ts_is_han(uint32_t cp)
{
	return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
	       (cp >= 0x20000 && cp <= 0x3FFFF) || (cp >= 0x3040 && cp <= 0x30FF && cp != 0x30FB) || cp == 0x3007;
}

int ts_is_latin(uint32_t cp)
{
	return (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') ||
	       (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7) || (cp >= 0x370 && cp <= 0x3FF);
}

/* Full-width punctuation whose blank half sits after the ink (。，、 and
 * closers) or before it (openers): the pairs that compress. */
static int S_blank_after(uint32_t cp)
{
	switch (cp) {
	case 0x3001: case 0x3002: case 0xFF0C: case 0xFF0E: case 0xFF1A: case 0xFF1B: case 0xFF01: case 0xFF1F:
	case 0xFF09: case 0xFF3D: case 0xFF5D: case 0x300D: case 0x300F: case 0x201D: case 0x2019: case 0x300B:
	case 0x3009: case 0x3011: case 0x3015: case 0x3017: case 0x3019:
		return 1;
	default:
		return 0;
	}
}

static int S_blank_before(uint32_t cp)
{
	switch (cp) {
	case 0xFF08: case 0xFF3B: case 0xFF5B: case 0x300C: case 0x300E: case 0x201C: case 0x2018: case 0x300A:
	case 0x3008: case 0x3010: case 0x3014: case 0x3016: case 0x3018:
		return 1;
	default:
		return 0;
	}
}

static int S_is_cjk_char(uint32_t cp)
{
	return ts_is_han(cp) || S_blank_after(cp) || S_blank_before(cp) || (cp >= 0x3000 && cp <= 0x303F) ||
	       (cp >= 0xFF00 && cp <= 0xFFEF) || cp == 0x2014 || cp == 0x2026 || cp == 0x00B7;
}

/* ---- the grid ---- */

double ts_grid_pitch(const print_style *st)
{
	return st->text_height * TS_MM / (st->lines_per_page - 1 + 1.0);
}

double ts_grid_advance(const print_style *st)
{
	return st->text_width * TS_MM / st->chars_per_line;
}

/* ---- text building ---- */

void ts_text_init(ts_text *t, ts_font font)
{
	memset(t, 0, sizeof *t);
	t->attrs = pango_attr_list_new();
	t->font = font;
}

void ts_text_free(ts_text *t)
{
	if (!t)
		return;
	buf_free(&t->text);
	if (t->attrs)
		pango_attr_list_unref(t->attrs);
	for (size_t i = 0; i < t->nlinks; i++)
		free(t->links[i].url);
	free(t->links);
	free(t->marks);
	free(t->shifts);
	memset(t, 0, sizeof *t);
}

static void S_mark(ts_text *t, int line)
{
	if (line <= 0)
		return;
	if (t->nmarks && t->marks[t->nmarks - 1].line == line)
		return;
	t->marks = xrealloc(t->marks, (t->nmarks + 1) * sizeof *t->marks);
	t->marks[t->nmarks].offset = t->text.len;
	t->marks[t->nmarks].line = line;
	t->nmarks++;
}

/* Pango before 1.54 follows UAX #14 rule LB19 to the letter: no break
 * before or after any quotation mark, so "建设“高等学历”课程" is one
 * unbreakable run and the line before it is left short and stretched.
 * clreq allows a break before an opening quote and after a closing one; a
 * zero-width space (class ZW: break after it, never before it) restores
 * exactly those breaks, and only between a quote and a Han character so
 * nothing else changes.  A break after the ZWSP puts “ at the start of
 * the next line or leaves ” at the end of this one, which the kinsoku
 * rules allow; the mark itself never moves away from its word.  Pango
 * draws the ZWSP as an empty glyph and cairo keeps no text for it. */
#define S_ZWSP "\xE2\x80\x8B"

static int S_opening_quote(uint32_t cp)
{
	return cp == 0x201C || cp == 0x2018;
}

static int S_closing_quote(uint32_t cp)
{
	return cp == 0x201D || cp == 0x2019;
}

/* 1 when a break belongs between a and b (see S_ZWSP). */
static int S_quote_break(uint32_t a, uint32_t b)
{
	return (ts_is_han(a) && S_opening_quote(b)) || (S_closing_quote(a) && ts_is_han(b));
}

void ts_text_append(ts_text *t, const char *s, size_t len, int line)
{
	S_mark(t, line);
	if (t->mono || t->font == TS_MONO) {
		buf_put(&t->text, s, len);
		return;
	}
	uint32_t prev = t->text.len ? utf8_last(t->text.ptr, t->text.len) : 0;
	size_t done = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);
		if (S_quote_break(prev, cp)) {
			buf_put(&t->text, s + done, i - done);
			buf_puts(&t->text, S_ZWSP);
			done = i;
		}
		prev = cp;
		i += n;
	}
	buf_put(&t->text, s + done, len - done);
}

static void S_attr(ts_text *t, PangoAttribute *a, size_t start, size_t end)
{
	a->start_index = (guint)start;
	a->end_index = (guint)end;
	pango_attr_list_insert(t->attrs, a);
}

static int S_node_line(typesetter *ts, cmark_node *n)
{
	int l = cmark_node_get_start_line(n);
	if (l <= 0)
		return 0;
	return l + (ts->doc && ts->doc->first_line > 0 ? ts->doc->first_line - 1 : 0);
}

void ts_text_inlines(typesetter *ts, ts_text *t, cmark_node *node)
{
	for (cmark_node *n = cmark_node_first_child(node); n; n = cmark_node_next(n)) {
		size_t start = t->text.len;
		const char *lit;
		switch (cmark_node_get_type(n)) {
		case CMARK_NODE_TEXT:
			lit = cmark_node_get_literal(n);
			if (lit)
				ts_text_append(t, lit, strlen(lit), S_node_line(ts, n));
			break;
		case CMARK_NODE_SOFTBREAK:
			buf_putc(&t->text, ' ');
			break;
		case CMARK_NODE_LINEBREAK:
			buf_puts(&t->text, "\xE2\x80\xA8"); /* U+2028: a new line, not a new paragraph */
			break;
		case CMARK_NODE_CODE:
			lit = cmark_node_get_literal(n);
			t->mono++;
			if (lit)
				ts_text_append(t, lit, strlen(lit), S_node_line(ts, n));
			t->mono--;
			S_attr(t, pango_attr_family_new(ts->st.font_mono), start, t->text.len);
			S_attr(t, pango_attr_scale_new(0.9), start, t->text.len);
			break;
		case CMARK_NODE_STRONG:
			ts_text_inlines(ts, t, n);
			S_attr(t, pango_attr_weight_new(PANGO_WEIGHT_BOLD), start, t->text.len);
			break;
		case CMARK_NODE_EMPH:
			ts_text_inlines(ts, t, n);
			S_attr(t, pango_attr_family_new(ts->st.font_kai), start, t->text.len);
			break;
		case CMARK_NODE_LINK: {
			ts_text_inlines(ts, t, n);
			const char *url = cmark_node_get_url(n);
			if (url && *url && t->text.len > start) {
				t->links = xrealloc(t->links, (t->nlinks + 1) * sizeof *t->links);
				t->links[t->nlinks].start = start;
				t->links[t->nlinks].end = t->text.len;
				t->links[t->nlinks].url = xstrdup(url);
				t->nlinks++;
				if (ts->st.link_colour != ts->st.text_colour) {
					unsigned c = ts->st.link_colour;
					S_attr(t,
					       pango_attr_foreground_new((guint16)(((c >> 16) & 255) * 257),
					                                 (guint16)(((c >> 8) & 255) * 257), (guint16)((c & 255) * 257)),
					       start, t->text.len);
				}
			}
			break;
		}
		case CMARK_NODE_IMAGE:
			/* an image inside running text: its description stands in */
			buf_puts(&t->text, "［");
			ts_text_inlines(ts, t, n);
			buf_puts(&t->text, "］");
			break;
		case CMARK_NODE_HTML_INLINE:
			break;
		default:
			if (!strcmp(cmark_node_get_type_string(n), "strikethrough")) {
				ts_text_inlines(ts, t, n);
				S_attr(t, pango_attr_strikethrough_new(TRUE), start, t->text.len);
			} else {
				ts_text_inlines(ts, t, n);
			}
			break;
		}
	}
}

/* ---- the line-layout rules ---- */

static void S_no_break(PangoAttrList *attrs, size_t start, size_t end)
{
	PangoAttribute *a = pango_attr_allow_breaks_new(FALSE);
	a->start_index = (guint)start;
	a->end_index = (guint)end;
	pango_attr_list_insert(attrs, a);
}

/* 1 when the characters between the one at a and the one at b are only
 * marks that may not start a line (”，。) and zero-width spaces: joining a
 * and b then keeps e.g. "南”课。" from leaving "课。" alone on a line. */
static int S_only_marks_between(const char *text, size_t a, size_t b)
{
	uint32_t cp;
	size_t i = a + utf8_decode(text + a, b - a, &cp);
	while (i < b) {
		i += utf8_decode(text + i, b - i, &cp);
		if (cp != 0x200B && !ts_no_line_start(cp))
			return 0;
	}
	return 1;
}

int ts_kinsoku_attrs(const char *text, size_t len, int keep_last, PangoAttrList *attrs)
{
	int count = 0, open = 0;
	size_t range_start = 0, range_end = 0, prev_start = 0;
	size_t last_real = (size_t)-1, before_last_real = (size_t)-1;
	uint32_t prev = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(text + i, len - i, &cp);
		if (cp != ' ' && cp != 0x2028 && cp != 0x200B && !ts_no_line_start(cp)) {
			before_last_real = last_real;
			last_real = i;
		}
		/* Pango breaks only strictly inside an allow-breaks range, so the
		 * range [prev, cur] forbids exactly the break between them. */
		if (i > 0 && (ts_no_line_start(cp) || ts_no_line_end(prev))) {
			if (open && range_end > prev_start) {
				range_end = i + n;
			} else {
				if (open) {
					S_no_break(attrs, range_start, range_end);
					count++;
				}
				range_start = prev_start;
				range_end = i + n;
				open = 1;
			}
		}
		prev = cp;
		prev_start = i;
		i += n;
	}
	if (open) {
		S_no_break(attrs, range_start, range_end);
		count++;
	}
	/* no one-character last line: the last two characters stay together */
	if (keep_last && last_real != (size_t)-1 && before_last_real != (size_t)-1 &&
	    S_only_marks_between(text, before_last_real, last_real)) {
		uint32_t cp;
		size_t n = utf8_decode(text + last_real, len - last_real, &cp);
		S_no_break(attrs, before_last_real, last_real + n);
		count++;
	}
	return count;
}

/* Letter spacing on Han characters next to Latin (¼ em, moved to the side
 * of the Latin text after shaping), and `halt` on the member of each pair
 * of adjacent full-width punctuation whose blank half faces the other. */
static void S_spacing_attrs(ts_text *t, PangoAttrList *attrs, double size, double base_spacing, int han_latin)
{
	const char *s = t->text.ptr;
	size_t len = t->text.len;
	uint32_t prev = 0, cur = 0, next = 0;
	size_t cur_at = 0, cur_len = 0;
	double quarter = size / 4;
	if (len)
		cur_len = utf8_decode(s, len, &cur);
	while (cur_len) {
		size_t next_at = cur_at + cur_len, next_len = 0;
		next = 0;
		if (next_at < len)
			next_len = utf8_decode(s + next_at, len - next_at, &next);
		if (han_latin && ts_is_han(cur)) {
			int before = ts_is_latin(prev), after = ts_is_latin(next);
			if (before || after) {
				double extra = quarter * (before + after);
				PangoAttribute *a = pango_attr_letter_spacing_new((int)((base_spacing + extra) * PANGO_SCALE));
				a->start_index = (guint)cur_at;
				a->end_index = (guint)(cur_at + cur_len);
				pango_attr_list_insert(attrs, a);
				if (before != after) {
					/* Pango puts half of it before the glyph, half after */
					int half = (int)(quarter / 2 * PANGO_SCALE);
					t->shifts = xrealloc(t->shifts, (t->nshifts + 1) * sizeof *t->shifts);
					t->shifts[t->nshifts].offset = cur_at;
					t->shifts[t->nshifts].dx = after ? -half : half;
					t->nshifts++;
				}
			}
		}
		if (cur == 0x2014 || cur == 0x2015 || cur == 0x2026) {
			/* the CJK full-width forms: —— and …… are two ems */
			PangoAttribute *a = pango_attr_font_features_new("fwid");
			a->start_index = (guint)cur_at;
			a->end_index = (guint)(cur_at + cur_len);
			pango_attr_list_insert(attrs, a);
		} else if (next_len && S_blank_after(cur) && (S_blank_after(next) || S_blank_before(next))) {
			PangoAttribute *a = pango_attr_font_features_new("halt");
			a->start_index = (guint)cur_at;
			a->end_index = (guint)(cur_at + cur_len);
			pango_attr_list_insert(attrs, a);
		} else if (next_len && S_blank_before(next) && (S_blank_before(cur) || S_blank_after(cur))) {
			PangoAttribute *a = pango_attr_font_features_new("halt");
			a->start_index = (guint)next_at;
			a->end_index = (guint)(next_at + next_len);
			pango_attr_list_insert(attrs, a);
		}
		prev = cur;
		cur = next;
		cur_at = next_at;
		cur_len = next_len;
	}
}

/* ---- justification on the shaped lines ---- */

typedef struct S_cluster {
	PangoGlyphString *glyphs;
	int last_glyph; /* index of the cluster's last glyph */
	int first_glyph;
	uint32_t cp;    /* its first character */
	size_t offset;
} S_cluster;

static size_t S_line_clusters(PangoLayoutLine *line, const char *text, S_cluster **out, size_t *cap)
{
	size_t n = 0;
	for (GSList *r = line->runs; r; r = r->next) {
		PangoGlyphItem *run = r->data;
		PangoGlyphString *g = run->glyphs;
		for (int i = 0; i < g->num_glyphs; i++) {
			if (i > 0 && g->log_clusters[i] == g->log_clusters[i - 1]) {
				(*out)[n - 1].last_glyph = i;
				continue;
			}
			if (n == *cap) {
				*cap = *cap ? *cap * 2 : 64;
				*out = xrealloc(*out, *cap * sizeof **out);
			}
			size_t off = (size_t)run->item->offset + (size_t)g->log_clusters[i];
			uint32_t cp = 0;
			utf8_decode(text + off, strlen(text + off), &cp);
			(*out)[n].glyphs = g;
			(*out)[n].first_glyph = i;
			(*out)[n].last_glyph = i;
			(*out)[n].cp = cp;
			(*out)[n].offset = off;
			n++;
		}
	}
	return n;
}

static int S_line_width(PangoLayoutLine *line)
{
	int w = 0;
	for (GSList *r = line->runs; r; r = r->next) {
		PangoGlyphItem *run = r->data;
		for (int i = 0; i < run->glyphs->num_glyphs; i++)
			w += run->glyphs->glyphs[i].geometry.width;
	}
	return w;
}

static int S_expandable_gap(uint32_t a, uint32_t b)
{
	/* a zero-width space takes no stretch of its own: the gap before it
	 * stands for the gap between its neighbours */
	if (a == 0x200B)
		return 0;
	if (a == ' ' || b == ' ')
		return 1;
	if (a == 0x2028 || b == 0x2028)
		return 0;
	return S_is_cjk_char(a) || S_is_cjk_char(b);
}

static void S_apply_shifts(ts_text *t, S_cluster *c, size_t n)
{
	if (!t->nshifts)
		return;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		while (k < t->nshifts && t->shifts[k].offset < c[i].offset)
			k++;
		if (k == t->nshifts)
			break;
		if (t->shifts[k].offset != c[i].offset)
			continue;
		PangoGlyphGeometry *g = &c[i].glyphs->glyphs[c[i].first_glyph].geometry;
		PangoGlyphGeometry *gl = &c[i].glyphs->glyphs[c[i].last_glyph].geometry;
		int dx = t->shifts[k].dx, half = dx < 0 ? -dx : dx;
		if (n < 2)
			continue;
		/* At the line's edges Pango trimmed the outer half: give back the
		 * half that faces Latin text on this line, drop the one facing
		 * the other line. */
		if (i == 0)
			gl->width += dx < 0 ? half : -half;
		else if (i + 1 == n) {
			g->x_offset += dx;
			gl->width += dx;
		} else
			g->x_offset += dx;
	}
}

/* How much the full-width punctuation of a line can give up: the blank
 * half of each mark not already compressed. */
static int S_squeezable(const S_cluster *c, size_t n, int half)
{
	int total = 0;
	for (size_t i = 0; i < n; i++) {
		if (!S_blank_after(c[i].cp) && !S_blank_before(c[i].cp))
			continue;
		if (c[i].glyphs->glyphs[c[i].first_glyph].geometry.width >= (3 * half) / 2)
			total += half;
	}
	return total;
}

/* Takes need units out of the line's punctuation: the mark at the line's
 * end first, then the others evenly.
 *
 * That is the only place a line-end ，。、 is set half width (clreq allows
 * it): when it lets a line that overflows by up to half an em keep its
 * characters instead of pushing one down and being stretched.  Halving it
 * anywhere else makes the justification worse, never better.  On a full
 * line (28 characters ending in ，) the freed half em would have to be
 * spread over the line and move every character off the 28-column grid
 * that 公文 and the bulletins are set on; on a short line it would only add
 * to the stretch.  And it never gains a character: 28 characters plus a
 * half-width mark are 28.5 em, which no grid line holds. */
static void S_squeeze(S_cluster *c, size_t n, int need, int half)
{
	size_t cand = 0;
	for (size_t pass = 0; pass < 2 && need > 0; pass++) {
		for (size_t i = 0; i < n; i++) {
			PangoGlyphGeometry *g = &c[i].glyphs->glyphs[c[i].first_glyph].geometry;
			int after = S_blank_after(c[i].cp), before = S_blank_before(c[i].cp);
			if ((!after && !before) || g->width < (3 * half) / 2)
				continue;
			if (pass == 0) {
				if (i + 1 == n && after) {
					int d = need < half ? need : half;
					g->width -= d;
					need -= d;
				} else {
					cand++;
				}
				continue;
			}
			int d = (int)((need + (int)cand - 1) / (int)cand);
			if (d > half)
				d = half;
			if (d > need)
				d = need;
			g->width -= d;
			if (before)
				g->x_offset -= d;
			need -= d;
			cand--;
		}
	}
}

/* 1 when every line of l fits width once its punctuation is squeezed. */
static int S_fits(PangoLayout *l, double width, double indent, double size)
{
	const char *text = pango_layout_get_text(l);
	S_cluster *c = NULL;
	size_t cap = 0;
	int ok = 1;
	int half = (int)(size / 2 * PANGO_SCALE);
	for (GSList *ln = pango_layout_get_lines(l); ln && ok; ln = ln->next) {
		PangoLayoutLine *line = ln->data;
		size_t n = S_line_clusters(line, text, &c, &cap);
		int target = (int)(width * PANGO_SCALE) - (line->is_paragraph_start ? (int)(indent * PANGO_SCALE) : 0);
		int over = S_line_width(line) - target;
		if (over > 0 && over > S_squeezable(c, n, half))
			ok = 0;
	}
	free(c);
	return ok;
}

static void S_justify(PangoLayout *l, ts_text *t, double width, double indent, double size, int justify)
{
	GSList *lines = pango_layout_get_lines(l);
	const char *text = pango_layout_get_text(l);
	S_cluster *c = NULL;
	size_t cap = 0;
	int target_full = (int)(width * PANGO_SCALE);
	int half = (int)(size / 2 * PANGO_SCALE);
	for (GSList *ln = lines; ln; ln = ln->next) {
		PangoLayoutLine *line = ln->data;
		size_t n = S_line_clusters(line, text, &c, &cap);
		S_apply_shifts(t, c, n);
		if (!justify || n < 2)
			continue;
		int target = target_full - (line->is_paragraph_start ? (int)(indent * PANGO_SCALE) : 0);
		int extra = target - S_line_width(line);
		/* trailing spaces were zeroed by Pango; never stretch into them */
		size_t last = n;
		while (last > 1 && (c[last - 1].cp == ' ' || c[last - 1].cp == 0x200B))
			last--;
		if (extra < 0) {
			/* squeeze before stretching: the line was set a little wider */
			S_squeeze(c, last, -extra, half);
			continue;
		}
		/* the last line and one ending in a hard break keep their width */
		if (!ln->next || c[n - 1].cp == 0x2028 || c[n - 1].cp == '\n' || extra == 0)
			continue;
		int gaps = 0;
		for (size_t i = 0; i + 1 < last; i++)
			gaps += S_expandable_gap(c[i].cp, c[i + 1].cp);
		if (!gaps || extra > target / 4)
			continue;
		int done = 0, k = 0;
		for (size_t i = 0; i + 1 < last; i++) {
			if (!S_expandable_gap(c[i].cp, c[i + 1].cp))
				continue;
			k++;
			int upto = (int)((long long)extra * k / gaps);
			c[i].glyphs->glyphs[c[i].last_glyph].geometry.width += upto - done;
			done = upto;
		}
	}
	free(c);
}

/* ---- layouts ---- */

int ts_first_unknown(PangoLayout *layout)
{
	if (pango_layout_get_unknown_glyphs_count(layout) == 0)
		return -1;
	PangoLayoutIter *it = pango_layout_get_iter(layout);
	int found = -1;
	do {
		PangoLayoutRun *run = pango_layout_iter_get_run_readonly(it);
		if (!run)
			continue;
		for (int i = 0; i < run->glyphs->num_glyphs; i++) {
			if (run->glyphs->glyphs[i].glyph & PANGO_GLYPH_UNKNOWN_FLAG) {
				found = run->item->offset + run->glyphs->log_clusters[i];
				break;
			}
		}
	} while (found < 0 && pango_layout_iter_next_run(it));
	pango_layout_iter_free(it);
	return found;
}

void ts_report_missing(typesetter *ts, const ts_text *t, size_t offset)
{
	const char *s = t->text.ptr;
	uint32_t cp;
	size_t n = utf8_decode(s + offset, t->text.len - offset, &cp);
	int line = 0;
	for (size_t i = 0; i < t->nmarks && t->marks[i].offset <= offset; i++)
		line = t->marks[i].line;
	const char *file = ts->doc ? ts->doc->file : NULL;
	diag_error(file, line, 0, "no font has the character '%.*s' (U+%04X)", (int)n, s + offset, (unsigned)cp);
	ts->errors++;
}

static PangoFontDescription *S_font(typesetter *ts, ts_font font, double size, int bold)
{
	PangoFontDescription *fd = pango_font_description_copy_static(ts->fonts[font]);
	pango_font_description_set_size(fd, (gint)(size * PANGO_SCALE + 0.5));
	if (bold)
		pango_font_description_set_weight(fd, PANGO_WEIGHT_BOLD);
	return fd;
}

static void S_copy_attrs(PangoAttrList *from, PangoAttrList *to)
{
	GSList *list = pango_attr_list_get_attributes(from);
	for (GSList *l = list; l; l = l->next)
		pango_attr_list_insert(to, l->data); /* takes over the copies */
	g_slist_free(list);
}

PangoLayout *ts_layout(typesetter *ts, ts_text *t, const ts_para *p)
{
	PangoLayout *l = pango_layout_new(ts->ctx);
	PangoFontDescription *fd = S_font(ts, p->font, p->size, p->bold);
	pango_layout_set_font_description(l, fd);
	pango_font_description_free(fd);
	pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_width(l, p->width > 0 ? (int)(p->width * PANGO_SCALE + 0.5) : -1);
	pango_layout_set_indent(l, (int)(p->indent * PANGO_SCALE));
	pango_layout_set_alignment(l, p->align == TS_CENTRE ? PANGO_ALIGN_CENTER
	                              : p->align == TS_RIGHT ? PANGO_ALIGN_RIGHT
	                                                     : PANGO_ALIGN_LEFT);
	const char *text = buf_cstr(&t->text);
	pango_layout_set_text(l, text, (int)t->text.len);

	double spacing = p->letter_spacing;
	if (p->grid) {
		int n = ts->st.chars_per_line;
		spacing = (p->width - n * p->size) / (n - 1) - 0.001;
	}
	PangoAttrList *attrs = pango_attr_list_new();
	if (spacing != 0)
		pango_attr_list_insert(attrs, pango_attr_letter_spacing_new((int)(spacing * PANGO_SCALE)));
	S_copy_attrs(t->attrs, attrs);
	free(t->shifts);
	t->shifts = NULL;
	t->nshifts = 0;
	S_spacing_attrs(t, attrs, p->size, spacing, p->font != TS_MONO);
	ts_kinsoku_attrs(text, t->text.len, p->keep_last, attrs);
	pango_layout_set_attributes(l, attrs);
	pango_attr_list_unref(attrs);

	int justify = p->justify && p->align == TS_LEFT && p->width > 0;
	if (justify) {
		/* set half an em wider, then squeeze punctuation where a line
		 * overflows; when some line cannot be squeezed enough, set it at
		 * the true width */
		pango_layout_set_width(l, (int)((p->width + p->size / 2) * PANGO_SCALE + 0.5));
		if (!S_fits(l, p->width, p->indent, p->size))
			pango_layout_set_width(l, (int)(p->width * PANGO_SCALE + 0.5));
	}
	int bad = ts_first_unknown(l);
	if (bad >= 0)
		ts_report_missing(ts, t, (size_t)bad);
	S_justify(l, t, p->width, p->indent, p->size, justify);
	return l;
}

PangoLayout *ts_layout_plain(typesetter *ts, const char *s, const ts_para *p)
{
	ts_text t;
	ts_text_init(&t, p->font);
	ts_text_append(&t, s, strlen(s), 0);
	PangoLayout *l = ts_layout(ts, &t, p);
	ts_text_free(&t);
	return l;
}
