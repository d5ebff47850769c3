/* bshuf.h: prototypes of the bitshuffle functions beamloop calls in libh5bshuf.so. */
#ifndef BL_BSHUF_H
#define BL_BSHUF_H

/* Debian's `bitshuffle` package installs the library only as the HDF5 filter plugin
 * (/usr/lib/<arch>/hdf5/serial/plugins/libh5bshuf.so) and ships no header, so the few exported
 * functions used here are declared by hand, as bitshuffle 0.3.5's bitshuffle.h and
 * bitshuffle_internals.h declare them. Sizes are in elements, not bytes; the int64_t results are
 * bytes processed, or a negative bitshuffle error code. */
#include <stddef.h>
#include <stdint.h>

size_t bshuf_compress_lz4_bound(const size_t size, const size_t elem_size, size_t block_size);
int64_t bshuf_compress_lz4(const void *in, void *out, const size_t size, const size_t elem_size,
			   size_t block_size);
/* Uses LZ4_decompress_fast: not safe on untrusted input (the stream decoder does not call it). */
int64_t bshuf_decompress_lz4(const void *in, void *out, const size_t size, const size_t elem_size,
			     size_t block_size);
/* Undoes the bit transpose of one block (SIZE a multiple of 8). */
int64_t bshuf_untrans_bit_elem(const void *in, void *out, const size_t size,
			       const size_t elem_size);
size_t bshuf_default_block_size(const size_t elem_size);

#endif
