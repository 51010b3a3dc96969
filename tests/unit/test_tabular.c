#include "harness.h"

#include <stdlib.h>

#include "diag.h"
#include "model.h"
#include "tabular.h"
#include "util.h"

static buf S_diag;

static tabular *S_parse(const char *text)
{
	buf_truncate(&S_diag, 0);
	diag_capture(&S_diag);
	tabular *t = tabular_parse("m.csv", text, strlen(text));
	diag_capture(NULL);
	return t;
}

TEST(header_rows_and_lines)
{
	tabular *t = S_parse("name,role\n合肥工业大学,理事长单位\n\n\"安徽大学\",\"副理事长单位\"\n\"多行\n名字\",成员单位\nx,y");
	CHECK(t != NULL);
	if (!t)
		return;
	CHECK_INT(t->ncols, 2);
	CHECK_INT(t->nrows, 4);
	CHECK_STR(tabular_cell(t, 0, 0), "合肥工业大学");
	CHECK_INT(t->rows[0].line, 2);
	CHECK_INT(t->rows[1].line, 4); /* the blank line is skipped, lines still count */
	CHECK_STR(tabular_cell(t, 2, 0), "多行\n名字");
	CHECK_INT(t->rows[2].line, 5);
	CHECK_INT(t->rows[3].line, 7);
	CHECK_INT(tabular_col(t, "role"), 1);
	CHECK_INT(tabular_col(t, "nope"), -1);
	CHECK_STR(tabular_cell(t, 0, -1), "");
	tabular_free(t);
}

TEST(ragged_rows)
{
	CHECK(S_parse("a,b,c\n1,2,3\n1,2\n") == NULL);
	CHECK_CONTAINS(S_diag.ptr, "m.csv:3:3: error: row has 2 fields, the header has 3");
	CHECK(S_parse("a,b\n1,2,3\n") == NULL);
	CHECK_CONTAINS(S_diag.ptr, "m.csv:2:3: error: row has 3 fields, the header has 2");
}

TEST(unterminated_quote)
{
	CHECK(S_parse("a,b\n1,2\n3,\"four\n5,6\n") == NULL);
	CHECK_CONTAINS(S_diag.ptr, "m.csv:3:2: error: unterminated quoted field");
}

TEST(quote_inside_unquoted_field)
{
	CHECK(S_parse("a,b\n1,x\"y\n") == NULL);
	CHECK_CONTAINS(S_diag.ptr, "m.csv:2:2: error: malformed CSV");
}

TEST(duplicate_and_empty_headers)
{
	CHECK(S_parse("name,role,name\n1,2,3\n") == NULL);
	CHECK_CONTAINS(S_diag.ptr, "m.csv:1:3: error: duplicate column 'name' (also column 1)");
	CHECK(S_parse("name,,role\n1,2,3\n") == NULL);
	CHECK_CONTAINS(S_diag.ptr, "m.csv:1:2: error: empty column name in the header");
	CHECK(S_parse("") == NULL);
	CHECK_CONTAINS(S_diag.ptr, "m.csv:1:1: error: empty file");
}

TEST(crlf_and_bom)
{
	tabular *t = S_parse("\xEF\xBB\xBFname,role\r\n甲,乙\r\n");
	CHECK(t != NULL);
	if (t) {
		CHECK_STR(t->header[0], "name");
		CHECK_STR(tabular_cell(t, 0, 1), "乙");
		tabular_free(t);
	}
}

TEST(document_numbers)
{
	char *issuer = NULL, *err = NULL;
	int year = 0;
	long seq = 0;
	CHECK_INT(model_parse_doc_number("继教合作联盟〔2021〕13号", &issuer, &year, &seq, &err), 0);
	CHECK_STR(issuer, "继教合作联盟");
	CHECK_INT(year, 2021);
	CHECK_INT(seq, 13);
	free(issuer);
	CHECK_INT(model_parse_doc_number("继教合作联盟[2021]1号", &issuer, &year, &seq, &err), -1);
	CHECK_CONTAINS(err, "六角括号 〔〕, not [");
	free(err);
	CHECK_INT(model_parse_doc_number("继教合作联盟（2021）1号", &issuer, &year, &seq, &err), -1);
	CHECK_CONTAINS(err, "not （");
	free(err);
	CHECK_INT(model_parse_doc_number("继教合作联盟〔2021〕01号", &issuer, &year, &seq, &err), -1);
	CHECK_CONTAINS(err, "no leading zeros");
	free(err);
	CHECK_INT(model_parse_doc_number("继教合作联盟〔2021〕第1号", &issuer, &year, &seq, &err), -1);
	CHECK_CONTAINS(err, "no 第");
	free(err);
	CHECK_INT(model_parse_doc_number("继教合作联盟〔21〕1号", &issuer, &year, &seq, &err), -1);
	CHECK_CONTAINS(err, "four digits");
	free(err);
	CHECK_INT(model_parse_doc_number("〔2021〕1号", &issuer, &year, &seq, &err), -1);
	CHECK_CONTAINS(err, "issuer's code");
	free(err);
	CHECK_INT(model_parse_doc_number("继教合作联盟〔2021〕1", &issuer, &year, &seq, &err), -1);
	CHECK_CONTAINS(err, "end in the number and 号");
	free(err);
}

int main(void)
{
	h_suite = "tabular";
	RUN(header_rows_and_lines);
	RUN(ragged_rows);
	RUN(unterminated_quote);
	RUN(quote_inside_unquoted_field);
	RUN(duplicate_and_empty_headers);
	RUN(crlf_and_bom);
	RUN(document_numbers);
	buf_free(&S_diag);
	return HARNESS_DONE();
}
