/* bl_hal_sample.h: the device requests, journal calls and safe state the sample-cycle FSM uses. */
#ifndef BL_HAL_SAMPLE_H
#define BL_HAL_SAMPLE_H

#include <stdint.h>

/*
 * Requests (robot, barcode, detector, trigger) are non-blocking: the port starts the operation
 * and returns 0, or a negative errno when it cannot even start it (the FSM treats that as a
 * device fault). The outcome comes back later as a bl_sfsm_event of kind BL_SFSM_EV_DONE with
 * the same request id; the port must not call bl_sfsm_step() from inside these functions.
 * Every function here is named bl_hal_*, which the freestanding check relies on.
 */

/* Where a sample is (journal, status). Each sample has one home slot: its inventory position. */
enum bl_loc {
	BL_LOC_NONE = 0,    /* not given (reset without an operator statement) */
	BL_LOC_SLOT = 1,    /* in its own puck slot */
	BL_LOC_GRIPPER = 2, /* in the robot's gripper (at any pose) */
	BL_LOC_STAGE = 3,   /* on the measurement stage */
	BL_LOC_UNKNOWN = 4, /* a move failed or was cut: somewhere between from and to */
};

/* Robot operations. PICK and RETURN name the sample's puck/slot; PLACE withdraws when done. */
enum bl_robot_op {
	BL_ROBOT_PICK = 1,   /* take the sample from (puck, slot) into the gripper */
	BL_ROBOT_READER = 2, /* carry the gripper to the barcode reader pose */
	BL_ROBOT_PLACE = 3,  /* put the gripper's sample on the stage, withdraw clear of the beam */
	BL_ROBOT_RETURN = 4, /* put the sample (gripper or stage) back into (puck, slot) */
	BL_ROBOT_PARK = 5,   /* go to the safe pose (holding whatever the gripper holds) */
};

/* Starts robot operation op on the sample at (puck, slot) (0xff, 0xff when none). */
int bl_hal_robot(uint32_t req, int op, uint8_t puck, uint8_t slot);

/* Triggers one barcode read of what the gripper holds at the reader pose. */
int bl_hal_barcode_read(uint32_t req);

/* Arms the detector for a series of `frames` of `count_time` ticks each; done event: series id. */
int bl_hal_detector_arm(uint32_t req, uint32_t frames, uint64_t count_time);

/* Disarms the detector (ends the series, complete or not). */
int bl_hal_detector_disarm(uint32_t req);

/* Programs a gated trigger train: `count` edges from controller time `start`, every `period`. */
int bl_hal_trigger_train(uint32_t req, uint64_t start, uint64_t period, uint32_t count);

/* Stops the trigger train before its end (suspend, abort). */
int bl_hal_trigger_stop(uint32_t req);

/* Before every robot move that carries a sample: it is about to go from `from` to `to`. */
void bl_hal_journal_intent(uint16_t sample, int from, int to);

/* After it: the sample is now `at` (BL_LOC_UNKNOWN when rc < 0: the move failed or was cut). */
void bl_hal_journal_outcome(uint16_t sample, int at, int rc);

/* Why the FSM went to its safe state (bl_sfsm_fault.code). */
enum bl_safe_reason {
	BL_SAFE_DEVICE_ERROR = 1, /* a device answered an operation with an error */
	BL_SAFE_TIMEOUT = 2,	  /* a device did not answer within its timeout */
	BL_SAFE_REFUSED = 3,	  /* the port could not start a request */
	BL_SAFE_ESTOP = 4,	  /* the emergency stop was pressed */
};

/*
 * Runs the registered safe-state handlers: abort any robot motion and park, stop the pump,
 * stop trigger trains, disarm the detector. Must not block. The FSM then refuses to move until
 * a reset command; the fault it recorded (bl_sfsm_status) says where the sample was.
 */
void bl_hal_safe_state(int reason, int err);

/* What a note says (bl_hal_sfsm_note), for the event log the agent reads. */
enum bl_sfsm_note_what {
	BL_NOTE_SAMPLE_START = 1,  /* value: position index taken off the queue */
	BL_NOTE_BARCODE_RETRY = 2, /* value: the failed read's rc */
	BL_NOTE_QUARANTINE = 3,	   /* value: reads tried */
	BL_NOTE_MISMATCH = 4,	   /* value: 0 (the read text is in the status) */
	BL_NOTE_MEASURED = 5,	   /* value: series id */
	BL_NOTE_DISCARDED = 6,	   /* value: series id of an exposure cut by a suspension/abort */
	BL_NOTE_SUSPEND = 7,	   /* value: bl_sfsm_hold bits that caused it */
	BL_NOTE_RESUME = 8,	   /* value: length of the gap in ticks */
	BL_NOTE_FINISHED = 9,	   /* value: the position's final bl_sfsm_pos_state */
	BL_NOTE_ABORT = 10,	   /* value: queued samples dropped */
	BL_NOTE_RESET = 11,	   /* value: the location the operator stated */
	BL_NOTE_SCANNED = 12,	   /* value: enum bl_sfsm_scan (a good puck-load read) */
	BL_NOTE_AGENT_SILENT = 13, /* value: ticks since the agent was last heard */
	BL_NOTE_RESTORED = 14,	   /* value: the location a restart found the sample at */
};

/* A line for the event log (sample -1 when none). Must not block. */
void bl_hal_sfsm_note(int what, int sample, int64_t value);

#endif
