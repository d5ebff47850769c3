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
	double *chi;  /* 2D caking: chi of each pixel centre (radians); NULL in 1D */
	double *dchi; /* 2D bbox: chi half-width (pyFAI's deltaChi); NULL otherwise */
};

static double radial_of(const struct reduce_frame *fr, enum bl_reduce_unit u, const double t[3])
{
	double tth = reduce_tth(t);
	return u == BL_REDUCE_Q_NM ? reduce_q(fr, tth) : tth;
}

/* Radial position (and, when CHI, chi) of every pixel corner, rounded to float32 as pyFAI's
 * corner_array stores them. */
static float *corner_grid(const struct reduce_frame *fr, enum bl_reduce_unit u, int nr, int nc,
			  float **chi)
{
	size_t w = (size_t)nc + 1, n = ((size_t)nr + 1) * w;
	float *cg = malloc(n * sizeof(*cg));
	float *cc = chi ? malloc(n * sizeof(*cc)) : NULL;
	if (!cg || (chi && !cc)) {
		free(cg);
		free(cc);
		return NULL;
	}
#pragma omp parallel for schedule(static)
	for (int i = 0; i <= nr; i++) {
		double p1 = i * fr->pixel1 - fr->poni1;
		for (int j = 0; j <= nc; j++) {
			double t[3];
			reduce_frame_lab(fr, p1, j * fr->pixel2 - fr->poni2, t);
			cg[(size_t)i * w + (size_t)j] = (float)radial_of(fr, u, t);
			if (cc)
				cc[(size_t)i * w + (size_t)j] = (float)atan2(t[0], t[1]);
		}
	}
	if (chi)
		*chi = cc;
	return cg;
}

/* X modulo 2 pi in [0, 2 pi), as Python's % on floats. */
static double mod2pi(double x)
{
	double r = fmod(x, 2.0 * M_PI);
	return r < 0 ? r + 2.0 * M_PI : r;
}

/* Fills positions, validity and the per-pixel dark and normalization of plan P. */
static int pixel_maps(struct bl_reduce_plan *p, const struct reduce_frame *fr,
		      const struct bl_reduce_config *c, struct pix_maps *m)
{
	int nr = p->nrows, nc = p->ncols;
	size_t n = (size_t)nr * (size_t)nc;
	float *cg = NULL, *cc = NULL;
	if (c->split == BL_REDUCE_SPLIT_BBOX) {
		cg = corner_grid(fr, c->unit, nr, nc, m->dchi ? &cc : NULL);
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
			double chi = atan2(t[0], t[1]);
			if (m->chi)
				m->chi[k] = chi;
			double d = 0;
			if (cg) {
				const float *a = cg + (size_t)i * w + (size_t)j;
				double e[4] = {a[0], a[w], a[w + 1], a[1]};
				for (int q = 0; q < 4; q++)
					d = fmax(d, fabs(e[q] - pos));
			}
			m->dpos[k] = d;
			if (cc) { /* pyFAI's calc_delta_chi: the shorter way round to each corner */
				const float *a = cc + (size_t)i * w + (size_t)j;
				double e[4] = {a[0], a[w], a[w + 1], a[1]}, dc = 0;
				for (int q = 0; q < 4; q++)
					dc = fmax(dc, fmin(mod2pi(e[q] - chi), mod2pi(chi - e[q])));
				m->dchi[k] = dc;
			}
			float nf = 1.0f;
			if (c->solid_angle) {
				double ca =
				    fr->dist / sqrt(fr->dist * fr->dist + (p1 * p1 + p2 * p2));
				nf *= (float)(ca * ca * ca);
			}
			if (c->polarization) {
				double c2 = cos(tth) * cos(tth);
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
	free(cc);
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

/* A pixel's bins along one axis, pyFAI's rules (calc_lut_1d, calc_lut_2d): fractional bin
 * positions F0, F1 of its lower and upper bounds, truncated, clipped to [0, NB). */
struct span {
	long b0, b1;
	double f0, f1;
};

static bool span_of(double lo, double hi, double min, double delta, long nb, struct span *s)
{
	s->f0 = (lo - min) / delta;
	s->f1 = (hi - min) / delta;
	long b0 = (long)s->f0, b1 = (long)s->f1;
	if (b1 < 0 || b0 >= nb)
		return false;
	s->b0 = b0 < 0 ? 0 : b0;
	s->b1 = b1 > nb - 1 ? nb - 1 : b1;
	return true;
}

/* The pixel's fraction in bin B of span S (the part of its bounding box beyond the range goes
 * to the edge bin, as in pyFAI: this is how the chi discontinuity at +-180 degrees is met). */
static double span_w(const struct span *s, long b)
{
	if (s->b0 == s->b1)
		return 1.0;
	double inv = 1.0 / (s->f1 - s->f0);
	if (b == s->b0)
		return inv * ((double)(b + 1) - s->f0);
	if (b == s->b1)
		return inv * (s->f1 - (double)b);
	return inv;
}

struct csr_fill {
	int32_t *fill; /* NULL: count entries per bin */
};

static void emit(struct bl_reduce_plan *p, struct csr_fill *cf, long b, size_t k, float c)
{
	if (!cf->fill) {
		p->indptr[b + 1]++;
		return;
	}
	int32_t at = p->indptr[b] + cf->fill[b]++;
	p->indices[at] = (int32_t)k;
	if (p->coef)
		p->coef[at] = c;
}

/* Emits each bin pixel K touches with its fraction; in 2D caking the radial span times the chi
 * span (bin = chi bin * nq + radial bin). Without splitting the chi bin is the centre's, and a
 * centre outside [chi_min, chi_max) drops the pixel. */
static void pixel_bins(struct bl_reduce_plan *p, const struct pix_maps *m, size_t k,
		       struct csr_fill *cf)
{
	struct span r, a = {0, 0, 0, 0};
	if (!span_of(m->pos[k] - m->dpos[k], m->pos[k] + m->dpos[k], p->pos_min, p->delta, p->nq,
		     &r))
		return;
	if (m->chi && m->dchi) {
		if (!span_of(m->chi[k] - m->dchi[k], m->chi[k] + m->dchi[k], p->chi_min,
			     p->chi_delta, p->nchi, &a))
			return;
	} else if (m->chi) {
		double f = (m->chi[k] - p->chi_min) / p->chi_delta;
		if (!(f >= 0 && f < p->nchi))
			return;
		a.b0 = a.b1 = (long)f;
	}
	for (long j = a.b0; j <= a.b1; j++) {
		double wa = span_w(&a, j);
		for (long b = r.b0; b <= r.b1; b++)
			emit(p, cf, j * p->nq + b, k, (float)(wa * span_w(&r, b)));
	}
}

static int build_csr(struct bl_reduce_plan *p, const struct pix_maps *m, size_t n, bool split)
{
	int nb = p->nbins;
	p->indptr = calloc((size_t)nb + 1, sizeof(*p->indptr));
	if (!p->indptr)
		return -ENOMEM;
	struct csr_fill cf = {NULL};
	for (size_t k = 0; k < n; k++)
		if (m->valid[k])
			pixel_bins(p, m, k, &cf);
	for (int b = 0; b < nb; b++) {
		if (p->indptr[b + 1] > INT32_MAX - p->indptr[b])
			return -ENOMEM; /* more entries than a 32-bit table indexes */
		p->indptr[b + 1] += p->indptr[b];
	}
	size_t nnz = (size_t)p->indptr[nb];
	cf.fill = calloc((size_t)nb, sizeof(*cf.fill));
	p->indices = malloc((nnz ? nnz : 1) * sizeof(*p->indices));
	if (split)
		p->coef = malloc((nnz ? nnz : 1) * sizeof(*p->coef));
	if (!cf.fill || !p->indices || (split && !p->coef)) {
		free(cf.fill);
		return -ENOMEM;
	}
	for (size_t k = 0; k < n; k++)
		if (m->valid[k])
			pixel_bins(p, m, k, &cf);
	free(cf.fill);
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

/* pyFAI's calc_upper_bound: the range's upper edge nudged up by one float32 epsilon. */
static double upper_bound(double x)
{
	const double eps32 = 1.0 + FLT_EPSILON;
	return x > 0 ? x * eps32 : x / eps32;
}

int reduce_plan_build(const struct bl_reduce_geometry *g, const struct bl_reduce_config *c,
		      bool keep_csr, struct bl_reduce_plan **out)
{
	*out = NULL;
	struct reduce_frame fr;
	if (!g || !c || reduce_frame_init(&fr, g) < 0 || c->nbins <= 0 || c->nbins_chi < 0 ||
	    (long)c->nbins * (c->nbins_chi ? c->nbins_chi : 1) > BL_REDUCE_MAX_BINS ||
	    (c->nbins_chi && !(c->chi_max_deg > c->chi_min_deg) &&
	     !(c->chi_min_deg == 0 && c->chi_max_deg == 0)) ||
	    (c->unit != BL_REDUCE_Q_NM && c->unit != BL_REDUCE_2TH_DEG) ||
	    (c->split != BL_REDUCE_SPLIT_NONE && c->split != BL_REDUCE_SPLIT_BBOX) ||
	    (c->polarization && !(fabs(c->polarization_factor) <= 1)) || c->saturation < 0)
		return -EINVAL;
	size_t n = (size_t)g->nrows * (size_t)g->ncols;
	if (n > INT32_MAX)
		return -EINVAL;
	struct bl_reduce_plan *p = calloc(1, sizeof(*p));
	struct pix_maps m = {malloc(n * sizeof(double)), malloc(n * sizeof(double)), malloc(n),
			     NULL, NULL};
	bool bbox2d = c->nbins_chi && c->split == BL_REDUCE_SPLIT_BBOX;
	int rc = -ENOMEM;
	if (c->nbins_chi)
		m.chi = malloc(n * sizeof(*m.chi));
	if (bbox2d)
		m.dchi = malloc(n * sizeof(*m.dchi));
	if (!p || !m.pos || !m.dpos || !m.valid || (c->nbins_chi && !m.chi) || (bbox2d && !m.dchi))
		goto out;
	p->nrows = g->nrows;
	p->ncols = g->ncols;
	p->nq = c->nbins;
	p->nchi = c->nbins_chi ? c->nbins_chi : 1;
	p->nbins = p->nq * p->nchi;
	bool full = c->chi_min_deg == 0 && c->chi_max_deg == 0;
	p->chi_min = full ? -M_PI : c->chi_min_deg * M_PI / 180.0;
	/* chi bins as pyFAI's with an azimuth_range: the upper edge one float32 epsilon above */
	p->chi_delta =
	    (upper_bound(full ? M_PI : c->chi_max_deg * M_PI / 180.0) - p->chi_min) / p->nchi;
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
	if (!keep_csr) {
		free(p->indices); /* the kernels read the pixel-major table only */
		free(p->coef);
		p->indices = NULL;
		p->coef = NULL;
	}
	*out = p;
	p = NULL;
	rc = 0;
out:
	free(m.pos);
	free(m.dpos);
	free(m.valid);
	free(m.chi);
	free(m.dchi);
	bl_reduce_plan_free(p);
	return rc;
}

int bl_reduce_plan_create(const struct bl_reduce_geometry *g, const struct bl_reduce_config *c,
			  struct bl_reduce_plan **out)
{
	return reduce_plan_build(g, c, false, out);
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
	free(p->pixbin32);
	free(p->coefs);
	free(p->xpix);
	free(p->xbin);
	free(p->xbin32);
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
