/* bl_robot.h: the robot device class: a const ops table over an opaque handle, start-and-poll
 * operations, and the location record every sample-changing robot keeps. */
#ifndef BL_ROBOT_H
#define BL_ROBOT_H

#include <stdbool.h>
#include <stdint.h>

#include "bl_hwdb.h"

/* bl_robot_poll() while an operation runs. */
#define BL_ROBOT_BUSY 1

/* Where the robot was last confirmed to be (a reply to a completed motion). */
enum bl_robot_place {
	BL_ROBOT_AT_UNKNOWN,
	BL_ROBOT_AT_SAFE, /* a named safe pose: pose_index */
	BL_ROBOT_AT_SLOT_APPROACH,
	BL_ROBOT_AT_SLOT,
	BL_ROBOT_AT_STAGE_APPROACH,
	BL_ROBOT_AT_STAGE,
	BL_ROBOT_AT_BARCODE,
};

struct bl_robot_where {
	enum bl_robot_place place;
	int puck, slot;	   /* for the slot places (1-based, as in hwdb) */
	int pose_index;	   /* for BL_ROBOT_AT_SAFE: index into hwdb robot.safe_poses */
	struct bl_point p; /* the taught point */
};

/* Where the sample that is out of its puck is (at most one at a time). */
enum bl_robot_sample_at {
	BL_SAMPLE_HOME,	   /* every sample in its slot as far as the driver knows */
	BL_SAMPLE_GRIPPER, /* in the gripper */
	BL_SAMPLE_STAGE,   /* on the sample stage */
};

struct bl_robot_sample {
	enum bl_robot_sample_at at;
	int puck, slot; /* where it came from */
	bool confirmed; /* the gripper sensor agreed after the last grip change */
};

/* Outcome of the last finished operation. */
struct bl_robot_result {
	int rc;			/* 0 or negative errno */
	int remote_code;	/* "!Cmd,NN" code, 0 when none */
	int robot_code;		/* controller error code from the status, 0 when none */
	char cmd[24];		/* remote command that failed, "" when none */
	char reply[96];		/* data of the last reply (GetIO value, GetVariable value, ...) */
	char text[320];		/* one line for the log */
	bool during_motion;	/* failed between two confirmed poses */
	struct bl_point target; /* where the failed motion was going */
};

struct bl_robot_state {
	bool connected; /* logged in */
	bool busy;
	unsigned flags; /* last status flags (BL_EPSON_FLAG bits for the Epson driver) */
	int code;	/* last status error code */
	struct bl_robot_where where;
	bool off_pose; /* a motion failed: the robot is between WHERE and the result's target */
	struct bl_robot_sample sample;
	uint32_t connects;     /* successful logins */
	uint32_t link_losses;  /* dropped links, time-outs, garbled replies */
	int backoff_ms;	       /* current reconnect delay */
	int64_t next_retry_ms; /* when the next reconnect attempt starts, -1 when none is due */
};

/* Device-class operations. Each motion/command op starts work and returns 0 (or an immediate
 * negative errno); poll drives it and returns BL_ROBOT_BUSY until it finishes, then the op's rc.
 * Optional operations a driver lacks return -ENOSYS. */
struct bl_robot_ops {
	const char *name;
	int (*connect)(void *h, int64_t now_ms);
	int (*poll)(void *h, int64_t now_ms);
	void (*state)(void *h, struct bl_robot_state *st);
	const struct bl_robot_result *(*result)(void *h);
	int (*motors)(void *h, bool on, int64_t now_ms);
	int (*reset)(void *h, int64_t now_ms);
	int (*abort)(void *h, int64_t now_ms);
	int (*pick)(void *h, int puck, int slot, int64_t now_ms);
	int (*place_on_stage)(void *h, int64_t now_ms);
	int (*return_to_slot)(void *h, int puck, int slot, int64_t now_ms);
	int (*go_barcode_pose)(void *h, int64_t now_ms);
	int (*go_safe)(void *h, int64_t now_ms);
	int (*move_to)(void *h, const struct bl_point *p, int64_t now_ms); /* optional */
	void (*close)(void *h);
};

#endif
