/* fw_devices.c: beamloop-fw's device workers: robot (+ journal), barcode reader, detector and
 * trigger box, each blocking only its own thread; interlock inputs polled while idle. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "port/linux/fw_app.h"

static int64_t now_ms(void)
{
	return (int64_t)(bl_fw_mono_ns() / 1000000u);
}

/* ---- robot ---- */

/* Drives the running robot operation to its end (bounded by limit_ms). */
static int robot_wait(struct bl_fw_robot *r, int rc, int limit_ms)
{
	if (rc)
		return rc;
	int64_t end = now_ms() + limit_ms;
	while ((rc = bl_epson_poll(r->h, now_ms())) == BL_ROBOT_BUSY) {
		if (now_ms() > end) {
			bl_epson_abort(r->h, now_ms());
			return -ETIMEDOUT;
		}
		struct pollfd p;
		int wait = bl_epson_pollfd(r->h, &p, now_ms());
		poll(&p, p.fd >= 0 ? 1 : 0, wait < 20 ? wait : 20);
	}
	return rc;
}

static int robot_ensure(struct bl_fw_robot *r)
{
	struct bl_robot_state st;
	bl_epson_state(r->h, &st);
	if (st.connected)
		return 0;
	int rc = robot_wait(r, bl_epson_connect(r->h, now_ms()),
			    r->cfg.connect_ms + r->cfg.command_ms * 3);
	if (!rc)
		rc = robot_wait(r, bl_epson_motors(r->h, true, now_ms()), r->cfg.command_ms * 3);
	return rc;
}

/* Reads one input bit ($GetIO); 0/1, or a negative errno. */
static int robot_input(struct bl_fw_robot *r, int bit)
{
	char line[32];
	snprintf(line, sizeof(line), "$GetIO,%d", bit);
	int rc =
	    robot_wait(r, bl_epson_command(r->h, line, false, now_ms()), r->cfg.command_ms * 3);
	if (rc)
		return rc;
	const char *v = bl_epson_result(r->h)->reply;
	return v[0] == '1' ? 1 : v[0] == '0' ? 0 : -EBADMSG;
}

static int robot_op(struct bl_fw_robot *r, int op, int puck, int slot)
{
	int rc = robot_ensure(r);
	if (rc)
		return rc;
	int lim = r->cfg.motion_ms * 8;
	struct bl_robot_state st;
	bl_epson_state(r->h, &st);
	/* Planned motions start from a named safe pose: after the reader pose, a reconnect or a
	 * restart, go to the nearest one first (an arch move, always allowed). */
	if (op != BL_ROBOT_PARK && (st.where.place != BL_ROBOT_AT_SAFE || st.off_pose))
		rc = robot_wait(r, bl_epson_go_safe(r->h, now_ms()), lim);
	if (rc)
		return rc;
	int64_t t = now_ms();
	switch (op) {
	case BL_ROBOT_PICK: rc = bl_epson_pick(r->h, puck, slot, t); break;
	case BL_ROBOT_READER: rc = bl_epson_go_barcode_pose(r->h, t); break;
	case BL_ROBOT_PLACE: rc = bl_epson_place_on_stage(r->h, t); break;
	case BL_ROBOT_RETURN: rc = bl_epson_return_to_slot(r->h, puck, slot, t); break;
	case BL_ROBOT_PARK: rc = bl_epson_go_safe(r->h, t); break;
	default: return -EINVAL;
	}
	return robot_wait(r, rc, lim);
}

static void robot_run(struct bl_fw_worker *w, const struct bl_fw_job *j)
{
	struct bl_fw_app *a = w->ctx;
	struct bl_fw_robot *r = &a->robot;
	uint64_t now = bl_fw_now();
	int rc;
	switch (j->op) {
	case BL_FW_J_ROBOT:
		if (r->refuse) {
			rc = r->refuse; /* its intent was not made durable: the move must not start
					 */
			r->refuse = 0;
		} else {
			rc = robot_op(r, j->a, j->b, j->c);
		}
		if (rc < 0)
			bl_fw_post_log(w, rc, "op %d failed: %s", j->a,
				       bl_epson_result(r->h)->text);
		bl_fw_post_done(w, j->req, rc, NULL, 0);
		break;
	case BL_FW_J_INTENT:
		rc = bl_fw_journal_intent(r->journal, j->a, j->b, j->c, now, &r->move_id[j->a]);
		if (rc < 0) {
			r->refuse = rc;
			bl_fw_post_log(w, rc, "journal intent refused: %s",
				       bl_fw_journal_error(r->journal));
		}
		break;
	case BL_FW_J_OUTCOME:
		if (r->move_id[j->a] > 0) {
			rc = bl_fw_journal_outcome(r->journal, r->move_id[j->a], j->b, j->c, now);
			if (rc < 0 && rc != -EALREADY)
				bl_fw_post_log(w, rc, "journal outcome: %s",
					       bl_fw_journal_error(r->journal));
			if (j->b != BL_LOC_UNKNOWN)
				r->move_id[j->a] = 0;
		}
		break;
	case BL_FW_J_POS:
		rc = bl_fw_journal_pos_state(r->journal, j->a, j->b, j->measured, j->n, now);
		if (rc < 0)
			bl_fw_post_log(w, rc, "journal state: %s", bl_fw_journal_error(r->journal));
		break;
	case BL_FW_J_NOTE:
		bl_fw_journal_note(r->journal, j->a, j->b, (int64_t)j->t0, NULL, now);
		break;
	default: break;
	}
}

/* Idle: reads the interlock inputs wired to the robot controller. */
static void robot_idle(struct bl_fw_worker *w)
{
	struct bl_fw_app *a = w->ctx;
	struct bl_fw_robot *r = &a->robot;
	struct bl_robot_state st;
	bl_epson_state(r->h, &st);
	if (!st.connected) {
		if (robot_ensure(r))
			return;
	}
	for (int i = 0; i < r->nin; i++) {
		int v = robot_input(r, r->in[i].bit);
		if (v < 0)
			continue;
		int act = r->in[i].active_high ? v : !v;
		if (act != r->in[i].last) {
			r->in[i].last = act;
			struct bl_fw_msg m = {
			    .kind = BL_FW_MSG_INTERLOCK, .interlock = r->in[i].il, .active = act};
			snprintf(m.text, sizeof(m.text), "%s", r->in[i].name);
			bl_fw_inbox_post(w->inbox, &m);
		}
	}
}

/* ---- barcode reader ---- */

static void barcode_run(struct bl_fw_worker *w, const struct bl_fw_job *j)
{
	struct bl_fw_app *a = w->ctx;
	struct bl_barcode_result res;
	int rc = bl_barcode_read_blocking(a->bc, &res);
	if (!rc && res.status == BL_BC_NOREAD)
		rc = -ENODATA;
	else if (!rc && res.status != BL_BC_OK)
		rc = -EBADMSG;
	bl_fw_post_done(w, j->req, rc, rc ? NULL : res.code, 0);
}

/* ---- detector ---- */

static void det_run(struct bl_fw_worker *w, const struct bl_fw_job *j)
{
	struct bl_fw_app *a = w->ctx;
	int rc;
	uint64_t series = 0;
	if (j->op == BL_FW_J_ARM) {
		rc = bl_det_set_string(a->det, "trigger_mode", "exts");
		if (!rc)
			rc = bl_det_set_number(a->det, "nimages", 1);
		if (!rc)
			rc = bl_det_set_number(a->det, "ntrigger", j->n);
		if (!rc)
			rc = bl_det_set_number(a->det, "count_time", (double)j->t0 / 1e6);
		if (!rc)
			rc = bl_det_arm(a->det, &series);
	} else {
		rc = bl_det_disarm(a->det);
	}
	if (rc)
		bl_fw_post_log(w, rc, "%s", bl_det_error(a->det));
	bl_fw_post_done(w, j->req, rc, NULL, (uint32_t)series);
}

/* ---- trigger box ---- */

static void trig_sync(struct bl_fw_trig *t, bool force)
{
	uint64_t ns = bl_fw_mono_ns();
	if (!force && ns - t->last_sync_ns < 1000000000u)
		return;
	if (bl_tbox_sync(t->box) == 0)
		t->last_sync_ns = ns;
}

static void trig_edges(struct bl_fw_worker *w, struct bl_fw_trig *t)
{
	struct bl_tbox_edge e[32];
	unsigned lost = 0;
	int n = bl_tbox_edges(t->box, e, 32, &lost);
	for (int i = 0; i < n; i++) {
		if (e[i].kind != BL_TBOX_EDGE_OUT || e[i].channel != t->channel)
			continue;
		uint64_t ns = bl_tbox_tick_to_host(t->box, e[i].tick);
		if (ns < bl_fw_tick_to_mono_ns(0)) {
			t->stale++; /* from before this controller started: not ours */
			continue;
		}
		/* the trigger sequencer numbers and matches them (trigseq.h) */
		struct bl_fw_msg m = {
		    .kind = BL_FW_MSG_EDGE, .frame = e[i].index, .t = bl_fw_mono_ns_to_tick(ns)};
		bl_fw_inbox_post(w->inbox, &m);
		if (t->pending)
			t->pending--;
	}
	if (lost)
		bl_fw_post_log(w, -EOVERFLOW, "trigger box dropped %u edge records", lost);
}

/* A print frame: a one-edge train armed ahead of its time (the box times the edge). The
 * previous one must be over first: one train per channel. */
static int trig_pulse(struct bl_fw_worker *w, const struct bl_fw_job *j, struct bl_fw_trig *t)
{
	if (t->pulse_end && !bl_fw_job_wait_until(w, j, t->pulse_end))
		return -ECANCELED;
	trig_sync(t, false);
	if (bl_fw_job_cancelled(w, j))
		return -ECANCELED;
	uint32_t hz = BL_TBOX_TICK_HZ / 1000000u;
	struct bl_tbox_train tr = {
	    .channel = (uint8_t)t->channel,
	    .start_tick = bl_tbox_host_to_tick(t->box, bl_fw_tick_to_mono_ns(j->t0)),
	    .period_ticks = 1000u * hz, /* one edge: the period only has to be legal */
	    .width_ticks = t->width_ticks,
	    .count = 1};
	int rc = bl_tbox_arm(t->box, &tr, NULL);
	if (!rc) {
		t->pending++;
		t->pulse_end = j->t0 + t->width_ticks / hz + 1000u;
		t->read_until = j->t0 + 2000000u;
	}
	trig_edges(w, t); /* closely spaced frames leave the worker no idle time to read them */
	return rc;
}

static void trig_run(struct bl_fw_worker *w, const struct bl_fw_job *j)
{
	struct bl_fw_app *a = w->ctx;
	struct bl_fw_trig *t = &a->trig;
	int rc;
	if (j->op == BL_FW_J_PULSE) {
		rc = trig_pulse(w, j, t);
		if (rc == -ECANCELED)
			return;
		if (rc) {
			bl_fw_post_log(w, rc, "trigger box: frame %u not armed", j->n);
			bl_fw_post_alarm(w, BL_FW_OWNER_PRINT, BL_PDEV_TRIGGER, rc);
		}
		return;
	}
	if (j->op == BL_FW_J_TRAIN) {
		trig_sync(t, false);
		uint32_t hz = BL_TBOX_TICK_HZ / 1000000u; /* box ticks per controller tick */
		struct bl_tbox_train tr = {
		    .channel = (uint8_t)t->channel,
		    .start_tick = bl_tbox_host_to_tick(t->box, bl_fw_tick_to_mono_ns(j->t0)),
		    .period_ticks = (uint32_t)(j->t1 * hz),
		    .width_ticks = t->width_ticks,
		    .count = j->n};
		rc = bl_tbox_arm(t->box, &tr, NULL);
		if (!rc) {
			t->pending += j->n;
			t->read_until = j->t0 + j->t1 * j->n + 2000000u;
		}
	} else {
		rc = bl_tbox_stop(t->box, t->channel);
		trig_edges(w, t); /* what came before the stop */
		t->pending = 0;
		t->pulse_end = 0;
	}
	if (rc)
		bl_fw_post_log(w, rc, "trigger box: %s", strerror(-rc));
	bl_fw_post_done(w, j->req, rc, NULL, 0);
}

static void trig_idle(struct bl_fw_worker *w)
{
	struct bl_fw_app *a = w->ctx;
	struct bl_fw_trig *t = &a->trig;
	/* read while edges are expected, and a while after (a count that went wrong must not
	 * leave edges unread in the box) */
	if (t->pending || bl_fw_now() < t->read_until)
		trig_edges(w, t);
	trig_sync(t, false);
	if (!t->nin)
		return;
	uint8_t armed, inputs;
	uint32_t remaining[BL_TBOX_CHANNELS_MAX];
	if (bl_tbox_status(t->box, &armed, &inputs, remaining))
		return;
	for (int i = 0; i < t->nin; i++) {
		int v = (inputs >> t->in[i].bit) & 1;
		int act = t->in[i].active_high ? v : !v;
		if (act != t->in[i].last) {
			t->in[i].last = act;
			struct bl_fw_msg m = {
			    .kind = BL_FW_MSG_INTERLOCK, .interlock = t->in[i].il, .active = act};
			snprintf(m.text, sizeof(m.text), "%s", t->in[i].name);
			bl_fw_inbox_post(w->inbox, &m);
		}
	}
}

/* ---- set-up ---- */

/* hwdb interlocks: "abort" is the e-stop, a name with "beam" the beam-lost input, the rest
 * (hutch door, safeguard) suspend like the door. */
static void bind_inputs(struct bl_fw_app *a)
{
	for (size_t i = 0; i < a->db->ninterlocks; i++) {
		const struct bl_hwdb_interlock *il = &a->db->interlocks[i];
		struct bl_fw_input in = {
		    .bit = il->input, .active_high = il->active_high, .last = -1};
		snprintf(in.name, sizeof(in.name), "%s", il->name);
		in.il = il->action == BL_IL_ABORT  ? BL_IL_ESTOP
			: strstr(il->name, "beam") ? BL_IL_BEAM
						   : BL_IL_DOOR;
		if (!strcmp(il->source, a->db->robot.device) && a->robot.nin < BL_FW_MAX_INPUTS)
			a->robot.in[a->robot.nin++] = in;
		else if (!strcmp(il->source, a->db->trigger.device) &&
			 a->trig.nin < BL_FW_MAX_INPUTS)
			a->trig.in[a->trig.nin++] = in;
		else
			bl_fw_log(a, "interlock %s: source %s is not read by the controller",
				  il->name, il->source);
	}
}

int bl_fw_devices_open(struct bl_fw_app *a)
{
	const struct bl_hwdb *db = a->db;
	int rc = bl_epson_config_from_hwdb(&a->robot.cfg, db, NULL);
	if (!rc)
		rc = bl_epson_open(&a->robot.h, &a->robot.cfg);
	if (rc) {
		bl_fw_log(a, "robot: %s", strerror(-rc));
		return rc;
	}
	const struct bl_hwdb_device *d = bl_hwdb_device(db, db->barcode.device);
	rc = d ? bl_barcode_new(d, &db->barcode, &a->bc) : -ENODEV;
	if (rc) {
		bl_fw_log(a, "barcode reader %s: %s", db->barcode.device, strerror(-rc));
		return rc;
	}
	d = bl_hwdb_device(db, db->detector.device);
	rc = d ? bl_det_new(d, &a->det) : -ENODEV;
	if (rc) {
		bl_fw_log(a, "detector %s: %s", db->detector.device, strerror(-rc));
		return rc;
	}
	d = bl_hwdb_device(db, db->trigger.device);
	rc = d ? bl_tbox_open(d, &a->trig.box) : -ENODEV;
	if (rc) {
		bl_fw_log(a, "trigger box %s: %s", db->trigger.device, strerror(-rc));
		return rc;
	}
	a->trig.channel = db->trigger.detector_channel;
	/* Start from the safe state whatever a previous run (or a crash) left: no train running,
	 * the detector disarmed. Errors here only mean there was nothing to stop. */
	bl_tbox_stop(a->trig.box, a->trig.channel);
	bl_det_disarm(a->det);
	/* edge records left in the box by whoever used it before are not this controller's */
	struct bl_tbox_edge old[32];
	unsigned lost;
	for (int i = 0; i < 64 && bl_tbox_edges(a->trig.box, old, 32, &lost) > 0; i++)
		;
	a->trig.width_ticks = (uint32_t)(db->trigger.width_us * (BL_TBOX_TICK_HZ / 1000000u));
	for (int i = 0; i < 4; i++)
		trig_sync(&a->trig, true);
	bind_inputs(a);
	if ((rc = robot_ensure(&a->robot)) < 0) {
		bl_fw_log(a, "robot: %s", bl_epson_result(a->robot.h)->text);
		return rc;
	}
	rc = bl_fw_worker_start(&a->robot_w, "robot", robot_run, robot_idle, 100, a, &a->inbox);
	if (!rc)
		rc = bl_fw_worker_start(&a->barcode_w, "barcode", barcode_run, NULL, 0, a,
					&a->inbox);
	if (!rc)
		rc = bl_fw_worker_start(&a->det_w, "detector", det_run, NULL, 0, a, &a->inbox);
	if (!rc)
		rc = bl_fw_worker_start(&a->trig_w, "trigger", trig_run, trig_idle, 20, a,
					&a->inbox);
	return rc;
}

void bl_fw_devices_close(struct bl_fw_app *a)
{
	bl_fw_worker_stop(&a->robot_w);
	bl_fw_worker_stop(&a->barcode_w);
	bl_fw_worker_stop(&a->det_w);
	bl_fw_worker_stop(&a->trig_w);
	if (a->robot.h)
		bl_epson_close(a->robot.h);
	bl_barcode_free(a->bc);
	bl_det_free(a->det);
	if (a->trig.box)
		bl_tbox_close(a->trig.box);
}

/* Before the workers run: robot status, gripper and stage sensors, for the reconcile. */
int bl_fw_devices_sensors(struct bl_fw_app *a, struct bl_fw_sensors *s)
{
	struct bl_fw_robot *r = &a->robot;
	memset(s, 0, sizeof(*s));
	if (robot_ensure(r))
		return 0;
	int rc = robot_wait(r, bl_epson_get_status(r->h, now_ms()), r->cfg.command_ms * 3);
	if (rc)
		return 0;
	struct bl_robot_state st;
	bl_epson_state(r->h, &st);
	s->robot_reachable = true;
	s->robot_idle = !(st.flags & BL_EPSON_FLAG(BL_EPSON_F_RUNNING));
	int g = r->cfg.grip_sensor_bit >= 0 ? robot_input(r, r->cfg.grip_sensor_bit) : -ENODEV;
	int st_bit = a->db->robot.stage_sensor;
	int sg = st_bit >= 0 ? robot_input(r, st_bit) : -ENODEV;
	s->gripper_known = g >= 0;
	s->gripper_holds = g == 1;
	s->stage_known = sg >= 0;
	s->stage_occupied = sg == 1;
	return 0;
}

/* Tells the robot driver where the one sample out of its slot is (proven by the reconcile). */
int bl_fw_devices_adopt(struct bl_fw_app *a, int sample, int loc)
{
	const struct bl_sfsm_position *p = &a->scfg.pos[sample];
	enum bl_robot_sample_at at = loc == BL_LOC_GRIPPER ? BL_SAMPLE_GRIPPER
				     : loc == BL_LOC_STAGE ? BL_SAMPLE_STAGE
							   : BL_SAMPLE_HOME;
	return bl_epson_adopt_sample(a->robot.h, at, p->puck, p->slot);
}
