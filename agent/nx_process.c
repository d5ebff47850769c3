/* nx_process.c: writes a file's online analysis results as /entry/process (NXprocess) into a
 * closed agent file, replacing an earlier one. */
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bl_nx.h"
#include "bl_nx_hdf.h"

#define NPEAK_COLS 8 /* pos, pos_err, fwhm, fwhm_err, area, area_err, d, d_err */

/* A double dataset of RANK 1..3 with DIMS, or none when a dimension is 0. */
static int doubles(hid_t loc, const char *name, int rank, const hsize_t *dims, const double *v,
		   const char *units)
{
	for (int i = 0; i < rank; i++)
		if (!dims[i])
			return 0;
	hid_t sp = H5Screate_simple(rank, dims, NULL);
	hid_t d = H5Dcreate2(loc, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	int rc = d >= 0 && H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0
		     ? 0
		     : -EIO;
	if (!rc && units)
		rc = bl_nx_attr_str(d, "units", units);
	if (d >= 0)
		H5Dclose(d);
	H5Sclose(sp);
	return rc;
}

static int bytes(hid_t loc, const char *name, hid_t ftype, hid_t mtype, hsize_t n, const void *v)
{
	if (!n)
		return 0;
	hid_t sp = H5Screate_simple(1, &n, NULL);
	hid_t d = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	int rc = d >= 0 && H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0 ? 0 : -EIO;
	if (d >= 0)
		H5Dclose(d);
	H5Sclose(sp);
	return rc;
}

/* A 1D array of UTF-8 strings. */
static int strings(hid_t loc, const char *name, const char *const *v, int n)
{
	if (n <= 0)
		return 0;
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	hsize_t dim = (hsize_t)n;
	hid_t sp = H5Screate_simple(1, &dim, NULL);
	hid_t d = H5Dcreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	int rc = d >= 0 && H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0 ? 0 : -EIO;
	if (d >= 0)
		H5Dclose(d);
	H5Sclose(sp);
	H5Tclose(t);
	return rc;
}

static int write_profiles(hid_t proc, const struct bl_nx_process *p)
{
	if (!p->nbins)
		return 0;
	hid_t g = bl_nx_group(proc, "profiles", "NXdata");
	if (g < 0)
		return -EIO;
	hsize_t d2[2] = {p->rows, (hsize_t)p->nbins}, d1 = (hsize_t)p->nbins;
	int rc = bl_nx_attr_str(g, "signal", "I");
	const char *axes[2] = {".", "q"};
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	hsize_t two = 2;
	hid_t sp = H5Screate_simple(1, &two, NULL);
	hid_t at = H5Acreate2(g, "axes", t, sp, H5P_DEFAULT, H5P_DEFAULT);
	if (at < 0 || H5Awrite(at, t, axes) < 0)
		rc = rc ?: -EIO;
	if (at >= 0)
		H5Aclose(at);
	H5Sclose(sp);
	H5Tclose(t);
	rc = rc ?: doubles(g, "q", 1, &d1, p->q, "1/nm");
	rc = rc ?: doubles(g, "I", 2, d2, p->mean, NULL);
	rc = rc ?: doubles(g, "I_errors", 2, d2, p->sem, NULL);
	H5Gclose(g);
	return rc;
}

static int write_peaks(hid_t proc, const struct bl_nx_process *p)
{
	if (!p->maxpk)
		return 0;
	hid_t g = bl_nx_group(proc, "peaks", "NXcollection");
	if (g < 0)
		return -EIO;
	static const char *const col[NPEAK_COLS] = {
	    "position", "position_errors", "fwhm",	"fwhm_errors",
	    "area",	"area_errors",	   "d_spacing", "d_spacing_errors"};
	static const char *const unit[NPEAK_COLS] = {"1/nm", "1/nm", "1/nm", "1/nm",
						     NULL,   NULL,   "nm",   "nm"};
	int rc = bytes(g, "count", H5T_STD_I32LE, H5T_NATIVE_INT, p->rows, p->npk);
	hsize_t d2[2] = {p->rows, (hsize_t)p->maxpk};
	double *tmp = p->scratch;
	for (int c = 0; !rc && c < NPEAK_COLS; c++) {
		for (uint64_t r = 0; r < p->rows; r++)
			for (int k = 0; k < p->maxpk; k++)
				tmp[r * (uint64_t)p->maxpk + (uint64_t)k] =
				    p->pk[(r * (uint64_t)p->maxpk + (uint64_t)k) * NPEAK_COLS +
					  (uint64_t)c];
		rc = doubles(g, col[c], 2, d2, tmp, unit[c]);
	}
	H5Gclose(g);
	return rc;
}

static int write_fit(hid_t proc, const struct bl_nx_process *p)
{
	if (!p->nfit)
		return 0;
	hid_t g = bl_nx_group(proc, "fit", "NXcollection");
	if (g < 0)
		return -EIO;
	hsize_t d2[2] = {p->rows, (hsize_t)p->nfit}, d1 = p->rows;
	int rc = bl_nx_str(g, "model", p->fit_model ? p->fit_model : "");
	rc = rc ?: strings(g, "parameter_names", p->fit_names, p->nfit);
	rc = rc ?: doubles(g, "values", 2, d2, p->fit_values, NULL);
	rc = rc ?: doubles(g, "errors", 2, d2, p->fit_errors, NULL);
	rc = rc ?: doubles(g, "reduced_chi2", 1, &d1, p->chi2, NULL);
	H5Gclose(g);
	return rc;
}

int bl_nx_process_write(const char *path, const struct bl_nx_process *p, char *err, size_t errsz)
{
	hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
	if (f < 0) {
		snprintf(err, errsz, "%s: cannot open for writing (still open elsewhere?)", path);
		return -EIO;
	}
	int rc = 0;
	if (H5Lexists(f, "/entry/process", H5P_DEFAULT) > 0 &&
	    H5Ldelete(f, "/entry/process", H5P_DEFAULT) < 0)
		rc = -EIO;
	hid_t proc = rc ? -1 : bl_nx_group(f, "/entry/process", "NXprocess");
	if (proc < 0) {
		H5Fclose(f);
		snprintf(err, errsz, "%s: cannot make /entry/process", path);
		return -EIO;
	}
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", &tm);
	hsize_t rows = p->rows, t2[2] = {p->rows, BL_NX_TIMINGS};
	static const char *const tnames[BL_NX_TIMINGS] = {"decode", "reduce", "peaks", "fit",
							  "total"};
	rc = bl_nx_str(proc, "program", p->program ? p->program : "beamloop-analyze");
	rc = rc ?: bl_nx_str(proc, "date", when);
	rc = rc ?: bl_nx_str(proc, "status", p->status ? p->status : "complete");
	rc = rc ?: bl_nx_int(proc, "frames_analysed", (int64_t)p->analysed_count);
	rc = rc ?: bytes(proc, "analysed", H5T_STD_U8LE, H5T_NATIVE_UINT8, rows, p->analysed);
	rc = rc ?: write_profiles(proc, p);
	rc = rc ?: write_peaks(proc, p);
	rc = rc ?: write_fit(proc, p);
	rc = rc ?: doubles(proc, "timings", 2, t2, p->timings, "ms");
	rc = rc ?: strings(proc, "timing_names", tnames, BL_NX_TIMINGS);
	rc = rc ?: doubles(proc, "latency", 1, &rows, p->latency, "ms");
	H5Gclose(proc);
	if (H5Fclose(f) < 0)
		rc = rc ?: -EIO;
	if (rc)
		snprintf(err, errsz, "%s: writing /entry/process failed", path);
	return rc;
}
