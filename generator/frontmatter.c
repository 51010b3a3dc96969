#include "frontmatter.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "diag.h"
#include "util.h"

/* A tree while it is parsed: every node, array and string allocated on
 * its own. */
static void S_tree_free(yval *v)
{
	if (!v)
		return;
	free(v->str);
	for (size_t i = 0; i < v->len; i++) {
		S_tree_free(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->key_lines);
	free(v->key_cols);
	free(v);
}

/* A parsed tree is then copied into one block: nodes and arrays first (the
 * root at its start), strings after them.  Front matter lives as long as
 * the site model, and dozens of small allocations per page cost more than
 * the values themselves. */
#define S_ROUND(n) (((n) + sizeof(void *) - 1) & ~(sizeof(void *) - 1))

static void S_measure(const yval *v, size_t *nodes, size_t *strings)
{
	*nodes += S_ROUND(sizeof *v);
	if (v->str)
		*strings += strlen(v->str) + 1;
	if (!v->len)
		return;
	*nodes += S_ROUND(v->len * sizeof(yval *));
	if (v->keys) {
		*nodes += S_ROUND(v->len * sizeof(char *)) + 2 * S_ROUND(v->len * sizeof(int));
		for (size_t i = 0; i < v->len; i++)
			*strings += strlen(v->keys[i]) + 1;
	}
	for (size_t i = 0; i < v->len; i++)
		S_measure(v->items[i], nodes, strings);
}

typedef struct packer {
	char *nodes, *strings;
} packer;

static void *S_take(packer *pk, size_t n)
{
	void *p = pk->nodes;
	pk->nodes += S_ROUND(n);
	return p;
}

static char *S_take_string(packer *pk, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = memcpy(pk->strings, s, n);
	pk->strings += n;
	return p;
}

static yval *S_pack(packer *pk, const yval *v)
{
	yval *c = S_take(pk, sizeof *c);
	*c = *v;
	c->str = v->str ? S_take_string(pk, v->str) : NULL;
	c->items = NULL;
	c->keys = NULL;
	c->key_lines = c->key_cols = NULL;
	if (!v->len)
		return c;
	c->items = S_take(pk, v->len * sizeof(yval *));
	if (v->keys) {
		c->keys = S_take(pk, v->len * sizeof(char *));
		c->key_lines = memcpy(S_take(pk, v->len * sizeof(int)), v->key_lines, v->len * sizeof(int));
		c->key_cols = memcpy(S_take(pk, v->len * sizeof(int)), v->key_cols, v->len * sizeof(int));
		for (size_t i = 0; i < v->len; i++)
			c->keys[i] = S_take_string(pk, v->keys[i]);
	}
	for (size_t i = 0; i < v->len; i++)
		c->items[i] = S_pack(pk, v->items[i]);
	return c;
}

/* The tree v as one block; v is freed. */
static yval *S_compact(yval *v)
{
	size_t nodes = 0, strings = 0;
	S_measure(v, &nodes, &strings);
	char *block = xmalloc(nodes + strings);
	packer pk = {block, block + nodes};
	yval *c = S_pack(&pk, v);
	S_tree_free(v);
	return c;
}

size_t yval_block_size(const yval *v)
{
	size_t nodes = 0, strings = 0;
	S_measure(v, &nodes, &strings);
	return nodes + strings;
}

/* Moves every pointer of the copied tree c from the block at old to the
 * one at base (n bytes); 0, or -1 when one points outside the block. */
static int S_relocate(yval *c, uintptr_t old, char *base, size_t n, int depth)
{
#define S_MOVE(ptr, type)                                                                                              \
	do {                                                                                                           \
		if (ptr) {                                                                                             \
			uintptr_t at = (uintptr_t)(ptr) - old;                                                         \
			if ((uintptr_t)(ptr) < old || at >= n)                                                         \
				return -1;                                                                             \
			(ptr) = (type)(void *)(base + at);                                                             \
		}                                                                                                      \
	} while (0)
	if (depth > 256)
		return -1;
	S_MOVE(c->str, char *);
	S_MOVE(c->items, yval **);
	S_MOVE(c->keys, char **);
	S_MOVE(c->key_lines, int *);
	S_MOVE(c->key_cols, int *);
	if (c->len && (!c->items || c->len > n / sizeof(yval *)))
		return -1;
	for (size_t i = 0; i < c->len; i++) {
		S_MOVE(c->items[i], yval *);
		if (c->keys)
			S_MOVE(c->keys[i], char *);
		if (!c->items[i] || S_relocate(c->items[i], old, base, n, depth + 1) < 0)
			return -1;
	}
	return 0;
#undef S_MOVE
}

yval *yval_block_relocate(void *block, size_t n, uintptr_t old)
{
	if (n < sizeof(yval) || S_relocate(block, old, block, n, 0) < 0)
		return NULL;
	return block;
}

yval *yval_block_load(const void *block, size_t n, uintptr_t old)
{
	if (n < sizeof(yval))
		return NULL;
	char *base = xmalloc(n);
	memcpy(base, block, n);
	if (!yval_block_relocate(base, n, old)) {
		free(base);
		return NULL;
	}
	return (yval *)(void *)base;
}

void yval_free(yval *v)
{
	free(v);
}

const char *yval_kind_name(const yval *v)
{
	switch (v->kind) {
	case YV_SCALAR: return "a scalar";
	case YV_SEQ: return "a list";
	case YV_MAP: return "a mapping";
	}
	return "?";
}

long yval_index(const yval *map, const char *key)
{
	if (!map || map->kind != YV_MAP)
		return -1;
	for (size_t i = 0; i < map->len; i++)
		if (strcmp(map->keys[i], key) == 0)
			return (long)i;
	return -1;
}

yval *yval_get(const yval *map, const char *key)
{
	long i = yval_index(map, key);
	return i < 0 ? NULL : map->items[i];
}

typedef struct yparse {
	yaml_parser_t parser;
	const char *file;
	int line0, col0; /* file position of the text's first character */
	int depth;
} yparse;

static void S_mark(const yparse *p, const yaml_mark_t *m, int *line, int *col)
{
	*line = p->line0 + (int)m->line;
	*col = (m->line == 0 ? p->col0 : 1) + (int)m->column;
}

static void S_parser_error(yparse *p)
{
	int line, col;
	const yaml_mark_t *m = p->parser.problem ? &p->parser.problem_mark : &p->parser.mark;
	S_mark(p, m, &line, &col);
	if (p->parser.context)
		diag_error(p->file, line, col, "invalid YAML: %s %s", p->parser.problem ? p->parser.problem : "error",
		           p->parser.context);
	else
		diag_error(p->file, line, col, "invalid YAML: %s", p->parser.problem ? p->parser.problem : "error");
}

/* The room for len + 1 entries: lists grow by doubling from four. */
static int S_full(size_t len)
{
	return len == 0 || (len >= 4 && (len & (len - 1)) == 0);
}

static size_t S_room(size_t len)
{
	return len ? len * 2 : 4;
}

static void S_push(yval *v, yval *item)
{
	if (S_full(v->len))
		v->items = xrealloc(v->items, S_room(v->len) * sizeof(yval *));
	v->items[v->len++] = item;
}

static yval *S_node(yparse *p, yaml_event_t *ev);

/* Parses the node whose first event is ev (already taken); NULL on error. */
static yval *S_node(yparse *p, yaml_event_t *ev)
{
	yval *v = xcalloc(1, sizeof *v);
	S_mark(p, &ev->start_mark, &v->line, &v->col);
	if (++p->depth > 64) {
		diag_error(p->file, v->line, v->col, "YAML nested too deeply");
		goto fail;
	}
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		diag_error(p->file, v->line, v->col, "YAML aliases (*name) are not supported in front matter");
		goto fail;
	case YAML_SCALAR_EVENT:
		v->kind = YV_SCALAR;
		v->str = xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
		v->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		break;
	case YAML_SEQUENCE_START_EVENT:
		v->kind = YV_SEQ;
		for (;;) {
			yaml_event_t e;
			if (!yaml_parser_parse(&p->parser, &e)) {
				S_parser_error(p);
				goto fail;
			}
			if (e.type == YAML_SEQUENCE_END_EVENT) {
				yaml_event_delete(&e);
				break;
			}
			yval *item = S_node(p, &e);
			yaml_event_delete(&e);
			if (!item)
				goto fail;
			S_push(v, item);
		}
		break;
	case YAML_MAPPING_START_EVENT:
		v->kind = YV_MAP;
		for (;;) {
			yaml_event_t k;
			if (!yaml_parser_parse(&p->parser, &k)) {
				S_parser_error(p);
				goto fail;
			}
			if (k.type == YAML_MAPPING_END_EVENT) {
				yaml_event_delete(&k);
				break;
			}
			int kl, kc;
			S_mark(p, &k.start_mark, &kl, &kc);
			if (k.type != YAML_SCALAR_EVENT) {
				yaml_event_delete(&k);
				diag_error(p->file, kl, kc, "mapping keys must be plain strings");
				goto fail;
			}
			char *key = xstrndup((const char *)k.data.scalar.value, k.data.scalar.length);
			yaml_event_delete(&k);
			if (yval_index(v, key) >= 0) {
				diag_error(p->file, kl, kc, "duplicate key '%s'", key);
				free(key);
				goto fail;
			}
			yaml_event_t e;
			if (!yaml_parser_parse(&p->parser, &e)) {
				free(key);
				S_parser_error(p);
				goto fail;
			}
			yval *item = S_node(p, &e);
			yaml_event_delete(&e);
			if (!item) {
				free(key);
				goto fail;
			}
			if (S_full(v->len)) {
				v->keys = xrealloc(v->keys, S_room(v->len) * sizeof(char *));
				v->key_lines = xrealloc(v->key_lines, S_room(v->len) * sizeof(int));
				v->key_cols = xrealloc(v->key_cols, S_room(v->len) * sizeof(int));
			}
			v->keys[v->len] = key;
			v->key_lines[v->len] = kl;
			v->key_cols[v->len] = kc;
			S_push(v, item);
		}
		break;
	default:
		diag_error(p->file, v->line, v->col, "unexpected YAML event");
		goto fail;
	}
	p->depth--;
	return v;
fail:
	S_tree_free(v);
	return NULL;
}

yval *yaml_parse_text(const char *file, int first_line, int first_col, const char *text, size_t len)
{
	yparse p = {.file = file, .line0 = first_line, .col0 = first_col};
	yval *root = NULL;
	int done = 0, ok = 1;
	yaml_parser_initialize(&p.parser);
	yaml_parser_set_input_string(&p.parser, (const unsigned char *)text, len);
	yaml_parser_set_encoding(&p.parser, YAML_UTF8_ENCODING);
	while (!done && ok) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p.parser, &ev)) {
			S_parser_error(&p);
			ok = 0;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			break;
		default:
			if (root) {
				int l, c;
				S_mark(&p, &ev.start_mark, &l, &c);
				diag_error(file, l, c, "only one YAML document is allowed here");
				ok = 0;
				break;
			}
			root = S_node(&p, &ev);
			if (!root)
				ok = 0;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p.parser);
	if (!ok) {
		S_tree_free(root);
		return NULL;
	}
	if (!root) {
		root = xcalloc(1, sizeof *root);
		root->kind = YV_MAP;
		root->line = first_line;
		root->col = first_col;
	}
	return S_compact(root);
}

/* Length of the line starting at p (without its line ending), and the
 * offset of the next line in *next. */
static size_t S_line(const char *p, size_t avail, size_t *next)
{
	size_t n = 0;
	while (n < avail && p[n] != '\n')
		n++;
	*next = n < avail ? n + 1 : n;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

static int S_is_fence(const char *p, size_t n, const char *fence)
{
	if (n < 3 || memcmp(p, fence, 3) != 0)
		return 0;
	for (size_t i = 3; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return 0;
	return 1;
}

int fm_parse(const char *file, const char *data, size_t len, fm_doc *out)
{
	memset(out, 0, sizeof *out);
	size_t off = 0;
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		off = 3;
	out->body = data + off;
	out->body_len = len - off;
	out->body_line = 1;

	size_t next;
	size_t n = S_line(data + off, len - off, &next);
	if (!S_is_fence(data + off, n, "---"))
		return 0;

	size_t start = off + next, pos = start;
	int line = 2;
	while (pos < len) {
		size_t ln = S_line(data + pos, len - pos, &next);
		if (S_is_fence(data + pos, ln, "---") || S_is_fence(data + pos, ln, "...")) {
			yval *meta = yaml_parse_text(file, 2, 1, data + start, pos - start);
			if (!meta)
				return -1;
			if (meta->kind != YV_MAP) {
				diag_error(file, meta->line, meta->col, "front matter must be a mapping of keys to values, not %s",
				           yval_kind_name(meta));
				yval_free(meta);
				return -1;
			}
			out->meta = meta;
			out->body = data + pos + next;
			out->body_len = len - pos - next;
			out->body_line = line + 1;
			return 0;
		}
		pos += next;
		line++;
	}
	diag_error(file, 1, 1, "front matter is never closed: add a line '---' after it");
	return -1;
}

void fm_doc_free(fm_doc *doc)
{
	yval_free(doc->meta);
	doc->meta = NULL;
}
