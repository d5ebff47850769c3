/* sim_pfsm.h: the sim port's printer (heaters, syringe pump, coater stage / web, detector,
 * trigger box) behind bl_hal_print.h, with its scheduler, on a virtual clock. */
#ifndef BL_SIM_PFSM_H
#define BL_SIM_PFSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/print_fsm.h"
#include "core/sched.h"
#include "core/trigseq.h"

/*
 * A scripted world behind core/hal/bl_hal_print.h. Requests are recorded (and traced) and
 * answered after virtual delays; actions change the physical truth at once: heaters follow a
 * first-order response towards their setpoint (time constant tau, capped at what the heater
 * can reach), the pump dispenses at its rate, the axis moves at its speed, the detector counts
 * the trigger edges it gets while armed. The world owns the port's scheduler and runs it as a
 * punctual port would (or late, on request), forwards the scheduler's faults about the FSM's
 * commands back to it (installing the sim HAL's fault hook), and, given a trigger sequencer,
 * programs it at each print start and feeds it the edges read back. One world at a time.
 */

#define BL_SIM_PFSM_PENDING 256
#define BL_SIM_PFSM_SCHED   128
#define BL_SIM_PFSM_INJECT  8
#define BL_SIM_PFSM_SHOTS   256
#define BL_SIM_EDGES_MAX    512

/* Virtual durations (ticks). */
struct bl_sim_pfsm_delays {
	uint64_t heater_set, heater_read; /* Modbus round trips */
	uint64_t home;			  /* axis to its start */
	uint64_t arm, disarm;		  /* detector */
	uint64_t readback;		  /* trigger box: edge -> its time read back by the port */
};

/* One heater: the physical truth. */
struct bl_sim_heater {
	double ambient_c; /* where it starts and where "off" leads */
	double tau_s;	  /* first-order time constant */
	double max_c;	  /* the most it can reach (a weak or broken heater: below the setpoint) */
	double sp_c;	  /* setpoint it was given */
	double from_c;	  /* temperature at t0 */
	uint64_t t0;	  /* when sp_c was set */
};

/* Requests and actions the injector can break (bl_sim_pfsm_inject). */
enum bl_sim_preq {
	BL_SIM_P_SET = 1, /* requests: rc (0: never answered) */
	BL_SIM_P_READ,
	BL_SIM_P_HOME,
	BL_SIM_P_ARM,
	BL_SIM_P_PRIME,
	BL_SIM_P_DISARM,
	BL_SIM_P_PUMP_RUN, /* actions: the HAL call returns rc */
	BL_SIM_P_MOTION_START,
	BL_SIM_P_TRIGGER, /* rc: returned; rc 0: the box misses this edge silently */
	BL_SIM_P_COUNT
};

struct bl_sim_pinject {
	int req, nth, rc, seen;
	uint64_t jitter; /* BL_SIM_P_TRIGGER with rc 1: the edge comes this late instead */
};

/* A trigger edge as it physically happened. */
struct bl_sim_shot {
	uint64_t t;	   /* when the edge was emitted */
	uint64_t when;	   /* its programmed time */
	uint32_t frame;	   /* the FSM's frame index */
	double axis_mm;	   /* head / web travel since the motion start */
	double speed_mm_s; /* axis speed */
	bool pumping, armed, beam_ok;
};

struct bl_sim_ppending {
	uint64_t when, seq;
	int what; /* private: event, heater read, prime done, home done, edge, alarm */
	int idx;
	uint64_t t;
	struct bl_pfsm_event ev;
	struct bl_fault fault;
};

struct bl_sim_pfsm {
	struct bl_pfsm *fsm;
	const struct bl_pfsm_config *cfg;
	struct bl_trigseq *ts; /* NULL: none */
	uint64_t now;
	struct bl_sim_pfsm_delays d;
	struct bl_sched sched;
	struct bl_sched_entry sched_storage[BL_SIM_PFSM_SCHED];
	uint64_t stall_from, stall_until; /* the port does not run the scheduler in between */

	/* Physical truth. */
	struct bl_sim_heater heater[BL_PFSM_MAX_HEATERS];
	struct {
		bool running, priming;
		double rate;	  /* ul/min */
		uint64_t since;	  /* running since */
		double dispensed; /* ul, up to `since` */
	} pump;
	struct {
		bool moving;
		int mode;
		double speed, pos; /* mm/s; mm travelled, up to `since` */
		uint64_t since;
		bool homed;
		double gap_um;
	} axis;
	struct {
		bool armed;
		uint32_t series, next_series, frames, frames_unarmed, frames_spoiled;
	} det;
	unsigned il; /* door / beam active (bl_pfsm_hold bits) */
	struct bl_sim_shot shot[BL_SIM_PFSM_SHOTS];
	size_t nshots;
	int safe_states;
	bool safe_heaters_off;
	int notes[BL_PNOTE_STALE_CMD + 1];

	struct bl_sim_ppending pend[BL_SIM_PFSM_PENDING];
	size_t npend;
	uint64_t seq;
	struct bl_sim_pinject inj[BL_SIM_PFSM_INJECT];
	size_t ninj;
	int req_count[BL_SIM_P_COUNT];
	int sched_faults; /* faults the scheduler reported */

	int event_errors; /* scheduled events the FSM refused, loops */
	char first_error[160];

	char *trace; /* NULL: no trace */
	size_t trace_cap, trace_len;
};

/*
 * The sim beamline's printer (hwdb/beamlines/sim.yaml printer: ranges; two heaters), the beam
 * 50 mm from the head, heaters within 1 C for 5 s read every second (10 min to get there),
 * start lead 200 ms, end margin 100 ms, sched source 0xfff0.
 */
void bl_sim_pfsm_config(struct bl_pfsm_config *c);

/* A valid recipe for that printer: stage (100 mm at 10 mm/s, beam passed at T + 5 s) or web
 * (200 mm at 5 mm/s, transit 10 s); 8 frames at drying delays from 0.5 s (stage) / 10 s (web)
 * to 60 s / 90 s, 200 ms each; 20 ul/min; heaters 60 and 70 C; prime 10 ul at 100 ul/min. */
void bl_sim_pfsm_recipe(struct bl_pfsm_recipe *r, int mode);

/* Modbus round trips of 20 ms, home 3 s, arm 200 ms, disarm 100 ms, edge readback 2 ms. */
extern const struct bl_sim_pfsm_delays bl_sim_pfsm_delays_default;

/* Sets the world up: heaters at 25 C ambient (tau 20 s, reach 300 C), pump and axis still, the
 * scheduler (min_lead 1 ms, horizon 1 h, tolerance 1 ms), then bl_pfsm_init(fsm, cfg). */
int bl_sim_pfsm_init(struct bl_sim_pfsm *w, struct bl_pfsm *fsm, const struct bl_pfsm_config *cfg,
		     const struct bl_sim_pfsm_delays *d, char *trace, size_t trace_cap);

/* A trigger sequencer to program at each print start and to feed the edges read back. */
void bl_sim_pfsm_attach(struct bl_sim_pfsm *w, struct bl_trigseq *ts);

/* The nth (1-based) request / action of kind `req` gets rc (see enum bl_sim_preq). */
int bl_sim_pfsm_inject(struct bl_sim_pfsm *w, int req, int nth, int rc, uint64_t jitter);

/* Queues an event for delivery at `when`. -ENOSPC when full. */
int bl_sim_pfsm_at(struct bl_sim_pfsm *w, uint64_t when, const struct bl_pfsm_event *ev);
int bl_sim_pfsm_interlock_at(struct bl_sim_pfsm *w, uint64_t when, int il, bool active);
int bl_sim_pfsm_cmd_at(struct bl_sim_pfsm *w, uint64_t when, int cmd,
		       const struct bl_pfsm_recipe *r);
/* A device fails on its own at `when` (a pump stall, a drive fault): it stops, then alarms. */
int bl_sim_pfsm_alarm_at(struct bl_sim_pfsm *w, uint64_t when, int dev, int rc);

/* Sends a command now and returns the FSM's answer. */
int bl_sim_pfsm_cmd(struct bl_sim_pfsm *w, int cmd, const struct bl_pfsm_recipe *r);

/* The port is late: it does not run the scheduler from `from` until `until`. */
void bl_sim_pfsm_stall(struct bl_sim_pfsm *w, uint64_t from, uint64_t until);

/*
 * Runs the world up to `until` (the clock then stands there), or until nothing is left to do
 * with BL_PFSM_NEVER: scheduler, world events, trigger sequencer and FSM time steps in time
 * order. Returns the number of steps, or -ELOOP (an event error) when a time step leaves the
 * FSM wanting another at or before now.
 */
long bl_sim_pfsm_run(struct bl_sim_pfsm *w, uint64_t until);

/* Truth: heater i's temperature now, volume dispensed so far, axis travel so far. */
double bl_sim_pfsm_temp(const struct bl_sim_pfsm *w, int i);
double bl_sim_pfsm_dispensed(const struct bl_sim_pfsm *w);
double bl_sim_pfsm_axis(const struct bl_sim_pfsm *w);

/* Appends a line to the trace (tests annotate it). */
void bl_sim_pfsm_tracef(struct bl_sim_pfsm *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The records bl_hal_trigseq_edge() got (in order), with their strings copied. Independent of
 * any world, so sample-series tests use it too. */
struct bl_sim_edge {
	struct bl_edge_meta m; /* m.sample.barcode and m.print.label point into this record */
	char barcode[BL_SFSM_BARCODE_MAX];
	char label[BL_PFSM_LABEL_MAX];
};
void bl_sim_edges_reset(void);
size_t bl_sim_edges_count(void);
const struct bl_sim_edge *bl_sim_edge(size_t i);

#endif
