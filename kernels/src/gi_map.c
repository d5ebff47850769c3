/* gi_map.c: grazing-incidence mapping: each pixel's (q_xy, q_z) from the geometry and incidence
 * angle (plan time), its cell of a regular (q_xy, q_z) grid, the per-frame remap, and line cuts.
 * Written here: no C library maps detector pixels to GI reciprocal space (pyFAI/pygix are
 * Python). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bl_gi.h"
#include "reduce_internal.h"

struct bl_gi_plan {
	int nrows, ncols, nqxy, nqz;
	double qxy_min, qxy_max, qz_min, qz_max, dqxy, dqz;
	bool mask_negative;
	int32_t *cell; /* per pixel: qz bin * nqxy + qxy bin, -1 masked or off the grid */
};

/* (q_xy, q_z) of lab point (P1, P2) metres from the PONI; see bl_gi.h for the frame. */
static void gi_q(const struct reduce_frame *fr, double ai, double p1, double p2, double *qxy,
		 double *qz)
{
	double t[3];
	reduce_frame_lab(fr, p1, p2, t);
	double r = sqrt(t[0] * t[0] + t[1] * t[1] + t[2] * t[2]);
	double fv = t[0] / r, fh = t[1] / r, fb = t[2] / r, k = 2e-9 * M_PI / fr->wavelength_m;
	double fx = fv * sin(ai) + fb * cos(ai), fz = fv * cos(ai) - fb * sin(ai);
	double qx = k * (fx - cos(ai)), qy = k * fh;
	*qxy = copysign(sqrt(qx * qx + qy * qy), qy);
	*qz = k * (fz + sin(ai));
}

static int frame_for(const struct bl_reduce_geometry *g, struct reduce_frame *fr, double *ai)
{
	if (!g || !(fabs(g->incidence_deg) < 90) || reduce_frame_init(fr, g) < 0)
		return -EINVAL;
	*ai = g->incidence_deg * M_PI / 180;
	return 0;
}

int bl_gi_pixel_q(const struct bl_reduce_geometry *g, int row, int col, double *qxy, double *qz)
{
	struct reduce_frame fr;
	double ai;
	if (!qxy || !qz || frame_for(g, &fr, &ai) < 0)
		return -EINVAL;
	gi_q(&fr, ai, reduce_center_p1(&fr, row), reduce_center_p2(&fr, col), qxy, qz);
	return 0;
}

/* [*LO, *HI) = the given pair, or the span of V[0..N) (upper edge nudged to include the max). */
static void span(const double *v, size_t n, double *lo, double *hi)
{
	if (*lo != 0 || *hi != 0) {
		double a = fmin(*lo, *hi), b = fmax(*lo, *hi);
		*lo = a, *hi = b;
		return;
	}
	double a = INFINITY, b = -INFINITY;
	for (size_t k = 0; k < n; k++)
		if (!isnan(v[k]))
			a = fmin(a, v[k]), b = fmax(b, v[k]);
	if (a > b)
		a = 0, b = 1;
	*lo = a;
	*hi = b + fmax(fabs(b), 1.0) * 1e-9;
}

int bl_gi_plan_create(const struct bl_reduce_geometry *g, const struct bl_gi_config *c,
		      struct bl_gi_plan **out)
{
	struct reduce_frame fr;
	double ai;
	if (!c || !out || c->nqxy < 1 || c->nqz < 1 || frame_for(g, &fr, &ai) < 0 ||
	    (long)c->nqxy * c->nqz > INT32_MAX)
		return -EINVAL;
	size_t n = (size_t)g->nrows * (size_t)g->ncols;
	struct bl_gi_plan *p = calloc(1, sizeof(*p));
	double *qxy = malloc(n * sizeof(*qxy)), *qz = malloc(n * sizeof(*qz));
	if (p)
		p->cell = malloc(n * sizeof(*p->cell));
	if (!p || !qxy || !qz || !p->cell) {
		free(qxy), free(qz), bl_gi_plan_free(p);
		return -ENOMEM;
	}
	for (int i = 0; i < g->nrows; i++)
		for (int j = 0; j < g->ncols; j++) {
			size_t k = (size_t)i * g->ncols + j;
			gi_q(&fr, ai, reduce_center_p1(&fr, i), reduce_center_p2(&fr, j), &qxy[k],
			     &qz[k]);
			if (c->mask && c->mask[k])
				qxy[k] = qz[k] = NAN;
		}
	*p = (struct bl_gi_plan){.nrows = g->nrows,
				 .ncols = g->ncols,
				 .nqxy = c->nqxy,
				 .nqz = c->nqz,
				 .qxy_min = c->qxy_min,
				 .qxy_max = c->qxy_max,
				 .qz_min = c->qz_min,
				 .qz_max = c->qz_max,
				 .mask_negative = c->mask_negative,
				 .cell = p->cell};
	span(qxy, n, &p->qxy_min, &p->qxy_max);
	span(qz, n, &p->qz_min, &p->qz_max);
	p->dqxy = (p->qxy_max - p->qxy_min) / p->nqxy;
	p->dqz = (p->qz_max - p->qz_min) / p->nqz;
	for (size_t k = 0; k < n; k++) {
		double a = (qxy[k] - p->qxy_min) / p->dqxy, b = (qz[k] - p->qz_min) / p->dqz;
		p->cell[k] = -1;
		if (a >= 0 && a < p->nqxy && b >= 0 && b < p->nqz) /* false for NaN (masked) */
			p->cell[k] = (int32_t)b * p->nqxy + (int32_t)a;
	}
	free(qxy);
	free(qz);
	*out = p;
	return 0;
}

void bl_gi_plan_free(struct bl_gi_plan *p)
{
	if (p)
		free(p->cell);
	free(p);
}

void bl_gi_plan_range(const struct bl_gi_plan *p, double *qxy_min, double *qxy_max, double *qz_min,
		      double *qz_max)
{
	*qxy_min = p->qxy_min, *qxy_max = p->qxy_max;
	*qz_min = p->qz_min, *qz_max = p->qz_max;
}

int bl_gi_remap(const struct bl_gi_plan *p, const float *frame, struct bl_gi_image *img)
{
	if (!p || !frame || !img || !img->signal || !img->variance || !img->count)
		return -EINVAL;
	size_t nc = (size_t)p->nqxy * p->nqz, n = (size_t)p->nrows * p->ncols;
	memset(img->signal, 0, nc * sizeof(double));
	memset(img->variance, 0, nc * sizeof(double));
	memset(img->count, 0, nc * sizeof(double));
	for (size_t k = 0; k < n; k++) {
		float x = frame[k];
		int32_t c = p->cell[k];
		if (c < 0 || isnan(x) || (p->mask_negative && x < 0))
			continue;
		img->signal[c] += x;
		img->variance[c] += x > 1 ? x : 1.0;
		img->count[c] += 1;
	}
	return 0;
}

/* Sums cells [start + i*step_out + j*step_in] over the selected j into output i. */
static void cut(const struct bl_gi_image *img, int nout, int nin, size_t step_out, size_t step_in,
		double in_min, double in_delta, double lo, double hi, double *mean, double *sem,
		double *count)
{
	for (int i = 0; i < nout; i++) {
		double s = 0, v = 0, c = 0;
		for (int j = 0; j < nin; j++) {
			double centre = in_min + (j + 0.5) * in_delta;
			if (centre < lo || centre > hi)
				continue;
			size_t q = (size_t)i * step_out + (size_t)j * step_in;
			s += img->signal[q], v += img->variance[q], c += img->count[q];
		}
		if (mean)
			mean[i] = c > 0 ? s / c : 0;
		if (sem)
			sem[i] = c > 0 ? sqrt(v) / c : 0;
		if (count)
			count[i] = c;
	}
}

int bl_gi_cut_horizontal(const struct bl_gi_plan *p, const struct bl_gi_image *img, double lo,
			 double hi, double *axis, double *mean, double *sem, double *count)
{
	if (!p || !img || !img->signal || !img->variance || !img->count || !(lo <= hi))
		return -EINVAL;
	for (int i = 0; axis && i < p->nqxy; i++)
		axis[i] = p->qxy_min + (i + 0.5) * p->dqxy;
	cut(img, p->nqxy, p->nqz, 1, (size_t)p->nqxy, p->qz_min, p->dqz, lo, hi, mean, sem, count);
	return 0;
}

int bl_gi_cut_vertical(const struct bl_gi_plan *p, const struct bl_gi_image *img, double lo,
		       double hi, double *axis, double *mean, double *sem, double *count)
{
	if (!p || !img || !img->signal || !img->variance || !img->count || !(lo <= hi))
		return -EINVAL;
	for (int i = 0; axis && i < p->nqz; i++)
		axis[i] = p->qz_min + (i + 0.5) * p->dqz;
	cut(img, p->nqz, p->nqxy, (size_t)p->nqxy, 1, p->qxy_min, p->dqxy, lo, hi, mean, sem,
	    count);
	return 0;
}
