/* libFuzzer target: template translation into Lua, then loading the
 * result as a Lua chunk (it must always be valid or rejected cleanly). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"
#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static lua_State *L;
	if (!L)
		L = script_new(NULL);
	char *err = NULL;
	int line = 0, col = 0;
	char *code = tpl_translate((const char *)data, size, &err, &line, &col);
	if (code) {
		script_push_env(L);
		script_load(L, "fuzz.html", code, strlen(code), -1); /* the chunk or an error message */
		lua_settop(L, 0);
	}
	free(code);
	free(err);
	return 0;
}
