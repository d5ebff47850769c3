/* sim_sfsm.h: the sim port's sample-cycle devices (robot, reader, detector, trigger) on a virtual
 * clock. */
#ifndef BL_SIM_SFSM_H
#define BL_SIM_SFSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sample_fsm.h"

/*
 * A scripted world behind the HAL of core/hal/bl_hal_sample.h: each request is recorded (and
 * written to a trace), and its answer is queued as an event after a realistic virtual delay.
 * The world keeps the physical truth (which sample is in which slot, the gripper, on the stage,
 * how many complete, unspoiled exposures each got) so tests compare the FSM's beliefs with it.
 * One world at a time (the HAL functions are global).
 */

#define BL_SIM_SFSM_PENDING 64
#define BL_SIM_SFSM_INJECT  8

/* Virtual durations (ticks) of each device operation. */
struct bl_sim_sfsm_delays {
	uint64_t pick, reader, place, ret, park; /* robot */
	uint64_t barcode, arm, disarm, trigger, trig_stop;
	uint64_t readout; /* detector: last frame -> frames event */
};

/* What the reader makes of a sample's label. */
struct bl_sim_label {
	char text[BL_SFSM_BARCODE_MAX]; /* what a good read returns */
	int fail_first;			/* this many reads fail first (-1: every read fails) */
	int fail_rc;			/* how they fail: -BL_ENODATA (no read) or -BL_EBADMSG */
};

/* Requests the injector can break (bl_sim_sfsm_inject). */
enum bl_sim_req {
	BL_SIM_REQ_ROBOT = 1, /* with a robot op (0: any) */
	BL_SIM_REQ_BARCODE,
	BL_SIM_REQ_ARM,
	BL_SIM_REQ_TRAIN,
	BL_SIM_REQ_DISARM,
	BL_SIM_REQ_TRIG_STOP,
};

struct bl_sim_pending {
	uint64_t when, seq;
	int internal; /* 0: an event for the FSM; 1: the train's last edge is done */
	uint32_t train;
	struct bl_sfsm_event ev;
	char text[BL_SFSM_BARCODE_MAX];
};

struct bl_sim_inject {
	int req, op, nth; /* the nth request of that kind (and robot op) */
	int rc;		  /* answered with rc after the usual delay; 0: never answered */
	int seen;
};

struct bl_sim_sfsm {
	const struct bl_sfsm_config *cfg;
	struct bl_sfsm *fsm;
	uint64_t now;
	struct bl_sim_sfsm_delays d;
	struct bl_sim_label label[BL_SFSM_MAX_POS];
	bool frames_events; /* the detector reports finished series (else the FSM ends by time) */

	/* Physical truth: sample index in each position's slot, the gripper, the stage (-1 none).
	 */
	int slot[BL_SFSM_MAX_POS];
	int gripper, stage;
	int pose;			/* the robot op last completed */
	int exposures[BL_SFSM_MAX_POS]; /* complete, unspoiled series per sample */
	int spoiled[BL_SFSM_MAX_POS];	/* series cut or taken without beam */
	int reads[BL_SFSM_MAX_POS];	/* barcode reads per sample */
	bool armed, train_on, train_spoiled;
	uint32_t series, next_series, train_id;
	int train_sample;
	unsigned il; /* door/beam active (enum bl_sfsm_hold bits) */
	int safe_states;

	struct bl_sim_pending pend[BL_SIM_SFSM_PENDING];
	size_t npend;
	uint64_t seq;
	struct bl_sim_inject inj[BL_SIM_SFSM_INJECT];
	size_t ninj;
	int req_count[BL_SIM_REQ_TRIG_STOP + 1][BL_ROBOT_PARK + 1];

	/* Checks: a request the world could not carry out physically, FSM vs. truth. */
	int physical_errors;
	int loc_errors;
	int event_errors; /* scheduled events the FSM refused */
	char first_error[160];

	char *trace; /* NULL: no trace */
	size_t trace_cap, trace_len;
};

/* Sets up the world for fsm/cfg (labels = the inventory's barcodes, all samples in their slots). */
void bl_sim_sfsm_init(struct bl_sim_sfsm *w, struct bl_sfsm *fsm, const struct bl_sfsm_config *cfg,
		      const struct bl_sim_sfsm_delays *d, char *trace, size_t trace_cap);

/* The nth (1-based) request of kind `req` (robot op `op`, 0 any) is answered rc (0: never). */
int bl_sim_sfsm_inject(struct bl_sim_sfsm *w, int req, int op, int nth, int rc);

/* Queues an event (interlock, command) for delivery at `when`. -ENOSPC when full. */
int bl_sim_sfsm_at(struct bl_sim_sfsm *w, uint64_t when, const struct bl_sfsm_event *ev);
int bl_sim_sfsm_interlock_at(struct bl_sim_sfsm *w, uint64_t when, int il, bool active);
int bl_sim_sfsm_cmd_at(struct bl_sim_sfsm *w, uint64_t when, int cmd, int sample, int loc);

/* Sends a command now and returns the FSM's answer. */
int bl_sim_sfsm_cmd(struct bl_sim_sfsm *w, int cmd, int sample, int loc);

/*
 * Delivers queued events and time steps in time order up to `until` (the clock then stands at
 * `until`), or until nothing is left to do when `until` is BL_SFSM_NEVER. Returns the number of
 * steps, or -ELOOP (counted as an event error) past a million steps or when a time step leaves
 * bl_sfsm_next() at or before now (the port's loop would spin).
 */
long bl_sim_sfsm_run(struct bl_sim_sfsm *w, uint64_t until);

/* The physical location of sample i (enum bl_loc; BL_LOC_UNKNOWN: in another sample's slot). */
int bl_sim_sfsm_where(const struct bl_sim_sfsm *w, int i);

/* Appends a line to the trace (tests annotate it). */
void bl_sim_sfsm_tracef(struct bl_sim_sfsm *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
