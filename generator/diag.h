/* diag — user-facing diagnostics.
 *
 * Every problem with the user's input is reported as
 *   file:line:col: error: message
 * (or in GitHub's annotation format), counted, and the build keeps going
 * where it can so that one run shows them all; main() decides the exit code
 * from diag_errors(). */
#ifndef JB_DIAG_H
#define JB_DIAG_H

#include <stddef.h>

typedef enum diag_format {
	DIAG_PLAIN,
	DIAG_GITHUB, /* ::error file=F,line=L,col=C::message */
} diag_format;

void diag_set_format(diag_format f);
/* Suppresses warnings (errors are always printed). */
void diag_set_quiet(int quiet);

/* line/col are 1-based; 0 leaves them out. file may be NULL for
 * problems that belong to no file. */
void diag_error(const char *file, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void diag_warning(const char *file, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Prints indented detail lines (e.g. a traceback) after an error. */
void diag_detail(const char *text);
/* Prints a progress or summary line to stderr unless quiet. */
void diag_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sends this thread's diagnostics to out instead of stderr (NULL restores
 * stderr); returns where they went before. */
struct buf;
struct buf *diag_capture(struct buf *out);

int diag_errors(void);
int diag_warnings(void);
/* Adds counts of diagnostics that another process printed. */
/* Reports messages collected by another thread (with diag_capture there)
 * and adds its counts. */
void diag_add(const char *text, size_t len, int errors, int warnings);
void diag_add_counts(int errors, int warnings);
void diag_reset(void);

/* JIANBAO_PROFILE=1: prints on standard error the seconds since the last
 * stage of this process (or since the first call) and the memory it holds;
 * worker processes print their number.  Nothing without the variable. */
void diag_stage(const char *name);
/* The worker number that diag_stage prints (0: the first process). */
void diag_set_worker(int worker);

#endif
