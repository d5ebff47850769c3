/* test_dstream_codec.c: stream v1 pixel encodings round trip at every size and type, agree with
 * the bitshuffle library, reject cut and corrupt input safely; MD5 against RFC 1321 vectors. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../check.h"
#include "bl_dstream.h"
#include "bshuf.h"

static uint8_t scratch[BL_DCODEC_SCRATCH];

static void fill(void *p, size_t n, size_t elem, unsigned seed)
{
	srand(seed);
	for (size_t i = 0; i < n; i++) {
		/* smooth background + noise + rare hot pixels, like a detector frame */
		uint32_t v = (uint32_t)(20 + (i % 97) / 8 + rand() % 5);
		if (rand() % 500 == 0)
			v = elem == 2 ? 65535u : 0xFFFFFu;
		if (elem == 2)
			((uint16_t *)p)[i] = (uint16_t)v;
		else
			((uint32_t *)p)[i] = v;
	}
}

static void test_md5(void)
{
	char hex[33];
	bl_md5_hex("", 0, hex);
	CHECK_STR(hex, "d41d8cd98f00b204e9800998ecf8427e");
	bl_md5_hex("abc", 3, hex);
	CHECK_STR(hex, "900150983cd24fb0d6963f7d28e17f72");
	const char *fox = "The quick brown fox jumps over the lazy dog";
	bl_md5_hex(fox, strlen(fox), hex);
	CHECK_STR(hex, "9e107d9d372bb6826bd81d3542a419d6");
}

static void test_names(void)
{
	enum bl_denc e;
	for (int i = 0; i < 4; i++) {
		CHECK_EQ_INT(bl_denc_parse(bl_denc_name((enum bl_denc)i), &e), 0);
		CHECK_EQ_INT(e, i);
	}
	CHECK_STR(bl_denc_name(BL_DENC_BS32_LZ4), "bs32-lz4<");
	CHECK_EQ_INT(bl_denc_parse("lz4", &e), -EINVAL); /* the stream writes "lz4<" */
	CHECK_EQ_INT(bl_denc_from_compression("bslz4", BL_DTYPE_UINT16, &e), 0);
	CHECK_EQ_INT(e, BL_DENC_BS16_LZ4);
	CHECK_EQ_INT(bl_denc_from_compression("bslz4", BL_DTYPE_UINT32, &e), 0);
	CHECK_EQ_INT(e, BL_DENC_BS32_LZ4);
	CHECK_EQ_INT(bl_denc_from_compression("zstd", BL_DTYPE_UINT32, &e), -EINVAL);
	enum bl_dtype t;
	CHECK_EQ_INT(bl_dtype_parse("uint16", &t), 0);
	CHECK_EQ_INT(t, 2);
	CHECK_EQ_INT(bl_dtype_parse("float32", &t), -EINVAL);
}

/* Encodes N elements with E, decodes, compares; then checks cut and corrupt input. */
static void round_trip(enum bl_denc e, size_t n, size_t elem)
{
	size_t bytes = n * elem, cap = bl_dcodec_bound(e, n, elem), len = 0;
	uint8_t *pix = malloc(bytes + 1), *enc = malloc(cap + 1), *out = malloc(bytes + 1);
	uint8_t *bad = malloc(cap + 1);
	fill(pix, n, elem, (unsigned)(n * 7 + elem));
	int rc = bl_dcodec_encode(e, pix, n, elem, enc, cap, &len);
	CHECK_EQ_INT(rc, 0);
	if (rc)
		goto out;
	CHECK(len <= cap);
	memset(out, 0xAA, bytes);
	rc = bl_dcodec_decode(e, enc, len, out, n, elem, scratch, sizeof(scratch));
	if (rc || memcmp(out, pix, bytes))
		fprintf(stderr, "  %s n=%zu elem=%zu: rc %d\n", bl_denc_name(e), n, elem, rc);
	CHECK_EQ_INT(rc, 0);
	CHECK(!memcmp(out, pix, bytes));
	if (e == BL_DENC_BS16_LZ4 || e == BL_DENC_BS32_LZ4) {
		/* the header bitshuffle's HDF5 filter writes: BE uncompressed bytes, BE block bytes
		 */
		uint64_t total = 0;
		for (int i = 0; i < 8; i++)
			total = total << 8 | enc[i];
		uint32_t block = (uint32_t)enc[8] << 24 | enc[9] << 16 | enc[10] << 8 | enc[11];
		CHECK_EQ_INT(total, bytes);
		CHECK_EQ_INT(block, bshuf_default_block_size(elem) * elem);
		/* the library's own decoder reads the same payload back */
		memset(out, 0, bytes);
		int64_t used = bshuf_decompress_lz4(enc + 12, out, n, elem, block / elem);
		CHECK_EQ_INT(used, (int64_t)len - 12);
		CHECK(!memcmp(out, pix, bytes));
	}
	/* cut anywhere: refused, never read past the end (ASan watches) */
	size_t cuts[] = {0, 1, len / 3, len / 2, len - 1};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(*cuts); i++) {
		if (cuts[i] >= len)
			continue;
		memcpy(bad, enc, cuts[i]);
		rc = bl_dcodec_decode(e, bad, cuts[i], out, n, elem, scratch, sizeof(scratch));
		CHECK(rc < 0);
		if (e != BL_DENC_LZ4)
			CHECK(rc == -ENODATA || rc == -EBADMSG);
	}
	/* one byte too many */
	memcpy(bad, enc, len);
	bad[len] = 0;
	CHECK(bl_dcodec_decode(e, bad, len + 1, out, n, elem, scratch, sizeof(scratch)) < 0);
	/* flipped bytes: an error or wrong pixels (md5 catches those), but no crash */
	for (size_t k = 0; k < 20 && len; k++) {
		memcpy(bad, enc, len);
		bad[(k * 7919) % len] ^= (uint8_t)(0x5a + k);
		bl_dcodec_decode(e, bad, len, out, n, elem, scratch, sizeof(scratch));
	}
out:
	free(pix);
	free(enc);
	free(out);
	free(bad);
}

static void test_bs_header_checks(void)
{
	size_t n = 5000, len = 0, cap = bl_dcodec_bound(BL_DENC_BS32_LZ4, n, 4);
	uint32_t *pix = calloc(n, 4), *out = calloc(n, 4);
	uint8_t *enc = malloc(cap);
	fill(pix, n, 4, 3);
	CHECK_EQ_INT(bl_dcodec_encode(BL_DENC_BS32_LZ4, pix, n, 4, enc, cap, &len), 0);
	/* wrong element size for the encoding */
	CHECK_EQ_INT(bl_dcodec_encode(BL_DENC_BS16_LZ4, pix, n, 4, enc, cap, &len), -EINVAL);
	CHECK_EQ_INT(bl_dcodec_decode(BL_DENC_BS16_LZ4, enc, len, out, n, 4, scratch, 8192),
		     -EINVAL);
	CHECK_EQ_INT(bl_dcodec_encode(BL_DENC_BS32_LZ4, pix, n, 4, enc, cap, &len), 0);
	/* header says another size than the shape */
	CHECK_EQ_INT(bl_dcodec_decode(BL_DENC_BS32_LZ4, enc, len, out, n - 1, 4, scratch, 8192),
		     -EBADMSG);
	enc[11] ^= 4; /* block size not a multiple of 8 elements */
	CHECK_EQ_INT(bl_dcodec_decode(BL_DENC_BS32_LZ4, enc, len, out, n, 4, scratch, 8192),
		     -EBADMSG);
	enc[11] ^= 4;
	/* a block larger than the scratch */
	CHECK_EQ_INT(bl_dcodec_decode(BL_DENC_BS32_LZ4, enc, len, out, n, 4, scratch, 4096),
		     -ENOBUFS);
	/* a block's compressed size pointing past the end */
	enc[12] = 0x7f;
	CHECK_EQ_INT(bl_dcodec_decode(BL_DENC_BS32_LZ4, enc, len, out, n, 4, scratch, 8192),
		     -ENODATA);
	/* raw: exact size only */
	CHECK_EQ_INT(bl_dcodec_decode(BL_DENC_RAW, pix, n * 4 - 1, out, n, 4, NULL, 0), -ENODATA);
	CHECK_EQ_INT(bl_dcodec_decode(BL_DENC_RAW, pix, n * 4, out, n - 1, 4, NULL, 0), -EBADMSG);
	/* too small an output buffer for encoding */
	CHECK_EQ_INT(bl_dcodec_encode(BL_DENC_BS32_LZ4, pix, n, 4, enc, 100, &len), -ENOBUFS);
	CHECK_EQ_INT(bl_dcodec_encode(BL_DENC_RAW, pix, n, 4, enc, 100, &len), -ENOBUFS);
	free(pix);
	free(out);
	free(enc);
}

int main(void)
{
	test_md5();
	test_names();
	/* odd sizes: below one 8-element group, remainders, exact blocks, block + remainder */
	size_t sizes[] = {1, 7, 8, 9, 100, 2048, 2051, 4096, 4096 + 8 + 5, 981 * 13, 40000};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		for (size_t elem = 2; elem <= 4; elem += 2) {
			round_trip(BL_DENC_RAW, sizes[i], elem);
			round_trip(BL_DENC_LZ4, sizes[i], elem);
			round_trip(elem == 2 ? BL_DENC_BS16_LZ4 : BL_DENC_BS32_LZ4, sizes[i], elem);
		}
	}
	test_bs_header_checks();
	return CHECK_DONE();
}
