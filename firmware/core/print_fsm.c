/* print_fsm.c: the print cycle's steps: requests, timed commands, holds, aborts and faults. */
#include "print_fsm.h"

#include "hal/bl_hal_print.h"

/*
 * Flow. HEAT_SET, HOME, ARM, PRIME, DISARM and COOL send one request each (a heater at a time
 * for the heater steps) and wait for its answer; HEAT_WAIT and PRINT send heater reads in
 * rounds, every cfg.heat.poll. PRINT sends no request of its own: on entry it queues the run's
 * timed commands (pump run and motion start at T, one trigger per frame, motion and pump stop)
 * on the port's scheduler; bl_pfsm_exec() performs them at their controller times and records
 * when they really ran; at run.t_end the FSM checks every command ran and disarms.
 * When a step is over, proceed() is told the normal next step (`want`) and decides what really
 * comes next: under a hold or an abort an armed detector is disarmed first, then a hold waits
 * in HELD (resume: from the setpoints again, so the die is re-primed and the film re-printed
 * with a new series) and an abort goes idle.
 * A hold or abort stops the pump and the axis at once (direct actions) and drops the run's
 * queued commands; a print cut that way is spoiled (counted, noted), never resumed half-way.
 * No struct assignment or aggregate initializer: compilers may turn those into memcpy / memset
 * calls, which the freestanding core cannot count on (tests/fw/check_freestanding.sh).
 */

/* What the outstanding request is. */
enum { RQ_NONE = 0, RQ_SET, RQ_READ, RQ_HOME, RQ_ARM, RQ_PRIME, RQ_DISARM, RQ_COOL };

static uint32_t new_req(struct bl_pfsm *f)
{
	uint32_t r = f->next_req++;
	if (f->next_req == 0)
		f->next_req = 1;
	return r;
}

static double absd(double x)
{
	return x < 0 ? -x : x;
}

/* Seconds to ticks, rounded; 0 for anything not positive. The caller bounds s. */
static uint64_t sec_ticks(double s)
{
	if (!(s > 0))
		return 0;
	return (uint64_t)(int64_t)(s * (double)BL_TICKS_PER_SEC + 0.5);
}

static int dev_of(int kind)
{
	switch (kind) {
	case RQ_SET:
	case RQ_READ:
	case RQ_COOL: return BL_PDEV_HEATER;
	case RQ_HOME: return BL_PDEV_MOTION;
	case RQ_PRIME: return BL_PDEV_PUMP;
	case RQ_ARM:
	case RQ_DISARM: return BL_PDEV_DETECTOR;
	default: return 0;
	}
}

static bool heating(int state)
{
	return state == BL_PFSM_HEAT_SET || state == BL_PFSM_HEAT_WAIT;
}

/* Records the fault, drops the run's commands, runs the safe state: nothing moves until reset. */
static void enter_fault(struct bl_pfsm *f, uint64_t now, int reason, int err, int dev)
{
	struct bl_pfsm_fault *x = &f->fault;
	x->reason = reason;
	x->err = err;
	x->dev = dev;
	x->now = now;
	x->state = f->state;
	x->run = f->run.valid ? f->run.id : 0;
	x->frames = f->run.valid ? f->run.triggers : 0;
	bl_sched_flush(f->sched, f->cfg->sched_source);
	f->busy = false;
	f->req_kind = RQ_NONE;
	f->printing = f->det_armed = f->abort_req = f->cool_req = false;
	f->state = BL_PFSM_FAULT;
	f->counters.faulted++;
	bl_hal_print_safe_state(reason, err,
				reason == BL_PSAFE_ESTOP || f->cfg->heaters_off_on_fault);
}

/* Sends a request of `kind` (its HAL call already made, returning rc) with timeout tmo. */
static void sent(struct bl_pfsm *f, uint64_t now, int kind, uint32_t req, int rc, uint64_t tmo)
{
	f->busy = true;
	f->req_kind = kind;
	f->req = req;
	f->deadline = now + tmo;
	if (rc < 0)
		enter_fault(f, now, BL_PSAFE_REFUSED, rc, dev_of(kind));
}

/* Reads heater f->hidx. */
static void read_heater(struct bl_pfsm *f, uint64_t now)
{
	uint32_t req = new_req(f);
	int rc = bl_hal_print_heater_read(req, f->hidx);
	sent(f, now, RQ_READ, req, rc, f->cfg->timeout.heater);
}

/* Starts a reading round: every heater, one after the other. */
static void start_round(struct bl_pfsm *f, uint64_t now)
{
	f->hidx = 0;
	f->all_in_tol = true;
	read_heater(f, now);
}

static void set_heater(struct bl_pfsm *f, uint64_t now, int kind, double c)
{
	uint32_t req = new_req(f);
	f->heater[f->hidx].setpoint_c = c;
	int rc = bl_hal_print_heater_set(req, f->hidx, c);
	sent(f, now, kind, req, rc, f->cfg->timeout.heater);
}

/* Queues one timed command of the run; false (and the fault) when the scheduler refuses it. */
static bool queue(struct bl_pfsm *f, uint64_t now, uint64_t when, uint16_t type, uint32_t u0,
		  double d0)
{
	struct bl_cmd c;
	c.id = f->run.id;
	c.type = type;
	c.source = f->cfg->sched_source;
	c.args.u[0] = c.args.u[1] = c.args.u[2] = c.args.u[3] = 0;
	if (type == BL_PT_TRIGGER) {
		c.args.u[0] = u0;
	} else if (type == BL_PT_PUMP_RUN || type == BL_PT_MOTION_START) {
		c.args.d[0] = d0;
		c.args.i[2] = f->recipe.mode;
	}
	int rc = bl_sched_add(f->sched, now, when, &c);
	if (rc < 0) {
		enter_fault(f, now, BL_PSAFE_REFUSED, rc, 0);
		return false;
	}
	f->run.queued++;
	return true;
}

/* PRINT begins: computes the run's times (see the geometry in print_fsm.h) and queues them. */
static void program_run(struct bl_pfsm *f, uint64_t now)
{
	const struct bl_pfsm_recipe *r = &f->recipe;
	struct bl_pfsm_run *run = &f->run;
	double v = r->speed_mm_s;
	uint64_t T = now + f->cfg->start_lead;
	run->id = f->next_run++;
	run->series = f->series;
	run->mode = r->mode;
	run->speed_mm_s = v;
	run->flow_ul_min = r->flow_ul_min;
	run->length_mm = r->length_mm;
	bool stage = r->mode == BL_PMODE_STAGE;
	uint64_t transit = sec_ticks(f->cfg->beam_offset_mm / v);
	run->film_mm = stage ? f->cfg->beam_offset_mm : r->length_mm - f->cfg->beam_offset_mm;
	run->t_start = T;
	run->t_stop = T + sec_ticks(r->length_mm / v);
	/* In ticks exactly as bl_pfsm_latch() computes it back from the executed times. */
	run->t_coat = stage ? T + transit : run->t_stop - transit;
	run->nframes = r->nframes;
	uint64_t last = run->t_stop;
	for (uint32_t i = 0; i < r->nframes; i++) {
		run->t_frame[i] = run->t_coat + r->delay[i];
		if (run->t_frame[i] + r->count_time > last)
			last = run->t_frame[i] + r->count_time;
	}
	run->t_end = last + f->cfg->end_margin;
	run->pump_on = run->pump_off = run->motion_on = run->motion_off = BL_PFSM_NEVER;
	run->triggers = run->queued = run->executed = 0;
	run->valid = true;
	/* Equal times run in insertion order: an edge at the stop sees the film standing. */
	if (!queue(f, now, T, BL_PT_PUMP_RUN, 0, r->flow_ul_min) ||
	    !queue(f, now, T, BL_PT_MOTION_START, 0, v) ||
	    !queue(f, now, run->t_stop, BL_PT_MOTION_STOP, 0, 0) ||
	    !queue(f, now, run->t_stop, BL_PT_PUMP_STOP, 0, 0))
		return;
	for (uint32_t i = 0; i < r->nframes; i++)
		if (!queue(f, now, run->t_frame[i], BL_PT_TRIGGER, i, 0))
			return;
	f->printing = true;
	f->wake = now + f->cfg->heat.poll;
	bl_hal_print_note(BL_PNOTE_START, run->series);
}

/* Sends the request of f->state (nothing for the waiting states). */
static void start(struct bl_pfsm *f, uint64_t now)
{
	const struct bl_pfsm_config *c = f->cfg;
	const struct bl_pfsm_recipe *r = &f->recipe;
	uint32_t req;
	int rc;
	switch (f->state) {
	case BL_PFSM_HEAT_SET: set_heater(f, now, RQ_SET, r->setpoint_c[f->hidx]); break;
	case BL_PFSM_HEAT_WAIT: start_round(f, now); break;
	case BL_PFSM_HOME:
		req = new_req(f);
		rc = bl_hal_print_home(req, r->mode, r->gap_um);
		sent(f, now, RQ_HOME, req, rc, c->timeout.home);
		break;
	case BL_PFSM_ARM:
		req = new_req(f);
		rc = bl_hal_print_detector_arm(req, r->nframes, r->count_time);
		sent(f, now, RQ_ARM, req, rc, c->timeout.arm);
		break;
	case BL_PFSM_PRIME:
		req = new_req(f);
		rc = bl_hal_print_prime(req, r->prime_rate_ul_min, r->prime_volume_ul);
		sent(f, now, RQ_PRIME, req, rc,
		     sec_ticks(r->prime_volume_ul / r->prime_rate_ul_min * 60.0) +
			 c->timeout.prime_extra);
		break;
	case BL_PFSM_PRINT: program_run(f, now); break;
	case BL_PFSM_DISARM:
		req = new_req(f);
		rc = bl_hal_print_detector_disarm(req);
		sent(f, now, RQ_DISARM, req, rc, c->timeout.disarm);
		break;
	case BL_PFSM_COOL: set_heater(f, now, RQ_COOL, c->cool_c); break;
	default: break; /* IDLE, HELD, FAULT wait */
	}
}

/* Where resume continues when a hold reached the cycle heading for `want`. */
static int resume_target(int want)
{
	if (want >= BL_PFSM_HEAT_SET && want <= BL_PFSM_PRINT)
		return BL_PFSM_HEAT_SET; /* setpoints, temperatures, home, new series, re-prime */
	return want;
}

/* Goes on towards `want` (see the comment at the top). */
static void proceed(struct bl_pfsm *f, uint64_t now, int want)
{
	if ((f->hold || f->abort_req) && f->det_armed && want != BL_PFSM_DISARM) {
		f->target = want;
		f->state = BL_PFSM_DISARM;
		start(f, now);
		return;
	}
	if (f->abort_req) {
		f->abort_req = false;
		f->cool_req = false;
		want = BL_PFSM_IDLE;
	}
	if (f->hold) {
		f->resume_to = resume_target(want);
		f->state = BL_PFSM_HELD;
		return;
	}
	if ((want == BL_PFSM_HEAT_SET || want == BL_PFSM_COOL) && f->cfg->nheaters == 0)
		want = want == BL_PFSM_COOL ? BL_PFSM_IDLE : BL_PFSM_HOME;
	if (want == BL_PFSM_COOL && !f->cool_req)
		want = BL_PFSM_IDLE;
	if (want == BL_PFSM_HEAT_SET || want == BL_PFSM_COOL)
		f->hidx = 0;
	if (want == BL_PFSM_HEAT_SET)
		f->settled_since = BL_PFSM_NEVER;
	if (want == BL_PFSM_IDLE)
		f->cool_req = false;
	f->state = want;
	start(f, now);
}

/* Stops what may be moving (a hold or abort): pump, axis, the run's queued commands. */
static void stop_moving(struct bl_pfsm *f, uint64_t now)
{
	if (f->state != BL_PFSM_HOME && f->state != BL_PFSM_PRIME && f->state != BL_PFSM_PRINT)
		return;
	bl_sched_flush(f->sched, f->cfg->sched_source);
	int rc = bl_hal_print_pump_stop();
	int rc2 = bl_hal_print_motion_stop();
	if (f->busy && (f->req_kind == RQ_HOME || f->req_kind == RQ_PRIME)) {
		f->busy = false; /* cut by the stop: an answer still coming is stale */
		f->req_kind = RQ_NONE;
	}
	if (rc < 0 || rc2 < 0)
		enter_fault(f, now, BL_PSAFE_REFUSED, rc < 0 ? rc : rc2,
			    rc < 0 ? BL_PDEV_PUMP : BL_PDEV_MOTION);
}

/* Starts (or extends) a hold for `bit`. */
static void hold_add(struct bl_pfsm *f, uint64_t now, unsigned bit)
{
	if (!f->hold) {
		f->counters.suspensions++;
		f->hold_since = now;
		bl_hal_print_note(BL_PNOTE_SUSPEND, bit);
	}
	f->hold |= bit;
	if (f->printing) {
		f->printing = false;
		f->counters.spoiled++;
		bl_hal_print_note(BL_PNOTE_SPOILED, f->run.series);
	}
	stop_moving(f, now);
	if (f->busy || f->state == BL_PFSM_FAULT || f->state == BL_PFSM_HELD)
		return; /* the running request finishes first; its answer leads to the hold */
	proceed(f, now, f->state);
}

/* The print's end time passed: every command must have run; then disarm (and cool). */
static void print_end(struct bl_pfsm *f, uint64_t now)
{
	if (f->run.executed != f->run.queued) {
		enter_fault(f, now, BL_PSAFE_SCHED, -BL_ETIME, 0); /* one was dropped or lost */
		return;
	}
	f->printing = false;
	f->counters.printed++;
	bl_hal_print_note(BL_PNOTE_DONE, f->run.series);
	f->target = BL_PFSM_COOL;
	proceed(f, now, BL_PFSM_DISARM);
}

/* A heater read answered. */
static void read_done(struct bl_pfsm *f, uint64_t now, double value)
{
	struct bl_pfsm_heater *h = &f->heater[f->hidx];
	h->value_c = value;
	h->read_at = now;
	h->in_tol = absd(value - h->setpoint_c) <= f->cfg->heat.tolerance_c; /* NaN: false */
	f->counters.heater_reads++;
	if (!h->in_tol) {
		f->all_in_tol = false;
		if (f->printing) {
			f->counters.temp_excursions++;
			bl_hal_print_note(BL_PNOTE_TEMP, f->hidx);
		}
	}
	if (f->hold || f->abort_req) {
		proceed(f, now, f->state);
		return;
	}
	if (++f->hidx < f->cfg->nheaters) {
		read_heater(f, now);
		return;
	}
	f->wake = now + f->cfg->heat.poll;
	if (f->state != BL_PFSM_HEAT_WAIT)
		return; /* printing: the round only refreshes the values the latch gives */
	if (!f->all_in_tol) {
		f->settled_since = BL_PFSM_NEVER;
		return;
	}
	if (f->settled_since == BL_PFSM_NEVER)
		f->settled_since = now;
	if (now - f->settled_since >= f->cfg->heat.settle) {
		bl_hal_print_note(BL_PNOTE_HEATED, (int64_t)(now - f->heat_since));
		proceed(f, now, BL_PFSM_HOME);
	}
}

/* The answer to the outstanding request. */
static int request_done(struct bl_pfsm *f, uint64_t now, const struct bl_pfsm_event *ev)
{
	if (!f->busy || ev->req != f->req) {
		f->counters.stale_events++;
		return -BL_ENOENT;
	}
	int kind = f->req_kind;
	if (ev->rc < 0) {
		enter_fault(f, now, BL_PSAFE_DEVICE_ERROR, ev->rc, dev_of(kind));
		return 0;
	}
	f->busy = false;
	f->req_kind = RQ_NONE;
	switch (kind) {
	case RQ_SET:
		if (++f->hidx < f->cfg->nheaters && !f->hold && !f->abort_req)
			start(f, now);
		else
			proceed(f, now,
				f->hidx < f->cfg->nheaters ? BL_PFSM_HEAT_SET : BL_PFSM_HEAT_WAIT);
		break;
	case RQ_READ: read_done(f, now, ev->value); break;
	case RQ_HOME: proceed(f, now, BL_PFSM_ARM); break;
	case RQ_ARM:
		f->det_armed = true;
		f->series = ev->series;
		proceed(f, now, BL_PFSM_PRIME);
		break;
	case RQ_PRIME:
		f->counters.primes++;
		bl_hal_print_note(BL_PNOTE_PRIMED, (int64_t)(f->recipe.prime_volume_ul * 1000.0));
		proceed(f, now, BL_PFSM_PRINT);
		break;
	case RQ_DISARM:
		f->det_armed = false;
		proceed(f, now, f->target);
		break;
	case RQ_COOL:
		if (++f->hidx < f->cfg->nheaters && !f->hold && !f->abort_req)
			start(f, now);
		else
			proceed(f, now, f->hidx < f->cfg->nheaters ? BL_PFSM_COOL : BL_PFSM_IDLE);
		break;
	default: break;
	}
	return 0;
}

static int interlock(struct bl_pfsm *f, uint64_t now, const struct bl_pfsm_event *ev)
{
	unsigned bit;
	switch (ev->interlock) {
	case BL_PIL_ESTOP:
		f->estop = ev->active;
		if (ev->active && f->state != BL_PFSM_FAULT)
			enter_fault(f, now, BL_PSAFE_ESTOP, -BL_ECANCELED, 0);
		return 0;
	case BL_PIL_DOOR: bit = BL_PHOLD_DOOR; break;
	case BL_PIL_BEAM: bit = BL_PHOLD_BEAM; break;
	case BL_PIL_AGENT: bit = BL_PHOLD_AGENT; break;
	default: return -BL_EINVAL;
	}
	if (!ev->active) {
		f->il &= ~bit; /* the hold stays until a resume command */
		return 0;
	}
	f->il |= bit;
	if (f->state != BL_PFSM_FAULT)
		hold_add(f, now, bit);
	return 0;
}

/* Copies the recipe field by field (no struct assignment: see the top). */
static void recipe_copy(struct bl_pfsm_recipe *d, const struct bl_pfsm_recipe *s)
{
	for (size_t i = 0; i < BL_PFSM_LABEL_MAX; i++)
		d->label[i] = s->label[i];
	d->mode = s->mode;
	d->flow_ul_min = s->flow_ul_min;
	d->speed_mm_s = s->speed_mm_s;
	d->gap_um = s->gap_um;
	d->length_mm = s->length_mm;
	d->nheaters = s->nheaters;
	for (size_t i = 0; i < BL_PFSM_MAX_HEATERS; i++)
		d->setpoint_c[i] = s->setpoint_c[i];
	d->prime_rate_ul_min = s->prime_rate_ul_min;
	d->prime_volume_ul = s->prime_volume_ul;
	d->nframes = s->nframes;
	for (size_t i = 0; i < BL_PFSM_MAX_FRAMES; i++)
		d->delay[i] = i < s->nframes ? s->delay[i] : 0;
	d->count_time = s->count_time;
	d->cool = s->cool;
}

static int cmd_start(struct bl_pfsm *f, uint64_t now, const struct bl_pfsm_recipe *r)
{
	if (f->state != BL_PFSM_IDLE || !r)
		return -BL_EINVAL;
	if (f->estop || f->il)
		return -BL_EBUSY;
	int field = BL_PF_NONE, index = -1;
	int rc = bl_pfsm_check_recipe(f, r, &field, &index);
	f->refused_field = field;
	f->refused_index = index;
	if (rc < 0) {
		f->counters.refused++;
		bl_hal_print_note(BL_PNOTE_REFUSED, field);
		return rc;
	}
	recipe_copy(&f->recipe, r);
	f->counters.started++;
	f->cool_req = r->cool;
	f->heat_since = now;
	proceed(f, now, BL_PFSM_HEAT_SET);
	return 0;
}

static int cmd_resume(struct bl_pfsm *f, uint64_t now)
{
	if (f->state == BL_PFSM_FAULT || !f->hold)
		return -BL_EINVAL;
	if (f->il)
		return -BL_EBUSY;
	if (f->state != BL_PFSM_HELD)
		return -BL_EAGAIN;
	uint64_t gap = now - f->hold_since;
	f->hold = 0;
	f->counters.suspended_ticks += gap;
	bl_hal_print_note(BL_PNOTE_RESUME, (int64_t)gap);
	f->heat_since = now; /* the heating time limit starts again */
	proceed(f, now, f->resume_to);
	return 0;
}

static int cmd_abort(struct bl_pfsm *f, uint64_t now)
{
	if (f->state == BL_PFSM_FAULT)
		return -BL_EINVAL;
	bool working = f->state != BL_PFSM_IDLE && f->state != BL_PFSM_HELD;
	bl_hal_print_note(BL_PNOTE_ABORTED, f->printing ? f->run.series : 0);
	if (working && f->state != BL_PFSM_DISARM && f->state != BL_PFSM_COOL)
		f->counters.aborted++;
	f->printing = false;
	stop_moving(f, now);
	if (f->state == BL_PFSM_FAULT)
		return 0; /* a stop was refused */
	if (f->hold) {
		f->counters.suspended_ticks += now - f->hold_since;
		f->hold = 0;
	}
	if (f->state == BL_PFSM_IDLE)
		return 0;
	f->abort_req = true;
	if (!f->busy)
		proceed(f, now, f->state);
	return 0; /* otherwise at the answer of the running request */
}

static int cmd_reset(struct bl_pfsm *f)
{
	if (f->state != BL_PFSM_FAULT)
		return -BL_EINVAL;
	if (f->estop || f->il)
		return -BL_EBUSY; /* clear the e-stop, close the door, get the beam back first */
	bl_hal_print_note(BL_PNOTE_RESET, 0);
	f->hold = 0;
	f->state = BL_PFSM_IDLE;
	return 0;
}

static int command(struct bl_pfsm *f, uint64_t now, const struct bl_pfsm_event *ev)
{
	switch (ev->cmd) {
	case BL_PCMD_START: return cmd_start(f, now, ev->recipe);
	case BL_PCMD_PAUSE:
		if (f->state == BL_PFSM_FAULT)
			return -BL_EINVAL;
		hold_add(f, now, BL_PHOLD_PAUSE);
		return 0;
	case BL_PCMD_RESUME: return cmd_resume(f, now);
	case BL_PCMD_ABORT: return cmd_abort(f, now);
	case BL_PCMD_RESET: return cmd_reset(f);
	default: return -BL_EINVAL;
	}
}

/* The scheduler reported one of the FSM's commands overdue or failed. */
static int sched_fault(struct bl_pfsm *f, uint64_t now, const struct bl_fault *x)
{
	if (!x || x->source != f->cfg->sched_source)
		return -BL_EINVAL;
	if (f->state == BL_PFSM_FAULT || !f->printing || x->cmd_id != f->run.id) {
		f->counters.stale_events++;
		return -BL_ENOENT;
	}
	enter_fault(f, now, BL_PSAFE_SCHED, x->err < 0 ? x->err : -BL_ETIME, 0);
	return 0;
}

/* Time: timeouts, reading rounds, the print's end. */
static void time_step(struct bl_pfsm *f, uint64_t now)
{
	if (f->busy && now >= f->deadline) {
		enter_fault(f, now, BL_PSAFE_TIMEOUT, -BL_ETIMEDOUT, dev_of(f->req_kind));
		return;
	}
	if (heating(f->state) && !f->hold && now - f->heat_since >= f->cfg->heat.max) {
		enter_fault(f, now, BL_PSAFE_HEAT_TIMEOUT, -BL_ETIMEDOUT, BL_PDEV_HEATER);
		return;
	}
	if (f->busy)
		return;
	if (f->state == BL_PFSM_HEAT_WAIT && now >= f->wake) {
		start(f, now);
	} else if (f->state == BL_PFSM_PRINT && f->printing) {
		if (now >= f->run.t_end)
			print_end(f, now);
		else if (now >= f->wake && f->cfg->nheaters > 0)
			start_round(f, now);
	}
}

int bl_pfsm_step(struct bl_pfsm *f, uint64_t now, const struct bl_pfsm_event *ev)
{
	if (!f || !f->cfg)
		return -BL_EINVAL;
	if (f->in_step)
		return -BL_EBUSY;
	f->in_step = true;
	time_step(f, now);
	int rc = 0;
	if (ev) {
		switch (ev->kind) {
		case BL_PFSM_EV_DONE: rc = request_done(f, now, ev); break;
		case BL_PFSM_EV_INTERLOCK: rc = interlock(f, now, ev); break;
		case BL_PFSM_EV_CMD: rc = command(f, now, ev); break;
		case BL_PFSM_EV_ALARM:
			if (f->state == BL_PFSM_FAULT) {
				f->counters.stale_events++;
				break;
			}
			enter_fault(f, now, BL_PSAFE_DEVICE_ERROR, ev->rc < 0 ? ev->rc : -BL_EIO,
				    ev->dev);
			break;
		case BL_PFSM_EV_SCHED_FAULT: rc = sched_fault(f, now, ev->fault); break;
		default: rc = -BL_EINVAL; break;
		}
	}
	f->in_step = false;
	return rc;
}

int bl_pfsm_exec(void *ctx, const struct bl_cmd *cmd, uint64_t when, uint64_t now)
{
	struct bl_pfsm *f = ctx;
	if (!f || !f->cfg || !cmd)
		return -BL_EINVAL;
	if (cmd->source != f->cfg->sched_source)
		return -BL_ENOENT;
	if (f->in_step)
		return -BL_EBUSY; /* the port ran its scheduler from inside a step */
	if (!f->printing || cmd->id != f->run.id) {
		f->counters.timed_stale++;
		bl_hal_print_note(BL_PNOTE_STALE_CMD, cmd->type);
		return 0;
	}
	struct bl_pfsm_run *run = &f->run;
	int rc, dev = BL_PDEV_PUMP;
	switch (cmd->type) {
	case BL_PT_PUMP_RUN:
		rc = bl_hal_print_pump_run(cmd->args.d[0]);
		run->pump_on = now;
		break;
	case BL_PT_MOTION_START:
		rc = bl_hal_print_motion_start(cmd->args.i[2], cmd->args.d[0]);
		run->motion_on = now;
		dev = BL_PDEV_MOTION;
		break;
	case BL_PT_TRIGGER:
		rc = bl_hal_print_trigger(cmd->args.u[0], when);
		run->triggers++;
		dev = BL_PDEV_TRIGGER;
		break;
	case BL_PT_MOTION_STOP:
		rc = bl_hal_print_motion_stop();
		run->motion_off = now;
		dev = BL_PDEV_MOTION;
		break;
	case BL_PT_PUMP_STOP:
		rc = bl_hal_print_pump_stop();
		run->pump_off = now;
		break;
	default: return -BL_EINVAL;
	}
	run->executed++;
	f->counters.timed_executed++;
	if (rc < 0)
		enter_fault(f, now, BL_PSAFE_REFUSED, rc, dev);
	return rc;
}
