#include "harness.h"

#include <math.h>
#include <stdlib.h>

#include <cairo-pdf.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangofc-fontmap.h>
#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_OUTLINE_H
#include FT_TRUETYPE_TABLES_H
#include <zlib.h>

#include "diag.h"
#include "markdown.h"
#include "typeset_int.h"
#include "util.h"

static typesetter *S_ts;

/* The lines of s set at width characters of 16 pt, joined with '\n'. */
static char *S_lines(const char *s, int width_chars, int keep_last)
{
	ts_para p = {0};
	p.font = TS_BODY;
	p.size = 16;
	p.width = width_chars * 16 + 0.5;
	p.keep_last = keep_last;
	PangoLayout *l = ts_layout_plain(S_ts, s, &p);
	const char *text = pango_layout_get_text(l);
	buf b = BUF_INIT;
	for (int i = 0; i < pango_layout_get_line_count(l); i++) {
		PangoLayoutLine *line = pango_layout_get_line_readonly(l, i);
		if (i)
			buf_putc(&b, '\n');
		/* the layout's own text: the zero-width spaces beside quotes left out */
		for (int k = line->start_index; k < line->start_index + line->length;) {
			uint32_t cp;
			size_t n = utf8_decode(text + k, strlen(text + k), &cp);
			if (cp != 0x200B)
				buf_put(&b, text + k, n);
			k += (int)n;
		}
	}
	g_object_unref(l);
	return buf_detach(&b);
}

/* Every line of text obeys the rules: returns the first bad line or NULL. */
static const char *S_first_violation(char *text)
{
	char *line = text;
	int first = 1;
	while (line && *line) {
		char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		uint32_t cp;
		utf8_decode(line, len, &cp);
		if (!first && ts_no_line_start(cp))
			return line;
		if (len && ts_no_line_end(utf8_last(line, len)))
			return line;
		first = 0;
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

TEST(kinsoku_classes)
{
	CHECK(ts_no_line_start(0x3002)); /* 。 */
	CHECK(ts_no_line_start(0xFF0C)); /* ， */
	CHECK(ts_no_line_start(0x201D)); /* ” */
	CHECK(ts_no_line_start(0x300B)); /* 》 */
	CHECK(ts_no_line_start(0x00B7)); /* · */
	CHECK(ts_no_line_start(0x2014)); /* — */
	CHECK(ts_no_line_start(0x2026)); /* … */
	CHECK(!ts_no_line_start(0x201C));
	CHECK(ts_no_line_end(0x201C)); /* “ */
	CHECK(ts_no_line_end(0x300A)); /* 《 */
	CHECK(ts_no_line_end(0xFF08)); /* （ */
	CHECK(!ts_no_line_end(0x3002));
	CHECK(ts_is_han(0x5B89));
	CHECK(!ts_is_han(0x3002));
	CHECK(ts_is_latin('W') && ts_is_latin('7') && !ts_is_latin(0x5B89));
}

/* Pango 1.50 alone breaks before · and ——; these widths hit exactly that. */
TEST(kinsoku_breaks)
{
	static const char *const cases[] = {
		"一二三四五六七八九十·一二三四五",
		"一二三四五六七八九——一二三四五",
		"一二三四五六七八九……一二三四五",
		"一二三四五六七八九十。一二三四",
		"一二三四五六七八九十“一二三四五”六七八九十",
		"一二三四五六七八九《一二三》、（四五）：六七八？！九十",
		"马克思·恩格斯——伟大的友谊……“你好。”他说：“再见！”",
	};
	for (size_t i = 0; i < JB_ARRAY_LEN(cases); i++) {
		for (int w = 6; w <= 13; w++) {
			char *lines = S_lines(cases[i], w, 0);
			const char *bad = S_first_violation(lines);
			if (bad)
				h_fail("    case %zu at width %d breaks badly:\n%s\n", i, w, lines);
			free(lines);
		}
	}
}

TEST(dashes_stay_together)
{
	for (int w = 6; w <= 12; w++) {
		char *lines = S_lines("一二三四五六七八九——一二三四五", w, 0);
		CHECK(strstr(lines, "—\n—") == NULL);
		free(lines);
		lines = S_lines("一二三四五六七八九……一二三四五", w, 0);
		CHECK(strstr(lines, "…\n…") == NULL);
		free(lines);
	}
}

TEST(no_single_character_last_line)
{
	char *lines = S_lines("一二三四五六七八九十一", 10, 0);
	CHECK_STR(lines, "一二三四五六七八九十\n一");
	free(lines);
	lines = S_lines("一二三四五六七八九十一", 10, 1);
	CHECK_STR(lines, "一二三四五六七八九\n十一");
	free(lines);
	lines = S_lines("一二三四五六七八九十一。", 10, 1);
	CHECK_STR(lines, "一二三四五六七八九\n十一。");
	free(lines);
}

/* Pango 1.50 allows no break next to “ ” at all (UAX #14 LB19): the line
 * before a quotation was cut short.  A break before “ and after ” is
 * fine in Chinese as long as the marks stay with their words. */
TEST(breaks_around_quotes)
{
	char *lines = S_lines("一二三四五六七八九“十一”二三", 10, 0);
	CHECK_STR(lines, "一二三四五六七八九\n“十一”二三");
	free(lines);
	lines = S_lines("一二三四五六“七八”十一二三", 10, 0);
	CHECK_STR(lines, "一二三四五六“七八”\n十一二三");
	free(lines);
	/* the marks never leave their words: “ does not end a line, ” does
	 * not start one */
	lines = S_lines("一二三四五六七八“九十”一二三", 9, 0);
	CHECK_STR(lines, "一二三四五六七八\n“九十”一二三");
	free(lines);
	lines = S_lines("一二三四五六七“八九”十一二三", 9, 0);
	CHECK_STR(lines, "一二三四五六七“八\n九”十一二三");
	free(lines);
	/* only beside Han characters, and not in code */
	ts_text t;
	ts_text_init(&t, TS_BODY);
	ts_text_append(&t, "设“高”课", strlen("设“高”课"), 0);
	CHECK_STR(buf_cstr(&t.text), "设\xE2\x80\x8B“高”\xE2\x80\x8B课");
	ts_text_free(&t);
	ts_text_init(&t, TS_BODY);
	ts_text_append(&t, "设", strlen("设"), 0); /* across appends (emphasis) */
	ts_text_append(&t, "“高”", strlen("“高”"), 0);
	ts_text_append(&t, "课", strlen("课"), 0);
	CHECK_STR(buf_cstr(&t.text), "设\xE2\x80\x8B“高”\xE2\x80\x8B课");
	ts_text_free(&t);
	ts_text_init(&t, TS_BODY);
	ts_text_append(&t, "A“B”，“高”。", strlen("A“B”，“高”。"), 0);
	CHECK_STR(buf_cstr(&t.text), "A“B”，“高”。");
	ts_text_free(&t);
	ts_text_init(&t, TS_MONO);
	ts_text_append(&t, "设“高”课", strlen("设“高”课"), 0);
	CHECK_STR(buf_cstr(&t.text), "设“高”课");
	ts_text_free(&t);
}

/* The x and width (pt) of the character at byte index in layout l. */
static void S_char_box(PangoLayout *l, int index, double *x, double *w)
{
	PangoRectangle r;
	pango_layout_index_to_pos(l, index, &r);
	*x = r.x / (double)PANGO_SCALE;
	*w = r.width / (double)PANGO_SCALE;
}

/* A line-end ，is set half width only when that lets an overflowing line
 * keep its characters; a line that fills the measure keeps it full width
 * on the grid. */
TEST(line_end_punctuation)
{
	ts_para p = {0};
	p.font = TS_BODY;
	p.size = 16;
	p.width = 10 * 16 + 0.5;
	p.justify = 1;
	/* 七 “八” ， : 10.5 em with the ” compressed against ，; the ， gives up
	 * its blank half and the line is exactly 10 em */
	const char *over = "一二三四五六七“八”，九十一二三四五六七八九十";
	PangoLayout *l = ts_layout_plain(S_ts, over, &p);
	const char *text = pango_layout_get_text(l);
	PangoLayoutLine *line = pango_layout_get_line_readonly(l, 0);
	const char *comma = strstr(text, "，");
	CHECK(comma && comma - text < line->start_index + line->length);
	double x, w;
	S_char_box(l, (int)(comma - text), &x, &w);
	CHECK(w < 9); /* half its em, less what the measure's extra 0.5 pt gives back */
	CHECK(fabs(x + w - p.width) < 0.1);
	g_object_unref(l);
	/* ten characters ending in ，fill the line: ， keeps its full em */
	const char *full = "一二三四五六七八九，十一二三四五六七八九十";
	l = ts_layout_plain(S_ts, full, &p);
	text = pango_layout_get_text(l);
	comma = strstr(text, "，");
	S_char_box(l, (int)(comma - text), &x, &w);
	CHECK(fabs(w - 16) < 0.05);
	CHECK(fabs(x - 144) < 0.6);
	g_object_unref(l);
}

TEST(kinsoku_attr_ranges)
{
	PangoAttrList *a = pango_attr_list_new();
	const char *s = "一“二”三。";
	/* after “, before ”, before 。: two ranges (“二” joins into one) */
	CHECK_INT(ts_kinsoku_attrs(s, strlen(s), 0, a), 2);
	pango_attr_list_unref(a);
	a = pango_attr_list_new();
	CHECK_INT(ts_kinsoku_attrs("abc", 3, 0, a), 0);
	pango_attr_list_unref(a);
}

TEST(grid_arithmetic)
{
	print_style st;
	print_style_defaults(&st);
	CHECK(fabs(ts_grid_pitch(&st) - 28.99) < 0.01);
	CHECK(fabs(ts_grid_advance(&st) - 15.79) < 0.01);
	CHECK(fabs(st.margin_top + st.text_height + 35 - 297) < 1e-9);   /* bottom margin 35 mm */
	CHECK(fabs(st.margin_left + st.text_width + 26 - 210) < 1e-9);   /* right margin 26 mm */
	print_style_free(&st);

	/* 28 characters fill a body line exactly; the 29th wraps */
	ts_para p = {0};
	p.font = TS_BODY;
	p.size = 16;
	p.width = 156 * TS_MM;
	p.grid = 1;
	const char *s28 = "一二三四五六七八九十一二三四五六七八九十一二三四五六七八";
	PangoLayout *l = ts_layout_plain(S_ts, s28, &p);
	CHECK_INT(pango_layout_get_line_count(l), 1);
	PangoRectangle r;
	pango_layout_get_extents(l, NULL, &r);
	CHECK(fabs(r.width / (double)PANGO_SCALE - 156 * TS_MM) < 0.1);
	g_object_unref(l);
	char *s29 = xasprintf("%s九", s28);
	l = ts_layout_plain(S_ts, s29, &p);
	CHECK_INT(pango_layout_get_line_count(l), 2);
	g_object_unref(l);
	free(s29);
}

TEST(han_latin_quarter_em)
{
	ts_para p = {0};
	p.font = TS_BODY;
	p.size = 16;
	p.width = -1;
	/* 是 gets 4 pt (¼ em) after it, none before */
	PangoLayout *plain = ts_layout_plain(S_ts, "的是的是的", &p);
	PangoLayout *mixed = ts_layout_plain(S_ts, "的是2的是的", &p);
	PangoRectangle a, b;
	pango_layout_index_to_pos(mixed, 6, &b); /* "2" */
	pango_layout_index_to_pos(plain, 6, &a); /* the second 的 */
	CHECK(fabs((b.x - a.x) / (double)PANGO_SCALE - 4) < 0.05);
	g_object_unref(plain);
	g_object_unref(mixed);
}

TEST(missing_glyph_is_an_error)
{
	buf out = BUF_INIT;
	diag_reset();
	diag_capture(&out);
	print_doc d = {0};
	d.file = "content/bulletins/2024/09.md";
	S_ts->doc = &d;
	ts_text t;
	ts_text_init(&t, TS_BODY);
	ts_text_append(&t, "第一行", strlen("第一行"), 12);
	ts_text_append(&t, "有\xF0\x93\x80\x80字", strlen("有\xF0\x93\x80\x80字"), 13);
	ts_para p = {0};
	p.font = TS_BODY;
	p.size = 16;
	p.width = 400;
	PangoLayout *l = ts_layout(S_ts, &t, &p);
	g_object_unref(l);
	ts_text_free(&t);
	S_ts->doc = NULL;
	diag_capture(NULL);
	CHECK_STR(buf_cstr(&out),
	          "content/bulletins/2024/09.md:13: error: no font has the character '\xF0\x93\x80\x80' (U+13000)\n");
	CHECK_INT(diag_errors(), 1);
	diag_reset();
	S_ts->errors = 0;
	buf_free(&out);
}

static int S_has(const char *data, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= len; i++)
		if (!memcmp(data + i, needle, n))
			return 1;
	return 0;
}

static char *S_pdf(const char *md, int *pages, size_t *len)
{
	md_doc m = {0};
	md_parse(&m, md, strlen(md), 0);
	md_normalize(&m);
	print_doc d = {0};
	d.kind = PRINT_BULLETIN;
	d.series = "继续教育网络园区工作简报";
	d.issue_line = "2024年第1期 总第46期";
	d.title = "测试";
	d.guidance = "省教育厅高教处";
	d.editor = "网络园区管理中心";
	d.body = m.root;
	d.file = "t.md";
	d.first_line = 1;
	d.created = "2024-01-11T00:00:00Z";
	buf b = BUF_INIT;
	*pages = typeset_pdf(S_ts, &d, &b);
	md_doc_free(&m);
	*len = b.len;
	return buf_detach(&b);
}

TEST(pdf_bytes_are_reproducible)
{
	int p1, p2;
	size_t n1, n2;
	const char *md = "正文，**加粗**与[链接](https://example.org/)。\n\n| 甲 | 乙 |\n|---|---|\n| 1 | 2 |\n";
	char *a = S_pdf(md, &p1, &n1);
	char *b = S_pdf(md, &p2, &n2);
	CHECK_INT(p1, 1);
	CHECK(!strncmp(a, "%PDF-", 5));
	CHECK(n1 == n2 && !memcmp(a, b, n1));
	CHECK(S_has(a, n1, "/URI (https://example.org/)"));
	CHECK(S_has(a, n1, "/CreationDate (20240111000000"));
	free(a);
	free(b);
}

TEST(volume_has_cover_contents_and_issues)
{
	md_doc m1 = {0}, m2 = {0};
	const char *a = "第一期正文。\n\n## 一、小节\n\n正文。\n";
	const char *b = "第二期正文。\n";
	md_parse(&m1, a, strlen(a), 0);
	md_parse(&m2, b, strlen(b), 0);
	md_normalize(&m1);
	md_normalize(&m2);
	print_doc d1 = {0}, d2 = {0};
	d1.series = d2.series = "继续教育网络园区工作简报";
	d1.issue_line = "2024年第1期 总第46期";
	d2.issue_line = "2024年第2期 总第47期";
	d1.title = "第一期";
	d2.title = "第二期";
	d1.body = m1.root;
	d2.body = m2.root;
	d1.file = "a.md";
	d2.file = "b.md";
	const print_doc *issues[] = {&d1, &d2};
	print_volume v = {0};
	v.title = "继续教育网络园区工作简报";
	v.subtitle = "2024年合订本";
	v.issues = issues;
	v.nissues = 2;
	v.created = "2024-12-31T00:00:00Z";
	buf out = BUF_INIT, again = BUF_INIT;
	/* cover, contents, issue 1 (page 1), a blank back (page 2), issue 2 (page 3) */
	CHECK_INT(typeset_volume(S_ts, &v, &out), 5);
	CHECK_INT(typeset_volume(S_ts, &v, &again), 5);
	CHECK(out.len == again.len && !memcmp(out.ptr, again.ptr, out.len));
	CHECK(S_has(out.ptr, out.len, "/Outlines"));
	buf_free(&out);
	buf_free(&again);
	md_doc_free(&m1);
	md_doc_free(&m2);
}

static cairo_status_t S_collect(void *closure, const unsigned char *data, unsigned int len)
{
	buf_put(closure, data, len);
	return CAIRO_STATUS_SUCCESS;
}

/* A PDF straight from cairo: text in the body font with a link. */
static void S_cairo_pdf(buf *out)
{
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(S_collect, out, 595, 842);
	cairo_t *cr = cairo_create(s);
	PangoLayout *l = pango_cairo_create_layout(cr);
	PangoFontDescription *fd = pango_font_description_from_string("Noto Serif CJK SC 16");
	pango_layout_set_font_description(l, fd);
	pango_layout_set_width(l, 450 * PANGO_SCALE);
	pango_layout_set_text(l, "安徽高校继续教育合作联盟（以下简称联盟）于2020年12月正式成立。自成立以来，"
	                         "联盟成员单位始终以章程为准则，秉承“资源共享、优势互补”的宗旨，围绕职责积极探索、"
	                         "不断实践，在课程资源共建共享、学分认定与转换等方面取得了积极成效。ABC abc 123",
	                      -1);
	cairo_move_to(cr, 72, 72);
	cairo_tag_begin(cr, CAIRO_TAG_LINK, "uri='https://example.org/' rect=[72 72 100 20]");
	cairo_tag_end(cr, CAIRO_TAG_LINK);
	pango_cairo_show_layout(cr, l);
	pango_font_description_free(fd);
	g_object_unref(l);
	cairo_destroy(cr);
	cairo_surface_finish(s);
	cairo_surface_destroy(s);
}

/* The first CIDFontType0C font program of pdf, inflated. */
static int S_cff_of(const buf *pdf, buf *cff)
{
	const char *p = pdf->ptr, *end = pdf->ptr + pdf->len;
	const char *at = NULL;
	for (const char *q = p; q + 23 < end && !at; q++)
		if (!memcmp(q, "/Subtype /CIDFontType0C", 23))
			at = q;
	for (; at && at + 7 < end; at++)
		if (!memcmp(at, "stream\n", 7))
			break;
	if (!at || at + 7 >= end)
		return -1;
	z_stream z = {0};
	inflateInit(&z);
	z.next_in = (unsigned char *)(uintptr_t)(at + 7);
	z.avail_in = (uInt)(end - at - 7);
	int rc;
	do {
		buf_grow(cff, 65536);
		z.next_out = (unsigned char *)cff->ptr + cff->len;
		z.avail_out = 65536;
		rc = inflate(&z, Z_NO_FLUSH);
		cff->len += 65536 - z.avail_out;
	} while (rc == Z_OK);
	inflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

/* 1 when glyph g has the same outline in both faces: unscaled, and hinted
 * at 16 pixels (the stem hints at work). */
static int S_same_glyph(FT_Face a, FT_Face b, unsigned g)
{
	const FT_Int32 modes[2] = {FT_LOAD_NO_SCALE | FT_LOAD_NO_HINTING, FT_LOAD_NO_AUTOHINT};
	for (int m = 0; m < 2; m++) {
		if (FT_Load_Glyph(a, g, modes[m]) || FT_Load_Glyph(b, g, modes[m]))
			return 0;
		FT_Outline *x = &a->glyph->outline, *y = &b->glyph->outline;
		if (a->glyph->advance.x != b->glyph->advance.x || x->n_points != y->n_points ||
		    x->n_contours != y->n_contours ||
		    memcmp(x->points, y->points, (size_t)x->n_points * sizeof *x->points) ||
		    memcmp(x->tags, y->tags, (size_t)x->n_points) ||
		    memcmp(x->contours, y->contours, (size_t)x->n_contours * sizeof *x->contours))
			return 0;
	}
	return 1;
}

/* Every in-use entry of the cross-reference table points at its object. */
static int S_xref_ok(const buf *pdf)
{
	const char *p = pdf->ptr;
	const char *sx = NULL;
	for (size_t i = pdf->len - 9; i > pdf->len - 64; i--)
		if (!memcmp(p + i, "startxref", 9))
			sx = p + i;
	if (!sx)
		return 0;
	size_t xref = strtoul(sx + 9, NULL, 10);
	if (strncmp(p + xref, "xref\n0 ", 7))
		return 0;
	char *e;
	unsigned long count = strtoul(p + xref + 7, &e, 10);
	for (unsigned long i = 0; i < count; i++) {
		const char *r = e + 1 + i * 20;
		if (r[17] != 'n')
			continue;
		char head[32];
		int n = snprintf(head, sizeof head, "%lu 0 obj", i);
		size_t at = strtoul(r, NULL, 10);
		if (at + (size_t)n > pdf->len || memcmp(p + at, head, (size_t)n))
			return 0;
	}
	return 1;
}

TEST(fonts_without_subroutines)
{
	buf raw = BUF_INIT, cff = BUF_INIT, flat = BUF_INIT;
	S_cairo_pdf(&raw);
	CHECK_INT(S_cff_of(&raw, &cff), 0);
	CHECK_INT(ts_cff_flatten((const unsigned char *)cff.ptr, cff.len, &flat), 0);
	CHECK(flat.len > 0 && flat.len < cff.len);
	/* FreeType reads both font programs as the same glyphs */
	FT_Library ft;
	FT_Face a = NULL, b = NULL;
	CHECK(FT_Init_FreeType(&ft) == 0);
	CHECK(FT_New_Memory_Face(ft, (const FT_Byte *)cff.ptr, (FT_Long)cff.len, 0, &a) == 0);
	CHECK(FT_New_Memory_Face(ft, (const FT_Byte *)flat.ptr, (FT_Long)flat.len, 0, &b) == 0);
	if (a && b) {
		CHECK(a->num_glyphs > 50 && a->num_glyphs == b->num_glyphs);
		CHECK(FT_Set_Pixel_Sizes(a, 0, 16) == 0 && FT_Set_Pixel_Sizes(b, 0, 16) == 0);
		int same = 0;
		for (FT_Long g = 0; g < a->num_glyphs; g++)
			same += S_same_glyph(a, b, (unsigned)g);
		CHECK_INT(same, a->num_glyphs);
	}
	FT_Done_Face(a);
	FT_Done_Face(b);
	FT_Done_FreeType(ft);
	/* not a font program cairo writes: left alone */
	size_t before = flat.len;
	CHECK_INT(ts_cff_flatten((const unsigned char *)"\1\0\4\4", 4, &flat), -1);
	CHECK_INT(ts_cff_flatten((const unsigned char *)cff.ptr, cff.len / 2, &flat), -1);
	CHECK(flat.len == before);

	/* the PDF: the font replaced, smaller, every object where the table says */
	buf pdf = BUF_INIT;
	buf_put(&pdf, raw.ptr, raw.len);
	CHECK_INT(ts_pdf_flatten_fonts(&pdf), 2); /* the font program and the widths */
	CHECK(pdf.len < raw.len);
	CHECK(S_xref_ok(&pdf));
	CHECK(S_has(pdf.ptr, pdf.len, "/URI (https://example.org/)"));
	buf again = BUF_INIT;
	CHECK_INT(S_cff_of(&pdf, &again), 0);
	CHECK(again.len == flat.len && !memcmp(again.ptr, flat.ptr, flat.len));
	/* anything else is left as it is */
	buf junk = BUF_INIT;
	buf_put(&junk, raw.ptr, raw.len / 2);
	CHECK_INT(ts_pdf_flatten_fonts(&junk), 0);
	CHECK(junk.len == raw.len / 2 && !memcmp(junk.ptr, raw.ptr, junk.len));
	buf_free(&junk);
	buf_free(&again);
	buf_free(&pdf);
	buf_free(&raw);
	buf_free(&cff);
	buf_free(&flat);
}

/* The file and face fontconfig gives family in cfg (NULL: the system's). */
static char *S_font_file(FcConfig *cfg, const char *family, int *index)
{
	FcPattern *pat = FcNameParse((const FcChar8 *)family);
	FcConfigSubstitute(cfg, pat, FcMatchPattern);
	FcDefaultSubstitute(pat);
	FcResult res;
	FcPattern *m = FcFontMatch(cfg, pat, &res);
	FcPatternDestroy(pat);
	FcChar8 *file = NULL;
	char *out = NULL;
	if (m && FcPatternGetString(m, FC_FILE, 0, &file) == FcResultMatch &&
	    FcPatternGetInteger(m, FC_INDEX, 0, index) == FcResultMatch)
		out = xstrdup((const char *)file);
	if (m)
		FcPatternDestroy(m);
	return out;
}

/* Every glyph of every CIDFontType0C font program of pdf is a real one
 * (no stand-in of a font copy): 1, or 0. */
static int S_glyphs_real(const buf *pdf)
{
	int fonts = 0;
	for (size_t at = 0; at < pdf->len;) {
		const char *q = NULL;
		for (size_t i = at; !q && i + 23 <= pdf->len; i++)
			if (!memcmp(pdf->ptr + i, "/Subtype /CIDFontType0C", 23))
				q = pdf->ptr + i;
		if (!q)
			break;
		at = (size_t)(q - pdf->ptr) + 23;
		buf rest = BUF_INIT, cff = BUF_INIT;
		buf_put(&rest, q, pdf->len - (size_t)(q - pdf->ptr));
		int ok = S_cff_of(&rest, &cff) == 0;
		unsigned char *keep = xcalloc(65536, 1);
		size_t n = ok ? ts_cff_kept((const unsigned char *)cff.ptr, cff.len, keep, 65536) : 0;
		for (size_t g = 0; g < n; g++)
			ok = ok && keep[g];
		free(keep);
		buf_free(&rest);
		buf_free(&cff);
		if (!ok || !n)
			return 0;
		fonts++;
	}
	return fonts > 0;
}

TEST(font_files_without_subroutines)
{
	int index = 0;
	char *path = S_font_file(NULL, "Noto Serif CJK SC", &index);
	CHECK(path != NULL);
	char *data = NULL;
	size_t len = 0;
	CHECK(path && file_read(path, &data, &len) == 0);
	buf otf = BUF_INIT, part = BUF_INIT;
	CHECK_INT(ts_font_flatten((const unsigned char *)data, len, index, NULL, 0, &otf), 0);
	unsigned char *keep = xcalloc(65536, 1), *kept = xcalloc(65536, 1), *gb = xcalloc(65536, 1);
	size_t n = ts_font_glyphs((const unsigned char *)data, len, index, TS_TIER_CJK, keep, 65536);
	CHECK(n > 20000);
	/* the GB 2312 copy: fewer glyphs, all of them in the other copy */
	CHECK_INT((long)ts_font_glyphs((const unsigned char *)data, len, index, TS_TIER_GB, gb, 65536), (long)n);
	size_t nkeep = 0, ngb = 0, extra = 0;
	for (size_t g = 0; g < n; g++) {
		nkeep += keep[g];
		ngb += gb[g];
		extra += gb[g] && !keep[g];
	}
	CHECK(ngb > 7000 && ngb < nkeep / 2 && nkeep > 20000);
	CHECK_INT((long)extra, 0);
	free(gb);
	CHECK_INT(ts_font_flatten((const unsigned char *)data, len, index, keep, n, &part), 0);
	CHECK(part.len > 0 && part.len < otf.len / 2);
	/* the same glyphs, outlines, hints, advances and character map; the
	 * copy has those of Chinese text and empty stand-ins for the others */
	FT_Library ft;
	FT_Face a = NULL, b = NULL, c = NULL;
	CHECK(FT_Init_FreeType(&ft) == 0);
	CHECK(FT_New_Memory_Face(ft, (const FT_Byte *)data, (FT_Long)len, index, &a) == 0);
	CHECK(FT_New_Memory_Face(ft, (const FT_Byte *)otf.ptr, (FT_Long)otf.len, 0, &b) == 0);
	CHECK(FT_New_Memory_Face(ft, (const FT_Byte *)part.ptr, (FT_Long)part.len, 0, &c) == 0);
	if (a && b && c) {
		CHECK(a->num_glyphs > 1000 && a->num_glyphs == b->num_glyphs && a->num_glyphs == c->num_glyphs);
		CHECK_INT((long)n, a->num_glyphs);
		CHECK_STR(b->family_name, a->family_name);
		CHECK_STR(c->family_name, a->family_name);
		CHECK(FT_Set_Pixel_Sizes(a, 0, 16) == 0 && FT_Set_Pixel_Sizes(b, 0, 16) == 0 &&
		      FT_Set_Pixel_Sizes(c, 0, 16) == 0);
		int same = 0, tried = 0, empty = 0, stood_in = 0;
		for (FT_Long g = 0; g < a->num_glyphs; g += 97, tried++) {
			same += S_same_glyph(a, b, (unsigned)g);
			if (keep[g])
				same += S_same_glyph(a, c, (unsigned)g) - 1;
			else if (FT_Load_Glyph(c, (unsigned)g, FT_LOAD_NO_SCALE) == 0 && c->glyph->outline.n_points == 0)
				empty++;
			stood_in += !keep[g];
		}
		CHECK_INT(same, tried);
		CHECK(stood_in > 100);
		CHECK_INT(empty, stood_in);
		const char *text = "继续教育合作联盟，“资源共享”。ABC abc 123";
		for (size_t i = 0; text[i];) {
			uint32_t cp;
			i += utf8_decode(text + i, strlen(text + i), &cp);
			FT_UInt g = FT_Get_Char_Index(a, cp);
			CHECK(g != 0 && g == FT_Get_Char_Index(b, cp) && S_same_glyph(a, b, g));
			CHECK(keep[g] && g == FT_Get_Char_Index(c, cp) && S_same_glyph(a, c, g));
		}
		CHECK(!keep[FT_Get_Char_Index(a, 0xD55C)]); /* 한: not Chinese */
		FT_ULong na = 0, nb = 0;
		CHECK(FT_Load_Sfnt_Table(a, FT_MAKE_TAG('G', 'S', 'U', 'B'), 0, NULL, &na) == 0 &&
		      FT_Load_Sfnt_Table(c, FT_MAKE_TAG('G', 'S', 'U', 'B'), 0, NULL, &nb) == 0 && na == nb);
	}
	FT_Done_Face(a);
	FT_Done_Face(b);
	FT_Done_Face(c);
	FT_Done_FreeType(ft);
	/* which glyphs the copy has, read back from it */
	FT_ULong cff_len = 0;
	CHECK(FT_Init_FreeType(&ft) == 0);
	CHECK(FT_New_Memory_Face(ft, (const FT_Byte *)part.ptr, (FT_Long)part.len, 0, &c) == 0);
	CHECK(FT_Load_Sfnt_Table(c, FT_MAKE_TAG('C', 'F', 'F', ' '), 0, NULL, &cff_len) == 0);
	unsigned char *cff = xmalloc(cff_len);
	CHECK(FT_Load_Sfnt_Table(c, FT_MAKE_TAG('C', 'F', 'F', ' '), 0, cff, &cff_len) == 0);
	CHECK_INT((long)ts_cff_kept(cff, cff_len, kept, 65536), (long)n);
	CHECK(!memcmp(keep, kept, n));
	CHECK_INT(ts_cff_has_subrs(cff, cff_len), 0);
	free(cff);
	FT_Done_Face(c);
	FT_Done_FreeType(ft);
	/* no OpenType CFF face: nothing */
	size_t before = otf.len;
	CHECK_INT(ts_font_flatten((const unsigned char *)data, len, 999, NULL, 0, &otf), -1);
	CHECK_INT(ts_font_flatten((const unsigned char *)data, 64, index, NULL, 0, &otf), -1);
	CHECK(otf.len == before);
	free(keep);
	free(kept);
	free(data);
	buf_free(&otf);
	buf_free(&part);

	/* the typesetter reads its copy, named after the font file */
	const char *suffix[TS_TIERS] = {NULL, "-cjk-", "-gb-"};
	for (int tier = TS_TIER_CJK; tier < TS_TIERS; tier++) {
		FcConfig *cfg = pango_fc_font_map_get_config(PANGO_FC_FONT_MAP(S_ts->fontmaps[tier]));
		int flat_index = -1;
		char *flat = S_font_file(cfg, "Noto Serif CJK SC", &flat_index);
		CHECK(flat && strstr(flat, "/jianbao/fonts/NotoSerifCJK-") && str_ends_with(flat, ".otf"));
		CHECK(flat && strstr(flat, suffix[tier]));
		CHECK_INT(flat_index, 0);
		free(flat);
	}
	free(path);
}

TEST(font_copies_cover_chinese_text)
{
	CHECK_INT(ts_font_tier("继续教育“合作”联盟（2024）——①ABC abc é α ア", TS_TIER_GB), TS_TIER_GB);
	CHECK_INT(ts_font_tier(NULL, TS_TIER_GB), TS_TIER_GB);
	CHECK_INT(ts_font_tier("张喆、王堃", TS_TIER_GB), TS_TIER_CJK); /* not in GB 2312 */
	CHECK_INT(ts_font_tier("正文", TS_TIER_CJK), TS_TIER_CJK);
	CHECK_INT(ts_font_tier("한국어", TS_TIER_GB), TS_TIER_SYSTEM);
	CHECK_INT(ts_font_tier("\xf0\xa0\x80\x80", TS_TIER_GB), TS_TIER_SYSTEM); /* U+20000 */
	CHECK_INT(ts_font_tier("葛\xef\xb8\x80", TS_TIER_GB), TS_TIER_SYSTEM); /* a variation selector */
	/* a line with a glyph the copy leaves empty is noticed */
	CHECK(S_ts->ctxs[TS_TIER_GB] != NULL);
	const char *texts[] = {"中文，“标点”。", "中文한국어", "张喆"};
	for (int i = 0; i < 3; i++) {
		PangoLayout *l = pango_layout_new(S_ts->ctxs[TS_TIER_GB]);
		pango_layout_set_font_description(l, S_ts->fonts[TS_BODY]);
		pango_layout_set_text(l, texts[i], -1);
		ts_font_use(S_ts->configs[TS_TIER_GB]);
		typeset_check_layout(l);
		CHECK_INT(ts_font_missed(), i > 0);
		g_object_unref(l);
	}
	ts_font_use(NULL);
	/* a document with Korean: the system's font, real glyphs */
	int pages;
	size_t len;
	char *pdf = S_pdf("正文与한국어。\n", &pages, &len);
	CHECK_INT(pages, 1);
	buf b = {pdf, len, len + 1};
	CHECK(S_glyphs_real(&b));
	free(pdf);
	const char *mds[] = {"正文，**加粗**。\n\n## 一、标题\n\n`code` 与 *强调*\n", "张喆与王堃。\n"};
	for (int i = 0; i < 2; i++) {
		pdf = S_pdf(mds[i], &pages, &len);
		b = (buf){pdf, len, len + 1};
		CHECK(S_glyphs_real(&b));
		free(pdf);
	}
}

static int S_block_calls;

/* Draws Korean in the typesetter's current fonts, as a chart could. */
static int S_korean_block(void *ctx, cmark_node *n, cairo_t *cr, double width, double *height)
{
	*height = 40;
	if (!cr)
		return 0;
	S_block_calls++;
	diag_warning("t.md", 1, 0, "a block drawn");
	PangoLayout *l = pango_layout_new(S_ts->ctx);
	pango_layout_set_font_description(l, S_ts->fonts[TS_BODY]);
	pango_layout_set_text(l, "한국어", -1);
	typeset_check_layout(l);
	pango_cairo_show_layout(cr, l);
	g_object_unref(l);
	return 0;
}

TEST(glyph_a_copy_lacks_sets_the_document_again)
{
	md_doc m = {0};
	const char *md = "正文。\n\n```chart\nbar\n```\n";
	md_parse(&m, md, strlen(md), 0);
	md_normalize(&m);
	print_doc d = {0};
	d.kind = PRINT_BULLETIN;
	d.title = "测试";
	d.body = m.root;
	d.file = "t.md";
	d.created = "2024-01-11T00:00:00Z";
	d.draw_block = S_korean_block;
	buf out = BUF_INIT, b = BUF_INIT;
	diag_reset();
	diag_capture(&out);
	S_block_calls = 0;
	int pages = typeset_pdf(S_ts, &d, &b);
	diag_capture(NULL);
	CHECK_INT(pages, 1);
	CHECK_INT(S_block_calls, 2); /* with the copies, then the system's fonts */
	CHECK_INT(diag_warnings(), 1); /* reported once */
	CHECK_STR(buf_cstr(&out), "t.md:1: warning: a block drawn\n");
	CHECK_INT(diag_errors(), 0);
	CHECK(S_glyphs_real(&b));
	diag_reset();
	md_doc_free(&m);
	buf_free(&b);
	buf_free(&out);
}

TEST(style_from_lua)
{
	print_style s;
	const char *code = "return { fonts = { body = { 'Noto Serif CJK SC', 'Noto Sans CJK SC' } },\n"
	                   "  sizes = { body = 15 }, page = { top = 30, lines = 20 },\n"
	                   "  colours = { red = '#FF0000' } }\n";
	CHECK_INT(print_style_load(&s, "print.lua", code, strlen(code)), 0);
	CHECK_STR(s.font_body, "Noto Serif CJK SC, Noto Sans CJK SC");
	CHECK(s.size_body == 15 && s.margin_top == 30 && s.lines_per_page == 20);
	CHECK_INT(s.red, 0xFF0000);
	CHECK(s.size_title == 22); /* untouched: the default */
	print_style_free(&s);

	buf out = BUF_INIT;
	diag_capture(&out);
	code = "return { sizes = { body = 'big' } }";
	CHECK_INT(print_style_load(&s, "print.lua", code, strlen(code)), -1);
	diag_capture(NULL);
	CHECK_CONTAINS(buf_cstr(&out), "print.lua: error: print.sizes.body must be a number");
	CHECK(s.size_body == 16);
	print_style_free(&s);
	buf_free(&out);
	diag_reset();
}

TEST(helpers)
{
	char *s = typeset_date_cn("2024-01-11");
	CHECK_STR(s, "2024年1月11日");
	free(s);
	CHECK(typeset_date_cn("yesterday") == NULL);
	s = typeset_issue_line(2024, 1, 46);
	CHECK_STR(s, "2024年第1期 总第46期");
	free(s);
	s = typeset_issue_line(0, 0, 300);
	CHECK_STR(s, "总第300期");
	free(s);
}

int main(void)
{
	h_suite = "typeset";
	S_ts = typeset_new(NULL);
	RUN(kinsoku_classes);
	RUN(kinsoku_breaks);
	RUN(dashes_stay_together);
	RUN(no_single_character_last_line);
	RUN(breaks_around_quotes);
	RUN(line_end_punctuation);
	RUN(kinsoku_attr_ranges);
	RUN(grid_arithmetic);
	RUN(han_latin_quarter_em);
	RUN(missing_glyph_is_an_error);
	RUN(pdf_bytes_are_reproducible);
	RUN(volume_has_cover_contents_and_issues);
	RUN(fonts_without_subroutines);
	RUN(font_files_without_subroutines);
	RUN(font_copies_cover_chinese_text);
	RUN(glyph_a_copy_lacks_sets_the_document_again);
	RUN(style_from_lua);
	RUN(helpers);
	typeset_free(S_ts);
	return HARNESS_DONE();
}
