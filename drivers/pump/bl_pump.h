/* bl_pump.h: syringe pump driver API (New Era NE-1000 family): a non-blocking command queue with
 * limits from hwdb. */
#ifndef BL_PUMP_H
#define BL_PUMP_H

#include <stdint.h>

#include "bl_hwdb.h"
#include "ne1000_proto.h"

struct bl_pump;

enum bl_pump_dir { BL_PUMP_INFUSE, BL_PUMP_WITHDRAW };

/* The pump as last reported. */
struct bl_pump_status {
	enum bl_ne_state state;
	enum bl_ne_alarm alarm; /* last alarm seen (cleared by bl_pump_clear_alarm) */
	double diameter_mm;	/* as last set or queried */
	double rate_ul_min;
	double infused_ul, withdrawn_ul;
	uint64_t at_ms; /* when the last reply came */
};

/* One finished command. RC: 0, -ERANGE/-EPERM/-EBADRQC/-EPROTO/-EAGAIN for the pump's ?OOR/?NA/
 * ?/?COM/?IGN, -EIO when the reply carried an alarm (the command was not executed; the alarm is
 * in the status), -ETIMEDOUT or -EBADMSG after the retries, -ECANCELED when a stop overtook it,
 * -ECONNRESET when the link dropped. */
struct bl_pump_event {
	int ticket;
	int rc;
	char cmd[24]; /* the command as sent, without address and CR */
	struct bl_ne_reply reply;
};

/* Creates a pump for hwdb device DEV; LIMITS (may be NULL) bound rate and diameter. */
int bl_pump_new(const struct bl_hwdb_device *dev, const struct bl_hwdb_printer *limits,
		struct bl_pump **out);
void bl_pump_free(struct bl_pump *p);

/* Queue a command; each returns a ticket (> 0) for its event, or -ERANGE (outside the hwdb
 * limits: nothing is sent), -ENOBUFS (queue full). */
int bl_pump_set_diameter(struct bl_pump *p, double mm);
int bl_pump_set_rate(struct bl_pump *p, double ul_min);
int bl_pump_set_volume(struct bl_pump *p, double ul); /* volume to dispense, 0: no limit */
int bl_pump_set_direction(struct bl_pump *p, enum bl_pump_dir dir);
int bl_pump_run(struct bl_pump *p);
int bl_pump_query(struct bl_pump *p); /* status, dispensed volumes */
int bl_pump_clear_dispensed(struct bl_pump *p);
/* Any other command as the manual writes it ("VER", "DIR"); the answer is in the event's reply. */
int bl_pump_command(struct bl_pump *p, const char *text);
/* Stop jumps the queue: everything not yet sent completes with -ECANCELED. */
int bl_pump_stop(struct bl_pump *p);

/* Advances I/O. Returns 1 with an event in *EV, 0 when nothing finished, -ENOTCONN while the
 * link is down (reopened with backoff). Never blocks. */
int bl_pump_poll(struct bl_pump *p, uint64_t now_ms, struct bl_pump_event *ev);

const struct bl_pump_status *bl_pump_status(const struct bl_pump *p);
void bl_pump_clear_alarm(struct bl_pump *p);
int bl_pump_fd(const struct bl_pump *p);
/* Commands queued or in flight. */
int bl_pump_busy(const struct bl_pump *p);

#endif
