/* epson_spel.h: the subset of SPEL+ statements the driver sends through $Execute and the simulator
 * runs: Go/Move/Jump XY(x,y,z,u), On/Off n, Speed, SpeedS, Accel, Wait. */
#ifndef BL_EPSON_SPEL_H
#define BL_EPSON_SPEL_H

#include <stddef.h>

#include "bl_hwdb.h"

enum bl_spel_kind {
	BL_SPEL_GO,	/* point to point */
	BL_SPEL_MOVE,	/* straight line */
	BL_SPEL_JUMP,	/* arch: up to LimZ (0), across, down */
	BL_SPEL_ON,	/* output bit on */
	BL_SPEL_OFF,	/* output bit off */
	BL_SPEL_SPEED,	/* point-to-point speed, percent */
	BL_SPEL_SPEEDS, /* linear speed, mm/s */
	BL_SPEL_ACCEL,	/* acceleration, deceleration, percent */
	BL_SPEL_WAIT,	/* seconds */
};

struct bl_spel_stmt {
	enum bl_spel_kind kind;
	struct bl_point p; /* motions */
	int bit;	   /* On / Off */
	double value[2];   /* Speed, SpeedS, Accel, Wait */
};

/* Parses one statement. 0 or -EINVAL. */
int bl_spel_parse(const char *s, struct bl_spel_stmt *st);

/* Formats "Go XY(x,y,z,u)" (or Move / Jump) into BUF. Length or -ENOSPC / -EINVAL. */
int bl_spel_format_motion(char *buf, size_t cap, enum bl_spel_kind kind, const struct bl_point *p);

#endif
