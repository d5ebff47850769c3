/* gs_gpu.c: the GPU path of the GISAXS model behind bl_gisaxs.h: uploads a plan's points to the
 * CUDA kernel (cuda/gs_gpu.cu) once and evaluates samples there; -ENODEV without CUDA. */
#include <errno.h>
#include <stdlib.h>

#include "gs_internal.h"

struct bl_gs_gpu {
	const struct bl_gs_plan *p;
	struct gs_cuda *c;
};

#ifdef BL_HAVE_CUDA
int bl_gs_gpu_create(const struct bl_gs_plan *p, int dev, struct bl_gs_gpu **out)
{
	if (!p || !out || dev < 0)
		return -EINVAL;
	struct bl_gs_gpu *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->p = p;
	int rc = gs_cuda_open(dev, p->pt, p->n, &g->c);
	if (rc < 0) {
		free(g);
		return rc;
	}
	*out = g;
	return 0;
}

void bl_gs_gpu_free(struct bl_gs_gpu *g)
{
	if (g)
		gs_cuda_close(g->c);
	free(g);
}

int bl_gs_eval_gpu(struct bl_gs_gpu *g, const struct bl_gs_sample *s, double *out)
{
	struct gs_model m;
	struct gs_layers l;
	if (!g || !s || !out || gs_model_init(&m, s, g->p->wavelength) < 0)
		return -EINVAL;
	gs_layers_of(s, &l);
	if (!gs_layers_equal(&l, &g->p->layers))
		return -ESTALE;
	gs_model_incidence(&m, g->p->kzi);
	return gs_cuda_eval(g->c, &m, g->p->kzi, g->p->ri, g->p->ti, out);
}
#else
int bl_gs_gpu_create(const struct bl_gs_plan *p, int dev, struct bl_gs_gpu **out)
{
	(void)p, (void)dev;
	if (out)
		*out = NULL;
	return -ENODEV;
}

void bl_gs_gpu_free(struct bl_gs_gpu *g)
{
	free(g);
}

int bl_gs_eval_gpu(struct bl_gs_gpu *g, const struct bl_gs_sample *s, double *out)
{
	(void)g, (void)s, (void)out;
	return -ENODEV;
}
#endif
