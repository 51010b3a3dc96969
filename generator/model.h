/* model — the site's content as typed records.
 *
 * Loading reads every content file once and keeps only its metadata (front
 * matter, dates, paths); Markdown bodies are parsed again page by page when
 * rendering, so memory stays proportional to the metadata, not the text.
 *
 * Content layout below the content folder:
 *   bulletins/YYYY/NN.md   a bulletin (工作简报) issue
 *   documents/YYYY/NN.md   an alliance document (number: 继教合作联盟〔2021〕1号)
 *   pages/NAME.md          a plain page, published at /NAME/
 *   assets/…               files copied as they are to /assets/…  */
#ifndef JB_MODEL_H
#define JB_MODEL_H

#include "collections.h"
#include "frontmatter.h"
#include "source.h"
#include "util.h"

typedef enum page_kind { PAGE_BULLETIN, PAGE_DOCUMENT, PAGE_PLAIN } page_kind;

typedef struct page {
	page_kind kind;
	char *source; /* repository-relative path of the Markdown file */
	char *slug;   /* output folder, e.g. "bulletins/2024/01" */
	char *title;
	int title_from_heading; /* the title is the body's first # heading */
	char *subtitle, *author, *description;
	/* bulletins */
	char *series, *publisher, *guidance, *editor;
	long issue, total;
	int issue_line, issue_col, total_line, total_col; /* where they were written */
	int year;
	/* documents */
	char *number;      /* 继教合作联盟〔2021〕1号 */
	char *issuer_code; /* 继教合作联盟 */
	long doc_seq;
	char *issuer, *cc, *printed_by;
	jb_date printed;
	int has_printed;
	char *source_ref; /* the bulletin that reported it, "2022/10" */
	member **mentions; /* members named in the text (borrowed) */
	size_t nmentions;
	jb_date date;
	int has_date;
	strvec tags;
	/* from git history: "" when unknown */
	char created[11], updated[11];
	strvec authors;
	yval *meta; /* the whole front matter, for page.params */
	int meta_borrowed; /* meta lives in the site's cache_data, not on its own */
	/* The text fields above (title … source_ref, tags) point into meta when
	 * its value needs no trimming; the others are copies kept here. */
	strvec owned;
	int body_line; /* first line of the Markdown body in the file */
	uint64_t content_hash; /* hash64 of the file's bytes */
	uint64_t front_hash;   /* hash64 of its front matter's bytes */
	int id; /* position: bulletins, then documents, then pages, as listed below */
	struct page *prev, *next; /* older and newer issue */
} page;

typedef struct site_model {
	page **bulletins; /* newest first */
	size_t nbulletins;
	page **documents; /* newest year first, then by number */
	size_t ndocuments;
	page **pages; /* by source path */
	size_t npages;
	strvec assets; /* repository-relative paths */
	strmap by_source; /* source path → page*, every page */
	char *cache_data; /* the page cache record read, which some pages' meta points into */
} site_model;

typedef struct model_options {
	const char *content_dir; /* "content" */
	int drafts;              /* include pages with draft: true */
	const strmap *history;   /* path → file_history*, may be empty */
	/* When set, the history is filled while the files are read: called
	 * (once) before it is first used; 0, or -1 when it failed. */
	int (*wait_history)(void *ctx);
	void *wait_ctx;
	const collections *collections; /* for mentions; may be NULL */
	int tz_offset;           /* minutes east of UTC: history dates are days there */
} model_options;

/* Loads all content; problems are reported and counted (see diag_errors),
 * loading continues past them.  Returns -1 only when nothing can be read. */
int model_load(site_model *m, source *src, const model_options *opts);
void model_free(site_model *m);

/* What decides every list, order and link of the site: which pages there
 * are, their kinds, paths, dates, numbers, tags and the members they name. */
uint64_t model_structure_hash(const site_model *m);
/* What decides one page's fields other than its text (content, summary)
 * and its history (created, updated, authors): front matter and title.
 * The text's is content_hash. */
uint64_t model_fields_hash(const page *p);
uint64_t model_history_hash(const page *p);

/* The bulletin written at content_dir/bulletins/REF.md (REF like
 * "2024/01"), or NULL. */
page *model_bulletin(const site_model *m, const char *content_dir, const char *ref);

/* Parses a document number "继教合作联盟〔2021〕1号" into its issuer code,
 * year and sequence.  0, or -1 with *err (caller frees) saying what is
 * wrong (brackets, leading zeros, 第, …). */
int model_parse_doc_number(const char *s, char **issuer, int *year, long *seq, char **err);

/* Checks the bulletin numbering over the whole model: 第N期 restarts each
 * year and grows with the date, 总第M期 grows with the date, no number twice.
 * Problems are reported at the number's position. */
void model_check_numbers(const site_model *m);

/* Reads the page's file again and returns its Markdown body (caller frees
 * *body via *owner): the bytes that were loaded, which are UTF-8.  0, or -1
 * after reporting (also when the file changed since it was loaded). */
int model_read_body(source *src, const page *p, char **owner, const char **body, size_t *len);

#endif
