/* reduce_geometry.c: Fit2D detector geometry to lab coordinates, 2 theta, chi and q per pixel. */
#include <errno.h>
#include <math.h>

#include "reduce_internal.h"

static double deg(double d)
{
	return d * M_PI / 180.0;
}

/* Fit2D (direct distance, beam centre, tilt, tilt plane) to pyFAI (dist, poni1, poni2, rot1..3),
 * the conversion of pyFAI's Geometry.setFit2D. rot3 uses sqrt(1 - ...) where pyFAI 0.21.3 has a
 * typo (sqrt(10 - ...)); rot3 turns about the beam, so it changes chi but never 2 theta or q. */
int reduce_frame_init(struct reduce_frame *fr, const struct bl_reduce_geometry *g)
{
	if (g->nrows <= 0 || g->ncols <= 0 || !(g->pixel_x_um > 0) || !(g->pixel_y_um > 0) ||
	    !(g->distance_mm > 0) || !(g->wavelength_nm > 0) || !(fabs(g->tilt_deg) < 90))
		return -EINVAL;
	double ct = cos(deg(g->tilt_deg)), st = sin(deg(g->tilt_deg));
	double cp = cos(deg(g->tilt_plane_deg)), sp = sin(deg(g->tilt_plane_deg));
	fr->pixel1 = g->pixel_y_um * 1e-6;
	fr->pixel2 = g->pixel_x_um * 1e-6;
	fr->dist = g->distance_mm * ct * 1e-3;
	fr->poni1 = g->beam_center_y_px * fr->pixel1 - g->distance_mm * st * sp * 1e-3;
	fr->poni2 = g->beam_center_x_px * fr->pixel2 - g->distance_mm * st * cp * 1e-3;
	fr->rot2 = asin(st * sp);
	fr->rot1 = acos(fmin(1.0, fmax(-1.0, ct / sqrt(1.0 - (sp * st) * (sp * st)))));
	if (cp * st > 0)
		fr->rot1 = -fr->rot1;
	if (g->tilt_deg == 0.0) {
		fr->rot3 = 0;
	} else {
		double a = (ct * cp * sp - cp * sp) / sqrt(1.0 - sp * sp * st * st);
		fr->rot3 = M_PI / 2.0 - acos(fmin(1.0, fmax(-1.0, a)));
	}
	fr->wavelength_m = g->wavelength_nm * 1e-9;
	double c1 = cos(fr->rot1), c2 = cos(fr->rot2), c3 = cos(fr->rot3);
	double s1 = sin(fr->rot1), s2 = sin(fr->rot2), s3 = sin(fr->rot3);
	/* pyFAI's rotation_matrix(): rot3 . rot2 . rot1 with its (left-handed) rot1 and rot2. */
	double r1[3][3] = {{1, 0, 0}, {0, c1, s1}, {0, -s1, c1}};
	double r2[3][3] = {{c2, 0, -s2}, {0, 1, 0}, {s2, 0, c2}};
	double r3[3][3] = {{c3, -s3, 0}, {s3, c3, 0}, {0, 0, 1}};
	double r21[3][3];
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++) {
			r21[i][j] = 0;
			for (int k = 0; k < 3; k++)
				r21[i][j] += r2[i][k] * r1[k][j];
		}
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++) {
			fr->r[i][j] = 0;
			for (int k = 0; k < 3; k++)
				fr->r[i][j] += r3[i][k] * r21[k][j];
		}
	fr->pixel1f = (float)fr->pixel1;
	fr->pixel2f = (float)fr->pixel2;
	fr->poni1f = (float)fr->poni1;
	fr->poni2f = (float)fr->poni2;
	return 0;
}

void reduce_frame_lab(const struct reduce_frame *fr, double p1, double p2, double t[3])
{
	for (int i = 0; i < 3; i++)
		t[i] = fr->r[i][0] * p1 + fr->r[i][1] * p2 + fr->r[i][2] * fr->dist;
}

/* pyFAI's detector computes pixel centres in float32: (index + 0.5) * pixel - poni. Rounding the
 * same way (a 10 nm effect) makes every pixel land in the same bin as pyFAI's. */
double reduce_center_p1(const struct reduce_frame *fr, int row)
{
	float p = ((float)row + 0.5f) * fr->pixel1f;
	return (double)(p - fr->poni1f);
}

double reduce_center_p2(const struct reduce_frame *fr, int col)
{
	float p = ((float)col + 0.5f) * fr->pixel2f;
	return (double)(p - fr->poni2f);
}

double reduce_tth(const double t[3])
{
	return atan2(sqrt(t[0] * t[0] + t[1] * t[1]), t[2]);
}

double reduce_q(const struct reduce_frame *fr, double tth)
{
	return 4.0e-9 * M_PI / fr->wavelength_m * sin(tth / 2.0);
}

void bl_reduce_pixel_position(const struct bl_reduce_geometry *g, int row, int col, double *tth,
			      double *chi, double *q)
{
	struct reduce_frame fr;
	if (reduce_frame_init(&fr, g) < 0) {
		*tth = *chi = *q = NAN;
		return;
	}
	double t[3];
	reduce_frame_lab(&fr, reduce_center_p1(&fr, row), reduce_center_p2(&fr, col), t);
	*tth = reduce_tth(t);
	*chi = atan2(t[0], t[1]);
	*q = reduce_q(&fr, *tth);
}
