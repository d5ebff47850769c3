/* epson_robot.h: driver for an Epson SCARA on an RC700/RC90 controller over RC+ Remote Ethernet;
 * non-blocking, driven by bl_epson_poll(), motions built from hwdb teach points. */
#ifndef BL_EPSON_ROBOT_H
#define BL_EPSON_ROBOT_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "bl_hwdb.h"
#include "bl_robot.h"
#include "epson_proto.h"

struct bl_epson;

struct bl_epson_config {
	char host[64];
	int port;
	char terminator[BL_EPSON_TERM_MAX];
	char password[32];
	int robot_number; /* $SetMotorsOn,<n> */
	int connect_ms, command_ms, motion_ms;
	int heartbeat_ms; /* $GetStatus when idle this long; 0 disables */
	int backoff_min_ms, backoff_max_ms;
	int grip_out_bit;    /* output that closes the gripper ($SetIO bit, 1 = closed) */
	int grip_sensor_bit; /* input that reads 1 with a sample in the gripper; -1 when none */
	double max_speed_mm_s;
	struct bl_hwdb_robot teach; /* teach points, speeds and approach height */
	struct bl_range z_mm;	    /* model's Z range: every target is checked against it */
	double reach_mm, inner_reach_mm;
};

/* Defaults, then the device DEVICE ("robot" when NULL) and robot section of DB: address,
 * terminator, time-outs, heartbeat, teach points. Needs safe poses named home, above_pucks,
 * above_reader and above_stage. 0, -ENOENT (no such robot device) or -EINVAL. */
int bl_epson_config_from_hwdb(struct bl_epson_config *cfg, const struct bl_hwdb *db,
			      const char *device);

/* Creates a handle (no I/O yet). 0, -EINVAL (bad config / host not resolvable), -ENOMEM. */
int bl_epson_open(struct bl_epson **out, const struct bl_epson_config *cfg);
void bl_epson_close(struct bl_epson *h);

/* Drives I/O and timers: BL_ROBOT_BUSY while an operation runs, else the rc of the last finished
 * operation (0 before any). Also sends heartbeats and reconnects with exponential backoff. */
int bl_epson_poll(struct bl_epson *h, int64_t now_ms);

/* For the caller's poll(): fills PFD (fd -1 when no socket) and returns the ms until the next
 * timer (capped at 1000). */
int bl_epson_pollfd(const struct bl_epson *h, struct pollfd *pfd, int64_t now_ms);

const struct bl_robot_result *bl_epson_result(const struct bl_epson *h);
void bl_epson_state(const struct bl_epson *h, struct bl_robot_state *st);

/* Operations: each returns 0 when started (then poll), or a negative errno at once: -EBUSY (an
 * operation runs), -ENOTCONN (not logged in), -EPERM (motion not starting from a safe pose, or a
 * sample in the way), -EINVAL (bad argument). */
int bl_epson_connect(struct bl_epson *h, int64_t now_ms); /* TCP, $Login, $GetStatus */
int bl_epson_disconnect(struct bl_epson *h);		  /* $Logout is skipped: closes the link */
int bl_epson_get_status(struct bl_epson *h, int64_t now_ms);
int bl_epson_motors(struct bl_epson *h, bool on, int64_t now_ms);
int bl_epson_reset(struct bl_epson *h, int64_t now_ms);
int bl_epson_home(struct bl_epson *h, int64_t now_ms);
/* Sends $Abort at once, even while a motion runs (the motion then ends with an error). */
int bl_epson_abort(struct bl_epson *h, int64_t now_ms);
/* Sends one raw line (terminator added): diagnostics, $Start/$Stop, variables, I/O. */
int bl_epson_command(struct bl_epson *h, const char *line, bool motion, int64_t now_ms);

int bl_epson_pick(struct bl_epson *h, int puck, int slot, int64_t now_ms);
int bl_epson_place_on_stage(struct bl_epson *h, int64_t now_ms);
int bl_epson_return_to_slot(struct bl_epson *h, int puck, int slot, int64_t now_ms);
int bl_epson_go_barcode_pose(struct bl_epson *h, int64_t now_ms);
int bl_epson_go_safe(struct bl_epson *h, int64_t now_ms);

/*
 * Tells the driver where the one sample out of the pucks is, after its own record was lost (a
 * controller restart): AT is BL_SAMPLE_GRIPPER or BL_SAMPLE_STAGE with the sample's home
 * (puck, slot), or BL_SAMPLE_HOME. Only for a location proven by the caller (the controller's
 * journal and the gripper/stage sensors). -EBUSY while an operation runs, -EINVAL for a slot
 * not taught.
 */
int bl_epson_adopt_sample(struct bl_epson *h, enum bl_robot_sample_at at, int puck, int slot);

/* The robot-class ops table over struct bl_epson handles. */
extern const struct bl_robot_ops bl_epson_robot_ops;

#endif
