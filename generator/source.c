#define _GNU_SOURCE
#include "source.h"

#include <dirent.h>
#include <errno.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

source *source_open(const source_options *opts)
{
	source *s = xcalloc(1, sizeof *s);
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
	/* the history walk reads every tree once; a big object cache only
	 * costs memory */
	git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)16 << 20);
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)32 << 20);
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

const char *source_git_dir(const source *s)
{
	return s->repo ? git_repository_path(s->repo) : NULL;
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

/* S_inside for the folder of full (a regular file, not a link: the caller
 * lstat()ed it), remembering the folders already checked. */
static int S_dir_inside(source *s, const char *full)
{
	const char *slash = strrchr(full, '/');
	char *dir = slash ? xstrndup(full, (size_t)(slash - full)) : xstrdup(".");
	if (strmap_get(&s->safe_dirs, dir)) {
		free(dir);
		return 1;
	}
	if (!s->real_root)
		s->real_root = realpath(s->workdir, NULL);
	char *real = realpath(dir, NULL);
	const char *r = s->real_root;
	int ok = r && real && (strcmp(r, real) == 0 || (str_starts_with(real, r) && real[strlen(r)] == '/'));
	if (ok)
		strmap_put(&s->safe_dirs, dir, (void *)1);
	free(real);
	free(dir);
	return ok;
}

static int S_list_dir(const char *fsroot, const char *rel, strvec *out)
{
	char *full = path_join(fsroot, rel);
	struct stat lst;
	if (lstat(full, &lst) == 0 && S_ISLNK(lst.st_mode)) {
		diag_warning(rel, 0, 0, "symbolic link skipped (content must be regular files and folders)");
		free(full);
		return 0;
	}
	if (lstat(full, &lst) == 0 && !S_inside(fsroot, full)) {
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
	strvec names = STRVEC_INIT;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		strvec_push_copy(&names, de->d_name);
	}
	closedir(d);
	strvec_sort(&names);
	int rc = 0;
	for (size_t i = 0; i < names.len && rc == 0; i++) {
		char *child = path_join(rel, names.items[i]);
		char *childfull = path_join(full, names.items[i]);
		struct stat st;
		if (lstat(childfull, &st) < 0) {
			diag_error(child, 0, 0, "cannot stat: %s", strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			rc = S_list_dir(fsroot, child, out);
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
		if (S_list_dir(s->workdir, dir, out) < 0)
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

int source_read(source *s, const char *path, char **data, size_t *len)
{
	if (s->mode != MODE_REVISION) {
		char *full = path_join(s->workdir, path);
		struct stat st;
		if (lstat(full, &st) < 0 || !S_ISREG(st.st_mode) || !S_dir_inside(s, full)) {
			free(full);
			return 1;
		}
		int rc = file_read(full, data, len);
		int e = errno;
		free(full);
		if (rc < 0) {
			diag_error(path, 0, 0, "cannot read: %s", strerror(e));
			return -1;
		}
		return 0;
	}
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

typedef struct changed {
	char *path;
	git_oid oid;
} changed;

typedef struct changed_list {
	changed *items;
	size_t len, cap;
} changed_list;

static void S_changed_push(changed_list *l, char *path, const git_oid *oid)
{
	if (l->len == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->items = xrealloc(l->items, l->cap * sizeof(changed));
	}
	l->items[l->len].path = path;
	git_oid_cpy(&l->items[l->len].oid, oid);
	l->len++;
}

/* Subtree of root at prefix, or NULL. */
static git_tree *S_subtree(git_repository *repo, git_tree *root, const char *prefix)
{
	git_tree *t = NULL;
	if (!prefix || !*prefix || strcmp(prefix, ".") == 0) {
		if (git_tree_dup(&t, root) < 0)
			t = NULL;
		return t;
	}
	git_tree_entry *e = NULL;
	if (git_tree_entry_bypath(&e, root, prefix) < 0) {
		git_error_clear();
		return NULL;
	}
	if (git_tree_entry_type(e) == GIT_OBJECT_TREE && git_tree_lookup(&t, repo, git_tree_entry_id(e)) < 0)
		t = NULL;
	git_tree_entry_free(e);
	return t;
}

/* Appends to out every blob of new_tree that differs from old_tree (which
 * may be NULL), recursing only into subtrees whose ids differ. */
static int S_diff_trees(git_repository *repo, git_tree *old_tree, git_tree *new_tree, const char *dir,
                        changed_list *out)
{
	/* both entry lists are in git's tree order: walk them side by side */
	size_t n = git_tree_entrycount(new_tree), on = old_tree ? git_tree_entrycount(old_tree) : 0, j = 0;
	for (size_t i = 0; i < n; i++) {
		const git_tree_entry *ne = git_tree_entry_byindex(new_tree, i);
		const char *name = git_tree_entry_name(ne);
		const git_tree_entry *oe = NULL;
		while (j < on && git_tree_entry_cmp(git_tree_entry_byindex(old_tree, j), ne) < 0)
			j++;
		if (j < on && git_tree_entry_cmp(git_tree_entry_byindex(old_tree, j), ne) == 0)
			oe = git_tree_entry_byindex(old_tree, j);
		if (oe && git_oid_equal(git_tree_entry_id(oe), git_tree_entry_id(ne)) &&
		    git_tree_entry_type(oe) == git_tree_entry_type(ne))
			continue;
		char *path = path_join(dir, name);
		if (git_tree_entry_type(ne) == GIT_OBJECT_TREE) {
			git_tree *nsub = NULL, *osub = NULL;
			if (git_tree_lookup(&nsub, repo, git_tree_entry_id(ne)) < 0) {
				free(path);
				return -1;
			}
			if (oe && git_tree_entry_type(oe) == GIT_OBJECT_TREE &&
			    git_tree_lookup(&osub, repo, git_tree_entry_id(oe)) < 0)
				osub = NULL;
			int rc = S_diff_trees(repo, osub, nsub, path, out);
			git_tree_free(osub);
			git_tree_free(nsub);
			free(path);
			if (rc < 0)
				return -1;
		} else if (git_tree_entry_type(ne) == GIT_OBJECT_BLOB) {
			S_changed_push(out, path, git_tree_entry_id(ne));
		} else {
			free(path);
		}
	}
	return 0;
}

/* 1 when the blob at path in tree has id oid. */
static int S_tree_has(git_tree *tree, const char *path, const git_oid *oid)
{
	if (!tree)
		return 0;
	git_tree_entry *e = NULL;
	if (git_tree_entry_bypath(&e, tree, path) < 0) {
		git_error_clear();
		return 0;
	}
	int same = git_oid_equal(git_tree_entry_id(e), oid);
	git_tree_entry_free(e);
	return same;
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
static void S_read_shallow(source *s, strmap *out)
{
	char *path = path_join(git_repository_path(s->repo), "shallow");
	char *data = NULL;
	size_t len = 0;
	if (file_read(path, &data, &len) == 0) {
		char *save = NULL;
		for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			str_trim(line);
			if (strlen(line) == GIT_OID_HEXSZ)
				strmap_put(out, line, (void *)1);
		}
	}
	free(data);
	free(path);
}

int source_history(source *s, const char *prefix, strmap *map)
{
	if (s->mode == MODE_FOLDER || !s->commit)
		return 0;
	const char *pfx = (prefix && strcmp(prefix, ".") != 0) ? prefix : "";
	strmap shallow = STRMAP_INIT;
	if (s->shallow)
		S_read_shallow(s, &shallow);
	strmap seen = STRMAP_INIT;
	walk_heap heap = {0};
	size_t seq = 0;
	int rc = 0;
	size_t boundaries = 0;
	char first_boundary[GIT_OID_HEXSZ + 1] = "";

	git_commit *start = NULL;
	git_commit_dup(&start, s->commit);
	S_heap_push(&heap, (walk_item){start, git_commit_time(start), seq++});
	strmap_put(&seen, s->commit_hex, (void *)1);

	while (heap.len && rc == 0) {
		walk_item it = S_heap_pop(&heap);
		git_commit *c = it.commit;
		unsigned nparents = git_commit_parentcount(c);
		git_commit **parents = xcalloc(nparents ? nparents : 1, sizeof(git_commit *));
		char chex[GIT_OID_HEXSZ + 1];
		git_oid_tostr(chex, sizeof chex, git_commit_id(c));
		int boundary = strmap_get(&shallow, chex) != NULL;
		for (unsigned i = 0; i < nparents; i++) {
			if (git_commit_parent(&parents[i], c, i) < 0) {
				git_error_clear();
				parents[i] = NULL;
				boundary = 1; /* the parent is not in this (shallow) clone */
				continue;
			}
			char hex[GIT_OID_HEXSZ + 1];
			git_oid_tostr(hex, sizeof hex, git_commit_id(parents[i]));
			if (!strmap_get(&seen, hex)) {
				strmap_put(&seen, hex, (void *)1);
				git_commit *dup = NULL;
				git_commit_dup(&dup, parents[i]);
				S_heap_push(&heap, (walk_item){dup, git_commit_time(dup), seq++});
			}
		}
		if (boundary) {
			if (!boundaries++)
				git_oid_tostr(first_boundary, sizeof first_boundary, git_commit_id(c));
		}

		git_tree *root = NULL, *tree = NULL;
		if (git_commit_tree(&root, c) < 0) {
			diag_error(NULL, 0, 0, "cannot read a commit's tree: %s", S_git_message());
			rc = -1;
		} else {
			tree = S_subtree(s->repo, root, pfx);
		}
		if (tree) {
			git_tree *proot = NULL, *ptree = NULL;
			if (nparents > 0 && parents[0] && git_commit_tree(&proot, parents[0]) == 0)
				ptree = S_subtree(s->repo, proot, pfx);
			changed_list ch = {0};
			if (S_diff_trees(s->repo, ptree, tree, pfx, &ch) < 0) {
				diag_error(NULL, 0, 0, "cannot compare trees: %s", S_git_message());
				rc = -1;
			}
			/* A merge changed a path only if it differs from every parent. */
			git_tree **others = NULL;
			if (nparents > 1) {
				others = xcalloc(nparents, sizeof(git_tree *));
				for (unsigned i = 1; i < nparents; i++)
					if (parents[i])
						git_commit_tree(&others[i], parents[i]);
			}
			const git_signature *author = git_commit_author(c);
			for (size_t i = 0; i < ch.len; i++) {
				int same = 0;
				for (unsigned p = 1; p < nparents && !same; p++)
					same = S_tree_has(others[p], ch.items[i].path, &ch.items[i].oid);
				if (!same)
					S_history_record(map, ch.items[i].path, author, boundary);
				free(ch.items[i].path);
			}
			free(ch.items);
			if (others) {
				for (unsigned i = 0; i < nparents; i++)
					git_tree_free(others[i]);
				free(others);
			}
			git_tree_free(ptree);
			git_tree_free(proot);
		}
		git_tree_free(tree);
		git_tree_free(root);
		for (unsigned i = 0; i < nparents; i++)
			git_commit_free(parents[i]);
		free(parents);
		git_commit_free(c);
	}
	while (heap.len)
		git_commit_free(S_heap_pop(&heap).commit);
	free(heap.items);
	strmap_free(&seen, NULL);
	strmap_free(&shallow, NULL);

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
