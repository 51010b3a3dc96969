/* source — where the content comes from.
 *
 * Three modes:
 *   worktree  files are read from the working tree of a git repository,
 *             history from its HEAD;
 *   revision  files are read from the tree of one commit in the object
 *             database (--rev): works in bare repositories and never touches
 *             the worktree;
 *   folder    a plain directory without git (--no-git): no history.
 * All paths are relative to the repository (or folder) root and use '/'. */
#ifndef JB_SOURCE_H
#define JB_SOURCE_H

#include <stdint.h>

#include "util.h"

typedef struct source source;

typedef struct source_options {
	const char *repo_dir; /* NULL: discover from the current directory */
	const char *rev;      /* NULL: the working tree */
	int no_git;           /* plain folder mode */
} source_options;

/* A content file's history, from one walk over the commits. */
typedef struct file_history {
	int64_t created; /* author time of the first commit that added it */
	int created_offset;
	int64_t updated; /* author time of the last commit that changed it */
	int updated_offset;
	int created_known; /* 0 when the history is cut (shallow clone) */
	int updated_known;
	strvec authors; /* distinct author names, newest first */
} file_history;

/* Opens the source; reports the problem and returns NULL on failure. */
source *source_open(const source_options *opts);
void source_free(source *s);

/* Human-readable description: "commit 1a2b3c4 (HEAD~1)", "worktree /x". */
const char *source_describe(const source *s);
/* Filesystem root for worktree and folder modes, NULL in revision mode. */
const char *source_workdir(const source *s);
int source_is_git(const source *s);
/* Where jianbao keeps what it knows of earlier builds: <git folder>/jianbao/
 * <name> (the folder is made).  NULL without a repository.  Caller frees. */
char *source_state_file(const source *s, const char *name);
int source_is_shallow(const source *s);

/* Lists the regular files below dir (recursively), sorted, into out as
 * root-relative paths.  A missing dir gives an empty list.  Hidden
 * entries (starting with '.') are skipped.  Returns 0 or -1 (reported). */
int source_list(source *s, const char *dir, strvec *out);
/* Reads one file: 0 on success (caller frees *data, NUL-terminated),
 * 1 when it does not exist, -1 on error (reported). */
int source_read(source *s, const char *path, char **data, size_t *len);

/* What identifies the current bytes of a file without reading them: its
 * blob id in revision mode, else its inode, size and change times.  Fills
 * key and returns 0; returns 1 when the file is missing or changed too
 * recently (within a second of opening the source) for its times to be
 * trusted, so that nothing may be remembered about it. */
#define SOURCE_KEY_SIZE 56
int source_file_key(source *s, const char *path, unsigned char key[SOURCE_KEY_SIZE]);

/* Committer time and offset of the commit being built (HEAD in worktree
 * mode).  Returns 0, or -1 when there is none (folder mode, no commits). */
int source_commit_time(const source *s, int64_t *when, int *offset);
/* Hex id of the commit being built, or NULL. */
const char *source_commit_id(const source *s);

/* Walks the history once and fills map (path → file_history*) for every
 * file below prefix touched by a commit reachable from the built commit.
 * Free with source_history_free.  Returns 0 or -1 (reported). */
int source_history(source *s, const char *prefix, strmap *map);
void source_history_free(strmap *map);

#endif
