/* test_mb_value.c: engineering value <-> register words for every type, word order, scale and
 * offset. */
#include <errno.h>
#include <math.h>

#include "../../check.h"
#include "mb_value.h"

static struct bl_hwdb_register reg(enum bl_reg_type t, enum bl_word_order o, double scale,
				   double off)
{
	struct bl_hwdb_register r = {
	    .table = BL_REG_HOLDING, .type = t, .word_order = o, .scale = scale, .offset = off};
	return r;
}

int main(void)
{
	uint16_t w[2];
	struct bl_hwdb_register r = reg(BL_REG_INT16, 0, 0.1, 0);
	CHECK_EQ_INT(bl_mb_encode(&r, -12.3, w), 0);
	CHECK_EQ_INT(w[0], 0xff85); /* -123 */
	CHECK_NEAR(bl_mb_decode(&r, w), -12.3, 1e-12);
	CHECK_EQ_INT(bl_mb_encode(&r, 3276.8, w), -ERANGE);
	CHECK_EQ_INT(bl_mb_encode(&r, NAN, w), -ERANGE);

	r = reg(BL_REG_UINT16, 0, 1, 0);
	CHECK_EQ_INT(bl_mb_encode(&r, -1, w), -ERANGE);
	CHECK_EQ_INT(bl_mb_encode(&r, 65535, w), 0);
	CHECK_EQ_INT(w[0], 0xffff);

	r = reg(BL_REG_INT32, BL_WORDS_HIGH_FIRST, 0.001, 0);
	CHECK_EQ_INT(bl_mb_encode(&r, -70.000, w), 0); /* -70000 = 0xfffeee90 */
	CHECK_EQ_INT(w[0], 0xfffe);
	CHECK_EQ_INT(w[1], 0xee90);
	CHECK_NEAR(bl_mb_decode(&r, w), -70.0, 1e-12);
	r.word_order = BL_WORDS_LOW_FIRST;
	CHECK_EQ_INT(bl_mb_encode(&r, -70.000, w), 0);
	CHECK_EQ_INT(w[0], 0xee90);
	CHECK_EQ_INT(w[1], 0xfffe);
	CHECK_NEAR(bl_mb_decode(&r, w), -70.0, 1e-12);

	r = reg(BL_REG_UINT32, BL_WORDS_HIGH_FIRST, 1, 0);
	CHECK_EQ_INT(bl_mb_encode(&r, 4294967295.0, w), 0);
	CHECK_EQ_INT(bl_mb_encode(&r, 4294967296.0, w), -ERANGE);

	r = reg(BL_REG_FLOAT32, BL_WORDS_HIGH_FIRST, 1, 0);
	CHECK_EQ_INT(bl_mb_encode(&r, 1.5, w), 0); /* 0x3fc00000 */
	CHECK_EQ_INT(w[0], 0x3fc0);
	CHECK_EQ_INT(w[1], 0x0000);
	CHECK_NEAR(bl_mb_decode(&r, w), 1.5, 0);
	CHECK_EQ_INT(bl_mb_encode(&r, 1e39, w), -ERANGE);

	r = reg(BL_REG_INT16, 0, 0.5, -40); /* offset: raw 0 is -40 */
	CHECK_EQ_INT(bl_mb_encode(&r, 10, w), 0);
	CHECK_EQ_INT(w[0], 100);
	CHECK_NEAR(bl_mb_decode(&r, w), 10, 1e-12);

	r = reg(BL_REG_BOOL, 0, 1, 0);
	CHECK_EQ_INT(bl_mb_encode(&r, 2, w), 0);
	CHECK_EQ_INT(w[0], 1);
	CHECK_EQ_INT(bl_mb_reg_words(&r), 1);
	r.type = BL_REG_FLOAT32;
	CHECK_EQ_INT(bl_mb_reg_words(&r), 2);
	return CHECK_DONE();
}
