/* The font files the typesetter reads: its CID-keyed OpenType CFF faces
 * (the Noto CJK fonts) with their subroutines inlined.
 *
 * For every PDF, cairo 1.16 reads a CFF font's whole CFF table (twice),
 * parses all its subroutines and writes every subroutine slot of the font
 * into the subset, which it then compresses — for a Noto CJK face, most of
 * the time a PDF took to write.  Given the same face without subroutines
 * (ts_cff_flatten over the whole font: the same glyphs, hints, metrics and
 * layout tables), it has nothing of the kind to do, and the PDFs come out
 * the same bytes (typeset_cff.c inlines the subroutines of the subsets
 * anyway).
 *
 * The flattened faces are made once and kept in the user's cache
 * directory ($XDG_CACHE_HOME/jianbao/fonts, else ~/.cache/jianbao/fonts),
 * named after the font file, its face, size and modification time.  The
 * typesetter's fontconfig configuration is the system's with those faces
 * in place of the originals.  Where there is no cache directory, or a face
 * is not a CID-keyed CFF font, the system's font is used as it is. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangofc-fontmap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "typeset_int.h"

/* Bump when the flattened files change (a new name for every file). */
#define S_FORMAT 1

static uint32_t S_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void S_put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t S_checksum(const unsigned char *p, size_t len)
{
	uint32_t sum = 0;
	for (size_t i = 0; i < len; i += 4) {
		unsigned char w[4] = {0, 0, 0, 0};
		memcpy(w, p + i, len - i < 4 ? len - i : 4);
		sum += S_u32(w);
	}
	return sum;
}

int ts_font_flatten(const unsigned char *file, size_t len, int index, buf *out)
{
	size_t dir = 0;
	if (len >= 12 && !memcmp(file, "ttcf", 4)) {
		uint32_t n = S_u32(file + 8);
		if (index < 0 || (uint32_t)index >= n || 12 + 4 * (size_t)n > len)
			return -1;
		dir = S_u32(file + 12 + 4 * (size_t)index);
	} else if (index != 0) {
		return -1;
	}
	if (dir > len || len - dir < 12 || memcmp(file + dir, "OTTO", 4) != 0)
		return -1;
	size_t ntables = (size_t)file[dir + 4] << 8 | file[dir + 5];
	if (ntables == 0 || ntables > 256 || len - dir - 12 < 16 * ntables)
		return -1;
	const unsigned char *rec = file + dir + 12;
	for (size_t i = 0; i < ntables; i++) {
		uint32_t at = S_u32(rec + 16 * i + 8), n = S_u32(rec + 16 * i + 12);
		if (at > len || n > len - at)
			return -1;
	}
	buf cff = BUF_INIT;
	int found = 0;
	for (size_t i = 0; i < ntables && !found; i++)
		if (!memcmp(rec + 16 * i, "CFF ", 4)) {
			found = 1;
			if (ts_cff_flatten(file + S_u32(rec + 16 * i + 8), S_u32(rec + 16 * i + 12), &cff) < 0) {
				buf_free(&cff);
				return -1;
			}
		}
	if (!found)
		return -1;
	/* the offset table as it was, each table 4-byte aligned after it */
	size_t start = out->len, head = 0;
	buf_put(out, file + dir, 12 + 16 * ntables);
	for (size_t i = 0; i < ntables; i++) {
		const unsigned char *data = file + S_u32(rec + 16 * i + 8);
		size_t n = S_u32(rec + 16 * i + 12);
		if (!memcmp(rec + 16 * i, "CFF ", 4)) {
			data = (const unsigned char *)cff.ptr;
			n = cff.len;
		}
		size_t at = out->len - start;
		buf_put(out, data, n);
		while ((out->len - start) % 4)
			buf_putc(out, 0);
		unsigned char *r = (unsigned char *)out->ptr + start + 12 + 16 * i;
		if (!memcmp(r, "head", 4) && n >= 12) {
			head = at;
			memset(out->ptr + start + at + 8, 0, 4); /* checkSumAdjustment */
		}
		S_put_u32(r + 4, S_checksum((const unsigned char *)out->ptr + start + at, n));
		S_put_u32(r + 8, (uint32_t)at);
		S_put_u32(r + 12, (uint32_t)n);
	}
	buf_free(&cff);
	if (head) {
		unsigned char *p = (unsigned char *)out->ptr + start;
		S_put_u32(p + head + 8, 0xB1B0AFBAu - S_checksum(p, out->len - start));
	}
	return 0;
}

/* ---- the cache ---- */

static char *S_cache_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	if (xdg && xdg[0] == '/')
		return path_join(xdg, "jianbao/fonts");
	if (home && home[0] == '/')
		return path_join(home, ".cache/jianbao/fonts");
	return NULL;
}

static uint64_t S_fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* The flattened face index of path in the cache (made now when it is not
 * there yet), or NULL. */
static char *S_flattened(const char *dir, const char *path, int index)
{
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return NULL;
	long long key[5] = {(long long)st.st_size, (long long)st.st_mtim.tv_sec, (long long)st.st_mtim.tv_nsec, index,
	                    S_FORMAT};
	uint64_t h = S_fnv(0xcbf29ce484222325ull, path, strlen(path) + 1);
	h = S_fnv(h, key, sizeof key);
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t stem = strcspn(base, ".");
	char *name = xasprintf("%s/%.*s-%d-%016llx.otf", dir, (int)(stem < 64 ? stem : 64), base, index,
	                       (unsigned long long)h);
	struct stat cst;
	if (stat(name, &cst) == 0 && S_ISREG(cst.st_mode) && cst.st_size > 0)
		return name;
	/* made here: read the font, write a temporary file, rename it */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *map = MAP_FAILED;
	if (fd >= 0 && st.st_size > 0)
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (fd >= 0)
		close(fd);
	if (map == MAP_FAILED) {
		free(name);
		return NULL;
	}
	buf otf = BUF_INIT;
	int rc = ts_font_flatten(map, (size_t)st.st_size, index, &otf);
	munmap(map, (size_t)st.st_size);
	if (rc == 0 && mkdir_p(dir, 0755) == 0) {
		char *tmp = xasprintf("%s.%ld.tmp", name, (long)getpid());
		FILE *fp = fopen(tmp, "wb");
		int ok = fp && fwrite(otf.ptr, 1, otf.len, fp) == otf.len;
		if (fp && fclose(fp) != 0)
			ok = 0;
		if (!ok || rename(tmp, name) != 0) {
			remove(tmp);
			rc = -1;
		}
		free(tmp);
	} else {
		rc = -1;
	}
	buf_free(&otf);
	if (rc < 0) {
		free(name);
		return NULL;
	}
	return name;
}

/* ---- the configuration ---- */

typedef struct S_face {
	char *file;
	int index;
	char *flat; /* the flattened file, or NULL */
} S_face;

static void S_xml_string(buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			buf_puts(b, "&lt;");
		else if (*s == '>')
			buf_puts(b, "&gt;");
		else if (*s == '&')
			buf_puts(b, "&amp;");
		else
			buf_putc(b, *s);
	}
}

/* The faces fontconfig gives each family of the lists (", " between names)
 * in regular, bold and heavy weights, without repeats. */
static size_t S_find_faces(FcConfig *cfg, const char *const *lists, size_t nlists, S_face **out)
{
	static const int weights[] = {FC_WEIGHT_REGULAR, FC_WEIGHT_BOLD, FC_WEIGHT_HEAVY};
	S_face *faces = NULL;
	size_t n = 0;
	for (size_t l = 0; l < nlists; l++) {
		if (!lists[l])
			continue;
		const char *p = lists[l];
		while (*p) {
			size_t k = strcspn(p, ",");
			char *family = xstrndup(p, k);
			str_trim(family);
			p += k;
			if (*p == ',')
				p++;
			for (size_t w = 0; *family && w < JB_ARRAY_LEN(weights); w++) {
				FcPattern *pat = FcPatternCreate();
				FcPatternAddString(pat, FC_FAMILY, (const FcChar8 *)family);
				FcPatternAddInteger(pat, FC_WEIGHT, weights[w]);
				FcPatternAddString(pat, FC_LANG, (const FcChar8 *)"zh-cn");
				FcConfigSubstitute(cfg, pat, FcMatchPattern);
				FcDefaultSubstitute(pat);
				FcResult res;
				FcPattern *m = FcFontMatch(cfg, pat, &res);
				FcPatternDestroy(pat);
				FcChar8 *file, *fam;
				int index, same = 0;
				if (m && FcPatternGetString(m, FC_FILE, 0, &file) == FcResultMatch &&
				    FcPatternGetInteger(m, FC_INDEX, 0, &index) == FcResultMatch) {
					for (int i = 0; !same && FcPatternGetString(m, FC_FAMILY, i, &fam) == FcResultMatch; i++)
						same = FcStrCmpIgnoreCase(fam, (const FcChar8 *)family) == 0;
					for (size_t i = 0; same && i < n; i++)
						same = !(faces[i].index == index && !strcmp(faces[i].file, (const char *)file));
					if (same) {
						faces = xrealloc(faces, (n + 1) * sizeof *faces);
						faces[n].file = xstrdup((const char *)file);
						faces[n].index = index;
						faces[n].flat = NULL;
						n++;
					}
				}
				if (m)
					FcPatternDestroy(m);
			}
			free(family);
		}
	}
	*out = faces;
	return n;
}

static FcConfig *S_build(const char *const *lists, size_t nlists)
{
	char *dir = S_cache_dir();
	if (!dir)
		return NULL;
	FcConfig *base = FcInitLoadConfigAndFonts();
	if (!base) {
		free(dir);
		return NULL;
	}
	S_face *faces;
	size_t n = S_find_faces(base, lists, nlists, &faces);
	FcConfigDestroy(base);
	size_t flattened = 0;
	for (size_t i = 0; i < n; i++)
		if ((faces[i].flat = S_flattened(dir, faces[i].file, faces[i].index)))
			flattened++;
	free(dir);
	FcConfig *cfg = NULL;
	if (flattened) {
		cfg = FcConfigCreate();
		buf xml = BUF_INIT;
		buf_puts(&xml, "<fontconfig><selectfont><rejectfont>");
		int ok = cfg && FcConfigParseAndLoad(cfg, NULL, FcTrue);
		/* a face is left out once its replacement is in */
		for (size_t i = 0; ok && i < n; i++) {
			if (!faces[i].flat || !FcConfigAppFontAddFile(cfg, (const FcChar8 *)faces[i].flat))
				continue;
			buf_puts(&xml, "<pattern><patelt name=\"file\"><string>");
			S_xml_string(&xml, faces[i].file);
			buf_printf(&xml, "</string></patelt><patelt name=\"index\"><int>%d</int></patelt></pattern>",
			           faces[i].index);
		}
		buf_puts(&xml, "</rejectfont></selectfont></fontconfig>");
		if (ok)
			ok = FcConfigParseAndLoadFromMemory(cfg, (const FcChar8 *)buf_cstr(&xml), FcTrue) &&
			     FcConfigBuildFonts(cfg);
		buf_free(&xml);
		if (!ok && cfg) {
			FcConfigDestroy(cfg);
			cfg = NULL;
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(faces[i].file);
		free(faces[i].flat);
	}
	free(faces);
	return cfg;
}

/* One configuration per process for the last family lists asked for: the
 * typesetters and the charts drawn into their PDFs share it (and so share
 * cairo's font faces and their subsets). */
static struct {
	pthread_mutex_t lock;
	char *key;
	FcConfig *cfg;
} S_shared = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL};

void ts_font_setup(PangoFontMap *map, const char *const *lists, size_t nlists)
{
	buf key = BUF_INIT;
	for (size_t i = 0; i < nlists; i++) {
		buf_puts(&key, lists[i] ? lists[i] : "");
		buf_putc(&key, '\n');
	}
	pthread_mutex_lock(&S_shared.lock);
	if (!S_shared.key || strcmp(S_shared.key, buf_cstr(&key)) != 0) {
		if (S_shared.cfg)
			FcConfigDestroy(S_shared.cfg);
		free(S_shared.key);
		S_shared.cfg = S_build(lists, nlists);
		S_shared.key = buf_detach(&key);
	}
	if (S_shared.cfg)
		pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(map), S_shared.cfg);
	pthread_mutex_unlock(&S_shared.lock);
	buf_free(&key);
}

void typeset_share_fonts(PangoFontMap *map)
{
	pthread_mutex_lock(&S_shared.lock);
	if (S_shared.cfg)
		pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(map), S_shared.cfg);
	pthread_mutex_unlock(&S_shared.lock);
}
