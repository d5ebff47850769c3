/* fw_reconcile.c: proves each sample's location from the journal snapshot and the sensors. */
#include "port/linux/fw_reconcile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Places as bits, so a move's candidates are a set. */
#define P_SLOT	  (1u << BL_LOC_SLOT)
#define P_GRIPPER (1u << BL_LOC_GRIPPER)
#define P_STAGE	  (1u << BL_LOC_STAGE)

/* Location names as the CLI spells them (bl_loc_name() without linking the core's objects). */
static const char *loc_name(int loc)
{
	static const char *const names[] = {"none", "slot", "gripper", "stage", "unknown"};
	return loc >= 0 && loc <= BL_LOC_UNKNOWN ? names[loc] : "?";
}

static bool place_ok(int loc)
{
	return loc == BL_LOC_SLOT || loc == BL_LOC_GRIPPER || loc == BL_LOC_STAGE;
}

/* What the sensors say about one place: -1 not read, 0 empty, 1 occupied; the slot: -1. */
struct reading {
	int gripper, stage;
};

static int sensed(const struct reading *rd, int loc)
{
	if (loc == BL_LOC_GRIPPER)
		return rd->gripper;
	if (loc == BL_LOC_STAGE)
		return rd->stage;
	return -1;
}

static void append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	if (len + 1 >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* "gripper empty, stage occupied" for the places in set (those with a sensor). */
static void describe(char *buf, size_t size, const struct reading *rd, unsigned set)
{
	static const char *const what[2][2] = {{"empty", "holds"}, {"empty", "occupied"}};
	buf[0] = '\0';
	if (set & P_GRIPPER)
		append(buf, size, "gripper %s",
		       rd->gripper < 0 ? "unreadable" : what[0][rd->gripper]);
	if (set & P_STAGE)
		append(buf, size, "%sstage %s", buf[0] ? ", " : "",
		       rd->stage < 0 ? "unreadable" : what[1][rd->stage]);
}

static const char *where(int loc)
{
	switch (loc) {
	case BL_LOC_SLOT: return "in its slot";
	case BL_LOC_GRIPPER: return "in the gripper";
	case BL_LOC_STAGE: return "on the stage";
	default: return "unknown";
	}
}

/* Starts a sample's reason line: "sample 3 (BL-P1-S03, puck 1 slot 3): ". */
static void head(struct bl_fw_rec_sample *o, int i, const struct bl_fw_journal_sample *s)
{
	snprintf(o->reason, sizeof o->reason, "sample %d (%s, puck %u slot %u): ", i, s->barcode,
		 s->puck, s->slot);
}

/* The move's story: "move slot->gripper #12 has no outcome" / "failed (rc -110)". */
static void story(struct bl_fw_rec_sample *o, const struct bl_fw_journal_sample *s)
{
	append(o->reason, sizeof o->reason, "move %s->%s #%lld ", loc_name(s->move_from),
	       loc_name(s->move_to), (long long)s->move_id);
	if (s->move_at == BL_LOC_NONE)
		append(o->reason, sizeof o->reason, "has no outcome (controller stopped)");
	else
		append(o->reason, sizeof o->reason, "failed or was cut (rc %d)", s->move_rc);
}

/* Ends an unknown sample's line: the places to check (none: find it) and the command. */
static void ask(struct bl_fw_rec_sample *o, int i, unsigned check)
{
	char places[48] = "";
	int n = 0, k = 0;
	for (int loc = BL_LOC_SLOT; loc <= BL_LOC_STAGE; loc++)
		n += (check >> loc) & 1;
	for (int loc = BL_LOC_SLOT; loc <= BL_LOC_STAGE; loc++)
		if (check & (1u << loc))
			append(places, sizeof places, "%sthe %s",
			       k++ == 0 ? ""
			       : k == n ? " and "
					: ", ",
			       loc_name(loc));
	append(o->reason, sizeof o->reason,
	       "; %s%s, then run `beamloop fw resolve %d slot|gripper|stage`",
	       check ? "check " : "find the sample", places, i);
	o->loc = BL_LOC_UNKNOWN;
	o->how = BL_FW_REC_UNKNOWN;
}

/* Rule 4: journaled out of the slot, no unresolved move. */
static void settled_out(struct bl_fw_rec_sample *o, int i, const struct bl_fw_journal_sample *s,
			const struct reading *rd)
{
	int v = sensed(rd, s->loc);
	unsigned set = 1u << s->loc;
	describe(o->proof, sizeof o->proof, rd, set);
	if (v == 1) {
		o->loc = s->loc;
		o->how = BL_FW_REC_JOURNAL;
		append(o->reason, sizeof o->reason, "%s (journal; %s)", where(s->loc), o->proof);
		return;
	}
	append(o->reason, sizeof o->reason, "journaled %s but %s", where(s->loc), o->proof);
	ask(o, i, v < 0 ? set : 0);
}

/* Rule 5: an unresolved move, proven from the sensors of its candidates. */
static void open_move(struct bl_fw_rec_sample *o, int i, const struct bl_fw_journal_sample *s,
		      const struct reading *rd)
{
	unsigned cand = (1u << s->move_from) | (1u << s->move_to) | P_GRIPPER;
	story(o, s);
	describe(o->proof, sizeof o->proof, rd, cand);
	int occupied = 0, at = BL_LOC_NONE;
	for (int loc = BL_LOC_GRIPPER; loc <= BL_LOC_STAGE; loc++) {
		if (!(cand & (1u << loc)))
			continue;
		int v = sensed(rd, loc);
		if (v < 0) {
			append(o->reason, sizeof o->reason, "; %s sensor unreadable",
			       loc_name(loc));
			ask(o, i, cand);
			return;
		}
		if (v == 1) {
			occupied++;
			at = loc;
		}
	}
	if (occupied > 1) {
		append(o->reason, sizeof o->reason, "; %s: two objects for one sample", o->proof);
		ask(o, i, cand);
		return;
	}
	if (occupied == 0 && (cand & P_SLOT))
		at = BL_LOC_SLOT;
	if (at == BL_LOC_NONE) {
		append(o->reason, sizeof o->reason, "; %s: the sample left the gripper on the way",
		       o->proof);
		ask(o, i, 0);
		return;
	}
	o->loc = (uint8_t)at;
	o->how = BL_FW_REC_SENSORS;
	append(o->reason, sizeof o->reason, "; reconciled from sensors (%s): %s", o->proof,
	       where(at));
}

static int check_snapshot(const struct bl_fw_journal_snapshot *snap)
{
	if (snap->count == 0 || snap->count > BL_SFSM_MAX_POS)
		return -EINVAL;
	for (int i = 0; i < snap->count; i++) {
		const struct bl_fw_journal_sample *s = &snap->s[i];
		if (!place_ok(s->loc) || memchr(s->barcode, '\0', sizeof s->barcode) == NULL)
			return -EINVAL;
		if (s->move_id && (!place_ok(s->move_from) || !place_ok(s->move_to) ||
				   (s->move_at != BL_LOC_NONE && s->move_at != BL_LOC_UNKNOWN)))
			return -EINVAL;
	}
	return 0;
}

static void summarize(struct bl_fw_reconcile *r, const struct reading *rd)
{
	char *m = r->summary;
	size_t size = sizeof r->summary;
	m[0] = '\0';
	if (r->blocks & BL_FW_REC_ROBOT_UNREACHABLE)
		append(m, size, "robot not reachable: connect it and reconcile again; ");
	if (r->blocks & BL_FW_REC_ROBOT_BUSY)
		append(m, size, "robot still moving: wait until it stops and reconcile again; ");
	if (r->blocks & BL_FW_REC_MANY_OUT)
		append(m, size,
		       "more than one sample out of its slot: put all but one back by hand "
		       "and resolve each; ");
	if (r->blocks & BL_FW_REC_FOREIGN_GRIPPER)
		append(m, size,
		       "the gripper holds something no sample is journaled in: remove it, "
		       "or run `beamloop fw resolve N gripper` for the sample it is; ");
	if (r->blocks & BL_FW_REC_FOREIGN_STAGE)
		append(m, size,
		       "the stage is occupied and no sample is journaled on it: remove the "
		       "object, or run `beamloop fw resolve N stage`; ");
	if (r->unknown)
		append(m, size, "%u sample(s) not proven: motion refused until resolved",
		       r->unknown);
	else if (r->blocks)
		append(m, size, "motion refused");
	else
		append(m, size, "all %u samples proven (gripper %s, stage %s): motion allowed",
		       r->count,
		       rd->gripper < 0 ? "unread"
		       : rd->gripper   ? "holds"
				       : "empty",
		       rd->stage < 0 ? "unread"
		       : rd->stage   ? "occupied"
				     : "empty");
}

int bl_fw_reconcile(const struct bl_fw_journal_snapshot *snap, const struct bl_fw_sensors *sens,
		    struct bl_fw_reconcile *out)
{
	if (!snap || !sens || !out)
		return -EINVAL;
	memset(out, 0, sizeof *out);
	int rc = check_snapshot(snap);
	if (rc < 0)
		return rc;
	out->count = snap->count;

	struct reading rd;
	bool gripper_known = sens->robot_reachable && sens->gripper_known;
	rd.gripper = gripper_known ? sens->gripper_holds : -1;
	rd.stage = sens->stage_known ? sens->stage_occupied : -1;
	if (!sens->robot_reachable)
		out->blocks |= BL_FW_REC_ROBOT_UNREACHABLE;
	else if (!sens->robot_idle)
		out->blocks |= BL_FW_REC_ROBOT_BUSY;

	/* Who is out of its slot, and which places the journal explains. */
	int out_count = 0;
	unsigned explained = 0;
	for (int i = 0; i < snap->count; i++) {
		const struct bl_fw_journal_sample *s = &snap->s[i];
		if (s->move_id) {
			out_count++;
			explained |= (1u << s->move_from) | (1u << s->move_to) | P_GRIPPER;
		} else if (s->loc != BL_LOC_SLOT) {
			out_count++;
			explained |= 1u << s->loc;
		}
	}
	if (out_count > 1)
		out->blocks |= BL_FW_REC_MANY_OUT;
	if (rd.gripper == 1 && !(explained & P_GRIPPER))
		out->blocks |= BL_FW_REC_FOREIGN_GRIPPER;
	if (rd.stage == 1 && !(explained & P_STAGE))
		out->blocks |= BL_FW_REC_FOREIGN_STAGE;

	for (int i = 0; i < snap->count; i++) {
		const struct bl_fw_journal_sample *s = &snap->s[i];
		struct bl_fw_rec_sample *o = &out->s[i];
		o->move_id = s->move_id;
		head(o, i, s);
		bool is_out = s->move_id || s->loc != BL_LOC_SLOT;
		if (!is_out) {
			o->loc = BL_LOC_SLOT;
			o->how = BL_FW_REC_JOURNAL;
			append(o->reason, sizeof o->reason, "in its slot (journal)");
		} else if (out_count > 1) {
			if (s->move_id)
				story(o, s);
			else
				append(o->reason, sizeof o->reason, "journaled %s", where(s->loc));
			append(o->reason, sizeof o->reason,
			       "; %d samples are out of their slots, only one can be", out_count);
			ask(o, i, 0);
		} else if (!sens->robot_reachable || !sens->robot_idle) {
			if (s->move_id)
				story(o, s);
			else
				append(o->reason, sizeof o->reason, "journaled %s", where(s->loc));
			append(o->reason, sizeof o->reason, "; robot %s",
			       sens->robot_reachable
				   ? "still moving: wait until it stops and reconcile again"
				   : "not reachable: connect it and reconcile again");
			unsigned set = s->move_id
					   ? (1u << s->move_from) | (1u << s->move_to) | P_GRIPPER
					   : 1u << s->loc;
			ask(o, i, set);
		} else if (s->move_id) {
			open_move(o, i, s, &rd);
		} else {
			settled_out(o, i, s, &rd);
		}
		if (o->how == BL_FW_REC_UNKNOWN)
			out->unknown++;
	}
	out->motion_allowed = out->unknown == 0 && out->blocks == 0;
	summarize(out, &rd);
	return 0;
}

int bl_fw_reconcile_restore_state(int state, bool measured)
{
	switch (state) {
	case BL_POS_DONE:
	case BL_POS_QUARANTINED:
	case BL_POS_MISMATCH:
	case BL_POS_FAULT: return state;
	case BL_POS_ACTIVE: return measured ? BL_POS_DONE : BL_POS_IDLE;
	default: return BL_POS_IDLE;
	}
}
