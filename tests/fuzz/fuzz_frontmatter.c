/* libFuzzer target: front matter splitting and YAML parsing. */
#include <stdint.h>
#include <stdlib.h>

#include "diag.h"
#include "frontmatter.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	buf sink = BUF_INIT;
	diag_capture(&sink);
	fm_doc doc;
	if (fm_parse("fuzz.md", (const char *)data, size, &doc) == 0)
		fm_doc_free(&doc);
	diag_capture(NULL);
	buf_free(&sink);
	return 0;
}
