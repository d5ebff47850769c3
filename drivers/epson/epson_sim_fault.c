/* epson_sim_fault.c: the simulator's control verbs: inject faults (collision, motors off, dropped
 * link, slow or garbled replies, e-stop, safeguard, refused connections), edit the sample map and
 * report the physical state for tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "epson_sim_int.h"

static int *slot_cell(struct bl_epson_sim *s, int puck, int slot)
{
	const struct bl_hwdb_robot *t = &s->cfg.teach;
	for (size_t p = 0; p < t->npucks; p++)
		if (t->pucks[p].id == puck && slot >= 1 && (size_t)slot <= t->pucks[p].nslots)
			return &s->slots[p][slot - 1];
	return NULL;
}

static void state_line(struct bl_epson_sim *s, char *reply, size_t cap)
{
	struct bl_point p = s->pose;
	char fl[BL_EPSON_NFLAGS + 1], buf[32];
	unsigned f = sim_flags(s);
	for (int i = 0; i < BL_EPSON_NFLAGS; i++)
		fl[i] = (f >> i) & 1 ? '1' : '0';
	fl[BL_EPSON_NFLAGS] = 0;
	snprintf(buf, sizeof(buf), "%d", s->err_code);
	snprintf(reply, cap,
		 "ok pos=%.3f,%.3f,%.3f,%.3f motors=%d held=%d stage=%d dropped=%d err=%s "
		 "flags=%s logged_in=%d client=%d accepted=%u sessions_dropped=%u commands=%u "
		 "moving=%d program=%d grip=%d",
		 p.x, p.y, p.z, p.u, s->motors, s->held, s->stage, s->dropped, buf, fl,
		 s->logged_in, s->client >= 0, s->accepted, s->sessions_dropped, s->commands,
		 s->mo.active, s->program, s->outputs[s->cfg.grip_out_bit]);
}

void sim_control(struct bl_epson_sim *s, const char *line, char *reply, size_t cap)
{
	char verb[32] = "";
	int a = 0, b = 0;
	int n = sscanf(line, "%31s %d %d", verb, &a, &b);
	snprintf(reply, cap, "ok");
	if (n < 1) {
		snprintf(reply, cap, "err empty");
	} else if (!strcmp(verb, "state")) {
		state_line(s, reply, cap);
	} else if (!strcmp(verb, "holding")) {
		/* For the reader's simulator: the sample held (puck*100+slot, 0: none) and whether
		 * the gripper is at the barcode station. */
		snprintf(reply, cap, "ok %d %d", s->held, sim_at_reader(s) ? 1 : 0);
	} else if (!strcmp(verb, "collide") && n >= 2 && a > 0 && a <= 9999) {
		s->collide_code = a; /* the next motion stops half-way with this error */
	} else if (!strcmp(verb, "motors_off")) {
		s->motors = false;
		if (s->mo.active)
			sim_end_motion(s, false, BL_EPSON_RERR_MOTOR_OFF);
	} else if (!strcmp(verb, "drop")) {
		sim_drop_client(s);
	} else if (!strcmp(verb, "slow") && n >= 2 && a >= 0) {
		s->slow_ms = a;
	} else if (!strcmp(verb, "garble") && n >= 2 && a >= 0) {
		s->garble = a;
	} else if (!strcmp(verb, "refuse") && n >= 2 && a >= 0) {
		s->refuse = a;
	} else if (!strcmp(verb, "estop") && n >= 2) {
		s->estop = a != 0;
		if (s->estop) {
			s->estop_latched = true;
			s->motors = false;
			s->program = false;
			sim_end_motion(s, false, 0);
		}
	} else if (!strcmp(verb, "safeguard") && n >= 2) {
		s->safeguard = a != 0;
		if (s->safeguard && (s->mo.active || s->program))
			s->paused = true; /* motion holds until $Continue with the door shut */
	} else if ((!strcmp(verb, "empty") || !strcmp(verb, "slot")) && n >= 3) {
		int *c = slot_cell(s, a, b);
		if (!c)
			snprintf(reply, cap, "err no puck %d slot %d", a, b);
		else if (!strcmp(verb, "empty"))
			*c = 0;
		else
			snprintf(reply, cap, "ok %d", *c);
	} else if (!strcmp(verb, "idle_timeout") && n >= 2 && a >= 0) {
		s->cfg.idle_timeout_ms = a;
	} else if (!strcmp(verb, "request_timeout") && n >= 2 && a > 0) {
		s->cfg.request_timeout_ms = a;
	} else {
		snprintf(reply, cap, "err unknown or malformed: %.60s", line);
	}
}
