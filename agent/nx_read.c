/* nx_read.c: reads stored chunks back (as stored, still compressed) for forwarding from the
 * file: from the file being written, or from a closed file opened read-only. */
#include <errno.h>
#include <stdlib.h>

#include "nx_int.h"

struct bl_nx_reader {
	hid_t file, data;
};

/* Reads chunk IDX of DATA into *BUF (grown as needed, *CAP its size); *LEN gets its size. */
static int read_chunk(hid_t data, uint64_t idx, void **buf, size_t *cap, size_t *len)
{
	hsize_t off[3] = {idx, 0, 0}, size = 0;
	uint32_t mask = 0;
	if (H5Dget_chunk_storage_size(data, off, &size) < 0 || !size)
		return -ENOENT;
	if (size > *cap) {
		void *p = realloc(*buf, size);
		if (!p)
			return -ENOMEM;
		*buf = p;
		*cap = size;
	}
	if (H5Dread_chunk(data, H5P_DEFAULT, off, &mask, *buf) < 0)
		return -EIO;
	*len = size;
	return 0;
}

int bl_nx_read_chunk(struct bl_nx *nx, uint64_t idx, void **buf, size_t *cap, size_t *len)
{
	if (idx >= nx->n)
		return -ENOENT;
	return read_chunk(nx->data, idx, buf, cap, len);
}

int bl_nx_reader_open(struct bl_nx_reader **out, const char *path)
{
	struct bl_nx_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	r->data =
	    r->file < 0 ? -1 : H5Dopen2(r->file, "/entry/instrument/detector/data", H5P_DEFAULT);
	if (r->data < 0) {
		bl_nx_reader_close(r);
		return -EIO;
	}
	*out = r;
	return 0;
}

int bl_nx_reader_chunk(struct bl_nx_reader *r, uint64_t idx, void **buf, size_t *cap, size_t *len)
{
	return read_chunk(r->data, idx, buf, cap, len);
}

void bl_nx_reader_close(struct bl_nx_reader *r)
{
	if (!r)
		return;
	if (r->data >= 0)
		H5Dclose(r->data);
	if (r->file >= 0)
		H5Fclose(r->file);
	free(r);
}
