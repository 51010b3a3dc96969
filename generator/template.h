/* template — HTML templates compiled once into Lua functions.
 *
 *   {{ expr }}      the value of a Lua expression, HTML-escaped
 *   {{{ expr }}}    the value, raw (for HTML the generator made)
 *   {% stmts %}     Lua statements (for … do / if … then / end)
 *   {# comment #}
 * A line holding only a {% %} or {# #} tag disappears with its newline.
 * The generated Lua keeps the template's line numbers, so any error, at
 * compile or run time, names template-file:line. */
#ifndef JB_TEMPLATE_H
#define JB_TEMPLATE_H

#include <lua.h>

#include "theme.h"
#include "util.h"

/* Translates a template into Lua source.  Returns the code (caller frees),
 * or NULL with *err (caller frees), *line and *col set. */
char *tpl_translate(const char *text, size_t len, char **err, int *line, int *col);

typedef struct tpl_engine tpl_engine;

typedef struct tpl_site {
	const char *base_url;  /* "https://host/sub/" */
	const char *base_path; /* "/sub/" */
} tpl_site;

/* The engine keeps its environment table and compiled templates in L's
 * registry.  The helper functions (url, abs_url, date_cn, issue_line,
 * truncate, esc, include, include_cached) are globals of that environment.
 * include_cached(name, key, args) gives what include(name, args) gives,
 * made once per key for the whole build: the partial must depend on its
 * args only (page is not defined in it). */
tpl_engine *tpl_new(lua_State *L, theme *th, const tpl_site *site);
void tpl_free(tpl_engine *e);

/* Pops the value on top of the stack into the template global name. */
void tpl_set(tpl_engine *e, const char *name);
/* Pushes the template environment table. */
void tpl_push_env(tpl_engine *e);

/* What a cached partial (include_cached) read, so that every output that
 * uses it notes it too: begin before it is made, end after (returns a
 * token, which replay then notes again; drop frees it).  Without these,
 * nothing is noted. */
typedef struct tpl_notes {
	void *ctx;
	void (*begin)(void *ctx);
	void *(*end)(void *ctx);
	void (*replay)(void *ctx, const void *token);
	void (*drop)(void *token);
} tpl_notes;
void tpl_set_notes(tpl_engine *e, const tpl_notes *notes);

/* Renders theme file name (e.g. "layouts/bulletin.html") into out.
 * Returns 0, 1 when the template does not exist, -1 on error (reported). */
int tpl_render(tpl_engine *e, const char *name, buf *out);

/* Registers the helpers in the table at idx (also used for hook envs). */
void tpl_register_helpers(lua_State *L, int idx, const tpl_site *site);

#endif
