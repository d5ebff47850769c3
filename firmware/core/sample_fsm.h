/* sample_fsm.h: the sample-cycle state machine: pick, verify barcode, measure, return, per sample.
 */
#ifndef BL_SAMPLE_FSM_H
#define BL_SAMPLE_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bl_errno.h"
#include "hal/bl_hal_sample.h"

#define BL_SFSM_MAX_POS	    32 /* 2 pucks x 16 slots */
#define BL_SFSM_BARCODE_MAX 32 /* barcode text, NUL included */
#define BL_SFSM_NEVER	    UINT64_MAX

/* One inventory position: where the sample lives and the label it must carry. */
struct bl_sfsm_position {
	uint8_t puck;
	uint8_t slot;
	char barcode[BL_SFSM_BARCODE_MAX]; /* NUL-terminated, not empty */
};

/* Configuration; the FSM keeps a pointer to it (caller storage, must outlive the FSM). */
struct bl_sfsm_config {
	struct bl_sfsm_position pos[BL_SFSM_MAX_POS];
	uint8_t count;	 /* positions used, 1..BL_SFSM_MAX_POS */
	uint8_t retries; /* barcode reads after the first failed one (hwdb barcode.retries) */
	struct {
		uint32_t frames;     /* trigger edges = frames per series, > 0 */
		uint64_t period;     /* ticks between edges, >= count_time */
		uint64_t count_time; /* ticks per frame, > 0 */
		uint64_t lead;	     /* train start = now + lead at the request, > 0 */
		uint64_t margin;     /* exposure ends by time at last edge + count_time + margin */
	} exposure;
	struct {
		uint64_t robot, barcode, arm, trigger, disarm; /* ticks, each > 0 */
	} timeout;
	/* Agent silence longer than this holds the cycle (BL_HOLD_AGENT); 0: not watched. The timer
	 * starts at the first BL_SFSM_EV_AGENT, so a controller that boots first does not hold. */
	uint64_t agent_timeout;
};

/* What the port hands to bl_sfsm_step(). */
enum bl_sfsm_ev_kind {
	BL_SFSM_EV_DONE = 1,	  /* a request finished: req, rc, barcode (read), series (arm) */
	BL_SFSM_EV_FRAMES = 2,	  /* the detector finished a series: series, rc */
	BL_SFSM_EV_INTERLOCK = 3, /* an interlock input changed: interlock, active */
	BL_SFSM_EV_CMD = 4,	  /* an agent or operator command: cmd, sample, loc */
	BL_SFSM_EV_AGENT = 5, /* the agent was heard (any message): restarts its silence timer */
};

enum bl_sfsm_interlock {
	BL_IL_DOOR = 1, /* hutch door / safeguard open: suspend */
	BL_IL_BEAM = 2, /* beam lost: suspend, the exposure in progress is re-taken */
	BL_IL_ESTOP = 3 /* emergency stop: safe state */
};

enum bl_sfsm_cmd {
	BL_CMD_QUEUE = 1,  /* queue position `sample` for measurement */
	BL_CMD_PAUSE = 2,  /* suspend like an open door, until resume */
	BL_CMD_RESUME = 3, /* continue after a suspension (every interlock must be clear) */
	BL_CMD_ABORT = 4,  /* drop the queue, put the current sample back unmeasured */
	BL_CMD_RESET = 5,  /* leave the fault state; `loc`: where the operator found the sample */
	BL_CMD_SCAN = 6,   /* puck `sample` was loaded: read every label in it before measuring */
};

struct bl_sfsm_event {
	int kind; /* enum bl_sfsm_ev_kind */
	uint32_t req;
	int rc;
	uint32_t series;
	const char *barcode; /* read text, NUL-terminated, valid during the call; NULL: none */
	int interlock;	     /* enum bl_sfsm_interlock */
	bool active;
	int cmd; /* enum bl_sfsm_cmd */
	int sample;
	int loc; /* enum bl_loc */
};

/* The steps; a step with a request outstanding waits for its DONE event. */
enum bl_sfsm_state {
	BL_SFSM_IDLE = 0,   /* nothing queued */
	BL_SFSM_PICK,	    /* robot: slot -> gripper */
	BL_SFSM_TO_READER,  /* robot: gripper to the reader pose */
	BL_SFSM_READ,	    /* barcode read (retried) */
	BL_SFSM_PLACE,	    /* robot: gripper -> stage */
	BL_SFSM_ARM,	    /* detector arm */
	BL_SFSM_TRIGGER,    /* trigger train request */
	BL_SFSM_EXPOSE,	    /* waiting for the train to end or the detector's frames */
	BL_SFSM_DISARM,	    /* detector disarm */
	BL_SFSM_RETURN,	    /* robot: gripper or stage -> slot */
	BL_SFSM_TRIG_STOP,  /* trigger train stopped early (suspend, abort) */
	BL_SFSM_PARK,	    /* robot to the safe pose before holding */
	BL_SFSM_HELD,	    /* suspended: waiting for resume */
	BL_SFSM_FAULT,	    /* safe state: waiting for reset */
	BL_SFSM_FINISH,	    /* internal target: bookkeeping of a returned sample */
	BL_SFSM_NEXT,	    /* internal target: take the next queued sample */
	BL_SFSM_STATE_COUNT /* not a state */
};

/* Per-position state. */
enum bl_sfsm_pos_state {
	BL_POS_IDLE = 0,    /* not queued (or aborted before it was measured) */
	BL_POS_QUEUED,	    /* waiting in the queue */
	BL_POS_ACTIVE,	    /* being handled now */
	BL_POS_DONE,	    /* measured once and back in its slot */
	BL_POS_QUARANTINED, /* label unreadable: back in its slot, not measured */
	BL_POS_MISMATCH,    /* label read but not the expected one: back, not measured */
	BL_POS_FAULT,	    /* a fault happened while it was out */
};

/* Hold reasons (bits): any set suspends the cycle. */
enum bl_sfsm_hold {
	BL_HOLD_DOOR = 1u << 0,
	BL_HOLD_BEAM = 1u << 1,
	BL_HOLD_PAUSE = 1u << 2,
	BL_HOLD_AGENT = 1u << 3, /* the agent fell silent (cleared when it is heard again) */
};

/* What the puck-load scan found for a position (bl_sfsm_pos_status.scan). */
enum bl_sfsm_scan {
	BL_SCAN_NONE = 0,     /* not scanned */
	BL_SCAN_PENDING = 1,  /* waiting for its turn */
	BL_SCAN_OK = 2,	      /* read, and the inventory's label */
	BL_SCAN_NOREAD = 3,   /* unreadable after the retries: quarantined */
	BL_SCAN_MISMATCH = 4, /* read another label: never measured */
};

struct bl_sfsm_pos_status {
	uint8_t state; /* enum bl_sfsm_pos_state */
	uint8_t loc;   /* enum bl_loc: last known location */
	uint8_t to;    /* while a move is under way or was cut: its destination; else BL_LOC_NONE */
	uint8_t measured;		/* complete exposure series taken */
	uint32_t series;		/* the last complete series */
	uint8_t reads;			/* barcode reads tried */
	uint8_t scan;			/* enum bl_sfsm_scan */
	char read[BL_SFSM_BARCODE_MAX]; /* the last text read (mismatch) */
};

/* The fault that put the FSM in its safe state. */
struct bl_sfsm_fault {
	int reason;	/* enum bl_safe_reason, 0: none */
	int err;	/* negative errno */
	uint64_t now;	/* when it was found */
	int state;	/* the step it happened in */
	int sample;	/* position index, -1: none */
	int last_known; /* enum bl_loc */
	int moving_to;	/* enum bl_loc: destination of the cut move, BL_LOC_NONE if none */
};

struct bl_sfsm_counters {
	uint32_t measured, quarantined, mismatched, faulted, aborted;
	uint32_t reads, read_retries;
	uint32_t robot_moves;
	uint32_t suspensions;	       /* holds entered */
	uint64_t suspended_ticks;      /* total length of finished holds */
	uint32_t exposures_discarded;  /* series cut by a hold or abort and re-taken */
	uint32_t exposures_by_time;    /* ended by the train's end time, no frames event */
	uint32_t stale_events;	       /* answers to no outstanding request */
	uint32_t scanned, scan_failed; /* puck-load reads: good, quarantined or mismatched */
	uint32_t agent_silences;       /* holds for agent silence */
	uint32_t recovered;	       /* samples put back after a controller restart */
};

/* The FSM. Fields are private: read them through bl_sfsm_status() / bl_sfsm_pos(). */
struct bl_sfsm {
	const struct bl_sfsm_config *cfg;
	struct bl_sfsm_pos_status pos[BL_SFSM_MAX_POS];
	uint8_t queue[BL_SFSM_MAX_POS];
	uint8_t q_head, q_len;
	int state;  /* enum bl_sfsm_state */
	int target; /* where the unwind (trigger stop, disarm, park) is heading */
	int resume_to;
	int cur;  /* position index handled now, -1 none */
	int disp; /* what the current sample becomes when back in its slot */
	bool busy;
	uint32_t req, next_req;
	uint64_t deadline; /* of the outstanding request */
	uint64_t train_start, expose_end;
	uint32_t series;
	bool det_armed, train_running, parked, at_reader, abort_req, estop, in_step;
	unsigned il;   /* door/beam inputs active now (enum bl_sfsm_hold bits) */
	unsigned hold; /* why the cycle is held (enum bl_sfsm_hold bits); cleared by resume */
	uint64_t hold_since;
	bool scanning;	   /* the current position is a puck-load scan, not a measurement */
	uint8_t scan_prev; /* its state before the scan (idle or queued), restored after */
	bool recover;	 /* restored with a sample out of its slot: put it back at the first step */
	bool recovering; /* ... and that return is under way */
	bool agent_seen;
	uint64_t agent_last;
	struct bl_sfsm_fault fault;
	struct bl_sfsm_counters counters;
};

/* What bl_sfsm_latch() gives the trigger sequencer at an edge. */
struct bl_sfsm_latch {
	uint32_t series;
	uint32_t frame; /* 0-based edge index */
	int sample;
	uint8_t puck, slot;
	const char *barcode;
};

/* Checks cfg and sets the FSM up idle, every position not queued and in its slot. */
int bl_sfsm_init(struct bl_sfsm *f, const struct bl_sfsm_config *cfg);

/*
 * After bl_sfsm_init() and before the first step, on a controller restart: what the journal
 * and the sensors proved about position i. state: idle, done, quarantined, mismatch or fault
 * (a position that was active comes back done when its series was complete, else idle: the
 * cut exposure is discarded, as an abort would); loc: slot, gripper or stage. At most one
 * position may be out of its slot; the first step puts it back (holds and interlocks apply).
 * -BL_EINVAL for anything else, -BL_EALREADY for a second sample out of its slot.
 */
int bl_sfsm_restore(struct bl_sfsm *f, int i, int state, bool measured, uint32_t series, int loc);

/*
 * Advances the FSM at controller time `now` (never earlier than a previous call): first time
 * (an outstanding request past its deadline is a timeout fault; an exposure past its end is
 * done), then `ev` (NULL for a pure time step). Returns 0, or a negative errno about ev:
 * -BL_ENOENT an answer to no outstanding request (ignored), -BL_EINVAL a malformed event or a
 * command not allowed now, -BL_EALREADY queueing a position already queued or handled,
 * -BL_EBUSY resume or reset while an interlock is active, -BL_EAGAIN resume before the hold
 * is reached. Not re-entrant (-BL_EBUSY).
 */
int bl_sfsm_step(struct bl_sfsm *f, uint64_t now, const struct bl_sfsm_event *ev);

/* The next time the FSM needs a step without an event, BL_SFSM_NEVER when none. */
uint64_t bl_sfsm_next(const struct bl_sfsm *f);

int bl_sfsm_state(const struct bl_sfsm *f);
int bl_sfsm_current(const struct bl_sfsm *f);
const struct bl_sfsm_pos_status *bl_sfsm_pos(const struct bl_sfsm *f, int i);
const struct bl_sfsm_counters *bl_sfsm_counters(const struct bl_sfsm *f);
const struct bl_sfsm_fault *bl_sfsm_fault(const struct bl_sfsm *f);
unsigned bl_sfsm_hold(const struct bl_sfsm *f);
size_t bl_sfsm_queued(const struct bl_sfsm *f);

/* At a trigger edge at `edge`: the metadata of that instant. -BL_ENOENT when no train runs. */
int bl_sfsm_latch(const struct bl_sfsm *f, uint64_t edge, struct bl_sfsm_latch *out);

/* Names for logs and traces. */
const char *bl_sfsm_state_name(int state);
const char *bl_sfsm_pos_state_name(int state);
const char *bl_loc_name(int loc);

#endif
