#define _GNU_SOURCE
#include "harness.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

TEST(buffer_grows_and_stays_terminated)
{
	buf b = BUF_INIT;
	CHECK_STR(buf_cstr(&b), "");
	for (int i = 0; i < 1000; i++)
		buf_puts(&b, "简报");
	CHECK_INT(b.len, 6000);
	CHECK_INT(b.ptr[b.len], 0);
	buf_truncate(&b, 6);
	CHECK_STR(b.ptr, "简报");
	buf_printf(&b, "%d期", 46);
	CHECK_STR(b.ptr, "简报46期");
	char *s = buf_detach(&b);
	CHECK_STR(s, "简报46期");
	CHECK(b.ptr == NULL && b.len == 0);
	free(s);
	char *empty = buf_detach(&b);
	CHECK_STR(empty, "");
	free(empty);
}

TEST(html_escaping)
{
	buf b = BUF_INIT;
	const char *in = "<a href=\"x\">'&'</a>";
	buf_put_html(&b, in, strlen(in));
	CHECK_STR(b.ptr, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
	buf_free(&b);
}

TEST(strmap_set_get_overwrite_many)
{
	strmap m = STRMAP_INIT;
	char key[32];
	for (long i = 0; i < 5000; i++) {
		snprintf(key, sizeof key, "content/%ld.md", i);
		CHECK(strmap_put(&m, key, (void *)(i + 1)) == NULL);
	}
	CHECK_INT(m.count, 5000);
	CHECK(strmap_get(&m, "content/4999.md") == (void *)5000);
	CHECK(strmap_get(&m, "content/5000.md") == NULL);
	CHECK(strmap_put(&m, "content/7.md", (void *)99) == (void *)8);
	CHECK(strmap_get(&m, "content/7.md") == (void *)99);
	CHECK_INT(m.count, 5000);
	strmap_free(&m, NULL);
	CHECK(strmap_get(&m, "content/7.md") == NULL);
}

TEST(utf8_decoding_and_lengths)
{
	uint32_t cp;
	CHECK_INT(utf8_decode("简", 3, &cp), 3);
	CHECK_INT(cp, 0x7B80);
	CHECK_INT(utf8_decode("\xF0\x9F\x98\x80", 4, &cp), 4);
	CHECK_INT(cp, 0x1F600);
	CHECK_INT(utf8_decode("\xC0\x80", 2, &cp), 1); /* overlong */
	CHECK_INT(cp, 0xFFFD);
	CHECK_INT(utf8_length("工作简报abc", strlen("工作简报abc")), 7);
	CHECK_INT(utf8_offset("工作简报", 12, 2), 6);
	CHECK_INT(utf8_last("abc简", 6), 0x7B80);
	size_t bad = 0;
	CHECK(utf8_valid("正常", 6, &bad));
	CHECK(!utf8_valid("ab\xFFz", 4, &bad));
	CHECK_INT(bad, 2);
	CHECK(!utf8_valid("\xE7\xAE", 2, &bad)); /* truncated */
}

/* utf8_valid as utf8_decode defines it, one code point at a time */
static int ref_valid(const unsigned char *s, size_t len, size_t *bad)
{
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode((const char *)s + i, len - i, &cp);
		if (cp == 0xFFFD && n == 1 && s[i] >= 0x80) {
			*bad = i;
			return 0;
		}
		i += n;
	}
	return 1;
}

TEST(utf8_validation_agrees_with_decoding)
{
	unsigned char b[24];
	size_t bad = 0, ref_bad = 0;
	int mismatches = 0;
	/* every lead byte with every second byte, padded by ASCII or by
	 * continuation bytes, at each offset of an 8-byte step */
	for (unsigned lead = 0; lead < 256; lead++)
		for (unsigned second = 0; second < 256; second++)
			for (unsigned pad = 0; pad < 2; pad++)
				for (size_t at = 0; at < 9; at += 4) {
					memset(b, 'a', sizeof b);
					b[at] = (unsigned char)lead;
					b[at + 1] = (unsigned char)second;
					b[at + 2] = b[at + 3] = pad ? 0x80 : 'a';
					for (size_t len = at + 1; len <= sizeof b; len += 3) {
						int v = utf8_valid((const char *)b, len, &bad), r = ref_valid(b, len, &ref_bad);
						if (v != r || (!v && bad != ref_bad))
							mismatches++;
					}
				}
	/* random bytes biased towards UTF-8 lead and continuation bytes */
	uint32_t x = 12345;
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(round % 23) + 1;
		for (size_t i = 0; i < len; i++) {
			x = x * 1103515245u + 12345u;
			unsigned r = x >> 16;
			b[i] = (unsigned char)(r % 3 == 0 ? 0x80 | (r >> 4 & 0x3F) : r % 3 == 1 ? 0xE0 | (r >> 4 & 0x1F) : r >> 4);
		}
		int v = utf8_valid((const char *)b, len, &bad), r = ref_valid(b, len, &ref_bad);
		if (v != r || (!v && bad != ref_bad))
			mismatches++;
		/* lengths and offsets count as utf8_decode steps */
		size_t chars = 0;
		for (size_t i = 0; i < len; chars++) {
			uint32_t cp;
			i += utf8_decode((const char *)b + i, len - i, &cp);
			if (utf8_offset((const char *)b, len, chars + 1) != i)
				mismatches++;
		}
		if (utf8_length((const char *)b, len) != chars)
			mismatches++;
	}
	CHECK_INT(mismatches, 0);
	const char *text = "工作简报 2024年第1期 总第46期：安徽继续教育网络园区";
	CHECK(utf8_valid(text, strlen(text), &bad));
	CHECK(!utf8_valid("\xED\xA0\x80", 3, &bad)); /* a surrogate */
	CHECK(!utf8_valid("\xF4\x90\x80\x80", 4, &bad)); /* past U+10FFFF */
	CHECK(utf8_valid("\xEF\xBF\xBD", 3, &bad)); /* U+FFFD itself is fine */
}

TEST(hash_spreads_small_changes)
{
	/* one bit flipped anywhere changes about half the output bits */
	unsigned char b[37];
	for (size_t i = 0; i < sizeof b; i++)
		b[i] = (unsigned char)(i * 7);
	uint64_t h0 = hash64(b, sizeof b);
	int low = 64, high = 0;
	for (size_t bit = 0; bit < 8 * sizeof b; bit++) {
		b[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		int d = __builtin_popcountll(h0 ^ hash64(b, sizeof b));
		b[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		low = d < low ? d : low;
		high = d > high ? d : high;
	}
	CHECK(low >= 16);
	CHECK(high <= 48);
	/* the length counts: trailing zero bytes make another hash */
	unsigned char z[9] = {0};
	CHECK(hash64(z, 8) != hash64(z, 9));
	CHECK(hash64(z, 0) != hash64(z, 1));
	CHECK(hash64("abc", 3) == hash64("abc", 3));
}

TEST(cjk_classification)
{
	CHECK(utf8_is_cjk(0x7B80));  /* 简 */
	CHECK(utf8_is_cjk(0x3002));  /* 。 */
	CHECK(utf8_is_cjk(0xFF0C));  /* ， */
	CHECK(utf8_is_cjk(0x201C));  /* “ */
	CHECK(utf8_is_cjk(0x20000)); /* extension B */
	CHECK(!utf8_is_cjk('a'));
	CHECK(!utf8_is_cjk('1'));
	CHECK(!utf8_is_cjk(0xAC00)); /* Hangul uses spaces */
}

TEST(safe_relative_paths)
{
	CHECK(path_is_safe_relative("bulletins/2024/01/index.html"));
	CHECK(path_is_safe_relative("a"));
	CHECK(!path_is_safe_relative(""));
	CHECK(!path_is_safe_relative("/etc/passwd"));
	CHECK(!path_is_safe_relative("../x"));
	CHECK(!path_is_safe_relative("a/../../x"));
	CHECK(!path_is_safe_relative("a/./b"));
	CHECK(!path_is_safe_relative("a//b"));
	CHECK(!path_is_safe_relative("a/b/"));
	CHECK(!path_is_safe_relative("a\\b"));
	CHECK(!path_is_safe_relative("a\nb"));
	CHECK(path_is_safe_relative("..a/b.."));
}

TEST(path_join_edges)
{
	char *p = path_join("content", "bulletins");
	CHECK_STR(p, "content/bulletins");
	free(p);
	p = path_join("content/", "/x");
	CHECK_STR(p, "content/x");
	free(p);
	p = path_join("", "x");
	CHECK_STR(p, "x");
	free(p);
	p = path_join(".", "x");
	CHECK_STR(p, "x");
	free(p);
}

TEST(dates)
{
	jb_date d;
	CHECK_INT(date_parse_iso("2024-01-11", &d), 0);
	CHECK(d.year == 2024 && d.month == 1 && d.day == 11);
	CHECK_INT(date_parse_iso("2024-01-11T08:00:00+08:00", &d), 0);
	CHECK_INT(date_parse_iso("2024-02-30", &d), -1);
	CHECK_INT(date_parse_iso("2023-02-29", &d), -1);
	CHECK_INT(date_parse_iso("2024-02-29", &d), 0);
	CHECK_INT(date_parse_iso("2024-1-11", &d), -1);
	CHECK_INT(date_parse_iso("20240111", &d), -1);
	CHECK_INT(date_parse_iso("2024-01-11x", &d), -1);
	/* 1704988800 = 2024-01-11T16:00:00Z, which is 2024-01-12 in UTC+8 */
	date_from_time(1704988800, 0, &d);
	CHECK(d.year == 2024 && d.month == 1 && d.day == 11);
	date_from_time(1704988800, 8 * 60, &d);
	CHECK(d.year == 2024 && d.month == 1 && d.day == 12);
	date_from_time(0, 0, &d);
	CHECK(d.year == 1970 && d.month == 1 && d.day == 1);
	char s[11];
	date_format_iso(&d, s);
	CHECK_STR(s, "1970-01-01");
	CHECK_INT(date_days(1970, 1, 1), 0);
	CHECK_INT(date_days(2000, 3, 1), 11017);
}

TEST(mkdir_and_remove_tree)
{
	char tmpl[] = "/tmp/jb-util-XXXXXX";
	char *dir = mkdtemp(tmpl);
	CHECK(dir != NULL);
	if (!dir)
		return;
	char *deep = path_join(dir, "a/b/c");
	CHECK_INT(mkdir_p(deep, 0755), 0);
	CHECK_INT(mkdir_p(deep, 0755), 0);
	struct stat st;
	CHECK(stat(deep, &st) == 0 && S_ISDIR(st.st_mode));
	CHECK_INT(remove_tree(dir), 0);
	CHECK(stat(dir, &st) < 0);
	CHECK_INT(remove_tree(dir), 0); /* already gone is fine */
	free(deep);
}

int main(void)
{
	h_suite = "util";
	RUN(buffer_grows_and_stays_terminated);
	RUN(html_escaping);
	RUN(strmap_set_get_overwrite_many);
	RUN(utf8_decoding_and_lengths);
	RUN(utf8_validation_agrees_with_decoding);
	RUN(hash_spreads_small_changes);
	RUN(cjk_classification);
	RUN(safe_relative_paths);
	RUN(path_join_edges);
	RUN(dates);
	RUN(mkdir_and_remove_tree);
	return HARNESS_DONE();
}
