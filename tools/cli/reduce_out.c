/* reduce_out.c: writes `beamloop reduce` results into the agent file as /entry/process (NXprocess),
 * replacing an earlier one. */
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bl_nx_hdf.h"
#include "reduce_cli.h"

#ifndef BL_VERSION
#define BL_VERSION "0.1.0"
#endif

/* A string attribute array (NXdata's axes). */
static int attr_strs(hid_t loc, const char *name, const char **v, int n)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	hsize_t dim = (hsize_t)n;
	hid_t sp = H5Screate_simple(1, &dim, NULL);
	hid_t a = H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
	int rc = a >= 0 && H5Awrite(a, t, v) >= 0 ? 0 : -EIO;
	if (a >= 0)
		H5Aclose(a);
	H5Sclose(sp);
	H5Tclose(t);
	return rc;
}

/* A dataset of RANK (0..2) dimensions DIMS of native TYPE from V, file type FTYPE. */
static int array(hid_t loc, const char *name, hid_t ftype, hid_t type, int rank,
		 const hsize_t *dims, const void *v, const char *units)
{
	hid_t sp = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
	hid_t d = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	int rc = d >= 0 && H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0 ? 0 : -EIO;
	if (!rc && units)
		rc = bl_nx_attr_str(d, "units", units);
	if (d >= 0)
		H5Dclose(d);
	H5Sclose(sp);
	return rc;
}

static int num(hid_t loc, const char *name, double v, const char *units)
{
	return array(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL, &v, units);
}

static int inum(hid_t loc, const char *name, int64_t v)
{
	return array(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 0, NULL, &v, NULL);
}

static int write_parameters(hid_t proc, const struct bl_cli_reduce *r)
{
	hid_t p = bl_nx_group(proc, "parameters", "NXparameters");
	if (p < 0)
		return -EIO;
	const struct bl_reduce_geometry *g = &r->geo;
	int rc = inum(p, "bins", r->nbins);
	rc = rc ?: bl_nx_str(p, "unit", r->unit == BL_REDUCE_Q_NM ? "q" : "2th");
	rc = rc ?: bl_nx_str(p, "split", r->split == BL_REDUCE_SPLIT_NONE ? "none" : "bbox");
	rc = rc ?: bl_nx_str(p, "mask", r->mask_path ? r->mask_path : "");
	rc = rc
		 ?: bl_nx_str(p, "dynamic_mask",
			      "raw < 0 and raw >= saturation (the dtype's maximum)");
	rc = rc ?: num(p, "saturation", r->saturation, "counts");
	rc = rc ?: inum(p, "peaks", r->peaks);
	rc = rc ?: num(p, "range_min", r->range_min, r->unit == BL_REDUCE_Q_NM ? "1/nm" : "degree");
	rc = rc ?: num(p, "range_max", r->range_max, r->unit == BL_REDUCE_Q_NM ? "1/nm" : "degree");
	rc = rc ?: num(p, "distance", g->distance_mm, "mm");
	rc = rc ?: num(p, "x_pixel_size", g->pixel_x_um, "um");
	rc = rc ?: num(p, "y_pixel_size", g->pixel_y_um, "um");
	rc = rc ?: num(p, "beam_center_x", g->beam_center_x_px, "pixel");
	rc = rc ?: num(p, "beam_center_y", g->beam_center_y_px, "pixel");
	rc = rc ?: num(p, "wavelength", g->wavelength_nm, "nm");
	rc = rc ?: num(p, "tilt", g->tilt_deg, "degree");
	rc = rc ?: num(p, "tilt_plane", g->tilt_plane_deg, "degree");
	rc = rc ?: bl_nx_str(p, "tilt_source", "not stored in the file: 0");
	rc = rc ?: num(p, "incidence", g->incidence_deg, "degree");
	rc = rc
		 ?: bl_nx_str(p, "incidence_source",
			      r->incidence_stored ? "/entry/incident_angle"
						  : "not stored in the file: 0");
	rc = rc ?: bl_nx_str(p, "normalization", "none (1)");
	H5Gclose(p);
	return rc;
}

/* Peaks as one row per peak: frame index, then the fit; npeaks per frame. */
static int write_peaks(hid_t proc, const struct bl_cli_reduce *r)
{
	hid_t g = bl_nx_group(proc, "peaks", "NXcollection");
	if (g < 0)
		return -EIO;
	size_t n = 0;
	for (uint64_t i = 0; i < r->nframes; i++)
		n += (size_t)r->npeaks[i];
	enum { F_POS, F_POS_ERR, F_FWHM, F_FWHM_ERR, F_AREA, F_AREA_ERR, F_HEIGHT, F_BG, F_D, NF };
	static const char *names[NF] = {"position",   "position_error", "fwhm",
					"fwhm_error", "area",		"area_error",
					"height",     "background",	"d_spacing"};
	int64_t *frame = calloc(n + 1, sizeof(int64_t));
	double *col = calloc((n + 1) * NF, sizeof(double));
	int rc = frame && col ? 0 : -ENOMEM;
	size_t k = 0;
	for (uint64_t i = 0; !rc && i < r->nframes; i++)
		for (int j = 0; j < r->npeaks[i]; j++, k++) {
			const struct bl_peak1d *p = &r->peak[i * BL_CLI_REDUCE_MAX_PEAKS + j];
			double v[NF] = {p->pos,	     p->pos_err,    p->fwhm,
					p->fwhm_err, p->area,	    p->area_err,
					p->height,   p->background, p->d};
			frame[k] = (int64_t)i;
			for (int c = 0; c < NF; c++)
				col[(size_t)c * (n + 1) + k] = v[c];
		}
	hsize_t dim = n, nf = r->nframes;
	const char *u = r->unit == BL_REDUCE_Q_NM ? "1/nm" : "degree";
	rc = rc ?: array(g, "npeaks", H5T_STD_I32LE, H5T_NATIVE_INT, 1, &nf, r->npeaks, NULL);
	rc = rc ?: array(g, "frame", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, &dim, frame, NULL);
	for (int c = 0; !rc && c < NF; c++)
		rc = array(g, names[c], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &dim,
			   col + (size_t)c * (n + 1),
			   c <= F_FWHM_ERR			   ? u
			   : c == F_D && r->unit == BL_REDUCE_Q_NM ? "nm"
								   : NULL);
	free(frame);
	free(col);
	H5Gclose(g);
	return rc;
}

/* /entry/process/waterfall: an NXdata of I against frame and the radial axis (hard links). */
static int write_waterfall(hid_t proc, const char *axis)
{
	hid_t g = bl_nx_group(proc, "waterfall", "NXdata");
	if (g < 0)
		return -EIO;
	const char *axes[2] = {"frame", axis};
	int rc = bl_nx_attr_str(g, "signal", "I");
	rc = rc ?: attr_strs(g, "axes", axes, 2);
	const char *links[] = {"I", "sem", "frame", axis};
	for (int i = 0; !rc && i < 4; i++)
		if (H5Lcreate_hard(proc, links[i], g, links[i], H5P_DEFAULT, H5P_DEFAULT) < 0)
			rc = -EIO;
	H5Gclose(g);
	return rc;
}

static int write_process(hid_t file, const struct bl_cli_reduce *r)
{
	if (H5Lexists(file, "/entry/process", H5P_DEFAULT) > 0 &&
	    H5Ldelete(file, "/entry/process", H5P_DEFAULT) < 0)
		return -EIO;
	hid_t proc = bl_nx_group(file, "/entry/process", "NXprocess");
	if (proc < 0)
		return -EIO;
	char date[40];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S%z", &tm);
	const char *axis = r->unit == BL_REDUCE_Q_NM ? "q" : "two_theta";
	hsize_t nb = (hsize_t)r->nbins, nf = r->nframes, d2[2] = {nf, nb};
	int rc = bl_nx_str(proc, "program", "beamloop reduce");
	rc = rc ?: bl_nx_str(proc, "version", BL_VERSION);
	rc = rc ?: bl_nx_str(proc, "date", date);
	rc = rc
		 ?: bl_nx_str(
			proc, "note",
			"1D azimuthal integration of every frame; I[frame, bin] is the waterfall "
			"(/entry/process/waterfall)");
	rc = rc ?: write_parameters(proc, r);
	rc = rc
		 ?: array(proc, axis, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &nb, r->radial,
			  r->unit == BL_REDUCE_Q_NM ? "1/nm" : "degree");
	rc = rc
		 ?: array(proc, "frame", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, &nf, r->frame_number,
			  NULL);
	rc = rc ?: array(proc, "I", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d2, r->mean, "counts");
	rc = rc
		 ?: array(proc, "sigma", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d2, r->sigma,
			  "counts");
	rc = rc ?: array(proc, "sem", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d2, r->sem, "counts");
	rc = rc ?: array(proc, "count", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d2, r->count, NULL);
	rc = rc ?: write_waterfall(proc, axis);
	if (!rc && r->peaks)
		rc = write_peaks(proc, r);
	H5Gclose(proc);
	return rc;
}

int bl_cli_reduce_write(const struct bl_cli_reduce *r)
{
	hid_t f = H5Fopen(r->path, H5F_ACC_RDWR, H5P_DEFAULT);
	if (f < 0) {
		fprintf(stderr,
			"beamloop reduce: %s: cannot reopen for writing (read-only, or opened for "
			"writing meanwhile)\n",
			r->path);
		return -EACCES;
	}
	int rc = write_process(f, r);
	if (H5Fclose(f) < 0 && !rc)
		rc = -EIO;
	if (rc)
		fprintf(stderr, "beamloop reduce: %s: writing /entry/process: %s\n", r->path,
			strerror(-rc));
	return rc;
}
