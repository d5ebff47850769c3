/* epson_sim.h: a simulated Epson RC700 controller with a G6 SCARA and a sample gripper, serving RC+
 * Remote Ethernet on 127.0.0.1 plus a simkit control socket for injecting faults. */
#ifndef BL_EPSON_SIM_H
#define BL_EPSON_SIM_H

#include <stddef.h>

#include "bl_hwdb.h"
#include "epson_proto.h"

struct bl_epson_sim_config {
	char password[32];	   /* full-control login ("" accepts "$Login" alone) */
	char monitor_password[32]; /* read-only login, "" = none */
	char terminator[BL_EPSON_TERM_MAX];
	double time_scale;	/* simulated seconds per real second */
	int idle_timeout_ms;	/* drop a session idle this long (real ms), 0 = never */
	int request_timeout_ms; /* unterminated command line -> !Cmd,19 after this (real ms) */
	int grip_out_bit, grip_sensor_bit, stage_sensor_bit, safeguard_bit, estop_bit;
	struct bl_hwdb_robot teach;	  /* stations where samples sit */
	struct bl_hwdb_robot_model model; /* reach, Z range, max speed */
	struct bl_point start;		  /* initial pose */
};

struct bl_epson_sim;

/* Defaults: no password, CRLF, time scale 1, idle 5 s, request 2 s, grip out 8 / sensor in 10,
 * safeguard in 8 / e-stop in 9 (active low), teach points from the robot section of DB when given.
 */
void bl_epson_sim_defaults(struct bl_epson_sim_config *cfg, const struct bl_hwdb *db);

/* Listens on 127.0.0.1:PORT (0 = ephemeral) and, when CONTROL_PATH is not NULL, on that UNIX
 * control socket (simkit's one-line-per-command protocol). 0 or negative errno. */
int bl_epson_sim_open(struct bl_epson_sim **out, const struct bl_epson_sim_config *cfg, int port,
		      const char *control_path);
void bl_epson_sim_close(struct bl_epson_sim *sim);
int bl_epson_sim_port(const struct bl_epson_sim *sim);

/* Waits up to MAX_WAIT_MS for I/O, then serves it and advances motion. */
void bl_epson_sim_step(struct bl_epson_sim *sim, int max_wait_ms);

/* Runs one control line ("estop 1", "collide 5057", "state", ...; see README) and writes the
 * answer line ("ok ..." / "err ...") into REPLY. */
void bl_epson_sim_control(struct bl_epson_sim *sim, const char *line, char *reply, size_t cap);

#endif
