/* fw_proto.h: the controller's wire vocabulary: endpoints, message shapes, limits and error names.
 */
#ifndef BL_FW_PROTO_H
#define BL_FW_PROTO_H

/*
 * Two ZMQ channels, both CurveZMQ (RFC 26) with the controller as curve server; a client is let
 * in only when its public key is on the controller's allow-list (ZAP, RFC 27). Every payload is
 * one UTF-8 JSON text (cJSON on both sides).
 *
 * Command channel: controller ROUTER, client DEALER (a REQ client also works: its empty delimiter
 * frame is kept and returned). One frame per request, one frame per reply.
 *
 *   request   {"id": 17, "cmd": "queue", "args": {...}}
 *             id    integer 0 .. 2^53, chosen by the client, echoed in the reply (required)
 *             cmd   string, 1 .. BL_FW_CMD_MAX characters (required)
 *             args  object (optional; absent or null = {})
 *   success   {"id": 17, "ok": true, "result": {...}}         result: any JSON, {} by default
 *   error     {"id": 17, "ok": false,
 *              "error": {"code": 22, "name": "EINVAL", "message": "slot 40 out of range"}}
 *             code: a positive Linux errno value (the controller's -errno, negated back);
 *             id is null when it could not be recovered from the request (not JSON, no id).
 *
 *   Errors the transport itself gives (the command handler never sees these requests):
 *     EBADMSG  request not JSON, or JSON but not an object
 *     EINVAL   id missing / not an integer in range, cmd missing / not a string / empty / too long,
 *              args neither an object nor null
 *     E2BIG    request longer than BL_FW_REQUEST_MAX bytes (still answered with its id when it
 *              parses; beyond BL_FW_REQUEST_HARD_MAX the connection is dropped by ZMQ instead)
 *     EPROTO   unexpected framing (several payload frames)
 *   Convention for command handlers: an unknown command is answered ENOSYS, a known command with
 *   bad arguments EINVAL, a command not allowed in the current state EBUSY/EAGAIN/EALREADY as the
 *   core returns them.
 *
 *   Built-in command, answered by the transport with no handler involved (clock sync):
 *     {"id": 3, "cmd": "clock"}  ->  {"id": 3, "ok": true, "result": {"clock": 123456789}}
 *     clock: controller ticks (1 tick = 1 us, BL_FW_TICKS_PER_SEC) read when the request is taken.
 *
 * Event channel: controller PUB, client SUB. Two frames per event:
 *   frame 1   topic, e.g. "state" (ZMQ subscription prefix; no topic is a prefix of another)
 *   frame 2   {"topic": "state", "seq": 42, "t": 123456789, "data": {...}}
 *             seq   per-topic sequence number starting at 1: a subscriber that sees seq jump
 *                   knows how many events of that topic it lost (slow joiner, HWM, reconnect)
 *             t     controller ticks when the event was published
 *             data  the event body (any JSON)
 *
 * Clock: controller ticks are microseconds of the controller's monotonic clock; clients map them
 * to their own clock with bl_fw_clocksync (fw_client.h).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#define BL_FW_CMD_ENDPOINT "tcp://127.0.0.1:5700" /* default command endpoint (ROUTER) */
#define BL_FW_EVT_ENDPOINT "tcp://127.0.0.1:5701" /* default event endpoint (PUB) */
#define BL_FW_ZAP_DOMAIN   "beamloop"		  /* ZAP domain both server sockets announce */

#define BL_FW_TICKS_PER_SEC    1000000u		       /* controller ticks: microseconds */
#define BL_FW_REQUEST_MAX      65536		       /* larger requests are answered E2BIG */
#define BL_FW_REQUEST_HARD_MAX (4 * BL_FW_REQUEST_MAX) /* ZMQ_MAXMSGSIZE: peer disconnected */
#define BL_FW_CMD_MAX	       63		       /* longest command name */
#define BL_FW_TOPIC_MAX	       31		       /* longest event topic */
#define BL_FW_ID_MAX	       9007199254740992.0      /* 2^53: ids stay exact in a JSON double */
#define BL_FW_KEY_Z85_LEN      40		       /* a Curve25519 key in Z85 text */

#define BL_FW_CMD_CLOCK "clock" /* the built-in clock request */

/* Event topics the controller publishes. */
#define BL_FW_TOPIC_STATE   "state"   /* state machine changes */
#define BL_FW_TOPIC_EDGE    "edge"    /* trigger edge metadata latched at the edge */
#define BL_FW_TOPIC_FAULT   "fault"   /* safe state entered, with the fault record */
#define BL_FW_TOPIC_JOURNAL "journal" /* sample-location journal intents and outcomes */
#define BL_FW_TOPIC_NOTE    "note"    /* event-log notes */

/* Adds NAME: V as an exact JSON integer. cJSON prints numbers with 15 significant digits, which
 * would round ids and clock ticks beyond 10^15; the text is written here instead (readers parse
 * it as a double: exact up to 2^53). Returns false when out of memory. */
static inline bool bl_fw_json_add_u64(cJSON *obj, const char *name, uint64_t v)
{
	char text[24];
	snprintf(text, sizeof(text), "%" PRIu64, v);
	return cJSON_AddRawToObject(obj, name, text) != NULL;
}

/* The name of a positive errno value as it appears in "error.name" ("EINVAL"), or NULL when it is
 * not one the controller uses (the caller then prints "E<code>"). */
static inline const char *bl_fw_errname(int code)
{
	switch (code < 0 ? -code : code) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EIO: return "EIO";
	case E2BIG: return "E2BIG";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case ENOSYS: return "ENOSYS";
	case ENODATA: return "ENODATA";
	case ETIME: return "ETIME";
	case EPROTO: return "EPROTO";
	case EBADMSG: return "EBADMSG";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ENOTCONN: return "ENOTCONN";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case EALREADY: return "EALREADY";
	case ECANCELED: return "ECANCELED";
	default: return 0;
	}
}

#endif
