/* reduce_wide.c: the per-frame histogram kernels of reduce_integrate.c for plans of more than
 * 65000 bins (2D caking, e.g. 500 x 360): 32-bit bins per pixel and one copy of the hot fields
 * (neighbours share a bin less often in a cake, and the histograms are large). Kept in a file of
 * their own: compiled beside the 16-bit loops they changed the code generated for those (float32
 * 1D frames ran 15 % slower). The helpers repeat reduce_integrate.c's for the same reason. */
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "reduce_internal.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE float load(const void *fr, enum bl_reduce_dtype dt, long k)
{
	switch (dt) {
	case BL_REDUCE_U16: return (float)((const uint16_t *)fr)[k];
	case BL_REDUCE_U32: return (float)((const uint32_t *)fr)[k];
	case BL_REDUCE_I32: return (float)((const int32_t *)fr)[k];
	default: return ((const float *)fr)[k];
	}
}

typedef double v2d __attribute__((vector_size(16), may_alias));

static ALWAYS_INLINE double poisson(double x)
{
#ifdef __SSE2__
	return _mm_cvtsd_f64(_mm_max_sd(_mm_set_sd(x), _mm_set_sd(1.0)));
#else
	return x > 1.0 ? x : 1.0;
#endif
}

struct view {
	const uint32_t *pixbin;
	const float *coefs, *norm, *dark;
	float lo, hi;
};

static ALWAYS_INLINE void give_back(const struct view *p, double *cold, unsigned b, long k,
				    double c)
{
	double nv = p->norm[k], *g = cold + (size_t)b * COLD_FIELDS;
	g[0] += c * p->dark[k];
	g[1] += c * nv;
	g[2] += c * c * nv * nv;
	g[3] += c;
	g[4] += 1;
}

static ALWAYS_INLINE void run_whole(const struct bl_reduce_plan *p, const void *fr,
				    enum bl_reduce_dtype dt, long k0, long k1, double *hot,
				    double *cold)
{
	const struct view v = {p->pixbin32, p->coefs, p->norm, p->dark, p->lo, p->hi};
	for (long k = k0; k < k1; k++) {
		unsigned b = v.pixbin[k];
		float x = load(fr, dt, k);
		if (__builtin_expect(!(x >= v.lo && x < v.hi), 0)) {
			give_back(&v, cold, b, k, 1.0);
			continue;
		}
		double xd = x;
		*(v2d *)(hot + 2 * (size_t)b) += (v2d){xd, poisson(xd)};
	}
}

static ALWAYS_INLINE void run_split(const struct bl_reduce_plan *p, const void *fr,
				    enum bl_reduce_dtype dt, long k0, long k1, long e0, long e1,
				    double *hot, double *cold)
{
	const struct view v = {p->pixbin32, p->coefs, p->norm, p->dark, p->lo, p->hi};
	for (long k = k0; k < k1; k++) {
		unsigned b = v.pixbin[k];
		float x = load(fr, dt, k);
		const float *c = v.coefs + (size_t)k * NSLOT;
		if (__builtin_expect(!(x >= v.lo && x < v.hi), 0)) {
			for (int s = 0; s < NSLOT; s++)
				if (c[s] != 0 || s == 0)
					give_back(&v, cold, b + (unsigned)s, k, c[s]);
			continue;
		}
		double xd = x;
		v2d xm = {xd, poisson(xd)};
		for (int s = 0; s < NSLOT; s++) {
			double a = c[s];
			*(v2d *)(hot + 2 * ((size_t)b + (size_t)s)) += (v2d){a, a * a} * xm;
		}
	}
	for (long e = e0; e < e1; e++) {
		long kx = p->xpix[e];
		unsigned b = p->xbin32[e];
		float x = load(fr, dt, kx), a = p->xcoef[e];
		if (!(x >= v.lo && x < v.hi)) {
			give_back(&v, cold, b, kx, a);
			continue;
		}
		hot[2 * (size_t)b] += (double)a * x;
		hot[2 * (size_t)b + 1] += (double)a * a * poisson(x);
	}
}

static ALWAYS_INLINE void run(const struct bl_reduce_plan *p, const void *fr,
			      enum bl_reduce_dtype dt, int t, int nt, double *hot, double *cold)
{
	long n = (long)p->nrows * p->ncols;
	long k0 = n * t / nt, k1 = n * (t + 1) / nt;
	if (p->coefs)
		run_split(p, fr, dt, k0, k1, p->nextra * t / nt, p->nextra * (t + 1) / nt, hot,
			  cold);
	else
		run_whole(p, fr, dt, k0, k1, hot, cold);
}

int reduce_histogram_wide(const struct bl_reduce_plan *p, const void *fr, enum bl_reduce_dtype dt)
{
	int used = 1;
#pragma omp parallel num_threads(p->nthreads)
	{
		int t = 0, nt = 1;
#ifdef _OPENMP
		t = omp_get_thread_num();
		nt = omp_get_num_threads();
#endif
		if (t == 0)
			used = nt;
		double *hot = p->hist + (size_t)t * p->hist_stride;
		double *cold = hot + (size_t)(p->nbins + NSLOT) * 2 * (size_t)p->ncopy;
		memset(hot, 0, p->hist_stride * sizeof(double));
		switch (dt) { /* one specialised loop per input type */
		case BL_REDUCE_U16: run(p, fr, BL_REDUCE_U16, t, nt, hot, cold); break;
		case BL_REDUCE_U32: run(p, fr, BL_REDUCE_U32, t, nt, hot, cold); break;
		case BL_REDUCE_I32: run(p, fr, BL_REDUCE_I32, t, nt, hot, cold); break;
		default: run(p, fr, BL_REDUCE_F32, t, nt, hot, cold); break;
		}
	}
	return used;
}
