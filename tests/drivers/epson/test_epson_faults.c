/* test_epson_faults.c: the Epson driver under every fault bl-epson-sim injects: wrong login,
 * motors off, empty slot, collision mid-move, e-stop, safeguard, abort, dropped link with
 * backoff, slow and garbled replies, idle session time-out with and without heartbeats. */
#include <errno.h>
#include <string.h>

#include "../../check.h"
#include "epson_harness.h"

static struct harness t;

static int run(int start_rc)
{
	return h_run(t.h, start_rc, 3000);
}

static const char *text(void)
{
	return bl_epson_result(t.h)->text;
}

static void ctl(const char *cmd)
{
	char reply[512];
	if (h_ctl(&t, cmd, reply, sizeof(reply)))
		fprintf(stderr, "control \"%s\": %s\n", cmd, reply);
}

static struct bl_robot_state state(void)
{
	struct bl_robot_state st;
	bl_epson_state(t.h, &st);
	return st;
}

/* Polls until the driver noticed the link went down. */
static void wait_disconnected(void)
{
	int64_t t0 = h_now();
	while (state().connected && h_now() - t0 < 1000)
		h_pump(t.h, 1);
	CHECK(!state().connected);
}

/* Polls until the driver is logged in again; returns the ms it took or -1. */
static int wait_connected(int limit_ms)
{
	int64_t t0 = h_now();
	while (h_now() - t0 < limit_ms) {
		if (state().connected)
			return (int)(h_now() - t0);
		h_pump(t.h, 2);
	}
	return -1;
}

static void recover(void)
{
	CHECK_EQ_INT(run(bl_epson_reset(t.h, h_now())), 0);
	CHECK_EQ_INT(run(bl_epson_motors(t.h, true, h_now())), 0);
	CHECK_EQ_INT(run(bl_epson_go_safe(t.h, h_now())), 0);
}

static void test_wrong_login(void)
{
	struct bl_epson_config cfg = t.cfg;
	snprintf(cfg.password, sizeof(cfg.password), "nope");
	struct bl_epson *h;
	CHECK_EQ_INT(bl_epson_open(&h, &cfg), 0);
	long before = h_state(&t, "accepted");
	CHECK_EQ_INT(h_run(h, bl_epson_connect(h, h_now()), 2000), -EACCES);
	CHECK_EQ_INT(bl_epson_result(h)->remote_code, 13);
	CHECK(strstr(bl_epson_result(h)->text, "password") != NULL);
	h_pump(h, 150);
	struct bl_robot_state st;
	bl_epson_state(h, &st);
	CHECK(!st.connected);
	CHECK_EQ_INT(st.next_retry_ms, -1); /* no retries with a wrong password */
	CHECK_EQ_INT(h_state(&t, "accepted"), before + 1);
	bl_epson_close(h);
	CHECK_EQ_INT(h_wait_state(&t, "client", 0, 1000), 0);
}

static void test_motors_off(void)
{
	ctl("motors_off");
	CHECK_EQ_INT(run(bl_epson_go_safe(t.h, h_now())), -EIO);
	const struct bl_robot_result *r = bl_epson_result(t.h);
	CHECK_EQ_INT(r->remote_code, 99);
	CHECK_EQ_INT(r->robot_code, 4003);
	CHECK(strstr(r->text, "motors off") != NULL);
	recover();
}

static void test_empty_slot(void)
{
	ctl("empty 2 7");
	CHECK_EQ_INT(run(bl_epson_pick(t.h, 2, 7, h_now())), -ENOENT);
	CHECK(strstr(text(), "no sample in the gripper after gripping at puck 2 slot 7") != NULL);
	struct bl_robot_state st = state();
	CHECK_EQ_INT(st.sample.at, BL_SAMPLE_HOME);
	CHECK_EQ_INT(st.where.place, BL_ROBOT_AT_SLOT_APPROACH);
	CHECK_EQ_INT(h_state(&t, "held"), 0);
	CHECK_EQ_INT(run(bl_epson_pick(t.h, 1, 1, h_now())), -EPERM); /* not at a safe pose */
	CHECK_EQ_INT(run(bl_epson_go_safe(t.h, h_now())), 0);
	CHECK_EQ_INT(run(bl_epson_command(t.h, "$SetIO,8,0", false, h_now())), 0);
}

static void test_collision(void)
{
	CHECK_EQ_INT(run(bl_epson_pick(t.h, 1, 5, h_now())), 0);
	ctl("collide 4242");
	CHECK_EQ_INT(run(bl_epson_place_on_stage(t.h, h_now())), -EIO);
	const struct bl_robot_result *r = bl_epson_result(t.h);
	CHECK_EQ_INT(r->remote_code, 99);
	CHECK_EQ_INT(r->robot_code, 4242);
	CHECK(r->during_motion);
	CHECK(strstr(r->text, "4242") != NULL);
	CHECK(strstr(r->text, "puck 1 slot 5 in the gripper") != NULL);
	CHECK(strstr(r->text, "robot last at above_pucks") != NULL);
	CHECK_NEAR(r->target.x, 420, 1e-9); /* was heading for above_stage */
	struct bl_robot_state st = state();
	CHECK_EQ_INT(st.sample.at, BL_SAMPLE_GRIPPER);
	CHECK_EQ_INT(st.sample.puck, 1);
	CHECK_EQ_INT(st.sample.slot, 5);
	CHECK_EQ_INT(st.where.place, BL_ROBOT_AT_SAFE);
	CHECK(st.off_pose);
	CHECK_EQ_INT(h_state(&t, "held"), 105); /* the simulator agrees */
	CHECK_EQ_INT(h_state(&t, "err"), 4242);
	CHECK_EQ_INT(h_state(&t, "motors"), 0);
	long x = h_state(&t, "pos");
	CHECK(x > 350 && x < 420); /* stopped half-way */
	CHECK_EQ_INT(bl_epson_place_on_stage(t.h, h_now()), -EPERM);
	CHECK(strstr(text(), "between poses") != NULL);
	/* Recovery: reset, motors, arch to safety, put the sample back. */
	recover();
	CHECK(!state().off_pose);
	CHECK_EQ_INT(run(bl_epson_return_to_slot(t.h, 1, 5, h_now())), 0);
	CHECK_EQ_INT(h_slot(&t, 1, 5), 105);
	CHECK_EQ_INT(state().sample.at, BL_SAMPLE_HOME);
}

static void test_estop_safeguard_abort(void)
{
	ctl("estop 1");
	CHECK_EQ_INT(run(bl_epson_go_safe(t.h, h_now())), -EAGAIN);
	CHECK_EQ_INT(bl_epson_result(t.h)->remote_code, 20);
	CHECK(strstr(text(), "emergency stop") != NULL);
	CHECK(state().flags & BL_EPSON_FLAG(BL_EPSON_F_ESTOP));
	CHECK_EQ_INT(run(bl_epson_reset(t.h, h_now())), -EAGAIN); /* not while pressed */
	ctl("estop 0");
	CHECK_EQ_INT(run(bl_epson_motors(t.h, true, h_now())), -EAGAIN); /* latched until $Reset */
	recover();

	ctl("safeguard 1");
	CHECK_EQ_INT(run(bl_epson_command(t.h, "$GetIO,8", false, h_now())), 0);
	CHECK_STR(bl_epson_result(t.h)->reply, "0"); /* door input, active low */
	CHECK_EQ_INT(run(bl_epson_go_safe(t.h, h_now())), -EAGAIN);
	CHECK(state().flags & BL_EPSON_FLAG(BL_EPSON_F_SAFEGUARD));
	ctl("safeguard 0");
	CHECK_EQ_INT(run(bl_epson_go_safe(t.h, h_now())), 0);

	/* Abort while a 1000 s (1 s real) statement runs. */
	int64_t t0 = h_now();
	CHECK_EQ_INT(bl_epson_command(t.h, "$Execute,\"Wait 1000\"", true, h_now()), 0);
	h_pump(t.h, 5);
	CHECK_EQ_INT(bl_epson_abort(t.h, h_now()), 0);
	CHECK_EQ_INT(run(0), -EIO);
	CHECK_EQ_INT(bl_epson_result(t.h)->remote_code, 99);
	CHECK(h_now() - t0 < 800);
}

static void test_drop_and_backoff(void)
{
	struct bl_robot_state st = state();
	uint32_t connects = st.connects, losses = st.link_losses;
	ctl("drop");
	wait_disconnected();
	CHECK(wait_connected(2000) >= 0);
	st = state();
	CHECK_EQ_INT(st.link_losses, losses + 1);
	CHECK_EQ_INT(st.connects, connects + 1);

	/* Three refused attempts: waits of 10, 20, 40 and 80 ms before the fourth gets through. */
	long accepted = h_state(&t, "accepted");
	ctl("refuse 3");
	ctl("drop");
	int64_t t0 = h_now();
	wait_disconnected();
	int max_backoff = 0;
	while (h_now() - t0 < 3000) {
		h_pump(t.h, 2);
		st = state();
		if (st.backoff_ms > max_backoff)
			max_backoff = st.backoff_ms;
		if (st.connected)
			break;
	}
	CHECK(st.connected);
	CHECK(h_now() - t0 >= 10 + 20 + 40 + 80);
	CHECK_EQ_INT(max_backoff, 80);	 /* doubled up to backoff_max_ms */
	CHECK_EQ_INT(st.backoff_ms, 10); /* reset by the successful login */
	CHECK_EQ_INT(h_state(&t, "accepted"), accepted + 4);
	CHECK_EQ_INT(st.connects, connects + 2);
	CHECK_EQ_INT(run(bl_epson_get_status(t.h, h_now())), 0);
}

static void test_slow_and_garbled(void)
{
	ctl("slow 1000");
	int64_t t0 = h_now();
	CHECK_EQ_INT(run(bl_epson_get_status(t.h, h_now())), -ETIMEDOUT);
	CHECK(h_now() - t0 < 900); /* command_ms, not the slow reply */
	CHECK(strstr(text(), "no reply to $GetStatus") != NULL);
	CHECK(!state().connected);
	ctl("slow 0");
	CHECK(wait_connected(2000) >= 0);
	CHECK_EQ_INT(run(bl_epson_get_status(t.h, h_now())), 0);

	ctl("garble 1"); /* binary noise */
	CHECK_EQ_INT(run(bl_epson_get_status(t.h, h_now())), -EBADMSG);
	CHECK(strstr(text(), "garbled reply") != NULL);
	CHECK(wait_connected(2000) >= 0);
	ctl("garble 2"); /* a line without its prefix, then noise on the reconnect's login */
	CHECK_EQ_INT(run(bl_epson_get_status(t.h, h_now())), -EBADMSG);
	CHECK(strstr(text(), "does not begin with") != NULL);
	CHECK(wait_connected(2000) >= 0);
	CHECK_EQ_INT(run(bl_epson_get_status(t.h, h_now())), 0);
	CHECK_EQ_INT(state().sample.at, BL_SAMPLE_HOME);
}

/* The controller drops sessions idle for 100 ms: heartbeats every 30 ms keep one alive. */
static void test_heartbeat(void)
{
	bl_epson_close(t.h);
	t.h = NULL;
	CHECK_EQ_INT(h_wait_state(&t, "client", 0, 1000), 0);
	ctl("idle_timeout 100");
	long dropped = h_state(&t, "sessions_dropped");
	t.cfg.heartbeat_ms = 30;
	CHECK_EQ_INT(h_open_connect(&t), 0);
	h_pump(t.h, 400);
	struct bl_robot_state st = state();
	CHECK(st.connected);
	CHECK_EQ_INT(st.link_losses, 0);
	CHECK_EQ_INT(h_state(&t, "sessions_dropped"), dropped);
	bl_epson_close(t.h);
	t.h = NULL;
	CHECK_EQ_INT(h_wait_state(&t, "client", 0, 1000), 0);

	t.cfg.heartbeat_ms = 0;
	CHECK_EQ_INT(h_open_connect(&t), 0);
	h_pump(t.h, 400);
	st = state();
	CHECK(st.link_losses >= 1);
	CHECK(st.connects >= 2); /* reconnected after each drop */
	CHECK(h_state(&t, "sessions_dropped") > dropped + 1);
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	if (h_start(&t, argv[1], argv[2], NULL))
		return 1;
	t.cfg.command_ms = 150;
	test_wrong_login();
	CHECK_EQ_INT(h_open_connect(&t), 0);
	CHECK_EQ_INT(run(bl_epson_motors(t.h, true, h_now())), 0);
	CHECK_EQ_INT(run(bl_epson_go_safe(t.h, h_now())), 0);
	test_motors_off();
	test_empty_slot();
	test_collision();
	test_estop_safeguard_abort();
	test_drop_and_backoff();
	test_slow_and_garbled();
	test_heartbeat();
	h_stop(&t);
	return CHECK_DONE();
}
