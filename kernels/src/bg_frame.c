/* bg_frame.c: a scaled reference frame subtracted pixel by pixel before integration, with the
 * Poisson variances of both frames propagated (bl_bg.h). */
#include <errno.h>
#include <math.h>

#include "bl_bg.h"
#include "reduce_internal.h"

static float load(const void *fr, enum bl_reduce_dtype dt, size_t k)
{
	switch (dt) {
	case BL_REDUCE_U16: return (float)((const uint16_t *)fr)[k];
	case BL_REDUCE_U32: return (float)((const uint32_t *)fr)[k];
	case BL_REDUCE_I32: return (float)((const int32_t *)fr)[k];
	default: return ((const float *)fr)[k];
	}
}

int bl_bg_subtract_frame(const struct bl_reduce_plan *p, const void *raw,
			 enum bl_reduce_dtype dtype, const float *ref, double scale, float *signal,
			 float *variance)
{
	if (!p || !raw || !ref || !signal || !variance || !isfinite(scale) ||
	    (dtype != BL_REDUCE_F32 && dtype != BL_REDUCE_U16 && dtype != BL_REDUCE_U32 &&
	     dtype != BL_REDUCE_I32))
		return -EINVAL;
	long n = (long)p->nrows * p->ncols;
	float lo = p->lo, hi = p->hi;
	double s2 = scale * scale;
#pragma omp parallel for schedule(static) num_threads(p->nthreads)
	for (long k = 0; k < n; k++) {
		float x = load(raw, dtype, (size_t)k), r = ref[k];
		if (!(x >= lo && x < hi) || !(r >= lo && r < hi)) {
			signal[k] = variance[k] = NAN;
			continue;
		}
		signal[k] = (float)(x - scale * ((double)r - p->dark[k]));
		variance[k] = (float)(fmax(x, 1.0) + s2 * fmax(r, 1.0));
	}
	return 0;
}
