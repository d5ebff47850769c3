/* gs_model.c: GISAXS sample -> evaluation model (size and orientation samples, Gauss-Legendre
 * nodes, lattice vectors, contrast), the Parratt recursion, and the public building blocks. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "gs_internal.h"

void bl_gs_sample_default(struct bl_gs_sample *s)
{
	memset(s, 0, sizeof(*s));
	s->substrate = (struct bl_gs_material){7.6e-6, 1.7e-7}; /* Si at 0.1 nm (8 keV-ish) */
	s->particle = (struct bl_gs_material){6e-4, 2e-8};
	s->shape = BL_GS_CYLINDER;
	s->radius_nm = 5, s->height_nm = 5, s->length_nm = 10, s->width_nm = 10;
	s->cone_angle_deg = 70;
	s->sf = BL_GS_SF_RADIAL_PARA;
	s->lattice = BL_GS_HEXAGONAL;
	s->spacing_nm = 20, s->omega_nm = 2, s->decay_length_nm = 300;
	s->scale = 1;
	s->norm = BL_GS_NORM_NONE;
}

void gs_layers_of(const struct bl_gs_sample *s, struct gs_layers *l)
{
	memset(l, 0, sizeof(*l));
	l->ambient = s->ambient, l->film = s->film, l->substrate = s->substrate;
	l->thickness = s->film_thickness_nm > 0 ? s->film_thickness_nm : 0;
	l->rough[0] = s->roughness_nm[0], l->rough[1] = s->roughness_nm[1];
	l->layer = l->thickness > 0 ? s->particle_layer : 0;
	l->depth = l->layer ? s->particle_depth_nm : 0;
}

int gs_layers_equal(const struct gs_layers *a, const struct gs_layers *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static gs_c n2(struct bl_gs_material m)
{
	double re = 1 - m.delta;
	return cx(re * re - m.beta * m.beta, 2 * re * m.beta);
}

/* Parratt's recursion from the substrate up (X = R / T at the bottom of each layer), with
 * Nevot-Croce roughness factors; then the amplitudes in the particle layer referred to its top
 * interface. Written here: a two- or three-layer recursion is a few lines, and GSL has none. */
void gs_fresnel(const struct gs_layers *l, double k, double alpha, gs_c *r, gs_c *t, gs_c *kz)
{
	struct bl_gs_material mat[3] = {l->ambient, l->film, l->substrate};
	double d[3] = {0, l->thickness, 0};
	int nl = 3;
	if (l->thickness <= 0)
		mat[1] = l->substrate, nl = 2;
	double c = cos(alpha);
	gs_c kzs[3], x[3];
	for (int j = 0; j < nl; j++)
		kzs[j] = cscale(csqrt_(csub(n2(mat[j]), cx(c * c, 0))), k);
	x[nl - 1] = cx(0, 0);
	for (int j = nl - 2; j >= 0; j--) {
		gs_c rj = cdiv(csub(kzs[j], kzs[j + 1]), cadd(kzs[j], kzs[j + 1]));
		double sg = l->rough[j];
		if (sg > 0) {
			gs_c e = cscale(cmul(kzs[j], kzs[j + 1]), -2 * sg * sg);
			double m = exp(e.re);
			rj = cmul(rj, cx(m * cos(e.im), m * sin(e.im)));
		}
		gs_c p = cmul(x[j + 1], cexpi(cscale(kzs[j + 1], 2 * d[j + 1])));
		x[j] = cdiv(cadd(rj, p), cadd(cx(1, 0), cmul(rj, p)));
	}
	if (l->layer == 0 || nl == 2) {
		*r = x[0], *t = cx(1, 0), *kz = kzs[0];
		return;
	}
	gs_c p = cmul(x[1], cexpi(cscale(kzs[1], 2 * d[1])));
	*t = cdiv(cadd(cx(1, 0), x[0]), cadd(cx(1, 0), p));
	*r = cmul(*t, p);
	*kz = kzs[1];
}

/* Gauss-Legendre nodes and weights on [0, 1] by Newton on P_n (GSL's glfixed tables would
 * allocate; this runs once per evaluation, not per point). */
static void gauss_legendre(int n, double *x, double *w)
{
	for (int i = 0; i < (n + 1) / 2; i++) {
		double z = cos(M_PI * (i + 0.75) / (n + 0.5)), pp = 1;
		for (int it = 0; it < 100; it++) {
			double p1 = 1, p2 = 0;
			for (int j = 1; j <= n; j++) {
				double p3 = p2;
				p2 = p1;
				p1 = ((2.0 * j - 1) * z * p2 - (j - 1.0) * p3) / j;
			}
			pp = n * (z * p1 - p2) / (z * z - 1);
			double z1 = z;
			z = z1 - p1 / pp;
			if (fabs(z - z1) < 1e-15)
				break;
		}
		x[i] = 0.5 * (1 - z), x[n - 1 - i] = 0.5 * (1 + z);
		w[i] = w[n - 1 - i] = 1.0 / ((1 - z * z) * pp * pp);
	}
}

int gs_model_init(struct gs_model *m, const struct bl_gs_sample *s, double lambda)
{
	memset(m, 0, sizeof(*m));
	m->shape = s->shape, m->sf = s->sf, m->lattice = s->lattice, m->decay = s->decay;
	int nsz = s->size_points ? s->size_points : 15;
	int nor = s->orientation_points ? s->orientation_points : 12;
	int ncn = s->cone_points ? s->cone_points : 24;
	double sf = s->size_sigma_factor > 0 ? s->size_sigma_factor : 2;
	if (nsz < 1 || nsz > GS_MAXQ || nor < 1 || nor > GS_MAXQ || ncn < 1 || ncn > GS_MAXQ ||
	    !(lambda > 0) || (unsigned)s->shape > BL_GS_CONE ||
	    (unsigned)s->sf > BL_GS_SF_LATTICE2D)
		return -EINVAL;
	double size = s->shape == BL_GS_BOX ? s->length_nm : s->radius_nm;
	if (!(size > 0) || (s->shape != BL_GS_SPHERE && !(s->height_nm > 0)) ||
	    (s->shape == BL_GS_BOX && !(s->width_nm > 0)) || !(s->radius_sigma_nm >= 0))
		return -EINVAL;
	m->height = s->height_nm, m->length = s->length_nm;
	m->width = s->shape == BL_GS_BOX ? s->width_nm / s->length_nm : 0;
	if (s->shape == BL_GS_CONE) {
		double a = s->cone_angle_deg * M_PI / 180;
		if (!(a > 0 && a <= M_PI / 2 + 1e-12))
			return -EINVAL;
		m->cone_cot = a >= M_PI / 2 ? 0 : 1 / tan(a);
		if (s->radius_nm - s->height_nm * m->cone_cot < 0)
			return -EINVAL;
		m->ncone = ncn;
		gauss_legendre(ncn, m->glx, m->glw);
	}
	/* sizes: BornAgain's DistributionGaussian samples (equally spaced, pdf weights) */
	if (s->radius_sigma_nm > 0 && nsz > 1) {
		double sum = 0;
		for (int i = 0; i < nsz; i++) {
			double t = sf * (2.0 * i / (nsz - 1) - 1),
			       r = size + t * s->radius_sigma_nm;
			if (r <= 0)
				continue;
			m->rad[m->nsize] = r, m->wsize[m->nsize] = exp(-0.5 * t * t);
			sum += m->wsize[m->nsize++];
		}
		for (int i = 0; i < m->nsize; i++)
			m->wsize[i] /= sum;
	} else {
		m->nsize = 1, m->rad[0] = size, m->wsize[0] = 1;
	}
	for (int i = 0; i < m->nsize; i++) /* a cone must not close below its top */
		if (s->shape == BL_GS_CONE && m->rad[i] - s->height_nm * m->cone_cot < 0)
			return -EINVAL;
	/* orientations (box): the rotation, or equally spaced over [0, 180) degrees (a
	 * rectangle's in-plane symmetry is 180 degrees) */
	double rot = s->rotation_deg * M_PI / 180;
	m->norient = s->shape == BL_GS_BOX && s->random_orientation ? nor : 1;
	for (int o = 0; o < m->norient; o++) {
		double a = m->norient > 1 ? M_PI * o / m->norient : rot;
		m->ocos[o] = cos(a), m->osin[o] = sin(a);
	}
	/* structure factor */
	double a = s->spacing_nm, xi = s->lattice_rotation_deg * M_PI / 180;
	double gam = s->lattice == BL_GS_HEXAGONAL ? 2 * M_PI / 3 : M_PI / 2;
	if (s->sf != BL_GS_SF_NONE && !(a > 0))
		return -EINVAL;
	m->spacing = a, m->omega = s->omega_nm, m->domain = s->domain_size_nm;
	m->damping_f = s->damping_length_nm > 0 ? exp(-a / s->damping_length_nm) : 1;
	m->a1x = a * cos(xi), m->a1y = a * sin(xi);
	m->a2x = a * cos(xi + gam), m->a2y = a * sin(xi + gam);
	double area = fabs(m->a1x * m->a2y - m->a1y * m->a2x);
	if (area > 0) {
		m->b1x = 2 * M_PI * m->a2y / area, m->b1y = -2 * M_PI * m->a2x / area;
		m->b2x = -2 * M_PI * m->a1y / area, m->b2y = 2 * M_PI * m->a1x / area;
	}
	m->decay_len = s->decay_length_nm, m->dw2 = s->dw_sigma_nm * s->dw_sigma_nm;
	if (s->sf == BL_GS_SF_LATTICE2D) {
		if (!(m->decay_len > 0))
			return -EINVAL;
		/* smallest distance between reciprocal lattice rows */
		double bperp = 2 * M_PI / (a * sin(gam));
		double reach = m->decay == BL_GS_DECAY_CAUCHY ? 20 : 9;
		double nw = ceil(reach / (m->decay_len * bperp)) + 1;
		m->nwin = nw > 32 ? 32 : (int)nw;
	}
	if (s->sf == BL_GS_SF_PARA2D || s->sf == BL_GS_SF_LATTICE2D)
		m->density = 1 / area;
	else
		m->density = s->density_nm2 > 0 ? s->density_nm2 : (a > 0 ? 1 / (a * a) : 0);
	if (!(m->density > 0))
		return -EINVAL;
	/* contrast (pi / lambda^2)(n_layer^2 - n_particle^2), as BornAgain's material factor */
	struct bl_gs_material host =
	    s->film_thickness_nm > 0 && s->particle_layer ? s->film : s->ambient;
	gs_c dn = csub(n2(host), n2(s->particle));
	double c2 = cnorm(dn) * pow(M_PI / (lambda * lambda), 2);
	m->pref = s->scale * m->density * c2;
	m->background = s->background;
	m->use_norm = s->norm == BL_GS_NORM_SOLID_ANGLE;
	m->depth = s->film_thickness_nm > 0 && s->particle_layer ? s->particle_depth_nm : 0;
	return 0;
}

void gs_model_incidence(struct gs_model *m, gs_c kzi)
{
	double a = kzi.re * m->height;
	m->ezi = cx(cos(a), sin(a));
	for (int s = 0; s < m->nsize; s++)
		m->ezr[s] = cx(cos(kzi.re * m->rad[s]), sin(kzi.re * m->rad[s]));
}

struct bl_gs_cplx bl_gs_form_factor(const struct bl_gs_sample *s, double radius, double qx,
				    double qy, struct bl_gs_cplx qz)
{
	struct gs_model m;
	if (gs_model_init(&m, s, 0.1) < 0 || !(radius > 0))
		return cx(NAN, NAN);
	double qpar = sqrt(qx * qx + qy * qy);
	if (s->shape == BL_GS_SPHERE)
		return gs_ff_sphere(radius, qpar, qz);
	if (s->shape == BL_GS_CONE)
		return gs_ff_cone(&m, radius, qpar, qz);
	return cscale(gs_ff_axial(m.height, qz), gs_ff_plane(&m, radius, qx, qy, qpar, 0));
}

double bl_gs_structure_factor(const struct bl_gs_sample *s, double qx, double qy)
{
	struct gs_model m;
	if (gs_model_init(&m, s, 0.1) < 0)
		return NAN;
	return gs_structure(&m, qx, qy);
}

int bl_gs_fresnel(const struct bl_gs_sample *s, double wavelength_nm, double alpha_deg,
		  struct bl_gs_cplx *r, struct bl_gs_cplx *t, struct bl_gs_cplx *kz)
{
	if (!s || !r || !t || !kz || !(wavelength_nm > 0) || !(alpha_deg > 0 && alpha_deg < 90))
		return -EINVAL;
	struct gs_layers l;
	gs_layers_of(s, &l);
	gs_fresnel(&l, 2 * M_PI / wavelength_nm, alpha_deg * M_PI / 180, r, t, kz);
	return 0;
}
