/* test_barcode_sim.c: the production serial barcode driver against bl-barcode-sim over a real pty:
 * reads, no-reads, misreads, slow reader, disconnect. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../check.h"
#include "../simproc.h"
#include "bl_barcode.h"

/* Triggers and polls until a result or an error (bounded by 5 s of wall time). */
static int read_once(struct bl_barcode *bc, struct bl_barcode_result *res)
{
	uint64_t t0 = bl_barcode_now_ms();
	int rc;
	while ((rc = bl_barcode_trigger(bc, bl_barcode_now_ms())) == -ENOTCONN) {
		if (bl_barcode_now_ms() - t0 > 5000)
			return rc;
		poll(NULL, 0, 10);
	}
	if (rc)
		return rc;
	while (bl_barcode_now_ms() - t0 < 5000) {
		rc = bl_barcode_poll(bc, bl_barcode_now_ms(), res);
		if (rc)
			return rc;
		struct pollfd p = {.fd = bl_barcode_fd(bc), .events = POLLIN};
		poll(&p, 1, 5);
	}
	return -ETIME;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: test_barcode_sim BL_BARCODE_SIM SOURCE_DIR\n");
		return 2;
	}
	char hwdb[512];
	snprintf(hwdb, sizeof(hwdb), "%s/hwdb/beamlines/sim.yaml", argv[2]);
	const char *const extra[] = {"--device", "barcode", "--read-ms", "5", NULL};
	simproc_start(argv[1], hwdb, extra);

	static struct bl_hwdb_errors errs;
	struct bl_hwdb *db;
	CHECK_EQ_INT(bl_hwdb_load(hwdb, &db, &errs), 0);
	struct bl_hwdb_device dev = *bl_hwdb_device(db, "barcode");
	snprintf(dev.transport.device, sizeof(dev.transport.device), "%s", simproc_link);
	dev.timeouts.command_ms = 300; /* keep the slow-reader case short */
	struct bl_barcode *bc;
	CHECK_EQ_INT(bl_barcode_new(&dev, &db->barcode, &bc), 0);
	struct bl_barcode_result res;

	/* every sample of both virtual pucks reads back as its own code */
	for (int p = 1; p <= 2; p++) {
		for (int s = 1; s <= 16; s++) {
			char cmd[32], want[16];
			snprintf(cmd, sizeof(cmd), "present %d %d", p, s);
			bl_bc_sim_code(p, s, want);
			CHECK(!strncmp(simproc_ctl_cmd(cmd), "ok ", 3));
			CHECK_EQ_INT(read_once(bc, &res), 1);
			CHECK_EQ_INT(res.status, BL_BC_OK);
			CHECK_STR(res.code, want);
		}
	}
	CHECK_EQ_INT(bl_barcode_stats(bc)->ok, 32);

	/* nothing under the reader: its no-read token, reported as a no-read */
	CHECK_STR(simproc_ctl_cmd("present none"), "ok none");
	CHECK_EQ_INT(read_once(bc, &res), 1);
	CHECK_EQ_INT(res.status, BL_BC_NOREAD);
	CHECK_STR(res.raw, "ERROR");

	/* injected no-read with a sample present, then a good read */
	char want[16];
	bl_bc_sim_code(1, 7, want);
	simproc_ctl_cmd("present 1 7");
	CHECK_STR(simproc_ctl_cmd("noread 1"), "ok");
	CHECK_EQ_INT(read_once(bc, &res), 1);
	CHECK_EQ_INT(res.status, BL_BC_NOREAD);
	CHECK_EQ_INT(read_once(bc, &res), 1);
	CHECK_EQ_INT(res.status, BL_BC_OK);
	CHECK_STR(res.code, want);

	/* misread (one wrong digit): distinct from a no-read, fails the check digit */
	CHECK_STR(simproc_ctl_cmd("misread 1"), "ok");
	CHECK_EQ_INT(read_once(bc, &res), 1);
	CHECK_EQ_INT(res.status, BL_BC_MISREAD);
	CHECK_STR(res.why, "check digit");
	CHECK(strcmp(res.raw, want) != 0 && strlen(res.raw) == strlen(want));

	/* garbled bytes on the line */
	CHECK_STR(simproc_ctl_cmd("garble 1"), "ok");
	CHECK_EQ_INT(read_once(bc, &res), 1);
	CHECK_EQ_INT(res.status, BL_BC_MISREAD);
	CHECK_STR(res.why, "bytes");

	/* a reader slower than the timeout: -ETIMEDOUT, and the driver sent the stop command */
	CHECK_STR(simproc_ctl_cmd("slow 800"), "ok");
	CHECK_EQ_INT(read_once(bc, &res), -ETIMEDOUT);
	CHECK_EQ_INT(bl_barcode_stats(bc)->timeouts, 1);
	poll(NULL, 0, 50);
	CHECK(strstr(simproc_ctl_cmd("stats"), "stops=1") != NULL);
	CHECK_STR(simproc_ctl_cmd("slow 0"), "ok");
	CHECK_EQ_INT(read_once(bc, &res), 1);
	CHECK_EQ_INT(res.status, BL_BC_OK);
	CHECK_STR(res.code, want);

	/* the reader drops off mid-read: reported, then the driver reconnects by itself */
	simproc_ctl_cmd("slow 300");
	CHECK_EQ_INT(bl_barcode_trigger(bc, bl_barcode_now_ms()), 0);
	CHECK_STR(simproc_ctl_cmd("disconnect 400"), "ok");
	int rc = 0;
	for (int i = 0; i < 200 && rc == 0; i++) {
		rc = bl_barcode_poll(bc, bl_barcode_now_ms(), &res);
		poll(NULL, 0, 5);
	}
	CHECK_EQ_INT(rc, -ECONNRESET);
	CHECK_EQ_INT(bl_barcode_trigger(bc, bl_barcode_now_ms()), -ENOTCONN);
	simproc_ctl_cmd("slow 0");
	CHECK_EQ_INT(read_once(bc, &res), 1);
	CHECK_EQ_INT(res.status, BL_BC_OK);
	CHECK_STR(res.code, want);
	CHECK_EQ_INT(bl_barcode_stats(bc)->disconnects, 1);
	CHECK_EQ_INT(bl_barcode_stats(bc)->reconnects, 1);

	CHECK(!strncmp(simproc_ctl_cmd("bogus"), "err", 3));
	bl_barcode_free(bc);
	bl_hwdb_free(db);
	return CHECK_DONE();
}
