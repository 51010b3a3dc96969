#define _GNU_SOURCE
#include "stamp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "theme.h"

struct stamp {
	char *file;     /* the record */
	char *out_dir;  /* absolute */
	buf head;       /* settings, commit and the inputs' state */
	int racy;       /* an input changed too recently to be trusted */
	int racy_inputs; /* one of them is no page (not below a page folder) */
	struct timespec start;
	struct timespec latest_pages; /* the newest change seen in the page folders */
	/* parts of head that are the commit and the page folders of the content */
	size_t page_parts[8];
	size_t npage_parts;
	/* the record of the last build, and the output's state now */
	char *record;
	size_t record_len;
	int record_read;
	buf now;        /* the output's state: the recorded one, once verified */
	int verified;   /* 1: the output is as recorded, -1: it is not, 0: not checked yet */
	int intact;     /* now is as recorded */
	strmap offsets; /* intact: relative path → where its state is in now, + 1 */
	strvec *intact_files; /* while stamp_output_intact reads now */
};

/* The record: u64 length of the head, the head, the output's state. */

static int S_cmp_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The state of one entry, as raw bytes after its name. */
typedef struct entry_state {
	uint64_t mode, size, ino;
	int64_t mtime, mtime_ns, ctime, ctime_ns;
} entry_state;

static entry_state S_state(const struct stat *st)
{
	entry_state rec = {st->st_mode,        (uint64_t)st->st_size, st->st_ino,        st->st_mtim.tv_sec,
	                   st->st_mtim.tv_nsec, st->st_ctim.tv_sec,    st->st_ctim.tv_nsec};
	return rec;
}

/* An entry: its name (len bytes), a NUL and its state. */
static void S_line_n(buf *b, const char *name, size_t len, const struct stat *st)
{
	entry_state rec = S_state(st);
	buf_put(b, name, len);
	buf_putc(b, '\0');
	buf_put(b, (const char *)&rec, sizeof rec);
}

static void S_line(buf *b, const char *name, const struct stat *st)
{
	S_line_n(b, name, strlen(name), st);
}

/* What a record starts with: the length of the head, the head.  The head
 * of a racy state gets a line no head ends with, so that stamp_fresh never
 * takes it for the state of a later build, while the output's part stays
 * good for stamp_output_intact. */
static void S_put_head(buf *b, const stamp *s)
{
	static const char racy[] = "racy\n";
	uint64_t head = s->head.len + (s->racy ? sizeof racy - 1 : 0);
	buf_put(b, (const char *)&head, 8);
	buf_put(b, s->head.ptr, s->head.len);
	if (s->racy)
		buf_put(b, racy, sizeof racy - 1);
}

static int S_after(const struct timespec *t, const struct timespec *limit)
{
	return t->tv_sec > limit->tv_sec || (t->tv_sec == limit->tv_sec && t->tv_nsec >= limit->tv_nsec);
}

static void S_note_time(const struct stat *st, struct timespec *latest)
{
	if (!latest)
		return;
	if (S_after(&st->st_mtim, latest))
		*latest = st->st_mtim;
	if (S_after(&st->st_ctim, latest))
		*latest = st->st_ctim;
}

/* The entries of the open folder fd, depth first, names in byte order;
 * a folder's entries follow it and end with an empty name. */
static void S_walk_fd(buf *b, int fd, struct timespec *latest, stamp *pages);

static const char *const S_page_dirs[] = {"bulletins", "documents", "pages"};

/* pages: the stamp whose page_parts get where the page folders are (the
 * content folder's own entries), or NULL. */
static void S_walk_fd(buf *b, int fd, struct timespec *latest, stamp *pages)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		buf_puts(b, "(unreadable)");
		buf_putc(b, '\0');
		return;
	}
	strvec names = STRVEC_INIT;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			strvec_push_copy(&names, e->d_name);
	qsort(names.items, names.len, sizeof *names.items, S_cmp_strings);
	for (size_t i = 0; i < names.len; i++) {
		struct stat st;
		if (fstatat(dirfd(d), names.items[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		int page_dir = 0;
		for (size_t k = 0; pages && k < JB_ARRAY_LEN(S_page_dirs); k++)
			page_dir |= strcmp(names.items[i], S_page_dirs[k]) == 0;
		if (page_dir)
			pages->page_parts[pages->npage_parts++] = b->len;
		S_line(b, names.items[i], &st);
		struct timespec *newest = page_dir ? &pages->latest_pages : latest;
		S_note_time(&st, newest);
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), names.items[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				S_walk_fd(b, sub, newest, NULL);
		}
		if (page_dir)
			pages->page_parts[pages->npage_parts++] = b->len;
	}
	buf_putc(b, '\0');
	strvec_free(&names);
	closedir(d);
}

/* dir and everything below it.  latest, when given, gets the newest
 * change time seen. */
static void S_walk(buf *b, const char *dir, struct timespec *latest, stamp *pages)
{
	struct stat st;
	buf_puts(b, dir);
	buf_putc(b, '\0');
	if (lstat(dir, &st) < 0) {
		buf_puts(b, "(missing)");
		buf_putc(b, '\0');
		return;
	}
	S_line(b, ".", &st);
	S_note_time(&st, latest);
	int fd = S_ISDIR(st.st_mode) ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (fd >= 0)
		S_walk_fd(b, fd, latest, pages);
}

/* dir made absolute without resolving its last part (it may not exist). */
static char *S_absolute(const char *dir)
{
	if (dir[0] == '/')
		return xstrdup(dir);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		return xstrdup(dir);
	return path_join(cwd, dir);
}

static int S_output_as_recorded(stamp *s);

static void *S_check_output(void *arg)
{
	S_output_as_recorded(arg);
	return NULL;
}

stamp *stamp_begin(source *src, const char *content_dir, const char *out_dir, const char *settings)
{
	char *abs = S_absolute(out_dir);
	size_t n = strlen(abs);
	while (n > 1 && abs[n - 1] == '/')
		abs[--n] = '\0';
	char name[32];
	snprintf(name, sizeof name, "stamp-%016llx", (unsigned long long)hash64(abs, n));
	char *file = source_state_file(src, name);
	if (!file) {
		free(abs);
		return NULL;
	}
	stamp *s = xcalloc(1, sizeof *s);
	clock_gettime(CLOCK_REALTIME, &s->start);
	s->out_dir = abs;
	s->file = file;
	/* whether the output is as the last build left it, found meanwhile (the
	 * walks share no field of s) */
	pthread_t checker;
	int checking = pthread_create(&checker, NULL, S_check_output, s) == 0;

	buf *b = &s->head;
	buf_puts(b, "jianbao stamp 2\n");
	buf_printf(b, "settings\t%s\n", settings);
	buf_printf(b, "output\t%s\n", s->out_dir);
	const char *commit = source_commit_id(src);
	s->page_parts[s->npage_parts++] = b->len; /* not an input of any one page either */
	buf_printf(b, "commit\t%s\n", commit ? commit : "none");
	s->page_parts[s->npage_parts++] = b->len;
	struct stat st;
	if (stat("/proc/self/exe", &st) == 0)
		S_line(b, "(jianbao)", &st);
	buf_putc(b, '\n');
	struct timespec latest = {0, 0};
	const char *work = source_workdir(src);
	if (work) {
		char *content = path_join(work, content_dir);
		S_walk(b, content, &latest, s);
		free(content);
		char *themes = path_join(work, "themes");
		S_walk(b, themes, &latest, NULL);
		free(themes);
	}
	strvec roots = STRVEC_INIT;
	theme_search_dirs(&roots);
	for (size_t i = 0; i < roots.len; i++)
		S_walk(b, roots.items[i], &latest, NULL);
	strvec_free(&roots);
	/* a change within the last second could be followed by another one
	 * with the same time stamp: such a state is recorded as one the next
	 * build cannot skip (see S_put_head) */
	struct timespec limit = {s->start.tv_sec - 1, s->start.tv_nsec};
	s->racy_inputs = S_after(&latest, &limit);
	s->racy = s->racy_inputs || S_after(&s->latest_pages, &limit);
	buf_puts(b, "\n--\n");
	if (checking)
		pthread_join(checker, NULL);
	return s;
}

/* The output part of the record; NULL when there is no record. */
static const char *S_recorded_output(stamp *s, size_t *len)
{
	if (!s->record_read) {
		s->record_read = 1;
		if (file_read(s->file, &s->record, &s->record_len) < 0)
			s->record = NULL;
	}
	uint64_t head = 0;
	if (!s->record || s->record_len < 8)
		return NULL;
	memcpy(&head, s->record, 8);
	if (head > s->record_len - 8)
		return NULL;
	*len = s->record_len - 8 - (size_t)head;
	return s->record + 8 + head;
}

/* Calls fn for each entry of a recorded walk (see S_walk_fd) below its
 * root, depth first: its path relative to the root, its state and where
 * that state is in the walk (from base).  0, or -1 when the walk is cut
 * short or fn returns -1. */
typedef int (*entry_fn)(void *ctx, const char *rel, const entry_state *rec, size_t off);

static int S_each_entry(const char **p, const char *end, const char *base, buf *path, entry_fn fn, void *ctx)
{
	for (;;) {
		const char *name = *p;
		size_t n = strnlen(name, (size_t)(end - name));
		if (name + n >= end)
			return -1;
		*p = name + n + 1;
		if (n == 0)
			return 0;
		entry_state rec;
		if ((size_t)(end - *p) < sizeof rec)
			return -1;
		memcpy(&rec, *p, sizeof rec);
		size_t off = (size_t)(*p - base);
		*p += sizeof rec;
		size_t at = path->len;
		if (at)
			buf_putc(path, '/');
		buf_put(path, name, n);
		if (fn(ctx, buf_cstr(path), &rec, off) < 0)
			return -1;
		if (S_ISDIR(rec.mode) && S_each_entry(p, end, base, path, fn, ctx) < 0)
			return -1;
		path->len = at;
		buf_cstr(path);
	}
}

/* An entry is as recorded (ctx: the root folder's descriptor). */
static int S_entry_unchanged(void *ctx, const char *rel, const entry_state *rec, size_t off)
{
	(void)off;
	struct stat st;
	if (fstatat(*(int *)ctx, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	entry_state now = S_state(&st);
	return memcmp(&now, rec, sizeof now) == 0 ? 0 : -1;
}

/* The output folder is as the record says: every entry recorded has the
 * same state (type, size, inode, times).  Entries added or removed are
 * found too: they change their folder's change time, which cannot be set
 * back.  No folder is read. */
static int S_output_as_recorded(stamp *s)
{
	if (s->verified)
		return s->verified > 0;
	s->verified = -1;
	size_t len = 0;
	const char *rec = S_recorded_output(s, &len);
	if (!rec)
		return 0;
	const char *p = rec, *end = rec + len;
	size_t n = strnlen(p, len);
	if (p + n >= end || strcmp(p, s->out_dir) != 0)
		return 0;
	p += n + 1;
	struct stat st;
	if (end - p >= 10 && strcmp(p, "(missing)") == 0) {
		if (lstat(s->out_dir, &st) == 0 || p + 10 != end)
			return 0;
	} else {
		entry_state want;
		if ((size_t)(end - p) < 2 + sizeof want || strcmp(p, ".") != 0)
			return 0;
		memcpy(&want, p + 2, sizeof want);
		p += 2 + sizeof want;
		int root = open(s->out_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (root < 0)
			return 0;
		entry_state now = {0};
		int ok = fstat(root, &st) == 0 && (now = S_state(&st), memcmp(&now, &want, sizeof want) == 0);
		buf path = BUF_INIT;
		ok = ok && S_each_entry(&p, end, rec, &path, S_entry_unchanged, &root) == 0 && p == end;
		buf_free(&path);
		close(root);
		if (!ok)
			return 0;
	}
	buf_put(&s->now, rec, len);
	s->verified = 1;
	return 1;
}

int stamp_fresh(stamp *s)
{
	if (!s || s->racy)
		return 0;
	size_t len = 0;
	if (!S_recorded_output(s, &len))
		return 0;
	uint64_t head = s->head.len;
	return memcmp(s->record, &head, 8) == 0 && memcmp(s->record + 8, s->head.ptr, s->head.len) == 0 &&
	       S_output_as_recorded(s);
}

/* Notes each regular file, and where each entry's state is (ctx: the stamp,
 * whose intact_files gets the files). */
static int S_note_entry(void *ctx, const char *rel, const entry_state *rec, size_t off)
{
	stamp *s = ctx;
	strmap_put(&s->offsets, rel, (void *)(uintptr_t)(off + 1));
	if (S_ISREG(rec->mode))
		strvec_push_copy(s->intact_files, rel);
	return 0;
}

int stamp_output_intact(stamp *s, strvec *files)
{
	if (!s || !S_output_as_recorded(s))
		return 0;
	/* the folder's name, ".", its state, then its entries */
	const char *p = s->now.ptr, *end = s->now.ptr + s->now.len;
	size_t n = strnlen(p, s->now.len);
	p += n + 1;
	if ((size_t)(end - p) < 2 + sizeof(entry_state) || strcmp(p, ".") != 0)
		return 0;
	strmap_put(&s->offsets, "", (void *)(uintptr_t)((size_t)(p + 2 - s->now.ptr) + 1));
	p += 2 + sizeof(entry_state);
	buf path = BUF_INIT;
	s->intact_files = files;
	int rc = S_each_entry(&p, end, s->now.ptr, &path, S_note_entry, s);
	s->intact_files = NULL;
	buf_free(&path);
	s->intact = rc == 0;
	return rc == 0;
}

void stamp_record_changed(stamp *s, const strvec *changed)
{
	if (!s)
		return;
	if (!s->intact) {
		stamp_record(s);
		return;
	}
	/* each file changed, and its folder, have a new state in the walk */
	for (size_t i = 0; i < changed->len; i++) {
		char *rel = xstrdup(changed->items[i]);
		for (int k = 0; k < 2; k++) {
			uintptr_t off = (uintptr_t)strmap_get(&s->offsets, rel);
			char *full = *rel ? path_join(s->out_dir, rel) : xstrdup(s->out_dir);
			struct stat st;
			int ok = off && lstat(full, &st) == 0;
			free(full);
			if (!ok) {
				free(rel);
				stamp_record(s);
				return;
			}
			buf line = BUF_INIT;
			S_line(&line, "", &st);
			memcpy(s->now.ptr + off - 1, line.ptr + 1, line.len - 1);
			buf_free(&line);
			char *slash = strrchr(rel, '/');
			if (slash)
				*slash = '\0';
			else
				rel[0] = '\0';
		}
		free(rel);
	}
	buf b = BUF_INIT;
	S_put_head(&b, s);
	buf_put(&b, s->now.ptr, s->now.len);
	file_write_atomic(s->file, b.ptr, b.len);
	buf_free(&b);
}

uint64_t stamp_inputs_hash(const stamp *s)
{
	/* the head without the page folders' parts */
	uint64_t h = 0, part[2];
	size_t from = 0;
	for (size_t i = 0; i + 1 < s->npage_parts; i += 2) {
		part[0] = h;
		part[1] = hash64(s->head.ptr + from, s->page_parts[i] - from);
		h = hash64(part, sizeof part);
		from = s->page_parts[i + 1];
	}
	part[0] = h;
	part[1] = hash64(s->head.ptr + from, s->head.len - from);
	return hash64(part, sizeof part);
}

int stamp_inputs_racy(const stamp *s)
{
	return s && s->racy_inputs;
}

const char *stamp_output_dir(const stamp *s)
{
	return s->out_dir;
}

void stamp_forget(stamp *s)
{
	if (s)
		unlink(s->file);
}

void stamp_record(stamp *s)
{
	if (!s)
		return;
	buf b = BUF_INIT;
	S_put_head(&b, s);
	S_walk(&b, s->out_dir, NULL, NULL);
	file_write_atomic(s->file, b.ptr, b.len); /* without it, the next build just builds */
	buf_free(&b);
}

/* Paths in the order of a walk: '/' before every other byte, so that a
 * folder's entries come right after it. */
static int S_cmp_walk(const void *a, const void *b)
{
	const unsigned char *x = (const unsigned char *)((const stamp_file *)a)->rel;
	const unsigned char *y = (const unsigned char *)((const stamp_file *)b)->rel;
	for (; *x && *x == *y; x++, y++)
		;
	unsigned cx = *x == '/' ? 1 : *x ? *x + 1u : 0, cy = *y == '/' ? 1 : *y ? *y + 1u : 0;
	return (cx > cy) - (cx < cy);
}

/* One entry of the walk: name and the state of path (below root). */
static void S_put_entry(buf *b, int root, const char *path, const char *name, size_t len, const struct stat *known)
{
	struct stat st;
	if (!known) {
		if (fstatat(root, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
			memset(&st, 0, sizeof st); /* gone: the next build's check fails */
		known = &st;
	}
	S_line_n(b, name, len, known);
}

void stamp_record_files(stamp *s, stamp_file *files, size_t n)
{
	if (!s)
		return;
	int root = open(s->out_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (root < 0 || fstat(root, &st) < 0) {
		if (root >= 0)
			close(root);
		stamp_record(s);
		return;
	}
	qsort(files, n, sizeof *files, S_cmp_walk);
	buf b = BUF_INIT;
	S_put_head(&b, s);
	/* as S_walk writes it: the folder, ".", then its entries depth first,
	 * each folder's ending with an empty name */
	buf_puts(&b, s->out_dir);
	buf_putc(&b, '\0');
	S_line(&b, ".", &st);
	const char *prev = "";
	size_t prev_depth = 0;
	for (size_t i = 0; i < n; i++) {
		const char *rel = files[i].rel;
		if (i && strcmp(rel, prev) == 0)
			continue;
		/* the folders both paths are in stay open */
		size_t common = 0, depth = 0;
		for (size_t k = 0;; k++) {
			if (rel[k] != prev[k])
				break;
			if (rel[k] == '/')
				common++;
			if (!rel[k])
				break;
		}
		for (; prev_depth > common; prev_depth--)
			buf_putc(&b, '\0');
		/* open the folders below them, then the file */
		const char *part = rel;
		for (const char *p = rel; *p; p++) {
			if (*p != '/')
				continue;
			if (depth++ >= common) {
				char *dir = xstrndup(rel, (size_t)(p - rel));
				S_put_entry(&b, root, dir, part, (size_t)(p - part), NULL);
				free(dir);
				prev_depth++;
			}
			part = p + 1;
		}
		S_put_entry(&b, root, rel, part, strlen(part), files[i].known ? &files[i].st : NULL);
		prev = rel;
	}
	for (; prev_depth > 0; prev_depth--)
		buf_putc(&b, '\0');
	buf_putc(&b, '\0');
	close(root);
	file_write_atomic(s->file, b.ptr, b.len); /* without it, the next build just builds */
	buf_free(&b);
}

void stamp_free(stamp *s)
{
	if (!s)
		return;
	buf_free(&s->head);
	buf_free(&s->now);
	strmap_free(&s->offsets, NULL);
	free(s->record);
	free(s->out_dir);
	free(s->file);
	free(s);
}
