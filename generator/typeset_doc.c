/* A print_doc from a Markdown file's front matter: the bulletin keys of
 * content/bulletins/YYYY/NN.md, or an alliance document when `number:` is
 * there. */
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "frontmatter.h"
#include "typeset.h"

static const char *S_str(const yval *meta, const char *key)
{
	const yval *v = meta ? yval_get(meta, key) : NULL;
	if (!v || v->kind != YV_SCALAR || !*v->str)
		return NULL;
	return v->str;
}

/* A scalar or a list of scalars joined with sep; NULL when absent. */
static const char *S_joined(const yval *meta, const char *key, const char *sep, strvec *owned)
{
	const yval *v = meta ? yval_get(meta, key) : NULL;
	if (!v)
		return NULL;
	if (v->kind == YV_SCALAR)
		return *v->str ? v->str : NULL;
	if (v->kind != YV_SEQ)
		return NULL;
	buf b = BUF_INIT;
	for (size_t i = 0; i < v->len; i++) {
		if (v->items[i]->kind != YV_SCALAR || !*v->items[i]->str)
			continue;
		if (b.len)
			buf_puts(&b, sep);
		buf_puts(&b, v->items[i]->str);
	}
	if (!b.len)
		return NULL;
	strvec_push(owned, buf_detach(&b));
	return owned->items[owned->len - 1];
}

static const char *S_keep(strvec *owned, char *s)
{
	if (!s)
		return NULL;
	strvec_push(owned, s);
	return s;
}

static long S_int(const yval *meta, const char *key)
{
	const char *s = S_str(meta, key);
	if (!s)
		return 0;
	char *end;
	long v = strtol(s, &end, 10);
	return *end ? 0 : v;
}

int typeset_doc_from_meta(print_doc *doc, const yval *meta, const char *file, strvec *owned)
{
	memset(doc, 0, sizeof *doc);
	doc->file = file;
	doc->title = S_str(meta, "title");
	doc->subtitle = S_str(meta, "subtitle");
	doc->author = S_str(meta, "author");
	const char *date = S_str(meta, "date");
	jb_date d;
	int has_date = date && date_parse_iso(date, &d) == 0;
	if (date && !has_date) {
		const yval *v = yval_get(meta, "date");
		diag_error(file, v->line, v->col, "'date' must be a date like 2024-01-11, got \"%s\"", date);
		return -1;
	}
	doc->date = has_date ? S_keep(owned, typeset_date_cn(date)) : NULL;
	if (has_date)
		doc->created = S_keep(owned, xasprintf("%04d-%02d-%02dT00:00:00Z", d.year, d.month, d.day));
	doc->pdf_title = doc->title;
	if (S_str(meta, "number")) {
		doc->kind = PRINT_DOCUMENT;
		doc->number = S_str(meta, "number");
		doc->issuer = S_str(meta, "issuer");
		doc->issuer_title = S_str(meta, "issuer_title");
		if (!doc->issuer_title && doc->issuer)
			doc->issuer_title = S_keep(owned, xasprintf("%s文件", doc->issuer));
		doc->cc = S_joined(meta, "cc", "，", owned);
		doc->printer = S_str(meta, "printer");
		if (!doc->printer)
			doc->printer = doc->issuer;
		const char *printed = S_str(meta, "printed");
		if (printed) {
			char *cn = typeset_date_cn(printed);
			doc->printed = cn ? S_keep(owned, cn) : printed;
		} else {
			doc->printed = doc->date;
		}
		doc->pdf_author = doc->issuer;
		doc->pdf_subject = doc->number;
	} else {
		doc->kind = PRINT_BULLETIN;
		doc->series = S_str(meta, "series");
		doc->publisher = S_str(meta, "publisher");
		doc->guidance = S_str(meta, "guidance");
		doc->editor = S_str(meta, "editor");
		long issue = S_int(meta, "issue"), total = S_int(meta, "total");
		if (issue > 0 || total > 0)
			doc->issue_line = S_keep(owned, typeset_issue_line(has_date ? d.year : 0, issue, total));
		doc->pdf_author = doc->author ? doc->author : doc->publisher;
		if (doc->series && doc->issue_line)
			doc->pdf_subject = S_keep(owned, xasprintf("%s %s", doc->series, doc->issue_line));
		else
			doc->pdf_subject = doc->series;
	}
	return 0;
}
