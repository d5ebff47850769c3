/* analyze_fit.c: a GISAXS frame's horizontal cut above the Yoneda band fitted with the forward
 * model (cylinders on a radial paracrystal, bl_gisaxs.h) by bounded LM (bl_fit.h): domain
 * spacing, correlation length, radius, with uncertainties, and the orientation order derived. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_int.h"
#include "bl_fit.h"
#include "bl_gi.h"
#include "bl_gisaxs.h"

#define NQXY   96   /* cut points over QXY_LO..QXY_HI */
#define NSUB   4    /* model points across the q_z band per cut point */
#define QXY_LO 0.06 /* nm^-1: clear of the specular rod */
#define QXY_HI 0.60
#define QZ_LO  0.30 /* nm^-1: above the Yoneda band of a film on Si at ~0.15 deg */
#define QZ_HI  0.50
#define NQZ    16

/* Fitted: spacing and radius (nm) as they are; correlation length, scale and background as
 * log10 (their ranges span decades, and the bounds' sine mapping is flat near a bound). */
enum { P_D, P_XI, P_R, P_SCALE, P_BG, NP };

struct an_fit {
	struct bl_reduce_geometry geo;
	struct bl_gi_plan *gi;
	struct bl_gs_plan *gs;
	struct bl_fitter *fitter;
	struct bl_gs_sample base;
	float *flip;
	size_t flip_cap;
	double sig[NQXY * NQZ], var[NQXY * NQZ], cnt[NQXY * NQZ];
	double axis[NQXY], mean[NQXY], sem[NQXY], count[NQXY];
	double y[NQXY], sigma[NQXY], model[NQXY * NSUB];
};

/* The model of the cut: the band average of scale * I + background. */
static int cut_model(const double *p, double *out, void *user)
{
	struct an_fit *f = user;
	struct bl_gs_sample s = f->base;
	s.spacing_nm = p[P_D];
	s.omega_nm = 0.15 * p[P_D];
	s.damping_length_nm = pow(10, p[P_XI]);
	s.radius_nm = p[P_R];
	s.height_nm = p[P_R];
	s.radius_sigma_nm = 0.1 * p[P_R];
	int rc = bl_gs_eval_range(f->gs, &s, 0, NQXY * NSUB, f->model);
	if (rc)
		return rc;
	for (int i = 0; i < NQXY; i++) {
		double m = 0;
		for (int j = 0; j < NSUB; j++)
			m += f->model[i * NSUB + j];
		out[i] = pow(10, p[P_SCALE]) * m / NSUB + pow(10, p[P_BG]);
	}
	return 0;
}

void an_fit_free(struct an_fit *f)
{
	if (!f)
		return;
	bl_gi_plan_free(f->gi);
	bl_gs_plan_free(f->gs);
	bl_fitter_destroy(f->fitter);
	free(f->flip);
	free(f);
}

/* Plans for geometry G (the frame upside down when UP_DECREASING: bl_gi's up is +row). */
static int an_fit_plan(struct an_fit *f, const struct bl_reduce_geometry *g, bool up_decreasing)
{
	f->geo = *g;
	struct bl_reduce_geometry m = *g;
	if (up_decreasing)
		m.beam_center_y_px = g->nrows - g->beam_center_y_px;
	struct bl_gi_config gc = {.nqxy = NQXY,
				  .nqz = NQZ,
				  .qxy_min = QXY_LO,
				  .qxy_max = QXY_HI,
				  .qz_min = QZ_LO,
				  .qz_max = QZ_HI,
				  .mask_negative = true};
	int rc = bl_gi_plan_create(&m, &gc, &f->gi);
	if (rc)
		return rc;
	double qxy[NQXY * NSUB], qz[NQXY * NSUB];
	for (int i = 0; i < NQXY; i++)
		for (int j = 0; j < NSUB; j++) {
			qxy[i * NSUB + j] = QXY_LO + (i + 0.5) * (QXY_HI - QXY_LO) / NQXY;
			qz[i * NSUB + j] = QZ_LO + (j + 0.5) * (QZ_HI - QZ_LO) / NSUB;
		}
	bl_gs_sample_default(&f->base);
	f->base.shape = BL_GS_CYLINDER;
	f->base.sf = BL_GS_SF_RADIAL_PARA;
	f->base.size_points = 7;
	f->base.scale = 1;
	rc = bl_gs_plan_create_q(g->wavelength_nm, g->incidence_deg, qxy, qz, NQXY * NSUB, &f->base,
				 &f->gs);
	if (rc)
		return rc;
	static const double lo[NP] = {5, 0.5, 1, -15, -3}, hi[NP] = {100, 3.7, 40, 15, 7};
	struct bl_fit_problem pr = {
	    .np = NP, .nd = NQXY, .lo = lo, .hi = hi, .model = cut_model, .user = f, .nthreads = 1};
	return bl_fitter_create(&f->fitter, &pr);
}

int an_fit_frame(struct an_fit **fp, const struct bl_reduce_geometry *g, bool up_decreasing,
		 const void *pix, int elem, struct an_fit_out *o)
{
	struct an_fit *f = *fp;
	if (!f || memcmp(&f->geo, g, sizeof(*g))) {
		an_fit_free(f);
		*fp = f = calloc(1, sizeof(*f));
		int rc = f ? an_fit_plan(f, g, up_decreasing) : -ENOMEM;
		if (rc) {
			an_fit_free(f);
			*fp = NULL;
			return rc;
		}
	}
	size_t n = (size_t)g->nrows * (size_t)g->ncols;
	if (n > f->flip_cap) {
		free(f->flip);
		f->flip = malloc(n * sizeof(float));
		f->flip_cap = f->flip ? n : 0;
		if (!f->flip)
			return -ENOMEM;
	}
	for (int r = 0; r < g->nrows; r++) { /* dtype max (gaps, saturation): masked */
		int src = up_decreasing ? g->nrows - 1 - r : r;
		float *dst = f->flip + (size_t)r * (size_t)g->ncols;
		for (int c = 0; c < g->ncols; c++) {
			size_t i = (size_t)src * (size_t)g->ncols + (size_t)c;
			double v =
			    elem == 2 ? ((const uint16_t *)pix)[i] : ((const uint32_t *)pix)[i];
			dst[c] = v >= (elem == 2 ? 65535.0 : 4294967295.0) ? -1.0f : (float)v;
		}
	}
	struct bl_gi_image img = {f->sig, f->var, f->cnt};
	int rc = bl_gi_remap(f->gi, f->flip, &img);
	rc = rc
		 ?: bl_gi_cut_horizontal(f->gi, &img, QZ_LO, QZ_HI, f->axis, f->mean, f->sem,
					 f->count);
	if (rc)
		return rc;
	double ymax = 0, ymin = INFINITY, qpk = 0.2;
	int used = 0;
	for (int i = 0; i < NQXY; i++) {
		f->y[i] = f->mean[i];
		f->sigma[i] = f->count[i] > 0 && f->sem[i] > 0 ? f->sem[i] : 0; /* 0: ignored */
		if (f->sigma[i] <= 0)
			continue;
		used++;
		if (f->y[i] > ymax)
			ymax = f->y[i], qpk = f->axis[i];
		if (f->y[i] < ymin)
			ymin = f->y[i];
	}
	if (used < NP + 5)
		return -ENODATA;
	double d0 = 2 * M_PI / qpk;
	if (d0 < 6 || d0 > 90)
		d0 = 30;
	double p0[NP] = {d0, log10(4 * d0), 0.35 * d0, 0, log10(ymin > 1e-3 ? 0.5 * ymin : 1e-3)};
	/* the scale from the model at the start against the data's range */
	double m0[NQXY];
	if ((rc = cut_model(p0, m0, f)))
		return rc;
	double mmax = 0;
	for (int i = 0; i < NQXY; i++)
		mmax = m0[i] > mmax ? m0[i] : mmax;
	double sc = mmax > 0 ? ymax / mmax : 1;
	p0[P_SCALE] = sc > 1e-14 && sc < 1e14 ? log10(sc) : 0;
	struct bl_fit_result res;
	rc = bl_fit_lm(f->fitter, f->y, f->sigma, p0, &(struct bl_fit_lm_options){.nstart = 1},
		       &res);
	if (rc)
		return rc;
	o->spacing_nm = res.p[P_D], o->spacing_err = res.err[P_D];
	o->radius_nm = res.p[P_R], o->radius_err = res.err[P_R];
	o->corr_len_nm = pow(10, res.p[P_XI]);
	o->corr_len_err = M_LN10 * o->corr_len_nm * res.err[P_XI];
	o->scale = pow(10, res.p[P_SCALE]);
	o->scale_err = M_LN10 * o->scale * res.err[P_SCALE];
	o->background = pow(10, res.p[P_BG]);
	o->background_err = M_LN10 * o->background * res.err[P_BG];
	o->chi2_red = res.chi2_red;
	o->nevals = res.nevals;
	/* orientation order from the ink's calibration xi = d (1.5 + 12 s^2) (film_morph.h) */
	double u = (o->corr_len_nm / o->spacing_nm - 1.5) / 12;
	o->orientation = u > 0 ? sqrt(u) : 0;
	if (o->orientation > 1)
		o->orientation = 1;
	return 0;
}
