/* libFuzzer target: CSV tables and statistics series. */
#include <stdint.h>
#include <stdlib.h>

#include "diag.h"
#include "series.h"
#include "tabular.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	buf sink = BUF_INIT;
	diag_capture(&sink);
	tabular_free(tabular_parse("fuzz.csv", (const char *)data, size));
	series_free(series_load("fuzz.csv", (const char *)data, size));
	diag_capture(NULL);
	buf_free(&sink);
	return 0;
}
