/* figures — statistics charts on the site: ```chart blocks in Markdown,
 * chart{…} from Lua, and the default chart of every series for /stats/.
 * Each chart becomes charts/<hash>.png and charts/<hash>@2x.png (named by
 * their content, so identical charts share one file) and a <figure> with
 * srcset, alt text and the data table; in PDFs the same block is drawn as
 * vectors. */
#ifndef JB_FIGURES_H
#define JB_FIGURES_H

#include <cairo.h>
#include <lua.h>

#include "chart.h"
#include "markdown.h"
#include "model.h"
#include "output.h"
#include "stats.h"

typedef struct figures figures;

typedef struct figures_options {
	lua_State *L;
	output *out;
	const stats *stats;
	const site_model *model;
	const char *base_path;   /* "/" or "/sub/" */
	const char *content_dir; /* "content" */
} figures_options;

/* Keeps its context in L's registry for chart{}. */
figures *figures_new(const figures_options *o);
void figures_free(figures *f);

/* Writes the chart's PNGs (once per content) and returns its <figure>, or
 * NULL after reporting.  origin names the source in collision messages. */
char *figures_html(figures *f, const chart *c, const char *origin);

/* Replaces every ```chart block of md by its figure (custom_block) for the
 * HTML; figures_restore puts the blocks back for the PDF, each followed by
 * its caption as a caption paragraph.  Returns 0, or -1 after reporting
 * (the blocks are restored then). */
typedef struct figures_swap {
	cmark_node **code, **html;
	char **captions;
	size_t n;
} figures_swap;
int figures_expand(figures *f, md_doc *md, const char *file, int first_line, figures_swap *swaps);
void figures_restore(figures_swap *swaps);

/* print_block_fn for the typesetter: draws ```chart blocks as vectors. */
int figures_draw_block(void *ctx, cmark_node *fenced, cairo_t *cr, double width, double *height);

/* The default chart of a series (type from its shape, or site.charts[id]
 * = { type, title, y, caption }); NULL when the series is better shown as
 * figures than as a chart (fewer than two rows).  Caller frees. */
chart *figures_series_chart(figures *f, const series *s);

/* Adds chart{…} to the table at idx: chart{ data = "members" | rows = {…},
 * type =, title =, x =, y =, units =, caption =, width =, height = } →
 * the <figure> HTML. */
void figures_register(lua_State *L, int idx);

#endif
