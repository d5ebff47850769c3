/* mb_value.c: conversions between engineering units and Modbus words, shared by driver and
 * simulator. */
#include "mb_value.h"

#include <errno.h>
#include <math.h>
#include <string.h>

int bl_mb_reg_words(const struct bl_hwdb_register *r)
{
	return r->type == BL_REG_INT32 || r->type == BL_REG_UINT32 || r->type == BL_REG_FLOAT32 ? 2
												: 1;
}

/* The 32-bit value in W according to the register's word order. */
static uint32_t join(const struct bl_hwdb_register *r, const uint16_t w[2])
{
	return r->word_order == BL_WORDS_HIGH_FIRST ? (uint32_t)w[0] << 16 | w[1]
						    : (uint32_t)w[1] << 16 | w[0];
}

static void split(const struct bl_hwdb_register *r, uint32_t v, uint16_t w[2])
{
	uint16_t hi = (uint16_t)(v >> 16), lo = (uint16_t)v;
	w[0] = r->word_order == BL_WORDS_HIGH_FIRST ? hi : lo;
	w[1] = r->word_order == BL_WORDS_HIGH_FIRST ? lo : hi;
}

double bl_mb_decode(const struct bl_hwdb_register *r, const uint16_t w[2])
{
	double raw;
	switch (r->type) {
	case BL_REG_BOOL: raw = w[0] ? 1 : 0; break;
	case BL_REG_INT16: raw = (int16_t)w[0]; break;
	case BL_REG_UINT16: raw = w[0]; break;
	case BL_REG_INT32: raw = (int32_t)join(r, w); break;
	case BL_REG_UINT32: raw = join(r, w); break;
	case BL_REG_FLOAT32: {
		uint32_t u = join(r, w);
		float f;
		memcpy(&f, &u, sizeof(f));
		raw = f;
		break;
	}
	default: raw = 0;
	}
	return r->type == BL_REG_BOOL ? raw : raw * r->scale + r->offset;
}

int bl_mb_encode(const struct bl_hwdb_register *r, double v, uint16_t w[2])
{
	w[0] = w[1] = 0;
	if (!isfinite(v))
		return -ERANGE;
	if (r->type == BL_REG_BOOL) {
		w[0] = v != 0;
		return 0;
	}
	double raw = (v - r->offset) / r->scale;
	if (r->type == BL_REG_FLOAT32) {
		float f = (float)raw;
		if (!isfinite(f))
			return -ERANGE;
		uint32_t u;
		memcpy(&u, &f, sizeof(u));
		split(r, u, w);
		return 0;
	}
	double q = nearbyint(raw);
	switch (r->type) {
	case BL_REG_INT16:
		if (q < INT16_MIN || q > INT16_MAX)
			return -ERANGE;
		w[0] = (uint16_t)(int16_t)q;
		return 0;
	case BL_REG_UINT16:
		if (q < 0 || q > UINT16_MAX)
			return -ERANGE;
		w[0] = (uint16_t)q;
		return 0;
	case BL_REG_INT32:
		if (q < INT32_MIN || q > INT32_MAX)
			return -ERANGE;
		split(r, (uint32_t)(int32_t)q, w);
		return 0;
	case BL_REG_UINT32:
		if (q < 0 || q > UINT32_MAX)
			return -ERANGE;
		split(r, (uint32_t)q, w);
		return 0;
	default: return -ERANGE;
	}
}
