/* print_fsm_status.c: the print FSM's configuration and recipe checks, queries, latch, names. */
#include "print_fsm.h"

static bool range_ok(const struct bl_pfsm_range *r)
{
	return r->min <= r->max; /* false for NaN */
}

static bool in_range(double x, const struct bl_pfsm_range *r)
{
	return x >= r->min && x <= r->max; /* false for NaN */
}

/* Seconds to ticks, rounded (as print_fsm.c); 0 for anything not positive. */
static uint64_t sec_ticks(double s)
{
	if (!(s > 0))
		return 0;
	return (uint64_t)(int64_t)(s * (double)BL_TICKS_PER_SEC + 0.5);
}

static int check_config(const struct bl_pfsm_config *c, const struct bl_sched *s)
{
	if (!s || !s->heap)
		return -BL_EINVAL;
	if (c->nheaters > BL_PFSM_MAX_HEATERS)
		return -BL_EINVAL;
	if (!range_ok(&c->limits.flow_ul_min) || !range_ok(&c->limits.coat_speed_mm_s) ||
	    !range_ok(&c->limits.web_speed_mm_s) || !range_ok(&c->limits.temperature_c) ||
	    !range_ok(&c->limits.gap_um) || !range_ok(&c->limits.coater_travel_mm))
		return -BL_EINVAL;
	/* Bounds that keep every time computed from a recipe far from overflowing. */
	if (!(c->max_web_length_mm > 0) || !(c->max_prime_ul > 0) || !(c->beam_offset_mm >= 0) ||
	    c->limits.coater_travel_mm.max > 1e6 || c->max_web_length_mm > 1e6 ||
	    c->beam_offset_mm > 1e6 || !(c->limits.coat_speed_mm_s.min > 0) ||
	    !(c->limits.web_speed_mm_s.min > 0) || !(c->limits.flow_ul_min.min > 0))
		return -BL_EINVAL;
	if (c->nheaters > 0 && !in_range(c->cool_c, &c->limits.temperature_c))
		return -BL_EINVAL;
	if (!(c->heat.tolerance_c > 0) || c->heat.poll == 0 || c->heat.max == 0)
		return -BL_EINVAL;
	if (c->start_lead == 0 || c->start_lead < s->limits.min_lead ||
	    c->start_lead > s->limits.horizon)
		return -BL_EINVAL;
	if (!c->timeout.heater || !c->timeout.home || !c->timeout.arm || !c->timeout.disarm ||
	    !c->timeout.prime_extra)
		return -BL_EINVAL;
	return 0;
}

int bl_pfsm_init(struct bl_pfsm *f, const struct bl_pfsm_config *cfg, struct bl_sched *sched)
{
	if (!f || !cfg)
		return -BL_EINVAL;
	int rc = check_config(cfg, sched);
	if (rc < 0)
		return rc;
	f->cfg = cfg;
	f->sched = sched;
	f->recipe.label[0] = '\0';
	f->recipe.mode = 0;
	f->recipe.nframes = 0;
	f->recipe.cool = false;
	for (size_t i = 0; i < BL_PFSM_MAX_HEATERS; i++) {
		struct bl_pfsm_heater *h = &f->heater[i];
		h->setpoint_c = h->value_c = 0;
		h->read_at = 0;
		h->in_tol = false;
	}
	f->run.valid = false;
	f->run.id = f->run.series = 0;
	f->run.nframes = f->run.triggers = f->run.queued = f->run.executed = 0;
	f->state = f->target = f->resume_to = BL_PFSM_IDLE;
	f->req_kind = 0;
	f->hidx = 0;
	f->busy = false;
	f->req = 0;
	f->next_req = 1;
	f->deadline = f->wake = f->heat_since = f->hold_since = 0;
	f->settled_since = BL_PFSM_NEVER;
	f->all_in_tol = false;
	f->det_armed = f->printing = f->abort_req = f->cool_req = f->estop = f->in_step = false;
	f->series = 0;
	f->next_run = 1;
	f->il = f->hold = 0;
	f->refused_field = BL_PF_NONE;
	f->refused_index = -1;
	struct bl_pfsm_fault *x = &f->fault;
	x->reason = x->err = x->dev = 0;
	x->now = 0;
	x->state = BL_PFSM_IDLE;
	x->run = x->frames = 0;
	struct bl_pfsm_counters *k = &f->counters;
	k->started = k->refused = k->printed = k->spoiled = k->aborted = k->faulted = 0;
	k->primes = k->heater_reads = k->temp_excursions = k->suspensions = 0;
	k->suspended_ticks = 0;
	k->timed_executed = k->timed_stale = k->stale_events = 0;
	return 0;
}

/* Sets *field / *index (either may be NULL) and returns rc. */
static int refuse(int rc, int field, int index, int *pf, int *pi)
{
	if (pf)
		*pf = field;
	if (pi)
		*pi = index;
	return rc;
}

int bl_pfsm_check_recipe(const struct bl_pfsm *f, const struct bl_pfsm_recipe *r, int *field,
			 int *index)
{
	if (!f || !f->cfg || !r)
		return refuse(-BL_EINVAL, BL_PF_NONE, -1, field, index);
	const struct bl_pfsm_config *c = f->cfg;
	bool terminated = false;
	for (size_t i = 0; i < BL_PFSM_LABEL_MAX && !terminated; i++)
		terminated = r->label[i] == '\0';
	if (!terminated)
		return refuse(-BL_ERANGE, BL_PF_LABEL, -1, field, index);
	if (r->mode != BL_PMODE_STAGE && r->mode != BL_PMODE_WEB)
		return refuse(-BL_ERANGE, BL_PF_MODE, -1, field, index);
	bool stage = r->mode == BL_PMODE_STAGE;
	if (!in_range(r->flow_ul_min, &c->limits.flow_ul_min))
		return refuse(-BL_ERANGE, BL_PF_FLOW, -1, field, index);
	if (!in_range(r->speed_mm_s,
		      stage ? &c->limits.coat_speed_mm_s : &c->limits.web_speed_mm_s))
		return refuse(-BL_ERANGE, BL_PF_SPEED, -1, field, index);
	if (!in_range(r->gap_um, &c->limits.gap_um))
		return refuse(-BL_ERANGE, BL_PF_GAP, -1, field, index);
	/* The coating must reach the beam: the spot (stage) or the head-to-beam distance (web). */
	bool length_ok = stage ? in_range(r->length_mm, &c->limits.coater_travel_mm)
			       : r->length_mm <= c->max_web_length_mm;
	if (!(r->length_mm > 0) || !length_ok || !(r->length_mm >= c->beam_offset_mm))
		return refuse(-BL_ERANGE, BL_PF_LENGTH, -1, field, index);
	if (r->nheaters != c->nheaters)
		return refuse(-BL_ERANGE, BL_PF_NHEATERS, -1, field, index);
	for (int i = 0; i < c->nheaters; i++)
		if (!in_range(r->setpoint_c[i], &c->limits.temperature_c))
			return refuse(-BL_ERANGE, BL_PF_SETPOINT, i, field, index);
	if (!in_range(r->prime_rate_ul_min, &c->limits.flow_ul_min))
		return refuse(-BL_ERANGE, BL_PF_PRIME_RATE, -1, field, index);
	if (!(r->prime_volume_ul > 0) || !(r->prime_volume_ul <= c->max_prime_ul))
		return refuse(-BL_ERANGE, BL_PF_PRIME_VOLUME, -1, field, index);
	if (r->nframes == 0 || r->nframes > BL_PFSM_MAX_FRAMES)
		return refuse(-BL_ERANGE, BL_PF_NFRAMES, -1, field, index);
	if (r->nframes + 4u > f->sched->capacity)
		return refuse(-BL_ENOSPC, BL_PF_NFRAMES, -1, field, index);
	if (r->count_time == 0 || r->count_time > 3600ull * BL_TICKS_PER_SEC)
		return refuse(-BL_ERANGE, BL_PF_COUNT_TIME, -1, field, index);
	/* Web: the watched point reaches the beam only beam_offset / v after it was coated. */
	uint64_t transit = stage ? 0 : sec_ticks(c->beam_offset_mm / r->speed_mm_s);
	uint64_t max_delay = 24ull * 3600 * BL_TICKS_PER_SEC;
	for (uint32_t i = 0; i < r->nframes; i++) {
		bool ok = r->delay[i] >= transit && r->delay[i] <= max_delay;
		if (i > 0)
			ok = ok && r->delay[i] >= r->delay[i - 1] + r->count_time;
		if (!ok)
			return refuse(-BL_ERANGE, BL_PF_DELAY, (int)i, field, index);
	}
	/* Everything is queued at once: the last command must lie within the horizon. */
	double film = stage ? c->beam_offset_mm : r->length_mm - c->beam_offset_mm;
	uint64_t stop = sec_ticks(r->length_mm / r->speed_mm_s);
	uint64_t coat = stage ? sec_ticks(film / r->speed_mm_s) : stop - transit;
	uint64_t last = coat + r->delay[r->nframes - 1];
	if (c->start_lead + (last > stop ? last : stop) > f->sched->limits.horizon)
		return refuse(-BL_E2BIG, last > stop ? BL_PF_DELAY : BL_PF_LENGTH,
			      last > stop ? (int)r->nframes - 1 : -1, field, index);
	return refuse(0, BL_PF_NONE, -1, field, index);
}

uint64_t bl_pfsm_next(const struct bl_pfsm *f)
{
	uint64_t t = BL_PFSM_NEVER;
	if (f->busy)
		t = f->deadline;
	if ((f->state == BL_PFSM_HEAT_SET || f->state == BL_PFSM_HEAT_WAIT) && !f->hold &&
	    f->heat_since + f->cfg->heat.max < t)
		t = f->heat_since + f->cfg->heat.max;
	if (f->busy)
		return t;
	if (f->state == BL_PFSM_HEAT_WAIT && f->wake < t)
		t = f->wake;
	if (f->state == BL_PFSM_PRINT && f->printing) {
		if (f->run.t_end < t)
			t = f->run.t_end;
		if (f->cfg->nheaters > 0 && f->wake < t)
			t = f->wake;
	}
	return t;
}

int bl_pfsm_state(const struct bl_pfsm *f)
{
	return f->state;
}

const struct bl_pfsm_counters *bl_pfsm_counters(const struct bl_pfsm *f)
{
	return &f->counters;
}

const struct bl_pfsm_fault *bl_pfsm_fault(const struct bl_pfsm *f)
{
	return &f->fault;
}

const struct bl_pfsm_run *bl_pfsm_run(const struct bl_pfsm *f)
{
	return &f->run;
}

const struct bl_pfsm_heater *bl_pfsm_heater(const struct bl_pfsm *f, int i)
{
	if (i < 0 || i >= f->cfg->nheaters)
		return NULL;
	return &f->heater[i];
}

unsigned bl_pfsm_hold(const struct bl_pfsm *f)
{
	return f->hold;
}

int bl_pfsm_refusal(const struct bl_pfsm *f, int *index)
{
	if (index)
		*index = f->refused_index;
	return f->refused_field;
}

static bool during(uint64_t t, uint64_t on, uint64_t off)
{
	return on != BL_PFSM_NEVER && t >= on && (off == BL_PFSM_NEVER || t < off);
}

int bl_pfsm_latch(const struct bl_pfsm *f, uint64_t edge, struct bl_pfsm_latch *out)
{
	const struct bl_pfsm_run *run = &f->run;
	if (!run->valid)
		return -BL_ENOENT;
	double v = run->speed_mm_s;
	double d = f->cfg->beam_offset_mm;
	out->run = run->id;
	out->series = run->series;
	out->mode = run->mode;
	out->label = f->recipe.label;
	/* Ticks the axis has moved by the edge. */
	uint64_t moved = 0;
	if (run->motion_on != BL_PFSM_NEVER && edge > run->motion_on) {
		uint64_t until = run->motion_off != BL_PFSM_NEVER && run->motion_off < edge
				     ? run->motion_off
				     : edge;
		moved = until - run->motion_on;
	}
	out->axis_mm = v * (double)moved / (double)BL_TICKS_PER_SEC;
	out->speed_mm_s = during(edge, run->motion_on, run->motion_off) ? v : 0;
	out->flow_ul_min = during(edge, run->pump_on, run->pump_off) ? run->flow_ul_min : 0;
	/* The point under the beam and when it was coated (exact in ticks; see print_fsm.h). */
	uint64_t transit = sec_ticks(d / v);
	bool coated;
	uint64_t tc = 0;
	if (run->mode == BL_PMODE_STAGE) {
		out->film_mm = d;
		tc = run->motion_on + transit;
		coated = run->motion_on != BL_PFSM_NEVER && edge >= tc &&
			 (run->motion_off == BL_PFSM_NEVER || run->motion_off >= tc);
	} else {
		out->film_mm = out->axis_mm - d;
		coated = run->motion_on != BL_PFSM_NEVER && moved >= transit &&
			 out->film_mm <= run->length_mm + 1e-9;
		if (coated)
			tc = run->motion_on + (moved - transit);
	}
	out->coated = coated;
	out->since_coat = coated ? (int64_t)(edge - tc) : -1;
	out->nheaters = f->cfg->nheaters;
	for (size_t i = 0; i < BL_PFSM_MAX_HEATERS; i++) {
		bool fitted = i < f->cfg->nheaters;
		out->temp_c[i] = fitted ? f->heater[i].value_c : 0;
		out->temp_at[i] = fitted ? f->heater[i].read_at : 0;
	}
	return 0;
}

const char *bl_pfsm_state_name(int state)
{
	static const char *const names[BL_PFSM_STATE_COUNT] = {
	    "idle",  "heat_set", "heat_wait", "home", "arm",  "prime",
	    "print", "disarm",	 "cool",      "held", "fault"};
	if (state < 0 || state >= BL_PFSM_STATE_COUNT)
		return "?";
	return names[state];
}

const char *bl_pfsm_field_name(int field)
{
	static const char *const names[BL_PF_COUNT] = {
	    "none",	"mode",	      "flow",	      "speed",	 "gap",	  "length",	"nheaters",
	    "setpoint", "prime_rate", "prime_volume", "nframes", "delay", "count_time", "label"};
	if (field < 0 || field >= BL_PF_COUNT)
		return "?";
	return names[field];
}
