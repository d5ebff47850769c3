/* analyze_int.h: the analysis worker's GISAXS fit (analyze_fit.c), inside bl_analyze. */
#ifndef BL_ANALYZE_INT_H
#define BL_ANALYZE_INT_H

#include <stdbool.h>

#include "bl_reduce.h"

struct an_fit_out {
	double spacing_nm, spacing_err, corr_len_nm, corr_len_err, radius_nm, radius_err;
	double scale, scale_err, background, background_err, chi2_red;
	double orientation; /* derived from corr_len / spacing (the ink's calibration) */
	long nevals;
};

struct an_fit;
/* Fits frame PIX (ELEM 2 or 4 bytes a pixel) of geometry G; *FP holds the plans, made at the first
 * frame and again when the geometry changes. UP_DECREASING: the film's up is towards decreasing
 * row (bl_gi's is increasing: the frame is flipped). 0, -ENODATA (too little in the cut),
 * -ENOMEM, or the fit's error. */
int an_fit_frame(struct an_fit **fp, const struct bl_reduce_geometry *g, bool up_decreasing,
		 const void *pix, int elem, struct an_fit_out *o);
void an_fit_free(struct an_fit *f);

#endif
