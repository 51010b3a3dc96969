/* pagecache — what the last build read from each content file.
 *
 * Loading a page means reading its file, checking its UTF-8, parsing the
 * front matter (libyaml), finding the members it names and, without a
 * title, its first heading.  For a file whose bytes are known not to have
 * changed (source_file_key: same blob, or same inode, size and times) all
 * of that is taken from the record the last build left in the git folder
 * (jianbao/pages-<hash of the content folder>).  The record also keeps a
 * hash of each file's bytes, which says whether a page changed.  A record
 * made with another jianbao, or another list of members, is not used. */
#ifndef JB_PAGECACHE_H
#define JB_PAGECACHE_H

#include <stdint.h>

#include "frontmatter.h"
#include "source.h"

typedef struct page_cache page_cache;

typedef struct page_cache_entry {
	uint64_t content_hash; /* hash64 of the file's bytes */
	uint64_t front_hash;   /* hash64 of the bytes before the body (the front matter) */
	int body_line;
	const char *heading; /* first # heading, when the title came from it; else NULL */
	const uint32_t *mentions; /* indices into the members, in the order found */
	uint32_t nmentions;
	int has_meta;
	const void *meta_block; /* yval_block_load(meta_block, meta_size, meta_base) */
	uint64_t meta_size, meta_base;
} page_cache_entry;

/* context: everything besides a file's bytes that what is kept depends on
 * (the members' names).  NULL without a git folder. */
page_cache *page_cache_open(source *src, const char *content_dir, uint64_t context);
/* The entry for path when key matches, else NULL. */
const page_cache_entry *page_cache_find(page_cache *pc, const char *path, const unsigned char *key);
/* The front matter tree of an entry found, in the record read (the same
 * tree every call); it lives as long as that record (page_cache_take_data).
 * NULL when it has none or the record is damaged. */
yval *page_cache_meta(page_cache *pc, const page_cache_entry *e);
/* Keeps the entry found for path as it is for the next build. */
void page_cache_keep(page_cache *pc, const char *path);
/* The record read, which trees from page_cache_meta point into, for the
 * caller to free after them (NULL when there is none). */
char *page_cache_take_data(page_cache *pc);
/* Keeps what was read from path (meta may be NULL) for the next build. */
void page_cache_put(page_cache *pc, const char *path, const unsigned char *key, const page_cache_entry *e,
                    const yval *meta);
/* Writes the record when it differs from the one read. */
void page_cache_save(page_cache *pc);
void page_cache_free(page_cache *pc);

#endif
