/* libFuzzer target: ```chart specs with inline rows, checked and drawn. */
#include <stdint.h>
#include <stdlib.h>

#include "chart.h"
#include "diag.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const series *S_none(void *ctx, const char *id)
{
	(void)ctx;
	(void)id;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	buf sink = BUF_INIT;
	diag_capture(&sink);
	chart *c = chart_parse("fuzz.md", 1, (const char *)data, size, S_none, NULL);
	if (c) {
		chart_check(c, "fuzz.md", 1, 1);
		buf png = BUF_INIT;
		chart_set_size(c, 160, 160);
		chart_render_png(c, 1, &png);
		buf_free(&png);
		free(chart_alt_text(c));
		chart_free(c);
	}
	diag_capture(NULL);
	buf_free(&sink);
	return 0;
}
