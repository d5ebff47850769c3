/* bench_reduce.c: frames/s of this project's CPU 1D integration beside pyFAI's integrate1d_ng
 * (csr), same float32 frames, geometry and corrections, same run; Pilatus 1M (no split, bbox)
 * and Eiger 4M (no split); plus beamloop alone on the detector's own integers (Pilatus int32,
 * Eiger uint16). --gpu: instead, frames/s of the CUDA path for Pilatus 1M frames streamed from
 * pinned host memory in batches (exits 0 saying so when there is no GPU). Then 2D caking (q x
 * chi, 500 x 360 bins: the 32-bit bin table) of the Pilatus 1M frames, no split and bbox, beside
 * pyFAI's integrate2d_ng (csr).
 * Usage: bench_reduce [--seconds S] [--no-peer] [--gpu]. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bl_kernels.h"
#include "bl_reduce.h"

#define NFRAMES 8
#define NPT	1000

struct bench_case {
	const char *name;
	int nrows, ncols;
	double pixel_um, bcx, bcy, dist_mm;
	enum bl_reduce_split split;
	enum bl_reduce_dtype native; /* the detector's own pixel type */
};

static const struct bench_case cases[] = {
    {"pilatus1m", 1043, 981, 172, 470.3, 610.8, 1500, BL_REDUCE_SPLIT_NONE, BL_REDUCE_I32},
    {"pilatus1m", 1043, 981, 172, 470.3, 610.8, 1500, BL_REDUCE_SPLIT_BBOX, BL_REDUCE_I32},
    {"eiger4m", 2167, 2070, 75, 1030.2, 1100.7, 2000, BL_REDUCE_SPLIT_NONE, BL_REDUCE_U16},
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static unsigned rng = 2463534242u;
static double uni(void)
{
	rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
	return rng / 4294967296.0;
}

static int dump(const char *dir, const char *name, const void *buf, size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t w = fwrite(buf, 1, n, f);
	return fclose(f) == 0 && w == n ? 0 : -1;
}

/* Frames/s of P over NFRAMES frames of type DT at FR, cycled for SECS seconds. */
static double beamloop_fps(const struct bl_reduce_plan *p, const void *fr, enum bl_reduce_dtype dt,
			   size_t frame_bytes, struct bl_reduce_result *r, double secs)
{
	const char *b = fr;
	bl_reduce_integrate1d_dtype(p, b, dt, 2.5, r); /* warm up */
	long it = 0;
	double t0 = now(), t;
	do {
		for (int f = 0; f < NFRAMES; f++, it++)
			bl_reduce_integrate1d_dtype(p, b + f * frame_bytes, dt, 2.5, r);
		t = now() - t0;
	} while (t < secs);
	return it / t;
}

/* The frames as the detector writes them: Pilatus int32 with -1 in its gaps, Eiger uint16 with
 * its gaps at 65535 (masked as saturated). */
static void *native_frames(const float *fr, size_t n, enum bl_reduce_dtype dt)
{
	void *out = malloc(n * (dt == BL_REDUCE_U16 ? 2 : 4));
	for (size_t i = 0; out && i < n; i++) {
		if (dt == BL_REDUCE_U16)
			((uint16_t *)out)[i] = fr[i] < 0 ? 65535 : (uint16_t)fr[i];
		else
			((int32_t *)out)[i] = (int32_t)fr[i];
	}
	return out;
}

static double peer_fps(const char *dir, const struct bench_case *c, double secs)
{
	char cmd[1024];
	/* glibc returns large blocks to the OS after each numpy temporary unless told not to. */
	snprintf(cmd, sizeof(cmd),
		 "MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=536870912 OMP_NUM_THREADS=2 "
		 "/usr/bin/python3 %s/bench_reduce_pyfai.py %s %s %d %d %g %g %g %g %s %g",
		 BL_BENCH_DIR, dir, c->name, c->nrows, c->ncols, c->pixel_um, c->bcx, c->bcy,
		 c->dist_mm, c->split == BL_REDUCE_SPLIT_BBOX ? "bbox" : "no", secs);
	FILE *p = popen(cmd, "r");
	double fps = NAN;
	char line[256];
	while (p && fgets(line, sizeof(line), p))
		sscanf(line, "fps %lf", &fps);
	if (p)
		pclose(p);
	return fps;
}

/* GPU frames/s for case C: GPU_FRAMES int32 frames in pinned host memory, integrated in calls of
 * GPU_FRAMES (batches of GPU_BATCH per transfer, two streams) for SECS seconds. */
#define GPU_FRAMES 256
#define GPU_BATCH  16
static int gpu_bench(const struct bench_case *c, double secs)
{
	size_t n = (size_t)c->nrows * c->ncols;
	int32_t *fr = bl_reduce_gpu_host_alloc(n * 4 * GPU_FRAMES);
	static double mean[GPU_FRAMES][NPT], sem[GPU_FRAMES][NPT];
	static struct bl_reduce_result r[GPU_FRAMES];
	if (!fr)
		return -1;
	for (size_t x = 0; x < n * GPU_FRAMES; x++) {
		size_t k = x % n;
		int i = (int)(k / c->ncols), j = (int)(k % c->ncols);
		double rr = hypot(i - c->bcy, j - c->bcx), m = 20 + 5000 / (1 + rr / 40);
		fr[x] = (i % 212 >= 195 || j % 494 >= 487) ? -1 : (int32_t)(m + 3 * uni());
	}
	for (int f = 0; f < GPU_FRAMES; f++)
		r[f] = (struct bl_reduce_result){.mean = mean[f], .sem = sem[f]};
	struct bl_reduce_geometry g = {.nrows = c->nrows,
				       .ncols = c->ncols,
				       .pixel_x_um = c->pixel_um,
				       .pixel_y_um = c->pixel_um,
				       .distance_mm = c->dist_mm,
				       .beam_center_x_px = c->bcx,
				       .beam_center_y_px = c->bcy,
				       .wavelength_nm = 0.1};
	struct bl_reduce_config cf = {.unit = BL_REDUCE_Q_NM,
				      .split = c->split,
				      .nbins = NPT,
				      .solid_angle = true,
				      .polarization = true,
				      .polarization_factor = 0.99,
				      .mask_negative = true};
	struct bl_reduce_plan *p = NULL;
	struct bl_reduce_gpu *gp = NULL;
	int rc = bl_reduce_plan_create(&g, &cf, &p);
	if (rc == 0)
		rc = bl_reduce_gpu_create(p, 0, GPU_BATCH, &gp);
	if (rc == 0)
		rc = bl_reduce_integrate1d_gpu(gp, fr, BL_REDUCE_I32, GPU_FRAMES, NULL, r);
	long it = 0;
	double t0 = now(), t = 0;
	while (rc == 0 && t < secs) {
		rc = bl_reduce_integrate1d_gpu(gp, fr, BL_REDUCE_I32, GPU_FRAMES, NULL, r);
		it += GPU_FRAMES;
		t = now() - t0;
	}
	if (rc == 0)
		printf("%-10s %-6s gpu %10.1f frames/s (int32, pinned, batch %d, 2 streams)\n",
		       c->name, c->split == BL_REDUCE_SPLIT_BBOX ? "bbox" : "no", it / t,
		       GPU_BATCH);
	bl_reduce_gpu_free(gp);
	bl_reduce_plan_free(p);
	bl_reduce_gpu_host_free(fr);
	return rc;
}

/* 2D caking: frames/s of CF (a Pilatus 1M plan config, 2D) beside pyFAI's integrate2d_ng. */
#define NQ2D   500
#define NCHI2D 360
static void bench_2d(const struct bench_case *c, const float *fr, const float *dark,
		     const float *flat, const uint8_t *mask, struct bl_reduce_config cf, int peer,
		     double secs)
{
	size_t n = (size_t)c->nrows * c->ncols;
	struct bl_reduce_geometry g = {.nrows = c->nrows,
				       .ncols = c->ncols,
				       .pixel_x_um = c->pixel_um,
				       .pixel_y_um = c->pixel_um,
				       .distance_mm = c->dist_mm,
				       .beam_center_x_px = c->bcx,
				       .beam_center_y_px = c->bcy,
				       .wavelength_nm = 0.1};
	cf.nbins = NQ2D;
	cf.nbins_chi = NCHI2D;
	struct bl_reduce_plan *p;
	if (bl_reduce_plan_create(&g, &cf, &p) < 0)
		return;
	static double mean[NQ2D * NCHI2D], sem[NQ2D * NCHI2D], cnt[NQ2D * NCHI2D];
	struct bl_reduce_result r = {.mean = mean, .sem = sem, .count = cnt};
	double fps = beamloop_fps(p, fr, BL_REDUCE_F32, n * 4, &r, secs), pfps = NAN;
	bl_reduce_plan_free(p);
	const char *split = cf.split == BL_REDUCE_SPLIT_BBOX ? "bbox" : "no";
	if (peer) {
		char dir[] = "/tmp/bl_bench_reduce_XXXXXX";
		if (mkdtemp(dir) && !dump(dir, "frames.bin", fr, n * 4 * NFRAMES) &&
		    !dump(dir, "dark.bin", dark, n * 4) && !dump(dir, "flat.bin", flat, n * 4) &&
		    !dump(dir, "mask.bin", mask, n)) {
			char cmd[1024];
			snprintf(
			    cmd, sizeof(cmd),
			    "MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=536870912 "
			    "OMP_NUM_THREADS=2 /usr/bin/python3 %s/bench_reduce2d_pyfai.py %s %d "
			    "%d %g %g %g %g %s %d %d %g",
			    BL_BENCH_DIR, dir, c->nrows, c->ncols, c->pixel_um, c->bcx, c->bcy,
			    c->dist_mm, split, NQ2D, NCHI2D, secs);
			FILE *pp = popen(cmd, "r");
			char line[256];
			while (pp && fgets(line, sizeof(line), pp))
				sscanf(line, "fps %lf", &pfps);
			if (pp)
				pclose(pp);
		}
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	printf("%-10s %-6s %12.1f %12.1f %7.2f   2D %dx%d (q x chi), pyFAI integrate2d_ng csr\n",
	       c->name, split, fps, pfps, fps / pfps, NQ2D, NCHI2D);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	double secs = 3;
	int peer = 1, gpu = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			secs = atof(argv[++i]);
		else if (!strcmp(argv[i], "--no-peer"))
			peer = 0;
		else if (!strcmp(argv[i], "--gpu"))
			gpu = 1;
	}
	if (gpu) {
		struct bl_kern_gpu d[1];
		if (bl_kern_gpus(d, 1) <= 0) {
			printf("%s: no GPU, nothing measured\n", bl_kern_build_info());
			return 0;
		}
		printf("%s; gpu 0: %s sm_%d%d, %d SMs\n", bl_kern_build_info(), d[0].name,
		       d[0].cc_major, d[0].cc_minor, d[0].sm_count);
		for (int k = 0; k < 2; k++)
			if (gpu_bench(&cases[k], secs) < 0)
				return 1;
		return 0;
	}
	printf("%s, %d threads; %d bins in q, %d distinct frames cycled\n", bl_kern_build_info(),
	       bl_kern_cpu_threads(), NPT, NFRAMES);
	printf("%-10s %-6s %12s %12s %7s %14s\n", "detector", "split", "beamloop/s", "pyFAI csr/s",
	       "ratio", "beamloop int/s");
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct bench_case *c = &cases[k];
		size_t n = (size_t)c->nrows * c->ncols;
		float *fr = malloc(n * 4 * NFRAMES), *dark = malloc(n * 4), *flat = malloc(n * 4);
		uint8_t *mask = malloc(n);
		if (!fr || !dark || !flat || !mask)
			return 1;
		for (size_t x = 0; x < n; x++) {
			int i = (int)(x / c->ncols), j = (int)(x % c->ncols);
			dark[x] = (float)(5 + 2 * uni());
			flat[x] = (float)(0.9 + 0.2 * uni());
			mask[x] = (i > 400 && i < 420 && j > 100 && j < 600);
			double r = hypot(i - c->bcy, j - c->bcx), mean = 20 + 5000 / (1 + r / 40);
			for (int f = 0; f < NFRAMES; f++) {
				float v =
				    (float)floor(dark[x] + mean + sqrt(mean) * (uni() - 0.5) * 3);
				if (i % 212 >= 195 || j % 494 >= 487)
					v = -1;
				fr[f * n + x] = v;
			}
		}
		struct bl_reduce_geometry g = {.nrows = c->nrows,
					       .ncols = c->ncols,
					       .pixel_x_um = c->pixel_um,
					       .pixel_y_um = c->pixel_um,
					       .distance_mm = c->dist_mm,
					       .beam_center_x_px = c->bcx,
					       .beam_center_y_px = c->bcy,
					       .wavelength_nm = 0.1};
		struct bl_reduce_config cf = {.unit = BL_REDUCE_Q_NM,
					      .split = c->split,
					      .nbins = NPT,
					      .dark = dark,
					      .flat = flat,
					      .mask = mask,
					      .solid_angle = true,
					      .polarization = true,
					      .polarization_factor = 0.99,
					      .mask_negative = true,
					      /* Eiger's uint16 gaps; no float frame reaches it */
					      .saturation = 65535};
		struct bl_reduce_plan *p;
		if (bl_reduce_plan_create(&g, &cf, &p) < 0)
			return 1;
		struct bl_reduce_config cf2d = cf;
		static double mean[NPT], sem[NPT], sig[NPT], var[NPT], nrm[NPT], cnt[NPT];
		struct bl_reduce_result r = {.mean = mean,
					     .sem = sem,
					     .signal = sig,
					     .variance = var,
					     .norm = nrm,
					     .count = cnt};
		double fps = beamloop_fps(p, fr, BL_REDUCE_F32, n * 4, &r, secs), pfps = NAN;
		double nfps = NAN;
		void *nat = native_frames(fr, n * NFRAMES, c->native);
		if (nat)
			nfps = beamloop_fps(p, nat, c->native,
					    n * (c->native == BL_REDUCE_U16 ? 2 : 4), &r, secs);
		free(nat);
		bl_reduce_plan_free(p);
		if (peer) {
			char dir[] = "/tmp/bl_bench_reduce_XXXXXX";
			if (mkdtemp(dir) && !dump(dir, "frames.bin", fr, n * 4 * NFRAMES) &&
			    !dump(dir, "dark.bin", dark, n * 4) &&
			    !dump(dir, "flat.bin", flat, n * 4) && !dump(dir, "mask.bin", mask, n))
				pfps = peer_fps(dir, c, secs);
			char cmd[600];
			snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
			if (system(cmd) != 0)
				fprintf(stderr, "could not remove %s\n", dir);
		}
		printf("%-10s %-6s %12.1f %12.1f %7.2f %8.1f %-5s\n", c->name,
		       c->split == BL_REDUCE_SPLIT_BBOX ? "bbox" : "no", fps, pfps, fps / pfps,
		       nfps, c->native == BL_REDUCE_U16 ? "u16" : "i32");
		fflush(stdout);
		if (k == 0) { /* 2D caking on the same Pilatus 1M frames, no split and bbox */
			cf2d.split = BL_REDUCE_SPLIT_NONE;
			bench_2d(c, fr, dark, flat, mask, cf2d, peer, secs);
			cf2d.split = BL_REDUCE_SPLIT_BBOX;
			bench_2d(c, fr, dark, flat, mask, cf2d, peer, secs);
		}
		free(fr);
		free(dark);
		free(flat);
		free(mask);
	}
	return 0;
}
