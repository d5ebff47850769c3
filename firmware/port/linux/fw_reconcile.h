/* fw_reconcile.h: start-up proof of where every sample is, from the journal and the sensors. */
#ifndef BL_FW_RECONCILE_H
#define BL_FW_RECONCILE_H

#include <stdbool.h>
#include <stdint.h>

#include "port/linux/fw_journal.h"

/*
 * Pure logic (no SQLite, no I/O): a journal snapshot and one reading of the sensors in, per
 * sample a proven location or "unknown, ask the operator" out. It never guesses.
 *
 * Premises. A sample is only ever in its own slot, in the gripper or on the stage. The slot
 * has no sensor; the gripper ("holds something") and the stage ("occupied") have one each.
 * During a move from A to B the robot carries the sample in the gripper and opens it only at
 * B, so after a move that did not finish the sample is at A, at B or in the gripper (the
 * move's candidates). A sensor that was not read (or a robot that cannot be asked, or that is
 * still moving) proves nothing.
 *
 * Rules, in order:
 *  1. Robot not reachable, or reachable but not idle (a motion runs): motion is refused and
 *     every sample out of its slot or with an unresolved move is unknown (reconcile again
 *     once it answers and has stopped; its gripper reading means nothing before).
 *  2. More than one sample out of its slot or with an unresolved move: all of them unknown.
 *  3. A sample journaled in its slot with no unresolved move: slot (the journal proves it).
 *  4. Journaled in the gripper / on the stage, no unresolved move: proven when that sensor
 *     reads it occupied; unknown when it reads empty or was not read.
 *  5. An unresolved move from A to B: candidates {A, B, gripper}. Each candidate with a
 *     sensor must have been read (else unknown). Exactly one occupied candidate: there.
 *     None occupied: the slot if it is a candidate (the move never took the sample, or put
 *     it down there), else unknown (the sample left the gripper on the way). Two occupied:
 *     unknown. Examples: slot->gripper: holds -> gripper, empty -> slot. gripper->stage:
 *     holds -> gripper, stage occupied -> stage, both empty -> unknown. stage->slot:
 *     holds -> gripper, stage occupied -> stage, both empty -> slot.
 *  6. Foreign object: the gripper holds, or the stage is occupied, and no sample is journaled
 *     there or has it as a candidate: motion is refused (global block) until the object is
 *     removed or the operator says which sample it is (`beamloop fw resolve N gripper`).
 * Motion is allowed only when every sample is proven and nothing blocks.
 */

/* One reading of what the controller can sense, taken with the robot stopped. */
struct bl_fw_sensors {
	bool robot_reachable; /* the robot controller answered a status request */
	bool robot_idle;      /* ... and reported no motion running */
	bool gripper_known;   /* the gripper sensor was read */
	bool gripper_holds;
	bool stage_known; /* the stage occupancy sensor was read */
	bool stage_occupied;
};

/* How a sample's location was established. */
enum bl_fw_rec_how {
	BL_FW_REC_UNKNOWN = 0, /* not provable: ask the operator (reason says what to check) */
	BL_FW_REC_JOURNAL =
	    1, /* the journal, with the sensor of that place agreeing if it has one */
	BL_FW_REC_SENSORS = 2, /* an unresolved move, proven from the sensors (apply closes it) */
};

/* Global blocks (bits of bl_fw_reconcile.blocks). */
enum bl_fw_rec_block {
	BL_FW_REC_ROBOT_UNREACHABLE = 1u << 0,
	BL_FW_REC_ROBOT_BUSY = 1u << 1,
	BL_FW_REC_FOREIGN_GRIPPER = 1u << 2, /* the gripper holds something no sample explains */
	BL_FW_REC_FOREIGN_STAGE = 1u << 3,   /* the stage holds something no sample explains */
	BL_FW_REC_MANY_OUT = 1u << 4,	     /* more than one sample out of its slot */
};

#define BL_FW_REC_REASON_MAX 384 /* room for the longest line, command included */

struct bl_fw_rec_sample {
	uint8_t loc;	 /* enum bl_loc: proven location; BL_LOC_UNKNOWN when not provable */
	uint8_t how;	 /* enum bl_fw_rec_how */
	int64_t move_id; /* the unresolved move (0: none); closed by apply when how is SENSORS */
	char proof[64];	 /* the sensor readings used, e.g. "gripper empty, stage occupied" */
	char reason[BL_FW_REC_REASON_MAX]; /* one line for the operator */
};

struct bl_fw_reconcile {
	uint8_t count;
	struct bl_fw_rec_sample s[BL_SFSM_MAX_POS];
	uint8_t unknown;		    /* samples not proven */
	unsigned blocks;		    /* enum bl_fw_rec_block bits */
	bool motion_allowed;		    /* no unknown sample and no block */
	char summary[BL_FW_REC_REASON_MAX]; /* one line: what blocks, or that all is proven */
};

/* Reconciles snap with sens into out. -EINVAL for a malformed snapshot. */
int bl_fw_reconcile(const struct bl_fw_journal_snapshot *snap, const struct bl_fw_sensors *sens,
		    struct bl_fw_reconcile *out);

/*
 * The state bl_sfsm_restore() takes for a journaled position state: done, quarantined,
 * mismatch and fault stay; active comes back done when its series was complete, else idle;
 * idle and queued come back idle (the agent queues again).
 */
int bl_fw_reconcile_restore_state(int state, bool measured);

#endif
