/* test_gs_model.c: GISAXS model facts with known answers: form factors (F(0) = volume, sphere
 * zeros, cylinder = J1 x sinc product with GSL's J1, box sinc products, cone at 90 degrees =
 * cylinder, cone against adaptive quadrature), Parratt (bare substrate Fresnel, total reflection,
 * film two-interface closed form, roughness), structure factors (S -> 1, peaks at 2 pi / d and
 * at reciprocal lattice points), and the plan/eval contracts. */
#include <complex.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../check.h"
#include "bl_gi.h"
#include "bl_gisaxs.h"

#ifdef BL_HAVE_GSL
#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_bessel.h>
#endif

#define CHECK_REL(a, b, tol) CHECK_NEAR((a) / (b), 1.0, tol)

static struct bl_gs_cplx cq(double re)
{
	return (struct bl_gs_cplx){re, 0};
}
static double cabs_(struct bl_gs_cplx z)
{
	return hypot(z.re, z.im);
}

static void test_volumes(void)
{
	struct bl_gs_sample s;
	bl_gs_sample_default(&s);
	s.shape = BL_GS_SPHERE;
	CHECK_REL(bl_gs_form_factor(&s, 3, 0, 0, cq(0)).re, 4.0 / 3 * M_PI * 27, 1e-12);
	s.shape = BL_GS_CYLINDER, s.height_nm = 7;
	CHECK_REL(bl_gs_form_factor(&s, 3, 0, 0, cq(0)).re, M_PI * 9 * 7, 1e-9); /* J1 approx. */
	s.shape = BL_GS_BOX, s.length_nm = 10, s.width_nm = 4, s.height_nm = 3;
	CHECK_REL(bl_gs_form_factor(&s, 10, 0, 0, cq(0)).re, 120.0, 1e-12);
	s.shape = BL_GS_CONE, s.radius_nm = 6, s.height_nm = 4, s.cone_angle_deg = 60;
	double r2 = 6 - 4 / tan(M_PI / 3);
	CHECK_REL(bl_gs_form_factor(&s, 6, 0, 0, cq(0)).re, M_PI * 4 / 3 * (36 + 6 * r2 + r2 * r2),
		  1e-9);
}

static void test_sphere(void)
{
	struct bl_gs_sample s;
	bl_gs_sample_default(&s);
	s.shape = BL_GS_SPHERE;
	double v = 4.0 / 3 * M_PI * 125;
	/* zeros of (sin x - x cos x): tan x = x, x = 4.4934094579, 7.7252518369 */
	const double z[] = {4.4934094579090642, 7.7252518369377068};
	for (int i = 0; i < 2; i++) {
		CHECK(cabs_(bl_gs_form_factor(&s, 5, z[i] / 5, 0, cq(0))) < 1e-9 * v);
		/* any direction: only |q| matters for the modulus */
		double q = z[i] / 5;
		CHECK(cabs_(bl_gs_form_factor(&s, 5, 0.6 * q, 0, cq(0.8 * q))) < 1e-9 * v);
	}
	/* phase: centre at z = R, so F(qz) = |F| exp(i qz R) */
	struct bl_gs_cplx f = bl_gs_form_factor(&s, 5, 0, 0, cq(0.3));
	CHECK_NEAR(atan2(f.im, f.re), 0.3 * 5 - 2 * M_PI * 0, 1e-12);
	/* a complex q_z (absorbing layer) is continuous with the real one */
	struct bl_gs_cplx a = bl_gs_form_factor(&s, 5, 0.2, 0, (struct bl_gs_cplx){0.3, 1e-9});
	struct bl_gs_cplx b = bl_gs_form_factor(&s, 5, 0.2, 0, cq(0.3));
	CHECK(hypot(a.re - b.re, a.im - b.im) < 1e-6 * v);
}

static void test_cylinder_box(void)
{
	struct bl_gs_sample s;
	bl_gs_sample_default(&s);
	s.shape = BL_GS_CYLINDER, s.height_nm = 6;
	double worst = 0;
	for (int i = 0; i <= 400; i++) {
		double qr = 0.05 * i, qz = 0.37;
		struct bl_gs_cplx f = bl_gs_form_factor(&s, 4, qr * 0.6, -qr * 0.8, cq(qz));
		double j1x = qr == 0 ? 0.5 : 0;
#ifdef BL_HAVE_GSL
		if (qr > 0)
			j1x = gsl_sf_bessel_J1(qr * 4) / (qr * 4);
#else
		if (qr > 0)
			j1x = j1(qr * 4) / (qr * 4);
#endif
		double complex ax = 6 * (sin(qz * 3) / (qz * 3)) * cexp(I * qz * 3);
		double complex want = 2 * M_PI * 16 * j1x * ax;
		worst = fmax(worst, cabs(f.re + I * f.im - want) / (M_PI * 16 * 6));
	}
	printf("cylinder vs GSL J1: worst |dF| / V = %.2e\n", worst);
	CHECK(worst < 1e-8);
	/* box: sinc products; a 90 degree rotation swaps length and width */
	s.shape = BL_GS_BOX, s.length_nm = 10, s.width_nm = 4, s.height_nm = 3;
	double qx = 0.3, qy = 0.7, qz = 0.2;
	struct bl_gs_cplx f = bl_gs_form_factor(&s, 10, qx, qy, cq(qz));
	double complex want = 120 * sin(qx * 5) / (qx * 5) * sin(qy * 2) / (qy * 2) *
			      sin(qz * 1.5) / (qz * 1.5) * cexp(I * qz * 1.5);
	CHECK(cabs(f.re + I * f.im - want) < 1e-12 * 120);
	s.rotation_deg = 90;
	struct bl_gs_cplx g = bl_gs_form_factor(&s, 10, qy, -qx, cq(qz));
	CHECK(hypot(g.re - f.re, g.im - f.im) < 1e-12 * 120);
}

#ifdef BL_HAVE_GSL
struct cone_par {
	double r, h, cot, qr, qz;
	int im;
};
static double cone_integrand(double z, void *v)
{
	const struct cone_par *c = v;
	double rz = c->r - z * c->cot, x = c->qr * rz;
	double rad = x == 0 ? M_PI * rz * rz : 2 * M_PI * rz * rz * gsl_sf_bessel_J1(x) / x;
	return rad * (c->im ? sin(c->qz * z) : cos(c->qz * z));
}
#endif

static void test_cone(void)
{
	struct bl_gs_sample s;
	bl_gs_sample_default(&s);
	s.shape = BL_GS_CONE, s.height_nm = 5, s.cone_angle_deg = 90;
	struct bl_gs_sample c = s;
	c.shape = BL_GS_CYLINDER;
	for (int i = 0; i < 20; i++) {
		double q = 0.07 * i;
		struct bl_gs_cplx a = bl_gs_form_factor(&s, 4, q, 0.5 * q, cq(0.9 * q));
		struct bl_gs_cplx b = bl_gs_form_factor(&c, 4, q, 0.5 * q, cq(0.9 * q));
		CHECK(hypot(a.re - b.re, a.im - b.im) < 1e-10 * M_PI * 16 * 5);
	}
#ifdef BL_HAVE_GSL
	/* a 65 degree cone against GSL's adaptive quadrature */
	s.cone_angle_deg = 65;
	gsl_integration_workspace *w = gsl_integration_workspace_alloc(200);
	double worst = 0;
	for (int i = 0; i < 15; i++) {
		struct cone_par p = {6, 5, 1 / tan(65 * M_PI / 180), 0.1 * i, 0.15 * i, 0};
		double re, im, err;
		gsl_function fn = {cone_integrand, &p};
		gsl_integration_qag(&fn, 0, 5, 1e-13, 1e-12, 200, GSL_INTEG_GAUSS41, w, &re, &err);
		p.im = 1;
		gsl_integration_qag(&fn, 0, 5, 1e-13, 1e-12, 200, GSL_INTEG_GAUSS41, w, &im, &err);
		struct bl_gs_cplx f = bl_gs_form_factor(&s, 6, p.qr, 0, cq(p.qz));
		worst = fmax(worst, hypot(f.re - re, f.im - im) / (M_PI * 36 * 5));
	}
	gsl_integration_workspace_free(w);
	printf("cone (24 Gauss-Legendre points) vs GSL qag: worst |dF| / V0 = %.2e\n", worst);
	CHECK(worst < 1e-9);
#endif
}

/* Independent Fresnel / Airy formulas in C99 complex arithmetic. */
static double complex kz_of(double k, double a, double delta, double beta)
{
	double complex n = 1 - delta + I * beta;
	return k * csqrt(n * n - cos(a) * cos(a));
}

static void test_parratt(void)
{
	struct bl_gs_sample s;
	bl_gs_sample_default(&s);
	s.substrate = (struct bl_gs_material){5e-6, 0};
	double lam = 0.1, k = 2 * M_PI / lam, ac = sqrt(2 * 5e-6) * 180 / M_PI;
	struct bl_gs_cplx r, t, kz;
	/* total external reflection below alpha_c, |R| < 1 above */
	CHECK_EQ_INT(bl_gs_fresnel(&s, lam, 0.5 * ac, &r, &t, &kz), 0);
	CHECK_NEAR(cabs_(r), 1.0, 1e-12);
	CHECK_EQ_INT(bl_gs_fresnel(&s, lam, 0.999 * ac, &r, &t, &kz), 0);
	CHECK_NEAR(cabs_(r), 1.0, 1e-12);
	CHECK_EQ_INT(bl_gs_fresnel(&s, lam, 1.2 * ac, &r, &t, &kz), 0);
	CHECK(cabs_(r) < 0.6);
	/* known value: at alpha = 2 alpha_c, r = (1 - sqrt(3/4)) / (1 + sqrt(3/4)) (small-angle
	 * form; the exact Fresnel one agrees to 1e-5) */
	CHECK_EQ_INT(bl_gs_fresnel(&s, lam, 2 * ac, &r, &t, &kz), 0);
	CHECK_NEAR(r.re, (1 - sqrt(0.75)) / (1 + sqrt(0.75)), 1e-4);
	/* exact Fresnel with absorption */
	s.substrate = (struct bl_gs_material){7.6e-6, 1.7e-7};
	for (double a = 0.05; a < 0.6; a += 0.05) {
		double ar = a * M_PI / 180;
		double complex k0 = kz_of(k, ar, 0, 0), k1 = kz_of(k, ar, 7.6e-6, 1.7e-7);
		double complex want = (k0 - k1) / (k0 + k1);
		bl_gs_fresnel(&s, lam, a, &r, &t, &kz);
		CHECK(cabs(r.re + I * r.im - want) < 1e-12);
		CHECK_NEAR(t.re, 1, 0);
		CHECK_NEAR(kz.re, k * sin(ar), 1e-9);
	}
	/* film: Airy two-interface closed form; embedded amplitudes continuous at the top */
	s.film = (struct bl_gs_material){3e-6, 2e-8}, s.film_thickness_nm = 40;
	for (double a = 0.05; a < 0.6; a += 0.037) {
		double ar = a * M_PI / 180;
		double complex k0 = kz_of(k, ar, 0, 0), k1 = kz_of(k, ar, 3e-6, 2e-8);
		double complex k2 = kz_of(k, ar, 7.6e-6, 1.7e-7);
		double complex r01 = (k0 - k1) / (k0 + k1), r12 = (k1 - k2) / (k1 + k2);
		double complex e = cexp(2 * I * k1 * 40);
		double complex want = (r01 + r12 * e) / (1 + r01 * r12 * e);
		s.particle_layer = 0;
		bl_gs_fresnel(&s, lam, a, &r, &t, &kz);
		CHECK(cabs(r.re + I * r.im - want) < 1e-12);
		struct bl_gs_cplx r1, t1, kz1;
		s.particle_layer = 1;
		bl_gs_fresnel(&s, lam, a, &r1, &t1, &kz1);
		CHECK(cabs((t1.re + r1.re) + I * (t1.im + r1.im) - (1 + want)) < 1e-12);
		CHECK(cabs(kz1.re + I * kz1.im - k1) < 1e-12);
		/* derivative continuity: k1 (T1 - R1) = k0 (1 - R0) */
		double complex lhs = k1 * ((t1.re - r1.re) + I * (t1.im - r1.im));
		CHECK(cabs(lhs - k0 * (1 - want)) < 1e-12 * cabs(k0));
	}
	/* Kiessig fringes: far above alpha_c, |R|^2 minima are 2 pi / d apart in q_z */
	s.particle_layer = 0;
	double prev = -1, last_min = 0, dq = 0;
	int nmin = 0;
	for (double a = 0.3; a < 1.2; a += 0.0002) {
		bl_gs_fresnel(&s, lam, a, &r, &t, &kz);
		double cur = cabs_(r), q = 2 * k * sin(a * M_PI / 180);
		static double pprev = -1;
		if (prev > 0 && pprev > prev && cur > prev) {
			if (nmin++ > 0)
				dq = q - last_min;
			last_min = q;
		}
		pprev = prev, prev = cur;
	}
	CHECK(nmin >= 3);
	CHECK_NEAR(dq, 2 * M_PI / 40, 0.03 * 2 * M_PI / 40);
	/* Nevot-Croce: a bare rough substrate's r is damped by exp(-2 kz0 kz1 sigma^2) */
	s.film_thickness_nm = 0, s.roughness_nm[0] = 0.5;
	bl_gs_fresnel(&s, lam, 0.4, &r, &t, &kz);
	double ar = 0.4 * M_PI / 180;
	double complex k0 = kz_of(k, ar, 0, 0), k1 = kz_of(k, ar, 7.6e-6, 1.7e-7);
	double complex want = (k0 - k1) / (k0 + k1) * cexp(-2 * k0 * k1 * 0.25);
	CHECK(cabs(r.re + I * r.im - want) < 1e-12);
}

static double argmax_s(const struct bl_gs_sample *s, double dx, double dy, double q0, double q1)
{
	double best = -1, at = 0;
	for (double q = q0; q < q1; q += 1e-5) {
		double v = bl_gs_structure_factor(s, q * dx, q * dy);
		if (v > best)
			best = v, at = q;
	}
	return at;
}

static void test_structure(void)
{
	struct bl_gs_sample s;
	bl_gs_sample_default(&s);
	/* radial paracrystal: S -> 1 at large q, peak near 2 pi / d, S(2 pi/d) = (1+A)/(1-A) */
	s.sf = BL_GS_SF_RADIAL_PARA, s.spacing_nm = 20, s.omega_nm = 2;
	CHECK_NEAR(bl_gs_structure_factor(&s, 30, 0), 1.0, 1e-9);
	double g = 2 * M_PI / 20, amp = exp(-0.5 * g * g * 4);
	CHECK_REL(bl_gs_structure_factor(&s, 0.6 * g, 0.8 * g), (1 + amp) / (1 - amp), 1e-12);
	CHECK_NEAR(argmax_s(&s, 1, 0, 0.2, 0.45), g, 0.01 * g);
	/* hexagonal 2D paracrystal: first peaks at |b| = 4 pi / (sqrt 3 a) along b1 */
	s.sf = BL_GS_SF_PARA2D, s.lattice = BL_GS_HEXAGONAL, s.spacing_nm = 15, s.omega_nm = 1;
	double b = 4 * M_PI / (sqrt(3) * 15);
	CHECK_NEAR(bl_gs_structure_factor(&s, 40, 25), 1.0, 1e-9);
	/* b1 is perpendicular to a2 (at 120 deg): direction (cos -30, sin -30) */
	CHECK_NEAR(argmax_s(&s, cos(-M_PI / 6), sin(-M_PI / 6), 0.3, 0.65), b, 0.01 * b);
	s.lattice = BL_GS_SQUARE;
	CHECK_NEAR(argmax_s(&s, 1, 0, 0.25, 0.6), 2 * M_PI / 15, 0.01 * 2 * M_PI / 15);
	/* 2D lattice: Gaussian peaks at reciprocal points, density * 2 pi w^2 high; nothing
	 * between; Debye-Waller: S = 1 + exp(-q^2 sigma^2) (S0 - 1) */
	s.sf = BL_GS_SF_LATTICE2D, s.lattice = BL_GS_HEXAGONAL, s.decay_length_nm = 100;
	double dens = 1 / (15 * 15 * sin(2 * M_PI / 3)), peak = dens * 2 * M_PI * 1e4;
	double bx = b * cos(-M_PI / 6), by = b * sin(-M_PI / 6);
	CHECK_REL(bl_gs_structure_factor(&s, bx, by), peak, 1e-9);
	CHECK_REL(bl_gs_structure_factor(&s, 2 * bx, 2 * by), peak, 1e-9);
	CHECK_NEAR(bl_gs_structure_factor(&s, 1.5 * bx, 1.5 * by), 0, 1e-9);
	CHECK_NEAR(argmax_s(&s, cos(-M_PI / 6), sin(-M_PI / 6), 0.3, 0.65), b, 1e-4);
	s.dw_sigma_nm = 1;
	CHECK_REL(bl_gs_structure_factor(&s, bx, by), 1 + exp(-b * b) * (peak - 1), 1e-9);
	CHECK_NEAR(bl_gs_structure_factor(&s, 1.5 * bx, 1.5 * by), 1 - exp(-2.25 * b * b), 1e-9);
}

static const struct bl_reduce_geometry geom = {.nrows = 60,
					       .ncols = 50,
					       .pixel_x_um = 172,
					       .pixel_y_um = 172,
					       .distance_mm = 1800,
					       .beam_center_x_px = 25.2,
					       .beam_center_y_px = 2,
					       .wavelength_nm = 0.1,
					       .incidence_deg = 0.1};

static void test_plan_eval(void)
{
	struct bl_gs_sample s;
	bl_gs_sample_default(&s);
	s.film = (struct bl_gs_material){3e-6, 2e-8}, s.film_thickness_nm = 30;
	s.radius_sigma_nm = 0.4, s.size_points = 5;
	struct bl_gs_plan *p = NULL, *q = NULL;
	size_t n = (size_t)geom.nrows * geom.ncols;
	CHECK_EQ_INT(bl_gs_plan_create_detector(&geom, NULL, &s, &p), 0);
	CHECK_EQ_INT(bl_gs_plan_npoints(p), n);
	double *a = malloc(n * sizeof(double)), *b = malloc(n * sizeof(double));
	double *qxy = malloc(n * sizeof(double)), *qz = malloc(n * sizeof(double));
	CHECK_EQ_INT(bl_gs_eval(p, &s, a), 0);
	/* detector pixels and the same (q_xy, q_z) through a q plan agree (no normalisation) */
	for (int i = 0; i < geom.nrows; i++)
		for (int j = 0; j < geom.ncols; j++)
			bl_gi_pixel_q(&geom, i, j, &qxy[i * geom.ncols + j],
				      &qz[i * geom.ncols + j]);
	CHECK_EQ_INT(bl_gs_plan_create_q(0.1, 0.1, qxy, qz, n, &s, &q), 0);
	CHECK_EQ_INT(bl_gs_eval(q, &s, b), 0);
	int above = 0, bad = 0;
	for (size_t k = 0; k < n; k++) {
		double af, phi;
		bl_gs_plan_angles(p, k, &af, &phi);
		if (af > 0)
			above++;
		if (fabs(a[k] - b[k]) > 1e-9 * fabs(a[k]) + 1e-300)
			bad++;
	}
	CHECK(above > (int)n / 2);
	CHECK_EQ_INT(bad, 0);
	/* horizon: below it background only; and q_xy > 0 columns have phi_f > 0 */
	s.background = 7;
	CHECK_EQ_INT(bl_gs_eval(p, &s, a), 0);
	CHECK_NEAR(a[0], 7, 0);
	double af, phi;
	bl_gs_plan_angles(p, (size_t)(40 * geom.ncols + 45), &af, &phi);
	CHECK(af > 0 && (phi > 0) == (qxy[40 * geom.ncols + 45] > 0));
	/* eval_range == eval; a changed film (slow path) == a fresh plan for it */
	CHECK_EQ_INT(bl_gs_eval_range(p, &s, 100, 300, b), 0);
	for (int k = 0; k < 200; k++)
		CHECK(a[100 + k] == b[k]);
	s.film_thickness_nm = 45;
	CHECK_EQ_INT(bl_gs_eval(p, &s, a), 0);
	bl_gs_plan_free(q);
	CHECK_EQ_INT(bl_gs_plan_create_detector(&geom, NULL, &s, &q), 0);
	CHECK_EQ_INT(bl_gs_eval(q, &s, b), 0);
	bad = 0;
	for (size_t k = 0; k < n; k++)
		bad += fabs(a[k] - b[k]) > 1e-12 * fabs(b[k]);
	CHECK_EQ_INT(bad, 0);
	/* Born limit: no interfaces (substrate = ambient), dilute: I = pref |F(q)|^2 */
	struct bl_gs_sample v = s;
	v.substrate = v.ambient, v.film_thickness_nm = 0, v.sf = BL_GS_SF_NONE;
	v.radius_sigma_nm = 0, v.background = 0, v.density_nm2 = 0.01;
	bl_gs_plan_free(q);
	CHECK_EQ_INT(bl_gs_plan_create_q(0.1, 0.1, qxy, qz, n, &v, &q), 0);
	CHECK_EQ_INT(bl_gs_eval(q, &v, b), 0);
	double dn2 = fabs(1 - pow(1 - v.particle.delta, 2)); /* beta's share is ~1e-9 */
	double pref = 0.01 * pow(M_PI / 0.01 * dn2, 2);
	int checked = 0;
	for (size_t k = 0; k < n; k += 37) {
		if (b[k] == 0)
			continue;
		/* BornAgain's q = -(GI q): |F| is even in q for these real shapes */
		struct bl_gs_cplx f = bl_gs_form_factor(&v, 5, 0, fabs(qxy[k]), cq(-qz[k]));
		CHECK_REL(b[k], pref * (f.re * f.re + f.im * f.im), 1e-4);
		checked++;
	}
	CHECK(checked > 10);
	/* random in-plane orientation of boxes (Born limit, dilute): the equal-weight average of
	 * |F|^2 over rotations 0, 30, ..., 150 degrees */
	struct bl_gs_sample o = v;
	o.shape = BL_GS_BOX, o.length_nm = 12, o.width_nm = 5, o.height_nm = 4;
	o.random_orientation = 1, o.orientation_points = 6;
	double oq[2] = {0.31, -0.4}, oz[2] = {0.5, 0.7}, oi[2];
	struct bl_gs_plan *op = NULL;
	CHECK_EQ_INT(bl_gs_plan_create_q(0.1, 0.1, oq, oz, 2, &o, &op), 0);
	CHECK_EQ_INT(bl_gs_eval(op, &o, oi), 0);
	for (int k = 0; k < 2; k++) {
		double oa, ophi, kk = 2 * M_PI / 0.1, sum = 0;
		bl_gs_plan_angles(op, (size_t)k, &oa, &ophi);
		oa *= M_PI / 180, ophi *= M_PI / 180;
		/* BornAgain's q = k_i - k_f, y_BA = -y */
		double qx = kk * (cos(0.1 * M_PI / 180) - cos(oa) * cos(ophi));
		double qy = kk * cos(oa) * sin(ophi), qzb = -kk * (sin(0.1 * M_PI / 180) + sin(oa));
		struct bl_gs_sample one = o;
		one.random_orientation = 0;
		for (int r = 0; r < 6; r++) {
			one.rotation_deg = 30.0 * r;
			struct bl_gs_cplx f = bl_gs_form_factor(&one, 12, qx, qy, cq(qzb));
			sum += (f.re * f.re + f.im * f.im) / 6;
		}
		double dn = 1 - pow(1 - o.particle.delta, 2);
		CHECK_REL(oi[k], 0.01 * pow(M_PI / 0.01 * dn, 2) * sum, 1e-4);
	}
	bl_gs_plan_free(op);
	/* a horizontal line cut (q list at fixed q_z): small cylinders on a radial paracrystal
	 * peak at q_xy = 2 pi / d (the form factor is nearly flat there) */
	struct bl_gs_sample h = s;
	h.film_thickness_nm = 0, h.radius_nm = 1, h.height_nm = 1, h.radius_sigma_nm = 0;
	h.spacing_nm = 20, h.omega_nm = 1.5, h.background = 0;
	double cx_[400], cz[400], cut[400];
	for (int i = 0; i < 400; i++)
		cx_[i] = 0.1 + 0.001 * i, cz[i] = 0.6;
	struct bl_gs_plan *hc = NULL;
	CHECK_EQ_INT(bl_gs_plan_create_q(0.1, 0.1, cx_, cz, 400, &h, &hc), 0);
	CHECK_EQ_INT(bl_gs_eval(hc, &h, cut), 0);
	int imax = 0;
	for (int i = 1; i < 400; i++)
		if (cut[i] > cut[imax])
			imax = i;
	CHECK_NEAR(cx_[imax], 2 * M_PI / 20, 0.02 * 2 * M_PI / 20);
	bl_gs_plan_free(hc);
	/* errors */
	v.radius_nm = 0;
	CHECK_EQ_INT(bl_gs_eval(q, &v, b), -EINVAL);
	v.radius_nm = 5, v.size_points = 65;
	CHECK_EQ_INT(bl_gs_eval(q, &v, b), -EINVAL);
	struct bl_gs_gpu *gg = NULL;
	int rc = bl_gs_gpu_create(q, 0, &gg);
	CHECK(rc == 0 || rc == -ENODEV);
	bl_gs_gpu_free(gg);
	bl_gs_plan_free(p), bl_gs_plan_free(q);
	free(a), free(b), free(qxy), free(qz);
}

int main(void)
{
	test_volumes();
	test_sphere();
	test_cylinder_box();
	test_cone();
	test_parratt();
	test_structure();
	test_plan_eval();
	if (check_failures)
		fprintf(stderr, "%d check(s) failed\n", check_failures);
	return check_failures ? 1 : 0;
}
