/* frontmatter — splits a Markdown source into YAML front matter and body,
 * and parses the YAML (libyaml) into a small tree that remembers where each
 * value was written, so that type errors can name file:line:col. */
#ifndef JB_FRONTMATTER_H
#define JB_FRONTMATTER_H

#include <stddef.h>
#include <stdint.h>

typedef enum yval_kind { YV_SCALAR, YV_SEQ, YV_MAP } yval_kind;

typedef struct yval {
	yval_kind kind;
	int line, col; /* 1-based position in the source file */
	int plain;     /* scalar was written unquoted */
	char *str;     /* scalar text */
	struct yval **items; /* sequence items, or mapping values */
	char **keys;         /* mapping keys (same index as items) */
	int *key_lines, *key_cols;
	size_t len;
} yval;

typedef struct fm_doc {
	yval *meta;       /* the front matter mapping, or NULL when there is none */
	const char *body; /* points into the parsed data */
	size_t body_len;
	int body_line; /* 1-based line of the file where the body starts */
} fm_doc;

/* Parses data (len bytes) of file.  Errors are reported as file:line:col
 * and give -1; out->meta is then NULL.  Free with fm_doc_free. */
int fm_parse(const char *file, const char *data, size_t len, fm_doc *out);
void fm_doc_free(fm_doc *doc);

/* Parses a standalone YAML text (e.g. a fenced block) whose first line is
 * line first_line of file.  Returns the root value or NULL (reported).
 * The whole tree (nodes, arrays and strings) is one allocation. */
yval *yaml_parse_text(const char *file, int first_line, int first_col, const char *text, size_t len);

yval *yval_get(const yval *map, const char *key);
/* Index of key in map, or -1. */
long yval_index(const yval *map, const char *key);
/* A tree from yaml_parse_text or fm_parse is one block of this many bytes
 * starting at the root: it can be stored as it is, and read back with
 * yval_block_load (old: the address the root had), which checks that
 * every pointer stays inside the block (NULL when not). */
size_t yval_block_size(const yval *v);
yval *yval_block_load(const void *block, size_t n, uintptr_t old);
/* The same in place: block (aligned for a yval) becomes the tree.  A block
 * that fails the check may be left half moved. */
yval *yval_block_relocate(void *block, size_t n, uintptr_t old);
/* Frees a tree returned by yaml_parse_text or fm_parse (its root only). */
void yval_free(yval *v);
const char *yval_kind_name(const yval *v);

#endif
