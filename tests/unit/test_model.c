#define _GNU_SOURCE
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

#include "diag.h"
#include "model.h"
#include "source.h"
#include "util.h"

static char S_dir[64];
static buf S_diag;

static void S_write(const char *rel, const char *text)
{
	char *path = path_join(S_dir, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	mkdir_p(path, 0755);
	*slash = '/';
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	free(path);
}

static int S_load(site_model *m)
{
	source_options so = {.repo_dir = S_dir, .no_git = 1};
	source *src = source_open(&so);
	strmap none = STRMAP_INIT;
	model_options mo = {.content_dir = "content", .history = &none};
	buf_truncate(&S_diag, 0);
	diag_reset();
	diag_capture(&S_diag);
	int rc = model_load(m, src, &mo);
	diag_capture(NULL);
	source_free(src);
	return rc < 0 ? -1 : diag_errors();
}

TEST(bulletins_sorted_with_prev_next)
{
	remove_tree(S_dir);
	S_write("content/bulletins/2024/01.md", "---\ntitle: 甲\nissue: 1\ntotal: 46\ndate: 2024-01-11\n---\n正文\n");
	S_write("content/bulletins/2022/10.md", "---\ntitle: 乙\nissue: 10\ntotal: 33\ndate: 2022-09-05\ntags: [a, b, a]\n---\n");
	S_write("content/bulletins/2026/02.md", "---\ntitle: 丙\nissue: 2\ntotal: 60\ndate: 2026-03-24\n---\n");
	S_write("content/pages/about.md", "---\ntitle: 关于\n---\n");
	S_write("content/pages/help/index.md", "# 帮助\n");
	site_model m;
	CHECK_INT(S_load(&m), 0);
	CHECK_INT(m.nbulletins, 3);
	if (m.nbulletins != 3)
		return;
	CHECK_STR(m.bulletins[0]->title, "丙");
	CHECK_STR(m.bulletins[2]->title, "乙");
	CHECK(m.bulletins[1]->prev == m.bulletins[2] && m.bulletins[1]->next == m.bulletins[0]);
	CHECK(m.bulletins[0]->next == NULL && m.bulletins[2]->prev == NULL);
	CHECK_STR(m.bulletins[1]->slug, "bulletins/2024/01");
	CHECK_INT(m.bulletins[1]->total, 46);
	CHECK_INT(m.bulletins[1]->year, 2024);
	CHECK_INT(m.bulletins[2]->tags.len, 2); /* duplicates dropped */
	CHECK_INT(m.npages, 2);
	CHECK_STR(m.pages[0]->slug, "about");
	CHECK_STR(m.pages[1]->slug, "help");
	CHECK_STR(m.pages[1]->title, "帮助");
	CHECK(m.pages[1]->title_from_heading);
	model_free(&m);
}

TEST(file_without_front_matter)
{
	remove_tree(S_dir);
	S_write("content/bulletins/2025/x.md", "# 工作简报 第 300 期\n\n正文\n");
	site_model m;
	/* no date and no history in folder mode: an error */
	CHECK_INT(S_load(&m), 1);
	CHECK_CONTAINS(S_diag.ptr, "content/bulletins/2025/x.md:1:1: error: bulletin has no date");
	model_free(&m);
	S_write("content/bulletins/2025/x.md", "---\ndate: 2025-02-01\n---\n# 工作简报 第 300 期\n\n正文\n");
	CHECK_INT(S_load(&m), 0);
	CHECK_INT(m.nbulletins, 1);
	if (m.nbulletins) {
		CHECK_INT(m.bulletins[0]->issue, 300);
		CHECK_STR(m.bulletins[0]->title, "工作简报 第 300 期");
		CHECK_INT(m.bulletins[0]->body_line, 4);
	}
	model_free(&m);
}

TEST(typed_field_errors_name_value_position)
{
	remove_tree(S_dir);
	S_write("content/bulletins/2024/01.md",
	        "---\ntitle: [a]\nissue: abc\ntotal: 0\ndate: 2024-13-01\ntags: {a: b}\ndraft: maybe\n---\n");
	site_model m;
	CHECK_INT(S_load(&m), 6);
	CHECK_CONTAINS(S_diag.ptr, "content/bulletins/2024/01.md:2:8: error: 'title' must be text, not a list");
	CHECK_CONTAINS(S_diag.ptr, "content/bulletins/2024/01.md:3:8: error: 'issue' must be a whole number, got \"abc\"");
	CHECK_CONTAINS(S_diag.ptr, "content/bulletins/2024/01.md:4:8: error: 'total' must be between 1 and 999999, got 0");
	CHECK_CONTAINS(S_diag.ptr, "content/bulletins/2024/01.md:5:7: error: 'date' must be a date like 2024-01-11");
	CHECK_CONTAINS(S_diag.ptr, "content/bulletins/2024/01.md:6:7: error: 'tags' must be a list of words, not a mapping");
	CHECK_CONTAINS(S_diag.ptr, "content/bulletins/2024/01.md:7:8: error: 'draft' must be true or false");
	CHECK_INT(m.nbulletins, 0);
	model_free(&m);
}

/* Text fields are trimmed; page.params keeps the front matter as written. */
TEST(text_fields_trimmed_params_as_written)
{
	remove_tree(S_dir);
	S_write("content/bulletins/2024/01.md", "---\ntitle: \" 甲 \"\nseries: 简报\nissue: 1\ndate: 2024-01-11\n"
	                                        "editor: \"  \"\ntags: [\" a\", a, b, \"\"]\n---\n");
	S_write("content/pages/x.md", "---\nsubtitle: s\n---\n# 标题\n");
	site_model m;
	CHECK_INT(S_load(&m), 0);
	CHECK_INT(m.nbulletins, 1);
	CHECK_INT(m.npages, 1);
	if (m.nbulletins != 1 || m.npages != 1)
		return;
	page *b = m.bulletins[0];
	CHECK_STR(b->title, "甲");
	CHECK_STR(yval_get(b->meta, "title")->str, " 甲 ");
	CHECK_STR(b->series, "简报");
	CHECK(b->editor == NULL);
	CHECK_INT(b->tags.len, 2);
	if (b->tags.len == 2) {
		CHECK_STR(b->tags.items[0], "a");
		CHECK_STR(b->tags.items[1], "b");
	}
	CHECK_STR(m.pages[0]->title, "标题");
	CHECK_STR(m.pages[0]->subtitle, "s");
	model_free(&m);
}

TEST(slug_override_is_validated)
{
	remove_tree(S_dir);
	S_write("content/pages/a.md", "---\ntitle: A\nslug: ../../etc\n---\n");
	S_write("content/pages/b.md", "---\ntitle: B\nslug: 新闻\n---\n");
	site_model m;
	CHECK_INT(S_load(&m), 1);
	CHECK_CONTAINS(S_diag.ptr, "content/pages/a.md:3:7: error: 'slug' must be one path segment");
	CHECK_INT(m.npages, 1);
	if (m.npages)
		CHECK_STR(m.pages[0]->slug, "新闻");
	model_free(&m);
}

TEST(drafts_and_invalid_utf8)
{
	remove_tree(S_dir);
	S_write("content/pages/d.md", "---\ntitle: D\ndraft: true\n---\n");
	S_write("content/pages/u.md", "---\ntitle: U\n---\nok\nbad \xff here\n");
	site_model m;
	CHECK_INT(S_load(&m), 1);
	CHECK_CONTAINS(S_diag.ptr, "content/pages/u.md:5:5: error: invalid UTF-8");
	CHECK_INT(m.npages, 0);
	model_free(&m);
}

int main(void)
{
	h_suite = "model";
	snprintf(S_dir, sizeof S_dir, "/tmp/jb-model-XXXXXX");
	if (!mkdtemp(S_dir))
		return 1;
	RUN(bulletins_sorted_with_prev_next);
	RUN(file_without_front_matter);
	RUN(typed_field_errors_name_value_position);
	RUN(text_fields_trimmed_params_as_written);
	RUN(slug_override_is_validated);
	RUN(drafts_and_invalid_utf8);
	remove_tree(S_dir);
	buf_free(&S_diag);
	return HARNESS_DONE();
}
