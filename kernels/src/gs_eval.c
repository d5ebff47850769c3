/* gs_eval.c: GISAXS intensities of a sample at a plan's points on the CPU (OpenMP over points),
 * from the plan's Fresnel tables or, when the sample's layers changed, a per-point Parratt. */
#include <errno.h>
#include <math.h>

#include "gs_internal.h"

/* What every point of one evaluation shares: the model, and the incidence in the particle
 * layer (the plan's, or recomputed for changed layers). */
struct eval_ctx {
	struct gs_model m;
	struct gs_layers l;
	int same; /* the plan's Fresnel tables apply */
	gs_c kzi, ri, ti;
};

static int ctx_init(struct eval_ctx *c, const struct bl_gs_plan *p, const struct bl_gs_sample *s)
{
	if (gs_model_init(&c->m, s, p->wavelength) < 0)
		return -EINVAL;
	gs_layers_of(s, &c->l);
	c->same = gs_layers_equal(&c->l, &p->layers);
	if (c->same)
		c->kzi = p->kzi, c->ri = p->ri, c->ti = p->ti;
	else
		gs_fresnel(&c->l, p->k, p->ai, &c->ri, &c->ti, &c->kzi);
	gs_model_incidence(&c->m, c->kzi);
	return 0;
}

/* Points [BEGIN, END) into OUT[0 .. END - BEGIN). */
static void eval_points(const struct bl_gs_plan *p, const struct eval_ctx *c, size_t begin,
			size_t end, double *out)
{
	if (c->same) {
		for (size_t k = begin; k < end; k++)
			out[k - begin] = gs_point_intensity(&c->m, &p->pt[k], c->kzi, c->ri, c->ti);
		return;
	}
	for (size_t k = begin; k < end; k++) {
		struct gs_point pt = p->pt[k];
		if (pt.norm != 0)
			gs_fresnel(&c->l, p->k, p->alpha_f[k], &pt.rf, &pt.tf, &pt.kzf);
		out[k - begin] = gs_point_intensity(&c->m, &pt, c->kzi, c->ri, c->ti);
	}
}

int bl_gs_eval_range(const struct bl_gs_plan *p, const struct bl_gs_sample *s, size_t begin,
		     size_t end, double *out)
{
	struct eval_ctx c;
	if (!p || !s || (!out && end > begin) || begin > end || end > p->n ||
	    ctx_init(&c, p, s) < 0)
		return -EINVAL;
	eval_points(p, &c, begin, end, out);
	return 0;
}

int bl_gs_eval(const struct bl_gs_plan *p, const struct bl_gs_sample *s, double *out)
{
	struct eval_ctx c;
	if (!p || !s || (!out && p->n) || ctx_init(&c, p, s) < 0)
		return -EINVAL;
	enum { CHUNK = 1024 };
	long nchunk = (long)((p->n + CHUNK - 1) / CHUNK);
#pragma omp parallel for schedule(dynamic, 16)
	for (long k = 0; k < nchunk; k++) {
		size_t b = (size_t)k * CHUNK, e = b + CHUNK < p->n ? b + CHUNK : p->n;
		eval_points(p, &c, b, e, out + b);
	}
	return 0;
}
