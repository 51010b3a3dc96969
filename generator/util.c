#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void S_out_of_memory(size_t n)
{
	fprintf(stderr, "jianbao: out of memory (%zu bytes)\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		S_out_of_memory(n);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		S_out_of_memory(count * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		S_out_of_memory(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b);
}

void buf_grow(buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap += cap / 2 + 64;
	b->ptr = xrealloc(b->ptr, cap);
	b->cap = cap;
}

void buf_put(buf *b, const void *data, size_t len)
{
	buf_grow(b, len);
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
}

void buf_puts(buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

void buf_putc(buf *b, char c)
{
	buf_grow(b, 1);
	b->ptr[b->len++] = c;
	b->ptr[b->len] = '\0';
}

void buf_vprintf(buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	buf_grow(b, (size_t)n);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void buf_printf(buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void buf_truncate(buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->ptr[len] = '\0';
	}
}

char *buf_detach(buf *b)
{
	char *p = b->ptr ? b->ptr : xstrdup("");
	b->ptr = NULL;
	b->len = b->cap = 0;
	return p;
}

void buf_free(buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
}

const char *buf_cstr(const buf *b)
{
	return b->ptr ? b->ptr : "";
}

void buf_put_html(buf *b, const char *s, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		const char *rep;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		buf_put(b, s + start, i - start);
		buf_puts(b, rep);
		start = i + 1;
	}
	buf_put(b, s + start, len - start);
}

void buf_put_url(buf *b, const char *s, size_t len)
{
	static const char keep[] = "-._~!$&'()*+,;=:@/?#%";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr(keep, c)))
			buf_putc(b, (char)c);
		else {
			static const char hex[] = "0123456789ABCDEF";
			char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
			buf_put(b, esc, 3);
		}
	}
}

/* Eight bytes as a little-endian number, whatever the machine's order. */
static uint64_t S_le64(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
	       (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static uint64_t S_rotl(uint64_t v, int k)
{
	return v << k | v >> (64 - k);
}

/* Eight bytes a step (multiply, rotate, multiply), the length mixed in, and
 * MurmurHash3's finalizer so that every input bit reaches every output bit. */
uint64_t hash64(const void *data, size_t n)
{
	const unsigned char *p = data;
	const uint64_t k1 = 0x87c37b91114253d5ULL, k2 = 0x4cf5ad432745937fULL;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)n * k2);
	for (; n >= 8; n -= 8, p += 8) {
		h ^= S_rotl(S_le64(p) * k1, 31) * k2;
		h = S_rotl(h, 27) * 5 + 0x52dce729;
	}
	if (n) {
		unsigned char tail[8] = {0};
		memcpy(tail, p, n);
		h ^= S_rotl(S_le64(tail) * k1, 31) * k2;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* ---- strmap: open addressing, linear probing, hash64 ---- */

static uint32_t S_hash(const char *s)
{
	uint64_t h = hash64(s, strlen(s));
	uint32_t v = (uint32_t)(h ^ h >> 32);
	return v ? v : 1;
}

static strmap_entry *S_find(const strmap *m, const char *key, uint32_t h)
{
	size_t mask = m->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		strmap_entry *e = &m->slots[i];
		if (!e->key || (e->hash == h && strcmp(e->key, key) == 0))
			return e;
	}
}

static void S_rehash(strmap *m)
{
	strmap old = *m;
	m->cap = old.cap ? old.cap * 2 : 16;
	m->slots = xcalloc(m->cap, sizeof(strmap_entry));
	for (size_t i = 0; i < old.cap; i++) {
		if (old.slots[i].key)
			*S_find(m, old.slots[i].key, old.slots[i].hash) = old.slots[i];
	}
	free(old.slots);
}

void *strmap_get(const strmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	strmap_entry *e = S_find(m, key, S_hash(key));
	return e->key ? e->value : NULL;
}

void *strmap_put(strmap *m, const char *key, void *value)
{
	if ((m->count + 1) * 4 > m->cap * 3)
		S_rehash(m);
	uint32_t h = S_hash(key);
	strmap_entry *e = S_find(m, key, h);
	if (e->key) {
		void *old = e->value;
		e->value = value;
		return old;
	}
	e->key = xstrdup(key);
	e->hash = h;
	e->value = value;
	m->count++;
	return NULL;
}

void strmap_free(strmap *m, void (*free_value)(void *))
{
	for (size_t i = 0; i < m->cap; i++) {
		if (m->slots[i].key) {
			free(m->slots[i].key);
			if (free_value)
				free_value(m->slots[i].value);
		}
	}
	free(m->slots);
	m->slots = NULL;
	m->cap = m->count = 0;
}

/* ---- strvec ---- */

void strvec_push(strvec *v, char *owned)
{
	if (v->len == v->cap) {
		/* most lists are short (a page's tags or authors) and live as
		 * long as the model: start small */
		v->cap = v->cap ? v->cap * 2 : 2;
		v->items = xrealloc(v->items, v->cap * sizeof(char *));
	}
	v->items[v->len++] = owned;
}

void strvec_push_copy(strvec *v, const char *s)
{
	strvec_push(v, xstrdup(s));
}

int strvec_contains(const strvec *v, const char *s)
{
	for (size_t i = 0; i < v->len; i++)
		if (strcmp(v->items[i], s) == 0)
			return 1;
	return 0;
}

static int S_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strvec_sort(strvec *v)
{
	if (v->len > 1)
		qsort(v->items, v->len, sizeof(char *), S_cmp_str);
}

void strvec_free(strvec *v)
{
	for (size_t i = 0; i < v->len; i++)
		free(v->items[i]);
	free(v->items);
	v->items = NULL;
	v->len = v->cap = 0;
}

/* ---- UTF-8 ---- */

size_t utf8_decode(const char *str, size_t len, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	if (len == 0) {
		*cp = 0;
		return 0;
	}
	unsigned c = s[0];
	size_t n;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xE0) == 0xC0) {
		n = 2, v = c & 0x1F, min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3, v = c & 0x0F, min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4, v = c & 0x07, min = 0x10000;
	} else {
		*cp = 0xFFFD;
		return 1;
	}
	if (len < n) {
		*cp = 0xFFFD;
		return 1;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*cp = 0xFFFD;
			return 1;
		}
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
		*cp = 0xFFFD;
		return 1;
	}
	*cp = v;
	return n;
}

uint32_t utf8_last(const char *s, size_t len)
{
	if (!len)
		return 0;
	size_t i = len - 1;
	while (i > 0 && len - i < 4 && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;
	uint32_t cp;
	utf8_decode(s + i, len - i, &cp);
	return cp;
}

/* The length of the well-formed UTF-8 sequence at s (at most left bytes,
 * s[0] >= 0x80), or 0 when there is none: the second byte's range rules
 * out overlong forms, surrogates and code points past U+10FFFF. */
static size_t S_utf8_seq(const unsigned char *s, size_t left)
{
	unsigned c = s[0], lo = 0x80, hi = 0xBF;
	size_t n;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		lo = c == 0xE0 ? 0xA0 : 0x80;
		hi = c == 0xED ? 0x9F : 0xBF;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		lo = c == 0xF0 ? 0x90 : 0x80;
		hi = c == 0xF4 ? 0x8F : 0xBF;
	} else {
		return 0;
	}
	if (left < n || s[1] < lo || s[1] > hi || (n > 2 && (s[2] & 0xC0) != 0x80) || (n > 3 && (s[3] & 0xC0) != 0x80))
		return 0;
	return n;
}

int str_ascii8(const char *s)
{
	return !(S_le64((const unsigned char *)s) & 0x8080808080808080ULL);
}

/* As utf8_decode steps: a well-formed sequence, else one byte. */
static size_t S_utf8_step(const unsigned char *s, size_t left)
{
	if (s[0] < 0x80)
		return 1;
	size_t n = S_utf8_seq(s, left);
	return n ? n : 1;
}

/* Continuation bytes (10xxxxxx) among eight. */
static int S_continuations8(uint64_t w)
{
	return __builtin_popcountll((w >> 7) & ~(w >> 6) & 0x0101010101010101ULL);
}

size_t utf8_length(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = 0, i = 0;
	if (utf8_valid(str, len, NULL)) {
		/* well-formed: one code point per byte that does not continue one */
		for (; len - i >= 8; i += 8)
			n += 8 - (size_t)S_continuations8(S_le64(s + i));
		for (; i < len; i++)
			n += (s[i] & 0xC0) != 0x80;
		return n;
	}
	while (i < len) {
		i += S_utf8_step(s + i, len - i);
		n++;
	}
	return n;
}

size_t utf8_offset(const char *str, size_t len, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len && n > 0) {
		i += S_utf8_step(s + i, len - i);
		n--;
	}
	return i;
}

/* Lead bytes of three-byte sequences without a limit on the second byte. */
static const unsigned char S_plain3[256] = {[0xE1] = 1, [0xE2] = 1, [0xE3] = 1, [0xE4] = 1, [0xE5] = 1, [0xE6] = 1,
                                            [0xE7] = 1, [0xE8] = 1, [0xE9] = 1, [0xEA] = 1, [0xEB] = 1, [0xEC] = 1,
                                            [0xEE] = 1, [0xEF] = 1};

int utf8_valid(const char *str, size_t len, size_t *bad)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		if (len - i >= 8 && str_ascii8((const char *)s + i)) {
			i += 8;
			continue;
		}
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		/* most Chinese text: a run of three-byte characters led by E1…EC,
		 * EE or EF, whose second byte may be any continuation byte */
		size_t at = i;
		while (len - i >= 3 && S_plain3[s[i]] && ((s[i + 1] ^ 0x80) | (s[i + 2] ^ 0x80)) < 0x40)
			i += 3;
		if (i != at)
			continue;
		size_t n = S_utf8_seq(s + i, len - i);
		if (!n)
			break;
		i += n;
	}
	if (i < len) {
		if (bad)
			*bad = i;
		return 0;
	}
	return 1;
}

int utf8_is_cjk(uint32_t cp)
{
	return (cp >= 0x2E80 && cp <= 0x9FFF)      /* radicals, CJK punctuation, kana, Han */
	       || (cp >= 0xF900 && cp <= 0xFAFF)   /* compatibility ideographs */
	       || (cp >= 0xFE30 && cp <= 0xFE4F)   /* compatibility forms */
	       || (cp >= 0xFF00 && cp <= 0xFFEF)   /* full-width forms */
	       || (cp >= 0x20000 && cp <= 0x3FFFF) /* extension planes */
	       || cp == 0x2014 || cp == 0x2026     /* —— …… */
	       || (cp >= 0x2018 && cp <= 0x201D)   /* ‘ ’ “ ” */
	       || cp == 0x00B7;                    /* · */
}

char *str_slugify(const char *name)
{
	buf b = BUF_INIT;
	int dash = 0;
	size_t len = strlen(name);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_decode(name + i, len - i, &cp);
		int keep = (cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') ||
		           (cp >= 0x3400 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x3FFFF);
		if (keep) {
			if (dash && b.len)
				buf_putc(&b, '-');
			dash = 0;
			if (cp >= 'A' && cp <= 'Z')
				buf_putc(&b, (char)(cp - 'A' + 'a'));
			else
				buf_put(&b, name + i, n);
		} else {
			dash = 1;
		}
		i += n;
	}
	return buf_detach(&b);
}

int str_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int str_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

char *str_trim(char *s)
{
	char *p = s;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	size_t n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
		n--;
	memmove(s, p, n);
	s[n] = '\0';
	return s;
}

/* ---- paths and files ---- */

char *path_join(const char *a, const char *b)
{
	if (!a || !*a || strcmp(a, ".") == 0)
		return xstrdup(b);
	if (!b || !*b || strcmp(b, ".") == 0)
		return xstrdup(a);
	size_t n = strlen(a);
	while (n > 1 && a[n - 1] == '/')
		n--;
	while (*b == '/')
		b++;
	size_t m = strlen(b);
	char *out = xmalloc(n + m + 2);
	memcpy(out, a, n);
	out[n] = '/';
	memcpy(out + n + 1, b, m + 1);
	return out;
}

int path_is_safe_relative(const char *rel)
{
	if (!rel || !*rel || rel[0] == '/')
		return 0;
	const char *p = rel;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c < 0x20 || c == 0x7F || c == '\\')
				return 0;
		}
		if (!end)
			break;
		p = end + 1;
		if (!*p)
			return 0; /* trailing slash */
	}
	return 1;
}

int fd_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int file_write_atomic(const char *path, const void *data, size_t len)
{
	return file_write_atomic2(path, data, len, NULL, 0);
}

int file_write_atomic2(const char *path, const void *head, size_t head_len, const void *body, size_t body_len)
{
	char *tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = fd < 0 ? -1 : fd_write_all(fd, head, head_len);
	if (rc == 0 && body_len)
		rc = fd_write_all(fd, body, body_len);
	if (fd >= 0 && close(fd) < 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -1;
	if (rc < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
	}
	free(tmp);
	return rc;
}

int file_read(const char *path, char **data, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	buf b = BUF_INIT;
	/* room for the whole file at once (records of megabytes), and more
	 * should it grow meanwhile */
	struct stat st;
	size_t want = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
	for (;;) {
		buf_grow(&b, want);
		ssize_t n = read(fd, b.ptr + b.len, b.cap - b.len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			buf_free(&b);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
		want = 65536;
	}
	b.ptr[b.len] = '\0';
	close(fd);
	*len = b.len;
	*data = buf_detach(&b);
	return 0;
}

int mkdir_p(const char *path, unsigned mode)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			int e = errno;
			free(p);
			errno = e;
			return -1;
		}
		*s = '/';
	}
	int rc = mkdir(p, mode);
	int e = errno;
	free(p);
	if (rc < 0 && e != EEXIST) {
		errno = e;
		return -1;
	}
	return 0;
}

static int S_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	return nftw(path, S_remove_entry, 32, FTW_DEPTH | FTW_PHYS);
}

/* ---- dates (days-from-civil, Howard Hinnant's algorithm) ---- */

int64_t date_days(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void date_from_time(int64_t t, int offset_minutes, jb_date *out)
{
	t += (int64_t)offset_minutes * 60;
	int64_t z = (t >= 0 ? t : t - 86399) / 86400 + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp + (mp < 10 ? 3 : -9);
	out->year = (int)(y + (m <= 2));
	out->month = (int)m;
	out->day = (int)d;
}

int date_valid(int y, int m, int d)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
		return 0;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[m - 1] + (m == 2 && leap);
}

int date_parse_iso(const char *s, jb_date *out)
{
	int y = 0, m = 0, d = 0;
	for (int i = 0; i < 10; i++) {
		char c = s[i];
		if (i == 4 || i == 7) {
			if (c != '-')
				return -1;
		} else if (c < '0' || c > '9') {
			return -1;
		}
	}
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (s[10] != '\0' && s[10] != 'T' && s[10] != ' ' && s[10] != 't')
		return -1;
	if (!date_valid(y, m, d))
		return -1;
	out->year = y;
	out->month = m;
	out->day = d;
	return 0;
}

void date_format_iso(const jb_date *d, char out[11])
{
	unsigned y = (unsigned)d->year % 10000u, m = (unsigned)d->month % 100u, day = (unsigned)d->day % 100u;
	snprintf(out, 11, "%04u-%02u-%02u", y, m, day);
}
