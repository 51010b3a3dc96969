#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static diag_format S_format = DIAG_PLAIN;
static int S_quiet;
/* per thread: a thread that works beside the main one collects its own
 * messages and counts, which the main thread then reports (diag_add) */
static _Thread_local int S_errors;
static _Thread_local int S_warnings;
static _Thread_local buf *S_capture;

buf *diag_capture(buf *out)
{
	buf *was = S_capture;
	S_capture = out;
	return was;
}

void diag_set_format(diag_format f)
{
	S_format = f;
}

void diag_set_quiet(int quiet)
{
	S_quiet = quiet;
}

/* GitHub annotations need %, CR and LF escaped in the message, and also ,
 * and : in property values. */
static void S_put_gh(buf *b, const char *s, int property)
{
	for (; *s; s++) {
		switch (*s) {
		case '%': buf_puts(b, "%25"); break;
		case '\r': buf_puts(b, "%0D"); break;
		case '\n': buf_puts(b, "%0A"); break;
		case ':': property ? buf_puts(b, "%3A") : buf_putc(b, ':'); break;
		case ',': property ? buf_puts(b, "%2C") : buf_putc(b, ','); break;
		default: buf_putc(b, *s);
		}
	}
}

static void S_report(const char *kind, const char *file, int line, int col, const char *fmt, va_list ap)
{
	buf msg = BUF_INIT, out = BUF_INIT;
	buf_vprintf(&msg, fmt, ap);
	if (S_format == DIAG_GITHUB) {
		buf_printf(&out, "::%s", kind);
		if (file) {
			buf_puts(&out, " file=");
			S_put_gh(&out, file, 1);
			if (line > 0)
				buf_printf(&out, ",line=%d", line);
			if (col > 0)
				buf_printf(&out, ",col=%d", col);
		}
		buf_puts(&out, "::");
		S_put_gh(&out, buf_cstr(&msg), 0);
	} else {
		if (file) {
			buf_puts(&out, file);
			if (line > 0)
				buf_printf(&out, ":%d", line);
			if (line > 0 && col > 0)
				buf_printf(&out, ":%d", col);
			buf_puts(&out, ": ");
		} else {
			buf_puts(&out, "jianbao: ");
		}
		buf_printf(&out, "%s: %s", kind, buf_cstr(&msg));
	}
	buf_putc(&out, '\n');
	if (S_capture) {
		buf_put(S_capture, out.ptr, out.len);
	} else {
		fputs(buf_cstr(&out), stderr);
		fflush(stderr);
	}
	buf_free(&msg);
	buf_free(&out);
}

void diag_error(const char *file, int line, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	S_report("error", file, line, col, fmt, ap);
	va_end(ap);
	S_errors++;
}

void diag_warning(const char *file, int line, int col, const char *fmt, ...)
{
	S_warnings++;
	if (S_quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	S_report("warning", file, line, col, fmt, ap);
	va_end(ap);
}

void diag_note(const char *fmt, ...)
{
	if (S_quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("jianbao: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int diag_errors(void)
{
	return S_errors;
}

void diag_add(const char *text, size_t len, int errors, int warnings)
{
	if (len && S_capture) {
		buf_put(S_capture, text, len);
	} else if (len) {
		fwrite(text, 1, len, stderr);
		fflush(stderr);
	}
	diag_add_counts(errors, warnings);
}

void diag_add_counts(int errors, int warnings)
{
	S_errors += errors;
	S_warnings += warnings;
}

int diag_warnings(void)
{
	return S_warnings;
}

void diag_reset(void)
{
	S_errors = S_warnings = 0;
}

void diag_detail(const char *text)
{
	buf out = BUF_INIT;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		buf_puts(&out, "    ");
		buf_put(&out, p, n);
		buf_putc(&out, '\n');
		p += n + (nl ? 1 : 0);
	}
	if (S_capture) {
		buf_put(S_capture, out.ptr, out.len);
	} else {
		fputs(buf_cstr(&out), stderr);
		fflush(stderr);
	}
	buf_free(&out);
}

static int S_worker;

void diag_set_worker(int worker)
{
	S_worker = worker;
}

void diag_stage(const char *name)
{
	static int profile = -1;
	static double start, mark;
	if (profile < 0)
		profile = getenv("JIANBAO_PROFILE") != NULL;
	if (!profile)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	if (start == 0 || !name) {
		start = start == 0 ? now : start;
		mark = now;
		if (!name)
			return;
	}
	long size = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &size, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	char who[16] = "";
	if (S_worker)
		snprintf(who, sizeof who, " [%d]", S_worker);
	/* the CPU this thread used meanwhile: less than the time when it waited */
	static double cpu_mark;
	struct timespec cpu;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
	double cpu_now = (double)cpu.tv_sec + (double)cpu.tv_nsec / 1e9;
	static long flt_mark;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	fprintf(stderr, "jianbao: %-16s %8.3f s  at %6.3f s %6ld MB  cpu %.3f s  faults %ld%s\n", name, now - mark,
	        now - start, rss * sysconf(_SC_PAGESIZE) >> 20, cpu_now - cpu_mark, ru.ru_minflt - flt_mark, who);
	mark = now;
	cpu_mark = cpu_now;
	flt_mark = ru.ru_minflt;
}
