/* epson_sim_int.h: the simulator's private state, shared by its network side (epson_sim.c) and its
 * controller model (epson_sim_ctl.c). */
#ifndef BL_EPSON_SIM_INT_H
#define BL_EPSON_SIM_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "epson_sim.h"
#include "simkit.h"

#define SIM_RX_MAX   4096
#define SIM_MAX_OUT  32
#define SIM_MAX_SEGS 3
#define SIM_MAX_VARS 4
#define SIM_NBITS    64

struct sim_out {
	double due_ms; /* real time the reply leaves */
	size_t len;
	char buf[BL_EPSON_LINE_MAX + 16];
};

struct sim_var {
	char name[32];
	char value[64];
};

struct sim_motion {
	bool active;
	char reply_cmd[BL_EPSON_CMD_MAX]; /* "Execute" or "Home" */
	struct bl_point from[SIM_MAX_SEGS], to[SIM_MAX_SEGS];
	double dur_s[SIM_MAX_SEGS]; /* simulated seconds per segment */
	int nsegs;
	double elapsed_s, total_s;
	double fault_at_s; /* collide at this elapsed time, < 0 none */
	int fault_code;
};

struct bl_epson_sim {
	struct bl_epson_sim_config cfg;
	int lfd, client;
	int port;
	bool has_ctl;
	struct bl_simkit_ctl ctl;
	char rx[SIM_RX_MAX];
	size_t rxlen;
	double partial_since_ms; /* real time the unterminated bytes arrived, < 0 none */
	double last_rx_ms;
	struct sim_out out[SIM_MAX_OUT];
	int nout;
	double last_ms; /* real time of the last advance */

	/* controller */
	bool logged_in, monitor_only;
	bool motors, estop, estop_latched, safeguard, paused, program; /* latched: until $Reset */
	int err_code;
	double speed_pct, speeds_mm_s, accel[2];
	bool outputs[SIM_NBITS];
	struct bl_point pose;
	struct sim_motion mo;
	int slots[BL_HWDB_MAX_PUCKS][BL_HWDB_MAX_SLOTS]; /* sample id, 0 empty */
	int stage, held, dropped;
	struct sim_var vars[SIM_MAX_VARS];

	/* faults */
	int collide_code, slow_ms, garble, refuse;
	unsigned accepted, sessions_dropped, commands;
};

double sim_now_ms(void);
/* Queues a reply line (terminator added; slowed and garbled as the faults say). */
void sim_reply(struct bl_epson_sim *s, const char *cmd, bool ok, int code, const char *data);
void sim_drop_client(struct bl_epson_sim *s);
/* The gripper rests at the barcode station (no motion running). */
bool sim_at_reader(const struct bl_epson_sim *s);

/* epson_sim_ctl.c (sim_control: epson_sim_fault.c) */
void sim_handle_line(struct bl_epson_sim *s, const char *line, size_t len);
void sim_advance(struct bl_epson_sim *s, double now_ms);
/* Ends the running motion: OK, or with controller error CODE (0: stopped without one). */
void sim_end_motion(struct bl_epson_sim *s, bool ok, int code);
void sim_control(struct bl_epson_sim *s, const char *line, char *reply, size_t cap);
bool sim_busy(const struct bl_epson_sim *s);
unsigned sim_flags(const struct bl_epson_sim *s); /* BL_EPSON_FLAG bits of $GetStatus */
/* Real ms until the running motion's next event (fault or end), or -1. */
double sim_next_event_ms(const struct bl_epson_sim *s);

#endif
