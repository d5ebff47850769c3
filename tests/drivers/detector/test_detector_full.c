/* test_detector_full.c: full Pilatus 1M frames (981 x 1043) from bl-detector-sim through the
 * stream consumer: shape, module gaps, the film's ring where the geometry puts it, md5. */
#include <math.h>

#include "bl_gi.h"
#include "det_harness.h"

static struct bl_dstream_event ev;

/* One frame of COMPRESSION at DEPTH bits, checked. */
static void one_frame(const char *compression, int depth, enum bl_denc want)
{
	CHECK_EQ_INT(bl_det_set_string(det, "compression", compression), 0);
	CHECK_EQ_INT(bl_det_set_number(det, "bit_depth_image", depth), 0);
	uint64_t id = 0;
	CHECK_EQ_INT(bl_det_arm(det, &id), 0);
	CHECK_EQ_INT(next_event(&ev, 5000), BL_DS_HEADER);
	CHECK_EQ_INT(ev.config_width, 981);
	CHECK_EQ_INT(ev.config_height, 1043);
	uint64_t t0 = harness_ms();
	CHECK_EQ_INT(bl_det_trigger(det, 0), 0);
	CHECK_EQ_INT(next_event(&ev, 10000), BL_DS_FRAME);
	fprintf(stderr, "  %s/%d: %zu -> %zu bytes, trigger to decoded frame %llu ms\n",
		compression, depth, ev.pixel_bytes, ev.encoded_bytes,
		(unsigned long long)(harness_ms() - t0));
	CHECK_EQ_INT(ev.series, id);
	CHECK_EQ_INT(ev.width, 981);
	CHECK_EQ_INT(ev.height, 1043);
	CHECK_EQ_INT(ev.type, depth / 8);
	CHECK_EQ_INT(ev.encoding, want);
	CHECK_EQ_INT(ev.pixel_bytes, 981 * 1043 * (depth / 8));
	CHECK(ev.hash_checked);
	/* Pilatus module gaps (487 x 195 modules, 7 and 17 pixel gaps) read 0 */
	uint64_t gap_sum = 0, all = 0;
	for (int y = 0; y < 1043; y++) {
		for (int x = 0; x < 981; x++) {
			size_t i = (size_t)y * 981 + (size_t)x;
			uint32_t v = depth == 16 ? ((const uint16_t *)ev.pixels)[i]
						 : ((const uint32_t *)ev.pixels)[i];
			all += v;
			if ((x >= 487 && x < 494) || y % 212 >= 195)
				gap_sum += v;
		}
	}
	CHECK_EQ_INT(gap_sum, 0);
	CHECK(all > 1000000);
	struct bl_det_geom g = harness_geometry();
	check_ring(&g, &ev, 20, 2.0, 3.0);
	CHECK_EQ_INT(next_event(&ev, 5000), BL_DS_END);
	CHECK(ev.complete);
}

/* "film gisaxs": the frame is the forward model's (bl_gisaxs.h): above the Yoneda band the
 * paracrystal's Bragg rods stand at |q_xy| = 2 pi / d (the analytic ring has nothing there), and
 * the counts are those of bl_det_render_gisaxs for the simulator's geometry (Poisson). */
static void gisaxs_frame(void)
{
	CHECK_EQ_INT(simproc_ctl_cmd("film gisaxs 32 400 6")[0], 'o');
	CHECK_EQ_INT(simproc_ctl_cmd("film gisaxs 0 400 6")[0], 'e'); /* refused, nothing changed */
	CHECK_EQ_INT(bl_det_set_string(det, "compression", "bslz4"), 0);
	CHECK_EQ_INT(bl_det_set_number(det, "bit_depth_image", 32), 0);
	uint64_t id = 0;
	CHECK_EQ_INT(bl_det_arm(det, &id), 0);
	CHECK_EQ_INT(next_event(&ev, 5000), BL_DS_HEADER);
	CHECK_EQ_INT(bl_det_trigger(det, 0), 0);
	CHECK_EQ_INT(next_event(&ev, 20000), BL_DS_FRAME);
	const uint32_t *pix = ev.pixels;
	struct bl_det_geom g = harness_geometry();
	g.incidence_deg = 0.16; /* hwdb/beamlines/sim.yaml */
	g.beamstop_px = 2.0 / g.pixel_mm;
	g.module_w = 487, g.module_h = 195, g.gap_x = 7, g.gap_y = 17;
	struct bl_reduce_geometry rg = {.nrows = g.height,
					.ncols = g.width,
					.pixel_x_um = g.pixel_mm * 1e3,
					.pixel_y_um = g.pixel_mm * 1e3,
					.distance_mm = g.distance_mm,
					.beam_center_x_px = g.beam_x,
					.beam_center_y_px = g.height - g.beam_y,
					.wavelength_nm = g.wavelength_nm,
					.incidence_deg = g.incidence_deg};
	/* mean counts per q_xy bin over 0.3 <= q_z <= 0.6 nm^-1 */
	enum { NB = 100 };
	double sum[NB] = {0}, cnt[NB] = {0}, lo = -0.5, hi = 0.5;
	for (int y = 0; y < g.height; y++)
		for (int x = 0; x < g.width; x++) {
			double qxy, qz; /* bl_gi's frame: the frame upside down (det_render.h) */
			if (bl_det_masked(&g, x, y) ||
			    bl_gi_pixel_q(&rg, g.height - 1 - y, x, &qxy, &qz) || qz < 0.3 ||
			    qz > 0.6 || qxy < lo || qxy >= hi)
				continue;
			int b = (int)((qxy - lo) / (hi - lo) * NB);
			sum[b] += pix[(size_t)y * (size_t)g.width + (size_t)x];
			cnt[b]++;
		}
	int best = -1;
	for (int b = NB / 2 + 10; b < NB; b++) /* q_xy > 0.1: away from the specular rod */
		if (cnt[b] > 50 && (best < 0 || sum[b] / cnt[b] > sum[best] / cnt[best]))
			best = b;
	double qpk = lo + (best + 0.5) * (hi - lo) / NB;
	fprintf(stderr, "  gisaxs: Bragg rod at q_xy %.3f nm^-1 (2 pi / 32 nm = %.3f)\n", qpk,
		2 * M_PI / 32);
	CHECK(fabs(qpk - 2 * M_PI / 32) < 0.02);
	/* the counts are the model's: total within 5 sigma of the expected total */
	static float mu[981 * 1043];
	struct bl_det_gs *gs = NULL;
	CHECK_EQ_INT(bl_det_gs_new(&gs, &g), 0);
	struct bl_det_film f = bl_det_film_default();
	f.spacing_nm = 32, f.corr_len_nm = 400, f.rg_nm = 6, f.model = BL_DET_GISAXS;
	CHECK_EQ_INT(bl_det_render_gisaxs(gs, &g, &f, 0.1, mu), 0);
	double want = 0, got = 0;
	for (size_t i = 0; i < (size_t)g.width * (size_t)g.height; i++)
		want += mu[i], got += pix[i];
	fprintf(stderr, "  gisaxs: %.0f counts, model %.0f\n", got, want);
	CHECK(fabs(got - want) < 5 * sqrt(want));
	bl_det_gs_free(gs);
	CHECK_EQ_INT(next_event(&ev, 5000), BL_DS_END);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s BL-DETECTOR-SIM SOURCE-ROOT\n", argv[0]);
		return 2;
	}
	const char *extra[] = {"--http-port", "0", "--stream", "tcp://127.0.0.1:*", NULL};
	harness_start(argv[1], argv[2], extra);
	CHECK_EQ_INT(simproc_ctl_cmd("film 20 100 5")[0], 'o');
	CHECK_EQ_INT(bl_det_set_number(det, "count_time", 0.1), 0);
	CHECK_EQ_INT(bl_det_set_number(det, "frame_time", 0.1), 0);
	CHECK_EQ_INT(bl_det_set_number(det, "nimages", 1), 0);
	one_frame("bslz4", 32, BL_DENC_BS32_LZ4);
	one_frame("lz4", 16, BL_DENC_LZ4);
	gisaxs_frame();
	CHECK_EQ_INT(bl_dstream_counters(stream)->rejected, 0);
	harness_stop();
	return CHECK_DONE();
}
