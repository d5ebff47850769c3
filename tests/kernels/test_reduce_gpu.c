/* test_reduce_gpu.c: the GPU integration agrees with the CPU reference on Pilatus-1M-shaped
 * synthetic frames (no split and bbox, float32 and int32, pinned and pageable memory, per-frame
 * normalization); skips (77) without a GPU. Tolerance: relative 1e-5 on bins of >= 100 pixels
 * (the GPU adds in another order, with atomics), absolute 1e-9 of the value elsewhere. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "bl_kernels.h"
#include "bl_reduce.h"

#define NR    1043
#define NC    981
#define NF    5 /* more than one batch of 2, odd: both streams, a short last batch */
#define NBINS 1000

static unsigned rng = 12345u;
static double uni(void)
{
	rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
	return rng / 4294967296.0;
}

static double worst;

static void compare(const double *a, const double *b, const double *count, const char *what)
{
	for (int i = 0; i < NBINS; i++) {
		double tol = count[i] >= 100 ? 1e-5 * fabs(b[i]) : 1e-9 * fabs(b[i]) + 1e-6;
		if (count[i] >= 100 && b[i] != 0)
			worst = fmax(worst, fabs(a[i] - b[i]) / fabs(b[i]));
		if (!(fabs(a[i] - b[i]) <= tol)) {
			fprintf(stderr, "%s bin %d: gpu %.10g cpu %.10g (count %g)\n", what, i,
				a[i], b[i], count[i]);
			CHECK(0);
			return;
		}
	}
}

static void run_case(int dev, enum bl_reduce_split split, enum bl_reduce_dtype dt, bool pinned)
{
	size_t n = (size_t)NR * NC;
	float *dark = malloc(n * 4), *flat = malloc(n * 4);
	uint8_t *mask = malloc(n);
	size_t bytes = n * 4 * NF;
	void *frames = pinned ? bl_reduce_gpu_host_alloc(bytes) : malloc(bytes);
	CHECK(dark && flat && mask && frames);
	if (!dark || !flat || !mask || !frames)
		return;
	for (size_t x = 0; x < n; x++) {
		int i = (int)(x / NC), j = (int)(x % NC);
		dark[x] = (float)(5 + 2 * uni());
		flat[x] = (float)(0.9 + 0.2 * uni());
		mask[x] = i > 400 && i < 420 && j > 100 && j < 600;
		double r = hypot(i - 610.8, j - 470.3), mean = 20 + 5000 / (1 + r / 40);
		for (int f = 0; f < NF; f++) {
			double v = floor(dark[x] + mean + sqrt(mean) * (uni() - 0.5) * 3);
			if (i % 212 >= 195 || j % 494 >= 487)
				v = -1; /* Pilatus gaps: dynamically masked */
			if (f == 2 && x % 997 == 0)
				v = 2e6; /* saturated */
			if (dt == BL_REDUCE_I32)
				((int32_t *)frames)[f * n + x] = (int32_t)v;
			else
				((float *)frames)[f * n + x] = (float)v;
		}
	}
	struct bl_reduce_geometry g = {.nrows = NR,
				       .ncols = NC,
				       .pixel_x_um = 172,
				       .pixel_y_um = 172,
				       .distance_mm = 1500,
				       .beam_center_x_px = 470.3,
				       .beam_center_y_px = 610.8,
				       .wavelength_nm = 0.1,
				       .tilt_deg = 3,
				       .tilt_plane_deg = 35};
	struct bl_reduce_config c = {.unit = BL_REDUCE_Q_NM,
				     .split = split,
				     .nbins = NBINS,
				     .dark = dark,
				     .flat = flat,
				     .mask = mask,
				     .solid_angle = true,
				     .polarization = true,
				     .polarization_factor = 0.99,
				     .mask_negative = true,
				     .saturation = 1e6};
	struct bl_reduce_plan *p = NULL;
	struct bl_reduce_gpu *gp = NULL;
	CHECK_EQ_INT(bl_reduce_plan_create(&g, &c, &p), 0);
	CHECK_EQ_INT(bl_reduce_gpu_create(p, dev, 2, &gp), 0);
	static double cpu[6][NBINS], gpu[NF][6][NBINS];
	struct bl_reduce_result rg[NF];
	double norm[NF];
	for (int f = 0; f < NF; f++) {
		norm[f] = 1.0 + 0.5 * f;
		rg[f] = (struct bl_reduce_result){.signal = gpu[f][0],
						  .variance = gpu[f][1],
						  .norm = gpu[f][2],
						  .count = gpu[f][3],
						  .mean = gpu[f][4],
						  .sem = gpu[f][5]};
	}
	if (p && gp) {
		CHECK_EQ_INT(bl_reduce_integrate1d_gpu(gp, frames, dt, NF, norm, rg), 0);
		size_t eb = 4;
		for (int f = 0; f < NF; f++) {
			struct bl_reduce_result rc = {.signal = cpu[0],
						      .variance = cpu[1],
						      .norm = cpu[2],
						      .count = cpu[3],
						      .mean = cpu[4],
						      .sem = cpu[5]};
			CHECK_EQ_INT(bl_reduce_integrate1d_dtype(p, (char *)frames + f * n * eb, dt,
								 norm[f], &rc),
				     0);
			static const char *names[6] = {"signal", "variance", "norm",
						       "count",	 "mean",     "sem"};
			for (int q = 0; q < 6; q++)
				compare(gpu[f][q], cpu[q], cpu[3], names[q]);
		}
	}
	printf("split %d dtype %d pinned %d: worst relative difference %.2g\n", split, dt, pinned,
	       worst);
	bl_reduce_gpu_free(gp);
	bl_reduce_plan_free(p);
	if (pinned)
		bl_reduce_gpu_host_free(frames);
	else
		free(frames);
	free(dark);
	free(flat);
	free(mask);
}

int main(void)
{
	struct bl_kern_gpu g[1];
	if (bl_kern_gpus(g, 1) <= 0) {
		printf("no GPU (%s): skipped\n", bl_kern_build_info());
		return 77;
	}
	printf("gpu 0: %s sm_%d%d\n", g[0].name, g[0].cc_major, g[0].cc_minor);
	run_case(0, BL_REDUCE_SPLIT_NONE, BL_REDUCE_F32, false);
	run_case(0, BL_REDUCE_SPLIT_NONE, BL_REDUCE_I32, true);
	run_case(0, BL_REDUCE_SPLIT_BBOX, BL_REDUCE_F32, true);
	run_case(0, BL_REDUCE_SPLIT_BBOX, BL_REDUCE_I32, false);
	return CHECK_DONE();
}
