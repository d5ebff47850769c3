/* bg_internal.h: the sigma-clipping plan, shared by bg_clip.c and the 2D peak finder. */
#ifndef BL_BG_INTERNAL_H
#define BL_BG_INTERNAL_H

#include <stdint.h>

#include "bl_bg.h"
#include "reduce_internal.h"

struct bl_bg_clip {
	struct bl_reduce_plan *p; /* 1D plan that keeps its CSR table (indptr, indices, coef) */
	uint8_t *drop;		  /* per CSR entry: clipped in this frame */
};

/* Raw value of pixel K of a frame of type DT as float32. */
float bg_load(const void *fr, enum bl_reduce_dtype dt, size_t k);

#endif
