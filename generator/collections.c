#include "collections.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "model.h"
#include "tabular.h"

static const char *const S_default_roles[] = {"理事长单位", "副理事长单位", "常务理事单位", "成员单位", NULL};
static const char *const S_default_committees[] = {
	"学分银行建设专门委员会", "自考助学服务改革专门委员会", "教学改革与质量保障专门委员会",
	"服务农民学历与技能提升专门委员会", "老年教育专门委员会", NULL,
};
static const char *const S_seat_roles[] = {"主任单位", "副主任单位", "秘书处", "委员单位", NULL};
static const char *const S_levels[] = {"专科", "本科", NULL};

static void S_build_index(collections *c);

static int S_in(const char *s, const char *const *set)
{
	for (size_t i = 0; set[i]; i++)
		if (strcmp(s, set[i]) == 0)
			return 1;
	return 0;
}

static int S_in_vec(const char *s, const strvec *v)
{
	return strvec_contains(v, s);
}

static char *S_join_vec(const strvec *v)
{
	buf b = BUF_INIT;
	for (size_t i = 0; i < v->len; i++) {
		if (i)
			buf_puts(&b, "、");
		buf_puts(&b, v->items[i]);
	}
	return buf_detach(&b);
}

/* Reads site[key] (a list of strings) into out, else the defaults. */
static void S_vocabulary(lua_State *L, const char *file, const char *key, const char *const *dflt, strvec *out)
{
	config_push_site(L);
	lua_getfield(L, -1, key);
	if (lua_istable(L, -1)) {
		lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
		for (lua_Integer i = 1; i <= n; i++) {
			lua_rawgeti(L, -1, i);
			if (lua_type(L, -1) == LUA_TSTRING)
				strvec_push_copy(out, lua_tostring(L, -1));
			else
				diag_error(file, 0, 0, "site.%s must be a list of names", key);
			lua_pop(L, 1);
		}
	} else if (!lua_isnil(L, -1)) {
		diag_error(file, 0, 0, "site.%s must be a list of names", key);
	}
	lua_pop(L, 2);
	if (!out->len)
		for (size_t i = 0; dflt[i]; i++)
			strvec_push_copy(out, dflt[i]);
}

/* YYYY, YYYY-MM or YYYY-MM-DD */
static int S_partial_date(const char *s)
{
	size_t n = strlen(s);
	jb_date d;
	if (n == 10)
		return date_parse_iso(s, &d) == 0;
	char tmp[11];
	if (n == 7 && s[4] == '-') {
		snprintf(tmp, sizeof tmp, "%s-01", s);
		return date_parse_iso(tmp, &d) == 0;
	}
	if (n == 4) {
		snprintf(tmp, sizeof tmp, "%s-01-01", s);
		return date_parse_iso(tmp, &d) == 0;
	}
	return 0;
}

static void S_split(const char *s, char sep, strvec *out)
{
	const char *p = s;
	while (*p) {
		const char *e = strchr(p, sep);
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char *item = str_trim(xstrndup(p, n));
		if (*item && !strvec_contains(out, item))
			strvec_push(out, item);
		else
			free(item);
		if (!e)
			break;
		p = e + 1;
	}
}

static char *S_opt(const char *s)
{
	return *s ? xstrdup(s) : NULL;
}

/* Reads a CSV of the content folder: NULL when absent or broken (then
 * *broken is set). */
static tabular *S_read(source *src, const char *path, int *broken)
{
	char *data = NULL;
	size_t len = 0;
	int rc = source_read(src, path, &data, &len);
	if (rc != 0) {
		if (rc < 0)
			*broken = 1;
		return NULL;
	}
	tabular *t = tabular_parse(path, data, len);
	free(data);
	if (!t)
		*broken = 1;
	return t;
}

static void S_members(collections *c, tabular *t)
{
	static const char *const need[] = {"name", "role", NULL};
	if (tabular_require(t, need))
		return;
	long cn = tabular_col(t, "name"), cs = tabular_col(t, "short_names"), cr = tabular_col(t, "role"),
	     ct = tabular_col(t, "type"), cc = tabular_col(t, "city"), cj = tabular_col(t, "joined"),
	     cw = tabular_col(t, "website"), csrc = tabular_col(t, "source"), cnote = tabular_col(t, "note");
	strmap slugs = STRMAP_INIT;
	char *roles = S_join_vec(&c->roles);
	for (size_t r = 0; r < t->nrows; r++) {
		int line = t->rows[r].line, bad = 0;
		const char *name = tabular_cell(t, r, cn), *role = tabular_cell(t, r, cr);
		if (!*name) {
			diag_error(t->file, line, (int)cn + 1, "a member needs a name");
			continue;
		}
		if (collections_member(c, name)) {
			diag_error(t->file, line, (int)cn + 1, "member '%s' is listed twice (first on line %d)", name,
			           collections_member(c, name)->line);
			continue;
		}
		if (!S_in_vec(role, &c->roles)) {
			diag_error(t->file, line, (int)cr + 1, "unknown role '%s' (one of: %s)", role, roles);
			bad = 1;
		}
		const char *joined = tabular_cell(t, r, cj);
		if (*joined && !S_partial_date(joined)) {
			diag_error(t->file, line, (int)cj + 1, "'joined' must be a date (YYYY, YYYY-MM or YYYY-MM-DD), got \"%s\"",
			           joined);
			bad = 1;
		}
		const char *web = tabular_cell(t, r, cw);
		if (*web && !str_starts_with(web, "https://") && !str_starts_with(web, "http://")) {
			diag_error(t->file, line, (int)cw + 1, "'website' must be an http(s) address, got \"%s\"", web);
			bad = 1;
		}
		if (bad)
			continue;
		member *m = xcalloc(1, sizeof *m);
		m->name = xstrdup(name);
		m->role = xstrdup(role);
		m->type = S_opt(tabular_cell(t, r, ct));
		m->city = S_opt(tabular_cell(t, r, cc));
		m->joined = S_opt(joined);
		m->website = S_opt(web);
		m->note = S_opt(tabular_cell(t, r, cnote));
		m->line = line;
		S_split(tabular_cell(t, r, cs), '|', &m->short_names);
		S_split(tabular_cell(t, r, csrc), '|', &m->sources);
		m->slug = str_slugify(name);
		if (!*m->slug || strmap_get(&slugs, m->slug)) {
			char *s = xasprintf("m%d", line);
			free(m->slug);
			m->slug = s;
		}
		strmap_put(&slugs, m->slug, m);
		c->members = xrealloc(c->members, (c->nmembers + 1) * sizeof(member *));
		m->index = c->nmembers;
		c->members[c->nmembers++] = m;
	}
	free(roles);
	strmap_free(&slugs, NULL);
}

static void S_committees(collections *c, tabular *t, const strvec *names)
{
	static const char *const need[] = {"committee", "member", NULL};
	if (tabular_require(t, need))
		return;
	long cc = tabular_col(t, "committee"), cf = tabular_col(t, "founded"), cm = tabular_col(t, "member"),
	     cr = tabular_col(t, "role"), csrc = tabular_col(t, "source"), cnote = tabular_col(t, "note");
	char *known = S_join_vec(names);
	for (size_t i = 0; i < names->len; i++) {
		committee *k = xcalloc(1, sizeof *k);
		k->name = xstrdup(names->items[i]);
		k->slug = str_slugify(k->name);
		c->committees = xrealloc(c->committees, (c->ncommittees + 1) * sizeof(committee *));
		c->committees[c->ncommittees++] = k;
	}
	for (size_t r = 0; r < t->nrows; r++) {
		int line = t->rows[r].line;
		const char *name = tabular_cell(t, r, cc);
		committee *k = NULL;
		for (size_t i = 0; i < c->ncommittees && !k; i++)
			if (strcmp(c->committees[i]->name, name) == 0)
				k = c->committees[i];
		if (!k) {
			diag_error(t->file, line, (int)cc + 1, "unknown committee '%s' (one of: %s)", name, known);
			continue;
		}
		if (!k->line)
			k->line = line;
		const char *founded = tabular_cell(t, r, cf);
		if (*founded) {
			if (!S_partial_date(founded))
				diag_error(t->file, line, (int)cf + 1, "'founded' must be a date (YYYY, YYYY-MM or YYYY-MM-DD), got \"%s\"",
				           founded);
			else if (k->founded && strcmp(k->founded, founded) != 0)
				diag_error(t->file, line, (int)cf + 1, "%s was founded on %s according to line %d, not %s", name,
				           k->founded, k->line, founded);
			else if (!k->founded)
				k->founded = xstrdup(founded);
		}
		S_split(tabular_cell(t, r, csrc), '|', &k->sources);
		if (!k->note && *tabular_cell(t, r, cnote))
			k->note = xstrdup(tabular_cell(t, r, cnote));
		const char *mname = tabular_cell(t, r, cm), *role = tabular_cell(t, r, cr);
		if (!*mname) {
			if (*role)
				diag_error(t->file, line, (int)cr + 1, "a role without a member");
			continue;
		}
		member *m = collections_member(c, mname);
		if (!m) {
			diag_error(t->file, line, (int)cm + 1, "'%s' is not in %s", mname,
			           c->members_file ? c->members_file : "members.csv (which is missing)");
			continue;
		}
		/* an empty role stays empty: unknown is not 委员单位 */
		if (*role && !S_in(role, S_seat_roles)) {
			diag_error(t->file, line, (int)cr + 1, "unknown committee role '%s' (主任单位, 副主任单位, 秘书处 or 委员单位)",
			           role);
			continue;
		}
		for (size_t i = 0; i < k->nseats; i++)
			if (k->seats[i].member == m) {
				diag_error(t->file, line, (int)cm + 1, "%s is listed twice in %s", mname, name);
				m = NULL;
				break;
			}
		if (!m)
			continue;
		k->seats = xrealloc(k->seats, (k->nseats + 1) * sizeof(committee_seat));
		k->seats[k->nseats].member = m;
		k->seats[k->nseats].role = xstrdup(role);
		k->nseats++;
	}
	free(known);
}

static int S_all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static void S_courses(collections *c, tabular *t)
{
	static const char *const need[] = {"code", "name", "major", NULL};
	if (tabular_require(t, need))
		return;
	long ccode = tabular_col(t, "code"), cn = tabular_col(t, "name"), cm = tabular_col(t, "major"),
	     cl = tabular_col(t, "level"), ce = tabular_col(t, "exam_university"), ccr = tabular_col(t, "credits"),
	     cres = tabular_col(t, "resources"), csrc = tabular_col(t, "source"), cnote = tabular_col(t, "note");
	strmap seen = STRMAP_INIT;
	for (size_t r = 0; r < t->nrows; r++) {
		int line = t->rows[r].line, bad = 0;
		const char *code = tabular_cell(t, r, ccode), *name = tabular_cell(t, r, cn), *maj = tabular_cell(t, r, cm);
		if (!S_all_digits(code) || strlen(code) != 5) {
			diag_error(t->file, line, (int)ccode + 1, "course code must be five digits (e.g. 00015), got \"%s\"", code);
			bad = 1;
		}
		if (!*name) {
			diag_error(t->file, line, (int)cn + 1, "a course needs a name");
			bad = 1;
		}
		if (!*maj) {
			diag_error(t->file, line, (int)cm + 1, "a course needs a major");
			bad = 1;
		}
		const char *level = tabular_cell(t, r, cl);
		if (*level && !S_in(level, S_levels)) {
			diag_error(t->file, line, (int)cl + 1, "level must be 专科 or 本科, got \"%s\"", level);
			bad = 1;
		}
		const char *credits = tabular_cell(t, r, ccr);
		if (*credits) {
			char *end;
			double v = strtod(credits, &end);
			if (*end || v <= 0 || v > 100) {
				diag_error(t->file, line, (int)ccr + 1, "credits must be a positive number, got \"%s\"", credits);
				bad = 1;
			}
		}
		if (bad)
			continue;
		char *key = xasprintf("%s\x1f%s", maj, code);
		void *prev = strmap_get(&seen, key);
		if (prev) {
			diag_error(t->file, line, (int)ccode + 1, "course %s is listed twice for %s (first on line %d)", code, maj,
			           (int)(intptr_t)prev);
			free(key);
			continue;
		}
		strmap_put(&seen, key, (void *)(intptr_t)line);
		free(key);
		course *k = xcalloc(1, sizeof *k);
		k->code = xstrdup(code);
		k->name = xstrdup(name);
		k->major = xstrdup(maj);
		k->level = S_opt(level);
		k->exam_university = S_opt(tabular_cell(t, r, ce));
		k->credits = S_opt(credits);
		k->resources = S_opt(tabular_cell(t, r, cres));
		k->note = S_opt(tabular_cell(t, r, cnote));
		S_split(tabular_cell(t, r, csrc), '|', &k->sources);
		k->line = line;
		k->slug = xstrdup(code);
		c->courses = xrealloc(c->courses, (c->ncourses + 1) * sizeof(course *));
		c->courses[c->ncourses++] = k;
		major *mj = NULL;
		for (size_t i = 0; i < c->nmajors && !mj; i++)
			if (strcmp(c->majors[i].name, maj) == 0)
				mj = &c->majors[i];
		if (!mj) {
			c->majors = xrealloc(c->majors, (c->nmajors + 1) * sizeof(major));
			mj = &c->majors[c->nmajors++];
			memset(mj, 0, sizeof *mj);
			mj->name = xstrdup(maj);
			mj->slug = str_slugify(maj);
		}
		mj->courses = xrealloc(mj->courses, (mj->ncourses + 1) * sizeof(course *));
		mj->courses[mj->ncourses++] = k;
	}
	strmap_free(&seen, NULL);
}

int collections_load(collections *c, lua_State *L, source *src, const char *content_dir)
{
	memset(c, 0, sizeof *c);
	char *site_file = path_join(content_dir, "site.lua");
	strvec committee_names = STRVEC_INIT;
	S_vocabulary(L, site_file, "member_roles", S_default_roles, &c->roles);
	S_vocabulary(L, site_file, "committees", S_default_committees, &committee_names);
	free(site_file);

	int broken = 0;
	c->members_file = path_join(content_dir, "members.csv");
	tabular *t = S_read(src, c->members_file, &broken);
	if (t)
		S_members(c, t);
	else if (!broken) {
		free(c->members_file);
		c->members_file = NULL;
	}
	tabular_free(t);

	c->committees_file = path_join(content_dir, "committees.csv");
	t = S_read(src, c->committees_file, &broken);
	if (t)
		S_committees(c, t, &committee_names);
	tabular_free(t);

	c->courses_file = path_join(content_dir, "courses.csv");
	t = S_read(src, c->courses_file, &broken);
	if (t)
		S_courses(c, t);
	tabular_free(t);
	strvec_free(&committee_names);
	S_build_index(c);
	return 0;
}

/* A name a mention may use: its first eight bytes as a number (fewer when
 * shorter, zero after) and its member. */
typedef struct name_entry {
	uint64_t head;
	const char *name;
	size_t len, member;
} name_entry;

/* The names that start with one character: the first nlong have eight
 * bytes or more and are sorted by head, the shorter ones follow. */
typedef struct name_list {
	name_entry *e;
	size_t n, nlong;
} name_list;

/* Up to eight bytes of s as a number, the rest zero. */
static uint64_t S_head(const char *s, size_t n)
{
	uint64_t v = 0;
	memcpy(&v, s, n < 8 ? n : 8);
	return v;
}

static void S_index_name(collections *c, const char *name, size_t member_ix)
{
	uint32_t cp;
	size_t len = strlen(name);
	size_t n = utf8_decode(name, len, &cp);
	if (!n)
		return;
	char key[8];
	memcpy(key, name, n);
	key[n] = '\0';
	if (cp < 0x10000)
		c->initials[cp >> 3] |= (unsigned char)(1u << (cp & 7));
	name_list *l = strmap_get(&c->mention_index, key);
	if (!l) {
		l = xcalloc(1, sizeof *l);
		strmap_put(&c->mention_index, key, l);
	}
	l->e = xrealloc(l->e, (l->n + 1) * sizeof *l->e);
	l->e[l->n++] = (name_entry){S_head(name, len), name, len, member_ix};
}

/* Long names first, by head; then the short ones; ties by member and name,
 * so that the order does not depend on qsort's. */
static int S_entry_order(const void *a, const void *b)
{
	const name_entry *x = a, *y = b;
	int xl = x->len >= 8, yl = y->len >= 8;
	if (xl != yl)
		return yl - xl;
	if (xl && x->head != y->head)
		return x->head < y->head ? -1 : 1;
	if (x->member != y->member)
		return x->member < y->member ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void S_build_index(collections *c)
{
	for (size_t i = 0; i < c->nmembers; i++) {
		member *m = c->members[i];
		S_index_name(c, m->name, i);
		for (size_t j = 0; j < m->short_names.len; j++)
			if (utf8_length(m->short_names.items[j], strlen(m->short_names.items[j])) >= 2)
				S_index_name(c, m->short_names.items[j], i);
	}
	/* each first character's names sorted once all are in */
	for (size_t i = 0; i < c->mention_index.cap; i++) {
		name_list *l = c->mention_index.slots[i].value;
		if (!c->mention_index.slots[i].key)
			continue;
		qsort(l->e, l->n, sizeof *l->e, S_entry_order);
		while (l->nlong < l->n && l->e[l->nlong].len >= 8)
			l->nlong++;
	}
}

static void S_free_name_list(void *p)
{
	name_list *l = p;
	free(l->e);
	free(l);
}

/* The names of l that the text at s (left bytes, at its start the eight
 * bytes at) begins with, marked in found. */
static size_t S_match_names(const name_list *l, const char *s, size_t left, uint64_t at, unsigned char *found)
{
	size_t hits = 0;
	/* the long names whose first eight bytes are those of the text */
	size_t lo = 0, hi = l->nlong;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->e[mid].head < at)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t j = lo; j < l->nlong && l->e[j].head == at; j++) {
		const name_entry *e = &l->e[j];
		if (found[e->member] || e->len > left || memcmp(s + 8, e->name + 8, e->len - 8) != 0)
			continue;
		found[e->member] = 1;
		hits++;
	}
	for (size_t j = l->nlong; j < l->n; j++) {
		const name_entry *e = &l->e[j];
		uint64_t mask = ((uint64_t)1 << (8 * e->len)) - 1;
		if ((at & mask) != e->head || found[e->member] || e->len > left)
			continue;
		found[e->member] = 1;
		hits++;
	}
	return hits;
}

void collections_mentions(const collections *c, const char *text, size_t len, member ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!c->mention_index.count)
		return;
	unsigned char *found = xcalloc(c->nmembers ? c->nmembers : 1, 1);
	size_t nfound = 0;
	const unsigned char *u = (const unsigned char *)text;
	for (size_t i = 0; i < len;) {
		if (u[i] < 0x80) {
			i += len - i >= 8 && str_ascii8(text + i) ? 8 : 1;
			continue;
		}
		/* the text is well-formed: a lead byte says how long its character
		 * is, and a run of Chinese ones (three bytes) is decoded in place
		 * up to the first that starts a name */
		if ((u[i] & 0xF0) == 0xE0 && i + 2 < len) {
			size_t end3 = len - 2;
			for (; i < end3 && (u[i] & 0xF0) == 0xE0; i += 3) {
				uint32_t c3 = (uint32_t)(u[i] & 0x0F) << 12 | (uint32_t)(u[i + 1] & 0x3F) << 6 | (u[i + 2] & 0x3F);
				if (c->initials[c3 >> 3] >> (c3 & 7) & 1)
					break;
			}
			if (i >= end3 || (u[i] & 0xF0) != 0xE0)
				continue;
		}
		uint32_t cp;
		size_t k = utf8_decode(text + i, len - i, &cp);
		/* most characters start no name: skip the lookup */
		if (cp >= 0x80 && (cp >= 0x10000 || (c->initials[cp >> 3] >> (cp & 7) & 1))) {
			char key[8];
			memcpy(key, text + i, k);
			key[k] = '\0';
			const name_list *l = strmap_get(&c->mention_index, key);
			if (l)
				nfound += S_match_names(l, text + i, len - i, S_head(text + i, len - i), found);
		}
		i += k;
	}
	if (nfound) {
		*out = xcalloc(nfound, sizeof **out);
		for (size_t m = 0; m < c->nmembers; m++)
			if (found[m])
				(*out)[(*n)++] = c->members[m];
	}
	free(found);
}

member *collections_member(const collections *c, const char *name)
{
	for (size_t i = 0; i < c->nmembers; i++)
		if (strcmp(c->members[i]->name, name) == 0)
			return c->members[i];
	return NULL;
}

void collections_free(collections *c)
{
	for (size_t i = 0; i < c->nmembers; i++) {
		member *m = c->members[i];
		free(m->name), free(m->role), free(m->type), free(m->city), free(m->joined), free(m->website);
		free(m->note), free(m->slug);
		strvec_free(&m->short_names);
		strvec_free(&m->sources);
		free(m);
	}
	for (size_t i = 0; i < c->ncommittees; i++) {
		committee *k = c->committees[i];
		for (size_t j = 0; j < k->nseats; j++)
			free(k->seats[j].role);
		free(k->seats), free(k->name), free(k->founded), free(k->slug), free(k->note);
		strvec_free(&k->sources);
		free(k);
	}
	for (size_t i = 0; i < c->ncourses; i++) {
		course *k = c->courses[i];
		free(k->code), free(k->name), free(k->major), free(k->level), free(k->exam_university);
		free(k->credits), free(k->resources), free(k->note), free(k->slug);
		strvec_free(&k->sources);
		free(k);
	}
	for (size_t i = 0; i < c->nmajors; i++) {
		free(c->majors[i].name);
		free(c->majors[i].slug);
		free(c->majors[i].courses);
	}
	free(c->members), free(c->committees), free(c->courses), free(c->majors);
	strmap_free(&c->mention_index, S_free_name_list);
	strvec_free(&c->roles);
	free(c->members_file), free(c->committees_file), free(c->courses_file);
	memset(c, 0, sizeof *c);
}
