/* bl_gisaxs.h: GISAXS forward model (DWBA): layers, particles, structure factors; plan + eval. */
#ifndef BL_GISAXS_H
#define BL_GISAXS_H

#include <stddef.h>
#include <stdint.h>

#include "bl_reduce.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Conventions (kernels/README.md, "GISAXS forward model"): lengths in nm, angles in degrees,
 * q in nm^-1. Scattering vector q = k_i - k_f (BornAgain's sign) and form factors
 * F(q) = integral exp(i q.r) dV with the particle's bottom at z = 0 (its layer's reference,
 * see particle_depth_nm). Intensity (decoupling approximation, as BornAgain's default):
 *   I = scale * N * density * [<|F|^2> + |<F>|^2 (S(q) - 1)] + background
 * with F the DWBA amplitude (four terms) times the contrast (pi / lambda^2)(n_layer^2 -
 * n_particle^2), <.> the average over the size distribution, S the structure factor (1 for
 * none), density the particles per nm^2 (lattices: 1 / cell area) and N the normalisation:
 * 1, or with BL_GS_NORM_SOLID_ANGLE the pixel's solid angle / sin(alpha_i) (BornAgain's
 * normalisation for beam intensity 1). Points below the horizon (alpha_f <= 0) read background.
 * In-plane angles (box rotation, lattice xi) are in BornAgain's right-handed sample frame: x
 * along the beam's projection, z the surface normal, y = -(bl_gi.h's y). */

enum bl_gs_shape {
	BL_GS_SPHERE = 0,   /* radius */
	BL_GS_CYLINDER = 1, /* vertical cylinder: radius, height */
	BL_GS_BOX = 2,	    /* rectangular prism: length (along x), width, height; rotation */
	BL_GS_CONE = 3	    /* truncated cone: base radius, height, base angle (90: cylinder) */
};

enum bl_gs_sf {
	BL_GS_SF_NONE = 0, /* dilute: S = 1 */
	BL_GS_SF_RADIAL_PARA =
	    1,		     /* 1D radial paracrystal (BornAgain InterferenceRadialParaCrystal) */
	BL_GS_SF_PARA2D = 2, /* 2D paracrystal (Interference2DParaCrystal, Gaussian pdfs) */
	BL_GS_SF_LATTICE2D =
	    3 /* 2D lattice, decay function + Debye-Waller (Interference2DLattice) */
};

enum bl_gs_lattice { BL_GS_SQUARE = 0, BL_GS_HEXAGONAL = 1 };
enum bl_gs_decay { BL_GS_DECAY_GAUSS = 0, BL_GS_DECAY_CAUCHY = 1 };
enum bl_gs_norm { BL_GS_NORM_NONE = 0, BL_GS_NORM_SOLID_ANGLE = 1 };

/* Refractive index n = 1 - delta + i beta. */
struct bl_gs_material {
	double delta, beta;
};

/* Sample (and what a fit may set). Layers: ambient / film (if film_thickness_nm > 0) /
 * substrate. Every numeric field may change between evaluations of one plan; the layer fields
 * (materials, thickness, roughness, particle_layer, depth) are tabulated by the plan and a
 * change in them costs a per-point Parratt recursion on the CPU (the GPU path then refuses). */
struct bl_gs_sample {
	struct bl_gs_material ambient, film, substrate, particle;
	double film_thickness_nm; /* 0: no film */
	double roughness_nm[2];	  /* rms of the top and lower interfaces (Nevot-Croce); 0: none */
	int particle_layer; /* 0: on top of the top interface (in the ambient); 1: in the film */
	double particle_depth_nm; /* particle_layer 1: film top to particle bottom */
	/* particle */
	enum bl_gs_shape shape;
	double radius_nm, height_nm; /* sphere: radius; cylinder, cone: radius, height */
	double length_nm, width_nm;  /* box (and height_nm) */
	double cone_angle_deg;	     /* truncated cone base angle, (0, 90] */
	double rotation_deg;	     /* box: in-plane rotation about z */
	int random_orientation;	     /* box: average over in-plane rotations (orientation_points) */
	int orientation_points;	     /* equally spaced over [0, 180) degrees; 0: 12 */
	double radius_sigma_nm;	     /* Gaussian size distribution of the radius (box: length and
					width scaled alike); 0: monodisperse */
	int size_points;	     /* samples, equally spaced over +-size_sigma_factor sigma (as
					BornAgain's DistributionGaussian); 0: 15 */
	double size_sigma_factor;    /* 0: 2 */
	int cone_points;	     /* Gauss-Legendre points along z for the cone; 0: 24 */
	/* structure factor */
	enum bl_gs_sf sf;
	enum bl_gs_lattice lattice;
	double spacing_nm;	     /* peak distance / lattice constant */
	double omega_nm;	     /* paracrystal disorder: Gaussian pdf width */
	double damping_length_nm;    /* paracrystals: exp(-d / damping); 0: none */
	double domain_size_nm;	     /* 2D paracrystal: domain size (both axes); 0: infinite */
	double lattice_rotation_deg; /* xi: first lattice vector against x (beam) */
	enum bl_gs_decay decay;	     /* 2D lattice peak shape */
	double decay_length_nm;	     /* 2D lattice: decay length (both axes) */
	double dw_sigma_nm;	     /* rms position jitter: Debye-Waller exp(-q_par^2 sigma^2) */
	double density_nm2;	     /* none / radial: particles per nm^2; 0: 1 / spacing^2 */
	/* output */
	double scale, background;
	enum bl_gs_norm norm;
};

/* Fills S with a sensible default (Si substrate at 0.1 nm, cylinders R 5 H 5 on a radial
 * paracrystal of 20 nm, scale 1, background 0). */
void bl_gs_sample_default(struct bl_gs_sample *s);

struct bl_gs_plan;

/* A plan for the pixels of detector G (geometry->incidence_deg is alpha_i): per pixel exit
 * angles and q from bl_gi_pixel_q (so frames and the GI reduction agree), solid angle, and
 * the Fresnel coefficients of S's layers at alpha_i and every alpha_f. MASK (nrows*ncols,
 * nonzero = skip: output background) may be NULL. Points are the pixels, row-major.
 * 0, -EINVAL, -ENOMEM. */
int bl_gs_plan_create_detector(const struct bl_reduce_geometry *g, const uint8_t *mask,
			       const struct bl_gs_sample *s, struct bl_gs_plan **out);

/* A plan for N points (QXY[k], QZ[k]) in the GI frame of bl_gi.h (q_xy signed, nm^-1) at
 * WAVELENGTH_NM and INCIDENCE_DEG: grids, horizontal and vertical line cuts. Points with no
 * exit direction read background. Normalisation N is 1 whatever S->norm. 0, -EINVAL, -ENOMEM. */
int bl_gs_plan_create_q(double wavelength_nm, double incidence_deg, const double *qxy,
			const double *qz, size_t n, const struct bl_gs_sample *s,
			struct bl_gs_plan **out);

void bl_gs_plan_free(struct bl_gs_plan *p);
size_t bl_gs_plan_npoints(const struct bl_gs_plan *p);

/* Exit angles of point K (degrees; NaN where none), for inspection and tests: alpha_f above the
 * surface, phi_f = atan2(f_y, f_x) in bl_gi.h's frame (the sign of q_xy). */
int bl_gs_plan_angles(const struct bl_gs_plan *p, size_t k, double *alpha_f_deg, double *phi_f_deg);

/* Intensities of sample S at the plan's points into OUT (npoints doubles), OpenMP over points
 * (the caller's default team). Allocates nothing; thread-safe for distinct OUT. 0, -EINVAL
 * (bad or out-of-range parameters: radius <= 0, more than 64 size or orientation samples...). */
int bl_gs_eval(const struct bl_gs_plan *p, const struct bl_gs_sample *s, double *out);

/* The same for points [BEGIN, END) only, on the calling thread (OUT holds END - BEGIN). */
int bl_gs_eval_range(const struct bl_gs_plan *p, const struct bl_gs_sample *s, size_t begin,
		     size_t end, double *out);

/* GPU path (CUDA): the plan's per-point tables uploaded once to GPU DEV (bl_kern_gpus' index);
 * eval as bl_gs_eval (double precision; agrees with the CPU to a few ulp of libm, amplified
 * near zeros of the amplitude: tests/kernels/test_gs_gpu.c). The plan must
 * outlive the handle. -ENODEV without CUDA or GPU; eval gives -ESTALE when S's layer fields
 * differ from the plan's (make a new plan). */
struct bl_gs_gpu;
int bl_gs_gpu_create(const struct bl_gs_plan *p, int dev, struct bl_gs_gpu **out);
void bl_gs_gpu_free(struct bl_gs_gpu *g);
int bl_gs_eval_gpu(struct bl_gs_gpu *g, const struct bl_gs_sample *s, double *out);

/* Building blocks, exposed for tests and reuse. Q is BornAgain's q (complex q_z allowed). */
struct bl_gs_cplx {
	double re, im;
};
/* Form factor of S's particle of size RADIUS (box: its length, the width scaled alike) and S's
 * other sizes and rotation, at (QX, QY, QZ); bottom at z = 0. NaN for bad parameters. */
struct bl_gs_cplx bl_gs_form_factor(const struct bl_gs_sample *s, double radius, double qx,
				    double qy, struct bl_gs_cplx qz);
/* Structure factor of S at in-plane (QX, QY). */
double bl_gs_structure_factor(const struct bl_gs_sample *s, double qx, double qy);
/* Reflection and transmission amplitudes (R, T) in S's particle layer for a wave meeting the
 * top interface at grazing angle ALPHA_DEG (> 0) at WAVELENGTH_NM, and that layer's k_z
 * (nm^-1). 0 or -EINVAL. */
int bl_gs_fresnel(const struct bl_gs_sample *s, double wavelength_nm, double alpha_deg,
		  struct bl_gs_cplx *r, struct bl_gs_cplx *t, struct bl_gs_cplx *kz);

#ifdef __cplusplus
}
#endif

#endif
