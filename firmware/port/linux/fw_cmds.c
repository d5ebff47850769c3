/* fw_cmds.c: beamloop-fw's commands over ZMQ (limits checked here, whoever sends them), its
 * status document and state events. */
#include <errno.h>
#include <string.h>

#include "port/linux/fw_app.h"

static const char *hold_names[] = {"door", "beam", "pause", "agent"};

cJSON *bl_fw_holds_json(unsigned bits)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; i < 4; i++)
		if (bits & (1u << i))
			cJSON_AddItemToArray(a, cJSON_CreateString(hold_names[i]));
	return a;
}

static const char *scan_name(int s)
{
	static const char *const n[] = {"none", "pending", "ok", "noread", "mismatch"};
	return s >= 0 && s <= BL_SCAN_MISMATCH ? n[s] : "?";
}

cJSON *bl_fw_status_json(struct bl_fw_app *a)
{
	const struct bl_sfsm *f = &a->sfsm;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "state", a->blocked ? "blocked" : bl_sfsm_state_name(f->state));
	cJSON_AddItemToObject(o, "hold", bl_fw_holds_json(bl_sfsm_hold(f)));
	cJSON_AddNumberToObject(o, "current", bl_sfsm_current(f));
	cJSON_AddNumberToObject(o, "queued", (double)bl_sfsm_queued(f));
	cJSON_AddNumberToObject(o, "now", (double)bl_fw_now());
	if (a->blocked) {
		cJSON_AddStringToObject(o, "blocked", a->rec.summary);
		cJSON *u = cJSON_AddArrayToObject(o, "unknown");
		for (int i = 0; i < a->rec.count; i++)
			if (a->rec.s[i].loc == BL_LOC_UNKNOWN)
				cJSON_AddItemToArray(u, cJSON_CreateString(a->rec.s[i].reason));
	}
	cJSON *ps = cJSON_AddArrayToObject(o, "positions");
	for (int i = 0; i < a->scfg.count; i++) {
		const struct bl_sfsm_pos_status *p = bl_sfsm_pos(f, i);
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "puck", a->scfg.pos[i].puck);
		cJSON_AddNumberToObject(x, "slot", a->scfg.pos[i].slot);
		cJSON_AddStringToObject(x, "barcode", a->scfg.pos[i].barcode);
		cJSON_AddStringToObject(x, "state", bl_sfsm_pos_state_name(p->state));
		cJSON_AddStringToObject(x, "loc", bl_loc_name(p->loc));
		cJSON_AddStringToObject(x, "scan", scan_name(p->scan));
		cJSON_AddNumberToObject(x, "measured", p->measured);
		cJSON_AddNumberToObject(x, "series", p->series);
		cJSON_AddStringToObject(x, "read", p->read);
		cJSON_AddItemToArray(ps, x);
	}
	const struct bl_sfsm_counters *k = bl_sfsm_counters(f);
	cJSON *c = cJSON_AddObjectToObject(o, "counters");
	cJSON_AddNumberToObject(c, "measured", k->measured);
	cJSON_AddNumberToObject(c, "quarantined", k->quarantined);
	cJSON_AddNumberToObject(c, "mismatched", k->mismatched);
	cJSON_AddNumberToObject(c, "faulted", k->faulted);
	cJSON_AddNumberToObject(c, "robot_moves", k->robot_moves);
	cJSON_AddNumberToObject(c, "suspensions", k->suspensions);
	cJSON_AddNumberToObject(c, "recovered", k->recovered);
	cJSON_AddNumberToObject(c, "loop_overruns", (double)a->loop_overruns);
	cJSON_AddItemToObject(o, "print", bl_fw_print_status_json(a));
	const struct bl_trigseq_counters *tc = bl_trigseq_counters(&a->ts);
	cJSON *t = cJSON_AddObjectToObject(o, "edges");
	cJSON_AddNumberToObject(t, "series", tc->series);
	cJSON_AddNumberToObject(t, "frames", (double)tc->edges);
	cJSON_AddNumberToObject(t, "on_time", (double)tc->on_time);
	cJSON_AddNumberToObject(t, "off_time", (double)tc->off_time);
	cJSON_AddNumberToObject(t, "missing", (double)tc->missing);
	cJSON_AddNumberToObject(t, "extra", (double)tc->extra);
	cJSON_AddNumberToObject(t, "cut", (double)tc->cut);
	if (f->state == BL_SFSM_FAULT) {
		const struct bl_sfsm_fault *x = bl_sfsm_fault(f);
		cJSON *fj = cJSON_AddObjectToObject(o, "fault");
		cJSON_AddNumberToObject(fj, "reason", x->reason);
		cJSON_AddStringToObject(fj, "error", strerror(-x->err));
		cJSON_AddNumberToObject(fj, "sample", x->sample);
		cJSON_AddStringToObject(fj, "last_known", bl_loc_name(x->last_known));
		cJSON_AddStringToObject(fj, "moving_to", bl_loc_name(x->moving_to));
	}
	return o;
}

void bl_fw_publish_state(struct bl_fw_app *a)
{
	int s = a->sfsm.state;
	unsigned h = bl_sfsm_hold(&a->sfsm);
	if (s == a->last_state && h == a->last_hold)
		return;
	a->last_state = s;
	a->last_hold = h;
	bl_fw_log(a, "state %s (sample %d)", bl_sfsm_state_name(s), bl_sfsm_current(&a->sfsm));
	if (!a->net)
		return;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "cycle", "sample");
	cJSON_AddStringToObject(o, "state", bl_sfsm_state_name(s));
	cJSON_AddNumberToObject(o, "sample", bl_sfsm_current(&a->sfsm));
	cJSON_AddItemToObject(o, "hold", bl_fw_holds_json(h));
	bl_fw_net_publish(a->net, "state", o);
}

int bl_fw_step(struct bl_fw_app *a, const struct bl_sfsm_event *ev)
{
	int rc = bl_sfsm_step(&a->sfsm, bl_fw_now(), ev);
	bl_fw_publish_state(a);
	return rc;
}

static int loc_of(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "slot"))
		return BL_LOC_SLOT;
	if (!strcmp(s, "gripper"))
		return BL_LOC_GRIPPER;
	if (!strcmp(s, "stage"))
		return BL_LOC_STAGE;
	return -1;
}

/* An integer argument within [lo, hi]; false (and the reply sent) when missing or out of range. */
static bool int_arg(const struct bl_fw_request *rq, const char *key, int lo, int hi, int *v)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(rq->args, key);
	char msg[160];
	if (!cJSON_IsNumber(x) || x->valuedouble != (double)(int)x->valuedouble) {
		snprintf(msg, sizeof(msg), "'%s' must be an integer", key);
		bl_fw_net_reply_err(rq->net, &rq->to, EINVAL, msg);
		return false;
	}
	if (x->valueint < lo || x->valueint > hi) {
		snprintf(msg, sizeof(msg), "'%s' = %d is outside the limits [%d, %d]", key,
			 x->valueint, lo, hi);
		bl_fw_net_reply_err(rq->net, &rq->to, ERANGE, msg);
		return false;
	}
	*v = x->valueint;
	return true;
}

static const char *fsm_error(int cmd, int rc)
{
	switch (rc) {
	case -BL_EALREADY:
		return "that position is already queued or was handled (measured, "
		       "quarantined, mismatched or faulted): never measured twice";
	case -BL_EBUSY: return "an interlock (door, beam, e-stop, agent silence) is still active";
	case -BL_EAGAIN: return "the hold is not reached yet (the robot is parking)";
	case -BL_ENOSPC: return "the queue is full";
	case -BL_EINVAL:
		return cmd == BL_CMD_RESET
			   ? "no fault to reset, or a cut move needs loc "
			     "(slot|gripper|stage): where the operator found the sample"
			   : "not allowed in this state";
	default: return NULL;
	}
}

static void fsm_cmd(struct bl_fw_app *a, const struct bl_fw_request *rq, int cmd, int sample,
		    int loc)
{
	if (a->blocked && cmd != BL_CMD_PAUSE) {
		bl_fw_net_reply_err(rq->net, &rq->to, EPERM, a->rec.summary);
		return;
	}
	if ((cmd == BL_CMD_QUEUE || cmd == BL_CMD_SCAN) && bl_fw_print_busy(a)) {
		bl_fw_net_reply_err(rq->net, &rq->to, EBUSY,
				    "a print is running (detector and trigger box are shared): "
				    "wait until it is idle");
		return;
	}
	struct bl_sfsm_event ev = {
	    .kind = BL_SFSM_EV_CMD, .cmd = cmd, .sample = sample, .loc = loc};
	int rc = bl_fw_step(a, &ev);
	if (rc < 0) {
		bl_fw_net_reply_err(rq->net, &rq->to, rc, fsm_error(cmd, rc));
		return;
	}
	if (cmd == BL_CMD_QUEUE) {
		struct bl_fw_job j = {.op = BL_FW_J_POS, .a = sample, .b = BL_POS_QUEUED};
		bl_fw_worker_push(&a->robot_w, &j);
	}
	bl_fw_net_reply_ok(rq->net, &rq->to, bl_fw_status_json(a));
}

/* The loop's timing: wake-up latency quantiles since the last reset; {"reset": true} starts a
 * new window after answering (benchmarks measure a clean interval). */
static cJSON *loop_json(struct bl_fw_app *a)
{
	const struct bl_fw_latency *l = &a->lat;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "period_us", a->opt.period_us);
	cJSON_AddBoolToObject(o, "fifo", a->rt.fifo);
	cJSON_AddBoolToObject(o, "mlocked", a->rt.locked);
	cJSON_AddNumberToObject(o, "samples", (double)l->n);
	cJSON_AddNumberToObject(o, "seconds", (double)(bl_fw_mono_ns() - l->since_ns) / 1e9);
	cJSON_AddNumberToObject(o, "mean_us", l->n ? (double)l->sum_ns / (double)l->n / 1e3 : 0);
	cJSON_AddNumberToObject(o, "p50_us", bl_fw_latency_quantile(l, 0.50));
	cJSON_AddNumberToObject(o, "p99_us", bl_fw_latency_quantile(l, 0.99));
	cJSON_AddNumberToObject(o, "p999_us", bl_fw_latency_quantile(l, 0.999));
	cJSON_AddNumberToObject(o, "max_us", (double)l->max_ns / 1e3);
	cJSON_AddNumberToObject(o, "overruns", (double)l->overruns); /* in this window */
	cJSON_AddNumberToObject(o, "loops", (double)a->loops);	     /* since start */
	return o;
}

static const char *pfsm_error(int rc)
{
	switch (rc) {
	case -BL_EBUSY: return "an interlock (door, beam, e-stop, agent silence) is still active";
	case -BL_EAGAIN: return "the hold is not reached yet (the printer is stopping)";
	case -BL_EINVAL: return "not allowed in the print cycle's state";
	default: return NULL;
	}
}

/* pause / resume / abort / reset go to the cycle named by "cycle" ("sample" | "print"), else
 * to the print cycle while it is not idle, else to the sample cycle. */
static bool print_cycle(struct bl_fw_app *a, const struct bl_fw_request *rq, bool *bad)
{
	const char *c = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rq->args, "cycle"));
	*bad = c && strcmp(c, "print") && strcmp(c, "sample");
	if (*bad)
		bl_fw_net_reply_err(rq->net, &rq->to, EINVAL, "'cycle' must be sample or print");
	return c ? !strcmp(c, "print") : bl_fw_print_busy(a);
}

static void pfsm_cmd(struct bl_fw_app *a, const struct bl_fw_request *rq, int cmd)
{
	if (a->blocked) {
		bl_fw_net_reply_err(rq->net, &rq->to, EPERM, a->rec.summary);
		return;
	}
	struct bl_pfsm_event ev = {.kind = BL_PFSM_EV_CMD, .cmd = cmd};
	int rc = bl_fw_pstep(a, &ev);
	if (rc < 0)
		bl_fw_net_reply_err(rq->net, &rq->to, rc, pfsm_error(rc));
	else
		bl_fw_net_reply_ok(rq->net, &rq->to, bl_fw_status_json(a));
}

void bl_fw_cmd_handle(void *ctx, const struct bl_fw_request *rq)
{
	struct bl_fw_app *a = ctx;
	a->heard_at = bl_fw_now();
	struct bl_sfsm_event heard = {.kind = BL_SFSM_EV_AGENT};
	if (!a->blocked)
		bl_fw_step(a, &heard); /* every authenticated request is a sign of life */
	int v, puck_max = 0, loc;
	bool bad = false;
	for (int i = 0; i < a->scfg.count; i++)
		puck_max = a->scfg.pos[i].puck > puck_max ? a->scfg.pos[i].puck : puck_max;
	const char *c = rq->cmd;
	if (!strcmp(c, "ping")) {
		/* the lightest command the loop serves: round-trip benchmarks, liveness */
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "now", (double)bl_fw_now());
		bl_fw_net_reply_ok(rq->net, &rq->to, o);
	} else if (!strcmp(c, "status")) {
		bl_fw_net_reply_ok(rq->net, &rq->to, bl_fw_status_json(a));
	} else if (!strcmp(c, "loop")) {
		bl_fw_net_reply_ok(rq->net, &rq->to, loop_json(a));
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rq->args, "reset")))
			bl_fw_latency_reset(&a->lat);
	} else if (!strcmp(c, "queue")) {
		if (int_arg(rq, "sample", 0, a->scfg.count - 1, &v))
			fsm_cmd(a, rq, BL_CMD_QUEUE, v, 0);
	} else if (!strcmp(c, "scan")) {
		if (int_arg(rq, "puck", 1, puck_max, &v))
			fsm_cmd(a, rq, BL_CMD_SCAN, v, 0);
	} else if (!strcmp(c, "print")) {
		if (a->blocked)
			bl_fw_net_reply_err(rq->net, &rq->to, EPERM, a->rec.summary);
		else
			bl_fw_print_cmd(a, rq);
	} else if ((!strcmp(c, "pause") || !strcmp(c, "resume") || !strcmp(c, "abort") ||
		    !strcmp(c, "reset")) &&
		   print_cycle(a, rq, &bad)) {
		pfsm_cmd(a, rq,
			 !strcmp(c, "pause")	? BL_PCMD_PAUSE
			 : !strcmp(c, "resume") ? BL_PCMD_RESUME
			 : !strcmp(c, "abort")	? BL_PCMD_ABORT
						: BL_PCMD_RESET);
	} else if (bad) {
		/* answered */
	} else if (!strcmp(c, "pause")) {
		fsm_cmd(a, rq, BL_CMD_PAUSE, 0, 0);
	} else if (!strcmp(c, "resume")) {
		fsm_cmd(a, rq, BL_CMD_RESUME, 0, 0);
	} else if (!strcmp(c, "abort")) {
		fsm_cmd(a, rq, BL_CMD_ABORT, 0, 0);
	} else if (!strcmp(c, "reset")) {
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(rq->args, "loc");
		loc = l ? loc_of(cJSON_GetStringValue(l)) : BL_LOC_NONE;
		if (loc < 0)
			bl_fw_net_reply_err(rq->net, &rq->to, EINVAL,
					    "'loc' must be slot, gripper or stage");
		else
			fsm_cmd(a, rq, BL_CMD_RESET, 0, loc);
	} else {
		bl_fw_net_reply_err(rq->net, &rq->to, ENOSYS, "unknown command");
	}
}
