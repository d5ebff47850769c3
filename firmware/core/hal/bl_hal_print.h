/* bl_hal_print.h: the device requests, timed actions and safe state of the print cycle and the
 * trigger sequencer's publication of edge records. */
#ifndef BL_HAL_PRINT_H
#define BL_HAL_PRINT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Three kinds of functions, all named bl_hal_* (the freestanding check relies on it):
 *  - requests (bl_hal_print_heater_set ... detector_disarm) are non-blocking: the port starts
 *    the operation and returns 0, or a negative errno when it cannot even start it (the FSM
 *    treats that as a fault). The outcome comes back later as a bl_pfsm_event of kind
 *    BL_PFSM_EV_DONE with the same request id. The port must not call bl_pfsm_step() from
 *    inside them;
 *  - actions (pump_run ... trigger) do it now: the print FSM calls them from bl_pfsm_exec(), the
 *    executor of its timed commands, at their controller time, and directly to stop on a hold
 *    or abort. They return 0 once the device has been told, or a negative errno (fault). A
 *    device that fails later reports it as a BL_PFSM_EV_ALARM event;
 *  - sinks (safe state, notes, edge records) must not block.
 * These names are distinct from the sample cycle's (bl_hal_sample.h): the detector and trigger
 * box may be the same devices, the port binds both sets.
 */

/* The devices of the print cycle (alarm events, traces). */
enum bl_pdev {
	BL_PDEV_HEATER = 1,   /* a heater controller (bed, die) */
	BL_PDEV_PUMP = 2,     /* the syringe pump feeding the slot die */
	BL_PDEV_MOTION = 3,   /* the coater stage (stage mode) or the web drive (web mode) */
	BL_PDEV_DETECTOR = 4, /* the detector */
	BL_PDEV_TRIGGER = 5,  /* the trigger box */
};

/* How the film is made (bl_pfsm_recipe.mode): which axis moves, see print_fsm.h. */
enum bl_pmode {
	BL_PMODE_STAGE = 1, /* the coater head travels over a substrate held in the beam */
	BL_PMODE_WEB = 2,   /* the head stands still, the web moves under it and on to the beam */
};

/* Sets heater `heater` (0-based, as in hwdb printer.heaters) to `setpoint_c`. */
int bl_hal_print_heater_set(uint32_t req, uint8_t heater, double setpoint_c);

/* Reads heater `heater`'s process value; done event: value in deg C (bl_pfsm_event.value). */
int bl_hal_print_heater_read(uint32_t req, uint8_t heater);

/*
 * Brings the coating axis of `mode` to its start: the coater stage back to travel 0 with the
 * slot die at `gap_um` over the substrate (stage), the web drive stopped, tensioned and the die
 * at `gap_um` (web). Done when there.
 */
int bl_hal_print_home(uint32_t req, int mode, double gap_um);

/* Primes the slot die: the pump runs at `rate_ul_min` until `volume_ul` is dispensed, then
 * stops by itself; done at that point. bl_hal_print_pump_stop() cuts it (no answer needed). */
int bl_hal_print_prime(uint32_t req, double rate_ul_min, double volume_ul);

/* Arms the detector for a series of `frames` of `count_time` ticks, one per trigger edge;
 * done event: series id (bl_pfsm_event.series). */
int bl_hal_print_detector_arm(uint32_t req, uint32_t frames, uint64_t count_time);

/* Disarms the detector (ends the series, complete or not). */
int bl_hal_print_detector_disarm(uint32_t req);

/* Action: the pump runs at `rate_ul_min` from now until bl_hal_print_pump_stop(). */
int bl_hal_print_pump_run(double rate_ul_min);

/* Action: the pump stops now (also cuts a prime). */
int bl_hal_print_pump_stop(void);

/* Action: the axis of `mode` moves from now at `speed_mm_s` until bl_hal_print_motion_stop(). */
int bl_hal_print_motion_start(int mode, double speed_mm_s);

/* Action: the moving axis stops now (also cuts a home move). */
int bl_hal_print_motion_stop(void);

/*
 * Action: the trigger box emits one detector trigger edge now, the print series' frame `frame`
 * (0-based), programmed for controller time `when`. The port reads the edge's real time back
 * (or not) and hands it to the trigger sequencer (trigseq.h).
 */
int bl_hal_print_trigger(uint32_t frame, uint64_t when);

/* Why the print FSM went to its safe state (bl_pfsm_fault.reason). */
enum bl_psafe_reason {
	BL_PSAFE_DEVICE_ERROR = 1, /* a device answered with an error, or raised an alarm */
	BL_PSAFE_TIMEOUT = 2,	   /* a device did not answer within its timeout */
	BL_PSAFE_REFUSED = 3,	   /* the port could not start a request or an action */
	BL_PSAFE_ESTOP = 4,	   /* the emergency stop was pressed */
	BL_PSAFE_HEAT_TIMEOUT = 5, /* the heaters did not settle at their setpoints in time */
	BL_PSAFE_SCHED = 6,	   /* a timed command of the print was overdue, failed or lost */
};

/*
 * Safe state of the printer: stop the pump and the moving axis, stop the trigger box, disarm
 * the detector; with `heaters_off`, also set every heater to its off / ambient setpoint (else
 * heaters keep their setpoints). Must not block. The FSM then refuses to move until a reset.
 */
void bl_hal_print_safe_state(int reason, int err, bool heaters_off);

/* What a note says (bl_hal_print_note), for the event log the agent reads. */
enum bl_pfsm_note_what {
	BL_PNOTE_REFUSED = 1,	 /* value: the recipe field (enum bl_pfsm_field) refused */
	BL_PNOTE_HEATED = 2,	 /* value: ticks from the first setpoint to settled */
	BL_PNOTE_PRIMED = 3,	 /* value: primed volume in nl */
	BL_PNOTE_START = 4,	 /* value: series id; the run's times are in bl_pfsm_run() */
	BL_PNOTE_DONE = 5,	 /* value: series id of a complete print */
	BL_PNOTE_SPOILED = 6,	 /* value: series id of a print cut by a hold (re-printed) */
	BL_PNOTE_ABORTED = 7,	 /* value: series id of a print cut by an abort (0: none) */
	BL_PNOTE_SUSPEND = 8,	 /* value: bl_pfsm_hold bits that caused it */
	BL_PNOTE_RESUME = 9,	 /* value: length of the gap in ticks */
	BL_PNOTE_TEMP = 10,	 /* value: heater index read outside the tolerance while printing */
	BL_PNOTE_RESET = 11,	 /* value: 0 */
	BL_PNOTE_STALE_CMD = 12, /* value: type of a timed command that came for no print */
};

/* A line for the print cycle's event log. Must not block. */
void bl_hal_print_note(int what, int64_t value);

/* One record of the trigger sequencer (defined in trigseq.h). */
struct bl_edge_meta;

/*
 * The trigger sequencer hands over each record, in order: an edge and the metadata latched at
 * it, or a programmed edge that never came. Valid during the call only (copy what is kept);
 * the port publishes it to the agent. Must not block.
 */
void bl_hal_trigseq_edge(const struct bl_edge_meta *m);

#endif
