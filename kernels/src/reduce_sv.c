/* reduce_sv.c: integration of a frame given as per-pixel signal and variance (a background-
 * subtracted frame, bl_bg.h) through a plan's tables: the general, unspecialised loop beside
 * reduce_integrate.c's Poisson fast path; a NaN signal masks the pixel. */
#include <errno.h>
#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "bl_bg.h"
#include "reduce_internal.h"

static unsigned first_bin(const struct bl_reduce_plan *p, long k)
{
	return p->pixbin32 ? p->pixbin32[k] : p->pixbin[k];
}

/* Pixel K's share C of bin B, masked by this frame: the static sums to give back. */
static void give_back(const struct bl_reduce_plan *p, double *cold, unsigned b, long k, double c)
{
	double nv = p->norm[k], *g = cold + (size_t)b * COLD_FIELDS;
	g[0] += c * p->dark[k];
	g[1] += c * nv;
	g[2] += c * c * nv * nv;
	g[3] += c;
	g[4] += 1;
}

static void add(double *hot, double *cold, const struct bl_reduce_plan *p, unsigned b, long k,
		double c, float x, float v)
{
	if (isnan(x)) {
		give_back(p, cold, b, k, c);
		return;
	}
	hot[2 * b] += c * x;
	hot[2 * b + 1] += c * c * v;
}

int bl_reduce_integrate_sv(const struct bl_reduce_plan *p, const float *signal,
			   const float *variance, double normalization,
			   struct bl_reduce_result *out)
{
	if (!p || !signal || !variance || !out || !(normalization > 0) || !isfinite(normalization))
		return -EINVAL;
	int used = 1;
	long n = (long)p->nrows * p->ncols;
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
		for (long k = n * t / nt; k < n * (t + 1) / nt; k++) {
			unsigned b = first_bin(p, k);
			if (!p->coefs) {
				add(hot, cold, p, b, k, 1.0, signal[k], variance[k]);
				continue;
			}
			const float *c = p->coefs + (size_t)k * NSLOT;
			for (int s = 0; s < NSLOT; s++)
				if (c[s] != 0 || s == 0)
					add(hot, cold, p, b + (unsigned)s, k, c[s], signal[k],
					    variance[k]);
		}
		for (long e = p->nextra * t / nt; p->coefs && e < p->nextra * (t + 1) / nt; e++) {
			long k = p->xpix[e];
			unsigned b = p->xbin32 ? p->xbin32[e] : p->xbin[e];
			add(hot, cold, p, b, k, p->xcoef[e], signal[k], variance[k]);
		}
	}
	reduce_merge(p, used, normalization, out);
	return 0;
}
