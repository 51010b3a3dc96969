/* Smaller embedded fonts: the CID-keyed CFF programs cairo writes into the
 * PDF, with their subroutines inlined and dropped.
 *
 * cairo 1.16 subsets a CFF font's glyphs but keeps every subroutine slot of
 * the original font: the unused ones as one-byte stubs (a Noto CJK font has
 * some 30 000 of them, ~60 KB compressed per font), and all of them in full
 * when its charstring parser gives up on one glyph (a glyph whose moveto
 * sits in a subroutine an earlier glyph already visited does it) — ~500 KB
 * for Noto Serif CJK.  With the calls replaced by the subroutines' bodies
 * the glyphs are the same outlines with the same hints, and the few
 * hundred charstrings of a document compress better than the shared
 * subroutines did.
 *
 * The PDF is rewritten after cairo has written it (the font streams, the
 * CID fonts' width arrays and the cross-reference table); anything not
 * laid out the way cairo 1.16 writes it is left alone, and so are font
 * programs without subroutines (those of the typesetter's own font copies,
 * typeset_font.c, which are flattened the same way beforehand). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "typeset_int.h"

/* ---- reading ---- */

typedef struct S_index {
	size_t count;
	const unsigned char *data; /* the byte before the first object's data (offsets are 1-based) */
	const unsigned char *offsets;
	int offsize;
	size_t end; /* byte offset just past the INDEX in the font */
} S_index;

static size_t S_offset(const unsigned char *p, int size)
{
	size_t v = 0;
	for (int i = 0; i < size; i++)
		v = v << 8 | p[i];
	return v;
}

/* Reads the INDEX at font[at..len).  0, or -1 when it does not fit. */
static int S_read_index(const unsigned char *font, size_t len, size_t at, S_index *ix)
{
	memset(ix, 0, sizeof *ix);
	if (at + 2 > len)
		return -1;
	ix->count = (size_t)font[at] << 8 | font[at + 1];
	if (ix->count == 0) {
		ix->end = at + 2;
		return 0;
	}
	if (at + 3 > len)
		return -1;
	ix->offsize = font[at + 2];
	if (ix->offsize < 1 || ix->offsize > 4)
		return -1;
	ix->offsets = font + at + 3;
	size_t table = (ix->count + 1) * (size_t)ix->offsize;
	if (at + 3 + table > len)
		return -1;
	ix->data = ix->offsets + table - 1;
	size_t prev = 1;
	for (size_t i = 0; i <= ix->count; i++) {
		size_t o = S_offset(ix->offsets + i * ix->offsize, ix->offsize);
		if (o < prev)
			return -1;
		prev = o;
	}
	ix->end = at + 3 + table - 1 + prev;
	return ix->end <= len ? 0 : -1;
}

static const unsigned char *S_item(const S_index *ix, size_t i, size_t *len)
{
	size_t a = S_offset(ix->offsets + i * ix->offsize, ix->offsize);
	size_t b = S_offset(ix->offsets + (i + 1) * ix->offsize, ix->offsize);
	*len = b - a;
	return ix->data + a;
}

/* One DICT entry: an operator (12 x as 1200 + x) and its operands' bytes. */
typedef struct S_entry {
	int op;
	const unsigned char *operands;
	size_t len;
	long num[2]; /* the first two operands when they are integers */
	int nnum;
} S_entry;

typedef struct S_dict {
	S_entry e[48];
	int n;
} S_dict;

static int S_read_dict(const unsigned char *p, size_t len, S_dict *d)
{
	d->n = 0;
	size_t i = 0, start = 0;
	long num[2] = {0, 0};
	int nnum = 0, nops = 0;
	while (i < len) {
		unsigned b = p[i];
		long v = 0;
		int isint = 1;
		if (b <= 21) {
			int op = b;
			if (b == 12) {
				if (i + 1 >= len)
					return -1;
				op = 1200 + p[++i];
			}
			i++;
			if (d->n == (int)JB_ARRAY_LEN(d->e))
				return -1;
			S_entry *e = &d->e[d->n++];
			e->op = op;
			e->operands = p + start;
			e->len = i - start - (op >= 1200 ? 2 : 1);
			e->num[0] = num[0];
			e->num[1] = num[1];
			e->nnum = nnum < nops ? nnum : nops;
			start = i;
			nnum = nops = 0;
			continue;
		}
		if (b == 28) {
			if (i + 3 > len)
				return -1;
			v = (int16_t)(p[i + 1] << 8 | p[i + 2]);
			i += 3;
		} else if (b == 29) {
			if (i + 5 > len)
				return -1;
			v = (int32_t)((uint32_t)p[i + 1] << 24 | (uint32_t)p[i + 2] << 16 | (uint32_t)p[i + 3] << 8 | p[i + 4]);
			i += 5;
		} else if (b == 30) {
			isint = 0;
			i++;
			while (i < len && (p[i] & 0x0f) != 0x0f && (p[i] >> 4) != 0x0f)
				i++;
			if (i >= len)
				return -1;
			i++;
		} else if (b >= 32 && b <= 246) {
			v = (long)b - 139;
			i++;
		} else if (b >= 247 && b <= 250) {
			if (i + 2 > len)
				return -1;
			v = ((long)b - 247) * 256 + p[i + 1] + 108;
			i += 2;
		} else if (b >= 251 && b <= 254) {
			if (i + 2 > len)
				return -1;
			v = -((long)b - 251) * 256 - p[i + 1] - 108;
			i += 2;
		} else {
			return -1;
		}
		if (nops < 2) {
			num[nops] = v;
			if (isint && nnum == nops)
				nnum++;
		}
		nops++;
	}
	return start == len ? 0 : -1;
}

static const S_entry *S_find(const S_dict *d, int op)
{
	for (int i = 0; i < d->n; i++)
		if (d->e[i].op == op)
			return &d->e[i];
	return NULL;
}

/* ---- charstrings ---- */

enum { T2_HSTEM = 1, T2_VSTEM = 3, T2_CALLSUBR = 10, T2_RETURN = 11, T2_ESCAPE = 12, T2_ENDCHAR = 14,
       T2_HSTEMHM = 18, T2_HINTMASK = 19, T2_CNTRMASK = 20, T2_VSTEMHM = 23, T2_SHORTINT = 28,
       T2_CALLGSUBR = 29 };

typedef struct S_flat {
	buf *out;
	const S_index *gsubrs, *lsubrs;
	int gbias, lbias;
	int nstack;        /* operands on the stack */
	int nhints;        /* stem hints declared */
	int maskbytes;     /* bytes after hintmask/cntrmask; 0 before the first */
	long last;         /* the last operand, when it was an integer ... */
	size_t last_at;    /* ... and where it starts in out (SIZE_MAX: not an integer) */
	int depth;
} S_flat;

static int S_bias(size_t count)
{
	return count < 1240 ? 107 : count < 33900 ? 1131 : 32768;
}

/* Copies the charstring p[0..len) to f->out with each subroutine call
 * replaced by the subroutine.  1 at endchar, 0 at return or the end of the
 * data, -1 on anything else than plain outlines and hints (arithmetic,
 * storage, bad numbers). */
static int S_flatten(S_flat *f, const unsigned char *p, size_t len)
{
	if (++f->depth > 10)
		return -1;
	size_t i = 0;
	int rc = 0;
	while (i < len) {
		unsigned b = p[i];
		size_t n = 0;
		long v = 0;
		if (b == T2_SHORTINT) {
			n = 3;
			if (i + n <= len)
				v = (int16_t)(p[i + 1] << 8 | p[i + 2]);
		} else if (b >= 32 && b <= 246) {
			n = 1;
			v = (long)b - 139;
		} else if (b >= 247 && b <= 250) {
			n = 2;
			if (i + n <= len)
				v = ((long)b - 247) * 256 + p[i + 1] + 108;
		} else if (b >= 251 && b <= 254) {
			n = 2;
			if (i + n <= len)
				v = -((long)b - 251) * 256 - p[i + 1] - 108;
		} else if (b == 255) {
			n = 5;
		}
		if (n) { /* an operand */
			if (i + n > len) {
				rc = -1;
				break;
			}
			f->last_at = b == 255 ? SIZE_MAX : f->out->len;
			f->last = v;
			buf_put(f->out, p + i, n);
			f->nstack++;
			i += n;
			continue;
		}
		if (b == T2_CALLSUBR || b == T2_CALLGSUBR) {
			const S_index *subrs = b == T2_CALLSUBR ? f->lsubrs : f->gsubrs;
			int bias = b == T2_CALLSUBR ? f->lbias : f->gbias;
			if (f->last_at == SIZE_MAX || !subrs || f->nstack < 1) {
				rc = -1;
				break;
			}
			long k = f->last + bias;
			if (k < 0 || (size_t)k >= subrs->count) {
				rc = -1;
				break;
			}
			buf_truncate(f->out, f->last_at);
			f->nstack--;
			f->last_at = SIZE_MAX;
			size_t slen;
			const unsigned char *s = S_item(subrs, (size_t)k, &slen);
			rc = S_flatten(f, s, slen);
			if (rc != 0)
				break;
			i++;
			continue;
		}
		f->last_at = SIZE_MAX;
		if (b == T2_RETURN)
			break;
		if (b == T2_ENDCHAR) {
			buf_putc(f->out, (char)b);
			rc = 1;
			break;
		}
		if (b == T2_HSTEM || b == T2_VSTEM || b == T2_HSTEMHM || b == T2_VSTEMHM) {
			f->nhints += f->nstack / 2;
		} else if (b == T2_HINTMASK || b == T2_CNTRMASK) {
			if (!f->maskbytes) {
				f->nhints += f->nstack / 2; /* an implied vstem */
				f->maskbytes = (f->nhints + 7) / 8;
			}
			if (!f->maskbytes || i + 1 + (size_t)f->maskbytes > len) {
				rc = -1;
				break;
			}
			buf_put(f->out, p + i, 1 + (size_t)f->maskbytes);
			f->nstack = 0;
			i += 1 + (size_t)f->maskbytes;
			continue;
		} else if (b == T2_ESCAPE) {
			/* dotsection and the flex operators; the arithmetic and
			 * storage operators are not followed */
			if (i + 1 >= len || !(p[i + 1] == 0 || (p[i + 1] >= 34 && p[i + 1] <= 37))) {
				rc = -1;
				break;
			}
			buf_put(f->out, p + i, 2);
			f->nstack = 0;
			i += 2;
			continue;
		} else if (!(b == 4 || (b >= 5 && b <= 8) || b == 21 || b == 22 || (b >= 24 && b <= 27) || b == 30 ||
		             b == 31)) {
			rc = -1; /* reserved */
			break;
		}
		buf_putc(f->out, (char)b);
		f->nstack = 0;
		i++;
	}
	f->depth--;
	return rc;
}

/* ---- writing ---- */

static void S_put16(buf *b, size_t v)
{
	unsigned char c[2] = {(unsigned char)(v >> 8), (unsigned char)v};
	buf_put(b, c, 2);
}

static void S_put_int5(buf *b, long v)
{
	uint32_t u = (uint32_t)v;
	unsigned char c[5] = {29, (unsigned char)(u >> 24), (unsigned char)(u >> 16), (unsigned char)(u >> 8),
	                      (unsigned char)u};
	buf_put(b, c, 5);
}

static void S_put_op(buf *b, int op)
{
	if (op >= 1200) {
		buf_putc(b, 12);
		buf_putc(b, (char)(op - 1200));
	} else {
		buf_putc(b, (char)op);
	}
}

/* An INDEX of n items whose data lie one after the other in data, item i
 * ending at ends[i]. */
static void S_put_index(buf *b, const buf *data, const size_t *ends, size_t n)
{
	S_put16(b, n);
	if (!n)
		return;
	size_t last = data->len + 1;
	int size = last < 0x100 ? 1 : last < 0x10000 ? 2 : last < 0x1000000 ? 3 : 4;
	buf_putc(b, (char)size);
	for (size_t i = 0; i <= n; i++) {
		size_t o = (i ? ends[i - 1] : 0) + 1;
		for (int k = size - 1; k >= 0; k--)
			buf_putc(b, (char)(o >> (8 * k)));
	}
	buf_put(b, data->ptr, data->len);
}

static size_t S_index_size(size_t n, size_t datalen)
{
	if (!n)
		return 2;
	size_t last = datalen + 1;
	int size = last < 0x100 ? 1 : last < 0x10000 ? 2 : last < 0x1000000 ? 3 : 4;
	return 3 + (n + 1) * (size_t)size + datalen;
}

/* A DICT from d with the operands of the operators in ops[] replaced by
 * vals (two for Private, one otherwise; 5-byte integers so that the size
 * does not depend on them) and the operator drop left out. */
static void S_put_dict(buf *b, const S_dict *d, const int *ops, const long (*vals)[2], int nops, int drop)
{
	for (int i = 0; i < d->n; i++) {
		const S_entry *e = &d->e[i];
		if (e->op == drop)
			continue;
		int k = 0;
		while (k < nops && ops[k] != e->op)
			k++;
		if (k < nops) {
			S_put_int5(b, vals[k][0]);
			if (e->op == 18)
				S_put_int5(b, vals[k][1]);
		} else {
			buf_put(b, e->operands, e->len);
		}
		S_put_op(b, e->op);
	}
}

#define S_MAX_FDS 256

/* The charstring that stands for a glyph ts_cff_flatten_some leaves out:
 * an empty outline ("0 0 rmoveto endchar") that no real glyph has. */
static const unsigned char S_stand_in[] = {139, 139, 21, 14};

int ts_cff_flatten(const unsigned char *font, size_t len, buf *out)
{
	return ts_cff_flatten_some(font, len, NULL, 0, out);
}

int ts_cff_flatten_some(const unsigned char *font, size_t len, const unsigned char *keep, size_t nkeep, buf *out)
{
	if (len < 4 || font[0] != 1 || font[2] < 4 || font[2] > len)
		return -1;
	size_t hdr = font[2];
	S_index names, tops, strings, gsubrs;
	if (S_read_index(font, len, hdr, &names) < 0 || names.count != 1 ||
	    S_read_index(font, len, names.end, &tops) < 0 || tops.count != 1 ||
	    S_read_index(font, len, tops.end, &strings) < 0 || S_read_index(font, len, strings.end, &gsubrs) < 0)
		return -1;
	size_t toplen;
	const unsigned char *topp = S_item(&tops, 0, &toplen);
	S_dict top;
	if (S_read_dict(topp, toplen, &top) < 0)
		return -1;
	const S_entry *ros = S_find(&top, 1230), *cs = S_find(&top, 17), *charset = S_find(&top, 15),
	              *fdarray = S_find(&top, 1236), *fdselect = S_find(&top, 1237), *type = S_find(&top, 1206);
	/* CID-keyed Type 2 charstrings, as cairo writes them */
	if (!ros || !cs || !charset || !fdarray || !fdselect || S_find(&top, 18) || S_find(&top, 16) ||
	    (type && (type->nnum != 1 || type->num[0] != 2)) || cs->nnum != 1 || charset->nnum != 1 ||
	    fdarray->nnum != 1 || fdselect->nnum != 1 || charset->num[0] < 3)
		return -1;
	S_index chars, fds;
	if (cs->num[0] <= 0 || fdarray->num[0] <= 0 || S_read_index(font, len, (size_t)cs->num[0], &chars) < 0 ||
	    S_read_index(font, len, (size_t)fdarray->num[0], &fds) < 0 || chars.count == 0 || fds.count == 0 ||
	    fds.count > S_MAX_FDS)
		return -1;
	size_t nglyphs = chars.count;

	/* charset: copied as it is */
	size_t cs_at = (size_t)charset->num[0], cs_len = 0;
	if (cs_at >= len)
		return -1;
	if (font[cs_at] == 0) {
		cs_len = 1 + 2 * (nglyphs - 1);
	} else if (font[cs_at] == 1 || font[cs_at] == 2) {
		size_t covered = 1, at = cs_at + 1, step = font[cs_at] == 1 ? 3 : 4;
		while (covered < nglyphs) {
			if (at + step > len)
				return -1;
			covered += 1 + (step == 3 ? font[at + 2] : S_offset(font + at + 2, 2));
			at += step;
		}
		cs_len = at - cs_at;
	} else {
		return -1;
	}
	if (cs_at + cs_len > len)
		return -1;

	/* FDSelect: copied, and read for each glyph's local subroutines */
	size_t sel_at = (size_t)fdselect->num[0], sel_len;
	unsigned char *fd_of = xmalloc(nglyphs);
	int rc = -1;
	buf flat = BUF_INIT, body = BUF_INIT, dicts = BUF_INIT, privs = BUF_INIT;
	size_t *ends = xmalloc(nglyphs * sizeof *ends);
	S_dict *fd = xmalloc(fds.count * sizeof *fd), *priv = xmalloc(fds.count * sizeof *priv);
	S_index *lsubrs = xcalloc(fds.count, sizeof *lsubrs);
	if (sel_at >= len)
		goto done;
	if (font[sel_at] == 0) {
		sel_len = 1 + nglyphs;
		if (sel_at + sel_len > len)
			goto done;
		memcpy(fd_of, font + sel_at + 1, nglyphs);
	} else if (font[sel_at] == 3) {
		if (sel_at + 3 > len)
			goto done;
		size_t nranges = S_offset(font + sel_at + 1, 2);
		sel_len = 3 + 3 * nranges + 2;
		if (nranges == 0 || sel_at + sel_len > len)
			goto done;
		const unsigned char *r = font + sel_at + 3;
		if (S_offset(r, 2) != 0 || S_offset(r + 3 * nranges, 2) != nglyphs)
			goto done;
		for (size_t k = 0; k < nranges; k++) {
			size_t first = S_offset(r + 3 * k, 2), next = S_offset(r + 3 * k + 3, 2);
			if (next < first || next > nglyphs)
				goto done;
			memset(fd_of + first, r[3 * k + 2], next - first);
		}
	} else {
		goto done;
	}
	for (size_t g = 0; g < nglyphs; g++)
		if (fd_of[g] >= fds.count)
			goto done;

	/* each font dict and its private dict (without Subrs) */
	for (size_t k = 0; k < fds.count; k++) {
		size_t dlen;
		const unsigned char *dp = S_item(&fds, k, &dlen);
		if (S_read_dict(dp, dlen, &fd[k]) < 0)
			goto done;
		const S_entry *pe = S_find(&fd[k], 18);
		if (!pe || pe->nnum != 2 || pe->num[0] < 0 || pe->num[1] < 0 || (size_t)pe->num[1] > len ||
		    (size_t)pe->num[0] > len - (size_t)pe->num[1])
			goto done;
		const unsigned char *pp = font + pe->num[1];
		if (S_read_dict(pp, (size_t)pe->num[0], &priv[k]) < 0)
			goto done;
		const S_entry *se = S_find(&priv[k], 19);
		if (se) {
			if (se->nnum != 1 || se->num[0] <= 0 ||
			    S_read_index(font, len, (size_t)pe->num[1] + (size_t)se->num[0], &lsubrs[k]) < 0)
				goto done;
		}
	}

	/* the charstrings, flattened */
	for (size_t g = 0; g < nglyphs; g++) {
		if (keep && (g >= nkeep || !keep[g])) {
			buf_put(&flat, S_stand_in, sizeof S_stand_in);
			ends[g] = flat.len;
			continue;
		}
		size_t clen;
		const unsigned char *cp = S_item(&chars, g, &clen);
		const S_index *ls = lsubrs[fd_of[g]].count ? &lsubrs[fd_of[g]] : NULL;
		S_flat f = {.out = &flat, .gsubrs = gsubrs.count ? &gsubrs : NULL, .lsubrs = ls,
		            .gbias = S_bias(gsubrs.count), .lbias = ls ? S_bias(ls->count) : 0, .last_at = SIZE_MAX};
		if (S_flatten(&f, cp, clen) < 0)
			goto done;
		ends[g] = flat.len;
	}

	/* layout: header, Name, Top DICT, String, empty Global Subr INDEX,
	 * charset, FDSelect, CharStrings, FDArray, private dicts */
	int top_ops[] = {15, 1237, 17, 1236};
	long top_vals[4][2] = {{0}};
	buf tmp = BUF_INIT;
	S_put_dict(&tmp, &top, top_ops, (const long(*)[2])top_vals, 4, -1);
	size_t top_len = tmp.len;
	buf_free(&tmp);
	size_t at = hdr + (names.end - hdr) + S_index_size(1, top_len) + (strings.end - tops.end) + 2;
	top_vals[0][0] = (long)at;
	at += cs_len;
	top_vals[1][0] = (long)at;
	at += sel_len;
	top_vals[2][0] = (long)at;
	at += S_index_size(nglyphs, flat.len);
	top_vals[3][0] = (long)at;
	/* the font dicts' sizes do not depend on the offsets in them */
	size_t *fd_ends = xmalloc(fds.count * sizeof *fd_ends);
	size_t *priv_at = xmalloc(fds.count * sizeof *priv_at);
	size_t *priv_len = xmalloc(fds.count * sizeof *priv_len);
	for (size_t k = 0; k < fds.count; k++) {
		size_t before = privs.len;
		S_put_dict(&privs, &priv[k], NULL, NULL, 0, 19);
		priv_at[k] = before;
		priv_len[k] = privs.len - before;
	}
	int fd_ops[] = {18};
	for (size_t k = 0; k < fds.count; k++) {
		long v[1][2] = {{(long)priv_len[k], 0}};
		S_put_dict(&dicts, &fd[k], fd_ops, (const long(*)[2])v, 1, -1);
		fd_ends[k] = dicts.len;
	}
	size_t privs_at = at + S_index_size(fds.count, dicts.len);
	buf_truncate(&dicts, 0);
	for (size_t k = 0; k < fds.count; k++) {
		long v[1][2] = {{(long)priv_len[k], (long)(privs_at + priv_at[k])}};
		S_put_dict(&dicts, &fd[k], fd_ops, (const long(*)[2])v, 1, -1);
		fd_ends[k] = dicts.len;
	}

	buf_put(&body, font, hdr);
	body.ptr[3] = 4; /* offSize of the offsets in the font */
	buf_put(&body, font + hdr, names.end - hdr);
	buf topd = BUF_INIT;
	S_put_dict(&topd, &top, top_ops, (const long(*)[2])top_vals, 4, -1);
	size_t top_end = topd.len;
	S_put_index(&body, &topd, &top_end, 1);
	buf_free(&topd);
	buf_put(&body, font + tops.end, strings.end - tops.end);
	S_put16(&body, 0);
	buf_put(&body, font + cs_at, cs_len);
	buf_put(&body, font + sel_at, sel_len);
	S_put_index(&body, &flat, ends, nglyphs);
	S_put_index(&body, &dicts, fd_ends, fds.count);
	buf_put(&body, privs.ptr, privs.len);
	free(fd_ends);
	free(priv_at);
	free(priv_len);
	if (body.len == privs_at + privs.len) {
		buf_put(out, body.ptr, body.len);
		rc = 0;
	}
done:
	free(fd_of);
	free(ends);
	free(fd);
	free(priv);
	free(lsubrs);
	buf_free(&flat);
	buf_free(&body);
	buf_free(&dicts);
	buf_free(&privs);
	return rc;
}

int ts_cff_has_subrs(const unsigned char *font, size_t len)
{
	if (len < 4 || font[0] != 1 || font[2] < 4 || font[2] > len)
		return -1;
	S_index names, tops, strings, gsubrs;
	if (S_read_index(font, len, font[2], &names) < 0 || S_read_index(font, len, names.end, &tops) < 0 ||
	    tops.count != 1 || S_read_index(font, len, tops.end, &strings) < 0 ||
	    S_read_index(font, len, strings.end, &gsubrs) < 0)
		return -1;
	if (gsubrs.count)
		return 1;
	size_t toplen;
	const unsigned char *topp = S_item(&tops, 0, &toplen);
	S_dict top;
	if (S_read_dict(topp, toplen, &top) < 0)
		return -1;
	/* the private dicts: the font's, or each font dict's */
	const S_entry *fdarray = S_find(&top, 1236);
	S_index fds;
	size_t nfd = 1;
	if (fdarray) {
		if (fdarray->nnum != 1 || fdarray->num[0] <= 0 || S_read_index(font, len, (size_t)fdarray->num[0], &fds) < 0)
			return -1;
		nfd = fds.count;
	}
	for (size_t k = 0; k < nfd; k++) {
		S_dict fd;
		const S_dict *d = &top;
		if (fdarray) {
			size_t dlen;
			const unsigned char *dp = S_item(&fds, k, &dlen);
			if (S_read_dict(dp, dlen, &fd) < 0)
				return -1;
			d = &fd;
		}
		const S_entry *pe = S_find(d, 18);
		if (!pe)
			continue;
		S_dict priv;
		if (pe->nnum != 2 || pe->num[0] < 0 || pe->num[1] < 0 || (size_t)pe->num[1] > len ||
		    (size_t)pe->num[0] > len - (size_t)pe->num[1] ||
		    S_read_dict(font + pe->num[1], (size_t)pe->num[0], &priv) < 0)
			return -1;
		if (S_find(&priv, 19))
			return 1;
	}
	return 0;
}

size_t ts_cff_kept(const unsigned char *font, size_t len, unsigned char *keep, size_t nkeep)
{
	if (len < 4 || font[0] != 1 || font[2] < 4 || font[2] > len)
		return 0;
	S_index names, tops;
	if (S_read_index(font, len, font[2], &names) < 0 || names.count != 1 ||
	    S_read_index(font, len, names.end, &tops) < 0 || tops.count != 1)
		return 0;
	size_t toplen;
	const unsigned char *topp = S_item(&tops, 0, &toplen);
	S_dict top;
	if (S_read_dict(topp, toplen, &top) < 0)
		return 0;
	const S_entry *cs = S_find(&top, 17);
	S_index chars;
	if (!cs || cs->nnum != 1 || cs->num[0] <= 0 || S_read_index(font, len, (size_t)cs->num[0], &chars) < 0)
		return 0;
	size_t n = chars.count < nkeep ? chars.count : nkeep;
	for (size_t g = 0; g < n; g++) {
		size_t clen;
		const unsigned char *cp = S_item(&chars, g, &clen);
		keep[g] = !(clen == sizeof S_stand_in && !memcmp(cp, S_stand_in, clen));
	}
	return n;
}

/* ---- the PDF ---- */

static int S_inflate(const unsigned char *p, size_t len, buf *out)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (inflateInit(&z) != Z_OK)
		return -1;
	z.next_in = (unsigned char *)(uintptr_t)p;
	z.avail_in = (uInt)len;
	int rc;
	do {
		buf_grow(out, 65536);
		z.next_out = (unsigned char *)out->ptr + out->len;
		z.avail_out = (uInt)(out->cap - out->len - 1);
		size_t room = z.avail_out;
		rc = inflate(&z, Z_NO_FLUSH);
		out->len += room - z.avail_out;
	} while (rc == Z_OK);
	inflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

static int S_deflate(const buf *in, buf *out)
{
	uLongf n = compressBound((uLong)in->len);
	buf_grow(out, n + 1);
	if (compress2((unsigned char *)out->ptr + out->len, &n, (const unsigned char *)in->ptr, (uLong)in->len,
	              Z_BEST_COMPRESSION) != Z_OK)
		return -1;
	out->len += n;
	return 0;
}

typedef struct S_obj {
	size_t num, at, end; /* object number, its bytes in the file */
	buf repl;            /* new bytes of the whole object, when replaced */
	int replaced;
} S_obj;

static int S_by_offset(const void *a, const void *b)
{
	const S_obj *x = a, *y = b;
	return x->at < y->at ? -1 : x->at > y->at;
}

static const char *S_memstr(const char *p, size_t len, const char *s)
{
	return memmem(p, len, s, strlen(s));
}

static S_obj *S_obj_find(S_obj *objs, size_t n, size_t num)
{
	for (size_t i = 0; i < n; i++)
		if (objs[i].num == num)
			return &objs[i];
	return NULL;
}

/* Reads "N 0 obj\n   LENGTH\nendobj" */
static long S_length_value(const char *p, size_t len)
{
	const char *s = S_memstr(p, len, " obj");
	if (!s)
		return -1;
	s += 4;
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || !S_memstr(end, len - (size_t)(end - p), "endobj"))
		return -1;
	return v;
}

/* Replaces font stream o (and its length object) when its font program
 * flattens to something smaller.  1 when replaced. */
static int S_shrink_font(const char *pdf, S_obj *objs, size_t nobjs, S_obj *o)
{
	const char *p = pdf + o->at;
	size_t len = o->end - o->at;
	const char *st = S_memstr(p, len, ">>\nstream\n");
	if (!st)
		return 0;
	size_t dictlen = (size_t)(st - p);
	if (!S_memstr(p, dictlen, "/Subtype /CIDFontType0C") || !S_memstr(p, dictlen, "/Filter /FlateDecode"))
		return 0;
	const char *l = S_memstr(p, dictlen, "/Length ");
	if (!l)
		return 0;
	char *e;
	unsigned long lnum = strtoul(l + 8, &e, 10);
	if (e == l + 8 || strncmp(e, " 0 R", 4) != 0)
		return 0;
	S_obj *lo = S_obj_find(objs, nobjs, lnum);
	if (!lo || lo->replaced)
		return 0;
	long dlen = S_length_value(pdf + lo->at, lo->end - lo->at);
	size_t data = dictlen + 10;
	if (dlen < 0 || data + (size_t)dlen > len || !S_memstr(p + data + dlen, len - data - (size_t)dlen, "endstream"))
		return 0;
	buf raw = BUF_INIT, flat = BUF_INIT, z = BUF_INIT;
	int done = 0;
	if (S_inflate((const unsigned char *)p + data, (size_t)dlen, &raw) == 0 &&
	    ts_cff_has_subrs((const unsigned char *)raw.ptr, raw.len) == 1 &&
	    ts_cff_flatten((const unsigned char *)raw.ptr, raw.len, &flat) == 0 && S_deflate(&flat, &z) == 0 &&
	    z.len < (size_t)dlen) {
		buf_put(&o->repl, p, data);
		buf_put(&o->repl, z.ptr, z.len);
		buf_put(&o->repl, p + data + dlen, len - data - (size_t)dlen);
		o->replaced = 1;
		buf_printf(&lo->repl, "%lu 0 obj\n   %zu\nendobj\n", lnum, z.len);
		lo->replaced = 1;
		done = 1;
	}
	buf_free(&raw);
	buf_free(&flat);
	buf_free(&z);
	return done;
}

/* A CID font's widths: cairo lists every glyph's ("/W [0 [ w0 w1 … ]]");
 * 1000, the default width (DW), goes without saying, and the others are
 * written as runs of consecutive glyphs.  1 when replaced. */
static int S_shrink_widths(const char *pdf, S_obj *o)
{
	const char *p = pdf + o->at;
	size_t len = o->end - o->at;
	if (S_memstr(p, len, "stream\n") || !S_memstr(p, len, "/Subtype /CIDFontType") || S_memstr(p, len, "/DW"))
		return 0;
	const char *w = S_memstr(p, len, "/W [0 [");
	if (!w)
		return 0;
	const char *q = w + 7, *end = p + len;
	buf runs = BUF_INIT;
	long glyph = 0, run_start = -1;
	for (;;) {
		while (q < end && *q == ' ')
			q++;
		if (q + 1 < end && q[0] == ']' && q[1] == ']')
			break;
		char *e;
		long v = strtol(q, &e, 10);
		if (e == q || e >= end || (*e != ' ' && *e != ']') || v < 0) {
			buf_free(&runs);
			return 0;
		}
		if (v != 1000) {
			if (run_start < 0 || run_start + 1 != glyph) /* a new run */
				buf_printf(&runs, "%s%ld [", runs.len ? "] " : "", glyph);
			else
				buf_putc(&runs, ' ');
			buf_printf(&runs, "%ld", v);
			run_start = glyph;
		}
		glyph++;
		q = e;
	}
	if (runs.len)
		buf_putc(&runs, ']');
	buf_put(&o->repl, p, (size_t)(w - p));
	buf_printf(&o->repl, "/W [%s]", buf_cstr(&runs));
	buf_put(&o->repl, q + 2, (size_t)(end - q - 2));
	o->replaced = 1;
	buf_free(&runs);
	return 1;
}

int ts_pdf_flatten_fonts(buf *pdf)
{
	const char *p = pdf->ptr;
	size_t len = pdf->len;
	if (!p || len < 64)
		return 0;
	const char *sx = NULL;
	for (size_t i = len - 9; i > len - 64; i--)
		if (!memcmp(p + i, "startxref", 9)) {
			sx = p + i;
			break;
		}
	if (!sx)
		return 0;
	char *e;
	unsigned long xref = strtoul(sx + 9, &e, 10);
	if (e == sx + 9 || xref >= len || strncmp(p + xref, "xref\n0 ", 7) != 0)
		return 0;
	unsigned long count = strtoul(p + xref + 7, &e, 10);
	if (*e != '\n' || count == 0 || count > 1000000)
		return 0;
	const char *ent = e + 1;
	if ((size_t)(ent - p) + count * 20 > len)
		return 0;
	const char *trailer = ent + count * 20;
	if (trailer + 7 > sx || strncmp(trailer, "trailer", 7) != 0)
		return 0;
	/* the objects in file order; an entry cairo never wrote an object for
	 * (it does that) may point at another object, and keeps pointing at it */
	S_obj *objs = xcalloc(count, sizeof *objs);
	size_t n = 0;
	int ok = 1;
	for (unsigned long i = 0; i < count && ok; i++) {
		const char *r = ent + i * 20;
		if (r[17] != 'n')
			continue;
		objs[n].at = strtoul(r, NULL, 10);
		if (objs[n].at >= xref)
			ok = 0;
		n++;
	}
	if (ok && n) {
		qsort(objs, n, sizeof *objs, S_by_offset);
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (!k || objs[i].at != objs[k - 1].at)
				objs[k++] = objs[i];
		n = k;
		for (size_t i = 0; i < n && ok; i++) {
			objs[i].end = i + 1 < n ? objs[i + 1].at : xref;
			const char *h = p + objs[i].at;
			objs[i].num = strtoul(h, &e, 10);
			if (e == h || (size_t)(e - h) + 6 > objs[i].end - objs[i].at || memcmp(e, " 0 obj", 6) != 0)
				ok = 0;
		}
	}
	int changed = 0;
	if (ok)
		for (size_t i = 0; i < n; i++)
			if (!objs[i].replaced)
				changed += S_shrink_font(p, objs, n, &objs[i]) || S_shrink_widths(p, &objs[i]);
	if (changed) {
		buf out = BUF_INIT;
		buf_put(&out, p, objs[0].at);
		size_t *moved = xmalloc(n * sizeof *moved);
		for (size_t i = 0; i < n; i++) {
			moved[i] = out.len;
			if (objs[i].replaced)
				buf_put(&out, objs[i].repl.ptr, objs[i].repl.len);
			else
				buf_put(&out, p + objs[i].at, objs[i].end - objs[i].at);
		}
		/* each entry's object in the new file; one that points at
		 * another object's bytes becomes a free entry (a reference to it
		 * reads as null, as it did) */
		size_t *where = xcalloc(count, sizeof *where);
		unsigned char *used = xcalloc(count, 1);
		for (unsigned long i = 1; i < count; i++) {
			const char *r = ent + i * 20;
			if (r[17] != 'n')
				continue;
			size_t at = strtoul(r, NULL, 10), lo = 0, hi = n;
			while (hi - lo > 1) {
				size_t mid = (lo + hi) / 2;
				if (objs[mid].at <= at)
					lo = mid;
				else
					hi = mid;
			}
			if (objs[lo].num == i) {
				where[i] = moved[lo];
				used[i] = 1;
			}
		}
		size_t newxref = out.len;
		buf_printf(&out, "xref\n0 %lu\n", count);
		for (unsigned long i = 0; i < count; i++) {
			if (used[i]) {
				buf_printf(&out, "%010zu 00000 n \n", where[i]);
				continue;
			}
			unsigned long next = i + 1;
			while (next < count && used[next])
				next++;
			const char *r = ent + i * 20;
			unsigned long gen = r[17] == 'f' ? strtoul(r + 11, NULL, 10) : 1;
			buf_printf(&out, "%010lu %05lu f \n", next < count ? next : 0, gen);
		}
		free(where);
		free(used);
		const char *tend = S_memstr(trailer, (size_t)(sx - trailer) + 9, "startxref");
		buf_put(&out, trailer, (size_t)(tend - trailer));
		buf_printf(&out, "startxref\n%zu\n%%%%EOF\n", newxref);
		free(moved);
		buf_free(pdf);
		*pdf = out;
	}
	for (size_t i = 0; i < n; i++)
		buf_free(&objs[i].repl);
	free(objs);
	return changed;
}
