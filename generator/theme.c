#define _GNU_SOURCE
#include "theme.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"

struct theme {
	char *name;
	source *src;   /* non-NULL when the theme lives in the content's source */
	char *src_dir; /* "themes/N" inside src */
	char *fs_dir;  /* absolute directory otherwise */
	char *display; /* prefix for diagnostics */
};

static int S_is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *S_exe_dir(void)
{
	char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
	if (n <= 0)
		return NULL;
	path[n] = '\0';
	char *slash = strrchr(path, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return xstrdup(path);
}

static int S_valid_name(const char *name)
{
	if (!*name || strlen(name) > 100)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_' || *p == '.'))
			return 0;
	return name[0] != '.';
}

void theme_search_dirs(strvec *out)
{
	const char *env = getenv("JIANBAO_THEMES");
	if (env && *env)
		strvec_push_copy(out, env);
	char *exe = S_exe_dir();
	if (exe) {
		strvec_push(out, path_join(exe, "themes"));
		strvec_push(out, path_join(exe, "../share/jianbao/themes"));
		free(exe);
	}
}

theme *theme_open(source *src, const char *name)
{
	if (!S_valid_name(name)) {
		diag_error(NULL, 0, 0, "invalid theme name '%s' (letters, digits, '-', '_' and '.' only)", name);
		return NULL;
	}
	theme *t = xcalloc(1, sizeof *t);
	t->name = xstrdup(name);

	char *dir = xasprintf("themes/%s", name);
	char *probe = path_join(dir, "layouts/base.html");
	char *data = NULL;
	size_t len = 0;
	int rc = source_read(src, probe, &data, &len);
	free(data);
	free(probe);
	if (rc == 0) {
		t->src = src;
		t->src_dir = dir;
		t->display = xstrdup(dir);
		return t;
	}
	free(dir);

	strvec roots = STRVEC_INIT;
	theme_search_dirs(&roots);
	for (size_t i = 0; i < roots.len && !t->fs_dir; i++) {
		char *candidate = path_join(roots.items[i], name);
		char *layouts = path_join(candidate, "layouts");
		if (S_is_dir(layouts))
			t->fs_dir = candidate;
		else
			free(candidate);
		free(layouts);
	}
	strvec_free(&roots);
	if (!t->fs_dir) {
		diag_error(NULL, 0, 0, "theme '%s' not found (looked in themes/%s of the content repository, "
		           "$JIANBAO_THEMES and next to the jianbao executable)", name, name);
		theme_free(t);
		return NULL;
	}
	t->display = xstrdup(t->fs_dir);
	return t;
}

void theme_free(theme *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->src_dir);
	free(t->fs_dir);
	free(t->display);
	free(t);
}

const char *theme_name(const theme *t)
{
	return t->name;
}

char *theme_display_path(const theme *t, const char *rel)
{
	return path_join(t->display, rel);
}

int theme_read(theme *t, const char *rel, char **data, size_t *len)
{
	if (!path_is_safe_relative(rel)) {
		diag_error(NULL, 0, 0, "invalid theme file name '%s'", rel);
		return -1;
	}
	if (t->src) {
		char *p = path_join(t->src_dir, rel);
		int rc = source_read(t->src, p, data, len);
		free(p);
		return rc;
	}
	char *p = path_join(t->fs_dir, rel);
	struct stat st;
	if (stat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
		free(p);
		return 1;
	}
	int rc = file_read(p, data, len);
	if (rc < 0)
		diag_error(p, 0, 0, "cannot read: %s", strerror(errno));
	free(p);
	return rc < 0 ? -1 : 0;
}

int theme_list(theme *t, const char *rel, strvec *out)
{
	strvec all = STRVEC_INIT;
	int rc;
	char *prefix;
	if (t->src) {
		char *dir = path_join(t->src_dir, rel);
		rc = source_list(t->src, dir, &all);
		free(dir);
		prefix = xasprintf("%s/", t->src_dir);
	} else {
		source_options o = {.repo_dir = t->fs_dir, .no_git = 1};
		source *fs = source_open(&o);
		rc = fs ? source_list(fs, rel, &all) : -1;
		source_free(fs);
		prefix = xstrdup("");
	}
	for (size_t i = 0; i < all.len; i++) {
		const char *p = all.items[i];
		if (*prefix && str_starts_with(p, prefix))
			p += strlen(prefix);
		strvec_push_copy(out, p);
	}
	strvec_free(&all);
	free(prefix);
	return rc;
}
