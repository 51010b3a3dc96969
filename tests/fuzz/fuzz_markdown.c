/* libFuzzer target: Markdown parsing, the CJK/caption normalisation, title
 * and summary extraction and HTML rendering. */
#include <stdint.h>
#include <stdlib.h>

#include "markdown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	md_doc d = {0};
	md_parse(&d, (const char *)data, size, size > 0 && data[0] & 1);
	md_normalize(&d);
	free(md_take_title(&d, 1));
	free(md_summary(&d, 40));
	free(md_render_html(&d));
	md_doc_free(&d);
	return 0;
}
