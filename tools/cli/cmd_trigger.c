/* cmd_trigger.c: `beamloop trigger ...`: the trigger box by hand: ping, clock, arm a train, read
 * edges. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bl_hwdb.h"
#include "bl_tbox.h"
#include "cli.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: beamloop trigger [--hwdb FILE] [--port N] VERB\n"
		"  ping | time | status | edges | stop CH |\n"
		"  arm CH DELAY_MS PERIOD_MS COUNT [WIDTH_US]   (a train DELAY_MS from now; waits\n"
		"                                              for it and prints its edges)\n");
	return 2;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int print_edges(struct bl_tbox *b)
{
	struct bl_tbox_edge e[BL_TBOX_MAX_EDGES];
	unsigned lost = 0;
	int n = bl_tbox_edges(b, e, BL_TBOX_MAX_EDGES, &lost);
	if (n < 0)
		return n;
	static const char *const kind[] = {"out", "in-rise", "in-fall"};
	for (int i = 0; i < n; i++)
		printf("edge ch %u %s #%u at tick %llu\n", e[i].channel, kind[e[i].kind % 3],
		       e[i].index, (unsigned long long)e[i].tick);
	printf("%d edges, %u lost\n", n, lost);
	return 0;
}

int bl_cli_trigger(int argc, char **argv)
{
	struct bl_cli_dev o;
	if (bl_cli_dev_options(argc, argv, &o))
		return usage();
	const char *verb = o.args[0];
	int nargs = o.nargs - 1;
	char **a = o.args + 1;
	if (bl_cli_dev_load(&o, "trigger"))
		return 1;
	struct bl_hwdb *db = o.db;
	struct bl_tbox *b = NULL;
	int rc = bl_tbox_open(&o.dev, &b);
	if (rc) {
		fprintf(stderr, "beamloop: trigger box: %s\n", strerror(-rc));
		bl_cli_dev_free(&o);
		return 1;
	}
	if (!strcmp(verb, "ping")) {
		struct bl_tbox_info in;
		if (!(rc = bl_tbox_ping(b, &in)))
			printf("trigger box protocol %u, %u channels, %u Hz clock\n", in.version,
			       in.channels, in.tick_hz);
	} else if (!strcmp(verb, "time")) {
		for (int k = 0; k < 4 && !rc; k++)
			rc = bl_tbox_sync(b);
		if (!rc)
			printf("box tick now %llu (map uncertainty %llu ns)\n",
			       (unsigned long long)bl_tbox_host_to_tick(b, mono_ns()),
			       (unsigned long long)bl_tbox_sync_error_ns(b));
	} else if (!strcmp(verb, "status")) {
		uint8_t armed, inputs;
		uint32_t rem[BL_TBOX_CHANNELS_MAX];
		if (!(rc = bl_tbox_status(b, &armed, &inputs, rem)))
			printf("armed 0x%02x inputs 0x%02x remaining %u %u %u %u\n", armed, inputs,
			       rem[0], rem[1], rem[2], rem[3]);
	} else if (!strcmp(verb, "edges")) {
		rc = print_edges(b);
	} else if (!strcmp(verb, "stop") && nargs == 1) {
		rc = bl_tbox_stop(b, atoi(a[0]));
	} else if (!strcmp(verb, "arm") && nargs >= 4) {
		for (int k = 0; k < 4 && !rc; k++)
			rc = bl_tbox_sync(b);
		double delay = atof(a[1]), period = atof(a[2]);
		double width_us = nargs > 4 ? atof(a[4]) : db->trigger.width_us;
		struct bl_tbox_train t = {
		    .channel = (uint8_t)atoi(a[0]),
		    .start_tick = bl_tbox_host_to_tick(b, mono_ns() + (uint64_t)(delay * 1e6)),
		    .period_ticks = (uint32_t)(period * 1e5),
		    .width_ticks = (uint32_t)(width_us * 100),
		    .count = (uint32_t)atoi(a[3])};
		uint32_t id;
		if (!rc)
			rc = bl_tbox_arm(b, &t, &id);
		if (!rc) {
			printf("train %u armed on channel %u: %u pulses from tick %llu\n", id,
			       t.channel, t.count, (unsigned long long)t.start_tick);
			poll(NULL, 0, (int)(delay + period * t.count + 50));
			rc = print_edges(b);
		}
	} else {
		bl_tbox_close(b);
		bl_cli_dev_free(&o);
		return usage();
	}
	if (rc)
		fprintf(stderr, "beamloop: trigger %s: %s\n", verb,
			rc == -ERANGE ? "outside the box's limits in hwdb" : strerror(-rc));
	bl_tbox_close(b);
	bl_cli_dev_free(&o);
	return rc ? 1 : 0;
}
