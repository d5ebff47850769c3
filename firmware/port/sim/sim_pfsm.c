/* sim_pfsm.c: the sim port's print-cycle HAL: printer device models on the virtual clock. */
#include "sim_pfsm.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim_hal.h"

static struct bl_sim_pfsm *world;

/* What a pending entry is. */
enum { P_EVENT = 0, P_READ, P_PRIME, P_HOME, P_EDGE, P_ALARM };

void bl_sim_pfsm_tracef(struct bl_sim_pfsm *w, const char *fmt, ...)
{
	if (!w->trace || w->trace_len + 1 >= w->trace_cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(w->trace + w->trace_len, w->trace_cap - w->trace_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		w->trace_len = w->trace_len + (size_t)n < w->trace_cap ? w->trace_len + (size_t)n
								       : w->trace_cap - 1;
}

#define TRACE(w, fmt, ...) bl_sim_pfsm_tracef((w), "%10" PRIu64 " " fmt "\n", (w)->now, __VA_ARGS__)

static void error(struct bl_sim_pfsm *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void error(struct bl_sim_pfsm *w, const char *fmt, ...)
{
	if (w->event_errors == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(w->first_error, sizeof(w->first_error), fmt, ap);
		va_end(ap);
	}
	w->event_errors++;
}

static uint64_t ticks(double s)
{
	return (uint64_t)llround(s * (double)BL_TICKS_PER_SEC);
}

/* --- physical truth --- */

static double heater_temp(const struct bl_sim_heater *h, uint64_t t)
{
	double target = h->sp_c < h->max_c ? h->sp_c : h->max_c;
	if (target < h->ambient_c)
		target = h->ambient_c; /* no cooler: it only falls back to ambient */
	double dt = (double)(t - h->t0) / (double)BL_TICKS_PER_SEC;
	return target + (h->from_c - target) * exp(-dt / h->tau_s);
}

static void heater_to(struct bl_sim_pfsm *w, int i, double sp)
{
	struct bl_sim_heater *h = &w->heater[i];
	h->from_c = heater_temp(h, w->now);
	h->t0 = w->now;
	h->sp_c = sp;
}

double bl_sim_pfsm_temp(const struct bl_sim_pfsm *w, int i)
{
	return heater_temp(&w->heater[i], w->now);
}

double bl_sim_pfsm_dispensed(const struct bl_sim_pfsm *w)
{
	double v = w->pump.dispensed;
	if (w->pump.running)
		v += w->pump.rate * (double)(w->now - w->pump.since) / 60e6;
	return v;
}

double bl_sim_pfsm_axis(const struct bl_sim_pfsm *w)
{
	double p = w->axis.pos;
	if (w->axis.moving)
		p += w->axis.speed * (double)(w->now - w->axis.since) / 1e6;
	return p;
}

static void pump_halt(struct bl_sim_pfsm *w)
{
	w->pump.dispensed = bl_sim_pfsm_dispensed(w);
	w->pump.running = w->pump.priming = false;
}

static void pump_go(struct bl_sim_pfsm *w, double rate)
{
	pump_halt(w);
	w->pump.running = true;
	w->pump.rate = rate;
	w->pump.since = w->now;
}

static void axis_halt(struct bl_sim_pfsm *w)
{
	w->axis.pos = bl_sim_pfsm_axis(w);
	w->axis.moving = false;
}

/* --- pending answers and events --- */

static struct bl_sim_ppending *push(struct bl_sim_pfsm *w, uint64_t when, int what)
{
	if (w->npend >= BL_SIM_PFSM_PENDING) {
		error(w, "pending queue full");
		return NULL;
	}
	size_t i = w->npend++;
	while (i > 0 && w->pend[i - 1].when > when) {
		w->pend[i] = w->pend[i - 1];
		i--;
	}
	struct bl_sim_ppending *p = &w->pend[i];
	memset(p, 0, sizeof(*p));
	p->when = when;
	p->seq = w->seq++;
	p->what = what;
	return p;
}

static void answer(struct bl_sim_pfsm *w, uint64_t delay, int what, uint32_t req, int rc)
{
	struct bl_sim_ppending *p = push(w, w->now + delay, what);
	if (!p)
		return;
	p->ev.kind = BL_PFSM_EV_DONE;
	p->ev.req = req;
	p->ev.rc = rc;
}

/* Drops pending entries for which drop() is true. */
static void drop_pending(struct bl_sim_pfsm *w, bool (*drop)(const struct bl_sim_ppending *))
{
	size_t kept = 0;
	for (size_t i = 0; i < w->npend; i++)
		if (!drop(&w->pend[i]))
			w->pend[kept++] = w->pend[i];
	w->npend = kept;
}

static bool is_prime(const struct bl_sim_ppending *p)
{
	return p->what == P_PRIME;
}

static bool is_home(const struct bl_sim_ppending *p)
{
	return p->what == P_HOME;
}

static bool is_device_answer(const struct bl_sim_ppending *p)
{
	return p->what == P_READ || p->what == P_PRIME || p->what == P_HOME ||
	       (p->what == P_EVENT && p->ev.kind == BL_PFSM_EV_DONE);
}

int bl_sim_pfsm_inject(struct bl_sim_pfsm *w, int req, int nth, int rc, uint64_t jitter)
{
	if (w->ninj >= BL_SIM_PFSM_INJECT || req < BL_SIM_P_SET || req >= BL_SIM_P_COUNT)
		return -ENOSPC;
	struct bl_sim_pinject *in = &w->inj[w->ninj++];
	in->req = req;
	in->nth = nth;
	in->rc = rc;
	in->jitter = jitter;
	in->seen = 0;
	return 0;
}

/* Counts a request; true with *rc (and *jitter) set when an injection takes it over. */
static bool injected(struct bl_sim_pfsm *w, int req, int *rc, uint64_t *jitter)
{
	bool hit = false;
	w->req_count[req]++;
	for (size_t i = 0; i < w->ninj; i++) {
		struct bl_sim_pinject *in = &w->inj[i];
		if (in->req != req)
			continue;
		if (++in->seen == in->nth && !hit) {
			*rc = in->rc;
			if (jitter)
				*jitter = in->jitter;
			hit = true;
		}
	}
	return hit;
}

/* A request taken over by an injection: answered rc after `delay`, or never (rc 0). */
static bool request_injected(struct bl_sim_pfsm *w, int req, uint32_t id, uint64_t delay)
{
	int rc = 0;
	if (!injected(w, req, &rc, NULL))
		return false;
	if (rc)
		answer(w, delay, P_EVENT, id, rc);
	return true;
}

/* --- the HAL --- */

int bl_hal_print_heater_set(uint32_t req, uint8_t heater, double setpoint_c)
{
	struct bl_sim_pfsm *w = world;
	if (!w)
		return -ENODEV;
	TRACE(w, "heat_set  req=%u h%u sp=%.2f", req, heater, setpoint_c);
	if (request_injected(w, BL_SIM_P_SET, req, w->d.heater_set))
		return 0;
	if (heater >= w->cfg->nheaters)
		return -EINVAL;
	heater_to(w, heater, setpoint_c);
	answer(w, w->d.heater_set, P_EVENT, req, 0);
	return 0;
}

int bl_hal_print_heater_read(uint32_t req, uint8_t heater)
{
	struct bl_sim_pfsm *w = world;
	if (!w)
		return -ENODEV;
	TRACE(w, "heat_read req=%u h%u", req, heater);
	if (request_injected(w, BL_SIM_P_READ, req, w->d.heater_read))
		return 0;
	if (heater >= w->cfg->nheaters)
		return -EINVAL;
	struct bl_sim_ppending *p = push(w, w->now + w->d.heater_read, P_READ);
	if (!p)
		return -ENOSPC;
	p->ev.kind = BL_PFSM_EV_DONE;
	p->ev.req = req;
	p->idx = heater;
	return 0;
}

int bl_hal_print_home(uint32_t req, int mode, double gap_um)
{
	struct bl_sim_pfsm *w = world;
	if (!w)
		return -ENODEV;
	TRACE(w, "home      req=%u mode=%d gap=%.1f", req, mode, gap_um);
	if (request_injected(w, BL_SIM_P_HOME, req, w->d.home))
		return 0;
	axis_halt(w);
	w->axis.mode = mode;
	w->axis.gap_um = gap_um;
	struct bl_sim_ppending *p = push(w, w->now + w->d.home, P_HOME);
	if (!p)
		return -ENOSPC;
	p->ev.kind = BL_PFSM_EV_DONE;
	p->ev.req = req;
	return 0;
}

int bl_hal_print_prime(uint32_t req, double rate_ul_min, double volume_ul)
{
	struct bl_sim_pfsm *w = world;
	if (!w)
		return -ENODEV;
	TRACE(w, "prime     req=%u rate=%.2f vol=%.2f", req, rate_ul_min, volume_ul);
	uint64_t t = ticks(volume_ul / rate_ul_min * 60.0);
	if (request_injected(w, BL_SIM_P_PRIME, req, t))
		return 0;
	if (w->pump.running) {
		answer(w, 0, P_EVENT, req, -BL_EBUSY);
		return 0;
	}
	pump_go(w, rate_ul_min);
	w->pump.priming = true;
	struct bl_sim_ppending *p = push(w, w->now + t, P_PRIME);
	if (!p)
		return -ENOSPC;
	p->ev.kind = BL_PFSM_EV_DONE;
	p->ev.req = req;
	return 0;
}

int bl_hal_print_detector_arm(uint32_t req, uint32_t frames, uint64_t count_time)
{
	struct bl_sim_pfsm *w = world;
	if (!w)
		return -ENODEV;
	TRACE(w, "arm       req=%u frames=%u count_time=%" PRIu64, req, frames, count_time);
	if (request_injected(w, BL_SIM_P_ARM, req, w->d.arm))
		return 0;
	w->det.armed = true;
	w->det.series = w->det.next_series++;
	w->det.frames = 0;
	struct bl_sim_ppending *p = push(w, w->now + w->d.arm, P_EVENT);
	if (!p)
		return -ENOSPC;
	p->ev.kind = BL_PFSM_EV_DONE;
	p->ev.req = req;
	p->ev.series = w->det.series;
	return 0;
}

int bl_hal_print_detector_disarm(uint32_t req)
{
	struct bl_sim_pfsm *w = world;
	if (!w)
		return -ENODEV;
	TRACE(w, "disarm    req=%u", req);
	if (request_injected(w, BL_SIM_P_DISARM, req, w->d.disarm))
		return 0;
	w->det.armed = false;
	answer(w, w->d.disarm, P_EVENT, req, 0);
	return 0;
}

int bl_hal_print_pump_run(double rate_ul_min)
{
	struct bl_sim_pfsm *w = world;
	if (!w)
		return -ENODEV;
	TRACE(w, "pump_run  rate=%.2f", rate_ul_min);
	int rc = 0;
	if (injected(w, BL_SIM_P_PUMP_RUN, &rc, NULL) && rc < 0)
		return rc;
	pump_go(w, rate_ul_min);
	return 0;
}

int bl_hal_print_pump_stop(void)
{
	struct bl_sim_pfsm *w = world;
	if (!w)
		return -ENODEV;
	TRACE(w, "pump_stop %s", w->pump.running ? "running" : "still");
	pump_halt(w);
	drop_pending(w, is_prime); /* a cut prime is not answered */
	return 0;
}

int bl_hal_print_motion_start(int mode, double speed_mm_s)
{
	struct bl_sim_pfsm *w = world;
	if (!w)
		return -ENODEV;
	TRACE(w, "move      mode=%d speed=%.3f", mode, speed_mm_s);
	int rc = 0;
	if (injected(w, BL_SIM_P_MOTION_START, &rc, NULL) && rc < 0)
		return rc;
	axis_halt(w);
	w->axis.mode = mode;
	w->axis.moving = true;
	w->axis.speed = speed_mm_s;
	w->axis.since = w->now;
	return 0;
}

int bl_hal_print_motion_stop(void)
{
	struct bl_sim_pfsm *w = world;
	if (!w)
		return -ENODEV;
	TRACE(w, "move_stop %s at=%.3f", w->axis.moving ? "moving" : "still", bl_sim_pfsm_axis(w));
	axis_halt(w);
	drop_pending(w, is_home);
	return 0;
}

int bl_hal_print_trigger(uint32_t frame, uint64_t when)
{
	struct bl_sim_pfsm *w = world;
	if (!w)
		return -ENODEV;
	TRACE(w, "trigger   frame=%u when=%" PRIu64, frame, when);
	int rc = 0;
	uint64_t jitter = 0;
	if (injected(w, BL_SIM_P_TRIGGER, &rc, &jitter)) {
		if (rc < 0)
			return rc;
		if (rc == 0) {
			TRACE(w, "world     edge frame=%u lost", frame);
			return 0; /* the box misses it: no edge, no frame */
		}
	}
	uint64_t t = w->now + jitter;
	if (w->nshots < BL_SIM_PFSM_SHOTS) {
		struct bl_sim_shot *s = &w->shot[w->nshots];
		s->t = t;
		s->when = when;
		s->frame = frame;
		s->axis_mm = bl_sim_pfsm_axis(w) +
			     (w->axis.moving ? w->axis.speed * (double)jitter / 1e6 : 0);
		s->speed_mm_s = w->axis.moving ? w->axis.speed : 0;
		s->pumping = w->pump.running;
		s->armed = w->det.armed;
		s->beam_ok = w->il == 0;
	}
	w->nshots++;
	if (w->det.armed) {
		w->det.frames++;
		if (w->il)
			w->det.frames_spoiled++;
	} else {
		w->det.frames_unarmed++;
	}
	if (w->ts) {
		struct bl_sim_ppending *p = push(w, t + w->d.readback, P_EDGE);
		if (p)
			p->t = t;
	}
	return 0;
}

void bl_hal_print_safe_state(int reason, int err, bool heaters_off)
{
	struct bl_sim_pfsm *w = world;
	if (!w)
		return;
	TRACE(w, "safe      reason=%d err=%d heaters_off=%d", reason, err, heaters_off);
	w->safe_states++;
	w->safe_heaters_off = heaters_off;
	pump_halt(w);
	axis_halt(w);
	w->det.armed = false;
	if (heaters_off)
		for (int i = 0; i < w->cfg->nheaters; i++)
			heater_to(w, i, w->heater[i].ambient_c);
	drop_pending(w, is_device_answer);
	if (w->ts && !bl_trigseq_done(w->ts))
		bl_trigseq_stop(w->ts, w->now);
}

void bl_hal_print_note(int what, int64_t value)
{
	static const char *const names[] = {"?",    "refused", "heated",   "primed",  "start",
					    "done", "spoiled", "aborted",  "suspend", "resume",
					    "temp", "reset",   "stale_cmd"};
	struct bl_sim_pfsm *w = world;
	if (!w)
		return;
	bool known = what > 0 && what <= BL_PNOTE_STALE_CMD;
	if (known)
		w->notes[what]++;
	if (what == BL_PNOTE_REFUSED)
		TRACE(w, "note      refused %s", bl_pfsm_field_name((int)value));
	else
		TRACE(w, "note      %s %" PRId64, known ? names[what] : "?", value);
	/* The port's side of the trigger sequencer: program it for each print, close a cut one. */
	if (!w->ts)
		return;
	if (what == BL_PNOTE_START) {
		int rc = bl_trigseq_program_print(w->ts, w->now, w->fsm, NULL);
		if (rc)
			error(w, "t=%" PRIu64 ": trigseq program: %d", w->now, rc);
	} else if ((what == BL_PNOTE_SPOILED || what == BL_PNOTE_ABORTED) &&
		   !bl_trigseq_done(w->ts)) {
		bl_trigseq_stop(w->ts, w->now);
	}
}

/* --- edge records (any world, or none) --- */

static struct bl_sim_edge edges[BL_SIM_EDGES_MAX];
static size_t nedges;

void bl_sim_edges_reset(void)
{
	nedges = 0;
}

size_t bl_sim_edges_count(void)
{
	return nedges;
}

const struct bl_sim_edge *bl_sim_edge(size_t i)
{
	return i < nedges && i < BL_SIM_EDGES_MAX ? &edges[i] : NULL;
}

void bl_hal_trigseq_edge(const struct bl_edge_meta *m)
{
	if (nedges < BL_SIM_EDGES_MAX) {
		struct bl_sim_edge *e = &edges[nedges];
		e->m = *m;
		snprintf(e->barcode, sizeof(e->barcode), "%s",
			 m->has_sample && m->sample.barcode ? m->sample.barcode : "");
		snprintf(e->label, sizeof(e->label), "%s",
			 m->has_print && m->print.label ? m->print.label : "");
		e->m.sample.barcode = e->barcode;
		e->m.print.label = e->label;
	}
	nedges++;
	struct bl_sim_pfsm *w = world;
	if (!w)
		return;
	char frame[16] = "-";
	if (m->frame != BL_EDGE_NO_FRAME)
		snprintf(frame, sizeof(frame), "%u", m->frame);
	TRACE(w, "edge      %s series=%u frame=%s prog=%d t=%" PRIu64 " dt=%" PRId64 " flags=%#x",
	      bl_edge_kind_name(m->kind), m->series, frame, (int)m->prog, m->t_edge, m->dt,
	      m->flags);
	if (m->has_print) {
		const struct bl_pfsm_latch *p = &m->print;
		char temps[96] = "";
		size_t n = 0;
		for (int i = 0; i < p->nheaters && n < sizeof(temps); i++)
			n += (size_t)snprintf(temps + n, sizeof(temps) - n, " %.2f@%" PRIu64,
					      p->temp_c[i], p->temp_at[i]);
		TRACE(w,
		      "          film=%.3f axis=%.3f since=%" PRId64 " flow=%.2f speed=%.3f T=%s",
		      p->film_mm, p->axis_mm, p->since_coat, p->flow_ul_min, p->speed_mm_s, temps);
	}
}

/* --- the loop --- */

static const char *timed_name(uint16_t type)
{
	switch (type) {
	case BL_PT_PUMP_RUN: return "pump_run";
	case BL_PT_MOTION_START: return "move";
	case BL_PT_TRIGGER: return "trigger";
	case BL_PT_MOTION_STOP: return "move_stop";
	case BL_PT_PUMP_STOP: return "pump_stop";
	default: return "?";
	}
}

static void trace_event(struct bl_sim_pfsm *w, const struct bl_pfsm_event *ev)
{
	static const char *const il[] = {"?", "door", "beam", "estop", "agent"};
	static const char *const cmd[] = {"?", "start", "pause", "resume", "abort", "reset"};
	static const char *const dev[] = {"?", "heater", "pump", "motion", "detector", "trigger"};
	switch (ev->kind) {
	case BL_PFSM_EV_DONE:
		TRACE(w, "<- done   req=%u rc=%d value=%.2f series=%u", ev->req, ev->rc, ev->value,
		      ev->series);
		break;
	case BL_PFSM_EV_INTERLOCK:
		TRACE(w, "<- il     %s %s",
		      ev->interlock >= 1 && ev->interlock <= 4 ? il[ev->interlock] : "?",
		      ev->active ? "on" : "off");
		break;
	case BL_PFSM_EV_CMD:
		TRACE(w, "<- cmd    %s", ev->cmd >= 1 && ev->cmd <= 5 ? cmd[ev->cmd] : "?");
		break;
	case BL_PFSM_EV_ALARM:
		TRACE(w, "<- alarm  %s rc=%d", ev->dev >= 1 && ev->dev <= 5 ? dev[ev->dev] : "?",
		      ev->rc);
		break;
	case BL_PFSM_EV_SCHED_FAULT:
		TRACE(w, "<- sched  fault code=%d err=%d id=%u %s late=%" PRIu64,
		      ev->fault ? ev->fault->code : 0, ev->fault ? ev->fault->err : 0,
		      ev->fault ? ev->fault->cmd_id : 0,
		      ev->fault ? timed_name(ev->fault->cmd_type) : "?",
		      ev->fault ? ev->fault->late_by : 0);
		break;
	default: TRACE(w, "<- ?      kind=%d", ev->kind); break;
	}
}

static int deliver(struct bl_sim_pfsm *w, const struct bl_pfsm_event *ev)
{
	if (ev->kind == BL_PFSM_EV_INTERLOCK &&
	    (ev->interlock == BL_PIL_DOOR || ev->interlock == BL_PIL_BEAM)) {
		unsigned bit = ev->interlock == BL_PIL_DOOR ? BL_PHOLD_DOOR : BL_PHOLD_BEAM;
		if (ev->active)
			w->il |= bit; /* shutter closed or no beam */
		else
			w->il &= ~bit;
	}
	trace_event(w, ev);
	int rc = bl_pfsm_step(w->fsm, w->now, ev);
	if (rc)
		TRACE(w, "   -> rc=%d state=%s", rc, bl_pfsm_state_name(bl_pfsm_state(w->fsm)));
	return rc;
}

static int exec_cb(void *ctx, const struct bl_cmd *cmd, uint64_t when, uint64_t now)
{
	struct bl_sim_pfsm *w = ctx;
	TRACE(w, "exec      %s id=%u when=%" PRIu64 " late=%" PRIu64, timed_name(cmd->type),
	      cmd->id, when, now - when);
	return bl_pfsm_exec(w->fsm, cmd, when, now);
}

/* The port's bl_hal_fault(): the FSM's own commands go back to it at once. */
static void fault_hook(void *ctx, const struct bl_fault *x)
{
	struct bl_sim_pfsm *w = ctx;
	w->sched_faults++;
	if (x->source != w->cfg->sched_source)
		return;
	struct bl_pfsm_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = BL_PFSM_EV_SCHED_FAULT;
	ev.fault = x;
	deliver(w, &ev);
}

void bl_sim_pfsm_config(struct bl_pfsm_config *c)
{
	memset(c, 0, sizeof(*c));
	c->limits.flow_ul_min = (struct bl_pfsm_range){1, 500};
	c->limits.coat_speed_mm_s = (struct bl_pfsm_range){0.5, 50};
	c->limits.web_speed_mm_s = (struct bl_pfsm_range){0.5, 30};
	c->limits.temperature_c = (struct bl_pfsm_range){20, 150};
	c->limits.gap_um = (struct bl_pfsm_range){20, 500};
	c->limits.coater_travel_mm = (struct bl_pfsm_range){0, 300};
	c->nheaters = 2;
	c->max_web_length_mm = 2000;
	c->max_prime_ul = 200;
	c->beam_offset_mm = 50;
	c->cool_c = 25;
	c->heaters_off_on_fault = false;
	c->sched_source = 0xfff0;
	c->heat.tolerance_c = 1.0;
	c->heat.settle = 5 * BL_TICKS_PER_SEC;
	c->heat.poll = BL_TICKS_PER_SEC;
	c->heat.max = 600ull * BL_TICKS_PER_SEC;
	c->start_lead = 200000;
	c->end_margin = 100000;
	c->timeout.heater = BL_TICKS_PER_SEC;
	c->timeout.home = 30ull * BL_TICKS_PER_SEC;
	c->timeout.arm = 2ull * BL_TICKS_PER_SEC;
	c->timeout.disarm = 2ull * BL_TICKS_PER_SEC;
	c->timeout.prime_extra = 5ull * BL_TICKS_PER_SEC;
}

void bl_sim_pfsm_recipe(struct bl_pfsm_recipe *r, int mode)
{
	static const double stage_s[] = {0.5, 1, 2, 4, 8, 15, 30, 60};
	static const double web_s[] = {10, 12, 15, 20, 30, 45, 60, 90};
	memset(r, 0, sizeof(*r));
	bool stage = mode == BL_PMODE_STAGE;
	snprintf(r->label, sizeof(r->label), "%s", stage ? "PM6:Y6 stage" : "PM6:Y6 web");
	r->mode = mode;
	r->flow_ul_min = 20;
	r->speed_mm_s = stage ? 10 : 5;
	r->gap_um = 100;
	r->length_mm = stage ? 100 : 200;
	r->nheaters = 2;
	r->setpoint_c[0] = 60;
	r->setpoint_c[1] = 70;
	r->prime_rate_ul_min = 100;
	r->prime_volume_ul = 10;
	r->nframes = 8;
	for (int i = 0; i < 8; i++)
		r->delay[i] = ticks(stage ? stage_s[i] : web_s[i]);
	r->count_time = 200000;
	r->cool = false;
}

const struct bl_sim_pfsm_delays bl_sim_pfsm_delays_default = {
    .heater_set = 20000,
    .heater_read = 20000,
    .home = 3 * BL_TICKS_PER_SEC,
    .arm = 200000,
    .disarm = 100000,
    .readback = 2000,
};

int bl_sim_pfsm_init(struct bl_sim_pfsm *w, struct bl_pfsm *fsm, const struct bl_pfsm_config *cfg,
		     const struct bl_sim_pfsm_delays *d, char *trace, size_t trace_cap)
{
	memset(w, 0, sizeof(*w));
	w->fsm = fsm;
	w->cfg = cfg;
	w->d = *d;
	for (int i = 0; i < BL_PFSM_MAX_HEATERS; i++) {
		struct bl_sim_heater *h = &w->heater[i];
		h->ambient_c = h->sp_c = h->from_c = 25.0;
		h->tau_s = 20.0;
		h->max_c = 300.0;
	}
	w->det.next_series = 1;
	w->trace = trace;
	w->trace_cap = trace_cap;
	if (trace && trace_cap)
		trace[0] = '\0';
	const struct bl_sched_limits lim = {
	    .min_lead = 1000, .horizon = 3600ull * BL_TICKS_PER_SEC, .tolerance = 1000};
	int rc = bl_sched_init(&w->sched, w->sched_storage, BL_SIM_PFSM_SCHED, &lim);
	if (rc)
		return rc;
	world = w;
	bl_sim_hal_reset();
	bl_sim_hal_set_hook(fault_hook, w);
	return bl_pfsm_init(fsm, cfg, &w->sched);
}

void bl_sim_pfsm_attach(struct bl_sim_pfsm *w, struct bl_trigseq *ts)
{
	w->ts = ts;
}

void bl_sim_pfsm_stall(struct bl_sim_pfsm *w, uint64_t from, uint64_t until)
{
	w->stall_from = from;
	w->stall_until = until;
}

int bl_sim_pfsm_at(struct bl_sim_pfsm *w, uint64_t when, const struct bl_pfsm_event *ev)
{
	struct bl_sim_ppending *p = push(w, when, P_EVENT);
	if (!p)
		return -ENOSPC;
	p->ev = *ev;
	return 0;
}

int bl_sim_pfsm_interlock_at(struct bl_sim_pfsm *w, uint64_t when, int il, bool active)
{
	struct bl_pfsm_event ev = {.kind = BL_PFSM_EV_INTERLOCK, .interlock = il, .active = active};
	return bl_sim_pfsm_at(w, when, &ev);
}

int bl_sim_pfsm_cmd_at(struct bl_sim_pfsm *w, uint64_t when, int cmd,
		       const struct bl_pfsm_recipe *r)
{
	struct bl_pfsm_event ev = {.kind = BL_PFSM_EV_CMD, .cmd = cmd, .recipe = r};
	return bl_sim_pfsm_at(w, when, &ev);
}

int bl_sim_pfsm_alarm_at(struct bl_sim_pfsm *w, uint64_t when, int dev, int rc)
{
	struct bl_sim_ppending *p = push(w, when, P_ALARM);
	if (!p)
		return -ENOSPC;
	p->ev.kind = BL_PFSM_EV_ALARM;
	p->ev.dev = dev;
	p->ev.rc = rc;
	return 0;
}

int bl_sim_pfsm_cmd(struct bl_sim_pfsm *w, int cmd, const struct bl_pfsm_recipe *r)
{
	struct bl_pfsm_event ev = {.kind = BL_PFSM_EV_CMD, .cmd = cmd, .recipe = r};
	return deliver(w, &ev);
}

/* When the port runs the scheduler next: its next time, unless the port is stalled then. */
static uint64_t sched_due(const struct bl_sim_pfsm *w)
{
	uint64_t n = bl_sched_next(&w->sched);
	if (n == BL_SCHED_NEVER)
		return n;
	uint64_t eff = n > w->now ? n : w->now;
	if (eff >= w->stall_from && eff < w->stall_until)
		return w->stall_until;
	return n;
}

static void handle(struct bl_sim_pfsm *w, struct bl_sim_ppending *p)
{
	switch (p->what) {
	case P_READ: p->ev.value = heater_temp(&w->heater[p->idx], w->now); break;
	case P_PRIME: pump_halt(w); break;
	case P_HOME:
		w->axis.pos = 0;
		w->axis.homed = true;
		break;
	case P_EDGE: {
		int rc = bl_trigseq_edge(w->ts, w->now, p->t);
		if (rc)
			TRACE(w, "   edge at %" PRIu64 " refused: %d", p->t, rc);
		return;
	}
	case P_ALARM:
		if (p->ev.dev == BL_PDEV_PUMP)
			pump_halt(w);
		else if (p->ev.dev == BL_PDEV_MOTION)
			axis_halt(w);
		break;
	default: break;
	}
	int rc = deliver(w, &p->ev);
	if (rc && p->what == P_EVENT && p->ev.kind != BL_PFSM_EV_DONE &&
	    p->ev.kind != BL_PFSM_EV_CMD)
		error(w, "t=%" PRIu64 ": event kind %d refused: %d", w->now, p->ev.kind, rc);
}

long bl_sim_pfsm_run(struct bl_sim_pfsm *w, uint64_t until)
{
	long steps = 0;
	for (;;) {
		if (++steps > 1000000) {
			error(w, "more than a million steps");
			return -ELOOP;
		}
		uint64_t tf = bl_pfsm_next(w->fsm);
		uint64_t tw = w->npend ? w->pend[0].when : BL_PFSM_NEVER;
		uint64_t tsch = sched_due(w);
		uint64_t tt = w->ts ? bl_trigseq_next(w->ts) : BL_PFSM_NEVER;
		uint64_t t = tf;
		t = tw < t ? tw : t;
		t = tsch < t ? tsch : t;
		t = tt < t ? tt : t;
		if (t == BL_PFSM_NEVER || t > until)
			break;
		if (t > w->now)
			w->now = t;
		if (tsch == t) {
			int rc = bl_sched_run(&w->sched, w->now, exec_cb, w);
			if (rc < 0)
				error(w, "bl_sched_run: %d", rc);
			continue;
		}
		if (tw == t) {
			struct bl_sim_ppending p = w->pend[0];
			w->npend--;
			memmove(&w->pend[0], &w->pend[1], w->npend * sizeof(w->pend[0]));
			handle(w, &p);
			continue;
		}
		if (tt == t) {
			bl_trigseq_step(w->ts, w->now);
			continue;
		}
		int rc = bl_pfsm_step(w->fsm, w->now, NULL);
		if (rc)
			error(w, "time step rc=%d", rc);
		if (bl_pfsm_next(w->fsm) <= w->now) {
			error(w, "t=%" PRIu64 ": time step left bl_pfsm_next() at %" PRIu64, w->now,
			      bl_pfsm_next(w->fsm));
			return -ELOOP;
		}
	}
	if (until != BL_PFSM_NEVER && until > w->now)
		w->now = until;
	return steps;
}
