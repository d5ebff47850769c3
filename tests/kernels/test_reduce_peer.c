/* test_reduce_peer.c: 1D integration agrees with pyFAI (integrate1d_ng, csr, no split and bbox)
 * on Pilatus 1M and Eiger 4M shaped frames and a tilted detector: intensity within 1e-4 and
 * sigma within 1e-3 (relative) in every bin of at least 100 pixels. Skips (77) without pyFAI. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "peer_io.h"
#include "bl_reduce.h"

#define NPT 1000

struct peer_case {
	const char *name;
	int nrows, ncols;
	double pixel_um, bcx, bcy, dist_mm, tilt, tpr;
	enum bl_reduce_split split;
};

static const struct peer_case cases[] = {
    {"pilatus1m no-split", 1043, 981, 172, 470.3, 610.8, 1500, 0, 0, BL_REDUCE_SPLIT_NONE},
    {"pilatus1m bbox", 1043, 981, 172, 470.3, 610.8, 1500, 0, 0, BL_REDUCE_SPLIT_BBOX},
    {"eiger4m no-split", 2167, 2070, 75, 1030.2, 1100.7, 2000, 0, 0, BL_REDUCE_SPLIT_NONE},
    {"eiger4m bbox", 2167, 2070, 75, 1030.2, 1100.7, 2000, 0, 0, BL_REDUCE_SPLIT_BBOX},
    {"pilatus1m tilted no-split", 1043, 981, 172, 300.6, 700.1, 400, 6.0, 35.0,
     BL_REDUCE_SPLIT_NONE},
    {"pilatus1m tilted bbox", 1043, 981, 172, 300.6, 700.1, 400, 6.0, 35.0, BL_REDUCE_SPLIT_BBOX},
};
#define NCASES ((int)(sizeof(cases) / sizeof(cases[0])))

static unsigned rng = 2463534242u;

/* Writes case K's frame, dark, flat, mask and parameters; keeps them in the given buffers. */
static int make_case(const char *dir, int k, float *frame, float *dark, float *flat, uint8_t *mask)
{
	const struct peer_case *c = &cases[k];
	int nr = c->nrows, nc = c->ncols;
	peer_frame(nr, nc, c->bcx, c->bcy, &rng, frame, dark, flat, mask);
	char path[512];
	snprintf(path, sizeof(path), "%s/case%d.txt", dir, k);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "nrows=%d\nncols=%d\npixel_x_um=%.17g\npixel_y_um=%.17g\nbcx=%.17g\nbcy=%.17g\n",
		nr, nc, c->pixel_um, c->pixel_um, c->bcx, c->bcy);
	fprintf(f, "distance_mm=%.17g\nwavelength_nm=0.1\ntilt_deg=%.17g\ntilt_plane_deg=%.17g\n",
		c->dist_mm, c->tilt, c->tpr);
	fprintf(f, "split=%s\nnpt=%d\npolarization=0.99\nnormalization=2.5\n",
		c->split == BL_REDUCE_SPLIT_BBOX ? "bbox" : "no", NPT);
	fclose(f);
	return peer_write_frame(dir, k, nr, nc, frame, dark, flat, mask);
}

static void compare(const char *dir, int k, const float *frame, const float *dark,
		    const float *flat, const uint8_t *mask)
{
	const struct peer_case *c = &cases[k];
	struct bl_reduce_geometry g = {.nrows = c->nrows,
				       .ncols = c->ncols,
				       .pixel_x_um = c->pixel_um,
				       .pixel_y_um = c->pixel_um,
				       .distance_mm = c->dist_mm,
				       .beam_center_x_px = c->bcx,
				       .beam_center_y_px = c->bcy,
				       .wavelength_nm = 0.1,
				       .tilt_deg = c->tilt,
				       .tilt_plane_deg = c->tpr};
	struct bl_reduce_config cf = {.unit = BL_REDUCE_Q_NM,
				      .split = c->split,
				      .nbins = NPT,
				      .dark = dark,
				      .flat = flat,
				      .mask = mask,
				      .solid_angle = true,
				      .polarization = true,
				      .polarization_factor = 0.99,
				      .mask_negative = true};
	struct bl_reduce_plan *p;
	CHECK_EQ_INT(bl_reduce_plan_create(&g, &cf, &p), 0);
	static double rad[NPT], mean[NPT], sem[NPT], cnt[NPT], peer[4 * NPT];
	struct bl_reduce_result r = {.radial = rad, .mean = mean, .sem = sem, .count = cnt};
	CHECK_EQ_INT(bl_reduce_integrate1d(p, frame, 2.5, &r), 0);
	bl_reduce_plan_free(p);
	char path[512];
	snprintf(path, sizeof(path), "%s/case%d_out.bin", dir, k);
	FILE *f = fopen(path, "rb");
	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_EQ_INT(fread(peer, sizeof(double), 4 * NPT, f), 4 * NPT);
	fclose(f);
	double worst_i = 0, worst_s = 0, worst_r = 0;
	int used = 0;
	for (int b = 0; b < NPT; b++) {
		double pr = peer[b], pi = peer[NPT + b], ps = peer[2 * NPT + b],
		       pc = peer[3 * NPT + b];
		worst_r = fmax(worst_r, fabs(rad[b] - pr) / fmax(pr, 1e-9));
		if (pc < 100)
			continue;
		used++;
		double di = fabs(mean[b] - pi) / fabs(pi), ds = fabs(sem[b] - ps) / ps;
		worst_i = fmax(worst_i, di);
		worst_s = fmax(worst_s, ds);
		if (di > 1e-4 || ds > 1e-3 || fabs(cnt[b] - pc) > 1e-3 * pc)
			fprintf(stderr,
				"%s bin %d q=%g: I %.9g vs %.9g, sigma %.9g vs %.9g, n %g vs %g\n",
				c->name, b, pr, mean[b], pi, sem[b], ps, cnt[b], pc);
		CHECK(di <= 1e-4);
		CHECK(ds <= 1e-3);
	}
	printf("%-26s bins>=100px %4d  max rel diff I %.2e  sigma %.2e  radial %.2e\n", c->name,
	       used, worst_i, worst_s, worst_r);
	CHECK(used > 500);
	CHECK(worst_r < 1e-6);
}

int main(void)
{
	if (system("/usr/bin/python3 -c 'import pyFAI' 2>/dev/null") != 0) {
		printf("pyFAI (python3-pyfai) not installed: skipped\n");
		return 77;
	}
	char dir[] = "/tmp/bl_reduce_peer_XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	size_t nmax = 2167 * 2070;
	float *frame = malloc(nmax * 4 * NCASES), *dark = malloc(nmax * 4 * NCASES);
	float *flat = malloc(nmax * 4 * NCASES);
	uint8_t *mask = malloc(nmax * NCASES);
	CHECK(frame && dark && flat && mask);
	for (int k = 0; k < NCASES; k++)
		CHECK_EQ_INT(make_case(dir, k, frame + k * nmax, dark + k * nmax, flat + k * nmax,
				       mask + k * nmax),
			     0);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s %d", BL_PEER_SCRIPT, dir, NCASES);
	CHECK_EQ_INT(system(cmd), 0);
	for (int k = 0; k < NCASES; k++)
		compare(dir, k, frame + k * nmax, dark + k * nmax, flat + k * nmax,
			mask + k * nmax);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(frame);
	free(dark);
	free(flat);
	free(mask);
	return CHECK_DONE();
}
