/* ast — the Markdown tree as Lua tables, and back.
 *
 * A node is a table { type = "heading", level = 2, children = {…} } with the
 * fields of its type:
 *   document, block_quote, paragraph, item, emph, strong, strikethrough,
 *   softbreak, linebreak, thematic_break     (children only, or nothing)
 *   heading        level (1–6)
 *   list           list_type ("bullet" | "ordered"), start, tight, delim ("period" | "paren")
 *   code_block     literal, info
 *   text, code, html_block, html_inline      literal
 *   link, image    url, title
 *   custom_block, custom_inline               on_enter, on_exit (HTML written as it is)
 *   table          alignments ({ "left" | "center" | "right" | "" … })
 *   table_row      header (boolean);  table_cell
 * plus line: the node's line in the source file (read only). */
#ifndef JB_AST_H
#define JB_AST_H

#include <cmark-gfm.h>
#include <lua.h>

/* Pushes node (and its descendants) as a table.  first_line is the file
 * line of the Markdown's line 1, for the `line` fields. */
void ast_push(lua_State *L, cmark_node *node, int first_line);

/* Builds a cmark tree from the node table at idx.  Returns the new node
 * (caller owns it), or NULL with *err set (caller frees). */
cmark_node *ast_from_lua(lua_State *L, int idx, char **err);

/* Looks up a node type by name; 0 when unknown. */
cmark_node_type ast_type_from_name(const char *name);

#endif
