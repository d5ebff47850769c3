/* ne1000_proto.h: the New Era NE-1000 syringe pump's RS-232 "basic mode" protocol, shared by driver
 * and simulator. */
#ifndef BL_NE1000_PROTO_H
#define BL_NE1000_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#define BL_NE_STX	0x02
#define BL_NE_ETX	0x03
#define BL_NE_MAX_REPLY 64

/* Operational state carried by every reply: a prompt, or an alarm. */
enum bl_ne_state {
	BL_NE_INFUSING = 'I',
	BL_NE_WITHDRAWING = 'W',
	BL_NE_STOPPED = 'S',
	BL_NE_PAUSED = 'P',
	BL_NE_PAUSE_PHASE = 'T',
	BL_NE_TRIGGER_WAIT = 'U',
	BL_NE_PURGING = 'X',
	BL_NE_ALARM = 'A',
};

enum bl_ne_alarm {
	BL_NE_ALARM_NONE = 0,
	BL_NE_ALARM_RESET = 'R',   /* power was interrupted */
	BL_NE_ALARM_STALL = 'S',   /* motor stalled (e.g. plunger at the end of the syringe) */
	BL_NE_ALARM_TIMEOUT = 'T', /* safe-mode communications time out */
	BL_NE_ALARM_PROGRAM = 'E', /* pumping program error */
	BL_NE_ALARM_PHASE = 'O',   /* program phase out of range */
};

enum bl_ne_error {
	BL_NE_OK = 0,
	BL_NE_ERR_UNKNOWN, /* "?"    command not recognised */
	BL_NE_ERR_NA,	   /* "?NA"  not applicable now */
	BL_NE_ERR_OOR,	   /* "?OOR" data out of range */
	BL_NE_ERR_COM,	   /* "?COM" invalid packet */
	BL_NE_ERR_IGN,	   /* "?IGN" ignored (simultaneous phase start) */
};

struct bl_ne_reply {
	int address;
	enum bl_ne_state state;
	enum bl_ne_alarm alarm; /* when state is BL_NE_ALARM */
	enum bl_ne_error error;
	char data[BL_NE_MAX_REPLY]; /* the rest, for queries ("14.57", "1.000MM", "I0.120W0.000ML")
				     */
};

/* Parses one packet STX ... ETX (both included, LEN bytes). Returns 0, or -EBADMSG for anything
 * that is not a well-formed reply (no read beyond LEN). */
int bl_ne_parse_reply(const char *pkt, size_t len, struct bl_ne_reply *out);

/* Maps a command error to a negative errno: ?->-EBADRQC, NA->-EPERM, OOR->-ERANGE,
 * COM->-EPROTO, IGN->-EAGAIN; BL_NE_OK->0. */
int bl_ne_error_errno(enum bl_ne_error e);
const char *bl_ne_error_name(enum bl_ne_error e);

/* Formats V as the pump's <float>: at most 4 digits and at most 3 after the point.
 * Returns -ERANGE when V cannot be written so (negative, or 10000 and above). */
int bl_ne_format_float(double v, char out[8]);

/* Chooses rate units for UL_MIN so that the number fits <float> with the best resolution and
 * writes e.g. "RAT12.50UM". Returns -ERANGE if no unit fits. */
int bl_ne_format_rate(double ul_min, char *out, size_t cap);

/* Parses a rate query answer ("12.50UM", "1.000MH"...) into uL/min. */
int bl_ne_parse_rate(const char *s, double *ul_min);

/* Parses a volume with units ("0.250ML", "12.00UL") into uL. */
int bl_ne_parse_volume(const char *s, double *ul);

/* Parses the dispensed-volume answer "I<float>W<float><units>" into uL infused and withdrawn. */
int bl_ne_parse_dispensed(const char *s, double *inf_ul, double *wdr_ul);

/* Builds a command packet: "<addr><cmd>\r", e.g. "0RAT12.50UM\r" (no address when ADDR < 0). */
int bl_ne_format_command(int addr, const char *cmd, char *out, size_t cap);

#endif
