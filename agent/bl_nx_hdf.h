/* bl_nx_hdf.h: small HDF5 helpers for NeXus files (the agent's writer, `beamloop reduce`):
 * groups with NX_class, string attributes, string and number fields. */
#ifndef BL_NX_HDF_H
#define BL_NX_HDF_H

#include <hdf5.h>
#include <stdint.h>

/* A new group NAME with attribute NX_class; a negative hid on failure. */
hid_t bl_nx_group(hid_t loc, const char *name, const char *nx_class);
/* A scalar UTF-8 string attribute. 0 or -EIO. */
int bl_nx_attr_str(hid_t loc, const char *name, const char *value);
/* A scalar UTF-8 string dataset. 0 or -EIO. */
int bl_nx_str(hid_t loc, const char *name, const char *value);
/* A scalar double dataset with a "units" attribute when UNITS is not NULL. 0 or -EIO. */
int bl_nx_num(hid_t loc, const char *name, double v, const char *units);
/* A scalar 64-bit integer dataset. 0 or -EIO. */
int bl_nx_int(hid_t loc, const char *name, int64_t v);

#endif
