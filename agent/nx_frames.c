/* nx_frames.c: appends frames to the NXsas file (direct chunk write of bitshuffle-LZ4 chunks)
 * and their metadata rows (buffered, written per batch), flushes for SWMR readers. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "nx_int.h"

size_t bl_nx_chunk_bound(enum bl_dtype t, size_t nelem)
{
	return bl_dcodec_bound(t == BL_DTYPE_UINT16 ? BL_DENC_BS16_LZ4 : BL_DENC_BS32_LZ4, nelem,
			       (size_t)t);
}

int bl_nx_chunk_encode(enum bl_dtype t, const void *pixels, size_t nelem, void *out, size_t cap,
		       size_t *len)
{
	/* The stream's bsNN-lz4 framing is the filter's chunk format (drivers/detector/README). */
	return bl_dcodec_encode(t == BL_DTYPE_UINT16 ? BL_DENC_BS16_LZ4 : BL_DENC_BS32_LZ4, pixels,
				nelem, (size_t)t, out, cap, len);
}

static void fill_row(struct nx_row *r, const struct bl_nx_frame *f)
{
	const struct bl_edge *e = f->edge;
	memset(r, 0, sizeof(*r));
	r->frame = f->frame;
	r->start = f->start_ns;
	r->tagged = e != NULL;
	r->time = e ? (int64_t)e->t : -1;
	r->flags = e ? e->flags : 0;
	r->sample = e && e->has_sample ? e->sample : -1;
	bool p = e && e->has_print;
	r->film = p ? e->print.film_mm : NAN;
	r->axis = p ? e->print.axis_mm : NAN;
	r->since = p ? e->print.since_coat_s : NAN;
	r->flow = p ? e->print.flow_ul_min : NAN;
	r->speed = p ? e->print.speed_mm_s : NAN;
	r->coated = p && e->print.coated;
	for (int i = 0; i < BL_EDGE_MAX_HEATERS; i++)
		r->temp[i] = p && i < e->print.nheaters ? e->print.temp_c[i] : NAN;
}

int bl_nx_append(struct bl_nx *nx, const struct bl_nx_frame *f)
{
	if (nx->broken)
		return -EIO;
	if (nx->nrows == BL_NX_BATCH) {
		int rc = bl_nx_flush(nx, NULL);
		if (rc)
			return rc;
	}
	hsize_t dims[3] = {nx->n + 1, (hsize_t)nx->height, (hsize_t)nx->width};
	hsize_t off[3] = {nx->n, 0, 0};
	errno = 0;
	if (H5Dset_extent(nx->data, dims) < 0 ||
	    H5Dwrite_chunk(nx->data, H5P_DEFAULT, 0, off, f->chunk_bytes, f->chunk) < 0) {
		int rc = nx_errno();
		/* keep the extent at the frames really written: readers never see a hole */
		dims[0] = nx->n;
		H5Dset_extent(nx->data, dims);
		return nx_fail(nx, rc, "frame chunk write");
	}
	nx->n++;
	if (!f->edge)
		nx->untagged++;
	fill_row(&nx->rows[nx->nrows++], f);
	return 0;
}

/* Writes the buffered rows' column COL (values gathered into BUF by the caller's field). */
static int write_col(hid_t ds, uint64_t first, int n, int cols, hid_t mem, const void *buf)
{
	int rank = cols ? 2 : 1;
	hsize_t dims[2] = {first + (hsize_t)n, (hsize_t)cols}, off[2] = {first, 0};
	hsize_t cnt[2] = {(hsize_t)n, (hsize_t)cols};
	if (H5Dset_extent(ds, dims) < 0)
		return -1;
	hid_t fs = H5Dget_space(ds), ms = H5Screate_simple(rank, cnt, NULL);
	herr_t e = H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL);
	if (e >= 0)
		e = H5Dwrite(ds, mem, ms, fs, H5P_DEFAULT, buf);
	H5Sclose(ms);
	H5Sclose(fs);
	return e < 0 ? -1 : 0;
}

#define GATHER(type, field)                                                                        \
	do {                                                                                       \
		type *v_ = (type *)buf;                                                            \
		for (int i_ = 0; i_ < n; i_++)                                                     \
			v_[i_] = nx->rows[i_].field;                                               \
	} while (0)

static int write_rows(struct bl_nx *nx)
{
	int n = nx->nrows, bad = 0;
	double buf[BL_NX_BATCH * BL_EDGE_MAX_HEATERS];
	uint64_t first = nx->n_meta;
	GATHER(uint64_t, frame);
	bad |= write_col(nx->col[NXC_FRAME], first, n, 0, H5T_NATIVE_UINT64, buf);
	GATHER(uint64_t, start);
	bad |= write_col(nx->col[NXC_START], first, n, 0, H5T_NATIVE_UINT64, buf);
	GATHER(uint8_t, tagged);
	bad |= write_col(nx->col[NXC_TAGGED], first, n, 0, H5T_NATIVE_UINT8, buf);
	GATHER(int64_t, time);
	bad |= write_col(nx->col[NXC_TIME], first, n, 0, H5T_NATIVE_INT64, buf);
	GATHER(uint32_t, flags);
	bad |= write_col(nx->col[NXC_FLAGS], first, n, 0, H5T_NATIVE_UINT32, buf);
	GATHER(int32_t, sample);
	bad |= write_col(nx->col[NXC_SAMPLE], first, n, 0, H5T_NATIVE_INT32, buf);
	if (nx->printer) {
		GATHER(double, film);
		bad |= write_col(nx->col[NXC_FILM], first, n, 0, H5T_NATIVE_DOUBLE, buf);
		GATHER(double, axis);
		bad |= write_col(nx->col[NXC_AXIS], first, n, 0, H5T_NATIVE_DOUBLE, buf);
		GATHER(double, since);
		bad |= write_col(nx->col[NXC_SINCE], first, n, 0, H5T_NATIVE_DOUBLE, buf);
		GATHER(double, flow);
		bad |= write_col(nx->col[NXC_FLOW], first, n, 0, H5T_NATIVE_DOUBLE, buf);
		GATHER(double, speed);
		bad |= write_col(nx->col[NXC_SPEED], first, n, 0, H5T_NATIVE_DOUBLE, buf);
		GATHER(uint8_t, coated);
		bad |= write_col(nx->col[NXC_COATED], first, n, 0, H5T_NATIVE_UINT8, buf);
		for (int i = 0; i < n; i++)
			for (int k = 0; k < nx->nheat; k++)
				buf[i * nx->nheat + k] = nx->rows[i].temp[k];
		bad |= write_col(nx->col[NXC_TEMP], first, n, nx->nheat, H5T_NATIVE_DOUBLE, buf);
	}
	if (bad)
		return -1;
	nx->n_meta += (uint64_t)n;
	nx->nrows = 0;
	return 0;
}

static int put_u64(hid_t ds, uint64_t v)
{
	return H5Dwrite(ds, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) < 0 ? -1 : 0;
}

int bl_nx_flush(struct bl_nx *nx, const struct bl_nx_totals *t)
{
	if (nx->broken)
		return -EIO;
	errno = 0;
	int bad = nx->nrows ? write_rows(nx) : 0;
	bad |= put_u64(nx->tot_frames, nx->n) | put_u64(nx->tot_untagged, nx->untagged);
	if (t)
		bad |= put_u64(nx->tot_missing, t->missing) |
		       put_u64(nx->tot_rejected, t->rejected) |
		       put_u64(nx->tot_emiss, t->edge_missing) | put_u64(nx->tot_ecut, t->edge_cut);
	if (!bad && H5Dflush(nx->data) < 0)
		bad = 1;
	for (int i = 0; !bad && i < NXC_N; i++)
		if (nx->col[i] > 0 && H5Dflush(nx->col[i]) < 0)
			bad = 1;
	hid_t tot[] = {nx->tot_frames,	 nx->tot_untagged, nx->tot_missing,
		       nx->tot_rejected, nx->tot_emiss,	   nx->tot_ecut};
	for (size_t i = 0; !bad && i < sizeof(tot) / sizeof(tot[0]); i++)
		if (H5Dflush(tot[i]) < 0)
			bad = 1;
	return bad ? nx_fail(nx, nx_errno(), "flush") : 0;
}
