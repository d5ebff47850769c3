/* sample_fsm_status.c: the sample-cycle FSM's configuration check, status queries and names. */
#include "sample_fsm.h"

static size_t str_len(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n] != '\0')
		n++;
	return n;
}

static int check_config(const struct bl_sfsm_config *c)
{
	if (c->count == 0 || c->count > BL_SFSM_MAX_POS)
		return -BL_EINVAL;
	if (c->exposure.frames == 0 || c->exposure.count_time == 0 ||
	    c->exposure.period < c->exposure.count_time || c->exposure.lead == 0)
		return -BL_EINVAL;
	if (!c->timeout.robot || !c->timeout.barcode || !c->timeout.arm || !c->timeout.trigger ||
	    !c->timeout.disarm)
		return -BL_EINVAL;
	for (size_t i = 0; i < c->count; i++) {
		size_t n = str_len(c->pos[i].barcode, BL_SFSM_BARCODE_MAX);
		if (n == 0 || n == BL_SFSM_BARCODE_MAX)
			return -BL_EINVAL; /* empty or not terminated */
		if (c->pos[i].puck == 0xff || c->pos[i].slot == 0xff)
			return -BL_EINVAL; /* 0xff means "no position" in bl_hal_robot() */
		for (size_t j = 0; j < i; j++)
			if (c->pos[j].puck == c->pos[i].puck && c->pos[j].slot == c->pos[i].slot)
				return -BL_EINVAL; /* two samples in one slot */
	}
	return 0;
}

int bl_sfsm_init(struct bl_sfsm *f, const struct bl_sfsm_config *cfg)
{
	if (!f || !cfg)
		return -BL_EINVAL;
	int rc = check_config(cfg);
	if (rc < 0)
		return rc;
	f->cfg = cfg;
	for (size_t i = 0; i < BL_SFSM_MAX_POS; i++) {
		struct bl_sfsm_pos_status *p = &f->pos[i];
		p->state = BL_POS_IDLE;
		p->loc = i < cfg->count ? BL_LOC_SLOT : BL_LOC_NONE;
		p->to = BL_LOC_NONE;
		p->measured = 0;
		p->series = 0;
		p->reads = 0;
		p->scan = BL_SCAN_NONE;
		p->read[0] = '\0';
		f->queue[i] = 0;
	}
	f->q_head = f->q_len = 0;
	f->state = f->target = f->resume_to = BL_SFSM_IDLE;
	f->cur = -1;
	f->disp = BL_POS_IDLE;
	f->busy = false;
	f->req = 0;
	f->next_req = 1;
	f->deadline = f->train_start = f->expose_end = 0;
	f->series = 0;
	f->det_armed = f->train_running = f->at_reader = f->abort_req = false;
	f->estop = f->in_step = false;
	f->parked = false; /* unknown at start: the first hold parks */
	f->il = f->hold = 0;
	f->hold_since = 0;
	f->scanning = f->recover = f->recovering = f->agent_seen = false;
	f->scan_prev = BL_POS_IDLE;
	f->agent_last = 0;
	struct bl_sfsm_fault *x = &f->fault;
	x->reason = x->err = 0;
	x->now = 0;
	x->state = BL_SFSM_IDLE;
	x->sample = -1;
	x->last_known = x->moving_to = BL_LOC_NONE;
	struct bl_sfsm_counters *k = &f->counters;
	k->measured = k->quarantined = k->mismatched = k->faulted = k->aborted = 0;
	k->reads = k->read_retries = k->robot_moves = k->suspensions = 0;
	k->suspended_ticks = 0;
	k->exposures_discarded = k->exposures_by_time = k->stale_events = 0;
	k->scanned = k->scan_failed = k->agent_silences = k->recovered = 0;
	return 0;
}

int bl_sfsm_restore(struct bl_sfsm *f, int i, int state, bool measured, uint32_t series, int loc)
{
	if (!f || !f->cfg || i < 0 || i >= f->cfg->count || f->state != BL_SFSM_IDLE || f->q_len ||
	    f->busy)
		return -BL_EINVAL;
	bool settled = state == BL_POS_IDLE || state == BL_POS_DONE ||
		       state == BL_POS_QUARANTINED || state == BL_POS_MISMATCH ||
		       state == BL_POS_FAULT;
	if (!settled || (loc != BL_LOC_SLOT && loc != BL_LOC_GRIPPER && loc != BL_LOC_STAGE))
		return -BL_EINVAL;
	if (loc != BL_LOC_SLOT && f->cur >= 0 && f->cur != i)
		return -BL_EALREADY; /* the robot holds one sample at most */
	struct bl_sfsm_pos_status *p = &f->pos[i];
	p->measured = measured ? 1 : 0;
	p->series = series;
	p->loc = (uint8_t)loc;
	p->to = BL_LOC_NONE;
	p->state = (uint8_t)state;
	bl_hal_sfsm_note(BL_NOTE_RESTORED, i, loc);
	if (loc != BL_LOC_SLOT) {
		/* Out of its slot: becomes the current sample, put back at the first step. */
		f->cur = i;
		f->disp = state;
		p->state = BL_POS_ACTIVE;
		f->recover = true;
		f->counters.recovered++;
	} else if (f->cur == i) {
		f->cur = -1;
		f->recover = false;
		f->counters.recovered--;
	}
	return 0;
}

uint64_t bl_sfsm_next(const struct bl_sfsm *f)
{
	uint64_t t = BL_SFSM_NEVER;
	if (f->busy)
		t = f->deadline;
	else if (f->state == BL_SFSM_EXPOSE)
		t = f->expose_end;
	if (f->recover)
		t = 0; /* now */
	if (f->cfg->agent_timeout && f->agent_seen && !(f->il & BL_HOLD_AGENT)) {
		uint64_t a = f->agent_last + f->cfg->agent_timeout + 1;
		if (a < t)
			t = a;
	}
	return t;
}

int bl_sfsm_state(const struct bl_sfsm *f)
{
	return f->state;
}

int bl_sfsm_current(const struct bl_sfsm *f)
{
	return f->cur;
}

const struct bl_sfsm_pos_status *bl_sfsm_pos(const struct bl_sfsm *f, int i)
{
	if (i < 0 || i >= f->cfg->count)
		return NULL;
	return &f->pos[i];
}

const struct bl_sfsm_counters *bl_sfsm_counters(const struct bl_sfsm *f)
{
	return &f->counters;
}

const struct bl_sfsm_fault *bl_sfsm_fault(const struct bl_sfsm *f)
{
	return &f->fault;
}

unsigned bl_sfsm_hold(const struct bl_sfsm *f)
{
	return f->hold;
}

size_t bl_sfsm_queued(const struct bl_sfsm *f)
{
	return f->q_len;
}

int bl_sfsm_latch(const struct bl_sfsm *f, uint64_t edge, struct bl_sfsm_latch *out)
{
	const struct bl_sfsm_config *c = f->cfg;
	/* The sample is exposed from half a period before the train's first programmed edge (the
	 * box's readback, mapped onto the controller clock, may put that edge a little early) to
	 * the end of its last period; the frame guess is the nearest programmed edge. */
	uint64_t p = c->exposure.period, half = p / 2;
	if (!f->train_running || f->cur < 0 || edge + half < f->train_start ||
	    edge >= f->train_start + (uint64_t)c->exposure.frames * p)
		return -BL_ENOENT;
	uint64_t frame = (edge + half - f->train_start) / p;
	if (frame >= c->exposure.frames)
		frame = c->exposure.frames - 1;
	out->series = f->series;
	out->frame = (uint32_t)frame;
	out->sample = f->cur;
	out->puck = c->pos[f->cur].puck;
	out->slot = c->pos[f->cur].slot;
	out->barcode = c->pos[f->cur].barcode;
	return 0;
}

const char *bl_sfsm_state_name(int state)
{
	static const char *const names[BL_SFSM_STATE_COUNT] = {
	    "idle",   "pick",	"to_reader", "read", "place", "arm",   "trigger", "expose",
	    "disarm", "return", "trig_stop", "park", "held",  "fault", "finish",  "next"};
	if (state < 0 || state >= BL_SFSM_STATE_COUNT)
		return "?";
	return names[state];
}

const char *bl_sfsm_pos_state_name(int state)
{
	static const char *const names[] = {"idle",	   "queued",   "active", "done",
					    "quarantined", "mismatch", "fault"};
	if (state < 0 || state > BL_POS_FAULT)
		return "?";
	return names[state];
}

const char *bl_loc_name(int loc)
{
	static const char *const names[] = {"none", "slot", "gripper", "stage", "unknown"};
	if (loc < 0 || loc > BL_LOC_UNKNOWN)
		return "?";
	return names[loc];
}
