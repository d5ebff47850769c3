/* print_fsm.h: the print-cycle state machine: heat, home, arm, prime, timed coating start,
 * triggered frames during drying, stop. */
#ifndef BL_PRINT_FSM_H
#define BL_PRINT_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bl_errno.h"
#include "hal/bl_hal.h"
#include "hal/bl_hal_print.h"
#include "sched.h"

#define BL_PFSM_MAX_HEATERS 4  /* = BL_HWDB_MAX_HEATERS (the port copies; no hwdb in the core) */
#define BL_PFSM_MAX_FRAMES  64 /* drying delays (frames) per print */
#define BL_PFSM_LABEL_MAX   32 /* recipe label, NUL included */
#define BL_PFSM_NEVER	    UINT64_MAX

/*
 * Geometry (one film coordinate u, mm along the film from where the coating started; a point
 * u is coated at t_coat(u) = t_motion_start + u / v):
 *   - BL_PMODE_STAGE: the head travels `length_mm` at v over a substrate that stays put; the
 *     beam looks at the fixed film point u = beam_offset_mm (the beam spot's distance from the
 *     head's start position along the travel). The head passes it at t_c = T + beam_offset / v;
 *     frame i is taken at t_c + delay[i], any delay >= 0.
 *   - BL_PMODE_WEB: the head stands, the web moves at v and carries the film to the beam
 *     `beam_offset_mm` downstream of the head. While the web moves the beam sees the point
 *     u = v (t - T) - beam_offset, always beam_offset / v old. The web (and the pump) stop once
 *     `length_mm` is coated; from then on the beam watches u = length - beam_offset, coated at
 *     t_c = T + (length - beam_offset) / v; frame i is at t_c + delay[i], so every delay must
 *     be >= beam_offset / v (the transit time), else the recipe is refused.
 * T = now + start_lead when priming ends. Pump and motion start at T and stop at
 * T + length / v; speeds are reached at once (acceleration ramps are not modelled).
 */

/* A closed range [min, max] in engineering units (as hwdb's bl_range). */
struct bl_pfsm_range {
	double min, max;
};

/* Configuration; the FSM keeps a pointer to it (caller storage, must outlive the FSM). */
struct bl_pfsm_config {
	/* From hwdb printer.* (the port copies them). */
	struct {
		struct bl_pfsm_range flow_ul_min;      /* pump flow, also the prime rate */
		struct bl_pfsm_range coat_speed_mm_s;  /* stage mode speed */
		struct bl_pfsm_range web_speed_mm_s;   /* web mode speed */
		struct bl_pfsm_range temperature_c;    /* every heater setpoint */
		struct bl_pfsm_range gap_um;	       /* slot-die gap */
		struct bl_pfsm_range coater_travel_mm; /* stage mode printed length */
	} limits;
	uint8_t nheaters;	   /* heaters fitted, 0..BL_PFSM_MAX_HEATERS */
	double max_web_length_mm;  /* web mode: most film one print coats, > 0 */
	double max_prime_ul;	   /* most volume one prime may dispense, > 0 */
	double beam_offset_mm;	   /* see the geometry above, >= 0 */
	double cool_c;		   /* heater setpoint when a recipe asks to cool afterwards */
	bool heaters_off_on_fault; /* safe state also switches the heaters off (e-stop always) */
	uint16_t sched_source; /* bl_cmd.source of the FSM's timed commands (no agent uses it) */
	struct {
		double tolerance_c; /* |read - setpoint| <= this counts as at temperature, > 0 */
		uint64_t settle;    /* all heaters at temperature for this long: heated */
		uint64_t poll;	    /* time between reading rounds (heating and printing), > 0 */
		uint64_t max;	    /* heating not settled this long after it began: fault, > 0 */
	} heat;
	uint64_t start_lead; /* T = now + start_lead when priming ends, >= scheduler min_lead */
	uint64_t end_margin; /* disarm this long after the last frame's count time and the stop */
	struct {
		uint64_t heater, home, arm, disarm; /* ticks, each > 0 */
		uint64_t prime_extra;		    /* prime: volume / rate plus this, > 0 */
	} timeout;
};

/* A print recipe (validated against the configuration's limits before anything moves). */
struct bl_pfsm_recipe {
	char label[BL_PFSM_LABEL_MAX]; /* ink / substrate / run label for the metadata */
	int mode;		       /* enum bl_pmode */
	double flow_ul_min;	       /* pump flow while coating */
	double speed_mm_s;	       /* stage or web speed while coating */
	double gap_um;		       /* slot-die gap */
	double length_mm;	       /* printed length */
	uint8_t nheaters;	       /* must equal the configuration's */
	double setpoint_c[BL_PFSM_MAX_HEATERS];
	double prime_rate_ul_min; /* prime: rate (flow limits) and volume (0 < v <= max_prime) */
	double prime_volume_ul;
	uint32_t nframes;		    /* 1..BL_PFSM_MAX_FRAMES */
	uint64_t delay[BL_PFSM_MAX_FRAMES]; /* drying time of the watched point at each frame */
	uint64_t count_time;		    /* per frame, > 0; delays at least this far apart */
	bool cool;			    /* heaters to cfg.cool_c after the print */
};

/* Which recipe field was refused (bl_pfsm_refusal). */
enum bl_pfsm_field {
	BL_PF_NONE = 0,
	BL_PF_MODE,
	BL_PF_FLOW,
	BL_PF_SPEED,
	BL_PF_GAP,
	BL_PF_LENGTH,	/* out of the travel / web range, or not reaching the beam */
	BL_PF_NHEATERS, /* not the number of heaters fitted */
	BL_PF_SETPOINT, /* index: heater */
	BL_PF_PRIME_RATE,
	BL_PF_PRIME_VOLUME,
	BL_PF_NFRAMES, /* 0, too many, or more than the scheduler can hold */
	BL_PF_DELAY,   /* index: frame (too early, not increasing by count_time, horizon) */
	BL_PF_COUNT_TIME,
	BL_PF_LABEL, /* not NUL-terminated */
	BL_PF_COUNT  /* not a field */
};

/* What the port hands to bl_pfsm_step(). */
enum bl_pfsm_ev_kind {
	BL_PFSM_EV_DONE = 1,	    /* a request finished: req, rc, value (read), series (arm) */
	BL_PFSM_EV_INTERLOCK = 2,   /* an interlock / hold input changed: interlock, active */
	BL_PFSM_EV_CMD = 3,	    /* an agent or operator command: cmd, recipe (start) */
	BL_PFSM_EV_ALARM = 4,	    /* a device failed on its own: dev (enum bl_pdev), rc */
	BL_PFSM_EV_SCHED_FAULT = 5, /* bl_hal_fault() about one of the FSM's timed commands */
};

/* Same numbers as the sample cycle's bl_sfsm_interlock, plus the agent's silence. */
enum bl_pfsm_interlock {
	BL_PIL_DOOR = 1,  /* hutch door / safeguard open: hold */
	BL_PIL_BEAM = 2,  /* beam lost: hold */
	BL_PIL_ESTOP = 3, /* emergency stop: safe state */
	BL_PIL_AGENT = 4, /* the agent is silent past its timeout (the port decides): hold */
};

enum bl_pfsm_cmd {
	BL_PCMD_START = 1,  /* print `recipe` (validated; -BL_ERANGE and the field when refused) */
	BL_PCMD_PAUSE = 2,  /* hold like an open door, until resume */
	BL_PCMD_RESUME = 3, /* continue after a hold (every input clear): re-prime, re-print */
	BL_PCMD_ABORT = 4,  /* stop the print now, back to idle (heaters keep their setpoints) */
	BL_PCMD_RESET = 5,  /* leave the fault state */
};

struct bl_pfsm_event {
	int kind; /* enum bl_pfsm_ev_kind */
	uint32_t req;
	int rc;
	double value;	 /* heater read: deg C */
	uint32_t series; /* detector arm: series id */
	int interlock;	 /* enum bl_pfsm_interlock */
	bool active;
	int cmd;			     /* enum bl_pfsm_cmd */
	const struct bl_pfsm_recipe *recipe; /* start: copied during the call */
	int dev;			     /* alarm: enum bl_pdev */
	const struct bl_fault *fault;	     /* sched fault: as bl_hal_fault() got it */
};

/* Types of the FSM's timed commands (bl_cmd.type, source = cfg.sched_source, id = run id). */
enum bl_pfsm_timed {
	BL_PT_PUMP_RUN = 0x5001, /* args.d[0]: flow ul/min */
	BL_PT_MOTION_START,	 /* args.d[0]: speed mm/s; args.i[2]: mode */
	BL_PT_TRIGGER,		 /* args.u[0]: frame */
	BL_PT_MOTION_STOP,
	BL_PT_PUMP_STOP,
};

enum bl_pfsm_state {
	BL_PFSM_IDLE = 0,    /* nothing to do */
	BL_PFSM_HEAT_SET,    /* setpoints, one heater at a time */
	BL_PFSM_HEAT_WAIT,   /* reading rounds until all at temperature for the settle time */
	BL_PFSM_HOME,	     /* axis to its start, gap set */
	BL_PFSM_ARM,	     /* detector arm (series) */
	BL_PFSM_PRIME,	     /* pump primes the die */
	BL_PFSM_PRINT,	     /* timed commands queued: coating, frames, stop; heaters read */
	BL_PFSM_DISARM,	     /* detector disarm */
	BL_PFSM_COOL,	     /* heaters to cfg.cool_c (recipe.cool) */
	BL_PFSM_HELD,	     /* held: waiting for resume */
	BL_PFSM_FAULT,	     /* safe state: waiting for reset */
	BL_PFSM_STATE_COUNT, /* not a state */
};

/* Hold reasons (bits): any set holds the cycle. */
enum bl_pfsm_hold {
	BL_PHOLD_DOOR = 1u << 0,
	BL_PHOLD_BEAM = 1u << 1,
	BL_PHOLD_PAUSE = 1u << 2,
	BL_PHOLD_AGENT = 1u << 3,
};

/* One heater as the FSM knows it. */
struct bl_pfsm_heater {
	double setpoint_c; /* last setpoint sent */
	double value_c;	   /* last read value */
	uint64_t read_at;  /* controller time of that read (answer), 0: never read */
	bool in_tol;	   /* that read was within the tolerance */
};

/* The print run in progress or last made. Times in ticks; BL_PFSM_NEVER: not (yet) happened. */
struct bl_pfsm_run {
	uint32_t id;	 /* run number, the bl_cmd.id of its timed commands (from 1) */
	uint32_t series; /* detector series */
	int mode;	 /* enum bl_pmode */
	double speed_mm_s, flow_ul_min, length_mm;
	double film_mm;	  /* the watched film point (after the stop, in web mode) */
	uint64_t t_start; /* T: programmed pump and motion start */
	uint64_t t_coat;  /* programmed coating time of the watched point */
	uint64_t t_stop;  /* programmed pump and motion stop */
	uint64_t t_end;	  /* disarm from then on */
	uint32_t nframes;
	uint64_t t_frame[BL_PFSM_MAX_FRAMES];		   /* programmed trigger edges */
	uint64_t pump_on, pump_off, motion_on, motion_off; /* as executed */
	uint32_t triggers;				   /* trigger commands executed */
	uint32_t queued, executed;
	bool valid; /* a run was programmed (its data stays for late latches) */
};

/* The fault that put the FSM in its safe state. */
struct bl_pfsm_fault {
	int reason;	 /* enum bl_psafe_reason, 0: none */
	int err;	 /* negative errno */
	int dev;	 /* enum bl_pdev when known, else 0 */
	uint64_t now;	 /* when it was found */
	int state;	 /* the step it happened in */
	uint32_t run;	 /* run id, 0 none */
	uint32_t frames; /* trigger commands of that run executed */
};

struct bl_pfsm_counters {
	uint32_t started;	  /* START commands accepted */
	uint32_t refused;	  /* START commands refused (recipe) */
	uint32_t printed;	  /* complete prints (all frames, stop executed) */
	uint32_t spoiled;	  /* prints cut by a hold (re-printed after resume) */
	uint32_t aborted;	  /* prints (or preparations) cut by an abort */
	uint32_t faulted;	  /* safe states */
	uint32_t primes;	  /* primes completed */
	uint32_t heater_reads;	  /* read answers */
	uint32_t temp_excursions; /* reads outside the tolerance while printing */
	uint32_t suspensions;	  /* holds entered */
	uint64_t suspended_ticks; /* total length of finished holds */
	uint32_t timed_executed;  /* timed commands executed for a run */
	uint32_t timed_stale;	  /* timed commands that came for no run */
	uint32_t stale_events;	  /* answers to no outstanding request */
};

/* The FSM. Fields are private: read them through the accessors below. */
struct bl_pfsm {
	const struct bl_pfsm_config *cfg;
	struct bl_sched *sched;
	struct bl_pfsm_recipe recipe; /* the accepted recipe (copied) */
	struct bl_pfsm_heater heater[BL_PFSM_MAX_HEATERS];
	struct bl_pfsm_run run;
	int state;  /* enum bl_pfsm_state */
	int target; /* where the FSM goes when the detector is disarmed */
	int resume_to;
	int req_kind; /* what the outstanding request is (private enum) */
	uint8_t hidx; /* heater index of the set / read round */
	bool busy;
	uint32_t req, next_req;
	uint64_t deadline;	/* of the outstanding request */
	uint64_t wake;		/* next reading round */
	uint64_t heat_since;	/* heating began */
	uint64_t settled_since; /* all at temperature since (BL_PFSM_NEVER: not) */
	bool all_in_tol;	/* this round so far */
	bool det_armed, printing, abort_req, cool_req, estop, in_step;
	uint32_t series, next_run;
	unsigned il;   /* door/beam/agent inputs active now (enum bl_pfsm_hold bits) */
	unsigned hold; /* why the cycle is held; cleared by resume (and abort) */
	uint64_t hold_since;
	int refused_field, refused_index;
	struct bl_pfsm_fault fault;
	struct bl_pfsm_counters counters;
};

/* What bl_pfsm_latch() gives the trigger sequencer at an edge. */
struct bl_pfsm_latch {
	uint32_t run, series;
	int mode;	    /* enum bl_pmode */
	double film_mm;	    /* film point under the beam, mm from the coating start */
	double axis_mm;	    /* head (stage) or web travel since the motion started */
	bool coated;	    /* that point has been coated */
	int64_t since_coat; /* ticks since it was coated; -1 when not coated */
	double flow_ul_min; /* pump flow at the edge (0: not running) */
	double speed_mm_s;  /* axis speed at the edge (0: standing) */
	uint8_t nheaters;
	double temp_c[BL_PFSM_MAX_HEATERS];    /* last read values */
	uint64_t temp_at[BL_PFSM_MAX_HEATERS]; /* and when they were read (0: never) */
	const char *label;		       /* the recipe's; valid until the next start */
};

/*
 * Checks cfg (-BL_EINVAL) and sets the FSM up idle. `sched` is the port's scheduler (the
 * agent's timed commands share it); the FSM adds its commands there with source
 * cfg.sched_source and flushes them by that source, and the port's executor hands commands of
 * that source to bl_pfsm_exec(). cfg.start_lead must be at least the scheduler's min_lead.
 */
int bl_pfsm_init(struct bl_pfsm *f, const struct bl_pfsm_config *cfg, struct bl_sched *sched);

/*
 * Advances the FSM at controller time `now` (never earlier than a previous call): first time
 * (an outstanding request past its deadline is a timeout fault, heating past cfg.heat.max a
 * heat-timeout fault, a reading round or the print's end when due), then `ev` (NULL for a pure
 * time step). Returns 0, or a negative errno about ev: -BL_ENOENT an answer to no outstanding
 * request (ignored), -BL_EINVAL a malformed event or a command not allowed now, -BL_ERANGE a
 * recipe out of the limits (bl_pfsm_refusal() says which field), -BL_E2BIG a recipe longer
 * than the scheduler's horizon, -BL_ENOSPC more frames than the scheduler holds, -BL_EBUSY
 * start, resume or reset while an interlock is active (or re-entered), -BL_EAGAIN resume before
 * the hold is reached. May be called from the port's bl_hal_fault() inside bl_sched_run().
 */
int bl_pfsm_step(struct bl_pfsm *f, uint64_t now, const struct bl_pfsm_event *ev);

/*
 * The executor of the FSM's timed commands (a bl_sched_exec_fn; ctx is the FSM): the port
 * calls it from bl_sched_run() for every command whose source is cfg.sched_source. Performs the
 * action through the HAL and records its real time. Returns 0, -BL_ENOENT for a command not
 * the FSM's, or the HAL's error (the FSM is then already in its safe state).
 */
int bl_pfsm_exec(void *ctx, const struct bl_cmd *cmd, uint64_t when, uint64_t now);

/* The next time the FSM needs a step without an event, BL_PFSM_NEVER when none. */
uint64_t bl_pfsm_next(const struct bl_pfsm *f);

int bl_pfsm_state(const struct bl_pfsm *f);
const struct bl_pfsm_counters *bl_pfsm_counters(const struct bl_pfsm *f);
const struct bl_pfsm_fault *bl_pfsm_fault(const struct bl_pfsm *f);
const struct bl_pfsm_run *bl_pfsm_run(const struct bl_pfsm *f);
const struct bl_pfsm_heater *bl_pfsm_heater(const struct bl_pfsm *f, int i);
unsigned bl_pfsm_hold(const struct bl_pfsm *f);

/* The last refused recipe's field (enum bl_pfsm_field) and index (heater, frame; -1 none). */
int bl_pfsm_refusal(const struct bl_pfsm *f, int *index);

/*
 * Checks a recipe against the configuration and the scheduler's bounds without starting it.
 * Returns 0 or the error START would give; *field and *index (may be NULL) say where.
 */
int bl_pfsm_check_recipe(const struct bl_pfsm *f, const struct bl_pfsm_recipe *r, int *field,
			 int *index);

/*
 * At a trigger edge at `edge` (controller ticks): the printer state of that instant, from the
 * run's executed actions and the last heater reads. -BL_ENOENT when no run was programmed.
 */
int bl_pfsm_latch(const struct bl_pfsm *f, uint64_t edge, struct bl_pfsm_latch *out);

/* Names for logs and traces. */
const char *bl_pfsm_state_name(int state);
const char *bl_pfsm_field_name(int field);

#endif
