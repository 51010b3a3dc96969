/* hooks — the site's Lua extensions.
 *
 * Every .lua file in the theme's hooks folder, then in content/hooks (each
 * set in file name order) runs once in its own sandbox and registers
 * functions with
 *   on(event, fn)          event: config | load | page | render | finish
 *   on("page", filter)     a table of functions keyed by node type
 *   shortcode(name, fn)    a fenced block ```name args… becomes fn's result
 *   helper(name, fn)       a function for templates
 * Handlers run in registration order.  Each call has an instruction budget;
 * globals a handler sets live only for that call.  Any error names
 * file:line, comes with a traceback and fails the build. */
#ifndef JB_HOOKS_H
#define JB_HOOKS_H

#include <lua.h>

#include "markdown.h"
#include "source.h"
#include "template.h"
#include "theme.h"
#include "util.h"

typedef struct hooks hooks;

typedef struct hooks_env {
	source *src;
	theme *theme;
	const char *content_dir;
	int64_t clock; /* seconds since 1970 for os.time()/os.date() */
	int clock_offset; /* minutes east of UTC for os.date */
	const tpl_site *site; /* base URL for the url helpers; may change after config hooks */
} hooks_env;

/* Loads and runs every hook file; the site table must already be in the
 * registry (config_load).  NULL after reporting. */
hooks *hooks_load(lua_State *L, const hooks_env *env);
void hooks_free(hooks *h);

/* config(site): may change the site table. */
int hooks_run_config(hooks *h);
/* load(site): may add, remove or change pages in site.bulletins/site.pages. */
int hooks_run_load(hooks *h);
/* page(page): the page table is at page_idx; its tree is doc, which a hook
 * reads and replaces through page.doc.  file/first_line place errors. */
int hooks_run_page(hooks *h, int page_idx, md_doc *doc, const char *file, int first_line);
/* Replaces fenced blocks naming a shortcode by the shortcode's result. */
int hooks_expand_shortcodes(hooks *h, int page_idx, md_doc *doc, const char *file, int first_line);
/* render(file): file = { path, content, page }; may change content. */
int hooks_run_render(hooks *h, const char *path, int page_idx, buf *html);
/* finish(report): report = { files = n, pages = n }; hooks may write extra
 * files with write(path, text) through the callback. */
typedef int (*hooks_write_fn)(void *ctx, const char *path, const char *data, size_t len, const char *origin);
int hooks_run_finish(hooks *h, size_t files, hooks_write_fn write, void *ctx);

int hooks_count(const hooks *h, const char *event);
/* Number of hook files that ran (theme's and site's). */
int hooks_files(const hooks *h);
/* Pushes the page's Markdown tree as a table (and stores it as page.doc)
 * while page hooks run; returns 0 and pushes nothing otherwise.  Called by
 * the page tables' __index. */
int hooks_push_doc(lua_State *L, int page_idx);
/* Pushes the table of helpers that hooks registered for templates. */
void hooks_push_helpers(hooks *h);

/* Helpers shared with templates: number_cn, slugify (and the template
 * helpers are registered by template.c). */
void hooks_register_helpers(lua_State *L, int idx);

#endif
