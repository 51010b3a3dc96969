/* deps — which pages each output was made from.
 *
 * While a template renders an output, every page table it reads a field of
 * (its own, a neighbour's, one in a list) is noted, and so is reading the
 * build date or the commit.  A page is three records, noted apart: its
 * text (content, summary), its history (created, updated, authors) and its
 * other fields (front matter, title), so that a list of titles does not
 * change with a bulletin's text or its last commit.  After the build the
 * notes are kept in the git folder (jianbao/deps-<hash of the output
 * path>) with a fingerprint: the hashes of the records noted and those
 * values.  The next build into the same folder, when everything else is as
 * it was (global: the settings, the theme, every other content file and the
 * structure of the site — which pages exist, their dates, numbers, tags and
 * the members they name, which decide every list and neighbour), recomputes
 * the fingerprint of each output from its notes: an output whose pages and
 * values are unchanged is not rendered again.  A template reads the same
 * fields of the same pages as long as what it read is unchanged, so the
 * notes of the last build are still the notes of this one. */
#ifndef JB_DEPS_H
#define JB_DEPS_H

#include <stddef.h>
#include <stdint.h>

#include "source.h"
#include "util.h"

enum { DEPS_BUILD_DATE = 1, DEPS_COMMIT = 2 };

typedef struct deps deps;

/* Reads the notes of the last build into out_dir when they were made with
 * the same global hash.  NULL without a git folder. */
deps *deps_open(source *src, const char *out_dir, uint64_t global);
/* The notes of the last build are usable. */
int deps_usable(const deps *d);
/* The values fingerprints are made of: one hash per record id, and the
 * hashes of the build date and the commit. */
void deps_set_values(deps *d, const uint64_t *records, size_t n, uint64_t build_date, uint64_t commit);
/* 1 when the last build made rel from pages and values that are all the
 * same now. */
int deps_unchanged(const deps *d, const char *rel);
/* Keeps the notes of the last build for rel (an output left as it is). */
void deps_keep(deps *d, const char *rel);
/* Notes for rel from here to deps_end (nested calls count once);
 * self: a record of the page rendered, or -1. */
void deps_begin(deps *d, int self);
void deps_end(deps *d, const char *rel);
void deps_page(deps *d, int id);
/* How deep in deps_begin calls: 0 when no output is being noted. */
int deps_depth(const deps *d);
void deps_flag(deps *d, unsigned flag);
/* A part of outputs made once and used in several (a cached partial):
 * the records and flags read while it is made, whatever was noted before
 * (captures nest), to be noted again in every output that uses it. */
void deps_capture_begin(deps *d);
/* What was read since the matching deps_capture_begin (caller frees
 * *ids; NULL and 0 without notes). */
void deps_capture_end(deps *d, uint32_t **ids, size_t *n, unsigned *flags);
void deps_replay(deps *d, const uint32_t *ids, size_t n, unsigned flags);
/* Notes made in another process, and giving them to one. */
void deps_export(const deps *d, buf *out);
void deps_import(deps *d, const char *data, size_t len);
/* Keeps the notes of this build. */
void deps_save(deps *d);
/* Removes the notes kept for out_dir: a build that makes none (hooks,
 * --rev) must not leave older ones beside its output. */
void deps_discard(source *src, const char *out_dir);
void deps_free(deps *d);

#endif
