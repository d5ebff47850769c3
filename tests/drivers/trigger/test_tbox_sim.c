/* test_tbox_sim.c: the trigger box driver against bl-tbox-sim over TCP: clock map, timed trains
 * with exact edge times, NAKs, limits, faults, edges forwarded to the detector. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <time.h>

#include "../../check.h"
#include "../simproc.h"
#include "bl_tbox.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	char hwdb[512], edge_path[96];
	snprintf(hwdb, sizeof(hwdb), "%s/hwdb/beamlines/sim.yaml", argv[2]);
	/* the detector's side of the edge forwarding: a datagram socket */
	snprintf(edge_path, sizeof(edge_path), "/tmp/bl-tbox-edges-%d", (int)getpid());
	unlink(edge_path);
	int efd = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un ea = {.sun_family = AF_UNIX};
	snprintf(ea.sun_path, sizeof(ea.sun_path), "%s", edge_path);
	CHECK_EQ_INT(bind(efd, (struct sockaddr *)&ea, sizeof(ea)), 0);
	const char *const extra[] = {"--port", "0", "--edges-to", edge_path, NULL};
	simproc_start_opt(argv[1], hwdb, 0, extra);

	static struct bl_hwdb_errors errs;
	struct bl_hwdb *db;
	CHECK_EQ_INT(bl_hwdb_load(hwdb, &db, &errs), 0);
	struct bl_hwdb_device d = *bl_hwdb_device(db, "trigger");
	CHECK(sscanf(simproc_ready, "ready tcp 127.0.0.1 %d", &d.transport.port) == 1);
	d.timeouts.command_ms = 100;
	struct bl_tbox *b;
	CHECK_EQ_INT(bl_tbox_open(&d, &b), 0);

	struct bl_tbox_info info;
	CHECK_EQ_INT(bl_tbox_ping(b, &info), 0);
	CHECK_EQ_INT(info.version, 1);
	CHECK_EQ_INT(info.channels, 4);
	CHECK_EQ_INT(info.tick_hz, 100000000);

	/* the clock map: host time -> box tick agrees with a fresh reading within the round trip.
	 * A loaded machine can preempt the test between its host clock reads and the request (the
	 * reading, not the map, is then off): up to 3 readings, each with more syncs behind it. */
	bool agrees = false;
	uint64_t t1 = 0;
	for (int attempt = 0; attempt < 3 && !agrees; attempt++) {
		for (int i = 0; i < 6; i++) {
			CHECK_EQ_INT(bl_tbox_sync(b), 0);
			poll(NULL, 0, 5);
		}
		uint64_t t0 = mono_ns(), tick;
		CHECK_EQ_INT(bl_tbox_time(b, &tick), 0);
		t1 = mono_ns();
		double predicted = (double)bl_tbox_host_to_tick(b, t0 + (t1 - t0) / 2);
		double err_ticks =
		    (double)bl_tbox_sync_error_ns(b) / 10.0 + (double)(t1 - t0) / 10.0;
		agrees = (double)tick > predicted - err_ticks - 5000 &&
			 (double)tick < predicted + err_ticks + 5000;
		if (!agrees)
			fprintf(stderr, "clock map attempt %d: tick %llu, predicted %.0f +- %.0f\n",
				attempt, (unsigned long long)tick, predicted, err_ticks + 5000);
	}
	CHECK(agrees);
	uint64_t back = bl_tbox_tick_to_host(b, bl_tbox_host_to_tick(b, t1));
	CHECK(back > t1 - 100 && back < t1 + 100);
	printf("clock map: round trip/2 = %llu ns\n", (unsigned long long)bl_tbox_sync_error_ns(b));

	/* a train at a controller time: 10 pulses, 5 ms apart, starting 150 ms from now (room for a
	 * loaded machine: a start already past would be refused, rightly) */
	struct bl_tbox_train t = {.channel = 0,
				  .start_tick = bl_tbox_host_to_tick(b, mono_ns() + 150000000u),
				  .period_ticks = 500000,
				  .width_ticks = 1000,
				  .count = 10};
	uint32_t id = 0;
	CHECK_EQ_INT(bl_tbox_arm(b, &t, &id), 0);
	CHECK(id > 0);
	CHECK_EQ_INT(bl_tbox_arm(b, &t, NULL), -EBUSY); /* still armed */
	uint8_t armed, inputs;
	uint32_t remaining[BL_TBOX_CHANNELS_MAX];
	CHECK_EQ_INT(bl_tbox_status(b, &armed, &inputs, remaining), 0);
	CHECK_EQ_INT(armed, 1);
	CHECK_EQ_INT(remaining[0], 10);
	poll(NULL, 0, 300);
	struct bl_tbox_edge e[64];
	unsigned lost = 99;
	int n = bl_tbox_edges(b, e, 64, &lost);
	CHECK_EQ_INT(n, 10);
	CHECK_EQ_INT(lost, 0);
	for (int i = 0; i < n && i < 10; i++) {
		CHECK_EQ_INT(e[i].channel, 0);
		CHECK_EQ_INT(e[i].kind, BL_TBOX_EDGE_OUT);
		CHECK_EQ_INT(e[i].index, i);
		CHECK(e[i].tick == t.start_tick + (uint64_t)i * t.period_ticks);
	}
	CHECK_EQ_INT(bl_tbox_edges(b, e, 64, NULL), 0); /* handed out once */
	/* the same edges reached the detector's socket */
	int got = 0;
	char line[128];
	struct pollfd pf = {.fd = efd, .events = POLLIN};
	while (poll(&pf, 1, 50) == 1) {
		ssize_t r = recv(efd, line, sizeof(line) - 1, 0);
		if (r <= 0)
			break;
		line[r] = 0;
		unsigned ch, idx;
		unsigned long long tk;
		CHECK(sscanf(line, "edge %u %u %llu", &ch, &idx, &tk) == 3);
		CHECK(idx == (unsigned)got && tk == t.start_tick + (uint64_t)got * t.period_ticks);
		got++;
	}
	CHECK_EQ_INT(got, 10);

	/* refusals from the box (NAK) and limits from hwdb (nothing sent) */
	struct bl_tbox_train late = t;
	late.start_tick = 1;
	CHECK_EQ_INT(bl_tbox_arm(b, &late, NULL), -ETIME);
	struct bl_tbox_train bad = t;
	bad.start_tick = bl_tbox_host_to_tick(b, mono_ns() + 50000000u);
	bad.channel = 3;
	bad.width_ticks = bad.period_ticks;
	CHECK_EQ_INT(bl_tbox_arm(b, &bad, NULL), -ERANGE);
	bad.channel = 9;
	bad.width_ticks = 10;
	CHECK_EQ_INT(bl_tbox_arm(b, &bad, NULL), -EINVAL);
	bad.channel = 1;
	bad.period_ticks = 5; /* 50 ns, below the model's 0.1 us */
	bad.width_ticks = 2;
	CHECK_EQ_INT(bl_tbox_arm(b, &bad, NULL), -ERANGE);
	CHECK_EQ_INT(bl_tbox_stop(b, 7), -EINVAL);

	/* a garbled reply is retried, a mute box times out; a missed pulse shows as a gap */
	CHECK_STR(simproc_ctl_cmd("garble 1"), "ok");
	CHECK_EQ_INT(bl_tbox_ping(b, &info), 0);
	CHECK_STR(simproc_ctl_cmd("mute 3"), "ok");
	CHECK_EQ_INT(bl_tbox_ping(b, &info), -ETIMEDOUT);
	CHECK_EQ_INT(bl_tbox_ping(b, &info), 0);
	CHECK_STR(simproc_ctl_cmd("drop 1"), "ok");
	t.channel = 1;
	t.count = 4;
	t.start_tick = bl_tbox_host_to_tick(b, mono_ns() + 100000000u);
	CHECK_EQ_INT(bl_tbox_arm(b, &t, NULL), 0);
	CHECK_STR(simproc_ctl_cmd("input 0 1"), "ok"); /* beam lost input goes high */
	poll(NULL, 0, 250);
	CHECK_STR(simproc_ctl_cmd("garble 1"), "ok"); /* edges survive a damaged reply */
	n = bl_tbox_edges(b, e, 64, NULL);
	CHECK_EQ_INT(n, 4); /* one input edge + three of four pulses */
	int in = 0, out = 0;
	for (int i = 0; i < n; i++) {
		if (e[i].kind == BL_TBOX_EDGE_IN_RISE) {
			CHECK_EQ_INT(e[i].channel, 0);
			in++;
		} else {
			CHECK_EQ_INT(e[i].index, out + 1); /* pulse 0 never left the box */
			out++;
		}
	}
	CHECK_EQ_INT(in, 1);
	CHECK_EQ_INT(out, 3);
	CHECK_EQ_INT(bl_tbox_status(b, &armed, &inputs, remaining), 0);
	CHECK_EQ_INT(inputs, 1);
	CHECK_EQ_INT(armed, 0);

	bl_tbox_close(b);
	bl_hwdb_free(db);
	close(efd);
	unlink(edge_path);
	return CHECK_DONE();
}
