/* fw_print_cmd.c: the "print" request (a recipe as JSON, checked against hwdb's printer limits
 * whoever sends it) and the print part of the status document. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "port/linux/fw_app.h"

bool bl_fw_sample_busy(const struct bl_fw_app *a)
{
	return a->sfsm.state != BL_SFSM_IDLE || bl_sfsm_queued(&a->sfsm) > 0;
}

bool bl_fw_print_busy(const struct bl_fw_app *a)
{
	return bl_pfsm_state(&a->pfsm) != BL_PFSM_IDLE;
}

/* A number field; missing -> `def` when def_ok, else an error text. */
static const char *num(const cJSON *o, const char *k, double *v, bool def_ok, double def)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!x) {
		if (!def_ok)
			return "missing";
		*v = def;
		return NULL;
	}
	if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
		return "must be a number";
	*v = x->valuedouble;
	return NULL;
}

static uint64_t ticks(double s)
{
	return s <= 0 ? 0 : s > 1e7 ? (uint64_t)1e13 : (uint64_t)llround(s * 1e6);
}

/*
 * Recipe JSON (units in the names; defaults in brackets):
 *   {"label": "..." [""], "mode": "stage"|"web", "flow_ul_min", "speed_mm_s", "gap_um",
 *    "length_mm", "setpoint_c": [one per heater], "prime_rate_ul_min" [flow_ul_min],
 *    "prime_volume_ul", "delays_s": [drying time of each frame], "count_time_s",
 *    "cool": bool [false]}
 * Returns NULL or what is wrong, naming the field (into msg).
 */
static const char *parse_recipe(const cJSON *o, struct bl_pfsm_recipe *r, char *msg, size_t cap)
{
	memset(r, 0, sizeof(*r));
	const char *why, *k;
	double v;
#define NUM(key, dst, def_ok, def)                                                                 \
	do {                                                                                       \
		k = key;                                                                           \
		if ((why = num(o, k, &v, def_ok, def)))                                            \
			goto bad;                                                                  \
		dst = v;                                                                           \
	} while (0)
	if (!cJSON_IsObject(o)) {
		snprintf(msg, cap, "print needs a recipe object");
		return msg;
	}
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, "label");
	k = "label";
	if (x && (!cJSON_IsString(x) || strlen(x->valuestring) >= BL_PFSM_LABEL_MAX)) {
		why = "must be a string of at most 31 characters";
		goto bad;
	}
	snprintf(r->label, sizeof(r->label), "%s", x ? x->valuestring : "");
	const char *mode = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "mode"));
	k = "mode";
	if (!mode || (strcmp(mode, "stage") && strcmp(mode, "web"))) {
		why = "must be \"stage\" or \"web\"";
		goto bad;
	}
	r->mode = !strcmp(mode, "stage") ? BL_PMODE_STAGE : BL_PMODE_WEB;
	NUM("flow_ul_min", r->flow_ul_min, false, 0);
	NUM("speed_mm_s", r->speed_mm_s, false, 0);
	NUM("gap_um", r->gap_um, false, 0);
	NUM("length_mm", r->length_mm, false, 0);
	NUM("prime_rate_ul_min", r->prime_rate_ul_min, true, r->flow_ul_min);
	NUM("prime_volume_ul", r->prime_volume_ul, false, 0);
	double ct;
	NUM("count_time_s", ct, false, 0);
	r->count_time = ticks(ct);
	k = "setpoint_c";
	x = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsArray(x) || cJSON_GetArraySize(x) > BL_PFSM_MAX_HEATERS) {
		why = "must be an array, one setpoint per heater";
		goto bad;
	}
	const cJSON *e;
	cJSON_ArrayForEach(e, x)
	{
		if (!cJSON_IsNumber(e)) {
			why = "must hold numbers";
			goto bad;
		}
		r->setpoint_c[r->nheaters++] = e->valuedouble;
	}
	k = "delays_s";
	x = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsArray(x) || cJSON_GetArraySize(x) < 1 ||
	    cJSON_GetArraySize(x) > BL_PFSM_MAX_FRAMES) {
		why = "must be an array of 1..64 drying times (s), one per frame";
		goto bad;
	}
	cJSON_ArrayForEach(e, x)
	{
		if (!cJSON_IsNumber(e) || e->valuedouble < 0) {
			why = "must hold numbers >= 0";
			goto bad;
		}
		r->delay[r->nframes++] = ticks(e->valuedouble);
	}
	x = cJSON_GetObjectItemCaseSensitive(o, "cool");
	k = "cool";
	if (x && !cJSON_IsBool(x)) {
		why = "must be true or false";
		goto bad;
	}
	r->cool = cJSON_IsTrue(x);
	return NULL;
bad:
	snprintf(msg, cap, "recipe field '%s' %s", k, why);
	return msg;
#undef NUM
}

/* The limits of a refused field, for the error reply. */
static void refusal_text(const struct bl_fw_app *a, const struct bl_pfsm_recipe *r, int field,
			 int index, char *msg, size_t cap)
{
	const struct bl_pfsm_config *c = &a->pcfg;
	const struct bl_pfsm_range *rg = NULL;
	double v = 0;
	switch (field) {
	case BL_PF_FLOW: rg = &c->limits.flow_ul_min, v = r->flow_ul_min; break;
	case BL_PF_PRIME_RATE: rg = &c->limits.flow_ul_min, v = r->prime_rate_ul_min; break;
	case BL_PF_SPEED:
		rg = r->mode == BL_PMODE_STAGE ? &c->limits.coat_speed_mm_s
					       : &c->limits.web_speed_mm_s;
		v = r->speed_mm_s;
		break;
	case BL_PF_GAP: rg = &c->limits.gap_um, v = r->gap_um; break;
	case BL_PF_SETPOINT:
		rg = &c->limits.temperature_c;
		v = index >= 0 ? r->setpoint_c[index] : 0;
		break;
	default: break;
	}
	int n = snprintf(msg, cap, "recipe refused: %s", bl_pfsm_field_name(field));
	if (index >= 0 && n > 0 && (size_t)n < cap)
		n += snprintf(msg + n, cap - (size_t)n, "[%d]", index);
	if (n < 0 || (size_t)n >= cap)
		return;
	if (rg)
		snprintf(msg + n, cap - (size_t)n, " = %g is outside the limits [%g, %g]", v,
			 rg->min, rg->max);
	else if (field == BL_PF_LENGTH)
		snprintf(msg + n, cap - (size_t)n,
			 " = %g mm: stage travel [%g, %g], web at most %g, and the film must reach "
			 "the beam %g mm from the die",
			 r->length_mm, c->limits.coater_travel_mm.min,
			 c->limits.coater_travel_mm.max, c->max_web_length_mm, c->beam_offset_mm);
	else if (field == BL_PF_NHEATERS)
		snprintf(msg + n, cap - (size_t)n, ": %u setpoints given, %u heaters fitted",
			 r->nheaters, c->nheaters);
	else if (field == BL_PF_PRIME_VOLUME)
		snprintf(msg + n, cap - (size_t)n, " = %g ul: 0 < volume <= %g", r->prime_volume_ul,
			 c->max_prime_ul);
	else if (field == BL_PF_DELAY)
		snprintf(msg + n, cap - (size_t)n,
			 ": delays must increase by at least count_time, and in web mode be at "
			 "least the transit time beam_offset / speed = %g s",
			 r->mode == BL_PMODE_WEB && r->speed_mm_s > 0
			     ? c->beam_offset_mm / r->speed_mm_s
			     : 0.0);
}

void bl_fw_print_cmd(struct bl_fw_app *a, const struct bl_fw_request *rq)
{
	char msg[320];
	struct bl_pfsm_recipe r;
	if (!a->pr.present) {
		bl_fw_net_reply_err(rq->net, &rq->to, ENODEV, "hwdb names no printer");
		return;
	}
	if (parse_recipe(rq->args, &r, msg, sizeof(msg))) {
		bl_fw_net_reply_err(rq->net, &rq->to, EINVAL, msg);
		return;
	}
	int field = 0, index = -1;
	int rc = bl_pfsm_check_recipe(&a->pfsm, &r, &field, &index);
	if (rc) {
		refusal_text(a, &r, field, index, msg, sizeof(msg));
		bl_fw_net_reply_err(rq->net, &rq->to, rc, msg);
		bl_fw_log(a, "%s", msg);
		return;
	}
	if (bl_fw_sample_busy(a)) {
		bl_fw_net_reply_err(rq->net, &rq->to, EBUSY,
				    "the sample cycle is running (detector and trigger box are "
				    "shared): wait until it is idle");
		return;
	}
	struct bl_pfsm_event ev = {.kind = BL_PFSM_EV_CMD, .cmd = BL_PCMD_START, .recipe = &r};
	rc = bl_fw_pstep(a, &ev);
	if (rc < 0) {
		bl_fw_net_reply_err(rq->net, &rq->to, rc,
				    rc == -BL_EBUSY ? "an interlock is active"
				    : rc == -BL_EINVAL
					? "a print is already running (abort it first) or the "
					  "printer is in its safe state (reset)"
					: NULL);
		return;
	}
	cJSON *o = cJSON_CreateObject();
	/* the run id is given when the print is programmed (after heating, homing, priming):
	 * it comes with the print_start note and the edges */
	cJSON_AddNumberToObject(o, "started", bl_pfsm_counters(&a->pfsm)->started);
	cJSON_AddItemToObject(o, "print", bl_fw_print_status_json(a));
	bl_fw_net_reply_ok(rq->net, &rq->to, o);
}

cJSON *bl_fw_print_status_json(struct bl_fw_app *a)
{
	const struct bl_pfsm *f = &a->pfsm;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "present", a->pr.present);
	cJSON_AddStringToObject(o, "state", bl_pfsm_state_name(bl_pfsm_state(f)));
	cJSON_AddItemToObject(o, "hold", bl_fw_holds_json(bl_pfsm_hold(f)));
	cJSON *hs = cJSON_AddArrayToObject(o, "heaters");
	for (int i = 0; i < a->pcfg.nheaters; i++) {
		const struct bl_pfsm_heater *x = bl_pfsm_heater(f, i);
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "setpoint_c", x->setpoint_c);
		cJSON_AddNumberToObject(e, "value_c", x->value_c);
		cJSON_AddNumberToObject(e, "read_at", (double)x->read_at);
		cJSON_AddItemToArray(hs, e);
	}
	const struct bl_pfsm_run *r = bl_pfsm_run(f);
	if (r->valid) {
		cJSON *x = cJSON_AddObjectToObject(o, "run");
		cJSON_AddNumberToObject(x, "id", r->id);
		cJSON_AddNumberToObject(x, "series", r->series);
		cJSON_AddStringToObject(x, "label", f->recipe.label);
		cJSON_AddStringToObject(x, "mode", r->mode == BL_PMODE_WEB ? "web" : "stage");
		cJSON_AddNumberToObject(x, "film_mm", r->film_mm);
		cJSON_AddNumberToObject(x, "t_start", (double)r->t_start);
		cJSON_AddNumberToObject(x, "t_coat", (double)r->t_coat);
		cJSON_AddNumberToObject(x, "t_stop", (double)r->t_stop);
		cJSON_AddNumberToObject(x, "pump_on", (double)r->pump_on);
		cJSON_AddNumberToObject(x, "motion_on", (double)r->motion_on);
		cJSON_AddNumberToObject(x, "nframes", r->nframes);
		cJSON_AddNumberToObject(x, "triggers", r->triggers);
		cJSON_AddNumberToObject(x, "queued", r->queued);
		cJSON_AddNumberToObject(x, "executed", r->executed);
	}
	const struct bl_pfsm_counters *k = bl_pfsm_counters(f);
	cJSON *c = cJSON_AddObjectToObject(o, "counters");
	cJSON_AddNumberToObject(c, "started", k->started);
	cJSON_AddNumberToObject(c, "refused", k->refused);
	cJSON_AddNumberToObject(c, "printed", k->printed);
	cJSON_AddNumberToObject(c, "spoiled", k->spoiled);
	cJSON_AddNumberToObject(c, "aborted", k->aborted);
	cJSON_AddNumberToObject(c, "faulted", k->faulted);
	cJSON_AddNumberToObject(c, "primes", k->primes);
	cJSON_AddNumberToObject(c, "suspensions", k->suspensions);
	cJSON_AddNumberToObject(c, "timed_executed", k->timed_executed);
	const struct bl_sched_counters *sc = bl_sched_counters(&a->sched);
	cJSON *s = cJSON_AddObjectToObject(o, "sched");
	cJSON_AddNumberToObject(s, "queued", (double)bl_sched_count(&a->sched));
	cJSON_AddNumberToObject(s, "executed", (double)sc->executed);
	cJSON_AddNumberToObject(s, "overdue", (double)sc->overdue);
	cJSON_AddNumberToObject(s, "rejected_late", (double)sc->rejected_late);
	if (bl_pfsm_state(f) == BL_PFSM_FAULT) {
		const struct bl_pfsm_fault *x = bl_pfsm_fault(f);
		cJSON *fj = cJSON_AddObjectToObject(o, "fault");
		cJSON_AddNumberToObject(fj, "reason", x->reason);
		cJSON_AddStringToObject(fj, "error", strerror(-x->err));
		cJSON_AddNumberToObject(fj, "dev", x->dev);
		cJSON_AddStringToObject(fj, "step", bl_pfsm_state_name(x->state));
		cJSON_AddNumberToObject(fj, "run", x->run);
	}
	return o;
}
