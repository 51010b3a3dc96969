#include "harness.h"

#include "diag.h"
#include "frontmatter.h"
#include "util.h"

static buf S_diag;

static int S_parse(const char *text, fm_doc *doc)
{
	buf_truncate(&S_diag, 0);
	diag_capture(&S_diag);
	int rc = fm_parse("b.md", text, strlen(text), doc);
	diag_capture(NULL);
	return rc;
}

TEST(no_front_matter)
{
	fm_doc d;
	CHECK_INT(S_parse("# 标题\n\n正文\n", &d), 0);
	CHECK(d.meta == NULL);
	CHECK_INT(d.body_line, 1);
	CHECK(strncmp(d.body, "# 标题", 8) == 0);
	fm_doc_free(&d);
}

TEST(typed_values_and_positions)
{
	fm_doc d;
	const char *t = "---\ntitle: 开新篇 启新程\nissue: 1\ntotal: \"46\"\ntags: [学分银行, 网络园区]\n---\n正文\n";
	CHECK_INT(S_parse(t, &d), 0);
	CHECK(d.meta && d.meta->kind == YV_MAP);
	yval *title = yval_get(d.meta, "title");
	CHECK(title && title->kind == YV_SCALAR);
	CHECK_STR(title ? title->str : NULL, "开新篇 启新程");
	CHECK_INT(title ? title->line : 0, 2);
	CHECK_INT(title ? title->col : 0, 8);
	yval *issue = yval_get(d.meta, "issue");
	CHECK(issue && issue->plain);
	yval *total = yval_get(d.meta, "total");
	CHECK(total && !total->plain);
	yval *tags = yval_get(d.meta, "tags");
	CHECK(tags && tags->kind == YV_SEQ && tags->len == 2);
	CHECK_INT(tags ? tags->line : 0, 5);
	CHECK_INT(d.body_line, 7);
	CHECK_STR(d.body, "正文\n");
	fm_doc_free(&d);
}

TEST(nested_tree_keeps_keys_positions_and_order)
{
	fm_doc d;
	const char *t = "---\nstats:\n  students:\n    x: [2021, 2022]\n    y: {a: 1, b: \"two\"}\n"
	                "  empty: []\nlast: ~\n---\n";
	CHECK_INT(S_parse(t, &d), 0);
	CHECK(d.meta && d.meta->len == 2);
	if (!d.meta || d.meta->len != 2)
		return;
	CHECK_STR(d.meta->keys[0], "stats");
	CHECK_STR(d.meta->keys[1], "last");
	CHECK_INT(d.meta->key_lines[1], 7);
	CHECK_INT(d.meta->key_cols[1], 1);
	yval *st = yval_get(d.meta, "stats");
	yval *students = yval_get(st, "students");
	CHECK(students && students->kind == YV_MAP && students->len == 2);
	CHECK_INT(st ? st->key_lines[0] : 0, 3);
	CHECK_INT(st ? st->key_cols[0] : 0, 3);
	yval *x = yval_get(students, "x");
	CHECK(x && x->kind == YV_SEQ && x->len == 2);
	CHECK_STR(x && x->len == 2 ? x->items[1]->str : NULL, "2022");
	CHECK_INT(x && x->len == 2 ? x->items[1]->col : 0, 15);
	yval *y = yval_get(students, "y");
	CHECK_STR(yval_get(y, "b") ? yval_get(y, "b")->str : NULL, "two");
	CHECK(yval_get(y, "b") && !yval_get(y, "b")->plain);
	yval *empty = yval_get(st, "empty");
	CHECK(empty && empty->kind == YV_SEQ && empty->len == 0 && empty->items == NULL);
	CHECK_STR(yval_get(d.meta, "last") ? yval_get(d.meta, "last")->str : NULL, "~");
	fm_doc_free(&d);
}

TEST(crlf_and_bom)
{
	fm_doc d;
	CHECK_INT(S_parse("\xEF\xBB\xBF---\r\ntitle: x\r\n---\r\nbody\r\n", &d), 0);
	CHECK_STR(yval_get(d.meta, "title") ? yval_get(d.meta, "title")->str : NULL, "x");
	CHECK_STR(d.body, "body\r\n");
	fm_doc_free(&d);
}

TEST(unterminated_block_is_an_error_at_1_1)
{
	fm_doc d;
	CHECK_INT(S_parse("---\ntitle: x\n\n正文\n", &d), -1);
	CHECK_CONTAINS(S_diag.ptr, "b.md:1:1: error: front matter is never closed");
}

TEST(yaml_syntax_error_position)
{
	fm_doc d;
	CHECK_INT(S_parse("---\ntitle: x\ntags: [a, b\n---\n", &d), -1);
	CHECK_CONTAINS(S_diag.ptr, "b.md:");
	CHECK_CONTAINS(S_diag.ptr, "error: invalid YAML");
}

TEST(duplicate_key)
{
	fm_doc d;
	CHECK_INT(S_parse("---\ntitle: a\ntitle: b\n---\n", &d), -1);
	CHECK_CONTAINS(S_diag.ptr, "b.md:3:1: error: duplicate key 'title'");
}

TEST(root_must_be_mapping)
{
	fm_doc d;
	CHECK_INT(S_parse("---\n- a\n- b\n---\n", &d), -1);
	CHECK_CONTAINS(S_diag.ptr, "b.md:2:1: error: front matter must be a mapping");
}

TEST(aliases_rejected)
{
	fm_doc d;
	CHECK_INT(S_parse("---\na: &x [1, 2]\nb: *x\n---\n", &d), -1);
	CHECK_CONTAINS(S_diag.ptr, "b.md:3:4: error: YAML aliases");
}

TEST(empty_front_matter_is_empty_mapping)
{
	fm_doc d;
	CHECK_INT(S_parse("---\n---\nbody", &d), 0);
	CHECK(d.meta && d.meta->kind == YV_MAP && d.meta->len == 0);
	CHECK_INT(d.body_line, 3);
	fm_doc_free(&d);
}

int main(void)
{
	h_suite = "frontmatter";
	RUN(no_front_matter);
	RUN(typed_values_and_positions);
	RUN(nested_tree_keeps_keys_positions_and_order);
	RUN(crlf_and_bom);
	RUN(unterminated_block_is_an_error_at_1_1);
	RUN(yaml_syntax_error_position);
	RUN(duplicate_key);
	RUN(root_must_be_mapping);
	RUN(aliases_rejected);
	RUN(empty_front_matter_is_empty_mapping);
	buf_free(&S_diag);
	return HARNESS_DONE();
}
