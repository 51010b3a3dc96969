#define _GNU_SOURCE
#include "harness.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "diag.h"
#include "script.h"
#include "source.h"
#include "template.h"
#include "theme.h"
#include "util.h"

static char S_dir[64];
static source *S_src;
static theme *S_theme;
static lua_State *S_L;
static tpl_engine *S_tpl;
static buf S_diag;
static const tpl_site S_site = {"https://example.org/sub/", "/sub/"};

static void S_write(const char *rel, const char *text)
{
	char *path = xasprintf("%s/themes/t/%s", S_dir, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	mkdir_p(path, 0755);
	*slash = '/';
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	free(path);
}

/* Renders template rel with the given Lua expression as page; returns the
 * output or NULL (diagnostics in S_diag). */
static char *S_render(const char *rel, const char *page_expr)
{
	buf_truncate(&S_diag, 0);
	diag_capture(&S_diag);
	char *code = xasprintf("return %s", page_expr ? page_expr : "{}");
	(void)luaL_dostring(S_L, code);
	free(code);
	tpl_set(S_tpl, "page");
	buf out = BUF_INIT;
	int rc = tpl_render(S_tpl, rel, &out);
	diag_capture(NULL);
	if (rc != 0) {
		buf_free(&out);
		return NULL;
	}
	return buf_detach(&out);
}

static char *S_translate(const char *text, char **err, int *line, int *col)
{
	return tpl_translate(text, strlen(text), err, line, col);
}

TEST(translation_keeps_line_numbers)
{
	char *err = NULL;
	int line = 0, col = 0;
	char *code = S_translate("a\n{{ x }}\n{% if y then %}\nb\n{% end %}\nc", &err, &line, &col);
	CHECK(code != NULL);
	int lines = 1;
	for (const char *p = code; p && *p; p++)
		lines += *p == '\n';
	CHECK_INT(lines, 6);
	free(code);
}

TEST(unclosed_tag_reports_line_and_column)
{
	char *err = NULL;
	int line = 0, col = 0;
	char *code = S_translate("ok\n  简报{{ page.title\n", &err, &line, &col);
	CHECK(code == NULL);
	CHECK_INT(line, 2);
	CHECK_INT(col, 5);
	CHECK_CONTAINS(err, "unclosed '{{'");
	free(err);
	code = S_translate("{% for i=1,2 do", &err, &line, &col);
	CHECK(code == NULL);
	CHECK_CONTAINS(err, "expected '%}'");
	free(err);
}

TEST(escaping_raw_and_values)
{
	S_write("layouts/v.html", "{{ page.t }}|{{{ page.t }}}|{{ page.n }}|{{ page.f }}|{{ page.missing }}|{{ page.b }}");
	char *out = S_render("layouts/v.html", "{t='<b>&\"\\'</b>', n=46, f=3.0, b=true}");
	CHECK_STR(out, "&lt;b&gt;&amp;&quot;&#39;&lt;/b&gt;|<b>&\"'</b>|46|3||true");
	free(out);
}

/* s HTML-escaped one byte at a time, as the reference. */
static void S_escape_naive(buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': buf_puts(b, "&amp;"); break;
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\'': buf_puts(b, "&#39;"); break;
		default: buf_putc(b, *s);
		}
	}
}

TEST(escaping_at_every_position)
{
	/* each special byte and its neighbours, after 0 to 17 characters of
	 * Chinese or ASCII, with more after it */
	S_write("layouts/e.html", "{{ page.t }}");
	static const char specials[] = "&<>\"'!#%(;=?@";
	static const char *const fill[] = {"安", "a", "2/"};
	for (size_t f = 0; f < sizeof fill / sizeof fill[0]; f++)
		for (const char *c = specials; *c; c++)
			for (int before = 0; before < 18; before++) {
				buf s = BUF_INIT, lit = BUF_INIT, want = BUF_INIT;
				for (int k = 0; k < before; k++)
					buf_puts(&s, fill[f]);
				buf_putc(&s, *c);
				for (int k = 0; k < 9; k++)
					buf_puts(&s, fill[f]);
				buf_puts(&lit, "{t=\"");
				for (size_t k = 0; k < s.len; k++)
					buf_printf(&lit, "\\%u", (unsigned)(unsigned char)s.ptr[k]);
				buf_puts(&lit, "\"}");
				S_escape_naive(&want, s.ptr);
				char *out = S_render("layouts/e.html", lit.ptr);
				CHECK_STR(out, want.ptr);
				free(out);
				buf_free(&s), buf_free(&lit), buf_free(&want);
			}
}

TEST(statements_and_line_trimming)
{
	S_write("layouts/loop.html", "<ul>\n{% for _, x in ipairs(page.items) do %}\n  <li>{{ x }}</li>\n{% end %}\n</ul>\n{# a comment #}\nend");
	char *out = S_render("layouts/loop.html", "{items={'一','二'}}");
	CHECK_STR(out, "<ul>\n  <li>一</li>\n  <li>二</li>\n</ul>\nend");
	free(out);
}

TEST(undefined_variable_names_template_line)
{
	S_write("layouts/undef.html", "line1\nline2 {{ pgae.title }}\n");
	char *out = S_render("layouts/undef.html", "{}");
	CHECK(out == NULL);
	CHECK_CONTAINS(S_diag.ptr, "themes/t/layouts/undef.html:2: error: undefined variable 'pgae'");
}

TEST(lua_syntax_error_names_template_line)
{
	S_write("layouts/syntax.html", "a\nb\n{% if then %}\n{% end %}\n");
	char *out = S_render("layouts/syntax.html", "{}");
	CHECK(out == NULL);
	CHECK_CONTAINS(S_diag.ptr, "themes/t/layouts/syntax.html:3: error:");
}

TEST(runtime_error_and_table_output)
{
	S_write("layouts/tbl.html", "\n\n{{ page }}");
	char *out = S_render("layouts/tbl.html", "{}");
	CHECK(out == NULL);
	CHECK_CONTAINS(S_diag.ptr, "themes/t/layouts/tbl.html:3: error: cannot output a table value");
}

TEST(include_with_args_and_recursion_limit)
{
	S_write("partials/item.html", "[{{ args.label }}:{{ page.t }}]");
	S_write("layouts/inc.html", "{{{ include('partials/item.html', {label='甲'}) }}}{{{ include('partials/item.html') }}}");
	char *out = S_render("layouts/inc.html", "{t='x'}");
	CHECK_STR(out, "[甲:x][:x]");
	free(out);
	S_write("partials/self.html", "{{{ include('partials/self.html') }}}");
	S_write("layouts/rec.html", "{{{ include('partials/self.html') }}}");
	out = S_render("layouts/rec.html", "{}");
	CHECK(out == NULL);
	CHECK_CONTAINS(S_diag.ptr, "nested deeper than");
	S_write("layouts/missing.html", "{{{ include('partials/nope.html') }}}");
	out = S_render("layouts/missing.html", "{}");
	CHECK(out == NULL);
	CHECK_CONTAINS(S_diag.ptr, "no template partials/nope.html");
}

/* {{{ include(...) }}} alone writes the partial in place: the same output
 * as include's string in every position */
TEST(include_in_place_is_include)
{
	S_write("partials/v.html", "<{{ args.n }}>");
	S_write("partials/ret.html", "ignored{% do return '<R>' end %}");
	S_write("layouts/mix.html",
	        "a{{ page.t }}{{{ include('partials/v.html', { n = 1 }) }}}b{{{ include(\"partials/v.html\", {n=')'}) }}}"
	        "{{{ include('partials/v.html', { n = [[)]] }) .. '!' }}}{{{include('partials/ret.html')}}}"
	        "{% for i = 1, 2 do %}{{{ include('partials/v.html', { n = i }) }}}{% end %}c");
	char *out = S_render("layouts/mix.html", "{t='T'}");
	CHECK_STR(out, "aT<1>b<)><)>!<R><1><2>c");
	free(out);
	/* a function of the template's own that is called include */
	S_write("layouts/own.html", "{% local include = function(n) return '(' .. n .. ')' end %}x{{{ include('p') }}}y");
	out = S_render("layouts/own.html", "{}");
	CHECK_STR(out, "x(p)y");
	free(out);
	/* an error after a multi-line include still names its own line */
	S_write("layouts/lines.html", "{{{ include('partials/v.html', {\n  n = 2,\n}) }}}\n{{ nosuch }}\n");
	out = S_render("layouts/lines.html", "{}");
	CHECK(out == NULL);
	CHECK_CONTAINS(S_diag.ptr, "layouts/lines.html:4:");
	/* an error inside the partial names the partial */
	S_write("partials/bad.html", "ok\n{{ nosuch2 }}");
	S_write("layouts/badinc.html", "{{{ include('partials/bad.html') }}}");
	out = S_render("layouts/badinc.html", "{}");
	CHECK(out == NULL);
	CHECK_CONTAINS(S_diag.ptr, "partials/bad.html:2:");
	/* which tags become the in-place call */
	char *err = NULL;
	int line = 0, col = 0;
	char *code = S_translate("{{{ include('a', { x = '(' }) }}}", &err, &line, &col);
	CHECK_CONTAINS(code, "_i(include,'a', { x = '(' })");
	free(code);
	code = S_translate("{{{ include('a') .. include('b') }}}{{ include('c') }}", &err, &line, &col);
	CHECK(code && !strstr(code, "_i("));
	free(code);
}

/* include_cached makes a partial once per key for the whole build */
TEST(include_cached_once_per_key)
{
	S_write("partials/c.html", "<{{ args.n }}>");
	S_write("layouts/cache.html",
	        "{{{ include_cached('partials/c.html', 'k1', { n = 1 }) }}}{{{ include_cached('partials/c.html', 'k1', { n = 2 }) }}}"
	        "{{{ include_cached('partials/c.html', 'k2', { n = 3 }) }}}{{{ include_cached('partials/c.html', 7, { n = 4 }) }}}");
	char *out = S_render("layouts/cache.html", "{}");
	CHECK_STR(out, "<1><1><3><4>");
	free(out);
	/* and across renders */
	out = S_render("layouts/cache.html", "{}");
	CHECK_STR(out, "<1><1><3><4>");
	free(out);
	/* the page is not there: the partial could not be shared otherwise */
	S_write("partials/p.html", "{{ page.t }}");
	S_write("layouts/cachepage.html", "{{{ include_cached('partials/p.html', 'x', {}) }}}");
	out = S_render("layouts/cachepage.html", "{t='T'}");
	CHECK(out == NULL);
	CHECK_CONTAINS(S_diag.ptr, "undefined variable 'page'");
	/* ... and is back after it */
	S_write("layouts/cacheafter.html", "{{{ include_cached('partials/c.html', 'k1', {}) }}}{{ page.t }}");
	out = S_render("layouts/cacheafter.html", "{t='T'}");
	CHECK_STR(out, "<1>T");
	free(out);
}

TEST(helpers)
{
	S_write("layouts/h.html",
	        "{{ date_cn('2024-01-11') }}|{{ issue_line(page) }}|{{ truncate('一二三四五', 3) }}|"
	        "{{ truncate('短', 3) }}|{{ url('/bulletins/') }}|{{ abs_url('/feed.xml') }}|{{ url('https://x.org/') }}");
	char *out = S_render("layouts/h.html", "{year=2024, issue=1, total=46}");
	CHECK_STR(out, "2024年1月11日|2024年第1期 总第46期|一二三…|短|/sub/bulletins/|https://example.org/sub/feed.xml|https://x.org/");
	free(out);
	S_write("layouts/h2.html", "{{ issue_line(page) }}");
	out = S_render("layouts/h2.html", "{year=2022, issue=10}");
	CHECK_STR(out, "2022年第10期");
	free(out);
	S_write("layouts/h3.html", "{{ date_cn('2024-13-01') }}");
	out = S_render("layouts/h3.html", "{}");
	CHECK(out == NULL);
	CHECK_CONTAINS(S_diag.ptr, "not a YYYY-MM-DD date");
}

TEST(sandbox_has_no_io_or_os)
{
	S_write("layouts/io.html", "{{ io.open('/etc/passwd') }}");
	char *out = S_render("layouts/io.html", "{}");
	CHECK(out == NULL);
	CHECK_CONTAINS(S_diag.ptr, "undefined variable 'io'");
	S_write("layouts/os.html", "{{ os.execute('true') }}");
	out = S_render("layouts/os.html", "{}");
	CHECK(out == NULL);
	CHECK_CONTAINS(S_diag.ptr, "undefined variable 'os'");
	S_write("layouts/spin.html", "{% while true do end %}");
	out = S_render("layouts/spin.html", "{}");
	CHECK(out == NULL);
	CHECK_CONTAINS(S_diag.ptr, "instruction budget");
}

int main(void)
{
	h_suite = "template";
	snprintf(S_dir, sizeof S_dir, "/tmp/jb-tpl-XXXXXX");
	if (!mkdtemp(S_dir))
		return 1;
	S_write("layouts/base.html", "{{{ content }}}");
	source_options so = {.repo_dir = S_dir, .no_git = 1};
	S_src = source_open(&so);
	S_theme = theme_open(S_src, "t");
	script_limits lim = {.budget = 5000000};
	S_L = script_new(&lim);
	S_tpl = tpl_new(S_L, S_theme, &S_site);

	RUN(translation_keeps_line_numbers);
	RUN(unclosed_tag_reports_line_and_column);
	RUN(escaping_raw_and_values);
	RUN(escaping_at_every_position);
	RUN(statements_and_line_trimming);
	RUN(undefined_variable_names_template_line);
	RUN(lua_syntax_error_names_template_line);
	RUN(runtime_error_and_table_output);
	RUN(include_with_args_and_recursion_limit);
	RUN(include_in_place_is_include);
	RUN(include_cached_once_per_key);
	RUN(helpers);
	RUN(sandbox_has_no_io_or_os);

	tpl_free(S_tpl);
	script_close(S_L);
	theme_free(S_theme);
	source_free(S_src);
	remove_tree(S_dir);
	buf_free(&S_diag);
	return HARNESS_DONE();
}
