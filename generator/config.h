/* config — content/site.lua, run in the sandbox, returns the site table.
 *
 * The table stays in the Lua state (registry "jianbao.site") for templates
 * and hooks; the fields the generator itself needs are checked and copied
 * into struct site_config. */
#ifndef JB_CONFIG_H
#define JB_CONFIG_H

#include <lua.h>

#include "source.h"

typedef struct site_config {
	char *file;      /* "content/site.lua" */
	char *title;
	char *base_url;  /* always ends in '/' */
	char *base_path; /* path part of base_url, starts and ends with '/' */
	char *language;  /* "zh-CN" */
	char *theme;     /* "default" */
	int allow_raw_html;
	int pdf; /* site.pdf, default true: printable PDFs */
	int feed_size;   /* entries in feed.xml */
	int home_size;   /* latest issues on the home page */
	int tz_offset;   /* minutes east of UTC of site.timezone ("+08:00") */
} site_config;

/* Runs site.lua from src and leaves the site table in the registry.
 * Returns 0, or -1 after reporting. */
/* base_url_override (may be NULL) replaces site.base_url. */
int config_load(lua_State *L, source *src, const char *content_dir, const char *base_url_override,
                site_config *out);
/* Reads (again) the fields of the site table in the registry into out,
 * e.g. after config hooks changed it.  0, or -1 after reporting. */
int config_read(lua_State *L, const char *base_url_override, site_config *out);
void config_free(site_config *c);
/* Pushes the site table. */
void config_push_site(lua_State *L);

#endif
