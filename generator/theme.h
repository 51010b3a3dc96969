/* theme — finds a theme by name and reads its files.
 *
 * A theme named N is looked up, in order, as themes/N inside the content's
 * repository (read from the same worktree or commit as the content), then in
 * $JIANBAO_THEMES/N, then next to the executable (themes/N or
 * ../share/jianbao/themes/N).  A theme has layouts/, partials/ and static/. */
#ifndef JB_THEME_H
#define JB_THEME_H

#include "source.h"
#include "util.h"

typedef struct theme theme;

/* Returns NULL after reporting when no such theme exists. */
theme *theme_open(source *src, const char *name);
/* The folders themes are looked for in after the repository's own
 * themes/: $JIANBAO_THEMES, then beside the executable. */
void theme_search_dirs(strvec *out);
void theme_free(theme *t);

/* Reads rel (e.g. "layouts/base.html"): 0, 1 when missing, -1 on error. */
int theme_read(theme *t, const char *rel, char **data, size_t *len);
/* Lists files under rel (e.g. "static"), relative to the theme root. */
int theme_list(theme *t, const char *rel, strvec *out);
/* A path for diagnostics, e.g. "themes/default/layouts/base.html". Caller frees. */
char *theme_display_path(const theme *t, const char *rel);
const char *theme_name(const theme *t);

#endif
