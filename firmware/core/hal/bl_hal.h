/* bl_hal.h: the functions the freestanding core calls and every port (linux, sim) implements. */
#ifndef BL_HAL_H
#define BL_HAL_H

#include <stdint.h>

/*
 * Every function declared here is named bl_hal_*: the freestanding build check
 * (tests/fw/check_freestanding.sh) allows exactly those as the core's undefined symbols.
 */

/* What went wrong, in bl_fault.code. */
enum bl_fault_code {
	BL_FAULT_SCHED_OVERDUE = 1, /* a timed command was found more than the tolerance past due */
	BL_FAULT_CMD_FAILED = 2,    /* a timed command's executor returned an error */
};

/* A real-time fault, as the core reports it: enough to log why and to pick a safe state. */
struct bl_fault {
	int code; /* enum bl_fault_code */
	int err;  /* negative errno: -BL_ETIME when overdue, the executor's return when failed */
	uint64_t now;	  /* controller time the fault was found (ticks) */
	uint64_t when;	  /* controller time the command was due (ticks) */
	uint64_t late_by; /* now - when (ticks) */
	uint32_t cmd_id;  /* the command's id, type and source (bl_cmd) */
	uint16_t cmd_type;
	uint16_t source;
};

/*
 * Real-time fault sink (Klipper's shutdown path): the port records the fault and drives the
 * machine to its safe state (park robot, stop pump, disarm triggers). Called from inside
 * bl_sched_run() after the command has left the queue; must not block.
 */
void bl_hal_fault(const struct bl_fault *fault);

#endif
