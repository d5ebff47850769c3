/* test_pump_sim.c: the production NE-1000 driver against bl-pump-sim over a pty: flow physics,
 * limits, volume target, alarms, errors, faults. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <time.h>

#include "../../check.h"
#include "../simproc.h"
#include "bl_pump.h"

static struct bl_pump *pump;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Polls until the event for TICKET arrives (other events are checked to be successes unless
 * ALLOW_OTHERS) and returns its rc; *EV gets the event. */
static int wait_for(int ticket, struct bl_pump_event *ev)
{
	CHECK(ticket > 0);
	uint64_t t0 = now_ms();
	while (now_ms() - t0 < 8000) {
		int rc = bl_pump_poll(pump, now_ms(), ev);
		if (rc == 1 && ev->ticket == ticket)
			return ev->rc;
		if (rc == 1 && ev->rc)
			fprintf(stderr, "  (event %d '%s' rc %d)\n", ev->ticket, ev->cmd, ev->rc);
		struct pollfd p = {.fd = bl_pump_fd(pump), .events = POLLIN};
		poll(&p, p.fd >= 0 ? 1 : 0, 2);
	}
	return -ETIME;
}

static int run_cmd(int ticket)
{
	struct bl_pump_event ev;
	return wait_for(ticket, &ev);
}

/* Reads a "key=value" number out of the simulator's "show" answer. */
static double sim_value(const char *key)
{
	const char *s = simproc_ctl_cmd("show");
	const char *k = strstr(s, key);
	return k ? atof(k + strlen(key) + 1) : -1;
}

static void sleep_ms(int ms)
{
	poll(NULL, 0, ms);
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	char hwdb[512];
	snprintf(hwdb, sizeof(hwdb), "%s/hwdb/beamlines/sim.yaml", argv[2]);
	/* 60x time: one simulated minute per real second */
	const char *const extra[] = {"--time-scale", "60", "--fill-ul", "5000", NULL};
	simproc_start(argv[1], hwdb, extra);
	static struct bl_hwdb_errors errs;
	struct bl_hwdb *db;
	CHECK_EQ_INT(bl_hwdb_load(hwdb, &db, &errs), 0);
	struct bl_hwdb_device dev = *bl_hwdb_device(db, "pump");
	snprintf(dev.transport.device, sizeof(dev.transport.device), "%s", simproc_link);
	dev.timeouts.command_ms = 150;
	CHECK_EQ_INT(bl_pump_new(&dev, &db->printer, &pump), 0);
	struct bl_pump_event ev;

	/* configure and infuse: the volume follows rate x time */
	CHECK_EQ_INT(run_cmd(bl_pump_set_diameter(pump, db->printer.syringe_diameter_mm)), 0);
	CHECK_NEAR(sim_value("dia_mm"), 14.57, 1e-9);
	CHECK_EQ_INT(run_cmd(bl_pump_set_rate(pump, 120.0)), 0);
	CHECK_NEAR(sim_value("rate_ul_min"), 120.0, 0.01);
	CHECK_NEAR(bl_pump_status(pump)->rate_ul_min, 120.0, 0.01);
	CHECK_EQ_INT(run_cmd(bl_pump_set_direction(pump, BL_PUMP_INFUSE)), 0);
	CHECK_EQ_INT(run_cmd(bl_pump_set_volume(pump, 0)), 0);
	CHECK_EQ_INT(run_cmd(bl_pump_clear_dispensed(pump)), 0);
	uint64_t t0 = now_ms();
	CHECK_EQ_INT(run_cmd(bl_pump_run(pump)), 0);
	CHECK_EQ_INT(bl_pump_status(pump)->state, BL_NE_INFUSING);
	sleep_ms(500);
	CHECK_EQ_INT(run_cmd(bl_pump_query(pump)), 0);
	double expect = 120.0 * (double)(now_ms() - t0) / 1000.0; /* uL at 1 sim-min per s */
	CHECK(bl_pump_status(pump)->infused_ul > 0.8 * expect &&
	      bl_pump_status(pump)->infused_ul < 1.1 * expect);
	/* a rate change while pumping is accepted, a diameter change is not (?NA) */
	CHECK_EQ_INT(run_cmd(bl_pump_set_rate(pump, 240.0)), 0);
	CHECK_EQ_INT(run_cmd(bl_pump_set_diameter(pump, 10.0)), -EPERM);
	CHECK_EQ_INT(run_cmd(bl_pump_stop(pump)), 0);
	CHECK_EQ_INT(bl_pump_status(pump)->state, BL_NE_PAUSED);
	CHECK_EQ_INT(run_cmd(bl_pump_stop(pump)), 0);
	CHECK_EQ_INT(bl_pump_status(pump)->state, BL_NE_STOPPED);

	/* limits from hwdb: refused before anything is sent */
	double cmds = sim_value("commands");
	CHECK_EQ_INT(bl_pump_set_rate(pump, 600.0), -ERANGE);
	CHECK_EQ_INT(bl_pump_set_rate(pump, 0.5), -ERANGE);
	CHECK_EQ_INT(bl_pump_set_diameter(pump, 60.0), -ERANGE);
	CHECK_NEAR(sim_value("commands"), cmds, 0);

	/* a volume target: the pump stops by itself */
	CHECK_EQ_INT(run_cmd(bl_pump_clear_dispensed(pump)), 0);
	CHECK_EQ_INT(run_cmd(bl_pump_set_rate(pump, 480.0)), 0);
	CHECK_EQ_INT(run_cmd(bl_pump_set_volume(pump, 30.0)), 0);
	CHECK_EQ_INT(run_cmd(bl_pump_run(pump)), 0);
	sleep_ms(300); /* 30 uL at 480 uL/min takes 3.75 s simulated, 62 ms real */
	CHECK_EQ_INT(run_cmd(bl_pump_query(pump)), 0);
	CHECK_EQ_INT(bl_pump_status(pump)->state, BL_NE_STOPPED);
	CHECK_NEAR(bl_pump_status(pump)->infused_ul, 30.0, 0.01);

	/* the syringe runs empty: stall alarm, reported once, command not executed */
	CHECK_STR(simproc_ctl_cmd("fill 20"), "ok");
	CHECK_EQ_INT(run_cmd(bl_pump_set_volume(pump, 0)), 0);
	CHECK_EQ_INT(run_cmd(bl_pump_run(pump)), 0);
	sleep_ms(200);
	CHECK_EQ_INT(run_cmd(bl_pump_query(pump)), -EIO);
	CHECK_EQ_INT(bl_pump_status(pump)->alarm, BL_NE_ALARM_STALL);
	CHECK_NEAR(sim_value("content_ul"), 0, 1e-6);
	bl_pump_clear_alarm(pump);
	CHECK_EQ_INT(run_cmd(bl_pump_query(pump)), 0);
	CHECK_EQ_INT(bl_pump_status(pump)->state, BL_NE_STOPPED);

	/* injected stall while pumping, and a power-loss reset */
	CHECK_STR(simproc_ctl_cmd("fill 5000"), "ok");
	CHECK_EQ_INT(run_cmd(bl_pump_run(pump)), 0);
	CHECK_STR(simproc_ctl_cmd("stall"), "ok");
	sleep_ms(30);
	CHECK_EQ_INT(run_cmd(bl_pump_query(pump)), -EIO);
	CHECK_EQ_INT(bl_pump_status(pump)->alarm, BL_NE_ALARM_STALL);
	CHECK_STR(simproc_ctl_cmd("reset"), "ok");
	CHECK_EQ_INT(run_cmd(bl_pump_run(pump)), -EIO);
	CHECK_EQ_INT(bl_pump_status(pump)->alarm, BL_NE_ALARM_RESET);
	CHECK_EQ_INT(run_cmd(bl_pump_command(pump, "XYZ")), -EBADRQC);
	int t = bl_pump_command(pump, "VER");
	CHECK_EQ_INT(wait_for(t, &ev), 0);
	CHECK(!strncmp(ev.reply.data, "NE1000", 6));
	CHECK_EQ_INT(bl_pump_command(pump, "RUN\r"), -EINVAL);

	/* lost and garbled replies are retried; three lost replies fail the command */
	CHECK_STR(simproc_ctl_cmd("mute 1"), "ok");
	CHECK_EQ_INT(run_cmd(bl_pump_query(pump)), 0);
	CHECK_STR(simproc_ctl_cmd("garble 2"), "ok");
	CHECK_EQ_INT(run_cmd(bl_pump_query(pump)), 0);
	CHECK_STR(simproc_ctl_cmd("mute 3"), "ok");
	CHECK_EQ_INT(run_cmd(bl_pump_query(pump)), -ETIMEDOUT);
	CHECK_EQ_INT(run_cmd(bl_pump_query(pump)), 0); /* link reopened after backoff */
	CHECK_STR(simproc_ctl_cmd("slow 400"), "ok");  /* slower than 3 x 150 ms */
	CHECK_EQ_INT(run_cmd(bl_pump_query(pump)), -ETIMEDOUT);
	CHECK_STR(simproc_ctl_cmd("slow 0"), "ok");
	sleep_ms(500); /* let the late replies arrive and be discarded */
	CHECK_EQ_INT(run_cmd(bl_pump_query(pump)), 0);

	/* stop overtakes queued commands */
	int a = bl_pump_set_rate(pump, 100.0), b = bl_pump_set_volume(pump, 5.0);
	int s = bl_pump_stop(pump);
	int got_a = 0, got_b = 0;
	while (bl_pump_busy(pump)) {
		if (bl_pump_poll(pump, now_ms(), &ev) == 1) {
			if (ev.ticket == a)
				got_a = ev.rc;
			else if (ev.ticket != s)
				got_b = ev.rc;
		}
		sleep_ms(1);
	}
	CHECK(got_a == -ECANCELED || got_a == 0); /* a may already have been in flight */
	CHECK_EQ_INT(got_b, -ECANCELED);
	(void)b;

	/* the pump's cable is pulled mid-command, then comes back */
	CHECK_STR(simproc_ctl_cmd("slow 100"), "ok");
	int q = bl_pump_query(pump);
	for (int i = 0; i < 20; i++) /* send it */
		if (bl_pump_poll(pump, now_ms(), &ev) == 1)
			break;
	CHECK_STR(simproc_ctl_cmd("disconnect 300"), "ok");
	CHECK_EQ_INT(wait_for(q, &ev), -ECONNRESET);
	CHECK_STR(simproc_ctl_cmd("slow 0"), "ok");
	CHECK_EQ_INT(run_cmd(bl_pump_query(pump)), 0);

	bl_pump_free(pump);
	bl_hwdb_free(db);
	return CHECK_DONE();
}
