#define _GNU_SOURCE
#include "pagecache.h"

#include <stddef.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define S_MAGIC "jianbao pages 3\n"

/* The file: the magic, u64 context, u64 hash64 of the entries, then one
 * entry per file, every part starting at a multiple of 8:
 *   u64 path length, path (NUL-terminated), key
 *   u64 content hash, u64 front matter hash, u64 body line, u64 has meta, u64 heading length + 1
 *   (0: none), heading, u64 mentions, u32 × mentions, u64 meta base,
 *   u64 meta size, meta block */
/* The record being made grows to megabytes, an entry at a time: it lives
 * in a mapping of its own that grows in place (mremap moves pages, not
 * bytes), so it never needs twice its size while it grows. */
typedef struct record {
	char *ptr;
	size_t len, cap;
} record;

static void S_record_put(record *r, const void *data, size_t n)
{
	if (!n)
		return;
	if (r->len + n > r->cap) {
		size_t cap = r->cap ? r->cap : (size_t)1 << 20;
		while (cap < r->len + n)
			cap *= 2;
		void *p = r->ptr ? mremap(r->ptr, r->cap, cap, MREMAP_MAYMOVE)
		                 : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			fprintf(stderr, "jianbao: out of memory\n");
			abort();
		}
		r->ptr = p;
		r->cap = cap;
	}
	memcpy(r->ptr + r->len, data, n);
	r->len += n;
}

static void S_record_free(record *r)
{
	if (r->ptr)
		munmap(r->ptr, r->cap);
	r->ptr = NULL;
	r->len = r->cap = 0;
}

struct page_cache {
	char *file;
	uint64_t context;
	char *data; /* the record read, entries point into it */
	size_t len;
	strmap old; /* path → found (in data) */
	size_t nold;
	record next; /* the record to write */
	size_t nnext;
	int changed;
};

typedef struct found {
	const unsigned char *key;
	page_cache_entry e;
	const char *at; /* the entry in the record */
	size_t len;
	char *base_field; /* where the record says at which address the tree was */
	yval *meta;       /* the tree, once moved into place */
} found;

#define S_PAD(n) (((n) + 7) & ~(size_t)7)

typedef struct reader {
	const char *p, *end;
	int bad;
} reader;

static uint64_t S_u64(reader *r)
{
	uint64_t v = 0;
	if (r->end - r->p < 8) {
		r->bad = 1;
		return 0;
	}
	memcpy(&v, r->p, 8);
	r->p += 8;
	return v;
}

static const char *S_bytes(reader *r, uint64_t n)
{
	if (r->bad || (uint64_t)(r->end - r->p) < S_PAD(n)) {
		r->bad = 1;
		return NULL;
	}
	const char *at = r->p;
	r->p += S_PAD(n);
	return at;
}

static void S_load(page_cache *pc)
{
	if (file_read(pc->file, &pc->data, &pc->len) < 0)
		return;
	reader r = {pc->data, pc->data + pc->len, 0};
	const char *magic = S_bytes(&r, sizeof S_MAGIC - 1);
	if (!magic || memcmp(magic, S_MAGIC, sizeof S_MAGIC - 1) != 0 || S_u64(&r) != pc->context)
		return;
	/* a record damaged on disk is not used */
	uint64_t sum = S_u64(&r);
	if (r.bad || sum != hash64(r.p, (size_t)(r.end - r.p)))
		return;
	while (!r.bad && r.p < r.end) {
		found *f = xcalloc(1, sizeof *f);
		f->at = r.p;
		uint64_t n = S_u64(&r);
		const char *path = S_bytes(&r, n + 1);
		f->key = (const unsigned char *)S_bytes(&r, SOURCE_KEY_SIZE);
		f->e.content_hash = S_u64(&r);
		f->e.front_hash = S_u64(&r);
		f->e.body_line = (int)S_u64(&r);
		f->e.has_meta = (int)S_u64(&r);
		uint64_t hl = S_u64(&r);
		f->e.heading = hl ? S_bytes(&r, hl) : NULL;
		f->e.nmentions = (uint32_t)S_u64(&r);
		f->e.mentions = (const uint32_t *)(const void *)S_bytes(&r, (uint64_t)f->e.nmentions * 4);
		f->base_field = (char *)(uintptr_t)r.p;
		f->e.meta_base = S_u64(&r);
		f->e.meta_size = S_u64(&r);
		f->e.meta_block = S_bytes(&r, f->e.meta_size);
		f->len = (size_t)(r.p - f->at);
		if (r.bad || path[n] != '\0' || (hl && f->e.heading[hl - 1] != '\0')) {
			free(f);
			break;
		}
		if (strmap_get(&pc->old, path))
			free(f);
		else {
			strmap_put(&pc->old, path, f);
			pc->nold++;
		}
	}
	if (r.bad) {
		strmap_free(&pc->old, free);
		pc->old = (strmap)STRMAP_INIT;
		pc->nold = 0;
	}
}

page_cache *page_cache_open(source *src, const char *content_dir, uint64_t context)
{
	char name[32];
	snprintf(name, sizeof name, "pages-%016llx", (unsigned long long)hash64(content_dir, strlen(content_dir)));
	char *file = source_state_file(src, name);
	if (!file)
		return NULL;
	page_cache *pc = xcalloc(1, sizeof *pc);
	pc->file = file;
	pc->context = context;
	pc->old = (strmap)STRMAP_INIT;
	S_load(pc);
	/* the magic, the context and the sum of the entries go first at saving */
	return pc;
}

const page_cache_entry *page_cache_find(page_cache *pc, const char *path, const unsigned char *key)
{
	if (!pc)
		return NULL;
	const found *f = strmap_get(&pc->old, path);
	if (!f || memcmp(f->key, key, SOURCE_KEY_SIZE) != 0)
		return NULL;
	return &f->e;
}

static found *S_found_of(const page_cache_entry *e)
{
	return (found *)(void *)((char *)(uintptr_t)e - offsetof(found, e));
}

yval *page_cache_meta(page_cache *pc, const page_cache_entry *e)
{
	(void)pc;
	found *f = S_found_of(e);
	if (!f->meta && e->has_meta && e->meta_block) {
		/* moved where it is now; the record then says so, for
		 * page_cache_keep's copy */
		f->meta = yval_block_relocate((void *)(uintptr_t)e->meta_block, (size_t)e->meta_size,
		                              (uintptr_t)e->meta_base);
		uint64_t now = (uint64_t)(uintptr_t)e->meta_block;
		memcpy(f->base_field, &now, 8);
		f->e.meta_base = now;
		if (!f->meta)
			f->e.has_meta = 0; /* damaged: half moved, never used again */
	}
	return f->meta;
}

void page_cache_keep(page_cache *pc, const char *path)
{
	const found *f = pc ? strmap_get(&pc->old, path) : NULL;
	if (!f)
		return;
	S_record_put(&pc->next, f->at, f->len);
	pc->nnext++;
}

char *page_cache_take_data(page_cache *pc)
{
	if (!pc)
		return NULL;
	char *data = pc->data;
	pc->data = NULL;
	return data;
}

static void S_put_u64(record *b, uint64_t v)
{
	S_record_put(b, &v, 8);
}

static void S_put_bytes(record *b, const void *p, size_t n)
{
	static const char zeros[8];
	S_record_put(b, p, n);
	S_record_put(b, zeros, S_PAD(n) - n);
}

void page_cache_put(page_cache *pc, const char *path, const unsigned char *key, const page_cache_entry *e,
                    const yval *meta)
{
	if (!pc)
		return;
	const found *f = strmap_get(&pc->old, path);
	if (!f || memcmp(f->key, key, SOURCE_KEY_SIZE) != 0)
		pc->changed = 1;
	record *b = &pc->next;
	size_t n = strlen(path);
	S_put_u64(b, n);
	S_put_bytes(b, path, n + 1);
	S_put_bytes(b, key, SOURCE_KEY_SIZE);
	S_put_u64(b, e->content_hash);
	S_put_u64(b, e->front_hash);
	S_put_u64(b, (uint64_t)e->body_line);
	S_put_u64(b, meta != NULL);
	size_t hl = e->heading ? strlen(e->heading) + 1 : 0;
	S_put_u64(b, hl);
	if (hl)
		S_put_bytes(b, e->heading, hl);
	S_put_u64(b, e->nmentions);
	S_put_bytes(b, e->mentions, (size_t)e->nmentions * 4);
	size_t size = meta ? yval_block_size(meta) : 0;
	S_put_u64(b, (uint64_t)(uintptr_t)meta);
	S_put_u64(b, size);
	if (size)
		S_put_bytes(b, meta, size);
	pc->nnext++;
}

void page_cache_save(page_cache *pc)
{
	if (!pc || (!pc->changed && pc->nnext == pc->nold))
		return;
	char head[sizeof S_MAGIC - 1 + 16];
	uint64_t sum = hash64(pc->next.ptr ? pc->next.ptr : "", pc->next.len);
	memcpy(head, S_MAGIC, sizeof S_MAGIC - 1);
	memcpy(head + sizeof S_MAGIC - 1, &pc->context, 8);
	memcpy(head + sizeof S_MAGIC + 7, &sum, 8);
	/* without it, the next build reads the files */
	file_write_atomic2(pc->file, head, sizeof head, pc->next.ptr, pc->next.len);
}

void page_cache_free(page_cache *pc)
{
	if (!pc)
		return;
	strmap_free(&pc->old, free);
	S_record_free(&pc->next);
	free(pc->data);
	free(pc->file);
	free(pc);
}
