/* nx_file.c: creates the NXsas file of one measurement (static metadata, sample, per-frame
 * datasets, SWMR start) and closes it with its end time and status. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nx_int.h"

#ifndef BL_BSHUF_PLUGIN_DIR
#define BL_BSHUF_PLUGIN_DIR "/usr/lib/x86_64-linux-gnu/hdf5/serial/plugins"
#endif

int bl_nx_init(char *err, size_t errsz)
{
	static int done; /* 1 ok, -ENOSYS missing */
	if (!done) {
		H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors are reported by the caller */
		if (H5Zfilter_avail(BL_NX_FILTER_BSHUF) <= 0)
			H5PLappend(BL_BSHUF_PLUGIN_DIR);
		done = H5Zfilter_avail(BL_NX_FILTER_BSHUF) > 0 ? 1 : -ENOSYS;
	}
	if (done < 0 && err)
		snprintf(
		    err, errsz,
		    "HDF5 filter %d (bitshuffle) not found in HDF5_PLUGIN_PATH nor %s: install "
		    "Debian's bitshuffle",
		    BL_NX_FILTER_BSHUF, BL_BSHUF_PLUGIN_DIR);
	return done < 0 ? done : 0;
}

static void iso_now(char *out, size_t cap)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	localtime_r(&ts.tv_sec, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

static int write_instrument(hid_t entry, const struct bl_nx_static *st)
{
	int rc = 0;
	hid_t ins = bl_nx_group(entry, "instrument", "NXinstrument");
	hid_t src = bl_nx_group(ins, "source", "NXsource");
	hid_t mono = bl_nx_group(ins, "monochromator", "NXmonochromator");
	hid_t det = bl_nx_group(ins, "detector", "NXdetector");
	if (ins < 0 || src < 0 || mono < 0 || det < 0)
		rc = -EIO;
	rc = rc ?: bl_nx_str(ins, "name", st->beamline);
	rc = rc ?: bl_nx_str(src, "name", st->source);
	rc = rc ?: bl_nx_str(src, "type", "Synchrotron X-ray Source");
	rc = rc ?: bl_nx_str(src, "probe", "x-ray");
	rc = rc ?: bl_nx_num(mono, "wavelength", st->wavelength_A, "angstrom");
	rc = rc ?: bl_nx_str(det, "description", st->detector);
	rc = rc ?: bl_nx_num(det, "distance", st->distance_m, "m");
	rc = rc ?: bl_nx_num(det, "x_pixel_size", st->x_pixel_m, "m");
	rc = rc ?: bl_nx_num(det, "y_pixel_size", st->y_pixel_m, "m");
	rc = rc ?: bl_nx_num(det, "beam_center_x", st->beam_x_px, "pixel");
	rc = rc ?: bl_nx_num(det, "beam_center_y", st->beam_y_px, "pixel");
	rc = rc ?: bl_nx_num(det, "count_time", st->count_time_s, "s");
	rc = rc ?: bl_nx_num(det, "frame_time", st->frame_time_s, "s");
	rc = rc ?: bl_nx_int(det, "bit_depth_image", (int64_t)st->type * 8);
	if (!rc && !isnan(st->incidence_deg))
		rc = bl_nx_num(entry, "incident_angle", st->incidence_deg, "degree");
	H5Gclose(det);
	H5Gclose(mono);
	H5Gclose(src);
	H5Gclose(ins);
	return rc;
}

static int write_sample(hid_t entry, const struct bl_edge *e)
{
	int rc = 0;
	hid_t s = bl_nx_group(entry, "sample", "NXsample");
	if (s < 0)
		return -EIO;
	char name[96] = "unknown";
	if (e && e->has_sample && e->barcode[0])
		snprintf(name, sizeof(name), "%s", e->barcode);
	else if (e && e->has_print)
		snprintf(name, sizeof(name), "%s", e->print.label);
	rc = bl_nx_str(s, "name", name);
	if (!rc && e && e->has_sample) {
		rc = rc ?: bl_nx_str(s, "barcode", e->barcode);
		rc = rc ?: bl_nx_int(s, "puck", e->puck);
		rc = rc ?: bl_nx_int(s, "slot", e->slot);
		rc = rc ?: bl_nx_int(s, "sample_id", e->sample);
	}
	if (!rc && e && e->has_print) {
		const struct bl_edge_print *p = &e->print;
		hid_t r = bl_nx_group(s, "print", "NXcollection");
		rc = r < 0 ? -EIO : 0;
		rc = rc ?: bl_nx_str(r, "label", p->label);
		rc = rc ?: bl_nx_int(r, "run", p->run);
		rc = rc ?: bl_nx_str(r, "mode", p->mode);
		rc = rc ?: bl_nx_num(r, "flow_rate", p->flow_ul_min, "uL/min");
		rc = rc ?: bl_nx_num(r, "coating_speed", p->speed_mm_s, "mm/s");
		for (int i = 0; !rc && i < p->nheaters; i++) {
			char k[32];
			snprintf(k, sizeof(k), "temperature_%d", i);
			rc = bl_nx_num(r, k, p->temp_c[i], "degC");
		}
		if (r >= 0)
			H5Gclose(r);
	}
	H5Gclose(s);
	return rc;
}

/* The frame dataset: [N, height, width], one frame per chunk, bitshuffle-LZ4. */
static hid_t data_dataset(hid_t det, const struct bl_nx_static *st)
{
	hsize_t dims[3] = {0, (hsize_t)st->height, (hsize_t)st->width};
	hsize_t max[3] = {H5S_UNLIMITED, dims[1], dims[2]}, chunk[3] = {1, dims[1], dims[2]};
	unsigned cd[2] = {0, BL_NX_BSHUF_LZ4}; /* block size: the library's default; LZ4 */
	hid_t sp = H5Screate_simple(3, dims, max), dcpl = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_chunk(dcpl, 3, chunk);
	H5Pset_filter(dcpl, BL_NX_FILTER_BSHUF, H5Z_FLAG_MANDATORY, 2, cd);
	hid_t t = st->type == BL_DTYPE_UINT16 ? H5T_STD_U16LE : H5T_STD_U32LE;
	hid_t d = H5Dcreate2(det, "data", t, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	H5Pclose(dcpl);
	H5Sclose(sp);
	if (d >= 0 && (bl_nx_attr_str(d, "interpretation", "image") ||
		       bl_nx_attr_str(d, "units", "counts"))) {
		H5Dclose(d);
		return -1;
	}
	return d;
}

static int make_columns(struct bl_nx *nx, hid_t det, hid_t trig, hid_t prn)
{
	static const int64_t none = -1;
	static const int32_t none32 = -1;
	static const double nan_fill = NAN;
	hid_t *c = nx->col;
	c[NXC_FRAME] = nx_column(det, "frame_number", H5T_STD_U64LE, 0, NULL, NULL);
	c[NXC_START] = nx_column(det, "exposure_start", H5T_STD_U64LE, 0, NULL, "ns");
	c[NXC_TAGGED] = nx_column(trig, "tagged", H5T_STD_U8LE, 0, NULL, NULL);
	c[NXC_TIME] = nx_column(trig, "trigger_time", H5T_STD_I64LE, 0, &none, "us");
	c[NXC_FLAGS] = nx_column(trig, "flags", H5T_STD_U32LE, 0, NULL, NULL);
	c[NXC_SAMPLE] = nx_column(trig, "sample_id", H5T_STD_I32LE, 0, &none32, NULL);
	for (int i = NXC_FRAME; i <= NXC_SAMPLE; i++)
		if (c[i] < 0)
			return -EIO;
	if (!nx->printer)
		return 0;
	hid_t f64 = H5T_IEEE_F64LE;
	c[NXC_FILM] = nx_column(prn, "film_position", f64, 0, &nan_fill, "mm");
	c[NXC_AXIS] = nx_column(prn, "axis_position", f64, 0, &nan_fill, "mm");
	c[NXC_SINCE] = nx_column(prn, "time_since_coating", f64, 0, &nan_fill, "s");
	c[NXC_FLOW] = nx_column(prn, "flow_rate", f64, 0, &nan_fill, "uL/min");
	c[NXC_SPEED] = nx_column(prn, "coating_speed", f64, 0, &nan_fill, "mm/s");
	c[NXC_COATED] = nx_column(prn, "coated", H5T_STD_U8LE, 0, NULL, NULL);
	c[NXC_TEMP] = nx_column(prn, "temperature", f64, nx->nheat, &nan_fill, "degC");
	for (int i = NXC_FILM; i < NXC_N; i++)
		if (c[i] < 0)
			return -EIO;
	return 0;
}

static int make_totals(struct bl_nx *nx, hid_t entry)
{
	hid_t g = bl_nx_group(entry, "ingest", "NXcollection");
	if (g < 0)
		return -EIO;
	nx->tot_frames = nx_scalar(g, "frames", H5T_STD_U64LE);
	nx->tot_untagged = nx_scalar(g, "frames_untagged", H5T_STD_U64LE);
	nx->tot_missing = nx_scalar(g, "frames_missing", H5T_STD_U64LE);
	nx->tot_rejected = nx_scalar(g, "messages_rejected", H5T_STD_U64LE);
	nx->tot_emiss = nx_scalar(g, "edges_missing", H5T_STD_U64LE);
	nx->tot_ecut = nx_scalar(g, "edges_cut", H5T_STD_U64LE);
	nx->status = nx_fixed_str(g, "status", 32, "writing");
	H5Gclose(g);
	nx->end_time = nx_fixed_str(entry, "end_time", 40, "");
	return nx->tot_frames < 0 || nx->tot_untagged < 0 || nx->tot_missing < 0 ||
		       nx->tot_rejected < 0 || nx->tot_emiss < 0 || nx->tot_ecut < 0 ||
		       nx->status < 0 || nx->end_time < 0
		   ? -EIO
		   : 0;
}

static int build(struct bl_nx *nx, const struct bl_nx_static *st, const struct bl_edge *first)
{
	char now[40];
	iso_now(now, sizeof(now));
	hid_t entry = bl_nx_group(nx->file, "entry", "NXentry");
	if (entry < 0)
		return -EIO;
	int rc = bl_nx_attr_str(nx->file, "default", "entry");
	rc = rc ?: bl_nx_attr_str(entry, "default", "data");
	rc = rc ?: bl_nx_str(entry, "definition", "NXsas");
	rc = rc ?: bl_nx_str(entry, "title", st->title);
	rc = rc ?: bl_nx_str(entry, "start_time", now);
	rc = rc ?: bl_nx_int(entry, "series", (int64_t)st->series);
	rc = rc ?: write_instrument(entry, st);
	rc = rc ?: write_sample(entry, first);
	hid_t det = -1, trig = -1, prn = -1, data = -1;
	if (!rc) {
		det = H5Gopen2(entry, "instrument/detector", H5P_DEFAULT);
		trig = bl_nx_group(entry, "instrument/trigger", "NXcollection");
		if (nx->printer)
			prn = bl_nx_group(entry, "instrument/printer", "NXcollection");
		nx->data = det >= 0 ? data_dataset(det, st) : -1;
		data = bl_nx_group(entry, "data", "NXdata");
		rc = det < 0 || trig < 0 || (nx->printer && prn < 0) || nx->data < 0 || data < 0
			 ? -EIO
			 : 0;
	}
	rc = rc ?: make_columns(nx, det, trig, prn);
	rc = rc ?: make_totals(nx, entry);
	/* NXsas: /entry/data holds the signal, a link to the detector's data */
	if (!rc && (bl_nx_attr_str(data, "signal", "data") ||
		    H5Lcreate_hard(nx->file, "/entry/instrument/detector/data", data, "data",
				   H5P_DEFAULT, H5P_DEFAULT) < 0))
		rc = -EIO;
	if (!rc)
		rc = bl_nx_int(det, "bitshuffle_filter", BL_NX_FILTER_BSHUF);
	for (hid_t *g = (hid_t[]){data, prn, trig, det, entry}, *e = g + 5; g < e; g++)
		if (*g >= 0)
			H5Gclose(*g);
	return rc;
}

int bl_nx_create(struct bl_nx **out, const char *path, const struct bl_nx_static *st,
		 const struct bl_edge *first, char *err, size_t errsz)
{
	int rc = bl_nx_init(err, errsz);
	if (rc)
		return rc;
	if (st->width < 1 || st->height < 1 ||
	    (st->type != BL_DTYPE_UINT16 && st->type != BL_DTYPE_UINT32)) {
		snprintf(err, errsz, "%s: bad frame shape %dx%d", path, st->width, st->height);
		return -EINVAL;
	}
	/* Ask the file system first: HDF5 reports every failure alike. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return rc;
	}
	close(fd);
	struct bl_nx *nx = calloc(1, sizeof(*nx));
	if (!nx) {
		unlink(path);
		return -ENOMEM;
	}
	for (int i = 0; i < NXC_N; i++)
		nx->col[i] = -1;
	nx->width = st->width;
	nx->height = st->height;
	nx->elem = (size_t)st->type;
	nx->printer = !first || first->has_print;
	nx->nheat = first && first->has_print && first->print.nheaters > 0 ? first->print.nheaters
									   : BL_EDGE_MAX_HEATERS;
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
	H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST); /* SWMR needs it */
	errno = 0;
	nx->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
	H5Pclose(fapl);
	rc = nx->file < 0 ? nx_errno() : build(nx, st, first);
	if (!rc && H5Fstart_swmr_write(nx->file) < 0)
		rc = nx_errno();
	if (rc) {
		snprintf(err, errsz, "%s: cannot create the NeXus file: %s", path, strerror(-rc));
		bl_nx_close(nx, NULL, NULL);
		unlink(path);
		return rc;
	}
	*out = nx;
	return 0;
}

int bl_nx_close(struct bl_nx *nx, const struct bl_nx_totals *t, const char *status)
{
	if (!nx)
		return 0;
	int rc = 0;
	if (status) { /* after a failed write too: the space may be back (best effort) */
		nx->broken = false;
		char now[40];
		iso_now(now, sizeof(now));
		rc = bl_nx_flush(nx, t);
		if (nx_write_fixed_str(nx->end_time, now) || nx_write_fixed_str(nx->status, status))
			rc = rc ?: -EIO;
	}
	hid_t ids[] = {nx->data,	nx->tot_frames,	  nx->tot_untagged,
		       nx->tot_missing, nx->tot_rejected, nx->tot_emiss,
		       nx->tot_ecut,	nx->status,	  nx->end_time};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (ids[i] > 0)
			H5Dclose(ids[i]);
	for (int i = 0; i < NXC_N; i++)
		if (nx->col[i] > 0)
			H5Dclose(nx->col[i]);
	if (nx->file > 0 && H5Fclose(nx->file) < 0)
		rc = rc ?: nx_errno();
	free(nx);
	return rc;
}

uint64_t bl_nx_frames(const struct bl_nx *nx)
{
	return nx->n;
}

uint64_t bl_nx_untagged(const struct bl_nx *nx)
{
	return nx->untagged;
}

const char *bl_nx_error(const struct bl_nx *nx)
{
	return nx->err;
}
