/* bo_gp.c: Gaussian-process regression (ARD Matern 5/2 or squared-exponential kernel, constant
 * mean by generalised least squares, per-point noise) on a GSL Cholesky factor; workspaces are
 * sized once for max_n observations and used through views, so nothing is allocated per fit or
 * per prediction. Hand-written because Debian has no C GP library (see bl_bo.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "bl_bo.h"

#ifdef BL_HAVE_GSL
#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>

#include "bo_internal.h"

double bl_gp_kernel_eval(const struct bl_gp *gp, const double *a, const double *b)
{
	double r2 = 0;
	for (int d = 0; d < gp->dim; d++) {
		double t = (a[d] - b[d]) / gp->h.len[d];
		r2 += t * t;
	}
	if (gp->kernel == BL_GP_SE)
		return gp->h.sf2 * exp(-0.5 * r2);
	double r = sqrt(5.0 * r2);
	return gp->h.sf2 * (1.0 + r + r * r / 3.0) * exp(-r);
}

struct bl_gp *bl_gp_new(int dim, int max_n, enum bl_gp_kernel kernel)
{
	if (dim < 1 || dim > BL_BO_MAX_DIM || max_n < 1 ||
	    (kernel != BL_GP_MATERN52 && kernel != BL_GP_SE))
		return NULL;
	gsl_set_error_handler_off(); /* errors come back as codes (a non-PD K: GSL_EDOM) */
	struct bl_gp *gp = calloc(1, sizeof(*gp));
	if (!gp)
		return NULL;
	size_t n = (size_t)max_n;
	gp->dim = dim;
	gp->max_n = max_n;
	gp->kernel = kernel;
	gp->x = calloc(n * (size_t)dim, sizeof(double));
	gp->y = calloc(n, sizeof(double));
	gp->noise = calloc(n, sizeof(double));
	gp->l = gsl_matrix_calloc(n, n);
	gp->alpha = gsl_vector_calloc(n);
	gp->w1 = gsl_vector_calloc(n);
	gp->wy = gsl_vector_calloc(n);
	gp->ks = gsl_vector_calloc(n);
	gp->v = gsl_vector_calloc(n);
	size_t np = (size_t)dim + 2;
	gp->mm = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, np);
	gp->p0 = gsl_vector_alloc(np);
	gp->step = gsl_vector_alloc(np);
	gp->rng = gsl_rng_alloc(gsl_rng_mt19937);
	if (!gp->x || !gp->y || !gp->noise || !gp->l || !gp->alpha || !gp->w1 || !gp->wy ||
	    !gp->ks || !gp->v || !gp->mm || !gp->p0 || !gp->step || !gp->rng) {
		bl_gp_free(gp);
		return NULL;
	}
	for (int d = 0; d < dim; d++)
		gp->h.len[d] = 0.3;
	gp->h.sf2 = 1.0;
	gp->h.sn2 = 1e-3;
	return gp;
}

void bl_gp_free(struct bl_gp *gp)
{
	if (!gp)
		return;
	free(gp->x);
	free(gp->y);
	free(gp->noise);
	gsl_matrix_free(gp->l);
	gsl_vector_free(gp->alpha);
	gsl_vector_free(gp->w1);
	gsl_vector_free(gp->wy);
	gsl_vector_free(gp->ks);
	gsl_vector_free(gp->v);
	if (gp->mm)
		gsl_multimin_fminimizer_free(gp->mm);
	gsl_vector_free(gp->p0);
	gsl_vector_free(gp->step);
	if (gp->rng)
		gsl_rng_free(gp->rng);
	free(gp);
}

int bl_gp_set_data(struct bl_gp *gp, const double *x, const double *y, const double *noise, int n)
{
	if (!gp || n < 0 || (n > 0 && (!x || !y)))
		return -EINVAL;
	if (n > gp->max_n)
		return -E2BIG;
	for (int i = 0; i < n; i++) {
		if (!isfinite(y[i]) || (noise && !(noise[i] >= 0)))
			return -EINVAL;
		gp->y[i] = y[i];
		gp->noise[i] = noise ? noise[i] : 0.0;
		for (int d = 0; d < gp->dim; d++)
			gp->x[i * gp->dim + d] = x[i * gp->dim + d];
	}
	gp->n = n;
	gp->ready = 0;
	return 0;
}

int bl_gp_set_hyper(struct bl_gp *gp, const struct bl_gp_hyper *h, int mean_fixed)
{
	if (!gp || !h || !(h->sf2 > 0) || !(h->sn2 >= 0))
		return -EINVAL;
	for (int d = 0; d < gp->dim; d++)
		if (!(h->len[d] > 0))
			return -EINVAL;
	gp->h = *h;
	gp->ready = 0;
	size_t n = (size_t)gp->n;
	if (n == 0) {
		gp->lml = 0;
		gp->ready = 1;
		return 0;
	}
	gsl_matrix_view kv = gsl_matrix_submatrix(gp->l, 0, 0, n, n);
	gsl_matrix *k = &kv.matrix;
	/* a relative jitter keeps K numerically positive definite with noiseless duplicates */
	double jitter = 1e-9 * h->sf2;
	for (size_t i = 0; i < n; i++) {
		const double *xi = gp->x + i * (size_t)gp->dim;
		for (size_t j = 0; j <= i; j++)
			gsl_matrix_set(k, i, j,
				       bl_gp_kernel_eval(gp, xi, gp->x + j * (size_t)gp->dim));
		gsl_matrix_set(k, i, i, gsl_matrix_get(k, i, i) + h->sn2 + gp->noise[i] + jitter);
	}
	if (gsl_linalg_cholesky_decomp1(k) != GSL_SUCCESS)
		return -EDOM;
	gsl_vector_view w1 = gsl_vector_subvector(gp->w1, 0, n);
	gsl_vector_view wy = gsl_vector_subvector(gp->wy, 0, n);
	gsl_vector_view al = gsl_vector_subvector(gp->alpha, 0, n);
	gsl_vector_const_view yv = gsl_vector_const_view_array(gp->y, n);
	gsl_vector_set_all(&w1.vector, 1.0);
	gsl_linalg_cholesky_svx(k, &w1.vector);
	gsl_vector_memcpy(&wy.vector, &yv.vector);
	gsl_linalg_cholesky_svx(k, &wy.vector);
	if (!mean_fixed) {
		double s1 = 0, sy = 0;
		for (size_t i = 0; i < n; i++) {
			s1 += gsl_vector_get(&w1.vector, i);
			sy += gsl_vector_get(&wy.vector, i);
		}
		gp->h.mean = sy / s1;
	}
	/* alpha = K^-1 (y - m 1) = K^-1 y - m K^-1 1 */
	gsl_vector_memcpy(&al.vector, &wy.vector);
	gsl_blas_daxpy(-gp->h.mean, &w1.vector, &al.vector);
	double quad = 0, logdet = 0;
	for (size_t i = 0; i < n; i++) {
		quad += (gp->y[i] - gp->h.mean) * gsl_vector_get(&al.vector, i);
		logdet += log(gsl_matrix_get(k, i, i));
	}
	gp->lml = -0.5 * quad - logdet - 0.5 * (double)n * log(2.0 * M_PI);
	gp->ready = 1;
	return 0;
}

void bl_gp_get_hyper(const struct bl_gp *gp, struct bl_gp_hyper *h)
{
	if (gp && h)
		*h = gp->h;
}

double bl_gp_lml(const struct bl_gp *gp)
{
	return gp && gp->ready ? gp->lml : -INFINITY;
}

int bl_gp_predict(struct bl_gp *gp, const double *x, double *mean, double *var)
{
	if (!gp || !x || !gp->ready)
		return -EINVAL;
	size_t n = (size_t)gp->n;
	double m = gp->h.mean, s2 = gp->h.sf2;
	if (n > 0) {
		gsl_vector_view ks = gsl_vector_subvector(gp->ks, 0, n);
		gsl_vector_view v = gsl_vector_subvector(gp->v, 0, n);
		gsl_vector_view al = gsl_vector_subvector(gp->alpha, 0, n);
		gsl_matrix_view lv = gsl_matrix_submatrix(gp->l, 0, 0, n, n);
		for (size_t i = 0; i < n; i++)
			gsl_vector_set(&ks.vector, i,
				       bl_gp_kernel_eval(gp, x, gp->x + i * (size_t)gp->dim));
		double dot;
		gsl_blas_ddot(&ks.vector, &al.vector, &dot);
		m += dot;
		gsl_vector_memcpy(&v.vector, &ks.vector);
		gsl_blas_dtrsv(CblasLower, CblasNoTrans, CblasNonUnit, &lv.matrix, &v.vector);
		gsl_blas_ddot(&v.vector, &v.vector, &dot);
		s2 -= dot;
	}
	if (mean)
		*mean = m;
	if (var)
		*var = s2 > 0 ? s2 : 0;
	return 0;
}

#else

struct bl_gp *bl_gp_new(int dim, int max_n, enum bl_gp_kernel kernel)
{
	(void)dim, (void)max_n, (void)kernel;
	return NULL;
}
void bl_gp_free(struct bl_gp *gp)
{
	(void)gp;
}
int bl_gp_set_data(struct bl_gp *gp, const double *x, const double *y, const double *noise, int n)
{
	(void)gp, (void)x, (void)y, (void)noise, (void)n;
	return -ENOTSUP;
}
int bl_gp_set_hyper(struct bl_gp *gp, const struct bl_gp_hyper *h, int mean_fixed)
{
	(void)gp, (void)h, (void)mean_fixed;
	return -ENOTSUP;
}
void bl_gp_get_hyper(const struct bl_gp *gp, struct bl_gp_hyper *h)
{
	(void)gp, (void)h;
}
double bl_gp_lml(const struct bl_gp *gp)
{
	(void)gp;
	return -INFINITY;
}
int bl_gp_predict(struct bl_gp *gp, const double *x, double *mean, double *var)
{
	(void)gp, (void)x, (void)mean, (void)var;
	return -ENOTSUP;
}

#endif
