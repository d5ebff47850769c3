/* fw_app.h: beamloop-fw's Linux application: the loop, its devices, journal and ZMQ interface. */
#ifndef BL_FW_APP_H
#define BL_FW_APP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bl_barcode.h"
#include "bl_detector.h"
#include "bl_hwdb.h"
#include "bl_tbox.h"
#include "core/sample_fsm.h"
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

enum bl_fw_dev_job { BL_FW_J_READ = 1, BL_FW_J_ARM, BL_FW_J_DISARM, BL_FW_J_TRAIN, BL_FW_J_STOP };

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
	/* the train running (its edges are read back while idle) */
	bool running;
	uint32_t series, count, seen;
	struct bl_fw_input in[BL_FW_MAX_INPUTS];
	int nin;
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
};

struct bl_fw_app {
	struct bl_fw_options opt;
	struct bl_hwdb *db;
	struct bl_sfsm_config scfg;
	struct bl_sfsm sfsm;
	struct bl_fw_inbox inbox;
	struct bl_fw_worker robot_w, barcode_w, det_w, trig_w;
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

/* Commands (fw_cmds.c): the ZMQ request handler, events, status. */
void bl_fw_cmd_handle(void *ctx, const struct bl_fw_request *req);
void bl_fw_publish_state(struct bl_fw_app *a);
cJSON *bl_fw_status_json(struct bl_fw_app *a);
/* Feeds one event to the FSM (the loop's only entry into it besides time steps). */
int bl_fw_step(struct bl_fw_app *a, const struct bl_sfsm_event *ev);

#endif
