/* epson_robot.c: the Epson driver's operations: configuration from hwdb, the step sequences of
 * pick / place / return / barcode / safe motions, reply handling, and the robot-class ops table. */
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "epson_robot_int.h"
#include "epson_spel.h"

int bl_epson_config_from_hwdb(struct bl_epson_config *cfg, const struct bl_hwdb *db,
			      const char *device)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->port = 5000;
	snprintf(cfg->terminator, sizeof(cfg->terminator), "%s", BL_EPSON_DEF_TERM);
	cfg->robot_number = 1;
	cfg->connect_ms = cfg->command_ms = 2000;
	cfg->motion_ms = 30000;
	cfg->heartbeat_ms = 1000;
	cfg->backoff_min_ms = 100;
	cfg->backoff_max_ms = 5000;
	cfg->grip_out_bit = 8;
	cfg->grip_sensor_bit = 10;
	if (!device)
		device = db->robot.device[0] ? db->robot.device : "robot";
	const struct bl_hwdb_device *dev = bl_hwdb_device(db, device);
	if (!dev || !dev->model || dev->model->cls != BL_CLASS_ROBOT ||
	    dev->model->protocol != BL_PROTO_EPSON_RC)
		return -ENOENT;
	const struct bl_hwdb_robot_model *m = &dev->model->robot;
	snprintf(cfg->host, sizeof(cfg->host), "%s", dev->transport.host);
	cfg->port = dev->transport.port;
	if (dev->transport.terminator[0])
		snprintf(cfg->terminator, sizeof(cfg->terminator), "%s", dev->transport.terminator);
	if (dev->timeouts.connect_ms > 0)
		cfg->connect_ms = dev->timeouts.connect_ms;
	if (dev->timeouts.command_ms > 0)
		cfg->command_ms = dev->timeouts.command_ms;
	if (dev->timeouts.motion_ms > 0)
		cfg->motion_ms = dev->timeouts.motion_ms;
	if (m->heartbeat_ms > 0)
		cfg->heartbeat_ms = m->heartbeat_ms;
	cfg->max_speed_mm_s = m->max_speed_mm_s;
	cfg->z_mm = m->z_mm;
	cfg->reach_mm = m->reach_mm;
	cfg->inner_reach_mm = m->inner_reach_mm;
	cfg->teach = db->robot;
	cfg->robot_number = db->robot.robot_number;
	cfg->grip_out_bit = db->robot.gripper_output;
	cfg->grip_sensor_bit = db->robot.gripper_sensor;
	snprintf(cfg->password, sizeof(cfg->password), "%s", db->robot.password);
	return 0;
}

static int safe_index(const struct bl_hwdb_robot *t, const char *name)
{
	for (size_t i = 0; i < t->nsafe; i++)
		if (!strcmp(t->safe_poses[i].name, name))
			return (int)i;
	return -1;
}

static bool reachable(const struct bl_epson_config *c, const struct bl_point *p, double dz)
{
	double r = hypot(p->x, p->y), z = p->z + dz;
	return r <= c->reach_mm && r >= c->inner_reach_mm && z >= c->z_mm.min && z <= c->z_mm.max;
}

static int check_config(struct bl_epson *h)
{
	const struct bl_epson_config *c = &h->cfg;
	const struct bl_hwdb_robot *t = &c->teach;
	h->idx_home = safe_index(t, "home");
	h->idx_pucks = safe_index(t, "above_pucks");
	h->idx_reader = safe_index(t, "above_reader");
	h->idx_stage = safe_index(t, "above_stage");
	if (h->idx_home < 0 || h->idx_pucks < 0 || h->idx_reader < 0 || h->idx_stage < 0)
		return -EINVAL;
	if (!c->host[0] || c->port <= 0 || c->port > 65535 || !c->terminator[0] ||
	    c->command_ms <= 0 || c->motion_ms <= 0 || c->connect_ms <= 0 ||
	    c->backoff_min_ms <= 0 || c->backoff_max_ms < c->backoff_min_ms ||
	    c->max_speed_mm_s <= 0 || c->grip_out_bit < 0 || t->speed_pct < 1 ||
	    t->speed_pct > 100 || t->approach_mm <= 0)
		return -EINVAL;
	for (size_t i = 0; i < t->nsafe; i++)
		if (!reachable(c, &t->safe_poses[i].p, 0))
			return -EINVAL;
	if (!reachable(c, &t->stage, t->approach_mm) || !reachable(c, &t->stage, 0) ||
	    !reachable(c, &t->barcode_station, 0))
		return -EINVAL;
	for (size_t k = 0; k < t->npucks; k++)
		for (size_t s = 0; s < t->pucks[k].nslots; s++)
			if (!reachable(c, &t->pucks[k].slots[s], 0) ||
			    !reachable(c, &t->pucks[k].slots[s], t->approach_mm))
				return -EINVAL;
	return 0;
}

int bl_epson_open(struct bl_epson **out, const struct bl_epson_config *cfg)
{
	struct bl_epson *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->cfg = *cfg;
	h->fd = -1;
	int rc = check_config(h);
	if (rc) {
		free(h);
		return rc;
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai;
	char port[16];
	snprintf(port, sizeof(port), "%d", cfg->port);
	/* Resolved once here (may block on DNS); poll() never resolves. */
	if (getaddrinfo(cfg->host, port, &hints, &ai) || !ai) {
		free(h);
		return -EINVAL;
	}
	memcpy(&h->addr, ai->ai_addr, ai->ai_addrlen);
	h->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	h->backoff_ms = cfg->backoff_min_ms;
	h->next_retry_ms = -1;
	h->where.place = BL_ROBOT_AT_UNKNOWN;
	h->sample.at = BL_SAMPLE_HOME;
	*out = h;
	return 0;
}

void bl_epson_close(struct bl_epson *h)
{
	if (!h)
		return;
	epson_link_close(h);
	free(h);
}

/* ---- naming, for results and logs ---- */

static void describe_where(const struct bl_epson *h, const struct bl_robot_where *w, char *buf,
			   size_t cap)
{
	switch (w->place) {
	case BL_ROBOT_AT_UNKNOWN: snprintf(buf, cap, "unknown"); return;
	case BL_ROBOT_AT_SAFE:
		snprintf(buf, cap, "%s", h->cfg.teach.safe_poses[w->pose_index].name);
		return;
	case BL_ROBOT_AT_SLOT_APPROACH:
		snprintf(buf, cap, "above puck %d slot %d", w->puck, w->slot);
		return;
	case BL_ROBOT_AT_SLOT: snprintf(buf, cap, "puck %d slot %d", w->puck, w->slot); return;
	case BL_ROBOT_AT_STAGE_APPROACH: snprintf(buf, cap, "above the stage"); return;
	case BL_ROBOT_AT_STAGE: snprintf(buf, cap, "stage"); return;
	case BL_ROBOT_AT_BARCODE: snprintf(buf, cap, "barcode station"); return;
	}
	snprintf(buf, cap, "?");
}

static void describe_sample(const struct bl_robot_sample *s, char *buf, size_t cap)
{
	static const char *const at[] = {"in its slot", "in the gripper", "on the stage"};
	if (s->at == BL_SAMPLE_HOME)
		snprintf(buf, cap, "none out of the pucks");
	else
		snprintf(buf, cap, "puck %d slot %d %s%s", s->puck, s->slot, at[s->at],
			 s->confirmed ? "" : " (unconfirmed)");
}

/* ---- operations ---- */

void epson_op_finish(struct bl_epson *h, int rc, const char *fmt, ...)
{
	bool internal = h->op_internal, sent = h->step_sent;
	h->op_active = false;
	h->step_sent = false;
	if (internal)
		return;
	char text[sizeof(h->res.text)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (rc < 0 && sent && h->cur < h->nsteps && h->steps[h->cur].kind == ST_MOVE) {
		h->off_pose = true; /* link lost or timed out while moving */
		h->res.during_motion = true;
	}
	h->res.rc = rc;
	h->last_rc = rc;
	if (rc < 0 && h->nsteps > 0 && h->steps[0].kind != ST_CONNECT) {
		char w[48], s[64];
		describe_where(h, &h->where, w, sizeof(w));
		describe_sample(&h->sample, s, sizeof(s));
		snprintf(h->res.text, sizeof(h->res.text),
			 "%.180s; robot last at %.40s; sample: %.60s", text, w, s);
	} else {
		snprintf(h->res.text, sizeof(h->res.text), "%s", text);
	}
}

static void op_begin(struct bl_epson *h, bool internal)
{
	h->op_active = true;
	h->op_internal = internal;
	h->step_sent = false;
	h->aborted = false;
	h->cur = 0;
	if (!internal)
		memset(&h->res, 0, sizeof(h->res));
}

static struct epson_step *add_step(struct bl_epson *h, enum epson_step_kind kind, const char *fmt,
				   ...) __attribute__((format(printf, 3, 4)));

static struct epson_step *add_step(struct bl_epson *h, enum epson_step_kind kind, const char *fmt,
				   ...)
{
	struct epson_step *s = &h->steps[h->nsteps++]; /* sequences are bounded below the max */
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->line, sizeof(s->line), fmt, ap);
	va_end(ap);
	return s;
}

int epson_start_connect_op(struct bl_epson *h, bool internal, int64_t now_ms)
{
	h->nsteps = 0;
	add_step(h, ST_CONNECT, "connect");
	if (h->cfg.password[0])
		add_step(h, ST_LOGIN, "$Login,%s", h->cfg.password);
	else
		add_step(h, ST_LOGIN, "$Login");
	add_step(h, ST_STATUS, "$GetStatus");
	if (h->cfg.grip_sensor_bit >= 0)
		add_step(h, ST_PROBE, "$GetIO,%d", h->cfg.grip_sensor_bit);
	op_begin(h, internal);
	epson_op_advance(h, now_ms);
	return 0;
}

void epson_on_connected(struct bl_epson *h, int64_t now_ms)
{
	if (h->op_active && h->cur < h->nsteps && h->steps[h->cur].kind == ST_CONNECT) {
		h->cur++;
		h->step_sent = false;
		epson_op_advance(h, now_ms);
	}
}

void epson_op_advance(struct bl_epson *h, int64_t now_ms)
{
	while (h->op_active && !h->step_sent) {
		if (h->cur >= h->nsteps) {
			epson_op_finish(h, 0, "ok");
			return;
		}
		struct epson_step *s = &h->steps[h->cur];
		if (s->kind == ST_CONNECT) {
			int rc = epson_link_start(h, now_ms);
			if (rc < 0) {
				char text[96];
				snprintf(text, sizeof(text), "connect: %s", strerror(-rc));
				epson_link_fail(h, rc, text, now_ms);
				return;
			}
			if (rc == 0) {
				h->step_sent = true;
				return;
			}
			h->cur++;
			continue;
		}
		int tmo = s->motion ? h->cfg.motion_ms : h->cfg.command_ms;
		int rc = epson_link_send(h, s->line, OWN_OP, tmo, now_ms);
		if (rc < 0) {
			epson_op_finish(h, rc, "cannot send %s: %s", s->line, strerror(-rc));
			return;
		}
		if (s->kind == ST_MOVE)
			h->res.target = s->after.p;
		h->step_sent = true;
	}
}

static void fail_remote(struct bl_epson *h, const struct epson_step *s,
			const struct bl_epson_reply *r)
{
	h->res.remote_code = r->code;
	snprintf(h->res.cmd, sizeof(h->res.cmd), "%s", r->cmd);
	epson_op_finish(h, bl_epson_errno(r->code), "%.80s: !%s,%02d %s", s->line, r->cmd, r->code,
			bl_epson_strerror(r->code));
}

static void on_status(struct bl_epson *h, const struct bl_epson_reply *r)
{
	struct bl_epson_status st;
	if (bl_epson_parse_status(r, &st) == 0)
		h->status = st;
}

/* At login the gripper sensor tells whether a sample is held that this driver did not pick (a
 * restart, a person's hands): record it as out with an unknown origin, which blocks every pick
 * until someone says where it goes. A held sample the sensor no longer sees loses its confirmation.
 */
static void on_probe(struct bl_epson *h, const struct bl_epson_reply *r)
{
	const char *v = r->nfields ? r->fields[0] : "";
	if (!strcmp(v, "1") && h->sample.at == BL_SAMPLE_HOME) {
		h->sample.at = BL_SAMPLE_GRIPPER;
		h->sample.puck = h->sample.slot = 0;
		h->sample.confirmed = true;
	} else if (!strcmp(v, "0") && h->sample.at == BL_SAMPLE_GRIPPER) {
		h->sample.confirmed = false;
	}
}

/* A motion ended in a remote error: read the controller's error code before reporting. */
static void motion_failed(struct bl_epson *h, const struct epson_step *s,
			  const struct bl_epson_reply *r, int64_t now_ms)
{
	h->res.remote_code = r->code;
	h->res.during_motion = true;
	h->off_pose = true;
	snprintf(h->res.cmd, sizeof(h->res.cmd), "%s", r->cmd);
	snprintf(h->res.reply, sizeof(h->res.reply), "%.80s", s->line);
	h->nsteps = h->cur + 1;
	h->steps[h->cur] = (struct epson_step){.kind = ST_DIAG, .line = "$GetStatus"};
	h->step_sent = false;
	epson_op_advance(h, now_ms);
}

static void diag_done(struct bl_epson *h, const struct bl_epson_reply *r)
{
	on_status(h, r);
	int code = h->res.remote_code;
	int rc = h->aborted ? -ECANCELED : bl_epson_errno(code);
	h->res.robot_code = h->status.code;
	const char *why = h->aborted ? "aborted"
			  : (h->status.flags & BL_EPSON_FLAG(BL_EPSON_F_ESTOP))
			      ? "emergency stop"
			      : bl_epson_robot_strerror(h->status.code);
	char failed[96];
	snprintf(failed, sizeof(failed), "%s", h->res.reply);
	h->res.reply[0] = 0;
	epson_op_finish(h, rc, "%.64s: !%s,%02d, controller error %04d %s", failed, h->res.cmd,
			code, h->status.code, why);
}

static void on_grip(struct bl_epson *h, struct epson_step *s)
{
	struct bl_robot_sample *smp = &h->sample;
	s->prev_at = smp->at;
	s->at = h->where;
	smp->confirmed = false;
	if (s->value) { /* closed */
		if (h->where.place == BL_ROBOT_AT_SLOT) {
			smp->puck = h->where.puck;
			smp->slot = h->where.slot;
		}
		smp->at = BL_SAMPLE_GRIPPER;
	} else if (h->where.place == BL_ROBOT_AT_STAGE && smp->at == BL_SAMPLE_GRIPPER) {
		smp->at = BL_SAMPLE_STAGE;
	} else if (h->where.place == BL_ROBOT_AT_SLOT && smp->at == BL_SAMPLE_GRIPPER) {
		smp->at = BL_SAMPLE_HOME;
		smp->puck = h->where.puck;
		smp->slot = h->where.slot;
	}
	if (h->cfg.grip_sensor_bit < 0)
		smp->confirmed = false;
}

static void on_sense(struct bl_epson *h, const struct epson_step *s, const struct bl_epson_reply *r)
{
	const char *v = r->nfields ? r->fields[0] : "";
	if (strcmp(v, "0") && strcmp(v, "1")) {
		epson_op_finish(h, -EBADMSG, "%s: bad input value \"%.20s\"", s->line, v);
		return;
	}
	int got = v[0] - '0';
	if (got == s->value) {
		h->sample.confirmed = true;
		h->cur++;
		h->step_sent = false;
		return;
	}
	/* The gripper disagrees with the plan: believe the sensor. */
	const struct epson_step *grip = NULL;
	for (int i = h->cur - 1; i >= 0 && !grip; i--)
		if (h->steps[i].kind == ST_GRIP)
			grip = &h->steps[i];
	char w[48];
	describe_where(h, grip ? &grip->at : &h->where, w, sizeof(w));
	if (got) {
		h->sample.at = BL_SAMPLE_GRIPPER;
		h->sample.confirmed = true;
		epson_op_finish(h, -EEXIST, "sample still in the gripper after releasing at %s", w);
	} else {
		h->sample.at = grip ? grip->prev_at : BL_SAMPLE_HOME;
		h->sample.confirmed = false;
		epson_op_finish(h, -ENOENT, "no sample in the gripper after gripping at %s", w);
	}
}

void epson_on_reply(struct bl_epson *h, enum epson_owner owner, const struct bl_epson_reply *r,
		    int64_t now_ms)
{
	if (owner == OWN_HEARTBEAT) {
		on_status(h, r);
		return;
	}
	if (owner == OWN_OOB || !h->op_active || h->cur >= h->nsteps)
		return;
	struct epson_step *s = &h->steps[h->cur];
	h->step_sent = false;
	if (s->kind == ST_DIAG) {
		diag_done(h, r);
		return;
	}
	if (!r->ok) {
		if (s->kind == ST_MOVE) {
			motion_failed(h, s, r, now_ms);
			return;
		}
		if (s->kind == ST_LOGIN) {
			h->want_link = false; /* a person must fix the password or the controller */
			fail_remote(h, s, r);
			epson_link_close(h);
			return;
		}
		fail_remote(h, s, r);
		return;
	}
	switch (s->kind) {
	case ST_LOGIN:
		h->logged_in = true;
		h->want_link = true;
		h->connects++;
		h->backoff_ms = h->cfg.backoff_min_ms;
		h->next_retry_ms = -1;
		break;
	case ST_STATUS: on_status(h, r); break;
	case ST_PROBE: on_probe(h, r); break;
	case ST_MOVE:
		h->where = s->after;
		h->off_pose = false;
		break;
	case ST_GRIP: on_grip(h, s); break;
	case ST_SENSE:
		on_sense(h, s, r);
		epson_op_advance(h, now_ms);
		return;
	default: break;
	}
	if (!h->op_internal) {
		size_t k = 0;
		h->res.reply[0] = 0;
		for (size_t i = 0; i < r->nfields && k + 1 < sizeof(h->res.reply); i++)
			k += (size_t)snprintf(h->res.reply + k, sizeof(h->res.reply) - k, "%s%.80s",
					      i ? "," : "", r->fields[i]);
	}
	h->cur++;
	epson_op_advance(h, now_ms);
}
