#define _GNU_SOURCE
#include "harness.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "output.h"
#include "util.h"

static char S_dir[64];
static buf S_diag;

static int S_exists(const char *rel)
{
	char *p = path_join(S_dir, rel);
	struct stat st;
	int ok = stat(p, &st) == 0;
	free(p);
	return ok;
}

static char *S_read(const char *rel)
{
	char *p = path_join(S_dir, rel);
	char *data = NULL;
	size_t len;
	if (file_read(p, &data, &len) < 0)
		data = NULL;
	free(p);
	return data;
}

/* Number of entries in S_dir whose name starts with prefix. */
static int S_count_prefix(const char *prefix)
{
	DIR *d = opendir(S_dir);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	if (d)
		closedir(d);
	return n;
}

TEST(first_build_then_swap_replaces_everything)
{
	char *out = path_join(S_dir, "public");
	output *o = output_begin(out);
	CHECK(o != NULL);
	CHECK_INT(output_write(o, "index.html", "v1", 2, "a.md"), 0);
	CHECK_INT(output_write(o, "old/index.html", "old", 3, "b.md"), 0);
	CHECK(!S_exists("public/index.html")); /* nothing visible before commit */
	CHECK_INT(output_commit(o), 0);
	char *s = S_read("public/index.html");
	CHECK_STR(s, "v1");
	free(s);

	o = output_begin(out);
	CHECK_INT(output_write(o, "index.html", "v2", 2, "a.md"), 0);
	CHECK_INT(output_count(o), 1);
	CHECK_INT(output_commit(o), 0);
	s = S_read("public/index.html");
	CHECK_STR(s, "v2");
	free(s);
	CHECK(!S_exists("public/old/index.html"));
	CHECK_INT(S_count_prefix("public.tmp-"), 0);
	free(out);
}

TEST(abort_keeps_old_output_and_removes_staging)
{
	char *out = path_join(S_dir, "public");
	output *o = output_begin(out);
	CHECK_INT(output_write(o, "index.html", "broken", 6, "a.md"), 0);
	output_abort(o);
	char *s = S_read("public/index.html");
	CHECK_STR(s, "v2");
	free(s);
	CHECK_INT(S_count_prefix("public.tmp-"), 0);
	free(out);
}

TEST(collisions_and_unsafe_paths_are_errors)
{
	char *out = path_join(S_dir, "site");
	output *o = output_begin(out);
	buf_truncate(&S_diag, 0);
	diag_capture(&S_diag);
	CHECK_INT(output_write(o, "about/index.html", "x", 1, "content/pages/about.md"), 0);
	CHECK_INT(output_write(o, "about/index.html", "y", 1, "content/pages/about/index.md"), -1);
	CHECK_INT(output_write(o, "../escape.html", "z", 1, "content/pages/x.md"), -1);
	CHECK_INT(output_write(o, "/etc/x", "z", 1, "content/pages/y.md"), -1);
	diag_capture(NULL);
	CHECK_CONTAINS(S_diag.ptr, "content/pages/about/index.md: error: output about/index.html is also produced by "
	                           "content/pages/about.md");
	CHECK_CONTAINS(S_diag.ptr, "content/pages/x.md: error: output path '../escape.html' is not a safe relative path");
	CHECK(!S_exists("escape.html"));
	output_abort(o);
	free(out);
}

TEST(refuses_dangerous_output_folders)
{
	buf_truncate(&S_diag, 0);
	diag_capture(&S_diag);
	CHECK(output_begin(".") == NULL);
	CHECK(output_begin("/") == NULL);
	CHECK(output_begin("..") == NULL);
	diag_capture(NULL);
	CHECK_CONTAINS(S_diag.ptr, "refusing to use '.'");
}

int main(void)
{
	h_suite = "output";
	snprintf(S_dir, sizeof S_dir, "/tmp/jb-out-XXXXXX");
	if (!mkdtemp(S_dir))
		return 1;
	RUN(first_build_then_swap_replaces_everything);
	RUN(abort_keeps_old_output_and_removes_staging);
	RUN(collisions_and_unsafe_paths_are_errors);
	RUN(refuses_dangerous_output_folders);
	remove_tree(S_dir);
	buf_free(&S_diag);
	return HARNESS_DONE();
}
