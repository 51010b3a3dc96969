/* jianbao — builds the 工作简报 portal from a git repository.
 * The command line: parses options, runs the stages in order, decides the
 * exit code. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <mimalloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "collections.h"
#include "config.h"
#include "deps.h"
#include "diag.h"
#include "figures.h"
#include "hooks.h"
#include "model.h"
#include "output.h"
#include "render.h"
#include "script.h"
#include "source.h"
#include "stamp.h"
#include "stats.h"
#include "theme.h"
#include "typeset.h"
#include "frontmatter.h"
#include "markdown.h"
#include "util.h"

#ifndef JIANBAO_VERSION
#define JIANBAO_VERSION "0.1.0"
#endif

enum { EXIT_CONTENT = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 130 };

static volatile sig_atomic_t S_interrupted;

static void S_on_signal(int sig)
{
	(void)sig;
	S_interrupted = 1;
}

static void S_usage(FILE *f)
{
	fputs("usage: jianbao build [options]     build the site into a folder\n"
	      "       jianbao check [options]     check everything a build checks; publish nothing\n"
	      "       jianbao pdf FILE.md -o OUT.pdf [--theme NAME]   typeset one bulletin or document\n"
	      "       jianbao version\n"
	      "\n"
	      "build options:\n"
	      "  --repo DIR        the git repository holding the content (default: the one\n"
	      "                    containing the current directory)\n"
	      "  --content SUBDIR  the content folder inside it (default: content)\n"
	      "  --out DIR         where the site goes (default: public); it is replaced\n"
	      "                    atomically, and only when the build succeeds\n"
	      "  --rev REV         build this commit (sha, tag, branch, HEAD~1, ...) from the\n"
	      "                    object database instead of the working tree; works in bare\n"
	      "                    repositories and never touches the worktree\n"
	      "  --no-git          build a plain folder (no history: file dates unknown)\n"
	      "  --base-url URL    override site.base_url\n"
	      "  --drafts          include pages marked draft: true\n"
	      "  --no-pdf          skip the printable PDFs (bulletins, documents, volumes)\n"
	      "  -j, --jobs N      processes that share the pages (default: one per CPU, up to\n"
	      "                    8, or 1 when the site has hooks; see docs/hooks.md)\n"
	      "  --diagnostics FMT plain (file:line:col: error: ...) or github (annotations)\n"
	      "  --quiet           print errors only\n"
	      "\n"
	      "SOURCE_DATE_EPOCH, when set, is the build date (seconds since 1970).\n"
	      "Exit status: 0 built, 1 errors in the content (nothing published), 2 bad usage,\n"
	      "130 interrupted.\n",
	      f);
}

typedef struct build_args {
	const char *repo, *content, *out, *rev, *base_url, *diagnostics;
	int no_git, drafts, quiet;
	int check_only; /* jianbao check: everything but publishing */
	int no_pdf;
	int jobs; /* 0: decide from the CPUs and the hooks */
} build_args;

static double S_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Every `source` (a bulletin path like 2024/01) in the collections and
 * documents must name a bulletin of the model. */
static void S_check_ref(const site_model *m, const char *content, const char *file, int line, const char *ref)
{
	if (!model_bulletin(m, content, ref))
		diag_error(file, line, 0, "source '%s' names no bulletin (%s/bulletins/%s.md does not exist)", ref, content,
		           ref);
}

static void S_check_references(const site_model *m, const collections *c, const char *content)
{
	for (size_t i = 0; i < c->nmembers; i++)
		for (size_t j = 0; j < c->members[i]->sources.len; j++)
			S_check_ref(m, content, c->members_file, c->members[i]->line, c->members[i]->sources.items[j]);
	for (size_t i = 0; i < c->ncommittees; i++)
		for (size_t j = 0; j < c->committees[i]->sources.len; j++)
			S_check_ref(m, content, c->committees_file, c->committees[i]->line, c->committees[i]->sources.items[j]);
	for (size_t i = 0; i < c->ncourses; i++)
		for (size_t j = 0; j < c->courses[i]->sources.len; j++)
			S_check_ref(m, content, c->courses_file, c->courses[i]->line, c->courses[i]->sources.items[j]);
	for (size_t i = 0; i < m->ndocuments; i++)
		if (m->documents[i]->source_ref)
			S_check_ref(m, content, m->documents[i]->source, 0, m->documents[i]->source_ref);
}

/* The build's clock: SOURCE_DATE_EPOCH, else the built commit's (committer)
 * time, else 0 — never the wall clock.  *clock gets the seconds, out the
 * date in the site's time zone ("" without any clock).  -1 after reporting
 * a malformed SOURCE_DATE_EPOCH. */
static int S_build_clock(source *src, int tz_offset, int64_t *clock, char out[11])
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	jb_date d;
	int offset;
	*clock = 0;
	out[0] = '\0';
	if (sde) {
		char *end = NULL;
		errno = 0;
		long long v = strtoll(sde, &end, 10);
		if (!*sde || *end || errno || v < 0 || v > 253402300799LL || sde[0] == '+' || sde[0] == ' ') {
			diag_error(NULL, 0, 0, "SOURCE_DATE_EPOCH must be a whole number of seconds since 1970-01-01, got '%s'",
			           sde);
			return -1;
		}
		*clock = v;
	} else if (source_commit_time(src, clock, &offset) < 0) {
		return 0;
	}
	date_from_time(*clock, tz_offset, &d);
	date_format_iso(&d, out);
	return 0;
}

/* Worker processes for the pages: as asked, else one per CPU (at most 8);
 * one when hooks run, since page, render and shortcode handlers may keep
 * state from page to page. */
static int S_jobs(const build_args *a, const hooks *hk)
{
	if (a->jobs)
		return a->jobs;
	if (hooks_files(hk) > 0)
		return 1;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

/* The history walk, in a thread of its own while the files are read. */
typedef struct history_job {
	pthread_t thread;
	source *src;
	const char *content;
	strmap *map;
	int rc, started, joined;
	buf diag;
	int errors, warnings;
} history_job;

static void *S_history_thread(void *arg)
{
	history_job *j = arg;
	diag_capture(&j->diag);
	j->rc = source_history(j->src, j->content, j->map);
	j->errors = diag_errors();
	j->warnings = diag_warnings();
	diag_capture(NULL);
	return NULL;
}

/* Waits for the walk (once) and reports what it found wrong. */
static int S_history_wait(void *ctx)
{
	history_job *j = ctx;
	if (j->started && !j->joined) {
		pthread_join(j->thread, NULL);
		j->joined = 1;
		diag_add(j->diag.ptr ? j->diag.ptr : "", j->diag.len, j->errors, j->warnings);
		buf_free(&j->diag);
	}
	return j->rc;
}

/* The files an output was given, with their states, for the stamp. */
typedef struct written_files {
	stamp_file *files;
	size_t n, cap;
} written_files;

static void S_note_file(void *ctx, const char *rel, const struct stat *st)
{
	written_files *w = ctx;
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 1024;
		w->files = xrealloc(w->files, w->cap * sizeof *w->files);
	}
	stamp_file *f = &w->files[w->n++];
	f->rel = xstrdup(rel);
	f->known = st != NULL;
	if (st)
		f->st = *st;
}

static void S_written_free(written_files *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->files[i].rel);
	free(w->files);
}

/* Waits for the walk, which is not needed after all: what it found is
 * not reported. */
static void S_history_discard(history_job *j)
{
	if (j->started && !j->joined) {
		pthread_join(j->thread, NULL);
		j->joined = 1;
		buf_free(&j->diag);
	}
}

static int S_build(const build_args *a)
{
	double t0 = S_now();
	diag_stage(NULL);
	if (a->diagnostics) {
		if (!strcmp(a->diagnostics, "github"))
			diag_set_format(DIAG_GITHUB);
		else if (strcmp(a->diagnostics, "plain") != 0) {
			fprintf(stderr, "jianbao: --diagnostics must be plain or github\n");
			return EXIT_USAGE;
		}
	}
	diag_set_quiet(a->quiet);
	const char *content = a->content ? a->content : "content";
	if (strcmp(content, ".") != 0 && !path_is_safe_relative(content)) {
		diag_error(NULL, 0, 0, "--content must be a relative folder inside the repository, got '%s'", content);
		return EXIT_USAGE;
	}
	const char *out_dir = a->out ? a->out : "public";

	source_options so = {.repo_dir = a->repo, .rev = a->rev, .no_git = a->no_git};
	source *src = source_open(&so);
	if (!src)
		return EXIT_CONTENT;

	/* the last build of these settings recorded exactly the current state */
	stamp *record = NULL;
	strvec old_files = STRVEC_INIT; /* the output's files, when it is as the last build left it */
	int intact = 0;
	deps *dp = NULL;
	int update = 0;
	/* from a worktree the files are read without git: the history is
	 * walked meanwhile, from the start (a build that turns out to be up to
	 * date reads the walk its last build stored) */
	strmap history = STRMAP_INIT;
	history_job hj = {.src = src, .content = content, .map = &history};
	if (source_workdir(src) && source_is_git(src) && pthread_create(&hj.thread, NULL, S_history_thread, &hj) == 0)
		hj.started = 1;
	if (!a->check_only) {
		const char *sde = getenv("SOURCE_DATE_EPOCH"), *themes = getenv("JIANBAO_THEMES");
		char *settings = xasprintf("%s content=%s rev=%s drafts=%d pdf=%d base_url=%s sde=%s themes=%s",
		                           JIANBAO_VERSION, content, a->rev ? a->rev : "-", a->drafts, !a->no_pdf,
		                           a->base_url ? a->base_url : "-", sde ? sde : "-", themes ? themes : "-");
		record = stamp_begin(src, content, out_dir, settings);
		free(settings);
		if (stamp_fresh(record)) {
			diag_note("%s/ is up to date: nothing changed since it was built from %s (%.2f s)", out_dir,
			          source_describe(src), S_now() - t0);
			S_history_discard(&hj);
			source_history_free(&history);
			stamp_free(record);
			source_free(src);
			return 0;
		}
		intact = stamp_output_intact(record, &old_files);
		stamp_forget(record);
	}

	lua_State *L = NULL;
	theme *th = NULL;
	site_model model = {0};
	site_config cfg = {0};
	output *out = NULL;
	hooks *hk = NULL;
	collections coll = {0};
	stats st = {0};
	tpl_site tsite = {"/", "/"};
	int rc = EXIT_CONTENT;
	char build_date[11];

	L = script_new(NULL);
	if (config_load(L, src, content, a->base_url, &cfg) < 0)
		goto done;
	int64_t clock = 0;
	if (S_build_clock(src, cfg.tz_offset, &clock, build_date) < 0)
		goto done;
	th = theme_open(src, cfg.theme);
	if (!th)
		goto done;
	tsite.base_url = cfg.base_url;
	tsite.base_path = cfg.base_path;
	int clock_offset = cfg.tz_offset;
	hooks_env he = {.src = src, .theme = th, .content_dir = content, .clock = clock,
	                .clock_offset = clock_offset, .site = &tsite};
	hk = hooks_load(L, &he);
	if (!hk)
		goto done;
	if (hooks_run_config(hk) < 0 || config_read(L, a->base_url, &cfg) < 0)
		goto done;
	diag_stage("config");
	tsite.base_url = cfg.base_url;
	tsite.base_path = cfg.base_path;
	if (!hj.started && source_history(src, content, &history) < 0)
		goto done;
	diag_stage("history");
	if (collections_load(&coll, L, src, content) < 0)
		goto done;
	diag_stage("collections");
	model_options mo = {.content_dir = content, .drafts = a->drafts, .history = &history,
	                    .tz_offset = cfg.tz_offset, .collections = &coll,
	                    .wait_history = hj.started ? S_history_wait : NULL, .wait_ctx = &hj};
	if (model_load(&model, src, &mo) < 0 || S_history_wait(&hj) < 0)
		goto done;
	source_history_free(&history); /* the pages have their dates now */
	/* what the walk and the reading of the content held (files, parse
	 * trees, the page cache's record) goes back before the pages are
	 * rendered: the pages are kept in far less */
	mi_collect(true);
	diag_stage("model");
	model_check_numbers(&model);
	S_check_references(&model, &coll, content);
	if (stats_load(&st, src, content, &model) < 0)
		goto done;
	diag_stage("checks+stats");
	if (diag_errors())
		goto done;

	char check_dir[4096];
	if (a->check_only) {
		const char *tmp = getenv("TMPDIR");
		snprintf(check_dir, sizeof check_dir, "%s/jianbao-check-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(check_dir)) {
			diag_error(NULL, 0, 0, "cannot create a temporary folder: %s", strerror(errno));
			goto done;
		}
		char *site_dir = path_join(check_dir, "site");
		out = output_begin(site_dir);
		free(site_dir);
	} else {
		/* without hooks, which may read anything, each output's pages are
		 * noted; when the output folder is as the last build left it and
		 * nothing but pages changed, outputs made of unchanged pages stay
		 * (from a worktree, whose other files the record has seen) */
		if (record && hooks_files(hk) == 0 && source_workdir(src)) {
			uint64_t parts[2] = {stamp_inputs_hash(record), model_structure_hash(&model)};
			dp = deps_open(src, stamp_output_dir(record), hash64(parts, sizeof parts));
			update = intact && deps_usable(dp);
		} else if (record) {
			deps_discard(src, stamp_output_dir(record));
		}
		out = update ? output_begin_update(out_dir, &old_files) : NULL;
		if (!out) {
			update = 0;
			out = output_begin(out_dir);
		}
	}
	if (!out)
		goto done;
	render_options ro = {
		.L = L, .src = src, .theme = th, .config = &cfg, .hooks = hk, .model = &model, .collections = &coll, .stats = &st,
		.out = out,
		.content_dir = content, .build_date = build_date[0] ? build_date : NULL,
		.commit = source_commit_id(src), .interrupted = &S_interrupted, .pdf = !a->no_pdf && cfg.pdf,
		.jobs = update ? 1 : S_jobs(a, hk), .deps = dp, .unchanged_stay = update,
	};
	if (render_site(&ro) < 0 || diag_errors() || S_interrupted) {
		if (S_interrupted)
			diag_error(NULL, 0, 0, "interrupted: nothing was published");
		goto done;
	}
	diag_stage("render");
	size_t files = output_count(out), kept = update ? output_kept(out) : 0;
	if (a->check_only) {
		output_abort(out);
		out = NULL;
		remove_tree(check_dir);
		diag_note("check: %zu bulletins, %zu documents, %zu pages, %zu members, %zu committees, %zu courses "
		          "from %s: no errors%s",
		          model.nbulletins, model.ndocuments, model.npages, coll.nmembers, coll.ncommittees, coll.ncourses,
		          source_describe(src), diag_warnings() ? " (see the warnings above)" : "");
		rc = 0;
		goto done;
	}
	strvec changed = STRVEC_INIT;
	int same_files = output_changed_files(out, &changed) == 0;
	/* a new output holds just the files written, whose states are known */
	written_files wf = {0};
	if (!update && record)
		output_each_written(out, S_note_file, &wf);
	if (output_commit(out) < 0) {
		strvec_free(&changed);
		S_written_free(&wf);
		out = NULL;
		goto done;
	}
	/* the notes hold for inputs the next build can trust to be as now */
	if (stamp_inputs_racy(record))
		deps_discard(src, stamp_output_dir(record));
	else
		deps_save(dp);
	if (same_files)
		stamp_record_changed(record, &changed);
	else if (!update)
		stamp_record_files(record, wf.files, wf.n);
	else
		stamp_record(record);
	strvec_free(&changed);
	S_written_free(&wf);
	diag_stage("publish");
	out = NULL;
	char made[64] = "";
	if (update)
		snprintf(made, sizeof made, ", %zu made again", files - kept);
	diag_note("built %zu bulletins, %zu documents, %zu pages (%zu files%s) from %s into %s/ in %.2f s",
	          model.nbulletins, model.ndocuments, model.npages, files, made, source_describe(src), out_dir,
	          S_now() - t0);
	rc = 0;
done:
	if (out) {
		output_abort(out);
		if (a->check_only)
			remove_tree(check_dir);
	}
	if (rc != 0 && diag_errors() && !S_interrupted) {
		if (a->check_only)
			diag_note("check found %d error(s)", diag_errors());
		else
			diag_note("build failed with %d error(s): %s/ was left as it was", diag_errors(), out_dir);
	}
	S_history_wait(&hj);
	if (rc == 0 && !S_interrupted) {
		/* Done, and the process ends with the build: the system takes back
		 * the model's and the Lua state's memory at once, faster than
		 * freeing it block by block.  (Exiting here keeps every block
		 * reachable for leak checkers.) */
		fflush(NULL);
		exit(0);
	}
	stamp_free(record);
	strvec_free(&old_files);
	deps_free(dp);
	hooks_free(hk);
	model_free(&model);
	collections_free(&coll);
	stats_free(&st);
	source_history_free(&history);
	theme_free(th);
	config_free(&cfg);
	script_close(L);
	source_free(src);
	return S_interrupted ? EXIT_INTERRUPTED : rc;
}

static int S_cmd_build(int argc, char **argv, int check_only)
{
	enum { O_REPO = 256, O_CONTENT, O_OUT, O_REV, O_NOGIT, O_BASE, O_DRAFTS, O_DIAG, O_QUIET, O_HELP, O_NOPDF, O_JOBS };
	static const struct option opts[] = {
		{"repo", required_argument, NULL, O_REPO},       {"content", required_argument, NULL, O_CONTENT},
		{"out", required_argument, NULL, O_OUT},         {"rev", required_argument, NULL, O_REV},
		{"no-git", no_argument, NULL, O_NOGIT},          {"base-url", required_argument, NULL, O_BASE},
		{"drafts", no_argument, NULL, O_DRAFTS},         {"diagnostics", required_argument, NULL, O_DIAG},
		{"quiet", no_argument, NULL, O_QUIET},           {"help", no_argument, NULL, O_HELP},
		{"no-pdf", no_argument, NULL, O_NOPDF},          {"jobs", required_argument, NULL, O_JOBS},
		{NULL, 0, NULL, 0},
	};
	build_args a = {.check_only = check_only};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "qo:j:", opts, NULL)) != -1) {
		switch (c) {
		case O_REPO: a.repo = optarg; break;
		case O_CONTENT: a.content = optarg; break;
		case 'o':
		case O_OUT:
			if (check_only) {
				fprintf(stderr, "jianbao check: --out has no meaning here (check publishes nothing)\n");
				return EXIT_USAGE;
			}
			a.out = optarg;
			break;
		case O_REV: a.rev = optarg; break;
		case O_NOGIT: a.no_git = 1; break;
		case O_BASE: a.base_url = optarg; break;
		case O_DRAFTS: a.drafts = 1; break;
		case O_DIAG: a.diagnostics = optarg; break;
		case 'q':
		case O_QUIET: a.quiet = 1; break;
		case O_HELP: S_usage(stdout); return 0;
		case O_NOPDF: a.no_pdf = 1; break;
		case 'j':
		case O_JOBS: {
			char *end = NULL;
			long n = strtol(optarg, &end, 10);
			if (!*optarg || *end || n < 1 || n > 64) {
				fprintf(stderr, "jianbao build: --jobs must be a number from 1 to 64, got '%s'\n", optarg);
				return EXIT_USAGE;
			}
			a.jobs = (int)n;
			break;
		}
		default:
			fprintf(stderr, "jianbao build: unknown or incomplete option '%s'\n", argv[optind - 1]);
			S_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "jianbao build: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	return S_build(&a);
}

/* Local images of `jianbao pdf`: relative to the Markdown file's folder. */
typedef struct pdf_ctx {
	const char *dir; /* the Markdown file's folder: images are relative to it */
	figures *fig;    /* charts, with the series of ./content/data when present */
} pdf_ctx;

static int S_pdf_image(void *ctx, const char *path, char **data, size_t *len)
{
	pdf_ctx *c = ctx;
	if (!path_is_safe_relative(path))
		return -1;
	char *full = path_join(c->dir, path);
	int rc = file_read(full, data, len);
	free(full);
	return rc;
}

static int S_pdf_block(void *ctx, cmark_node *fenced, cairo_t *cr, double width, double *height)
{
	pdf_ctx *c = ctx;
	return figures_draw_block(c->fig, fenced, cr, width, height);
}

/* jianbao pdf FILE.md -o OUT.pdf: one bulletin (or, with `number:` in its
 * front matter, one alliance document) as a printable PDF. */
static int S_cmd_pdf(int argc, char **argv)
{
	static const struct option opts[] = {
		{"out", required_argument, NULL, 'o'}, {"theme", required_argument, NULL, 't'}, {NULL, 0, NULL, 0},
	};
	const char *out = NULL, *theme_name = "default";
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 't')
			theme_name = optarg;
		else {
			fprintf(stderr, "jianbao pdf: unknown or incomplete option '%s'\n", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || !out) {
		fprintf(stderr, "usage: jianbao pdf FILE.md -o OUT.pdf [--theme NAME]\n");
		return EXIT_USAGE;
	}
	const char *file = argv[optind];
	char *data = NULL, *dir = NULL;
	size_t len = 0;
	if (file_read(file, &data, &len) < 0) {
		diag_error(file, 0, 0, "cannot read it: %s", strerror(errno));
		return EXIT_CONTENT;
	}
	int rc = EXIT_CONTENT;
	fm_doc fm = {0};
	md_doc md = {0};
	strvec owned = STRVEC_INIT;
	print_style style;
	print_style_defaults(&style);
	typesetter *ts = NULL;
	if (fm_parse(file, data, len, &fm) < 0)
		goto done;
	print_doc doc;
	if (typeset_doc_from_meta(&doc, fm.meta, file, &owned) < 0)
		goto done;
	md_parse(&md, fm.body, fm.body_len, 0);
	md_normalize(&md);
	if (!doc.title) {
		char *t = md_take_title(&md, 1);
		if (t) {
			strvec_push(&owned, t);
			doc.title = doc.pdf_title = t;
		}
	}
	doc.body = md.root;
	doc.first_line = fm.body_line;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (sde && *sde) {
		jb_date d;
		date_from_time(strtoll(sde, NULL, 10), 0, &d);
		strvec_push(&owned, xasprintf("%04d-%02d-%02dT00:00:00Z", d.year, d.month, d.day));
		doc.created = owned.items[owned.len - 1];
	}
	const char *slash = strrchr(file, '/');
	dir = slash ? xstrndup(file, (size_t)(slash - file)) : xstrdup(".");
	/* charts read their series from ./content/data, as in a build */
	source_options fo = {.repo_dir = ".", .no_git = 1};
	source *fsrc = source_open(&fo);
	site_model none = {0};
	stats st = {0};
	lua_State *L = script_new(NULL);
	if (fsrc)
		stats_load(&st, fsrc, "content", NULL);
	figures_options fgo = {.L = L, .stats = &st, .model = &none, .base_path = "/", .content_dir = "content"};
	figures *fig = figures_new(&fgo);
	pdf_ctx pc = {dir, fig};
	doc.load_image = S_pdf_image;
	doc.draw_block = S_pdf_block;
	doc.ctx = &pc;

	source_options so = {.repo_dir = ".", .no_git = 1};
	source *src = source_open(&so);
	theme *th = src ? theme_open(src, theme_name) : NULL;
	char *code = NULL;
	size_t code_len = 0;
	int found = th ? theme_read(th, "print.lua", &code, &code_len) : 1;
	if (found == 0) {
		char *shown = theme_display_path(th, "print.lua");
		print_style_free(&style);
		if (print_style_load(&style, shown, code, code_len) < 0)
			found = -1;
		free(shown);
	}
	free(code);
	theme_free(th);
	source_free(src);
	if (found < 0)
		goto done;
	ts = typeset_new(&style);
	int pages = typeset_pdf_file(ts, &doc, out);
	if (pages > 0) {
		diag_note("%s: %d page%s → %s", file, pages, pages == 1 ? "" : "s", out);
		rc = 0;
	}
	figures_free(fig);
	script_close(L);
	stats_free(&st);
	source_free(fsrc);
done:
	typeset_free(ts);
	print_style_free(&style);
	md_doc_free(&md);
	fm_doc_free(&fm);
	strvec_free(&owned);
	free(dir);
	free(data);
	return rc;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = S_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (argc < 2) {
		S_usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "build"))
		return S_cmd_build(argc - 1, argv + 1, 0);
	if (!strcmp(cmd, "check"))
		return S_cmd_build(argc - 1, argv + 1, 1);
	if (!strcmp(cmd, "pdf"))
		return S_cmd_pdf(argc - 1, argv + 1);
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("jianbao %s\n", JIANBAO_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		S_usage(stdout);
		return 0;
	}
	fprintf(stderr, "jianbao: unknown command '%s'\n", cmd);
	S_usage(stderr);
	return EXIT_USAGE;
}
