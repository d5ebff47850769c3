/* test_reduce.c: 1D azimuthal integration on small synthetic frames with known answers. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "bl_kernels.h"
#include "bl_reduce.h"

#define NR 64
#define NC 80
#define NB 40

static const struct bl_reduce_geometry geo = {.nrows = NR,
					      .ncols = NC,
					      .pixel_x_um = 172,
					      .pixel_y_um = 172,
					      .distance_mm = 100,
					      .beam_center_x_px = 30.5,
					      .beam_center_y_px = 20.25,
					      .wavelength_nm = 0.1};

static double prof[8][NB];

static struct bl_reduce_result res(void)
{
	struct bl_reduce_result r = {prof[0], prof[1], prof[2], prof[3], prof[4],
				     prof[5], prof[6], prof[7], NULL};
	return r;
}

/* Uniform frame, all corrections off: every non-empty bin reads the value, sem = sqrt(v/n). */
static void test_uniform(enum bl_reduce_split split)
{
	struct bl_reduce_config c = {.unit = BL_REDUCE_Q_NM, .split = split, .nbins = NB};
	struct bl_reduce_plan *p;
	CHECK_EQ_INT(bl_reduce_plan_create(&geo, &c, &p), 0);
	static float f[NR * NC];
	for (int i = 0; i < NR * NC; i++)
		f[i] = 25.0f;
	struct bl_reduce_result r = res();
	CHECK_EQ_INT(bl_reduce_integrate1d(p, f, 1.0, &r), 0);
	double total = 0;
	for (int b = 0; b < NB; b++) {
		total += r.count[b];
		if (r.count[b] > 0) {
			CHECK_NEAR(r.mean[b], 25.0, 1e-9);
			CHECK_NEAR(r.sem[b],
				   sqrt(25.0 * (split ? r.variance[b] / 25.0 : r.count[b])) /
				       r.norm[b],
				   1e-9);
			CHECK_NEAR(r.sigma[b], 5.0, 1e-9); /* spread of one pixel */
		}
	}
	CHECK_NEAR(total, NR * NC, 1e-3); /* every pixel counted once, split or not */
	if (split == BL_REDUCE_SPLIT_NONE)
		CHECK_EQ_INT(bl_reduce_plan_nnz(p), NR * NC);
	else
		CHECK(bl_reduce_plan_nnz(p) > NR * NC);
	bl_reduce_plan_free(p);
}

/* A ring of pixels at one q lands in the bin that holds that q. */
static void test_ring(void)
{
	struct bl_reduce_config c = {.unit = BL_REDUCE_Q_NM, .nbins = NB};
	struct bl_reduce_plan *p;
	CHECK_EQ_INT(bl_reduce_plan_create(&geo, &c, &p), 0);
	double lo, hi;
	bl_reduce_plan_range(p, &lo, &hi);
	double width = (hi - lo) / NB;
	int target = 17;
	static float f[NR * NC];
	int in_ring = 0;
	for (int i = 0; i < NR; i++)
		for (int j = 0; j < NC; j++) {
			double tth, chi, q;
			bl_reduce_pixel_position(&geo, i, j, &tth, &chi, &q);
			/* independent check of q for an untilted detector */
			double dx = (j + 0.5 - geo.beam_center_x_px) * 172e-6;
			double dy = (i + 0.5 - geo.beam_center_y_px) * 172e-6;
			double t2 = atan(sqrt(dx * dx + dy * dy) / 0.1);
			CHECK_NEAR(q, 4 * M_PI / 0.1 * sin(t2 / 2), 1e-5);
			int b = (int)((q - lo) / width);
			f[i * NC + j] = b == target ? 1000.0f : 0.0f;
			in_ring += b == target;
		}
	struct bl_reduce_result r = res();
	CHECK_EQ_INT(bl_reduce_integrate1d(p, f, 1.0, &r), 0);
	CHECK(in_ring > 0);
	for (int b = 0; b < NB; b++)
		CHECK_NEAR(r.mean[b], b == target ? 1000.0 : 0.0, 1e-9);
	CHECK_NEAR(r.count[target], in_ring, 0);
	CHECK_NEAR(r.radial[target], lo + (target + 0.5) * width, 1e-9);
	bl_reduce_plan_free(p);
}

/* Dark, flat, solid angle, polarization and a monitor: the mean of (raw - dark) / n is recovered,
 * variance is sum max(raw, 1), and the dynamic and static masks drop exactly their pixels. */
static void test_corrections_and_masks(enum bl_reduce_split split)
{
	static float dark[NR * NC], flat[NR * NC], f[NR * NC];
	static uint8_t mask[NR * NC];
	for (int i = 0; i < NR * NC; i++) {
		dark[i] = 2.0f;
		flat[i] = 0.5f + (float)(i % 7) * 0.1f;
		mask[i] = i % 13 == 0;
	}
	struct bl_reduce_config c = {.unit = BL_REDUCE_2TH_DEG,
				     .split = split,
				     .nbins = NB,
				     .dark = dark,
				     .flat = flat,
				     .mask = mask,
				     .solid_angle = true,
				     .polarization = true,
				     .polarization_factor = 0.95,
				     .mask_negative = true,
				     .saturation = 1e6};
	struct bl_reduce_plan *p;
	CHECK_EQ_INT(bl_reduce_plan_create(&geo, &c, &p), 0);
	bl_reduce_plan_free(p);
	/* sa and pol are smooth in q; flat, dark and monitor are tested exactly with them off */
	c.solid_angle = false;
	c.polarization = false;
	CHECK_EQ_INT(bl_reduce_plan_create(&geo, &c, &p), 0);
	int nneg = 0, nsat = 0;
	for (int i = 0; i < NR * NC; i++) {
		f[i] = dark[i] + 40.0f * flat[i] * 3.0f; /* monitor 3 */
		if (i % 17 == 3)
			f[i] = -1.0f, nneg += !mask[i];
		if (i % 19 == 5)
			f[i] = 2e6f, nsat += !mask[i];
		if (i % 23 == 7)
			f[i] = NAN;
	}
	struct bl_reduce_result r = res();
	CHECK_EQ_INT(bl_reduce_integrate1d(p, f, 3.0, &r), 0);
	double cnt = 0, var = 0, var_want = 0;
	for (int b = 0; b < NB; b++) {
		cnt += r.count[b];
		var += r.variance[b];
		if (r.count[b] > 0)
			CHECK_NEAR(r.mean[b], 40.0, 1e-4);
	}
	int valid = 0;
	for (int i = 0; i < NR * NC; i++)
		if (!mask[i] && f[i] >= 0 && f[i] < 1e6) {
			valid++;
			var_want += fmax(f[i], 1.0);
		}
	if (split == BL_REDUCE_SPLIT_NONE) {
		CHECK_NEAR(cnt, valid, 1e-6);
		CHECK_NEAR(var, var_want, 1e-6 * var_want);
	} else { /* float32 fractions sum to 1 per pixel within rounding; variance takes c^2 */
		CHECK_NEAR(cnt, valid, 1e-3);
		CHECK(var < var_want && var > 0.3 * var_want);
	}
	CHECK(nneg > 0 && nsat > 0);
	CHECK_EQ_INT(bl_reduce_integrate1d(p, f, 0.0, &r), -EINVAL);
	bl_reduce_plan_free(p);
}

/* Poisson frames: the propagated sem matches the scatter of the mean over many frames. */
static void test_poisson_variance(void)
{
	struct bl_reduce_config c = {.unit = BL_REDUCE_Q_NM,
				     .split = BL_REDUCE_SPLIT_BBOX,
				     .nbins = 10,
				     .solid_angle = true};
	struct bl_reduce_plan *p;
	CHECK_EQ_INT(bl_reduce_plan_create(&geo, &c, &p), 0);
	static float f[NR * NC];
	enum { NF = 400 };
	double m1[10] = {0}, m2[10] = {0}, sem[10] = {0};
	unsigned s = 12345;
	for (int k = 0; k < NF; k++) {
		for (int i = 0; i < NR * NC; i++) { /* Poisson(50) by inversion */
			double u, pr = exp(-50.0), cum = pr;
			int x = 0;
			s = s * 1103515245u + 12345u;
			u = (s >> 8) / 16777216.0;
			while (u > cum && x < 200) {
				x++;
				pr *= 50.0 / x;
				cum += pr;
			}
			f[i] = (float)x;
		}
		struct bl_reduce_result r = res();
		bl_reduce_integrate1d(p, f, 1.0, &r);
		for (int b = 0; b < 10; b++) {
			m1[b] += r.mean[b];
			m2[b] += r.mean[b] * r.mean[b];
			sem[b] += r.sem[b] / NF;
		}
	}
	for (int b = 0; b < 10; b++) {
		if (prof[4][b] < 50)
			continue;
		double mu = m1[b] / NF, sd = sqrt(m2[b] / NF - mu * mu);
		CHECK(fabs(sd / sem[b] - 1) < 0.15); /* 400 frames: ~4% scatter of the estimate */
	}
	bl_reduce_plan_free(p);
}

/* bbox with bins narrower than a pixel, so that pixels span more bins than the plan stores per
 * pixel (the rest go through its list of extra entries), some masked by the frame: every valid
 * pixel is still counted once and the mean is the frame's value. */
static void test_narrow_bins(void)
{
	enum { NBN = 600 };
	struct bl_reduce_config c = {.unit = BL_REDUCE_Q_NM,
				     .split = BL_REDUCE_SPLIT_BBOX,
				     .nbins = NBN,
				     .mask_negative = true};
	struct bl_reduce_plan *p;
	CHECK_EQ_INT(bl_reduce_plan_create(&geo, &c, &p), 0);
	CHECK(bl_reduce_plan_nnz(p) > 4L * NR * NC);
	static float f[NR * NC];
	static double mean[NBN], count[NBN];
	int valid = 0;
	for (int i = 0; i < NR * NC; i++) {
		f[i] = i % 11 == 4 ? -1.0f : 9.0f;
		valid += f[i] >= 0;
	}
	struct bl_reduce_result r = {.mean = mean, .count = count};
	CHECK_EQ_INT(bl_reduce_integrate1d(p, f, 1.0, &r), 0);
	double total = 0;
	for (int b = 0; b < NBN; b++) {
		total += count[b];
		if (count[b] > 1e-3)
			CHECK_NEAR(mean[b], 9.0, 1e-5);
	}
	CHECK_NEAR(total, valid, 1e-2);
	bl_reduce_plan_free(p);
}

/* Integer frames (Eiger uint16/uint32, Pilatus int32) give exactly the float32 frame's result:
 * both are converted to float32 pixel by pixel. */
static void test_dtypes(enum bl_reduce_split split)
{
	struct bl_reduce_config c = {.unit = BL_REDUCE_Q_NM,
				     .split = split,
				     .nbins = NB,
				     .solid_angle = true,
				     .mask_negative = true,
				     .saturation = 60000};
	struct bl_reduce_plan *p;
	CHECK_EQ_INT(bl_reduce_plan_create(&geo, &c, &p), 0);
	static float f[NR * NC];
	static uint16_t u16[NR * NC];
	static uint32_t u32[NR * NC];
	static int32_t i32[NR * NC];
	static double want[NB];
	for (int i = 0; i < NR * NC; i++) {
		int v = (i * 7919) % 1000;
		if (i % 29 == 0)
			v = 65535; /* saturated */
		u16[i] = (uint16_t)v;
		u32[i] = (uint32_t)v;
		i32[i] = i % 31 == 0 ? -2 : v; /* only int32 has negatives */
		f[i] = (float)v;
	}
	struct bl_reduce_result r = res();
	CHECK_EQ_INT(bl_reduce_integrate1d(p, f, 1.0, &r), 0);
	memcpy(want, r.mean, sizeof(want));
	const void *frames[] = {u16, u32};
	enum bl_reduce_dtype types[] = {BL_REDUCE_U16, BL_REDUCE_U32};
	for (int t = 0; t < 2; t++) {
		CHECK_EQ_INT(bl_reduce_integrate1d_dtype(p, frames[t], types[t], 1.0, &r), 0);
		for (int b = 0; b < NB; b++)
			CHECK(r.mean[b] == want[b]);
	}
	for (int i = 0; i < NR * NC; i++)
		f[i] = (float)i32[i];
	CHECK_EQ_INT(bl_reduce_integrate1d(p, f, 1.0, &r), 0);
	memcpy(want, r.mean, sizeof(want));
	CHECK_EQ_INT(bl_reduce_integrate1d_dtype(p, i32, BL_REDUCE_I32, 1.0, &r), 0);
	for (int b = 0; b < NB; b++)
		CHECK(r.mean[b] == want[b]);
	CHECK_EQ_INT(bl_reduce_integrate1d_dtype(p, i32, (enum bl_reduce_dtype)9, 1.0, &r),
		     -EINVAL);
	bl_reduce_plan_free(p);
}

/* 2D caking: a frame whose value depends only on chi (10, 20, 30 in thirds of the circle) reads
 * back that value in every non-empty (chi, q) bin, the chi rows add up to the 1D counts, and a
 * restricted chi range keeps exactly the pixels inside it. */
static void test_cake(void)
{
	enum { NCHI = 3 };
	static float f[NR * NC];
	int inside = 0; /* pixels with chi in [0, 90] degrees (the upper edge nudged as pyFAI's) */
	for (int i = 0; i < NR; i++)
		for (int j = 0; j < NC; j++) {
			double tth, chi, q;
			bl_reduce_pixel_position(&geo, i, j, &tth, &chi, &q);
			chi *= 180.0 / M_PI;
			f[i * NC + j] = chi < -60 ? 10.0f : chi < 60 ? 20.0f : 30.0f;
			inside += chi >= 0 && chi < 90 * (1 + FLT_EPSILON);
		}
	struct bl_reduce_config c = {.unit = BL_REDUCE_Q_NM, .nbins = NB, .nbins_chi = NCHI};
	struct bl_reduce_plan *p, *p1;
	CHECK_EQ_INT(bl_reduce_plan_create(&geo, &c, &p), 0);
	CHECK_EQ_INT(bl_reduce_plan_nbins(p), NB * NCHI);
	CHECK_EQ_INT(bl_reduce_plan_nbins_chi(p), NCHI);
	static double mean[NB * NCHI], count[NB * NCHI], chi[NB * NCHI], rad[NB * NCHI];
	struct bl_reduce_result r = {.radial = rad, .mean = mean, .count = count, .chi = chi};
	CHECK_EQ_INT(bl_reduce_integrate1d(p, f, 1.0, &r), 0);
	for (int k = 0; k < NCHI; k++) {
		CHECK_NEAR(chi[k * NB], -120.0 + 120.0 * k, 1e-4); /* pyFAI's upper bound nudge */
		for (int b = 0; b < NB; b++)
			if (count[k * NB + b] > 0)
				CHECK_NEAR(mean[k * NB + b], 10.0 * (k + 1), 1e-9);
	}
	c.nbins_chi = 0;
	CHECK_EQ_INT(bl_reduce_plan_create(&geo, &c, &p1), 0);
	struct bl_reduce_result r1 = res();
	CHECK_EQ_INT(bl_reduce_integrate1d(p1, f, 1.0, &r1), 0);
	for (int b = 0; b < NB; b++) {
		CHECK_NEAR(rad[b], r1.radial[b], 1e-12);
		CHECK_NEAR(count[b] + count[NB + b] + count[2 * NB + b], r1.count[b], 1e-9);
	}
	bl_reduce_plan_free(p);
	bl_reduce_plan_free(p1);
	c.nbins_chi = 2;
	c.chi_min_deg = 0;
	c.chi_max_deg = 90;
	CHECK_EQ_INT(bl_reduce_plan_create(&geo, &c, &p), 0);
	CHECK_EQ_INT(bl_reduce_integrate1d(p, f, 1.0, &r), 0);
	double total = 0;
	for (int b = 0; b < 2 * NB; b++)
		total += count[b];
	CHECK_NEAR(total, inside, 1e-9);
	CHECK_NEAR(chi[0], 22.5, 1e-4);
	CHECK_NEAR(chi[NB], 67.5, 1e-4);
	bl_reduce_plan_free(p);
}

/* 2D caking beyond the 16-bit table (400 x 200 = 80000 bins, 32-bit bins per pixel) and with
 * bbox splitting: a frame that depends only on q reads back its value in every non-empty bin,
 * and summing the chi rows gives the 1D counts (no split: exactly; bbox: each pixel's chi
 * fractions add up to 1). */
static void test_cake_wide(enum bl_reduce_split split)
{
	enum { NQ = 400, NCHI = 200 };
	static float f[NR * NC];
	for (int k = 0; k < NR * NC; k++)
		f[k] = 7.0f;
	struct bl_reduce_config c = {
	    .unit = BL_REDUCE_Q_NM, .split = split, .nbins = NQ, .nbins_chi = NCHI};
	struct bl_reduce_plan *p, *p1;
	CHECK_EQ_INT(bl_reduce_plan_create(&geo, &c, &p), 0);
	if (!p)
		return;
	CHECK_EQ_INT(bl_reduce_plan_nbins(p), NQ * NCHI);
	static double mean[NQ * NCHI], count[NQ * NCHI], chi[NQ * NCHI], sem[NQ * NCHI];
	struct bl_reduce_result r = {.mean = mean, .count = count, .chi = chi, .sem = sem};
	CHECK_EQ_INT(bl_reduce_integrate1d(p, f, 1.0, &r), 0);
	CHECK_NEAR(chi[0], -180.0 + 0.9, 1e-4);
	CHECK_NEAR(chi[(NCHI - 1) * NQ], 180.0 - 0.9, 1e-4);
	int used = 0;
	for (int b = 0; b < NQ * NCHI; b++)
		if (count[b] > 0) {
			used++;
			CHECK_NEAR(mean[b], 7.0, 1e-5);
		}
	CHECK(used > 1000);
	struct bl_reduce_gpu *gp = NULL; /* the GPU tables are 16-bit: refused, or no CUDA at all */
	int grc = bl_reduce_gpu_create(p, 0, 4, &gp);
	CHECK(grc == -ENOTSUP || grc == -ENODEV);
	CHECK(gp == NULL);
	bl_reduce_plan_free(p);
	c.nbins_chi = 0;
	static double c1[NQ];
	struct bl_reduce_result r2 = {.count = c1};
	CHECK_EQ_INT(bl_reduce_plan_create(&geo, &c, &p1), 0);
	CHECK_EQ_INT(bl_reduce_integrate1d(p1, f, 1.0, &r2), 0);
	double tot = 0, tot1 = 0;
	for (int b = 0; b < NQ; b++) {
		double s = 0;
		for (int k = 0; k < NCHI; k++)
			s += count[k * NQ + b];
		CHECK_NEAR(s, c1[b], split == BL_REDUCE_SPLIT_NONE ? 1e-9 : 1e-4 * (1 + c1[b]));
		tot += s;
		tot1 += c1[b];
	}
	CHECK_NEAR(tot, tot1, 1e-3);
	bl_reduce_plan_free(p1);
}

static void test_bad_input(void)
{
	struct bl_reduce_config c = {.unit = BL_REDUCE_Q_NM, .nbins = 0};
	struct bl_reduce_plan *p = NULL;
	CHECK_EQ_INT(bl_reduce_plan_create(&geo, &c, &p), -EINVAL);
	CHECK(p == NULL);
	struct bl_reduce_geometry g = geo;
	g.wavelength_nm = 0;
	c.nbins = 10;
	CHECK_EQ_INT(bl_reduce_plan_create(&g, &c, &p), -EINVAL);
	c.nbins = BL_REDUCE_MAX_BINS + 1;
	CHECK_EQ_INT(bl_reduce_plan_create(&geo, &c, &p), -EINVAL);
}

/* The GPU entry points answer -ENODEV where there is no GPU (or no CUDA in the build). */
static void test_gpu_absent(void)
{
	struct bl_kern_gpu gpus[1];
	if (bl_kern_gpus(gpus, 1) > 0)
		return; /* test_reduce_gpu covers it */
	struct bl_reduce_config c = {.unit = BL_REDUCE_Q_NM, .nbins = NB};
	struct bl_reduce_plan *p;
	CHECK_EQ_INT(bl_reduce_plan_create(&geo, &c, &p), 0);
	struct bl_reduce_gpu *g = NULL;
	CHECK_EQ_INT(bl_reduce_gpu_create(p, 0, 4, &g), -ENODEV);
	CHECK(g == NULL);
	CHECK(bl_reduce_gpu_host_alloc(64) == NULL);
	bl_reduce_gpu_free(NULL);
	bl_reduce_plan_free(p);
}

int main(void)
{
	test_uniform(BL_REDUCE_SPLIT_NONE);
	test_uniform(BL_REDUCE_SPLIT_BBOX);
	test_ring();
	test_corrections_and_masks(BL_REDUCE_SPLIT_NONE);
	test_corrections_and_masks(BL_REDUCE_SPLIT_BBOX);
	test_narrow_bins();
	test_dtypes(BL_REDUCE_SPLIT_NONE);
	test_dtypes(BL_REDUCE_SPLIT_BBOX);
	test_poisson_variance();
	test_cake();
	test_cake_wide(BL_REDUCE_SPLIT_NONE);
	test_cake_wide(BL_REDUCE_SPLIT_BBOX);
	test_bad_input();
	test_gpu_absent();
	return CHECK_DONE();
}
