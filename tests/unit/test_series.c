#include "harness.h"

#include <math.h>
#include <stdlib.h>

#include "diag.h"
#include "series.h"
#include "util.h"

static buf S_diag;

/* Loads text as content/data/NAME.csv with diagnostics captured in S_diag. */
static series *S_load(const char *name, const char *text)
{
	char *file = xasprintf("content/data/%s.csv", name);
	buf_truncate(&S_diag, 0);
	diag_capture(&S_diag);
	series *s = series_load(file, text, strlen(text));
	diag_capture(NULL);
	free(file);
	return s;
}

TEST(loads_members_with_units_source_and_note)
{
	series *s = S_load("members", "年份,成员单位数[所],source,note\n"
	                              "2020,52,2022/10,联盟成立\n"
	                              "2021,59,2022/10,\n"
	                              "2024,64,,示意：按年度工作报告估算\n"
	                              "2025,70,2026/02,\n");
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_STR(s->id, "members");
	CHECK_INT(s->ncols, 4);
	CHECK_INT(s->nrows, 4);
	CHECK_STR(s->cols[0].name, "年份");
	CHECK_INT(s->cols[0].kind, SERIES_X);
	CHECK_STR(s->cols[1].name, "成员单位数");
	CHECK_STR(s->cols[1].unit, "所");
	CHECK_STR(s->cols[1].header, "成员单位数[所]");
	CHECK_INT(s->cols[1].kind, SERIES_VALUE);
	CHECK_INT(s->cols[2].kind, SERIES_SOURCE);
	CHECK_INT(s->cols[3].kind, SERIES_NOTE);
	CHECK(s->cols[0].unit == NULL);
	CHECK_INT(s->source_col, 2);
	CHECK_INT(s->note_col, 3);
	CHECK_STR(s->rows[0].x, "2020");
	CHECK_STR(s->rows[0].source, "2022/10");
	CHECK_STR(s->rows[0].note, "联盟成立");
	CHECK(!s->rows[0].illustrative);
	CHECK(s->rows[2].source == NULL);
	CHECK(s->rows[2].illustrative);
	CHECK(s->rows[1].note == NULL);
	CHECK_INT(s->rows[3].line, 5);
	double v = 0;
	CHECK_INT(series_get(s, 3, "成员单位数", &v), 0);
	CHECK(v == 70);
	CHECK_INT(series_get(s, 1, "成员单位数[所]", &v), 0);
	CHECK(v == 59);
	CHECK_INT(series_get(s, 0, "年份", &v), -1);
	CHECK_INT(series_get(s, 9, "成员单位数", &v), -1);
	CHECK_INT(series_get(s, 0, "nope", &v), -1);
	CHECK_INT(series_column_index(s, "source"), 2);
	CHECK_INT(series_column_index(s, "成员"), -1);
	int line, col;
	series_cell_pos(s, 3, 2, &line, &col);
	CHECK_INT(line, 5);
	CHECK_INT(col, 3);
	series_free(s);
	series_free(NULL);
}

TEST(quoting_missing_values_crlf_and_bom)
{
	series *s = S_load("centres", "\xEF\xBB\xBF"
	                              "类别,数量[个],\"比例[%]\"\r\n"
	                              "\"高校认证服务中心\",77,69.4\r\n"
	                              "\r\n"
	                              "\"地方, \"\"市级\"\"\",17,\r\n"
	                              "\"县级\n分中心\",13, -1.50 \r\n");
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(s->nrows, 3);
	CHECK_STR(s->cols[0].name, "类别");
	CHECK_STR(s->cols[2].unit, "%");
	CHECK_STR(s->rows[1].x, "地方, \"市级\"");
	CHECK_INT(s->rows[1].line, 4);
	double v = 0;
	CHECK_INT(series_get(s, 1, "比例", &v), 1); /* empty = missing */
	CHECK_STR(s->rows[2].x, "县级\n分中心");
	CHECK_INT(s->rows[2].line, 5);
	CHECK_INT(series_get(s, 2, "比例", &v), 0);
	CHECK(v == -1.5);
	series_free(s);
}

TEST(header_only_is_an_empty_series)
{
	series *s = S_load("empty", "年份,值\n");
	CHECK(s != NULL);
	if (s)
		CHECK_INT(s->nrows, 0);
	series_free(s);
}

TEST(empty_file_and_bad_headers)
{
	CHECK(S_load("none", "") == NULL);
	CHECK_STR(S_diag.ptr, "content/data/none.csv:1:1: error: empty series: a header row is required\n");

	CHECK(S_load("h", "年份,值,,值[万],source,source,备注[\n2020,1,2,3,a,b,c\n") == NULL);
	CHECK_STR(S_diag.ptr, "content/data/h.csv:1:3: error: empty column name in the header\n"
	                      "content/data/h.csv:1:4: error: duplicate column name '值' (already column 2)\n"
	                      "content/data/h.csv:1:6: error: duplicate column name 'source' (already column 5)\n"
	                      "content/data/h.csv:1:7: error: malformed unit in column name '备注[': write it as "
	                      "name[unit], e.g. 成员单位数[所]\n");

	CHECK(S_load("x", "source,值\n2020,1\n") == NULL);
	CHECK_STR(S_diag.ptr,
	          "content/data/x.csv:1:1: error: column 1 is the x value and cannot be the reserved column 'source'\n");
}

TEST(ragged_rows_report_row_and_field)
{
	CHECK(S_load("r", "年份,值,note\n2020,1,a\n2021,2\n2022,3,b,extra\n2023\n") == NULL);
	CHECK_STR(S_diag.ptr, "content/data/r.csv:3:3: error: row has 2 fields, the header has 3\n"
	                      "content/data/r.csv:4:4: error: row has 4 fields, the header has 3\n"
	                      "content/data/r.csv:5:2: error: row has 1 field, the header has 3\n");
}

TEST(values_that_are_not_numbers)
{
	CHECK(S_load("n", "年份,成员单位数[所],资源[万条]\n"
	                  "2020,52所,60.8\n"
	                  "2021,\"1,234\",1e5\n"
	                  "2022,五十九,.5\n"
	                  "2023,70,23.79%\n") == NULL);
	CHECK_STR(S_diag.ptr, "content/data/n.csv:2:2: error: '成员单位数' must be a number, got \"52所\"\n"
	                      "content/data/n.csv:3:2: error: '成员单位数' must be a number, got \"1,234\" (write numbers "
	                      "without thousands separators)\n"
	                      "content/data/n.csv:3:3: error: '资源' must be a number, got \"1e5\"\n"
	                      "content/data/n.csv:4:2: error: '成员单位数' must be a number, got \"五十九\"\n"
	                      "content/data/n.csv:4:3: error: '资源' must be a number, got \".5\"\n"
	                      "content/data/n.csv:5:3: error: '资源' must be a number, got \"23.79%\"\n");

	/* 400 digits overflow a double: an error, never an infinity in the table */
	buf big = BUF_INIT;
	buf_puts(&big, "年份,值\n2020,");
	for (int i = 0; i < 400; i++)
		buf_putc(&big, '9');
	buf_putc(&big, '\n');
	CHECK(S_load("big", big.ptr) == NULL);
	CHECK_CONTAINS(S_diag.ptr, "content/data/big.csv:2:2: error: '值' is too large a number: \"999");
	buf_free(&big);
}

TEST(unterminated_and_malformed_quotes)
{
	CHECK(S_load("q", "年份,值\n2020,1\n\"2021,2\n2022,3\n") == NULL);
	CHECK_STR(S_diag.ptr, "content/data/q.csv:3:1: error: unterminated quoted field: a closing '\"' is missing\n");

	CHECK(S_load("q2", "年份,值\n2020,1\n2021,\"2\"x\n") == NULL);
	CHECK_STR(S_diag.ptr, "content/data/q2.csv:3:2: error: malformed quoting: quote the whole field and double the "
	                      "quotes inside it (\"a \"\"b\"\" c\")\n");

	CHECK(S_load("q3", "年份,值\n2020,1\n2021,a\"b\n") == NULL);
	CHECK_CONTAINS(S_diag.ptr, "content/data/q3.csv:3:2: error: malformed quoting");
}

TEST(invalid_utf8_is_reported)
{
	CHECK(S_load("u", "年份,值\n20\xff\xfe,1\n") == NULL);
	CHECK_STR(S_diag.ptr, "content/data/u.csv:2:1: error: not valid UTF-8 (byte 3 of the field)\n");
}

TEST(numbers_and_headers_helpers)
{
	double v = 0;
	CHECK_INT(series_parse_number("52", &v), 0);
	CHECK(v == 52);
	CHECK_INT(series_parse_number(" -0.25 ", &v), 0);
	CHECK(v == -0.25);
	CHECK_INT(series_parse_number("+3", &v), 0);
	CHECK(v == 3);
	CHECK_INT(series_parse_number("", &v), -1);
	CHECK_INT(series_parse_number("1.", &v), -1);
	CHECK_INT(series_parse_number("nan", &v), -1);
	CHECK_INT(series_parse_number("inf", &v), -1);
	CHECK_INT(series_parse_number("0x10", &v), -1);
	char *name, *unit;
	CHECK_INT(series_split_header("资源 [万条]", &name, &unit), 0);
	CHECK_STR(name, "资源");
	CHECK_STR(unit, "万条");
	free(name);
	free(unit);
	CHECK_INT(series_split_header("a[]", &name, &unit), -1);
	CHECK_INT(series_split_header("a]b[", &name, &unit), -1);
	CHECK_INT(series_split_header("a[b]c", &name, &unit), -1);
	char *id = series_id_from_path("content/data/members.csv");
	CHECK_STR(id, "members");
	free(id);
}

TEST(from_cells_uses_the_given_positions)
{
	const char *cells[] = {"类别", "数量[个]", "高校", "77", "地方", "十七"};
	const int lines[] = {10, 10, 11, 11, 12, 12};
	const int cols[] = {9, 13, 9, 13, 9, 13};
	buf_truncate(&S_diag, 0);
	diag_capture(&S_diag);
	series *s = series_from_cells("content/bulletins/2024/01.md", "inline", 3, 2, cells, lines, cols);
	diag_capture(NULL);
	CHECK(s == NULL);
	CHECK_STR(S_diag.ptr, "content/bulletins/2024/01.md:12:13: error: '数量' must be a number, got \"十七\"\n");

	cells[5] = NULL; /* empty = missing */
	s = series_from_cells("x.md", "inline", 3, 2, cells, NULL, NULL);
	CHECK(s != NULL);
	double v;
	if (s) {
		CHECK_INT(series_get(s, 0, "数量", &v), 0);
		CHECK(v == 77);
		CHECK_INT(series_get(s, 1, "数量", &v), 1);
	}
	series_free(s);
}

int main(void)
{
	h_suite = "series";
	RUN(loads_members_with_units_source_and_note);
	RUN(quoting_missing_values_crlf_and_bom);
	RUN(header_only_is_an_empty_series);
	RUN(empty_file_and_bad_headers);
	RUN(ragged_rows_report_row_and_field);
	RUN(values_that_are_not_numbers);
	RUN(unterminated_and_malformed_quotes);
	RUN(invalid_utf8_is_reported);
	RUN(numbers_and_headers_helpers);
	RUN(from_cells_uses_the_given_positions);
	buf_free(&S_diag);
	return HARNESS_DONE();
}
