/* cmd_reduce.c: `beamloop reduce FILE`: integrates every frame of an agent NeXus file (and finds
 * peaks) with the geometry stored in it, then writes the results to /entry/process. */
/*
 * Files the agent is still writing are refused: the read-only open fails on a file open for SWMR
 * writing (HDF5's superblock flags; also left by an agent that crashed: `h5clear --status`), and
 * /entry/ingest/status "writing" is refused too; "complete", "incomplete", "interrupted" and
 * "failed" files reduce. Geometry: NXsas distance, pixel sizes, beam centre (hwdb's Fit2D values,
 * as the agent stores them), wavelength; /entry/incident_angle when stored; tilt is not in the
 * agent's layout, so 0 (both said in the output and in /entry/process/parameters). Mask: the
 * optional --mask FILE (raw bytes, one per pixel, nonzero masked) plus the dynamic one (raw < 0,
 * raw >= the dtype's maximum: Eiger gaps and saturated pixels). Results are held in memory
 * (4 x nframes x nbins doubles) and written after the read-only handle is closed; a re-run
 * deletes /entry/process and writes it again (HDF5 does not shrink the file: h5repack does). A
 * frame whose chunk is missing or does not decode reads NaN and is counted as missing.
 */
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bl_dstream.h"
#include "bl_nx.h"
#include "cli.h"
#include "reduce_cli.h"

#define DATA_PATH "/entry/instrument/detector/data"

static void usage(void)
{
	fputs("usage: beamloop reduce FILE [--bins N] [--unit q|2th] [--split none|bbox] "
	      "[--mask FILE] [--peaks]\n",
	      stderr);
}

static int parse_args(int argc, char **argv, struct bl_cli_reduce *r)
{
	r->nbins = 1000;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--peaks")) {
			r->peaks = true;
			continue;
		}
		if (a[0] != '-') {
			if (r->path)
				return -EINVAL;
			r->path = a;
			continue;
		}
		if (!v)
			return -EINVAL;
		i++;
		char *end;
		if (!strcmp(a, "--bins")) {
			long n = strtol(v, &end, 10);
			if (*end || n < 1 || n > BL_REDUCE_MAX_BINS)
				return -EINVAL;
			r->nbins = (int)n;
		} else if (!strcmp(a, "--unit") && (!strcmp(v, "q") || !strcmp(v, "2th"))) {
			r->unit = v[0] == 'q' ? BL_REDUCE_Q_NM : BL_REDUCE_2TH_DEG;
		} else if (!strcmp(a, "--split") && (!strcmp(v, "none") || !strcmp(v, "bbox"))) {
			r->split = v[0] == 'n' ? BL_REDUCE_SPLIT_NONE : BL_REDUCE_SPLIT_BBOX;
		} else if (!strcmp(a, "--mask")) {
			r->mask_path = v;
		} else {
			return -EINVAL;
		}
	}
	return r->path ? 0 : -EINVAL;
}

/* Reads the scalar number at PATH; -ENOENT when it is not there. */
static int read_num(hid_t f, const char *path, double *v)
{
	if (H5Lexists(f, path, H5P_DEFAULT) <= 0)
		return -ENOENT;
	hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
	int rc = d >= 0 && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0
		     ? 0
		     : -EIO;
	if (d >= 0)
		H5Dclose(d);
	return rc;
}

/* Reads the fixed-length string at PATH into OUT; -ENOENT when it is not there. */
static int read_fixed_str(hid_t f, const char *path, char *out, size_t cap)
{
	if (H5Lexists(f, "/entry/ingest", H5P_DEFAULT) <= 0 || H5Lexists(f, path, H5P_DEFAULT) <= 0)
		return -ENOENT;
	hid_t d = H5Dopen2(f, path, H5P_DEFAULT), t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, cap);
	H5Tset_strpad(t, H5T_STR_NULLTERM);
	memset(out, 0, cap);
	int rc = d >= 0 && H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0 ? 0 : -EIO;
	out[cap - 1] = 0;
	H5Tclose(t);
	if (d >= 0)
		H5Dclose(d);
	return rc;
}

/* Opens PATH read-only, telling a file still open for (SWMR) writing from one that is no HDF5. */
static hid_t open_ro(const char *path)
{
	struct stat st;
	if (stat(path, &st)) {
		fprintf(stderr, "beamloop reduce: %s: %s\n", path, strerror(errno));
		return -1;
	}
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (f >= 0)
		return f;
	hid_t s = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
	if (s >= 0) {
		H5Fclose(s);
		fprintf(
		    stderr,
		    "beamloop reduce: %s: still open for SWMR writing (the agent is writing it, "
		    "or crashed: `h5clear --status` after checking); reduce it once closed\n",
		    path);
	} else {
		fprintf(stderr, "beamloop reduce: %s: not an HDF5 file\n", path);
	}
	return -1;
}

/* Reads the geometry and the frame shape; prints why and returns -EINVAL when it is no agent
 * file or is still being written. */
static int read_meta(hid_t f, struct bl_cli_reduce *r)
{
	const char *p = r->path;
	if (H5Lexists(f, "/entry", H5P_DEFAULT) <= 0 ||
	    H5Lexists(f, "/entry/instrument", H5P_DEFAULT) <= 0 ||
	    H5Lexists(f, "/entry/instrument/detector", H5P_DEFAULT) <= 0 ||
	    H5Lexists(f, DATA_PATH, H5P_DEFAULT) <= 0) {
		fprintf(stderr, "beamloop reduce: %s: not an agent NeXus file (no %s)\n", p,
			DATA_PATH);
		return -EINVAL;
	}
	char status[64];
	if (!read_fixed_str(f, "/entry/ingest/status", status, sizeof(status)) &&
	    !strcmp(status, "writing")) {
		fprintf(stderr,
			"beamloop reduce: %s: status is 'writing' (the agent has not closed it)\n",
			p);
		return -EINVAL;
	}
	double dist, px, py, bx, by, wl, inc = 0;
	if (read_num(f, "/entry/instrument/detector/distance", &dist) ||
	    read_num(f, "/entry/instrument/detector/x_pixel_size", &px) ||
	    read_num(f, "/entry/instrument/detector/y_pixel_size", &py) ||
	    read_num(f, "/entry/instrument/detector/beam_center_x", &bx) ||
	    read_num(f, "/entry/instrument/detector/beam_center_y", &by) ||
	    read_num(f, "/entry/instrument/monochromator/wavelength", &wl)) {
		fprintf(stderr, "beamloop reduce: %s: not an agent NeXus file (geometry missing)\n",
			p);
		return -EINVAL;
	}
	r->incidence_stored = !read_num(f, "/entry/incident_angle", &inc);
	hid_t d = H5Dopen2(f, DATA_PATH, H5P_DEFAULT);
	hid_t sp = d >= 0 ? H5Dget_space(d) : -1, t = d >= 0 ? H5Dget_type(d) : -1;
	hsize_t dims[3] = {0, 0, 0};
	int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
	if (rank == 3)
		H5Sget_simple_extent_dims(sp, dims, NULL);
	size_t elem = t >= 0 ? H5Tget_size(t) : 0;
	bool uint = t >= 0 && H5Tget_class(t) == H5T_INTEGER && H5Tget_sign(t) == H5T_SGN_NONE;
	if (t >= 0)
		H5Tclose(t);
	if (sp >= 0)
		H5Sclose(sp);
	if (d >= 0)
		H5Dclose(d);
	if (rank != 3 || !uint || (elem != 2 && elem != 4) || !dims[1] || !dims[2]) {
		fprintf(stderr,
			"beamloop reduce: %s: not an agent NeXus file (data is not "
			"[N, height, width] uint16/uint32)\n",
			p);
		return -EINVAL;
	}
	r->elem = (int)elem;
	r->nframes = dims[0];
	r->geo = (struct bl_reduce_geometry){
	    .nrows = (int)dims[1],
	    .ncols = (int)dims[2],
	    .pixel_x_um = px * 1e6,
	    .pixel_y_um = py * 1e6,
	    .distance_mm = dist * 1e3,
	    .beam_center_x_px = bx,
	    .beam_center_y_px = by,
	    .wavelength_nm = wl / 10.0,
	    .incidence_deg = inc,
	};
	return 0;
}

/* Frame numbers (the detector's), or the indices when the column is short. */
static int read_frame_numbers(hid_t f, struct bl_cli_reduce *r)
{
	r->frame_number = calloc(r->nframes, sizeof(uint64_t));
	if (!r->frame_number)
		return -ENOMEM;
	for (uint64_t i = 0; i < r->nframes; i++)
		r->frame_number[i] = i;
	const char *path = "/entry/instrument/detector/frame_number";
	if (H5Lexists(f, path, H5P_DEFAULT) <= 0)
		return 0;
	hid_t d = H5Dopen2(f, path, H5P_DEFAULT), sp = d >= 0 ? H5Dget_space(d) : -1;
	hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
	if (n == (hssize_t)r->nframes)
		H5Dread(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, r->frame_number);
	if (sp >= 0)
		H5Sclose(sp);
	if (d >= 0)
		H5Dclose(d);
	return 0;
}

/* A static mask: raw bytes, one per pixel (nonzero = masked), exactly nrows*ncols of them. */
static int load_mask(const struct bl_cli_reduce *r, uint8_t **out)
{
	size_t n = (size_t)r->geo.nrows * (size_t)r->geo.ncols;
	FILE *f = fopen(r->mask_path, "rb");
	if (!f) {
		int e = errno;
		fprintf(stderr, "beamloop reduce: mask %s: %s\n", r->mask_path, strerror(e));
		return -e;
	}
	uint8_t *m = malloc(n + 1);
	size_t got = m ? fread(m, 1, n + 1, f) : 0;
	fclose(f);
	if (!m)
		return -ENOMEM;
	if (got != n) {
		fprintf(stderr, "beamloop reduce: mask %s: %zu bytes, want %zu (one per pixel)\n",
			r->mask_path, got, n);
		free(m);
		return -EINVAL;
	}
	*out = m;
	return 0;
}

static int alloc_results(struct bl_cli_reduce *r)
{
	size_t n = (size_t)r->nframes * (size_t)r->nbins;
	r->radial = calloc((size_t)r->nbins, sizeof(double));
	r->mean = calloc(n, sizeof(double));
	r->sigma = calloc(n, sizeof(double));
	r->sem = calloc(n, sizeof(double));
	r->count = calloc(n, sizeof(double));
	if (r->peaks) {
		r->npeaks = calloc(r->nframes, sizeof(int));
		r->peak = calloc(r->nframes * BL_CLI_REDUCE_MAX_PEAKS, sizeof(struct bl_peak1d));
	}
	return r->radial && r->mean && r->sigma && r->sem && r->count &&
		       (!r->peaks || (r->npeaks && r->peak))
		   ? 0
		   : -ENOMEM;
}

static void free_results(struct bl_cli_reduce *r)
{
	free(r->frame_number);
	free(r->radial);
	free(r->mean);
	free(r->sigma);
	free(r->sem);
	free(r->count);
	free(r->npeaks);
	free(r->peak);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Peaks of frame I's profile; -ENOTSUP (no GSL) turns peak finding off with one warning. */
static void find_peaks(struct bl_cli_reduce *r, uint64_t i)
{
	size_t o = (size_t)i * (size_t)r->nbins;
	int n = bl_peak1d_find(r->radial, r->mean + o, r->sem + o, r->nbins, NULL,
			       r->peak + i * BL_CLI_REDUCE_MAX_PEAKS, BL_CLI_REDUCE_MAX_PEAKS);
	if (n == -ENOTSUP && !r->peaks_unavailable) {
		fputs("beamloop reduce: peak finding needs GSL (not in this build): no peaks\n",
		      stderr);
		r->peaks_unavailable = true;
	}
	r->npeaks[i] = n < 0 ? 0 : n > BL_CLI_REDUCE_MAX_PEAKS ? BL_CLI_REDUCE_MAX_PEAKS : n;
}

/* Decodes and integrates every frame; a frame whose chunk is missing reads NaN. */
static int integrate_all(struct bl_cli_reduce *r, const struct bl_reduce_plan *plan)
{
	struct bl_nx_reader *rd = NULL;
	int rc = bl_nx_reader_open(&rd, r->path);
	if (rc) {
		fprintf(stderr, "beamloop reduce: %s: cannot read frames: %s\n", r->path,
			strerror(-rc));
		return rc;
	}
	size_t nelem = (size_t)r->geo.nrows * (size_t)r->geo.ncols, cap = 0, len = 0;
	enum bl_denc enc = r->elem == 2 ? BL_DENC_BS16_LZ4 : BL_DENC_BS32_LZ4;
	enum bl_reduce_dtype dt = r->elem == 2 ? BL_REDUCE_U16 : BL_REDUCE_U32;
	void *chunk = NULL, *pix = malloc(nelem * (size_t)r->elem);
	void *scratch = malloc(BL_DCODEC_SCRATCH);
	rc = pix && scratch ? 0 : -ENOMEM;
	bool tty = isatty(STDERR_FILENO);
	double t0 = now_s(), last = t0;
	for (uint64_t i = 0; !rc && i < r->nframes; i++) {
		size_t o = (size_t)i * (size_t)r->nbins;
		int c = bl_nx_reader_chunk(rd, i, &chunk, &cap, &len);
		c = c
			?: bl_dcodec_decode(enc, chunk, len, pix, nelem, (size_t)r->elem, scratch,
					    BL_DCODEC_SCRATCH);
		if (c == -ENOENT || c == -EINVAL || c == -EIO) {
			r->missing++;
			for (int b = 0; b < r->nbins; b++)
				r->mean[o + b] = r->sigma[o + b] = r->sem[o + b] = NAN;
			continue;
		}
		if (c) {
			rc = c;
			break;
		}
		struct bl_reduce_result res = {.radial = r->radial,
					       .mean = r->mean + o,
					       .sigma = r->sigma + o,
					       .sem = r->sem + o,
					       .count = r->count + o};
		rc = bl_reduce_integrate1d_dtype(plan, pix, dt, 1.0, &res);
		if (!rc && r->peaks)
			find_peaks(r, i);
		double t = now_s();
		if (t - last >= 1.0 || (i + 1 == r->nframes && t - t0 >= 1.0)) {
			fprintf(stderr, "%sreduce: %llu/%llu frames (%.0f/s)%s", tty ? "\r" : "",
				(unsigned long long)(i + 1), (unsigned long long)r->nframes,
				(double)(i + 1) / (t - t0), tty ? "" : "\n");
			last = t;
		}
	}
	if (tty && last > t0)
		fputc('\n', stderr);
	if (rc)
		fprintf(stderr, "beamloop reduce: %s: %s\n", r->path, strerror(-rc));
	free(chunk);
	free(pix);
	free(scratch);
	bl_nx_reader_close(rd);
	return rc;
}

static int reduce(struct bl_cli_reduce *r)
{
	hid_t f = open_ro(r->path);
	if (f < 0)
		return -EINVAL;
	int rc = read_meta(f, r);
	rc = rc ?: read_frame_numbers(f, r);
	H5Fclose(f);
	if (rc)
		return rc;
	if (!r->nframes) {
		fprintf(stderr, "beamloop reduce: %s: no frames\n", r->path);
		return -ENODATA;
	}
	uint8_t *mask = NULL;
	if (r->mask_path && (rc = load_mask(r, &mask)))
		return rc;
	r->saturation = r->elem == 2 ? 65535.0 : 4294967295.0;
	struct bl_reduce_config cfg = {.unit = r->unit,
				       .split = r->split,
				       .nbins = r->nbins,
				       .mask = mask,
				       .mask_negative = true,
				       .saturation = r->saturation};
	struct bl_reduce_plan *plan = NULL;
	rc = bl_reduce_plan_create(&r->geo, &cfg, &plan);
	free(mask);
	if (rc) {
		fprintf(stderr, "beamloop reduce: %s: cannot plan the reduction: %s\n", r->path,
			strerror(-rc));
		return rc;
	}
	bl_reduce_plan_range(plan, &r->range_min, &r->range_max);
	printf("%s: %llu frames %dx%d %s, distance %.4g mm, pixel %.4gx%.4g um, beam (%.2f, %.2f) "
	       "px, wavelength %.5g nm; tilt 0 (not stored), incidence %.3g deg (%s)\n",
	       r->path, (unsigned long long)r->nframes, r->geo.ncols, r->geo.nrows,
	       r->elem == 2 ? "uint16" : "uint32", r->geo.distance_mm, r->geo.pixel_x_um,
	       r->geo.pixel_y_um, r->geo.beam_center_x_px, r->geo.beam_center_y_px,
	       r->geo.wavelength_nm, r->geo.incidence_deg,
	       r->incidence_stored ? "stored" : "not stored, 0");
	rc = alloc_results(r);
	rc = rc ?: integrate_all(r, plan);
	bl_reduce_plan_free(plan);
	rc = rc ?: bl_cli_reduce_write(r);
	if (!rc)
		printf(
		    "%s: /entry/process: %d bins %s [%.5g, %.5g), %llu frames (%llu missing)%s\n",
		    r->path, r->nbins, r->unit == BL_REDUCE_Q_NM ? "q/nm^-1" : "2theta/deg",
		    r->range_min, r->range_max, (unsigned long long)r->nframes,
		    (unsigned long long)r->missing, r->peaks ? ", peaks" : "");
	return rc;
}

int bl_cli_reduce(int argc, char **argv)
{
	struct bl_cli_reduce r = {0};
	if (parse_args(argc, argv, &r)) {
		usage();
		return 2;
	}
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	int rc = reduce(&r);
	free_results(&r);
	return rc ? 1 : 0;
}
