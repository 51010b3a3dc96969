#define _GNU_SOURCE
#include "model.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "diag.h"
#include "markdown.h"
#include "pagecache.h"

/* ---- typed front matter fields ---- */

typedef struct fm_ctx {
	const char *file;
	const yval *meta;
	strvec *owned; /* the page's copies of text that needed trimming */
	int errors;
	int last_line, last_col; /* of the last integer read */
} fm_ctx;

static yval *S_field(fm_ctx *c, const char *key)
{
	return yval_get(c->meta, key);
}

/* What str_trim removes. */
static int S_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* s without white space at both ends: s itself when it has none there,
 * else a trimmed copy kept in c->owned; NULL when nothing is left. */
static char *S_trimmed(fm_ctx *c, char *s)
{
	size_t n = strlen(s);
	if (!n)
		return NULL;
	if (!S_space(s[0]) && !S_space(s[n - 1]))
		return s;
	char *t = xstrdup(s);
	if (!*str_trim(t)) {
		free(t);
		return NULL;
	}
	strvec_push(c->owned, t);
	return t;
}

static void S_type_error(fm_ctx *c, const yval *v, const char *key, const char *want)
{
	if (v->kind == YV_SCALAR)
		diag_error(c->file, v->line, v->col, "'%s' must be %s, got \"%s\"", key, want, v->str);
	else
		diag_error(c->file, v->line, v->col, "'%s' must be %s, not %s", key, want, yval_kind_name(v));
	c->errors++;
}

/* A string field, trimmed; NULL when absent.  Scalars of any style are
 * strings.  The text belongs to the page (see S_trimmed). */
static char *S_string(fm_ctx *c, const char *key)
{
	yval *v = S_field(c, key);
	if (!v)
		return NULL;
	if (v->kind != YV_SCALAR) {
		S_type_error(c, v, key, "text");
		return NULL;
	}
	if (v->plain && (strcmp(v->str, "~") == 0 || strcmp(v->str, "null") == 0 || !*v->str))
		return NULL;
	return S_trimmed(c, v->str);
}

/* A whole number in [min, max]; 0 when absent or wrong. */
static long S_integer(fm_ctx *c, const char *key, long min, long max)
{
	const yval *v = S_field(c, key);
	if (!v)
		return 0;
	c->last_line = v->line;
	c->last_col = v->col;
	if (v->kind != YV_SCALAR || !v->plain) {
		S_type_error(c, v, key, "a whole number (unquoted)");
		return 0;
	}
	const char *p = v->str;
	long n = 0;
	int digits = 0;
	while (*p >= '0' && *p <= '9' && digits < 10) {
		n = n * 10 + (*p - '0');
		p++;
		digits++;
	}
	if (!digits || *p) {
		S_type_error(c, v, key, "a whole number");
		return 0;
	}
	if (n < min || n > max) {
		diag_error(c->file, v->line, v->col, "'%s' must be between %ld and %ld, got %ld", key, min, max, n);
		c->errors++;
		return 0;
	}
	return n;
}

static int S_bool(fm_ctx *c, const char *key, int dflt)
{
	const yval *v = S_field(c, key);
	if (!v)
		return dflt;
	if (v->kind == YV_SCALAR && v->plain) {
		if (!strcmp(v->str, "true") || !strcmp(v->str, "yes") || !strcmp(v->str, "True"))
			return 1;
		if (!strcmp(v->str, "false") || !strcmp(v->str, "no") || !strcmp(v->str, "False"))
			return 0;
	}
	S_type_error(c, v, key, "true or false");
	return dflt;
}

static int S_date(fm_ctx *c, const char *key, jb_date *out)
{
	const yval *v = S_field(c, key);
	if (!v)
		return 0;
	if (v->kind != YV_SCALAR || date_parse_iso(v->str, out) < 0) {
		S_type_error(c, v, key, "a date like 2024-01-11");
		return 0;
	}
	return 1;
}

/* A list of words (or one word), each text belonging to the page. */
static void S_strlist(fm_ctx *c, const char *key, strvec *out)
{
	yval *v = S_field(c, key);
	if (!v)
		return;
	if (v->kind == YV_SCALAR) {
		if (*v->str)
			strvec_push(out, v->str);
		return;
	}
	if (v->kind != YV_SEQ) {
		S_type_error(c, v, key, "a list of words");
		return;
	}
	for (size_t i = 0; i < v->len; i++) {
		yval *item = v->items[i];
		if (item->kind != YV_SCALAR) {
			S_type_error(c, item, key, "a list of words");
			continue;
		}
		char *s = S_trimmed(c, item->str);
		if (s && !strvec_contains(out, s))
			strvec_push(out, s);
	}
}

/* ---- pages ---- */

static void S_page_free(page *p)
{
	if (!p)
		return;
	free(p->source);
	free(p->slug);
	free(p->tags.items); /* the texts are in meta or owned */
	strvec_free(&p->owned);
	strvec_free(&p->authors);
	free(p->issuer_code);
	free(p->mentions);
	if (!p->meta_borrowed)
		yval_free(p->meta);
	free(p);
}

void model_free(site_model *m)
{
	for (size_t i = 0; i < m->nbulletins; i++)
		S_page_free(m->bulletins[i]);
	for (size_t i = 0; i < m->npages; i++)
		S_page_free(m->pages[i]);
	for (size_t i = 0; i < m->ndocuments; i++)
		S_page_free(m->documents[i]);
	free(m->documents);
	free(m->bulletins);
	strmap_free(&m->by_source, NULL);
	free(m->pages);
	strvec_free(&m->assets);
	free(m->cache_data);
	memset(m, 0, sizeof *m);
}

/* "content/bulletins/2024/01.md" relative to "content/bulletins" →
 * "2024/01" (without the extension). */
static char *S_stem_path(const char *path, const char *dir)
{
	const char *rel = path + strlen(dir);
	while (*rel == '/')
		rel++;
	size_t n = strlen(rel);
	if (n > 3 && strcmp(rel + n - 3, ".md") == 0)
		n -= 3;
	/* white space has no place in a URL: "联盟 章程.md" → 联盟-章程/ */
	char *stem = xstrndup(rel, n);
	for (char *p = stem; *p; p++)
		if (*p == ' ' || *p == '\t')
			*p = '-';
	return stem;
}

static int S_all_digits(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static void S_apply_history(page *p, const strmap *history, int tz)
{
	const file_history *h = history ? strmap_get(history, p->source) : NULL;
	if (!h)
		return;
	jb_date d;
	if (h->created_known) {
		date_from_time(h->created, tz, &d);
		date_format_iso(&d, p->created);
	}
	if (h->updated_known) {
		date_from_time(h->updated, tz, &d);
		date_format_iso(&d, p->updated);
	}
	for (size_t i = 0; i < h->authors.len; i++)
		strvec_push_copy(&p->authors, h->authors.items[i]);
}

/* Reads and parses one Markdown file's front matter into a new page.
 * Returns NULL when the page is to be skipped (errors were reported, or it
 * is a draft). */
/* Reads path and checks that it is UTF-8: 0, or -1 after reporting. */
static int S_read_checked(source *src, const char *path, char **data, size_t *len)
{
	if (source_read(src, path, data, len) != 0)
		return -1;
	size_t bad;
	if (!utf8_valid(*data, *len, &bad)) {
		int line = 1, col = 1;
		for (size_t i = 0; i < bad; i++) {
			if ((*data)[i] == '\n') {
				line++;
				col = 1;
			} else if (((unsigned char)(*data)[i] & 0xC0) != 0x80) {
				col++;
			}
		}
		diag_error(path, line, col, "invalid UTF-8 (content must be UTF-8 encoded)");
		free(*data);
		*data = NULL;
		return -1;
	}
	return 0;
}

/* The position of each member named, for the page cache. */
static uint32_t *S_mention_indices(const collections *c, member **mentions, size_t n)
{
	(void)c;
	uint32_t *ix = xcalloc(n ? n : 1, sizeof *ix);
	for (size_t i = 0; i < n; i++)
		ix[i] = (uint32_t)mentions[i]->index;
	return ix;
}

/* A page read but not yet dated: what the second step needs, and what
 * the page cache is to keep of it. */
typedef struct loading {
	page *p;
	char *kind_dir;
	const char *slug_override;
	int errors, draft;
	int keyed;              /* key is the file's */
	unsigned char key[SOURCE_KEY_SIZE];
	int cached;             /* read from the cache's entry: kept as it is */
	page_cache_entry entry; /* else this is put in the cache */
	uint32_t *mention_ix;
} loading;

/* The first step of loading a page: everything that its file alone decides.
 * 0, or -1 when it cannot be read or parsed (reported). */
static int S_load_page(source *src, const char *path, page_kind kind, const char *kind_dir,
                       const model_options *opts, page_cache *pc, loading *out)
{
	char *data = NULL;
	size_t len = 0;
	unsigned char *key = out->key;
	int keyed = pc && source_file_key(src, path, key) == 0;
	const page_cache_entry *ce = keyed ? page_cache_find(pc, path, key) : NULL;
	fm_doc doc = {0};
	if (ce && ce->has_meta) {
		doc.meta = page_cache_meta(pc, ce); /* borrowed from the record */
		if (!doc.meta)
			ce = NULL;
	}
	if (ce) {
		doc.body_line = ce->body_line;
	} else {
		if (S_read_checked(src, path, &data, &len) < 0)
			return -1;
		if (fm_parse(path, data, len, &doc) < 0) {
			free(data);
			return -1;
		}
	}
	page *p = xcalloc(1, sizeof *p);
	p->kind = kind;
	p->source = xstrdup(path);
	p->meta = doc.meta;
	p->meta_borrowed = ce != NULL;
	p->body_line = doc.body_line;
	p->content_hash = ce ? ce->content_hash : hash64(data, len);
	p->front_hash = ce ? ce->front_hash : hash64(data, doc.body ? (size_t)(doc.body - data) : 0);
	doc.meta = NULL;
	page_cache_entry ne = {.content_hash = p->content_hash, .front_hash = p->front_hash, .body_line = p->body_line};
	uint32_t *mention_ix = NULL;


	fm_ctx c = {path, p->meta, &p->owned, 0, 0, 0};
	p->title = S_string(&c, "title");
	p->subtitle = S_string(&c, "subtitle");
	p->author = S_string(&c, "author");
	p->description = S_string(&c, "description");
	p->has_date = S_date(&c, "date", &p->date);
	S_strlist(&c, "tags", &p->tags);
	char *slug_override = S_string(&c, "slug");
	if (kind == PAGE_BULLETIN) {
		p->series = S_string(&c, "series");
		p->publisher = S_string(&c, "publisher");
		p->guidance = S_string(&c, "guidance");
		p->editor = S_string(&c, "editor");
		p->issue = S_integer(&c, "issue", 1, 9999);
		p->issue_line = c.last_line, p->issue_col = c.last_col;
		c.last_line = c.last_col = 0;
		p->total = S_integer(&c, "total", 1, 999999);
		p->total_line = c.last_line, p->total_col = c.last_col;
	} else if (kind == PAGE_DOCUMENT) {
		p->number = S_string(&c, "number");
		p->issuer = S_string(&c, "issuer");
		p->cc = S_string(&c, "cc");
		p->printed_by = S_string(&c, "printed_by");
		p->has_printed = S_date(&c, "printed", &p->printed);
		p->source_ref = S_string(&c, "source");
		const yval *nv = S_field(&c, "number");
		if (p->number) {
			char *err = NULL;
			int year = 0;
			if (model_parse_doc_number(p->number, &p->issuer_code, &year, &p->doc_seq, &err) < 0) {
				diag_error(path, nv->line, nv->col, "%s", err);
				free(err);
				c.errors++;
			} else {
				p->year = year;
				p->issue_line = nv->line, p->issue_col = nv->col;
			}
		} else if (!nv) {
			diag_error(path, 1, 1, "an alliance document needs 'number: 继教合作联盟〔YYYY〕N号' in its front matter");
			c.errors++;
		}
	}
	if (opts->collections && !c.errors) {
		if (ce) {
			p->mentions = xcalloc(ce->nmentions ? ce->nmentions : 1, sizeof *p->mentions);
			for (uint32_t i = 0; i < ce->nmentions; i++)
				if (ce->mentions[i] < opts->collections->nmembers)
					p->mentions[p->nmentions++] = opts->collections->members[ce->mentions[i]];
		} else {
			collections_mentions(opts->collections, data, len, &p->mentions, &p->nmentions);
			mention_ix = S_mention_indices(opts->collections, p->mentions, p->nmentions);
			ne.mentions = mention_ix;
			ne.nmentions = (uint32_t)p->nmentions;
		}
	}
	int draft = S_bool(&c, "draft", 0);

	if (!p->title) {
		if (ce) {
			p->title = ce->heading ? xstrdup(ce->heading) : NULL;
		} else {
			md_doc md = {0};
			md_parse(&md, doc.body, doc.body_len, 0);
			p->title = md_take_title(&md, 0);
			md_doc_free(&md);
		}
		p->title_from_heading = p->title != NULL;
		if (p->title)
			strvec_push(&p->owned, p->title);
		ne.heading = p->title;
	}
	free(data);
	out->p = p;
	out->kind_dir = xstrdup(kind_dir);
	out->slug_override = slug_override;
	out->errors = c.errors;
	out->draft = draft;
	out->keyed = keyed;
	out->cached = ce != NULL;
	out->entry = ne;
	out->mention_ix = mention_ix;
	return 0;
}

/* What the cache keeps of a page loaded, in the order of the files. */
static void S_cache_page(page_cache *pc, loading *l)
{
	if (l->cached)
		page_cache_keep(pc, l->p->source);
	else if (l->keyed)
		page_cache_put(pc, l->p->source, l->key, &l->entry, l->p->meta);
	free(l->mention_ix);
	l->mention_ix = NULL;
}

/* ---- reading the files on every CPU ---- */

typedef struct load_job {
	const char *path, *dir;
	page_kind kind;
	int ignored; /* not a Markdown file: only warned about */
	int ok; /* out holds a page */
	loading out;
	buf diag; /* what loading it reported, and how many errors and warnings */
	int errors, warnings;
} load_job;

typedef struct load_pool {
	source *src;
	const model_options *opts;
	page_cache *pc;
	load_job *jobs;
	size_t njobs;
	atomic_size_t next;
	int yield; /* the helper threads yield to the history walk */
} load_pool;

/* Loads the files not taken yet; each one's messages are kept with it, so
 * that they are reported in the order of the files whichever thread
 * read them. */
static void *S_load_files(void *arg)
{
	load_pool *lp = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&lp->next, 1);
		if (i >= lp->njobs)
			break;
		load_job *j = &lp->jobs[i];
		int e0 = diag_errors(), w0 = diag_warnings();
		buf *was = diag_capture(&j->diag);
		if (j->ignored)
			diag_warning(j->path, 0, 0, "ignored: only .md files belong in %s/ (put other files in %s/assets/)",
			             j->dir, lp->opts->content_dir);
		else
			j->ok = S_load_page(lp->src, j->path, j->kind, j->dir, lp->opts, lp->pc, &j->out) == 0;
		diag_capture(was);
		j->errors = diag_errors() - e0;
		j->warnings = diag_warnings() - w0;
		diag_add_counts(-j->errors, -j->warnings);
	}
	return NULL;
}

/* A helper thread: while the history is walked in a thread of its own,
 * whatever CPU the walk wants goes to it first.  The first thread reads
 * files at full speed all along, so the walk, which the pages wait for, is
 * not slowed by more threads than CPUs; the helpers take up the rest. */
static void *S_load_files_helper(void *arg)
{
	load_pool *lp = arg;
	if (lp->yield)
		setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
	return S_load_files(arg);
}

/* Below this many files, one thread reads them all. */
enum { S_FILES_PER_THREAD = 64, S_MAX_THREADS = 8 };

static void S_load_all(load_pool *lp)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = cpus < 1 ? 1 : cpus > S_MAX_THREADS ? S_MAX_THREADS : (size_t)cpus;
	if (n > lp->njobs / S_FILES_PER_THREAD)
		n = lp->njobs / S_FILES_PER_THREAD ? lp->njobs / S_FILES_PER_THREAD : 1;
	/* the parsers' shared tables are made before the threads start */
	md_prepare();
	pthread_t threads[S_MAX_THREADS];
	size_t started = 0;
	for (size_t t = 1; t < n; t++)
		if (pthread_create(&threads[started], NULL, S_load_files_helper, lp) == 0)
			started++;
	S_load_files(lp);
	for (size_t t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
}

/* The second step: dates (from the history where the front matter has
 * none), the output folder and the checks that need them.  Returns the
 * page, or NULL when it is not published (reported, or a draft). */
static page *S_finish_page(source *src, const loading *l, const model_options *opts)
{
	page *p = l->p;
	const char *path = p->source, *slug_override = l->slug_override;
	page_kind kind = p->kind;
	int draft = l->draft;
	fm_ctx c = {path, p->meta, &p->owned, l->errors, 0, 0};
	S_apply_history(p, opts->history, opts->tz_offset);

	char *stem = S_stem_path(path, l->kind_dir);
	if (slug_override) {
		if (strchr(slug_override, '/') || !path_is_safe_relative(slug_override)) {
			const yval *v = S_field(&c, "slug");
			diag_error(path, v->line, v->col, "'slug' must be one path segment without '/' or '..', got \"%s\"",
			           slug_override);
			c.errors++;
		} else {
			char *slash = strrchr(stem, '/');
			char *dir = slash ? xstrndup(stem, (size_t)(slash - stem)) : xstrdup("");
			free(stem);
			stem = path_join(dir, slug_override);
			free(dir);
		}
	}

	if (kind == PAGE_BULLETIN) {
		p->slug = path_join("bulletins", stem);
		/* bulletins/YYYY/NN.md: the folder gives the year, the name the issue */
		const char *slash = strrchr(stem, '/');
		const char *name = slash ? slash + 1 : stem;
		size_t dirlen = slash ? (size_t)(slash - stem) : 0;
		int path_year = (dirlen == 4 && S_all_digits(stem, 4)) ? atoi(stem) : 0;
		if (!p->issue && p->title)
			p->issue = md_issue_from_title(p->title);
		if (!p->issue && S_all_digits(name, strlen(name)) && strlen(name) <= 4)
			p->issue = atol(name);
		if (!p->has_date && p->created[0]) {
			date_parse_iso(p->created, &p->date);
			p->has_date = 1;
		}
		if (!p->has_date && !S_field(&c, "date")) {
			diag_error(path, 1, 1, "bulletin has no date: add 'date: YYYY-MM-DD' to its front matter%s",
			           source_is_git(src) ? " (it has no commit history to date it by)" : "");
			c.errors++;
		} else if (p->has_date) {
			p->year = p->date.year;
			if (path_year && path_year != p->year) {
				const yval *v = S_field(&c, "date");
				diag_warning(path, v ? v->line : 1, v ? v->col : 1,
				             "date %04d-%02d-%02d is not in the year of its folder (%d)", p->date.year,
				             p->date.month, p->date.day, path_year);
			}
		}
		if (!p->issue && !S_field(&c, "issue")) {
			diag_error(path, 1, 1, "bulletin has no issue number: add 'issue: N' (第N期) to its front matter");
			c.errors++;
		}
	} else if (kind == PAGE_DOCUMENT) {
		p->slug = path_join("documents", stem);
		if (p->has_date && p->year && p->date.year != p->year) {
			const yval *v = S_field(&c, "date");
			diag_error(path, v ? v->line : 1, v ? v->col : 1, "date %04d-%02d-%02d is not in the year of the number %s",
			           p->date.year, p->date.month, p->date.day, p->number);
			c.errors++;
		}
	} else {
		/* pages/about.md → about; pages/x/index.md → x */
		size_t n = strlen(stem);
		if (n >= 6 && strcmp(stem + n - 6, "/index") == 0)
			stem[n - 6] = '\0';
		p->slug = xstrdup(stem);
		if (!p->has_date && p->created[0]) {
			date_parse_iso(p->created, &p->date);
			p->has_date = 1;
		}
	}
	free(stem);
	if (!p->title && !S_field(&c, "title")) {
		diag_error(path, p->body_line, 1, "no title: add 'title:' to the front matter or start the text with a '# ' heading");
		c.errors++;
	}
	if (c.errors || (draft && !opts->drafts)) {
		S_page_free(p);
		return NULL;
	}
	return p;
}

static int S_cmp_bulletins(const void *a, const void *b)
{
	const page *x = *(page *const *)a, *y = *(page *const *)b;
	int64_t dx = date_days(x->date.year, x->date.month, x->date.day);
	int64_t dy = date_days(y->date.year, y->date.month, y->date.day);
	if (dx != dy)
		return dx > dy ? -1 : 1;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	if (x->issue != y->issue)
		return x->issue > y->issue ? -1 : 1;
	return strcmp(x->source, y->source);
}

static int S_cmp_documents(const void *a, const void *b)
{
	const page *x = *(page *const *)a, *y = *(page *const *)b;
	if (x->year != y->year)
		return x->year > y->year ? -1 : 1;
	int c = strcmp(x->issuer_code, y->issuer_code);
	if (c)
		return c;
	if (x->doc_seq != y->doc_seq)
		return x->doc_seq < y->doc_seq ? -1 : 1;
	return strcmp(x->source, y->source);
}

int model_parse_doc_number(const char *s, char **issuer, int *year, long *seq, char **err)
{
	*err = NULL;
	const char *open = strstr(s, "〔"), *close = strstr(s, "〕");
	if (!open || !close || close < open) {
		static const char *const wrong[] = {"[", "(", "（", "【", "［", "〈", "《"};
		for (size_t i = 0; i < JB_ARRAY_LEN(wrong); i++)
			if (strstr(s, wrong[i])) {
				*err = xasprintf("document number \"%s\": the year goes in 六角括号 〔〕, not %s…", s, wrong[i]);
				return -1;
			}
		*err = xasprintf("document number \"%s\" must look like 继教合作联盟〔2021〕1号", s);
		return -1;
	}
	if (open == s) {
		*err = xasprintf("document number \"%s\" needs the issuer's code before 〔", s);
		return -1;
	}
	const char *y = open + strlen("〔");
	int yr = 0, digits = 0;
	while (y < close && *y >= '0' && *y <= '9') {
		yr = yr * 10 + (*y - '0');
		y++;
		digits++;
	}
	if (y != close || digits != 4) {
		*err = xasprintf("document number \"%s\": the year in 〔〕 must be four digits", s);
		return -1;
	}
	const char *n = close + strlen("〕");
	if (str_starts_with(n, "第")) {
		*err = xasprintf("document number \"%s\": no 第 before the number (继教合作联盟〔%d〕1号)", s, yr);
		return -1;
	}
	if (*n == '0') {
		*err = xasprintf("document number \"%s\": no leading zeros in the number", s);
		return -1;
	}
	long v = 0;
	digits = 0;
	while (*n >= '0' && *n <= '9' && digits < 7) {
		v = v * 10 + (*n - '0');
		n++;
		digits++;
	}
	if (!digits || strcmp(n, "号") != 0) {
		*err = xasprintf("document number \"%s\" must end in the number and 号", s);
		return -1;
	}
	*issuer = xstrndup(s, (size_t)(open - s));
	*year = yr;
	*seq = v;
	return 0;
}

void model_check_numbers(const site_model *m)
{
	/* bulletins are newest first: walk them oldest first */
	for (size_t i = m->nbulletins; i-- > 1;) {
		const page *older = m->bulletins[i], *newer = m->bulletins[i - 1];
		if (older->year == newer->year && older->issue && newer->issue && newer->issue <= older->issue) {
			diag_error(newer->source, newer->issue_line, newer->issue_col,
			           "第%ld期 (%04d-%02d-%02d) does not come after 第%ld期 of %s (%04d-%02d-%02d): "
			           "issue numbers restart each year and grow with the date",
			           newer->issue, newer->date.year, newer->date.month, newer->date.day, older->issue, older->source,
			           older->date.year, older->date.month, older->date.day);
		}
	}
	/* 总第M期 grows with the date over all bulletins that have it */
	const page *prev = NULL;
	for (size_t i = m->nbulletins; i-- > 0;) {
		const page *b = m->bulletins[i];
		if (!b->total)
			continue;
		if (prev && b->total <= prev->total)
			diag_error(b->source, b->total_line, b->total_col,
			           "总第%ld期 (%04d-%02d-%02d) does not come after 总第%ld期 of %s (%04d-%02d-%02d): the running "
			           "number grows with the date",
			           b->total, b->date.year, b->date.month, b->date.day, prev->total, prev->source, prev->date.year,
			           prev->date.month, prev->date.day);
		prev = b;
	}
}

static void S_push_page(page ***arr, size_t *n, page *p)
{
	*arr = xrealloc(*arr, (*n + 1) * sizeof(page *));
	(*arr)[(*n)++] = p;
}

/* What the page cache's entries depend on besides the files. */
static uint64_t S_cache_context(const collections *c)
{
	buf b = BUF_INIT;
	buf_puts(&b, JIANBAO_VERSION);
	buf_putc(&b, '\0');
	for (size_t i = 0; c && i < c->nmembers; i++) {
		buf_puts(&b, c->members[i]->name);
		buf_putc(&b, '\0');
		for (size_t k = 0; k < c->members[i]->short_names.len; k++) {
			buf_puts(&b, c->members[i]->short_names.items[k]);
			buf_putc(&b, '\1');
		}
	}
	uint64_t h = hash64(b.ptr, b.len);
	buf_free(&b);
	return h;
}

int model_load(site_model *m, source *src, const model_options *opts)
{
	memset(m, 0, sizeof *m);
	page_cache *pc = page_cache_open(src, opts->content_dir, S_cache_context(opts->collections));
	struct {
		const char *sub;
		page_kind kind;
	} kinds[] = {{"bulletins", PAGE_BULLETIN}, {"documents", PAGE_DOCUMENT}, {"pages", PAGE_PLAIN}};
	char *dirs[JB_ARRAY_LEN(kinds)] = {0};
	strvec files[JB_ARRAY_LEN(kinds)] = {STRVEC_INIT, STRVEC_INIT, STRVEC_INIT};
	load_pool lp = {.src = src, .opts = opts, .pc = pc, .yield = opts->wait_history != NULL};
	int rc = 0;
	size_t cap = 0;
	for (size_t k = 0; k < JB_ARRAY_LEN(kinds) && rc == 0; k++) {
		dirs[k] = path_join(opts->content_dir, kinds[k].sub);
		if (source_list(src, dirs[k], &files[k]) < 0) {
			rc = -1;
			break;
		}
		for (size_t i = 0; i < files[k].len; i++) {
			const char *f = files[k].items[i];
			if (lp.njobs == cap) {
				cap = cap ? 2 * cap : 256;
				lp.jobs = xrealloc(lp.jobs, cap * sizeof *lp.jobs);
			}
			lp.jobs[lp.njobs++] = (load_job){.path = f, .dir = dirs[k], .kind = kinds[k].kind,
			                                 .ignored = !str_ends_with(f, ".md")};
		}
	}
	if (rc == 0)
		S_load_all(&lp);
	/* in the order of the files: their messages, and what the cache keeps
	 * (written while the history walk may still be going on) */
	for (size_t i = 0; i < lp.njobs; i++) {
		load_job *j = &lp.jobs[i];
		diag_add(j->diag.ptr, j->diag.len, j->errors, j->warnings);
		buf_free(&j->diag);
		if (j->ok)
			S_cache_page(pc, &j->out);
	}
	if (rc == 0)
		page_cache_save(pc);
	/* the history, walked meanwhile, dates the pages */
	int hrc = opts->wait_history ? opts->wait_history(opts->wait_ctx) : 0;
	if (hrc < 0)
		rc = -1;
	for (size_t i = 0; i < lp.njobs; i++) {
		load_job *j = &lp.jobs[i];
		if (!j->ok)
			continue;
		page *p = rc == 0 ? S_finish_page(src, &j->out, opts) : (S_page_free(j->out.p), NULL);
		free(j->out.kind_dir);
		if (!p)
			continue;
		if (p->kind == PAGE_BULLETIN)
			S_push_page(&m->bulletins, &m->nbulletins, p);
		else if (p->kind == PAGE_DOCUMENT)
			S_push_page(&m->documents, &m->ndocuments, p);
		else
			S_push_page(&m->pages, &m->npages, p);
	}
	free(lp.jobs);
	for (size_t k = 0; k < JB_ARRAY_LEN(kinds); k++) {
		strvec_free(&files[k]);
		free(dirs[k]);
	}
	if (rc < 0) {
		m->cache_data = page_cache_take_data(pc);
		page_cache_free(pc);
		return -1;
	}
	if (m->nbulletins > 1)
		qsort(m->bulletins, m->nbulletins, sizeof(page *), S_cmp_bulletins);
	if (m->ndocuments > 1)
		qsort(m->documents, m->ndocuments, sizeof(page *), S_cmp_documents);
	/* one number, one document */
	for (size_t i = 1; i < m->ndocuments; i++) {
		page *a = m->documents[i - 1], *b = m->documents[i];
		if (strcmp(a->number, b->number) == 0)
			diag_error(b->source, b->issue_line, b->issue_col, "document number %s is also used by %s", b->number,
			           a->source);
	}
	for (size_t i = 0; i < m->nbulletins; i++) {
		m->bulletins[i]->next = i > 0 ? m->bulletins[i - 1] : NULL;
		m->bulletins[i]->prev = i + 1 < m->nbulletins ? m->bulletins[i + 1] : NULL;
	}

	m->cache_data = page_cache_take_data(pc);
	page_cache_free(pc);
	int id = 0;
	for (size_t i = 0; i < m->nbulletins; i++)
		m->bulletins[i]->id = id++;
	for (size_t i = 0; i < m->ndocuments; i++)
		m->documents[i]->id = id++;
	for (size_t i = 0; i < m->npages; i++)
		m->pages[i]->id = id++;

	for (size_t i = 0; i < m->nbulletins; i++)
		strmap_put(&m->by_source, m->bulletins[i]->source, m->bulletins[i]);
	for (size_t i = 0; i < m->ndocuments; i++)
		strmap_put(&m->by_source, m->documents[i]->source, m->documents[i]);
	for (size_t i = 0; i < m->npages; i++)
		strmap_put(&m->by_source, m->pages[i]->source, m->pages[i]);

	char *assets = path_join(opts->content_dir, "assets");
	rc = source_list(src, assets, &m->assets);
	free(assets);
	return rc;
}

static void S_put_str(buf *b, const char *s)
{
	buf_puts(b, s ? s : "");
	buf_putc(b, '\0');
}

static void S_put_long(buf *b, long v)
{
	buf_put(b, (const char *)&v, sizeof v);
}

static void S_structure_of(buf *b, const page *p)
{
	S_put_long(b, p->kind);
	S_put_str(b, p->source);
	S_put_str(b, p->slug);
	S_put_long(b, p->has_date ? date_days(p->date.year, p->date.month, p->date.day) : -1);
	S_put_long(b, p->year);
	S_put_long(b, p->issue);
	S_put_long(b, p->total);
	S_put_str(b, p->number);
	S_put_str(b, p->issuer_code);
	S_put_long(b, p->doc_seq);
	S_put_str(b, p->source_ref);
	for (size_t i = 0; i < p->tags.len; i++)
		S_put_str(b, p->tags.items[i]);
	buf_putc(b, '\1');
	for (size_t i = 0; i < p->nmentions; i++)
		S_put_str(b, p->mentions[i]->name);
	buf_putc(b, '\2');
}

uint64_t model_structure_hash(const site_model *m)
{
	buf b = BUF_INIT;
	page **lists[3] = {m->bulletins, m->documents, m->pages};
	size_t counts[3] = {m->nbulletins, m->ndocuments, m->npages};
	for (int l = 0; l < 3; l++) {
		for (size_t i = 0; i < counts[l]; i++)
			S_structure_of(&b, lists[l][i]);
		buf_putc(&b, '\3');
	}
	for (size_t i = 0; i < m->assets.len; i++)
		S_put_str(&b, m->assets.items[i]);
	uint64_t h = hash64(b.ptr ? b.ptr : "", b.len);
	buf_free(&b);
	return h;
}

uint64_t model_fields_hash(const page *p)
{
	buf b = BUF_INIT;
	buf_put(&b, (const char *)&p->front_hash, sizeof p->front_hash);
	S_put_str(&b, p->title);
	uint64_t h = hash64(b.ptr, b.len);
	buf_free(&b);
	return h;
}

uint64_t model_history_hash(const page *p)
{
	buf b = BUF_INIT;
	S_put_str(&b, p->created);
	S_put_str(&b, p->updated);
	for (size_t i = 0; i < p->authors.len; i++)
		S_put_str(&b, p->authors.items[i]);
	uint64_t h = hash64(b.ptr, b.len);
	buf_free(&b);
	return h;
}

page *model_bulletin(const site_model *m, const char *content_dir, const char *ref)
{
	char *path = xasprintf("%s/bulletins/%s.md", content_dir, ref);
	page *p = strmap_get(&m->by_source, path);
	free(path);
	return p && p->kind == PAGE_BULLETIN ? p : NULL;
}

int model_read_body(source *src, const page *p, char **owner, const char **body, size_t *len)
{
	char *data = NULL;
	size_t n = 0;
	if (source_read(src, p->source, &data, &n) != 0) {
		diag_error(p->source, 0, 0, "cannot read it again while rendering");
		return -1;
	}
	if (hash64(data, n) != p->content_hash) {
		diag_error(p->source, 0, 0, "changed while the site was being built: build again");
		free(data);
		return -1;
	}
	/* The file was validated while loading: skip the front matter lines. */
	const char *s = data;
	if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	for (int line = 1; line < p->body_line && s < data + n; line++) {
		const char *nl = memchr(s, '\n', (size_t)(data + n - s));
		s = nl ? nl + 1 : data + n;
	}
	*owner = data;
	*body = s;
	*len = (size_t)(data + n - s);
	return 0;
}
