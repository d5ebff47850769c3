/* bl_detector.h: Dectris SIMPLON-style REST client (detector config, commands, status; stream
 * config) over libcurl. */
#ifndef BL_DETECTOR_H
#define BL_DETECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "bl_hwdb.h"

/* The client is blocking: every call returns within the connect + command timeouts (from hwdb),
 * so the controller calls it from a worker thread, never from its real-time loop. One handle is
 * not thread-safe; it keeps its HTTP connection alive between calls. */
struct bl_det;

enum bl_det_state { BL_DET_IDLE, BL_DET_READY, BL_DET_ACQUIRE, BL_DET_ERROR, BL_DET_UNKNOWN };

/* A client for hwdb device DEV (protocol simplon): http://host:port, the model's api_version,
 * timeouts_ms.connect/command. 0, -EINVAL, -ENOMEM. */
int bl_det_new(const struct bl_hwdb_device *dev, struct bl_det **out);
/* The same from parts (tests, tools). */
int bl_det_open(const char *host, int port, const char *api_version, int connect_ms, int command_ms,
		struct bl_det **out);
void bl_det_free(struct bl_det *d);

/* Every call below returns 0 or a negative errno, and leaves a one-line explanation in
 * bl_det_error(): -ECONNREFUSED (nobody listens), -ETIMEDOUT (no answer in time),
 * -EHOSTUNREACH (name or route), -ECONNRESET (connection dropped), -EINVAL (HTTP 400: bad value),
 * -ENOENT (404: no such parameter), -EOPNOTSUPP (405), -EBUSY (409: armed), -EPROTO (other 4xx),
 * -EIO (5xx or a transport failure), -EBADMSG (reply is not the JSON expected). */
const char *bl_det_error(const struct bl_det *d);
int bl_det_http_status(const struct bl_det *d); /* of the last reply, 0 when none came */

/* detector/api/<ver>/config/<KEY>: numbers (count_time, frame_time, nimages, ntrigger, ...) */
int bl_det_get_number(struct bl_det *d, const char *key, double *v);
int bl_det_set_number(struct bl_det *d, const char *key, double v);
/* ... and strings (trigger_mode, compression, ...) */
int bl_det_get_string(struct bl_det *d, const char *key, char *buf, size_t cap);
int bl_det_set_string(struct bl_det *d, const char *key, const char *v);

/* stream/api/<ver>/config/<KEY> (mode, header_detail): strings */
int bl_det_stream_get(struct bl_det *d, const char *key, char *buf, size_t cap);
int bl_det_stream_set(struct bl_det *d, const char *key, const char *v);

/* detector/api/<ver>/command/...: arm returns the series id ("sequence id") in *SERIES. */
int bl_det_arm(struct bl_det *d, uint64_t *series);
/* A real SIMPLON answers trigger when the trigger's frames are taken: this call waits up to
 * TIMEOUT_MS (0: the command timeout) for the answer. */
int bl_det_trigger(struct bl_det *d, int timeout_ms);
int bl_det_disarm(struct bl_det *d);
int bl_det_abort(struct bl_det *d);
int bl_det_initialize(struct bl_det *d);

/* detector/api/<ver>/status/state */
int bl_det_state(struct bl_det *d, enum bl_det_state *st);
const char *bl_det_state_name(enum bl_det_state st);

/* Any request: METHOD "GET"/"PUT", PATH after the host ("detector/api/1.8.0/config/nimages"),
 * BODY (PUT) or NULL. The reply body (NUL-terminated, possibly empty) is in *REPLY until the
 * next call. */
int bl_det_request(struct bl_det *d, const char *method, const char *path, const char *body,
		   const char **reply, int timeout_ms);

#endif
