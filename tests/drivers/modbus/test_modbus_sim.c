/* test_modbus_sim.c: the production Modbus client against bl-modbus-sim (libmodbus server) over TCP
 * and RTU-on-pty: values, limits, physics, exceptions, timeouts, CRC errors. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>

#include "../../check.h"
#include "../simproc.h"
#include "bl_mb.h"

static struct bl_mb *mb;

static double rd(const char *name)
{
	double v = NAN;
	int rc = bl_mb_read(mb, name, &v);
	if (rc)
		fprintf(stderr, "read %s: %s\n", name, bl_mb_strerror(rc));
	return v;
}

static void sleep_ms(int ms)
{
	poll(NULL, 0, ms);
}

static void test_heater(bool rtu)
{
	CHECK_NEAR(rd("pv"), 22.0, 0.05); /* ambient, int16 x 0.1 */
	CHECK_EQ_INT(bl_mb_write(mb, "target_sp", 80.0), 0);
	CHECK_NEAR(rd("target_sp"), 80.0, 1e-9);
	sleep_ms(300); /* 30 s simulated */
	double pv = rd("pv");
	CHECK(pv > 40.0 && pv < 95.0); /* heating fast, overshoot bounded */
	CHECK(rd("working_op") > 0);
	sleep_ms(3000); /* 300 s simulated: settled */
	CHECK_NEAR(rd("pv"), 80.0, 1.0);
	CHECK_NEAR(rd("working_sp"), 80.0, 1e-9);

	/* limits and access from hwdb: refused before anything is sent */
	unsigned req = bl_mb_stats(mb)->requests;
	CHECK_EQ_INT(bl_mb_write(mb, "target_sp", 450.0), -ERANGE);
	CHECK_EQ_INT(bl_mb_write(mb, "pv", 50.0), -EACCES);
	CHECK_EQ_INT(bl_mb_write(mb, "nonexistent", 1.0), -ENOENT);
	CHECK_EQ_INT(bl_mb_stats(mb)->requests, req);

	/* every exception the device can send comes back as its own errno */
	const struct {
		int code, err;
	} exc[] = {{1, -EOPNOTSUPP}, {2, -EFAULT}, {3, -EINVAL}, {4, -EIO}};
	for (size_t i = 0; i < sizeof(exc) / sizeof(exc[0]); i++) {
		char cmd[32];
		double v;
		snprintf(cmd, sizeof(cmd), "exception %d 1", exc[i].code);
		CHECK_STR(simproc_ctl_cmd(cmd), "ok");
		CHECK_EQ_INT(bl_mb_read(mb, "pv", &v), exc[i].err);
	}
	/* busy is retried; busy for longer than the retries is reported */
	double v;
	CHECK_STR(simproc_ctl_cmd("exception 6 1"), "ok");
	CHECK_EQ_INT(bl_mb_read(mb, "pv", &v), 0);
	CHECK_STR(simproc_ctl_cmd("exception 6 5"), "ok");
	CHECK_EQ_INT(bl_mb_read(mb, "pv", &v), -EBUSY);
	CHECK_STR(simproc_ctl_cmd("exception 6 0"), "ok");

	/* a lost reply is retried; a device that stays silent times out, then recovers */
	CHECK_STR(simproc_ctl_cmd("mute 1"), "ok");
	CHECK_EQ_INT(bl_mb_read(mb, "target_sp", &v), 0);
	CHECK_NEAR(v, 80.0, 1e-9);
	CHECK_EQ_INT(bl_mb_stats(mb)->timeouts, 1);
	CHECK_STR(simproc_ctl_cmd("mute 3"), "ok");
	CHECK_EQ_INT(bl_mb_read(mb, "target_sp", &v), -ETIMEDOUT);
	CHECK_EQ_INT(bl_mb_read(mb, "target_sp", &v), 0);
	CHECK_NEAR(v, 80.0, 1e-9);

	if (rtu) { /* line errors: bad CRC is retried, persistent bad CRC reported */
		CHECK_STR(simproc_ctl_cmd("crc 1"), "ok");
		CHECK_EQ_INT(bl_mb_read(mb, "target_sp", &v), 0);
		CHECK_NEAR(v, 80.0, 1e-9);
		CHECK(bl_mb_stats(mb)->bad_frames >= 1);
		CHECK_STR(simproc_ctl_cmd("crc 3"), "ok");
		CHECK_EQ_INT(bl_mb_read(mb, "target_sp", &v), -EBADMSG);
		CHECK_EQ_INT(bl_mb_read(mb, "target_sp", &v), 0);
	} else {
		CHECK(!strncmp(simproc_ctl_cmd("crc 1"), "err", 3));
	}

	/* heater runaway: the temperature climbs past the setpoint and keeps going */
	CHECK_EQ_INT(bl_mb_write(mb, "target_sp", 50.0), 0);
	CHECK_STR(simproc_ctl_cmd("runaway"), "ok");
	sleep_ms(600);
	CHECK(rd("pv") > 100.0);
	CHECK_NEAR(rd("working_op"), 100.0, 1e-9);
}

static void test_stage(void)
{
	CHECK_EQ_INT(bl_mb_write(mb, "enable", 1), 0);
	CHECK_EQ_INT(bl_mb_write(mb, "speed", 20.0), 0);
	CHECK_EQ_INT(bl_mb_write(mb, "accel", 40.0), 0);
	CHECK_EQ_INT(bl_mb_write(mb, "target", 50.0), 0);
	CHECK_EQ_INT(bl_mb_write(mb, "target", 400.0), -ERANGE); /* beyond the travel */
	CHECK_NEAR(rd("target"), 50.0, 1e-9);
	CHECK_EQ_INT(bl_mb_write(mb, "start_move", 1), 0);
	double vmax = 0;
	int ramp = 0, samples = 0;
	for (int i = 0; i < 400 && rd("moving") != 0; i++, samples++) {
		double v = rd("velocity");
		vmax = fmax(vmax, v);
		ramp += v > 0.5 && v < 19.5; /* caught on the acceleration or braking ramp */
		sleep_ms(2);
	}
	CHECK(samples > 5);
	CHECK(ramp > 0);
	CHECK(vmax <= 20.0 + 1e-6 && vmax > 15.0);
	CHECK_NEAR(rd("position"), 50.0, 1e-3);
	CHECK_NEAR(rd("velocity"), 0.0, 1e-9);
	CHECK_EQ_INT(rd("start_move"), 0); /* a command bit reads back as 0 */

	/* a drive fault: reported with its code, no motion until cleared */
	CHECK_STR(simproc_ctl_cmd("fault 7"), "ok");
	sleep_ms(20);
	CHECK_EQ_INT(rd("fault"), 1);
	CHECK_EQ_INT(rd("fault_code"), 7);
	CHECK_EQ_INT(bl_mb_write(mb, "target", 10.0), 0);
	CHECK_EQ_INT(bl_mb_write(mb, "start_move", 1), 0);
	sleep_ms(50);
	CHECK_NEAR(rd("position"), 50.0, 1e-3);
	CHECK_STR(simproc_ctl_cmd("clear"), "ok");
	CHECK_EQ_INT(bl_mb_write(mb, "start_move", 1), 0);
	for (int i = 0; i < 400 && rd("position") > 10.0 + 1e-3; i++)
		sleep_ms(2);
	CHECK_NEAR(rd("position"), 10.0, 1e-3);
}

static void test_web(void)
{
	CHECK_EQ_INT(bl_mb_write(mb, "speed_sp", 10.0), 0);
	CHECK_EQ_INT(bl_mb_write(mb, "accel", 5.0), 0);
	CHECK_EQ_INT(bl_mb_write(mb, "tension_sp", 20.0), 0);
	CHECK_EQ_INT(bl_mb_write(mb, "speed_sp", 80.0), -ERANGE);
	CHECK_EQ_INT(bl_mb_write(mb, "run", 1), 0);
	sleep_ms(100); /* 1 s simulated: still accelerating at 5 mm/s2 */
	double v = rd("speed");
	CHECK(v > 2.0 && v < 9.0);
	CHECK_EQ_INT(rd("running"), 1);
	sleep_ms(400);
	CHECK_NEAR(rd("speed"), 10.0, 1e-4);
	CHECK_NEAR(rd("tension"), 20.0, 0.1);
	double p1 = rd("position");
	sleep_ms(100);
	double p2 = rd("position");
	CHECK(p2 - p1 > 5.0 && p2 - p1 < 20.0); /* ~1 s simulated at 10 mm/s */
	CHECK_EQ_INT(bl_mb_write(mb, "run", 0), 0);
	sleep_ms(400);
	CHECK_NEAR(rd("speed"), 0.0, 1e-9);
	CHECK_EQ_INT(rd("running"), 0);
	CHECK(!strncmp(simproc_ctl_cmd("runaway"), "err", 3));
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr,
			"usage: test_modbus_sim SIM SOURCE_DIR heater-tcp|heater-rtu|stage|web\n");
		return 2;
	}
	char hwdb[512];
	snprintf(hwdb, sizeof(hwdb), "%s/hwdb/beamlines/sim.yaml", argv[2]);
	const char *mode = argv[3];
	bool rtu = !strcmp(mode, "heater-rtu");
	const char *dev = rtu				? "heater_bed"
			  : !strcmp(mode, "heater-tcp") ? "heater_die"
			  : !strcmp(mode, "stage")	? "coater"
							: "web";
	const char *scale = !strcmp(mode, "stage") || !strcmp(mode, "web") ? "10" : "100";
	const char *const tcp_args[] = {"--device",	dev,   "--port", "0",
					"--time-scale", scale, NULL};
	const char *const rtu_args[] = {"--device", dev, "--time-scale", scale, NULL};
	simproc_start_opt(argv[1], hwdb, rtu, rtu ? rtu_args : tcp_args);

	static struct bl_hwdb_errors errs;
	struct bl_hwdb *db;
	CHECK_EQ_INT(bl_hwdb_load(hwdb, &db, &errs), 0);
	struct bl_hwdb_device d = *bl_hwdb_device(db, dev);
	if (rtu) {
		snprintf(d.transport.device, sizeof(d.transport.device), "%s", simproc_link);
	} else {
		int port = 0;
		CHECK(sscanf(simproc_ready, "ready tcp 127.0.0.1 %d", &port) == 1);
		d.transport.port = port;
	}
	d.timeouts.command_ms = 100;
	CHECK_EQ_INT(bl_mb_open(&d, &mb), 0);
	if (!strncmp(mode, "heater", 6))
		test_heater(rtu);
	else if (!strcmp(mode, "stage"))
		test_stage();
	else
		test_web();
	bl_mb_close(mb);
	bl_hwdb_free(db);
	return CHECK_DONE();
}
