/* gs_internal.h: the GISAXS model's shared physics (complex helpers, form and structure factors,
 * the per-point DWBA sum), inline for both the C path and the CUDA kernel, and the plan. */
#ifndef BL_GS_INTERNAL_H
#define BL_GS_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "bl_gisaxs.h"

#ifdef __CUDACC__
#define GS_FN static __host__ __device__ inline
#else
#define GS_FN static inline
#endif

#define GS_MAXQ 64 /* size, orientation and Gauss-Legendre samples at most */

typedef struct bl_gs_cplx gs_c;

GS_FN gs_c cx(double re, double im)
{
	gs_c z = {re, im};
	return z;
}
GS_FN gs_c cadd(gs_c a, gs_c b)
{
	return cx(a.re + b.re, a.im + b.im);
}
GS_FN gs_c csub(gs_c a, gs_c b)
{
	return cx(a.re - b.re, a.im - b.im);
}
GS_FN gs_c cmul(gs_c a, gs_c b)
{
	return cx(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
}
GS_FN gs_c cscale(gs_c a, double s)
{
	return cx(a.re * s, a.im * s);
}
GS_FN double cnorm(gs_c a)
{
	return a.re * a.re + a.im * a.im;
}
GS_FN gs_c cdiv(gs_c a, gs_c b)
{
	double d = cnorm(b);
	return cx((a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d);
}
/* exp(i z) */
GS_FN gs_c cexpi(gs_c z)
{
	double e = z.im == 0 ? 1.0 : exp(-z.im);
	return cx(e * cos(z.re), e * sin(z.re));
}
/* principal square root (Re >= 0) */
GS_FN gs_c csqrt_(gs_c z)
{
	double m = hypot(z.re, z.im);
	if (m == 0)
		return cx(0, 0);
	double a = sqrt(0.5 * (m + fabs(z.re))), b = z.im / (2 * a);
	return z.re >= 0 ? cx(a, b) : cx(fabs(b), copysign(a, z.im));
}
GS_FN void csincos(gs_c z, gs_c *s, gs_c *c)
{
	double sr = sin(z.re), cr = cos(z.re);
	if (z.im == 0) {
		*s = cx(sr, 0), *c = cx(cr, 0);
		return;
	}
	double ch = cosh(z.im), sh = sinh(z.im);
	*s = cx(sr * ch, cr * sh);
	*c = cx(cr * ch, -sr * sh);
}
/* sin(z) / z */
GS_FN gs_c csinc(gs_c z)
{
	if (cnorm(z) < 1e-8) {
		gs_c z2 = cmul(z, z);
		return cx(1 - z2.re / 6, -z2.im / 6);
	}
	gs_c s, c;
	csincos(z, &s, &c);
	return cdiv(s, z);
}

/* J1(x) / x for real x >= 0: rational approximation below 8, Hankel asymptotic form above
 * (Hart's coefficients as in Numerical Recipes' bessj1, absolute error < 1e-8; checked against
 * GSL's gsl_sf_bessel_J1 in test_gs_formfactor). Hand-written because GSL's J1 costs several
 * times more and this is the innermost call of the cylinder and cone. */
GS_FN double gs_j1x(double x)
{
	if (x < 8.0) {
		double y = x * x;
		double a = 72362614232.0 +
			   y * (-7895059235.0 +
				y * (242396853.1 +
				     y * (-2972611.439 + y * (15704.48260 + y * (-30.16036606)))));
		double b =
		    144725228442.0 +
		    y * (2300535178.0 +
			 y * (18583304.74 + y * (99447.43394 + y * (376.9991397 + y * 1.0))));
		return a / b;
	}
	double z = 8.0 / x, y = z * z, xx = x - 2.356194491;
	double a = 1.0 + y * (0.183105e-2 + y * (-0.3516396496e-4 +
						 y * (0.2457520174e-5 + y * (-0.240337019e-6))));
	double b =
	    0.04687499995 + y * (-0.2002690873e-3 +
				 y * (0.8449199096e-5 + y * (-0.88228987e-6 + y * 0.105787412e-6)));
	return sqrt(0.636619772 / x) * (cos(xx) * a - z * sin(xx) * b) / x;
}

/* What one evaluation needs, derived from a bl_gs_sample (gs_model.c). */
struct gs_model {
	int shape, sf, lattice, decay, nsize, norient, ncone, nwin;
	double rad[GS_MAXQ], wsize[GS_MAXQ];	  /* size samples (box: length) and weights */
	double ocos[GS_MAXQ], osin[GS_MAXQ];	  /* in-plane orientations (box) */
	double glx[GS_MAXQ], glw[GS_MAXQ];	  /* Gauss-Legendre on [0, 1] (cone) */
	double height, length, width, cone_cot;	  /* box width per unit length: width / length */
	double depth;				  /* particle bottom below its layer's top */
	double spacing, omega, damping_f, domain; /* paracrystals */
	double a1x, a1y, a2x, a2y;		  /* lattice vectors */
	double b1x, b1y, b2x, b2y;		  /* reciprocal vectors */
	double decay_len, dw2, density;
	double pref, background; /* scale * density * |contrast|^2 */
	gs_c ezi;		 /* exp(i kz_i H), set per evaluation (gs_model_incidence) */
	gs_c ezr[GS_MAXQ];	 /* exp(i kz_i R) per size sample (sphere), likewise */
	int use_norm;		 /* multiply by the point's normalisation (solid angle) */
};

/* In-plane part of the amplitude of a separable shape (cylinder, box) of size R. */
GS_FN double gs_ff_plane(const struct gs_model *m, double r, double qx, double qy, double qpar,
			 int o)
{
	if (m->shape == BL_GS_CYLINDER)
		return 2 * M_PI * r * r * gs_j1x(qpar * r);
	double l = r, w = r * m->width;
	double u = qx * m->ocos[o] + qy * m->osin[o], v = -qx * m->osin[o] + qy * m->ocos[o];
	double a = 0.5 * u * l, b = 0.5 * v * w;
	double sa = fabs(a) < 1e-8 ? 1 - a * a / 6 : sin(a) / a;
	double sb = fabs(b) < 1e-8 ? 1 - b * b / 6 : sin(b) / b;
	return l * w * sa * sb;
}

/* Axial part H sinc(qz H / 2) exp(i qz H / 2) = (exp(i qz H) - 1) / (i qz); one sine and
 * cosine for a real q_z (particles in a non-absorbing ambient: the common case). */
GS_FN gs_c gs_ff_axial(double h, gs_c qz)
{
	if (qz.im == 0) {
		double x = qz.re * h;
		if (fabs(x) < 1e-3) {
			double x2 = x * x;
			return cx(h * (1 - x2 / 6), h * x * (0.5 - x2 / 24));
		}
		return cx(h * sin(x) / x, h * (1 - cos(x)) / x);
	}
	gs_c x = cscale(qz, 0.5 * h);
	return cscale(cmul(csinc(x), cexpi(x)), h);
}

/* Full sphere of radius R resting on z = 0 (a real-argument path for a real q_z). */
GS_FN gs_c gs_ff_sphere(double r, double qpar, gs_c qz)
{
	if (qz.im == 0) {
		double q = sqrt(qpar * qpar + qz.re * qz.re), x = q * r, f;
		if (x < 1e-3)
			f = 1.0 / 3 - x * x / 30;
		else
			f = (sin(x) - x * cos(x)) / (x * x * x);
		f *= 4 * M_PI * r * r * r;
		return cx(f * cos(qz.re * r), f * sin(qz.re * r));
	}
	gs_c q2 = cadd(cx(qpar * qpar, 0), cmul(qz, qz));
	gs_c q = csqrt_(q2), x = cscale(q, r), f;
	if (cnorm(x) < 1e-6) {
		gs_c x2 = cmul(x, x);
		f = cx(1.0 / 3 - x2.re / 30, -x2.im / 30);
	} else {
		gs_c s, c;
		csincos(x, &s, &c);
		f = cdiv(csub(s, cmul(x, c)), cmul(x, cmul(x, x)));
	}
	return cmul(cscale(f, 4 * M_PI * r * r * r), cexpi(cscale(qz, r)));
}

/* Truncated cone (base radius R, height H, base angle alpha: r(z) = R - z cot alpha), Gauss-
 * Legendre along z: sum_j w_j pi r_j^2 2 J1(q r_j) / (q r_j) exp(i qz z_j). */
GS_FN gs_c gs_ff_cone(const struct gs_model *m, double r, double qpar, gs_c qz)
{
	gs_c acc = cx(0, 0);
	for (int j = 0; j < m->ncone; j++) {
		double z = m->glx[j] * m->height, rz = r - z * m->cone_cot;
		double p = 2 * M_PI * rz * rz * gs_j1x(qpar * rz) * m->glw[j] * m->height;
		acc = cadd(acc, cscale(cexpi(cscale(qz, z)), p));
	}
	return acc;
}

/* Structure factors as BornAgain 1.19 evaluates them (kernels/README.md). The infinite
 * paracrystal Re((1 + fp) / (1 - fp)) with fp = A exp(i phi) is (1 - A^2) / (1 - 2 A cos(phi) +
 * A^2): one cosine. */
GS_FN double gs_para1d(double amp, double phase)
{
	double d = 1 - 2 * amp * cos(phase) + amp * amp;
	return d > 1e-300 ? (1 - amp * amp) / d : 1e300;
}

/* One axis of the 2D paracrystal along unit (C, S) of length L (BornAgain's interference1D);
 * AMP is the pdf's transform times the damping. */
GS_FN double gs_para2d_axis(const struct gs_model *m, double qx, double qy, double c, double s,
			    double amp)
{
	double l = m->spacing, qa = (qx * c + qy * s) * l;
	int n = m->domain > 0 ? (int)fabs(m->domain / l) : 0;
	if (n < 1)
		return gs_para1d(amp, qa);
	gs_c fp = cx(amp * cos(qa), amp * sin(qa));
	double nd = n;
	gs_c one = cx(1, 0), om = csub(one, fp);
	if (cnorm(om) < 2.220446049250313e-16)
		return nd;
	if (sqrt(cnorm(om)) * nd < 2e-4) {
		gs_c fm = csub(fp, one), fm2 = cmul(fm, fm);
		double t = (nd - 1) / 2 + (nd * nd - 1) * fm.re / 6 +
			   (nd * nd * nd - 2 * nd * nd - nd + 2) * fm2.re / 24;
		return 1 + 2 * t;
	}
	double afp = sqrt(cnorm(fp));
	gs_c pw = cx(0, 0);
	if (afp > 0 && log(afp) * nd >= log(2.2250738585072014e-308)) {
		double mag = pow(afp, nd), ph = nd * atan2(fp.im, fp.re);
		pw = cx(mag * cos(ph), mag * sin(ph));
	}
	gs_c a = cdiv(fp, om);
	gs_c b = cdiv(cscale(cmul(fp, csub(one, pw)), 1 / nd), cmul(om, om));
	return 1 + 2 * csub(a, b).re;
}

GS_FN double gs_decay(const struct gs_model *m, double dx, double dy)
{
	double w = m->decay_len, s = (dx * dx + dy * dy) * w * w;
	double f = m->decay == BL_GS_DECAY_CAUCHY ? pow(1 + s, -1.5) : exp(-0.5 * s);
	return 2 * M_PI * w * w * f;
}

GS_FN double gs_structure(const struct gs_model *m, double qx, double qy)
{
	double qpar2 = qx * qx + qy * qy, s = 1;
	if (m->sf == BL_GS_SF_RADIAL_PARA) {
		double amp = exp(-0.5 * qpar2 * m->omega * m->omega) * m->damping_f;
		s = gs_para1d(amp, sqrt(qpar2) * m->spacing);
	} else if (m->sf == BL_GS_SF_PARA2D) {
		double l = m->spacing, amp = exp(-0.5 * qpar2 * m->omega * m->omega) * m->damping_f;
		s = gs_para2d_axis(m, qx, qy, m->a1x / l, m->a1y / l, amp) *
		    gs_para2d_axis(m, qx, qy, m->a2x / l, m->a2y / l, amp);
	} else if (m->sf == BL_GS_SF_LATTICE2D) {
		/* reciprocal coordinates of q, then the NWIN neighbourhood of the nearest point */
		double u = (qx * m->a1x + qy * m->a1y) / (2 * M_PI);
		double v = (qx * m->a2x + qy * m->a2y) / (2 * M_PI);
		int i0 = (int)floor(u + 0.5), j0 = (int)floor(v + 0.5);
		double acc = 0;
		for (int i = i0 - m->nwin; i <= i0 + m->nwin; i++)
			for (int j = j0 - m->nwin; j <= j0 + m->nwin; j++) {
				double gx = i * m->b1x + j * m->b2x, gy = i * m->b1y + j * m->b2y;
				acc += gs_decay(m, qx - gx, qy - gy);
			}
		s = acc * m->density;
	}
	if (m->dw2 > 0)
		s = exp(-qpar2 * m->dw2) * (s - 1) + 1;
	return s;
}

/* One point's precomputed data, as the kernels read it. */
struct gs_point {
	double qx, qy; /* BornAgain's q_par = k_i - k_f (vacuum) */
	gs_c kzf, rf, tf;
	double norm; /* solid angle / sin(alpha_i) (1 for q points); 0: invalid (background) */
};

/* Intensity at one point: coefficients of the four DWBA terms and their q_z, then the
 * decoupling approximation over sizes and orientations. KZI, RI, TI: incidence in the particle
 * layer. */
GS_FN double gs_point_intensity(const struct gs_model *m, const struct gs_point *pt, gs_c kzi,
				gs_c ri, gs_c ti)
{
	if (pt->norm == 0)
		return m->background;
	gs_c co[4], qz[4];
	co[0] = cmul(ti, pt->tf), qz[0] = cx(-kzi.re - pt->kzf.re, -kzi.im - pt->kzf.im);
	co[1] = cmul(ri, pt->tf), qz[1] = csub(kzi, pt->kzf);
	co[2] = cmul(ti, pt->rf), qz[2] = csub(pt->kzf, kzi);
	co[3] = cmul(ri, pt->rf), qz[3] = cadd(kzi, pt->kzf);
	if (m->depth != 0) /* particle bottom at z = -depth */
		for (int t = 0; t < 4; t++)
			co[t] = cmul(co[t], cexpi(cscale(qz[t], -m->depth)));
	double qx = pt->qx, qy = pt->qy, qpar = sqrt(qx * qx + qy * qy);
	double f2 = 0;
	gs_c f1 = cx(0, 0);
	if (m->shape == BL_GS_CYLINDER || m->shape == BL_GS_BOX) {
		gs_c ax = cx(0, 0);
		if (kzi.im == 0 && pt->kzf.im == 0) {
			/* real q_z: exp(i q_z H) of the four terms from exp(+-i kz_i H) and
			 * exp(+-i kz_f H), one sine and cosine a point; q_z of terms 3 and 2 is
			 * minus that of 0 and 1, so their axial parts are the conjugates */
			double h = m->height, b = pt->kzf.re * h;
			gs_c a = m->ezi, e = cx(cos(b), sin(b)), ae = cmul(a, e);
			gs_c ab = cmul(a, cx(e.re, -e.im));
			gs_c ex[2] = {cx(ae.re, -ae.im), ab};
			for (int t = 0; t < 2; t++) {
				double x = qz[t].re * h, ix = h / x;
				gs_c f = fabs(x) < 1e-3 ? gs_ff_axial(h, qz[t])
							: cx(ex[t].im * ix, (1 - ex[t].re) * ix);
				ax = cadd(ax, cmul(co[t], f));
				ax = cadd(ax, cmul(co[3 - t], cx(f.re, -f.im)));
			}
		} else {
			for (int t = 0; t < 4; t++)
				ax = cadd(ax, cmul(co[t], gs_ff_axial(m->height, qz[t])));
		}
		double w0 = 1.0 / m->norient;
		for (int o = 0; o < m->norient; o++)
			for (int s = 0; s < m->nsize; s++) {
				double p = gs_ff_plane(m, m->rad[s], qx, qy, qpar, o);
				double w = m->wsize[s] * w0;
				f2 += w * p * p;
				f1 = cadd(f1, cscale(ax, w * p));
			}
		f2 *= cnorm(ax);
	} else if (m->shape == BL_GS_SPHERE && kzi.im == 0 && pt->kzf.im == 0) {
		/* real q_z: the centre's phase exp(i q_z R) of the four terms from exp(+-i kz_i R)
		 * and exp(+-i kz_f R); the modulus part is real and equal for terms 0 and 3
		 * (|q_z| = kz_i + kz_f) and for 1 and 2 (|kz_i - kz_f|) */
		double qa = sqrt(qpar * qpar + qz[0].re * qz[0].re);
		double qb = sqrt(qpar * qpar + qz[1].re * qz[1].re);
		for (int s = 0; s < m->nsize; s++) {
			double r = m->rad[s], b = pt->kzf.re * r, v = 4 * M_PI * r * r * r;
			gs_c e = cx(cos(b), sin(b)), ae = cmul(m->ezr[s], e);
			gs_c ab = cmul(m->ezr[s], cx(e.re, -e.im));
			gs_c ex[4] = {cx(ae.re, -ae.im), ab, cx(ab.re, -ab.im), ae};
			double fab[2];
			for (int t = 0; t < 2; t++) {
				double x = (t ? qb : qa) * r;
				fab[t] = v * (x < 1e-3 ? 1.0 / 3 - x * x / 30
						       : (sin(x) - x * cos(x)) / (x * x * x));
			}
			gs_c a = cx(0, 0);
			for (int t = 0; t < 4; t++)
				a = cadd(a, cmul(co[t], cscale(ex[t], fab[t == 1 || t == 2])));
			f2 += m->wsize[s] * cnorm(a);
			f1 = cadd(f1, cscale(a, m->wsize[s]));
		}
	} else {
		for (int s = 0; s < m->nsize; s++) {
			gs_c a = cx(0, 0);
			for (int t = 0; t < 4; t++) {
				gs_c f = m->shape == BL_GS_SPHERE
					     ? gs_ff_sphere(m->rad[s], qpar, qz[t])
					     : gs_ff_cone(m, m->rad[s], qpar, qz[t]);
				a = cadd(a, cmul(co[t], f));
			}
			f2 += m->wsize[s] * cnorm(a);
			f1 = cadd(f1, cscale(a, m->wsize[s]));
		}
	}
	double sf = m->sf == BL_GS_SF_NONE ? 1 : gs_structure(m, qx, qy);
	double nf = m->use_norm ? pt->norm : 1.0;
	return m->pref * nf * (f2 + cnorm(f1) * (sf - 1)) + m->background;
}

/* The CUDA side (cuda/gs_gpu.cu): the points live on GPU DEV; each eval uploads the model. */
#ifdef __cplusplus
extern "C" {
#endif
struct gs_cuda;
int gs_cuda_open(int dev, const struct gs_point *pt, size_t n, struct gs_cuda **out);
void gs_cuda_close(struct gs_cuda *c);
int gs_cuda_eval(struct gs_cuda *c, const struct gs_model *m, gs_c kzi, gs_c ri, gs_c ti,
		 double *out);
#ifdef __cplusplus
}
#endif

#ifndef __CUDACC__
/* Layer-dependent part of a sample, to tell whether a plan's Fresnel tables still apply. */
struct gs_layers {
	struct bl_gs_material ambient, film, substrate;
	double thickness, rough[2], depth;
	int layer;
};

struct bl_gs_plan {
	size_t n;
	double k, wavelength, ai; /* nm^-1, nm, rad */
	struct gs_layers layers;  /* the sample the tables were made for */
	gs_c kzi, ri, ti;	  /* incidence in the particle layer */
	struct gs_point *pt;
	double *alpha_f; /* rad, NaN: none */
};

void gs_layers_of(const struct bl_gs_sample *s, struct gs_layers *l);
int gs_layers_equal(const struct gs_layers *a, const struct gs_layers *b);
/* R, T and k_z in the particle layer for grazing angle ALPHA (rad, > 0), wavenumber K. */
void gs_fresnel(const struct gs_layers *l, double k, double alpha, gs_c *r, gs_c *t, gs_c *kz);
/* Fills M from S at wavelength LAMBDA (nm). 0 or -EINVAL. */
int gs_model_init(struct gs_model *m, const struct bl_gs_sample *s, double lambda);
/* Sets M's incidence-dependent constants for k_z,i = KZI in the particle layer. */
void gs_model_incidence(struct gs_model *m, gs_c kzi);
#endif

#endif
