#include "deps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_MAGIC "jianbao deps 1\n" /* 15 bytes and a NUL: 16 */

/* The record: the magic, the global hash, then one entry per output, each
 * part a multiple of 8 bytes:
 *   u64 path length, path (NUL-terminated), u64 fingerprint, u64 flags,
 *   u64 count, u32 × count page ids */
typedef struct stored {
	const char *at; /* the entry in the record */
	size_t len;
	uint64_t fingerprint, flags, n;
	const uint32_t *ids;
} stored;

struct deps {
	char *file;
	uint64_t global;
	char *data; /* the record read */
	size_t len;
	strmap old; /* path → stored */
	int usable;
	buf next; /* entries of this build */
	/* values */
	const uint64_t *records;
	size_t nrecords;
	uint64_t build_date, commit;
	/* the output being noted */
	int depth;
	uint32_t *seen; /* page id → generation last noted in */
	uint32_t gen;
	uint32_t *ids;
	size_t nids, capids;
	uint64_t flags;
	/* captures: what they read, and for each one open where its records
	 * begin and its flags */
	uint32_t *cap_ids, *cap_seen, cap_gen;
	size_t ncap, capcap;
	struct capture {
		size_t start;
		unsigned flags;
	} *captures;
	size_t ncaptures;
};

#define S_PAD(n) (((n) + 7) & ~(size_t)7)

static int S_read_u64(const char **p, const char *end, uint64_t *v)
{
	if (end - *p < 8)
		return -1;
	memcpy(v, *p, 8);
	*p += 8;
	return 0;
}

static void S_load(deps *d)
{
	if (file_read(d->file, &d->data, &d->len) < 0)
		return;
	const char *p = d->data, *end = d->data + d->len;
	uint64_t global = 0;
	if (d->len < 24 || memcmp(p, S_MAGIC, 16) != 0)
		return;
	p += 16;
	if (S_read_u64(&p, end, &global) < 0 || global != d->global)
		return;
	while (p < end) {
		const char *at = p;
		uint64_t n = 0;
		stored *s = xcalloc(1, sizeof *s);
		int bad = S_read_u64(&p, end, &n) < 0 || (uint64_t)(end - p) < S_PAD(n + 1);
		const char *rel = p;
		if (!bad) {
			p += S_PAD(n + 1);
			bad = rel[n] != '\0' || S_read_u64(&p, end, &s->fingerprint) < 0 ||
			      S_read_u64(&p, end, &s->flags) < 0 || S_read_u64(&p, end, &s->n) < 0 ||
			      (uint64_t)(end - p) < S_PAD(s->n * 4);
		}
		if (bad) {
			free(s);
			strmap_free(&d->old, free);
			d->old = (strmap)STRMAP_INIT;
			return;
		}
		s->ids = (const uint32_t *)(const void *)p;
		p += S_PAD(s->n * 4);
		s->at = at;
		s->len = (size_t)(p - at);
		free(strmap_put(&d->old, rel, s));
	}
	d->usable = 1;
}

static char *S_file(source *src, const char *out_dir)
{
	char name[32];
	snprintf(name, sizeof name, "deps-%016llx", (unsigned long long)hash64(out_dir, strlen(out_dir)));
	return source_state_file(src, name);
}

void deps_discard(source *src, const char *out_dir)
{
	char *file = S_file(src, out_dir);
	if (file)
		unlink(file);
	free(file);
}

deps *deps_open(source *src, const char *out_dir, uint64_t global)
{
	char *file = S_file(src, out_dir);
	if (!file)
		return NULL;
	deps *d = xcalloc(1, sizeof *d);
	d->file = file;
	d->global = global;
	d->old = (strmap)STRMAP_INIT;
	d->next = (buf)BUF_INIT;
	S_load(d);
	return d;
}

int deps_usable(const deps *d)
{
	return d && d->usable;
}

void deps_set_values(deps *d, const uint64_t *records, size_t n, uint64_t build_date, uint64_t commit)
{
	if (!d)
		return;
	d->records = records;
	d->nrecords = n;
	d->build_date = build_date;
	d->commit = commit;
	free(d->seen);
	d->seen = xcalloc(n ? n : 1, sizeof *d->seen);
	d->gen = 0;
}

/* The fingerprint of pages ids (in the order noted) and flags, from the
 * values of this build; 0 when an id is unknown. */
static uint64_t S_fingerprint(const deps *d, const uint32_t *ids, size_t n, uint64_t flags)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint64_t part[3];
	for (size_t i = 0; i < n; i++) {
		if (ids[i] >= d->nrecords)
			return 0;
		part[0] = h;
		part[1] = ids[i];
		part[2] = d->records[ids[i]];
		h = hash64(part, sizeof part);
	}
	part[0] = h;
	part[1] = flags;
	part[2] = ((flags & DEPS_BUILD_DATE) ? d->build_date : 0) ^ ((flags & DEPS_COMMIT) ? d->commit * 31 : 0);
	h = hash64(part, sizeof part);
	return h ? h : 1;
}

int deps_unchanged(const deps *d, const char *rel)
{
	if (!d || !d->usable)
		return 0;
	const stored *s = strmap_get(&d->old, rel);
	return s && S_fingerprint(d, s->ids, (size_t)s->n, s->flags) == s->fingerprint;
}

void deps_keep(deps *d, const char *rel)
{
	const stored *s = d ? strmap_get(&d->old, rel) : NULL;
	if (s)
		buf_put(&d->next, s->at, s->len);
}

void deps_begin(deps *d, int self)
{
	if (!d || d->depth++ > 0)
		return;
	d->gen++;
	d->nids = 0;
	d->flags = 0;
	if (self >= 0)
		deps_page(d, self);
}

static void S_capture(deps *d, int id)
{
	if (d->cap_seen[id] == d->cap_gen)
		return;
	d->cap_seen[id] = d->cap_gen;
	if (d->ncap == d->capcap) {
		d->capcap = d->capcap ? d->capcap * 2 : 64;
		d->cap_ids = xrealloc(d->cap_ids, d->capcap * sizeof *d->cap_ids);
	}
	d->cap_ids[d->ncap++] = (uint32_t)id;
}

void deps_page(deps *d, int id)
{
	if (!d || d->depth == 0 || id < 0 || (size_t)id >= d->nrecords)
		return;
	if (d->ncaptures)
		S_capture(d, id);
	if (d->seen[id] == d->gen)
		return;
	d->seen[id] = d->gen;
	if (d->nids == d->capids) {
		d->capids = d->capids ? d->capids * 2 : 64;
		d->ids = xrealloc(d->ids, d->capids * sizeof *d->ids);
	}
	d->ids[d->nids++] = (uint32_t)id;
}

int deps_depth(const deps *d)
{
	return d ? d->depth : 0;
}

void deps_flag(deps *d, unsigned flag)
{
	if (d && d->depth > 0) {
		d->flags |= flag;
		for (size_t i = 0; i < d->ncaptures; i++)
			d->captures[i].flags |= flag;
	}
}

void deps_capture_begin(deps *d)
{
	if (!d)
		return;
	if (!d->cap_seen)
		d->cap_seen = xcalloc(d->nrecords ? d->nrecords : 1, sizeof *d->cap_seen);
	d->captures = xrealloc(d->captures, (d->ncaptures + 1) * sizeof *d->captures);
	d->captures[d->ncaptures++] = (struct capture){d->ncap, 0};
	d->cap_gen++; /* what is read from here on is taken again */
}

void deps_capture_end(deps *d, uint32_t **ids, size_t *n, unsigned *flags)
{
	*ids = NULL;
	*n = 0;
	*flags = 0;
	if (!d || !d->ncaptures)
		return;
	struct capture c = d->captures[--d->ncaptures];
	*n = d->ncap - c.start;
	if (*n) {
		*ids = xmalloc(*n * sizeof **ids);
		memcpy(*ids, d->cap_ids + c.start, *n * sizeof **ids);
	}
	*flags = c.flags;
	if (!d->ncaptures)
		d->ncap = 0;
	d->cap_gen++; /* the enclosing capture takes its records again too */
}

void deps_replay(deps *d, const uint32_t *ids, size_t n, unsigned flags)
{
	for (size_t i = 0; i < n; i++)
		deps_page(d, (int)ids[i]);
	if (flags & DEPS_BUILD_DATE)
		deps_flag(d, DEPS_BUILD_DATE);
	if (flags & DEPS_COMMIT)
		deps_flag(d, DEPS_COMMIT);
}

static void S_put_u64(buf *b, uint64_t v)
{
	buf_put(b, (const char *)&v, 8);
}

void deps_end(deps *d, const char *rel)
{
	if (!d || d->depth == 0 || --d->depth > 0)
		return;
	static const char zeros[8];
	size_t n = strlen(rel);
	S_put_u64(&d->next, n);
	buf_put(&d->next, rel, n + 1);
	buf_put(&d->next, zeros, S_PAD(n + 1) - (n + 1));
	S_put_u64(&d->next, S_fingerprint(d, d->ids, d->nids, d->flags));
	S_put_u64(&d->next, d->flags);
	S_put_u64(&d->next, d->nids);
	buf_put(&d->next, (const char *)d->ids, d->nids * 4);
	buf_put(&d->next, zeros, S_PAD(d->nids * 4) - d->nids * 4);
}

void deps_export(const deps *d, buf *out)
{
	if (d)
		buf_put(out, d->next.ptr ? d->next.ptr : "", d->next.len);
}

void deps_import(deps *d, const char *data, size_t len)
{
	if (d)
		buf_put(&d->next, data, len);
}

void deps_save(deps *d)
{
	if (!d)
		return;
	char head[24] = S_MAGIC;
	memcpy(head + 16, &d->global, 8);
	/* without it, the next build renders every page */
	file_write_atomic2(d->file, head, sizeof head, d->next.ptr, d->next.len);
}

void deps_free(deps *d)
{
	if (!d)
		return;
	strmap_free(&d->old, free);
	buf_free(&d->next);
	free(d->data);
	free(d->file);
	free(d->seen);
	free(d->ids);
	free(d->cap_ids);
	free(d->cap_seen);
	free(d->captures);
	free(d);
}
