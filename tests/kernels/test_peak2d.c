/* test_peak2d.c: the 2D peak finder on synthetic frames: Gaussian spots of known position and
 * intensity on a known radial background with Poisson noise are all found, centroids within 0.1
 * px, intensities within 3 sigma, q and chi those of the centroid; no peak on pure-noise frames
 * at 5 sigma; the size limits reject; bad input is refused. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "bl_peak2d.h"

#define NR    256
#define NC    240
#define NSPOT 12
#define MAXPK 64

static const struct bl_reduce_geometry geo = {.nrows = NR,
					      .ncols = NC,
					      .pixel_x_um = 172,
					      .pixel_y_um = 172,
					      .distance_mm = 250,
					      .beam_center_x_px = 110.4,
					      .beam_center_y_px = 131.7,
					      .wavelength_nm = 0.1};

static unsigned rng = 2463534242u;
static double uni(void)
{
	rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
	return (rng + 0.5) / 4294967296.0;
}

/* Poisson deviate: Knuth's product for small means, the normal approximation (rounded) above
 * 50, where it is good to far better than this test needs. */
static double poisson(double mu)
{
	if (mu > 50) {
		double g = sqrt(-2 * log(uni())) * cos(2 * M_PI * uni());
		return fmax(0.0, floor(mu + sqrt(mu) * g + 0.5));
	}
	double l = exp(-mu), p = 1;
	int k = 0;
	do {
		k++;
		p *= uni();
	} while (p > l);
	return k - 1;
}

static double background(int i, int j)
{
	double r = hypot(i + 0.5 - geo.beam_center_y_px, j + 0.5 - geo.beam_center_x_px);
	return 100 + 40 * exp(-r / 150);
}

struct spot {
	double row, col, sigma, total;
};

/* Fraction of a unit Gaussian (centre X0, width S) in pixel [a, a + 1). */
static double frac(double a, double x0, double s)
{
	return 0.5 * (erf((a + 1 - x0) / (s * M_SQRT2)) - erf((a - x0) / (s * M_SQRT2)));
}

static void render(float *f, const struct spot *sp, int ns)
{
	for (int i = 0; i < NR; i++)
		for (int j = 0; j < NC; j++) {
			double mu = background(i, j);
			for (int s = 0; s < ns; s++)
				if (fabs(i - sp[s].row) < 8 && fabs(j - sp[s].col) < 8)
					mu += sp[s].total * frac(i, sp[s].row, sp[s].sigma) *
					      frac(j, sp[s].col, sp[s].sigma);
			f[i * NC + j] = (float)poisson(mu);
		}
}

static struct bl_reduce_config cfg(void)
{
	struct bl_reduce_config c = {.unit = BL_REDUCE_Q_NM, .nbins = 100, .mask_negative = true};
	return c;
}

static void test_spots(void)
{
	struct spot sp[NSPOT];
	int ns = 0;
	while (ns < NSPOT) { /* away from the edges, the beam and each other */
		struct spot s = {12 + uni() * (NR - 24), 12 + uni() * (NC - 24), 0.9 + 0.6 * uni(),
				 10000 + 30000 * uni()};
		bool ok = hypot(s.row - geo.beam_center_y_px, s.col - geo.beam_center_x_px) > 20;
		for (int k = 0; k < ns; k++)
			ok = ok && hypot(s.row - sp[k].row, s.col - sp[k].col) > 20;
		if (ok)
			sp[ns++] = s;
	}
	static float f[NR * NC];
	struct bl_reduce_config c = cfg();
	struct bl_peak2d_config pc = {.nsigma = 5, .min_pix = 2, .pad = 3};
	struct bl_peak2d_plan *p;
	CHECK_EQ_INT(bl_peak2d_plan_create(&geo, &c, &pc, &p), 0);
	if (!p)
		return;
	CHECK(bl_peak2d_background(p) == NULL);
	struct bl_peak2d pk[MAXPK];
	double chi2 = 0;
	int nchi2 = 0;
	for (int frame = 0; frame < 3; frame++) {
		render(f, sp, ns);
		int n = bl_peak2d_find(p, f, BL_REDUCE_F32, 1.0, pk, MAXPK);
		CHECK_EQ_INT(n, NSPOT);
		int matched = 0;
		for (int k = 0; k < n && k < MAXPK; k++) {
			int best = -1;
			double dbest = 1e9;
			for (int s = 0; s < ns; s++) {
				double d = hypot(pk[k].row - sp[s].row, pk[k].col - sp[s].col);
				if (d < dbest)
					dbest = d, best = s;
			}
			if (dbest > 0.1 || fabs(pk[k].intensity - sp[best].total) > 3 * pk[k].sigma)
				fprintf(stderr,
					"peak %d: (%.3f, %.3f) vs (%.3f, %.3f), I %.1f +- %.1f vs "
					"%.1f\n",
					k, pk[k].row, pk[k].col, sp[best].row, sp[best].col,
					pk[k].intensity, pk[k].sigma, sp[best].total);
			CHECK(dbest <= 0.1);
			CHECK(fabs(pk[k].intensity - sp[best].total) <= 3 * pk[k].sigma);
			chi2 += pow((pk[k].intensity - sp[best].total) / pk[k].sigma, 2);
			nchi2++;
			CHECK(pk[k].snr > 10 && pk[k].npix >= 2);
			CHECK(abs(pk[k].row_max - (int)sp[best].row) <= 1);
			CHECK(fabs(pk[k].background - background(pk[k].row_max, pk[k].col_max)) <
			      3);
			/* q and chi of the centroid (no tilt: the flat-detector formulae) */
			double y = (pk[k].row - geo.beam_center_y_px) * 172e-6,
			       x = (pk[k].col - geo.beam_center_x_px) * 172e-6;
			double tth = atan2(hypot(x, y), 0.25);
			double q = 4 * M_PI / 0.1 * sin(tth / 2);
			CHECK_NEAR(pk[k].q, q, 1e-6 * q);
			CHECK(fabs(cos(pk[k].chi_deg * M_PI / 180) - x / hypot(x, y)) < 1e-6);
			matched++;
		}
		CHECK_EQ_INT(matched, NSPOT);
	}
	/* the uncertainties are the scatter's: reduced chi^2 near 1 (36 peaks: 0.4 .. 1.8) */
	CHECK(nchi2 > 0 && chi2 / nchi2 > 0.4 && chi2 / nchi2 < 1.8);
	CHECK(bl_peak2d_background(p) != NULL && bl_peak2d_noise(p) != NULL);
	/* the count goes on past CAP */
	CHECK_EQ_INT(bl_peak2d_find(p, f, BL_REDUCE_F32, 1.0, pk, 3), NSPOT);
	bl_peak2d_plan_free(p);
	/* a maximum size below the spots' rejects them all (and SNR 10 any lone noise pixel) */
	pc.max_pix = 1;
	pc.min_pix = 1;
	pc.min_snr = 10;
	CHECK_EQ_INT(bl_peak2d_plan_create(&geo, &c, &pc, &p), 0);
	CHECK_EQ_INT(bl_peak2d_find(p, f, BL_REDUCE_F32, 1.0, pk, MAXPK), 0);
	bl_peak2d_plan_free(p);
}

static void test_noise_only(void)
{
	static float f[NR * NC];
	struct bl_reduce_config c = cfg();
	struct bl_peak2d_config pc = {.nsigma = 5, .min_pix = 2, .pad = 3};
	struct bl_peak2d_plan *p;
	CHECK_EQ_INT(bl_peak2d_plan_create(&geo, &c, &pc, &p), 0);
	if (!p)
		return;
	int total = 0;
	for (int frame = 0; frame < 10; frame++) {
		render(f, NULL, 0);
		f[frame * 100 + 7] = -1; /* a dynamically masked pixel */
		total += bl_peak2d_find(p, f, BL_REDUCE_F32, 1.0, NULL, 0);
	}
	CHECK_EQ_INT(total, 0);
	const double *bg = bl_peak2d_background(p), *sd = bl_peak2d_noise(p);
	CHECK(bg && sd);
	bl_peak2d_plan_free(p);
}

static void test_bad_input(void)
{
	struct bl_reduce_config c = cfg();
	struct bl_peak2d_config pc = {.nsigma = 0};
	struct bl_peak2d_plan *p = NULL;
	CHECK_EQ_INT(bl_peak2d_plan_create(&geo, &c, &pc, &p), -EINVAL);
	CHECK(p == NULL);
	pc.nsigma = 5;
	c.split = BL_REDUCE_SPLIT_BBOX;
	CHECK_EQ_INT(bl_peak2d_plan_create(&geo, &c, &pc, &p), -EINVAL);
	c = cfg();
	CHECK_EQ_INT(bl_peak2d_plan_create(&geo, &c, &pc, &p), 0);
	static float f[NR * NC];
	CHECK_EQ_INT(bl_peak2d_find(p, f, BL_REDUCE_F32, 0.0, NULL, 0), -EINVAL);
	CHECK_EQ_INT(bl_peak2d_find(p, f, BL_REDUCE_F32, 1.0, NULL, 4), -EINVAL);
	bl_peak2d_plan_free(p);
	bl_peak2d_plan_free(NULL);
}

int main(void)
{
	test_spots();
	test_noise_only();
	test_bad_input();
	return CHECK_DONE();
}
