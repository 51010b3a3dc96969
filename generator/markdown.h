/* markdown — cmark-gfm with the table, strikethrough, autolink and
 * tagfilter extensions, plus what Chinese text needs:
 *   - a soft line break between two CJK characters joins them without a
 *     space (sources wrapped inside a paragraph are common);
 *   - a paragraph "图 1：…" or "表 2：…" is a caption (<p class="caption">).
 * Raw HTML and dangerous link schemes (javascript:, vbscript:, file:, most
 * data:) are dropped unless the site allows raw HTML. */
#ifndef JB_MARKDOWN_H
#define JB_MARKDOWN_H

#include <cmark-gfm.h>
#include <stddef.h>

typedef struct md_doc {
	cmark_parser *parser;
	cmark_node *root;
	int unsafe;
	int normalized; /* md_normalize has seen the tree as it is */
} md_doc;

/* Makes cmark-gfm's tables of extensions, once, so that md_parse may then
 * run in several threads at a time. */
void md_prepare(void);
/* md_parse's flags: raw HTML passes through; text is known to be UTF-8
 * (invalid bytes are otherwise replaced by U+FFFD). */
enum { MD_RAW_HTML = 1, MD_VALID_UTF8 = 2 };
/* Parses text; never fails on input (any byte sequence is Markdown). */
void md_parse(md_doc *doc, const char *text, size_t len, int flags);
void md_doc_free(md_doc *doc);

/* Applies the Chinese-text rules above to the tree. */
void md_normalize(md_doc *doc);

/* The plain text of the first level-1 heading, removed from the tree when
 * remove is set; NULL when there is none.  Caller frees. */
char *md_take_title(md_doc *doc, int remove);

/* HTML of the whole document.  Caller frees. */
char *md_render_html(md_doc *doc);

/* Plain text of the first paragraphs, at most max_chars characters (an
 * ellipsis marks a cut).  Caller frees. */
char *md_summary(md_doc *doc, size_t max_chars);

/* Plain text of a node and its descendants, appended to out. */
struct buf;
void md_plain_text(cmark_node *node, struct buf *out);

/* Finds "第 300 期" / "第10期" in s: returns the number or 0. */
long md_issue_from_title(const char *s);

/* 1 when a paragraph's text is a figure or table caption. */
int md_is_caption_text(const char *s, size_t len);

#endif
