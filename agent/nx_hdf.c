/* nx_hdf.c: small HDF5 helpers for the NeXus writer: groups with NX_class, string and number
 * fields, extendible per-frame columns, in-place scalars; errno from a failed HDF5 call. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nx_int.h"

int nx_errno(void)
{
	/* HDF5's sec2 driver calls open/write/fsync; their errno survives HDF5's error stack. */
	switch (errno) {
	case ENOSPC:
	case EDQUOT:
	case EACCES:
	case EPERM:
	case EROFS:
	case ENOENT:
	case EEXIST:
	case ENOTDIR:
	case EFBIG: return -errno;
	default: return -EIO;
	}
}

int nx_fail(struct bl_nx *nx, int rc, const char *what)
{
	nx->broken = true;
	snprintf(nx->err, sizeof(nx->err), "%s: %s", what, strerror(-rc));
	return rc;
}

hid_t bl_nx_group(hid_t loc, const char *name, const char *nx_class)
{
	hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (g >= 0 && bl_nx_attr_str(g, "NX_class", nx_class)) {
		H5Gclose(g);
		return -1;
	}
	return g;
}

static hid_t str_type(size_t len)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	if (t < 0)
		return t;
	H5Tset_size(t, len ? len : H5T_VARIABLE);
	H5Tset_strpad(t, H5T_STR_NULLTERM);
	H5Tset_cset(t, H5T_CSET_UTF8);
	return t;
}

int bl_nx_attr_str(hid_t loc, const char *name, const char *value)
{
	hid_t t = str_type(strlen(value) + 1), sp = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
	int rc = a >= 0 && H5Awrite(a, t, value) >= 0 ? 0 : -EIO;
	if (a >= 0)
		H5Aclose(a);
	H5Sclose(sp);
	H5Tclose(t);
	return rc;
}

int bl_nx_str(hid_t loc, const char *name, const char *value)
{
	hid_t t = str_type(0), sp = H5Screate(H5S_SCALAR);
	hid_t d = H5Dcreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	int rc = d >= 0 && H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value) >= 0 ? 0 : -EIO;
	if (d >= 0)
		H5Dclose(d);
	H5Sclose(sp);
	H5Tclose(t);
	return rc;
}

static int scalar(hid_t loc, const char *name, hid_t type, const void *v, const char *units)
{
	hid_t sp = H5Screate(H5S_SCALAR);
	hid_t d = H5Dcreate2(loc, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	int rc = d >= 0 && H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0 ? 0 : -EIO;
	if (!rc && units)
		rc = bl_nx_attr_str(d, "units", units);
	if (d >= 0)
		H5Dclose(d);
	H5Sclose(sp);
	return rc;
}

int bl_nx_num(hid_t loc, const char *name, double v, const char *units)
{
	return scalar(loc, name, H5T_NATIVE_DOUBLE, &v, units);
}

int bl_nx_int(hid_t loc, const char *name, int64_t v)
{
	return scalar(loc, name, H5T_NATIVE_INT64, &v, NULL);
}

hid_t nx_column(hid_t loc, const char *name, hid_t type, int cols, const void *fill,
		const char *units)
{
	int rank = cols ? 2 : 1;
	hsize_t dims[2] = {0, (hsize_t)cols}, max[2] = {H5S_UNLIMITED, (hsize_t)cols};
	hsize_t chunk[2] = {cols ? 256 : 1024, (hsize_t)cols};
	hid_t sp = H5Screate_simple(rank, dims, max), dcpl = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_chunk(dcpl, rank, chunk);
	if (fill)
		H5Pset_fill_value(dcpl, type, fill);
	hid_t d = H5Dcreate2(loc, name, type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	H5Pclose(dcpl);
	H5Sclose(sp);
	if (d >= 0 && units && bl_nx_attr_str(d, "units", units)) {
		H5Dclose(d);
		return -1;
	}
	return d;
}

hid_t nx_scalar(hid_t loc, const char *name, hid_t type)
{
	hid_t sp = H5Screate(H5S_SCALAR);
	hid_t d = H5Dcreate2(loc, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	H5Sclose(sp);
	return d;
}

hid_t nx_fixed_str(hid_t loc, const char *name, size_t len, const char *value)
{
	hid_t t = str_type(len), sp = H5Screate(H5S_SCALAR);
	hid_t d = H5Dcreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	H5Sclose(sp);
	H5Tclose(t);
	if (d >= 0 && nx_write_fixed_str(d, value)) {
		H5Dclose(d);
		return -1;
	}
	return d;
}

int nx_write_fixed_str(hid_t ds, const char *value)
{
	hid_t t = H5Dget_type(ds);
	size_t len = H5Tget_size(t);
	char buf[128] = {0};
	snprintf(buf, sizeof(buf) < len ? sizeof(buf) : len, "%s", value);
	int rc = H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0 ? 0 : -EIO;
	H5Tclose(t);
	return rc;
}
