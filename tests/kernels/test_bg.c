/* test_bg.c: background subtraction (reference frame with variance propagation, reference
 * profile, fitted scale) and the sigma-clipped background, on synthetic frames with known
 * answers. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "bl_bg.h"
#include "bl_reduce.h"

#define NR 120
#define NC 140
#define NB 30

static const struct bl_reduce_geometry geo = {.nrows = NR,
					      .ncols = NC,
					      .pixel_x_um = 172,
					      .pixel_y_um = 172,
					      .distance_mm = 200,
					      .beam_center_x_px = 60.3,
					      .beam_center_y_px = 50.7,
					      .wavelength_nm = 0.1};

static unsigned rng = 2463534242u;
static double uni(void)
{
	rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
	return (rng + 0.5) / 4294967296.0;
}

static double gauss(void) /* Box-Muller */
{
	return sqrt(-2.0 * log(uni())) * cos(2.0 * M_PI * uni());
}

/* Frame = dark + 100 + 0.5 * (ref - dark), ref = dark + 200: subtracting 0.5 x the reference
 * leaves 100 in every bin, with variance max(raw, 1) + 0.25 max(ref, 1) per pixel; pixels at
 * -1 in either frame drop out. */
static void test_frame(enum bl_reduce_split split)
{
	static float raw[NR * NC], ref[NR * NC], dark[NR * NC], sig[NR * NC], var[NR * NC];
	int gaps = 0;
	for (int k = 0; k < NR * NC; k++) {
		dark[k] = 5.0f;
		ref[k] = 205.0f;
		raw[k] = 5.0f + 100.0f + 0.5f * 200.0f;
		if (k % 37 == 3)
			raw[k] = -1.0f, gaps++;
		if (k % 53 == 7)
			ref[k] = -1.0f, gaps += k % 37 != 3;
	}
	struct bl_reduce_config c = {.unit = BL_REDUCE_Q_NM,
				     .split = split,
				     .nbins = NB,
				     .dark = dark,
				     .mask_negative = true};
	struct bl_reduce_plan *p;
	CHECK_EQ_INT(bl_reduce_plan_create(&geo, &c, &p), 0);
	CHECK_EQ_INT(bl_bg_subtract_frame(p, raw, BL_REDUCE_F32, ref, 0.5, sig, var), 0);
	CHECK(isnan(sig[3]) && isnan(var[3]) && isnan(sig[7]));
	CHECK_NEAR(sig[0], 205.0 - 0.5 * 200.0,
		   1e-4); /* raw - s (ref - dark): the plan takes dark */
	CHECK_NEAR(var[0], 205.0 + 0.25 * 205.0, 1e-3);
	static double mean[NB], sem[NB], cnt[NB], v[NB];
	struct bl_reduce_result r = {.mean = mean, .sem = sem, .count = cnt, .variance = v};
	CHECK_EQ_INT(bl_reduce_integrate_sv(p, sig, var, 2.0, &r), 0);
	double total = 0;
	for (int b = 0; b < NB; b++) {
		total += cnt[b];
		if (cnt[b] > 0.5) {
			CHECK_NEAR(mean[b], 100.0 / 2.0, 1e-5);
			/* sem = sqrt(sum c^2 var) / (2 sum c); var the same for all pixels */
			double c2 = v[b] / (205.0 * 1.25);
			CHECK_NEAR(sem[b], sqrt(c2 * 205.0 * 1.25) / (2.0 * cnt[b]), 1e-6 * sem[b]);
		}
	}
	CHECK_NEAR(total, NR * NC - gaps, 1e-2);
	/* signal = raw, variance = max(raw, 1): the same as the Poisson fast path */
	static float f[NR * NC], fv[NR * NC];
	for (int k = 0; k < NR * NC; k++) {
		f[k] = (float)(20 + 30 * uni());
		fv[k] = fmaxf(f[k], 1.0f);
	}
	f[10] = NAN;
	static double m1[NB], s1[NB], n1[NB];
	struct bl_reduce_result r1 = {.mean = m1, .sem = s1, .count = n1};
	CHECK_EQ_INT(bl_reduce_integrate_sv(p, f, fv, 1.0, &r), 0);
	f[10] = -1.0f; /* dynamically masked by the fast path */
	CHECK_EQ_INT(bl_reduce_integrate1d(p, f, 1.0, &r1), 0);
	for (int b = 0; b < NB; b++) {
		CHECK_NEAR(mean[b], m1[b], 1e-9 * (1 + fabs(m1[b])));
		CHECK_NEAR(sem[b], s1[b], 1e-9 * (1 + s1[b]));
		CHECK_NEAR(cnt[b], n1[b], 1e-9);
	}
	CHECK_EQ_INT(bl_bg_subtract_frame(p, raw, BL_REDUCE_F32, NULL, 0.5, sig, var), -EINVAL);
	CHECK_EQ_INT(bl_reduce_integrate_sv(p, sig, var, 0.0, &r), -EINVAL);
	bl_reduce_plan_free(p);
}

static void test_profile(void)
{
	double m[3] = {10, 20, 30}, s[3] = {3, 4, 0}, rm[3] = {2, 4, 6}, rs[3] = {2, 0, 1};
	double om[3], os[3];
	CHECK_EQ_INT(bl_bg_subtract_profile(3, m, s, rm, rs, 1.5, om, os), 0);
	CHECK_NEAR(om[0], 7.0, 1e-12);
	CHECK_NEAR(om[2], 21.0, 1e-12);
	CHECK_NEAR(os[0], sqrt(9.0 + 2.25 * 4.0), 1e-12);
	CHECK_NEAR(os[1], 4.0, 1e-12);
	CHECK_NEAR(os[2], 1.5, 1e-12);
	CHECK_EQ_INT(bl_bg_subtract_profile(3, m, s, rm, NULL, 2.0, m, s), 0); /* in place */
	CHECK_NEAR(m[1], 12.0, 1e-12);
	CHECK_NEAR(s[1], 4.0, 1e-12);
}

/* Sample = 2.5 x reference + a peak outside the fit range (+ noise of known sigma): the fitted
 * scale is 2.5 within its error, and exactly 2.5 without noise. */
static void test_fit_scale(void)
{
	enum { N = 400 };
	static double q[N], m[N], s[N], rm[N], rs[N];
	for (int b = 0; b < N; b++) {
		q[b] = 0.05 * b;
		rm[b] = 50 + 200 * exp(-q[b] / 4);
		rs[b] = 0;
		m[b] = 2.5 * rm[b] + 1000 * exp(-pow((q[b] - 6) / 0.3, 2));
		s[b] = 1.0;
	}
	s[5] = 0; /* an empty bin is left out */
	m[5] = 1e9;
	double sc = 0, err = 0;
	int rc = bl_bg_fit_scale(N, q, m, s, rm, rs, 10, 19, &sc, &err);
	if (rc == -ENOTSUP)
		return; /* no GSL in this build */
	CHECK_EQ_INT(rc, 0);
	CHECK_NEAR(sc, 2.5, 1e-9);
	CHECK(err > 0 && err < 0.01);
	CHECK_EQ_INT(bl_bg_fit_scale(N, q, m, s, rm, rs, 0, 0.2, &sc, &err), 0); /* has bin 5 */
	CHECK_NEAR(sc, 2.5, 1e-9);
	int within = 0;
	for (int trial = 0; trial < 50; trial++) {
		for (int b = 0; b < N; b++) {
			s[b] = 2.0;
			rs[b] = 0.5;
			m[b] = 2.5 * (rm[b] + 0.5 * gauss()) + 2.0 * gauss();
		}
		CHECK_EQ_INT(bl_bg_fit_scale(N, q, m, s, rm, rs, 8, 19.9, &sc, &err), 0);
		within += fabs(sc - 2.5) < 3 * err;
	}
	CHECK(within >= 47); /* 3 sigma: 99.7 % */
	CHECK_EQ_INT(bl_bg_fit_scale(N, q, m, s, rm, rs, 100, 200, &sc, &err), -EINVAL);
}

/* Background 300 / (1 + r / 50) + 80 with Gaussian noise of sigma 4 and bright 3x3 spots: the
 * clipped mean is the background within 3 sem and the std 4 within 10 % in every bin of >= 100
 * pixels, while without clipping the spots pull the mean of their bins up; the spot pixels are
 * dropped. */
static void test_clip(void)
{
	static float f[NR * NC];
	static uint8_t spot[NR * NC];
	memset(spot, 0, sizeof(spot));
	for (int i = 0; i < NR; i++)
		for (int j = 0; j < NC; j++) {
			double r =
			    hypot(i + 0.5 - geo.beam_center_y_px, j + 0.5 - geo.beam_center_x_px);
			f[i * NC + j] = (float)(80 + 300 / (1 + r / 50) + 4 * gauss());
		}
	int nspot = 0;
	for (int s = 0; s < 40; s++) {
		int i0 = 2 + (int)(uni() * (NR - 4)), j0 = 2 + (int)(uni() * (NC - 4));
		for (int di = -1; di <= 1; di++)
			for (int dj = -1; dj <= 1; dj++) {
				size_t k = (size_t)(i0 + di) * NC + (size_t)(j0 + dj);
				nspot += !spot[k];
				spot[k] = 1;
				f[k] += 2000.0f;
			}
	}
	struct bl_reduce_config c = {.unit = BL_REDUCE_Q_NM, .nbins = NB};
	struct bl_bg_clip *s;
	CHECK_EQ_INT(bl_bg_clip_create(&geo, &c, &s), 0);
	if (!s)
		return;
	CHECK_EQ_INT(bl_bg_clip_nbins(s), NB);
	struct bl_reduce_plan *p;
	CHECK_EQ_INT(bl_reduce_plan_create(&geo, &c, &p), 0);
	static double rad[NB], mean[NB], sd[NB], sem[NB], cnt[NB], drop[NB], m0[NB], sd0[NB];
	static double truth[NB], tn[NB];
	/* the true background per bin: the mean of the noiseless background of its pixels */
	static float bgf[NR * NC];
	for (int i = 0; i < NR; i++)
		for (int j = 0; j < NC; j++) {
			double r =
			    hypot(i + 0.5 - geo.beam_center_y_px, j + 0.5 - geo.beam_center_x_px);
			bgf[i * NC + j] = (float)(80 + 300 / (1 + r / 50));
		}
	struct bl_reduce_result rt = {.mean = truth, .count = tn};
	CHECK_EQ_INT(bl_reduce_integrate1d(p, bgf, 1.0, &rt), 0);
	static float bg2[NR * NC]; /* and its spread across the bin */
	static double t2[NB];
	for (int k = 0; k < NR * NC; k++)
		bg2[k] = bgf[k] * bgf[k];
	struct bl_reduce_result rt2 = {.mean = t2};
	CHECK_EQ_INT(bl_reduce_integrate1d(p, bg2, 1.0, &rt2), 0);
	struct bl_bg_clip_result r = {rad, mean, sd, sem, cnt, drop};
	CHECK_EQ_INT(bl_bg_clip_run(s, f, BL_REDUCE_F32, 1.0, 3.0, 10, &r), 0);
	struct bl_bg_clip_result r0 = {NULL, m0, sd0, NULL, NULL, NULL};
	CHECK_EQ_INT(bl_bg_clip_run(s, f, BL_REDUCE_F32, 1.0, 3.0, 0, &r0), 0);
	int used = 0, pulled = 0;
	double dropped = 0;
	for (int b = 0; b < NB; b++) {
		dropped += drop[b];
		CHECK_NEAR(cnt[b] + drop[b], tn[b], 1e-9);
		if (cnt[b] < 100)
			continue;
		used++;
		/* the background varies across a bin: its spread adds to the noise's */
		CHECK(fabs(mean[b] - truth[b]) < 3 * sem[b] + 0.05);
		double want = sqrt(16.0 + fmax(0.0, t2[b] - truth[b] * truth[b]));
		CHECK(sd[b] > 0.9 * want && sd[b] < 1.1 * want);
		pulled += m0[b] > mean[b] + 5;
	}
	CHECK(used > 15);
	CHECK(pulled > 5);
	CHECK(dropped >= nspot && dropped < nspot + 0.01 * NR * NC);
	CHECK_EQ_INT(bl_bg_clip_run(s, f, BL_REDUCE_F32, 0.0, 3.0, 5, &r), -EINVAL);
	c.nbins_chi = 4;
	struct bl_bg_clip *s2 = NULL;
	CHECK_EQ_INT(bl_bg_clip_create(&geo, &c, &s2), -EINVAL);
	bl_reduce_plan_free(p);
	bl_bg_clip_free(s);
}

int main(void)
{
	test_frame(BL_REDUCE_SPLIT_NONE);
	test_frame(BL_REDUCE_SPLIT_BBOX);
	test_profile();
	test_fit_scale();
	test_clip();
	return CHECK_DONE();
}
