/* bg_clip.c: sigma-clipped background per radial bin, following pyFAI's CsrIntegrator.sigma_clip
 * (0.21, error model "azimuthal") entry for entry over the plan's bin-major CSR table; pyFAI is
 * the only implementation of this rule, so it is written here (see kernels/README.md). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "bg_internal.h"

float bg_load(const void *fr, enum bl_reduce_dtype dt, size_t k)
{
	switch (dt) {
	case BL_REDUCE_U16: return (float)((const uint16_t *)fr)[k];
	case BL_REDUCE_U32: return (float)((const uint32_t *)fr)[k];
	case BL_REDUCE_I32: return (float)((const int32_t *)fr)[k];
	default: return ((const float *)fr)[k];
	}
}

int bl_bg_clip_create(const struct bl_reduce_geometry *g, const struct bl_reduce_config *c,
		      struct bl_bg_clip **out)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!c || c->nbins_chi != 0)
		return -EINVAL;
	struct bl_bg_clip *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	int rc = reduce_plan_build(g, c, true, &s->p);
	if (rc < 0) {
		free(s);
		return rc;
	}
	long nnz = s->p->indptr[s->p->nbins];
	s->drop = calloc(nnz ? (size_t)nnz : 1, 1);
	if (!s->drop) {
		bl_bg_clip_free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

void bl_bg_clip_free(struct bl_bg_clip *s)
{
	if (!s)
		return;
	bl_reduce_plan_free(s->p);
	free(s->drop);
	free(s);
}

int bl_bg_clip_nbins(const struct bl_bg_clip *s)
{
	return s->p->nbins;
}

struct stats {
	double sig, norm, count, var, dropped;
};

/* Entry J of the table: false when the frame masks the pixel or it was clipped; else its
 * fraction C, signal SIG = raw - dark and normalization N. */
static bool entry(const struct bl_bg_clip *s, const void *fr, enum bl_reduce_dtype dt, double nf,
		  int32_t j, double *c, double *sig, double *n)
{
	const struct bl_reduce_plan *p = s->p;
	if (s->drop[j])
		return false;
	int32_t k = p->indices[j];
	float x = bg_load(fr, dt, (size_t)k);
	*c = p->coef ? p->coef[j] : 1.0;
	if (!(x >= p->lo && x < p->hi) || *c == 0)
		return false;
	*sig = (double)x - p->dark[k];
	*n = p->norm[k] * nf;
	return *n != 0;
}

/* Sums over bin B's kept entries; the spread as the weighted sum of squared deviations (two
 * passes; pyFAI's one-pass update gives the same to rounding). */
static struct stats bin_stats(const struct bl_bg_clip *s, const void *fr, enum bl_reduce_dtype dt,
			      double nf, int b)
{
	const struct bl_reduce_plan *p = s->p;
	struct stats st = {0, 0, 0, 0, 0};
	double c, sig, n;
	for (int32_t j = p->indptr[b]; j < p->indptr[b + 1]; j++) {
		if (s->drop[j]) {
			st.dropped += p->coef ? p->coef[j] : 1.0;
			continue;
		}
		if (!entry(s, fr, dt, nf, j, &c, &sig, &n))
			continue;
		st.sig += c * sig;
		st.norm += c * n;
		st.count += c;
	}
	if (st.norm == 0)
		return st;
	double mean = st.sig / st.norm;
	for (int32_t j = p->indptr[b]; j < p->indptr[b + 1]; j++) {
		if (!entry(s, fr, dt, nf, j, &c, &sig, &n))
			continue;
		double d = sig / n - mean;
		st.var += c * n * d * d;
	}
	return st;
}

static void put(double *dst, int b, double x)
{
	if (dst)
		dst[b] = x;
}

int bl_bg_clip_run(struct bl_bg_clip *s, const void *frame, enum bl_reduce_dtype dtype,
		   double normalization, double nsigma, int max_iter, struct bl_bg_clip_result *out)
{
	if (!s || !frame || !out || !(normalization > 0) || !isfinite(normalization) ||
	    !(nsigma >= 0) || max_iter < 0 ||
	    (dtype != BL_REDUCE_F32 && dtype != BL_REDUCE_U16 && dtype != BL_REDUCE_U32 &&
	     dtype != BL_REDUCE_I32))
		return -EINVAL;
	const struct bl_reduce_plan *p = s->p;
#pragma omp parallel for schedule(dynamic, 4) num_threads(p->nthreads)
	for (int b = 0; b < p->nbins; b++) {
		for (int32_t j = p->indptr[b]; j < p->indptr[b + 1]; j++)
			s->drop[j] = 0;
		struct stats st = bin_stats(s, frame, dtype, normalization, b);
		for (int it = 0; it < max_iter; it++) {
			if (st.norm == 0 || st.count == 0)
				break;
			double aver = st.sig / st.norm, std = sqrt(st.var / st.norm);
			double cnt = fmax(3.0, st.count);
			double cut = fmax(nsigma, sqrt(2.0 * log(cnt / sqrt(2.0 * M_PI)))) * std;
			int bad = 0;
			double c, sig, n;
			for (int32_t j = p->indptr[b]; j < p->indptr[b + 1]; j++) {
				if (!entry(s, frame, dtype, normalization, j, &c, &sig, &n))
					continue;
				if (fabs(sig / n - aver) > cut) {
					s->drop[j] = 1;
					bad++;
				}
			}
			if (!bad)
				break;
			st = bin_stats(s, frame, dtype, normalization, b);
		}
		bool ok = st.norm != 0 && st.count > 0;
		put(out->radial, b, (p->pos_min + (b + 0.5) * p->delta) * p->scale);
		put(out->mean, b, ok ? st.sig / st.norm : 0);
		put(out->std, b, ok ? sqrt(st.var / st.norm) : 0);
		put(out->sem, b, ok ? sqrt(st.var) / st.norm : 0);
		put(out->count, b, st.count);
		put(out->dropped, b, st.dropped);
	}
	return 0;
}
