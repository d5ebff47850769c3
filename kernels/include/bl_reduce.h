/* bl_reduce.h: frame reduction: detector geometry, a precomputed plan, and azimuthal integration.
 */
#ifndef BL_REDUCE_H
#define BL_REDUCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Detector geometry in Fit2D terms (as hwdb's `detector:` block; see kernels/README.md for the
 * mapping onto pyFAI's poni/rot1..3). Pixel (row r, column c) covers [c, c+1) x [r, r+1) in
 * pixel coordinates, so its centre is (c + 0.5, r + 0.5), as in Fit2D and pyFAI. */
struct bl_reduce_geometry {
	int nrows, ncols;	       /* frame shape: slow (y) then fast (x) */
	double pixel_x_um, pixel_y_um; /* pixel pitch along columns (x) and rows (y) */
	double distance_mm;	       /* sample to where the direct beam meets the detector */
	double beam_center_x_px;       /* direct beam on the detector, pixel coordinates */
	double beam_center_y_px;
	double wavelength_nm;
	double tilt_deg;       /* detector tilt (Fit2D) */
	double tilt_plane_deg; /* rotation of the tilt plane (Fit2D) */
	double incidence_deg;  /* grazing incidence angle (GI mapping; unused by 1D/2D) */
};

/* Most bins a plan holds (NBINS * NBINS_CHI). Up to 65000 a pixel's bin is stored in 16 bits
 * (the fast path), beyond in 32 bits (2D caking, e.g. 1000 x 360). */
#define BL_REDUCE_MAX_BINS 2000000

enum bl_reduce_unit {
	BL_REDUCE_Q_NM = 0,   /* q = 4 pi sin(theta) / lambda in nm^-1 */
	BL_REDUCE_2TH_DEG = 1 /* scattering angle 2 theta in degrees */
};

enum bl_reduce_split {
	BL_REDUCE_SPLIT_NONE = 0, /* each pixel goes whole to the bin of its centre */
	BL_REDUCE_SPLIT_BBOX = 1  /* spread over its radial bounding box (pyFAI "bbox") */
};

/* What a plan integrates and which corrections it applies. Arrays are nrows*ncols, row-major, and
 * are copied into the plan (the caller may free them afterwards); NULL means "none". */
struct bl_reduce_config {
	enum bl_reduce_unit unit;
	enum bl_reduce_split split;
	int nbins;
	double range_min, range_max; /* in UNIT; both 0: span of the unmasked pixels (as pyFAI) */
	const float *dark;	     /* subtracted from the signal (treated as noiseless) */
	const float *flat;	     /* divides (enters the normalization); <= 0 or NaN masks */
	const uint8_t *mask;	     /* static mask, nonzero = masked */
	bool solid_angle;	     /* divide by cos^3 of the incidence on the detector */
	bool polarization;	     /* divide by the polarization factor (pyFAI's formula) */
	double polarization_factor;  /* -1..1; 0.99 is typical of a synchrotron */
	bool mask_negative;	     /* dynamic mask: raw < 0 (Pilatus gaps -1, bad -2) */
	double saturation;	     /* dynamic mask: raw >= saturation; 0 disables */
	/* 2D caking (q or 2 theta, chi): NBINS_CHI > 0 azimuthal bins over [chi_min, chi_max)
	 * degrees (both 0: -180..180; the upper edge is nudged up by one float32 epsilon as
	 * pyFAI's), chi as bl_reduce_pixel_position's. Without splitting a pixel goes to the chi
	 * bin of its centre; with bbox it is spread over its radial x chi bounding box (pyFAI's 2D
	 * bbox: chi half-width the shorter way round to each corner, the part beyond the range
	 * goes to the edge bin). Bin index = chi bin * NBINS + radial bin, NBINS * NBINS_CHI <=
	 * BL_REDUCE_MAX_BINS. 0: 1D. */
	int nbins_chi;
	double chi_min_deg, chi_max_deg;
};

/* Element type of a frame: float32 (as pyFAI takes it), or the detectors' own integers (Eiger
 * uint16 or uint32, Pilatus int32), converted to float32 pixel by pixel as pyFAI converts them. */
enum bl_reduce_dtype { BL_REDUCE_F32 = 0, BL_REDUCE_U16 = 1, BL_REDUCE_U32 = 2, BL_REDUCE_I32 = 3 };

struct bl_reduce_plan;

/* Per bin results; each pointer names NBINS doubles to fill, or NULL to skip that quantity. The
 * sums are over the valid pixels of the bin, each weighted by its fraction c in the bin:
 * signal = sum c (raw - dark), variance = sum c^2 max(raw, 1) (Poisson), norm = sum c n with
 * n = flat * solid angle * polarization * NORMALIZATION, count = sum c. Then mean = signal / norm,
 * sem = sqrt(variance) / norm (the uncertainty of the mean; pyFAI 0.21's "sigma"), and
 * sigma = sqrt(variance / sum c^2 n^2) (the spread of one pixel; pyFAI 2023's "std"). Empty
 * bins read 0. */
struct bl_reduce_result {
	double *radial; /* bin centres in the plan's unit */
	double *signal, *variance, *norm, *count;
	double *mean, *sigma, *sem;
	double *chi; /* chi bin centres in degrees (2D caking; 0 in 1D) */
};

/* Precomputes per-pixel positions and corrections and the bin lookup table. NBINS (times
 * NBINS_CHI) is at most BL_REDUCE_MAX_BINS. Returns 0 and the plan in *OUT, -EINVAL on a bad
 * geometry or configuration, -ENOMEM. */
int bl_reduce_plan_create(const struct bl_reduce_geometry *g, const struct bl_reduce_config *c,
			  struct bl_reduce_plan **out);
void bl_reduce_plan_free(struct bl_reduce_plan *p);

/* Bins in all (NBINS * NBINS_CHI in 2D caking), and azimuthal bins (1 in 1D). */
int bl_reduce_plan_nbins(const struct bl_reduce_plan *p);
int bl_reduce_plan_nbins_chi(const struct bl_reduce_plan *p);
/* The radial range [min, max) the bins cover, in the plan's unit. */
void bl_reduce_plan_range(const struct bl_reduce_plan *p, double *min, double *max);
/* Non-zero entries of the lookup table (pixel fractions). */
long bl_reduce_plan_nnz(const struct bl_reduce_plan *p);

/* Integrates one frame (nrows*ncols floats). NORMALIZATION scales the normalization (monitor
 * counts times exposure, 1 for none; must be > 0). Allocates nothing. 0 or -EINVAL. */
int bl_reduce_integrate1d(const struct bl_reduce_plan *p, const float *frame, double normalization,
			  struct bl_reduce_result *out);
/* The same for a frame of element type DTYPE. 0 or -EINVAL. */
int bl_reduce_integrate1d_dtype(const struct bl_reduce_plan *p, const void *frame,
				enum bl_reduce_dtype dtype, double normalization,
				struct bl_reduce_result *out);

/* GPU path (CUDA), checked against the CPU path above within a tolerance (tests/kernels/
 * test_reduce_gpu.c): the plan's tables are uploaded once, then frames held in host memory are
 * streamed in batches over two CUDA streams. Sums run in another order than on the CPU, so
 * results agree to rounding (relative 1e-5 on bins of >= 100 pixels), not bit for bit. */
struct bl_reduce_gpu;

/* Uploads plan P's tables to GPU DEV (bl_kern_gpus' index) with room for BATCH frames (0: 16, at
 * most 65535) of up to 4 bytes a pixel per transfer. The plan must outlive the handle. 0, -ENODEV
 * (no CUDA in this build, or no such GPU), -ENOTSUP (a plan of more than 65000 bins: the GPU
 * tables are 16-bit), -EINVAL, -ENOMEM or -EIO. */
int bl_reduce_gpu_create(const struct bl_reduce_plan *p, int dev, int batch,
			 struct bl_reduce_gpu **out);
void bl_reduce_gpu_free(struct bl_reduce_gpu *g);

/* Integrates NFRAMES frames of type DTYPE lying back to back at FRAMES (host memory; pinned
 * memory from bl_reduce_gpu_host_alloc is copied straight to the GPU, other memory is staged
 * through pinned buffers). NORMALIZATION holds one value per frame (NULL: 1 for all); OUT holds
 * NFRAMES results, filled as bl_reduce_integrate1d_dtype fills one. 0, -EINVAL, -ENODEV, -EIO. */
int bl_reduce_integrate1d_gpu(struct bl_reduce_gpu *g, const void *frames,
			      enum bl_reduce_dtype dtype, int nframes, const double *normalization,
			      struct bl_reduce_result *out);

/* Page-locked host memory for frames (NULL without CUDA or a GPU), and its release. */
void *bl_reduce_gpu_host_alloc(size_t bytes);
void bl_reduce_gpu_host_free(void *ptr);

/* Position of the centre of pixel (ROW, COL): 2 theta and chi in radians, q in nm^-1. chi is
 * atan2(y, x) in the lab frame of pyFAI (chiArray). */
void bl_reduce_pixel_position(const struct bl_reduce_geometry *g, int row, int col, double *tth,
			      double *chi, double *q);

#ifdef __cplusplus
}
#endif

#endif
