/* gs_plan.c: GISAXS plans: per point exit direction, BornAgain-convention q, solid angle and
 * the Fresnel coefficients of the sample's layers, from detector pixels or a (q_xy, q_z) list. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "bl_gi.h"
#include "gs_internal.h"
#include "reduce_internal.h"

void bl_gs_plan_free(struct bl_gs_plan *p)
{
	if (!p)
		return;
	free(p->pt);
	free(p->alpha_f);
	free(p);
}

size_t bl_gs_plan_npoints(const struct bl_gs_plan *p)
{
	return p ? p->n : 0;
}

static struct bl_gs_plan *plan_alloc(size_t n, double lambda, double ai_deg,
				     const struct bl_gs_sample *s)
{
	struct bl_gs_plan *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->n = n;
	p->pt = malloc((n ? n : 1) * sizeof(*p->pt));
	p->alpha_f = malloc((n ? n : 1) * sizeof(*p->alpha_f));
	if (!p->pt || !p->alpha_f) {
		bl_gs_plan_free(p);
		return NULL;
	}
	p->wavelength = lambda, p->k = 2 * M_PI / lambda, p->ai = ai_deg * M_PI / 180;
	gs_layers_of(s, &p->layers);
	gs_fresnel(&p->layers, p->k, p->ai, &p->ri, &p->ti, &p->kzi);
	return p;
}

/* Point K from its GI (q_xy, q_z): the exit direction f (bl_gi.h's frame inverted), BornAgain's
 * in-plane q = k_i - k_f, and the Fresnel coefficients at alpha_f. NORM 0 marks it invalid.
 * bl_gi.h's (x, y, z) is left-handed (y = lab t2); BornAgain's right-handed sample frame has
 * y_BA = -y, so q_y(BA) = k_iy - k_fy(BA) = +k f_y. */
static void set_point(struct bl_gs_plan *p, size_t k, double qxy, double qz, double norm)
{
	struct gs_point *pt = &p->pt[k];
	double kk = p->k, ca = cos(p->ai), sa = sin(p->ai);
	double fz = qz / kk - sa;
	double fx = (1 - fz * fz + ca * ca - qxy * qxy / (kk * kk)) / (2 * ca);
	double fy2 = 1 - fz * fz - fx * fx;
	*pt = (struct gs_point){0};
	p->alpha_f[k] = NAN;
	if (!(fabs(fz) <= 1) || !(fy2 > -1e-9) || isnan(norm))
		return;
	double fy = copysign(sqrt(fmax(fy2, 0)), qxy);
	p->alpha_f[k] = asin(fz);
	pt->qx = kk * (ca - fx), pt->qy = kk * fy;
	if (!(fz > 0) || norm == 0)
		return; /* below the horizon or masked: background */
	gs_fresnel(&p->layers, kk, asin(fz), &pt->rf, &pt->tf, &pt->kzf);
	pt->norm = norm;
}

int bl_gs_plan_create_q(double wavelength_nm, double incidence_deg, const double *qxy,
			const double *qz, size_t n, const struct bl_gs_sample *s,
			struct bl_gs_plan **out)
{
	if (!out || !s || (n && (!qxy || !qz)) || !(wavelength_nm > 0) ||
	    !(incidence_deg > 0 && incidence_deg < 90))
		return -EINVAL;
	struct bl_gs_plan *p = plan_alloc(n, wavelength_nm, incidence_deg, s);
	if (!p)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++)
		set_point(p, k, qxy[k], qz[k], 1.0);
	*out = p;
	return 0;
}

int bl_gs_plan_create_detector(const struct bl_reduce_geometry *g, const uint8_t *mask,
			       const struct bl_gs_sample *s, struct bl_gs_plan **out)
{
	struct reduce_frame fr;
	if (!g || !s || !out || !(g->incidence_deg > 0 && g->incidence_deg < 90) ||
	    reduce_frame_init(&fr, g) < 0)
		return -EINVAL;
	size_t n = (size_t)g->nrows * (size_t)g->ncols;
	struct bl_gs_plan *p = plan_alloc(n, g->wavelength_nm, g->incidence_deg, s);
	if (!p)
		return -ENOMEM;
	/* detector normal (lab) from the lab images of two pixel steps; the solid angle of a
	 * pixel is A |t . n| / |t|^3 at its centre (as BornAgain's RectangularPixel) */
	double o[3], e1[3], e2[3], nrm[3];
	reduce_frame_lab(&fr, 0, 0, o);
	reduce_frame_lab(&fr, fr.pixel1, 0, e1);
	reduce_frame_lab(&fr, 0, fr.pixel2, e2);
	for (int i = 0; i < 3; i++)
		e1[i] -= o[i], e2[i] -= o[i];
	nrm[0] = e1[1] * e2[2] - e1[2] * e2[1];
	nrm[1] = e1[2] * e2[0] - e1[0] * e2[2];
	nrm[2] = e1[0] * e2[1] - e1[1] * e2[0]; /* |nrm| = pixel area */
	double sai = sin(p->ai);
	int rc = 0;
#pragma omp parallel for schedule(dynamic, 8) reduction(| : rc)
	for (int i = 0; i < g->nrows; i++)
		for (int j = 0; j < g->ncols; j++) {
			size_t k = (size_t)i * g->ncols + j;
			double qxy, qz, t[3];
			if (bl_gi_pixel_q(g, i, j, &qxy, &qz) < 0) {
				rc |= 1;
				continue;
			}
			reduce_frame_lab(&fr, reduce_center_p1(&fr, i), reduce_center_p2(&fr, j),
					 t);
			double r = sqrt(t[0] * t[0] + t[1] * t[1] + t[2] * t[2]);
			double om =
			    fabs(t[0] * nrm[0] + t[1] * nrm[1] + t[2] * nrm[2]) / (r * r * r);
			set_point(p, k, qxy, qz, mask && mask[k] ? 0.0 : om / sai);
		}
	if (rc) {
		bl_gs_plan_free(p);
		return -EINVAL;
	}
	*out = p;
	return 0;
}

int bl_gs_plan_angles(const struct bl_gs_plan *p, size_t k, double *alpha_f_deg, double *phi_f_deg)
{
	if (!p || k >= p->n || !alpha_f_deg || !phi_f_deg)
		return -EINVAL;
	double af = p->alpha_f[k];
	*alpha_f_deg = af * 180 / M_PI;
	*phi_f_deg = NAN;
	if (!isnan(af)) {
		/* f from BornAgain's q = k_i - k_f (see set_point), in bl_gi.h's frame */
		double fx = cos(p->ai) - p->pt[k].qx / p->k, fy = p->pt[k].qy / p->k;
		*phi_f_deg = atan2(fy, fx) * 180 / M_PI;
	}
	return 0;
}
