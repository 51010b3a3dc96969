#define _GNU_SOURCE
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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
	strmap written; /* rel → wfile */
	strmap reserved; /* rel → origin: written later, possibly by another process */
	strmap dirs;    /* folders already made below the staging folder */
	size_t count;
	char *prev;     /* <dir>.jianbao-prev: the site before the last one */
	int reused;     /* the staging folder is prev, updated in place */
	strmap old;     /* reused: the files it had, rel → (void *)1; update: the files of dir */
	int update;     /* the files that change are moved into dir one by one */
	size_t kept;    /* update: files left as they were without being made again */
	strvec moves;   /* update: files written to the staging folder, to move into dir */
};

/* The output before the last build is kept beside it and becomes the next
 * build's staging folder: files whose bytes are the same stay as they are,
 * the others are rewritten in place, and what the build no longer makes is
 * removed before the swap.  A large site then costs no mass removal and
 * creation of files on every build. */
static output *S_current;

/* A file of this build: where it came from, and its state once written. */
typedef struct wfile {
	struct stat st;
	int has_st;
	char origin[];
} wfile;

static wfile *S_wfile(const char *origin, const struct stat *st)
{
	if (!origin)
		origin = "(generated)";
	size_t n = strlen(origin) + 1;
	wfile *w = xmalloc(sizeof *w + n);
	memcpy(w->origin, origin, n);
	w->has_st = st != NULL;
	if (st)
		w->st = *st;
	return w;
}

static void S_free(output *o);

/* path below the staging folder → its relative path; NULL for the folder
 * itself. */
static const char *S_rel(const output *o, const char *path)
{
	const char *rel = path + strlen(o->staging);
	return *rel ? rel + 1 : NULL;
}

static int S_scan_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	output *o = S_current;
	const char *rel = S_rel(o, path);
	if (!rel)
		return 0;
	if (flag == FTW_F && S_ISREG(st->st_mode))
		strmap_put(&o->old, rel, (void *)1);
	else if (flag == FTW_D)
		strmap_put(&o->dirs, path, (void *)1);
	else if (remove(path) < 0)
		return -1;
	return 0;
}

static int S_prune_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	output *o = S_current;
	const char *rel = S_rel(o, path);
	if (!rel)
		return 0;
	if (flag == FTW_DP) {
		if (rmdir(path) < 0 && errno != ENOTEMPTY && errno != EEXIST)
			return -1;
	} else if (!strmap_get(&o->written, rel) && unlink(path) < 0 && errno != ENOENT) {
		return -1;
	}
	return 0;
}

/* Takes over prev as the staging folder: notes its files and folders and
 * drops anything else (links, devices). */
static void S_reuse_prev(output *o)
{
	struct stat st;
	if (lstat(o->prev, &st) < 0 || !S_ISDIR(st.st_mode) || rename(o->prev, o->staging) < 0)
		return;
	S_current = o;
	if (nftw(o->staging, S_scan_entry, 32, FTW_PHYS) < 0) {
		/* unreadable: start from an empty folder after all */
		strmap_free(&o->old, NULL);
		strmap_free(&o->dirs, NULL);
		remove_tree(o->staging);
		mkdir(o->staging, 0755);
		return;
	}
	o->reused = 1;
}

/* Removes the reused folder's files that this build did not write, and
 * folders left empty. */
static int S_prune(output *o)
{
	if (!o->reused)
		return 0;
	S_current = o;
	return nftw(o->staging, S_prune_entry, 32, FTW_DEPTH | FTW_PHYS) < 0 ? -1 : 0;
}

/* The previous output, after the swap, becomes prev. */
static void S_keep_as_prev(output *o, const char *old_site)
{
	struct stat st;
	if (lstat(o->prev, &st) == 0)
		remove_tree(o->prev);
	if (rename(old_site, o->prev) < 0)
		remove_tree(old_site);
}

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
	o->prev = xasprintf("%s.jianbao-prev", clean);
	S_reuse_prev(o);
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

/* mkdir -p for folders below the staging folder: the folder itself first,
 * its parents only when they are missing, each remembered once made. */
static int S_make_dir(output *o, char *dir)
{
	if (strcmp(dir, o->staging) == 0 || strmap_get(&o->dirs, dir))
		return 0;
	if (mkdir(dir, 0755) < 0) {
		struct stat st;
		if (errno == EEXIST && o->reused && lstat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
			/* a file of the reused folder stands where a folder goes */
			if (unlink(dir) < 0 || mkdir(dir, 0755) < 0)
				return -1;
			strmap_put(&o->dirs, dir, (void *)1);
			return 0;
		}
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
	const wfile *w = strmap_get(&o->written, rel);
	const char *prev = w ? w->origin : NULL;
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

void output_each_written(const output *o, void (*fn)(void *ctx, const char *rel, const struct stat *st), void *ctx)
{
	for (size_t i = 0; i < o->written.cap; i++)
		if (o->written.slots[i].key) {
			const wfile *w = o->written.slots[i].value;
			fn(ctx, o->written.slots[i].key, w->has_st ? &w->st : NULL);
		}
}

void output_note_written(output *o, const char *rel, const char *origin, const struct stat *st)
{
	if (!strmap_get(&o->written, rel))
		strmap_put(&o->written, rel, S_wfile(origin, st));
}

/* A file of the reused folder: 1 when it holds exactly data, 0 when it is
 * a regular file of its own that may be rewritten in place, -1 when it must
 * be replaced (a folder, or a file linked from elsewhere). */
static int S_same_bytes(const char *full, const void *data, size_t len, struct stat *out)
{
	int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	int rc = -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1) {
		if (out)
			*out = st;
		rc = 0;
		if ((size_t)st.st_size == len) {
			char *have = xmalloc(len ? len : 1);
			size_t got = 0;
			while (got < len) {
				ssize_t n = read(fd, have + got, len - got);
				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0)
					break;
				got += (size_t)n;
			}
			rc = got == len && memcmp(have, data, len) == 0;
			free(have);
		}
	}
	close(fd);
	return rc;
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
	wfile *w = S_wfile(origin, NULL);
	strmap_put(&o->written, rel, w);

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
	int fd = -1;
	if (o->update && strmap_get(&o->old, rel)) {
		char *live = path_join(o->dir, rel);
		int same = S_same_bytes(live, data, len, NULL);
		free(live);
		if (same > 0) {
			free(full);
			o->count++;
			return 0;
		}
	}
	if (o->update)
		strvec_push_copy(&o->moves, rel);
	if (o->reused && strmap_get(&o->old, rel)) {
		int same = S_same_bytes(full, data, len, &w->st);
		if (same > 0) {
			w->has_st = 1;
			free(full);
			o->count++;
			return 0;
		}
		/* rewritten in place when nothing else links to it */
		if (same == 0)
			fd = open(full, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
		else
			remove_tree(full);
	}
	if (fd < 0)
		fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && o->reused && !shared && (errno == EEXIST || errno == EISDIR)) {
		/* a folder of the reused output stands where this file goes */
		remove_tree(full);
		fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	}
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
	/* its state as the stamp records it: closing changes none of it */
	if (fd_write_all(fd, data, len) < 0 || (w->has_st = fstat(fd, &w->st) == 0, close(fd) < 0)) {
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

output *output_begin_update(const char *dir, const strvec *files)
{
	char *clean = xstrdup(dir);
	size_t n = strlen(clean);
	while (n > 1 && clean[n - 1] == '/')
		clean[--n] = '\0';
	struct stat st;
	if (lstat(clean, &st) < 0 || !S_ISDIR(st.st_mode)) {
		free(clean);
		return NULL;
	}
	output *o = xcalloc(1, sizeof *o);
	o->dir = clean;
	o->staging = xasprintf("%s.jianbao-new", clean);
	o->prev = xasprintf("%s.jianbao-prev", clean);
	if (lstat(o->staging, &st) == 0)
		remove_tree(o->staging);
	if (mkdir(o->staging, 0755) < 0) {
		diag_error(o->staging, 0, 0, "cannot create the staging folder: %s", strerror(errno));
		S_free(o);
		return NULL;
	}
	o->update = 1;
	for (size_t i = 0; i < files->len; i++)
		strmap_put(&o->old, files->items[i], (void *)1);
	return o;
}

int output_has_old(const output *o, const char *rel)
{
	return o->update && strmap_get(&o->old, rel) != NULL;
}

int output_keep(output *o, const char *rel, const char *origin)
{
	if (S_claim(o, rel, origin) < 0)
		return -1;
	strmap_put(&o->written, rel, S_wfile(origin, NULL));
	o->count++;
	o->kept++;
	return 0;
}

size_t output_kept(const output *o)
{
	return o->kept;
}

int output_changed_files(const output *o, strvec *rels)
{
	if (!o->update)
		return -1;
	for (size_t i = 0; i < o->moves.len; i++)
		if (!strmap_get(&o->old, o->moves.items[i]))
			return -1;
	for (size_t i = 0; i < o->old.cap; i++)
		if (o->old.slots[i].key && !strmap_get(&o->written, o->old.slots[i].key))
			return -1;
	for (size_t i = 0; i < o->moves.len; i++)
		strvec_push_copy(rels, o->moves.items[i]);
	return 0;
}

/* Makes the folders of rel below dir (a file standing where one goes is
 * removed). */
static int S_make_live_dirs(const char *dir, const char *rel)
{
	char *path = path_join(dir, rel);
	int rc = 0;
	for (char *slash = path + strlen(dir) + 1; rc == 0 && (slash = strchr(slash, '/')) != NULL; slash++) {
		*slash = '\0';
		struct stat st;
		if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode))
			rc = unlink(path);
		if (rc == 0 && mkdir(path, 0755) < 0 && errno != EEXIST)
			rc = -1;
		*slash = '/';
	}
	free(path);
	return rc;
}

/* Removes rel's folders below dir that are left empty. */
static void S_remove_empty_dirs(const char *dir, const char *rel)
{
	char *path = path_join(dir, rel);
	size_t root = strlen(dir);
	char *slash;
	while ((slash = strrchr(path, '/')) != NULL && (size_t)(slash - path) > root) {
		*slash = '\0';
		if (rmdir(path) < 0)
			break;
	}
	free(path);
}

/* Update: every file written is moved into place, then what this build did
 * not make is removed. */
static int S_commit_update(output *o)
{
	for (size_t i = 0; i < o->moves.len; i++) {
		const char *rel = o->moves.items[i];
		char *from = path_join(o->staging, rel), *to = path_join(o->dir, rel);
		struct stat st;
		int rc = S_make_live_dirs(o->dir, rel);
		if (rc == 0 && lstat(to, &st) == 0 && S_ISDIR(st.st_mode))
			rc = remove_tree(to);
		if (rc == 0)
			rc = rename(from, to);
		if (rc < 0)
			diag_error(to, 0, 0, "cannot move the new file into place: %s", strerror(errno));
		free(from);
		free(to);
		if (rc < 0)
			return -1;
	}
	for (size_t i = 0; i < o->old.cap; i++) {
		const char *rel = o->old.slots[i].key;
		if (!rel || strmap_get(&o->written, rel))
			continue;
		char *path = path_join(o->dir, rel);
		if (unlink(path) < 0 && errno != ENOENT) {
			diag_error(path, 0, 0, "cannot remove a file of the previous build: %s", strerror(errno));
			free(path);
			return -1;
		}
		free(path);
		S_remove_empty_dirs(o->dir, rel);
	}
	return 0;
}

static void S_free(output *o)
{
	strmap_free(&o->written, free);
	strmap_free(&o->reserved, free);
	strmap_free(&o->old, NULL);
	strvec_free(&o->moves);
	free(o->prev);
	strmap_free(&o->dirs, NULL);
	free(o->dir);
	free(o->staging);
	free(o);
}

void output_abort(output *o)
{
	if (!o)
		return;
	if (o->update)
		remove_tree(o->staging);
	else if (o->reused)
		S_keep_as_prev(o, o->staging); /* still a good start for the next build */
	else
		remove_tree(o->staging);
	S_free(o);
}

int output_commit(output *o)
{
	if (o->update) {
		int rc = S_commit_update(o);
		remove_tree(o->staging);
		S_free(o);
		return rc;
	}
	if (S_prune(o) < 0) {
		diag_error(o->staging, 0, 0, "cannot remove files of the previous build: %s", strerror(errno));
		output_abort(o);
		return -1;
	}
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
		S_keep_as_prev(o, old);
		free(old);
		S_free(o);
		return 0;
	}
	S_keep_as_prev(o, o->staging);
	S_free(o);
	return 0;
}
