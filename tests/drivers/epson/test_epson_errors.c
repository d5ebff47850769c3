/* test_epson_errors.c: every remote error code (10-21, 98, 99) provoked for real against
 * bl-epson-sim through the driver, and mapped to its errno and text. */
#include <errno.h>
#include <string.h>

#include "../../check.h"
#include "epson_harness.h"

static struct harness t;

/* Sends LINE through the driver; checks the remote code, errno and a word of the text. */
static void expect(const char *line, int code, int err, const char *word)
{
	int rc = h_run(t.h, bl_epson_command(t.h, line, false, h_now()), 2000);
	const struct bl_robot_result *r = bl_epson_result(t.h);
	if (rc != err || r->remote_code != code)
		fprintf(stderr, "%s: rc %d code %d (%s)\n", line, rc, r->remote_code, r->text);
	CHECK_EQ_INT(rc, err);
	CHECK_EQ_INT(r->rc, err);
	CHECK_EQ_INT(r->remote_code, code);
	if (code) {
		CHECK(strstr(r->text, word) != NULL);
		char tag[16];
		snprintf(tag, sizeof(tag), ",%02d", code);
		CHECK(strstr(r->text, tag) != NULL);
	}
}

static void ok(const char *line)
{
	expect(line, 0, 0, "");
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	if (h_start(&t, argv[1], argv[2], NULL))
		return 1;
	CHECK_EQ_INT(h_open_connect(&t), 0);

	expect("GetStatus", 10, -EPROTO, "'$'");
	expect("$Fly", 11, -EBADRQC, "wrong");
	expect("$SetIO,abc", 12, -EINVAL, "format");
	expect("$Execute,\"Go P1\"", 12, -EINVAL, "format"); /* outside the SPEL subset */
	expect("$SetMotorsOn,2", 12, -EINVAL, "format");     /* there is one robot */
	expect("$Login,wrong", 13, -EACCES, "password");
	expect("$GetStatus", 98, -ENOKEY, "login"); /* the failed login ended the session */
	ok("$Login," H_PASSWORD);
	ok("$Logout");
	expect("$SetMotorsOn,1", 98, -ENOKEY, "login");
	ok("$Login," H_MONITOR_PASSWORD); /* read-only session */
	ok("$GetStatus");
	ok("$GetIO,9");
	expect("$SetMotorsOn,1", 14, -EPERM, "privilege");
	expect("$SetIO,8,1", 14, -EPERM, "privilege");
	ok("$Login," H_PASSWORD);
	expect("$Continue", 15, -EOPNOTSUPP, "state"); /* nothing paused */
	expect("$GetVariable,no_such_var", 15, -EOPNOTSUPP, "state");
	ok("$SetVariable,g_cycle,7");
	ok("$GetVariable,g_cycle");
	CHECK_STR(bl_epson_result(t.h)->reply, "7");

	char reply[512];
	CHECK_EQ_INT(h_ctl(&t, "estop 1", reply, sizeof(reply)), 0);
	ok("$GetIO,9"); /* e-stop input, active low */
	CHECK_STR(bl_epson_result(t.h)->reply, "0");
	expect("$SetMotorsOn,1", 20, -EAGAIN, "not ready");
	expect("$Reset", 20, -EAGAIN, "not ready");
	CHECK_EQ_INT(h_ctl(&t, "estop 0", reply, sizeof(reply)), 0);
	ok("$Reset");
	ok("$SetMotorsOn,1");

	ok("$Start,0");
	CHECK_EQ_INT(h_run(t.h, bl_epson_get_status(t.h, h_now()), 1000), 0);
	struct bl_robot_state st;
	bl_epson_state(t.h, &st);
	CHECK(st.flags & BL_EPSON_FLAG(BL_EPSON_F_RUNNING));
	CHECK(!(st.flags & BL_EPSON_FLAG(BL_EPSON_F_READY)));
	expect("$Execute,\"Go XY(350,0,-20,0)\"", 21, -EBUSY, "running");
	expect("$Start,1", 21, -EBUSY, "running");
	ok("$Stop");

	/* 99: a motion that ends in a collision. */
	CHECK_EQ_INT(h_ctl(&t, "collide 5057", reply, sizeof(reply)), 0);
	expect("$Execute,\"Go XY(350,0,-20,0)\"", 99, -EIO, "system");
	ok("$GetStatus");
	CHECK(strstr(bl_epson_result(t.h)->reply, ",5057") != NULL);
	ok("$Reset");

	/* 19: a driver configured with the wrong terminator never completes a line. */
	CHECK_EQ_INT(h_ctl(&t, "request_timeout 100", reply, sizeof(reply)), 0);
	CHECK_EQ_INT(bl_epson_disconnect(t.h), 0);
	CHECK_EQ_INT(h_wait_state(&t, "client", 0, 1000), 0);
	struct bl_epson *bad;
	struct bl_epson_config cfg = t.cfg;
	snprintf(cfg.terminator, sizeof(cfg.terminator), "\r");
	CHECK_EQ_INT(bl_epson_open(&bad, &cfg), 0);
	int rc = h_run(bad, bl_epson_connect(bad, h_now()), 2000);
	CHECK_EQ_INT(rc, -ETIMEDOUT);
	CHECK_EQ_INT(bl_epson_result(bad)->remote_code, 19);
	CHECK(strstr(bl_epson_result(bad)->text, "time-out") != NULL);
	bl_epson_close(bad);
	CHECK_EQ_INT(h_wait_state(&t, "client", 0, 1000), 0); /* one client at a time */
	/* The right terminator works again on the same simulator. */
	CHECK_EQ_INT(h_run(t.h, bl_epson_connect(t.h, h_now()), 2000), 0);
	h_stop(&t);
	return CHECK_DONE();
}
