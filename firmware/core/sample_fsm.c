/* sample_fsm.c: the sample cycle's steps: requests, their answers, holds, aborts and faults. */
#include "sample_fsm.h"

#include "hal/bl_hal_sample.h"

/*
 * Flow. Every step but EXPOSE sends one request and waits for its answer, so at most one request
 * is outstanding. When a step is over, proceed() is told the normal next step (`want`) and
 * decides what really comes next:
 *   - an abort turns `want` into "put the sample back" (or finish it when it is in its slot);
 *   - a hold or abort reached while a series is armed or running makes the exposure re-taken
 *     from ARM (the cut series is discarded and noted);
 *   - before a hold, a robot move or the next sample, the trigger train is stopped and the
 *     detector disarmed ("unwind"), then under a hold the robot parks and the FSM waits in HELD
 *     with `want` kept for resume.
 * No struct assignment or aggregate initializer: compilers may turn those into memcpy / memset
 * calls, which the freestanding core cannot count on (tests/fw/check_freestanding.sh).
 */

static uint32_t new_req(struct bl_sfsm *f)
{
	uint32_t r = f->next_req++;
	if (f->next_req == 0)
		f->next_req = 1;
	return r;
}

static bool str_eq(const char *a, const char *b)
{
	for (size_t i = 0; i < BL_SFSM_BARCODE_MAX; i++) {
		if (a[i] != b[i])
			return false;
		if (a[i] == '\0')
			return true;
	}
	return false; /* longer than any configured barcode */
}

/* Copies at most BL_SFSM_BARCODE_MAX - 1 characters of src, always terminated. */
static void str_copy(char *dst, const char *src)
{
	size_t i = 0;
	for (; i < BL_SFSM_BARCODE_MAX - 1 && src[i] != '\0'; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

static int robot_op_of(int state)
{
	switch (state) {
	case BL_SFSM_PICK: return BL_ROBOT_PICK;
	case BL_SFSM_TO_READER: return BL_ROBOT_READER;
	case BL_SFSM_PLACE: return BL_ROBOT_PLACE;
	case BL_SFSM_RETURN: return BL_ROBOT_RETURN;
	case BL_SFSM_PARK: return BL_ROBOT_PARK;
	default: return 0;
	}
}

/* The move of the current sample a robot step makes; false when it carries none. */
static bool move_of(const struct bl_sfsm *f, int state, int *from, int *to)
{
	if (f->cur < 0)
		return false;
	int loc = f->pos[f->cur].loc;
	switch (state) {
	case BL_SFSM_PICK: *from = BL_LOC_SLOT, *to = BL_LOC_GRIPPER; return true;
	case BL_SFSM_TO_READER: *from = BL_LOC_GRIPPER, *to = BL_LOC_GRIPPER; return true;
	case BL_SFSM_PLACE: *from = BL_LOC_GRIPPER, *to = BL_LOC_STAGE; return true;
	case BL_SFSM_RETURN: *from = loc, *to = BL_LOC_SLOT; return true;
	case BL_SFSM_PARK:
		if (loc != BL_LOC_GRIPPER)
			return false;
		*from = BL_LOC_GRIPPER, *to = BL_LOC_GRIPPER;
		return true;
	default: return false;
	}
}

/* Records the fault, runs the safe state, and stops: nothing moves until a reset. */
static void enter_fault(struct bl_sfsm *f, uint64_t now, int reason, int err)
{
	struct bl_sfsm_fault *x = &f->fault;
	x->reason = reason;
	x->err = err;
	x->now = now;
	x->state = f->state;
	x->sample = f->cur;
	x->last_known = BL_LOC_NONE;
	x->moving_to = BL_LOC_NONE;
	if (f->cur >= 0) {
		struct bl_sfsm_pos_status *p = &f->pos[f->cur];
		if (p->to != BL_LOC_NONE) {
			/* A move under way was cut, or refused before it began. */
			if (reason == BL_SAFE_REFUSED) {
				bl_hal_journal_outcome((uint16_t)f->cur, p->loc, err);
				p->to = BL_LOC_NONE;
			} else {
				bl_hal_journal_outcome((uint16_t)f->cur, BL_LOC_UNKNOWN, err);
			}
		}
		x->last_known = p->loc;
		x->moving_to = p->to;
		p->state = BL_POS_FAULT;
		f->disp = BL_POS_FAULT;
	}
	f->busy = false;
	f->state = BL_SFSM_FAULT;
	f->train_running = f->det_armed = f->parked = f->at_reader = false;
	f->counters.faulted++;
	bl_hal_safe_state(reason, err);
}

/* Sends the request of f->state (nothing for the waiting states). */
static void start(struct bl_sfsm *f, uint64_t now)
{
	const struct bl_sfsm_config *c = f->cfg;
	uint8_t puck = 0xff, slot = 0xff;
	if (f->cur >= 0) {
		puck = c->pos[f->cur].puck;
		slot = c->pos[f->cur].slot;
	}
	if (f->state < BL_SFSM_PICK || f->state > BL_SFSM_PARK || f->state == BL_SFSM_EXPOSE)
		return; /* IDLE, EXPOSE and HELD wait; they send nothing */
	uint32_t req = new_req(f);
	uint64_t tmo;
	int rc, from, to;
	switch (f->state) {
	case BL_SFSM_PICK:
	case BL_SFSM_TO_READER:
	case BL_SFSM_PLACE:
	case BL_SFSM_RETURN:
	case BL_SFSM_PARK:
		if (move_of(f, f->state, &from, &to)) {
			bl_hal_journal_intent((uint16_t)f->cur, from, to);
			f->pos[f->cur].to = (uint8_t)to;
		}
		f->parked = f->at_reader = false;
		f->counters.robot_moves++;
		rc = bl_hal_robot(req, robot_op_of(f->state), puck, slot);
		tmo = c->timeout.robot;
		break;
	case BL_SFSM_READ:
		f->counters.reads++;
		f->pos[f->cur].reads++;
		rc = bl_hal_barcode_read(req);
		tmo = c->timeout.barcode;
		break;
	case BL_SFSM_ARM:
		rc = bl_hal_detector_arm(req, c->exposure.frames, c->exposure.count_time);
		tmo = c->timeout.arm;
		break;
	case BL_SFSM_TRIGGER:
		f->train_start = now + c->exposure.lead;
		rc = bl_hal_trigger_train(req, f->train_start, c->exposure.period,
					  c->exposure.frames);
		tmo = c->timeout.trigger;
		break;
	case BL_SFSM_DISARM:
		rc = bl_hal_detector_disarm(req);
		tmo = c->timeout.disarm;
		break;
	case BL_SFSM_TRIG_STOP:
		rc = bl_hal_trigger_stop(req);
		tmo = c->timeout.trigger;
		break;
	default: return;
	}
	f->busy = true;
	f->req = req;
	f->deadline = now + tmo;
	if (rc < 0)
		enter_fault(f, now, BL_SAFE_REFUSED, rc);
}

/* The current sample is back where it rests: record what became of it. */
static void finish_sample(struct bl_sfsm *f)
{
	struct bl_sfsm_pos_status *p = &f->pos[f->cur];
	int d = f->disp == BL_POS_ACTIVE ? BL_POS_IDLE : f->disp;
	if (f->scanning && d == BL_POS_IDLE && p->scan == BL_SCAN_OK)
		d = f->scan_prev; /* a good scan: back to idle or queued, as it was */
	else if (f->scanning && p->scan == BL_SCAN_PENDING)
		p->scan = BL_SCAN_NONE; /* aborted or faulted before its read */
	p->state = (uint8_t)d;
	if (d == BL_POS_QUARANTINED)
		f->counters.quarantined++;
	else if (d == BL_POS_MISMATCH)
		f->counters.mismatched++;
	else if (d == BL_POS_IDLE && !f->scanning && !f->recovering)
		f->counters.aborted++;
	f->scanning = f->recovering = false;
	bl_hal_sfsm_note(BL_NOTE_FINISHED, f->cur, d);
	f->cur = -1;
	f->abort_req = false;
}

/*
 * The next position to handle, -1 when none: a pending puck-load scan first (lowest index), then
 * the measurement queue, skipping entries a scan has since quarantined or marked mismatched.
 */
static int next_job(struct bl_sfsm *f)
{
	for (int i = 0; i < f->cfg->count; i++) {
		if (f->pos[i].scan == BL_SCAN_PENDING) {
			f->scanning = true;
			f->scan_prev = f->pos[i].state;
			return i;
		}
	}
	while (f->q_len > 0) {
		int i = f->queue[f->q_head];
		f->q_head = (uint8_t)((f->q_head + 1) % BL_SFSM_MAX_POS);
		f->q_len--;
		if (f->pos[i].state == BL_POS_QUEUED)
			return i;
	}
	return -1;
}

/* Goes on towards `want` (see the comment at the top). */
static void proceed(struct bl_sfsm *f, uint64_t now, int want)
{
	if ((f->hold || f->abort_req) && (want == BL_SFSM_TRIGGER || want == BL_SFSM_EXPOSE)) {
		if (f->train_running) {
			f->counters.exposures_discarded++;
			bl_hal_sfsm_note(BL_NOTE_DISCARDED, f->cur, f->series);
		}
		want = BL_SFSM_ARM;
	}
	if (f->abort_req && f->cur >= 0 && want != BL_SFSM_FINISH) {
		if (f->disp == BL_POS_ACTIVE)
			f->disp = BL_POS_IDLE;
		want = f->pos[f->cur].loc == BL_LOC_SLOT ? BL_SFSM_FINISH : BL_SFSM_RETURN;
	}
	if (want == BL_SFSM_READ && !f->at_reader)
		want = BL_SFSM_TO_READER; /* parked in between: back to the reader first */
	if (want == BL_SFSM_FINISH) {
		finish_sample(f);
		want = BL_SFSM_NEXT;
	}
	f->target = want;
	bool unwind = f->hold || (want != BL_SFSM_TRIGGER && want != BL_SFSM_EXPOSE);
	if (unwind && (f->train_running || f->det_armed)) {
		f->state = f->train_running ? BL_SFSM_TRIG_STOP : BL_SFSM_DISARM;
		start(f, now);
		return;
	}
	if (f->hold) {
		f->resume_to = want;
		f->state = f->parked ? BL_SFSM_HELD : BL_SFSM_PARK;
		start(f, now);
		return;
	}
	if (want == BL_SFSM_NEXT) {
		int next = next_job(f);
		if (next < 0) {
			f->state = BL_SFSM_IDLE;
			return;
		}
		f->cur = next;
		f->pos[f->cur].state = BL_POS_ACTIVE;
		f->pos[f->cur].reads = 0;
		f->disp = BL_POS_ACTIVE;
		bl_hal_sfsm_note(BL_NOTE_SAMPLE_START, f->cur, f->cur);
		want = BL_SFSM_PICK;
	}
	f->state = want;
	start(f, now);
}

/* The series is complete (frames event, or the train's end time passed). */
static void exposure_done(struct bl_sfsm *f, uint64_t now, bool by_time)
{
	struct bl_sfsm_pos_status *p = &f->pos[f->cur];
	f->train_running = false;
	p->measured++;
	p->series = f->series;
	f->disp = BL_POS_DONE;
	f->counters.measured++;
	if (by_time)
		f->counters.exposures_by_time++;
	bl_hal_sfsm_note(BL_NOTE_MEASURED, f->cur, f->series);
	proceed(f, now, BL_SFSM_RETURN);
}

/* A barcode read answered (rc 0 with text, or a no-read / misread). */
static void read_done(struct bl_sfsm *f, uint64_t now, int rc, const char *text)
{
	struct bl_sfsm_pos_status *p = &f->pos[f->cur];
	const struct bl_sfsm_position *want = &f->cfg->pos[f->cur];
	if (rc == 0 && (!text || text[0] == '\0'))
		rc = -BL_ENODATA;
	if (rc < 0) {
		if (p->reads <= f->cfg->retries) {
			f->counters.read_retries++;
			bl_hal_sfsm_note(BL_NOTE_BARCODE_RETRY, f->cur, rc);
			proceed(f, now, BL_SFSM_READ);
		} else {
			f->disp = BL_POS_QUARANTINED;
			if (f->scanning) {
				p->scan = BL_SCAN_NOREAD;
				f->counters.scan_failed++;
			}
			bl_hal_sfsm_note(BL_NOTE_QUARANTINE, f->cur, p->reads);
			proceed(f, now, BL_SFSM_RETURN);
		}
		return;
	}
	str_copy(p->read, text);
	if (str_eq(text, want->barcode)) {
		if (!f->scanning) {
			proceed(f, now, BL_SFSM_PLACE);
			return;
		}
		p->scan = BL_SCAN_OK;
		f->counters.scanned++;
		bl_hal_sfsm_note(BL_NOTE_SCANNED, f->cur, BL_SCAN_OK);
		proceed(f, now, BL_SFSM_RETURN);
	} else {
		f->disp = BL_POS_MISMATCH;
		if (f->scanning) {
			p->scan = BL_SCAN_MISMATCH;
			f->counters.scan_failed++;
		}
		bl_hal_sfsm_note(BL_NOTE_MISMATCH, f->cur, 0);
		proceed(f, now, BL_SFSM_RETURN);
	}
}

/* The answer to the outstanding request. */
static int request_done(struct bl_sfsm *f, uint64_t now, const struct bl_sfsm_event *ev)
{
	if (!f->busy || ev->req != f->req) {
		f->counters.stale_events++;
		return -BL_ENOENT;
	}
	int rc = ev->rc;
	bool misread = f->state == BL_SFSM_READ && (rc == -BL_ENODATA || rc == -BL_EBADMSG);
	if (rc < 0 && !misread) {
		enter_fault(f, now, BL_SAFE_DEVICE_ERROR, rc);
		return 0;
	}
	f->busy = false;
	int from, to;
	if (move_of(f, f->state, &from, &to)) {
		f->pos[f->cur].loc = (uint8_t)to;
		f->pos[f->cur].to = BL_LOC_NONE;
		bl_hal_journal_outcome((uint16_t)f->cur, to, 0);
	}
	switch (f->state) {
	case BL_SFSM_PICK: proceed(f, now, BL_SFSM_TO_READER); break;
	case BL_SFSM_TO_READER:
		f->at_reader = true;
		proceed(f, now, BL_SFSM_READ);
		break;
	case BL_SFSM_READ: read_done(f, now, rc, ev->barcode); break;
	case BL_SFSM_PLACE: proceed(f, now, BL_SFSM_ARM); break;
	case BL_SFSM_ARM:
		f->det_armed = true;
		f->series = ev->series;
		proceed(f, now, BL_SFSM_TRIGGER);
		break;
	case BL_SFSM_TRIGGER: {
		const struct bl_sfsm_config *c = f->cfg;
		f->train_running = true;
		f->expose_end = f->train_start +
				(uint64_t)(c->exposure.frames - 1) * c->exposure.period +
				c->exposure.count_time + c->exposure.margin;
		proceed(f, now, BL_SFSM_EXPOSE);
		break;
	}
	case BL_SFSM_DISARM:
		f->det_armed = false;
		proceed(f, now, f->target);
		break;
	case BL_SFSM_TRIG_STOP:
		f->train_running = false;
		proceed(f, now, f->target);
		break;
	case BL_SFSM_RETURN: proceed(f, now, BL_SFSM_FINISH); break;
	case BL_SFSM_PARK:
		f->parked = true;
		proceed(f, now, f->target);
		break;
	default: break;
	}
	return 0;
}

/* Starts (or extends) a hold for `bit`. */
static void hold_add(struct bl_sfsm *f, uint64_t now, unsigned bit)
{
	if (!f->hold) {
		f->counters.suspensions++;
		f->hold_since = now;
		bl_hal_sfsm_note(BL_NOTE_SUSPEND, f->cur, bit);
	}
	f->hold |= bit;
	if (f->busy)
		return; /* the running operation finishes first; its answer leads to the hold */
	if (f->state == BL_SFSM_EXPOSE)
		proceed(f, now, BL_SFSM_EXPOSE);
	else if (f->state == BL_SFSM_IDLE)
		proceed(f, now, BL_SFSM_NEXT);
}

static int interlock(struct bl_sfsm *f, uint64_t now, const struct bl_sfsm_event *ev)
{
	unsigned bit;
	switch (ev->interlock) {
	case BL_IL_ESTOP:
		f->estop = ev->active;
		if (ev->active && f->state != BL_SFSM_FAULT)
			enter_fault(f, now, BL_SAFE_ESTOP, -BL_ECANCELED);
		return 0;
	case BL_IL_DOOR: bit = BL_HOLD_DOOR; break;
	case BL_IL_BEAM: bit = BL_HOLD_BEAM; break;
	default: return -BL_EINVAL;
	}
	if (!ev->active) {
		f->il &= ~bit; /* the hold stays until a resume command */
		return 0;
	}
	f->il |= bit;
	if (f->state != BL_SFSM_FAULT)
		hold_add(f, now, bit);
	return 0;
}

static int cmd_queue(struct bl_sfsm *f, uint64_t now, int i)
{
	if (i < 0 || i >= f->cfg->count)
		return -BL_EINVAL;
	bool in_scan = f->scanning && f->cur == i && f->scan_prev == BL_POS_IDLE;
	if (f->pos[i].state != BL_POS_IDLE && !in_scan)
		return -BL_EALREADY;
	if (f->q_len >= BL_SFSM_MAX_POS)
		return -BL_ENOSPC; /* stale entries of scanned-out positions fill it */
	f->queue[(f->q_head + f->q_len) % BL_SFSM_MAX_POS] = (uint8_t)i;
	f->q_len++;
	if (in_scan)
		f->scan_prev = BL_POS_QUEUED; /* queued once its scan is good */
	else
		f->pos[i].state = BL_POS_QUEUED;
	if (f->state == BL_SFSM_IDLE)
		proceed(f, now, BL_SFSM_NEXT);
	return 0;
}

/* Marks every position of puck `puck` that is not handled yet for a label scan. */
static int cmd_scan(struct bl_sfsm *f, uint64_t now, int puck)
{
	int found = 0, marked = 0;
	for (int i = 0; i < f->cfg->count; i++) {
		if (f->cfg->pos[i].puck != puck)
			continue;
		found++;
		struct bl_sfsm_pos_status *p = &f->pos[i];
		if ((p->state != BL_POS_IDLE && p->state != BL_POS_QUEUED) ||
		    p->scan == BL_SCAN_PENDING)
			continue;
		p->scan = BL_SCAN_PENDING;
		marked++;
	}
	if (!found)
		return -BL_EINVAL;
	if (!marked)
		return -BL_EALREADY;
	if (f->state == BL_SFSM_IDLE)
		proceed(f, now, BL_SFSM_NEXT);
	return 0;
}

static int cmd_resume(struct bl_sfsm *f, uint64_t now)
{
	if (f->state == BL_SFSM_FAULT || !f->hold)
		return -BL_EINVAL;
	if (f->il)
		return -BL_EBUSY;
	if (f->state != BL_SFSM_HELD)
		return -BL_EAGAIN;
	uint64_t gap = now - f->hold_since;
	f->hold = 0;
	f->counters.suspended_ticks += gap;
	bl_hal_sfsm_note(BL_NOTE_RESUME, f->cur, (int64_t)gap);
	proceed(f, now, f->resume_to);
	return 0;
}

static int cmd_abort(struct bl_sfsm *f, uint64_t now)
{
	int dropped = 0;
	for (; f->q_len > 0; f->q_len--) {
		f->pos[f->queue[f->q_head]].state = BL_POS_IDLE;
		f->q_head = (uint8_t)((f->q_head + 1) % BL_SFSM_MAX_POS);
		dropped++;
	}
	for (int i = 0; i < f->cfg->count; i++) {
		if (f->pos[i].scan == BL_SCAN_PENDING && i != f->cur) {
			f->pos[i].scan = BL_SCAN_NONE;
			dropped++;
		}
	}
	bl_hal_sfsm_note(BL_NOTE_ABORT, f->cur, dropped);
	if (f->cur < 0 || f->state == BL_SFSM_FAULT)
		return 0;
	f->abort_req = true;
	if (!f->busy && f->state == BL_SFSM_EXPOSE)
		proceed(f, now, BL_SFSM_EXPOSE);
	return 0; /* otherwise at the end of the running step, or at resume */
}

static int cmd_reset(struct bl_sfsm *f, uint64_t now, int loc)
{
	if (f->state != BL_SFSM_FAULT)
		return -BL_EINVAL;
	if (f->estop || f->il)
		return -BL_EBUSY; /* clear the e-stop, close the door, get the beam back first */
	bool stated = loc == BL_LOC_SLOT || loc == BL_LOC_GRIPPER || loc == BL_LOC_STAGE;
	if (loc != BL_LOC_NONE && !stated)
		return -BL_EINVAL;
	if (f->cur >= 0) {
		struct bl_sfsm_pos_status *p = &f->pos[f->cur];
		if (p->to != BL_LOC_NONE && !stated)
			return -BL_EINVAL; /* a cut move: only the operator knows where it is */
		bl_hal_sfsm_note(BL_NOTE_RESET, f->cur, loc);
		if (stated) {
			p->loc = (uint8_t)loc;
			p->to = BL_LOC_NONE;
			bl_hal_journal_outcome((uint16_t)f->cur, loc, 0);
		}
		f->state = BL_SFSM_IDLE;
		proceed(f, now, p->loc == BL_LOC_SLOT ? BL_SFSM_FINISH : BL_SFSM_RETURN);
		return 0;
	}
	bl_hal_sfsm_note(BL_NOTE_RESET, -1, loc);
	f->state = BL_SFSM_IDLE;
	proceed(f, now, BL_SFSM_NEXT);
	return 0;
}

static int command(struct bl_sfsm *f, uint64_t now, const struct bl_sfsm_event *ev)
{
	switch (ev->cmd) {
	case BL_CMD_QUEUE: return cmd_queue(f, now, ev->sample);
	case BL_CMD_PAUSE:
		if (f->state == BL_SFSM_FAULT)
			return -BL_EINVAL;
		hold_add(f, now, BL_HOLD_PAUSE);
		return 0;
	case BL_CMD_RESUME: return cmd_resume(f, now);
	case BL_CMD_ABORT: return cmd_abort(f, now);
	case BL_CMD_RESET: return cmd_reset(f, now, ev->loc);
	case BL_CMD_SCAN: return cmd_scan(f, now, ev->sample);
	default: return -BL_EINVAL;
	}
}

/* Agent silence past the timeout holds the cycle like an open door (state is kept). */
static void agent_check(struct bl_sfsm *f, uint64_t now)
{
	uint64_t t = f->cfg->agent_timeout;
	if (!t || !f->agent_seen || (f->il & BL_HOLD_AGENT) || now - f->agent_last <= t)
		return;
	f->il |= BL_HOLD_AGENT;
	f->counters.agent_silences++;
	bl_hal_sfsm_note(BL_NOTE_AGENT_SILENT, f->cur, (int64_t)(now - f->agent_last));
	if (f->state != BL_SFSM_FAULT)
		hold_add(f, now, BL_HOLD_AGENT);
}

int bl_sfsm_step(struct bl_sfsm *f, uint64_t now, const struct bl_sfsm_event *ev)
{
	if (!f || !f->cfg)
		return -BL_EINVAL;
	if (f->in_step)
		return -BL_EBUSY;
	f->in_step = true;
	if (f->busy && now >= f->deadline)
		enter_fault(f, now, BL_SAFE_TIMEOUT, -BL_ETIMEDOUT);
	else if (f->state == BL_SFSM_EXPOSE && now >= f->expose_end)
		exposure_done(f, now, true);
	agent_check(f, now);
	if (f->recover) {
		f->recover = false;
		f->recovering = true;
		if (f->state == BL_SFSM_IDLE && f->cur >= 0)
			proceed(f, now, BL_SFSM_RETURN);
	}
	int rc = 0;
	if (ev) {
		switch (ev->kind) {
		case BL_SFSM_EV_AGENT:
			f->agent_seen = true;
			f->agent_last = now;
			f->il &= ~BL_HOLD_AGENT; /* the hold stays until a resume command */
			break;
		case BL_SFSM_EV_DONE: rc = request_done(f, now, ev); break;
		case BL_SFSM_EV_FRAMES:
			if (f->state != BL_SFSM_EXPOSE || ev->series != f->series) {
				f->counters.stale_events++;
				rc = -BL_ENOENT;
			} else if (ev->rc < 0) {
				enter_fault(f, now, BL_SAFE_DEVICE_ERROR, ev->rc);
			} else {
				exposure_done(f, now, false);
			}
			break;
		case BL_SFSM_EV_INTERLOCK: rc = interlock(f, now, ev); break;
		case BL_SFSM_EV_CMD: rc = command(f, now, ev); break;
		default: rc = -BL_EINVAL; break;
		}
	}
	f->in_step = false;
	return rc;
}
