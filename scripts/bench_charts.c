/* Renders N (100) different charts of every type as PNG at 1× — and with
 * "2x" also at 2× — and prints the time taken; `make bench` runs it.
 * Usage: bench_charts [N] [2x] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chart.h"
#include "util.h"

static double S_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100;
	int both = argc > 2 && !strcmp(argv[2], "2x");
	static const chart_type types[] = {CHART_LINE, CHART_BAR, CHART_HBAR, CHART_STACKED, CHART_PIE, CHART_DONUT};
	size_t bytes1 = 0, bytes2 = 0;
	double t0 = S_now();
	for (int i = 0; i < n; i++) {
		chart *c = chart_new(types[i % 6]);
		char title[64];
		snprintf(title, sizeof title, "联盟成员单位数 %d", i);
		chart_set_title(c, title);
		size_t s0 = chart_add_series(c, "成员单位数", "所");
		size_t s1 = (i % 6 == CHART_PIE || i % 6 == CHART_DONUT) ? 0 : chart_add_series(c, "新加入", "所");
		for (int k = 0; k < 6; k++) {
			char x[16];
			snprintf(x, sizeof x, "%d", 2020 + k);
			size_t cat = chart_add_category(c, x, "2024/01", NULL);
			chart_set_value(c, s0, cat, 52 + 3 * k + i % 7);
			if (s1)
				chart_set_value(c, s1, cat, 1 + (k * 5 + i) % 9);
		}
		buf a = BUF_INIT, b = BUF_INIT;
		if (chart_render_png(c, 1, &a) < 0 || (both && chart_render_png(c, 2, &b) < 0)) {
			fprintf(stderr, "bench_charts: chart %d failed\n", i);
			return 1;
		}
		bytes1 += a.len;
		bytes2 += b.len;
		buf_free(&a);
		buf_free(&b);
		chart_free(c);
	}
	double t = S_now() - t0;
	if (both)
		printf("%d charts as PNG at 1x and 2x (%zu + %zu bytes) in %.3f s\n", n, bytes1, bytes2, t);
	else
		printf("%d charts as PNG at 1x (%zu bytes) in %.3f s\n", n, bytes1, t);
	return 0;
}
