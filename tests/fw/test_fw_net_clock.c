/* test_fw_net_clock.c: clock sync, on synthetic exchanges and against a drifting controller clock.
 */
#include <errno.h>
#include <math.h>

#include "../check.h"
#include "fw_net_harness.h"

static uint32_t lcg_state = 12345;

static uint32_t lcg(void)
{
	lcg_state = lcg_state * 1664525u + 1013904223u;
	return lcg_state >> 8;
}

/* Exchanges computed, not measured: the controller runs 100 ppm fast and 5 s ahead; each way
 * takes 30 us plus a random delay up to 400 us (queueing), so only the quick exchanges are
 * symmetric. The fit must find offset and drift from the best of each window. */
static void test_synthetic(void)
{
	struct bl_fw_clocksync cs;
	struct bl_fw_clocksync_config cfg = {.window = 8, .history = 24};
	bl_fw_clocksync_init(&cs, &cfg);
	struct bl_fw_clock_estimate est;
	CHECK_EQ_INT(bl_fw_clocksync_estimate(&cs, 0, &est), -EAGAIN);
	CHECK_EQ_INT(bl_fw_clocksync_to_ctrl(&cs, 1000), 0);

	const double rate = 1.0 + 100e-6;
	const uint64_t base = 987654321000ull; /* a monotonic clock ~11 days after boot */
	const double offset = 5e6;
	uint64_t t = base;
	for (int w = 0; w < 40; w++) {
		for (int p = 0; p < 8; p++) {
			uint64_t d1 = 30 + (lcg() % 8 ? lcg() % 400 : lcg() % 4);
			uint64_t d2 = 30 + (lcg() % 8 ? lcg() % 400 : lcg() % 4);
			uint64_t ctrl = (uint64_t)(offset + (double)(t + d1) * rate);
			bl_fw_clocksync_add(&cs, t, ctrl, t + d1 + d2);
			t += 100000; /* 100 ms between pings */
		}
		if (w == 0) {
			/* one window: offset only */
			CHECK_EQ_INT(bl_fw_clocksync_estimate(&cs, t, &est), 0);
			CHECK_EQ_INT(est.windows, 1);
			CHECK_NEAR(est.drift_ppm, 0, 1e-9);
		}
	}
	CHECK_EQ_INT(bl_fw_clocksync_estimate(&cs, t, &est), 0);
	double true_offset = offset + (double)t * (rate - 1.0);
	fprintf(stderr, "synthetic: offset %+.1f us (true %+.1f), drift %.3f ppm, +-%.1f us, %d\n",
		est.offset_us, true_offset, est.drift_ppm, est.uncertainty_us, est.windows);
	CHECK_EQ_INT(est.windows, 24);
	CHECK_NEAR(est.offset_us, true_offset, 10);
	CHECK_NEAR(est.drift_ppm, 100, 1);
	CHECK(est.uncertainty_us >= 30 && est.uncertainty_us < 40);
	/* both ways, and back */
	uint64_t c = bl_fw_clocksync_to_ctrl(&cs, t);
	CHECK_NEAR((double)c, offset + (double)t * rate, 10);
	CHECK_NEAR((double)bl_fw_clocksync_to_local(&cs, c), (double)t, 1);
	uint64_t later = t + 60000000; /* a minute ahead: the drift counts */
	CHECK_NEAR((double)bl_fw_clocksync_to_ctrl(&cs, later), offset + (double)later * rate, 20);
	CHECK_NEAR((double)bl_fw_clocksync_to_local(&cs, bl_fw_clocksync_to_ctrl(&cs, later)),
		   (double)later, 1);
}

/* Against the controller interface: its clock runs 50 ppm fast and 123.456789 s ahead of this
 * process's CLOCK_MONOTONIC. */
static void test_live(void)
{
	char pub[41], sec[41];
	zmq_curve_keypair(pub, sec);
	struct bl_fw_allowlist allow = {0};
	bl_fw_allowlist_add(&allow, pub);
	struct harness h;
	const int64_t offset = 123456789;
	int rc = harness_start(&h, &allow, 1.0 + 50e-6, offset);
	bl_fw_allowlist_free(&allow);
	CHECK_EQ_INT(rc, 0);
	if (rc)
		return;
	struct bl_fw_client *c = harness_client(&h, pub, sec);
	struct bl_fw_clocksync cs;
	struct bl_fw_clocksync_config cfg = {.window = 5, .history = 64};
	bl_fw_clocksync_init(&cs, &cfg);
	/* 64 windows of 5 pings 12 ms apart: a 3.8 s baseline for the drift (over 2 s, a loaded
	 * 2-core machine's 30 us round-trip asymmetries alone made 20 ppm) */
	rc = bl_fw_clocksync_run(&cs, c, 64, 12, 500);
	CHECK_EQ_INT(rc, 0);
	uint64_t now = bl_fw_clocksync_local_now(&cs);
	struct bl_fw_clock_estimate est;
	CHECK_EQ_INT(bl_fw_clocksync_estimate(&cs, now, &est), 0);
	double true_offset = (double)offset + (double)(now - h.t_start) * 50e-6;
	fprintf(stderr,
		"live: offset %+.1f us (true %+.1f), drift %.2f ppm (true 50), +-%.1f us, rtt "
		"%.0f us, %d windows, %llu pings, %llu failed\n",
		est.offset_us, true_offset, est.drift_ppm, est.uncertainty_us, est.rtt_us,
		est.windows, (unsigned long long)cs.pings, (unsigned long long)cs.failed_pings);
	CHECK_EQ_INT(est.windows, 64);
	CHECK_NEAR(est.offset_us, true_offset, 200);
	CHECK_NEAR(est.drift_ppm, 50, 20);
	CHECK(est.uncertainty_us > 0);
	uint64_t c_now = bl_fw_clocksync_to_ctrl(&cs, now);
	CHECK_NEAR((double)c_now, (double)harness_ctrl_at(&h, now), 200);
	CHECK_NEAR((double)bl_fw_clocksync_to_local(&cs, c_now), (double)now, 1);
	bl_fw_client_close(c);
	harness_stop(&h);
}

int main(void)
{
	test_synthetic();
	test_live();
	return CHECK_DONE();
}
