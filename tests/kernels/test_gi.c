/* test_gi.c: grazing-incidence mapping with known answers: the specular pixel, mirror symmetry
 * in q_xy, q_xy^2 + q_z^2 = q^2 at zero incidence, the remap of a uniform frame, and cuts. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "../check.h"
#include "bl_gi.h"

#define NR 120
#define NC 101

static struct bl_reduce_geometry geo(double ai_deg)
{
	struct bl_reduce_geometry g = {.nrows = NR,
				       .ncols = NC,
				       .pixel_x_um = 172,
				       .pixel_y_um = 172,
				       .distance_mm = 200,
				       .beam_center_x_px = 50.5, /* the centre of column 50 */
				       .beam_center_y_px = 10.5,
				       .wavelength_nm = 0.1,
				       .incidence_deg = ai_deg};
	return g;
}

static void test_specular(void)
{
	double ai = 0.5, lambda = 0.1, D = 200e-3, pix = 172e-6;
	struct bl_reduce_geometry g = geo(ai);
	/* the specular beam leaves at 2 ai above the direct beam: row centre D tan(2 ai) away */
	double off = D * tan(2 * ai * M_PI / 180) / pix; /* pixels */
	g.beam_center_y_px = 10.5 - (off - floor(off));	 /* put it on a pixel centre */
	int row = 10 + (int)floor(off);
	double qxy, qz;
	CHECK_EQ_INT(bl_gi_pixel_q(&g, row, 50, &qxy, &qz), 0);
	CHECK_NEAR(qxy, 0, 1e-6);
	CHECK_NEAR(qz, 4 * M_PI * sin(ai * M_PI / 180) / lambda, 1e-5);
	/* the direct beam's pixel: k_f = k_i, so q = 0 */
	g.beam_center_y_px = 10.5;
	CHECK_EQ_INT(bl_gi_pixel_q(&g, 10, 50, &qxy, &qz), 0);
	CHECK_NEAR(qxy, 0, 1e-9);
	CHECK_NEAR(qz, 0, 1e-9);
	g.incidence_deg = 90;
	CHECK_EQ_INT(bl_gi_pixel_q(&g, 10, 50, &qxy, &qz), -EINVAL);
}

static void test_symmetry_and_zero_incidence(void)
{
	struct bl_reduce_geometry g = geo(0.3), g0 = geo(0);
	for (int i = 0; i < NR; i += 7)
		for (int d = 1; d < 50; d += 5) {
			double a, b, c, e;
			CHECK_EQ_INT(bl_gi_pixel_q(&g, i, 50 + d, &a, &b), 0);
			CHECK_EQ_INT(bl_gi_pixel_q(&g, i, 50 - d, &c, &e), 0);
			CHECK(a > 0 && c < 0);
			CHECK_NEAR(a, -c, 1e-6);
			CHECK_NEAR(b, e, 1e-9);
			/* no incidence: the sample frame is the lab's, |q| as the 1D integration's
			 */
			double tth, chi, q;
			bl_reduce_pixel_position(&g0, i, 50 + d, &tth, &chi, &q);
			CHECK_EQ_INT(bl_gi_pixel_q(&g0, i, 50 + d, &a, &b), 0);
			CHECK_NEAR(a * a + b * b, q * q, 1e-9 * q * q + 1e-12);
			CHECK(i > 10 ? b > 0 : b < 0); /* q_z follows the rows above the beam */
		}
}

static void test_remap_and_cuts(void)
{
	struct bl_reduce_geometry g = geo(0.2);
	static uint8_t mask[NR * NC];
	static float f[NR * NC];
	mask[5 * NC + 5] = 1;
	for (int k = 0; k < NR * NC; k++)
		f[k] = 16.0f;
	f[7] = -1; /* dynamically masked */
	struct bl_gi_config c = {.nqxy = 30, .nqz = 40, .mask = mask, .mask_negative = true};
	struct bl_gi_plan *p;
	CHECK_EQ_INT(bl_gi_plan_create(&g, &c, &p), 0);
	static double sig[30 * 40], var[30 * 40], cnt[30 * 40];
	struct bl_gi_image img = {sig, var, cnt};
	CHECK_EQ_INT(bl_gi_remap(p, f, &img), 0);
	double total = 0;
	for (int k = 0; k < 30 * 40; k++) {
		total += cnt[k];
		if (cnt[k] > 0) {
			CHECK_NEAR(sig[k] / cnt[k], 16.0, 1e-12);
			CHECK_NEAR(sqrt(var[k]) / cnt[k], 4.0 / sqrt(cnt[k]), 1e-12);
		}
	}
	CHECK_NEAR(total, NR * NC - 2, 0); /* every pixel on the default grid but the 2 masked */
	double lo, hi, zlo, zhi;
	bl_gi_plan_range(p, &lo, &hi, &zlo, &zhi);
	CHECK(lo < 0 && hi > 0 && zlo < 0 && zhi > 0);
	double axis[40], mean[40], sem[40], count[40];
	CHECK_EQ_INT(bl_gi_cut_horizontal(p, &img, zlo, zhi, axis, mean, sem, count), 0);
	double ct = 0;
	for (int i = 0; i < 30; i++) {
		ct += count[i];
		if (count[i] > 0) {
			CHECK_NEAR(mean[i], 16.0, 1e-12);
			CHECK_NEAR(sem[i], 4.0 / sqrt(count[i]), 1e-12);
		}
	}
	CHECK_NEAR(ct, total, 0); /* the full q_z band holds everything */
	CHECK_NEAR(axis[0], lo + 0.5 * (hi - lo) / 30, 1e-12);
	/* a bright pixel shows up in the vertical cut through its q_xy, in its q_z cell */
	f[60 * NC + 70] = 1016.0f;
	CHECK_EQ_INT(bl_gi_remap(p, f, &img), 0);
	double qxy, qz;
	CHECK_EQ_INT(bl_gi_pixel_q(&g, 60, 70, &qxy, &qz), 0);
	int col = (int)((qxy - lo) / ((hi - lo) / 30)),
	    row = (int)((qz - zlo) / ((zhi - zlo) / 40));
	double clo = lo + col * (hi - lo) / 30, chi = clo + (hi - lo) / 30;
	CHECK_EQ_INT(bl_gi_cut_vertical(p, &img, clo, chi, axis, mean, sem, count), 0);
	double n = cnt[row * 30 + col];
	CHECK(n > 0);
	CHECK_NEAR(mean[row], (16.0 * n + 1000.0) / count[row], 1e-9);
	CHECK_NEAR(count[row], n, 0);
	CHECK_EQ_INT(bl_gi_cut_vertical(p, &img, 1, 0, axis, mean, sem, count), -EINVAL);
	bl_gi_plan_free(p);
	c.nqz = 0;
	CHECK_EQ_INT(bl_gi_plan_create(&g, &c, &p), -EINVAL);
}

int main(void)
{
	test_specular();
	test_symmetry_and_zero_incidence();
	test_remap_and_cuts();
	return CHECK_DONE();
}
