#define _GNU_SOURCE
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "util.h"

struct output {
	char *dir;     /* the final folder */
	char *staging; /* the sibling being written */
	strmap written; /* rel → origin (owned string) */
	strmap reserved; /* rel → origin: written later, possibly by another process */
	strmap dirs;    /* folders already made below the staging folder */
	size_t count;
};

output *output_begin(const char *dir)
{
	char *clean = xstrdup(dir);
	size_t n = strlen(clean);
	while (n > 1 && clean[n - 1] == '/')
		clean[--n] = '\0';
	if (!*clean || strcmp(clean, "/") == 0 || strcmp(clean, ".") == 0 || strcmp(clean, "..") == 0) {
		diag_error(NULL, 0, 0, "refusing to use '%s' as the output folder (it would be replaced whole)", dir);
		free(clean);
		return NULL;
	}
	struct stat st;
	if (lstat(clean, &st) == 0 && !S_ISDIR(st.st_mode)) {
		diag_error(clean, 0, 0, "output path exists and is not a folder");
		free(clean);
		return NULL;
	}
	/* The parent must exist; the staging folder goes beside the output so
	 * that the final rename stays on one file system. */
	char *slash = strrchr(clean, '/');
	if (slash && slash != clean) {
		char *parent = xstrndup(clean, (size_t)(slash - clean));
		if (mkdir_p(parent, 0755) < 0) {
			diag_error(parent, 0, 0, "cannot create folder: %s", strerror(errno));
			free(parent);
			free(clean);
			return NULL;
		}
		free(parent);
	}
	char *tmpl = xasprintf("%s.tmp-XXXXXX", clean);
	if (!mkdtemp(tmpl)) {
		diag_error(tmpl, 0, 0, "cannot create staging folder: %s", strerror(errno));
		free(tmpl);
		free(clean);
		return NULL;
	}
	chmod(tmpl, 0755);
	output *o = xcalloc(1, sizeof *o);
	o->dir = clean;
	o->staging = tmpl;
	return o;
}

const char *output_staging_dir(const output *o)
{
	return o->staging;
}

size_t output_count(const output *o)
{
	return o->count;
}

static int S_write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* mkdir -p for folders below the staging folder: the folder itself first,
 * its parents only when they are missing, each remembered once made. */
static int S_make_dir(output *o, char *dir)
{
	if (strcmp(dir, o->staging) == 0 || strmap_get(&o->dirs, dir))
		return 0;
	if (mkdir(dir, 0755) < 0) {
		if (errno != ENOENT && errno != EEXIST)
			return -1;
		if (errno == ENOENT) {
			char *slash = strrchr(dir, '/');
			if (!slash)
				return -1;
			*slash = '\0';
			int rc = S_make_dir(o, dir);
			*slash = '/';
			if (rc < 0 || (mkdir(dir, 0755) < 0 && errno != EEXIST))
				return -1;
		}
	}
	strmap_put(&o->dirs, dir, (void *)1);
	return 0;
}

/* Checks that rel is a safe path that no other source claimed. */
static int S_claim(output *o, const char *rel, const char *origin)
{
	if (!path_is_safe_relative(rel)) {
		diag_error(origin, 0, 0, "output path '%s' is not a safe relative path (no '..', no absolute paths)", rel);
		return -1;
	}
	const char *prev = strmap_get(&o->written, rel);
	const char *held = strmap_get(&o->reserved, rel);
	if (!prev && held && strcmp(held, origin ? origin : "(generated)") != 0)
		prev = held;
	if (prev) {
		diag_error(origin, 0, 0, "output %s is also produced by %s: two sources map to one file", rel, prev);
		return -1;
	}
	return 0;
}

int output_reserve(output *o, const char *rel, const char *origin)
{
	if (S_claim(o, rel, origin) < 0)
		return -1;
	if (strmap_get(&o->reserved, rel)) {
		diag_error(origin, 0, 0, "output %s is produced twice by this source", rel);
		return -1;
	}
	strmap_put(&o->reserved, rel, xstrdup(origin ? origin : "(generated)"));
	return 0;
}

void output_add_count(output *o, size_t n)
{
	o->count += n;
}

int output_write(output *o, const char *rel, const void *data, size_t len, const char *origin)
{
	return output_write_file(o, rel, data, len, origin, 0);
}

int output_write_file(output *o, const char *rel, const void *data, size_t len, const char *origin, int shared)
{
	if (shared && strmap_get(&o->written, rel))
		return 0;
	if (S_claim(o, rel, origin) < 0)
		return -1;
	strmap_put(&o->written, rel, xstrdup(origin ? origin : "(generated)"));

	char *full = path_join(o->staging, rel);
	char *slash = strrchr(full, '/');
	*slash = '\0';
	int rc = S_make_dir(o, full);
	*slash = '/';
	if (rc < 0) {
		diag_error(origin, 0, 0, "cannot create folder for %s: %s", rel, strerror(errno));
		free(full);
		return -1;
	}
	int fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && shared && errno == EEXIST) {
		/* the same bytes, from a worker that got there first */
		free(full);
		return 0;
	}
	if (fd < 0) {
		diag_error(origin, 0, 0, "cannot create %s: %s", rel, strerror(errno));
		free(full);
		return -1;
	}
	if (S_write_all(fd, data, len) < 0 || close(fd) < 0) {
		diag_error(origin, 0, 0, "cannot write %s: %s", rel, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(full);
		return -1;
	}
	free(full);
	o->count++;
	return 0;
}

static void S_free(output *o)
{
	strmap_free(&o->written, free);
	strmap_free(&o->reserved, free);
	strmap_free(&o->dirs, NULL);
	free(o->dir);
	free(o->staging);
	free(o);
}

void output_abort(output *o)
{
	if (!o)
		return;
	remove_tree(o->staging);
	S_free(o);
}

int output_commit(output *o)
{
	struct stat st;
	int exists = lstat(o->dir, &st) == 0;
	if (!exists) {
		if (rename(o->staging, o->dir) < 0) {
			diag_error(o->dir, 0, 0, "cannot move the new site into place: %s", strerror(errno));
			output_abort(o);
			return -1;
		}
		S_free(o);
		return 0;
	}
	/* Exchange both names in one step; the old site ends up at the
	 * staging name and is removed afterwards. */
	if (renameat2(AT_FDCWD, o->staging, AT_FDCWD, o->dir, RENAME_EXCHANGE) < 0) {
		if (errno != EINVAL && errno != ENOSYS) {
			diag_error(o->dir, 0, 0, "cannot swap the new site into place: %s", strerror(errno));
			output_abort(o);
			return -1;
		}
		/* No RENAME_EXCHANGE on this file system: two renames. */
		char *old = xasprintf("%s.old", o->staging);
		if (rename(o->dir, old) < 0 || rename(o->staging, o->dir) < 0) {
			diag_error(o->dir, 0, 0, "cannot swap the new site into place: %s", strerror(errno));
			if (lstat(o->dir, &st) < 0)
				rename(old, o->dir);
			free(old);
			output_abort(o);
			return -1;
		}
		remove_tree(old);
		free(old);
		S_free(o);
		return 0;
	}
	remove_tree(o->staging);
	S_free(o);
	return 0;
}
