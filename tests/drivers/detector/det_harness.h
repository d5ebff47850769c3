/* det_harness.h: start bl-detector-sim on ephemeral ports for a test, and wait for stream events.
 */
#ifndef BL_DET_HARNESS_H
#define BL_DET_HARNESS_H

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "../../check.h"
#include "../simproc.h"
#include "bl_detector.h"
#include "bl_dstream.h"
#include "det_render.h"

static struct bl_det *det;
static struct bl_dstream *stream;
static int http_port;
static char stream_ep[128];

static uint64_t harness_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Starts SIM on the sim beamline with EXTRA arguments, opens the REST client and the consumer. */
static void harness_start(const char *sim, const char *root, const char *const *extra)
{
	static char hwdb[512];
	snprintf(hwdb, sizeof(hwdb), "%s/hwdb/beamlines/sim.yaml", root);
	simproc_start_opt(sim, hwdb, 0, extra);
	if (sscanf(simproc_ready, "ready http=%d stream=%127s", &http_port, stream_ep) != 2) {
		fprintf(stderr, "bad ready line '%s'\n", simproc_ready);
		exit(1);
	}
	if (bl_det_open("127.0.0.1", http_port, "1.8.0", 1000, 3000, &det) ||
	    bl_dstream_new(&stream) || bl_dstream_connect(stream, stream_ep)) {
		fprintf(stderr, "cannot open the detector\n");
		exit(1);
	}
}

static void harness_stop(void)
{
	bl_det_free(det);
	bl_dstream_free(stream);
	simproc_stop();
}

/* The next stream event (REJECTs included); 0 on time-out. */
static int next_event(struct bl_dstream_event *ev, int timeout_ms)
{
	uint64_t t0 = harness_ms();
	while (harness_ms() - t0 < (uint64_t)timeout_ms) {
		int rc = bl_dstream_poll(stream, 50, ev);
		if (rc == 1)
			return ev->kind;
		if (rc < 0) {
			fprintf(stderr, "poll: %s\n", strerror(-rc));
			return 0;
		}
	}
	return 0;
}

/* The geometry the simulator reports over REST (what a consumer would use). */
static struct bl_det_geom harness_geometry(void)
{
	struct bl_det_geom g = {0};
	double w = 0, h = 0, px = 0, d = 0, wl = 0;
	CHECK_EQ_INT(bl_det_get_number(det, "x_pixels_in_detector", &w), 0);
	CHECK_EQ_INT(bl_det_get_number(det, "y_pixels_in_detector", &h), 0);
	CHECK_EQ_INT(bl_det_get_number(det, "x_pixel_size", &px), 0);
	CHECK_EQ_INT(bl_det_get_number(det, "beam_center_x", &g.beam_x), 0);
	CHECK_EQ_INT(bl_det_get_number(det, "beam_center_y", &g.beam_y), 0);
	CHECK_EQ_INT(bl_det_get_number(det, "detector_distance", &d), 0);
	CHECK_EQ_INT(bl_det_get_number(det, "wavelength", &wl), 0);
	g.width = (int)w;
	g.height = (int)h;
	g.pixel_mm = px * 1e3;
	g.distance_mm = d * 1e3;
	g.wavelength_nm = wl / 10.0;
	return g;
}

/* Mean counts of the pixels at distance R (+-HALF) pixels from the beam inside the strip LO_MM to
 * HI_MM above the beam: between the film's horizon and its Yoneda band, so only the film's q
 * dependence differs between radii; -1 when no pixel qualifies. */
static double ring_mean(const struct bl_det_geom *g, const struct bl_dstream_event *ev, double r,
			double half, double lo_mm, double hi_mm)
{
	double sum = 0;
	long n = 0;
	for (int y = 0; y < ev->height; y++) {
		double up = (g->beam_y - (y + 0.5)) * g->pixel_mm;
		if (up < lo_mm || up > hi_mm)
			continue;
		for (int x = 0; x < ev->width; x++) {
			double dx = x + 0.5 - g->beam_x, dy = y + 0.5 - g->beam_y;
			if (fabs(sqrt(dx * dx + dy * dy) - r) > half)
				continue;
			size_t i = (size_t)y * (size_t)ev->width + (size_t)x;
			sum += ev->type == BL_DTYPE_UINT16 ? ((const uint16_t *)ev->pixels)[i]
							   : ((const uint32_t *)ev->pixels)[i];
			n++;
		}
	}
	return n ? sum / (double)n : -1;
}

/* Checks that frame EV shows the film's ring (spacing D_NM) where the geometry puts it: brighter
 * by FACTOR than at 0.7 and 1.4 times its radius. */
static void check_ring(const struct bl_det_geom *g, const struct bl_dstream_event *ev, double d_nm,
		       double half, double factor)
{
	double r = bl_det_ring_px(g, 2 * M_PI / d_nm);
	double on = ring_mean(g, ev, r, half, 10.5, 14.0);
	double in = ring_mean(g, ev, 0.7 * r, half, 10.5, 14.0);
	double out = ring_mean(g, ev, 1.4 * r, half, 10.5, 14.0);
	fprintf(stderr, "  ring r=%.1f px: %.1f counts, inside %.1f, outside %.1f\n", r, on, in,
		out);
	CHECK(on > 0 && in >= 0 && out >= 0);
	CHECK(on > factor * in);
	CHECK(on > factor * out);
}

#endif
