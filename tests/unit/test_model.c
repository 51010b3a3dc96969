#define _GNU_SOURCE
#include "harness.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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

/* Loads S_dir as a plain folder, or (git) as a repository's worktree. */
static int S_load_from(site_model *m, int git)
{
	source_options so = {.repo_dir = S_dir, .no_git = !git};
	source *src = source_open(&so);
	if (!src)
		return -1;
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

static int S_load(site_model *m)
{
	return S_load_from(m, 0);
}

static int S_load_git(site_model *m)
{
	return S_load_from(m, 1);
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

static int S_same_tree(const yval *a, const yval *b)
{
	if (!a || !b)
		return a == b;
	if (a->kind != b->kind || a->line != b->line || a->col != b->col || a->plain != b->plain ||
	    a->len != b->len || (a->str == NULL) != (b->str == NULL) || (a->str && strcmp(a->str, b->str) != 0))
		return 0;
	for (size_t i = 0; i < a->len; i++) {
		if (a->keys && (strcmp(a->keys[i], b->keys[i]) != 0 || a->key_lines[i] != b->key_lines[i] ||
		                a->key_cols[i] != b->key_cols[i]))
			return 0;
		if (!S_same_tree(a->items[i], b->items[i]))
			return 0;
	}
	return 1;
}

static int S_same_page(const page *a, const page *b)
{
	return strcmp(a->source, b->source) == 0 && strcmp(a->title, b->title) == 0 &&
	       a->title_from_heading == b->title_from_heading && a->body_line == b->body_line &&
	       a->content_hash == b->content_hash && a->front_hash == b->front_hash && a->issue == b->issue &&
	       a->tags.len == b->tags.len && S_same_tree(a->meta, b->meta);
}

/* What the page cache gives back is what parsing the files gives. */
TEST(cached_pages_equal_parsed_pages)
{
	remove_tree(S_dir);
	char *cmd = xasprintf("git init -q '%s'", S_dir);
	CHECK_INT(system(cmd), 0);
	free(cmd);
	S_write("content/bulletins/2024/01.md", "---\ntitle: 开新篇\nissue: 1\ntotal: 46\ndate: 2024-01-11\n"
	                                        "tags: [学分银行, \"网络 园区\"]\nextra: {a: [1, {b: c}], d: ~}\n---\n\n正文。\n");
	S_write("content/bulletins/2024/02.md", "---\nissue: 2\ntotal: 47\ndate: 2024-02-11\n---\n# 标题来自正文\n\n正文。\n");
	S_write("content/pages/about.md", "# 关于\n\n没有前言。\n");
	sleep(2); /* files changed in the last second are never remembered */
	site_model fresh, cached, edited;
	CHECK_INT(S_load_git(&fresh), 0);
	CHECK_INT(S_load_git(&cached), 0);
	CHECK_INT((int)cached.nbulletins, 2);
	CHECK_INT((int)cached.npages, 1);
	for (size_t i = 0; i < fresh.nbulletins && i < cached.nbulletins; i++) {
		CHECK(!fresh.bulletins[i]->meta_borrowed);
		CHECK(cached.bulletins[i]->meta_borrowed); /* from the cache */
		CHECK(S_same_page(fresh.bulletins[i], cached.bulletins[i]));
	}
	CHECK(fresh.npages == 1 && cached.npages == 1 && S_same_page(fresh.pages[0], cached.pages[0]));
	CHECK(cached.pages[0]->title_from_heading);

	/* an edited file is read again, the others still come from the cache */
	S_write("content/bulletins/2024/02.md", "---\nissue: 2\ntotal: 47\ndate: 2024-02-11\n---\n# 新标题\n");
	sleep(2);
	CHECK_INT(S_load_git(&edited), 0);
	page *p2 = model_bulletin(&edited, "content", "2024/02"), *p1 = model_bulletin(&edited, "content", "2024/01");
	CHECK(p2 && !p2->meta_borrowed && strcmp(p2->title, "新标题") == 0);
	CHECK(p1 && p1->meta_borrowed && S_same_page(p1, model_bulletin(&fresh, "content", "2024/01")));
	model_free(&fresh);
	model_free(&cached);
	model_free(&edited);

	/* a damaged record: every byte of each tree flipped in turn is either
	 * refused (the file is read again) or gives a tree that stays inside
	 * its block; the pages are loaded all the same */
	char *glob = path_join(S_dir, ".git/jianbao");
	char *file = NULL;
	DIR *d = opendir(glob);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "pages-", 6) == 0)
			file = path_join(glob, e->d_name);
	if (d)
		closedir(d);
	CHECK(file != NULL);
	char *data = NULL;
	size_t len = 0;
	CHECK_INT(file ? file_read(file, &data, &len) : -1, 0);
	for (size_t at = len / 2; data && at < len; at += 7) {
		data[at] ^= 0x5a;
		file_write_atomic(file, data, len);
		site_model m;
		CHECK_INT(S_load_git(&m), 0);
		if (m.nbulletins != 2)
			fprintf(stderr, "at %zu of %zu: %s\n", at, len, S_diag.ptr);
		CHECK_INT((int)m.nbulletins, 2);
		model_free(&m);
		data[at] ^= 0x5a;
	}
	free(data);
	free(file);
	free(glob);
}

/* Enough files for several threads: their messages still come in the
 * order of the files. */
TEST(many_files_report_in_file_order)
{
	remove_tree(S_dir);
	char rel[64], text[160];
	for (int i = 0; i < 300; i++) {
		snprintf(rel, sizeof rel, "content/bulletins/%d/%02d.md", 1700 + i / 12, i % 12 + 1);
		if (i % 37 == 5)
			snprintf(text, sizeof text, "---\ntitle: 第%d\nissue: x%d\ntotal: %d\ndate: %d-%02d-01\n---\n", i, i, i + 1,
			         1700 + i / 12, i % 12 + 1);
		else
			snprintf(text, sizeof text, "---\ntitle: 第%d\nissue: %d\ntotal: %d\ndate: %d-%02d-01\n---\n正文\n", i,
			         i % 12 + 1, i + 1, 1700 + i / 12, i % 12 + 1);
		S_write(rel, text);
	}
	site_model m;
	int errors = S_load(&m);
	CHECK_INT(errors, 8);
	/* the files with errors, as the messages name them, in byte order */
	buf want = BUF_INIT;
	for (int i = 0; i < 300; i++)
		if (i % 37 == 5)
			buf_printf(&want, "content/bulletins/%d/%02d.md:3:8: error: 'issue' must be a whole number, got \"x%d\"\n",
			           1700 + i / 12, i % 12 + 1, i);
	CHECK_STR(buf_cstr(&S_diag), buf_cstr(&want));
	CHECK_INT(m.nbulletins, 292);
	buf_free(&want);
	model_free(&m);
}

TEST(body_read_again_must_be_the_bytes_loaded)
{
	remove_tree(S_dir);
	S_write("content/bulletins/2024/01.md", "---\ntitle: 甲\nissue: 1\ntotal: 46\ndate: 2024-01-11\n---\n正文\n");
	source_options so = {.repo_dir = S_dir, .no_git = 1};
	source *src = source_open(&so);
	CHECK(src != NULL);
	if (!src)
		return;
	strmap none = STRMAP_INIT;
	model_options mo = {.content_dir = "content", .history = &none};
	site_model m;
	buf_truncate(&S_diag, 0);
	diag_reset();
	diag_capture(&S_diag);
	CHECK_INT(model_load(&m, src, &mo), 0);
	char *owner = NULL;
	const char *body = NULL;
	size_t len = 0;
	CHECK_INT(model_read_body(src, m.bulletins[0], &owner, &body, &len), 0);
	CHECK(body && len == strlen("正文\n") && memcmp(body, "正文\n", len) == 0);
	free(owner);
	S_write("content/bulletins/2024/01.md", "---\ntitle: 甲\nissue: 1\ntotal: 46\ndate: 2024-01-11\n---\n改过\n");
	owner = NULL;
	CHECK_INT(model_read_body(src, m.bulletins[0], &owner, &body, &len), -1);
	CHECK(owner == NULL);
	diag_capture(NULL);
	CHECK_CONTAINS(S_diag.ptr, "content/bulletins/2024/01.md: error: changed while the site was being built: build again");
	model_free(&m);
	source_free(src);
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
	RUN(cached_pages_equal_parsed_pages);
	RUN(many_files_report_in_file_order);
	RUN(body_read_again_must_be_the_bytes_loaded);
	remove_tree(S_dir);
	buf_free(&S_diag);
	return HARNESS_DONE();
}
