/* output — writes the site into a staging sibling of the output folder and
 * swaps it in atomically at the end.
 *
 * The staging folder is the site before the last one (kept as
 * <dir>.jianbao-prev) when there is one, else a fresh folder; files with the
 * same bytes are left as they are and the rest of that folder is pruned
 * before the swap.  Nothing is ever written outside the staging folder:
 * every path is checked to be a safe relative path, and two writes to one
 * path are an error naming both sources.  A failed build leaves the
 * previous output untouched. */
#ifndef JB_OUTPUT_H
#define JB_OUTPUT_H

#include <stddef.h>

#include "util.h"

typedef struct output output;

/* Creates the staging folder next to dir.  NULL after reporting. */
output *output_begin(const char *dir);
/* Updates dir, which holds exactly files (relative paths) from the last
 * build, in place: files written with the bytes they have are left alone,
 * others are written into a staging sibling and moved into dir one by one
 * at output_commit, and files of the last build that this one does not
 * make are removed then.  Each file changes in one step, after the whole
 * build succeeded; a reader may see some files new and others not yet for
 * the moment the moves take.  NULL when dir is not a folder. */
output *output_begin_update(const char *dir, const strvec *files);
/* Update: rel is one of the files dir had. */
int output_has_old(const output *o, const char *rel);
/* Update: rel stays as it is, as this build's (claimed like a write). */
int output_keep(output *o, const char *rel, const char *origin);
/* Update: how many files output_keep left as they were. */
size_t output_kept(const output *o);
/* Update: the files that output_commit will replace, when they are all
 * the change (no file added or removed): 0, else -1. */
int output_changed_files(const output *o, strvec *rels);
/* Writes rel (e.g. "bulletins/2024/01/index.html") from origin (the source
 * file, for collision messages).  0, or -1 after reporting. */
int output_write(output *o, const char *rel, const void *data, size_t len, const char *origin);
/* Like output_write; shared files are named by their content (chart
 * images): writing one that exists already is not an error and does
 * nothing, so parallel workers may each write it. */
int output_write_file(output *o, const char *rel, const void *data, size_t len, const char *origin, int shared);
/* Claims rel for origin before another process writes it, so that later
 * writes to it by other sources are reported as collisions. */
int output_reserve(output *o, const char *rel, const char *origin);
/* Counts n files that another process wrote into the staging folder. */
void output_add_count(output *o, size_t n);
/* Calls fn for every path written (or noted) so far, with the file's
 * state (lstat) as it was made, or NULL when it is not known. */
struct stat;
void output_each_written(const output *o, void (*fn)(void *ctx, const char *rel, const struct stat *st), void *ctx);
/* Records that another process wrote rel (its state: st, or NULL), so
 * that it is kept. */
void output_note_written(output *o, const char *rel, const char *origin, const struct stat *st);
/* Number of files written so far. */
size_t output_count(const output *o);
/* Swaps the staging folder in and frees o.  0, or -1 after reporting (the
 * staging folder is then removed and the old output kept). */
int output_commit(output *o);
/* Removes the staging folder and frees o. */
void output_abort(output *o);
/* The staging folder (for cleanup from a signal handler). */
const char *output_staging_dir(const output *o);

#endif
