/* sim_sfsm.c: the sim port's sample-cycle HAL: device models answering after virtual delays. */
#include "sim_sfsm.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static struct bl_sim_sfsm *world;

enum { PEND_EVENT = 0, PEND_TRAIN_END = 1, PEND_ROBOT = 2 };

void bl_sim_sfsm_tracef(struct bl_sim_sfsm *w, const char *fmt, ...)
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

#define TRACE(w, fmt, ...) bl_sim_sfsm_tracef((w), "%10" PRIu64 " " fmt "\n", (w)->now, __VA_ARGS__)

static void error(struct bl_sim_sfsm *w, int *counter, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void error(struct bl_sim_sfsm *w, int *counter, const char *fmt, ...)
{
	if (w->physical_errors + w->loc_errors + w->event_errors == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(w->first_error, sizeof(w->first_error), fmt, ap);
		va_end(ap);
	}
	(*counter)++;
}

void bl_sim_sfsm_init(struct bl_sim_sfsm *w, struct bl_sfsm *fsm, const struct bl_sfsm_config *cfg,
		      const struct bl_sim_sfsm_delays *d, char *trace, size_t trace_cap)
{
	memset(w, 0, sizeof(*w));
	w->cfg = cfg;
	w->fsm = fsm;
	w->d = *d;
	w->frames_events = true;
	for (int i = 0; i < BL_SFSM_MAX_POS; i++) {
		w->slot[i] = i < cfg->count ? i : -1;
		memcpy(w->label[i].text, cfg->pos[i].barcode, sizeof(w->label[i].text));
		w->label[i].fail_rc = -BL_ENODATA;
	}
	w->gripper = w->stage = -1;
	w->train_sample = -1;
	w->next_series = 1;
	w->trace = trace;
	w->trace_cap = trace_cap;
	if (trace && trace_cap)
		trace[0] = '\0';
	world = w;
}

int bl_sim_sfsm_inject(struct bl_sim_sfsm *w, int req, int op, int nth, int rc)
{
	if (w->ninj >= BL_SIM_SFSM_INJECT || req < BL_SIM_REQ_ROBOT || req > BL_SIM_REQ_TRIG_STOP)
		return -ENOSPC;
	struct bl_sim_inject *in = &w->inj[w->ninj++];
	in->req = req;
	in->op = op;
	in->nth = nth;
	in->rc = rc;
	in->seen = 0;
	return 0;
}

/* Counts a request; true with *rc set when an injection takes it over. */
static bool injected(struct bl_sim_sfsm *w, int req, int op, int *rc)
{
	bool hit = false;
	for (size_t i = 0; i < w->ninj; i++) {
		struct bl_sim_inject *in = &w->inj[i];
		if (in->req != req || (in->op && in->op != op))
			continue;
		if (++in->seen == in->nth && !hit) {
			*rc = in->rc;
			hit = true;
		}
	}
	return hit;
}

static struct bl_sim_pending *push(struct bl_sim_sfsm *w, uint64_t when)
{
	if (w->npend >= BL_SIM_SFSM_PENDING)
		return NULL;
	size_t i = w->npend++;
	/* Keep pend sorted by (when, seq): insertion from the back. */
	while (i > 0 && w->pend[i - 1].when > when) {
		w->pend[i] = w->pend[i - 1];
		i--;
	}
	struct bl_sim_pending *p = &w->pend[i];
	memset(p, 0, sizeof(*p));
	p->when = when;
	p->seq = w->seq++;
	return p;
}

static void answer(struct bl_sim_sfsm *w, uint64_t delay, uint32_t req, int rc, uint32_t series,
		   const char *text)
{
	struct bl_sim_pending *p = push(w, w->now + delay);
	if (!p) {
		error(w, &w->physical_errors, "pending queue full");
		return;
	}
	p->ev.kind = BL_SFSM_EV_DONE;
	p->ev.req = req;
	p->ev.rc = rc;
	p->ev.series = series;
	if (text) {
		snprintf(p->text, sizeof(p->text), "%s", text);
		p->ev.barcode = p->text;
	}
}

static int pos_index(const struct bl_sim_sfsm *w, uint8_t puck, uint8_t slot)
{
	for (int i = 0; i < w->cfg->count; i++)
		if (w->cfg->pos[i].puck == puck && w->cfg->pos[i].slot == slot)
			return i;
	return -1;
}

int bl_sim_sfsm_where(const struct bl_sim_sfsm *w, int i)
{
	if (w->gripper == i)
		return BL_LOC_GRIPPER;
	if (w->stage == i)
		return BL_LOC_STAGE;
	if (w->slot[i] == i)
		return BL_LOC_SLOT;
	return BL_LOC_UNKNOWN;
}

static const char *const robot_names[] = {"?", "pick", "reader", "place", "return", "park"};

int bl_hal_robot(uint32_t req, int op, uint8_t puck, uint8_t slot)
{
	struct bl_sim_sfsm *w = world;
	if (!w)
		return -ENODEV;
	if (op < BL_ROBOT_PICK || op > BL_ROBOT_PARK)
		return -EINVAL;
	int s = pos_index(w, puck, slot);
	TRACE(w, "robot     req=%u %s s%d", req, robot_names[op], s);
	w->req_count[BL_SIM_REQ_ROBOT][op]++;
	int rc = 0;
	bool inj = injected(w, BL_SIM_REQ_ROBOT, op, &rc);
	if (inj && rc == 0)
		return 0; /* never answered */
	const uint64_t delay[] = {0, w->d.pick, w->d.reader, w->d.place, w->d.ret, w->d.park};
	struct bl_sim_pending *p = push(w, w->now + delay[op]);
	if (!p)
		return -ENOSPC;
	p->internal = PEND_ROBOT;
	p->ev.kind = BL_SFSM_EV_DONE;
	p->ev.req = req;
	p->ev.rc = rc;
	p->ev.interlock = op; /* carried to the completion: op and position */
	p->ev.sample = s;
	return 0;
}

/* The robot finishes op on position s: moves the physical samples, or fails. */
static int robot_complete(struct bl_sim_sfsm *w, int op, int s)
{
	int item;
	switch (op) {
	case BL_ROBOT_PICK:
		if (s < 0 || w->gripper >= 0 || w->slot[s] < 0)
			break;
		w->gripper = w->slot[s];
		w->slot[s] = -1;
		w->pose = op;
		return 0;
	case BL_ROBOT_READER:
	case BL_ROBOT_PARK: w->pose = op; return 0;
	case BL_ROBOT_PLACE:
		if (w->gripper < 0 || w->stage >= 0)
			break;
		w->stage = w->gripper;
		w->gripper = -1;
		w->pose = op;
		return 0;
	case BL_ROBOT_RETURN:
		item = w->gripper >= 0 ? w->gripper : w->stage;
		if (s < 0 || item < 0 || w->slot[s] >= 0)
			break;
		w->slot[s] = item;
		if (w->gripper == item)
			w->gripper = -1;
		else
			w->stage = -1;
		w->pose = op;
		return 0;
	default: break;
	}
	error(w, &w->physical_errors, "t=%" PRIu64 ": robot %s s%d impossible", w->now,
	      robot_names[op], s);
	return -EIO;
}

int bl_hal_barcode_read(uint32_t req)
{
	struct bl_sim_sfsm *w = world;
	if (!w)
		return -ENODEV;
	TRACE(w, "barcode   req=%u", req);
	int rc = 0;
	if (injected(w, BL_SIM_REQ_BARCODE, 0, &rc)) {
		if (rc)
			answer(w, w->d.barcode, req, rc, 0, NULL);
		return 0;
	}
	int g = w->gripper;
	if (g < 0 || w->pose != BL_ROBOT_READER) {
		answer(w, w->d.barcode, req, -BL_ENODATA, 0, NULL);
		return 0;
	}
	struct bl_sim_label *l = &w->label[g];
	w->reads[g]++;
	if (l->fail_first < 0 || w->reads[g] <= l->fail_first)
		answer(w, w->d.barcode, req, l->fail_rc, 0, NULL);
	else
		answer(w, w->d.barcode, req, 0, 0, l->text);
	return 0;
}

int bl_hal_detector_arm(uint32_t req, uint32_t frames, uint64_t count_time)
{
	struct bl_sim_sfsm *w = world;
	if (!w)
		return -ENODEV;
	TRACE(w, "arm       req=%u frames=%u count_time=%" PRIu64, req, frames, count_time);
	int rc = 0;
	if (injected(w, BL_SIM_REQ_ARM, 0, &rc)) {
		if (rc)
			answer(w, w->d.arm, req, rc, 0, NULL);
		return 0;
	}
	w->armed = true;
	w->series = w->next_series++;
	answer(w, w->d.arm, req, 0, w->series, NULL);
	return 0;
}

int bl_hal_detector_disarm(uint32_t req)
{
	struct bl_sim_sfsm *w = world;
	if (!w)
		return -ENODEV;
	TRACE(w, "disarm    req=%u", req);
	int rc = 0;
	if (injected(w, BL_SIM_REQ_DISARM, 0, &rc)) {
		if (rc)
			answer(w, w->d.disarm, req, rc, 0, NULL);
		return 0;
	}
	w->armed = false;
	answer(w, w->d.disarm, req, 0, 0, NULL);
	return 0;
}

int bl_hal_trigger_train(uint32_t req, uint64_t start, uint64_t period, uint32_t count)
{
	struct bl_sim_sfsm *w = world;
	if (!w)
		return -ENODEV;
	TRACE(w, "train     req=%u start=%" PRIu64 " period=%" PRIu64 " count=%u", req, start,
	      period, count);
	int rc = 0;
	if (injected(w, BL_SIM_REQ_TRAIN, 0, &rc)) {
		if (rc)
			answer(w, w->d.trigger, req, rc, 0, NULL);
		return 0;
	}
	if (start < w->now + w->d.trigger || count == 0) {
		answer(w, w->d.trigger, req, -BL_ETIME, 0, NULL); /* the box refuses a past start */
		return 0;
	}
	w->train_on = true;
	w->train_id++;
	w->train_sample = w->stage;
	w->train_spoiled = w->il != 0;
	struct bl_sim_pending *p =
	    push(w, start + (uint64_t)(count - 1) * period + w->cfg->exposure.count_time);
	if (!p)
		return -ENOSPC;
	p->internal = PEND_TRAIN_END;
	p->train = w->train_id;
	answer(w, w->d.trigger, req, 0, 0, NULL);
	return 0;
}

int bl_hal_trigger_stop(uint32_t req)
{
	struct bl_sim_sfsm *w = world;
	if (!w)
		return -ENODEV;
	TRACE(w, "trig_stop req=%u", req);
	int rc = 0;
	if (injected(w, BL_SIM_REQ_TRIG_STOP, 0, &rc)) {
		if (rc)
			answer(w, w->d.trig_stop, req, rc, 0, NULL);
		return 0;
	}
	if (w->train_on && w->train_sample >= 0)
		w->spoiled[w->train_sample]++;
	w->train_on = false;
	answer(w, w->d.trig_stop, req, 0, 0, NULL);
	return 0;
}

/* The train's last frame is over: an exposure counts if it ran whole, armed, with beam. */
static void train_end(struct bl_sim_sfsm *w, uint32_t train)
{
	if (!w->train_on || train != w->train_id)
		return; /* stopped before */
	w->train_on = false;
	int s = w->train_sample;
	bool good = w->armed && s >= 0 && w->stage == s && !w->train_spoiled;
	TRACE(w, "world     train end s%d series=%u %s", s, w->series, good ? "good" : "spoiled");
	if (s >= 0) {
		if (good)
			w->exposures[s]++;
		else
			w->spoiled[s]++;
	}
	if (w->frames_events && w->armed) {
		struct bl_sim_pending *p = push(w, w->now + w->d.readout);
		if (p) {
			p->ev.kind = BL_SFSM_EV_FRAMES;
			p->ev.series = w->series;
		}
	}
}

static const char *const loc_short[] = {"none", "slot", "gripper", "stage", "unknown"};

void bl_hal_journal_intent(uint16_t sample, int from, int to)
{
	struct bl_sim_sfsm *w = world;
	if (w)
		TRACE(w, "intent    s%u %s->%s", sample, loc_short[from], loc_short[to]);
}

void bl_hal_journal_outcome(uint16_t sample, int at, int rc)
{
	struct bl_sim_sfsm *w = world;
	if (w)
		TRACE(w, "outcome   s%u %s rc=%d", sample, loc_short[at], rc);
}

void bl_hal_safe_state(int reason, int err)
{
	struct bl_sim_sfsm *w = world;
	if (!w)
		return;
	TRACE(w, "safe      reason=%d err=%d", reason, err);
	w->safe_states++;
	/* Devices stop: robot motion aborted in place, train stopped, detector disarmed. */
	size_t kept = 0;
	for (size_t i = 0; i < w->npend; i++) {
		const struct bl_sim_pending *p = &w->pend[i];
		bool device = p->internal != PEND_EVENT || p->ev.kind == BL_SFSM_EV_DONE ||
			      p->ev.kind == BL_SFSM_EV_FRAMES;
		if (!device)
			w->pend[kept++] = *p;
	}
	w->npend = kept;
	if (w->train_on && w->train_sample >= 0)
		w->spoiled[w->train_sample]++;
	w->train_on = false;
	w->armed = false;
}

void bl_hal_sfsm_note(int what, int sample, int64_t value)
{
	static const char *const names[] = {"?",	"start",    "retry",	 "quarantine",
					    "mismatch", "measured", "discarded", "suspend",
					    "resume",	"finished", "abort",	 "reset"};
	struct bl_sim_sfsm *w = world;
	if (!w)
		return;
	const char *n = what > 0 && what <= BL_NOTE_RESET ? names[what] : "?";
	if (what == BL_NOTE_FINISHED)
		TRACE(w, "note      %s s%d %s", n, sample, bl_sfsm_pos_state_name((int)value));
	else
		TRACE(w, "note      %s s%d %" PRId64, n, sample, value);
}

int bl_sim_sfsm_at(struct bl_sim_sfsm *w, uint64_t when, const struct bl_sfsm_event *ev)
{
	struct bl_sim_pending *p = push(w, when);
	if (!p)
		return -ENOSPC;
	p->ev = *ev;
	p->ev.barcode = NULL;
	return 0;
}

int bl_sim_sfsm_interlock_at(struct bl_sim_sfsm *w, uint64_t when, int il, bool active)
{
	struct bl_sfsm_event ev = {.kind = BL_SFSM_EV_INTERLOCK, .interlock = il, .active = active};
	return bl_sim_sfsm_at(w, when, &ev);
}

int bl_sim_sfsm_cmd_at(struct bl_sim_sfsm *w, uint64_t when, int cmd, int sample, int loc)
{
	struct bl_sfsm_event ev = {
	    .kind = BL_SFSM_EV_CMD, .cmd = cmd, .sample = sample, .loc = loc};
	return bl_sim_sfsm_at(w, when, &ev);
}

/* After every step: the FSM's belief about each sample not in transit is the physical truth. */
static void check_locations(struct bl_sim_sfsm *w)
{
	for (int i = 0; i < w->cfg->count; i++) {
		const struct bl_sfsm_pos_status *p = bl_sfsm_pos(w->fsm, i);
		if (p->to != BL_LOC_NONE)
			continue;
		int real = bl_sim_sfsm_where(w, i);
		if (p->loc != real)
			error(w, &w->loc_errors, "t=%" PRIu64 ": s%d believed %s, is %s", w->now, i,
			      loc_short[p->loc], loc_short[real]);
	}
}

static void trace_event(struct bl_sim_sfsm *w, const struct bl_sfsm_event *ev)
{
	static const char *const il[] = {"?", "door", "beam", "estop"};
	static const char *const cmd[] = {"?", "queue", "pause", "resume", "abort", "reset"};
	switch (ev->kind) {
	case BL_SFSM_EV_DONE:
		TRACE(w, "<- done   req=%u rc=%d series=%u text=%s", ev->req, ev->rc, ev->series,
		      ev->barcode ? ev->barcode : "-");
		break;
	case BL_SFSM_EV_FRAMES: TRACE(w, "<- frames series=%u rc=%d", ev->series, ev->rc); break;
	case BL_SFSM_EV_INTERLOCK:
		TRACE(w, "<- il     %s %s",
		      ev->interlock >= 1 && ev->interlock <= 3 ? il[ev->interlock] : "?",
		      ev->active ? "on" : "off");
		break;
	case BL_SFSM_EV_CMD:
		TRACE(w, "<- cmd    %s s%d loc=%s",
		      ev->cmd >= 1 && ev->cmd <= 5 ? cmd[ev->cmd] : "?", ev->sample,
		      ev->loc >= 0 && ev->loc <= 4 ? loc_short[ev->loc] : "?");
		break;
	default: TRACE(w, "<- ?      kind=%d", ev->kind); break;
	}
}

/* Hands ev to the FSM now, traced; the world sees interlocks first. */
static int deliver(struct bl_sim_sfsm *w, const struct bl_sfsm_event *ev)
{
	if (ev->kind == BL_SFSM_EV_INTERLOCK && ev->interlock != BL_IL_ESTOP) {
		unsigned bit = ev->interlock == BL_IL_DOOR ? BL_HOLD_DOOR : BL_HOLD_BEAM;
		if (ev->active) {
			w->il |= bit;
			if (w->train_on)
				w->train_spoiled = true; /* shutter closed or no beam */
		} else {
			w->il &= ~bit;
		}
	}
	trace_event(w, ev);
	int rc = bl_sfsm_step(w->fsm, w->now, ev);
	if (rc)
		TRACE(w, "   -> rc=%d", rc);
	check_locations(w);
	return rc;
}

int bl_sim_sfsm_cmd(struct bl_sim_sfsm *w, int cmd, int sample, int loc)
{
	struct bl_sfsm_event ev = {
	    .kind = BL_SFSM_EV_CMD, .cmd = cmd, .sample = sample, .loc = loc};
	return deliver(w, &ev);
}

long bl_sim_sfsm_run(struct bl_sim_sfsm *w, uint64_t until)
{
	long steps = 0;
	for (;;) {
		if (++steps > 1000000)
			return -ELOOP;
		uint64_t tf = bl_sfsm_next(w->fsm);
		uint64_t tw = w->npend ? w->pend[0].when : BL_SFSM_NEVER;
		uint64_t t = tw <= tf ? tw : tf;
		if (t == BL_SFSM_NEVER || t > until)
			break;
		if (t > w->now)
			w->now = t;
		if (tw > tf) {
			int rc = bl_sfsm_step(w->fsm, w->now, NULL);
			if (rc)
				error(w, &w->event_errors, "time step rc=%d", rc);
			check_locations(w);
			if (bl_sfsm_next(w->fsm) <= w->now) {
				/* It asked for a step now and still wants one: it would spin. */
				error(w, &w->event_errors,
				      "t=%" PRIu64 ": time step left bl_sfsm_next() at %" PRIu64,
				      w->now, bl_sfsm_next(w->fsm));
				return -ELOOP;
			}
			continue;
		}
		struct bl_sim_pending p = w->pend[0];
		w->npend--;
		memmove(&w->pend[0], &w->pend[1], w->npend * sizeof(w->pend[0]));
		if (p.ev.barcode)
			p.ev.barcode = p.text;
		if (p.internal == PEND_TRAIN_END) {
			train_end(w, p.train);
			continue;
		}
		if (p.internal == PEND_ROBOT) {
			int op = p.ev.interlock, s = p.ev.sample;
			p.ev.interlock = 0;
			p.ev.sample = 0;
			if (p.ev.rc == 0)
				p.ev.rc = robot_complete(w, op, s);
		}
		int rc = deliver(w, &p.ev);
		if (rc && p.ev.kind != BL_SFSM_EV_DONE && p.ev.kind != BL_SFSM_EV_FRAMES)
			error(w, &w->event_errors, "t=%" PRIu64 ": event kind %d refused: %d",
			      w->now, p.ev.kind, rc);
	}
	if (until != BL_SFSM_NEVER && until > w->now)
		w->now = until;
	return steps;
}
