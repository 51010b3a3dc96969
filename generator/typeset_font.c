/* The font files the typesetter reads: its own copies of its CID-keyed
 * OpenType CFF faces (the Noto CJK fonts), smaller and without
 * subroutines.
 *
 * For every PDF, cairo 1.16 reads a CFF font's whole CFF table (twice: 23
 * MB for Noto Serif CJK), parses all its subroutines and writes every
 * subroutine slot of the font into the subset, which it then compresses —
 * most of the time a PDF took to write.  The copies the typesetter reads
 * instead have the glyphs of the characters Chinese text is written in and
 * of what the layout features make of them, with the subroutines inlined
 * (ts_cff_flatten_some); the other glyphs are left empty.  Everything else
 * (character map, metrics, layout tables, names) is the font's own, so the
 * layout is the same, and so are the PDF's bytes (typeset_cff.c inlines
 * the subroutines of the subsets anyway).  There are two copies of a face:
 *   TS_TIER_CJK  Latin, punctuation and symbols, kana, all the CJK Unified
 *                Ideographs (S_ranges): a third of Noto Serif CJK;
 *   TS_TIER_GB   the same with only the 6 763 hanzi of GB 2312 (read with
 *                iconv): a tenth.
 * A document is set with the smallest copy that has its characters, else
 * with the system's fonts (TS_TIER_SYSTEM), as is one that would draw a
 * glyph a copy left empty (checked line by line before drawing:
 * ts_font_check_line).
 *
 * The copies are made once and kept in the user's cache directory
 * ($XDG_CACHE_HOME/jianbao/fonts, else ~/.cache/jianbao/fonts; when that
 * cannot be written, $TMPDIR/jianbao-UID/fonts), named after the font file,
 * its face, size and modification time.  Where a face is no CID-keyed CFF
 * font, or no copy can be written, the system's font is used. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <hb-ot.h>
#include <iconv.h>
#include <hb.h>
#include <pango/pangofc-font.h>
#include <pango/pangofc-fontmap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "typeset_int.h"

/* Bump when the files change (a new name for every file). */
#define S_FORMAT 3

/* The characters the copies are for. */
static const uint32_t S_ranges[][2] = {
	{0x0020, 0x024F}, /* Latin */
	{0x0370, 0x04FF}, /* Greek, Cyrillic */
	{0x2000, 0x2BFF}, /* punctuation, symbols, arrows, maths, box drawing, enclosed numbers */
	{0x3000, 0x30FF}, /* CJK punctuation, kana */
	{0x3200, 0x33FF}, /* enclosed CJK, CJK compatibility */
	{0x4E00, 0x9FFF}, /* CJK Unified Ideographs */
	{0xFE30, 0xFE4F}, /* CJK compatibility forms */
	{0xFF00, 0xFFEF}, /* full-width and half-width forms */
};

/* The layout features whose substitutions the copies follow: HarfBuzz's
 * defaults for horizontal text and the ones typeset_text.c asks for. */
static const hb_tag_t S_features[] = {
	HB_TAG('c', 'c', 'm', 'p'), HB_TAG('l', 'o', 'c', 'l'), HB_TAG('r', 'l', 'i', 'g'), HB_TAG('c', 'a', 'l', 't'),
	HB_TAG('c', 'l', 'i', 'g'), HB_TAG('l', 'i', 'g', 'a'), HB_TAG('r', 'c', 'l', 't'), HB_TAG('r', 'v', 'r', 'n'),
	HB_TAG('f', 'r', 'a', 'c'), HB_TAG('n', 'u', 'm', 'r'), HB_TAG('d', 'n', 'o', 'm'), HB_TAG('f', 'w', 'i', 'd'),
	HB_TAG('h', 'a', 'l', 't'),
};

/* The hanzi of GB 2312, one bit each from U+4E00 (none: iconv has no
 * GB 2312). */
static struct {
	pthread_once_t once;
	unsigned char bits[(0x9FFF - 0x4E00 + 1) / 8];
	int ok;
} S_gb = {PTHREAD_ONCE_INIT, {0}, 0};

static void S_gb_read(void)
{
	iconv_t cd = iconv_open("UTF-32BE", "GB2312");
	if (cd == (iconv_t)-1)
		return;
	for (int hi = 0xB0; hi <= 0xF7; hi++)
		for (int lo = 0xA1; lo <= 0xFE; lo++) {
			char in[2] = {(char)hi, (char)lo}, out[4];
			char *ip = in, *op = out;
			size_t il = 2, ol = 4;
			if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || ol != 0) {
				iconv(cd, NULL, NULL, NULL, NULL);
				continue;
			}
			uint32_t cp = (uint32_t)(unsigned char)out[0] << 24 | (uint32_t)(unsigned char)out[1] << 16 |
			              (uint32_t)(unsigned char)out[2] << 8 | (unsigned char)out[3];
			if (cp >= 0x4E00 && cp <= 0x9FFF) {
				S_gb.bits[(cp - 0x4E00) / 8] |= (unsigned char)(1u << (cp % 8));
				S_gb.ok++;
			}
		}
	iconv_close(cd);
	if (S_gb.ok < 6000) /* not GB 2312 */
		S_gb.ok = 0;
}

/* The smallest tier whose copies have character cp. */
static int S_tier_of(uint32_t cp)
{
	if (cp < 0x20)
		return TS_TIER_GB;
	size_t r = 0;
	while (r < JB_ARRAY_LEN(S_ranges) && !(cp >= S_ranges[r][0] && cp <= S_ranges[r][1]))
		r++;
	if (r == JB_ARRAY_LEN(S_ranges))
		return TS_TIER_SYSTEM;
	if (cp < 0x4E00 || cp > 0x9FFF)
		return TS_TIER_GB;
	pthread_once(&S_gb.once, S_gb_read);
	return S_gb.ok && (S_gb.bits[(cp - 0x4E00) / 8] & (1u << (cp % 8))) ? TS_TIER_GB : TS_TIER_CJK;
}

int ts_font_tier(const char *s, int tier)
{
	size_t len = s ? strlen(s) : 0;
	for (size_t i = 0; i < len && tier > TS_TIER_SYSTEM;) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);
		i += n ? n : 1;
		int t = S_tier_of(cp);
		if (t < tier)
			tier = t;
	}
	return tier;
}

/* ---- the files ---- */

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

/* The table directory of face index of an OpenType CFF file or
 * collection: its offset in file and the number of tables, or 0. */
static size_t S_face_dir(const unsigned char *file, size_t len, int index, size_t *ntables)
{
	size_t dir = 0;
	if (len >= 12 && !memcmp(file, "ttcf", 4)) {
		uint32_t n = S_u32(file + 8);
		if (index < 0 || (uint32_t)index >= n || 12 + 4 * (size_t)n > len)
			return 0;
		dir = S_u32(file + 12 + 4 * (size_t)index);
	} else if (index != 0) {
		return 0;
	}
	if (dir > len || len - dir < 12 || memcmp(file + dir, "OTTO", 4) != 0)
		return 0;
	*ntables = (size_t)file[dir + 4] << 8 | file[dir + 5];
	if (*ntables == 0 || *ntables > 256 || len - dir - 12 < 16 * *ntables)
		return 0;
	for (size_t i = 0; i < *ntables; i++) {
		const unsigned char *r = file + dir + 12 + 16 * i;
		if (S_u32(r + 8) > len || S_u32(r + 12) > len - S_u32(r + 8))
			return 0;
	}
	return dir + 12;
}

/* The CFF table of face index, or NULL. */
static const unsigned char *S_cff_table(const unsigned char *file, size_t len, int index, size_t *cff_len)
{
	size_t n, rec = S_face_dir(file, len, index, &n);
	for (size_t i = 0; rec && i < n; i++)
		if (!memcmp(file + rec + 16 * i, "CFF ", 4)) {
			*cff_len = S_u32(file + rec + 16 * i + 12);
			return file + S_u32(file + rec + 16 * i + 8);
		}
	return NULL;
}

int ts_font_flatten(const unsigned char *file, size_t len, int index, const unsigned char *keep, size_t nkeep,
                    buf *out)
{
	size_t ntables, rec = S_face_dir(file, len, index, &ntables);
	size_t cff_len;
	const unsigned char *cff_data = rec ? S_cff_table(file, len, index, &cff_len) : NULL;
	buf cff = BUF_INIT;
	if (!cff_data || ts_cff_flatten_some(cff_data, cff_len, keep, nkeep, &cff) < 0) {
		buf_free(&cff);
		return -1;
	}
	/* the offset table as it was, each table 4-byte aligned after it */
	size_t start = out->len, head = 0;
	buf_put(out, file + rec - 12, 12 + 16 * ntables);
	for (size_t i = 0; i < ntables; i++) {
		const unsigned char *r0 = file + rec + 16 * i;
		const unsigned char *data = file + S_u32(r0 + 8);
		size_t n = S_u32(r0 + 12);
		if (!memcmp(r0, "CFF ", 4)) {
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

size_t ts_font_glyphs(const unsigned char *file, size_t len, int index, int tier, unsigned char *keep, size_t nkeep)
{
	hb_blob_t *blob =
		hb_blob_create((const char *)file, (unsigned)len, HB_MEMORY_MODE_READONLY, NULL, NULL);
	hb_face_t *face = hb_face_create(blob, (unsigned)index);
	hb_blob_destroy(blob);
	size_t nglyphs = hb_face_get_glyph_count(face);
	if (nglyphs > nkeep || nglyphs == 0) {
		hb_face_destroy(face);
		return 0;
	}
	hb_font_t *font = hb_font_create(face);
	hb_set_t *glyphs = hb_set_create(), *lookups = hb_set_create();
	hb_set_add(glyphs, 0);
	for (size_t r = 0; r < JB_ARRAY_LEN(S_ranges); r++)
		for (uint32_t cp = S_ranges[r][0]; cp <= S_ranges[r][1]; cp++) {
			hb_codepoint_t g;
			if (S_tier_of(cp) >= tier && hb_font_get_nominal_glyph(font, cp, &g))
				hb_set_add(glyphs, g);
		}
	/* the lookups of those features for every script, in the default
	 * language system and the Simplified Chinese one */
	const hb_tag_t table = HB_OT_TAG_GSUB, zhs = HB_TAG('Z', 'H', 'S', ' ');
	unsigned nscripts = hb_ot_layout_table_get_script_tags(face, table, 0, NULL, NULL);
	for (unsigned s = 0; s < nscripts; s++) {
		unsigned langs[2] = {HB_OT_LAYOUT_DEFAULT_LANGUAGE_INDEX, HB_OT_LAYOUT_DEFAULT_LANGUAGE_INDEX};
		hb_ot_layout_script_select_language(face, table, s, 1, &zhs, &langs[1]);
		for (int l = 0; l < 2; l++) {
			unsigned req, nfeat = hb_ot_layout_language_get_feature_indexes(face, table, s, langs[l], 0, NULL, NULL);
			unsigned *feat = xcalloc(nfeat + 1, sizeof *feat);
			hb_ot_layout_language_get_feature_indexes(face, table, s, langs[l], 0, &nfeat, feat);
			if (hb_ot_layout_language_get_required_feature(face, table, s, langs[l], &req, NULL))
				feat[nfeat++] = req;
			for (unsigned f = 0; f < nfeat; f++) {
				hb_tag_t tag = 0;
				unsigned one = 1;
				hb_ot_layout_table_get_feature_tags(face, table, feat[f], &one, &tag);
				size_t k = 0;
				while (k < JB_ARRAY_LEN(S_features) && S_features[k] != tag)
					k++;
				if (k == JB_ARRAY_LEN(S_features) && feat[f] != req)
					continue;
				unsigned nl = hb_ot_layout_feature_get_lookups(face, table, feat[f], 0, NULL, NULL);
				unsigned *lk = xcalloc(nl + 1, sizeof *lk);
				hb_ot_layout_feature_get_lookups(face, table, feat[f], 0, &nl, lk);
				for (unsigned i = 0; i < nl; i++)
					hb_set_add(lookups, lk[i]);
				free(lk);
			}
			free(feat);
		}
	}
	hb_ot_layout_lookups_substitute_closure(face, lookups, glyphs);
	memset(keep, 0, nglyphs);
	hb_codepoint_t g = HB_SET_VALUE_INVALID;
	while (hb_set_next(glyphs, &g))
		if (g < nglyphs)
			keep[g] = 1;
	hb_set_destroy(glyphs);
	hb_set_destroy(lookups);
	hb_font_destroy(font);
	hb_face_destroy(face);
	return nglyphs;
}

/* ---- the cache ---- */

/* Where the copies are kept: the user's cache directory, else (when that
 * cannot be written) one in $TMPDIR; NULL-terminated. */
static void S_cache_dirs(char *dirs[3])
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME"), *tmp = getenv("TMPDIR");
	int n = 0;
	if (xdg && xdg[0] == '/')
		dirs[n++] = path_join(xdg, "jianbao/fonts");
	else if (home && home[0] == '/')
		dirs[n++] = path_join(home, ".cache/jianbao/fonts");
	dirs[n++] = xasprintf("%s/jianbao-%ld/fonts", tmp && tmp[0] == '/' ? tmp : "/tmp", (long)getuid());
	dirs[n] = NULL;
}

static uint64_t S_fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void *S_map(const char *path, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *map = MAP_FAILED;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		*len = (size_t)st.st_size;
		map = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
	}
	if (fd >= 0)
		close(fd);
	return map == MAP_FAILED ? NULL : map;
}

typedef struct S_copy {
	char *file;          /* the system's font file ... */
	int index;           /* ... and face */
	int tier;            /* which copy */
	char *path;          /* the copy */
	unsigned char *keep; /* its glyphs: 1 for those it has */
	size_t nkeep;
} S_copy;

/* The copy of c->file's face c->index in the cache, made now when it is
 * not there yet: sets c->path and c->keep.  0, or -1. */
static int S_copy_face(const char *dir, S_copy *c)
{
	struct stat st;
	if (stat(c->file, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	long long key[6] = {(long long)st.st_size, (long long)st.st_mtim.tv_sec, (long long)st.st_mtim.tv_nsec,
	                    c->index, c->tier, S_FORMAT};
	uint64_t h = S_fnv(0xcbf29ce484222325ull, c->file, strlen(c->file) + 1);
	h = S_fnv(h, key, sizeof key);
	const char *base = strrchr(c->file, '/');
	base = base ? base + 1 : c->file;
	size_t stem = strcspn(base, ".");
	char *name = xasprintf("%s/%.*s-%d-%s-%016llx.otf", dir, (int)(stem < 64 ? stem : 64), base, c->index,
	                       c->tier == TS_TIER_GB ? "gb" : "cjk", (unsigned long long)h);
	free(c->keep);
	c->nkeep = 65536;
	c->keep = xcalloc(c->nkeep, 1);
	size_t len, cff_len;
	unsigned char *map = S_map(name, &len);
	if (map) { /* made before: which glyphs it has */
		const unsigned char *cff = S_cff_table(map, len, 0, &cff_len);
		size_t n = cff ? ts_cff_kept(cff, cff_len, c->keep, c->nkeep) : 0;
		munmap(map, len);
		if (n) {
			c->path = name;
			return 0;
		}
	}
	/* made here: a temporary file, renamed */
	int rc = -1;
	map = S_map(c->file, &len);
	buf otf = BUF_INIT;
	if (map) {
		size_t n = ts_font_glyphs(map, len, c->index, c->tier, c->keep, c->nkeep);
		rc = n && ts_font_flatten(map, len, c->index, c->keep, n, &otf) == 0 ? 0 : -1;
		munmap(map, len);
	}
	if (rc < 0 || mkdir_p(dir, 0755) < 0 || file_write_atomic(name, otf.ptr, otf.len) < 0)
		rc = -1;
	buf_free(&otf);
	if (rc < 0) {
		free(name);
		return -1;
	}
	c->path = name;
	return 0;
}

/* ---- the configurations ---- */

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
static size_t S_find_faces(FcConfig *cfg, const char *const *lists, size_t nlists, S_copy **out)
{
	static const int weights[] = {FC_WEIGHT_REGULAR, FC_WEIGHT_BOLD, FC_WEIGHT_HEAVY};
	S_copy *faces = NULL;
	size_t n = 0;
	for (size_t l = 0; l < nlists; l++) {
		const char *p = lists[l] ? lists[l] : "";
		while (*p) {
			size_t k = strcspn(p, ",");
			char *family = str_trim(xstrndup(p, k));
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
				int index, wanted = 0;
				if (m && FcPatternGetString(m, FC_FILE, 0, &file) == FcResultMatch &&
				    FcPatternGetInteger(m, FC_INDEX, 0, &index) == FcResultMatch) {
					for (int i = 0; !wanted && FcPatternGetString(m, FC_FAMILY, i, &fam) == FcResultMatch; i++)
						wanted = FcStrCmpIgnoreCase(fam, (const FcChar8 *)family) == 0;
					for (size_t i = 0; wanted && i < n; i++)
						wanted = !(faces[i].index == index && !strcmp(faces[i].file, (const char *)file));
					if (wanted) {
						faces = xrealloc(faces, (n + 1) * sizeof *faces);
						memset(&faces[n], 0, sizeof *faces);
						faces[n].file = xstrdup((const char *)file);
						faces[n].index = index;
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

static void S_copy_free(S_copy *c)
{
	free(c->file);
	free(c->path);
	free(c->keep);
}

/* The configuration with the copies in place of the system's faces, or
 * NULL; *copies (those in it) are kept. */
static FcConfig *S_build(FcConfig *system, const char *const *lists, size_t nlists, int tier, S_copy **copies,
                         size_t *ncopies)
{
	*copies = NULL;
	*ncopies = 0;
	char *dirs[3];
	S_cache_dirs(dirs);
	S_copy *faces;
	size_t n = S_find_faces(system, lists, nlists, &faces);
	for (size_t i = 0; i < n; i++) {
		faces[i].tier = tier;
		for (int d = 0; dirs[d] && S_copy_face(dirs[d], &faces[i]) < 0; d++)
			;
	}
	for (int d = 0; dirs[d]; d++)
		free(dirs[d]);
	FcConfig *cfg = FcConfigCreate();
	int ok = cfg && FcConfigParseAndLoad(cfg, NULL, FcTrue);
	buf xml = BUF_INIT;
	buf_puts(&xml, "<fontconfig><selectfont><rejectfont>");
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		/* a face is left out once its copy is in */
		if (ok && faces[i].path && FcConfigAppFontAddFile(cfg, (const FcChar8 *)faces[i].path)) {
			buf_puts(&xml, "<pattern><patelt name=\"file\"><string>");
			S_xml_string(&xml, faces[i].file);
			buf_printf(&xml, "</string></patelt><patelt name=\"index\"><int>%d</int></patelt></pattern>",
			           faces[i].index);
			faces[kept++] = faces[i];
		} else {
			S_copy_free(&faces[i]);
		}
	}
	buf_puts(&xml, "</rejectfont></selectfont></fontconfig>");
	ok = ok && kept && FcConfigParseAndLoadFromMemory(cfg, (const FcChar8 *)buf_cstr(&xml), FcTrue) &&
	     FcConfigBuildFonts(cfg);
	buf_free(&xml);
	if (!ok) {
		if (cfg)
			FcConfigDestroy(cfg);
		for (size_t i = 0; i < kept; i++)
			S_copy_free(&faces[i]);
		free(faces);
		return NULL;
	}
	*copies = faces;
	*ncopies = kept;
	return cfg;
}

/* Per process, for the last family lists asked for: the system's
 * configuration and those with the copies.  Typesetters and the charts
 * drawn into their PDFs share them (and so share cairo's font faces and
 * their subsets). */
static struct {
	pthread_mutex_t lock;
	char *key;
	FcConfig *configs[TS_TIERS];
	S_copy *copies;
	size_t ncopies;
} S_shared = {PTHREAD_MUTEX_INITIALIZER, NULL, {NULL}, NULL, 0};

void ts_fonts_init(const char *const *lists, size_t nlists, FcConfig **configs)
{
	buf key = BUF_INIT;
	for (size_t i = 0; i < nlists; i++) {
		buf_puts(&key, lists[i] ? lists[i] : "");
		buf_putc(&key, '\n');
	}
	pthread_mutex_lock(&S_shared.lock);
	if (!S_shared.configs[TS_TIER_SYSTEM])
		S_shared.configs[TS_TIER_SYSTEM] = FcInitLoadConfigAndFonts();
	if (S_shared.configs[TS_TIER_SYSTEM] && (!S_shared.key || strcmp(S_shared.key, buf_cstr(&key)) != 0)) {
		/* the earlier ones stay: typesetters and charts may use them */
		free(S_shared.key);
		S_shared.key = buf_detach(&key);
		for (int tier = TS_TIER_SYSTEM + 1; tier < TS_TIERS; tier++) {
			S_copy *copies;
			size_t n;
			FcConfig *cfg = S_build(S_shared.configs[TS_TIER_SYSTEM], lists, nlists, tier, &copies, &n);
			if (cfg) {
				S_shared.copies = xrealloc(S_shared.copies, (S_shared.ncopies + n) * sizeof *copies);
				memcpy(S_shared.copies + S_shared.ncopies, copies, n * sizeof *copies);
				S_shared.ncopies += n;
				free(copies);
			}
			S_shared.configs[tier] = cfg;
		}
	}
	for (int tier = 0; tier < TS_TIERS; tier++)
		configs[tier] = S_shared.configs[tier];
	pthread_mutex_unlock(&S_shared.lock);
	buf_free(&key);
}

/* ---- what the current document uses ---- */

static _Thread_local FcConfig *S_current;
static _Thread_local int S_missing;

void ts_font_use(FcConfig *cfg)
{
	S_current = cfg;
	S_missing = 0;
}

int ts_font_missed(void)
{
	return S_missing;
}

FcConfig *typeset_font_config(int pdf)
{
	pthread_mutex_lock(&S_shared.lock);
	FcConfig *cfg = S_shared.ncopies ? S_shared.configs[TS_TIER_SYSTEM] : NULL;
	pthread_mutex_unlock(&S_shared.lock);
	if (pdf && S_current)
		cfg = S_current;
	return cfg;
}

/* The glyphs of the copy font is read from (NULL: no copy). */
static const unsigned char *S_copy_of(PangoFont *font, size_t *nkeep)
{
	if (!PANGO_IS_FC_FONT(font))
		return NULL;
	FcPattern *pat = pango_fc_font_get_pattern(PANGO_FC_FONT(font));
	FcChar8 *file;
	if (!pat || FcPatternGetString(pat, FC_FILE, 0, &file) != FcResultMatch)
		return NULL;
	const unsigned char *keep = NULL;
	pthread_mutex_lock(&S_shared.lock);
	for (size_t i = 0; !keep && i < S_shared.ncopies; i++)
		if (!strcmp(S_shared.copies[i].path, (const char *)file)) {
			keep = S_shared.copies[i].keep;
			*nkeep = S_shared.copies[i].nkeep;
		}
	pthread_mutex_unlock(&S_shared.lock);
	return keep;
}

void ts_font_check_line(PangoLayoutLine *line)
{
	for (GSList *r = line ? line->runs : NULL; r && !S_missing; r = r->next) {
		PangoGlyphItem *run = r->data;
		size_t nkeep = 0;
		const unsigned char *keep = S_copy_of(run->item->analysis.font, &nkeep);
		for (int i = 0; keep && i < run->glyphs->num_glyphs; i++) {
			PangoGlyph g = run->glyphs->glyphs[i].glyph;
			if (g == PANGO_GLYPH_EMPTY || (g & PANGO_GLYPH_UNKNOWN_FLAG))
				continue;
			if (g >= nkeep || !keep[g]) {
				S_missing = 1;
				break;
			}
		}
	}
}

void typeset_check_layout(PangoLayout *l)
{
	for (GSList *line = pango_layout_get_lines_readonly(l); line; line = line->next)
		ts_font_check_line(line->data);
}
