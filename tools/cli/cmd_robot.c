/* cmd_robot.c: `beamloop robot VERB...`: drive the sample robot named in hwdb by hand, verbs run in
 * one session. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bl_hwdb.h"
#include "cli.h"
#include "epson_robot.h"

static int usage(void)
{
	fprintf(
	    stderr,
	    "usage: beamloop robot [--hwdb FILE] [--host H] [--port N] [--password PW] VERB...\n"
	    "  VERB: status | motors on|off | reset | safe | pick P S | barcode | place |\n"
	    "        return P S | cycle P S (pick, barcode, place, return) | send 'LINE'\n");
	return 2;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls until the operation started with RC finishes (bounded by LIMIT_MS). */
int bl_cli_epson_wait(struct bl_epson *h, int rc, int limit_ms)
{
	if (rc)
		return rc;
	int64_t end = now_ms() + limit_ms;
	while ((rc = bl_epson_poll(h, now_ms())) == BL_ROBOT_BUSY) {
		if (now_ms() > end)
			return -ETIME;
		struct pollfd p;
		int wait = bl_epson_pollfd(h, &p, now_ms());
		poll(&p, p.fd >= 0 ? 1 : 0, wait < 20 ? wait : 20);
	}
	return rc;
}

static const char *place_name(const struct bl_robot_state *st, char *buf, size_t cap,
			      const struct bl_hwdb *db)
{
	const struct bl_robot_where *w = &st->where;
	switch (w->place) {
	case BL_ROBOT_AT_SAFE:
		snprintf(buf, cap, "%s", db->robot.safe_poses[w->pose_index].name);
		break;
	case BL_ROBOT_AT_SLOT_APPROACH:
		snprintf(buf, cap, "above puck %d slot %d", w->puck, w->slot);
		break;
	case BL_ROBOT_AT_SLOT: snprintf(buf, cap, "puck %d slot %d", w->puck, w->slot); break;
	case BL_ROBOT_AT_STAGE_APPROACH: snprintf(buf, cap, "above the stage"); break;
	case BL_ROBOT_AT_STAGE: snprintf(buf, cap, "stage"); break;
	case BL_ROBOT_AT_BARCODE: snprintf(buf, cap, "barcode station"); break;
	default: snprintf(buf, cap, "unknown"); break;
	}
	return buf;
}

static void report(struct bl_epson *h, const char *verb, int rc, const struct bl_hwdb *db)
{
	struct bl_robot_state st;
	bl_epson_state(h, &st);
	char where[64];
	place_name(&st, where, sizeof(where), db);
	const char *held = st.sample.at == BL_SAMPLE_GRIPPER ? "in the gripper"
			   : st.sample.at == BL_SAMPLE_STAGE ? "on the stage"
							     : "none out";
	if (rc == 0) {
		const struct bl_robot_result *r = bl_epson_result(h);
		printf("ok %s: at %s, sample %s", verb, where, held);
		if (st.sample.at != BL_SAMPLE_HOME && st.sample.puck)
			printf(" (puck %d slot %d)", st.sample.puck, st.sample.slot);
		else if (st.sample.at != BL_SAMPLE_HOME)
			printf(" (origin unknown: return it to a slot by hand with 'return P S')");
		if (!strcmp(verb, "status") || !strcmp(verb, "send"))
			printf(", reply %s", r->reply);
		printf("\n");
	} else {
		const struct bl_robot_result *r = bl_epson_result(h);
		fprintf(stderr, "beamloop: robot %s: %s\n", verb,
			r->rc == rc && r->text[0] ? r->text : strerror(-rc));
	}
}

/* Motions need a confirmed safe pose: the first one of a session goes there first. */
static int ensure_pose(struct bl_epson *h, const struct bl_hwdb *db)
{
	struct bl_robot_state st;
	bl_epson_state(h, &st);
	if (st.where.place != BL_ROBOT_AT_UNKNOWN)
		return 0;
	printf("robot pose not confirmed yet: moving to the nearest safe pose first\n");
	int rc = bl_cli_epson_wait(h, bl_epson_go_safe(h, now_ms()), 120000);
	report(h, "safe", rc, db);
	return rc;
}

int bl_cli_robot(int argc, char **argv)
{
	struct bl_cli_dev o;
	if (bl_cli_dev_options(argc, argv, &o))
		return usage();
	if (bl_cli_dev_load(&o, "robot"))
		return 1;
	struct bl_hwdb *db = o.db;
	struct bl_epson_config cfg;
	struct bl_epson *h = NULL;
	int rc = bl_epson_config_from_hwdb(&cfg, db, o.dev.name);
	if (rc) {
		fprintf(stderr, "beamloop: '%s' is not an Epson robot\n", o.dev.name);
		goto out;
	}
	snprintf(cfg.host, sizeof(cfg.host), "%s", o.dev.transport.host); /* with --host/--port */
	cfg.port = o.dev.transport.port;
	if (o.password)
		snprintf(cfg.password, sizeof(cfg.password), "%s", o.password);
	if ((rc = bl_epson_open(&h, &cfg)))
		goto out;
	if ((rc = bl_cli_epson_wait(h, bl_epson_connect(h, now_ms()),
				    cfg.connect_ms + cfg.command_ms * 3))) {
		report(h, "connect", rc, db);
		goto out;
	}
	int i = 0, argn = o.nargs;
	char **args = o.args;
	while (i < argn && !rc) {
		const char *v = args[i++];
		const char *a1 = i < argn ? args[i] : NULL, *a2 = i + 1 < argn ? args[i + 1] : NULL;
		int p = a1 ? atoi(a1) : 0, s = a2 ? atoi(a2) : 0;
		int64_t t = now_ms(), lim = cfg.motion_ms * 8;
		if (!strcmp(v, "status")) {
			rc = bl_cli_epson_wait(h, bl_epson_get_status(h, t), cfg.command_ms * 2);
		} else if (!strcmp(v, "motors") && a1) {
			rc = bl_cli_epson_wait(h, bl_epson_motors(h, !strcmp(a1, "on"), t), lim);
			i++;
		} else if (!strcmp(v, "reset")) {
			rc = bl_cli_epson_wait(h, bl_epson_reset(h, t), lim);
		} else if (!strcmp(v, "safe")) {
			rc = bl_cli_epson_wait(h, bl_epson_go_safe(h, t), lim);
		} else if (!strcmp(v, "send") && a1) {
			rc = bl_cli_epson_wait(h, bl_epson_command(h, a1, false, t), lim);
			i++;
		} else if ((!strcmp(v, "pick") || !strcmp(v, "return") || !strcmp(v, "cycle")) &&
			   a2) {
			i += 2;
			if ((rc = ensure_pose(h, db)))
				break;
			if (v[0] == 'p') {
				rc = bl_cli_epson_wait(h, bl_epson_pick(h, p, s, now_ms()), lim);
			} else if (v[0] == 'r') {
				rc = bl_cli_epson_wait(
				    h, bl_epson_return_to_slot(h, p, s, now_ms()), lim);
			} else {
				rc = bl_cli_epson_wait(h, bl_epson_pick(h, p, s, now_ms()), lim);
				if (!rc)
					rc = bl_cli_epson_wait(
					    h, bl_epson_go_barcode_pose(h, now_ms()), lim);
				if (!rc)
					rc = bl_cli_epson_wait(h, bl_epson_go_safe(h, now_ms()),
							       lim);
				if (!rc)
					rc = bl_cli_epson_wait(
					    h, bl_epson_place_on_stage(h, now_ms()), lim);
				if (!rc)
					rc = bl_cli_epson_wait(
					    h, bl_epson_return_to_slot(h, p, s, now_ms()), lim);
			}
		} else if (!strcmp(v, "barcode") || !strcmp(v, "place")) {
			if ((rc = ensure_pose(h, db)))
				break;
			rc = bl_cli_epson_wait(h,
					       v[0] == 'b' ? bl_epson_go_barcode_pose(h, now_ms())
							   : bl_epson_place_on_stage(h, now_ms()),
					       lim);
		} else {
			fprintf(stderr, "beamloop: robot: bad verb '%s'\n", v);
			rc = -EINVAL;
			break;
		}
		report(h, v, rc, db);
	}
out:
	bl_epson_close(h);
	bl_cli_dev_free(&o);
	return rc ? 1 : 0;
}
