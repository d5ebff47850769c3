/* test_detector_full.c: full Pilatus 1M frames (981 x 1043) from bl-detector-sim through the
 * stream consumer: shape, module gaps, the film's ring where the geometry puts it, md5. */
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
	CHECK_EQ_INT(bl_dstream_counters(stream)->rejected, 0);
	harness_stop();
	return CHECK_DONE();
}
