/* epson_sim_ctl.c: the simulator's controller model: remote commands with their error codes,
 * SPEL motions that take time, gripper and sample bookkeeping, e-stop/safeguard, and the control
 * verbs that inject faults. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "epson_sim_int.h"
#include "epson_spel.h"

#define STATION_TOL_MM 0.5

bool sim_busy(const struct bl_epson_sim *s)
{
	return s->mo.active;
}

unsigned sim_flags(const struct bl_epson_sim *s)
{
	unsigned f = BL_EPSON_FLAG(BL_EPSON_F_AUTO);
	bool running = s->program || s->mo.active;
	if (s->safeguard)
		f |= BL_EPSON_FLAG(BL_EPSON_F_SAFEGUARD);
	if (s->estop)
		f |= BL_EPSON_FLAG(BL_EPSON_F_ESTOP);
	if (s->err_code)
		f |= BL_EPSON_FLAG(BL_EPSON_F_ERROR);
	if (s->paused)
		f |= BL_EPSON_FLAG(BL_EPSON_F_PAUSED);
	if (running && !s->paused)
		f |= BL_EPSON_FLAG(BL_EPSON_F_RUNNING);
	if (!running && !s->estop && !s->estop_latched && !s->err_code)
		f |= BL_EPSON_FLAG(BL_EPSON_F_READY);
	return f;
}

static bool input(const struct bl_epson_sim *s, int bit)
{
	if (bit == s->cfg.grip_sensor_bit)
		return s->held != 0;
	if (bit == s->cfg.stage_sensor_bit)
		return s->stage != 0;
	if (bit == s->cfg.safeguard_bit)
		return !s->safeguard; /* active low */
	if (bit == s->cfg.estop_bit)
		return !s->estop;
	return false;
}

static struct bl_point pose_at(const struct sim_motion *m, double t)
{
	for (int i = 0; i < m->nsegs; i++) {
		if (t <= m->dur_s[i] || i == m->nsegs - 1) {
			double f = m->dur_s[i] > 0 ? fmin(1.0, t / m->dur_s[i]) : 1.0;
			const struct bl_point *a = &m->from[i], *b = &m->to[i];
			return (struct bl_point){a->x + (b->x - a->x) * f, a->y + (b->y - a->y) * f,
						 a->z + (b->z - a->z) * f,
						 a->u + (b->u - a->u) * f};
		}
		t -= m->dur_s[i];
	}
	return m->nsegs ? m->to[m->nsegs - 1] : (struct bl_point){0};
}

/* Ends the running motion: OK, or with robot error CODE (0 = stopped without a controller error).
 */
void sim_end_motion(struct bl_epson_sim *s, bool ok, int code)
{
	if (!s->mo.active)
		return;
	s->pose = pose_at(&s->mo, ok ? s->mo.total_s : s->mo.elapsed_s);
	s->mo.active = false;
	s->paused = false;
	s->last_rx_ms = sim_now_ms(); /* a session is not idle while its command runs */
	if (code) {
		s->err_code = code;
		s->motors = false;
	}
	if (ok)
		sim_reply(s, s->mo.reply_cmd, true, 0, "0");
	else
		sim_reply(s, s->mo.reply_cmd, false, BL_EPSON_E_SYSTEM, NULL);
}

void sim_advance(struct bl_epson_sim *s, double now_ms)
{
	double dt = (now_ms - s->last_ms) / 1e3 * s->cfg.time_scale;
	s->last_ms = now_ms;
	if (!s->mo.active || s->paused)
		return;
	s->mo.elapsed_s += dt;
	if (s->mo.fault_at_s >= 0 && s->mo.elapsed_s >= s->mo.fault_at_s) {
		s->mo.elapsed_s = s->mo.fault_at_s;
		sim_end_motion(s, false, s->mo.fault_code);
	} else if (s->mo.elapsed_s >= s->mo.total_s) {
		sim_end_motion(s, true, 0);
	}
}

double sim_next_event_ms(const struct bl_epson_sim *s)
{
	if (!s->mo.active || s->paused)
		return -1;
	double t = s->mo.fault_at_s >= 0 ? s->mo.fault_at_s : s->mo.total_s;
	double left = (t - s->mo.elapsed_s) / s->cfg.time_scale * 1e3;
	return left > 0 ? left : 0;
}

static bool reachable(const struct bl_epson_sim *s, const struct bl_point *p)
{
	double r = hypot(p->x, p->y);
	const struct bl_hwdb_robot_model *m = &s->cfg.model;
	return r <= m->reach_mm + 1e-6 && r >= m->inner_reach_mm - 1e-6 &&
	       p->z >= m->z_mm.min - 1e-6 && p->z <= m->z_mm.max + 1e-6;
}

static double dist(const struct bl_point *a, const struct bl_point *b)
{
	return sqrt((a->x - b->x) * (a->x - b->x) + (a->y - b->y) * (a->y - b->y) +
		    (a->z - b->z) * (a->z - b->z));
}

/* Starts a motion through POINTS; the reply goes out when it ends. */
static void start_motion(struct bl_epson_sim *s, const char *cmd, const struct bl_point *pts, int n,
			 double speed_mm_s)
{
	struct sim_motion *m = &s->mo;
	memset(m, 0, sizeof(*m));
	snprintf(m->reply_cmd, sizeof(m->reply_cmd), "%s", cmd);
	struct bl_point from = s->pose;
	for (int i = 0; i < n; i++) {
		m->from[i] = from;
		m->to[i] = pts[i];
		m->dur_s[i] = dist(&from, &pts[i]) / speed_mm_s + fabs(pts[i].u - from.u) / 360.0;
		m->total_s += m->dur_s[i];
		from = pts[i];
	}
	m->nsegs = n;
	m->active = true;
	m->fault_at_s = -1;
	if (s->collide_code) {
		m->fault_at_s = m->total_s / 2;
		m->fault_code = s->collide_code;
		s->collide_code = 0;
	}
}

static bool at_station(const struct bl_point *a, const struct bl_point *b)
{
	return fabs(a->x - b->x) < STATION_TOL_MM && fabs(a->y - b->y) < STATION_TOL_MM &&
	       fabs(a->z - b->z) < STATION_TOL_MM;
}

bool sim_at_reader(const struct bl_epson_sim *s)
{
	return !s->mo.active && at_station(&s->pose, &s->cfg.teach.barcode_station);
}

/* The sample position the gripper is at: a slot cell, the stage, or NULL. */
static int *station_cell(struct bl_epson_sim *s)
{
	const struct bl_hwdb_robot *t = &s->cfg.teach;
	for (size_t p = 0; p < t->npucks; p++)
		for (size_t k = 0; k < t->pucks[p].nslots; k++)
			if (at_station(&s->pose, &t->pucks[p].slots[k]))
				return &s->slots[p][k];
	if (t->npucks && at_station(&s->pose, &t->stage))
		return &s->stage;
	return NULL;
}

static void set_output(struct bl_epson_sim *s, int bit, bool on)
{
	bool was = s->outputs[bit];
	s->outputs[bit] = on;
	if (bit != s->cfg.grip_out_bit || was == on)
		return;
	int *cell = station_cell(s);
	if (on && cell && *cell && !s->held) {
		s->held = *cell;
		*cell = 0;
	} else if (!on && s->held) {
		if (cell && !*cell) {
			*cell = s->held;
		} else {
			s->dropped++; /* fell beside the station, or onto another sample */
			if (cell)
				s->err_code = BL_EPSON_RERR_PLACE;
		}
		s->held = 0;
	}
}

static bool parse_int(const char *a, int lo, int hi, int *v)
{
	char *end;
	long x = strtol(a, &end, 10);
	if (end == a || *end || x < lo || x > hi)
		return false;
	*v = (int)x;
	return true;
}

static void execute(struct bl_epson_sim *s, const char *cmd, const struct bl_spel_stmt *st)
{
	double ptp = s->cfg.model.max_speed_mm_s * s->speed_pct / 100.0;
	struct bl_point pts[SIM_MAX_SEGS];
	switch (st->kind) {
	case BL_SPEL_GO:
	case BL_SPEL_MOVE:
	case BL_SPEL_JUMP:
		if (!s->motors || !reachable(s, &st->p)) {
			s->err_code = s->motors ? BL_EPSON_RERR_RANGE : BL_EPSON_RERR_MOTOR_OFF;
			sim_reply(s, cmd, false, BL_EPSON_E_SYSTEM, NULL);
			return;
		}
		if (st->kind == BL_SPEL_JUMP) { /* up to LimZ 0, across, down */
			double limz = fmin(0.0, s->cfg.model.z_mm.max);
			pts[0] = s->pose;
			pts[0].z = limz;
			pts[1] = st->p;
			pts[1].z = limz;
			pts[2] = st->p;
			start_motion(s, cmd, pts, 3, ptp);
		} else {
			start_motion(s, cmd, &st->p, 1,
				     st->kind == BL_SPEL_MOVE ? s->speeds_mm_s : ptp);
		}
		return;
	case BL_SPEL_ON:
	case BL_SPEL_OFF:
		if (st->bit >= SIM_NBITS) {
			sim_reply(s, cmd, false, BL_EPSON_E_FORMAT, NULL);
			return;
		}
		set_output(s, st->bit, st->kind == BL_SPEL_ON);
		break;
	case BL_SPEL_SPEED: s->speed_pct = st->value[0]; break;
	case BL_SPEL_SPEEDS:
		s->speeds_mm_s = fmin(st->value[0], s->cfg.model.max_speed_mm_s);
		break;
	case BL_SPEL_ACCEL:
		s->accel[0] = st->value[0];
		s->accel[1] = st->value[1];
		break;
	case BL_SPEL_WAIT:
		s->mo = (struct sim_motion){.active = true, .nsegs = 1, .total_s = st->value[0]};
		s->mo.from[0] = s->mo.to[0] = s->pose;
		s->mo.dur_s[0] = st->value[0];
		s->mo.fault_at_s = -1;
		snprintf(s->mo.reply_cmd, sizeof(s->mo.reply_cmd), "%s", cmd);
		return;
	}
	sim_reply(s, cmd, true, 0, "0");
}

static struct sim_var *var(struct bl_epson_sim *s, const char *name)
{
	for (int i = 0; i < SIM_MAX_VARS; i++)
		if (s->vars[i].name[0] && !strcasecmp(s->vars[i].name, name))
			return &s->vars[i];
	return NULL;
}

/* Commands that need the control privilege, a ready controller and no running task. */
enum need { N_READ = 0, N_CONTROL = 1, N_READY = 2, N_IDLE = 4 };

static int gate(const struct bl_epson_sim *s, unsigned need)
{
	if ((need & N_CONTROL) && s->monitor_only)
		return BL_EPSON_E_PRIVILEGE;
	if ((need & N_IDLE) && (s->program || s->mo.active))
		return BL_EPSON_E_RUNNING;
	if ((need & N_READY) && (s->estop || s->estop_latched || s->err_code || s->safeguard))
		return BL_EPSON_E_NOT_READY;
	return 0;
}

void sim_handle_line(struct bl_epson_sim *s, const char *line, size_t len)
{
	struct bl_epson_request rq;
	int code = bl_epson_parse_request(line, len, &rq);
	const char *cmd = rq.cmd[0] ? rq.cmd : "?";
	char data[64];
	int v, bit;
#define FAIL(c)                                                                                    \
	do {                                                                                       \
		sim_reply(s, cmd, false, (c), NULL);                                               \
		return;                                                                            \
	} while (0)
#define GATE(n)                                                                                    \
	do {                                                                                       \
		int g_ = gate(s, (n));                                                             \
		if (g_)                                                                            \
			FAIL(g_);                                                                  \
	} while (0)
	if (code)
		FAIL(code);
	if (!strcasecmp(cmd, "Login")) {
		if (rq.nargs > 1)
			FAIL(BL_EPSON_E_FORMAT);
		const char *pw = rq.nargs ? rq.args[0] : "";
		if (!strcmp(pw, s->cfg.password)) {
			s->monitor_only = false;
		} else if (s->cfg.monitor_password[0] && !strcmp(pw, s->cfg.monitor_password)) {
			s->monitor_only = true;
		} else {
			s->logged_in = false;
			FAIL(BL_EPSON_E_PASSWORD);
		}
		s->logged_in = true;
		sim_reply(s, cmd, true, 0, "0");
		return;
	}
	if (!s->logged_in)
		FAIL(BL_EPSON_E_LOGIN);
	if (s->mo.active && strcasecmp(cmd, "GetStatus") && strcasecmp(cmd, "Abort") &&
	    strcasecmp(cmd, "Pause") && strcasecmp(cmd, "Continue") && strcasecmp(cmd, "Stop"))
		FAIL(BL_EPSON_E_RUNNING); /* only status and stop commands while $Execute runs */
	if (!strcasecmp(cmd, "Logout")) {
		s->logged_in = false;
		sim_reply(s, cmd, true, 0, "0");
	} else if (!strcasecmp(cmd, "GetStatus")) {
		struct bl_epson_status st = {sim_flags(s), s->err_code};
		bl_epson_format_status(data, sizeof(data), &st);
		sim_reply(s, cmd, true, 0, data);
	} else if (!strcasecmp(cmd, "SetMotorsOn") || !strcasecmp(cmd, "SetMotorsOff")) {
		if (rq.nargs != 1 || !parse_int(rq.args[0], 1, 1, &v))
			FAIL(BL_EPSON_E_FORMAT);
		bool on = !strcasecmp(cmd, "SetMotorsOn");
		GATE(N_CONTROL | N_IDLE | (on ? N_READY : 0));
		s->motors = on;
		sim_reply(s, cmd, true, 0, "0");
	} else if (!strcasecmp(cmd, "Start")) {
		if (rq.nargs != 1 || !parse_int(rq.args[0], 0, 63, &v))
			FAIL(BL_EPSON_E_FORMAT);
		GATE(N_CONTROL | N_IDLE | N_READY);
		s->program = true;
		sim_reply(s, cmd, true, 0, "0");
	} else if (!strcasecmp(cmd, "Stop") || !strcasecmp(cmd, "Abort")) {
		GATE(N_CONTROL);
		s->program = false;
		sim_reply(s, cmd, true, 0, "0");
		sim_end_motion(s, false, 0);
	} else if (!strcasecmp(cmd, "Pause")) {
		GATE(N_CONTROL);
		if (!s->program && !s->mo.active)
			FAIL(BL_EPSON_E_STATE);
		s->paused = true;
		sim_reply(s, cmd, true, 0, "0");
	} else if (!strcasecmp(cmd, "Continue")) {
		GATE(N_CONTROL);
		if (!s->paused)
			FAIL(BL_EPSON_E_STATE);
		if (s->safeguard || s->estop)
			FAIL(BL_EPSON_E_NOT_READY);
		s->paused = false;
		sim_reply(s, cmd, true, 0, "0");
	} else if (!strcasecmp(cmd, "Reset")) {
		GATE(N_CONTROL);
		if (s->estop)
			FAIL(BL_EPSON_E_NOT_READY);
		s->err_code = 0;
		s->estop_latched = false;
		sim_reply(s, cmd, true, 0, "0");
	} else if (!strcasecmp(cmd, "Execute")) {
		struct bl_spel_stmt st;
		if (rq.nargs != 1 || !rq.quoted[0] || bl_spel_parse(rq.args[0], &st))
			FAIL(BL_EPSON_E_FORMAT);
		bool motion = st.kind == BL_SPEL_GO || st.kind == BL_SPEL_MOVE ||
			      st.kind == BL_SPEL_JUMP || st.kind == BL_SPEL_WAIT;
		GATE(N_CONTROL | N_IDLE | (motion ? N_READY : 0));
		execute(s, cmd, &st);
	} else if (!strcasecmp(cmd, "Home")) {
		GATE(N_CONTROL | N_IDLE | N_READY);
		struct bl_spel_stmt st = {.kind = BL_SPEL_JUMP, .p = s->cfg.start};
		execute(s, cmd, &st);
	} else if (!strcasecmp(cmd, "GetIO")) {
		if (rq.nargs != 1 || !parse_int(rq.args[0], 0, SIM_NBITS - 1, &bit))
			FAIL(BL_EPSON_E_FORMAT);
		sim_reply(s, cmd, true, 0, input(s, bit) ? "1" : "0");
	} else if (!strcasecmp(cmd, "SetIO")) {
		if (rq.nargs != 2 || !parse_int(rq.args[0], 0, SIM_NBITS - 1, &bit) ||
		    !parse_int(rq.args[1], 0, 1, &v))
			FAIL(BL_EPSON_E_FORMAT);
		GATE(N_CONTROL);
		set_output(s, bit, v);
		sim_reply(s, cmd, true, 0, "0");
	} else if (!strcasecmp(cmd, "GetVariable")) {
		if (rq.nargs != 1)
			FAIL(BL_EPSON_E_FORMAT);
		struct sim_var *x = var(s, rq.args[0]);
		if (!x)
			FAIL(BL_EPSON_E_STATE);
		sim_reply(s, cmd, true, 0, x->value);
	} else if (!strcasecmp(cmd, "SetVariable")) {
		if (rq.nargs != 2)
			FAIL(BL_EPSON_E_FORMAT);
		GATE(N_CONTROL);
		struct sim_var *x = var(s, rq.args[0]);
		if (!x)
			FAIL(BL_EPSON_E_STATE);
		snprintf(x->value, sizeof(x->value), "%.63s", rq.args[1]);
		sim_reply(s, cmd, true, 0, "0");
	} else {
		FAIL(BL_EPSON_E_BAD_CMD);
	}
#undef GATE
#undef FAIL
}
