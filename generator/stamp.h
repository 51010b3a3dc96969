/* stamp — knowing that nothing changed since the last build.
 *
 * A successful build leaves a record in the repository's git folder
 * (jianbao/stamp-<hash of the output path>, source_state_file): the build's settings, the
 * commit, and the type, size, times and inode of every file below the
 * folders it read (the content folder, the themes) and of every file it
 * wrote.  The next build with the same settings first compares that record
 * with what is there now; when all of it matches, the output is already
 * what the build would write, and the build stops there.  Inputs changed
 * less than a second before a build started are never trusted (their
 * next change could keep the same time stamp): such a build's record
 * never matches, though what it says of the output still serves the next
 * build to make again only what changed. */
#ifndef JB_STAMP_H
#define JB_STAMP_H

#include <sys/stat.h>

#include "source.h"
#include "util.h"

typedef struct stamp stamp;

/* settings: everything besides the files that decides the output (options,
 * environment), one string.  NULL when the source has no git folder to
 * keep the record in (nothing is recorded or skipped then). */
stamp *stamp_begin(source *src, const char *content_dir, const char *out_dir, const char *settings);
/* 1 when the last build recorded exactly the current state. */
int stamp_fresh(stamp *s);
/* 1 when the output folder is exactly as the last build left it (whatever
 * else changed); files gets its files then, as relative paths.  Before
 * stamp_forget. */
int stamp_output_intact(stamp *s, strvec *files);
/* A hash of the settings and of every input file's state except the commit
 * and the files in the content's page folders (bulletins/, documents/,
 * pages/). */
uint64_t stamp_inputs_hash(const stamp *s);
/* 1 when one of those files changed less than a second before the build
 * started: the next build cannot tell whether it changed again since. */
int stamp_inputs_racy(const stamp *s);
/* The output folder, absolute. */
const char *stamp_output_dir(const stamp *s);
/* Records the state read by stamp_begin and the output as it is now. */
void stamp_record(stamp *s);
/* A file of the output, relative to it, and its state when known (else
 * it is looked up). */
typedef struct stamp_file {
	char *rel;
	struct stat st;
	int known;
} stamp_file;
/* Like stamp_record for an output that holds exactly files (and the
 * folders they are in), sorted here: no folder is read. */
void stamp_record_files(stamp *s, stamp_file *files, size_t n);
/* Like stamp_record after a build that changed only the files changed
 * (relative paths) of an output found intact: only their state and their
 * folders' is read again. */
void stamp_record_changed(stamp *s, const strvec *changed);
/* Forgets the record (before a build that may fail or change the output). */
void stamp_forget(stamp *s);
void stamp_free(stamp *s);

#endif
