/* epson_motion.c: the Epson driver's public operations: the sample-changer motions planned from
 * hwdb teach points through approach heights, commands, polling, state and the ops table. */
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "epson_robot_int.h"
#include "epson_spel.h"

static int can_start(struct bl_epson *h)
{
	if (h->op_active)
		return h->op_internal ? -ENOTCONN : -EBUSY;
	if (!h->logged_in)
		return -ENOTCONN;
	h->nsteps = 0;
	return 0;
}

static void start(struct bl_epson *h, int64_t now_ms)
{
	h->op_active = true;
	h->op_internal = false;
	h->step_sent = false;
	h->aborted = false;
	h->cur = 0;
	memset(&h->res, 0, sizeof(h->res));
	epson_op_advance(h, now_ms);
}

static void __attribute__((format(printf, 3, 4)))
reject(struct bl_epson *h, int rc, const char *fmt, ...)
{
	memset(&h->res, 0, sizeof(h->res));
	h->res.rc = rc;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->res.text, sizeof(h->res.text), fmt, ap);
	va_end(ap);
}

static struct epson_step *step(struct bl_epson *h, enum epson_step_kind kind)
{
	struct epson_step *s = &h->steps[h->nsteps++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	return s;
}

static void add_line(struct bl_epson *h, enum epson_step_kind kind, const char *line)
{
	snprintf(step(h, kind)->line, BL_EPSON_LINE_MAX + 1, "%.256s", line);
}

static void add_spel(struct bl_epson *h, const char *spel)
{
	char line[BL_EPSON_LINE_MAX + 8];
	int n = bl_epson_format_execute(line, sizeof(line), "", spel);
	if (n > 0)
		add_line(h, ST_CMD, line);
}

static void add_speed(struct bl_epson *h)
{
	const struct bl_hwdb_robot *t = &h->cfg.teach;
	char spel[64];
	int pct = (int)lround(t->speed_pct);
	int acc = t->accel_pct >= 1 && t->accel_pct <= 100 ? (int)lround(t->accel_pct) : pct;
	snprintf(spel, sizeof(spel), "Speed %d", pct);
	add_spel(h, spel);
	snprintf(spel, sizeof(spel), "Accel %d,%d", acc, acc);
	add_spel(h, spel);
	snprintf(spel, sizeof(spel), "SpeedS %.0f", h->cfg.max_speed_mm_s * t->speed_pct / 100.0);
	add_spel(h, spel);
}

static void add_move(struct bl_epson *h, enum bl_spel_kind kind, struct bl_robot_where after)
{
	char spel[128], line[BL_EPSON_LINE_MAX + 8];
	bl_spel_format_motion(spel, sizeof(spel), kind, &after.p);
	bl_epson_format_execute(line, sizeof(line), "", spel);
	struct epson_step *s = step(h, ST_MOVE);
	snprintf(s->line, sizeof(s->line), "%.256s", line);
	s->motion = true;
	s->after = after;
}

static void add_grip(struct bl_epson *h, int closed)
{
	struct epson_step *s = step(h, ST_GRIP);
	snprintf(s->line, sizeof(s->line), "$SetIO,%d,%d", h->cfg.grip_out_bit, closed);
	s->value = closed;
	if (h->cfg.grip_sensor_bit >= 0) {
		s = step(h, ST_SENSE);
		snprintf(s->line, sizeof(s->line), "$GetIO,%d", h->cfg.grip_sensor_bit);
		s->value = closed;
	}
}

static struct bl_robot_where at_safe(const struct bl_epson *h, int idx)
{
	return (struct bl_robot_where){
	    .place = BL_ROBOT_AT_SAFE, .pose_index = idx, .p = h->cfg.teach.safe_poses[idx].p};
}

static struct bl_robot_where at_station(const struct bl_epson *h, enum bl_robot_place place,
					int puck, int slot, struct bl_point p)
{
	if (place == BL_ROBOT_AT_SLOT_APPROACH || place == BL_ROBOT_AT_STAGE_APPROACH)
		p.z += h->cfg.teach.approach_mm;
	return (struct bl_robot_where){.place = place, .puck = puck, .slot = slot, .p = p};
}

static const struct bl_point *slot_point(const struct bl_epson *h, int puck, int slot)
{
	const struct bl_hwdb_robot *t = &h->cfg.teach;
	for (size_t i = 0; i < t->npucks; i++)
		if (t->pucks[i].id == puck && slot >= 1 && (size_t)slot <= t->pucks[i].nslots)
			return &t->pucks[i].slots[slot - 1];
	return NULL;
}

/* Checks shared by every planned motion: idle, logged in, at a safe pose. */
static int motion_precheck(struct bl_epson *h)
{
	int rc = can_start(h);
	if (rc)
		return rc;
	if (h->where.place != BL_ROBOT_AT_SAFE) {
		reject(h, -EPERM, "motion must start from a named safe pose (use go_safe)");
		return -EPERM;
	}
	if (h->off_pose) {
		reject(h, -EPERM, "a motion stopped between poses (use go_safe)");
		return -EPERM;
	}
	return 0;
}

/* Pick from the station: open, down, close, up; the sensor must then see a sample. */
static void add_take(struct bl_epson *h, struct bl_robot_where app, struct bl_robot_where at)
{
	add_move(h, BL_SPEL_GO, app);
	add_grip(h, 0);
	h->nsteps -= h->cfg.grip_sensor_bit >= 0; /* opening an empty gripper needs no check */
	add_move(h, BL_SPEL_MOVE, at);
	add_grip(h, 1);
	add_move(h, BL_SPEL_MOVE, app);
}

static void add_put(struct bl_epson *h, struct bl_robot_where app, struct bl_robot_where at)
{
	add_move(h, BL_SPEL_GO, app);
	add_move(h, BL_SPEL_MOVE, at);
	add_grip(h, 0);
	add_move(h, BL_SPEL_MOVE, app);
}

/* The sensor check of add_grip() runs after leaving the station: move it there. */
static void sense_after_retreat(struct bl_epson *h)
{
	if (h->cfg.grip_sensor_bit < 0)
		return;
	struct epson_step sense = h->steps[h->nsteps - 2];
	h->steps[h->nsteps - 2] = h->steps[h->nsteps - 1];
	h->steps[h->nsteps - 1] = sense;
}

/* From safe pose SAFE down to a station (slot or stage) to take or put the sample, the gripper
 * sensor checked after the retreat, and back to SAFE. */
static void add_visit(struct bl_epson *h, int safe, bool take, bool stage, int puck, int slot,
		      struct bl_point p)
{
	struct bl_robot_where app = at_station(
	    h, stage ? BL_ROBOT_AT_STAGE_APPROACH : BL_ROBOT_AT_SLOT_APPROACH, puck, slot, p);
	struct bl_robot_where at =
	    at_station(h, stage ? BL_ROBOT_AT_STAGE : BL_ROBOT_AT_SLOT, puck, slot, p);
	add_move(h, BL_SPEL_GO, at_safe(h, safe));
	if (take)
		add_take(h, app, at);
	else
		add_put(h, app, at);
	sense_after_retreat(h);
	add_move(h, BL_SPEL_GO, at_safe(h, safe));
}

int bl_epson_pick(struct bl_epson *h, int puck, int slot, int64_t now_ms)
{
	const struct bl_point *p = slot_point(h, puck, slot);
	int rc = motion_precheck(h);
	if (rc)
		return rc;
	if (!p)
		return -EINVAL;
	if (h->sample.at != BL_SAMPLE_HOME) {
		reject(h, -EPERM, "a sample is already out of the pucks");
		return -EPERM;
	}
	add_speed(h);
	add_visit(h, h->idx_pucks, true, false, puck, slot, *p);
	start(h, now_ms);
	return 0;
}

int bl_epson_place_on_stage(struct bl_epson *h, int64_t now_ms)
{
	int rc = motion_precheck(h);
	if (rc)
		return rc;
	if (h->sample.at != BL_SAMPLE_GRIPPER) {
		reject(h, -EPERM, "no sample in the gripper");
		return -EPERM;
	}
	add_speed(h);
	add_visit(h, h->idx_stage, false, true, 0, 0, h->cfg.teach.stage);
	start(h, now_ms);
	return 0;
}

int bl_epson_return_to_slot(struct bl_epson *h, int puck, int slot, int64_t now_ms)
{
	const struct bl_point *p = slot_point(h, puck, slot);
	int rc = motion_precheck(h);
	if (rc)
		return rc;
	if (!p)
		return -EINVAL;
	if (h->sample.at == BL_SAMPLE_HOME) {
		reject(h, -EPERM, "no sample out of the pucks to return");
		return -EPERM;
	}
	if (h->sample.puck && (h->sample.puck != puck || h->sample.slot != slot)) {
		/* a sample goes back where it came from, or its location is lost */
		reject(h, -EPERM, "the sample out belongs to puck %d slot %d", h->sample.puck,
		       h->sample.slot);
		return -EPERM;
	}
	add_speed(h);
	if (h->sample.at == BL_SAMPLE_STAGE) /* fetch it from the stage first */
		add_visit(h, h->idx_stage, true, true, 0, 0, h->cfg.teach.stage);
	add_visit(h, h->idx_pucks, false, false, puck, slot, *p);
	start(h, now_ms);
	return 0;
}

int bl_epson_adopt_sample(struct bl_epson *h, enum bl_robot_sample_at at, int puck, int slot)
{
	if (h->op_active)
		return -EBUSY;
	if (at != BL_SAMPLE_HOME && !slot_point(h, puck, slot))
		return -EINVAL;
	h->sample.at = at;
	h->sample.puck = at == BL_SAMPLE_HOME ? 0 : puck;
	h->sample.slot = at == BL_SAMPLE_HOME ? 0 : slot;
	h->sample.confirmed = false;
	return 0;
}

int bl_epson_go_barcode_pose(struct bl_epson *h, int64_t now_ms)
{
	int rc = motion_precheck(h);
	if (rc)
		return rc;
	add_speed(h);
	add_move(h, BL_SPEL_GO, at_safe(h, h->idx_reader));
	add_move(h, BL_SPEL_MOVE,
		 at_station(h, BL_ROBOT_AT_BARCODE, 0, 0, h->cfg.teach.barcode_station));
	start(h, now_ms);
	return 0;
}

/* Allowed from anywhere: an arch (Jump) to the safe pose nearest the last known point, or home
 * when the location is unknown. */
int bl_epson_go_safe(struct bl_epson *h, int64_t now_ms)
{
	int rc = can_start(h);
	if (rc)
		return rc;
	const struct bl_hwdb_robot *t = &h->cfg.teach;
	int best = h->idx_home;
	if (h->where.place != BL_ROBOT_AT_UNKNOWN) {
		double bd = INFINITY;
		for (size_t i = 0; i < t->nsafe; i++) {
			double d = hypot(t->safe_poses[i].p.x - h->where.p.x,
					 t->safe_poses[i].p.y - h->where.p.y);
			if (d < bd) {
				bd = d;
				best = (int)i;
			}
		}
	}
	add_speed(h);
	add_move(h, BL_SPEL_JUMP, at_safe(h, best));
	start(h, now_ms);
	return 0;
}

int bl_epson_command(struct bl_epson *h, const char *line, bool motion, int64_t now_ms)
{
	int rc = can_start(h);
	if (rc)
		return rc;
	if (!line || !*line || strlen(line) > BL_EPSON_LINE_MAX)
		return -EINVAL;
	struct epson_step *s = step(h, ST_CMD);
	snprintf(s->line, sizeof(s->line), "%.256s", line);
	s->motion = motion;
	start(h, now_ms);
	return 0;
}

static int simple(struct bl_epson *h, const char *line, bool motion, int64_t now_ms)
{
	return bl_epson_command(h, line, motion, now_ms);
}

int bl_epson_get_status(struct bl_epson *h, int64_t now_ms)
{
	int rc = can_start(h);
	if (rc)
		return rc;
	add_line(h, ST_STATUS, "$GetStatus");
	start(h, now_ms);
	return 0;
}

int bl_epson_motors(struct bl_epson *h, bool on, int64_t now_ms)
{
	char line[48];
	snprintf(line, sizeof(line), "$SetMotors%s,%d", on ? "On" : "Off", h->cfg.robot_number);
	return simple(h, line, false, now_ms);
}

int bl_epson_reset(struct bl_epson *h, int64_t now_ms)
{
	int rc = can_start(h);
	if (rc)
		return rc;
	add_line(h, ST_CMD, "$Reset");
	add_line(h, ST_STATUS, "$GetStatus");
	start(h, now_ms);
	return 0;
}

int bl_epson_home(struct bl_epson *h, int64_t now_ms)
{
	int rc = can_start(h);
	if (rc)
		return rc;
	struct epson_step *s = step(h, ST_MOVE);
	snprintf(s->line, sizeof(s->line), "$Home");
	s->motion = true;
	s->after = at_safe(h, h->idx_home); /* HomeSet is taught to hwdb's "home" pose */
	start(h, now_ms);
	return 0;
}

int bl_epson_abort(struct bl_epson *h, int64_t now_ms)
{
	if (!h->logged_in)
		return -ENOTCONN;
	if (h->op_active && !h->op_internal) {
		h->aborted = true;
		return epson_link_send(h, "$Abort", OWN_OOB, h->cfg.command_ms, now_ms);
	}
	return simple(h, "$Abort", false, now_ms);
}

int bl_epson_connect(struct bl_epson *h, int64_t now_ms)
{
	if (h->logged_in)
		return -EISCONN;
	if (h->op_active && h->op_internal) {
		h->op_internal = false; /* adopt the reconnect in progress */
		memset(&h->res, 0, sizeof(h->res));
		return 0;
	}
	if (h->op_active)
		return -EBUSY;
	memset(&h->res, 0, sizeof(h->res));
	return epson_start_connect_op(h, false, now_ms);
}

int bl_epson_disconnect(struct bl_epson *h)
{
	if (h->op_active && !h->op_internal)
		return -EBUSY;
	h->op_active = false;
	h->want_link = false;
	h->next_retry_ms = -1;
	epson_link_close(h);
	return 0;
}

int bl_epson_poll(struct bl_epson *h, int64_t now_ms)
{
	epson_link_io(h, now_ms);
	if (h->op_active && !h->step_sent)
		epson_op_advance(h, now_ms);
	epson_link_background(h, now_ms);
	epson_link_io(h, now_ms);
	return h->op_active && !h->op_internal ? BL_ROBOT_BUSY : h->last_rc;
}

const struct bl_robot_result *bl_epson_result(const struct bl_epson *h)
{
	return &h->res;
}

void bl_epson_state(const struct bl_epson *h, struct bl_robot_state *st)
{
	memset(st, 0, sizeof(*st));
	st->connected = h->logged_in;
	st->busy = h->op_active && !h->op_internal;
	st->flags = h->status.flags;
	st->code = h->status.code;
	st->where = h->where;
	st->off_pose = h->off_pose;
	st->sample = h->sample;
	st->connects = h->connects;
	st->link_losses = h->link_losses;
	st->backoff_ms = h->backoff_ms;
	st->next_retry_ms = h->fd < 0 && h->want_link ? h->next_retry_ms : -1;
}

/* ---- robot-class ops table ---- */

static int op_connect(void *h, int64_t now)
{
	return bl_epson_connect(h, now);
}
static int op_poll(void *h, int64_t now)
{
	return bl_epson_poll(h, now);
}
static void op_state(void *h, struct bl_robot_state *st)
{
	bl_epson_state(h, st);
}
static const struct bl_robot_result *op_result(void *h)
{
	return bl_epson_result(h);
}
static int op_motors(void *h, bool on, int64_t now)
{
	return bl_epson_motors(h, on, now);
}
static int op_reset(void *h, int64_t now)
{
	return bl_epson_reset(h, now);
}
static int op_abort(void *h, int64_t now)
{
	return bl_epson_abort(h, now);
}
static int op_pick(void *h, int puck, int slot, int64_t now)
{
	return bl_epson_pick(h, puck, slot, now);
}
static int op_place(void *h, int64_t now)
{
	return bl_epson_place_on_stage(h, now);
}
static int op_return(void *h, int puck, int slot, int64_t now)
{
	return bl_epson_return_to_slot(h, puck, slot, now);
}
static int op_barcode(void *h, int64_t now)
{
	return bl_epson_go_barcode_pose(h, now);
}
static int op_safe(void *h, int64_t now)
{
	return bl_epson_go_safe(h, now);
}
/* Free moves to arbitrary points would bypass the teach-point path planning: not offered. */
static int op_move_to(void *h, const struct bl_point *p, int64_t now)
{
	(void)h;
	(void)p;
	(void)now;
	return -ENOSYS;
}
static void op_close(void *h)
{
	bl_epson_close(h);
}

const struct bl_robot_ops bl_epson_robot_ops = {
    .name = "epson-rc",
    .connect = op_connect,
    .poll = op_poll,
    .state = op_state,
    .result = op_result,
    .motors = op_motors,
    .reset = op_reset,
    .abort = op_abort,
    .pick = op_pick,
    .place_on_stage = op_place,
    .return_to_slot = op_return,
    .go_barcode_pose = op_barcode,
    .go_safe = op_safe,
    .move_to = op_move_to,
    .close = op_close,
};
