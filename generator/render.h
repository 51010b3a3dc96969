/* render — turns the model into output files: every page through its
 * layout and the base layout, the theme's static files, content assets,
 * the Atom feed and the sitemap.
 *
 * The model becomes Lua tables (site.bulletins, site.pages); load hooks may
 * change those lists, and what they hold afterwards is what is published.
 * Pages are rendered one at a time: a page's Markdown is parsed right
 * before its HTML is written (shortcodes, page hooks) and dropped right
 * after, so memory does not grow with the text of the site. */
#ifndef JB_RENDER_H
#define JB_RENDER_H

#include <lua.h>
#include <signal.h>

#include "config.h"
#include "deps.h"
#include "hooks.h"
#include "model.h"
#include "output.h"
#include "source.h"
#include "stats.h"
#include "theme.h"

typedef struct render_options {
	lua_State *L;
	source *src;
	theme *theme;
	const site_config *config;
	hooks *hooks; /* may be NULL */
	site_model *model;
	const collections *collections; /* may be NULL */
	const stats *stats;             /* may be NULL */
	output *out;
	const char *content_dir;
	const char *build_date; /* "YYYY-MM-DD" or NULL */
	const char *commit;     /* hex id or NULL */
	volatile sig_atomic_t *interrupted; /* set by a signal handler: stop early */
	int pdf; /* typeset a PDF per bulletin and document, and yearly volumes */
	int jobs; /* processes that share the pages (fork); 0 or 1: this one only */
	deps *deps; /* notes which pages make each output; NULL: none */
	int unchanged_stay; /* out is updated in place: outputs whose notes say
	                     * they are unchanged are left as they are */
} render_options;

/* Returns 0, or -1 when anything failed (all problems reported). */
int render_site(const render_options *o);

#endif
