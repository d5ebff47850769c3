/* test_dstream_consumer.c: the stream v1 consumer on hand-built messages: series bookkeeping
 * (gaps, duplicates, abort, stale, late), every malformed part rejected with its counter, the
 * decode modes, fuzz. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../check.h"
#include "bl_dstream.h"

#define W 16
#define H 9

static struct bl_dstream *ds;
static struct bl_dstream_event ev;

/* One image message under construction: editable JSON parts and data. */
static char p0[512], p1[512], p3[512];
static uint8_t data[W * H * 4 * 2 + 64], pixels[W * H * 4];
static struct bl_dpart parts[4];

static int feed(struct bl_dpart *p, size_t n)
{
	CHECK_EQ_INT(bl_dstream_feed(ds, p, n, &ev), 1);
	return ev.kind;
}

static struct bl_dpart txt(const char *s)
{
	return (struct bl_dpart){s, strlen(s)};
}

static int header(uint64_t series, const char *detail, int nimages, double frame_time)
{
	char h[256], cfg[512];
	bl_dmsg_header(h, sizeof(h), series, detail);
	snprintf(
	    cfg, sizeof(cfg),
	    "{\"nimages\":%d,\"ntrigger\":1,\"frame_time\":%g,\"count_time\":%g,"
	    "\"trigger_mode\":\"ints\",\"x_pixels_in_detector\":%d,\"y_pixels_in_detector\":%d}",
	    nimages, frame_time, frame_time / 2, W, H);
	struct bl_dpart p[2] = {txt(h), txt(cfg)};
	return feed(p, strcmp(detail, "none") ? 2 : 1);
}

static int end(uint64_t series)
{
	char e[128];
	bl_dmsg_end(e, sizeof(e), series);
	struct bl_dpart p = txt(e);
	return feed(&p, 1);
}

/* Builds a valid image message (frame F of SERIES) in parts[]. */
static void build(uint64_t series, uint64_t f, enum bl_denc e, enum bl_dtype t, uint64_t start_ms)
{
	size_t elem = t, n = W * H, len = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t v = (uint32_t)(f * 1000 + i * 3 + (i % 5));
		if (elem == 2)
			((uint16_t *)pixels)[i] = (uint16_t)v;
		else
			((uint32_t *)pixels)[i] = v;
	}
	CHECK_EQ_INT(bl_dcodec_encode(e, pixels, n, elem, data, sizeof(data), &len), 0);
	char hash[33];
	bl_md5_hex(data, len, hash);
	bl_dmsg_image(p0, sizeof(p0), series, f, hash);
	bl_dmsg_image_d(p1, sizeof(p1), W, H, t, e, len);
	bl_dmsg_config(p3, sizeof(p3), start_ms * 1000000, start_ms * 1000000 + 5000000, 5000000);
	parts[0] = txt(p0);
	parts[1] = txt(p1);
	parts[2] = (struct bl_dpart){data, len};
	parts[3] = txt(p3);
}

static int image(uint64_t series, uint64_t f, enum bl_denc e, uint64_t start_ms)
{
	build(series, f, e, e == BL_DENC_BS16_LZ4 ? BL_DTYPE_UINT16 : BL_DTYPE_UINT32, start_ms);
	return feed(parts, 4);
}

static const struct bl_dstream_counters *cnt(void)
{
	return bl_dstream_counters(ds);
}

static void test_good_series(void)
{
	CHECK_EQ_INT(header(1, "basic", 5, 0.01), BL_DS_HEADER);
	CHECK_EQ_INT(ev.series, 1);
	CHECK_EQ_INT(ev.nimages, 5);
	CHECK_EQ_INT(ev.config_width, W);
	CHECK_STR(ev.trigger_mode, "ints");
	enum bl_denc encs[] = {BL_DENC_RAW, BL_DENC_LZ4, BL_DENC_BS32_LZ4, BL_DENC_LZ4,
			       BL_DENC_BS32_LZ4};
	for (int f = 0; f < 5; f++) {
		CHECK_EQ_INT(image(1, (uint64_t)f, encs[f], (uint64_t)f * 10), BL_DS_FRAME);
		CHECK_EQ_INT(ev.frame, f);
		CHECK_EQ_INT(ev.width, W);
		CHECK_EQ_INT(ev.height, H);
		CHECK_EQ_INT(ev.type, BL_DTYPE_UINT32);
		CHECK_EQ_INT(ev.encoding, encs[f]);
		CHECK(ev.hash_checked);
		CHECK(!ev.late);
		CHECK_EQ_INT(ev.missing_before, 0);
		CHECK_EQ_INT(ev.pixel_bytes, W * H * 4);
		CHECK(ev.pixels && !memcmp(ev.pixels, pixels, W * H * 4));
		CHECK_EQ_INT(ev.start_ns, (uint64_t)f * 10000000);
	}
	CHECK_EQ_INT(end(1), BL_DS_END);
	CHECK(ev.complete);
	CHECK_EQ_INT(ev.frames, 5);
	CHECK_EQ_INT(ev.expected, 5);
	CHECK_EQ_INT(cnt()->frames, 5);
	CHECK_EQ_INT(cnt()->rejected, 0);
	CHECK_EQ_INT(cnt()->incomplete, 0);
}

static void test_uint16_and_detail_none(void)
{
	CHECK_EQ_INT(header(2, "none", 0, 0), BL_DS_HEADER);
	CHECK(!ev.has_config);
	CHECK_EQ_INT(image(2, 0, BL_DENC_BS16_LZ4, 0), BL_DS_FRAME);
	CHECK_EQ_INT(ev.type, BL_DTYPE_UINT16);
	CHECK(!memcmp(ev.pixels, pixels, W * H * 2));
	CHECK_EQ_INT(end(2), BL_DS_END);
	CHECK(ev.complete); /* nothing announced, nothing missing */
	/* "none" carries no config part; "all" may carry more than one */
	char h[128];
	bl_dmsg_header(h, sizeof(h), 3, "none");
	struct bl_dpart two[2] = {txt(h), txt("{}")};
	CHECK_EQ_INT(feed(two, 2), BL_DS_REJECT);
	CHECK_EQ_INT(ev.rc, -EPROTO);
	struct bl_dpart three[3] = {txt(h), txt("{}"), txt("{}")};
	bl_dmsg_header(h, sizeof(h), 3, "all");
	CHECK_EQ_INT(feed(three, 3), BL_DS_HEADER);
	CHECK_EQ_INT(end(3), BL_DS_END);
	CHECK_EQ_INT(cnt()->bad_htype, 1);
}

static void test_gaps_duplicates_abort_stale(void)
{
	struct bl_dstream_counters before = *cnt();
	CHECK_EQ_INT(header(10, "basic", 6, 0.01), BL_DS_HEADER);
	CHECK_EQ_INT(image(10, 0, BL_DENC_LZ4, 0), BL_DS_FRAME);
	CHECK_EQ_INT(image(10, 1, BL_DENC_LZ4, 10), BL_DS_FRAME);
	CHECK_EQ_INT(image(10, 1, BL_DENC_LZ4, 10), BL_DS_REJECT); /* duplicate */
	CHECK_EQ_INT(ev.rc, -EALREADY);
	CHECK_EQ_INT(image(10, 4, BL_DENC_LZ4, 40), BL_DS_FRAME); /* 2 and 3 skipped */
	CHECK_EQ_INT(ev.missing_before, 2);
	CHECK(!ev.late);
	CHECK_EQ_INT(end(10), BL_DS_END); /* aborted: frame 5 never came */
	CHECK(!ev.complete);
	CHECK_EQ_INT(ev.frames, 3);
	CHECK_EQ_INT(ev.missing, 3);
	CHECK_EQ_INT(cnt()->duplicates - before.duplicates, 1);
	CHECK_EQ_INT(cnt()->gaps - before.gaps, 1);
	CHECK_EQ_INT(cnt()->missing - before.missing, 3);
	CHECK_EQ_INT(cnt()->incomplete - before.incomplete, 1);
	/* after the abort the old series sends one more image, and its end again */
	CHECK_EQ_INT(image(10, 5, BL_DENC_LZ4, 50), BL_DS_REJECT);
	CHECK_EQ_INT(ev.rc, -ESTALE);
	CHECK_EQ_INT(cnt()->stale - before.stale, 1);
	CHECK_EQ_INT(end(10), BL_DS_REJECT);
	CHECK_EQ_INT(cnt()->unannounced - before.unannounced, 1);
	/* the next series works, and an image of another series while it is open is stale */
	CHECK_EQ_INT(header(11, "basic", 2, 0.01), BL_DS_HEADER);
	CHECK_EQ_INT(image(10, 0, BL_DENC_LZ4, 0), BL_DS_REJECT);
	CHECK_EQ_INT(cnt()->stale - before.stale, 2);
	CHECK_EQ_INT(image(11, 0, BL_DENC_LZ4, 0), BL_DS_FRAME);
	/* a header while a series is open closes it as incomplete */
	CHECK_EQ_INT(header(12, "basic", 1, 0.01), BL_DS_HEADER);
	CHECK_EQ_INT(cnt()->incomplete - before.incomplete, 2);
	CHECK_EQ_INT(image(12, 0, BL_DENC_LZ4, 0), BL_DS_FRAME);
	CHECK_EQ_INT(end(12), BL_DS_END);
	CHECK(ev.complete);
}

static void test_late(void)
{
	struct bl_dstream_counters before = *cnt();
	CHECK_EQ_INT(header(20, "basic", 6, 0.01), BL_DS_HEADER);
	uint64_t starts[] = {0, 10, 20, 80, 90, 100};
	for (int f = 0; f < 6; f++) {
		CHECK_EQ_INT(image(20, (uint64_t)f, BL_DENC_RAW, starts[f]), BL_DS_FRAME);
		CHECK_EQ_INT(ev.late, f == 3);
	}
	CHECK_EQ_INT(end(20), BL_DS_END);
	CHECK(ev.complete);
	CHECK_EQ_INT(cnt()->late - before.late, 1);
	/* across trigger bursts (nimages frames each) the spacing is the user's: not late */
	CHECK_EQ_INT(header(21, "basic", 1, 0.01), BL_DS_HEADER);
	CHECK_EQ_INT(image(21, 0, BL_DENC_RAW, 0), BL_DS_FRAME);
	CHECK_EQ_INT(cnt()->late - before.late, 1);
	CHECK_EQ_INT(end(21), BL_DS_END);
}

/* Each malformed message: rejected with CODE and counter FIELD raised by one; nothing else
 * delivered. The series stays usable. */
#define EXPECT_REJECT(field, code)                                                                 \
	do {                                                                                       \
		uint64_t before_ = cnt()->field, rej_ = cnt()->rejected;                           \
		CHECK_EQ_INT(feed(parts, nparts), BL_DS_REJECT);                                   \
		CHECK_EQ_INT(ev.rc, code);                                                         \
		CHECK_EQ_INT(cnt()->field - before_, 1);                                           \
		CHECK_EQ_INT(cnt()->rejected - rej_, 1);                                           \
		CHECK(ev.error[0]);                                                                \
	} while (0)

static void test_malformed(void)
{
	uint8_t small[8];
	size_t nparts = 4;
	CHECK_EQ_INT(header(30, "basic", 100, 0.01), BL_DS_HEADER);
	uint64_t f = 0;
	CHECK_EQ_INT(image(30, f++, BL_DENC_BS32_LZ4, 0), BL_DS_FRAME);

	build(30, f, BL_DENC_BS32_LZ4, BL_DTYPE_UINT32, 0);
	snprintf(p0, sizeof(p0), "{\"htype\":\"dimage-9.9\",\"series\":30,\"frame\":1}");
	parts[0] = txt(p0);
	EXPECT_REJECT(bad_htype, -EPROTO);

	build(30, f, BL_DENC_BS32_LZ4, BL_DTYPE_UINT32, 0);
	snprintf(p1, sizeof(p1), "{\"htype\":\"dconfig-1.0\"}");
	parts[1] = txt(p1);
	EXPECT_REJECT(bad_htype, -EPROTO);

	build(30, f, BL_DENC_BS32_LZ4, BL_DTYPE_UINT32, 0);
	nparts = 3; /* the dconfig part is missing */
	EXPECT_REJECT(bad_htype, -EPROTO);
	nparts = 4;

	build(30, f, BL_DENC_BS32_LZ4, BL_DTYPE_UINT32, 0);
	parts[0].size -= 3; /* cut JSON */
	EXPECT_REJECT(bad_json, -EBADMSG);

	build(30, f, BL_DENC_BS32_LZ4, BL_DTYPE_UINT32, 0);
	parts[1] = txt("{\"htype\":\"dimage_d-1.0\",\"shape\":[16,");
	EXPECT_REJECT(bad_json, -EBADMSG);

	build(30, f, BL_DENC_BS32_LZ4, BL_DTYPE_UINT32, 0);
	parts[3] = txt("not json");
	EXPECT_REJECT(bad_json, -EBADMSG);

	build(30, f, BL_DENC_BS32_LZ4, BL_DTYPE_UINT32, 0);
	parts[1] = txt("{\"htype\":\"dimage_d-1.0\",\"shape\":[16,9],\"type\":\"uint32\","
		       "\"encoding\":\"bs32-lz4<\"}"); /* no size */
	EXPECT_REJECT(bad_json, -EBADMSG);

	build(30, f, BL_DENC_BS32_LZ4, BL_DTYPE_UINT32, 0);
	parts[3] = txt("{\"htype\":\"dconfig-1.0\",\"start_time\":-5,\"stop_time\":1,"
		       "\"real_time\":1}");
	EXPECT_REJECT(bad_json, -EBADMSG);

	build(30, f, BL_DENC_BS32_LZ4, BL_DTYPE_UINT32, 0);
	parts[2].size -= 10; /* truncated data part */
	EXPECT_REJECT(truncated, -ENODATA);

	build(30, f, BL_DENC_BS32_LZ4, BL_DTYPE_UINT32, 0);
	parts[2].size += 4; /* trailing bytes */
	EXPECT_REJECT(bad_size, -EMSGSIZE);

	build(30, f, BL_DENC_RAW, BL_DTYPE_UINT32, 0);
	bl_dmsg_image_d(p1, sizeof(p1), W, H - 1, BL_DTYPE_UINT32, BL_DENC_RAW, W * H * 4);
	parts[1] = txt(p1); /* raw size does not match the shape */
	EXPECT_REJECT(bad_size, -EMSGSIZE);

	build(30, f, BL_DENC_BS32_LZ4, BL_DTYPE_UINT32, 0);
	data[40] ^= 1; /* the data changed after hashing */
	EXPECT_REJECT(bad_hash, -EILSEQ);

	build(30, f, BL_DENC_BS32_LZ4, BL_DTYPE_UINT32, 0);
	snprintf(p0, sizeof(p0),
		 "{\"htype\":\"dimage-1.0\",\"series\":30,\"frame\":%llu,"
		 "\"hash\":\"0123\"}",
		 (unsigned long long)f);
	parts[0] = txt(p0);
	EXPECT_REJECT(bad_hash, -EILSEQ);

	const char *shapes[] = {
	    "{\"htype\":\"dimage_d-1.0\",\"shape\":[0,9],\"type\":\"uint32\",\"encoding\":\"\","
	    "\"size\":0}",
	    "{\"htype\":\"dimage_d-1.0\",\"shape\":[100000,100000],\"type\":\"uint32\","
	    "\"encoding\":\"\",\"size\":0}",
	    "{\"htype\":\"dimage_d-1.0\",\"shape\":[16,9],\"type\":\"float32\",\"encoding\":\"\","
	    "\"size\":576}",
	    "{\"htype\":\"dimage_d-1.0\",\"shape\":[16,9],\"type\":\"uint32\",\"encoding\":\"zstd<"
	    "\","
	    "\"size\":576}",
	    "{\"htype\":\"dimage_d-1.0\",\"shape\":[16,9],\"type\":\"uint32\",\"encoding\":"
	    "\"bs16-lz4<\",\"size\":576}",
	    "{\"htype\":\"dimage_d-1.0\",\"shape\":[\"16\",9],\"type\":\"uint32\",\"encoding\":"
	    "\"\","
	    "\"size\":576}",
	};
	for (size_t i = 0; i < sizeof(shapes) / sizeof(*shapes); i++) {
		build(30, f, BL_DENC_RAW, BL_DTYPE_UINT32, 0);
		parts[1] = txt(shapes[i]);
		parts[0] =
		    txt("{\"htype\":\"dimage-1.0\",\"series\":30,\"frame\":1}"); /* no hash */
		EXPECT_REJECT(bad_shape, -EINVAL);
	}

	/* a shape the series has not seen (the header announced 16x9) */
	build(30, f, BL_DENC_RAW, BL_DTYPE_UINT32, 0);
	bl_dmsg_image_d(p1, sizeof(p1), H, W, BL_DTYPE_UINT32, BL_DENC_RAW, W * H * 4);
	parts[1] = txt(p1);
	parts[0] = txt("{\"htype\":\"dimage-1.0\",\"series\":30,\"frame\":1,\"hash\":\"\"}");
	EXPECT_REJECT(bad_shape, -EINVAL);

	/* bitshuffle data cut inside, with size and hash matching the cut: found by the decoder */
	build(30, f, BL_DENC_BS32_LZ4, BL_DTYPE_UINT32, 0);
	size_t cut = parts[2].size - 20;
	char hash[33];
	bl_md5_hex(data, cut, hash);
	bl_dmsg_image(p0, sizeof(p0), 30, f, hash);
	bl_dmsg_image_d(p1, sizeof(p1), W, H, BL_DTYPE_UINT32, BL_DENC_BS32_LZ4, cut);
	parts[0] = txt(p0);
	parts[1] = txt(p1);
	parts[2].size = cut;
	EXPECT_REJECT(truncated, -ENODATA);

	/* corrupt LZ4 with size and hash matching: does not decode */
	build(30, f, BL_DENC_LZ4, BL_DTYPE_UINT32, 0);
	memset(data, 0xff, parts[2].size);
	bl_md5_hex(data, parts[2].size, hash);
	bl_dmsg_image(p0, sizeof(p0), 30, f, hash);
	parts[0] = txt(p0);
	EXPECT_REJECT(bad_data, -EBADMSG);

	/* messages that are not images */
	parts[0] = txt("{\"htype\":\"dseries_end-1.0\"}");
	nparts = 1;
	EXPECT_REJECT(bad_json, -EBADMSG);
	parts[0] = txt("{\"htype\":\"dunknown-1.0\"}");
	EXPECT_REJECT(bad_htype, -EPROTO);
	parts[0] = (struct bl_dpart){small, 0};
	EXPECT_REJECT(bad_json, -EBADMSG);
	nparts = 0;
	EXPECT_REJECT(bad_htype, -EPROTO);
	nparts = 9;
	EXPECT_REJECT(bad_htype, -EPROTO);

	/* after all that the series goes on: frame 1 is next */
	CHECK_EQ_INT(image(30, f, BL_DENC_BS32_LZ4, 10), BL_DS_FRAME);
	CHECK_EQ_INT(ev.missing_before, 0);
	CHECK_EQ_INT(end(30), BL_DS_END);
	CHECK_EQ_INT(ev.frames, 2);
}

static void test_caller_buffer(void)
{
	static uint8_t buf[W * H * 4];
	bl_dstream_set_buffer(ds, buf, sizeof(buf) - 1);
	size_t nparts = 4;
	CHECK_EQ_INT(header(40, "none", 0, 0), BL_DS_HEADER);
	build(40, 0, BL_DENC_LZ4, BL_DTYPE_UINT32, 0);
	EXPECT_REJECT(bad_shape, -ENOBUFS);
	bl_dstream_set_buffer(ds, buf, sizeof(buf));
	CHECK_EQ_INT(image(40, 0, BL_DENC_LZ4, 0), BL_DS_FRAME);
	CHECK(ev.pixels == buf);
	CHECK(!memcmp(buf, pixels, sizeof(buf)));
	CHECK_EQ_INT(end(40), BL_DS_END);
	bl_dstream_set_buffer(ds, NULL, 0);
}

/* Frame F of SERIES (bs32-lz4<) without a hash; GARBLE: its LZ4 block overwritten. */
static void build_unhashed(uint64_t series, uint64_t f, bool garble)
{
	build(series, f, BL_DENC_BS32_LZ4, BL_DTYPE_UINT32, f * 10);
	if (garble)
		memset(data + 16, 0xff, parts[2].size - 16); /* after the 12-byte header + size */
	snprintf(p0, sizeof(p0), "{\"htype\":\"dimage-1.0\",\"series\":%llu,\"frame\":%llu}",
		 (unsigned long long)series, (unsigned long long)f);
	parts[0] = txt(p0);
}

/* FULL decodes everything; VERIFY checks bitshuffle by decompressing into scratch; NONE trusts a
 * matching md5 and decodes only frames without a hash. A bad hash is rejected in every mode. */
static void test_decode_modes(void)
{
	size_t nparts = 4;
	for (int m = BL_DS_DECODE_FULL; m <= BL_DS_DECODE_NONE; m++) {
		bool full = m == BL_DS_DECODE_FULL, none = m == BL_DS_DECODE_NONE;
		uint64_t sr = 60 + (uint64_t)m, f = 0;
		bl_dstream_set_decode(ds, (enum bl_ds_decode)m);
		CHECK_EQ_INT(header(sr, "basic", 7, 0.01), BL_DS_HEADER);
		/* hashed bitshuffle: pixels only in FULL */
		CHECK_EQ_INT(image(sr, f++, BL_DENC_BS32_LZ4, 0), BL_DS_FRAME);
		CHECK(ev.hash_checked);
		CHECK(full ? ev.pixels && !memcmp(ev.pixels, pixels, W * H * 4) : !ev.pixels);
		CHECK(ev.encoded == data && ev.encoded_bytes == parts[2].size);
		/* hashed lz4<: always decoded (its check, the pixels come with it) */
		CHECK_EQ_INT(image(sr, f++, BL_DENC_LZ4, 10), BL_DS_FRAME);
		CHECK(ev.pixels && !memcmp(ev.pixels, pixels, W * H * 4));
		/* raw: pixels always; the data part itself unless FULL */
		CHECK_EQ_INT(image(sr, f++, BL_DENC_RAW, 20), BL_DS_FRAME);
		CHECK(ev.pixels && !memcmp(ev.pixels, pixels, W * H * 4));
		CHECK(full ? ev.pixels != (const void *)data : ev.pixels == (const void *)data);
		/* no hash, valid: accepted after its decode, in every mode */
		build_unhashed(sr, f++, false);
		CHECK_EQ_INT(feed(parts, 4), BL_DS_FRAME);
		CHECK(!ev.hash_checked);
		CHECK(full ? ev.pixels && !memcmp(ev.pixels, pixels, W * H * 4) : !ev.pixels);
		/* no hash, garbled: decoded, so rejected in every mode (never stored) */
		build_unhashed(sr, f, true);
		EXPECT_REJECT(bad_data, -EBADMSG);
		/* md5 mismatch: rejected in every mode */
		build(sr, f, BL_DENC_BS32_LZ4, BL_DTYPE_UINT32, 40);
		data[20] ^= 1;
		EXPECT_REJECT(bad_hash, -EILSEQ);
		/* garbled with a matching hash (the detector's own bytes): NONE stores it as sent
		 */
		build_unhashed(sr, f, true);
		char hash[33];
		bl_md5_hex(data, parts[2].size, hash);
		bl_dmsg_image(p0, sizeof(p0), sr, f, hash);
		parts[0] = txt(p0);
		if (none) {
			CHECK_EQ_INT(feed(parts, 4), BL_DS_FRAME);
			CHECK(ev.hash_checked && !ev.pixels);
		} else {
			EXPECT_REJECT(bad_data, -EBADMSG);
		}
		CHECK_EQ_INT(end(sr), BL_DS_END);
	}
	bl_dstream_set_decode(ds, BL_DS_DECODE_FULL);
}

/* Random damage to valid messages and random parts: rejected or decoded, never a crash. */
static void test_fuzz(void)
{
	srand(7);
	CHECK_EQ_INT(header(50, "basic", 100000, 0.01), BL_DS_HEADER);
	for (int i = 0; i < 3000; i++) {
		enum bl_denc e = (enum bl_denc)(rand() % 4);
		build(50, (uint64_t)(i + 1), e,
		      e == BL_DENC_BS16_LZ4 ? BL_DTYPE_UINT16 : BL_DTYPE_UINT32, (uint64_t)i);
		int part = rand() % 4;
		uint8_t *p = part == 2 ? data : (uint8_t *)(part == 0 ? p0 : part == 1 ? p1 : p3);
		size_t n = parts[part].size;
		if (rand() % 2 && n)
			parts[part].size = (size_t)rand() % n;
		for (int k = rand() % 4; k > 0 && n; k--)
			p[rand() % n] = (uint8_t)rand();
		bl_dstream_feed(ds, parts, (size_t)(1 + rand() % 4), &ev);
	}
	CHECK(cnt()->rejected > 1000);
	CHECK_EQ_INT(end(50), BL_DS_END);
}

int main(void)
{
	CHECK_EQ_INT(bl_dstream_new(&ds), 0);
	CHECK_EQ_INT(bl_dstream_poll(ds, 0, &ev), -ENOTCONN);
	test_good_series();
	test_uint16_and_detail_none();
	test_gaps_duplicates_abort_stale();
	test_late();
	test_malformed();
	test_caller_buffer();
	test_decode_modes();
	test_fuzz();
	bl_dstream_set_decode(ds, BL_DS_DECODE_NONE); /* the same damage with the decode skipped */
	test_fuzz();
	bl_dstream_free(ds);
	return CHECK_DONE();
}
