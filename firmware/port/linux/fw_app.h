/* fw_app.h: beamloop-fw's Linux application: the loop, its devices, journal and ZMQ interface. */
#ifndef BL_FW_APP_H
#define BL_FW_APP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bl_barcode.h"
#include "bl_detector.h"
#include "bl_hwdb.h"
#include "bl_mb.h"
#include "bl_pump.h"
#include "bl_tbox.h"
#include "core/print_fsm.h"
#include "core/sample_fsm.h"
#include "core/trigseq.h"
#include "epson_robot.h"
#include "port/linux/fw_journal.h"
#include "port/linux/fw_net.h"
#include "port/linux/fw_queue.h"
#include "port/linux/fw_reconcile.h"
#include "port/linux/fw_rt.h"

/* Robot worker jobs (the journal rides on the robot's worker: an intent is committed before
 * the move that follows it in the same queue can start). */
enum bl_fw_robot_job {
	BL_FW_J_ROBOT = 1, /* a: enum bl_robot_op, b: puck, c: slot */
	BL_FW_J_INTENT,	   /* a: sample, b: from, c: to */
	BL_FW_J_OUTCOME,   /* a: sample, b: at, c: rc */
	BL_FW_J_POS,	   /* a: sample, b: state, measured, n: series */
	BL_FW_J_NOTE,	   /* a: sample, b: what, t0: value */
	BL_FW_J_RESOLVE,   /* a: sample, b: loc (operator's word), req: reply slot */
};

/* Barcode, detector and trigger box jobs. PULSE: one edge at controller time t0 (a print
 * frame; the worker arms a one-edge train ahead of it). */
enum bl_fw_dev_job {
	BL_FW_J_READ = 1,
	BL_FW_J_ARM,
	BL_FW_J_DISARM,
	BL_FW_J_TRAIN,
	BL_FW_J_STOP,
	BL_FW_J_PULSE,
};

/* Printer jobs (heater, pump and motion workers). Timed actions carry their controller time in
 * t0 and are performed then (dispatched BL_FW_DISPATCH_LEAD early, see fw_hal_print.c). */
enum bl_fw_print_job {
	BL_FW_P_HEAT_SET = 1, /* a: heater, d0: setpoint */
	BL_FW_P_HEAT_READ,    /* a: heater -> value */
	BL_FW_P_HEAT_OFF,     /* every heater to d0 (safe state) */
	BL_FW_P_HOME,	      /* a: mode, d0: gap um */
	BL_FW_P_PRIME,	      /* d0: rate ul/min, d1: volume ul */
	BL_FW_P_PUMP_RUN,     /* d0: rate ul/min, t0: when */
	BL_FW_P_PUMP_STOP,    /* t0: when (0: now) */
	BL_FW_P_MOTION_START, /* a: mode, d0: speed mm/s, t0: when */
	BL_FW_P_MOTION_STOP,  /* t0: when (0: now) */
};

/* How early the loop hands a timed print action to its device worker, which then waits for
 * the action's time itself (Klipper sends its MCU commands ahead the same way): the trigger
 * box must be armed before its edge, a pump or drive takes its set-up writes first. */
#define BL_FW_DISPATCH_LEAD 30000u /* ticks */

/* One interlock input as hwdb describes it, and how it is read. */
struct bl_fw_input {
	int il; /* enum bl_sfsm_interlock */
	int bit;
	bool active_high;
	int last; /* -1 unknown, 0 clear, 1 active */
	char name[BL_HWDB_NAME_MAX];
};

#define BL_FW_MAX_INPUTS 8

struct bl_fw_robot {
	struct bl_epson_config cfg;
	struct bl_epson *h;
	struct bl_fw_journal *journal;
	int64_t move_id[BL_SFSM_MAX_POS];
	int refuse; /* the last intent failed: the next move is refused with this */
	bool at_safe_known;
	struct bl_fw_input in[BL_FW_MAX_INPUTS];
	int nin;
};

struct bl_fw_trig {
	struct bl_tbox *box;
	int channel;
	uint32_t width_ticks;
	uint64_t last_sync_ns;
	/* edges armed and not read back yet (read while idle) */
	uint32_t pending;
	uint64_t pulse_end;  /* controller time the last one-edge train is over */
	uint64_t read_until; /* keep reading edges until then (controller time) */
	uint64_t stale;	     /* edge records older than this controller, dropped */
	struct bl_fw_input in[BL_FW_MAX_INPUTS];
	int nin;
};

/* The printer's devices from hwdb printer.* (absent when hwdb names no pump). */
struct bl_fw_printer {
	bool present;
	struct bl_mb *heater[BL_PFSM_MAX_HEATERS];
	int nheaters;
	struct bl_mb *coater, *web; /* either may be NULL (that mode is then refused) */
	struct bl_pump *pump;
	double travel_mm;	 /* coater stage: where a coating move heads for */
	_Atomic int motion_mode; /* axis moving for a print (alarm polling), 0 none */
	_Atomic bool pumping;	 /* pump running for a print (alarm polling) */
	char pump_name[BL_HWDB_NAME_MAX];
};

struct bl_fw_options {
	const char *hwdb;
	const char *inventory; /* JSON file: [{"puck":1,"slot":1,"barcode":"..."}, ...] */
	const char *journal;
	const char *key;   /* the controller's key pair prefix (PREFIX.key / PREFIX.pub) */
	const char *allow; /* allow-list: a directory of *.pub or a file */
	const char *cmd_endpoint, *evt_endpoint;
	bool rt;
	int period_us;
	double agent_timeout_s;
	uint32_t frames;
	double count_time_s, period_s;
	double run_for_s; /* 0: until SIGTERM */
	double beam_offset_mm;
	double max_web_mm, max_prime_ul;
};

struct bl_fw_app {
	struct bl_fw_options opt;
	struct bl_hwdb *db;
	struct bl_sfsm_config scfg;
	struct bl_sfsm sfsm;
	struct bl_fw_inbox inbox;
	struct bl_fw_worker robot_w, barcode_w, det_w, trig_w;
	struct bl_fw_worker heat_w, pump_w, motion_w;
	struct bl_fw_printer pr;
	struct bl_pfsm_config pcfg;
	struct bl_pfsm pfsm;
	struct bl_sched sched;
	struct bl_sched_entry sched_mem[256];
	struct bl_trigseq_config tcfg;
	struct bl_trigseq ts;
	uint64_t ts_stop_at; /* a stopped series closes then (its last edges read back) */
	uint32_t ts_stop_series;
	uint64_t pf_clock;  /* latest time handed to the print FSM (never goes back) */
	uint64_t exec_when; /* inside the print executor: the action's time, else 0 */
	uint64_t heard_at;  /* the agent's last request */
	bool agent_silent;  /* the print FSM was told the agent is silent */
	int plast_state;
	unsigned plast_hold;
	struct bl_fw_robot robot;
	struct bl_barcode *bc;
	struct bl_det *det;
	struct bl_fw_trig trig;
	struct bl_fw_net *net;
	struct bl_fw_rt rt;
	struct bl_fw_reconcile rec;
	bool blocked; /* the reconcile could not prove every location: nothing moves */
	int last_state;
	unsigned last_hold;
	uint64_t loop_overruns, loops;
	struct bl_fw_latency lat; /* wake-up latency of the loop (the "loop" command reads it) */
	FILE *log;
};

/* Logs one line with the controller time (stderr or the log file). */
void bl_fw_log(struct bl_fw_app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Devices (fw_devices.c): open from hwdb, start the workers; the start-up sensor reading. */
int bl_fw_devices_open(struct bl_fw_app *a);
void bl_fw_devices_close(struct bl_fw_app *a);
int bl_fw_devices_sensors(struct bl_fw_app *a, struct bl_fw_sensors *s);
int bl_fw_devices_adopt(struct bl_fw_app *a, int sample, int loc);

/* The HAL binding (fw_hal_linux.c). */
void bl_fw_hal_bind(struct bl_fw_app *a);

/* The printer (fw_print_dev.c): devices from hwdb and their workers. */
int bl_fw_printer_open(struct bl_fw_app *a);
void bl_fw_printer_close(struct bl_fw_app *a);

/* The print cycle on Linux (fw_hal_print.c): configuration, the loop's time step (scheduler,
 * print FSM, trigger sequencer), events from the workers. */
int bl_fw_print_setup(struct bl_fw_app *a);
void bl_fw_print_tick(struct bl_fw_app *a);
int bl_fw_pstep(struct bl_fw_app *a, const struct bl_pfsm_event *ev);
void bl_fw_print_interlock(struct bl_fw_app *a, int il, bool active);
/* A trigger edge read back at controller time t. */
void bl_fw_edge(struct bl_fw_app *a, uint64_t t);
/* The sample cycle's train / stop (the sequencer's programme). */
void bl_fw_trigseq_train(struct bl_fw_app *a, uint32_t series, uint64_t start, uint64_t period,
			 uint32_t count);
void bl_fw_trigseq_cut(struct bl_fw_app *a);

/* Print commands (fw_print_cmd.c): the "print" request, the print part of status. */
void bl_fw_print_cmd(struct bl_fw_app *a, const struct bl_fw_request *rq);
cJSON *bl_fw_print_status_json(struct bl_fw_app *a);
/* A cycle is running (the other one is refused meanwhile: they share detector and box). */
bool bl_fw_sample_busy(const struct bl_fw_app *a);
bool bl_fw_print_busy(const struct bl_fw_app *a);

/* Commands (fw_cmds.c): the ZMQ request handler, events, status. */
void bl_fw_cmd_handle(void *ctx, const struct bl_fw_request *req);
void bl_fw_publish_state(struct bl_fw_app *a);
cJSON *bl_fw_status_json(struct bl_fw_app *a);
/* Hold bits (door, beam, pause, agent: the same for both cycles) as an array of names. */
cJSON *bl_fw_holds_json(unsigned bits);
/* Feeds one event to the FSM (the loop's only entry into it besides time steps). */
int bl_fw_step(struct bl_fw_app *a, const struct bl_sfsm_event *ev);

#endif
