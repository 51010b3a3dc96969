/* stats — the statistics series of the site: every content/data/ID.csv,
 * plus the figures bulletins declare in their front matter:
 *
 *   stats:
 *     members: 64                          # x = the bulletin's year, the first value column
 *     credit-bank: {账户: 12800, 学习成果: 10130}
 *     certification-centres: {x: 高校, 认证服务中心: 77}
 *
 * A figure from front matter fills its row (or adds one) with the bulletin as
 * the row's source; one that contradicts the CSV is an error.  Every source
 * must name a bulletin that exists. */
#ifndef JB_STATS_H
#define JB_STATS_H

#include "model.h"
#include "series.h"
#include "source.h"

typedef struct stats {
	series **list; /* sorted by id */
	size_t n;
} stats;

/* Loads and merges; problems are reported and counted.  Returns -1 only
 * when a file cannot be read.  With m NULL the series are only loaded (no
 * front matter figures, no source checks). */
int stats_load(stats *st, source *src, const char *content_dir, const site_model *m);
void stats_free(stats *st);
const series *stats_find(const stats *st, const char *id);

#endif
