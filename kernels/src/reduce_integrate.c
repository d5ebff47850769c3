/* reduce_integrate.c: per-frame 1D azimuthal integration, pixel-major: each thread streams its
 * share of the frame (float32, uint16, uint32 or int32) with each pixel's first bin (and, for
 * bbox splitting, its fractions in that bin and the next) and adds into its own histogram; the
 * histograms are summed per bin at the end. The frame-independent sums (dark, normalization,
 * count) are precomputed per bin; pixels masked dynamically (negative, saturated, NaN) give their
 * static share back on a rarely taken path, so the hot loop reads only raw counts. */
#include <errno.h>
#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "reduce_internal.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* Raw value of pixel K as float32 (pyFAI converts integer frames the same way). */
static ALWAYS_INLINE float load(const void *fr, enum bl_reduce_dtype dt, long k)
{
	switch (dt) {
	case BL_REDUCE_U16: return (float)((const uint16_t *)fr)[k];
	case BL_REDUCE_U32: return (float)((const uint32_t *)fr)[k];
	case BL_REDUCE_I32: return (float)((const int32_t *)fr)[k];
	default: return ((const float *)fr)[k];
	}
}

/* Two doubles moved as one (GCC/Clang vector extension, SSE2 or NEON): a bin's (raw, var) pair
 * is added with one load, one add and one store. */
typedef double v2d __attribute__((vector_size(16), may_alias));

/* Poisson variance of a valid (never NaN) count: max(x, 1), as one maxsd. Not fmaxf, which for
 * its NaN rules is a call into libm without -ffast-math. */
static ALWAYS_INLINE double poisson(double x)
{
#ifdef __SSE2__
	return _mm_cvtsd_f64(_mm_max_sd(_mm_set_sd(x), _mm_set_sd(1.0)));
#else
	return x > 1.0 ? x : 1.0;
#endif
}

/* What the hot loops read, copied out of the plan so that the compiler keeps it in registers
 * across the histogram stores (which may alias anything). */
struct view {
	const uint16_t *pixbin;
	const float *coefs, *norm, *dark;
	float lo, hi;
};

/* Pixel K's share C of bin B when the frame masks it: the static sums to take back out. */
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

/* No split: HOT holds (sum raw, sum max(raw, 1)) per bin, in NCOPY copies that take pixels in
 * turn: neighbours often share a bin, and one copy would make each add wait on the last. */
static ALWAYS_INLINE void whole_px(const struct view *p, const void *fr, enum bl_reduce_dtype dt,
				   long k, double *hot, double *cold)
{
	unsigned b = p->pixbin[k];
	float x = load(fr, dt, k);
	if (__builtin_expect(!(x >= p->lo && x < p->hi), 0)) {
		give_back(p, cold, b, k, 1.0);
		return;
	}
	double xd = x;
	*(v2d *)(hot + 2 * b) += (v2d){xd, poisson(xd)};
}

static ALWAYS_INLINE void run_whole(const struct bl_reduce_plan *p, const void *fr,
				    enum bl_reduce_dtype dt, long k0, long k1, double *hot,
				    double *cold)
{
	const struct view v = {p->pixbin, p->coefs, p->norm, p->dark, p->lo, p->hi};
	size_t cs = (size_t)(p->nbins + NSLOT) * 2;
	long k = k0;
	for (; k + NCOPY <= k1; k += NCOPY)
		for (int c = 0; c < NCOPY; c++)
			whole_px(&v, fr, dt, k + c, hot + c * cs, cold);
	for (; k < k1; k++)
		whole_px(&v, fr, dt, k, hot, cold);
}

/* bbox: fractions in bins b .. b + NSLOT - 1 (0 past the pixel's last bin), then the entries
 * of the few pixels that span more bins. */
static ALWAYS_INLINE void split_px(const struct view *p, const void *fr, enum bl_reduce_dtype dt,
				   long k, double *hot, double *cold)
{
	unsigned b = p->pixbin[k];
	float x = load(fr, dt, k);
	const float *c = p->coefs + (size_t)k * NSLOT;
	if (__builtin_expect(!(x >= p->lo && x < p->hi), 0)) {
		for (int s = 0; s < NSLOT; s++)
			if (c[s] != 0 || s == 0)
				give_back(p, cold, b + s, k, c[s]);
		return;
	}
	double xd = x;
	v2d xm = {xd, poisson(xd)};
	for (int s = 0; s < NSLOT; s++) {
		double a = c[s];
		*(v2d *)(hot + 2 * (b + s)) += (v2d){a, a * a} * xm;
	}
}

static ALWAYS_INLINE void run_split(const struct bl_reduce_plan *p, const void *fr,
				    enum bl_reduce_dtype dt, long k0, long k1, long e0, long e1,
				    double *hot, double *cold)
{
	const struct view v = {p->pixbin, p->coefs, p->norm, p->dark, p->lo, p->hi};
	size_t cs = (size_t)(p->nbins + NSLOT) * 2;
	long k = k0;
	for (; k + NCOPY <= k1; k += NCOPY)
		for (int c = 0; c < NCOPY; c++)
			split_px(&v, fr, dt, k + c, hot + c * cs, cold);
	for (; k < k1; k++)
		split_px(&v, fr, dt, k, hot, cold);
	float lo = p->lo, hi = p->hi;
	for (long e = e0; e < e1; e++) {
		long kx = p->xpix[e];
		unsigned b = p->xbin[e];
		float x = load(fr, dt, kx), a = p->xcoef[e];
		if (!(x >= lo && x < hi)) {
			give_back(&v, cold, b, kx, a);
			continue;
		}
		hot[2 * b] += (double)a * x;
		hot[2 * b + 1] += (double)a * a * poisson(x);
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

/* Fills the per-thread histograms; returns how many threads ran (OpenMP may give fewer than
 * asked, e.g. when nested), i.e. how many histograms hold this frame. */
static int histogram(const struct bl_reduce_plan *p, const void *fr, enum bl_reduce_dtype dt)
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
		double *cold = hot + (size_t)(p->nbins + NSLOT) * 2 * NCOPY;
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

static void put(double *dst, int b, double x)
{
	if (dst)
		dst[b] = x;
}

/* Bin B's results from its sums over valid pixels: S = sum c raw, V = sum c^2 max(raw, 1), and
 * G the static shares (dark, norm, norm2, count, entries) of the pixels the frame masked. */
void reduce_put_bin(const struct bl_reduce_plan *p, int b, double s, double v,
		    const double g[COLD_FIELDS], double normalization, struct bl_reduce_result *out)
{
	double sig = 0, var = 0, nrm = 0, cnt = 0, mean = 0, sd = 0, sem = 0;
	if ((double)(p->indptr[b + 1] - p->indptr[b]) > g[4]) {
		sig = s - (p->bin_dark[b] - g[0]);
		var = v;
		nrm = (p->bin_norm[b] - g[1]) * normalization;
		double n2 = (p->bin_norm2[b] - g[2]) * normalization * normalization;
		cnt = p->bin_count[b] - g[3];
		if (nrm > 0) {
			mean = sig / nrm;
			sem = sqrt(var) / nrm;
			sd = n2 > 0 ? sqrt(var / n2) : 0;
		}
	}
	put(out->radial, b, (p->pos_min + (b % p->nq + 0.5) * p->delta) * p->scale);
	put(out->chi, b, (p->chi_min + (b / p->nq + 0.5) * p->chi_delta) * (180.0 / M_PI));
	put(out->signal, b, sig);
	put(out->variance, b, var);
	put(out->norm, b, nrm);
	put(out->count, b, cnt);
	put(out->mean, b, mean);
	put(out->sigma, b, sd);
	put(out->sem, b, sem);
}

int bl_reduce_integrate1d_dtype(const struct bl_reduce_plan *p, const void *frame,
				enum bl_reduce_dtype dtype, double normalization,
				struct bl_reduce_result *out)
{
	if (!p || !frame || !out || !(normalization > 0) || !isfinite(normalization) ||
	    (dtype != BL_REDUCE_F32 && dtype != BL_REDUCE_U16 && dtype != BL_REDUCE_U32 &&
	     dtype != BL_REDUCE_I32))
		return -EINVAL;
	/* 32-bit bins (2D caking beyond 65000 bins) run in reduce_wide.c, apart, so that the code
	 * generated for these 16-bit loops stays as it was */
	int used =
	    p->pixbin32 ? reduce_histogram_wide(p, frame, dtype) : histogram(p, frame, dtype);
	reduce_merge(p, used, normalization, out);
	return 0;
}

static ALWAYS_INLINE void merge(const struct bl_reduce_plan *p, int used, int ncopy,
				double normalization, struct bl_reduce_result *out)
{
	int nb = p->nbins;
	/* serial for 1D (a few thousand bins), shared out for 2D's hundreds of thousands */
#pragma omp parallel for schedule(static) num_threads(p->nthreads) if (nb >= 16384)
	for (int b = 0; b < nb; b++) {
		double s = 0, v = 0, g[COLD_FIELDS] = {0};
		for (int t = 0; t < used; t++) {
			const double *hot = p->hist + (size_t)t * p->hist_stride;
			const double *cold = hot + (size_t)(nb + NSLOT) * 2 * (size_t)ncopy +
					     (size_t)b * COLD_FIELDS;
			for (int c = 0; c < ncopy; c++) {
				s += hot[(size_t)(nb + NSLOT) * 2 * c + 2 * b];
				v += hot[(size_t)(nb + NSLOT) * 2 * c + 2 * b + 1];
			}
			for (int f = 0; f < COLD_FIELDS; f++)
				g[f] += cold[f];
		}
		reduce_put_bin(p, b, s, v, g, normalization, out);
	}
}

/* Sums the threads' histograms per bin into OUT. */
void reduce_merge(const struct bl_reduce_plan *p, int used, double normalization,
		  struct bl_reduce_result *out)
{
	if (p->ncopy == NCOPY) /* one loop per copy count, unrolled */
		merge(p, used, NCOPY, normalization, out);
	else
		merge(p, used, 1, normalization, out);
}

int bl_reduce_integrate1d(const struct bl_reduce_plan *p, const float *frame, double normalization,
			  struct bl_reduce_result *out)
{
	return bl_reduce_integrate1d_dtype(p, frame, BL_REDUCE_F32, normalization, out);
}
