#define _GNU_SOURCE
#include "source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <git2/sys/repository.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"

typedef enum source_mode { MODE_WORKTREE, MODE_REVISION, MODE_FOLDER } source_mode;

struct source {
	source_mode mode;
	git_repository *repo;
	git_commit *commit; /* the built commit (HEAD in worktree mode), may be NULL */
	git_tree *tree;     /* revision mode only */
	char *workdir;      /* worktree and folder modes, without trailing '/' */
	char *describe;
	char commit_hex[GIT_OID_HEXSZ + 1];
	int shallow;
	char *real_root;   /* realpath of workdir */
	strmap safe_dirs;  /* folders known to lie inside the repository */
	struct timespec opened;
	/* source_read and source_file_key may be called from several threads:
	 * this guards safe_dirs, and every libgit2 call in revision mode */
	pthread_mutex_t lock;
};

static const char *S_git_message(void)
{
	const git_error *e = git_error_last();
	return e && e->message ? e->message : "unknown libgit2 error";
}

static char *S_strip_slash(const char *p)
{
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	return xstrndup(p, n);
}

/* Revision mode reads every page from the packs, twice: through small
 * windows, few of them mapped at a time, as mapped pack pages count as the
 * process's memory.  The history walk, which reads a pack from end to end,
 * maps it whole (S_large_windows) and is faster for it. */
static void S_small_windows(void)
{
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)1 << 20);
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)8 << 20);
}

static void S_large_windows(void)
{
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)1 << 30);
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)32 << 20);
}

source *source_open(const source_options *opts)
{
	source *s = xcalloc(1, sizeof *s);
	pthread_mutex_init(&s->lock, NULL);
	clock_gettime(CLOCK_REALTIME, &s->opened);
	const char *dir = opts->repo_dir ? opts->repo_dir : ".";

	if (opts->no_git) {
		struct stat st;
		if (opts->rev) {
			diag_error(NULL, 0, 0, "--rev needs a git repository; it cannot be used with --no-git");
			goto fail;
		}
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			diag_error(dir, 0, 0, "not a directory");
			goto fail;
		}
		s->mode = MODE_FOLDER;
		s->workdir = S_strip_slash(dir);
		s->describe = xasprintf("folder %s (no git: file dates unknown)", s->workdir);
		return s;
	}

	git_libgit2_init();
	/* the history walk reads every object once and bypasses the cache;
	 * what else reads objects (revision mode: folders, commits) needs
	 * little of it */
	git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)16 << 20);
	S_small_windows();
	/* objects come from the repository's own packs, whose checksums git
	 * already verified; hashing each again only costs time */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	if (git_repository_open_ext(&s->repo, dir, 0, NULL) < 0) {
		diag_error(dir, 0, 0, "not a git repository (or any parent up to /): %s; "
		           "use --no-git to build a plain folder", S_git_message());
		goto fail;
	}
	s->shallow = git_repository_is_shallow(s->repo) == 1;

	const char *rev = opts->rev;
	if (!rev && git_repository_is_bare(s->repo))
		rev = "HEAD"; /* a bare repository has no worktree to read */

	if (rev) {
		git_object *obj = NULL;
		if (git_revparse_single(&obj, s->repo, rev) < 0) {
			diag_error(NULL, 0, 0, "cannot resolve revision '%s': %s", rev, S_git_message());
			goto fail;
		}
		git_object *peeled = NULL;
		int rc = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
		git_object_free(obj);
		if (rc < 0) {
			diag_error(NULL, 0, 0, "revision '%s' does not name a commit: %s", rev, S_git_message());
			goto fail;
		}
		s->commit = (git_commit *)peeled;
		if (git_commit_tree(&s->tree, s->commit) < 0) {
			diag_error(NULL, 0, 0, "cannot read the tree of '%s': %s", rev, S_git_message());
			goto fail;
		}
		s->mode = MODE_REVISION;
	} else {
		const char *wd = git_repository_workdir(s->repo);
		if (!wd) {
			diag_error(dir, 0, 0, "repository has no working tree; use --rev");
			goto fail;
		}
		s->mode = MODE_WORKTREE;
		s->workdir = S_strip_slash(wd);
		git_object *head = NULL;
		if (git_revparse_single(&head, s->repo, "HEAD") == 0) {
			git_object *peeled = NULL;
			if (git_object_peel(&peeled, head, GIT_OBJECT_COMMIT) == 0)
				s->commit = (git_commit *)peeled;
			git_object_free(head);
		}
		git_error_clear();
	}
	if (s->commit)
		git_oid_tostr(s->commit_hex, sizeof s->commit_hex, git_commit_id(s->commit));
	if (s->mode == MODE_REVISION)
		s->describe = xasprintf("commit %.12s (%s)", s->commit_hex, rev);
	else
		s->describe = xasprintf("worktree %s", s->workdir);
	return s;

fail:
	source_free(s);
	return NULL;
}

void source_free(source *s)
{
	if (!s)
		return;
	git_tree_free(s->tree);
	git_commit_free(s->commit);
	if (s->repo) {
		git_repository_free(s->repo);
		git_libgit2_shutdown();
	}
	free(s->workdir);
	free(s->describe);
	free(s->real_root);
	strmap_free(&s->safe_dirs, NULL);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

const char *source_describe(const source *s)
{
	return s->describe;
}

const char *source_workdir(const source *s)
{
	return s->mode == MODE_REVISION ? NULL : s->workdir;
}

char *source_state_file(const source *s, const char *name)
{
	if (!s->repo)
		return NULL;
	char *folder = path_join(git_repository_path(s->repo), "jianbao");
	char *file = mkdir_p(folder, 0755) == 0 ? path_join(folder, name) : NULL;
	free(folder);
	return file;
}

int source_is_git(const source *s)
{
	return s->mode != MODE_FOLDER;
}

int source_is_shallow(const source *s)
{
	return s->shallow;
}

const char *source_commit_id(const source *s)
{
	return s->commit ? s->commit_hex : NULL;
}

int source_commit_time(const source *s, int64_t *when, int *offset)
{
	if (!s->commit)
		return -1;
	*when = git_commit_time(s->commit);
	*offset = git_commit_time_offset(s->commit);
	return 0;
}

/* ---- listing ---- */

/* 1 when full (which exists) resolves to a place inside root: a symbolic
 * link anywhere on the way must not lead out of the repository. */
static int S_inside(const char *root, const char *full)
{
	char *r = realpath(root, NULL), *f = realpath(full, NULL);
	int ok = r && f && (strcmp(r, f) == 0 || (str_starts_with(f, r) && f[strlen(r)] == '/'));
	free(r);
	free(f);
	return ok;
}

/* Whether the folder dir lies inside the repository, remembering the
 * folders already checked: a real folder (no link) in a folder inside is
 * inside, so only the first folder of a tree costs a realpath. */
static int S_folder_inside(source *s, const char *dir)
{
	if (strmap_get(&s->safe_dirs, dir))
		return 1;
	const char *up = strrchr(dir, '/');
	const char *name = up ? up + 1 : dir;
	size_t root_len = strlen(s->workdir);
	int below = up && (size_t)(up - dir) >= root_len && strncmp(dir, s->workdir, root_len) == 0 &&
	            (dir[root_len] == '/' || (root_len && s->workdir[root_len - 1] == '/'));
	int ok;
	if (below && name[0] && strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
		char *parent = xstrndup(dir, (size_t)(up - dir));
		struct stat st;
		ok = S_folder_inside(s, parent) && lstat(dir, &st) == 0 && S_ISDIR(st.st_mode);
		free(parent);
	} else {
		if (!s->real_root)
			s->real_root = realpath(s->workdir, NULL);
		char *real = realpath(dir, NULL);
		const char *r = s->real_root;
		ok = r && real && (strcmp(r, real) == 0 || (str_starts_with(real, r) && real[strlen(r)] == '/'));
		free(real);
	}
	if (ok)
		strmap_put(&s->safe_dirs, dir, (void *)1);
	return ok;
}

/* S_inside for the folder of full (a regular file, not a link: the caller
 * lstat()ed it). */
static int S_dir_inside_locked(source *s, const char *full)
{
	const char *slash = strrchr(full, '/');
	char *dir = slash ? xstrndup(full, (size_t)(slash - full)) : xstrdup(".");
	int ok = S_folder_inside(s, dir);
	free(dir);
	return ok;
}

static int S_dir_inside(source *s, const char *full)
{
	pthread_mutex_lock(&s->lock);
	int ok = S_dir_inside_locked(s, full);
	pthread_mutex_unlock(&s->lock);
	return ok;
}

/* checked: rel is a real folder found while listing one inside the
 * repository (so inside it too). */
static int S_list_dir(const char *fsroot, const char *rel, strvec *out, int checked)
{
	char *full = path_join(fsroot, rel);
	struct stat lst;
	if (!checked && lstat(full, &lst) == 0 && S_ISLNK(lst.st_mode)) {
		diag_warning(rel, 0, 0, "symbolic link skipped (content must be regular files and folders)");
		free(full);
		return 0;
	}
	if (!checked && lstat(full, &lst) == 0 && !S_inside(fsroot, full)) {
		diag_warning(rel, 0, 0, "skipped: it lies outside the repository");
		free(full);
		return 0;
	}
	DIR *d = opendir(full);
	if (!d) {
		int e = errno;
		free(full);
		if (e == ENOENT || e == ENOTDIR)
			return 0;
		diag_error(rel, 0, 0, "cannot read directory: %s", strerror(e));
		return -1;
	}
	/* names with their type from the folder (when it gives one) after them */
	strvec names = STRVEC_INIT;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		size_t n = strlen(de->d_name);
		char *e = xmalloc(n + 2);
		memcpy(e, de->d_name, n + 1);
		e[n + 1] = de->d_type == DT_REG ? 'f' : de->d_type == DT_DIR ? 'd' : '?';
		strvec_push(&names, e);
	}
	closedir(d);
	strvec_sort(&names);
	int rc = 0;
	for (size_t i = 0; i < names.len && rc == 0; i++) {
		char *child = path_join(rel, names.items[i]);
		char *childfull = path_join(full, names.items[i]);
		char type = names.items[i][strlen(names.items[i]) + 1];
		struct stat st = {.st_mode = type == 'f' ? S_IFREG : S_IFDIR};
		if (type == '?' && lstat(childfull, &st) < 0) {
			diag_error(child, 0, 0, "cannot stat: %s", strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			rc = S_list_dir(fsroot, child, out, 1);
		} else if (S_ISREG(st.st_mode)) {
			strvec_push(out, child);
			child = NULL;
		} else if (S_ISLNK(st.st_mode)) {
			diag_warning(child, 0, 0, "symbolic link skipped (content must be regular files)");
		}
		free(child);
		free(childfull);
	}
	strvec_free(&names);
	free(full);
	return rc;
}

typedef struct tree_walk_ctx {
	const char *prefix;
	strvec *out;
} tree_walk_ctx;

static int S_tree_walk_cb(const char *root, const git_tree_entry *entry, void *payload)
{
	tree_walk_ctx *ctx = payload;
	const char *name = git_tree_entry_name(entry);
	if (name[0] == '.')
		return git_tree_entry_type(entry) == GIT_OBJECT_TREE ? 1 : 0; /* skip hidden */
	if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB)
		return 0;
	git_filemode_t mode = git_tree_entry_filemode(entry);
	char *rel = xasprintf("%s%s", root, name);
	char *path = path_join(ctx->prefix, rel);
	free(rel);
	if (mode == GIT_FILEMODE_LINK) {
		diag_warning(path, 0, 0, "symbolic link skipped (content must be regular files)");
		free(path);
		return 0;
	}
	strvec_push(ctx->out, path);
	return 0;
}

int source_list(source *s, const char *dir, strvec *out)
{
	size_t before = out->len;
	if (s->mode != MODE_REVISION) {
		if (S_list_dir(s->workdir, dir, out, 0) < 0)
			return -1;
	} else {
		git_tree *sub = NULL;
		if (!dir || !*dir || strcmp(dir, ".") == 0) {
			if (git_tree_dup(&sub, s->tree) < 0)
				return -1;
		} else {
			git_tree_entry *e = NULL;
			if (git_tree_entry_bypath(&e, s->tree, dir) < 0) {
				git_error_clear();
				return 0;
			}
			int is_tree = git_tree_entry_type(e) == GIT_OBJECT_TREE;
			int rc = is_tree ? git_tree_lookup(&sub, s->repo, git_tree_entry_id(e)) : 0;
			git_tree_entry_free(e);
			if (!is_tree)
				return 0;
			if (rc < 0) {
				diag_error(dir, 0, 0, "cannot read tree: %s", S_git_message());
				return -1;
			}
		}
		tree_walk_ctx ctx = {(dir && strcmp(dir, ".") != 0) ? dir : "", out};
		int rc = git_tree_walk(sub, GIT_TREEWALK_PRE, S_tree_walk_cb, &ctx);
		git_tree_free(sub);
		if (rc < 0) {
			diag_error(dir, 0, 0, "cannot walk tree: %s", S_git_message());
			return -1;
		}
	}
	/* Sort only what this call added, by byte order. */
	strvec tail = {out->items + before, out->len - before, out->len - before};
	strvec_sort(&tail);
	return 0;
}

static int S_blob_key(source *s, const char *path, unsigned char key[SOURCE_KEY_SIZE])
{
	git_tree_entry *e = NULL;
	if (git_tree_entry_bypath(&e, s->tree, path) < 0) {
		git_error_clear();
		return 1;
	}
	int blob = git_tree_entry_type(e) == GIT_OBJECT_BLOB && git_tree_entry_filemode(e) != GIT_FILEMODE_LINK;
	if (blob) {
		key[0] = 'b';
		memcpy(key + 8, git_tree_entry_id(e)->id, GIT_OID_RAWSZ);
	}
	git_tree_entry_free(e);
	return blob ? 0 : 1;
}

int source_file_key(source *s, const char *path, unsigned char key[SOURCE_KEY_SIZE])
{
	memset(key, 0, SOURCE_KEY_SIZE);
	if (s->mode == MODE_REVISION) {
		pthread_mutex_lock(&s->lock);
		int rc = S_blob_key(s, path, key);
		pthread_mutex_unlock(&s->lock);
		return rc;
	}
	char *full = path_join(s->workdir, path);
	struct stat st;
	int ok = lstat(full, &st) == 0 && S_ISREG(st.st_mode) && S_dir_inside(s, full);
	free(full);
	if (!ok)
		return 1;
	/* a change in the second before this build could be followed by
	 * another with the same times */
	time_t limit = s->opened.tv_sec - 1;
	if (st.st_mtim.tv_sec >= limit || st.st_ctim.tv_sec >= limit)
		return 1;
	int64_t f[6] = {(int64_t)st.st_ino,        (int64_t)st.st_size,       (int64_t)st.st_mtim.tv_sec,
	                (int64_t)st.st_mtim.tv_nsec, (int64_t)st.st_ctim.tv_sec, (int64_t)st.st_ctim.tv_nsec};
	key[0] = 'f';
	memcpy(key + 8, f, sizeof f);
	return 0;
}

/* A regular file of the worktree (not a link, in a folder inside it), read
 * whole: 0, 1 when it is none, -1 with errno set. */
static int S_read_file(source *s, const char *full, char **data, size_t *len)
{
	/* O_NONBLOCK: a FIFO put there must not stop the build */
	int fd = open(full, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ELOOP || errno == ENOTDIR ? 1 : -1;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !S_dir_inside(s, full)) {
		close(fd);
		return 1;
	}
	/* the size it has now, and more should it grow meanwhile */
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *p = xmalloc(cap + 1);
	for (;;) {
		ssize_t got = read(fd, p + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;
			free(p);
			close(fd);
			errno = e;
			return -1;
		}
		n += (size_t)got;
		if (got == 0 || n < cap)
			break;
		cap *= 2;
		p = xrealloc(p, cap + 1);
	}
	close(fd);
	p[n] = '\0';
	*data = p;
	*len = n;
	return 0;
}

static int S_read_blob(source *s, const char *path, char **data, size_t *len)
{
	git_tree_entry *e = NULL;
	if (git_tree_entry_bypath(&e, s->tree, path) < 0) {
		git_error_clear();
		return 1;
	}
	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB || git_tree_entry_filemode(e) == GIT_FILEMODE_LINK) {
		git_tree_entry_free(e);
		return 1;
	}
	git_blob *blob = NULL;
	int rc = git_blob_lookup(&blob, s->repo, git_tree_entry_id(e));
	git_tree_entry_free(e);
	if (rc < 0) {
		diag_error(path, 0, 0, "cannot read blob: %s", S_git_message());
		return -1;
	}
	size_t n = (size_t)git_blob_rawsize(blob);
	*data = xstrndup(git_blob_rawcontent(blob), n);
	*len = n;
	git_blob_free(blob);
	return 0;
}

int source_read(source *s, const char *path, char **data, size_t *len)
{
	if (s->mode != MODE_REVISION) {
		char *full = path_join(s->workdir, path);
		int rc = S_read_file(s, full, data, len);
		int e = errno;
		free(full);
		if (rc < 0)
			diag_error(path, 0, 0, "cannot read: %s", strerror(e));
		return rc;
	}
	pthread_mutex_lock(&s->lock);
	int rc = S_read_blob(s, path, data, len);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* ---- history: one walk over all commits, newest first ---- */

typedef struct walk_item {
	git_commit *commit;
	int64_t time;
	size_t seq; /* insertion order, for a stable tie break */
} walk_item;

typedef struct walk_heap {
	walk_item *items;
	size_t len, cap;
} walk_heap;

static int S_item_before(const walk_item *a, const walk_item *b)
{
	if (a->time != b->time)
		return a->time > b->time;
	return a->seq < b->seq;
}

static void S_heap_push(walk_heap *h, walk_item it)
{
	if (h->len == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->items = xrealloc(h->items, h->cap * sizeof(walk_item));
	}
	size_t i = h->len++;
	h->items[i] = it;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!S_item_before(&h->items[i], &h->items[p]))
			break;
		walk_item t = h->items[i];
		h->items[i] = h->items[p];
		h->items[p] = t;
		i = p;
	}
}

static walk_item S_heap_pop(walk_heap *h)
{
	walk_item top = h->items[0];
	h->items[0] = h->items[--h->len];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->len && S_item_before(&h->items[l], &h->items[m]))
			m = l;
		if (r < h->len && S_item_before(&h->items[r], &h->items[m]))
			m = r;
		if (m == i)
			break;
		walk_item t = h->items[i];
		h->items[i] = h->items[m];
		h->items[m] = t;
		i = m;
	}
	return top;
}

/* A set of object ids, by open addressing: the ids are hashes already. */
typedef struct oid_set {
	git_oid *slots;
	unsigned char *used;
	size_t cap, count;
} oid_set;

static size_t S_oid_slot(const git_oid *id, size_t mask)
{
	size_t h;
	memcpy(&h, id->id, sizeof h);
	return h & mask;
}

static int S_oid_set_has(const oid_set *set, const git_oid *id)
{
	if (!set->cap)
		return 0;
	size_t mask = set->cap - 1;
	for (size_t i = S_oid_slot(id, mask); set->used[i]; i = (i + 1) & mask)
		if (git_oid_equal(&set->slots[i], id))
			return 1;
	return 0;
}

/* Adds id; returns 1 when it was not there yet. */
static int S_oid_set_add(oid_set *set, const git_oid *id)
{
	if ((set->count + 1) * 2 > set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 256, mask = cap - 1;
		git_oid *slots = xmalloc(cap * sizeof *slots);
		unsigned char *used = xcalloc(cap, 1);
		for (size_t i = 0; i < set->cap; i++) {
			if (!set->used[i])
				continue;
			size_t j = S_oid_slot(&set->slots[i], mask);
			while (used[j])
				j = (j + 1) & mask;
			used[j] = 1;
			git_oid_cpy(&slots[j], &set->slots[i]);
		}
		free(set->slots);
		free(set->used);
		set->slots = slots;
		set->used = used;
		set->cap = cap;
	}
	size_t mask = set->cap - 1, i = S_oid_slot(id, mask);
	for (; set->used[i]; i = (i + 1) & mask)
		if (git_oid_equal(&set->slots[i], id))
			return 0;
	set->used[i] = 1;
	git_oid_cpy(&set->slots[i], id);
	set->count++;
	return 1;
}

static void S_oid_set_free(oid_set *set)
{
	free(set->slots);
	free(set->used);
}

typedef struct changed {
	char *path;
	git_oid oid;
} changed;

typedef struct changed_list {
	changed *items;
	size_t len, cap;
} changed_list;

static void S_changed_push(changed_list *l, char *path, const unsigned char *raw_id)
{
	if (l->len == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->items = xrealloc(l->items, l->cap * sizeof(changed));
	}
	l->items[l->len].path = path;
	git_oid_fromraw(&l->items[l->len].oid, raw_id);
	l->len++;
}

static void S_changed_free(changed_list *l)
{
	for (size_t i = 0; i < l->len; i++)
		free(l->items[i].path);
	free(l->items);
}

/* Trees are read raw from the object database and compared as bytes.  The
 * trees read for one commit are kept until the next commit is done: in a
 * walk newest first the next commit is usually this one's parent, whose
 * trees were just read as the old side of the comparison.  Large trees
 * (a folder of hundreds of folders) are above libgit2's cache limit for
 * trees, so without this each would be read and inflated twice. */
#define TREES_KEPT 64

typedef struct kept_tree {
	git_oid id;
	git_odb_object *obj;
} kept_tree;

typedef struct history_walk {
	git_odb *odb;
	kept_tree cur[TREES_KEPT], prev[TREES_KEPT];
	size_t ncur, nprev;
} history_walk;

/* The raw tree id (a new reference), or NULL with libgit2's error set. */
static git_odb_object *S_tree_read(history_walk *w, const git_oid *id)
{
	git_odb_object *obj = NULL;
	for (size_t i = 0; i < w->ncur; i++)
		if (git_oid_equal(&w->cur[i].id, id)) {
			git_odb_object_dup(&obj, w->cur[i].obj);
			return obj;
		}
	for (size_t i = 0; i < w->nprev && !obj; i++)
		if (git_oid_equal(&w->prev[i].id, id))
			git_odb_object_dup(&obj, w->prev[i].obj);
	if (!obj) {
		if (git_odb_read(&obj, w->odb, id) < 0)
			return NULL;
		if (git_odb_object_type(obj) != GIT_OBJECT_TREE) {
			git_odb_object_free(obj);
			git_error_set_str(GIT_ERROR_OBJECT, "a tree entry of a folder names an object that is not a tree");
			return NULL;
		}
	}
	if (w->ncur < TREES_KEPT) {
		git_oid_cpy(&w->cur[w->ncur].id, id);
		git_odb_object_dup(&w->cur[w->ncur].obj, obj);
		w->ncur++;
	}
	return obj;
}

/* Called after each commit: what it read stays for the next one. */
static void S_trees_next(history_walk *w)
{
	for (size_t i = 0; i < w->nprev; i++)
		git_odb_object_free(w->prev[i].obj);
	memcpy(w->prev, w->cur, w->ncur * sizeof w->cur[0]);
	w->nprev = w->ncur;
	w->ncur = 0;
}

static void S_trees_free(history_walk *w)
{
	S_trees_next(w);
	S_trees_next(w);
}

/* One entry of a raw tree: "<octal mode> <name>\0<20-byte id>". */
typedef struct raw_entry {
	const char *name; /* NUL-terminated in the tree's data */
	size_t name_len;
	unsigned mode;
	const unsigned char *id;
	size_t size; /* bytes of the whole entry */
} raw_entry;

static int S_entry_at(const unsigned char *p, const unsigned char *end, raw_entry *e)
{
	const unsigned char *q = p;
	unsigned mode = 0;
	while (q < end && *q >= '0' && *q <= '7')
		mode = mode << 3 | (unsigned)(*q++ - '0');
	if (q == p || q >= end || *q != ' ')
		return -1;
	const unsigned char *name = ++q;
	while (q < end && *q)
		q++;
	if (q == name || (size_t)(end - q) < 1 + GIT_OID_RAWSZ)
		return -1;
	e->name = (const char *)name;
	e->name_len = (size_t)(q - name);
	e->mode = mode;
	e->id = q + 1;
	e->size = (size_t)(q + 1 + GIT_OID_RAWSZ - p);
	return 0;
}

/* As git_tree_entry_type. */
static git_object_t S_entry_type(unsigned mode)
{
	if ((mode & 0170000) == 0160000)
		return GIT_OBJECT_COMMIT;
	if ((mode & 0170000) == 0040000)
		return GIT_OBJECT_TREE;
	return GIT_OBJECT_BLOB;
}

/* git's tree order (git_tree_entry_cmp): a folder sorts as if its name
 * ended in '/'. */
static int S_entry_cmp(const raw_entry *a, const raw_entry *b)
{
	size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
	int c = memcmp(a->name, b->name, n);
	if (c)
		return c;
	unsigned ca = n < a->name_len ? (unsigned char)a->name[n] : S_entry_type(a->mode) == GIT_OBJECT_TREE ? '/' : 0;
	unsigned cb = n < b->name_len ? (unsigned char)b->name[n] : S_entry_type(b->mode) == GIT_OBJECT_TREE ? '/' : 0;
	return ca < cb ? -1 : ca > cb;
}

static int S_malformed_tree(void)
{
	git_error_set_str(GIT_ERROR_OBJECT, "malformed tree object");
	return -1;
}

/* Appends to out every blob of tree new_id that differs from tree old_id
 * (which may be NULL), recursing only into subtrees whose ids differ.
 * Both entry lists are in git's tree order and walked side by side; the
 * bytes the two trees share at their start and at their end are skipped
 * without comparing entries, so a commit that changes one file in a folder
 * of many costs little more than finding the one entry that differs. */
static int S_diff_trees(history_walk *w, const git_oid *old_id, const git_oid *new_id, buf *dir,
                        changed_list *out)
{
	git_odb_object *nobj = S_tree_read(w, new_id), *oobj = NULL;
	if (!nobj)
		return -1;
	if (old_id && !(oobj = S_tree_read(w, old_id)))
		git_error_clear(); /* unreadable: everything in new counts as changed */
	const unsigned char *n = git_odb_object_data(nobj), *nend = n + git_odb_object_size(nobj);
	const unsigned char *o = oobj ? git_odb_object_data(oobj) : NULL;
	const unsigned char *oend = o ? o + git_odb_object_size(oobj) : NULL;
	size_t head = 0, tail = 0;
	if (o) {
		size_t nlen = (size_t)(nend - n), olen = (size_t)(oend - o), m = nlen < olen ? nlen : olen;
		while (head + 64 <= m && memcmp(n + head, o + head, 64) == 0)
			head += 64;
		while (head < m && n[head] == o[head])
			head++;
		m -= head;
		while (tail + 64 <= m && memcmp(nend - tail - 64, oend - tail - 64, 64) == 0)
			tail += 64;
		while (tail < m && nend[-(ptrdiff_t)tail - 1] == oend[-(ptrdiff_t)tail - 1])
			tail++;
	}
	int rc = 0;
	raw_entry ne, oe;
	const unsigned char *p = n, *q;
	/* entries wholly inside the shared head are the same on both sides:
	 * step over them by their NUL after the name and the 20-byte id */
	for (;;) {
		const unsigned char *z = memchr(p, 0, (size_t)(nend - p));
		if (!z || (size_t)(z - n) + 1 + GIT_OID_RAWSZ > head)
			break;
		p = z + 1 + GIT_OID_RAWSZ;
	}
	q = o ? o + (p - n) : NULL;
	while (p < nend && rc == 0) {
		/* the rest lies in the shared tail: nothing more differs */
		if (q && nend - p == oend - q && (size_t)(nend - p) <= tail)
			break;
		if (S_entry_at(p, nend, &ne) < 0) {
			rc = S_malformed_tree();
			break;
		}
		p += ne.size;
		int matched = 0;
		while (q && q < oend) {
			if (S_entry_at(q, oend, &oe) < 0) {
				rc = S_malformed_tree();
				break;
			}
			int c = S_entry_cmp(&oe, &ne);
			if (c > 0)
				break;
			q += oe.size;
			if (c == 0) {
				matched = 1;
				break;
			}
		}
		if (rc < 0)
			break;
		git_object_t nt = S_entry_type(ne.mode), ot = matched ? S_entry_type(oe.mode) : GIT_OBJECT_INVALID;
		if (matched && nt == ot && memcmp(ne.id, oe.id, GIT_OID_RAWSZ) == 0)
			continue;
		if (nt == GIT_OBJECT_TREE) {
			git_oid nid, oid;
			git_oid_fromraw(&nid, ne.id);
			if (ot == GIT_OBJECT_TREE)
				git_oid_fromraw(&oid, oe.id);
			size_t mark = dir->len;
			if (mark)
				buf_putc(dir, '/');
			buf_put(dir, ne.name, ne.name_len);
			rc = S_diff_trees(w, ot == GIT_OBJECT_TREE ? &oid : NULL, &nid, dir, out);
			buf_truncate(dir, mark);
		} else if (nt == GIT_OBJECT_BLOB) {
			size_t dn = dir->len, sep = dn ? 1 : 0;
			char *path = xmalloc(dn + sep + ne.name_len + 1);
			memcpy(path, buf_cstr(dir), dn);
			path[dn] = '/';
			memcpy(path + dn + sep, ne.name, ne.name_len + 1);
			S_changed_push(out, path, ne.id);
		}
	}
	git_odb_object_free(oobj);
	git_odb_object_free(nobj);
	return rc;
}

/* The id of the folder at prefix in the tree root: 0; 1 when there is no
 * such folder (or it cannot be read); -1 when root itself cannot be read. */
static int S_subtree_id(history_walk *w, const git_oid *root, const char *prefix, git_oid *out)
{
	git_oid cur;
	git_oid_cpy(&cur, root);
	git_odb_object *obj = S_tree_read(w, &cur);
	if (!obj)
		return -1;
	for (const char *p = prefix; *p;) {
		if (*p == '/') {
			p++;
			continue;
		}
		size_t len = strcspn(p, "/");
		if (!obj && !(obj = S_tree_read(w, &cur))) {
			git_error_clear();
			return 1;
		}
		const unsigned char *d = git_odb_object_data(obj), *end = d + git_odb_object_size(obj);
		raw_entry e;
		int found = 0;
		for (; d < end && S_entry_at(d, end, &e) == 0; d += e.size) {
			if (e.name_len == len && memcmp(e.name, p, len) == 0) {
				found = S_entry_type(e.mode) == GIT_OBJECT_TREE;
				if (found)
					git_oid_fromraw(&cur, e.id);
				break;
			}
		}
		git_odb_object_free(obj);
		obj = NULL;
		if (!found)
			return 1;
		p += len;
	}
	git_odb_object_free(obj);
	git_oid_cpy(out, &cur);
	return 0;
}

static void S_history_record(strmap *map, const char *path, const git_signature *author, int boundary)
{
	file_history *h = strmap_get(map, path);
	if (!h) {
		h = xcalloc(1, sizeof *h);
		h->updated = author->when.time;
		h->updated_offset = author->when.offset;
		h->updated_known = !boundary;
		strmap_put(map, path, h);
	}
	h->created = author->when.time;
	h->created_offset = author->when.offset;
	h->created_known = !boundary;
	const char *name = author->name && *author->name ? author->name : "unknown";
	if (!strvec_contains(&h->authors, name))
		strvec_push_copy(&h->authors, name);
}

/* The commits whose parents a shallow clone cut off, from $GIT_DIR/shallow. */
static void S_read_shallow(source *s, oid_set *out)
{
	char *path = path_join(git_repository_path(s->repo), "shallow");
	char *data = NULL;
	size_t len = 0;
	if (file_read(path, &data, &len) == 0) {
		char *save = NULL;
		for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			git_oid id;
			str_trim(line);
			if (strlen(line) == GIT_OID_HEXSZ && git_oid_fromstr(&id, line) == 0)
				S_oid_set_add(out, &id);
		}
	}
	git_error_clear();
	free(data);
	free(path);
}

/* Removes from ch what a merge took unchanged from its other parents: a
 * merge changed a path only if it differs from every parent. */
static void S_merge_filter(history_walk *w, git_commit **parents, unsigned nparents, const char *pfx, buf *dir,
                           const git_oid *tree_id, changed_list *ch)
{
	for (unsigned p = 1; p < nparents && ch->len; p++) {
		git_oid other;
		if (!parents[p] || S_subtree_id(w, git_commit_tree_id(parents[p]), pfx, &other) != 0) {
			git_error_clear();
			continue; /* no such folder there: everything differs from it */
		}
		changed_list diff = {0};
		if (!git_oid_equal(&other, tree_id) && S_diff_trees(w, &other, tree_id, dir, &diff) < 0) {
			git_error_clear();
			S_changed_free(&diff);
			continue;
		}
		strmap differs = STRMAP_INIT;
		for (size_t i = 0; i < diff.len; i++)
			strmap_put(&differs, diff.items[i].path, (void *)1);
		size_t kept = 0;
		for (size_t i = 0; i < ch->len; i++) {
			if (strmap_get(&differs, ch->items[i].path))
				ch->items[kept++] = ch->items[i];
			else
				free(ch->items[i].path);
		}
		ch->len = kept;
		strmap_free(&differs, NULL);
		S_changed_free(&diff);
	}
}

static void S_free_history(void *p);

/* ---- the history of the last build, kept in the git folder ----
 *
 * A walk's result is stored per content prefix with the commit it started
 * from.  When the next build's commit descends from that one through a
 * chain of commits with one parent each, only that chain is walked and its
 * result put in front of the stored one: in a newest-first walk the chain
 * comes before everything the stored walk saw, so dates and the order of
 * authors come out as a whole walk gives them.  Shallow clones are always
 * walked whole. */

#define S_HISTORY_MAGIC "jianbao history 1\n"
#define S_CHAIN_MAX 1000

static char *S_history_cache(const source *s, const char *pfx)
{
	char name[32];
	snprintf(name, sizeof name, "history-%016llx", (unsigned long long)hash64(pfx, strlen(pfx)));
	return source_state_file(s, name);
}

static void S_put_u32(buf *b, uint32_t v)
{
	buf_put(b, (const char *)&v, sizeof v);
}

static void S_put_i64(buf *b, int64_t v)
{
	buf_put(b, (const char *)&v, sizeof v);
}

static void S_put_str(buf *b, const char *s)
{
	uint32_t n = (uint32_t)strlen(s);
	S_put_u32(b, n);
	buf_put(b, s, n);
}

typedef struct reader {
	const char *p, *end;
	int bad;
} reader;

static void S_take(reader *r, void *out, size_t n)
{
	if ((size_t)(r->end - r->p) < n) {
		r->bad = 1;
		memset(out, 0, n);
		return;
	}
	memcpy(out, r->p, n);
	r->p += n;
}

static char *S_take_str(reader *r)
{
	uint32_t n = 0;
	S_take(r, &n, sizeof n);
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = 1;
		return NULL;
	}
	char *s = xstrndup(r->p, n);
	r->p += n;
	return s;
}

static void S_history_save(const char *file, const git_oid *commit, const strmap *map)
{
	buf b = BUF_INIT;
	buf_puts(&b, S_HISTORY_MAGIC);
	buf_put(&b, (const char *)commit->id, GIT_OID_RAWSZ);
	S_put_u32(&b, (uint32_t)map->count);
	for (size_t i = 0; i < map->cap; i++) {
		const file_history *h = map->slots[i].key ? map->slots[i].value : NULL;
		if (!h)
			continue;
		S_put_str(&b, map->slots[i].key);
		S_put_i64(&b, h->created);
		S_put_i64(&b, h->created_offset);
		S_put_i64(&b, h->updated);
		S_put_i64(&b, h->updated_offset);
		S_put_u32(&b, (uint32_t)h->authors.len);
		for (size_t k = 0; k < h->authors.len; k++)
			S_put_str(&b, h->authors.items[k]);
	}
	file_write_atomic(file, b.ptr, b.len); /* a cache: without it, the next build walks all */
	buf_free(&b);
}

/* 0 with the stored walk in map and its commit in commit; -1 when there is
 * none (or it cannot be read). */
static int S_history_load(const char *file, git_oid *commit, strmap *map)
{
	char *data = NULL;
	size_t len = 0;
	if (file_read(file, &data, &len) < 0)
		return -1;
	size_t magic = strlen(S_HISTORY_MAGIC);
	if (len < magic + GIT_OID_RAWSZ || memcmp(data, S_HISTORY_MAGIC, magic) != 0) {
		free(data);
		return -1;
	}
	reader r = {data + magic, data + len, 0};
	unsigned char raw[GIT_OID_RAWSZ];
	S_take(&r, raw, sizeof raw);
	git_oid_fromraw(commit, raw);
	uint32_t n = 0;
	S_take(&r, &n, sizeof n);
	for (uint32_t i = 0; i < n && !r.bad; i++) {
		char *path = S_take_str(&r);
		file_history *h = xcalloc(1, sizeof *h);
		int64_t v[4];
		S_take(&r, v, sizeof v);
		h->created = v[0], h->created_offset = (int)v[1], h->updated = v[2], h->updated_offset = (int)v[3];
		h->created_known = h->updated_known = 1;
		uint32_t na = 0;
		S_take(&r, &na, sizeof na);
		for (uint32_t k = 0; k < na && !r.bad; k++) {
			char *a = S_take_str(&r);
			if (a)
				strvec_push(&h->authors, a);
		}
		if (path && !r.bad)
			strmap_put(map, path, h);
		else
			S_free_history(h);
		free(path);
	}
	free(data);
	if (r.bad || r.p != r.end) {
		source_history_free(map);
		return -1;
	}
	return 0;
}

/* 1 when from reaches ancestor by first parents, every commit on the way
 * having exactly one parent. */
static int S_chain_to(source *s, git_commit *from, const git_oid *ancestor)
{
	git_commit *c = NULL;
	git_commit_dup(&c, from);
	int found = 0;
	for (int i = 0; i < S_CHAIN_MAX && c && git_commit_parentcount(c) == 1; i++) {
		const git_oid *pid = git_commit_parent_id(c, 0);
		if (git_oid_equal(pid, ancestor)) {
			found = 1;
			break;
		}
		git_commit *p = NULL;
		if (git_commit_lookup(&p, s->repo, pid) < 0)
			git_error_clear();
		git_commit_free(c);
		c = p;
	}
	git_commit_free(c);
	return found;
}

/* Puts the stored walk behind the chain's: the chain's dates of change are
 * the newer ones, the stored walk's dates of creation the older ones. */
static void S_history_append(strmap *map, strmap *old)
{
	for (size_t i = 0; i < old->cap; i++) {
		file_history *o = old->slots[i].key ? old->slots[i].value : NULL;
		if (!o)
			continue;
		file_history *h = strmap_get(map, old->slots[i].key);
		if (!h) {
			strmap_put(map, old->slots[i].key, o);
			continue;
		}
		h->created = o->created;
		h->created_offset = o->created_offset;
		h->created_known = o->created_known;
		for (size_t k = 0; k < o->authors.len; k++)
			if (!strvec_contains(&h->authors, o->authors.items[k]))
				strvec_push_copy(&h->authors, o->authors.items[k]);
		S_free_history(o);
	}
	strmap_free(old, NULL);
}

int source_history(source *s, const char *prefix, strmap *map)
{
	if (s->mode == MODE_FOLDER || !s->commit)
		return 0;
	const char *pfx = (prefix && strcmp(prefix, ".") != 0) ? prefix : "";
	/* the folder being compared, as path_join would write it */
	buf dir = BUF_INIT;
	size_t pn = strlen(pfx);
	while (pn > 1 && pfx[pn - 1] == '/')
		pn--;
	buf_put(&dir, pfx, pn);
	history_walk w = {0};
	if (git_repository_odb(&w.odb, s->repo) < 0) {
		buf_free(&dir);
		diag_error(NULL, 0, 0, "cannot open the object database: %s", S_git_message());
		return -1;
	}
	/* every commit and tree is read once: storing them in libgit2's object
	 * cache only costs time and memory */
	git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 0);
	S_large_windows();
	oid_set shallow = {0}, seen = {0};
	if (s->shallow)
		S_read_shallow(s, &shallow);
	walk_heap heap = {0};
	size_t seq = 0;
	int rc = 0;
	size_t boundaries = 0;
	char first_boundary[GIT_OID_HEXSZ + 1] = "";

	char *cache = s->shallow ? NULL : S_history_cache(s, pfx);
	strmap old = STRMAP_INIT;
	git_oid stop;
	int chained = 0;
	if (cache && S_history_load(cache, &stop, &old) == 0) {
		if (git_oid_equal(&stop, git_commit_id(s->commit))) {
			/* the walk of this very commit */
			S_history_append(map, &old);
			free(cache);
			S_oid_set_free(&shallow);
			S_trees_free(&w);
			git_odb_free(w.odb);
			buf_free(&dir);
			git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 1);
			S_small_windows();
			return 0;
		}
		chained = S_chain_to(s, s->commit, &stop);
		if (!chained)
			source_history_free(&old);
	}

	git_commit *start = NULL;
	git_commit_dup(&start, s->commit);
	S_heap_push(&heap, (walk_item){start, git_commit_time(start), seq++});
	S_oid_set_add(&seen, git_commit_id(s->commit));

	while (heap.len && rc == 0) {
		walk_item it = S_heap_pop(&heap);
		git_commit *c = it.commit;
		unsigned nparents = git_commit_parentcount(c);
		git_commit **parents = xcalloc(nparents ? nparents : 1, sizeof(git_commit *));
		int boundary = S_oid_set_has(&shallow, git_commit_id(c));
		for (unsigned i = 0; i < nparents; i++) {
			if (git_commit_parent(&parents[i], c, i) < 0) {
				git_error_clear();
				parents[i] = NULL;
				boundary = 1; /* the parent is not in this (shallow) clone */
				continue;
			}
			if (chained && git_oid_equal(git_commit_id(parents[i]), &stop))
				continue; /* the stored walk starts here */
			if (S_oid_set_add(&seen, git_commit_id(parents[i]))) {
				git_commit *dup = NULL;
				git_commit_dup(&dup, parents[i]);
				S_heap_push(&heap, (walk_item){dup, git_commit_time(dup), seq++});
			}
		}
		if (boundary) {
			if (!boundaries++)
				git_oid_tostr(first_boundary, sizeof first_boundary, git_commit_id(c));
		}

		git_oid tree_id, old_id;
		int have = S_subtree_id(&w, git_commit_tree_id(c), pfx, &tree_id);
		if (have < 0) {
			diag_error(NULL, 0, 0, "cannot read a commit's tree: %s", S_git_message());
			rc = -1;
		} else if (have == 0) {
			int have_old = 0;
			if (nparents > 0 && parents[0]) {
				have_old = S_subtree_id(&w, git_commit_tree_id(parents[0]), pfx, &old_id) == 0;
				git_error_clear();
			}
			changed_list ch = {0};
			if (have_old && git_oid_equal(&old_id, &tree_id)) {
				/* nothing below prefix changed */
			} else if (S_diff_trees(&w, have_old ? &old_id : NULL, &tree_id, &dir, &ch) < 0) {
				diag_error(NULL, 0, 0, "cannot compare trees: %s", S_git_message());
				rc = -1;
			}
			if (nparents > 1)
				S_merge_filter(&w, parents, nparents, pfx, &dir, &tree_id, &ch);
			const git_signature *author = git_commit_author(c);
			for (size_t i = 0; i < ch.len; i++)
				S_history_record(map, ch.items[i].path, author, boundary);
			S_changed_free(&ch);
		}
		S_trees_next(&w);
		for (unsigned i = 0; i < nparents; i++)
			git_commit_free(parents[i]);
		free(parents);
		git_commit_free(c);
	}
	while (heap.len)
		git_commit_free(S_heap_pop(&heap).commit);
	free(heap.items);
	S_trees_free(&w);
	git_odb_free(w.odb);
	buf_free(&dir);
	git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 1);
	/* The walk mapped the packs and filled their delta-base caches (tens of
	 * MB in a large history); the rest of the build reads from the working
	 * tree or only a few objects, so let libgit2 drop all of it.  Its
	 * object database is opened again when next needed; the objects held
	 * (s->commit, s->tree) stay valid. */
	git_repository__cleanup(s->repo);
	S_small_windows();
	S_oid_set_free(&seen);
	S_oid_set_free(&shallow);
	if (chained)
		S_history_append(map, &old);
	if (cache && rc == 0 && !boundaries)
		S_history_save(cache, git_commit_id(s->commit), map);
	free(cache);

	if (boundaries) {
		size_t unknown = 0;
		for (size_t i = 0; i < map->cap; i++) {
			file_history *h = map->slots[i].key ? map->slots[i].value : NULL;
			if (h && !h->created_known)
				unknown++;
		}
		diag_warning(NULL, 0, 0,
		             "shallow clone: history stops at commit %.12s; creation dates of %zu file(s) "
		             "are unknown (fetch the full history, e.g. git fetch --unshallow)",
		             first_boundary, unknown);
	}
	return rc;
}

static void S_free_history(void *p)
{
	file_history *h = p;
	strvec_free(&h->authors);
	free(h);
}

void source_history_free(strmap *map)
{
	strmap_free(map, S_free_history);
}
