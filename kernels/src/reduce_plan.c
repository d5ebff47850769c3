/* reduce_plan.c: builds a reduction plan once per geometry: per-pixel radial position and
 * corrections, the bin range, and the bin -> pixel lookup table (CSR) with bbox fractions.
 * Azimuthal integration has no C library to lean on (pyFAI is Python/Cython), so the binning is
 * written here, following pyFAI's rules (range, upper bound, fractions) so that results agree
 * pixel for pixel; kernels/README.md lists them. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reduce_internal.h"

struct pix_maps {
	double *pos, *dpos; /* radial centre and half-width (0 without splitting), internal unit */
	uint8_t *valid;
	int32_t
	    *chib; /* 2D caking: chi bin of each pixel centre, -1 outside the range; else NULL */
};

static double radial_of(const struct reduce_frame *fr, enum bl_reduce_unit u, const double t[3])
{
	double tth = reduce_tth(t);
	return u == BL_REDUCE_Q_NM ? reduce_q(fr, tth) : tth;
}

/* Radial position of every pixel corner, rounded to float32 as pyFAI's corner_array stores it. */
static float *corner_grid(const struct reduce_frame *fr, enum bl_reduce_unit u, int nr, int nc)
{
	size_t w = (size_t)nc + 1;
	float *cg = malloc(((size_t)nr + 1) * w * sizeof(*cg));
	if (!cg)
		return NULL;
#pragma omp parallel for schedule(static)
	for (int i = 0; i <= nr; i++) {
		double p1 = i * fr->pixel1 - fr->poni1;
		for (int j = 0; j <= nc; j++) {
			double t[3];
			reduce_frame_lab(fr, p1, j * fr->pixel2 - fr->poni2, t);
			cg[(size_t)i * w + (size_t)j] = (float)radial_of(fr, u, t);
		}
	}
	return cg;
}

/* Fills positions, validity and the per-pixel dark and normalization of plan P. */
static int pixel_maps(struct bl_reduce_plan *p, const struct reduce_frame *fr,
		      const struct bl_reduce_config *c, struct pix_maps *m)
{
	int nr = p->nrows, nc = p->ncols;
	size_t n = (size_t)nr * (size_t)nc;
	float *cg = NULL;
	if (c->split == BL_REDUCE_SPLIT_BBOX) {
		cg = corner_grid(fr, c->unit, nr, nc);
		if (!cg)
			return -ENOMEM;
	}
	size_t w = (size_t)nc + 1;
#pragma omp parallel for schedule(static)
	for (int i = 0; i < nr; i++) {
		double p1 = reduce_center_p1(fr, i);
		for (int j = 0; j < nc; j++) {
			size_t k = (size_t)i * (size_t)nc + (size_t)j;
			double p2 = reduce_center_p2(fr, j), t[3];
			reduce_frame_lab(fr, p1, p2, t);
			double tth = reduce_tth(t);
			double pos = c->unit == BL_REDUCE_Q_NM ? reduce_q(fr, tth) : tth;
			m->pos[k] = pos;
			if (m->chib) {
				double x = (atan2(t[0], t[1]) - p->chi_min) / p->chi_delta;
				m->chib[k] = x >= 0 && x < p->nchi ? (int32_t)x : -1;
			}
			double d = 0;
			if (cg) {
				const float *a = cg + (size_t)i * w + (size_t)j;
				double e[4] = {a[0], a[w], a[w + 1], a[1]};
				for (int q = 0; q < 4; q++)
					d = fmax(d, fabs(e[q] - pos));
			}
			m->dpos[k] = d;
			float nf = 1.0f;
			if (c->solid_angle) {
				double ca =
				    fr->dist / sqrt(fr->dist * fr->dist + (p1 * p1 + p2 * p2));
				nf *= (float)(ca * ca * ca);
			}
			if (c->polarization) {
				double chi = atan2(t[0], t[1]), c2 = cos(tth) * cos(tth);
				nf *= (float)(0.5 * (1.0 + c2 -
						     c->polarization_factor * cos(2.0 * chi) *
							 (1.0 - c2)));
			}
			bool ok = !(c->mask && c->mask[k]);
			if (c->flat) {
				float f = c->flat[k];
				ok = ok && isfinite(f) && f > 0;
				nf *= f;
			}
			ok = ok && isfinite(pos) && isfinite(nf) && nf > 0;
			m->valid[k] = ok;
			p->norm[k] = nf;
			p->dark[k] = c->dark ? c->dark[k] : 0.0f;
		}
	}
	(void)n;
	free(cg);
	return 0;
}

/* Range over the valid pixels (pyFAI's calc_boundaries and calc_upper_bound). */
static void bin_range(struct bl_reduce_plan *p, const struct bl_reduce_config *c,
		      const struct pix_maps *m, size_t n)
{
	double lo = INFINITY, hi = -INFINITY;
	for (size_t k = 0; k < n; k++) {
		if (!m->valid[k])
			continue;
		lo = fmin(lo, m->pos[k] - m->dpos[k]);
		hi = fmax(hi, m->pos[k] + m->dpos[k]);
	}
	if (!(lo <= hi))
		lo = hi = 0;
	lo = fmax(0.0, lo);
	hi = fmax(0.0, hi);
	if (c->range_min != 0 || c->range_max != 0) {
		lo = fmin(c->range_min, c->range_max) / p->scale;
		hi = fmax(c->range_min, c->range_max) / p->scale;
	}
	const double eps32 = 1.0 + FLT_EPSILON;
	p->pos_min = lo;
	p->pos_max = hi > 0 ? hi * eps32 : hi / eps32;
	p->delta = (p->pos_max - p->pos_min) / p->nq;
}

/* Calls EMIT(bin, pixel, fraction) for each bin pixel K touches (pyFAI's calc_lut_1d); in 2D
 * caking the bins of the pixel's chi row. */
#define FOR_EACH_BIN(p, m, k, EMIT)                                                                \
	do {                                                                                       \
		long off_ = m->chib ? (long)m->chib[k] * p->nq : 0;                                \
		if (off_ < 0)                                                                      \
			break;                                                                     \
		double f0 = (m->pos[k] - m->dpos[k] - p->pos_min) / p->delta;                      \
		double f1 = (m->pos[k] + m->dpos[k] - p->pos_min) / p->delta;                      \
		long b0 = (long)f0, b1 = (long)f1;                                                 \
		if (b1 < 0 || b0 >= p->nq)                                                         \
			break;                                                                     \
		if (b1 > p->nq - 1)                                                                \
			b1 = p->nq - 1;                                                            \
		if (b0 < 0)                                                                        \
			b0 = 0;                                                                    \
		if (b0 == b1) {                                                                    \
			EMIT(b0 + off_, k, 1.0f);                                                  \
		} else {                                                                           \
			double inv = 1.0 / (f1 - f0);                                              \
			EMIT(b0 + off_, k, (float)(inv * ((double)(b0 + 1) - f0)));                \
			EMIT(b1 + off_, k, (float)(inv * (f1 - (double)b1)));                      \
			for (long b_ = b0 + 1; b_ < b1; b_++)                                      \
				EMIT(b_ + off_, k, (float)inv);                                    \
		}                                                                                  \
	} while (0)

static int build_csr(struct bl_reduce_plan *p, const struct pix_maps *m, size_t n, bool split)
{
	int nb = p->nbins;
	p->indptr = calloc((size_t)nb + 1, sizeof(*p->indptr));
	if (!p->indptr)
		return -ENOMEM;
	int32_t *fill = calloc((size_t)nb, sizeof(*fill));
	if (!fill)
		return -ENOMEM;
#define COUNT(b, k, c) (void)(c), p->indptr[(b) + 1]++
	for (size_t k = 0; k < n; k++)
		if (m->valid[k])
			FOR_EACH_BIN(p, m, k, COUNT);
	for (int b = 0; b < nb; b++)
		p->indptr[b + 1] += p->indptr[b];
	size_t nnz = (size_t)p->indptr[nb];
	p->indices = malloc((nnz ? nnz : 1) * sizeof(*p->indices));
	if (split)
		p->coef = malloc((nnz ? nnz : 1) * sizeof(*p->coef));
	if (!p->indices || (split && !p->coef)) {
		free(fill);
		return -ENOMEM;
	}
#define STORE(b, k, c)                                                                             \
	do {                                                                                       \
		int32_t at_ = p->indptr[b] + fill[b]++;                                            \
		p->indices[at_] = (int32_t)(k);                                                    \
		if (p->coef)                                                                       \
			p->coef[at_] = (c);                                                        \
	} while (0)
	for (size_t k = 0; k < n; k++)
		if (m->valid[k])
			FOR_EACH_BIN(p, m, k, STORE);
	free(fill);
	return 0;
}

static int bin_sums(struct bl_reduce_plan *p)
{
	int nb = p->nbins;
	p->bin_dark = calloc((size_t)nb * 4, sizeof(double));
	if (!p->bin_dark)
		return -ENOMEM;
	p->bin_norm = p->bin_dark + nb;
	p->bin_norm2 = p->bin_norm + nb;
	p->bin_count = p->bin_norm2 + nb;
#pragma omp parallel for schedule(dynamic, 8)
	for (int b = 0; b < nb; b++) {
		double sd = 0, sn = 0, sn2 = 0, sc = 0;
		for (int32_t j = p->indptr[b]; j < p->indptr[b + 1]; j++) {
			int32_t k = p->indices[j];
			double c = p->coef ? p->coef[j] : 1.0, nv = p->norm[k];
			sd += c * p->dark[k];
			sn += c * nv;
			sn2 += c * c * nv * nv;
			sc += c;
		}
		p->bin_dark[b] = sd;
		p->bin_norm[b] = sn;
		p->bin_norm2[b] = sn2;
		p->bin_count[b] = sc;
	}
	return 0;
}

int bl_reduce_plan_create(const struct bl_reduce_geometry *g, const struct bl_reduce_config *c,
			  struct bl_reduce_plan **out)
{
	*out = NULL;
	struct reduce_frame fr;
	if (!g || !c || reduce_frame_init(&fr, g) < 0 || c->nbins <= 0 || c->nbins_chi < 0 ||
	    (long)c->nbins * (c->nbins_chi ? c->nbins_chi : 1) > BL_REDUCE_MAX_BINS ||
	    (c->nbins_chi && !(c->chi_max_deg >= c->chi_min_deg)) ||
	    (c->unit != BL_REDUCE_Q_NM && c->unit != BL_REDUCE_2TH_DEG) ||
	    (c->split != BL_REDUCE_SPLIT_NONE && c->split != BL_REDUCE_SPLIT_BBOX) ||
	    (c->polarization && !(fabs(c->polarization_factor) <= 1)) || c->saturation < 0)
		return -EINVAL;
	if (c->nbins_chi && c->split != BL_REDUCE_SPLIT_NONE)
		return -ENOTSUP; /* 2D caking with bbox splitting: not yet */
	size_t n = (size_t)g->nrows * (size_t)g->ncols;
	if (n > INT32_MAX)
		return -EINVAL;
	struct bl_reduce_plan *p = calloc(1, sizeof(*p));
	struct pix_maps m = {malloc(n * sizeof(double)), malloc(n * sizeof(double)), malloc(n),
			     NULL};
	int rc = -ENOMEM;
	if (c->nbins_chi)
		m.chib = malloc(n * sizeof(*m.chib));
	if (!p || !m.pos || !m.dpos || !m.valid || (c->nbins_chi && !m.chib))
		goto out;
	p->nrows = g->nrows;
	p->ncols = g->ncols;
	p->nq = c->nbins;
	p->nchi = c->nbins_chi ? c->nbins_chi : 1;
	p->nbins = p->nq * p->nchi;
	bool full = c->chi_min_deg == 0 && c->chi_max_deg == 0;
	p->chi_min = full ? -M_PI : c->chi_min_deg * M_PI / 180.0;
	p->chi_delta = ((full ? M_PI : c->chi_max_deg * M_PI / 180.0) - p->chi_min) / p->nchi;
	p->unit = c->unit;
	p->scale = c->unit == BL_REDUCE_Q_NM ? 1.0 : 180.0 / M_PI;
	p->lo = c->mask_negative ? 0.0f : -INFINITY;
	p->hi = c->saturation > 0 ? (float)c->saturation : INFINITY;
	p->dark = malloc(n * sizeof(*p->dark));
	p->norm = malloc(n * sizeof(*p->norm));
	if (!p->dark || !p->norm)
		goto out;
	if ((rc = pixel_maps(p, &fr, c, &m)) < 0)
		goto out;
	bin_range(p, c, &m, n);
	if (!(p->delta > 0)) {
		rc = -EINVAL;
		goto out;
	}
	if ((rc = build_csr(p, &m, n, c->split == BL_REDUCE_SPLIT_BBOX)) < 0)
		goto out;
	if ((rc = bin_sums(p)) < 0)
		goto out;
	if ((rc = reduce_pixel_major(p, n)) < 0)
		goto out;
	free(p->indices); /* the kernels read the pixel-major table only */
	free(p->coef);
	p->indices = NULL;
	p->coef = NULL;
	*out = p;
	p = NULL;
	rc = 0;
out:
	free(m.pos);
	free(m.dpos);
	free(m.valid);
	free(m.chib);
	bl_reduce_plan_free(p);
	return rc;
}

void bl_reduce_plan_free(struct bl_reduce_plan *p)
{
	if (!p)
		return;
	free(p->indptr);
	free(p->indices);
	free(p->coef);
	free(p->dark);
	free(p->norm);
	free(p->bin_dark);
	free(p->pixbin);
	free(p->coefs);
	free(p->xpix);
	free(p->xbin);
	free(p->xcoef);
	free(p->hist);
	free(p);
}

int bl_reduce_plan_nbins(const struct bl_reduce_plan *p)
{
	return p->nbins;
}

int bl_reduce_plan_nbins_chi(const struct bl_reduce_plan *p)
{
	return p->nchi;
}

void bl_reduce_plan_range(const struct bl_reduce_plan *p, double *min, double *max)
{
	*min = p->pos_min * p->scale;
	*max = p->pos_max * p->scale;
}

long bl_reduce_plan_nnz(const struct bl_reduce_plan *p)
{
	return p->indptr[p->nbins];
}
