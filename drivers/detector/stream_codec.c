/* stream_codec.c: the stream v1 pixel encodings (raw, lz4<, bs16-lz4<, bs32-lz4<) and MD5. */
#include <errno.h>
#include <lz4.h>
#include <md5.h>
#include <string.h>

#include "bl_dstream.h"
#include "bshuf.h"

/* bitshuffle's LZ4 framing (as its HDF5 filter and Dectris write it): 8-byte big-endian
 * uncompressed size, 4-byte big-endian block size in bytes, then for each block of block-size
 * elements (and one last block of the remainder rounded down to 8 elements) a 4-byte big-endian
 * compressed size and the LZ4 block of the bit-transposed elements; the last (n % 8) elements
 * follow as they are. */
#define BS_HEADER 12
#define BS_MULT	  8

static const char *const enc_names[] = {"", "lz4<", "bs16-lz4<", "bs32-lz4<"};

const char *bl_denc_name(enum bl_denc e)
{
	return (unsigned)e < 4 ? enc_names[e] : "?";
}

int bl_denc_parse(const char *s, enum bl_denc *e)
{
	for (unsigned i = 0; i < 4; i++) {
		if (!strcmp(s, enc_names[i])) {
			*e = (enum bl_denc)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *bl_dtype_name(enum bl_dtype t)
{
	return t == BL_DTYPE_UINT16 ? "uint16" : t == BL_DTYPE_UINT32 ? "uint32" : "?";
}

int bl_dtype_parse(const char *s, enum bl_dtype *t)
{
	if (!strcmp(s, "uint16"))
		*t = BL_DTYPE_UINT16;
	else if (!strcmp(s, "uint32"))
		*t = BL_DTYPE_UINT32;
	else
		return -EINVAL;
	return 0;
}

int bl_denc_from_compression(const char *c, enum bl_dtype t, enum bl_denc *e)
{
	if (!strcmp(c, "none") || !*c)
		*e = BL_DENC_RAW;
	else if (!strcmp(c, "lz4"))
		*e = BL_DENC_LZ4;
	else if (!strcmp(c, "bslz4"))
		*e = t == BL_DTYPE_UINT16 ? BL_DENC_BS16_LZ4 : BL_DENC_BS32_LZ4;
	else
		return -EINVAL;
	return 0;
}

static size_t enc_elem(enum bl_denc e)
{
	return e == BL_DENC_BS16_LZ4 ? 2 : e == BL_DENC_BS32_LZ4 ? 4 : 0;
}

size_t bl_dcodec_bound(enum bl_denc e, size_t nelem, size_t elem)
{
	size_t bytes = nelem * elem;
	switch (e) {
	case BL_DENC_RAW: return bytes;
	case BL_DENC_LZ4: return (size_t)LZ4_compressBound((int)bytes);
	default: return BS_HEADER + bshuf_compress_lz4_bound(nelem, elem, 0);
	}
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

int bl_dcodec_encode(enum bl_denc e, const void *pix, size_t nelem, size_t elem, void *out,
		     size_t cap, size_t *len)
{
	size_t bytes = nelem * elem;
	if (e == BL_DENC_RAW) {
		if (cap < bytes)
			return -ENOBUFS;
		memcpy(out, pix, bytes);
		*len = bytes;
		return 0;
	}
	if (e == BL_DENC_LZ4) {
		if (bytes > LZ4_MAX_INPUT_SIZE)
			return -EINVAL;
		int n = LZ4_compress_default(pix, out, (int)bytes,
					     cap > INT32_MAX ? INT32_MAX : (int)cap);
		if (n <= 0)
			return -ENOBUFS;
		*len = (size_t)n;
		return 0;
	}
	if (enc_elem(e) != elem)
		return -EINVAL;
	if (cap < bl_dcodec_bound(e, nelem, elem))
		return -ENOBUFS;
	size_t block = bshuf_default_block_size(elem);
	put_be(out, bytes, 8);
	put_be((uint8_t *)out + 8, block * elem, 4);
	int64_t n = bshuf_compress_lz4(pix, (uint8_t *)out + BS_HEADER, nelem, elem, block);
	if (n < 0)
		return -EIO;
	*len = BS_HEADER + (size_t)n;
	return 0;
}

/* Decodes bitshuffle-LZ4 block by block with LZ4_decompress_safe (bshuf_decompress_lz4 trusts its
 * input), then undoes the bit transpose with the library. PIX NULL: checks only (every block
 * decompressed into SCRATCH, no transpose, nothing written). */
static int bs_decode(const uint8_t *in, size_t len, uint8_t *pix, size_t nelem, size_t elem,
		     uint8_t *scratch, size_t scratch_cap)
{
	if (len < BS_HEADER)
		return -ENODATA;
	uint64_t total = get_be(in, 8);
	uint64_t block_bytes = get_be(in + 8, 4);
	if (total != nelem * elem || !block_bytes || block_bytes % elem ||
	    (block_bytes / elem) % BS_MULT)
		return -EBADMSG;
	if (block_bytes > scratch_cap)
		return -ENOBUFS;
	size_t block = block_bytes / elem, pos = BS_HEADER, done = 0;
	while (done < nelem) {
		size_t left = nelem - done;
		size_t n = left >= block ? block : left - left % BS_MULT;
		if (!n) { /* the last elements are stored as they are */
			if (len - pos < left * elem)
				return -ENODATA;
			if (pix)
				memcpy(pix + done * elem, in + pos, left * elem);
			pos += left * elem;
			break;
		}
		if (len - pos < 4)
			return -ENODATA;
		uint64_t clen = get_be(in + pos, 4);
		pos += 4;
		if (clen > len - pos)
			return -ENODATA;
		int got = LZ4_decompress_safe((const char *)in + pos, (char *)scratch, (int)clen,
					      (int)(n * elem));
		if (got != (int)(n * elem))
			return -EBADMSG;
		if (pix && bshuf_untrans_bit_elem(scratch, pix + done * elem, n, elem) < 0)
			return -EBADMSG;
		pos += clen;
		done += n;
	}
	return pos == len ? 0 : -EBADMSG;
}

int bl_dcodec_decode(enum bl_denc e, const void *in, size_t len, void *pix, size_t nelem,
		     size_t elem, void *scratch, size_t scratch_cap)
{
	size_t bytes = nelem * elem;
	if (!pix && e != BL_DENC_BS16_LZ4 && e != BL_DENC_BS32_LZ4)
		return -EINVAL;
	switch (e) {
	case BL_DENC_RAW:
		if (len < bytes)
			return -ENODATA;
		if (len > bytes)
			return -EBADMSG;
		memcpy(pix, in, bytes);
		return 0;
	case BL_DENC_LZ4: {
		if (bytes > LZ4_MAX_INPUT_SIZE || len > INT32_MAX)
			return -EINVAL;
		int got = LZ4_decompress_safe(in, pix, (int)len, (int)bytes);
		/* A bare LZ4 block does not tell a cut from corruption: the caller compares the
		 * part's length with the declared size first. */
		return got == (int)bytes ? 0 : -EBADMSG;
	}
	case BL_DENC_BS16_LZ4:
	case BL_DENC_BS32_LZ4:
		if (enc_elem(e) != elem)
			return -EINVAL;
		return bs_decode(in, len, pix, nelem, elem, scratch, scratch_cap);
	}
	return -EINVAL;
}

void bl_md5_hex(const void *p, size_t n, char hex[33])
{
	MD5_CTX ctx;
	uint8_t d[MD5_DIGEST_LENGTH];
	MD5Init(&ctx);
	MD5Update(&ctx, p, n);
	MD5Final(d, &ctx);
	for (int i = 0; i < MD5_DIGEST_LENGTH; i++) {
		hex[2 * i] = "0123456789abcdef"[d[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[d[i] & 15];
	}
	hex[32] = 0;
}
