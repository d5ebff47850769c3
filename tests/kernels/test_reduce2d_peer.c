/* test_reduce2d_peer.c: 2D caking (q, chi) agrees with pyFAI (integrate2d_ng, csr, no split and
 * bbox, chi over -180..180) on Pilatus 1M shaped frames, 500 x 360 bins (32-bit bin table) and
 * a tilted detector at 100 x 36: intensity within 1e-4 and sigma within 1e-3 (relative) in every
 * bin of at least 100 pixels (pixel fractions for bbox), and, tighter than asked, in every bin of
 * at least 10. Skips (77) without pyFAI. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "peer_io.h"
#include "bl_reduce.h"

#define MAXBINS (500 * 360)

struct peer_case {
	const char *name;
	int nrows, ncols;
	double pixel_um, bcx, bcy, dist_mm, tilt, tpr;
	enum bl_reduce_split split;
	int nq, nchi;
};

static const struct peer_case cases[] = {
    {"pilatus1m no-split 500x360", 1043, 981, 172, 470.3, 610.8, 1500, 0, 0, BL_REDUCE_SPLIT_NONE,
     500, 360},
    {"pilatus1m bbox 500x360", 1043, 981, 172, 470.3, 610.8, 1500, 0, 0, BL_REDUCE_SPLIT_BBOX, 500,
     360},
    {"pilatus1m tilted no-split 100x36", 1043, 981, 172, 300.6, 700.1, 400, 6.0, 35.0,
     BL_REDUCE_SPLIT_NONE, 100, 36},
    {"pilatus1m tilted bbox 100x36", 1043, 981, 172, 300.6, 700.1, 400, 6.0, 35.0,
     BL_REDUCE_SPLIT_BBOX, 100, 36},
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
	fprintf(f, "split=%s\nnpt=%d\nnpt_azim=%d\npolarization=0.99\nnormalization=2.5\n",
		c->split == BL_REDUCE_SPLIT_BBOX ? "bbox" : "no", c->nq, c->nchi);
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
				      .nbins = c->nq,
				      .nbins_chi = c->nchi,
				      .dark = dark,
				      .flat = flat,
				      .mask = mask,
				      .solid_angle = true,
				      .polarization = true,
				      .polarization_factor = 0.99,
				      .mask_negative = true};
	struct bl_reduce_plan *p;
	CHECK_EQ_INT(bl_reduce_plan_create(&g, &cf, &p), 0);
	if (!p)
		return;
	int nb = c->nq * c->nchi;
	static double rad[MAXBINS], chi[MAXBINS], mean[MAXBINS], sem[MAXBINS], cnt[MAXBINS];
	static double peer[2 * 500 + 3 * MAXBINS + 360];
	struct bl_reduce_result r = {
	    .radial = rad, .chi = chi, .mean = mean, .sem = sem, .count = cnt};
	CHECK_EQ_INT(bl_reduce_integrate1d(p, frame, 2.5, &r), 0);
	bl_reduce_plan_free(p);
	char path[512];
	snprintf(path, sizeof(path), "%s/case%d_out.bin", dir, k);
	FILE *f = fopen(path, "rb");
	CHECK(f != NULL);
	if (!f)
		return;
	size_t want = (size_t)c->nq + (size_t)c->nchi + 3 * (size_t)nb;
	CHECK_EQ_INT(fread(peer, sizeof(double), want, f), want);
	fclose(f);
	const double *prad = peer, *pchi = peer + c->nq, *pi_ = pchi + c->nchi, *ps = pi_ + nb,
		     *pc = ps + nb;
	double worst_i = 0, worst_s = 0, worst_r = 0, worst_c = 0, worst_i10 = 0, worst_s10 = 0;
	int used = 0, used10 = 0, nonempty = 0;
	for (int b = 0; b < nb; b++) {
		int iq = b % c->nq, ic = b / c->nq;
		worst_r = fmax(worst_r, fabs(rad[b] - prad[iq]) / fmax(prad[iq], 1e-9));
		worst_c = fmax(worst_c, fabs(chi[b] - pchi[ic]));
		nonempty += pc[b] > 0;
		if (pc[b] < 10)
			continue;
		double di = fabs(mean[b] - pi_[b]) / fabs(pi_[b]),
		       ds = fabs(sem[b] - ps[b]) / ps[b];
		used10++;
		worst_i10 = fmax(worst_i10, di);
		worst_s10 = fmax(worst_s10, ds);
		if (di > 1e-4 || ds > 1e-3 || fabs(cnt[b] - pc[b]) > 1e-3 * pc[b])
			fprintf(
			    stderr,
			    "%s bin q%d chi%d: I %.9g vs %.9g, sigma %.9g vs %.9g, n %g vs %g\n",
			    c->name, iq, ic, mean[b], pi_[b], sem[b], ps[b], cnt[b], pc[b]);
		CHECK(di <= 1e-4);
		CHECK(ds <= 1e-3);
		if (pc[b] < 100)
			continue;
		used++;
		worst_i = fmax(worst_i, di);
		worst_s = fmax(worst_s, ds);
	}
	printf("%-33s bins>=100px %5d (>=10px %6d, non-empty %6d)  max rel diff I %.2e sigma "
	       "%.2e (>=10px: %.2e %.2e)  radial %.1e chi %.1e deg\n",
	       c->name, used, used10, nonempty, worst_i, worst_s, worst_i10, worst_s10, worst_r,
	       worst_c);
	CHECK(used10 > 1000);
	CHECK(worst_r < 1e-6);
	CHECK(worst_c < 1e-6);
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
	size_t nmax = 1043 * 981;
	float *frame = malloc(nmax * 4 * NCASES), *dark = malloc(nmax * 4 * NCASES);
	float *flat = malloc(nmax * 4 * NCASES);
	uint8_t *mask = malloc(nmax * NCASES);
	CHECK(frame && dark && flat && mask);
	for (int k = 0; k < NCASES; k++)
		CHECK_EQ_INT(make_case(dir, k, frame + k * nmax, dark + k * nmax, flat + k * nmax,
				       mask + k * nmax),
			     0);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s %d", BL_PEER2D_SCRIPT, dir, NCASES);
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
