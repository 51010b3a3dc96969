/* Chart specs, drawing and the text around them.  With JB_CHART_OUT=DIR
 * set, every chart type is also written to DIR as NAME.png, NAME@2x.png and
 * one A4 PDF (charts.pdf) to look at. */
#define _GNU_SOURCE
#include "harness.h"

#include <cairo-pdf.h>
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <time.h>

#include "chart.h"
#include "diag.h"
#include "series.h"
#include "util.h"

static buf S_diag;
static series *S_members, *S_centres, *S_empty, *S_gaps;

/* Real figures from the bulletins: members of the alliance (2022年第10期,
 * 2024年第1期, 2026年第2期) and the certification centres (2024年第1期). */
static const char S_members_csv[] = "年份,成员单位数[所],source,note\n"
                                    "2020,52,2022/10,联盟成立\n"
                                    "2022,59,2022/10,\n"
                                    "2023,64,2024/01,\n"
                                    "2025,70,2026/02,\n";
static const char S_centres_csv[] = "类别,数量[个],source\n"
                                    "高校认证服务中心,77,2024/01\n"
                                    "地方认证服务中心,17,2024/01\n"
                                    "中职、技工院校试点认证中心,4,2024/01\n"
                                    "县级、高校认证服务分中心,13,2024/01\n";

static const series *S_find(void *ctx, const char *id)
{
	(void)ctx;
	if (strcmp(id, "members") == 0)
		return S_members;
	if (strcmp(id, "centres") == 0)
		return S_centres;
	if (strcmp(id, "empty") == 0)
		return S_empty;
	if (strcmp(id, "gaps") == 0)
		return S_gaps;
	return NULL;
}

/* Parses a chart block starting at line 10 of content/bulletins/2024/01.md,
 * diagnostics captured in S_diag. */
static chart *S_parse(const char *yaml)
{
	buf_truncate(&S_diag, 0);
	diag_capture(&S_diag);
	chart *c = chart_parse("content/bulletins/2024/01.md", 10, yaml, strlen(yaml), S_find, NULL);
	diag_capture(NULL);
	return c;
}

static int S_check(const chart *c)
{
	buf_truncate(&S_diag, 0);
	diag_capture(&S_diag);
	int rc = chart_check(c, "x.lua", 3, 5);
	diag_capture(NULL);
	return rc;
}

/* A decoded PNG as 8-bit RGB. */
typedef struct S_image {
	unsigned w, h;
	unsigned char *rgb;
} S_image;

static int S_decode(const buf *png, S_image *img)
{
	png_image im;
	memset(&im, 0, sizeof im);
	im.version = PNG_IMAGE_VERSION;
	img->rgb = NULL;
	if (!png_image_begin_read_from_memory(&im, png->ptr, png->len))
		return -1;
	im.format = PNG_FORMAT_RGB;
	img->w = im.width;
	img->h = im.height;
	img->rgb = xmalloc(PNG_IMAGE_SIZE(im));
	if (!png_image_finish_read(&im, NULL, img->rgb, 0, NULL)) {
		free(img->rgb);
		img->rgb = NULL;
		return -1;
	}
	return 0;
}

/* The pixel at CSS position (x, y) of an image rendered at scale. */
static const unsigned char *S_px(const S_image *img, double scale, double x, double y)
{
	long px = (long)floor(x * scale), py = (long)floor(y * scale);
	if (px < 0 || py < 0 || px >= (long)img->w || py >= (long)img->h)
		return (const unsigned char *)"\0\0\0";
	return img->rgb + ((size_t)py * img->w + (size_t)px) * 3;
}

static int S_near(const unsigned char *p, unsigned r, unsigned g, unsigned b, unsigned tol)
{
	return abs((int)p[0] - (int)r) <= (int)tol && abs((int)p[1] - (int)g) <= (int)tol &&
	       abs((int)p[2] - (int)b) <= (int)tol;
}

#define IS_BLUE(p) S_near(p, 0x00, 0x72, 0xB2, 12)
#define IS_WHITE(p) S_near(p, 255, 255, 255, 3)

static int S_render(const chart *c, double scale, buf *out, S_image *img)
{
	buf_truncate(out, 0);
	out->len = 0;
	if (chart_render_png(c, scale, out) < 0)
		return -1;
	return S_decode(out, img);
}

/* ---- spec ---- */

TEST(parses_a_series_chart)
{
	chart *c = S_parse("type: line\ntitle: 联盟成员单位数\ndata: members\ncaption: 图 1：联盟成员单位数\n");
	CHECK(c != NULL);
	CHECK_STR(S_diag.ptr ? S_diag.ptr : "", "");
	if (!c)
		return;
	CHECK_INT(chart_get_type(c), CHART_LINE);
	CHECK_INT(chart_categories(c), 4);
	CHECK_INT(chart_series_count(c), 1);
	double w, h;
	chart_get_size(c, &w, &h);
	CHECK(w == 640 && h == 400);
	chart_free(c);

	c = S_parse("type: bar\ndata: members\nx: 年份\ny: [成员单位数]\nwidth: 480\nheight: 300\n");
	CHECK(c != NULL);
	if (c) {
		chart_get_size(c, &w, &h);
		CHECK(w == 480 && h == 300);
	}
	chart_free(c);

	c = S_parse("type: donut\ntitle: 认证服务中心\nrows:\n"
	            "  - [类别, \"数量[个]\"]\n"
	            "  - [高校, 77]\n"
	            "  - [地方, 17]\n");
	CHECK(c != NULL);
	if (c)
		CHECK_INT(chart_categories(c), 2);
	chart_free(c);
	chart_free(NULL);
}

TEST(spec_errors_name_the_line_of_the_offending_key)
{
	static const struct {
		const char *yaml, *message;
	} cases[] = {
		{"type: area\ndata: members\n",
		 "content/bulletins/2024/01.md:10:7: error: unknown chart type 'area' (use line, bar, hbar, stacked, pie or "
		 "donut)\n"},
		{"title: x\ndata: members\n",
		 "content/bulletins/2024/01.md:10:1: error: the chart needs a 'type': line, bar, hbar, stacked, pie or donut\n"},
		{"type: bar\ndata: members\ncolour: red\n",
		 "content/bulletins/2024/01.md:12:1: error: unknown chart key 'colour' (known: type, title, data, rows, x, y, "
		 "units, caption, width, height)\n"},
		{"type: bar\ndata: membres\n",
		 "content/bulletins/2024/01.md:11:7: error: unknown series 'membres' (no content/data/membres.csv)\n"},
		{"type: bar\ndata: members\ny: [成员单位数, 成员数]\n",
		 "content/bulletins/2024/01.md:12:12: error: series 'members' has no column '成员数' (its columns: 年份, "
		 "成员单位数, source, note)\n"},
		{"type: bar\ndata: members\nx: 年\n",
		 "content/bulletins/2024/01.md:12:4: error: series 'members' has no column '年' (its columns: 年份, 成员单位数, "
		 "source, note)\n"},
		{"type: bar\ndata: members\ny: source\n",
		 "content/bulletins/2024/01.md:12:4: error: column 'source' of series 'members' holds no numbers (number "
		 "columns: 成员单位数)\n"},
		{"type: bar\ndata: members\nrows: [[a, b], [1, 2]]\n",
		 "content/bulletins/2024/01.md:12:1: error: use either 'data' or 'rows', not both\n"},
		{"type: bar\ntitle: 无数据\n",
		 "content/bulletins/2024/01.md:10:1: error: the chart needs 'data' (a series id) or 'rows' (inline data)\n"},
		{"type: bar\ndata: empty\n",
		 "content/bulletins/2024/01.md:11:7: error: the chart has no data: series 'empty' has no rows\n"},
		{"type: line\ndata: gaps\n",
		 "content/bulletins/2024/01.md:11:7: error: the chart has no data: every value is missing\n"},
		{"type: bar\ndata: members\nwidth: wide\n",
		 "content/bulletins/2024/01.md:12:8: error: 'width' must be a number of pixels from 160 to 4000, got "
		 "\"wide\"\n"},
		{"type: bar\ndata: members\nheight: 99999\n",
		 "content/bulletins/2024/01.md:12:9: error: 'height' must be a number of pixels from 160 to 4000, got "
		 "\"99999\"\n"},
		{"type: [bar]\ndata: members\n",
		 "content/bulletins/2024/01.md:10:7: error: 'type' must be text, not a list\n"},
		{"- type: bar\n",
		 "content/bulletins/2024/01.md:10:1: error: a chart block must be a mapping of keys (type, title, data, …), "
		 "not a list\n"},
		{"type: pie\ndata: members\ny: [成员单位数, 成员单位数]\n",
		 "content/bulletins/2024/01.md:12:4: error: a pie chart shows one column, 'y' names 2\n"},
		{"type: pie\nrows:\n  - [类别, 数量]\n  - [高校, 77]\n  - [其他, -3]\n",
		 "content/bulletins/2024/01.md:11:1: error: a pie chart cannot show the negative value -3 of '其他'\n"},
		{"type: donut\nrows:\n  - [类别, 数量]\n  - [高校, 0]\n  - [其他, 0]\n",
		 "content/bulletins/2024/01.md:11:1: error: a donut chart needs a total above zero: every value of '数量' is "
		 "0\n"},
		{"type: bar\nrows:\n  - [年份, 值]\n  - [2020, 五十]\n",
		 "content/bulletins/2024/01.md:13:12: error: '值' must be a number, got \"五十\"\n"},
		{"type: bar\nrows:\n  - [年份, 值]\n  - [2020]\n",
		 "content/bulletins/2024/01.md:13:5: error: row has 1 value, the header has 2\n"},
		{"type: bar\nrows: 3\n",
		 "content/bulletins/2024/01.md:11:7: error: 'rows' must be a list of rows, the first one the header, e.g. "
		 "[[年份, \"成员单位数[所]\"], [2020, 52]]\n"},
		{"type: bar\ndata: members\ntitle: [\n",
		 NULL /* a YAML error, reported by the YAML reader */},
	};
	for (size_t i = 0; i < JB_ARRAY_LEN(cases); i++) {
		chart *c = S_parse(cases[i].yaml);
		CHECK(c == NULL);
		chart_free(c);
		if (cases[i].message)
			CHECK_STR(S_diag.ptr, cases[i].message);
		else
			CHECK_CONTAINS(S_diag.ptr, "content/bulletins/2024/01.md:1");
	}
}

TEST(c_api_builds_and_checks_a_chart)
{
	chart *c = chart_new(CHART_PIE);
	chart_set_title(c, "认证服务中心");
	chart_set_units(c, "个");
	size_t s = chart_add_series(c, "数量", NULL);
	static const char *const labels[] = {"高校", "地方", "中职技工", "县级分中心"};
	static const double values[] = {77, 17, 4, 13};
	for (size_t i = 0; i < 4; i++)
		chart_set_value(c, s, chart_add_category(c, labels[i], "2024/01", NULL), values[i]);
	chart_set_value(c, 7, 7, 1); /* out of range: ignored */
	CHECK_INT(S_check(c), 0);
	chart_add_series(c, "另一列", NULL);
	CHECK_INT(S_check(c), -1);
	CHECK_STR(S_diag.ptr, "x.lua:3:5: error: a pie chart shows one series, this one has 2\n");
	chart_free(c);

	chart_type t;
	CHECK_INT(chart_type_parse("hbar", &t), 0);
	CHECK_INT(t, CHART_HBAR);
	CHECK_INT(chart_type_parse("area", &t), -1);
	CHECK_STR(chart_type_name(CHART_DONUT), "donut");

	c = chart_new(CHART_BAR);
	CHECK_INT(S_check(c), -1);
	CHECK_STR(S_diag.ptr, "x.lua:3:5: error: the chart has no data: no rows\n");
	chart_add_category(c, "2020", NULL, NULL);
	CHECK_INT(S_check(c), -1);
	CHECK_STR(S_diag.ptr, "x.lua:3:5: error: the chart has no data: no series to draw\n");
	chart_free(c);

	c = chart_new(CHART_BAR);
	CHECK_INT(chart_add_from_series(c, S_members, "年份", NULL, 0, "x.lua", 1, 1), 0);
	CHECK_INT(chart_categories(c), 4);
	CHECK_INT(chart_series_count(c), 1);
	const char *bad[] = {"nope"};
	buf_truncate(&S_diag, 0);
	diag_capture(&S_diag);
	CHECK_INT(chart_add_from_series(c, S_members, NULL, bad, 1, "x.lua", 2, 3), -1);
	diag_capture(NULL);
	CHECK_STR(S_diag.ptr, "x.lua:2:3: error: series 'members' has no column 'nope' (its columns: 年份, 成员单位数, "
	                      "source, note)\n");
	chart_free(c);
}

/* ---- numbers ---- */

TEST(chinese_number_format)
{
	static const struct {
		double v;
		const char *text;
	} cases[] = {
		{0, "0"},           {52, "52"},         {9999, "9999"},        {60.8, "60.8"},
		{12800, "1.28万"},  {608000, "60.8万"}, {1166000, "116.6万"}, {37989000, "3798.9万"},
		{640000000, "6.4亿"}, {99999999, "1亿"}, {-52300, "-5.23万"},  {0.5, "0.5"},
		{0.0012, "0.0012"}, {1.2e12, "1.2万亿"}, {1e20, "1e+20"},      {NAN, "—"},
	};
	for (size_t i = 0; i < JB_ARRAY_LEN(cases); i++) {
		char out[64];
		chart_format_number(cases[i].v, out, sizeof out);
		CHECK_STR(out, cases[i].text);
	}
}

/* ---- drawing ---- */

TEST(png_sizes_at_1x_and_2x_and_deterministic_bytes)
{
	chart *c = S_parse("type: bar\ntitle: 联盟成员单位数\ndata: members\n");
	chart *other = S_parse("type: donut\ndata: centres\n");
	buf a = BUF_INIT, b = BUF_INIT;
	S_image img;
	CHECK_INT(S_render(c, 1, &a, &img), 0);
	CHECK_INT(img.w, 640);
	CHECK_INT(img.h, 400);
	free(img.rgb);
	CHECK_INT(S_render(c, 2, &b, &img), 0);
	CHECK_INT(img.w, 1280);
	CHECK_INT(img.h, 800);
	free(img.rgb);

	/* the same bytes again, also after drawing another chart in between */
	buf again = BUF_INIT, tmp = BUF_INIT;
	CHECK_INT(chart_render_png(other, 2, &tmp), 0);
	CHECK_INT(chart_render_png(c, 1, &again), 0);
	CHECK(again.len == a.len && memcmp(again.ptr, a.ptr, a.len) == 0);
	buf_truncate(&again, 0);
	again.len = 0;
	CHECK_INT(chart_render_png(c, 2, &again), 0);
	CHECK(again.len == b.len && memcmp(again.ptr, b.ptr, b.len) == 0);

	/* chunks: IHDR, sRGB, IDAT…, IEND: no time or text */
	size_t pos = 8;
	int chunks = 0, bad = 0;
	while (pos + 8 <= a.len) {
		const unsigned char *p = (const unsigned char *)a.ptr + pos;
		unsigned long n = (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
		char type[5] = {(char)p[4], (char)p[5], (char)p[6], (char)p[7], 0};
		bad |= strcmp(type, "IHDR") && strcmp(type, "sRGB") && strcmp(type, "IDAT") && strcmp(type, "IEND");
		chunks++;
		pos += 12 + n;
	}
	CHECK(chunks >= 4);
	CHECK(!bad);
	CHECK_INT(pos, a.len);
	buf_free(&a);
	buf_free(&b);
	buf_free(&again);
	buf_free(&tmp);
	chart_free(c);
	chart_free(other);
}

TEST(tallest_bar_is_drawn_where_the_data_says)
{
	chart *c = S_parse("type: bar\ntitle: 联盟成员单位数\ndata: members\n");
	chart_geom g;
	CHECK_INT(chart_geometry(c, 640, 400, &g), 0);
	/* round ticks: 0 … 80 in steps of 1, 2 or 5 × 10^k */
	CHECK(g.lo == 0);
	CHECK(g.hi == 80);
	buf png = BUF_INIT;
	for (double scale = 1; scale <= 2; scale++) {
		S_image img;
		CHECK_INT(S_render(c, scale, &png, &img), 0);
		if (!img.rgb)
			continue;
		double x = chart_geom_category_pos(c, &g, 3), top = chart_geom_value_pos(&g, 70);
		double bottom = chart_geom_value_pos(&g, 0);
		CHECK(top > g.y && top < bottom);
		CHECK(IS_BLUE(S_px(&img, scale, x, top + 2)));
		CHECK(IS_BLUE(S_px(&img, scale, x, (top + bottom) / 2)));
		CHECK(IS_BLUE(S_px(&img, scale, x, bottom - 2)));
		CHECK(IS_WHITE(S_px(&img, scale, x - 10, top - 1.5))); /* just above the bar, under its label */
		/* the 52 bar is lower: at the height of 60 its column is background */
		double x0 = chart_geom_category_pos(c, &g, 0);
		CHECK(IS_WHITE(S_px(&img, scale, x0, chart_geom_value_pos(&g, 66))));
		CHECK(IS_BLUE(S_px(&img, scale, x0, chart_geom_value_pos(&g, 50))));
		/* between two bars: background */
		double gap = (chart_geom_category_pos(c, &g, 2) + x) / 2;
		CHECK(IS_WHITE(S_px(&img, scale, gap, chart_geom_value_pos(&g, 30))));
		free(img.rgb);
	}
	buf_free(&png);
	chart_free(c);

	/* horizontal bars: the longest one ends at 77 */
	c = S_parse("type: hbar\ndata: centres\n");
	CHECK_INT(chart_geometry(c, 640, 400, &g), 0);
	CHECK(g.horizontal);
	S_image img;
	buf out = BUF_INIT;
	CHECK_INT(S_render(c, 1, &out, &img), 0);
	if (img.rgb) {
		double y = chart_geom_category_pos(c, &g, 0), end = chart_geom_value_pos(&g, 77);
		CHECK(IS_BLUE(S_px(&img, 1, end - 2, y)));
		CHECK(IS_WHITE(S_px(&img, 1, chart_geom_value_pos(&g, 30), chart_geom_category_pos(c, &g, 1))));
		CHECK(IS_BLUE(S_px(&img, 1, chart_geom_value_pos(&g, 10), chart_geom_category_pos(c, &g, 1))));
		free(img.rgb);
	}
	buf_free(&out);
	chart_free(c);
}

TEST(line_points_land_where_the_data_says)
{
	chart *c = S_parse("type: line\ntitle: 联盟成员单位数\ndata: members\n");
	chart_geom g;
	CHECK_INT(chart_geometry(c, 640, 400, &g), 0);
	CHECK(g.lo == 50); /* far from zero: the axis starts near the data */
	CHECK(g.hi == 70);
	double x[4];
	for (size_t i = 0; i < 4; i++)
		x[i] = chart_geom_category_pos(c, &g, i);
	/* spaced by time: 2020, 2022, 2023, 2025 */
	CHECK(fabs((x[1] - x[0]) - 2 * (x[2] - x[1])) < 0.5);
	CHECK(fabs((x[3] - x[2]) - 2 * (x[2] - x[1])) < 0.5);
	buf png = BUF_INIT;
	for (double scale = 1; scale <= 2; scale++) {
		S_image img;
		CHECK_INT(S_render(c, scale, &png, &img), 0);
		if (!img.rgb)
			continue;
		static const double v[] = {52, 59, 64, 70};
		for (size_t i = 0; i < 4; i++) {
			double y = chart_geom_value_pos(&g, v[i]);
			CHECK(IS_BLUE(S_px(&img, scale, x[i], y)));
			CHECK(IS_WHITE(S_px(&img, scale, x[i], y + 14))); /* under the point: background */
		}
		/* on the segment between 2020 and 2022 */
		double mx = (x[0] + x[1]) / 2, my = (chart_geom_value_pos(&g, 52) + chart_geom_value_pos(&g, 59)) / 2;
		CHECK(IS_BLUE(S_px(&img, scale, mx, my)));
		free(img.rgb);
	}
	buf_free(&png);
	chart_free(c);
}

/* Renders at 1× and checks the PNG decodes to the chart's size. */
static int S_renders(const chart *c)
{
	buf png = BUF_INIT;
	S_image img = {0, 0, NULL};
	double w, h;
	chart_get_size(c, &w, &h);
	int ok = S_render(c, 1, &png, &img) == 0 && img.w == (unsigned)w && img.h == (unsigned)h;
	free(img.rgb);
	buf_free(&png);
	return ok;
}

TEST(bad_data_never_crashes)
{
	/* one point, all equal, all zero: a sensible rendering */
	static const char *const fine[] = {
		"type: line\nrows:\n  - [年份, 值]\n  - [2023, 5]\n",
		"type: bar\nrows:\n  - [年份, 值]\n  - [2023, 5]\n",
		"type: line\nrows:\n  - [年份, 值]\n  - [2021, 5]\n  - [2022, 5]\n  - [2023, 5]\n",
		"type: stacked\nrows:\n  - [年份, a, b]\n  - [2021, 0, 0]\n  - [2022, 0, 0]\n",
		"type: hbar\nrows:\n  - [类别, 值]\n  - [a, -5]\n  - [b, 3]\n",
		"type: stacked\nrows:\n  - [年份, a, b]\n  - [2021, 3, -2]\n  - [2022, -1, 4]\n",
		"type: line\nrows:\n  - [年份, 值]\n  - [2021, 0.000001]\n  - [2022, 0.000002]\n",
		"type: bar\nrows:\n  - [年份, 值]\n  - [2021, 900000000000000]\n  - [2022, 1]\n",
		"type: pie\nrows:\n  - [类别, 值]\n  - [全部, 3]\n",
		"type: line\ndata: members\nwidth: 160\nheight: 160\n",
		"type: donut\ndata: centres\nwidth: 160\nheight: 160\ntitle: 一个非常非常非常非常非常非常非常非常非常非常长的标题\n",
	};
	for (size_t i = 0; i < JB_ARRAY_LEN(fine); i++) {
		chart *c = S_parse(fine[i]);
		CHECK(c != NULL);
		if (!c) {
			h_fail("    case %zu: %s\n", i, S_diag.ptr);
			continue;
		}
		CHECK(S_renders(c));
		char *alt = chart_alt_text(c);
		CHECK(alt && *alt);
		free(alt);
		chart_free(c);
	}

	/* NaN, infinities and huge numbers through the C API: a clear error,
	 * and drawing leaves them out */
	chart *c = chart_new(CHART_LINE);
	size_t s = chart_add_series(c, "值", NULL);
	chart_set_value(c, s, chart_add_category(c, "2020", NULL, NULL), NAN);
	chart_set_value(c, s, chart_add_category(c, "2021", NULL, NULL), INFINITY);
	chart_set_value(c, s, chart_add_category(c, "2022", NULL, NULL), -1e300);
	chart_set_value(c, s, chart_add_category(c, "2023", NULL, NULL), 7);
	CHECK_INT(S_check(c), -1);
	CHECK_STR(S_diag.ptr, "x.lua:3:5: error: '值' at '2020' is not a finite number\n"
	                      "x.lua:3:5: error: '值' at '2021' is not a finite number\n"
	                      "x.lua:3:5: error: '值' at '2022' is too large to draw (-1e+300; the limit is 1e15)\n");
	CHECK(S_renders(c));
	char *t = chart_table_html(c, NULL, NULL);
	CHECK_CONTAINS(t, "<tr><th scope=\"row\">2020</th><td>—</td></tr>");
	free(t);
	chart_free(c);

	/* nothing drawable at all, of every type */
	for (int type = CHART_LINE; type <= CHART_DONUT; type++) {
		c = chart_new((chart_type)type);
		CHECK(S_renders(c)); /* no categories, no series */
		chart_add_category(c, "a", NULL, NULL);
		chart_add_series(c, "值", NULL);
		CHECK(S_renders(c)); /* only missing values */
		chart_set_value(c, 0, 0, NAN);
		CHECK(S_renders(c));
		chart_geom g;
		CHECK_INT(chart_geometry(c, 640, 400, &g), -1);
		char *alt = chart_alt_text(c);
		CHECK_CONTAINS(alt, "暂无数据");
		free(alt);
		chart_free(c);
	}

	/* pies: negative values and a zero total are errors, and still draw */
	c = chart_new(CHART_PIE);
	s = chart_add_series(c, "数量", NULL);
	chart_set_value(c, s, chart_add_category(c, "甲", NULL, NULL), 5);
	chart_set_value(c, s, chart_add_category(c, "乙", NULL, NULL), -5);
	CHECK_INT(S_check(c), -1);
	CHECK_STR(S_diag.ptr, "x.lua:3:5: error: a pie chart cannot show the negative value -5 of '乙'\n");
	CHECK(S_renders(c));
	chart_set_value(c, s, 0, 0);
	chart_set_value(c, s, 1, 0);
	CHECK_INT(S_check(c), -1);
	CHECK_CONTAINS(S_diag.ptr, "needs a total above zero");
	CHECK(S_renders(c));
	chart_free(c);

	/* invalid UTF-8 and markup in labels; very many categories */
	c = chart_new(CHART_BAR);
	s = chart_add_series(c, "值\xff", NULL);
	for (int i = 0; i < 300; i++) {
		char label[32];
		snprintf(label, sizeof label, "<类别%d\xfe>", i);
		chart_set_value(c, s, chart_add_category(c, label, NULL, NULL), i % 7);
	}
	CHECK_INT(S_check(c), 0);
	CHECK(S_renders(c));
	chart_set_size(c, 1e9, NAN);
	double w, h;
	chart_get_size(c, &w, &h);
	CHECK(w == CHART_MAX_SIZE && h == CHART_DEFAULT_HEIGHT);
	chart_free(c);
}

static cairo_status_t S_pdf_write(void *closure, const unsigned char *data, unsigned int len)
{
	buf_put(closure, data, len);
	return CAIRO_STATUS_SUCCESS;
}

TEST(drawing_on_a_pdf_surface)
{
	chart *c = S_parse("type: line\ntitle: 联盟成员单位数\ndata: members\n");
	buf pdf = BUF_INIT;
	cairo_surface_t *surf = cairo_pdf_surface_create_for_stream(S_pdf_write, &pdf, 595.28, 841.89);
	cairo_t *cr = cairo_create(surf);
	cairo_translate(cr, 50, 60);
	chart_draw(c, cr, 495, 310);
	cairo_matrix_t m;
	cairo_get_matrix(cr, &m);
	CHECK(m.x0 == 50 && m.y0 == 60); /* the caller's state is left as it was */
	CHECK_INT(cairo_status(cr), CAIRO_STATUS_SUCCESS);
	cairo_destroy(cr);
	cairo_surface_finish(surf);
	CHECK_INT(cairo_surface_status(surf), CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(surf);
	CHECK(pdf.len > 1000 && memcmp(pdf.ptr, "%PDF", 4) == 0);
	buf_free(&pdf);
	chart_free(c);
}

/* ---- text for readers ---- */

static const char *S_url(void *ctx, const char *source)
{
	static char url[128];
	(void)ctx;
	if (strcmp(source, "2026/02") == 0)
		return NULL;
	snprintf(url, sizeof url, "/bulletins/%s/?a=1&b=2", source);
	return url;
}

TEST(alt_text_describes_the_data)
{
	chart *c = S_parse("type: line\ntitle: 联盟成员单位数\ndata: members\n");
	char *alt = chart_alt_text(c);
	CHECK_STR(alt, "折线图：联盟成员单位数。年份从2020到2025，共4项。成员单位数：从2020的52所到2025的70所；"
	               "最高为2025的70所，最低为2020的52所。");
	free(alt);
	chart_free(c);

	c = S_parse("type: pie\ntitle: 学习成果认证服务中心\ndata: centres\n");
	alt = chart_alt_text(c);
	CHECK_STR(alt, "饼图：学习成果认证服务中心。合计111个：高校认证服务中心77个，占69.4%；地方认证服务中心17个，"
	               "占15.3%；中职、技工院校试点认证中心4个，占3.6%；县级、高校认证服务分中心13个，占11.7%。");
	free(alt);
	chart_free(c);

	c = S_parse("type: bar\ntitle: 平台数据\nrows:\n"
	            "  - [年份, \"资源[条]\", \"访问量[人次]\"]\n"
	            "  - [2022, 491000, ~]\n"
	            "  - [2023, 608000, 640000000]\n");
	alt = chart_alt_text(c);
	CHECK_STR(alt, "柱状图：平台数据。年份从2022到2023，共2项。资源：最高为2023的60.8万条，最低为2022的49.1万条。"
	               "访问量：2023为6.4亿人次。");
	free(alt);
	chart_free(c);
}

TEST(table_and_figure_html)
{
	chart *c = S_parse("type: line\ntitle: 联盟成员单位数\ndata: members\ncaption: 图 1：成员 <单位> & 数\n");
	char *t = chart_table_html(c, S_url, NULL);
	CHECK_CONTAINS(t, "<thead><tr><th scope=\"col\">年份</th><th scope=\"col\">成员单位数（所）</th>"
	                  "<th scope=\"col\">来源</th><th scope=\"col\">备注</th></tr></thead>");
	CHECK_CONTAINS(t, "<tr><th scope=\"row\">2020</th><td>52</td><td><a href=\"/bulletins/2022/10/?a=1&amp;b=2\">"
	                  "2022/10</a></td><td>联盟成立</td></tr>");
	CHECK_CONTAINS(t, "<tr><th scope=\"row\">2025</th><td>70</td><td>2026/02</td><td></td></tr>");
	free(t);

	char *f = chart_figure_html(c, "/charts/members.png", "/charts/members@2x.png", S_url, NULL);
	CHECK(str_starts_with(f, "<figure class=\"chart chart-line\">\n<img src=\"/charts/members.png\" "
	                         "srcset=\"/charts/members.png 1x, /charts/members@2x.png 2x\" width=\"640\" "
	                         "height=\"400\" alt=\"折线图：联盟成员单位数。"));
	CHECK_CONTAINS(f, "<figcaption>图 1：成员 &lt;单位&gt; &amp; 数</figcaption>\n<details><summary>数据</summary>\n"
	                  "<table class=\"chart-data\">");
	CHECK(str_ends_with(f, "</table>\n</details>\n</figure>\n"));
	free(f);
	chart_free(c);

	/* escaping of labels and names; shares for pies; no source column
	 * when no row has one */
	c = chart_new(CHART_DONUT);
	chart_set_x_name(c, "类\"别");
	size_t s = chart_add_series(c, "<数量>", "个");
	chart_set_value(c, s, chart_add_category(c, "<b>A&B</b>", NULL, "示意"), 1);
	chart_set_value(c, s, chart_add_category(c, "C", NULL, NULL), 2);
	t = chart_table_html(c, S_url, NULL);
	CHECK_STR(t, "<table class=\"chart-data\">\n"
	             "<thead><tr><th scope=\"col\">类&quot;别</th><th scope=\"col\">&lt;数量&gt;（个）</th>"
	             "<th scope=\"col\">占比</th><th scope=\"col\">备注</th></tr></thead>\n"
	             "<tbody>\n"
	             "<tr><th scope=\"row\">&lt;b&gt;A&amp;B&lt;/b&gt;</th><td>1</td><td>33.3%</td><td>示意</td></tr>\n"
	             "<tr><th scope=\"row\">C</th><td>2</td><td>66.7%</td><td></td></tr>\n"
	             "</tbody>\n</table>");
	free(t);
	f = chart_figure_html(c, "a.png", NULL, NULL, NULL);
	CHECK_CONTAINS(f, "<img src=\"a.png\" width=\"640\" height=\"400\" alt=\"环形图。合计3个：&lt;b&gt;A&amp;B&lt;/b&gt;1个，"
	                  "占33.3%；C2个，占66.7%。\"");
	CHECK(!strstr(f, "srcset"));
	CHECK(!strstr(f, "figcaption"));
	free(f);
	chart_free(c);
}

/* ---- speed, and pictures to look at ---- */

static const char *const S_gallery[][2] = {
	{"line", "type: line\ntitle: 安徽高校继续教育合作联盟成员单位数\ndata: members\n"},
	{"bar", "type: bar\ntitle: 联盟成员单位数\ndata: members\n"},
	{"hbar", "type: hbar\ntitle: 学习成果认证服务中心（111个）\ndata: centres\n"},
	{"stacked", "type: stacked\ntitle: 课程资源构成（示意）\nrows:\n"
	            "  - [年份, \"视频[万讲]\", \"文档[万条]\", \"测验[万套]\"]\n"
	            "  - [2021, 35.2, 6.1, 1.2]\n  - [2022, 42, 7.1, 2.3]\n  - [2023, 52.3, 8.5, 3]\n"},
	{"pie", "type: pie\ntitle: 学习成果认证服务中心构成\ndata: centres\n"},
	{"donut", "type: donut\ntitle: 学习成果认证服务中心构成\ndata: centres\n"},
	{"bar-grouped", "type: bar\ntitle: 网络园区平台数据\nunits: 万\nrows:\n"
	                "  - [指标, 2022年, 2023年]\n  - [课程网络教学资源（条）, 49.1, 60.8]\n"
	                "  - [视频资源（讲）, 42, 52.3]\n  - [上线学习者（人）, 98.2, 116.6]\n"},
	{"line-two", "type: line\ntitle: 学分银行账户与学习成果（示意）\nrows:\n"
	             "  - [年份, \"账户数[个]\", \"学习成果[条]\"]\n"
	             "  - [2021, 7200, 5100]\n  - [2022, 10250, 7490]\n  - [2023, 12800, 10130]\n"},
	{"hbar-big", "type: hbar\ntitle: 平台访问与学习（2023年）\nrows:\n  - [指标, 数量]\n"
	             "  - [总访问量（人次）, 640000000]\n  - [视频学习总时长（小时）, 79180000]\n"
	             "  - [在线提交作业（份）, 37989000]\n  - [上线学习者（人）, 1166000]\n"
	             "  - [课程网络教学资源（条）, 608000]\n"},
};

TEST(a_hundred_charts_render_quickly)
{
	chart *charts[JB_ARRAY_LEN(S_gallery)];
	size_t n = JB_ARRAY_LEN(S_gallery);
	for (size_t i = 0; i < n; i++) {
		charts[i] = S_parse(S_gallery[i][1]);
		CHECK(charts[i] != NULL);
		if (!charts[i])
			return;
	}
	const char *dir = getenv("JB_CHART_OUT");
	if (dir && *dir) {
		mkdir_p(dir, 0755);
		for (size_t i = 0; i < n; i++) {
			for (int scale = 1; scale <= 2; scale++) {
				buf png = BUF_INIT;
				chart_render_png(charts[i], scale, &png);
				char *p = xasprintf("%s/%s%s.png", dir, S_gallery[i][0], scale == 2 ? "@2x" : "");
				FILE *f = fopen(p, "wb");
				if (f) {
					fwrite(png.ptr, 1, png.len, f);
					fclose(f);
				}
				free(p);
				buf_free(&png);
			}
		}
		char *p = xasprintf("%s/charts.pdf", dir);
		cairo_surface_t *surf = cairo_pdf_surface_create(p, 595.28, 841.89);
		cairo_t *cr = cairo_create(surf);
		for (size_t i = 0; i < n; i++) {
			cairo_save(cr);
			cairo_translate(cr, 50, 50 + (double)(i % 2) * 380);
			cairo_scale(cr, 495.0 / 640, 495.0 / 640);
			chart_draw(charts[i], cr, 640, 400);
			cairo_restore(cr);
			if (i % 2 == 1 || i + 1 == n)
				cairo_show_page(cr);
		}
		cairo_destroy(cr);
		cairo_surface_destroy(surf);
		free(p);
	}
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	size_t bytes = 0;
	for (int i = 0; i < 100; i++) {
		buf png = BUF_INIT;
		CHECK_INT(chart_render_png(charts[(size_t)i % n], 1, &png), 0);
		bytes += png.len;
		buf_free(&png);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	/* About 0.4 s here (deflate is most of it).  The bound only catches a
	 * lost cache (font setup per chart), not a slow or busy machine, and is
	 * off under valgrind or with JB_SKIP_TIMING set. */
	const char *preload = getenv("LD_PRELOAD");
	int timing = !getenv("JB_SKIP_TIMING") && !(preload && strstr(preload, "vgpreload"));
	if (timing && secs > 5)
		h_fail("    100 charts took %.2f s\n", secs);
	CHECK(bytes > 100 * 1000);
	for (size_t i = 0; i < n; i++)
		chart_free(charts[i]);
}

int main(void)
{
	h_suite = "chart";
	S_members = series_load("content/data/members.csv", S_members_csv, strlen(S_members_csv));
	S_centres = series_load("content/data/centres.csv", S_centres_csv, strlen(S_centres_csv));
	S_empty = series_load("content/data/empty.csv", "年份,值\n", strlen("年份,值\n"));
	S_gaps = series_load("content/data/gaps.csv", "年份,值\n2020,\n2021,\n", strlen("年份,值\n2020,\n2021,\n"));
	if (!S_members || !S_centres || !S_empty || !S_gaps) {
		printf("not ok - chart: test series do not load\n");
		return 1;
	}
	RUN(parses_a_series_chart);
	RUN(spec_errors_name_the_line_of_the_offending_key);
	RUN(c_api_builds_and_checks_a_chart);
	RUN(chinese_number_format);
	RUN(png_sizes_at_1x_and_2x_and_deterministic_bytes);
	RUN(tallest_bar_is_drawn_where_the_data_says);
	RUN(line_points_land_where_the_data_says);
	RUN(bad_data_never_crashes);
	RUN(drawing_on_a_pdf_surface);
	RUN(alt_text_describes_the_data);
	RUN(table_and_figure_html);
	RUN(a_hundred_charts_render_quickly);
	series_free(S_members);
	series_free(S_centres);
	series_free(S_empty);
	series_free(S_gaps);
	chart_thread_cleanup();
	buf_free(&S_diag);
	return HARNESS_DONE();
}
