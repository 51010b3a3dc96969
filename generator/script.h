/* script — the Lua 5.4 states that run site.lua, templates and hooks.
 *
 * A state is sandboxed: only base (without dofile, loadfile and binary
 * chunks), string (without dump), table, math, utf8 and coroutine; every chunk runs in its own
 * environment whose undefined globals are errors; memory is capped by the
 * allocator and every call has an instruction budget that pcall cannot
 * swallow.  C context lives in the registry, never in globals. */
#ifndef JB_SCRIPT_H
#define JB_SCRIPT_H

#include <lauxlib.h>
#include <lua.h>
#include <stddef.h>

typedef struct script_limits {
	size_t memory;        /* bytes for the whole state; 0: 512 MiB */
	long long budget;     /* instructions per top-level call; 0: 1e8 */
} script_limits;

lua_State *script_new(const script_limits *limits);
void script_close(lua_State *L);

/* Pushes a new sandbox environment table: the safe globals, with reads of
 * undefined names raising "undefined variable 'x'". */
void script_push_env(lua_State *L);

/* Loads text (never binary) as a chunk named "@chunkname" with the table
 * at env_idx as its _ENV.  0 with the function pushed, or non-zero with the
 * error message pushed. */
int script_load(lua_State *L, const char *chunkname, const char *code, size_t len, int env_idx);

/* lua_pcall with a traceback handler and a fresh instruction budget.
 * On error the message (with traceback) is left on the stack. */
int script_docall(lua_State *L, int nargs, int nres);

/* Names the kind of code running ("hook", "template") in limit errors. */
void script_set_what(lua_State *L, const char *what);
size_t script_memory_limit(lua_State *L);

/* Pops an error message from the stack and reports it as a diagnostic:
 * "file:line: message" becomes file:line: error: message, followed by the
 * traceback. */
void script_report(lua_State *L, const char *context);

/* Stores / fetches a C pointer in the registry under key. */
void script_set_ctx(lua_State *L, const char *key, void *p);
void *script_get_ctx(lua_State *L, const char *key);

/* Like tostring for output: nil → "", integral floats print as integers,
 * tables and functions raise an error.  Pushes the result. */
const char *script_tostr(lua_State *L, int idx, size_t *len);

#endif
