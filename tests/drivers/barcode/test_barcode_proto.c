/* test_barcode_proto.c: check digits, reply classification, line framing on garbage, and HID report
 * decoding from recorded bytes. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../check.h"
#include "barcode_proto.h"
#include "hid_decode.h"

static void test_check_digits(void)
{
	CHECK(bl_bc_check_mod10("4006381333931")); /* a GS1 EAN-13 */
	CHECK(!bl_bc_check_mod10("4006381333932"));
	CHECK(!bl_bc_check_mod10("BL"));
	CHECK(bl_bc_check_mod43("CODE39W"));
	CHECK(!bl_bc_check_mod43("CODE39X"));
	CHECK(!bl_bc_check_mod43("code39W")); /* lower case is outside Code 39 */
	char c[16] = "BL100105";
	CHECK_EQ_INT(bl_bc_append_mod10(c, sizeof(c)), 0);
	CHECK(bl_bc_check_mod10(c));
	char small[9] = "BL100105";
	CHECK_EQ_INT(bl_bc_append_mod10(small, sizeof(small)), -ENOSPC);
	for (int p = 1; p <= 2; p++)
		for (int s = 1; s <= 16; s++) {
			char code[16];
			bl_bc_sim_code(p, s, code);
			CHECK_EQ_INT(strlen(code), 9);
			CHECK(bl_bc_check_mod10(code));
		}
	char a[16], b[16];
	bl_bc_sim_code(1, 5, a);
	bl_bc_sim_code(2, 5, b);
	CHECK(strcmp(a, b) != 0);
}

static void test_classify(void)
{
	struct bl_hwdb_barcode_model m = {.no_read = "ERROR", .max_len = 32};
	struct bl_hwdb_barcode cfg = {.pattern = "^BL[0-9]{7}$", .check_digit = BL_CHECK_MOD10};
	struct bl_bc_rules r;
	CHECK_EQ_INT(bl_bc_rules_init(&r, &m, &cfg), 0);
	char code[BL_BARCODE_MAX], good[16];
	const char *why;
	bl_bc_sim_code(2, 16, good);
	CHECK_EQ_INT(bl_bc_classify(&r, good, strlen(good), code, &why), BL_BC_OK);
	CHECK_STR(code, good);
	CHECK_EQ_INT(bl_bc_classify(&r, "ERROR", 5, code, &why), BL_BC_NOREAD);
	char bad[16];
	strcpy(bad, good);
	bad[3] = bad[3] == '9' ? '0' : (char)(bad[3] + 1);
	CHECK_EQ_INT(bl_bc_classify(&r, bad, strlen(bad), code, &why), BL_BC_MISREAD);
	CHECK_STR(why, "check digit");
	CHECK_EQ_INT(bl_bc_classify(&r, "XY1001055", 9, code, &why), BL_BC_MISREAD);
	CHECK_STR(why, "pattern");
	CHECK_EQ_INT(bl_bc_classify(&r, "", 0, code, &why), BL_BC_MISREAD);
	CHECK_STR(why, "length");
	CHECK_EQ_INT(bl_bc_classify(&r,
				    "BL10\x01"
				    "0105",
				    9, code, &why),
		     BL_BC_MISREAD);
	CHECK_STR(why, "bytes");
	char nul[9] = {'B', 'L', '1', 0, '0', '1', '0', '5', '5'};
	CHECK_EQ_INT(bl_bc_classify(&r, nul, 9, code, &why), BL_BC_MISREAD);
	char longer[40];
	memset(longer, '7', sizeof(longer));
	CHECK_EQ_INT(bl_bc_classify(&r, longer, sizeof(longer), code, &why), BL_BC_MISREAD);
	CHECK_STR(why, "length");
	bl_bc_rules_free(&r);

	struct bl_hwdb_barcode bad_cfg = {.pattern = "^BL[0-9"};
	CHECK_EQ_INT(bl_bc_rules_init(&r, &m, &bad_cfg), -EINVAL);
}

static void test_lines(void)
{
	struct bl_bc_lines l;
	size_t len;
	bl_bc_lines_init(&l, "\r\n", 16);
	const char *in = "BL1\r\nBL22\r\n";
	int got = 0;
	for (const char *p = in; *p; p++) {
		if (bl_bc_lines_feed(&l, *p, &len) == 1) {
			CHECK_STR(l.buf, got ? "BL22" : "BL1");
			got++;
		}
	}
	CHECK_EQ_INT(got, 2);

	/* an overlong line is reported once, dropped, and the next line is clean */
	bl_bc_lines_init(&l, "\r", 8);
	int over = 0, lines = 0;
	const char *in2 = "0123456789ABCDEFGHIJ\rOK12\r";
	for (const char *p = in2; *p; p++) {
		int rc = bl_bc_lines_feed(&l, *p, &len);
		over += rc == -EMSGSIZE;
		if (rc == 1) {
			CHECK_STR(l.buf, "OK12");
			lines++;
		}
	}
	CHECK_EQ_INT(over, 1);
	CHECK_EQ_INT(lines, 1);

	/* random bytes: never a line longer than allowed, never out of bounds (ASan watches) */
	srand(7);
	bl_bc_lines_init(&l, "\r", 32);
	for (int i = 0; i < 200000; i++) {
		char c = (char)(rand() % 7 == 0 ? '\r' : rand() & 0xff);
		if (bl_bc_lines_feed(&l, c, &len) == 1)
			CHECK(len <= 32 && strlen(l.buf) <= len);
	}
}

/* A keyboard-wedge scan of "BL1001055" + Enter, as the scanner sends it: a press report and a
 * release report per character, Shift held for the capitals (HID usage tables, boot protocol). */
static const uint8_t scan_bl1001055[][8] = {
    {0x02, 0, 0x05, 0, 0, 0, 0, 0}, {0x00, 0, 0, 0, 0, 0, 0, 0}, /* B */
    {0x02, 0, 0x0f, 0, 0, 0, 0, 0}, {0x00, 0, 0, 0, 0, 0, 0, 0}, /* L */
    {0x00, 0, 0x1e, 0, 0, 0, 0, 0}, {0x00, 0, 0, 0, 0, 0, 0, 0}, /* 1 */
    {0x00, 0, 0x27, 0, 0, 0, 0, 0}, {0x00, 0, 0, 0, 0, 0, 0, 0}, /* 0 */
    {0x00, 0, 0x27, 0, 0, 0, 0, 0}, {0x00, 0, 0, 0, 0, 0, 0, 0}, /* 0 */
    {0x00, 0, 0x1e, 0, 0, 0, 0, 0}, {0x00, 0, 0, 0, 0, 0, 0, 0}, /* 1 */
    {0x00, 0, 0x27, 0, 0, 0, 0, 0}, {0x00, 0, 0, 0, 0, 0, 0, 0}, /* 0 */
    {0x00, 0, 0x22, 0, 0, 0, 0, 0}, {0x00, 0, 0, 0, 0, 0, 0, 0}, /* 5 */
    {0x00, 0, 0x22, 0, 0, 0, 0, 0}, {0x00, 0, 0, 0, 0, 0, 0, 0}, /* 5 */
    {0x00, 0, 0x28, 0, 0, 0, 0, 0}, {0x00, 0, 0, 0, 0, 0, 0, 0}, /* Enter */
};

static void test_hid(void)
{
	struct bl_hid_decoder d;
	bl_hid_decoder_init(&d);
	int done = 0;
	for (size_t i = 0; i < sizeof(scan_bl1001055) / 8; i++) {
		int rc = bl_hid_decoder_feed(&d, scan_bl1001055[i], 8);
		CHECK(rc >= 0);
		if (rc == 1) {
			CHECK_STR(d.line, "BL1001055");
			done++;
		}
	}
	CHECK_EQ_INT(done, 1);

	/* fast scanners overlap keys (rollover): a held key is not typed twice, a new one is */
	bl_hid_decoder_init(&d);
	const uint8_t r1[8] = {0, 0, 0x1e, 0, 0, 0, 0, 0};	     /* 1 */
	const uint8_t r2[8] = {0, 0, 0x1e, 0x1f, 0, 0, 0, 0};	     /* 1 held, 2 */
	const uint8_t r3[8] = {0x20, 0, 0x1f, 0x04, 0, 0, 0, 0};     /* 2 held, right Shift + a */
	const uint8_t over[8] = {0, 0, 1, 1, 1, 1, 1, 1};	     /* ErrorRollOver */
	const uint8_t enter9[9] = {0x01, 0, 0, 0x28, 0, 0, 0, 0, 0}; /* report ID 1 first */
	CHECK_EQ_INT(bl_hid_decoder_feed(&d, r1, 8), 0);
	CHECK_EQ_INT(bl_hid_decoder_feed(&d, r2, 8), 0);
	CHECK_EQ_INT(bl_hid_decoder_feed(&d, r3, 8), 0);
	CHECK_EQ_INT(bl_hid_decoder_feed(&d, over, 8), 0);
	CHECK_EQ_INT(bl_hid_decoder_feed(&d, enter9, 9), 1);
	CHECK_STR(d.line, "12A");
	CHECK_EQ_INT(bl_hid_decoder_feed(&d, r1, 5), -EBADMSG);

	/* a line longer than the buffer is dropped whole and reported */
	bl_hid_decoder_init(&d);
	const uint8_t a[8] = {0, 0, 0x04, 0, 0, 0, 0, 0}, up[8] = {0};
	for (int i = 0; i < BL_HID_LINE_MAX + 10; i++) {
		bl_hid_decoder_feed(&d, a, 8);
		bl_hid_decoder_feed(&d, up, 8);
	}
	const uint8_t ent[8] = {0, 0, 0x28, 0, 0, 0, 0, 0};
	CHECK_EQ_INT(bl_hid_decoder_feed(&d, ent, 8), -EMSGSIZE);
	bl_hid_decoder_feed(&d, up, 8);
	bl_hid_decoder_feed(&d, a, 8);
	bl_hid_decoder_feed(&d, up, 8);
	CHECK_EQ_INT(bl_hid_decoder_feed(&d, ent, 8), 1);
	CHECK_STR(d.line, "a");

	/* random reports: no crash, no overrun */
	srand(11);
	bl_hid_decoder_init(&d);
	for (int i = 0; i < 100000; i++) {
		uint8_t r[8];
		for (int k = 0; k < 8; k++)
			r[k] = (uint8_t)rand();
		if (bl_hid_decoder_feed(&d, r, 8) == 1)
			CHECK(strlen(d.line) < BL_HID_LINE_MAX);
	}
}

int main(void)
{
	test_check_digits();
	test_classify();
	test_lines();
	test_hid();
	return CHECK_DONE();
}
