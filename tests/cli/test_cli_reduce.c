/* test_cli_reduce.c: `beamloop reduce` run as a subprocess on agent files written with the agent's
 * own writer (a synthetic ring), its /entry/process read back with the HDF5 C API. */
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"
#include "bl_nx.h"

#define W	    120
#define H	    100
#define NFRAMES	    3
#define RING_PX	    30.0
#define BEAM_X	    60.0
#define BEAM_Y	    50.0
#define PIXEL_M	    75e-6
#define DIST_M	    0.2
#define LAMBDA_A    1.0
#define GAP_ROW	    10 /* a detector gap: every pixel reads the dtype's maximum */
#define RING_COUNTS 1000

static char dir[96];
static char out[8192]; /* the last run's stdout and stderr */

/* Runs `beamloop ARGS...` with stdout and stderr in OUT; returns its exit status. */
static int run(const char *first, ...)
{
	char *argv[16] = {"beamloop", "reduce", (char *)first};
	int n = 3;
	va_list ap;
	va_start(ap, first);
	for (char *a; n < 15 && (a = va_arg(ap, char *));)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	char log[128];
	snprintf(log, sizeof(log), "%s/out.txt", dir);
	pid_t pid = fork();
	if (!pid) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(BL_BEAMLOOP, argv);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	FILE *f = fopen(log, "r");
	size_t len = f ? fread(out, 1, sizeof(out) - 1, f) : 0;
	out[len] = 0;
	if (f)
		fclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static double ring_q(void)
{
	double tth = atan(RING_PX * PIXEL_M / DIST_M);
	return 4 * M_PI * sin(tth / 2) / (LAMBDA_A / 10);
}

/* Frame K: background 10, a Gaussian ring (sigma 1 px) of radius RING_PX and height (K+1) *
 * RING_COUNTS, a gap row. */
static void make_frame(uint16_t *pix, int k)
{
	for (int r = 0; r < H; r++)
		for (int c = 0; c < W; c++) {
			double d = hypot(c + 0.5 - BEAM_X, r + 0.5 - BEAM_Y);
			double g = exp(-0.5 * (d - RING_PX) * (d - RING_PX));
			pix[r * W + c] = (uint16_t)lround(10 + (k + 1) * RING_COUNTS * g);
			if (r == GAP_ROW)
				pix[r * W + c] = 65535;
		}
}

/* Creates an agent file of NF frames; left open (and returned in *KEEP) when KEEP is given. */
static int make_file(const char *path, int nf, struct bl_nx **keep)
{
	struct bl_nx_static st = {.distance_m = DIST_M,
				  .x_pixel_m = PIXEL_M,
				  .y_pixel_m = PIXEL_M,
				  .beam_x_px = BEAM_X,
				  .beam_y_px = BEAM_Y,
				  .wavelength_A = LAMBDA_A,
				  .incidence_deg = NAN,
				  .width = W,
				  .height = H,
				  .type = BL_DTYPE_UINT16};
	snprintf(st.title, sizeof(st.title), "ring");
	char err[256];
	struct bl_nx *nx = NULL;
	int rc = bl_nx_create(&nx, path, &st, NULL, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "bl_nx_create: %s\n", err);
		return rc;
	}
	static uint16_t pix[W * H];
	size_t cap = bl_nx_chunk_bound(BL_DTYPE_UINT16, W * H), len = 0;
	void *chunk = malloc(cap);
	for (int k = 0; !rc && k < nf; k++) {
		make_frame(pix, k);
		rc = bl_nx_chunk_encode(BL_DTYPE_UINT16, pix, W * H, chunk, cap, &len);
		struct bl_nx_frame f = {(uint64_t)k, chunk, len, 1000u * (uint64_t)k, NULL};
		rc = rc ?: bl_nx_append(nx, &f);
	}
	free(chunk);
	struct bl_nx_totals t = {0};
	if (keep) {
		*keep = nx;
		return rc ?: bl_nx_flush(nx, &t);
	}
	int c = bl_nx_close(nx, &t, "complete");
	return rc ?: c;
}

static int dims(hid_t f, const char *path, hsize_t *d)
{
	hid_t ds = H5Dopen2(f, path, H5P_DEFAULT);
	if (ds < 0)
		return -1;
	hid_t sp = H5Dget_space(ds);
	int rank = H5Sget_simple_extent_dims(sp, d, NULL);
	H5Sclose(sp);
	H5Dclose(ds);
	return rank;
}

static double *read_doubles(hid_t f, const char *path, size_t n)
{
	double *v = calloc(n, sizeof(double));
	hid_t ds = H5Dopen2(f, path, H5P_DEFAULT);
	if (ds < 0 || H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
		free(v);
		v = NULL;
	}
	if (ds >= 0)
		H5Dclose(ds);
	return v;
}

static const char *read_str(hid_t f, const char *path)
{
	static char buf[256];
	buf[0] = 0;
	hid_t ds = H5Dopen2(f, path, H5P_DEFAULT);
	if (ds < 0)
		return "(missing)";
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	char *s = NULL;
	if (H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s) >= 0 && s) {
		snprintf(buf, sizeof(buf), "%s", s);
		H5free_memory(s);
	}
	H5Tclose(t);
	H5Dclose(ds);
	return buf;
}

static const char *read_attr(hid_t f, const char *obj, const char *name)
{
	static char buf[64];
	buf[0] = 0;
	hid_t a = H5Aopen_by_name(f, obj, name, H5P_DEFAULT, H5P_DEFAULT);
	if (a < 0)
		return "(missing)";
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, sizeof(buf));
	H5Tset_cset(t, H5T_CSET_UTF8);
	H5Aread(a, t, buf);
	buf[sizeof(buf) - 1] = 0;
	H5Tclose(t);
	H5Aclose(a);
	return buf;
}

static int argmax(const double *v, int n)
{
	int b = 0;
	for (int i = 1; i < n; i++)
		if (v[i] > v[b])
			b = i;
	return b;
}

/* Checks /entry/process of PATH as reduced with NBINS bins along AXIS ("q" or "two_theta"). */
static void check_process(const char *path, int nbins, const char *axis, double ring)
{
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	CHECK(f >= 0);
	if (f < 0)
		return;
	CHECK_STR(read_attr(f, "/entry/process", "NX_class"), "NXprocess");
	CHECK_STR(read_str(f, "/entry/process/program"), "beamloop reduce");
	CHECK(strlen(read_str(f, "/entry/process/date")) >= 19);
	CHECK_STR(read_str(f, "/entry/process/parameters/unit"), strcmp(axis, "q") ? "2th" : "q");
	CHECK_STR(read_str(f, "/entry/process/parameters/tilt_source"),
		  "not stored in the file: 0");
	double *nb = read_doubles(f, "/entry/process/parameters/bins", 1);
	CHECK(nb && *nb == nbins);
	free(nb);
	char p[96];
	snprintf(p, sizeof(p), "/entry/process/%s", axis);
	hsize_t d[3] = {0, 0, 0};
	CHECK_EQ_INT(dims(f, p, d), 1);
	CHECK_EQ_INT(d[0], nbins);
	const char *mats[] = {"/entry/process/I", "/entry/process/sigma", "/entry/process/sem",
			      "/entry/process/count", "/entry/process/waterfall/I"};
	for (int i = 0; i < 5; i++) {
		CHECK_EQ_INT(dims(f, mats[i], d), 2);
		CHECK_EQ_INT(d[0], NFRAMES);
		CHECK_EQ_INT(d[1], nbins);
	}
	CHECK_STR(read_attr(f, "/entry/process/waterfall", "signal"), "I");
	double *x = read_doubles(f, p, (size_t)nbins);
	double *I = read_doubles(f, "/entry/process/I", (size_t)NFRAMES * nbins);
	double *cnt = read_doubles(f, "/entry/process/count", (size_t)NFRAMES * nbins);
	CHECK(x && I && cnt);
	if (x && I && cnt) {
		int b = argmax(I, nbins);
		double width = x[1] - x[0];
		if (fabs(x[b] - ring) > 1.5 * width)
			fprintf(stderr, "ring at %g, expected %g (bin width %g)\n", x[b], ring,
				width);
		CHECK(fabs(x[b] - ring) <= 1.5 * width);
		/* frame 2 holds three times frame 0's ring */
		CHECK_NEAR((I[2 * nbins + b] - 10) / (I[b] - 10), 3.0, 0.05);
		double total = 0;
		for (int i = 0; i < nbins; i++)
			total += cnt[i];
		CHECK_NEAR(total, (double)(W * H - W), 0.5); /* the gap row is masked */
	}
	free(x);
	free(I);
	free(cnt);
	H5Fclose(f);
}

static void test_reduce(void)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/ring.nxs", dir);
	CHECK_EQ_INT(make_file(path, NFRAMES, NULL), 0);
	int rc = run(path, "--bins", "200", NULL);
	if (rc)
		fprintf(stderr, "%s", out);
	CHECK_EQ_INT(rc, 0);
	CHECK(strstr(out, "tilt 0 (not stored)") != NULL);
	CHECK(strstr(out, "incidence 0 deg (not stored, 0)") != NULL);
	check_process(path, 200, "q", ring_q());

	/* a second run replaces the group */
	rc = run(path, "--bins", "100", "--peaks", NULL);
	if (rc)
		fprintf(stderr, "%s", out);
	CHECK_EQ_INT(rc, 0);
	check_process(path, 100, "q", ring_q());
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	hsize_t d[2] = {0, 0};
	CHECK_EQ_INT(dims(f, "/entry/process/peaks/npeaks", d), 1);
	CHECK_EQ_INT(d[0], NFRAMES);
#ifdef BL_HAVE_GSL
	CHECK_EQ_INT(dims(f, "/entry/process/peaks/position", d), 1);
	CHECK(d[0] >= NFRAMES);
	double *pos = d[0] ? read_doubles(f, "/entry/process/peaks/position", d[0]) : NULL;
	int near = 0;
	for (hsize_t i = 0; pos && i < d[0]; i++)
		near += fabs(pos[i] - ring_q()) < 0.05 * ring_q();
	CHECK(near >= NFRAMES);
	free(pos);
#endif
	H5Fclose(f);

	/* two theta, bbox split: the peaks group is gone, the axis is two_theta */
	rc = run(path, "--bins", "150", "--unit", "2th", "--split", "bbox", NULL);
	CHECK_EQ_INT(rc, 0);
	check_process(path, 150, "two_theta", atan(RING_PX * PIXEL_M / DIST_M) * 180 / M_PI);
	f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	CHECK(H5Lexists(f, "/entry/process/peaks", H5P_DEFAULT) == 0);
	CHECK(H5Lexists(f, "/entry/process/q", H5P_DEFAULT) == 0);
	H5Fclose(f);
}

static void test_errors(void)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/missing.nxs", dir);
	CHECK_EQ_INT(run(path, NULL), 1);
	CHECK(strstr(out, "No such file or directory") != NULL);

	snprintf(path, sizeof(path), "%s/text.nxs", dir);
	FILE *t = fopen(path, "w");
	fputs("not hdf5\n", t);
	fclose(t);
	CHECK_EQ_INT(run(path, NULL), 1);
	CHECK(strstr(out, "not an HDF5 file") != NULL);

	snprintf(path, sizeof(path), "%s/plain.h5", dir);
	hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	H5Fclose(f);
	CHECK_EQ_INT(run(path, NULL), 1);
	CHECK(strstr(out, "not an agent NeXus file") != NULL);

	snprintf(path, sizeof(path), "%s/empty.nxs", dir);
	CHECK_EQ_INT(make_file(path, 0, NULL), 0);
	CHECK_EQ_INT(run(path, NULL), 1);
	CHECK(strstr(out, "no frames") != NULL);

	/* still open for SWMR writing: refused, and left untouched */
	snprintf(path, sizeof(path), "%s/open.nxs", dir);
	struct bl_nx *nx = NULL;
	CHECK_EQ_INT(make_file(path, 2, &nx), 0);
	CHECK_EQ_INT(run(path, NULL), 1);
	CHECK(strstr(out, "still open for SWMR writing") != NULL);
	struct bl_nx_totals tot = {0};
	if (nx)
		CHECK_EQ_INT(bl_nx_close(nx, &tot, "complete"), 0);
	CHECK_EQ_INT(run(path, NULL), 0); /* fine once closed */

	snprintf(path, sizeof(path), "%s/ring.nxs", dir);
	CHECK_EQ_INT(run(path, "--bins", "0", NULL), 2);
	CHECK(strstr(out, "usage:") != NULL);
	CHECK_EQ_INT(run(path, "--unit", "d", NULL), 2);
	snprintf(path, sizeof(path), "%s/ring.nxs", dir);
	CHECK_EQ_INT(run(path, "--mask", "/no/such/mask", NULL), 1);
	CHECK(strstr(out, "mask /no/such/mask") != NULL);
}

/* A static mask file masking the left half: counts drop by half the unmasked pixels. */
static void test_mask(void)
{
	char path[128], mpath[128];
	snprintf(path, sizeof(path), "%s/ring.nxs", dir);
	snprintf(mpath, sizeof(mpath), "%s/mask.bin", dir);
	static uint8_t m[W * H];
	for (int r = 0; r < H; r++)
		for (int c = 0; c < W; c++)
			m[r * W + c] = c < W / 2;
	FILE *f = fopen(mpath, "wb");
	fwrite(m, 1, sizeof(m), f);
	fclose(f);
	CHECK_EQ_INT(run(path, "--bins", "50", "--mask", mpath, NULL), 0);
	hid_t h = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	double *cnt = read_doubles(h, "/entry/process/count", NFRAMES * 50);
	double total = 0;
	for (int i = 0; cnt && i < 50; i++)
		total += cnt[i];
	CHECK_NEAR(total, (double)(W * H - W) / 2, 0.5);
	CHECK_STR(read_str(h, "/entry/process/parameters/mask"), mpath);
	free(cnt);
	H5Fclose(h);
	f = fopen(mpath, "wb");
	fwrite(m, 1, 10, f);
	fclose(f);
	CHECK_EQ_INT(run(path, "--mask", mpath, NULL), 1);
	CHECK(strstr(out, "one per pixel") != NULL);
}

/* With DIR: works there and leaves ring.nxs reduced with --bins 200 --peaks for the h5py peer. */
int main(int argc, char **argv)
{
	char err[256];
	if (bl_nx_init(err, sizeof(err))) {
		fprintf(stderr, "skip: %s\n", err);
		return 77;
	}
	if (argc > 1) {
		snprintf(dir, sizeof(dir), "%s", argv[1]);
		char cmd[256];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
		if (system(cmd))
			return 1;
	} else {
		snprintf(dir, sizeof(dir), "/tmp/bl_cli_reduce_XXXXXX");
		if (!mkdtemp(dir))
			return 1;
	}
	test_reduce();
	test_errors();
	test_mask();
	char ring[128];
	snprintf(ring, sizeof(ring), "%s/ring.nxs", dir);
	CHECK_EQ_INT(run(ring, "--bins", "200", "--peaks", NULL), 0);
	printf("%s", out);
	if (argc < 2 && !check_failures) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return check_failures ? 1 : 0;
}
