#define _GNU_SOURCE
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "source.h"
#include "util.h"

static char S_dir[64];

/* Runs a shell command in S_dir with fixed identities; returns its status. */
static int S_sh(const char *cmd)
{
	char *full = xasprintf("cd '%s' && export GIT_CONFIG_NOSYSTEM=1 HOME=/tmp GIT_COMMITTER_NAME=C "
	                       "GIT_COMMITTER_EMAIL=c@x GIT_AUTHOR_NAME=M GIT_AUTHOR_EMAIL=m@x && { %s; } >/dev/null 2>&1",
	                       S_dir, cmd);
	int rc = system(full);
	free(full);
	return rc;
}

static void S_commit(const char *who, const char *date, const char *msg)
{
	char *cmd = xasprintf("git add -A && GIT_AUTHOR_NAME='%s' GIT_AUTHOR_EMAIL=a@x GIT_AUTHOR_DATE='%s' "
	                      "GIT_COMMITTER_DATE='%s' git commit -q -m '%s'",
	                      who, date, date, msg);
	S_sh(cmd);
	free(cmd);
}

static void S_file(const char *rel, const char *text)
{
	char *cmd = xasprintf("mkdir -p \"$(dirname '%s')\" && printf '%%s' '%s' > '%s'", rel, text, rel);
	S_sh(cmd);
	free(cmd);
}

static const file_history *S_hist(strmap *m, const char *path)
{
	return strmap_get(m, path);
}

static void S_date(int64_t t, int off, char out[11])
{
	jb_date d;
	date_from_time(t, off, &d);
	date_format_iso(&d, out);
}

TEST(one_walk_gives_created_updated_authors)
{
	S_sh("git init -q -b main .");
	S_file("content/a.md", "one");
	S_file("other/x.txt", "x");
	S_commit("Editor One", "2023-03-01T10:00:00+08:00", "a");
	S_file("content/a.md", "two");
	S_commit("Editor Two", "2023-05-02T10:00:00+08:00", "a again");
	S_file("content/sub/b.md", "b");
	S_file("other/x.txt", "y");
	S_commit("Editor One", "2023-06-01T23:30:00+08:00", "b");
	/* a side branch changes c.md; the merge itself must not count as a change */
	S_sh("git checkout -q -b side");
	S_file("content/c.md", "c");
	S_commit("Editor Three", "2023-07-01T10:00:00+08:00", "c");
	S_sh("git checkout -q main");
	S_file("content/a.md", "three");
	S_commit("Editor One", "2023-07-05T10:00:00+08:00", "a3");
	S_sh("GIT_AUTHOR_DATE=2023-08-01T10:00:00+08:00 GIT_COMMITTER_DATE=2023-08-01T10:00:00+08:00 "
	     "git merge -q --no-ff --no-edit side");

	source_options so = {.repo_dir = S_dir};
	source *src = source_open(&so);
	CHECK(src != NULL);
	if (!src)
		return;
	strmap m = STRMAP_INIT;
	CHECK_INT(source_history(src, "content", &m), 0);
	CHECK_INT(m.count, 3);
	char d[11];
	const file_history *a = S_hist(&m, "content/a.md");
	CHECK(a != NULL);
	if (a) {
		S_date(a->created, a->created_offset, d);
		CHECK_STR(d, "2023-03-01");
		S_date(a->updated, a->updated_offset, d);
		CHECK_STR(d, "2023-07-05");
		CHECK_INT(a->authors.len, 2);
		CHECK_STR(a->authors.items[0], "Editor One");
		CHECK_STR(a->authors.items[1], "Editor Two");
		CHECK(a->created_known && a->updated_known);
	}
	const file_history *b = S_hist(&m, "content/sub/b.md");
	CHECK(b != NULL);
	if (b) {
		S_date(b->created, b->created_offset, d);
		CHECK_STR(d, "2023-06-01"); /* the author's own day, not UTC's */
	}
	const file_history *c = S_hist(&m, "content/c.md");
	CHECK(c != NULL);
	if (c) {
		S_date(c->updated, c->updated_offset, d);
		CHECK_STR(d, "2023-07-01");
		CHECK_INT(c->authors.len, 1);
	}
	CHECK(S_hist(&m, "other/x.txt") == NULL);
	source_history_free(&m);

	/* reading a revision: the old text, without touching the worktree */
	source_free(src);
	so.rev = "HEAD~2";
	src = source_open(&so);
	CHECK(src != NULL);
	if (!src)
		return;
	char *data = NULL;
	size_t len = 0;
	CHECK_INT(source_read(src, "content/a.md", &data, &len), 0);
	CHECK_STR(data, "two");
	free(data);
	CHECK_INT(source_read(src, "content/c.md", &data, &len), 1);
	strvec files = STRVEC_INIT;
	CHECK_INT(source_list(src, "content", &files), 0);
	CHECK_INT(files.len, 2);
	if (files.len == 2) {
		CHECK_STR(files.items[0], "content/a.md");
		CHECK_STR(files.items[1], "content/sub/b.md");
	}
	strvec_free(&files);
	source_free(src);
}

/* The walk compares trees byte-wise and skips what two trees share: a
 * change deep in a large folder, names that sort around a folder's
 * implicit '/', a file replaced by a folder, a mode-only change and the
 * two sides of a merge (plus a change made in the merge itself). */
TEST(walk_large_folder_renames_modes_and_merges)
{
	S_sh("find . -mindepth 1 -delete && git init -q -b main .");
	S_sh("mkdir -p content/big && for i in $(seq 10 49); do mkdir content/big/d$i; printf '%s' $i > content/big/d$i/f.md; "
	     "done; mkdir content/big/a; printf a > content/big/a/in.md; printf a > content/big/a.md; printf a > content/big/a-b");
	S_file("content/x.md", "x");
	S_commit("Ann", "2023-01-01T10:00:00+00:00", "one");
	S_file("content/big/d17/f.md", "changed");
	S_commit("Bo", "2023-01-02T10:00:00+00:00", "two");
	S_sh("chmod +x content/big/d45/f.md");
	S_commit("Cy", "2023-01-03T10:00:00+00:00", "mode only");
	S_sh("rm content/x.md && mkdir content/x.md && printf in > content/x.md/in.md && printf b > content/big/a/in.md && "
	     "printf b > content/big/a.md");
	S_commit("Di", "2023-01-04T10:00:00+00:00", "file to folder");
	S_sh("git checkout -q -b side");
	S_file("content/big/d12/f.md", "side");
	S_commit("Ed", "2023-01-05T10:00:00+00:00", "side");
	S_sh("git checkout -q main");
	S_file("content/big/d48/f.md", "main");
	S_commit("Fay", "2023-01-06T10:00:00+00:00", "main");
	S_sh("GIT_AUTHOR_NAME=Gus GIT_AUTHOR_DATE=2023-01-07T10:00:00+00:00 GIT_COMMITTER_DATE=2023-01-07T10:00:00+00:00 "
	     "git merge -q --no-ff --no-commit side && printf merged > content/big/d20/f.md && git add -A && "
	     "GIT_AUTHOR_NAME=Gus GIT_AUTHOR_DATE=2023-01-07T10:00:00+00:00 GIT_COMMITTER_DATE=2023-01-07T10:00:00+00:00 "
	     "git commit -q --no-edit");

	source_options so = {.repo_dir = S_dir};
	source *src = source_open(&so);
	CHECK(src != NULL);
	if (!src)
		return;
	strmap m = STRMAP_INIT;
	CHECK_INT(source_history(src, "content", &m), 0);
	CHECK_INT(m.count, 45); /* 40 + a/in.md, a.md, a-b, x.md, x.md/in.md */
	char d[11];
	struct {
		const char *path, *updated, *authors;
	} want[] = {
		{"content/big/d10/f.md", "2023-01-01", "Ann"},
		{"content/big/d17/f.md", "2023-01-02", "Bo,Ann"},
		{"content/big/d45/f.md", "2023-01-01", "Ann"},
		{"content/big/a/in.md", "2023-01-04", "Di,Ann"},
		{"content/big/a.md", "2023-01-04", "Di,Ann"},
		{"content/big/a-b", "2023-01-01", "Ann"},
		{"content/x.md", "2023-01-01", "Ann"},
		{"content/x.md/in.md", "2023-01-04", "Di"},
		{"content/big/d12/f.md", "2023-01-05", "Ed,Ann"},
		{"content/big/d48/f.md", "2023-01-06", "Fay,Ann"},
		{"content/big/d20/f.md", "2023-01-07", "Gus,Ann"},
		{"content/big/d49/f.md", "2023-01-01", "Ann"},
	};
	for (size_t i = 0; i < JB_ARRAY_LEN(want); i++) {
		const file_history *h = S_hist(&m, want[i].path);
		if (!h) {
			h_fail("    %s: no history\n", want[i].path);
			continue;
		}
		S_date(h->updated, h->updated_offset, d);
		CHECK_STR(d, want[i].updated);
		S_date(h->created, h->created_offset, d);
		CHECK_STR(d, !strcmp(want[i].path, "content/x.md/in.md") ? "2023-01-04" : "2023-01-01");
		buf names = BUF_INIT;
		for (size_t j = 0; j < h->authors.len; j++)
			buf_printf(&names, "%s%s", j ? "," : "", h->authors.items[j]);
		CHECK_STR(buf_cstr(&names), want[i].authors);
		buf_free(&names);
	}
	source_history_free(&m);

	/* one folder deep inside the tree, and the whole repository */
	CHECK_INT(source_history(src, "content/big/d12", &m), 0);
	CHECK_INT(m.count, 1);
	CHECK(S_hist(&m, "content/big/d12/f.md") != NULL);
	source_history_free(&m);
	CHECK_INT(source_history(src, ".", &m), 0);
	CHECK_INT(m.count, 45);
	source_history_free(&m);
	CHECK_INT(source_history(src, "content/none", &m), 0);
	CHECK_INT(m.count, 0);
	source_history_free(&m);
	source_free(src);
}

TEST(bad_revision_and_no_repository)
{
	buf out = BUF_INIT;
	diag_capture(&out);
	source_options so = {.repo_dir = S_dir, .rev = "no-such-branch"};
	CHECK(source_open(&so) == NULL);
	source_options none = {.repo_dir = "/"};
	CHECK(source_open(&none) == NULL);
	diag_capture(NULL);
	CHECK_CONTAINS(out.ptr, "cannot resolve revision 'no-such-branch'");
	CHECK_CONTAINS(out.ptr, "/: error: not a git repository");
	buf_free(&out);
}

/* 1 when both maps hold the same paths with the same dates and authors
 * in the same order; prints the first difference. */
static int S_same_history(strmap *a, strmap *b)
{
	if (a->count != b->count) {
		h_fail("    %zu paths against %zu\n", a->count, b->count);
		return 0;
	}
	for (size_t i = 0; i < a->cap; i++) {
		const file_history *x = a->slots[i].key ? a->slots[i].value : NULL;
		if (!x)
			continue;
		const file_history *y = strmap_get(b, a->slots[i].key);
		int same = y && x->created == y->created && x->created_offset == y->created_offset &&
		           x->updated == y->updated && x->updated_offset == y->updated_offset &&
		           x->created_known == y->created_known && x->updated_known == y->updated_known &&
		           x->authors.len == y->authors.len;
		for (size_t k = 0; same && k < x->authors.len; k++)
			same = strcmp(x->authors.items[k], y->authors.items[k]) == 0;
		if (!same) {
			h_fail("    %s differs\n", a->slots[i].key);
			return 0;
		}
	}
	return 1;
}

/* The walk of the current commit, from the stored walk when there is one
 * (a chain of new commits on top of it), and from scratch. */
static void S_walk_both(strmap *stored, strmap *whole)
{
	source_options so = {.repo_dir = S_dir};
	source *src = source_open(&so);
	CHECK(src != NULL);
	if (!src)
		return;
	CHECK_INT(source_history(src, "content", stored), 0);
	S_sh("rm -rf .git/jianbao");
	CHECK_INT(source_history(src, "content", whole), 0);
	source_free(src);
}

TEST(stored_walk_continued_equals_whole_walk)
{
	char saved[sizeof S_dir];
	memcpy(saved, S_dir, sizeof saved);
	snprintf(S_dir, sizeof S_dir, "/tmp/jb-hist-XXXXXX");
	if (!mkdtemp(S_dir)) {
		CHECK(0);
		memcpy(S_dir, saved, sizeof saved);
		return;
	}
	S_sh("git init -q -b main .");
	S_file("content/a.md", "1");
	S_file("content/b.md", "1");
	S_commit("Editor One", "2023-01-01T10:00:00+08:00", "c1");
	S_file("content/a.md", "2");
	S_commit("Editor Two", "2023-02-01T10:00:00+08:00", "c2");
	strmap m1 = STRMAP_INIT, m2 = STRMAP_INIT;
	S_walk_both(&m1, &m2); /* the second walk stores its result */
	source_history_free(&m1);
	source_history_free(&m2);
	{
		source_options so = {.repo_dir = S_dir};
		source *src = source_open(&so);
		CHECK_INT(source_history(src, "content", &m2), 0); /* stores it */
		source_free(src);
		source_history_free(&m2);
	}
	/* new commits in a chain: new authors, a new file, an old author again,
	 * a commit dated before the stored ones */
	S_file("content/a.md", "3");
	S_commit("Editor Three", "2023-03-01T10:00:00+08:00", "c3");
	S_file("content/d.md", "1");
	S_commit("Editor Two", "2022-12-01T10:00:00+08:00", "c4");
	S_file("content/b.md", "2");
	S_file("content/a.md", "4");
	S_commit("Editor One", "2023-04-01T10:00:00+08:00", "c5");
	S_walk_both(&m1, &m2);
	CHECK(S_same_history(&m1, &m2));
	const file_history *a = strmap_get(&m1, "content/a.md");
	CHECK(a && a->authors.len == 3 && strcmp(a->authors.items[0], "Editor One") == 0);
	source_history_free(&m1);
	source_history_free(&m2);
	/* a merge on top: walked whole, same result */
	{
		source_options so = {.repo_dir = S_dir};
		source *src = source_open(&so);
		CHECK_INT(source_history(src, "content", &m1), 0);
		source_free(src);
		source_history_free(&m1);
	}
	S_sh("git checkout -q -b side HEAD~2");
	S_file("content/e.md", "1");
	S_commit("Editor Four", "2023-05-01T10:00:00+08:00", "side");
	S_sh("git checkout -q main");
	S_sh("GIT_AUTHOR_DATE=2023-06-01T10:00:00+08:00 GIT_COMMITTER_DATE=2023-06-01T10:00:00+08:00 "
	     "git merge -q --no-ff --no-edit side");
	S_walk_both(&m1, &m2);
	CHECK(S_same_history(&m1, &m2));
	CHECK(strmap_get(&m1, "content/e.md") != NULL);
	source_history_free(&m1);
	source_history_free(&m2);
	/* the stored walk of the very commit */
	{
		source_options so = {.repo_dir = S_dir};
		source *src = source_open(&so);
		CHECK_INT(source_history(src, "content", &m1), 0);
		CHECK_INT(source_history(src, "content", &m2), 0);
		CHECK(S_same_history(&m1, &m2));
		source_free(src);
		source_history_free(&m1);
		source_history_free(&m2);
	}
	remove_tree(S_dir);
	memcpy(S_dir, saved, sizeof saved);
}

int main(void)
{
	h_suite = "source";
	snprintf(S_dir, sizeof S_dir, "/tmp/jb-src-XXXXXX");
	if (!mkdtemp(S_dir))
		return 1;
	RUN(one_walk_gives_created_updated_authors);
	RUN(walk_large_folder_renames_modes_and_merges);
	RUN(bad_revision_and_no_repository);
	RUN(stored_walk_continued_equals_whole_walk);
	remove_tree(S_dir);
	return HARNESS_DONE();
}
