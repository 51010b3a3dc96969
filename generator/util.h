/* util — memory, byte buffers, string maps, UTF-8 and path helpers.
 *
 * Out-of-memory is decided here once: every x* allocator aborts, so callers
 * only handle bad input and I/O.  Every function that returns memory says
 * who owns it; free(NULL)-style calls are always fine. */
#ifndef JB_UTIL_H
#define JB_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define JB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh string; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer, always NUL-terminated once anything is put. */
typedef struct buf {
	char *ptr;
	size_t len;
	size_t cap;
} buf;

#define BUF_INIT {NULL, 0, 0}

void buf_grow(buf *b, size_t extra);
void buf_put(buf *b, const void *data, size_t len);
void buf_puts(buf *b, const char *s);
void buf_putc(buf *b, char c);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf *b, const char *fmt, va_list ap);
void buf_truncate(buf *b, size_t len);
/* Hands the bytes over (never NULL); the buffer is empty afterwards. */
char *buf_detach(buf *b);
void buf_free(buf *b);
/* A pointer to the contents, "" when empty. */
const char *buf_cstr(const buf *b);

/* HTML-escapes s[0..len) into b (&, <, >, ", '). */
void buf_put_html(buf *b, const char *s, size_t len);
/* Escapes for XML text and attribute values (same set as HTML). */
#define buf_put_xml buf_put_html

/* Appends s with every byte outside RFC 3986's unreserved, sub-delims,
 * ':', '@', '/', '?', '#', '%' and '~' percent-encoded (for absolute URLs
 * in XML such as sitemaps, where non-ASCII must be escaped). */
void buf_put_url(buf *b, const char *s, size_t len);

/* A 64-bit hash of n bytes (file and chart names, fingerprints; not for
 * security).  The same on every machine. */
uint64_t hash64(const void *data, size_t n);

/* A string → pointer hash map.  Keys are copied; values are the caller's. */
typedef struct strmap_entry {
	char *key;
	void *value;
	uint32_t hash;
} strmap_entry;

typedef struct strmap {
	strmap_entry *slots;
	size_t cap;
	size_t count;
} strmap;

#define STRMAP_INIT {NULL, 0, 0}

/* Returns the stored value or NULL. */
void *strmap_get(const strmap *m, const char *key);
/* Sets key → value, returning the previous value (or NULL). */
void *strmap_put(strmap *m, const char *key, void *value);
/* Frees the keys (and the values with free_value when it is not NULL). */
void strmap_free(strmap *m, void (*free_value)(void *));

/* A growable array of owned strings. */
typedef struct strvec {
	char **items;
	size_t len;
	size_t cap;
} strvec;

#define STRVEC_INIT {NULL, 0, 0}

void strvec_push(strvec *v, char *owned);
void strvec_push_copy(strvec *v, const char *s);
int strvec_contains(const strvec *v, const char *s);
void strvec_sort(strvec *v);
void strvec_free(strvec *v);

/* UTF-8: decodes one code point at s (at most len bytes) into *cp and returns
 * its byte length; invalid bytes decode as U+FFFD of length 1. */
size_t utf8_decode(const char *s, size_t len, uint32_t *cp);
/* The last code point of s[0..len), or 0 when empty. */
uint32_t utf8_last(const char *s, size_t len);
/* Number of code points. */
size_t utf8_length(const char *s, size_t len);
/* Byte offset just past the first n code points of s (or len). */
size_t utf8_offset(const char *s, size_t len, size_t n);
/* 1 when s[0..len) is valid UTF-8; otherwise 0 and *bad is the offset. */
int utf8_valid(const char *s, size_t len, size_t *bad);
/* Han, kana, full-width forms and CJK punctuation: text that joins across a
 * soft line break without a space. */
int utf8_is_cjk(uint32_t cp);

/* A slug for URLs: ASCII letters lower-cased, letters, digits and Han kept,
 * every other run of characters one '-'.  Caller frees. */
char *str_slugify(const char *s);

/* The eight bytes at s are all ASCII (none has its top bit set). */
int str_ascii8(const char *s);
int str_starts_with(const char *s, const char *prefix);
int str_ends_with(const char *s, const char *suffix);
/* Trims ASCII white space in place at both ends. */
char *str_trim(char *s);

/* Joins two path parts with one '/', ignoring an empty part. Caller frees. */
char *path_join(const char *a, const char *b);
/* 1 when rel is a safe relative path: not empty, not absolute, no empty,
 * "." or ".." components, no backslash or control characters. */
int path_is_safe_relative(const char *rel);
/* Reads a whole file; returns 0 or -1 with errno set. Caller frees *data. */
int file_read(const char *path, char **data, size_t *len);
/* Writes all of data to fd (through EINTR and short writes); 0 or -1. */
int fd_write_all(int fd, const void *data, size_t len);
/* Replaces path with data: writes a temporary file beside it and renames
 * it, so that readers see the old or the new file, never a part.  0, or
 * -1 with errno set (nothing is left behind). */
int file_write_atomic(const char *path, const void *data, size_t len);
/* The same for a file made of a head and a body, without joining them. */
int file_write_atomic2(const char *path, const void *head, size_t head_len, const void *body, size_t body_len);
/* mkdir -p; returns 0 or -1 with errno set. */
int mkdir_p(const char *path, unsigned mode);
/* rm -rf; returns 0 or -1. */
int remove_tree(const char *path);

/* Calendar date in a time zone offset (minutes east of UTC). */
typedef struct jb_date {
	int year, month, day;
} jb_date;

void date_from_time(int64_t t, int offset_minutes, jb_date *out);
/* Days since 1970-01-01 for a proleptic Gregorian date. */
int64_t date_days(int y, int m, int d);
int date_valid(int y, int m, int d);
/* Parses YYYY-MM-DD (optionally followed by a time); returns 0 or -1. */
int date_parse_iso(const char *s, jb_date *out);
/* Writes "YYYY-MM-DD" into out (11 bytes). */
void date_format_iso(const jb_date *d, char out[11]);

#endif
