#define _GNU_SOURCE
#include "stamp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
	struct timespec start;
};

static int S_cmp_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The state of one entry, as raw bytes after its name. */
static void S_line(buf *b, const char *name, const struct stat *st)
{
	struct {
		uint64_t mode, size, ino;
		int64_t mtime, mtime_ns, ctime, ctime_ns;
	} rec = {st->st_mode, (uint64_t)st->st_size, st->st_ino, st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
	         st->st_ctim.tv_sec, st->st_ctim.tv_nsec};
	buf_puts(b, name);
	buf_putc(b, '\0');
	buf_put(b, (const char *)&rec, sizeof rec);
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
static void S_walk_fd(buf *b, int fd, struct timespec *latest)
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
		S_line(b, names.items[i], &st);
		S_note_time(&st, latest);
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), names.items[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				S_walk_fd(b, sub, latest);
		}
	}
	buf_putc(b, '\0');
	strvec_free(&names);
	closedir(d);
}

/* dir and everything below it.  latest, when given, gets the newest
 * change time seen. */
static void S_walk(buf *b, const char *dir, struct timespec *latest)
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
		S_walk_fd(b, fd, latest);
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

	buf *b = &s->head;
	buf_puts(b, "jianbao stamp 1\n");
	buf_printf(b, "settings\t%s\n", settings);
	buf_printf(b, "output\t%s\n", s->out_dir);
	const char *commit = source_commit_id(src);
	buf_printf(b, "commit\t%s\n", commit ? commit : "none");
	struct stat st;
	if (stat("/proc/self/exe", &st) == 0)
		S_line(b, "(jianbao)", &st);
	buf_putc(b, '\n');
	struct timespec latest = {0, 0};
	const char *work = source_workdir(src);
	if (work) {
		char *content = path_join(work, content_dir);
		S_walk(b, content, &latest);
		free(content);
		char *themes = path_join(work, "themes");
		S_walk(b, themes, &latest);
		free(themes);
	}
	strvec roots = STRVEC_INIT;
	theme_search_dirs(&roots);
	for (size_t i = 0; i < roots.len; i++)
		S_walk(b, roots.items[i], &latest);
	strvec_free(&roots);
	/* a change within the last second could be followed by another one
	 * with the same time stamp: such a state is not recorded */
	struct timespec limit = {s->start.tv_sec - 1, s->start.tv_nsec};
	s->racy = S_after(&latest, &limit);
	buf_puts(b, "\n--\n");
	return s;
}

int stamp_fresh(stamp *s)
{
	if (!s || s->racy)
		return 0;
	char *data = NULL;
	size_t len = 0;
	if (file_read(s->file, &data, &len) < 0)
		return 0;
	int fresh = len >= s->head.len && memcmp(data, s->head.ptr, s->head.len) == 0;
	if (fresh) {
		buf now = BUF_INIT;
		S_walk(&now, s->out_dir, NULL);
		fresh = len - s->head.len == now.len && memcmp(data + s->head.len, now.ptr, now.len) == 0;
		buf_free(&now);
	}
	free(data);
	return fresh;
}

void stamp_forget(stamp *s)
{
	if (s)
		unlink(s->file);
}

void stamp_record(stamp *s)
{
	if (!s || s->racy)
		return;
	buf b = BUF_INIT;
	buf_put(&b, s->head.ptr, s->head.len);
	S_walk(&b, s->out_dir, NULL);
	file_write_atomic(s->file, b.ptr, b.len); /* without it, the next build just builds */
	buf_free(&b);
}

void stamp_free(stamp *s)
{
	if (!s)
		return;
	buf_free(&s->head);
	free(s->out_dir);
	free(s->file);
	free(s);
}
