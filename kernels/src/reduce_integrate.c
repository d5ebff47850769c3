/* reduce_integrate.c: per-frame 1D azimuthal integration over a plan's CSR table (OpenMP over
 * bins). The frame-independent sums (dark, normalization, count) are precomputed per bin; a
 * frame only adds raw counts, and pixels masked dynamically (negative, saturated, NaN) take
 * their static share back out on a rarely taken path. */
#include <errno.h>
#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "reduce_internal.h"

/* Shares of the static sums that dynamically masked pixels give back, and valid entries seen. */
struct give_back {
	double dark, norm, norm2, count;
	long valid;
};

static inline void drop(const struct bl_reduce_plan *p, int32_t k, double c, struct give_back *g)
{
	double nv = p->norm[k];
	g->dark += c * p->dark[k];
	g->norm += c * nv;
	g->norm2 += c * c * nv * nv;
	g->count += c;
	g->valid--;
}

/* Sum of raw counts and of Poisson variances max(raw, 1) over bin B, without fractions. Four
 * independent partial sums keep the adds from waiting on each other. */
static void bin_whole(const struct bl_reduce_plan *p, const float *fr, int b, double *s, double *v,
		      struct give_back *g)
{
	const int32_t *ix = p->indices;
	int32_t j = p->indptr[b], e = p->indptr[b + 1];
	float lo = p->lo, hi = p->hi;
	double s0 = 0, s1 = 0, s2 = 0, s3 = 0, v0 = 0, v1 = 0, v2 = 0, v3 = 0;
	for (; j + 4 <= e; j += 4) {
		float a = fr[ix[j]], bb = fr[ix[j + 1]], c = fr[ix[j + 2]], d = fr[ix[j + 3]];
		if (__builtin_expect(!(a >= lo && a < hi && bb >= lo && bb < hi && c >= lo &&
				       c < hi && d >= lo && d < hi),
				     0)) {
			for (int q = 0; q < 4; q++) {
				float x = fr[ix[j + q]];
				if (x >= lo && x < hi)
					s0 += x, v0 += fmaxf(x, 1.0f);
				else
					drop(p, ix[j + q], 1.0, g);
			}
			continue;
		}
		s0 += a, s1 += bb, s2 += c, s3 += d;
		v0 += fmaxf(a, 1.0f), v1 += fmaxf(bb, 1.0f), v2 += fmaxf(c, 1.0f),
		    v3 += fmaxf(d, 1.0f);
	}
	for (; j < e; j++) {
		float a = fr[ix[j]];
		if (!(a >= lo && a < hi)) {
			drop(p, ix[j], 1.0, g);
			continue;
		}
		s0 += a;
		v0 += fmaxf(a, 1.0f);
	}
	*s = (s0 + s1) + (s2 + s3);
	*v = (v0 + v1) + (v2 + v3);
}

/* The same with bbox fractions c: sum c raw and sum c^2 max(raw, 1). */
static void bin_split(const struct bl_reduce_plan *p, const float *fr, int b, double *s, double *v,
		      struct give_back *g)
{
	const int32_t *ix = p->indices;
	const float *cf = p->coef;
	int32_t j = p->indptr[b], e = p->indptr[b + 1];
	float lo = p->lo, hi = p->hi;
	double s0 = 0, s1 = 0, v0 = 0, v1 = 0;
	for (; j + 2 <= e; j += 2) {
		float a = fr[ix[j]], bb = fr[ix[j + 1]];
		double ca = cf[j], cb = cf[j + 1];
		if (__builtin_expect(!(a >= lo && a < hi && bb >= lo && bb < hi), 0)) {
			if (a >= lo && a < hi)
				s0 += ca * a, v0 += ca * ca * fmaxf(a, 1.0f);
			else
				drop(p, ix[j], ca, g);
			if (bb >= lo && bb < hi)
				s1 += cb * bb, v1 += cb * cb * fmaxf(bb, 1.0f);
			else
				drop(p, ix[j + 1], cb, g);
			continue;
		}
		s0 += ca * a, s1 += cb * bb;
		v0 += ca * ca * fmaxf(a, 1.0f), v1 += cb * cb * fmaxf(bb, 1.0f);
	}
	for (; j < e; j++) {
		float a = fr[ix[j]];
		double ca = cf[j];
		if (!(a >= lo && a < hi)) {
			drop(p, ix[j], ca, g);
			continue;
		}
		s0 += ca * a, v0 += ca * ca * fmaxf(a, 1.0f);
	}
	*s = s0 + s1;
	*v = v0 + v1;
}

/* No split, pixel-major: each thread streams its share of the frame and adds into its own
 * histogram (raw, var, give-backs); the histograms are then summed per bin. Pixels alternate
 * between two accumulators so that neighbours in one bin do not wait on each other. */
static void hist_whole(const struct bl_reduce_plan *p, const float *fr)
{
	int nb = p->nbins;
	long n = (long)p->nrows * p->ncols;
	float lo = p->lo, hi = p->hi;
#pragma omp parallel num_threads(p->nthreads)
	{
		int t = 0, nt = 1;
#ifdef _OPENMP
		t = omp_get_thread_num();
		nt = omp_get_num_threads();
#endif
		double *h = p->hist + (size_t)t * nb * HIST_FIELDS;
		memset(h, 0, (size_t)nb * HIST_FIELDS * sizeof(double));
		double *raw = h, *var = h + nb, *gb = h + 2 * nb;
		long k0 = n * t / nt, k1 = n * (t + 1) / nt;
		const uint16_t *pb = p->pixbin;
		for (long k = k0; k < k1; k++) {
			unsigned b = pb[k];
			float v = fr[k];
			if (b == UINT16_MAX)
				continue;
			if (__builtin_expect(!(v >= lo && v < hi), 0)) {
				double nv = p->norm[k];
				gb[b] += p->dark[k];
				gb[nb + b] += nv;
				gb[2 * nb + b] += nv * nv;
				gb[3 * nb + b] += 1;
				continue;
			}
			raw[b] += v;
			var[b] += fmaxf(v, 1.0f);
		}
	}
}

static void put(double *dst, int b, double x)
{
	if (dst)
		dst[b] = x;
}

int bl_reduce_integrate1d(const struct bl_reduce_plan *p, const float *frame, double normalization,
			  struct bl_reduce_result *out)
{
	if (!p || !frame || !out || !(normalization > 0) || !isfinite(normalization))
		return -EINVAL;
	int nb = p->nbins;
	if (p->pixbin)
		hist_whole(p, frame);
#pragma omp parallel for schedule(dynamic, 4)
	for (int b = 0; b < nb; b++) {
		struct give_back g = {0, 0, 0, 0, p->indptr[b + 1] - p->indptr[b]};
		double s = 0, v = 0;
		if (p->pixbin) {
			for (int t = 0; t < p->nthreads; t++) {
				const double *h = p->hist + (size_t)t * nb * HIST_FIELDS;
				s += h[b];
				v += h[nb + b];
				g.dark += h[2 * nb + b];
				g.norm += h[3 * nb + b];
				g.norm2 += h[4 * nb + b];
				g.count += h[5 * nb + b];
			}
			g.valid -= (long)g.count;
		} else if (p->coef) {
			bin_split(p, frame, b, &s, &v, &g);
		} else {
			bin_whole(p, frame, b, &s, &v, &g);
		}
		double sig = 0, var = 0, nrm = 0, cnt = 0, mean = 0, sd = 0, sem = 0;
		if (g.valid > 0) {
			sig = s - (p->bin_dark[b] - g.dark);
			var = v;
			nrm = (p->bin_norm[b] - g.norm) * normalization;
			double n2 = (p->bin_norm2[b] - g.norm2) * normalization * normalization;
			cnt = p->bin_count[b] - g.count;
			if (nrm > 0) {
				mean = sig / nrm;
				sem = sqrt(var) / nrm;
				sd = n2 > 0 ? sqrt(var / n2) : 0;
			}
		}
		put(out->radial, b, (p->pos_min + (b + 0.5) * p->delta) * p->scale);
		put(out->signal, b, sig);
		put(out->variance, b, var);
		put(out->norm, b, nrm);
		put(out->count, b, cnt);
		put(out->mean, b, mean);
		put(out->sigma, b, sd);
		put(out->sem, b, sem);
	}
	return 0;
}
