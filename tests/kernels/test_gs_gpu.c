/* test_gs_gpu.c: the GISAXS model's GPU path agrees with the CPU path (relative 1e-6 over points
 * above 1e-6 of the maximum, 1e-9 of the maximum anywhere) for every shape and structure factor
 * on a tilted detector, also after a fit-like parameter change; a changed layer stack is
 * refused (-ESTALE). Skips (77) without a GPU. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "bl_gisaxs.h"
#include "bl_kernels.h"

static const struct bl_reduce_geometry geom = {.nrows = 300,
					       .ncols = 280,
					       .pixel_x_um = 172,
					       .pixel_y_um = 172,
					       .distance_mm = 2500,
					       .beam_center_x_px = 140.2,
					       .beam_center_y_px = 20.5,
					       .wavelength_nm = 0.1,
					       .incidence_deg = 0.2,
					       .tilt_deg = 1.5,
					       .tilt_plane_deg = 30};

/* Largest relative difference over points above 1e-6 of the maximum (the GPU's libm and fused
 * multiply-adds differ from glibc's by a few ulp, which cancellations in the DWBA sum can
 * amplify near the form factors' zeros), and the largest difference anywhere, over the maximum. */
static double compare(const double *a, const double *b, size_t n, double *abs_worst)
{
	double mx = 0, worst = 0;
	for (size_t k = 0; k < n; k++)
		mx = fmax(mx, fabs(a[k]));
	*abs_worst = 0;
	for (size_t k = 0; k < n; k++) {
		if (fabs(a[k]) > 1e-6 * mx)
			worst = fmax(worst, fabs(a[k] - b[k]) / fabs(a[k]));
		*abs_worst = fmax(*abs_worst, fabs(a[k] - b[k]) / mx);
	}
	return worst;
}

int main(void)
{
	struct bl_kern_gpu gpu;
	if (bl_kern_gpus(&gpu, 1) < 1) {
		printf("SKIP: no GPU\n");
		return 77;
	}
	size_t n = (size_t)geom.nrows * geom.ncols;
	double *cpu = malloc(n * sizeof(double)), *gpu_out = malloc(n * sizeof(double));
	if (!cpu || !gpu_out)
		return 1;
	for (int v = 0; v < 8; v++) {
		struct bl_gs_sample s;
		bl_gs_sample_default(&s);
		s.norm = BL_GS_NORM_SOLID_ANGLE, s.background = 1e-9;
		s.shape = (enum bl_gs_shape)(v % 4);
		s.sf = (enum bl_gs_sf)((v / 2) % 4);
		s.lattice = v & 1 ? BL_GS_SQUARE : BL_GS_HEXAGONAL;
		s.radius_sigma_nm = v >= 4 ? 0.5 : 0, s.size_points = 5;
		s.random_orientation = v == 6;
		s.domain_size_nm = v == 5 ? 300 : 0;
		s.dw_sigma_nm = v == 7 ? 0.5 : 0;
		s.cone_angle_deg = 75;
		if (v == 3 || v == 7) /* a film, particles embedded in it */
			s.film = (struct bl_gs_material){3e-6, 5e-8}, s.film_thickness_nm = 40,
			s.particle_layer = v == 7, s.particle_depth_nm = 15;
		struct bl_gs_plan *p = NULL;
		struct bl_gs_gpu *g = NULL;
		CHECK_EQ_INT(bl_gs_plan_create_detector(&geom, NULL, &s, &p), 0);
		CHECK_EQ_INT(bl_gs_gpu_create(p, gpu.index, &g), 0);
		CHECK_EQ_INT(bl_gs_eval(p, &s, cpu), 0);
		CHECK_EQ_INT(bl_gs_eval_gpu(g, &s, gpu_out), 0);
		double wa, w = compare(cpu, gpu_out, n, &wa);
		printf("variant %d (shape %d, sf %d): max rel GPU-CPU %.2e, max abs / max %.2e\n",
		       v, s.shape, s.sf, w, wa);
		CHECK(w < 1e-6);
		CHECK(wa < 1e-9);
		/* a fit-like change of a numeric parameter: same plan, same agreement */
		s.radius_nm *= 1.1, s.spacing_nm *= 0.9, s.scale = 3;
		CHECK_EQ_INT(bl_gs_eval(p, &s, cpu), 0);
		CHECK_EQ_INT(bl_gs_eval_gpu(g, &s, gpu_out), 0);
		CHECK(compare(cpu, gpu_out, n, &wa) < 1e-6);
		CHECK(wa < 1e-9);
		s.film_thickness_nm += 5;
		CHECK_EQ_INT(bl_gs_eval_gpu(g, &s, gpu_out), -ESTALE);
		bl_gs_gpu_free(g);
		bl_gs_plan_free(p);
	}
	free(cpu), free(gpu_out);
	return check_failures ? 1 : 0;
}
