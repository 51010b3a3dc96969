#define _GNU_SOURCE
#include "markdown.h"

#include <cmark-gfm-core-extensions.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"


/* in the order S_may_use knows them by */
static const char *const S_extensions[] = {"table", "strikethrough", "autolink", "tagfilter"};

static int S_options(int flags)
{
	int opts = CMARK_OPT_DEFAULT | CMARK_OPT_GITHUB_PRE_LANG;
	if (!(flags & MD_VALID_UTF8))
		opts |= CMARK_OPT_VALIDATE_UTF8;
	if (flags & MD_RAW_HTML)
		opts |= CMARK_OPT_UNSAFE;
	return opts;
}

/* Whether text holds "www." (memchr finds the rare 'w' in Chinese text
 * faster than memmem looks for the four bytes). */
static int S_has_www(const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	while (end - p >= 4 && (p = memchr(p, 'w', (size_t)(end - p - 3))) != NULL) {
		if (memcmp(p, "www.", 4) == 0)
			return 1;
		p++;
	}
	return 0;
}

/* Whether an extension can change the parse of text at all: a table needs
 * a '|', a strikethrough a '~', an autolink "www." or an ASCII ':' or '@',
 * and the tag filter a '<'.  Without them the extension would only cost
 * time (the autolink one looks at every text node). */
static int S_may_use(size_t ext, const char *text, size_t len)
{
	switch (ext) {
	case 0: return memchr(text, '|', len) != NULL;
	case 1: return memchr(text, '~', len) != NULL;
	case 2: return memchr(text, ':', len) || memchr(text, '@', len) || S_has_www(text, len);
	case 3: return memchr(text, '<', len) != NULL;
	default: return 1;
	}
}

void md_prepare(void)
{
	cmark_gfm_core_extensions_ensure_registered();
}

void md_parse(md_doc *doc, const char *text, size_t len, int flags)
{
	cmark_gfm_core_extensions_ensure_registered();
	doc->unsafe = (flags & MD_RAW_HTML) != 0;
	doc->normalized = 0;
	doc->parser = cmark_parser_new(S_options(flags));
	for (size_t i = 0; i < JB_ARRAY_LEN(S_extensions); i++) {
		cmark_syntax_extension *ext = cmark_find_syntax_extension(S_extensions[i]);
		if (ext && S_may_use(i, text, len))
			cmark_parser_attach_syntax_extension(doc->parser, ext);
	}
	cmark_parser_feed(doc->parser, text, len);
	doc->root = cmark_parser_finish(doc->parser);
}

void md_doc_free(md_doc *doc)
{
	if (doc->root)
		cmark_node_free(doc->root);
	if (doc->parser)
		cmark_parser_free(doc->parser);
	doc->root = NULL;
	doc->parser = NULL;
}

/* ---- text of nodes ---- */

static int S_has_literal_text(cmark_node *n)
{
	cmark_node_type t = cmark_node_get_type(n);
	return t == CMARK_NODE_TEXT || t == CMARK_NODE_CODE;
}

/* The text of node, or its start: stops once out holds at least max bytes. */
static void S_plain_text(cmark_node *node, buf *out, size_t max)
{
	cmark_iter *it = cmark_iter_new(node);
	cmark_event_type ev;
	while (out->len < max && (ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		if (ev != CMARK_EVENT_ENTER)
			continue;
		if (S_has_literal_text(n)) {
			const char *lit = cmark_node_get_literal(n);
			if (lit)
				buf_puts(out, lit);
		} else if (cmark_node_get_type(n) == CMARK_NODE_SOFTBREAK) {
			buf_putc(out, ' ');
		} else if (cmark_node_get_type(n) == CMARK_NODE_LINEBREAK) {
			buf_putc(out, ' ');
		}
	}
	cmark_iter_free(it);
}

void md_plain_text(cmark_node *node, buf *out)
{
	S_plain_text(node, out, SIZE_MAX);
}

/* The last (or first) code point of the text an inline node renders. */
static uint32_t S_edge_char(cmark_node *n, int last)
{
	while (n) {
		if (S_has_literal_text(n)) {
			const char *lit = cmark_node_get_literal(n);
			size_t len = lit ? strlen(lit) : 0;
			if (!len)
				return 0;
			if (last)
				return utf8_last(lit, len);
			uint32_t cp;
			utf8_decode(lit, len, &cp);
			return cp;
		}
		cmark_node *child = last ? cmark_node_last_child(n) : cmark_node_first_child(n);
		if (!child)
			return 0;
		n = child;
	}
	return 0;
}

static void S_join_cjk_breaks(cmark_node *root)
{
	cmark_iter *it = cmark_iter_new(root);
	cmark_event_type ev;
	cmark_node *pending = NULL;
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		if (pending) {
			cmark_node_free(pending);
			pending = NULL;
		}
		if (ev != CMARK_EVENT_ENTER || cmark_node_get_type(n) != CMARK_NODE_SOFTBREAK)
			continue;
		cmark_node *prev = cmark_node_previous(n), *next = cmark_node_next(n);
		if (!prev || !next)
			continue;
		uint32_t a = S_edge_char(prev, 1), b = S_edge_char(next, 0);
		if (utf8_is_cjk(a) && utf8_is_cjk(b)) {
			cmark_node_unlink(n);
			pending = n; /* freed after the iterator has moved past it */
		}
	}
	if (pending)
		cmark_node_free(pending);
	cmark_iter_free(it);
}

int md_is_caption_text(const char *s, size_t len)
{
	/* 图 or 表, optional spaces, digits (optionally "-digits"), then ： or : */
	if (len < 4)
		return 0;
	if (!(memcmp(s, "图", 3) == 0 || memcmp(s, "表", 3) == 0))
		return 0;
	size_t i = 3;
	while (i < len && s[i] == ' ')
		i++;
	size_t digits = 0;
	while (i < len && ((s[i] >= '0' && s[i] <= '9') || (digits && (s[i] == '-' || s[i] == '.')))) {
		i++;
		digits++;
	}
	while (i < len && s[i] == ' ')
		i++;
	if (i < len && s[i] == ':')
		return 1;
	return i + 3 <= len && memcmp(s + i, "：", 3) == 0;
}

/* Inline literals and link targets may point into their paragraph's
 * buffer; reading them through the API makes each node own a copy, so the
 * paragraph can be freed after its children moved elsewhere. */
static void S_own_strings(cmark_node *root)
{
	cmark_iter *it = cmark_iter_new(root);
	cmark_event_type ev;
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		if (ev != CMARK_EVENT_ENTER)
			continue;
		switch (cmark_node_get_type(n)) {
		case CMARK_NODE_TEXT:
		case CMARK_NODE_CODE:
		case CMARK_NODE_HTML_INLINE:
			(void)cmark_node_get_literal(n);
			break;
		case CMARK_NODE_LINK:
		case CMARK_NODE_IMAGE:
			(void)cmark_node_get_url(n);
			(void)cmark_node_get_title(n);
			break;
		default:
			break;
		}
	}
	cmark_iter_free(it);
}

static void S_mark_captions(cmark_node *root)
{
	for (cmark_node *n = cmark_node_first_child(root); n;) {
		cmark_node *next = cmark_node_next(n);
		if (cmark_node_get_type(n) == CMARK_NODE_PARAGRAPH) {
			/* a caption starts with 图 or 表: the first bytes rule out
			 * most paragraphs */
			buf text = BUF_INIT;
			S_plain_text(n, &text, 3);
			if (text.len >= 3 && (memcmp(text.ptr, "图", 3) == 0 || memcmp(text.ptr, "表", 3) == 0)) {
				buf_truncate(&text, 0);
				md_plain_text(n, &text);
			}
			if (md_is_caption_text(buf_cstr(&text), text.len)) {
				cmark_node *cap = cmark_node_new(CMARK_NODE_CUSTOM_BLOCK);
				cmark_node_set_on_enter(cap, "<p class=\"caption\">");
				cmark_node_set_on_exit(cap, "</p>");
				cmark_node *para = n;
				S_own_strings(para);
				cmark_node_insert_before(para, cap);
				cmark_node_unlink(para);
				cmark_node *c;
				while ((c = cmark_node_first_child(para)) != NULL) {
					cmark_node_unlink(c);
					if (!cmark_node_append_child(cap, c))
						cmark_node_free(c);
				}
				cmark_node_free(para);
			}
			buf_free(&text);
		}
		n = next;
	}
}

/* cmark's safe mode empties such URLs; dropping the link keeps its text
 * readable instead of leaving a link to nowhere. */
static int S_unsafe_url(const char *url)
{
	static const char *const schemes[] = {"javascript:", "vbscript:", "file:", "data:"};
	while (*url == ' ' || *url == '\t')
		url++;
	for (size_t i = 0; i < JB_ARRAY_LEN(schemes); i++)
		if (strncasecmp(url, schemes[i], strlen(schemes[i])) == 0)
			return 1;
	return 0;
}

static void S_drop_unsafe_links(cmark_node *root)
{
	cmark_iter *it = cmark_iter_new(root);
	cmark_event_type ev;
	cmark_node *drop[64];
	size_t ndrop = 0;
	for (;;) {
		ndrop = 0;
		while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE && ndrop < JB_ARRAY_LEN(drop)) {
			cmark_node *n = cmark_iter_get_node(it);
			if (ev == CMARK_EVENT_EXIT && cmark_node_get_type(n) == CMARK_NODE_LINK) {
				const char *url = cmark_node_get_url(n);
				if (url && S_unsafe_url(url))
					drop[ndrop++] = n;
			}
		}
		if (!ndrop)
			break;
		for (size_t i = 0; i < ndrop; i++) {
			cmark_node *link = drop[i], *c;
			while ((c = cmark_node_first_child(link)) != NULL) {
				cmark_node_unlink(c);
				cmark_node_insert_before(link, c);
			}
			cmark_node_unlink(link);
			cmark_node_free(link);
		}
		cmark_iter_free(it);
		it = cmark_iter_new(root);
	}
	cmark_iter_free(it);
}

void md_normalize(md_doc *doc)
{
	/* each step leaves nothing for itself to do again */
	if (doc->normalized)
		return;
	doc->normalized = 1;
	if (!doc->unsafe)
		S_drop_unsafe_links(doc->root);
	S_join_cjk_breaks(doc->root);
	S_mark_captions(doc->root);
}

char *md_take_title(md_doc *doc, int remove)
{
	for (cmark_node *n = cmark_node_first_child(doc->root); n; n = cmark_node_next(n)) {
		if (cmark_node_get_type(n) != CMARK_NODE_HEADING || cmark_node_get_heading_level(n) != 1)
			continue;
		buf b = BUF_INIT;
		md_plain_text(n, &b);
		char *title = str_trim(buf_detach(&b));
		if (remove) {
			cmark_node_unlink(n);
			cmark_node_free(n);
		}
		if (!*title) {
			free(title);
			return NULL;
		}
		return title;
	}
	return NULL;
}

char *md_render_html(md_doc *doc)
{
	char *html = cmark_render_html(doc->root, S_options(doc->unsafe), cmark_parser_get_syntax_extensions(doc->parser));
	return html;
}

/* utf8_length of s, or limit when that is less: a character has at most
 * four bytes, so 4 * limit bytes hold at least limit of them. */
static size_t S_length_upto(const char *s, size_t len, size_t limit)
{
	if (len / 4 >= limit)
		return limit;
	size_t n = utf8_length(s, len);
	return n < limit ? n : limit;
}

char *md_summary(md_doc *doc, size_t max_chars)
{
	buf b = BUF_INIT;
	size_t chars = 0; /* in b so far */
	for (cmark_node *n = cmark_node_first_child(doc->root); n && chars < max_chars; n = cmark_node_next(n)) {
		if (cmark_node_get_type(n) != CMARK_NODE_PARAGRAPH)
			continue;
		size_t from = b.len;
		/* paragraphs join with a space, except between Chinese text */
		if (b.len && !(utf8_is_cjk(utf8_last(b.ptr, b.len)) && utf8_is_cjk(S_edge_char(n, 0))))
			buf_putc(&b, ' ');
		md_plain_text(n, &b);
		chars += S_length_upto(b.ptr + from, b.len - from, max_chars);
	}
	char *s = buf_detach(&b);
	str_trim(s);
	size_t len = strlen(s);
	if (S_length_upto(s, len, max_chars + 1) > max_chars) {
		size_t cut = utf8_offset(s, len, max_chars - 1);
		while (cut > 0 && s[cut - 1] == ' ')
			cut--;
		s = xrealloc(s, cut + sizeof "…");
		memcpy(s + cut, "…", sizeof "…");
	}
	return s;
}

long md_issue_from_title(const char *s)
{
	const char *p = s;
	while ((p = strstr(p, "第")) != NULL) {
		const char *q = p + 3;
		while (*q == ' ')
			q++;
		long n = 0;
		int digits = 0;
		while (*q >= '0' && *q <= '9' && digits < 9) {
			n = n * 10 + (*q - '0');
			q++;
			digits++;
		}
		while (*q == ' ')
			q++;
		if (digits && strncmp(q, "期", 3) == 0)
			return n;
		p += 3;
	}
	return 0;
}
